//! Both cgroup versions against fake cgroup trees: directories and files
//! made by the test, so what the code writes can be read back exactly.

use super::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const HOST_HYBRID: &str = "\
25 1 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 25 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

const HOST_V2: &str = "\
25 1 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

const HOST_V1_COMOUNTED: &str = "\
31 25 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct
36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid shared:17 - cgroup cgroup rw,memory
";

#[test]
fn detects_the_version_from_mountinfo() {
    let base = Path::new(DEFAULT_BASE);
    let hybrid = CgroupRoot::from_mountinfo(HOST_HYBRID, base).unwrap();
    let CgroupRoot::V1 { mounts } = &hybrid else {
        panic!("a hybrid host is v1: {hybrid:?}")
    };
    assert_eq!(mounts["memory"], PathBuf::from("/sys/fs/cgroup/memory"));
    assert_eq!(mounts["pids"], PathBuf::from("/sys/fs/cgroup/pids"));
    assert!(!mounts.contains_key("name=systemd") && !mounts.contains_key("rw"));
    assert_eq!(
        CgroupRoot::from_mountinfo(HOST_V2, base).unwrap(),
        CgroupRoot::V2 { path: base.into() }
    );
    let CgroupRoot::V1 { mounts } = CgroupRoot::from_mountinfo(HOST_V1_COMOUNTED, base).unwrap()
    else {
        panic!("v1")
    };
    assert_eq!(mounts["cpu"], mounts["cpuacct"]);
    let only_v2_elsewhere = "9 1 0:9 / /mnt/cg rw - cgroup2 cgroup2 rw\n";
    assert_eq!(
        CgroupRoot::from_mountinfo(only_v2_elsewhere, base)
            .unwrap()
            .version(),
        CgroupVersion::V2
    );
    let none = "25 1 0:23 / /sys rw - sysfs sysfs rw\n";
    let err = CgroupRoot::from_mountinfo(none, base).unwrap_err();
    assert!(err.to_string().contains("no cgroup file system"), "{err}");
}

#[test]
fn conversions() {
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(512), 20);
    assert_eq!(shares_to_weight(262_144), 10_000);
    assert_eq!(cpus_to_quota(1_500_000_000), (150_000, 100_000));
    assert_eq!(cpus_to_quota(500_000_000), (50_000, 100_000));
}

#[test]
fn names_cannot_leave_the_hierarchy() {
    let fake = tempfile::tempdir().unwrap();
    let root = CgroupRoot::V2 {
        path: fake.path().into(),
    };
    for bad in ["", "..", "../x", "a/b", ".hidden"] {
        assert!(
            matches!(
                root.create("minidock", bad),
                Err(CgroupError::InvalidName(_))
            ),
            "{bad:?}"
        );
        assert!(root.open(bad, "x").is_err(), "{bad:?}");
    }
}

fn touch(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        fs::write(dir.join(name), content).unwrap();
    }
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A v1 host with cpu and cpuacct co-mounted, like many distributions.
fn fake_v1() -> (tempfile::TempDir, CgroupRoot) {
    let fake = tempfile::tempdir().unwrap();
    let mut mounts = BTreeMap::new();
    for (controller, dir) in [
        ("cpu", "cpu,cpuacct"),
        ("cpuacct", "cpu,cpuacct"),
        ("memory", "memory"),
        ("pids", "pids"),
        ("freezer", "freezer"),
        ("devices", "devices"),
    ] {
        fs::create_dir_all(fake.path().join(dir)).unwrap();
        mounts.insert(controller.to_string(), fake.path().join(dir));
    }
    (fake, CgroupRoot::V1 { mounts })
}

#[test]
fn v1_creates_one_directory_per_hierarchy_and_writes_v1_files() {
    let (fake, root) = fake_v1();
    let parent = minidock_testkit::random_name("minidock-test-");
    let cg = root.create(&parent, "c1").unwrap();
    assert_eq!(cg.version(), CgroupVersion::V1);
    let dir = |h: &str| fake.path().join(h).join(&parent).join("c1");
    let mut dirs = cg.dirs();
    dirs.sort();
    let mut expected = vec![
        dir("cpu,cpuacct"),
        dir("devices"),
        dir("freezer"),
        dir("memory"),
        dir("pids"),
    ];
    expected.sort();
    assert_eq!(dirs, expected, "one directory per used hierarchy");
    touch(
        &dir("memory"),
        &[
            ("memory.limit_in_bytes", "9223372036854771712\n"),
            ("cgroup.procs", ""),
        ],
    );
    touch(
        &dir("cpu,cpuacct"),
        &[
            ("cpu.cfs_period_us", "100000\n"),
            ("cpu.cfs_quota_us", "-1\n"),
            ("cpu.shares", "1024\n"),
            ("cgroup.procs", ""),
        ],
    );
    touch(&dir("pids"), &[("pids.max", "max\n"), ("cgroup.procs", "")]);
    touch(
        &dir("devices"),
        &[
            ("devices.deny", ""),
            ("devices.allow", ""),
            ("cgroup.procs", ""),
        ],
    );
    touch(
        &dir("freezer"),
        &[("freezer.state", "THAWED\n"), ("cgroup.procs", "")],
    );

    let mem: u64 = rand::random::<u32>() as u64 + (6 << 20);
    cg.apply(&Resources {
        memory: Some(mem),
        cpu_quota: Some((150_000, 100_000)),
        cpu_shares: Some(512),
        pids_max: Some(20),
        ..Resources::default()
    })
    .unwrap();
    assert_eq!(
        read(dir("memory").join("memory.limit_in_bytes")),
        mem.to_string()
    );
    assert_eq!(read(dir("cpu,cpuacct").join("cpu.cfs_quota_us")), "150000");
    assert_eq!(read(dir("cpu,cpuacct").join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(dir("cpu,cpuacct").join("cpu.shares")), "512");
    assert_eq!(read(dir("pids").join("pids.max")), "20");
    // Deny all, then one write per allow rule (a fake file keeps the last).
    cg.restrict_devices(crate::cgroup::DEFAULT_DEVICE_RULES)
        .unwrap();
    assert_eq!(read(dir("devices").join("devices.deny")), "a");
    assert_eq!(read(dir("devices").join("devices.allow")), "c 136:* rwm");

    let pid = 1000 + rand::random::<u16>() as i32;
    cg.add_pid(pid).unwrap();
    let mut tasks = Vec::new();
    for d in cg.dirs() {
        assert_eq!(read(d.join("cgroup.procs")), pid.to_string());
        tasks.push(d.join("tasks"));
    }
    assert_eq!(cg.pids().unwrap(), vec![pid]);
    assert_eq!(cg.join_files(), tasks); // v1: a process joins itself by `tasks`

    cg.freeze().unwrap();
    assert_eq!(read(dir("freezer").join("freezer.state")), "FROZEN");
    assert!(cg.is_frozen().unwrap());
    cg.thaw().unwrap();
    assert_eq!(read(dir("freezer").join("freezer.state")), "THAWED");
    assert!(!cg.is_frozen().unwrap());
}

#[test]
fn v1_stats_and_oom() {
    let (fake, root) = fake_v1();
    let cg = root.create("p", "c").unwrap();
    let dir = |h: &str| fake.path().join(h).join("p/c");
    touch(
        &dir("memory"),
        &[
            ("memory.usage_in_bytes", "4096\n"),
            ("memory.max_usage_in_bytes", "8192\n"),
            ("memory.limit_in_bytes", "16777216\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
            ),
        ],
    );
    touch(&dir("cpu,cpuacct"), &[("cpuacct.usage", "123456789\n")]);
    touch(
        &dir("pids"),
        &[("pids.current", "3\n"), ("pids.max", "max\n")],
    );
    let stats = cg.stats().unwrap();
    assert_eq!(
        stats,
        CgroupStats {
            memory_usage: 4096,
            memory_max_usage: Some(8192),
            memory_limit: Some(16 << 20),
            cpu_usage_ns: 123_456_789,
            pids_current: 3,
            pids_limit: None,
        }
    );
    assert!(!cg.oom_killed().unwrap());
    touch(
        &dir("memory"),
        &[(
            "memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )],
    );
    assert!(cg.oom_killed().unwrap());
    // kernels before 4.13 have no oom_kill counter
    touch(
        &dir("memory"),
        &[("memory.oom_control", "oom_kill_disable 0\nunder_oom 1\n")],
    );
    assert!(cg.oom_killed().unwrap());
    touch(
        &dir("memory"),
        &[("memory.limit_in_bytes", "9223372036854771712\n")],
    );
    assert_eq!(
        cg.stats().unwrap().memory_limit,
        None,
        "the kernel's huge number means unlimited"
    );
}

#[test]
fn v1_missing_controllers_and_files_are_errors_not_new_files() {
    let fake = tempfile::tempdir().unwrap();
    let mounts: BTreeMap<String, PathBuf> =
        [("memory".to_string(), fake.path().join("memory"))].into();
    fs::create_dir(fake.path().join("memory")).unwrap();
    let cg = CgroupRoot::V1 { mounts }.create("p", "c").unwrap();
    let err = cg.set_pids_max(10).unwrap_err();
    assert!(
        matches!(
            err,
            CgroupError::MissingController {
                controller: "pids",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("\"pids\""), "{err}");
    assert!(cg.freeze().is_err());
    // memory is there, but its file is not: the code must not create it
    assert!(cg.set_memory_limit(1 << 24).is_err());
    assert!(!fake
        .path()
        .join("memory/p/c/memory.limit_in_bytes")
        .exists());
}

#[test]
fn v1_freeze_times_out_when_the_kernel_never_says_frozen() {
    let fake = tempfile::tempdir().unwrap();
    let dir = fake.path().join("freezer/p/c");
    fs::create_dir_all(&dir).unwrap();
    let cg = CgroupV1::open(
        &[("freezer".to_string(), fake.path().join("freezer"))].into(),
        "p",
        "c",
    )
    .with_freeze_timeout(Duration::from_millis(200));
    // writes vanish and reads are empty: the state never becomes FROZEN
    std::os::unix::fs::symlink("/dev/null", dir.join("freezer.state")).unwrap();
    let err = cg.freeze().unwrap_err();
    assert!(
        matches!(
            err,
            CgroupError::FreezeTimeout {
                wanted: "FROZEN",
                ..
            }
        ),
        "{err}"
    );
    fs::remove_file(dir.join("freezer.state")).unwrap();
    fs::create_dir(dir.join("freezer.state")).unwrap();
    assert!(matches!(cg.freeze().unwrap_err(), CgroupError::Io { .. }));
}

/// A v2 host: the root offers controllers, the test pre-creates the
/// parent's `cgroup.subtree_control` as the kernel would.
fn fake_v2(parent: &str) -> (tempfile::TempDir, CgroupRoot) {
    let fake = tempfile::tempdir().unwrap();
    touch(
        fake.path(),
        &[
            (
                "cgroup.controllers",
                "cpuset cpu io memory hugetlb pids rdma misc\n",
            ),
            ("cgroup.subtree_control", ""),
        ],
    );
    fs::create_dir(fake.path().join(parent)).unwrap();
    touch(&fake.path().join(parent), &[("cgroup.subtree_control", "")]);
    let root = CgroupRoot::V2 {
        path: fake.path().into(),
    };
    (fake, root)
}

fn v2_child_files(dir: &Path) {
    touch(
        dir,
        &[
            ("cgroup.procs", ""),
            ("memory.max", "max\n"),
            ("cpu.max", "max 100000\n"),
            ("cpu.weight", "100\n"),
            ("pids.max", "max\n"),
            ("cgroup.freeze", "0\n"),
            ("cgroup.events", "populated 1\nfrozen 0\n"),
        ],
    );
}

#[test]
fn v2_enables_controllers_and_writes_v2_files() {
    let parent = minidock_testkit::random_name("minidock-test-");
    let (fake, root) = fake_v2(&parent);
    let cg = root.create(&parent, "c2").unwrap();
    assert_eq!(cg.version(), CgroupVersion::V2);
    let dir = fake.path().join(&parent).join("c2");
    assert_eq!(cg.dirs(), vec![dir.clone()]);
    assert_eq!(
        read(fake.path().join("cgroup.subtree_control")),
        "+cpu +memory +pids"
    );
    assert_eq!(
        read(fake.path().join(&parent).join("cgroup.subtree_control")),
        "+cpu +memory +pids"
    );
    v2_child_files(&dir);
    let mem: u64 = rand::random::<u32>() as u64 + (6 << 20);
    cg.apply(&Resources {
        memory: Some(mem),
        cpu_quota: Some((150_000, 100_000)),
        cpu_shares: Some(512),
        pids_max: Some(20),
        ..Resources::default()
    })
    .unwrap();
    assert_eq!(read(dir.join("memory.max")), mem.to_string());
    assert_eq!(read(dir.join("cpu.max")), "150000 100000");
    assert_eq!(read(dir.join("cpu.weight")), "20");
    assert_eq!(read(dir.join("pids.max")), "20");
    let pid = 1000 + rand::random::<u16>() as i32;
    cg.add_pid(pid).unwrap();
    assert_eq!(read(dir.join("cgroup.procs")), pid.to_string());
    assert_eq!(cg.join_files(), vec![dir.join("cgroup.procs")]); // v2 has no `tasks`
}

#[test]
fn v2_leaves_enabled_controllers_alone() {
    let parent = "minidock";
    let (fake, root) = fake_v2(parent);
    touch(
        fake.path(),
        &[("cgroup.subtree_control", "cpu memory pids\n")],
    );
    touch(
        &fake.path().join(parent),
        &[("cgroup.subtree_control", "memory\n")],
    );
    root.create(parent, "c").unwrap();
    assert_eq!(
        read(fake.path().join("cgroup.subtree_control")),
        "cpu memory pids\n"
    );
    assert_eq!(
        read(fake.path().join(parent).join("cgroup.subtree_control")),
        "+cpu +pids"
    );
}

#[test]
fn v2_freeze_waits_for_the_kernel() {
    let (fake, root) = fake_v2("p");
    let cg = root.create("p", "c").unwrap();
    let dir = fake.path().join("p/c");
    v2_child_files(&dir);
    // stands in for the kernel: reports in cgroup.events what cgroup.freeze asks
    let stop = Arc::new(AtomicBool::new(false));
    let kernel = {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(30));
                let want = fs::read_to_string(dir.join("cgroup.freeze")).unwrap();
                // written aside and renamed: the kernel's file never reads
                // half-written, and a reader must not see `frozen ` alone
                let tmp = dir.join("cgroup.events.tmp");
                fs::write(&tmp, format!("populated 1\nfrozen {}\n", want.trim())).unwrap();
                fs::rename(&tmp, dir.join("cgroup.events")).unwrap();
            }
        })
    };
    cg.freeze().unwrap();
    assert_eq!(read(dir.join("cgroup.freeze")), "1");
    assert!(
        read(dir.join("cgroup.events")).contains("frozen 1"),
        "freeze returned before the kernel said frozen"
    );
    assert!(cg.is_frozen().unwrap());
    cg.thaw().unwrap();
    assert_eq!(read(dir.join("cgroup.freeze")), "0");
    assert!(read(dir.join("cgroup.events")).contains("frozen 0"));
    stop.store(true, Ordering::Relaxed);
    kernel.join().unwrap();

    let slow =
        CgroupV2::open(fake.path(), "p", "c").with_freeze_timeout(Duration::from_millis(100));
    let err = slow.freeze().unwrap_err();
    assert!(matches!(err, CgroupError::FreezeTimeout { .. }), "{err}");
}

#[test]
fn v2_stats_oom_and_kill() {
    let (fake, root) = fake_v2("p");
    let cg = root.create("p", "c").unwrap();
    let dir = fake.path().join("p/c");
    touch(
        &dir,
        &[
            ("memory.current", "4096\n"),
            ("memory.max", "max\n"),
            (
                "cpu.stat",
                "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n",
            ),
            ("pids.current", "2\n"),
            ("pids.max", "20\n"),
            ("memory.events", "low 0\nhigh 0\nmax 7\noom 0\noom_kill 0\n"),
            ("cgroup.kill", ""),
        ],
    );
    assert_eq!(
        cg.stats().unwrap(),
        CgroupStats {
            memory_usage: 4096,
            memory_max_usage: None,
            memory_limit: None,
            cpu_usage_ns: 1_234_000,
            pids_current: 2,
            pids_limit: Some(20),
        }
    );
    assert!(!cg.oom_killed().unwrap());
    touch(
        &dir,
        &[("memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")],
    );
    assert!(cg.oom_killed().unwrap());
    cg.kill_all().unwrap();
    assert_eq!(read(dir.join("cgroup.kill")), "1");
}

#[test]
fn v2_without_delegated_controllers_says_so() {
    let fake = tempfile::tempdir().unwrap();
    let root = CgroupRoot::V2 {
        path: fake.path().into(),
    };
    let cg = root.create("p", "c").unwrap();
    let err = cg.set_memory_limit(1 << 24).unwrap_err();
    assert!(
        matches!(
            err,
            CgroupError::MissingController {
                controller: "memory",
                ..
            }
        ),
        "{err}"
    );
    assert!(!fake.path().join("p/c/memory.max").exists());
    assert!(!cg.oom_killed().unwrap());
}

#[test]
fn oom_kill_disable_is_a_v1_switch_that_v2_refuses() {
    let (fake, root) = fake_v1();
    let oom =
        |disable: u8| format!("oom_kill_disable {disable}\nunder_oom {disable}\noom_kill 0\n");
    assert!(!root.supports_oom_kill_disable(), "no memory.oom_control");
    touch(
        &fake.path().join("memory"),
        &[("memory.oom_control", &oom(0))],
    );
    assert!(root.supports_oom_kill_disable());
    let cg = root.create("p", "c").unwrap();
    let dir = |h: &str| fake.path().join(h).join("p/c");
    touch(
        &dir("memory"),
        &[
            ("memory.limit_in_bytes", "max\n"),
            ("memory.oom_control", &oom(0)),
        ],
    );
    let limit = |oom_kill_disable| Resources {
        memory: Some(32 << 20),
        oom_kill_disable,
        ..Resources::default()
    };
    cg.apply(&limit(false)).unwrap();
    assert_eq!(
        read(dir("memory").join("memory.oom_control")),
        oom(0),
        "left alone"
    );
    cg.apply(&limit(true)).unwrap();
    assert_eq!(read(dir("memory").join("memory.oom_control")), "1");
    assert_eq!(
        read(dir("memory").join("memory.limit_in_bytes")),
        "33554432"
    );

    // A group with the killer off is killed without freezing (its waiting
    // processes would keep it FREEZING): a freezer that never says FROZEN
    // fails the kill of a plain group, not of this one.
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    for d in cg.dirs() {
        touch(&d, &[("cgroup.procs", &format!("{}\n", child.id()))]);
    }
    std::os::unix::fs::symlink("/dev/null", dir("freezer").join("freezer.state")).unwrap();
    let mounts = match &root {
        CgroupRoot::V1 { mounts } => mounts.clone(),
        CgroupRoot::V2 { .. } => unreachable!(),
    };
    let quick = CgroupV1::open(&mounts, "p", "c").with_freeze_timeout(Duration::from_millis(100));
    touch(&dir("memory"), &[("memory.oom_control", &oom(0))]);
    let err = quick.kill_all().unwrap_err();
    assert!(matches!(err, CgroupError::FreezeTimeout { .. }), "{err}");
    touch(&dir("memory"), &[("memory.oom_control", &oom(1))]);
    quick.kill_all().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(9), "SIGKILL sent");

    let (fake, root) = fake_v2("p");
    assert!(!root.supports_oom_kill_disable());
    let cg = root.create("p", "c").unwrap();
    v2_child_files(&fake.path().join("p/c"));
    cg.set_oom_kill_disable(false).unwrap();
    let err = cg.apply(&limit(true)).unwrap_err();
    assert!(
        matches!(err, CgroupError::Unsupported { version: "v2", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("--oom-kill-disable"), "{err}");
}
