//! A real `minidockd` that recovers from what crashes leave, keeps its
//! memory bounded, and answers as dockerd does where clients depend on it:
//! a kill that waits for the exit, exec framing, a shim that dies, a store
//! left with temporaries and orphans by a failed or killed load.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Daemon;
use minidock_daemon::types::ExecConfig;
use minidock_daemon::wait::WaitCondition;
use minidock_testkit::{Compression, Entry, ImageSpec, LayerSpec};

fn run_detached(daemon: &Daemon, cmd: &[&str]) -> String {
    let mut args = vec!["run", "-d", "busybox"];
    args.extend_from_slice(cmd);
    daemon.ok(&args).trim().to_string()
}

/// `VmHWM` (peak resident memory) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("read the daemon's status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// The files of the image store that pulls and loads write (relative
/// paths): blobs, unpacked layers (top level), partial downloads and the
/// index's temporary.
fn store_files(root: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for dir in ["blobs/sha256", "layers", "ingest", "images"] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if dir == "images" && !name.ends_with(".tmp") {
                continue;
            }
            files.insert(format!("{dir}/{name}"));
        }
    }
    files
}

#[test]
fn kill_answers_once_the_container_has_exited() {
    // dockerd waits for the exit on SIGKILL: an inspect right after shows
    // the container stopped, and a DELETE right after succeeds.
    let daemon = Daemon::start();
    daemon.load_busybox();
    for round in 0..3 {
        let id = run_detached(&daemon, &["sleep", "1000"]);
        daemon.client.container_kill(&id, None).expect("kill");
        let inspect = daemon.client.container_inspect(&id).expect("inspect");
        assert!(
            !inspect.state.running,
            "round {round}: running right after kill: {:?}",
            inspect.state
        );
        assert_eq!(inspect.state.exit_code, 137, "round {round}");
        daemon
            .client
            .container_remove(&id, false)
            .unwrap_or_else(|e| panic!("round {round}: DELETE right after kill: {e}"));
    }
}

#[test]
fn exec_framing_follows_the_tty_of_the_start_request() {
    // Clients send `Tty` at exec start too, and dockerd frames (or not) by
    // that one: created with a terminal, started without one, the output is
    // framed; and the other way round, raw.
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = run_detached(&daemon, &["sleep", "1000"]);
    for (create_tty, start_tty) in [(true, false), (false, true)] {
        let exec = daemon
            .client
            .exec_create(
                &id,
                &ExecConfig {
                    attach_stdout: true,
                    attach_stderr: true,
                    tty: create_tty,
                    cmd: vec!["echo".into(), "framed?".into()],
                    ..ExecConfig::default()
                },
            )
            .expect("exec create");
        let hijacked = daemon
            .client
            .exec_start(&exec, start_tty)
            .expect("exec start");
        assert_eq!(
            hijacked.output.tty(),
            start_tty,
            "the content type follows the start request's Tty"
        );
        let (out, err) = hijacked.output.collect().unwrap_or_else(|e| {
            panic!("create Tty={create_tty}, start Tty={start_tty}: unreadable stream: {e}")
        });
        let out = String::from_utf8_lossy(&out);
        assert_eq!(out.trim_end(), "framed?", "stderr: {err:?}");
    }
    daemon.ok(&["rm", "-f", &id]);
}

#[test]
fn a_killed_shim_is_exit_code_137() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = run_detached(&daemon, &["sleep", "1000"]);
    let pid = daemon.client.container_inspect(&id).unwrap().state.pid as i32;
    let shim = shim_of(pid);
    // The shim and the container's process die together (as with
    // `kill -9` of the whole process tree, or the OOM killer). Through
    // pidfds opened while both live: the process may die of its shim's
    // death before its own SIGKILL comes (ESRCH then), and its number must
    // not be reused for someone else's process in between.
    let victims = [pidfd(shim), pidfd(pid)];
    for (victim, what) in victims.iter().zip(["the shim", "the process"]) {
        match send_sigkill(victim) {
            Ok(()) => {}
            Err(e) if what == "the process" && e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => panic!("SIGKILL {what}: {e}"),
        }
    }
    let waited = daemon
        .client
        .container_wait(&id, WaitCondition::NotRunning)
        .expect("wait");
    let inspect = daemon.client.container_inspect(&id).unwrap();
    assert_eq!(
        waited.status_code,
        137,
        "{:?}\nlog:\n{}",
        inspect.state,
        daemon.log()
    );
    assert_eq!(
        daemon
            .client
            .container_inspect(&id)
            .unwrap()
            .state
            .exit_code,
        137
    );
    daemon.ok(&["rm", "-f", &id]);
}

/// A pidfd of a live process: signals sent through it reach that process
/// or none, never a later one with the same number.
fn pidfd(pid: i32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1;
    // no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    assert!(
        fd >= 0,
        "pidfd_open {pid}: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the fd was just returned to us and is owned by nothing else.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }
}

/// SIGKILL through a pidfd.
fn send_sigkill(fd: &std::os::fd::OwnedFd) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: pidfd_send_signal with a null siginfo and no flags reads no
    // memory; the fd is open for the call's duration.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The shim above a container's process.
fn shim_of(pid: i32) -> i32 {
    let mut current = pid;
    for _ in 0..5 {
        let status = std::fs::read_to_string(format!("/proc/{current}/status")).unwrap();
        current = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:").map(|v| v.trim().parse().unwrap()))
            .unwrap();
        let cmdline = std::fs::read(format!("/proc/{current}/cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == b"__minidock_shim") {
            return current;
        }
    }
    panic!("no shim above pid {pid}");
}

#[test]
fn create_with_an_uppercase_image_name_is_a_400() {
    let daemon = Daemon::start();
    let body = br#"{"Image":"BusyBox","Cmd":["true"]}"#;
    let r = daemon
        .client
        .raw("POST", "/v1.44/containers/create", Some(body))
        .unwrap();
    let text = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 400, "{text}");
    assert!(text.contains("must be lowercase"), "{text}");
}

#[test]
fn attach_with_logs_and_no_stream_after_the_exit_returns_the_output() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = daemon
        .ok(&["create", "busybox", "sh", "-c", "echo out; echo err >&2"])
        .trim()
        .to_string();
    daemon.ok(&["start", "-a", &id]);
    let r = daemon
        .client
        .raw(
            "POST",
            &format!("/v1.44/containers/{id}/attach?logs=1&stream=0&stdout=1&stderr=1"),
            None,
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Two frames: stdout "out\n", stderr "err\n".
    let mut frames = Vec::new();
    let mut rest = &r.body[..];
    while rest.len() >= 8 {
        let len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        frames.push((
            rest[0],
            String::from_utf8_lossy(&rest[8..8 + len]).into_owned(),
        ));
        rest = &rest[8 + len..];
    }
    // The two streams come from two pipes: their order is not defined.
    frames.sort();
    assert_eq!(
        frames,
        vec![(1, "out\n".to_string()), (2, "err\n".to_string())],
        "body {:?}",
        r.body
    );
    daemon.ok(&["rm", &id]);
}

#[test]
fn unreadable_container_directories_and_image_index_do_not_stop_the_daemon() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let create = |name: &str| {
        daemon
            .ok(&["create", "--name", name, "busybox", "true"])
            .trim()
            .to_string()
    };
    let good = create("good");
    let truncated = create("truncated");
    let empty_state = create("emptystate");
    let half_removed = create("halfremoved");
    // ANCHOR: quarantine_setup
    let (dir, leaks) = daemon.kill9();
    let root = dir.join("root");
    let cdir = |id: &str| root.join("containers").join(id);
    // What the issue found: a truncated config, an empty state, and what a
    // `rm` killed half-way left (the config and the log, no state).
    let config = std::fs::read(cdir(&truncated).join("config.json")).unwrap();
    std::fs::write(cdir(&truncated).join("config.json"), &config[..17]).unwrap();
    std::fs::write(cdir(&empty_state).join("state.json"), b"").unwrap();
    std::fs::remove_file(cdir(&half_removed).join("state.json")).unwrap();
    // And an image index that is not JSON.
    std::fs::write(root.join("images/repositories.json"), b"{\"images\": {").unwrap();

    let mut daemon = Daemon::start_in(&dir);
    // ANCHOR_END: quarantine_setup
    // ANCHOR: quarantine_checks
    daemon.adopt_leak_check(leaks);
    let listed = daemon.ok(&["ps", "-a", "-q", "--no-trunc"]);
    assert_eq!(listed.trim(), good, "log:\n{}", daemon.log());
    // The interrupted rm was finished, the unreadable ones moved aside.
    assert!(!cdir(&half_removed).exists());
    assert!(!cdir(&truncated).exists() && !cdir(&empty_state).exists());
    let quarantined: Vec<String> = std::fs::read_dir(root.join("quarantine"))
        .expect("a quarantine directory")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(quarantined.len(), 3, "{quarantined:?}");
    for id in [&truncated, &empty_state] {
        assert!(
            quarantined.iter().any(|q| q.contains(id.as_str())),
            "{quarantined:?}"
        );
    }
    assert!(
        quarantined.iter().any(|q| q.starts_with("image-index-")),
        "{quarantined:?}"
    );
    // ANCHOR_END: quarantine_checks
    // Reported: in info's warnings, as events, and on the log.
    let warnings = daemon.client.info().unwrap().warnings.join("\n");
    for id in [&truncated, &empty_state] {
        assert!(warnings.contains(id.as_str()), "{warnings}");
    }
    assert!(warnings.contains("image index"), "{warnings}");
    assert!(
        !warnings.contains(&dir.display().to_string()),
        "no host paths: {warnings}"
    );
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let events = daemon
        .client
        .raw("GET", &format!("/events?since=0&until={until}"), None)
        .unwrap();
    let events = String::from_utf8_lossy(&events.body);
    assert_eq!(events.matches("\"quarantine\"").count(), 3, "{events}");
    assert!(daemon.log().contains(&truncated), "{}", daemon.log());
    // The rebuilt index has busybox (untagged): it runs by id, the good
    // container starts, and a new one can be made.
    let images = daemon.ok(&["images", "-q"]);
    let image = images.trim();
    assert!(!image.is_empty(), "the index was rebuilt from the store");
    daemon.ok(&["start", "-a", &good]);
    assert_eq!(daemon.ok(&["run", "--rm", image, "echo", "ok"]), "ok\n");
}

/// An image of two layers: a large first one and a second one that is
/// refused (a hardlink to an entry the layer does not have), so a load
/// fails after the first layer was stored and unpacked.
fn failing_archive(daemon: &Daemon, big: usize) -> PathBuf {
    let spec = ImageSpec {
        layers: vec![
            LayerSpec::new(
                Compression::None,
                vec![Entry::file("big", vec![b'x'; big], 0o644)],
            ),
            LayerSpec::new(
                Compression::None,
                vec![Entry::hardlink("link", "not-in-this-layer")],
            ),
        ],
        cmd: vec!["sh".into()],
        ..ImageSpec::default()
    };
    let path = daemon.scratch().join(format!("failing-{big}.tar"));
    spec.write_docker_save(&path, "failing:latest");
    path
}

#[test]
fn failed_and_killed_loads_leave_the_store_clean() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let root = daemon.root();
    let clean = store_files(&root);

    // A load refused half-way removes what it stored.
    let refused = failing_archive(&daemon, 1 << 20);
    let out = daemon.run(&["load", "-i", refused.to_str().unwrap()]);
    assert!(!out.status.success(), "the load must fail");
    assert_eq!(store_files(&root), clean, "after a refused load");

    // A daemon killed in the middle of a load, and temporaries of every
    // kind, are collected at the next start.
    let big = failing_archive(&daemon, 96 << 20);
    let mut load = daemon
        .minidock_std()
        .args(["load", "-i", big.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the load");
    // Wait for the exact moment: the layer is being unpacked.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let unpacking = store_files(&root).iter().any(|f| f.contains(".tmp-"));
        if unpacking {
            break;
        }
        assert!(Instant::now() < deadline, "the load never began to unpack");
        assert!(
            load.try_wait().unwrap().is_none(),
            "the load ended before it unpacked"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let (dir, leaks) = daemon.kill9();
    load.wait().ok();
    let leftovers = store_files(&dir.join("root"));
    assert_ne!(leftovers, clean, "the kill should leave something behind");
    let root = dir.join("root");
    let orphan = format!("{:064x}", 0xfeedu32);
    std::fs::write(
        root.join("ingest").join(format!("{orphan}.partial")),
        b"half",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("layers").join(format!("{orphan}.tmp-x1/usr"))).unwrap();
    std::fs::write(root.join("blobs/sha256").join(&orphan), b"nobody's").unwrap();
    std::fs::create_dir_all(root.join("layers").join(&orphan)).unwrap();

    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    assert_eq!(store_files(&root), clean, "log:\n{}", daemon.log());
    assert_eq!(daemon.ok(&["run", "--rm", "busybox", "echo", "ok"]), "ok\n");

    // Prune collects them too, while the daemon runs.
    std::fs::write(
        root.join("ingest").join(format!("{orphan}.partial")),
        b"half",
    )
    .unwrap();
    std::fs::write(root.join("blobs/sha256").join(&orphan), b"nobody's").unwrap();
    daemon.ok(&["image", "prune", "-f"]);
    assert_eq!(store_files(&root), clean);
}

#[test]
fn logs_stream_with_bounded_memory() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    // About 400 000 lines of 100 bytes: a 60 MB json-file log.
    let id = daemon
        .ok(&[
            "run",
            "-d",
            "busybox",
            "sh",
            "-c",
            "yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456 | head -n 400000; echo last-line",
        ])
        .trim()
        .to_string();
    daemon
        .client
        .container_wait(&id, WaitCondition::NotRunning)
        .expect("wait");
    let log = daemon
        .root()
        .join("containers")
        .join(&id)
        .join(format!("{id}-json.log"));
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size > 50 << 20, "the log is {size} bytes");

    let before = peak_rss_kib(daemon.pid());
    // --tail reads from the end.
    assert_eq!(daemon.ok(&["logs", "--tail", "1", &id]), "last-line\n");
    let two = daemon.ok(&["logs", "--tail", "2", &id]);
    assert!(
        two.starts_with("0123456789") && two.ends_with("\nlast-line\n"),
        "{two}"
    );
    // --since the last line's time gives the last line(s) only.
    let stamped = daemon.ok(&["logs", "-t", "--tail", "1", &id]);
    let time = stamped.split(' ').next().unwrap();
    let since = daemon
        .client
        .raw(
            "GET",
            &format!("/containers/{id}/logs?stdout=1&since={time}"),
            None,
        )
        .unwrap();
    assert_eq!(since.status, 200);
    assert!(
        since.body.ends_with(b"last-line\n") && since.body.len() < 1000 * 109,
        "{} bytes",
        since.body.len()
    );
    // Four whole reads at once.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            daemon
                .minidock_std()
                .args(["logs", &id])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for reader in readers {
        let out = reader.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), 400_000 * 98 + "last-line\n".len());
    }
    let growth_mib = peak_rss_kib(daemon.pid()).saturating_sub(before) / 1024;
    eprintln!(
        "daemon peak RSS grew by {growth_mib} MiB for a {} MiB log",
        size >> 20
    );
    assert!(
        growth_mib < 32,
        "the daemon's peak RSS grew by {growth_mib} MiB"
    );
    daemon.ok(&["rm", &id]);
}

/// A root file system tar as debootstrap makes it: busybox plus `/dev`
/// with the character devices of a minimal Debian root, and `extra`.
fn rootfs_with_devices(daemon: &Daemon, name: &str, extra: &[(&str, u32, u32)]) -> PathBuf {
    let rootfs = daemon.dir.join(format!("{name}-rootfs"));
    minidock_testkit::busybox_rootfs(&rootfs);
    let path = daemon.dir.join(format!("{name}.tar"));
    let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", &rootfs).unwrap();
    let devices = [
        ("dev/null", 1, 3),
        ("dev/zero", 1, 5),
        ("dev/full", 1, 7),
        ("dev/random", 1, 8),
        ("dev/urandom", 1, 9),
        ("dev/tty", 5, 0),
        ("dev/console", 5, 1),
        ("dev/ptmx", 5, 2),
    ];
    for (path, major, minor) in devices.iter().chain(extra) {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Char);
        header.set_path(path).unwrap();
        header.set_mode(0o666);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(1_700_000_000);
        header.set_size(0);
        header.set_device_major(*major).unwrap();
        header.set_device_minor(*minor).unwrap();
        header.set_cksum();
        builder.append(&header, std::io::empty()).unwrap();
    }
    builder.into_inner().unwrap();
    path
}

#[test]
fn a_root_file_system_with_device_nodes_imports_and_runs() {
    // dockerd imports a debootstrap root whole; its /dev nodes are never
    // opened: the runtime mounts its own /dev over the image's, and the
    // root file system is mounted nodev.
    let daemon = Daemon::start();
    let tar = rootfs_with_devices(&daemon, "debootstrap", &[]);
    let id = daemon.ok(&["import", tar.to_str().unwrap(), "debian-like:1"]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let out = daemon.ok(&[
        "run",
        "--rm",
        "debian-like:1",
        "sh",
        "-c",
        "echo discarded > /dev/null && head -c 4 /dev/zero | wc -c && ls /dev/full",
    ]);
    assert_eq!(out, "4\n/dev/full\n");
    // What is really dangerous stays refused: /dev/mem, and block devices.
    for (name, extra) in [("mem", ("dev/mem", 1, 1)), ("kmsg", ("dev/kmsg", 1, 11))] {
        let tar = rootfs_with_devices(&daemon, name, &[extra]);
        let out = daemon.run(&["import", tar.to_str().unwrap(), &format!("{name}:1")]);
        let err = common::stderr(&out);
        assert!(!out.status.success(), "{name} imported");
        assert!(err.contains(extra.0), "{err}");
    }
}

#[test]
fn errors_name_the_container_not_host_paths_and_old_tombstones_go() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = daemon.ok(&["create", "busybox", "true"]).trim().to_string();
    // A state file damaged while the daemon runs: the error names the
    // container, not where the daemon keeps it.
    let state = daemon
        .root()
        .join("containers")
        .join(&id)
        .join("state.json");
    let saved = std::fs::read(&state).unwrap();
    std::fs::write(&state, b"{").unwrap();
    let r = daemon
        .client
        .raw("GET", &format!("/containers/{id}/json"), None)
        .unwrap();
    let text = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 500, "{text}");
    assert!(text.contains(&format!("container {}", &id[..12])), "{text}");
    assert!(!text.contains(&daemon.dir.display().to_string()), "{text}");
    std::fs::write(&state, saved).unwrap();

    // A tombstone of an auto-removed container, an hour old, is swept when
    // the daemon starts (new ones are kept for waiters).
    let removed = daemon.dir.join("run/removed");
    std::fs::create_dir_all(&removed).unwrap();
    let old = removed.join(format!("{:064x}.json", 7));
    std::fs::write(&old, b"{}").unwrap();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let fresh = removed.join(format!("{:064x}.json", 8));
    std::fs::write(&fresh, b"{}").unwrap();
    let (dir, leaks) = daemon.kill9();
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    assert!(!old.exists(), "the old tombstone is swept at start");
    assert!(fresh.exists(), "a fresh one is kept");
    daemon.ok(&["rm", &id]);
}

/// The container's `RestartCount` and whether it runs.
fn restarts(daemon: &Daemon, id: &str) -> (i64, bool) {
    let inspect = daemon.client.container_inspect(id).expect("inspect");
    (inspect.restart_count, inspect.state.running)
}

/// Unix seconds of an RFC 3339 time as inspect writes it
/// (`2026-12-03T17:25:09.167244942Z`, always UTC): the date counts too, so
/// that a run across midnight measures its gaps right.
fn unix_seconds(rfc3339: &str) -> f64 {
    let (date, time) = rfc3339.split_once('T').expect("a date and a time");
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().expect("a number"));
    let (y, m, d) = (
        ymd.next().unwrap(),
        ymd.next().unwrap(),
        ymd.next().unwrap(),
    );
    // Days from 1970-01-01 to the civil date (Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut hms = time
        .trim_end_matches('Z')
        .split(':')
        .map(|p| p.parse::<f64>().expect("a number"));
    let (h, min, s) = (
        hms.next().unwrap(),
        hms.next().unwrap(),
        hms.next().unwrap(),
    );
    days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s
}

#[test]
fn unix_seconds_reads_inspect_times() {
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), 0.0);
    // `date -u -d 2026-12-03T17:25:09Z +%s`
    assert_eq!(unix_seconds("2026-12-03T17:25:09Z"), 1_796_318_709.0);
    assert_eq!(
        unix_seconds("2027-01-01T00:00:00.5Z") - unix_seconds("2026-12-31T23:59:59.75Z"),
        0.75
    );
}

#[test]
fn restart_back_off_doubles_from_100_ms() {
    // Docker's rule: 100 ms before the first restart, twice as long before
    // each next one (minidock stops doubling at 1.6 s, see shim/mod.rs).
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = daemon.ok(&[
        "run",
        "-d",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        // Each run lasts half a second, so that its start time stays on
        // show long enough to be seen however slow each inspect is (a run
        // of `exit 3` alone showed it for only the first 100 ms wait).
        "sleep 0.5; exit 3",
    ]);
    let id = id.trim();
    // The start time of each run, by its restart count. The count goes up
    // at the end of the wait, just before the run starts: a start time is
    // the run's the first time it is seen, with the count of that moment.
    let mut started = std::collections::BTreeMap::new();
    let mut seen = BTreeSet::new();
    common::eventually(Duration::from_secs(60), "five restarts", || {
        let inspect = daemon.client.container_inspect(id).expect("inspect");
        if seen.insert(inspect.state.started_at.clone()) {
            let at = unix_seconds(&inspect.state.started_at);
            started.insert(inspect.restart_count, at);
        }
        started.contains_key(&5)
    });
    daemon.ok(&["stop", id]);
    let mut gaps = Vec::new();
    for k in 0..5 {
        if let (Some(a), Some(b)) = (started.get(&k), started.get(&(k + 1))) {
            // The run's half second, then the wait before the next.
            let wait = 0.5 + 0.1 * f64::from(1 << k);
            assert!(
                b - a >= wait,
                "run {k} to {}: {:.3} s < {wait} s",
                k + 1,
                b - a
            );
            gaps.push(b - a);
        }
    }
    assert!(gaps.len() >= 4, "missed too many runs: {started:?}");
    assert!(
        gaps.last().unwrap() - gaps[0] > 0.5,
        "the waits grow: {gaps:?}"
    );
}

#[test]
fn a_manual_stop_or_rm_ends_a_restart_policy() {
    // Docker's rule: a manual stop ends restarts until the next start;
    // wait returns when the container stops; rm -f kills and removes.
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = daemon
        .ok(&[
            "run",
            "-d",
            "--restart",
            "always",
            "busybox",
            "sh",
            "-c",
            "exit 3",
        ])
        .trim()
        .to_string();
    common::eventually(Duration::from_secs(30), "two restarts", || {
        restarts(&daemon, &id).0 >= 2
    });
    let waiter = {
        let client = daemon.client.clone();
        let id = id.clone();
        std::thread::spawn(move || client.container_wait(&id, WaitCondition::NotRunning))
    };
    daemon.ok(&["stop", &id]);
    let waited = waiter.join().unwrap().expect("wait returns after the stop");
    // 3 when the stop came during a back-off, 143 when during a run.
    assert!([3, 143].contains(&waited.status_code), "{waited:?}");
    let (count, running) = restarts(&daemon, &id);
    assert!(!running);
    // The longest back-off is 1.6 s: no restart comes after twice that.
    std::thread::sleep(Duration::from_millis(3200));
    assert_eq!(
        restarts(&daemon, &id),
        (count, false),
        "restarted after a manual stop"
    );
    // The next start starts the policy again.
    daemon.ok(&["start", &id]);
    common::eventually(Duration::from_secs(30), "a restart after start", || {
        restarts(&daemon, &id).0 > count
    });
    // rm -f in the middle of the loop kills and removes; prune copes with
    // a looping container too.
    let other = daemon
        .ok(&[
            "run",
            "-d",
            "--restart",
            "on-failure",
            "busybox",
            "sh",
            "-c",
            "exit 1",
        ])
        .trim()
        .to_string();
    common::eventually(Duration::from_secs(30), "a restart", || {
        restarts(&daemon, &other).0 >= 1
    });
    daemon.ok(&["container", "prune", "-f"]);
    // (prune may have taken either, between two of its runs)
    for c in [&id, &other] {
        let out = daemon.run(&["rm", "-f", c]);
        assert!(
            out.status.success() || common::stderr(&out).contains("No such container"),
            "rm -f {c}: {}",
            common::stderr(&out)
        );
    }
    assert_eq!(daemon.ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn a_failed_pull_leaves_the_store_as_it_was() {
    // An image of two layers whose second layer the registry has lost: the
    // pull fails after the manifest, the config and the first layer were
    // stored. Nothing of it may stay (the issue: a failed pull filled the
    // disk and kept it full through restarts and prunes).
    let registry = minidock_testkit::Registry::start();
    let layout = tempfile::tempdir().unwrap();
    let spec = ImageSpec {
        layers: vec![
            LayerSpec::new(
                Compression::Gzip,
                vec![Entry::file("first", vec![b'1'; 4 << 20], 0o644)],
            ),
            LayerSpec::new(
                Compression::Gzip,
                vec![Entry::file("second", b"2".to_vec(), 0o644)],
            ),
        ],
        cmd: vec!["sh".into()],
        ..ImageSpec::default()
    };
    let image = spec.write_oci_layout(layout.path(), "latest");
    let repo = minidock_testkit::random_name("lost");
    registry.push_oci(layout.path(), "latest", &repo, "latest");
    let lost = image.layer_digests[1]
        .trim_start_matches("sha256:")
        .to_string();
    let blob = registry
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&lost[..2])
        .join(&lost)
        .join("data");
    std::fs::remove_file(&blob).expect("remove the layer from the registry's storage");

    let daemon = Daemon::start();
    daemon.load_busybox();
    let root = daemon.root();
    let clean = store_files(&root);
    let pulled = daemon
        .client
        .image_pull(&format!("{}/{repo}", registry.addr()), Some("latest"), None)
        .and_then(|p| p.finish(|_| {}));
    assert!(pulled.is_err(), "the pull must fail");
    assert_eq!(store_files(&root), clean, "after a failed pull");
}
