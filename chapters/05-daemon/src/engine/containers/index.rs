//! The daemon's index of containers: what a long-lived process knows of
//! each one beyond what chapter 03 keeps on disk.
//!
//! One [`Entry`] per container, found by id, name or id prefix without a
//! scan of the disk. Each entry holds its own locks: the live session to
//! its shim, the attach clients that wait for a start, the shim of the last
//! run, the run that counts as a user of its volumes, and `op`, which
//! serialises start, stop, restart and remove of that one container.

use super::{RuntimeContainers, MOUNTS_FILE, REQUEST_FILE};
use crate::compat::convert;
use crate::compat::health::{Monitor, SharedHealth};
use crate::compat::types::*;
use crate::engine::exec::Execs;
use crate::engine::restart::start_on_boot;
use crate::engine::session::{Pending, Session};
use crate::error::{ApiError, ApiResult};
use crate::events::Events;
use crate::locks::{lock, read, write};
use crate::networks::{ContainerRef, NetworkService};
use crate::volumes::VolumeService;
use crate::wait::LifeState;
use minidock_lifecycle::state::{State, StateRecord};
use minidock_lifecycle::store::Container;
use minidock_lifecycle::{ContainerId, Runtime};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::watch;

// ANCHOR: entry
/// What the daemon knows about one container.
pub(crate) struct Entry {
    /// Its id, which never changes (a rename changes the name only).
    pub id: ContainerId,
    /// What the container is; replaced whole by a rename.
    container: RwLock<Arc<Container>>,
    /// The create request as the client sent it, when the daemon made it
    /// (the builder's containers have none).
    pub request: Option<ContainerCreateBody>,
    /// Its life as `wait` and the attach streams watch it.
    pub life: watch::Sender<LifeState>,
    /// The connection to its shim while it runs.
    pub(super) session: Mutex<Option<Arc<Session>>>,
    /// Attach clients that wait for the next start.
    pub(super) pending: Mutex<Vec<Pending>>,
    /// The shim of the last run, until it is gone.
    pub(super) last_shim: Mutex<Option<i32>>,
    /// Serialises start, stop, restart and remove of this container.
    pub(super) op: Mutex<()>,
    /// Set once, when it is removed.
    pub(super) removed: AtomicBool,
    /// Its mounts as inspect shows them, when a volume service planned
    /// them (else inspect derives them from the binds).
    pub(super) mounts: Vec<MountPoint>,
    /// Which run counts as a user of the volumes mounted per use.
    pub(super) volume_run: Mutex<VolumeRun>,
    /// Its health check's status and results (see `health_use`).
    pub(super) health: SharedHealth,
    /// The monitor that probes it while it runs.
    pub(super) monitor: Mutex<Option<Monitor>>,
}

/// A container's runs, as the volume service counts them: each start is a
/// new run, counted once ([`VolumeService::activate`]) and uncounted once
/// ([`VolumeService::deactivate`]) — by whichever comes first of the stop
/// or remove that saw the process end and the session that saw its exit.
/// The number keeps a late exit of one run from ending the next.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct VolumeRun {
    /// The run's number, one more at each start.
    pub number: u64,
    /// Whether the volume service counts it as a user now.
    pub counted: bool,
}
// ANCHOR_END: entry

impl Entry {
    pub(super) fn new(
        container: Container,
        request: Option<ContainerCreateBody>,
        life: LifeState,
    ) -> Entry {
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
            health: SharedHealth::default(),
            monitor: Mutex::new(None),
        }
    }

    pub(super) fn with_mounts(mut self, mounts: Vec<MountPoint>) -> Entry {
        self.mounts = mounts;
        self
    }

    /// Its mounts as inspect and lists show them.
    pub(super) fn mount_points(&self) -> Vec<MountPoint> {
        if self.mounts.is_empty() {
            convert::mounts(&self.container())
        } else {
            self.mounts.clone()
        }
    }

    /// The container as it is now (a rename gives a new one).
    pub fn container(&self) -> Arc<Container> {
        read(&self.container).clone()
    }

    pub(super) fn set_container(&self, container: Container) {
        *write(&self.container) = Arc::new(container);
    }

    fn stdin_once(&self) -> bool {
        self.request.as_ref().is_some_and(|r| r.config.stdin_once)
    }

    /// Whether the end of an attached client's input closes the
    /// container's stdin: with `StdinOnce` and no terminal, as in Docker. A
    /// terminal's input stays open, so a client that detaches (or whose
    /// terminal went away) leaves the shell running.
    pub(super) fn closes_stdin(&self) -> bool {
        self.stdin_once() && !self.container().config.tty
    }

    pub(super) fn session(&self) -> Option<Arc<Session>> {
        lock(&self.session).clone()
    }
}

/// The life state a container has on disk, for a daemon that (re)starts.
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

// ANCHOR: inner
/// The index and the services it works with, shared with the threads that
/// watch each session.
pub(crate) struct Inner {
    /// Chapter 03's runtime, which keeps every container on disk.
    pub runtime: Runtime,
    /// Where container events are published.
    pub events: Events,
    /// The network service, when one is plugged in (chapter 06).
    pub networks: Option<Arc<dyn NetworkService>>,
    /// Every container, by id.
    pub(super) entries: RwLock<HashMap<ContainerId, Arc<Entry>>>,
    /// The exec instances of every container.
    pub execs: Execs,
    /// The volume service, when one is plugged in.
    pub(super) volumes: Option<Arc<dyn VolumeService>>,
}
// ANCHOR_END: inner

impl Inner {
    /// Publishes a container event with its name, image and labels.
    pub(super) fn publish(&self, action: &str, entry: &Entry, extra: &[(&str, String)]) {
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

    /// Every entry, at this moment.
    pub(super) fn all(&self) -> Vec<Arc<Entry>> {
        read(&self.entries).values().cloned().collect()
    }

    /// Indexes `entry` (replacing one of the same id).
    pub(super) fn insert(&self, entry: Arc<Entry>) {
        write(&self.entries).insert(entry.id.clone(), entry);
    }

    // ANCHOR: resolve
    /// Finds a container by id, name or unique id prefix.
    pub fn resolve(&self, reference: &str) -> ApiResult<Arc<Entry>> {
        let entries = read(&self.entries);
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
    // ANCHOR_END: resolve

    // ANCHOR: forget
    /// Marks a container removed: waiters on `removed` are answered.
    pub(super) fn forget(&self, entry: &Entry) {
        if entry.removed.swap(true, Ordering::SeqCst) {
            return;
        }
        write(&self.entries).remove(&entry.id);
        self.unwatch_health(entry);
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
        // The event first: a client that hears of the removal and then
        // asks for the events finds `destroy` among them.
        self.publish("destroy", entry, &[]);
        entry.life.send_modify(|l| {
            l.running = false;
            l.removed = true;
        });
    }
    // ANCHOR_END: forget

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
}

// ANCHOR: open_index
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
        let all = inner.runtime.list().map_err(ApiError::from)?;
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
            entry.load_health(&dir);
            inner.insert(entry.clone());
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
        // ANCHOR_END: open_index
        // ANCHOR: open_adopt
        for entry in removed {
            inner.release_volumes(&entry, true);
        }
        inner.adopt_running(&running);
        for entry in running {
            match inner.runtime.attach(&entry.id) {
                Ok(stream) => {
                    inner.open_session(&entry, stream, Vec::new())?;
                    // The checks go on where the last daemon left them.
                    inner.watch_health(&entry, false);
                }
                Err(err) => eprintln!(
                    "minidockd: cannot reach the shim of {}: {err}",
                    entry.id.short()
                ),
            }
        }
        if let Some(networks) = &inner.networks {
            let existing: Vec<ContainerRef> = {
                let entries = read(&inner.entries);
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
    // ANCHOR_END: open_adopt

    /// The entry of a container by id, name or unique id prefix.
    pub(super) fn entry(&self, reference: &str) -> ApiResult<Arc<Entry>> {
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
            write(&self.inner.entries)
                .entry(id)
                .or_insert_with(|| Arc::new(Entry::new(container, None, life_of(&record))));
        }
    }

    // ANCHOR: record
    /// The container's state record, checked with the runtime when no
    /// session watches it.
    pub(super) fn record(&self, entry: &Entry) -> ApiResult<StateRecord> {
        let record = self
            .inner
            .runtime
            .containers()
            .state(&entry.id)
            .map_err(ApiError::from)?;
        if record.state.is_alive() && entry.session().is_none() {
            // Nobody watches it: let the runtime check that it still lives.
            return self
                .inner
                .runtime
                .inspect(&entry.id)
                .map(|(_, r)| r)
                .map_err(ApiError::from);
        }
        Ok(record)
    }
    // ANCHOR_END: record

    /// The image ids containers use (for `rmi`).
    pub fn image_ids(&self) -> Vec<String> {
        read(&self.inner.entries)
            .values()
            .map(|e| e.container().image_id.clone())
            .collect()
    }
}
