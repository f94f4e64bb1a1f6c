//! The daemon process: directories, the lock, the listeners, the runtime,
//! a clean stop on SIGTERM, and a reload of the configuration on SIGHUP.
//!
//! The async runtime is tokio's *current-thread* flavour: the HTTP layer is
//! light, every service call runs on the blocking pool, and one thread keeps
//! an idle daemon small (the target is ≤ 15 MB of RSS; dockerd with
//! containerd uses ~128 MB).

use crate::compat::defaults::ContainerDefaults;
use crate::events::Events;
use crate::listen::{bind_unix, resolve_group, Host, ListenError, DEFAULT_SOCKET};
use crate::networks::NetworkService;
use crate::server::{serve_tcp, serve_tls, serve_unix, Api, DaemonFacts};
use crate::service::{ContainerService, HostService, ImageService};
use crate::tls::{server_config, TlsError, TlsFiles};
use nix::fcntl::{Flock, FlockArg};
use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

// The default state and runtime directories and cgroup parent: chapter
// 03's, one home for the engine and the daemon.
pub use minidock_lifecycle::runtime::{
    DEFAULT_CGROUP_PARENT as CGROUP_PARENT, DEFAULT_ROOT, DEFAULT_RUN,
};

// ANCHOR: daemon_config
/// How the daemon is set up (the flags of `minidockd`).
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Where to listen (`--host`, repeatable).
    pub hosts: Vec<Host>,
    /// State (`--root`): images, containers. Mode 0700.
    pub root: PathBuf,
    /// Runtime files (`--run`): the socket, shim sockets.
    pub run: PathBuf,
    /// The group that may use the socket (`--group`).
    pub group: Option<String>,
    /// The cgroup every container's cgroup is made under
    /// (`--cgroup-parent`, `minidock` by default).
    pub cgroup_parent: String,
    /// Print every request; a reload may switch it.
    pub debug: Arc<AtomicBool>,
    /// `--tlsverify` with its CA, certificate and key: TCP hosts are served
    /// with mutual TLS (see [`crate::tls`]).
    pub tls: Option<TlsFiles>,
    /// `--insecure-tcp-without-tls-i-know-this-is-root`: serve a TCP host
    /// without TLS. Without it (and without `tls`), a TCP host is refused.
    pub insecure_tcp: bool,
    /// How to reach registries: insecure ones, mirrors, the certificate
    /// directory. Shared with the image service, so a reload reaches the
    /// next pull.
    pub registry: RegistrySettings,
    /// What new containers get when their request leaves it out
    /// (daemon.json's `default-ulimits`, `dns`).
    pub container_defaults: Arc<RwLock<ContainerDefaults>>,
    /// Called on SIGHUP: re-reads the configuration and updates what may
    /// change while the daemon runs (`debug`, `registry`, …), as dockerd
    /// reloads daemon.json. `None`: SIGHUP is ignored.
    pub reload: Option<Reload>,
}
// ANCHOR_END: daemon_config

/// The daemon's reaction to SIGHUP (see [`DaemonConfig::reload`]).
#[derive(Clone)]
pub struct Reload(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Reload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reload(..)")
    }
}

/// The registry client's settings (chapter 04), shared and replaceable
/// while the daemon runs.
pub type RegistrySettings = Arc<std::sync::RwLock<minidock_registry::ClientOptions>>;

impl Default for DaemonConfig {
    fn default() -> DaemonConfig {
        DaemonConfig {
            hosts: vec![Host::Unix(PathBuf::from(DEFAULT_SOCKET))],
            root: PathBuf::from(DEFAULT_ROOT),
            run: PathBuf::from(DEFAULT_RUN),
            group: None,
            cgroup_parent: CGROUP_PARENT.to_string(),
            debug: Arc::default(),
            tls: None,
            insecure_tcp: false,
            registry: RegistrySettings::default(),
            container_defaults: Arc::default(),
            reload: None,
        }
    }
}

// ANCHOR: daemon_error
/// What can stop the daemon from starting.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A directory could not be made or secured.
    #[error("cannot prepare {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What the system said (permission denied, a file in the way, …).
        source: std::io::Error,
    },
    /// Another daemon holds the root.
    #[error(
        "another minidockd is using {0} (its lock is held): stop it first, or pass another --root"
    )]
    Locked(PathBuf),
    /// A listener failed.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// A TCP host without TLS, and no flag that says this is wanted.
    #[error(
        "refusing to listen on tcp://{0} without TLS: anyone who can connect to that port would \
         have root on this machine. Serve it with mutual TLS (--tlsverify --tlscacert CA.pem \
         --tlscert SERVER-CERT.pem --tlskey SERVER-KEY.pem: only clients holding a certificate \
         of that CA get in), use a unix socket, or, if an unauthenticated root port is really \
         what you want, pass --insecure-tcp-without-tls-i-know-this-is-root"
    )]
    PlainTcp(String),
    /// The TLS files are missing or unusable.
    #[error("cannot serve TLS: {0}")]
    Tls(#[from] TlsError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The services could not start.
    #[error("cannot start the engine: {0}")]
    Engine(String),
}
// ANCHOR_END: daemon_error

// ANCHOR: root_lock
/// Creates `path` (and parents) and sets its mode, even if it existed: the
/// state directory holds every container's root filesystem and must not be
/// readable by others.
pub fn secure_dir(path: &Path, mode: u32) -> Result<(), DaemonError> {
    let err = |source| DaemonError::Directory {
        path: path.to_path_buf(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(err)
}

/// Takes the root's lock, so two daemons never share one state directory.
/// Held as long as the returned value lives.
pub fn lock_root(root: &Path) -> Result<Flock<File>, DaemonError> {
    let path = root.join("minidockd.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DaemonError::Directory {
            path: path.clone(),
            source,
        })?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| DaemonError::Locked(root.to_path_buf()))
}
// ANCHOR_END: root_lock

/// The daemon's id: random once, then kept in `root/engine-id`.
pub fn engine_id(root: &Path) -> String {
    let path = root.join("engine-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        if !id.trim().is_empty() {
            return id.trim().to_string();
        }
    }
    let mut bytes = [0u8; 16];
    let random =
        File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    let id = if random.is_ok() {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    } else {
        format!("{:032x}", std::process::id())
    };
    std::fs::write(&path, &id).ok();
    id
}

/// The services of a daemon, built once the directories exist.
pub struct Services {
    /// Images: list, pull, push, remove, load and save (chapters 02 and 04).
    pub images: Arc<dyn ImageService>,
    /// Containers: their lifecycle, streams and exec (chapter 03).
    pub containers: Arc<dyn ContainerService>,
    /// The machine, as `/info` reports it.
    pub host: Arc<dyn HostService>,
    /// Networks, when a network service is plugged in.
    pub networks: Option<Arc<dyn NetworkService>>,
    /// Volumes, when a volume service is plugged in.
    pub volumes: Option<Arc<dyn crate::volumes::VolumeService>>,
    /// Chapter 08's builder, when one is plugged in.
    pub build: Option<Arc<dyn crate::builder::BuildService>>,
}

/// Runs a daemon until SIGTERM or SIGINT: prepares directories, takes the
/// lock, builds the services with `build` (given the event bus), binds every
/// host and serves. Containers keep running after the daemon stops: their
/// shims hold them.
pub fn run(
    config: &DaemonConfig,
    build: impl FnOnce(&DaemonConfig, &Events) -> Result<Services, DaemonError>,
) -> Result<(), DaemonError> {
    // ANCHOR: tcp_policy
    // Before anything is touched: a TCP host is served with mutual TLS, or
    // not at all unless the flag that names the risk was given.
    let tls = config.tls.as_ref().map(server_config).transpose()?;
    for host in &config.hosts {
        if let Host::Tcp(addr) = host {
            if tls.is_none() && !config.insecure_tcp {
                return Err(DaemonError::PlainTcp(addr.clone()));
            }
        }
    }
    // ANCHOR_END: tcp_policy
    secure_dir(&config.root, 0o700)?;
    // 0711: clients in the socket's group must reach the socket inside;
    // nobody else may list what is there.
    secure_dir(&config.run, 0o711)?;
    let _lock = lock_root(&config.root)?;
    let group = config.group.as_deref().map(resolve_group).transpose()?;

    let events = Events::new();
    let services = build(config, &events)?;
    let api = Arc::new(Api {
        images: services.images,
        containers: services.containers,
        host: services.host,
        networks: services.networks,
        volumes: services.volumes,
        build: services.build,
        events,
        facts: DaemonFacts {
            id: engine_id(&config.root),
            root: config.root.clone(),
            debug: config.debug.clone(),
            container_defaults: config.container_defaults.clone(),
            registry: config.registry.clone(),
        },
    });

    // ANCHOR: bind_hosts
    // Bind before the runtime starts: an error is reported synchronously.
    let mut unix = Vec::new();
    let mut tcp = Vec::new();
    for host in &config.hosts {
        match host {
            Host::Unix(path) => unix.push((path.clone(), bind_unix(path, group)?)),
            Host::Tcp(addr) => {
                let listener =
                    std::net::TcpListener::bind(addr).map_err(|source| ListenError::Io {
                        action: "listen on",
                        path: PathBuf::from(addr),
                        source,
                    })?;
                tcp.push((addr.clone(), listener));
            }
        }
    }
    // ANCHOR_END: bind_hosts

    // ANCHOR: runtime
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    // ANCHOR_END: runtime
    // ANCHOR: serve_hosts
    runtime.block_on(async {
        let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut tasks = Vec::new();
        for (path, listener) in &unix {
            listener
                .set_nonblocking(true)
                .map_err(DaemonError::Runtime)?;
            let listener = tokio::net::UnixListener::from_std(
                listener.try_clone().map_err(DaemonError::Runtime)?,
            )
            .map_err(DaemonError::Runtime)?;
            let mut stop = stop_tx.subscribe();
            tasks.push(tokio::spawn(serve_unix(
                listener,
                api.clone(),
                async move {
                    stop.recv().await.ok();
                },
            )));
            eprintln!("minidockd: API listening on unix://{}", path.display());
        }
        // ANCHOR_END: serve_hosts
        for (addr, listener) in tcp {
            // The port the system chose for `:0`, when it did.
            let addr = listener.local_addr().map_or(addr, |a| a.to_string());
            listener
                .set_nonblocking(true)
                .map_err(DaemonError::Runtime)?;
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(DaemonError::Runtime)?;
            let mut stop = stop_tx.subscribe();
            let stopped = async move {
                stop.recv().await.ok();
            };
            match &tls {
                Some(config) => {
                    tasks.push(tokio::spawn(serve_tls(
                        listener,
                        config.clone(),
                        api.clone(),
                        stopped,
                    )));
                    eprintln!("minidockd: API listening on tcp://{addr} (mutual TLS)");
                }
                None => {
                    tasks.push(tokio::spawn(serve_tcp(listener, api.clone(), stopped)));
                    eprintln!(
                        "minidockd: WARNING: API listening on tcp://{addr} without TLS or \
                         authentication (--insecure-tcp-without-tls-i-know-this-is-root): anyone \
                         who can reach this port has root on this machine"
                    );
                }
            }
        }
        // ANCHOR: shutdown
        wait_for_stop_signal(config.reload.as_ref())
            .await
            .map_err(DaemonError::Runtime)?;
        eprintln!("minidockd: stopping; containers keep running under their shims");
        stop_tx.send(()).ok();
        for task in tasks {
            task.await.ok();
        }
        Ok::<(), DaemonError>(())
    })?;
    for (path, _) in &unix {
        std::fs::remove_file(path).ok();
    }
    Ok(())
}

/// Waits for SIGTERM or SIGINT; reloads on each SIGHUP meanwhile.
async fn wait_for_stop_signal(reload: Option<&Reload>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = hup.recv() => match reload {
                // It reads a small file: quick enough for the runtime's thread.
                Some(Reload(reload)) => reload(),
                None => eprintln!("minidockd: SIGHUP ignored: no configuration to reload"),
            },
        }
    }
}
// ANCHOR_END: shutdown
