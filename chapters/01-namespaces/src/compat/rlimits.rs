//! `--ulimit`: resource limits (`setrlimit(2)`) for the container's
//! processes.
//!
//! Limits are inherited across `fork` and `execve`, so setting them in PID 1
//! just before the command runs (and in each `exec`'d process) covers the
//! whole container. Lowering a limit is always allowed; raising a *hard*
//! limit above the current one needs `CAP_SYS_RESOURCE`, which the engine
//! may not have (on this project's CI host even root lacks it): such a
//! request fails the start and says why, rather than being cut down.

use serde::{Deserialize, Serialize};

use crate::error::SetupError;

/// One limit, as Docker's API names it (`{"Name":"nofile","Soft":1024,"Hard":2048}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// `nofile`, `nproc`, `core`, … (without Docker's `RLIMIT_` prefix).
    pub name: String,
    /// What the process gets; it may raise it itself, up to `hard`.
    pub soft: u64,
    /// The ceiling; only a privileged process may raise it (never above this host's own hard limit).
    pub hard: u64,
}

/// The names Docker accepts, with the kernel's resource numbers.
pub const RESOURCES: &[(&str, libc::__rlimit_resource_t)] = &[
    ("core", libc::RLIMIT_CORE),
    ("cpu", libc::RLIMIT_CPU),
    ("data", libc::RLIMIT_DATA),
    ("fsize", libc::RLIMIT_FSIZE),
    ("locks", libc::RLIMIT_LOCKS),
    ("memlock", libc::RLIMIT_MEMLOCK),
    ("msgqueue", libc::RLIMIT_MSGQUEUE),
    ("nice", libc::RLIMIT_NICE),
    ("nofile", libc::RLIMIT_NOFILE),
    ("nproc", libc::RLIMIT_NPROC),
    ("rss", libc::RLIMIT_RSS),
    ("rtprio", libc::RLIMIT_RTPRIO),
    ("rttime", libc::RLIMIT_RTTIME),
    ("sigpending", libc::RLIMIT_SIGPENDING),
    ("stack", libc::RLIMIT_STACK),
    ("as", libc::RLIMIT_AS),
];

/// The kernel's number for a limit's name.
pub fn resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    RESOURCES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

/// Sets each limit on this process.
pub fn apply(limits: &[Rlimit]) -> Result<(), SetupError> {
    for limit in limits {
        let what = || Some(format!("{}={}:{}", limit.name, limit.soft, limit.hard));
        let resource = resource(&limit.name)
            .ok_or_else(|| SetupError::refused("ulimit", what(), "unknown resource"))?;
        let wanted = libc::rlimit {
            rlim_cur: limit.soft,
            rlim_max: limit.hard,
        };
        // SAFETY: setrlimit reads the struct we pass and changes only this
        // process's limits.
        if unsafe { libc::setrlimit(resource, &wanted) } != 0 {
            let errno = nix::errno::Errno::last();
            if errno == nix::errno::Errno::EPERM {
                let mut now = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                // SAFETY: getrlimit writes into the struct we own.
                unsafe { libc::getrlimit(resource, &mut now) };
                return Err(SetupError::refused(
                    "ulimit",
                    what(),
                    format!(
                        "the hard limit can only be raised with CAP_SYS_RESOURCE, which the \
                         engine lacks; the most it can give is {}",
                        now.rlim_max
                    ),
                ));
            }
            return Err(SetupError::sys("setrlimit", what(), errno));
        }
    }
    Ok(())
}
