//! Each run of a container with a health check gets a monitor (see
//! [`crate::compat::health`]): started with the run, stopped at its exit,
//! and started again — with the status and results on disk — by a daemon
//! that restarts and finds the container still running.

use super::index::{Entry, Inner};
use super::HEALTH_FILE;
use crate::compat::health::monitor::lock_health;
use crate::compat::health::{Health, Monitor, Probe, Target};
use crate::locks::lock;
use crate::time::system_time;
use minidock_lifecycle::exec::ExecProcess;
use minidock_lifecycle::state::State;
use minidock_lifecycle::ExecOptions;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

impl Entry {
    /// The check its runs get, if any (`NONE` turns the image's off).
    pub(super) fn probe(&self) -> Option<Probe> {
        self.request
            .as_ref()
            .and_then(|r| r.config.healthcheck.as_ref())
            .and_then(|h| h.probe())
    }

    /// Its health as inspect shows it: for a container with a check that
    /// has started once.
    pub(super) fn shown_health(&self) -> Option<Health> {
        self.probe()?;
        lock_health(&self.health).clone()
    }

    /// Reads the health a daemon kept for this container.
    pub(super) fn load_health(&self, dir: &Path) {
        let kept = std::fs::read(dir.join(HEALTH_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Health>(&bytes).ok());
        *lock_health(&self.health) = kept;
    }
}

/// The monitor's view of one container: exec in it, its pause, and where
/// its health is kept.
struct Checked {
    inner: Arc<Inner>,
    entry: Arc<Entry>,
}

impl Target for Checked {
    fn exec(&self, argv: &[String]) -> Result<ExecProcess, String> {
        let options = ExecOptions {
            args: argv.to_vec(),
            env: Vec::new(),
            user: None,
            working_dir: None,
            tty: false,
            stdin: false,
        };
        self.inner
            .runtime
            .exec(&self.entry.id, options)
            .map_err(|e| e.to_string())
    }

    fn paused(&self) -> bool {
        self.inner
            .runtime
            .containers()
            .state(&self.entry.id)
            .is_ok_and(|r| matches!(r.state, State::Paused { .. }))
    }

    fn save(&self, health: &Health, changed: bool) {
        self.inner.save_health(&self.entry, health);
        if changed {
            let action = format!("health_status: {}", health.status);
            self.inner.publish(&action, &self.entry, &[]);
        }
    }
}

impl Inner {
    /// A run began (`fresh`), or a restarted daemon found it running:
    /// starts probing it when it has a check.
    pub(super) fn watch_health(self: &Arc<Self>, entry: &Arc<Entry>, fresh: bool) {
        let Some(probe) = entry.probe() else {
            return;
        };
        let started = match self.runtime.containers().state(&entry.id).map(|r| r.state) {
            Ok(State::Running { started_at, .. } | State::Paused { started_at, .. }) => {
                system_time(&started_at)
            }
            _ => SystemTime::now(),
        };
        {
            let mut health = lock_health(&entry.health);
            match health.as_mut() {
                Some(h) if fresh => h.restart(),
                Some(_) => {}
                None => *health = Some(Health::default()),
            }
            if let Some(h) = health.as_ref() {
                self.save_health(entry, h);
            }
        }
        let target = Arc::new(Checked {
            inner: self.clone(),
            entry: entry.clone(),
        });
        let monitor = Monitor::start(probe, entry.health.clone(), started, target);
        if let Some(old) = lock(&entry.monitor).replace(monitor) {
            // Only one monitor per run; the old one's results no longer count.
            old.stop(&entry.health);
        }
    }

    /// The run ended: its monitor stops and the status is `unhealthy`.
    pub(super) fn unwatch_health(&self, entry: &Entry) {
        let Some(monitor) = lock(&entry.monitor).take() else {
            return;
        };
        monitor.stop(&entry.health);
        if entry.removed.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Some(h) = lock_health(&entry.health).as_ref() {
            self.save_health(entry, h);
        }
    }

    fn save_health(&self, entry: &Entry, health: &Health) {
        let path = self.runtime.container_dir(&entry.id).join(HEALTH_FILE);
        let written = serde_json::to_vec(health)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                minidock_lifecycle::atomic::write_atomic(&path, &bytes).map_err(|e| e.to_string())
            });
        if let Err(err) = written {
            // A removed container's directory is gone: nothing to keep.
            if !entry.removed.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!(
                    "minidockd: keeping the health of {}: {err}",
                    entry.id.short()
                );
            }
        }
    }
}
