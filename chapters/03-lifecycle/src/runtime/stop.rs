//! `docker stop`, `kill`, `pause`, `unpause` and `restart`: signals to the
//! container's PID 1, escalated to `SIGKILL` after a timeout, and the
//! cgroup freezer.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::{Runtime, DEFAULT_STOP_TIMEOUT, KILL_WAIT, POLL};
use crate::error::{Error, Result};
use crate::id::ContainerId;
use crate::notify::DirWatch;
use crate::signal::{parse_signal, stop_escalating, StopOutcome};
use crate::state::{transition, Event, State, TransitionError};

impl Runtime {
    /// `docker stop` with the container's own stop signal: see
    /// [`Runtime::stop_with_signal`].
    pub fn stop(&self, id: &ContainerId, timeout: Option<Duration>) -> Result<Option<StopOutcome>> {
        self.stop_with_signal(id, timeout, None)
    }

    // ANCHOR: stop
    /// `docker stop [-s SIGNAL]`: the stop signal (`signal`, else the
    /// container's `--stop-signal`, else SIGTERM), then `SIGKILL` after
    /// `timeout` (the container's `--stop-timeout`, else 10 s). `Ok(None)`
    /// when it was not running (Docker answers 304 Not Modified).
    pub fn stop_with_signal(
        &self,
        id: &ContainerId,
        timeout: Option<Duration>,
        signal: Option<Signal>,
    ) -> Result<Option<StopOutcome>> {
        let container = self.containers.container(id)?;
        let record = self.reconcile(id)?;
        match transition(id.as_str(), &record.state, Event::Stop) {
            Ok(_) => {}
            Err(TransitionError::AlreadyStopped { .. }) => {
                // Between two runs of a restart policy (its shim waits out
                // the back-off): the stop ends the restarts.
                if self.shim_waits_to_restart(id, &record) {
                    self.mark_stopped_by_user(id)?;
                    self.wait_for_shim_exit(id, KILL_WAIT)?;
                }
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        self.mark_stopped_by_user(id)?;
        let signal = match signal {
            Some(signal) => signal,
            None => parse_signal(&container.config.stop_signal)?,
        };
        let timeout = timeout
            .or(container
                .config
                .stop_timeout
                .map(|s| Duration::from_secs(s.into())))
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        stop_escalating(
            signal,
            timeout,
            KILL_WAIT,
            |s| self.signal(id, s),
            |d| self.wait_exited(id, d),
        )
        .map(Some)
    }
    // ANCHOR_END: stop

    /// `docker kill`: sends `signal` (SIGKILL by default in Docker).
    pub fn kill(&self, id: &ContainerId, signal: Signal) -> Result<()> {
        let record = self.reconcile(id)?;
        transition(id.as_str(), &record.state, Event::Kill)?;
        self.mark_stopped_by_user(id)?;
        self.signal(id, signal)
    }

    // ANCHOR: stop_signal
    pub(super) fn mark_stopped_by_user(&self, id: &ContainerId) -> Result<()> {
        self.containers.update_state(id, |r| {
            r.stopped_by_user = true;
            Ok(())
        })
    }

    /// Sends `signal` to the container's PID 1. A paused container is
    /// thawed afterwards, or the signal would wait with it.
    fn signal(&self, id: &ContainerId, signal: Signal) -> Result<()> {
        let record = self.containers.state(id)?;
        let Some(pid) = record.state.pid() else {
            return Ok(()); // exited in the meantime
        };
        match nix::sys::signal::kill(Pid::from_raw(pid), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => {
                return Err(Error::Io {
                    op: "signal",
                    path: format!("/proc/{pid}").into(),
                    source: e.into(),
                })
            }
        }
        if matches!(record.state, State::Paused { .. }) {
            match self.unpause(id) {
                Ok(()) | Err(Error::Transition(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Polls until the container is not running, up to `timeout`.
    pub(super) fn wait_exited(&self, id: &ContainerId, timeout: Duration) -> Result<bool> {
        let start = Instant::now();
        let watch = DirWatch::new(&self.containers.dir(id));
        loop {
            if !self.reconcile(id)?.state.is_alive() {
                return Ok(true);
            }
            if start.elapsed() >= timeout {
                return Ok(false);
            }
            watch.wait(POLL.min(timeout.saturating_sub(start.elapsed())));
        }
    }
    // ANCHOR_END: stop_signal

    // ANCHOR: pause
    /// `docker pause`: freezes every process of the container.
    pub fn pause(&self, id: &ContainerId) -> Result<()> {
        let cg = self.cgroup(id)?;
        self.containers.update_state(id, |r| {
            let next = transition(id.as_str(), &r.state, Event::Pause)?;
            cg.freeze()?;
            r.state = next;
            Ok(())
        })
    }

    /// `docker unpause`: thaws them.
    pub fn unpause(&self, id: &ContainerId) -> Result<()> {
        let cg = self.cgroup(id)?;
        self.containers.update_state(id, |r| {
            let next = transition(id.as_str(), &r.state, Event::Unpause)?;
            cg.thaw()?;
            r.state = next;
            Ok(())
        })
    }
    // ANCHOR_END: pause

    /// `docker restart`: stop (when running), then start.
    pub fn restart(&self, id: &ContainerId, timeout: Option<Duration>) -> Result<()> {
        let record = self.reconcile(id)?;
        transition(id.as_str(), &record.state, Event::Restart)?;
        if record.state.is_alive() {
            self.stop(id, timeout)?;
        }
        self.wait_for_shim_exit(id, KILL_WAIT)?;
        self.start(id)
    }
}
