//! The services behind the API, as traits.
//!
//! The HTTP layer knows nothing about stores, shims or registries: it parses
//! a request, calls one of these methods and turns the result into a
//! response. That keeps the protocol testable with in-memory fakes, and lets
//! the real engine (the `engine` module) plug in.
//!
//! The methods are blocking: the images, containers and registry chapters
//! are synchronous code that touches disks, processes and sockets. The server
//! calls them on tokio's blocking thread pool, so a slow pull never stalls
//! another request. What streams (output, logs, progress) comes back through
//! channels that the server drains asynchronously.

use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::frames::StreamType;
use crate::query::Filters;
use crate::wait::LifeState;
use std::io::{Read, Write};
use std::time::SystemTime;
use tokio::sync::{mpsc, watch};

/// Where a long operation reports its progress (one JSON object each).
pub type Progress<'a> = &'a mut dyn FnMut(ProgressMessage);

/// Credentials from the `X-Registry-Auth` header (base64url JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistryAuth {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Password or token.
    #[serde(default)]
    pub password: String,
    /// The registry these are for.
    #[serde(default)]
    pub serveraddress: String,
    /// An OAuth identity token instead of a password.
    #[serde(default)]
    pub identitytoken: String,
}

/// What a `POST /images/create?fromImage=` asks to pull.
#[derive(Debug, Clone, Copy)]
pub struct PullRequest<'a> {
    /// `fromImage`: the image name, maybe with a tag or digest.
    pub image: &'a str,
    /// `tag`: a tag or a digest.
    pub tag: Option<&'a str>,
    /// `platform`: which image of a multi-platform index; `None`: the
    /// daemon's own platform.
    pub platform: Option<&'a minidock_registry::Platform>,
    /// The credentials of `X-Registry-Auth`.
    pub auth: Option<&'a RegistryAuth>,
}

/// One entry of `GET /images/{name}/history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// The image id for the top entry, `<missing>` below it.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The command that made the layer.
    pub created_by: String,
    /// Tags of the image, on the top entry.
    pub tags: Option<Vec<String>>,
    /// Bytes the step added.
    pub size: i64,
    /// A comment.
    pub comment: String,
}

// ANCHOR: image_service
/// Images: the store of chapter 02 and the registry client of chapter 04.
pub trait ImageService: Send + Sync + 'static {
    /// `POST /auth`: checks credentials against a registry, as `docker login`
    /// asks before it saves them in the client's config.json. The daemon keeps
    /// nothing: each pull or push brings its own `X-Registry-Auth`.
    fn login(&self, auth: &RegistryAuth) -> ApiResult<()> {
        Err(ApiError::NotImplemented(format!(
            "this daemon cannot check credentials for {:?}",
            auth.serveraddress
        )))
    }
    /// `GET /images/json`.
    fn list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<ImageSummary>>;
    /// `GET /images/{name}/json`; `name` may be a tag, an id or an id prefix.
    fn inspect(&self, name: &str) -> ApiResult<ImageInspect>;
    /// `GET /images/{name}/history`.
    fn history(&self, name: &str) -> ApiResult<Vec<HistoryItem>>;
    /// `POST /images/{name}/tag?repo=&tag=`.
    fn tag(&self, source: &str, repo: &str, tag: Option<&str>) -> ApiResult<()>;
    /// `DELETE /images/{name}`: untag, and delete what no tag and no
    /// container uses any more.
    fn remove(&self, name: &str, force: bool) -> ApiResult<Vec<ImageDeleteItem>>;
    /// `POST /images/create?fromImage=&tag=&platform=`: pull, reporting
    /// progress.
    fn pull(&self, request: &PullRequest<'_>, progress: Progress) -> ApiResult<()>;
    /// `POST /images/{name}/push?tag=`.
    fn push(
        &self,
        name: &str,
        tag: Option<&str>,
        auth: Option<&RegistryAuth>,
        progress: Progress,
    ) -> ApiResult<()>;
    // ANCHOR_END: image_service
    /// `POST /images/create?fromSrc=-&repo=&tag=`: a root filesystem tar
    /// becomes a one-layer image.
    fn import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
        progress: Progress,
    ) -> ApiResult<()>;
    /// `POST /images/load`: a `docker save` tar.
    fn load(&self, tar: &mut dyn Read, progress: Progress) -> ApiResult<()>;
    /// `GET /images/get?names=` and `GET /images/{name}/get`: write a
    /// `docker save` tar.
    fn save(&self, names: &[String], out: &mut dyn Write) -> ApiResult<()>;
    /// `POST /images/prune?filters=`: deletes the images no container uses —
    /// only the untagged ones unless the filters say `dangling=false`.
    fn prune(&self, filters: &Filters) -> ApiResult<ImagePruneResponse> {
        let _ = filters;
        Err(ApiError::NotImplemented(
            "this daemon cannot prune images".to_string(),
        ))
    }
}

// ANCHOR: list_stop_logs_options
/// `GET /containers/json` options.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Include containers that do not run.
    pub all: bool,
    /// At most this many, newest first.
    pub limit: Option<usize>,
    /// Compute `SizeRw`.
    pub size: bool,
    /// `status`, `name`, `id`, `label`, `ancestor`, `exited` filters.
    pub filters: Filters,
}

/// `POST /containers/{id}/stop` and `restart` options.
#[derive(Debug, Clone, Default)]
pub struct StopOptions {
    /// Seconds between the stop signal and SIGKILL (`None`: the container's
    /// `StopTimeout`, else 10).
    pub timeout: Option<i64>,
    /// The signal to send first (`None`: the container's `StopSignal`).
    pub signal: Option<String>,
}

/// `GET /containers/{id}/logs` options.
#[derive(Debug, Clone, Default)]
pub struct LogsOptions {
    /// Include stdout.
    pub stdout: bool,
    /// Include stderr.
    pub stderr: bool,
    /// Keep streaming new output until the container stops.
    pub follow: bool,
    /// Only the last N lines (`None`: all).
    pub tail: Option<usize>,
    /// Only lines written at or after this time.
    pub since: Option<SystemTime>,
    /// Only lines written before this time.
    pub until: Option<SystemTime>,
}
// ANCHOR_END: list_stop_logs_options

// ANCHOR: attach_options
/// `POST /containers/{id}/attach` options.
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// Forward the client's input to the container's stdin.
    pub stdin: bool,
    /// Send stdout.
    pub stdout: bool,
    /// Send stderr.
    pub stderr: bool,
    /// Send output from now on (what `docker run` and `attach` ask).
    pub stream: bool,
    /// Send the output logged so far first.
    pub logs: bool,
    /// `detachKeys`: the keys that end the attach on a terminal, in
    /// Docker's notation; the default sequence when `None`.
    pub detach_keys: Option<String>,
}

impl AttachOptions {
    /// What `docker run` and `docker attach` ask for: stdout and stderr from
    /// now on (no logged output first), and stdin when `stdin` is set.
    pub fn live(stdin: bool) -> AttachOptions {
        AttachOptions {
            stdin,
            stdout: true,
            stderr: true,
            stream: true,
            logs: false,
            detach_keys: None,
        }
    }

    /// The same, with the keys that detach (sent as `detachKeys`, so the
    /// daemon watches for the keys the client watches for).
    pub fn with_detach_keys(self, keys: &crate::detach::DetachKeys) -> AttachOptions {
        AttachOptions {
            detach_keys: Some(keys.to_string()),
            ..self
        }
    }
}
// ANCHOR_END: attach_options

// ANCHOR: output_streams
/// Bytes a container wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Stdout or stderr (stdout for a TTY).
    pub stream: StreamType,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A line of a container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Stdout or stderr.
    pub stream: StreamType,
    /// When the shim read it.
    pub time: SystemTime,
    /// The bytes, with the newline if it had one.
    pub data: Vec<u8>,
}

/// The live streams of an attach or an exec start.
#[derive(Debug)]
pub struct AttachStream {
    /// The process has a terminal: send raw bytes, no frames.
    pub tty: bool,
    /// Its output; closed when the process's output ends.
    pub output: mpsc::Receiver<Output>,
    /// Its input when stdin was asked for; dropping the sender closes the
    /// process's stdin (EOF) when it has no terminal and closes stdin once
    /// (`StdinOnce`); a terminal's input stays open, as in Docker, so a
    /// client that detaches leaves the shell running.
    pub stdin: Option<mpsc::Sender<Vec<u8>>>,
    /// The keys that end the attach on a terminal (`ctrl-p,ctrl-q` unless
    /// the client chose others), see [`crate::detach`].
    pub detach_keys: crate::detach::DetachKeys,
}

/// A container's log, read back.
#[derive(Debug)]
pub struct LogStream {
    /// The container has a terminal: send raw bytes, no frames.
    pub tty: bool,
    /// The entries; closed at the end (with `follow`: when the container
    /// stops).
    pub entries: mpsc::Receiver<LogEntry>,
}
// ANCHOR_END: output_streams

// ANCHOR: container_service
/// Containers: the runtime of chapter 03, with names, policies and events.
pub trait ContainerService: Send + Sync + 'static {
    /// `POST /containers/create?name=`; a missing image is
    /// [`ApiError::no_such_image`](crate::ApiError::no_such_image).
    fn create(
        &self,
        name: Option<&str>,
        body: ContainerCreateBody,
    ) -> ApiResult<ContainerCreateResponse>;
    /// `GET /containers/json`.
    fn list(&self, options: &ListOptions) -> ApiResult<Vec<ContainerSummary>>;
    /// `GET /containers/{id}/json`; `id` may be an id, a unique id prefix or
    /// a name.
    fn inspect(&self, id: &str) -> ApiResult<ContainerInspect>;
    /// `POST /containers/{id}/start`; `Ok(false)` when it already runs (304).
    fn start(&self, id: &str) -> ApiResult<bool>;
    /// `POST /containers/{id}/stop`; `Ok(false)` when it was not running (304).
    fn stop(&self, id: &str, options: &StopOptions) -> ApiResult<bool>;
    /// `POST /containers/{id}/restart`.
    fn restart(&self, id: &str, options: &StopOptions) -> ApiResult<()>;
    /// `POST /containers/{id}/kill?signal=` (default SIGKILL).
    fn kill(&self, id: &str, signal: Option<&str>) -> ApiResult<()>;
    /// `POST /containers/{id}/pause`.
    fn pause(&self, id: &str) -> ApiResult<()>;
    /// `POST /containers/{id}/unpause`.
    fn unpause(&self, id: &str) -> ApiResult<()>;
    /// `DELETE /containers/{id}?force=`.
    fn remove(&self, id: &str, force: bool) -> ApiResult<()>;
    /// `DELETE /containers/{id}?force=&v=`: with `volumes`, the container's
    /// anonymous volumes go with it (named ones stay).
    fn remove_with_volumes(&self, id: &str, force: bool, volumes: bool) -> ApiResult<()> {
        let _ = volumes;
        self.remove(id, force)
    }
    /// Who uses which volume, for the volume service.
    fn volume_users(&self) -> crate::volumes::VolumeUsers {
        Default::default()
    }
    // ANCHOR_END: container_service
    // ANCHOR: container_service_rest
    /// `POST /containers/prune?filters=`: removes every container that is
    /// not running (created or exited), within the `until` and `label`
    /// filters.
    fn prune(&self, filters: &Filters) -> ApiResult<ContainerPruneResponse> {
        let _ = filters;
        Err(ApiError::NotImplemented(
            "this daemon cannot prune containers".to_string(),
        ))
    }
    /// `HEAD /containers/{id}/archive?path=`: what `path` is in the
    /// container's file system (a symlink itself, not followed).
    fn archive_stat(&self, id: &str, path: &str) -> ApiResult<ContainerPathStat> {
        let _ = (id, path);
        Err(ApiError::NotImplemented(
            "this daemon cannot copy files".to_string(),
        ))
    }
    /// `GET /containers/{id}/archive?path=`: `path` as a tar.
    fn archive_get(&self, id: &str, path: &str, out: &mut dyn Write) -> ApiResult<()> {
        let _ = (id, path, out);
        Err(ApiError::NotImplemented(
            "this daemon cannot copy files".to_string(),
        ))
    }
    /// `PUT /containers/{id}/archive?path=`: extracts a tar into the
    /// directory `path`.
    fn archive_put(&self, id: &str, path: &str, tar: &mut dyn Read) -> ApiResult<()> {
        let _ = (id, path, tar);
        Err(ApiError::NotImplemented(
            "this daemon cannot copy files".to_string(),
        ))
    }
    /// `POST /containers/{id}/rename?name=`.
    fn rename(&self, id: &str, name: &str) -> ApiResult<()> {
        let _ = (id, name);
        Err(ApiError::NotImplemented(
            "this daemon cannot rename containers".to_string(),
        ))
    }
    // ANCHOR_END: container_service_rest
    // ANCHOR: container_service_more
    /// `POST /containers/{id}/update`: new limits and restart policy.
    fn update(
        &self,
        id: &str,
        body: &crate::compat::update::ContainerUpdateBody,
    ) -> ApiResult<crate::compat::update::ContainerUpdateResponse> {
        let _ = (id, body);
        Err(ApiError::NotImplemented(
            "this daemon cannot update containers".to_string(),
        ))
    }
    /// `GET /containers/{id}/changes`: what the container changed in its
    /// file system, against its image.
    fn changes(&self, id: &str) -> ApiResult<Vec<ContainerChange>> {
        let _ = id;
        Err(ApiError::NotImplemented(
            "this daemon cannot list changes".to_string(),
        ))
    }
    /// The container's life state, for `wait`: subscribe before starting.
    fn watch(&self, id: &str) -> ApiResult<watch::Receiver<LifeState>>;
    /// `GET /containers/{id}/logs`.
    fn logs(&self, id: &str, options: &LogsOptions) -> ApiResult<LogStream>;
    /// `POST /containers/{id}/attach`.
    fn attach(&self, id: &str, options: &AttachOptions) -> ApiResult<AttachStream>;
    /// `POST /containers/{id}/resize?h=&w=`.
    fn resize(&self, id: &str, height: u16, width: u16) -> ApiResult<()>;
    /// `GET /containers/{id}/top?ps_args=`.
    fn top(&self, id: &str, ps_args: Option<&str>) -> ApiResult<TopResponse>;
    /// One sample of `GET /containers/{id}/stats`.
    fn stats(&self, id: &str) -> ApiResult<ContainerStats>;
    /// `POST /containers/{id}/exec`: returns the exec id.
    fn exec_create(&self, id: &str, config: ExecConfig) -> ApiResult<String>;
    /// `POST /exec/{id}/start`; `None` when detached.
    fn exec_start(
        &self,
        exec_id: &str,
        config: &ExecStartConfig,
    ) -> ApiResult<Option<AttachStream>>;
    /// `GET /exec/{id}/json`.
    fn exec_inspect(&self, exec_id: &str) -> ApiResult<ExecInspect>;
    /// `POST /exec/{id}/resize?h=&w=`.
    fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> ApiResult<()>;
}
// ANCHOR_END: container_service_more

/// What `/info` and `/version` report of the machine the daemon runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `uname -r`.
    pub kernel_version: String,
    /// `uname -m` (`x86_64`), as `/info` reports it.
    pub architecture: String,
    /// `PRETTY_NAME` of `/etc/os-release`.
    pub operating_system: String,
    /// The machine's memory, in bytes.
    pub mem_total: i64,
    /// CPUs the daemon may run on.
    pub ncpu: i64,
    /// `"1"` or `"2"`: which cgroup hierarchy holds the containers.
    pub cgroup_version: String,
    /// The machine's host name.
    pub hostname: String,
    /// File descriptors the daemon holds open.
    pub open_fds: i64,
}

/// The machine the daemon runs on. Behind a trait like the other
/// services, so that the protocol's tests describe a machine of their own
/// and the engine reads the real one (`/proc`, `/etc/os-release`,
/// cgroupfs) in one place.
pub trait HostService: Send + Sync + 'static {
    /// The facts, read now.
    fn facts(&self) -> HostFacts;
}
