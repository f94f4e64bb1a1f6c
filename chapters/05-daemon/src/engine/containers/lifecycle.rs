//! A container's run as the daemon lives it: the start, the session to
//! its shim, the exit, and what the exit lets go (its network, and for
//! `--rm` the container itself).

use super::index::{Entry, Inner};
use super::REMOVAL_WAIT;
use crate::engine::proc::wait_gone;
use crate::engine::session::{forward_stdin, Pending, Session};
use crate::error::{ApiError, ApiResult};
use crate::locks::lock;
use minidock_lifecycle::notify::DirWatch;
use minidock_lifecycle::state::State;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Inner {
    // ANCHOR: start
    /// Starts a container, connecting the attach clients that wait for it.
    pub(super) fn start(self: &Arc<Self>, entry: &Arc<Entry>) -> ApiResult<bool> {
        let _op = lock(&entry.op);
        let record = self
            .runtime
            .containers()
            .state(&entry.id)
            .map_err(ApiError::from)?;
        if record.state.is_alive() {
            return Ok(false);
        }
        if let Some(pid) = lock(&entry.last_shim).take() {
            wait_gone(pid, Duration::from_secs(10));
        }
        self.begin_volume_use(entry)?;
        // The shim first: it reads the container's configuration only once
        // we attach, so the network is wired while its binary loads.
        let shim = match self.runtime.spawn_attached(&entry.id) {
            Ok(shim) => shim,
            Err(e) => {
                self.end_volume_use(entry, None);
                return Err(ApiError::from(e));
            }
        };
        if let Err(err) = self.prepare_network(entry) {
            shim.abandon();
            self.end_volume_use(entry, None);
            return Err(err);
        }
        let pending: Vec<Pending> = std::mem::take(&mut *lock(&entry.pending));
        let stream = shim.attach().map_err(|e| {
            self.end_volume_use(entry, None);
            // A start that failed holds no address and leaves no link.
            if let Some(networks) = &self.networks {
                if let Err(err) = networks.release(entry.id.as_str()) {
                    eprintln!(
                        "minidockd: releasing the network of {}: {err}",
                        entry.id.short()
                    );
                }
            }
            ApiError::from(e)
        })?;
        // The process runs: say so before the session's thread can see it
        // exit, so that "start" always comes before "die" and the life
        // state never goes back to running after an exit was recorded.
        entry.life.send_modify(|l| {
            l.running = true;
            l.error = None;
        });
        self.publish("start", entry, &[]);
        self.open_session(entry, stream, pending)?;
        self.watch_health(entry, true);
        self.refresh_link_parents(entry);
        Ok(true)
    }
    // ANCHOR_END: start

    // ANCHOR: open_session
    /// Opens a session on a shim stream, connects the clients that waited
    /// for the start, and watches the stream from a thread.
    pub(super) fn open_session(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        stream: UnixStream,
        pending: Vec<Pending>,
    ) -> ApiResult<()> {
        let reader = stream.try_clone().map_err(ApiError::internal)?;
        let session = Arc::new(Session::new(stream));
        // Before the first frame is read: not a byte of output may pass
        // before these clients are in.
        for p in pending {
            session.subscribe(p.subscriber);
            if let Some(rx) = p.stdin {
                forward_stdin(session.clone(), rx, entry.closes_stdin());
            }
        }
        *lock(&entry.session) = Some(session.clone());
        if let Ok(record) = self.runtime.containers().state(&entry.id) {
            *lock(&entry.last_shim) = record.shim_pid;
        }
        let inner = self.clone();
        let watched = entry.clone();
        let pumped = session.clone();
        let run = lock(&entry.volume_run).number;
        std::thread::spawn(move || {
            let code = pumped.pump(reader);
            inner.exited(&watched, code, run);
        });
        Ok(())
    }
    // ANCHOR_END: open_session

    // ANCHOR: exited
    /// The container's process ended (or its shim went away): `run` is
    /// the run whose session saw it.
    fn exited(&self, entry: &Arc<Entry>, code: Option<i32>, run: u64) {
        self.unwatch_health(entry);
        if let Some(session) = lock(&entry.session).take() {
            session.close_clients();
        }
        // Before anyone hears of the exit: `docker wait` and `run` return
        // with the volumes of this run already let go.
        self.end_volume_use(entry, Some(run));
        if entry.removed.load(Ordering::SeqCst) {
            return;
        }
        let record = match code {
            Some(_) => self.runtime.inspect(&entry.id).map(|(_, r)| r),
            // The session ended without an exit: the shim is gone.
            None => self.runtime.shim_lost(&entry.id),
        };
        let (code, error) = match (&record, code) {
            (_, Some(code)) => (code, None),
            (Ok(r), None) => match &r.state {
                State::Exited { code, .. } => {
                    (*code, (!r.error.is_empty()).then(|| r.error.clone()))
                }
                _ => (
                    minidock_lifecycle::runtime::SHIM_LOST_EXIT_CODE,
                    Some("lost the connection to the container's shim".to_string()),
                ),
            },
            (Err(_), None) => (minidock_lifecycle::runtime::SHIM_LOST_EXIT_CODE, None),
        };
        // The event before the waiters wake: `docker run` returns on the
        // exit, and an `events` asked for after it shows the `die`.
        self.publish("die", entry, &[("exitCode", code.to_string())]);
        entry.life.send_modify(|l| {
            l.running = false;
            l.exits += 1;
            l.exit_code = i64::from(code);
            l.error = error;
        });
        self.release_network(entry);
        if entry.container().host_config.auto_remove {
            self.await_auto_removal(entry);
        }
    }
    // ANCHOR_END: exited

    // ANCHOR: auto_removal
    /// `--rm`: the shim removes the container after the exit; wait for it,
    /// and do it here if the shim could not. `docker run --rm` returns
    /// only once the container is gone, so the removal is waited for with
    /// a watch on the container's directory (woken the moment it is
    /// deleted), not by looking every few milliseconds.
    fn await_auto_removal(&self, entry: &Arc<Entry>) {
        let start = Instant::now();
        let watch = DirWatch::new(&self.runtime.container_dir(&entry.id));
        // `run --rm` takes the anonymous volumes with it, as Docker's does.
        let release = || self.release_volumes(entry, true);
        loop {
            match self.runtime.containers().state(&entry.id) {
                Err(minidock_lifecycle::Error::NoSuchContainer(_)) => break,
                _ if start.elapsed() > REMOVAL_WAIT => {
                    if let Err(err) = self.runtime.remove(&entry.id, true) {
                        eprintln!(
                            "minidockd: removing {} after its exit: {err}",
                            entry.id.short()
                        );
                    }
                    break;
                }
                _ => watch.wait(Duration::from_millis(10)),
            }
        }
        release();
        self.forget(entry);
    }
    // ANCHOR_END: auto_removal

    /// The container stopped: its addresses, ports and links go back to
    /// the network service. Under the container's operation lock, and only
    /// if it is still stopped: a `restart` may have started it again
    /// between its exit and this, and then it keeps its wiring.
    fn release_network(&self, entry: &Entry) {
        let Some(networks) = &self.networks else {
            return;
        };
        let _op = lock(&entry.op);
        let alive = self
            .runtime
            .containers()
            .state(&entry.id)
            .is_ok_and(|r| r.state.is_alive());
        if alive || entry.removed.load(Ordering::SeqCst) {
            return;
        }
        if let Err(err) = networks.release(entry.id.as_str()) {
            eprintln!(
                "minidockd: releasing the network of {}: {err}",
                entry.id.short()
            );
        }
    }

    /// Before a start: the network namespace to join and the files to
    /// mount, from the network service (or, for `container:NAME`, the
    /// other container's namespace), recorded in the container's config
    /// for its shim.
    fn prepare_network(&self, entry: &Arc<Entry>) -> ApiResult<()> {
        let Some(request) = &entry.request else {
            return Ok(());
        };
        let mode = request.host_config.network_mode.clone().unwrap_or_default();
        let mut start_env = Vec::new();
        let setup = if let Some(other) = mode.strip_prefix("container:") {
            let other = self.resolve(other)?;
            let record = self
                .runtime
                .containers()
                .state(&other.id)
                .map_err(ApiError::from)?;
            let netns = match (&other.container().host_config.netns, record.state.pid()) {
                (Some(path), _) => path.clone(),
                (None, Some(pid)) if record.state.is_alive() => {
                    PathBuf::from(format!("/proc/{pid}/ns/net"))
                }
                _ => {
                    return Err(ApiError::Conflict(format!(
                        "cannot join the network namespace of container {}: it is not running",
                        other.container().name
                    )))
                }
            };
            crate::networks::NetworkSetup {
                netns: Some(netns),
                files: Vec::new(),
            }
        } else if let Some(networks) = &self.networks {
            // Legacy links: hosts lines through the network service, and
            // variables for the process (see `link_use`).
            let linked = self.link_start(entry)?;
            start_env = linked.env;
            let request = super::link_use::with_extra_hosts(request, &linked.extra_hosts);
            match networks.setup(&self.container_ref(entry), &request)? {
                Some(setup) => setup,
                None => return Ok(()),
            }
        } else {
            return Ok(());
        };
        let files: Vec<minidock_lifecycle::config::Bind> = setup
            .files
            .iter()
            .map(|(source, destination)| minidock_lifecycle::config::Bind {
                source: source.clone(),
                destination: destination.clone(),
                read_only: false,
                propagation: Default::default(),
            })
            .collect();
        // Prepared afresh at every start: not worth an fsync.
        self.runtime
            .containers()
            .update_unsynced(&entry.id, |c| {
                c.host_config.netns = setup.netns.clone();
                c.host_config.etc_files = files;
                c.host_config.start_env = start_env;
            })
            .map_err(ApiError::from)?;
        let updated = self
            .runtime
            .containers()
            .container(&entry.id)
            .map_err(ApiError::from)?;
        entry.set_container(updated);
        Ok(())
    }
}
