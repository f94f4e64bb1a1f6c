// ANCHOR: containers_map
//! The container service: chapter 03's runtime behind the API.
//!
//! The runtime keeps every container on disk and needs no memory of them;
//! the daemon adds what only a long-lived process can have: an index of
//! names and ids (so a request does not scan the disk), a live connection to
//! each running container's shim (output for attached clients, and the exit
//! the moment it happens), and the watch channel that `wait` listens on.
//!
//! In reading order:
//! - `index`: one entry per container, its locks, found by id or name;
//! - `lifecycle`: a run — start, the session to the shim, the exit;
//! - `volume_use`: which runs use which volumes (chapter 07 plugged in);
//! - `health_use`: the health monitor of each run (compat, see
//!   [`crate::compat::health`]);
//! - `link_use`: legacy `--link`s at create, start and inspect (compat,
//!   see [`crate::compat::links`]);
//! - the requests, by what they touch: `create`, `control` (stop,
//!   kill, remove, …), `listing` (ps, inspect), `streams` (logs,
//!   attach), `files` (diff, cp); top and stats are compat
//!   ([`crate::compat::stats`]).
//!
//! The [`ContainerService`] implementation below is the table of contents:
//! each request goes to the function of its module.
// ANCHOR_END: containers_map

mod control;
mod create;
mod files;
mod health_use;
mod index;
mod lifecycle;
mod link_use;
mod listing;
mod streams;
mod volume_use;

pub(crate) use volume_use::volume_attributes;

use crate::compat::types::*;
use crate::error::ApiResult;
use crate::service::*;
use crate::volumes::VolumeUsers;
use crate::wait::LifeState;
use index::Inner;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

// ANCHOR: containers_files
/// The file in a container's directory where the daemon keeps the create
/// request as the client sent it (for inspect: `StdinOnce`, `LogConfig`, …).
const REQUEST_FILE: &str = "create-request.json";

/// The file in a container's directory where the daemon keeps its mounts
/// as inspect shows them (which are volumes, which binds, which tmpfs).
const MOUNTS_FILE: &str = "mounts.json";

/// The file in a container's directory where the daemon keeps its health
/// (status, failing streak, last results) for a daemon that restarts.
const HEALTH_FILE: &str = "health.json";

/// How long to wait for a shim to finish a `--rm` removal.
const REMOVAL_WAIT: Duration = Duration::from_secs(30);

/// Containers, run by chapter 03's runtime under their shims.
pub struct RuntimeContainers {
    inner: Arc<Inner>,
}
// ANCHOR_END: containers_files

impl ContainerService for RuntimeContainers {
    fn create(
        &self,
        name: Option<&str>,
        body: ContainerCreateBody,
    ) -> ApiResult<ContainerCreateResponse> {
        create::create(self, name, body)
    }

    fn list(&self, options: &ListOptions) -> ApiResult<Vec<ContainerSummary>> {
        listing::list(self, options)
    }

    fn inspect(&self, id: &str) -> ApiResult<ContainerInspect> {
        listing::inspect(self, id)
    }

    fn start(&self, id: &str) -> ApiResult<bool> {
        control::start(self, id)
    }

    fn stop(&self, id: &str, options: &StopOptions) -> ApiResult<bool> {
        control::stop(self, id, options)
    }

    fn restart(&self, id: &str, options: &StopOptions) -> ApiResult<()> {
        control::restart(self, id, options)
    }

    fn kill(&self, id: &str, signal: Option<&str>) -> ApiResult<()> {
        control::kill(self, id, signal)
    }

    fn pause(&self, id: &str) -> ApiResult<()> {
        control::pause(self, id)
    }

    fn unpause(&self, id: &str) -> ApiResult<()> {
        control::unpause(self, id)
    }

    fn remove(&self, id: &str, force: bool) -> ApiResult<()> {
        control::remove(self, id, force, false)
    }

    fn remove_with_volumes(&self, id: &str, force: bool, volumes: bool) -> ApiResult<()> {
        control::remove(self, id, force, volumes)
    }

    fn volume_users(&self) -> VolumeUsers {
        self.inner.volume_users(None)
    }

    fn prune(&self, filters: &crate::query::Filters) -> ApiResult<ContainerPruneResponse> {
        control::prune(self, filters)
    }

    fn rename(&self, id: &str, name: &str) -> ApiResult<()> {
        control::rename(self, id, name)
    }

    fn update(
        &self,
        id: &str,
        body: &crate::compat::update::ContainerUpdateBody,
    ) -> ApiResult<crate::compat::update::ContainerUpdateResponse> {
        control::update(self, id, body)
    }

    fn changes(&self, id: &str) -> ApiResult<Vec<ContainerChange>> {
        files::changes(self, id)
    }

    fn archive_stat(&self, id: &str, path: &str) -> ApiResult<ContainerPathStat> {
        files::archive_stat(self, id, path)
    }

    fn archive_get(&self, id: &str, path: &str, out: &mut dyn std::io::Write) -> ApiResult<()> {
        files::archive_get(self, id, path, out)
    }

    fn archive_put(&self, id: &str, path: &str, tar: &mut dyn std::io::Read) -> ApiResult<()> {
        files::archive_put(self, id, path, tar)
    }

    fn watch(&self, id: &str) -> ApiResult<watch::Receiver<LifeState>> {
        Ok(self.entry(id)?.life.subscribe())
    }

    fn logs(&self, id: &str, options: &LogsOptions) -> ApiResult<LogStream> {
        streams::logs(self, id, options)
    }

    fn attach(&self, id: &str, options: &AttachOptions) -> ApiResult<AttachStream> {
        streams::attach(self, id, options)
    }

    fn resize(&self, id: &str, height: u16, width: u16) -> ApiResult<()> {
        streams::resize(self, id, height, width)
    }

    fn top(&self, id: &str, ps_args: Option<&str>) -> ApiResult<TopResponse> {
        let entry = self.entry(id)?;
        crate::compat::stats::top(&self.inner.runtime, &entry.id, ps_args)
    }

    fn stats(&self, id: &str) -> ApiResult<ContainerStats> {
        let entry = self.entry(id)?;
        crate::compat::stats::stats(
            &self.inner.runtime,
            self.inner.networks.as_deref(),
            &entry.id,
            &entry.container().name,
        )
    }

    fn exec_create(&self, id: &str, config: ExecConfig) -> ApiResult<String> {
        control::exec_create(self, id, config)
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
