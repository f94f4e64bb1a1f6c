//! `POST /containers/create`: a create request becomes a container of
//! chapter 03, with its namespaces shared as asked, its volumes planned by
//! the volume service, and the request kept for inspect and for the next
//! start.

use super::index::Entry;
use super::volume_use::{volume_attributes, Settle};
use super::{RuntimeContainers, MOUNTS_FILE, REQUEST_FILE};
use crate::compat::convert;
use crate::compat::health::Healthcheck;
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::volumes::{MountRequest, VolumesFrom};
use crate::wait::LifeState;
use minidock_lifecycle::compat::process::NamespaceMode;
use minidock_lifecycle::CreateOptions;
use std::path::PathBuf;
use std::sync::Arc;

// ANCHOR: create_checks
/// Creates a container as `body` asks, named `name` when given.
pub(super) fn create(
    service: &RuntimeContainers,
    name: Option<&str>,
    mut body: ContainerCreateBody,
) -> ApiResult<ContainerCreateResponse> {
    let inner = &service.inner;
    if body.config.image.is_empty() {
        return Err(ApiError::BadParameter(
            "config.Image is required: which image to run".to_string(),
        ));
    }
    crate::engine::names::check_image_name(&body.config.image)?;
    if let Some(asked) = &body.config.healthcheck {
        asked.validate()?;
    }
    if let Ok(image) = inner.runtime.images().resolve(&body.config.image) {
        crate::engine::expose::merge_image_ports(&mut body, &image);
        // The image's HEALTHCHECK, under what the request asked (kept in
        // the request record: inspect shows it, each start runs it).
        let images = inner.runtime.images();
        let of_image = images
            .read_blob(image.id.digest())
            .ok()
            .and_then(|blob| crate::compat::health::of_image_config(&blob));
        body.config.healthcheck =
            Healthcheck::merge(body.config.healthcheck.as_ref(), of_image.as_ref());
    }
    let networked = inner.networks.is_some();
    if let Some(networks) = &inner.networks {
        networks.check(&body)?;
        inner.check_links(&body)?;
    }
    let volumes = inner.volumes.clone();
    let (user, mut host) = convert::create_options(&body, networked, volumes.is_some())?;
    // What this host cannot do is dropped with a warning, as dockerd does.
    let oom_switch = inner.runtime.cgroups().supports_oom_kill_disable();
    let warnings = crate::compat::warnings::create_warnings(&mut host, oom_switch);
    // ANCHOR_END: create_checks
    // ANCHOR: create_names
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
            let found = inner.resolve(name).map_err(|e| {
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
        let taken = inner
            .resolve(name)
            .ok()
            .filter(|e| e.container().name == name);
        if let Some(other) = taken {
            return Err(ApiError::from(minidock_lifecycle::Error::NameInUse {
                name: name.to_string(),
                id: other.id.to_string(),
            }));
        }
    }
    // ANCHOR_END: create_names
    // ANCHOR: create_volumes
    let image = body.config.image.clone();
    // The volume service plans the mounts once the image is known (its
    // VOLUME counts); a missing image is left to the runtime's 404, so
    // a client that pulls and retries leaves no volumes behind.
    let planned = match (&volumes, inner.runtime.images().resolve(&image)) {
        (Some(volumes), Ok(resolved)) => {
            let request = mount_request(service, &body, &resolved)?;
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
            let users = || inner.volume_users(None);
            for name in &planned.created {
                // another create may have taken it since: then it stays
                volumes.remove(name, true, &users).ok();
            }
        }
    };
    // ANCHOR_END: create_volumes
    // ANCHOR: create_runtime
    let created = inner
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
            other => ApiError::from(other),
        });
    let id = match created {
        Ok(id) => id,
        Err(err) => {
            undo_volumes(&mut settle);
            return Err(err);
        }
    };
    // ANCHOR_END: create_runtime
    // ANCHOR: create_record
    let mut points = Vec::new();
    if let Some((volumes, mounts)) = &planned {
        let rootfs = inner.runtime.container_dir(&id).join("merged");
        let written = volumes.populate(&rootfs, mounts).and_then(|()| {
            // No mount points, no file: a missing one reads as none, and
            // most containers have none (two fsyncs fewer at their create).
            if mounts.points.is_empty() {
                return Ok(());
            }
            let path = inner.runtime.container_dir(&id).join(MOUNTS_FILE);
            let bytes = serde_json::to_vec(&mounts.points).map_err(ApiError::internal)?;
            minidock_lifecycle::atomic::write_atomic(&path, &bytes).map_err(ApiError::from)
        });
        if let Err(err) = written {
            inner.runtime.remove(&id, true).ok();
            undo_volumes(&mut settle);
            return Err(err);
        }
        points = mounts.points.clone();
        for name in &mounts.created {
            inner
                .events
                .publish("volume", "create", name, volume_attributes());
        }
    }
    let container = inner
        .runtime
        .containers()
        .container(&id)
        .map_err(ApiError::from)?;
    let request_path: PathBuf = inner.runtime.container_dir(&id).join(REQUEST_FILE);
    let bytes = serde_json::to_vec(&request_record(&body)).map_err(ApiError::internal)?;
    // Not flushed for a `--rm` container, like its config (chapter 03's
    // store): nobody wants it back after a power cut.
    if container.host_config.auto_remove {
        minidock_lifecycle::atomic::replace_atomic(&request_path, &bytes)
    } else {
        minidock_lifecycle::atomic::write_atomic(&request_path, &bytes)
    }
    .map_err(ApiError::from)?;
    let entry =
        Arc::new(Entry::new(container, Some(body), LifeState::default()).with_mounts(points));
    inner.insert(entry.clone());
    settle.now(); // the container is a user of its volumes from here on
    inner.publish("create", &entry, &[]);
    Ok(ContainerCreateResponse {
        id: id.to_string(),
        warnings,
    })
}
// ANCHOR_END: create_record

// ANCHOR: request_record
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
// ANCHOR_END: request_record

/// Every mount a create request asks for, from every field the API has
/// for it, with `--volumes-from` resolved to the other container's mounts.
fn mount_request(
    service: &RuntimeContainers,
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
        let other = service.entry(name)?;
        request.volumes_from.push(VolumesFrom {
            mounts: other.mount_points(),
            read_only,
        });
    }
    Ok(request)
}
