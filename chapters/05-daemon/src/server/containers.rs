//! The `/containers` and `/exec` endpoints, through the container service.
//! Those whose answers follow the container over time (wait, logs,
//! stats) are in [`super::follow`].

use super::body::{spawn_body_pump, Body};
use super::call::{blocking, json_body};
use super::follow::{container_logs, container_stats, container_wait};
use super::hijack::{hijack, upgrade_handle};
use super::params::{changed, check_container_name, detach_keys, stop_options, terminal_size};
use super::stream::raw_stream;
use super::{empty_response, json_response, Ctx};
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::locks::read;
use crate::router::Route;
use crate::service::*;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};

/// Answers a container or exec route.
// ANCHOR: container_handler
pub(crate) async fn handle(
    route: Route,
    ctx: Ctx,
    mut req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let containers = ctx.api.containers.clone();
    match route {
        Route::ContainerList => {
            let options = ListOptions {
                all: ctx.query.bool("all", false),
                limit: ctx
                    .query
                    .int("limit")?
                    .filter(|l| *l > 0)
                    .map(|l| l as usize),
                size: ctx.query.bool("size", false),
                filters: ctx.query.filters()?,
            };
            let list = blocking(move || containers.list(&options)).await?;
            json_response(StatusCode::OK, &list)
        }
        Route::ContainerCreate => {
            let name = match ctx.query.string("name") {
                Some(name) => Some(check_container_name(&name)?),
                None => None,
            };
            let mut body: ContainerCreateBody = json_body(req, false).await?;
            read(&ctx.api.facts.container_defaults).apply(&mut body);
            let created = blocking(move || containers.create(name.as_deref(), body)).await?;
            json_response(StatusCode::CREATED, &created)
        }
        // ANCHOR_END: container_handler
        Route::ContainerPrune => {
            let filters = ctx.query.filters()?;
            let pruned = blocking(move || containers.prune(&filters)).await?;
            json_response(StatusCode::OK, &pruned)
        }
        Route::ContainerInspect(id) => {
            let inspect = blocking(move || containers.inspect(&id)).await?;
            json_response(StatusCode::OK, &inspect)
        }
        Route::ContainerStart(id) => Ok(changed(blocking(move || containers.start(&id)).await?)),
        Route::ContainerStop(id) => {
            let options = stop_options(&ctx)?;
            Ok(changed(
                blocking(move || containers.stop(&id, &options)).await?,
            ))
        }
        Route::ContainerRestart(id) => {
            let options = stop_options(&ctx)?;
            blocking(move || containers.restart(&id, &options)).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::ContainerKill(id) => {
            let signal = ctx.query.string("signal");
            blocking(move || containers.kill(&id, signal.as_deref())).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::ContainerPause(id) => {
            blocking(move || containers.pause(&id)).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::ContainerUnpause(id) => {
            blocking(move || containers.unpause(&id)).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::ContainerDelete(id) => {
            if ctx.query.bool("link", false) {
                return Err(crate::compat::links::rm_link_refused(&id));
            }
            let force = ctx.query.bool("force", false);
            let volumes = ctx.query.bool("v", false);
            blocking(move || containers.remove_with_volumes(&id, force, volumes)).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::ContainerArchive(id) => container_archive(ctx, req, id).await,
        Route::ContainerRename(id) => {
            let name = ctx
                .query
                .string("name")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    ApiError::BadParameter("name is required: the container's new name".to_string())
                })?;
            blocking(move || containers.rename(&id, &name)).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::ContainerUpdate(id) => {
            let body: crate::compat::update::ContainerUpdateBody = json_body(req, false).await?;
            let answer = blocking(move || containers.update(&id, &body)).await?;
            json_response(StatusCode::OK, &answer)
        }
        Route::ContainerChanges(id) => {
            let changes = blocking(move || containers.changes(&id)).await?;
            json_response(StatusCode::OK, &changes)
        }
        Route::ContainerWait(id) => container_wait(ctx, id).await,
        Route::ContainerLogs(id) => container_logs(ctx, id).await,
        // ANCHOR: attach_handler
        Route::ContainerAttach(id) => {
            let options = AttachOptions {
                stdin: ctx.query.bool("stdin", false),
                stdout: ctx.query.bool("stdout", false),
                stderr: ctx.query.bool("stderr", false),
                stream: ctx.query.bool("stream", false),
                logs: ctx.query.bool("logs", false),
                detach_keys: ctx.query.string("detachKeys"),
            };
            if !options.stream && !options.logs {
                return Err(ApiError::BadParameter(
                    "Bad parameters: you must choose at least one of stream or logs".to_string(),
                ));
            }
            let detach_keys = detach_keys(options.detach_keys.as_deref())?;
            let upgrade = upgrade_handle(&mut req);
            let mut stream = blocking(move || containers.attach(&id, &options)).await?;
            stream.detach_keys = detach_keys;
            Ok(hijack(upgrade, stream, ctx.version))
        }
        // ANCHOR_END: attach_handler
        Route::ContainerResize(id) => {
            let (h, w) = terminal_size(&ctx)?;
            blocking(move || containers.resize(&id, h, w)).await?;
            Ok(empty_response(StatusCode::OK))
        }
        Route::ContainerTop(id) => {
            let ps_args = ctx.query.string("ps_args");
            let top = blocking(move || containers.top(&id, ps_args.as_deref())).await?;
            json_response(StatusCode::OK, &top)
        }
        Route::ContainerStats(id) => container_stats(ctx, id).await,

        // ANCHOR: exec_handlers
        Route::ExecCreate(id) => {
            let config: ExecConfig = json_body(req, false).await?;
            if config.cmd.is_empty() {
                return Err(ApiError::BadParameter(
                    "No exec command specified".to_string(),
                ));
            }
            detach_keys(config.detach_keys.as_deref())?;
            let exec_id = blocking(move || containers.exec_create(&id, config)).await?;
            json_response(StatusCode::CREATED, &IdResponse { id: exec_id })
        }
        Route::ExecStart(id) => {
            // Take the upgrade handle before the body is consumed.
            let upgrade = upgrade_handle(&mut req);
            let config: ExecStartConfig = json_body(req, true).await?;
            let detach = config.detach;
            match blocking(move || containers.exec_start(&id, &config)).await? {
                Some(stream) if !detach => Ok(hijack(upgrade, stream, ctx.version)),
                _ => Ok(empty_response(StatusCode::OK)),
            }
        }
        // ANCHOR_END: exec_handlers
        Route::ExecInspect(id) => {
            let inspect = blocking(move || containers.exec_inspect(&id)).await?;
            json_response(StatusCode::OK, &inspect)
        }
        Route::ExecResize(id) => {
            let (h, w) = terminal_size(&ctx)?;
            blocking(move || containers.exec_resize(&id, h, w)).await?;
            Ok(empty_response(StatusCode::OK))
        }
        _ => Err(crate::router::page_not_found()),
    }
}

// ANCHOR: archive_handler
/// `HEAD`, `GET` and `PUT /containers/{id}/archive?path=`: `docker cp`.
/// The path's stat travels in `X-Docker-Container-Path-Stat` (base64 JSON),
/// which the docker CLI reads to decide how to name what it copies.
async fn container_archive(
    ctx: Ctx,
    req: Request<Incoming>,
    id: String,
) -> ApiResult<Response<Body>> {
    let path = ctx
        .query
        .string("path")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ApiError::BadParameter("path is required: which file of the container".to_string())
        })?;
    let containers = ctx.api.containers.clone();
    if req.method() == hyper::Method::PUT {
        let mut tar = spawn_body_pump(req.into_body());
        blocking(move || containers.archive_put(&id, &path, &mut tar)).await?;
        return Ok(empty_response(StatusCode::OK));
    }
    let (stat_id, stat_path) = (id.clone(), path.clone());
    let stat = blocking(move || containers.archive_stat(&stat_id, &stat_path)).await?;
    let json = serde_json::to_vec(&stat).map_err(ApiError::internal)?;
    let header = base64::engine::general_purpose::STANDARD.encode(json);
    let header = HeaderValue::from_str(&header).map_err(ApiError::internal)?;
    let mut response = if req.method() == hyper::Method::HEAD {
        empty_response(StatusCode::OK)
    } else {
        let containers = ctx.api.containers.clone();
        raw_stream("application/x-tar", move |out| {
            containers.archive_get(&id, &path, out)
        })
        .await?
    };
    response
        .headers_mut()
        .insert("X-Docker-Container-Path-Stat", header);
    Ok(response)
}
// ANCHOR_END: archive_handler
