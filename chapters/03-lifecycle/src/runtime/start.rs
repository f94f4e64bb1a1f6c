//! `docker start`: the runtime hands a created (or exited) container to a
//! new shim and reads the shim's reports until the container's process runs
//! or failed to start.

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{shim_alive, Runtime};
use crate::error::{Error, IoContext, Result};
use crate::id::ContainerId;
use crate::shim::{attach_socket, run_path, ShimArgs, ShimReport, ShimStdio, SHIM_ARG};
use crate::state::{transition, Event};
use crate::time::Timestamp;

impl Runtime {
    // ANCHOR: start
    /// `docker start`: hands the container to a new shim and returns once
    /// its process runs (or failed to start).
    pub fn start(&self, id: &ContainerId) -> Result<()> {
        self.spawn_shim(id, false)?.finish().map(|_| ())
    }

    /// `docker start -a`: like [`Runtime::start`], but attached before the
    /// process starts, so the returned stream sees all of its output.
    pub fn start_attached(&self, id: &ContainerId) -> Result<UnixStream> {
        self.spawn_attached(id)?.attach()
    }

    /// The first half of [`Runtime::start_attached`]: the checks, and a new
    /// shim on its way up. That shim reads the container's configuration
    /// only once the engine attaches, so until [`StartingShim::attach`]
    /// the engine may still finish it — the daemon wires the container's
    /// network while the shim's binary loads, instead of before.
    /// [`StartingShim::abandon`] stops the shim when that work fails.
    pub fn spawn_attached(&self, id: &ContainerId) -> Result<StartingShim<'_>> {
        self.spawn_shim(id, true)
    }

    // ANCHOR: start_check
    fn spawn_shim(&self, id: &ContainerId, attach: bool) -> Result<StartingShim<'_>> {
        let container = self.containers.container(id)?;
        let record = self.reconcile(id)?;
        // Only a check: the shim records the real transition with the pid.
        transition(
            id.as_str(),
            &record.state,
            Event::Start {
                pid: 0,
                at: Timestamp::now(),
            },
        )?;
        if record.shim_pid.is_some_and(|p| shim_alive(p, id)) {
            return Err(Error::ShimRunning {
                id: id.to_string(),
                pid: record.shim_pid.unwrap_or_default(),
            });
        }
        self.containers.update_state(id, |r| {
            r.stopped_by_user = false;
            Ok(())
        })?;
        self.mount_rootfs(&container)?;
        // ANCHOR_END: start_check
        // ANCHOR: start_spawn
        let args = ShimArgs {
            root: self.config.root.clone(),
            run_dir: self.config.run_dir.clone(),
            id: id.clone(),
            cgroup_parent: self.config.cgroup_parent.clone(),
            wait_attach: attach,
            stdio: Some(ShimStdio::of(&container.config)),
        };
        let shim_log = self.containers.dir(id).join("shim.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&shim_log)
            .ctx("open", &shim_log)?;
        // What this shim writes to its log starts here.
        let log_start = log.metadata().ctx("stat", &shim_log)?.len();
        let helper = self.helper()?;
        let mut child = Command::new(helper.path())
            .arg0(&self.config.helper_binary)
            .arg(SHIM_ARG)
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .ctx("start the shim", &self.config.helper_binary)?;
        let reports = child.stdout.take().expect("stdout is piped");
        Ok(StartingShim {
            runtime: self,
            id: id.clone(),
            first: child,
            reports: BufReader::new(reports),
            shim_log,
            log_start,
        })
    }
    // ANCHOR_END: start_spawn
    // ANCHOR_END: start
}

/// A shim that was spawned and has not yet said that the container runs.
#[derive(Debug)]
pub struct StartingShim<'a> {
    runtime: &'a Runtime,
    id: ContainerId,
    /// The first shim process, which forks the real shim and exits.
    first: Child,
    /// The shim's stdout: its reports, one JSON line each.
    reports: BufReader<ChildStdout>,
    shim_log: PathBuf,
    log_start: u64,
}

/// Dropped without `attach` or `abandon` (an error on the engine's side):
/// the first process is reaped; the real shim sees the report pipe close
/// and goes away by itself (see the shim's `accept_within`).
impl Drop for StartingShim<'_> {
    fn drop(&mut self) {
        self.first.wait().ok();
    }
}

impl StartingShim<'_> {
    /// Attaches and waits until the process runs: the stream sees all of
    /// its output.
    pub fn attach(self) -> Result<UnixStream> {
        let id = self.id.clone();
        self.finish()?.ok_or_else(|| {
            Error::ShimProtocol(format!("the shim of {id} offered no attach socket"))
        })
    }

    // ANCHOR: start_reports
    /// Waits for the first shim process, then reads the real shim's reports
    /// until the container's process runs or failed to start.
    fn finish(mut self) -> Result<Option<UnixStream>> {
        self.first_exited()?;
        let (id, shim_log) = (&self.id, &self.shim_log);
        let mut attached = None;
        for line in (&mut self.reports).lines() {
            let line = line.ctx("read shim report", shim_log)?;
            let report: ShimReport = serde_json::from_str(&line)
                .map_err(|e| Error::ShimProtocol(format!("bad report {line:?}: {e}")))?;
            match report {
                ShimReport::Listening { .. } => {
                    let socket = attach_socket(&self.runtime.config.run_dir, id);
                    attached = Some(UnixStream::connect(&socket).ctx("attach to", &socket)?);
                }
                ShimReport::Started { .. } => return Ok(attached),
                ShimReport::Failed { error, exit_code } => {
                    // Docker's way: the container stays as it was
                    // (created), with the error and its exit code.
                    self.runtime.containers.update_state(id, |r| {
                        r.error = error.clone();
                        r.start_exit_code = Some(exit_code);
                        Ok(())
                    })?;
                    return Err(Error::Start {
                        id: id.short().to_string(),
                        reason: error,
                        exit_code,
                    });
                }
            }
        }
        // The shim died without a word (killed, crashed): its log is all
        // there is to go on.
        Err(self.died("without a word".into()))
    }
    // ANCHOR_END: start_reports

    // ANCHOR: start_abandon
    /// Stops a shim that will not be attached to, because the engine's own
    /// part of the start failed: once it listens, it is killed (it has not
    /// read the container's configuration, let alone started anything),
    /// and its socket goes with its run directory.
    pub fn abandon(mut self) {
        if self.first_exited().is_err() {
            return;
        }
        for line in (&mut self.reports).lines() {
            let Ok(line) = line else { break };
            if let Ok(ShimReport::Listening { pid }) = serde_json::from_str(&line) {
                // The pid the shim reported for itself: a process this
                // engine started, killed by its pid.
                if let Err(e) = kill(Pid::from_raw(pid), Signal::SIGKILL) {
                    eprintln!("minidock: stopping the unused shim of {}: {e}", self.id);
                }
                // Gone before we return, so a start that follows finds no
                // shim of this container.
                let deadline = Instant::now() + Duration::from_secs(5);
                while shim_alive(pid, &self.id) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                break;
            }
        }
        let run = run_path(&self.runtime.config.run_dir, &self.id);
        if let Err(e) = fs::remove_dir_all(&run) {
            if e.kind() != io::ErrorKind::NotFound {
                eprintln!("minidock: removing {}: {e}", run.display());
            }
        }
    }
    // ANCHOR_END: start_abandon

    /// The first shim process forks the real one and exits at once; an
    /// error exit means there is no real shim.
    fn first_exited(&mut self) -> Result<()> {
        let helper = &self.runtime.config.helper_binary;
        let status = self.first.wait().ctx("wait for the shim", helper)?;
        if status.success() {
            Ok(())
        } else {
            Err(self.died(status.to_string()))
        }
    }

    fn died(&self, status: String) -> Error {
        Error::ShimDied {
            id: self.id.to_string(),
            status,
            tail: log_tail(&self.shim_log, self.log_start),
            log: self.shim_log.clone(),
        }
    }
}

// ANCHOR: shim_log_tail
/// How many lines of a shim's log go into an error message.
const LOG_TAIL_LINES: usize = 5;

/// The last lines the shim wrote to `log` from byte `from` on, joined
/// with `" | "`, for an error message.
fn log_tail(log: &Path, from: u64) -> String {
    let text = match fs::read(log) {
        Ok(bytes) => {
            let start = usize::try_from(from).unwrap_or(usize::MAX).min(bytes.len());
            String::from_utf8_lossy(&bytes[start..]).into_owned()
        }
        Err(e) => return format!("its log is unreadable ({e})"),
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "it left no message".into();
    }
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join(" | ")
}
// ANCHOR_END: shim_log_tail

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_last_lines_this_shim_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("shim.log");
        let old = "an earlier shim's line\n";
        let new: Vec<String> = (1..=7).map(|i| format!("line {i}")).collect();
        fs::write(&log, format!("{old}{}\n\n", new.join("\n"))).unwrap();
        assert_eq!(
            log_tail(&log, old.len() as u64),
            "line 3 | line 4 | line 5 | line 6 | line 7"
        );
        assert_eq!(log_tail(&log, 1 << 40), "it left no message");
        assert!(log_tail(&dir.path().join("none"), 0).contains("unreadable"));
    }
}
