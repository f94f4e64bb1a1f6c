//! Where the daemon listens, and how the socket is made safe before anyone
//! can connect.
//!
//! Whoever can write to the daemon's socket can start a container that
//! mounts the host's `/`: access to the socket is root access. So the socket
//! must never exist, even for a moment, with a mode wider than `0660`. A
//! socket's mode cannot be set before `bind` creates it, so the daemon binds
//! under a temporary name that no client knows, sets mode and group there,
//! and only then renames it into place.

use nix::unistd::{chown, Gid, Group};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The socket mode: owner and group may connect, others may not.
pub const SOCKET_MODE: u32 = 0o660;

/// The default socket.
pub const DEFAULT_SOCKET: &str = "/run/minidock/minidock.sock";

// ANCHOR: host_parse
/// A `--host` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// `unix:///path/to.sock`
    Unix(PathBuf),
    /// `tcp://127.0.0.1:2376`: served with mutual TLS (see [`crate::tls`]);
    /// without TLS only on a request that names the risk, since the port is
    /// then root for anyone who can reach it.
    Tcp(String),
}

impl FromStr for Host {
    type Err = ListenError;

    fn from_str(text: &str) -> Result<Host, ListenError> {
        if let Some(path) = text.strip_prefix("unix://") {
            if path.is_empty() || !path.starts_with('/') {
                return Err(ListenError::BadHost(format!(
                    "{text}: a unix socket needs an absolute path, e.g. unix://{DEFAULT_SOCKET}"
                )));
            }
            return Ok(Host::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = text.strip_prefix("tcp://") {
            if addr.is_empty() {
                return Err(ListenError::BadHost(format!(
                    "{text}: expected tcp://HOST:PORT"
                )));
            }
            return Ok(Host::Tcp(addr.to_string()));
        }
        Err(ListenError::BadHost(format!(
            "{text}: expected unix:///path/to.sock or tcp://HOST:PORT"
        )))
    }
}
// ANCHOR_END: host_parse

// ANCHOR: listen_error
/// What can go wrong while setting up a listener.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A `--host` value that is neither `unix://` nor `tcp://`.
    #[error("invalid --host {0}")]
    BadHost(String),
    /// `--group` names no group.
    #[error("group {0:?} does not exist: create it (groupadd {0}) or pass an existing --group")]
    NoSuchGroup(String),
    /// Another daemon answers on the socket.
    #[error("another daemon is already listening on {0}: stop it first, or pass another --host")]
    InUse(PathBuf),
    /// Something that is not a socket sits where the socket should be.
    #[error(
        "{0} exists and is not a socket: refusing to replace it; remove it or pass another --host"
    )]
    NotASocket(PathBuf),
    /// The path does not fit in `sockaddr_un` (108 bytes).
    #[error("socket path {0} is too long for a unix socket (at most 107 bytes): choose a shorter --host")]
    PathTooLong(PathBuf),
    /// A filesystem or socket call failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}
// ANCHOR_END: listen_error

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ListenError {
    let path = path.to_path_buf();
    move |source| ListenError::Io {
        action,
        path,
        source,
    }
}

/// Resolves `--group` (a name or a number).
pub fn resolve_group(group: &str) -> Result<Gid, ListenError> {
    if let Ok(number) = group.parse::<u32>() {
        return Ok(Gid::from_raw(number));
    }
    match Group::from_name(group) {
        Ok(Some(g)) => Ok(g.gid),
        _ => Err(ListenError::NoSuchGroup(group.to_string())),
    }
}

// ANCHOR: stale_socket
/// Binds a unix socket at `path` with mode 0660 (and `group`, when given)
/// in place before the first client can reach it.
///
/// A stale socket left by a daemon that was killed is replaced; a socket on
/// which a daemon still answers is not.
pub fn bind_unix(path: &Path, group: Option<Gid>) -> Result<UnixListener, ListenError> {
    if path.as_os_str().len() > 107 {
        return Err(ListenError::PathTooLong(path.to_path_buf()));
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).map_err(io("create the socket's directory", parent))?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(ListenError::InUse(path.to_path_buf()));
            }
            std::fs::remove_file(path).map_err(io("remove the stale socket", path))?;
        }
        Ok(_) => return Err(ListenError::NotASocket(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("look at", path)(e)),
    }
    // ANCHOR_END: stale_socket
    // ANCHOR: bind_socket
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = parent.join(format!(".{file_name}.{}.tmp", std::process::id()));
    match std::fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove the leftover", &temporary)(e)),
    }
    let listener = UnixListener::bind(&temporary).map_err(io("bind", &temporary))?;
    let secured = (|| {
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(io("set the mode of", &temporary))?;
        if let Some(gid) = group {
            chown(&temporary, None, Some(gid))
                .map_err(|e| io("set the group of", &temporary)(std::io::Error::from(e)))?;
        }
        std::fs::rename(&temporary, path).map_err(io("move the socket into place at", path))
    })();
    // ANCHOR_END: bind_socket
    if let Err(err) = secured {
        std::fs::remove_file(&temporary).ok();
        return Err(err);
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn hosts_parse() {
        assert_eq!(
            "unix:///run/x.sock".parse::<Host>().unwrap(),
            Host::Unix("/run/x.sock".into())
        );
        assert_eq!(
            "tcp://127.0.0.1:2375".parse::<Host>().unwrap(),
            Host::Tcp("127.0.0.1:2375".into())
        );
        assert!("unix://relative".parse::<Host>().is_err());
        assert!("http://x".parse::<Host>().is_err());
    }

    #[test]
    fn socket_is_0660_and_a_live_one_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        let gid = nix::unistd::getgid();
        let listener = bind_unix(&path, Some(gid)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, SOCKET_MODE);
        assert_eq!(meta.gid(), gid.as_raw());
        assert!(UnixStream::connect(&path).is_ok());
        assert!(matches!(bind_unix(&path, None), Err(ListenError::InUse(_))));
        drop(listener);
        // Stale now: replaced.
        let _again = bind_unix(&path, None).unwrap();
        assert!(UnixStream::connect(&path).is_ok());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("d.sock")]);
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(
            bind_unix(&file, None),
            Err(ListenError::NotASocket(_))
        ));
    }
}
