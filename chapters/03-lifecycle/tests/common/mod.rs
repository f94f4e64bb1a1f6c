//! The fixture of the container tests: a private engine root, run
//! directory and cgroup parent per test, the busybox image loaded into it,
//! and cleanup by id — also when the test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use minidock_lifecycle::cgroup::CgroupRoot;
use minidock_lifecycle::config::{HostConfig, UserConfig};
use minidock_lifecycle::state::State;
use minidock_lifecycle::{ContainerId, CreateOptions, Runtime, RuntimeConfig};
use minidock_testkit::{busybox_image, random_name, require_root, LeakCheck};

/// How long a test waits for an exact condition before it fails. Generous:
/// CI runs on a busy 2-core machine where a container can take seconds to
/// get its first time slice, and a wait that succeeds returns as soon as its
/// condition holds, so the margin costs nothing when all is well.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub runtime: Runtime,
    /// The image id of busybox in this root.
    pub image: String,
    /// Unique to the test: in the temp dir's name and the cgroup parent.
    pub tag: String,
    leaks: Option<LeakCheck>,
}

/// The shim binary of this crate.
pub fn helper() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_minidock-shim"))
}

pub fn runtime_config(root: &Path, tag: &str) -> RuntimeConfig {
    RuntimeConfig {
        root: root.join("root"),
        run_dir: root.join("run"),
        helper_binary: helper(),
        cgroup_parent: tag.to_string(),
    }
}

pub fn fixture() -> Fixture {
    require_root();
    let tag = random_name("minidock-test-");
    let leaks = LeakCheck::start(&tag);
    let dir = tempfile::Builder::new().prefix(&tag).tempdir().unwrap();
    let runtime = Runtime::new(runtime_config(dir.path(), &tag)).unwrap();
    let oci = busybox_image().write_oci_layout(&dir.path().join("oci"), "latest");
    let loaded = runtime.images().load(&oci.dir).unwrap();
    let image = loaded[0].id.to_string();
    Fixture {
        dir,
        runtime,
        image,
        tag,
        leaks: Some(leaks),
    }
}

impl Fixture {
    /// Creates a busybox container running `args`.
    pub fn create(&self, args: &[&str]) -> ContainerId {
        self.create_with(args, UserConfig::default(), HostConfig::default())
    }

    pub fn create_with(
        &self,
        args: &[&str],
        mut config: UserConfig,
        host_config: HostConfig,
    ) -> ContainerId {
        config.cmd = Some(args.iter().map(|s| s.to_string()).collect());
        self.runtime
            .create(CreateOptions {
                image: self.image.clone(),
                name: None,
                config,
                host_config,
            })
            .unwrap()
    }

    pub fn state(&self, id: &ContainerId) -> State {
        self.runtime.inspect(id).unwrap().1.state
    }

    /// Everything the container's log holds so far, both streams, as text.
    pub fn logs(&self, id: &ContainerId) -> String {
        let mut text = String::new();
        self.runtime
            .logs(id, &minidock_lifecycle::logs::LogOptions::default(), |e| {
                text.push_str(&e.log);
                Ok(())
            })
            .unwrap();
        text
    }

    /// The container's root file system as the host sees it.
    pub fn rootfs(&self, id: &ContainerId) -> PathBuf {
        self.runtime.container_dir(id).join("merged")
    }

    /// Polls `f` until it is true, or panics after `timeout`.
    pub fn until(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Every container of this root, by id: processes, mounts, cgroups.
        if let Ok(all) = self.runtime.containers().list() {
            for (c, _) in all {
                if let Err(e) = self.runtime.remove(&c.id, true) {
                    eprintln!("cleanup of {}: {e}", c.id);
                }
            }
        }
        if let Ok(root) = CgroupRoot::detect() {
            root.remove_parent(&self.tag).ok();
        }
        let leaks = self.leaks.take().expect("leak check");
        if !std::thread::panicking() {
            leaks.finish();
        }
    }
}

/// The `ctr` example, which `cargo test` builds next to the test binaries.
pub fn ctr() -> PathBuf {
    minidock_testkit::example("ctr", "minidock-lifecycle")
}
