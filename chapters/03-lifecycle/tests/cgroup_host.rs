//! cgroups on the real kernel, as root: limits, the freezer, OOM and
//! removal, with plain host processes (no container needed). The `v1_` tests
//! use a v1 host's controllers; the `v2_` tests use the cgroup2 tree, which
//! on a hybrid host is mounted (without controllers) at
//! /sys/fs/cgroup/unified and on a v2-only host at /sys/fs/cgroup; the others
//! use whatever the host has (v1 here, v2 in the VM of `tests/vm/plan.txt`).

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use minidock_lifecycle::cgroup::{Cgroup, CgroupRoot, CgroupVersion, Resources};
use minidock_testkit::{random_name, require_root, LeakCheck};

/// Kills and reaps its child when dropped, also when the test fails.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Empties and removes the group and its parent when dropped.
struct Group {
    root: CgroupRoot,
    parent: String,
    cg: Box<dyn Cgroup>,
}

impl Drop for Group {
    fn drop(&mut self) {
        self.cg.kill_all().ok();
        self.cg.remove(Duration::from_secs(5)).ok();
        self.root.remove_parent(&self.parent).ok();
    }
}

fn group(root: CgroupRoot, parent: &str) -> Group {
    let cg = root.create(parent, "ctr").expect("create cgroup");
    Group {
        root,
        parent: parent.to_string(),
        cg,
    }
}

fn v1_root() -> CgroupRoot {
    let root = CgroupRoot::detect().expect("detect cgroups");
    assert_eq!(
        root.version(),
        CgroupVersion::V1,
        "these tests are written for a v1 (hybrid) host: {root:?}"
    );
    root
}

/// The host's cgroups as the engine finds them: v1 here, v2 in the VM.
fn host_root() -> CgroupRoot {
    CgroupRoot::detect().expect("detect cgroups")
}

fn v2_root() -> CgroupRoot {
    let root = host_root();
    if root.version() == CgroupVersion::V2 {
        return root;
    }
    let path = PathBuf::from("/sys/fs/cgroup/unified");
    assert!(
        path.join("cgroup.procs").exists(),
        "no cgroup2 tree at {}",
        path.display()
    );
    CgroupRoot::V2 { path }
}

/// A shell that appends an ever-growing counter to `file`.
fn counter(file: &Path) -> Proc {
    let script = format!(
        "i=0; while :; do i=$((i+1)); echo $i >> {}; done",
        file.display()
    );
    Proc(
        Command::new("/bin/busybox")
            .args(["sh", "-c", &script])
            .spawn()
            .expect("spawn counter"),
    )
}

/// How far the counter got: the size of its file.
fn read_counter(file: &Path) -> u64 {
    fs::metadata(file).map(|m| m.len()).unwrap_or(0)
}

fn freeze_stops_and_thaw_resumes(root: CgroupRoot) {
    require_root();
    let parent = random_name("minidock-test-");
    let leaks = LeakCheck::start(&parent);
    {
        let g = group(root, &parent);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("count");
        let proc = counter(&file);
        g.cg.add_pid(proc.0.id() as i32).unwrap();
        assert_eq!(g.cg.pids().unwrap(), vec![proc.0.id() as i32]);
        // The exact condition, however busy the machine: the counter runs.
        wait_for("the counter to run", || read_counter(&file) > 0);

        g.cg.freeze().unwrap();
        assert!(g.cg.is_frozen().unwrap());
        let at_freeze = read_counter(&file);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            read_counter(&file),
            at_freeze,
            "the counter moved while frozen"
        );

        g.cg.thaw().unwrap();
        wait_for("the counter to resume after thaw", || {
            read_counter(&file) > at_freeze
        });

        g.cg.kill_all().unwrap();
        let mut proc = proc;
        let status = proc.0.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "{status:?}");
        g.cg.remove(Duration::from_secs(5)).unwrap();
        for d in g.cg.dirs() {
            assert!(!d.exists(), "{} still exists", d.display());
        }
    }
    leaks.finish();
}

#[test]
fn v1_freeze_thaw_kill_remove() {
    freeze_stops_and_thaw_resumes(v1_root());
}

#[test]
fn v2_freeze_thaw_kill_remove() {
    freeze_stops_and_thaw_resumes(v2_root());
}

/// A shell that waits for a line on stdin, then doubles a string forever.
fn hog() -> Proc {
    Proc(
        Command::new("/bin/busybox")
            .args(["sh", "-c", "read go; x=a; while true; do x=$x$x; done"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn hog"),
    )
}

#[test]
fn memory_hog_is_oom_killed() {
    require_root();
    let parent = random_name("minidock-test-");
    let leaks = LeakCheck::start(&parent);
    {
        let g = group(host_root(), &parent);
        g.cg.apply(&Resources {
            memory: Some(16 << 20),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(g.cg.stats().unwrap().memory_limit, Some(16 << 20));
        let mut proc = hog();
        g.cg.add_pid(proc.0.id() as i32).unwrap();
        assert!(!g.cg.oom_killed().unwrap());
        writeln!(proc.0.stdin.as_mut().unwrap(), "go").unwrap();
        let status = wait_timeout(&mut proc.0, Duration::from_secs(30));
        assert_eq!(
            status.signal(),
            Some(9),
            "the hog must die by SIGKILL: {status:?}"
        );
        assert!(
            g.cg.oom_killed().unwrap(),
            "the kernel must report an OOM kill"
        );
        let stats = g.cg.stats().unwrap();
        assert!(stats.memory_max_usage.unwrap() >= 15 << 20, "{stats:?}");
    }
    leaks.finish();
}

#[test]
fn fork_bomb_stops_at_the_pids_limit() {
    require_root();
    let parent = random_name("minidock-test-");
    let leaks = LeakCheck::start(&parent);
    {
        let g = group(host_root(), &parent);
        let limit = 5 + rand::random::<u64>() % 10;
        g.cg.set_pids_max(limit).unwrap();
        // a fork bomb of sleeps: the shell gives up when fork fails
        let mut proc = Proc(
            Command::new("/bin/busybox")
                .args([
                    "sh",
                    "-c",
                    "read go; while :; do sleep 100 </dev/null >/dev/null 2>&1 & done",
                ])
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        g.cg.add_pid(proc.0.id() as i32).unwrap();
        writeln!(proc.0.stdin.as_mut().unwrap(), "go").unwrap();
        let status = wait_timeout(&mut proc.0, Duration::from_secs(30));
        let mut stderr = String::new();
        std::io::Read::read_to_string(proc.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{status:?} {stderr}");
        assert!(stderr.contains("can't fork"), "{stderr}");
        let stats = g.cg.stats().unwrap();
        assert_eq!(stats.pids_limit, Some(limit));
        assert!(
            stats.pids_current < limit && stats.pids_current >= limit - 2,
            "{stats:?} limit {limit}"
        );
        assert_eq!(g.cg.pids().unwrap().len() as u64, stats.pids_current);
        assert!(
            stats.cpu_usage_ns > 0 && stats.memory_usage > 0,
            "{stats:?}"
        );
        // the host can still fork
        assert!(Command::new("/bin/true").status().unwrap().success());
        g.cg.kill_all().unwrap();
        g.cg.remove(Duration::from_secs(5)).unwrap();
    }
    leaks.finish();
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < timeout,
            "process {} did not exit within {timeout:?}",
            child.id()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to 20 s, however loaded the machine) until `check` holds.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
