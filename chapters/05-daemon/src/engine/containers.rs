//! The container service: chapter 03's runtime behind the API.
//!
//! The runtime keeps every container on disk and needs no memory of them;
//! the daemon adds what only a long-lived process can have: an index of
//! names and ids (so a request does not scan the disk), a live connection to
//! each running container's shim (output for attached clients, and the exit
//! the moment it happens), and the watch channel that `wait` listens on.

use super::convert::{self, runtime_error, system_time};
use super::exec::Execs;
use super::restart::start_on_boot;
use super::session::{forward_stdin, Pending, Session, Subscriber};
use crate::detach::DetachKeys;
use crate::error::{ApiError, ApiResult};
use crate::events::Events;
use crate::frames::StreamType;
use crate::networks::{ContainerRef, NetworkService};
use crate::service::*;
use crate::types::*;
use crate::volumes::{ContainerMounts, MountRequest, VolumeService, VolumeUsers, VolumesFrom};
use crate::wait::LifeState;
use minidock_lifecycle::attach::Frame;
use minidock_lifecycle::compat::process::NamespaceMode;
use minidock_lifecycle::logs::{LogOptions, Stream};
use minidock_lifecycle::notify::DirWatch;
use minidock_lifecycle::state::{State, StateRecord};
use minidock_lifecycle::store::Container;
use minidock_lifecycle::{ContainerId, CreateOptions, Runtime};
use std::collections::{BTreeMap, HashMap};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, watch};

/// The file in a container's directory where the daemon keeps the create
/// request as the client sent it (for inspect: `StdinOnce`, `LogConfig`, …).
const REQUEST_FILE: &str = "create-request.json";

/// The file in a container's directory where the daemon keeps its mounts
/// as inspect shows them (which are volumes, which binds, which tmpfs).
const MOUNTS_FILE: &str = "mounts.json";

/// How long to wait for a shim to finish a `--rm` removal.
const REMOVAL_WAIT: Duration = Duration::from_secs(30);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the daemon knows about one container.
pub(crate) struct Entry {
    pub id: ContainerId,
    /// What the container is; replaced whole by a rename.
    container: RwLock<Arc<Container>>,
    pub request: Option<ContainerCreateBody>,
    pub life: watch::Sender<LifeState>,
    session: Mutex<Option<Arc<Session>>>,
    pending: Mutex<Vec<Pending>>,
    /// The shim of the last run, until it is gone.
    last_shim: Mutex<Option<i32>>,
    /// Serialises start, stop, restart and remove of this container.
    op: Mutex<()>,
    removed: AtomicBool,
    /// Its mounts as inspect shows them, when a volume service planned
    /// them (else inspect derives them from the binds).
    mounts: Vec<MountPoint>,
    /// Which run counts as a user of the volumes mounted per use.
    volume_run: Mutex<VolumeRun>,
}

/// A container's runs, as the volume service counts them: each start is a
/// new run, counted once ([`VolumeService::activate`]) and uncounted once
/// ([`VolumeService::deactivate`]) — by whichever comes first of the stop
/// or remove that saw the process end and the session that saw its exit.
/// The number keeps a late exit of one run from ending the next.
#[derive(Debug, Default, Clone, Copy)]
struct VolumeRun {
    number: u64,
    counted: bool,
}

impl Entry {
    fn new(container: Container, request: Option<ContainerCreateBody>, life: LifeState) -> Entry {
        Entry {
            id: container.id.clone(),
            container: RwLock::new(Arc::new(container)),
            request,
            life: watch::channel(life).0,
            session: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
            last_shim: Mutex::new(None),
            op: Mutex::new(()),
            removed: AtomicBool::new(false),
            mounts: Vec::new(),
            volume_run: Mutex::new(VolumeRun::default()),
        }
    }

    fn with_mounts(mut self, mounts: Vec<MountPoint>) -> Entry {
        self.mounts = mounts;
        self
    }

    /// Its mounts as inspect and lists show them.
    fn mount_points(&self) -> Vec<MountPoint> {
        if self.mounts.is_empty() {
            convert::mounts(&self.container())
        } else {
            self.mounts.clone()
        }
    }

    /// The container as it is now (a rename gives a new one).
    pub fn container(&self) -> Arc<Container> {
        self.container
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_container(&self, container: Container) {
        *self.container.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(container);
    }

    fn stdin_once(&self) -> bool {
        self.request.as_ref().is_some_and(|r| r.config.stdin_once)
    }

    /// Whether the end of an attached client's input closes the
    /// container's stdin: with `StdinOnce` and no terminal, as in Docker. A
    /// terminal's input stays open, so a client that detaches (or whose
    /// terminal went away) leaves the shell running.
    fn closes_stdin(&self) -> bool {
        self.stdin_once() && !self.container().config.tty
    }

    fn session(&self) -> Option<Arc<Session>> {
        lock(&self.session).clone()
    }
}

/// The life state a container has on disk, for a daemon that (re)starts.
/// The create request as kept on disk for a daemon that restarts: all of
/// it, including the fields the API types keep aside without showing them
/// (`other`: the published ports, the networks' endpoint settings), which
/// the container's next start needs again.
fn request_record(body: &ContainerCreateBody) -> serde_json::Value {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let Some(top) = value.as_object_mut() {
        for (key, field) in &body.config.other {
            top.entry(key.clone()).or_insert_with(|| field.clone());
        }
        if let Some(host) = top.get_mut("HostConfig").and_then(|h| h.as_object_mut()) {
            for (key, field) in &body.host_config.other {
                host.entry(key.clone()).or_insert_with(|| field.clone());
            }
        }
    }
    value
}

fn life_of(record: &StateRecord) -> LifeState {
    match &record.state {
        State::Exited { code, .. } => LifeState {
            running: false,
            exits: 1,
            exit_code: i64::from(*code),
            error: (!record.error.is_empty()).then(|| record.error.clone()),
            removed: false,
        },
        state => LifeState {
            running: state.is_alive(),
            ..LifeState::default()
        },
    }
}

/// Whether `pid` is a live process.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next())
        })
        .flatten()
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// Waits (up to `limit`) until `pid` is gone.
fn wait_gone(pid: i32, limit: Duration) {
    let start = Instant::now();
    while alive(pid) && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub(crate) struct Inner {
    pub runtime: Runtime,
    pub events: Events,
    /// The network service, when one is plugged in (chapter 06).
    pub networks: Option<Arc<dyn NetworkService>>,
    entries: RwLock<HashMap<ContainerId, Arc<Entry>>>,
    pub execs: Execs,
    /// The volume service, when one is plugged in.
    volumes: Option<Arc<dyn VolumeService>>,
}

/// Containers, run by chapter 03's runtime under their shims.
pub struct RuntimeContainers {
    inner: Arc<Inner>,
}

impl Inner {
    fn publish(&self, action: &str, entry: &Entry, extra: &[(&str, String)]) {
        let mut attributes = BTreeMap::from([
            ("name".to_string(), entry.container().name.clone()),
            ("image".to_string(), entry.container().config.image.clone()),
        ]);
        for (k, v) in extra {
            attributes.insert(k.to_string(), v.clone());
        }
        attributes.extend(entry.container().config.labels.clone());
        self.events
            .publish("container", action, entry.id.as_str(), attributes);
    }

    /// Finds a container by id, name or unique id prefix.
    pub fn resolve(&self, reference: &str) -> ApiResult<Arc<Entry>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let bare = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(e) = entries
            .values()
            .find(|e| e.id.as_str() == reference || e.container().name == bare)
        {
            return Ok(e.clone());
        }
        let matches: Vec<&Arc<Entry>> = entries
            .values()
            .filter(|e| e.id.as_str().starts_with(reference))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ApiError::no_such_container(reference)),
            _ => Err(ApiError::BadParameter(format!(
                "multiple IDs found with provided prefix: {reference}"
            ))),
        }
    }

    /// Marks a container removed: waiters on `removed` are answered.
    fn forget(&self, entry: &Entry) {
        if entry.removed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&entry.id);
        // Unwired before anyone hears of the removal: `run --rm` returns
        // then, and nothing of the container may be left.
        if let Some(networks) = &self.networks {
            if let Err(err) = networks.teardown(entry.id.as_str()) {
                eprintln!(
                    "minidockd: unwiring the network of {}: {err}",
                    entry.id.short()
                );
            }
        }
        entry.life.send_modify(|l| {
            l.running = false;
            l.removed = true;
        });
        self.publish("destroy", entry, &[]);
    }

    // ANCHOR: open_session
    /// Opens a session on a shim stream, connects the clients that waited
    /// for the start, and watches the stream from a thread.
    fn open_session(
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

    /// The container's process ended (or its shim went away): `run` is
    /// the run whose session saw it.
    fn exited(&self, entry: &Arc<Entry>, code: Option<i32>, run: u64) {
        if let Some(session) = lock(&entry.session).take() {
            session.close_clients();
        }
        // Before anyone hears of the exit: `docker wait` and `run` return
        // with the volumes of this run already let go.
        self.end_volume_use(entry, Some(run));
        if entry.removed.load(Ordering::SeqCst) {
            return;
        }
        let record = self.runtime.inspect(&entry.id).map(|(_, r)| r);
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
        entry.life.send_modify(|l| {
            l.running = false;
            l.exits += 1;
            l.exit_code = i64::from(code);
            l.error = error;
        });
        self.publish("die", entry, &[("exitCode", code.to_string())]);
        self.release_network(entry);
        if entry.container().host_config.auto_remove {
            self.await_auto_removal(entry);
        }
    }

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

    /// The container as the network service sees it.
    pub fn container_ref(&self, entry: &Entry) -> ContainerRef {
        let container = entry.container();
        ContainerRef {
            id: entry.id.to_string(),
            name: container.name.clone(),
            hostname: container.config.hostname.clone(),
            running: self
                .runtime
                .containers()
                .state(&entry.id)
                .is_ok_and(|r| r.state.is_alive()),
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
        let setup = if let Some(other) = mode.strip_prefix("container:") {
            let other = self.resolve(other)?;
            let record = self
                .runtime
                .containers()
                .state(&other.id)
                .map_err(runtime_error)?;
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
            match networks.setup(&self.container_ref(entry), request)? {
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
        self.runtime
            .containers()
            .update(&entry.id, |c| {
                c.host_config.netns = setup.netns.clone();
                c.host_config.etc_files = files;
            })
            .map_err(runtime_error)?;
        let updated = self
            .runtime
            .containers()
            .container(&entry.id)
            .map_err(runtime_error)?;
        entry.set_container(updated);
        Ok(())
    }

    /// Who uses which volume, leaving `except` out.
    fn volume_users(&self, except: Option<&ContainerId>) -> VolumeUsers {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let mut users = VolumeUsers::new();
        for entry in entries.values().filter(|e| Some(&e.id) != except) {
            for point in entry.mounts.iter().filter(|m| m.kind == "volume") {
                if let Some(name) = &point.name {
                    users
                        .entry(name.clone())
                        .or_default()
                        .push(entry.id.to_string());
                }
            }
        }
        users
    }

    /// A container is gone: tells the volume service, which removes its
    /// anonymous volumes when `anonymous` says so. A failure is reported,
    /// not returned: the container is gone either way.
    fn release_volumes(&self, entry: &Entry, anonymous: bool) {
        if let Some(volumes) = &self.volumes {
            let users = || self.volume_users(Some(&entry.id));
            match volumes.release(&entry.mounts, anonymous, &users) {
                Ok(removed) => {
                    for name in removed {
                        self.events
                            .publish("volume", "destroy", &name, volume_attributes());
                    }
                }
                Err(err) => eprintln!("minidockd: the volumes of {}: {err}", entry.id.short()),
            }
        }
    }

    /// The daemon starts and `running` still run: each one's current run
    /// counts as a user of its volumes, before any session can see it end
    /// (the volume service keeps their mounts; it unmounts the others).
    fn adopt_running(&self, running: &[Arc<Entry>]) {
        let Some(volumes) = &self.volumes else {
            return;
        };
        let mut users = Vec::new();
        for entry in running.iter().filter(|e| !e.mounts.is_empty()) {
            let mut run = lock(&entry.volume_run);
            run.number += 1;
            run.counted = true;
            users.push((entry.id.to_string(), entry.mounts.clone()));
        }
        if let Err(err) = volumes.adopt(&users) {
            eprintln!("minidockd: the volumes of running containers: {err}");
        }
    }

    /// A new run of `entry` begins: the volume service mounts what is
    /// mounted per use and counts the run. Under the container's `op`.
    fn begin_volume_use(&self, entry: &Entry) -> ApiResult<()> {
        let mut run = lock(&entry.volume_run);
        run.number += 1;
        run.counted = false;
        if let Some(volumes) = self.volumes.as_ref().filter(|_| !entry.mounts.is_empty()) {
            volumes.activate(entry.id.as_str(), &entry.mounts)?;
            run.counted = true;
        }
        Ok(())
    }

    /// A run of `entry` is over: run `number`, or (`None`) the current
    /// one, which the caller saw end. Uncounted once; a failure is
    /// reported, not returned: the run is over either way.
    fn end_volume_use(&self, entry: &Entry, number: Option<u64>) {
        let mut run = lock(&entry.volume_run);
        if !run.counted || number.is_some_and(|n| n != run.number) {
            return;
        }
        run.counted = false;
        if let Some(volumes) = &self.volumes {
            if let Err(err) = volumes.deactivate(entry.id.as_str(), &entry.mounts) {
                eprintln!(
                    "minidockd: unmounting the volumes of {}: {err}",
                    entry.id.short()
                );
            }
        }
    }

    // ANCHOR: start
    /// Starts a container, connecting the attach clients that wait for it.
    fn start(self: &Arc<Self>, entry: &Arc<Entry>) -> ApiResult<bool> {
        let _op = lock(&entry.op);
        let record = self
            .runtime
            .containers()
            .state(&entry.id)
            .map_err(runtime_error)?;
        if record.state.is_alive() {
            return Ok(false);
        }
        if let Some(pid) = lock(&entry.last_shim).take() {
            wait_gone(pid, Duration::from_secs(10));
        }
        self.begin_volume_use(entry)?;
        if let Err(err) = self.prepare_network(entry) {
            self.end_volume_use(entry, None);
            return Err(err);
        }
        let pending: Vec<Pending> = std::mem::take(&mut *lock(&entry.pending));
        let stream = self.runtime.start_attached(&entry.id).map_err(|e| {
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
            let err = runtime_error(e);
            match err {
                ApiError::Internal(m) => ApiError::BadParameter(m),
                other => other,
            }
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
        Ok(true)
    }
    // ANCHOR_END: start
}

impl RuntimeContainers {
    /// The service over `runtime`: indexes the containers on disk, adopts
    /// the running ones (connects to their shims) and starts those whose
    /// restart policy says so.
    pub fn open(
        runtime: Runtime,
        events: Events,
        networks: Option<Arc<dyn NetworkService>>,
        volumes: Option<Arc<dyn VolumeService>>,
    ) -> ApiResult<RuntimeContainers> {
        let inner = Arc::new(Inner {
            runtime,
            events,
            networks,
            entries: RwLock::new(HashMap::new()),
            execs: Execs::default(),
            volumes,
        });
        let all = inner.runtime.list().map_err(runtime_error)?;
        let mut to_start = Vec::new();
        let mut removed = Vec::new();
        let mut running = Vec::new();
        for (container, record) in all {
            let dir = inner.runtime.container_dir(&container.id);
            let request = std::fs::read(dir.join(REQUEST_FILE))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            let mounts: Vec<MountPoint> = std::fs::read(dir.join(MOUNTS_FILE))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
            let entry =
                Arc::new(Entry::new(container, request, life_of(&record)).with_mounts(mounts));
            inner
                .entries
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(entry.id.clone(), entry.clone());
            if record.state.is_alive() {
                running.push(entry);
            } else if entry.container().host_config.auto_remove
                && matches!(record.state, State::Exited { .. })
            {
                // Its shim died before it could remove it.
                if inner.runtime.remove(&entry.id, true).is_ok() {
                    inner.forget(&entry);
                    // once every container is known: another may share them
                    removed.push(entry);
                }
            } else if start_on_boot(&entry.container().host_config.restart_policy, &record) {
                to_start.push(entry);
            }
        }
        for entry in removed {
            inner.release_volumes(&entry, true);
        }
        inner.adopt_running(&running);
        for entry in running {
            match inner.runtime.attach(&entry.id) {
                Ok(stream) => inner.open_session(&entry, stream, Vec::new())?,
                Err(err) => eprintln!(
                    "minidockd: cannot reach the shim of {}: {err}",
                    entry.id.short()
                ),
            }
        }
        if let Some(networks) = &inner.networks {
            let existing: Vec<ContainerRef> = {
                let entries = inner.entries.read().unwrap_or_else(|p| p.into_inner());
                entries.values().map(|e| inner.container_ref(e)).collect()
            };
            networks.reconcile(&existing);
        }
        for entry in to_start {
            if let Err(err) = inner.start(&entry) {
                eprintln!(
                    "minidockd: restart policy: cannot start {}: {err}",
                    entry.id.short()
                );
            }
        }
        Ok(RuntimeContainers { inner })
    }

    fn entry(&self, reference: &str) -> ApiResult<Arc<Entry>> {
        self.inner.resolve(reference)
    }

    /// Indexes containers that were made on disk by another part of the
    /// engine (the builder's kept intermediate containers), so that `ps
    /// -a`, `rm` and prune see them. Ids already known, or gone, are
    /// skipped.
    pub fn adopt(&self, ids: &[String]) {
        let store = self.inner.runtime.containers();
        for id in ids {
            let Ok(id) = id.parse::<ContainerId>() else {
                continue;
            };
            let (Ok(container), Ok(record)) = (store.container(&id), store.state(&id)) else {
                continue;
            };
            let mut entries = self
                .inner
                .entries
                .write()
                .unwrap_or_else(|p| p.into_inner());
            entries
                .entry(id)
                .or_insert_with(|| Arc::new(Entry::new(container, None, life_of(&record))));
        }
    }

    fn record(&self, entry: &Entry) -> ApiResult<StateRecord> {
        let record = self
            .inner
            .runtime
            .containers()
            .state(&entry.id)
            .map_err(runtime_error)?;
        if record.state.is_alive() && entry.session().is_none() {
            // Nobody watches it: let the runtime check that it still lives.
            return self
                .inner
                .runtime
                .inspect(&entry.id)
                .map(|(_, r)| r)
                .map_err(runtime_error);
        }
        Ok(record)
    }

    /// Every mount a create request asks for, from every field the API has
    /// for it, with `--volumes-from` resolved to the other container's mounts.
    fn mount_request(
        &self,
        body: &ContainerCreateBody,
        image: &minidock_images::Image,
    ) -> ApiResult<MountRequest> {
        let bad = |m: String| ApiError::BadParameter(m);
        let host = &body.host_config;
        let mut request = MountRequest {
            binds: host.binds.clone().unwrap_or_default(),
            mounts: host.mounts.clone().unwrap_or_default(),
            tmpfs: host.tmpfs.clone().unwrap_or_default(),
            ..Default::default()
        };
        let asked = body.config.volumes.iter().flatten();
        request.volumes.extend(asked.map(|(path, _)| path.clone()));
        let image_volumes = image
            .config
            .config()
            .as_ref()
            .and_then(|c| c.volumes().clone());
        request.volumes.extend(image_volumes.unwrap_or_default());
        for spec in host.volumes_from.iter().flatten() {
            let (name, read_only) = match spec.rsplit_once(':') {
                Some((name, "ro")) => (name, Some(true)),
                Some((name, "rw")) => (name, Some(false)),
                Some((_, mode)) => {
                    return Err(bad(format!(
                        "invalid --volumes-from {spec:?}: the mode {mode:?} is not ro or rw"
                    )))
                }
                None => (spec.as_str(), None),
            };
            let other = self.entry(name)?;
            request.volumes_from.push(VolumesFrom {
                mounts: other.mount_points(),
                read_only,
            });
        }
        Ok(request)
    }

    /// The image ids containers use (for `rmi`).
    pub fn image_ids(&self) -> Vec<String> {
        let entries = self.inner.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .values()
            .map(|e| e.container().image_id.clone())
            .collect()
    }
}

fn matches_filters(
    summary: &ContainerSummary,
    entry: &Entry,
    record: &StateRecord,
    filters: &crate::query::Filters,
) -> bool {
    let any = |name: &str, test: &dyn Fn(&str) -> bool| {
        let values = filters.values(name);
        values.is_empty() || values.iter().any(|v| test(v))
    };
    any("status", &|v| v == summary.state)
        && any("name", &|v| {
            entry.container().name.contains(v.trim_start_matches('/'))
        })
        && any("id", &|v| entry.id.as_str().starts_with(v))
        && any("ancestor", &|v| {
            entry.container().config.image == v || entry.container().image_id.contains(v)
        })
        && any(
            "exited",
            &|v| matches!(&record.state, State::Exited { code, .. } if code.to_string() == v),
        )
        && filters.labels_match(&entry.container().config.labels)
}

impl RuntimeContainers {
    /// The network service's view of the container, if it has one.
    fn network_settings(&self, entry: &Entry) -> Option<NetworkSettings> {
        self.inner
            .networks
            .as_ref()
            .and_then(|n| n.settings(entry.id.as_str()))
    }

    /// Bytes in the container's writable layer (overlayfs's upper dir).
    fn rw_size(&self, id: &ContainerId) -> u64 {
        super::disk::tree_size(&self.inner.runtime.containers().dir(id).join("upper"))
    }

    /// Where `docker cp` finds `path`: the host directory that holds it and
    /// the path inside that directory. The engine sees the overlay mount
    /// (`merged/`), not the mounts PID 1 made in its own namespace, so the
    /// path is resolved in the container's view ([`super::copy_view`]): a
    /// path under a bind mount or a volume — directly or through the
    /// container's symlinks — is answered from the mount's host directory
    /// (`writing` into a read-only one is refused), and a path under a
    /// tmpfs, `/proc`, `/sys` or `/dev` is refused rather than answered
    /// wrongly.
    fn copy_root(&self, entry: &Entry, path: &str, writing: bool) -> ApiResult<(PathBuf, String)> {
        use super::copy_view::{Mounted, View};
        let container = entry.container();
        let binds = container.host_config.binds.iter().map(|b| {
            let mounted = Mounted::Dir {
                source: b.source.clone(),
                read_only: b.read_only,
            };
            (b.destination.clone(), mounted)
        });
        let tmpfs = entry
            .mounts
            .iter()
            .filter(|m| m.kind == "tmpfs")
            .map(|m| PathBuf::from(&m.destination))
            .chain(
                container
                    .host_config
                    .tmpfs
                    .iter()
                    .map(|t| t.destination.clone()),
            )
            .map(|d| (d, Mounted::Refused("a tmpfs mounted in the container")));
        let kernel = ["/proc", "/sys", "/dev"].map(|m| {
            (
                PathBuf::from(m),
                Mounted::Refused("a kernel file system mounted in the container"),
            )
        });
        let dir = self.inner.runtime.containers().dir(&entry.id);
        let view = View {
            merged: dir.join("merged"),
            mounts: binds.chain(tmpfs).chain(kernel).collect(),
        };
        // `cp` into a path writes into the directory it names, links
        // followed; `cp` out of a symlink copies the link.
        let located = view.locate(path, writing, writing)?;
        // Not a mount point (a host reboot unmounted it): it is an empty
        // directory that must not be mistaken for the container's files.
        use std::os::unix::fs::MetadataExt;
        let dev = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.dev()).ok();
        let unmounted = dev(&view.merged).is_none() || dev(&view.merged) == dev(&dir);
        if located.root == view.merged && unmounted {
            return Err(ApiError::Conflict(format!(
                "the file system of container {} is not mounted: start it once to mount it",
                entry.container().name
            )));
        }
        Ok((located.root, located.inner))
    }
}

/// Settles a create's volume plan ([`VolumeService::settle`]) once: when
/// asked, or when dropped, whichever way the create returns.
struct Settle<'a>(Option<&'a (Arc<dyn VolumeService>, ContainerMounts)>);

impl Settle<'_> {
    fn now(&mut self) {
        if let Some((volumes, mounts)) = self.0.take() {
            volumes.settle(mounts);
        }
    }
}

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        self.now();
    }
}

/// The attributes of a volume event: its driver.
pub(crate) fn volume_attributes() -> BTreeMap<String, String> {
    BTreeMap::from([("driver".to_string(), "local".to_string())])
}

/// `docker cp`'s errors: a missing path is Docker's 404.
/// `asked` is the path as the client gave it (the store saw the part of it
/// inside a volume or bind mount).
fn copy_error(id: &str, asked: &str, err: minidock_images::Error) -> ApiError {
    match err {
        minidock_images::Error::CopyNotFound(_) => {
            ApiError::NotFound(format!("Could not find the file {asked} in container {id}"))
        }
        minidock_images::Error::Copy { .. } => ApiError::BadParameter(err.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

impl ContainerService for RuntimeContainers {
    fn create(
        &self,
        name: Option<&str>,
        mut body: ContainerCreateBody,
    ) -> ApiResult<ContainerCreateResponse> {
        if body.config.image.is_empty() {
            return Err(ApiError::BadParameter(
                "config.Image is required: which image to run".to_string(),
            ));
        }
        super::names::check_image_name(&body.config.image)?;
        if let Ok(image) = self.inner.runtime.images().resolve(&body.config.image) {
            super::expose::merge_image_ports(&mut body, &image);
        }
        let networked = self.inner.networks.is_some();
        if let Some(networks) = &self.inner.networks {
            networks.check(&body)?;
        }
        let volumes = self.inner.volumes.clone();
        let (user, mut host) = convert::create_options(&body, networked, volumes.is_some())?;
        // `--pid container:web`: the runtime finds the other container by
        // its full id when this one starts.
        // A 400, not a 404: the docker CLI takes a 404 at create for a
        // missing image, and would try to pull.
        let modes = [
            ("PidMode", &mut host.process.pid_mode),
            ("IpcMode", &mut host.process.ipc_mode),
        ];
        for (field, mode) in modes {
            if let NamespaceMode::Container(name) = mode {
                let found = self.inner.resolve(name).map_err(|e| {
                    ApiError::BadParameter(format!("HostConfig.{field}: {}", e.message()))
                })?;
                // Docker's rule: only a donor created `--ipc shareable`
                // lends its IPC namespace.
                let shareable = found
                    .request
                    .as_ref()
                    .is_some_and(|r| r.host_config.ipc_mode == "shareable");
                if field == "IpcMode" && !shareable {
                    return Err(ApiError::BadParameter(format!(
                        "HostConfig.IpcMode: container {name} has a non-shareable IPC namespace \
                         (hint: create it with --ipc shareable)"
                    )));
                }
                *name = found.id.to_string();
            }
        }
        if let Some(name) = name {
            let taken = self
                .inner
                .resolve(name)
                .ok()
                .filter(|e| e.container().name == name);
            if let Some(other) = taken {
                return Err(runtime_error(minidock_lifecycle::Error::NameInUse {
                    name: name.to_string(),
                    id: other.id.to_string(),
                }));
            }
        }
        let image = body.config.image.clone();
        // The volume service plans the mounts once the image is known (its
        // VOLUME counts); a missing image is left to the runtime's 404, so
        // a client that pulls and retries leaves no volumes behind.
        let planned = match (&volumes, self.inner.runtime.images().resolve(&image)) {
            (Some(volumes), Ok(resolved)) => {
                let request = self.mount_request(&body, &resolved)?;
                let planned = volumes.plan(&request)?;
                host.binds.extend(planned.binds.iter().cloned());
                host.tmpfs.extend(planned.tmpfs.iter().cloned());
                Some((volumes.clone(), planned))
            }
            _ => None,
        };
        // Until the container is recorded, its volumes are held by the
        // plan; settled once, whichever way the create ends.
        let mut settle = Settle(planned.as_ref());
        let undo_volumes = |settle: &mut Settle| {
            settle.now();
            if let Some((volumes, planned)) = &planned {
                let users = || self.inner.volume_users(None);
                for name in &planned.created {
                    // another create may have taken it since: then it stays
                    volumes.remove(name, true, &users).ok();
                }
            }
        };
        let created = self
            .inner
            .runtime
            .create(CreateOptions {
                image: image.clone(),
                name: name.map(str::to_owned),
                config: user,
                host_config: host,
            })
            .map_err(|e| match e {
                minidock_lifecycle::Error::Image(minidock_images::Error::NoSuchImage(_)) => {
                    let shown = minidock_images::Reference::parse(&image)
                        .map(|r| r.familiar())
                        .unwrap_or(image.clone());
                    ApiError::no_such_image(&shown)
                }
                other => runtime_error(other),
            });
        let id = match created {
            Ok(id) => id,
            Err(err) => {
                undo_volumes(&mut settle);
                return Err(err);
            }
        };
        let mut points = Vec::new();
        if let Some((volumes, mounts)) = &planned {
            let rootfs = self.inner.runtime.container_dir(&id).join("merged");
            let written = volumes.populate(&rootfs, mounts).and_then(|()| {
                let path = self.inner.runtime.container_dir(&id).join(MOUNTS_FILE);
                let bytes = serde_json::to_vec(&mounts.points).map_err(ApiError::internal)?;
                minidock_lifecycle::atomic::write_atomic(&path, &bytes).map_err(runtime_error)
            });
            if let Err(err) = written {
                self.inner.runtime.remove(&id, true).ok();
                undo_volumes(&mut settle);
                return Err(err);
            }
            points = mounts.points.clone();
            for name in &mounts.created {
                self.inner
                    .events
                    .publish("volume", "create", name, volume_attributes());
            }
        }
        let container = self
            .inner
            .runtime
            .containers()
            .container(&id)
            .map_err(runtime_error)?;
        let request_path: PathBuf = self.inner.runtime.container_dir(&id).join(REQUEST_FILE);
        let bytes = serde_json::to_vec(&request_record(&body)).map_err(ApiError::internal)?;
        minidock_lifecycle::atomic::write_atomic(&request_path, &bytes).map_err(runtime_error)?;
        let entry =
            Arc::new(Entry::new(container, Some(body), LifeState::default()).with_mounts(points));
        self.inner
            .entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), entry.clone());
        settle.now(); // the container is a user of its volumes from here on
        self.inner.publish("create", &entry, &[]);
        Ok(ContainerCreateResponse {
            id: id.to_string(),
            warnings: Vec::new(),
        })
    }

    fn list(&self, options: &ListOptions) -> ApiResult<Vec<ContainerSummary>> {
        let entries: Vec<Arc<Entry>> = {
            let map = self.inner.entries.read().unwrap_or_else(|p| p.into_inner());
            map.values().cloned().collect()
        };
        let now = SystemTime::now();
        let mut list = Vec::with_capacity(entries.len());
        for entry in entries {
            let record = match self.record(&entry) {
                Ok(r) => r,
                Err(ApiError::NotFound(_)) => continue, // removed meanwhile
                Err(e) => return Err(e),
            };
            // A status filter lists every container it matches, as Docker's
            // (`docker ps -f status=exited` needs no -a).
            let running_only = !options.all && options.filters.values("status").is_empty();
            if running_only && !record.state.is_alive() {
                continue;
            }
            let mut summary = convert::summary(&entry.container(), &record, now);
            if let Some(settings) = self.network_settings(&entry) {
                summary.ports = convert::ports(&settings);
                if let Some(mode) = entry
                    .request
                    .as_ref()
                    .and_then(|r| r.host_config.network_mode.clone().filter(|m| !m.is_empty()))
                {
                    summary.host_config.network_mode = mode;
                }
            }
            summary.mounts = entry.mount_points();
            if matches_filters(&summary, &entry, &record, &options.filters) {
                if options.size {
                    summary.size_rw = Some(self.rw_size(&entry.id) as i64);
                }
                list.push((entry.container().created, summary));
            }
        }
        // Newest first, to the nanosecond (`Created` has whole seconds only).
        list.sort_by(|(a_time, a), (b_time, b)| b_time.cmp(a_time).then_with(|| b.id.cmp(&a.id)));
        if let Some(limit) = options.limit {
            list.truncate(limit);
        }
        Ok(list.into_iter().map(|(_, summary)| summary).collect())
    }

    fn inspect(&self, id: &str) -> ApiResult<ContainerInspect> {
        let entry = self.entry(id)?;
        let record = self.record(&entry)?;
        let log_path = self.inner.runtime.log_path(&entry.id).display().to_string();
        let execs = self.inner.execs.ids_of(&entry.id);
        let mut inspect = convert::inspect(
            &entry.container(),
            &record,
            entry.request.as_ref(),
            log_path,
            execs,
        );
        if let Some(settings) = self.network_settings(&entry) {
            inspect.network_settings = settings;
        }
        inspect.mounts = entry.mount_points();
        Ok(inspect)
    }

    fn start(&self, id: &str) -> ApiResult<bool> {
        let entry = self.entry(id)?;
        let started = self.inner.start(&entry);
        if started.is_err() && entry.container().host_config.auto_remove {
            // Docker removes a `--rm` container that could not start:
            // `docker run --rm` waits for that removal before it exits.
            if self.inner.runtime.remove(&entry.id, true).is_ok() {
                self.inner.release_volumes(&entry, true);
                self.inner.forget(&entry);
            }
        }
        started
    }

    fn stop(&self, id: &str, options: &StopOptions) -> ApiResult<bool> {
        let entry = self.entry(id)?;
        let _op = lock(&entry.op);
        let timeout = match options.timeout {
            Some(t) if t < 0 => Some(Duration::from_secs(3600 * 24)),
            Some(t) => Some(Duration::from_secs(t as u64)),
            None => None,
        };
        let signal = match options.signal.as_deref() {
            Some(name) => {
                Some(minidock_lifecycle::signal::parse_signal(name).map_err(runtime_error)?)
            }
            None => None,
        };
        let stopped = self
            .inner
            .runtime
            .stop_with_signal(&entry.id, timeout, signal)
            .map_err(runtime_error)?;
        if stopped.is_some() {
            // As Docker's stop: it returns with the volumes let go.
            if !self.record(&entry)?.state.is_alive() {
                self.inner.end_volume_use(&entry, None);
            }
            self.inner.publish("stop", &entry, &[]);
        }
        Ok(stopped.is_some())
    }

    fn restart(&self, id: &str, options: &StopOptions) -> ApiResult<()> {
        let entry = self.entry(id)?;
        let shim = self
            .inner
            .runtime
            .containers()
            .state(&entry.id)
            .map_err(runtime_error)?
            .shim_pid;
        if self.stop(id, options)? {
            let mut states = entry.life.subscribe();
            let deadline = Instant::now() + Duration::from_secs(30);
            while states.borrow_and_update().running && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        if let Some(pid) = shim {
            wait_gone(pid, Duration::from_secs(10));
        }
        self.inner.start(&entry)?;
        self.inner.publish("restart", &entry, &[]);
        Ok(())
    }

    fn kill(&self, id: &str, signal: Option<&str>) -> ApiResult<()> {
        let entry = self.entry(id)?;
        let signal = minidock_lifecycle::signal::parse_signal(signal.unwrap_or("SIGKILL"))
            .map_err(runtime_error)?;
        let record = self.record(&entry)?;
        if !record.state.is_alive() {
            return Err(ApiError::Conflict(format!(
                "Cannot kill container: {id}: Container {} is not running",
                entry.id
            )));
        }
        let mut states = entry.life.subscribe();
        let watched = entry.session().is_some();
        self.inner
            .runtime
            .kill(&entry.id, signal)
            .map_err(runtime_error)?;
        self.inner
            .publish("kill", &entry, &[("signal", (signal as i32).to_string())]);
        if signal == nix::sys::signal::Signal::SIGKILL {
            // As dockerd: SIGKILL cannot be caught, so the answer waits for
            // the exit, and an inspect or a DELETE right after sees it.
            super::kill::await_exit(&self.inner.runtime, &entry.id, &mut states, watched)?;
        }
        Ok(())
    }

    fn pause(&self, id: &str) -> ApiResult<()> {
        let entry = self.entry(id)?;
        self.inner.runtime.pause(&entry.id).map_err(runtime_error)?;
        self.inner.publish("pause", &entry, &[]);
        Ok(())
    }

    fn unpause(&self, id: &str) -> ApiResult<()> {
        let entry = self.entry(id)?;
        self.inner
            .runtime
            .unpause(&entry.id)
            .map_err(runtime_error)?;
        self.inner.publish("unpause", &entry, &[]);
        Ok(())
    }

    fn remove(&self, id: &str, force: bool) -> ApiResult<()> {
        self.remove_with_volumes(id, force, false)
    }

    fn remove_with_volumes(&self, id: &str, force: bool, volumes: bool) -> ApiResult<()> {
        let entry = self.entry(id)?;
        let _op = lock(&entry.op);
        let record = self.record(&entry)?;
        if record.state.is_alive() && !force {
            return Err(ApiError::Conflict(format!(
                "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                entry.container().name
            )));
        }
        let was_running = record.state.is_alive();
        self.inner
            .runtime
            .remove(&entry.id, force)
            .map_err(runtime_error)?;
        if was_running {
            entry.life.send_modify(|l| l.exit_code = 137);
        }
        self.inner.end_volume_use(&entry, None);
        self.inner.execs.forget_container(&entry.id);
        self.inner.release_volumes(&entry, volumes);
        self.inner.forget(&entry);
        Ok(())
    }

    fn volume_users(&self) -> VolumeUsers {
        self.inner.volume_users(None)
    }

    fn prune(&self, filters: &crate::query::Filters) -> ApiResult<ContainerPruneResponse> {
        filters.only(&["until", "label"], "prune")?;
        let until = filters.until(SystemTime::now())?;
        let entries: Vec<Arc<Entry>> = {
            let map = self.inner.entries.read().unwrap_or_else(|p| p.into_inner());
            map.values().cloned().collect()
        };
        let mut response = ContainerPruneResponse::default();
        for entry in entries {
            let old_enough = until.is_none_or(|u| system_time(&entry.container().created) < u);
            if !old_enough || !filters.labels_match(&entry.container().config.labels) {
                continue;
            }
            match self.record(&entry) {
                Ok(record) if !record.state.is_alive() => {}
                Ok(_) | Err(ApiError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
            let size = self.rw_size(&entry.id);
            match self.remove(entry.id.as_str(), false) {
                Ok(()) => {
                    response
                        .containers_deleted
                        .get_or_insert_with(Vec::new)
                        .push(entry.id.to_string());
                    response.space_reclaimed += size;
                }
                // removed, or started, since we looked: not ours to prune
                Err(ApiError::NotFound(_) | ApiError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let reclaimed = response.space_reclaimed.to_string();
        self.inner.events.publish(
            "container",
            "prune",
            "",
            BTreeMap::from([("reclaimed".to_string(), reclaimed)]),
        );
        Ok(response)
    }

    fn rename(&self, id: &str, name: &str) -> ApiResult<()> {
        let entry = self.entry(id)?;
        let _op = lock(&entry.op);
        let old = entry.container().name.clone();
        self.inner
            .runtime
            .rename(&entry.id, name)
            .map_err(runtime_error)?;
        let renamed = self
            .inner
            .runtime
            .containers()
            .container(&entry.id)
            .map_err(runtime_error)?;
        entry.set_container(renamed);
        self.inner
            .publish("rename", &entry, &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    fn update(
        &self,
        id: &str,
        body: &crate::compat::update::ContainerUpdateBody,
    ) -> ApiResult<crate::compat::update::ContainerUpdateResponse> {
        let update = crate::compat::update::limits_update(body)?;
        let entry = self.entry(id)?;
        let _op = lock(&entry.op);
        let updated = self
            .inner
            .runtime
            .update(&entry.id, &update)
            .map_err(|e| match e {
                minidock_lifecycle::Error::InvalidHostConfig(m) => {
                    ApiError::BadParameter(format!("Cannot update container {}: {m}", entry.id))
                }
                other => runtime_error(other),
            })?;
        entry.set_container(updated);
        self.inner.publish("update", &entry, &[]);
        Ok(Default::default())
    }

    fn changes(&self, id: &str) -> ApiResult<Vec<ContainerChange>> {
        let entry = self.entry(id)?;
        let images = self.inner.runtime.images();
        let image = images
            .resolve(&entry.container().image_id)
            .map_err(super::images::store_error)?;
        // The top layer first, as overlayfs stacks them.
        let lowers: Vec<PathBuf> = image
            .layers
            .iter()
            .rev()
            .map(|d| images.layer_dir(d))
            .collect();
        let upper = self.inner.runtime.containers().dir(&entry.id).join("upper");
        let changes = minidock_images::changes::changes(&upper, &lowers)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        // The mount points of the engine's own files (`/etc/hosts`, …) are
        // not the container's changes, as in Docker (which keeps them in a
        // layer of their own); nor is their directory, for them alone.
        let engine_files: Vec<String> = entry
            .container()
            .host_config
            .etc_files
            .iter()
            .map(|b| b.destination.display().to_string())
            .collect();
        let kept: Vec<_> = changes
            .into_iter()
            .filter(|c| !engine_files.contains(&c.path))
            .collect();
        let only_for_engine = |path: &str| {
            engine_files
                .iter()
                .any(|f| std::path::Path::new(f).parent() == Some(std::path::Path::new(path)))
                && !kept.iter().any(|c| c.path.starts_with(&format!("{path}/")))
        };
        Ok(kept
            .iter()
            .filter(|c| {
                !(c.kind == minidock_images::changes::ChangeKind::Modified
                    && only_for_engine(&c.path))
            })
            .map(|c| ContainerChange {
                path: c.path.clone(),
                kind: c.kind as u8,
            })
            .collect())
    }

    fn archive_stat(&self, id: &str, path: &str) -> ApiResult<ContainerPathStat> {
        let entry = self.entry(id)?;
        let (root, inner) = self.copy_root(&entry, path, false)?;
        let stat = minidock_images::copy::stat_in_root(&root, &inner)
            .map_err(|e| copy_error(id, path, e))?;
        let mtime = std::time::UNIX_EPOCH + Duration::from_secs(stat.mtime.max(0) as u64);
        Ok(ContainerPathStat {
            name: stat.name,
            size: stat.size,
            mode: stat.mode,
            mtime: crate::time::rfc3339(mtime),
            link_target: stat.link_target,
        })
    }

    fn archive_get(&self, id: &str, path: &str, out: &mut dyn std::io::Write) -> ApiResult<()> {
        let entry = self.entry(id)?;
        let (root, inner) = self.copy_root(&entry, path, false)?;
        minidock_images::copy::archive_from_root(&root, &inner, out)
            .map(drop)
            .map_err(|e| copy_error(id, path, e))
    }

    fn archive_put(&self, id: &str, path: &str, tar: &mut dyn std::io::Read) -> ApiResult<()> {
        let entry = self.entry(id)?;
        let (root, inner) = self.copy_root(&entry, path, true)?;
        // What is copied in belongs to the container's root, as in Docker.
        minidock_images::copy::extract_into_root(&root, &inner, tar, (0, 0))
            .map_err(|e| copy_error(id, path, e))
    }

    fn watch(&self, id: &str) -> ApiResult<watch::Receiver<LifeState>> {
        Ok(self.entry(id)?.life.subscribe())
    }

    fn logs(&self, id: &str, options: &LogsOptions) -> ApiResult<LogStream> {
        let entry = self.entry(id)?;
        let to_timestamp = |t: SystemTime| minidock_lifecycle::time::Timestamp::from_system_time(t);
        let log_options = LogOptions {
            stdout: options.stdout,
            stderr: options.stderr,
            since: options.since.map(to_timestamp),
            until: options.until.map(to_timestamp),
            tail: options.tail,
            follow: options.follow,
        };
        let (tx, rx) = mpsc::channel(64);
        let runtime = self.inner.runtime.clone();
        let cid = entry.id.clone();
        std::thread::spawn(move || {
            let result = runtime.logs(&cid, &log_options, |line| {
                let entry = LogEntry {
                    stream: match line.stream {
                        Stream::Stdout => StreamType::Stdout,
                        Stream::Stderr => StreamType::Stderr,
                    },
                    time: system_time(&line.time),
                    data: line.log.as_bytes().to_vec(),
                };
                tx.blocking_send(entry).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
                })
            });
            if let Err(err) = result {
                eprintln!("minidockd: reading the log of {}: {err}", cid.short());
            }
        });
        Ok(LogStream {
            tty: entry.container().config.tty,
            entries: rx,
        })
    }

    fn attach(&self, id: &str, options: &AttachOptions) -> ApiResult<AttachStream> {
        let entry = self.entry(id)?;
        let (tx, rx) = mpsc::channel(256);
        if options.logs {
            let logged = self.logs(
                id,
                &LogsOptions {
                    stdout: options.stdout,
                    stderr: options.stderr,
                    ..LogsOptions::default()
                },
            )?;
            let mut entries = logged.entries;
            while let Some(line) = entries.blocking_recv() {
                if tx
                    .try_send(Output {
                        stream: line.stream,
                        data: line.data,
                    })
                    .is_err()
                {
                    break;
                }
            }
        }
        let wants_stdin = options.stdin && entry.container().config.open_stdin;
        let (stdin_tx, stdin_rx) = if wants_stdin {
            let (t, r) = mpsc::channel(64);
            (Some(t), Some(r))
        } else {
            (None, None)
        };
        let subscriber = Subscriber {
            tx,
            stdout: options.stdout,
            stderr: options.stderr,
        };
        if !options.stream {
            return Ok(AttachStream {
                tty: entry.container().config.tty,
                output: rx,
                stdin: None,
                detach_keys: DetachKeys::default(),
            });
        }
        // Registered under the op lock, so a concurrent start either sees
        // this client as pending or has its session ready for it.
        let _op = lock(&entry.op);
        match entry.session() {
            Some(session) => {
                session.subscribe(subscriber);
                if let Some(rx) = stdin_rx {
                    forward_stdin(session, rx, entry.closes_stdin());
                }
            }
            None => lock(&entry.pending).push(Pending {
                subscriber,
                stdin: stdin_rx,
            }),
        }
        Ok(AttachStream {
            tty: entry.container().config.tty,
            output: rx,
            stdin: stdin_tx,
            detach_keys: DetachKeys::default(),
        })
    }

    fn resize(&self, id: &str, height: u16, width: u16) -> ApiResult<()> {
        let entry = self.entry(id)?;
        match entry.session() {
            Some(session) => session
                .send(&Frame::Resize {
                    rows: height,
                    cols: width,
                })
                .map_err(ApiError::internal),
            None => Err(ApiError::not_running(entry.id.as_str())),
        }
    }

    fn top(&self, id: &str, ps_args: Option<&str>) -> ApiResult<TopResponse> {
        let entry = self.entry(id)?;
        let pids: std::collections::HashSet<i32> = self
            .inner
            .runtime
            .top(&entry.id)
            .map_err(runtime_error)?
            .into_iter()
            .map(|p| p.pid)
            .collect();
        // As Docker: the host's `ps` with the client's arguments (default
        // `-ef`), its rows kept for the container's processes.
        let args = ps_args.filter(|a| !a.trim().is_empty()).unwrap_or("-ef");
        let output = std::process::Command::new("ps")
            .args(args.split_whitespace())
            .output()
            .map_err(|e| {
                ApiError::Internal(format!(
                    "top runs the host's ps, which failed to start ({e}): install it (Debian: apt-get install procps)"
                ))
            })?;
        if !output.status.success() {
            return Err(ApiError::BadParameter(format!(
                "ps {args} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        super::top::rows_of(&String::from_utf8_lossy(&output.stdout), &pids)
    }

    fn stats(&self, id: &str) -> ApiResult<ContainerStats> {
        let entry = self.entry(id)?;
        let stats = self.inner.runtime.stats(&entry.id).map_err(runtime_error)?;
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        Ok(ContainerStats {
            name: format!("/{}", entry.container().name),
            id: entry.id.to_string(),
            read: crate::time::rfc3339(SystemTime::now()),
            preread: crate::time::ZERO_TIME.to_string(),
            pids_stats: PidsStats {
                current: stats.pids_current,
                limit: stats.pids_limit,
            },
            cpu_stats: CpuStats {
                cpu_usage: CpuUsage {
                    total_usage: stats.cpu_usage_ns,
                    ..CpuUsage::default()
                },
                system_cpu_usage: system_cpu_ns(),
                online_cpus: cpus,
            },
            precpu_stats: CpuStats::default(),
            memory_stats: MemoryStats {
                usage: stats.memory_usage,
                limit: stats.memory_limit.unwrap_or_else(host_memory),
                stats: BTreeMap::new(),
            },
            blkio_stats: BTreeMap::new(),
            networks: self
                .inner
                .networks
                .as_ref()
                .and_then(|n| n.interface_counters(entry.id.as_str()))
                .map(|counters| {
                    counters
                        .into_iter()
                        .map(|(name, rx, tx)| {
                            (name, serde_json::json!({"rx_bytes": rx, "tx_bytes": tx}))
                        })
                        .collect()
                }),
        })
    }

    fn exec_create(&self, id: &str, config: ExecConfig) -> ApiResult<String> {
        let entry = self.entry(id)?;
        let record = self.record(&entry)?;
        match record.state {
            State::Running { .. } => {}
            State::Paused { .. } => {
                return Err(ApiError::Conflict(format!(
                    "Container {} is paused, unpause the container before exec",
                    entry.id
                )))
            }
            _ => return Err(ApiError::not_running(entry.id.as_str())),
        }
        if config.privileged {
            return Err(ApiError::NotImplemented(
                "privileged exec is not supported".to_string(),
            ));
        }
        let exec_id = self.inner.execs.create(entry.id.clone(), config);
        self.inner
            .publish("exec_create", &entry, &[("execID", exec_id.clone())]);
        Ok(exec_id)
    }

    fn exec_start(
        &self,
        exec_id: &str,
        config: &ExecStartConfig,
    ) -> ApiResult<Option<AttachStream>> {
        let mut stream = self
            .inner
            .execs
            .start(&self.inner.runtime, exec_id, config.detach)?;
        if let Some(stream) = &mut stream {
            // As dockerd: the framing follows the `Tty` of the start
            // request; the exec's own `Tty` only decides whether the
            // process gets a terminal.
            stream.tty = config.tty;
        }
        Ok(stream)
    }

    fn exec_inspect(&self, exec_id: &str) -> ApiResult<ExecInspect> {
        self.inner.execs.inspect(exec_id)
    }

    fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> ApiResult<()> {
        self.inner.execs.resize(exec_id, height, width)
    }
}

/// CPU time of the whole machine, in nanoseconds (the denominator of
/// `docker stats`' CPU percentage).
fn system_cpu_ns() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("cpu "))?;
            let jiffies: u64 = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum();
            Some(jiffies * (1_000_000_000 / ticks))
        })
        .unwrap_or(0)
}

/// The host's memory, the "limit" of a container without one.
fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
                .map(|k| k * 1024)
        })
        .unwrap_or(0)
}
