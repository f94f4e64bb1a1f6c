//! `--sysctl`: kernel parameters of the container's own namespaces.
//!
//! Most of `/proc/sys` is global: writing `vm.swappiness` in a container
//! would change the host. A few parameters belong to a namespace, and each
//! container has its own copy: the System V IPC limits and POSIX message
//! queues (IPC namespace) and everything under `net.` (network namespace).
//! Those are the ones Docker accepts; PID 1 writes them after mounting
//! `/proc` and before `/proc/sys` is made read-only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::SetupError;

/// The IPC namespace's parameters by full name (Docker's list).
const IPC: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace a parameter belongs to (`"ipc"` or `"net"`), or `None`
/// for a global one, which a container must not set.
pub fn namespace_of(key: &str) -> Option<&'static str> {
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if key.starts_with("net.") {
        Some("net")
    } else {
        None
    }
}

/// `/proc/sys/…` for a parameter, refusing names that would leave it.
pub fn path_of(key: &str) -> Result<PathBuf, SetupError> {
    let bad = key.is_empty()
        || key.contains('/')
        || key
            .split('.')
            .any(|part| part.is_empty() || part == ".." || part == ".");
    if bad {
        return Err(SetupError::refused(
            "sysctl",
            Some(key.to_string()),
            "not a parameter name",
        ));
    }
    Ok(PathBuf::from("/proc/sys").join(key.replace('.', "/")))
}

/// Writes each parameter. Run in PID 1, inside the container's `/proc`.
pub fn apply(sysctls: &BTreeMap<String, String>) -> Result<(), SetupError> {
    for (key, value) in sysctls {
        if namespace_of(key).is_none() {
            return Err(SetupError::refused(
                "sysctl",
                Some(key.clone()),
                "not a namespaced parameter: it would change the host",
            ));
        }
        let path = path_of(key)?;
        std::fs::write(&path, value).map_err(|e| {
            SetupError::refused(
                "sysctl",
                Some(format!("{key}={value}")),
                format!("write {}: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_namespaced_parameters_have_a_namespace() {
        assert_eq!(namespace_of("kernel.shmmax"), Some("ipc"));
        assert_eq!(namespace_of("fs.mqueue.msg_max"), Some("ipc"));
        assert_eq!(namespace_of("net.ipv4.ip_forward"), Some("net"));
        assert_eq!(namespace_of("vm.swappiness"), None);
        assert_eq!(namespace_of("kernel.hostname"), None);
        assert_eq!(
            path_of("net.ipv4.ip_forward").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        for bad in ["", "net/../x", "net..x", "net.ipv4."] {
            assert!(path_of(bad).is_err(), "{bad:?}");
        }
    }
}
