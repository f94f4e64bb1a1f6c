//! Opt-in step of [`spawn`](super): the id maps of a container with a
//! user namespace.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::error::Error;
use crate::spec::{IdMap, ProcessSpec, UserNamespace};

// ANCHOR: id_map_handshake
/// Opt-in step, with a user namespace: the id-map handshake. Only a
/// process outside the new user namespace may write its id maps, so the
/// helper reports [`UserNamespaceCreated`] and waits; the engine writes
/// `/proc/PID/uid_map` and `gid_map`, then sends the go byte on the spec
/// pipe, which stays open for it.
///
/// [`UserNamespaceCreated`]: crate::channel::Report::UserNamespaceCreated
pub(super) struct IdMapHandshake<'a> {
    maps: &'a UserNamespace,
    /// The spec pipe, until the go byte is sent.
    go: Option<File>,
    /// Why the maps could not be written, to report instead of the
    /// broken channel that follows.
    failure: Option<Error>,
}

impl<'a> IdMapHandshake<'a> {
    /// `None` without a user namespace, or when the spec did not even
    /// reach the helper: the spec pipe then closes at once.
    pub(super) fn new(spec: &'a ProcessSpec, spec_pipe: File, wrote: bool) -> Option<Self> {
        let maps = spec.namespaces.user.as_ref().filter(|_| wrote)?;
        Some(IdMapHandshake {
            maps,
            go: Some(spec_pipe),
            failure: None,
        })
    }

    /// The helper made its namespaces as host `pid`: write its maps, then go.
    pub(super) fn created(&mut self, pid: i32) -> std::io::Result<()> {
        let Some(mut go) = self.go.take() else {
            return Ok(());
        };
        for (file, map) in [
            ("uid_map", &self.maps.uid_map),
            ("gid_map", &self.maps.gid_map),
        ] {
            if let Err(e) = write_id_map(pid, file, map) {
                let error = std::io::Error::other(e.to_string());
                self.failure = Some(e);
                return Err(error);
            }
        }
        go.write_all(b"g")
    }

    /// Ends the handshake (the spec pipe closes, if the go byte was never
    /// sent) and tells why the maps could not be written, if they could
    /// not: a better story than the broken channel that follows.
    pub(super) fn finish(self) -> Option<Error> {
        self.failure
    }
}

/// Writes `/proc/PID/uid_map` (or `gid_map`): one line per range, all in a
/// single `write`, as the kernel requires.
fn write_id_map(pid: i32, file: &str, map: &[IdMap]) -> Result<(), Error> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    let text: String = map
        .iter()
        .map(|m| format!("{} {} {}\n", m.container, m.host, m.size))
        .collect();
    std::fs::write(&path, text).map_err(|source| Error::IdMap { path, source })
}
// ANCHOR_END: id_map_handshake
