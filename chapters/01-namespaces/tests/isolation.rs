//! What the container can see and do: each namespace, the file system
//! views, the masked paths, the capabilities.

mod common;

use std::os::fd::AsRawFd;
use std::path::Path;

use common::{random_text, run, run_ok, Fixture};
use minidock_namespaces::spec::DEFAULT_MASKED_PATHS;
use minidock_namespaces::{BindMount, Stdio, UserNamespace};
use minidock_testkit::{random_name, LeakCheck};
use nix::sys::signal::Signal;
use rand::Rng;

#[test]
fn a_file_the_host_creates_in_tmp_is_not_visible() {
    let fx = Fixture::new();
    // Removed when dropped, even if the test fails.
    let host_file = tempfile::Builder::new()
        .prefix("minidock-ns-host-")
        .tempfile_in("/tmp")
        .unwrap();
    let name = host_file.path().file_name().unwrap().to_str().unwrap();
    let out = run(fx.sh(&format!("ls -a /tmp; cat /tmp/{name}")));
    assert_ne!(out.code, 0);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        listing, ".\n..\n",
        "the container's /tmp is the rootfs's, empty"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file"));
}

#[test]
fn hostname_is_the_containers_and_the_hosts_is_unchanged() {
    let fx = Fixture::new();
    let host_before = nix::unistd::gethostname().unwrap();
    let name = random_name("box-");
    let out = run_ok(fx.spec(["hostname"]).hostname(&name));
    assert_eq!(out, format!("{name}\n"));
    assert_eq!(nix::unistd::gethostname().unwrap(), host_before);
}

#[test]
fn the_network_namespace_has_only_lo_and_it_is_up() {
    let fx = Fixture::new();
    let out = run_ok(fx.sh(
        "ls /sys/class/net; cat /sys/class/net/lo/flags; tail -n +3 /proc/net/dev | cut -d: -f1; \
         ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok",
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    // flags 0x9 = IFF_UP | IFF_LOOPBACK
    assert_eq!(lines, ["lo", "0x9", "lo", "ping-ok"]);
}

#[test]
fn proc_is_the_containers() {
    let fx = Fixture::new();
    let token = random_text(12);
    let out = run_ok(fx.sh(&format!(
        "readlink /proc/self/ns/pid; tr '\\0' ' ' </proc/1/cmdline; echo; grep ' /proc proc ' /proc/self/mounts # {token}"
    )));
    let lines: Vec<&str> = out.lines().collect();
    let host_ns = std::fs::read_link("/proc/self/ns/pid").unwrap();
    assert_ne!(
        lines[0],
        host_ns.to_str().unwrap(),
        "same PID namespace as the host"
    );
    assert!(
        lines[1].contains(&token),
        "/proc/1 is not our command: {}",
        lines[1]
    );
    let options = lines[2].split_whitespace().nth(3).unwrap();
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(
            options.split(',').any(|o| o == flag),
            "/proc lacks {flag}: {options}"
        );
    }
}

#[test]
fn masked_paths_read_empty() {
    let fx = Fixture::new();
    // The masked files this kernel has, with content on the host.
    let files: Vec<&str> = DEFAULT_MASKED_PATHS
        .iter()
        .copied()
        .filter(|p| {
            Path::new(p).is_file() && std::fs::read(p).map(|c| !c.is_empty()).unwrap_or(false)
        })
        .collect();
    assert!(
        !files.is_empty(),
        "no masked file with content on this host"
    );
    let mut script = String::new();
    for f in &files {
        script += &format!("wc -c < {f}; ");
    }
    script += "ls -A /sys/firmware | wc -l";
    assert!(std::fs::read_dir("/sys/firmware").unwrap().count() > 0);
    let out = run_ok(fx.sh(&script));
    let counts: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        counts,
        vec!["0"; files.len() + 1],
        "for {files:?} and /sys/firmware"
    );
}

#[test]
fn readonly_paths_refuse_writes() {
    let fx = Fixture::new();
    let name = random_name("h");
    let script = format!(
        "echo {name} > /proc/sys/kernel/hostname; hostname; \
         if [ -e /proc/sysrq-trigger ]; then echo h > /proc/sysrq-trigger && echo sysrq-written; fi"
    );
    let out = run(fx.sh(&script));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "minidock\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    // Control: the same write works when /proc/sys is not made read-only,
    // so the failure above is the read-only mount and nothing else.
    let mut spec = fx.sh(&format!(
        "echo {name} > /proc/sys/kernel/hostname; hostname"
    ));
    spec.readonly_paths.clear();
    assert_eq!(run_ok(spec), format!("{name}\n"));
}

#[test]
fn capabilities_are_dockers_default_14() {
    let fx = Fixture::new();
    let out = run_ok(fx.spec(["grep", "Cap", "/proc/self/status"]));
    assert_eq!(
        out,
        "CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n\
         CapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n"
    );
}

#[test]
fn mounting_inside_is_refused() {
    let fx = Fixture::new();
    let out = run(fx.sh("mount -t tmpfs t /tmp && echo mounted"));
    assert_ne!(out.code, 0);
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mount: permission denied"));
}

#[test]
fn no_new_privs_only_when_asked() {
    let fx = Fixture::new();
    let grep = ["grep", "NoNewPrivs", "/proc/self/status"];
    assert_eq!(run_ok(fx.spec(grep)), "NoNewPrivs:\t0\n");
    assert_eq!(
        run_ok(fx.spec(grep).no_new_privileges(true)),
        "NoNewPrivs:\t1\n"
    );
}

#[test]
fn dev_holds_exactly_the_default_devices() {
    let fx = Fixture::new();
    let out = run_ok(fx.sh(
        "ls -A /dev | tr '\\n' ' '; echo; head -c 33 /dev/urandom | wc -c; \
         stat -c '%t:%T' /dev/null /dev/zero; echo x > /dev/null && echo null-ok",
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero",
            "33",
            "1:3",
            "1:5",
            "null-ok"
        ]
    );
}

/// Host devices outside Docker's default set, harmless to open and close:
/// the first one this host has and lets root open is the test's target.
const HOST_DEVICES: [&str; 4] = ["/dev/loop-control", "/dev/fuse", "/dev/net/tun", "/dev/kvm"];

#[test]
fn a_device_node_made_with_mknod_cannot_be_opened() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let fx = Fixture::new();
    // The control: on the host, root opens the device.
    let Some((path, rdev)) = HOST_DEVICES.iter().find_map(|p| {
        let meta = std::fs::metadata(p).ok()?;
        let opened = std::fs::File::open(p).is_ok();
        (meta.file_type().is_char_device() && opened).then_some((*p, meta.rdev()))
    }) else {
        panic!("none of {HOST_DEVICES:?} exists and opens on this host: the test needs one to show the container cannot");
    };
    let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    let data = fx.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let bind = BindMount {
        source: data.clone(),
        destination: "/mnt/data".into(),
        read_only: false,
        propagation: Default::default(),
    };
    // CAP_MKNOD is Docker's default, so mknod works; opening must not, on
    // the root file system, on /dev and on a bind mount alike.
    let out = run_ok(
        fx.sh(&format!(
            "for d in / /dev /mnt/data; do \
               mknod $d/host-device c {major} {minor} || exit 1; \
               if true < $d/host-device 2>/dev/null; then echo $d opened; else echo $d denied; fi; \
             done"
        ))
        .mount(bind),
    );
    assert_eq!(
        out, "/ denied\n/dev denied\n/mnt/data denied\n",
        "a copy of {path} ({major}:{minor}) opened inside the container"
    );
    // ... and the devices the container is given still work.
    assert_eq!(
        run_ok(fx.sh("echo x > /dev/null && head -c 3 /dev/zero | wc -c")),
        "3\n"
    );
    // The node made on the bind mount is on the host too; root there opens it.
    assert!(std::fs::File::open(data.join("host-device")).is_ok());
}

#[test]
fn seccomp_refuses_a_new_user_namespace_unless_turned_off() {
    let fx = Fixture::new();
    let script = "grep '^Seccomp:' /proc/self/status; \
                  unshare -U true 2>&1 && echo unshared; \
                  echo x > /dev/null && echo still-works";
    let confined = run_ok(fx.sh(script));
    assert_eq!(
        confined,
        "Seccomp:\t2\nunshare: unshare(0x10000000): Operation not permitted\nstill-works\n"
    );
    // The control: the same script without the filter.
    let unconfined = run_ok(fx.sh(script).seccomp(false));
    assert_eq!(unconfined, "Seccomp:\t0\nunshared\nstill-works\n");
}

#[test]
fn a_read_only_rootfs_refuses_writes_but_dev_shm_and_binds_take_them() {
    let fx = Fixture::new();
    let data = fx.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let bind = BindMount {
        source: data.clone(),
        destination: "/data".into(),
        read_only: false,
        propagation: Default::default(),
    };
    let out = run_ok(
        fx.sh(
            "touch /x 2>&1; touch /tmp/x 2>&1; echo a > /dev/shm/a && echo shm-ok; \
             echo b > /data/b && echo bind-ok; echo c > /dev/null && echo null-ok",
        )
        .readonly_rootfs(true)
        .mount(bind),
    );
    assert_eq!(
        out,
        "touch: /x: Read-only file system\ntouch: /tmp/x: Read-only file system\n\
         shm-ok\nbind-ok\nnull-ok\n"
    );
    assert_eq!(std::fs::read_to_string(data.join("b")).unwrap(), "b\n");
    assert!(!fx.rootfs.join("x").exists());
}

/// The `SigIgn:` mask of a `/proc/PID/status`.
fn ignored_signals(status: &str) -> u64 {
    let line = status.lines().find(|l| l.starts_with("SigIgn:")).unwrap();
    u64::from_str_radix(line["SigIgn:".len()..].trim(), 16).unwrap()
}

#[test]
fn the_command_starts_with_default_signals_whatever_the_engine_ignores() {
    let fx = Fixture::new();
    // The control: like every Rust program, this test ignores SIGPIPE.
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    let ours = std::fs::read_to_string("/proc/self/status").unwrap();
    assert_ne!(ignored_signals(&ours) & sigpipe, 0, "{ours}");
    let out = run(fx.sh("cat /proc/self/status; yes | head -c 4"));
    let status = String::from_utf8(out.stdout).unwrap();
    assert_eq!(ignored_signals(&status), 0, "{status}");
    assert!(status.contains("SigBlk:\t0000000000000000\n"), "{status}");
    // `yes` dies of SIGPIPE quietly, as it would on any terminal.
    assert!(status.ends_with("y\ny\n"), "{status}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn inherited_descriptors_above_2_are_closed() {
    let fx = Fixture::new();
    // A descriptor without O_CLOEXEC: inherited by every child of this
    // process, unless the container closes it.
    let leaked = nix::fcntl::open(
        "/dev/null",
        nix::fcntl::OFlag::O_RDONLY,
        nix::sys::stat::Mode::empty(),
    )
    .unwrap();
    // SAFETY: we own the new descriptor.
    let leaked = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(leaked) };
    let fd = leaked.as_raw_fd();
    let out = run_ok(fx.sh(&format!(
        // `ls` as a simple command, not in a pipeline: the shell holds no
        // pipe end while `ls` lists the shell's descriptors.
        "ls /proc/$$/fd; if test -e /proc/$$/fd/{fd}; then echo LEAK; fi"
    )));
    drop(leaked);
    assert_eq!(out, "0\n1\n2\n");
}

#[test]
fn mounts_stay_inside_and_nothing_is_left_after_exit() {
    let fx = Fixture::new();
    let prefix = fx.prefix();
    let leaks = LeakCheck::start(&prefix);
    let mut container = fx
        .spec(["sleep", "1000"])
        .stdout(Stdio::Null)
        .spawn(&common::init())
        .expect("spawn");
    // The container has mounted proc, dev, sys, binds under the rootfs:
    // none of it may show on the host, even while it runs.
    let inside =
        std::fs::read_to_string(format!("/proc/{}/mountinfo", container.container_pid())).unwrap();
    assert!(inside.lines().count() >= 10, "container mounts: {inside}");
    let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let shown: Vec<&str> = host.lines().filter(|l| l.contains(&prefix)).collect();
    assert!(
        shown.is_empty(),
        "container mounts visible on the host: {shown:?}"
    );
    container.kill(Signal::SIGKILL).unwrap();
    container.wait().unwrap();
    leaks.finish();
}

#[test]
fn bind_mounts_show_host_files_and_read_only_ones_refuse_writes() {
    let fx = Fixture::new();
    let data = fx.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let content = random_text(20);
    std::fs::write(data.join("in"), &content).unwrap();
    let leaks = LeakCheck::start(&fx.prefix());

    let rw = BindMount {
        source: data.clone(),
        destination: "/mnt/rw".into(),
        read_only: false,
        propagation: Default::default(),
    };
    let ro = BindMount {
        destination: "/mnt/ro".into(),
        read_only: true,
        ..rw.clone()
    };
    let out = run(fx
        .sh("cat /mnt/rw/in; echo; echo out > /mnt/rw/out; echo x > /mnt/ro/x")
        .mount(rw)
        .mount(ro));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{content}\n")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    assert_eq!(std::fs::read_to_string(data.join("out")).unwrap(), "out\n");
    assert!(!data.join("x").exists());
    leaks.finish();
}

#[test]
fn a_user_namespace_maps_container_root_to_an_unprivileged_host_range() {
    let fx = Fixture::new();
    // Container root is host uid `base`: it must be able to walk to the
    // rootfs, which a 0700 temp dir forbids.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(fx.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let base = rand::thread_rng().gen_range(2..200) * 65536;
    let out = run_ok(
        fx.sh(
            "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox; \
               grep CapEff /proc/self/status",
        )
        .user_namespace(UserNamespace::remap(base, 65536)),
    );
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            format!("0 {base} 65536"),
            format!("0 {base} 65536"),
            "0".to_string(),
            // host root owns the rootfs, and host root is not mapped here
            "65534".to_string(),
            "CapEff: 00000000a80425fb".to_string(),
        ]
    );
}

#[test]
fn a_tmpfs_is_mounted_with_its_size_over_a_bind_mounted_before_it() {
    use minidock_namespaces::TmpfsMount;
    let fx = Fixture::new();
    let data = fx.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut spec = fx.sh(
        "grep -E ' /data(/cache)? ' /proc/mounts | cut -d' ' -f2,3,4; \
         dd if=/dev/zero of=/data/cache/f bs=1k count=100 2>/dev/null || echo full; \
         echo kept > /data/file",
    );
    // Given deepest first: the mounts are made shallow first all the same.
    spec.tmpfs.push(TmpfsMount {
        destination: "/data/cache".into(),
        data: "size=64k,mode=1777".into(),
        read_only: false,
        noexec: true,
    });
    let out = run_ok(spec.mount(BindMount {
        source: data.clone(),
        destination: "/data".into(),
        read_only: false,
        propagation: Default::default(),
    }));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("/data ")
            && lines[1].starts_with("/data/cache tmpfs rw,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(lines[1].contains("size=64k"), "{out}");
    assert_eq!(lines[2], "full", "{out}");
    assert_eq!(
        std::fs::read_to_string(data.join("file")).unwrap(),
        "kept\n"
    );
    // the tmpfs lived in the container's mount namespace only
    assert!(std::fs::read_dir(data.join("cache"))
        .unwrap()
        .next()
        .is_none());
}
