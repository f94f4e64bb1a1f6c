//! LeakCheck notices each kind of leftover, names it, and passes once it is
//! cleaned up.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;

use minidock_testkit::{busybox_path, random_name, require_root, require_tool, run_ok, LeakCheck};

/// Runs `finish` and returns its panic message, or None when it passed.
fn finish_message(check: LeakCheck) -> Option<String> {
    let err = catch_unwind(AssertUnwindSafe(|| check.finish())).err()?;
    Some(
        err.downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

#[test]
fn a_forgotten_tmpfs_is_reported() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().to_str().unwrap().to_string();
    // Mount in a private mount namespace of a fresh thread, never in the
    // host's: the namespace (and the mount) dies with the thread, even if
    // an assertion fails half-way.
    std::thread::spawn(move || {
        use nix::mount::{mount, umount, MsFlags};
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).expect("unshare mount ns");
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .expect("make / private in the new namespace");

        let clean = LeakCheck::start(&prefix);
        assert_eq!(finish_message(clean), None, "nothing happened, yet a leak");

        let check = LeakCheck::start(&prefix);
        let target = tmp.path().join("mnt");
        std::fs::create_dir(&target).unwrap();
        mount(
            Some("tmpfs"),
            &target,
            Some("tmpfs"),
            MsFlags::empty(),
            None::<&str>,
        )
        .expect("mount tmpfs");
        let before = LeakCheck::start(&prefix);
        let message = finish_message(check).expect("a forgotten tmpfs went unnoticed");
        assert!(
            message.contains(&format!("mount {}", target.display())),
            "{message}"
        );
        assert!(message.contains("tmpfs"), "{message}");

        umount(&target).expect("umount the test tmpfs");
        assert_eq!(
            finish_message(before),
            None,
            "a mount that existed at start is no leak"
        );
        assert_eq!(finish_message(LeakCheck::start(&prefix)), None);
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

#[test]
fn a_forgotten_process_is_reported() {
    let prefix = random_name("leak-proc-");
    let check = LeakCheck::start(&prefix);
    // $0 of the shell carries the prefix into its command line; `read`
    // is a builtin, so no grandchild outlives the shell.
    let mut child = Command::new(busybox_path())
        .args(["sh", "-c", "read line", &prefix])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // spawn() returns while the kernel is still inside execve, before the
    // new command line is in place: wait for it.
    let cmdline = format!("/proc/{}/cmdline", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !String::from_utf8_lossy(&std::fs::read(&cmdline).unwrap()).contains(&prefix) {
        assert!(
            std::time::Instant::now() < deadline,
            "the child never showed its command line"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let message = finish_message(check).expect("a running process went unnoticed");
    assert!(
        message.contains(&format!("process {}:", child.id())),
        "{message}"
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    LeakCheck::start(&prefix).finish();
}

#[test]
fn a_forgotten_cgroup_is_reported() {
    require_root();
    let prefix = random_name("leak-cg-");
    let check = LeakCheck::start(&prefix);
    let parent = [
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).join("cgroup.procs").exists())
    .expect("no cgroup hierarchy mounted under /sys/fs/cgroup");
    let cgroup = std::path::Path::new(parent).join(&prefix);
    std::fs::create_dir(&cgroup).unwrap();
    let message = finish_message(check);
    std::fs::remove_dir(&cgroup).unwrap();
    let message = message.expect("a new cgroup went unnoticed");
    assert!(
        message.contains(&format!("cgroup {}", cgroup.display())),
        "{message}"
    );
    LeakCheck::start(&prefix).finish();
}

#[test]
fn a_forgotten_network_namespace_is_reported() {
    require_root();
    let ip = require_tool("ip", "iproute2");
    let prefix = random_name("leak-ns-");
    let check = LeakCheck::start(&prefix);
    run_ok(Command::new(&ip).args(["netns", "add", &prefix]));
    let message = finish_message(check);
    run_ok(Command::new(&ip).args(["netns", "delete", &prefix]));
    let message = message.expect("a new netns went unnoticed");
    assert!(
        message.contains(&format!("netns /run/netns/{prefix}")),
        "{message}"
    );
    LeakCheck::start(&prefix).finish();
}
