//! What the shim tells the engine that started it: one JSON line on its
//! stdout per event ([`ShimReport`]), until the first start is over and the
//! pipe is pointed at `/dev/null`.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// What the shim tells the engine on its stdout, one JSON line each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShimReport {
    /// The attach socket is ready (with `--wait-attach`): connect now.
    /// Nothing of the container has been read or started yet, so an
    /// engine that gives up on the start kills the shim by this pid.
    Listening {
        /// The shim's own pid.
        pid: i32,
    },
    /// The container runs; PID 1 has this host pid.
    Started {
        /// PID 1's host pid.
        pid: i32,
    },
    /// The container could not be started: chapter 01's reason, and the
    /// exit code Docker records for it ([`start_exit_code`]).
    Failed {
        /// Why, as chapter 01 said it.
        error: String,
        /// 127, 126, or [`EXIT_START_FAILED`].
        exit_code: i32,
    },
}

/// The exit code recorded for a start that failed for a reason other than
/// the command itself (Docker's "unknown").
pub const EXIT_START_FAILED: i32 = 128;

/// Docker's exit code for a failed start: 127 when the command was not
/// found, 126 when it could not be invoked, [`EXIT_START_FAILED`] else.
pub fn start_exit_code(error: &minidock_namespaces::Error) -> i32 {
    use minidock_namespaces::error::{EXIT_CANNOT_INVOKE, EXIT_NOT_FOUND};
    match error {
        minidock_namespaces::Error::Setup(setup) => match setup.exit_code() {
            code @ (EXIT_NOT_FOUND | EXIT_CANNOT_INVOKE) => code,
            _ => EXIT_START_FAILED,
        },
        _ => EXIT_START_FAILED,
    }
}

/// The report for a failed start: the reason alone (the engine adds
/// "cannot start container ID"), and its exit code.
pub(super) fn failed(error: &Error) -> ShimReport {
    match error {
        Error::Start {
            reason, exit_code, ..
        } => ShimReport::Failed {
            error: reason.clone(),
            exit_code: *exit_code,
        },
        other => ShimReport::Failed {
            error: other.to_string(),
            exit_code: EXIT_START_FAILED,
        },
    }
}

/// Writes a report to stdout, the engine's pipe.
pub(super) fn report(r: &ShimReport) {
    let mut line = serde_json::to_vec(r).unwrap_or_default();
    line.push(b'\n');
    let mut out = io::stdout().lock();
    // If the engine went away, nobody is left to tell.
    out.write_all(&line).and_then(|()| out.flush()).ok();
}

/// Points stdout at `/dev/null`: the engine reads end-of-file and knows
/// the start is over; later writes go nowhere instead of failing.
pub(super) fn close_report_pipe() -> Result<()> {
    let null = File::options()
        .write(true)
        .open("/dev/null")
        .ctx("open", "/dev/null")?;
    nix::unistd::dup2(null.as_raw_fd(), 1).map_err(|e| Error::Io {
        op: "dup2 /dev/null onto stdout",
        path: "/dev/null".into(),
        source: e.into(),
    })?;
    Ok(())
}
