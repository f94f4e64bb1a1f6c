//! The container outlives the process that manages it: the manager (the
//! `ctr` example, attached to the container as `ctr run` is) is killed with
//! SIGKILL, and a new runtime on the same root finds the container running,
//! still logging, and can stop and remove it.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use minidock_lifecycle::logs::LogOptions;
use minidock_lifecycle::signal::StopOutcome;
use minidock_lifecycle::state::State;
use minidock_lifecycle::Runtime;

/// Kills and reaps the manager when dropped, by its pid.
struct Manager(Child);

impl Drop for Manager {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[test]
fn the_container_survives_its_manager_being_killed() {
    let f = common::fixture();
    let config = common::runtime_config(f.dir.path(), &f.tag);
    let mut manager = Manager(
        Command::new(common::ctr())
            .arg("--root")
            .arg(&config.root)
            .arg("--run-dir")
            .arg(&config.run_dir)
            .args([
                "--cgroup-parent",
                &f.tag,
                "run",
                "--name",
                "survivor",
                &f.image,
            ])
            .args(["sh", "-c", "while :; do echo tick; sleep 0.1; done"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // the manager is attached: it prints the container's output
    let mut line = String::new();
    BufReader::new(manager.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "tick\n");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(manager.0.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(manager.0.wait().unwrap().signal(), Some(9));

    // a new runtime, knowing nothing but the root
    let rt = Runtime::new(config).unwrap();
    let id = rt.resolve("survivor").unwrap();
    let State::Running { pid, .. } = rt.inspect(&id).unwrap().1.state else {
        panic!("{:?}", rt.inspect(&id).unwrap().1)
    };
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let ticks = || {
        let mut n = 0;
        rt.logs(&id, &LogOptions::default(), |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        n
    };
    let before = ticks();
    f.until("more ticks in the log", common::PATIENCE, || {
        ticks() > before + 2
    });

    assert_eq!(
        rt.stop(&id, Some(Duration::from_millis(300))).unwrap(),
        Some(StopOutcome::Killed)
    );
    assert!(matches!(
        rt.inspect(&id).unwrap().1.state,
        State::Exited { code: 137, .. }
    ));
    rt.remove(&id, false).unwrap();
}
