//! The requests that change a container's life: start, stop, restart,
//! kill, pause, remove, prune, rename, update, and the check before an
//! exec.

use super::RuntimeContainers;
use crate::compat::types::*;
use crate::engine::proc::wait_gone;
use crate::error::{ApiError, ApiResult};
use crate::locks::lock;
use crate::service::StopOptions;
use crate::time::system_time;
use minidock_lifecycle::state::State;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// `POST /containers/{id}/start`: whether it started (false: it ran).
pub(super) fn start(service: &RuntimeContainers, id: &str) -> ApiResult<bool> {
    let entry = service.entry(id)?;
    let inner = &service.inner;
    let started = inner.start(&entry);
    if started.is_err() && entry.container().host_config.auto_remove {
        // Docker removes a `--rm` container that could not start:
        // `docker run --rm` waits for that removal before it exits.
        if inner.runtime.remove(&entry.id, true).is_ok() {
            inner.release_volumes(&entry, true);
            inner.forget(&entry);
        }
    }
    started
}

// ANCHOR: stop
/// `POST /containers/{id}/stop`: whether it stopped (false: it was not
/// running).
pub(super) fn stop(
    service: &RuntimeContainers,
    id: &str,
    options: &StopOptions,
) -> ApiResult<bool> {
    let entry = service.entry(id)?;
    let _op = lock(&entry.op);
    let timeout = match options.timeout {
        Some(t) if t < 0 => Some(Duration::from_secs(3600 * 24)),
        Some(t) => Some(Duration::from_secs(t as u64)),
        None => None,
    };
    let signal = match options.signal.as_deref() {
        Some(name) => Some(minidock_lifecycle::signal::parse_signal(name).map_err(ApiError::from)?),
        None => None,
    };
    let stopped = service
        .inner
        .runtime
        .stop_with_signal(&entry.id, timeout, signal)
        .map_err(ApiError::from)?;
    if stopped.is_some() {
        // As Docker's stop: it returns with the volumes let go.
        if !service.record(&entry)?.state.is_alive() {
            service.inner.end_volume_use(&entry, None);
        }
        service.inner.publish("stop", &entry, &[]);
    }
    Ok(stopped.is_some())
}
// ANCHOR_END: stop

// ANCHOR: restart
/// `POST /containers/{id}/restart`: a stop, once its exit is seen and its
/// shim gone, then a start.
pub(super) fn restart(
    service: &RuntimeContainers,
    id: &str,
    options: &StopOptions,
) -> ApiResult<()> {
    let entry = service.entry(id)?;
    let shim = service
        .inner
        .runtime
        .containers()
        .state(&entry.id)
        .map_err(ApiError::from)?
        .shim_pid;
    if stop(service, id, options)? {
        let mut states = entry.life.subscribe();
        let deadline = Instant::now() + Duration::from_secs(30);
        while states.borrow_and_update().running && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    if let Some(pid) = shim {
        wait_gone(pid, Duration::from_secs(10));
    }
    service.inner.start(&entry)?;
    service.inner.publish("restart", &entry, &[]);
    Ok(())
}
// ANCHOR_END: restart

// ANCHOR: kill
/// `POST /containers/{id}/kill`, SIGKILL unless `signal` names another.
pub(super) fn kill(service: &RuntimeContainers, id: &str, signal: Option<&str>) -> ApiResult<()> {
    let entry = service.entry(id)?;
    let signal = minidock_lifecycle::signal::parse_signal(signal.unwrap_or("SIGKILL"))
        .map_err(ApiError::from)?;
    let record = service.record(&entry)?;
    if !record.state.is_alive() {
        return Err(ApiError::Conflict(format!(
            "Cannot kill container: {id}: Container {} is not running",
            entry.id
        )));
    }
    let mut states = entry.life.subscribe();
    let watched = entry.session().is_some();
    service
        .inner
        .runtime
        .kill(&entry.id, signal)
        .map_err(ApiError::from)?;
    service
        .inner
        .publish("kill", &entry, &[("signal", (signal as i32).to_string())]);
    if signal == nix::sys::signal::Signal::SIGKILL {
        // As dockerd: SIGKILL cannot be caught, so the answer waits for
        // the exit, and an inspect or a DELETE right after sees it.
        crate::engine::kill::await_exit(&service.inner.runtime, &entry.id, &mut states, watched)?;
    }
    Ok(())
}
// ANCHOR_END: kill

/// `POST /containers/{id}/pause`.
pub(super) fn pause(service: &RuntimeContainers, id: &str) -> ApiResult<()> {
    let entry = service.entry(id)?;
    service
        .inner
        .runtime
        .pause(&entry.id)
        .map_err(ApiError::from)?;
    service.inner.publish("pause", &entry, &[]);
    Ok(())
}

/// `POST /containers/{id}/unpause`.
pub(super) fn unpause(service: &RuntimeContainers, id: &str) -> ApiResult<()> {
    let entry = service.entry(id)?;
    service
        .inner
        .runtime
        .unpause(&entry.id)
        .map_err(ApiError::from)?;
    service.inner.publish("unpause", &entry, &[]);
    Ok(())
}

// ANCHOR: remove
/// `DELETE /containers/{id}`: a running one only with `force`; its
/// anonymous volumes too with `volumes`.
pub(super) fn remove(
    service: &RuntimeContainers,
    id: &str,
    force: bool,
    volumes: bool,
) -> ApiResult<()> {
    let entry = service.entry(id)?;
    let _op = lock(&entry.op);
    let record = service.record(&entry)?;
    if record.state.is_alive() && !force {
        return Err(ApiError::Conflict(format!(
            "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
            entry.container().name
        )));
    }
    let was_running = record.state.is_alive();
    service
        .inner
        .runtime
        .remove(&entry.id, force)
        .map_err(ApiError::from)?;
    if was_running {
        entry.life.send_modify(|l| l.exit_code = 137);
    }
    let inner = &service.inner;
    inner.end_volume_use(&entry, None);
    inner.execs.forget_container(&entry.id);
    inner.release_volumes(&entry, volumes);
    inner.forget(&entry);
    Ok(())
}
// ANCHOR_END: remove

// ANCHOR: prune
/// `POST /containers/prune`: removes the stopped containers that
/// `filters` select.
pub(super) fn prune(
    service: &RuntimeContainers,
    filters: &crate::query::Filters,
) -> ApiResult<ContainerPruneResponse> {
    filters.only(&["until", "label"], "prune")?;
    let until = filters.until(SystemTime::now())?;
    let mut response = ContainerPruneResponse::default();
    for entry in service.inner.all() {
        let old_enough = until.is_none_or(|u| system_time(&entry.container().created) < u);
        if !old_enough || !filters.labels_match(&entry.container().config.labels) {
            continue;
        }
        match service.record(&entry) {
            Ok(record) if !record.state.is_alive() => {}
            Ok(_) | Err(ApiError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        }
        let size = service.rw_size(&entry.id);
        match remove(service, entry.id.as_str(), false, false) {
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
    service.inner.events.publish(
        "container",
        "prune",
        "",
        BTreeMap::from([("reclaimed".to_string(), reclaimed)]),
    );
    Ok(response)
}
// ANCHOR_END: prune

/// `POST /containers/{id}/rename`.
pub(super) fn rename(service: &RuntimeContainers, id: &str, name: &str) -> ApiResult<()> {
    let entry = service.entry(id)?;
    let _op = lock(&entry.op);
    let old = entry.container().name.clone();
    let runtime = &service.inner.runtime;
    runtime.rename(&entry.id, name).map_err(ApiError::from)?;
    let renamed = runtime
        .containers()
        .container(&entry.id)
        .map_err(ApiError::from)?;
    entry.set_container(renamed);
    service
        .inner
        .publish("rename", &entry, &[("oldName", format!("/{old}"))]);
    Ok(())
}

/// `POST /containers/{id}/update`: new resource limits.
pub(super) fn update(
    service: &RuntimeContainers,
    id: &str,
    body: &crate::compat::update::ContainerUpdateBody,
) -> ApiResult<crate::compat::update::ContainerUpdateResponse> {
    let update = crate::compat::update::limits_update(body)?;
    let entry = service.entry(id)?;
    let _op = lock(&entry.op);
    let updated = service
        .inner
        .runtime
        .update(&entry.id, &update)
        .map_err(|e| match e {
            minidock_lifecycle::Error::InvalidHostConfig(m) => {
                ApiError::BadParameter(format!("Cannot update container {}: {m}", entry.id))
            }
            other => ApiError::from(other),
        })?;
    entry.set_container(updated);
    service.inner.publish("update", &entry, &[]);
    Ok(Default::default())
}

// ANCHOR: exec_create
/// `POST /containers/{id}/exec`: an exec instance, for a running
/// container only.
pub(super) fn exec_create(
    service: &RuntimeContainers,
    id: &str,
    config: ExecConfig,
) -> ApiResult<String> {
    let entry = service.entry(id)?;
    let record = service.record(&entry)?;
    match record.state {
        State::Running { .. } => {}
        State::Paused { .. } => {
            let id = entry.id.to_string();
            return Err(minidock_lifecycle::Error::Paused { op: "exec", id }.into());
        }
        _ => return Err(ApiError::not_running(entry.id.as_str())),
    }
    if config.privileged {
        return Err(ApiError::NotImplemented(
            "privileged exec is not supported".to_string(),
        ));
    }
    let exec_id = service.inner.execs.create(entry.id.clone(), config);
    service
        .inner
        .publish("exec_create", &entry, &[("execID", exec_id.clone())]);
    Ok(exec_id)
}
// ANCHOR_END: exec_create
