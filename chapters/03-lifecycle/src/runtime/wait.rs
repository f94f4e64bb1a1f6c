//! `docker wait`: blocking until a container stops running, exits once
//! more, or is removed — woken by the shim's state writes, not by polling
//! alone.

use super::{Runtime, POLL};
use crate::error::{Error, Result};
use crate::id::ContainerId;
use crate::notify::DirWatch;
use crate::shim;
use crate::state::State;

// ANCHOR: wait_conditions
/// The conditions of `docker wait --condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// Returns at once for a container that does not run.
    NotRunning,
    /// Waits for the next exit, even if the container is not running now.
    NextExit,
    /// Waits until the container is removed.
    Removed,
}

/// What `wait` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code: the process's, or 128 + the signal that killed it.
    pub code: i32,
    /// Whether the kernel's OOM killer killed a process of the container.
    pub oom_killed: bool,
}

impl Runtime {
    /// `docker wait`: blocks until `condition`, returns the exit status.
    pub fn wait(&self, id: &ContainerId, condition: WaitCondition) -> Result<ExitStatus> {
        let exited = |s: &State| match s {
            State::Exited {
                code,
                oom_killed,
                finished_at,
                ..
            } => Some((
                ExitStatus {
                    code: *code,
                    oom_killed: *oom_killed,
                },
                *finished_at,
            )),
            _ => None,
        };
        let gone = |last: Option<ExitStatus>| -> ExitStatus {
            // removed: by `--rm` (its tombstone has the status) or by `rm`
            shim::read_tombstone(&self.config.run_dir, id)
                .and_then(|r| exited(&r.state).map(|(s, _)| s))
                .or(last)
                .unwrap_or(ExitStatus {
                    code: 0,
                    oom_killed: false,
                })
        };
        // ANCHOR_END: wait_conditions
        // ANCHOR: wait_loop
        // Watched before the first look: no change can slip in between.
        let watch = DirWatch::new(&self.containers.dir(id));
        let first = match self.reconcile(id) {
            Ok(r) => r,
            Err(Error::NoSuchContainer(_))
                if shim::read_tombstone(&self.config.run_dir, id).is_some() =>
            {
                return Ok(gone(None));
            }
            Err(e) => return Err(e),
        };
        let before = exited(&first.state).map(|(_, at)| at);
        let mut last = exited(&first.state).map(|(s, _)| s);
        loop {
            let record = match self.reconcile(id) {
                Ok(r) => r,
                Err(Error::NoSuchContainer(_)) => return Ok(gone(last)),
                Err(e) => return Err(e),
            };
            match exited(&record.state) {
                Some((status, at)) => {
                    last = Some(status);
                    match condition {
                        WaitCondition::NotRunning => return Ok(status),
                        WaitCondition::NextExit if Some(at) != before => return Ok(status),
                        _ => {}
                    }
                }
                None if condition == WaitCondition::NotRunning
                    && record.state == State::Created =>
                {
                    return Ok(ExitStatus {
                        code: 0,
                        oom_killed: false,
                    });
                }
                None => {}
            }
            watch.wait(POLL);
        }
    }
    // ANCHOR_END: wait_loop
}
