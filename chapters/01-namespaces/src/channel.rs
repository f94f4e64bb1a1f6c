// ANCHOR: channel_doc
//! The two pipes between the engine and its init helper.
//!
//! * The **spec pipe** carries the [`crate::ProcessSpec`] as one line of
//!   JSON from the engine to the helper. With a user namespace it later
//!   carries one more byte: "your id maps are written, go on".
//! * The **status pipe** carries [`Report`]s back, one JSON line each: the
//!   container's host PID, or the step that failed. Every copy of its
//!   write end is close-on-exec in the container, so the engine reads
//!   end-of-file exactly when the command has been exec'd (or everything
//!   died). That is how `spawn()` knows the start succeeded — runc's
//!   "exec fifo" does the same job.
//!
//! Neither pipe is the container's stdin: stdin, stdout and stderr pass
//! through untouched. The helper finds the pipes' descriptor numbers in the
//! environment variable [`PIPES_ENV`].

use std::io::{self, BufRead};
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::SetupError;

/// Environment variable naming the helper's pipes: `SPEC_FD,STATUS_FD`.
pub const PIPES_ENV: &str = "_MINIDOCK_INIT_PIPES";

// ANCHOR_END: channel_doc
// ANCHOR: channel_report
/// What the helper tells the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Report {
    /// The helper made its namespaces, user namespace included: write its
    /// id maps (`/proc/PID/uid_map`, `gid_map`), then send the go byte.
    UserNamespaceCreated {
        /// The helper's PID on the host, whose `/proc/PID/uid_map` the engine writes.
        pid: i32,
    },
    /// PID 1 of the container exists; this is its PID on the host.
    ContainerStarted {
        /// PID 1's PID on the host: what the engine signals, waits for, and records.
        pid: i32,
    },
    /// A setup step failed; the container will not run.
    Failed(SetupError),
}

/// Parses `SPEC_FD,STATUS_FD`.
pub fn parse_pipes(value: &str) -> Option<(RawFd, RawFd)> {
    let (a, b) = value.split_once(',')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The helper's end of the status pipe, or -1 once closed. A global,
/// because the panic hook needs it too.
static STATUS_FD: AtomicI32 = AtomicI32::new(-1);

/// Remembers the status pipe for [`report`], and marks it close-on-exec
/// again (it had to cross one exec, into the helper; it must not cross the
/// next one, into the command, or the engine would wait for end-of-file
/// until the container exits).
pub fn set_status_fd(fd: RawFd) {
    // SAFETY: F_SETFD only changes the descriptor's flags; a bad number
    // gives EBADF, and the first report then fails, which is reported.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    STATUS_FD.store(fd, Ordering::SeqCst);
}

/// Closes this process's copy of the status pipe.
pub fn close_status_fd() {
    let fd = STATUS_FD.swap(-1, Ordering::SeqCst);
    if fd >= 0 {
        // Nothing useful can be done if close fails: the pipe end is gone
        // from this process either way (see close(2) on EINTR).
        nix::unistd::close(fd).ok();
    }
}
// ANCHOR_END: channel_report

// ANCHOR: channel_read
/// Sends one report to the engine. Returns false when there is no status
/// pipe (the helper was started by hand) or the write failed.
pub fn report(r: &Report) -> bool {
    let fd = STATUS_FD.load(Ordering::SeqCst);
    if fd < 0 {
        return false;
    }
    let mut line = serde_json::to_vec(r).unwrap_or_default();
    // One write of at most PIPE_BUF bytes is atomic: the helper and PID 1
    // both write here, and their lines must never interleave.
    line.truncate(libc::PIPE_BUF - 1);
    line.push(b'\n');
    // SAFETY: fd stays open while it is in STATUS_FD.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    loop {
        match nix::unistd::write(fd, &line) {
            Ok(n) => return n == line.len(),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

/// Reads reports until end of file, calling `on_report` for each.
pub fn read_reports(
    reader: impl BufRead,
    mut on_report: impl FnMut(Report) -> io::Result<()>,
) -> io::Result<()> {
    for line in reader.lines() {
        let line = line?;
        let report: Report = serde_json::from_str(&line)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e}: {line:?}")))?;
        on_report(report)?;
    }
    Ok(())
}
// ANCHOR_END: channel_read

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_env_round_trip() {
        assert_eq!(parse_pipes("5,7"), Some((5, 7)));
        assert_eq!(parse_pipes("5"), None);
        assert_eq!(parse_pipes("a,7"), None);
    }

    #[test]
    fn reports_are_read_line_by_line() {
        let mut text = Vec::new();
        for r in [
            Report::ContainerStarted { pid: 42 },
            Report::Failed(SetupError::refused("exec", Some("x".into()), "nope")),
        ] {
            text.extend(serde_json::to_vec(&r).unwrap());
            text.push(b'\n');
        }
        let mut seen = Vec::new();
        read_reports(&text[..], |r| {
            seen.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], Report::ContainerStarted { pid: 42 });
    }
}
