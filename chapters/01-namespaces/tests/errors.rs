//! A failed start is an `Err` that says what failed, where, and why —
//! never a container that silently exits 1.

mod common;

use std::process::Command;

use common::{init, random_text, Fixture};
use minidock_namespaces::{channel::PIPES_ENV, Error, ProcessSpec};
use minidock_testkit::{random_name, require_root, LeakCheck};

#[test]
fn a_missing_rootfs_is_named_in_the_error() {
    require_root();
    let path = std::env::temp_dir().join(random_name("minidock-no-rootfs-"));
    let err = ProcessSpec::new(&path, ["true"])
        .spawn(&init())
        .unwrap_err();
    assert!(matches!(err, Error::Rootfs { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_missing_command_is_executable_file_not_found() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    let command = random_name("no-such-command-");
    let err = fx.spec([command.as_str()]).spawn(&init()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Setup(_)), "{err:?}");
    assert!(text.contains("executable file not found"), "{text}");
    assert!(text.contains(&command), "{text}");
    // The same with a path: the kernel's ENOENT, explained.
    let err = fx
        .spec([format!("/bin/{command}")])
        .spawn(&init())
        .unwrap_err();
    assert!(
        err.to_string().contains("executable file not found"),
        "{err}"
    );
    leaks.finish();
}

#[test]
fn a_missing_working_directory_is_named() {
    let fx = Fixture::new();
    let dir = format!("/{}", random_text(10));
    let err = fx.spec(["true"]).cwd(&dir).spawn(&init()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("chdir") && text.contains(&dir), "{text}");
    assert!(text.contains("working directory does not exist"), "{text}");
}

#[test]
fn a_rootfs_whose_proc_is_a_symlink_is_refused() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    // If this were followed, procfs would be mounted over the host's /tmp
    // target dir instead of inside the rootfs.
    let outside = fx.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::remove_dir(fx.rootfs.join("proc")).unwrap();
    std::os::unix::fs::symlink(&outside, fx.rootfs.join("proc")).unwrap();
    let err = fx.spec(["true"]).spawn(&init()).unwrap_err();
    assert!(err.to_string().contains("is a symlink"), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    leaks.finish();
}

#[test]
fn the_init_helper_refuses_to_run_by_hand() {
    require_root();
    let out = Command::new(env!("CARGO_BIN_EXE_minidock-init"))
        .env_remove(PIPES_ENV)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("started by minidock, not by hand"));
}
