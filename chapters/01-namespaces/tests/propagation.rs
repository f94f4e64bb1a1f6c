//! Bind propagation: a mount the host makes under a bind's source after
//! the container started reaches the container only when the bind asked
//! for it (`rslave`, `shared`); `rprivate` keeps it out; a linked bind over
//! a source that sends nothing is refused before anything starts.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{run, Fixture};
use minidock_namespaces::{BindMount, Propagation};
use minidock_testkit::LeakCheck;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// Mounts the test made on the host, unmounted (last first) when dropped,
/// even when the test fails.
struct HostMounts(Vec<PathBuf>);

impl HostMounts {
    /// `dir` bind-mounted onto itself (a mount of its own), then given
    /// `mode`: the test decides what the source's mount sends.
    fn own_mount(&mut self, dir: &Path, mode: MsFlags) {
        std::fs::create_dir_all(dir).unwrap();
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).unwrap();
        self.0.push(dir.to_path_buf());
        mount(None::<&str>, dir, None::<&str>, mode, None::<&str>).unwrap();
    }

    fn tmpfs(&mut self, dir: &Path) {
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=64k"),
        )
        .unwrap();
        self.0.push(dir.to_path_buf());
    }
}

impl Drop for HostMounts {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            if let Err(e) = umount2(dir, MntFlags::MNT_DETACH) {
                eprintln!("cannot unmount {}: {e}", dir.display());
            }
        }
    }
}

fn bind(source: &Path, destination: &str, propagation: Propagation) -> BindMount {
    BindMount {
        source: source.to_path_buf(),
        destination: destination.into(),
        read_only: false,
        propagation,
    }
}

/// Waits for `path` to exist, up to 20 s, or until the container's thread
/// ends without making it (a container that failed to start never will:
/// waiting out the 20 s would only slow a learner's check).
fn wait_for<T>(path: &Path, container: &std::thread::JoinHandle<T>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            !container.is_finished(),
            "the container ended before {} appeared",
            path.display()
        );
        assert!(
            Instant::now() < deadline,
            "{} did not appear in 20 s",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_host_mount_reaches_linked_binds_and_not_private_ones() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    let source = fx.dir.path().join("source");
    let mut mounts = HostMounts(Vec::new());
    mounts.own_mount(&source, MsFlags::MS_SHARED);
    std::fs::create_dir(source.join("sub")).unwrap();

    // The container says when its binds exist, then waits for the host's
    // mount (a file written after it) and looks under each bind.
    let script = "touch /slave/started; i=0; \
                  while [ ! -e /slave/go ]; do i=$((i+1)); [ $i -gt 400 ] && exit 9; sleep 0.05; done; \
                  for b in slave shared private; do cat /$b/sub/ready 2>/dev/null || echo $b-absent; done";
    let spec = fx
        .sh(script)
        .mount(bind(&source, "/slave", Propagation::Rslave))
        .mount(bind(&source, "/shared", Propagation::Shared))
        .mount(bind(&source, "/private", Propagation::Rprivate));
    let container = std::thread::spawn(move || run(spec));

    wait_for(&source.join("started"), &container);
    mounts.tmpfs(&source.join("sub"));
    std::fs::write(source.join("sub/ready"), "mounted-later\n").unwrap();
    std::fs::write(source.join("go"), "").unwrap();
    let out = container.join().unwrap();
    assert_eq!(
        (out.code, String::from_utf8_lossy(&out.stdout).into_owned()),
        (
            0,
            "mounted-later\nmounted-later\nprivate-absent\n".to_string()
        ),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(mounts);
    leaks.finish();
}

#[test]
fn a_linked_bind_over_a_source_that_sends_nothing_is_refused() {
    let fx = Fixture::new();
    let source = fx.dir.path().join("private-source");
    let mut mounts = HostMounts(Vec::new());
    mounts.own_mount(&source, MsFlags::MS_PRIVATE);
    let refused = |propagation| {
        fx.sh("echo started")
            .mount(bind(&source, "/data", propagation))
            .spawn(&common::init())
            .err()
            .unwrap_or_else(|| panic!("{propagation} over a private mount started"))
            .to_string()
    };
    let at = source.display();
    assert_eq!(
        refused(Propagation::Shared),
        format!(
            "invalid container spec: path {at} is mounted on {at} but it is not a shared mount"
        )
    );
    assert_eq!(
        refused(Propagation::Rslave),
        format!(
            "invalid container spec: path {at} is mounted on {at} but it is not a shared or slave mount"
        )
    );
    // rprivate asks nothing of the source.
    let out = run(fx
        .sh("echo started")
        .mount(bind(&source, "/data", Propagation::Rprivate)));
    assert_eq!(out.stdout, b"started\n");
}
