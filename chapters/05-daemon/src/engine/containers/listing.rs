//! `docker ps` and `docker inspect`: the index and the state on disk in
//! the API's shapes, with what the network and volume services add.

use super::index::Entry;
use super::RuntimeContainers;
use crate::compat::convert;
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::service::ListOptions;
use minidock_lifecycle::state::{State, StateRecord};
use minidock_lifecycle::ContainerId;
use std::time::SystemTime;

// ANCHOR: container_list
/// `GET /containers/json`: newest first.
pub(super) fn list(
    service: &RuntimeContainers,
    options: &ListOptions,
) -> ApiResult<Vec<ContainerSummary>> {
    for value in options.filters.values("health") {
        if !["starting", "healthy", "unhealthy", "none"].contains(&value.as_str()) {
            return Err(ApiError::BadParameter(format!(
                "Unrecognised filter value for health: {value}"
            )));
        }
    }
    let entries = service.inner.all();
    let mut link_names = service.inner.link_names(&entries);
    let now = SystemTime::now();
    let mut list = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = match service.record(&entry) {
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
        summary
            .names
            .extend(link_names.remove(entry.id.as_str()).unwrap_or_default());
        let health = entry.shown_health();
        if let (Some(h), State::Running { .. }) = (&health, &record.state) {
            summary.status = format!("{} ({})", summary.status, h.ps_text());
        }
        if let Some(settings) = service.network_settings(&entry) {
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
        // Docker's `none`: no check, or never started with one.
        let health_status = health.as_ref().map_or("none", |h| h.status.as_str());
        if matches_filters(&summary, &entry, &record, &options.filters)
            && any_value(&options.filters, "health", |v| v == health_status)
        {
            if options.size {
                summary.size_rw = Some(service.rw_size(&entry.id) as i64);
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

// ANCHOR_END: container_list
// ANCHOR: container_inspect
/// `GET /containers/{id}/json`.
pub(super) fn inspect(service: &RuntimeContainers, id: &str) -> ApiResult<ContainerInspect> {
    let entry = service.entry(id)?;
    let record = service.record(&entry)?;
    let runtime = &service.inner.runtime;
    // dockerd shows no path for a driver that keeps no file.
    let log_path = if entry.container().host_config.log_config.readable() {
        runtime.log_path(&entry.id).display().to_string()
    } else {
        String::new()
    };
    let execs = service.inner.execs.ids_of(&entry.id);
    let mut inspect = convert::inspect(
        &entry.container(),
        &record,
        entry.request.as_ref(),
        log_path,
        execs,
    );
    if let Some(settings) = service.network_settings(&entry) {
        inspect.network_settings = settings;
    }
    inspect.mounts = entry.mount_points();
    let links = service.inner.shown_links(&entry);
    inspect.host_config.other.insert("Links".into(), links);
    inspect.state.health = entry.shown_health();
    inspect.graph_driver = graph_driver(runtime, &entry.id, &inspect.image);
    Ok(inspect)
}

/// Where the container's file system lives (see chapter 02's `rootfs`):
/// the image's layers under the container's upper directory, shown at its
/// merged directory. The layers are left out when the image is gone.
fn graph_driver(
    runtime: &minidock_lifecycle::Runtime,
    id: &ContainerId,
    image: &str,
) -> GraphDriverData {
    let dir = runtime.container_dir(id);
    let mut data = std::collections::BTreeMap::new();
    if let Ok(image) = runtime.images().resolve(image) {
        let mut layers = image.layer_dirs(runtime.images());
        layers.reverse();
        let joined: Vec<String> = layers.iter().map(|d| d.display().to_string()).collect();
        data.insert("LowerDir".to_string(), joined.join(":"));
    }
    for (key, sub) in [
        ("UpperDir", "upper"),
        ("WorkDir", "work"),
        ("MergedDir", "merged"),
    ] {
        data.insert(key.to_string(), dir.join(sub).display().to_string());
    }
    GraphDriverData {
        name: "overlay".to_string(),
        data,
    }
}
// ANCHOR_END: container_inspect

/// Whether one of the filter's values passes `test` (or it has none).
fn any_value(filters: &crate::query::Filters, name: &str, test: impl Fn(&str) -> bool) -> bool {
    let values = filters.values(name);
    values.is_empty() || values.iter().any(|v| test(v))
}

/// Whether a container passes `docker ps`' filters.
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
    pub(super) fn rw_size(&self, id: &ContainerId) -> u64 {
        crate::compat::disk::tree_size(&self.inner.runtime.containers().dir(id).join("upper"))
    }
}
