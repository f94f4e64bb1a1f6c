//! The machine the daemon runs on, as `/info` and `/version` report it.

use super::proc;
use crate::service::{HostFacts, HostService};

/// Reads the facts of this machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcHost;

impl HostService for ProcHost {
    fn facts(&self) -> HostFacts {
        let (kernel_version, architecture) = match nix::sys::utsname::uname() {
            Ok(u) => (
                u.release().to_string_lossy().into_owned(),
                u.machine().to_string_lossy().into_owned(),
            ),
            Err(_) => (String::new(), String::new()),
        };
        let unified = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        HostFacts {
            kernel_version,
            architecture,
            operating_system: operating_system(),
            mem_total: minidock_lifecycle::proc::total_memory() as i64,
            ncpu: std::thread::available_parallelism()
                .map(|n| n.get() as i64)
                .unwrap_or(1),
            cgroup_version: if unified { "2" } else { "1" }.to_string(),
            hostname: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            open_fds: proc::open_fds(),
        }
    }
}

/// `PRETTY_NAME` of /etc/os-release.
fn operating_system() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "Linux".to_string())
}
