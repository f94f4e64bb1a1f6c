//! An engine killed in the middle of `create` leaves nothing half-made: the
//! `ctr` example creates a container with a fail point armed
//! (`MINIDOCK_FAILPOINT`, see `minidock_lifecycle::failpoint`), dies of
//! SIGABRT at that exact step, and a fresh runtime on the same root lists
//! no half-made container, has no overlay mounted and no directory left.

mod common;

use std::path::PathBuf;
use std::process::Command;

use minidock_lifecycle::failpoint;
use minidock_lifecycle::state::State;
use minidock_lifecycle::Runtime;
use minidock_testkit::{container_dirs, crash_at as run_until_abort, mounts_under, FAILPOINT_ENV};

/// Runs `ctr create` with `point` armed; it must die of SIGABRT there (the
/// test kit's crash harness checks how it ended). Returns the fixture (whose
/// drop checks for leaks), the config of its root and the container name
/// asked for.
fn crash_at(point: &str) -> (common::Fixture, minidock_lifecycle::RuntimeConfig, String) {
    assert_eq!(
        failpoint::ENV,
        FAILPOINT_ENV,
        "the kit arms the engine's fail point"
    );
    let f = common::fixture();
    let config = common::runtime_config(f.dir.path(), &f.tag);
    let name = minidock_testkit::random_name("crash-");
    run_until_abort(
        Command::new(common::ctr())
            .arg("--root")
            .arg(&config.root)
            .arg("--run-dir")
            .arg(&config.run_dir)
            .args([
                "--cgroup-parent",
                &f.tag,
                "create",
                "--name",
                &name,
                &f.image,
            ])
            .args(["echo", "hi"]),
        point,
    );
    (f, config, name)
}

// ANCHOR: no_trace_after
/// The engine died before `config.json`: the next runtime shows nothing
/// and leaves nothing.
fn assert_no_trace_after(point: &str, expect_mount: bool) {
    let (f, config, name) = crash_at(point);
    let containers = config.root.join("containers");
    // The crash really left remains for the next runtime to deal with.
    assert_eq!(
        container_dirs(&config.root).len(),
        1,
        "{point}: the crash should leave one container directory"
    );
    assert_eq!(
        !mounts_under(&containers).is_empty(),
        expect_mount,
        "{point}: overlay mounted after the crash: {:?}",
        mounts_under(&containers)
    );

    let rt = Runtime::new(config.clone()).unwrap();
    assert_eq!(mounts_under(&containers), Vec::<String>::new(), "{point}");
    assert_eq!(
        container_dirs(&config.root),
        Vec::<PathBuf>::new(),
        "{point}"
    );
    assert!(rt.list().unwrap().is_empty(), "{point}");
    assert!(rt.resolve(&name).is_err(), "{point}");
    // The name is free again and the root works.
    let id = f.create(&["true"]);
    rt.remove(&id, false).unwrap();
    assert_eq!(mounts_under(&containers), Vec::<String>::new(), "{point}");
    drop(f); // leak check: mounts, cgroups, processes of this test
}
// ANCHOR_END: no_trace_after

// ANCHOR: crash_tests
#[test]
fn crash_after_the_directory_leaves_nothing() {
    assert_no_trace_after("create-after-dir", false);
}

#[test]
fn crash_after_the_mount_leaves_nothing() {
    assert_no_trace_after("create-after-mount", true);
}

/// Once `config.json` is written the container is complete: after the
/// crash it is listed as Created, and it runs and is removed like any other.
#[test]
fn crash_after_the_config_leaves_a_whole_container() {
    let (f, config, name) = crash_at("create-after-config");
    let containers = config.root.join("containers");
    let rt = Runtime::new(config.clone()).unwrap();
    let all = rt.list().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0.name, name);
    assert_eq!(all[0].1.state, State::Created);
    let id = all[0].0.id.clone();
    rt.start(&id).unwrap();
    let status = rt
        .wait(&id, minidock_lifecycle::WaitCondition::NotRunning)
        .unwrap();
    assert_eq!(status.code, 0);
    rt.remove(&id, false).unwrap();
    assert_eq!(mounts_under(&containers), Vec::<String>::new());
    assert_eq!(container_dirs(&config.root), Vec::<PathBuf>::new());
    drop(f);
}
// ANCHOR_END: crash_tests

/// A `--rm` shim renames its container away before it unmounts it (so
/// `run --rm` returns sooner): killed in between, it leaves a mounted
/// `.removing-<id>`, which the next engine's recovery unmounts and deletes.
#[test]
fn a_removal_cut_short_after_the_rename_is_finished_at_start() {
    let f = common::fixture();
    let config = common::runtime_config(f.dir.path(), &f.tag);
    let id = f.create(&["true"]);
    let containers = config.root.join("containers");
    let doomed = containers.join(format!(".removing-{id}"));
    std::fs::rename(containers.join(id.as_str()), &doomed).unwrap();
    assert_eq!(
        mounts_under(&doomed).len(),
        1,
        "the overlay is still mounted, as the shim left it"
    );
    let rt = Runtime::new(config).unwrap();
    let recovery = rt.recover().unwrap();
    assert_eq!(recovery.removed, vec![id.to_string()]);
    assert_eq!(mounts_under(&containers), Vec::<String>::new());
    assert!(!doomed.exists());
    drop(f);
}
