//! One function per endpoint: read the parameters, call a service on the
//! blocking pool, shape the answer.

use super::body::{read_limited, spawn_body_pump, Body};
use super::hijack::{hijack, upgrade_handle};
use super::stream::{progress_stream, raw_stream};
use super::{empty_response, json_response, system, Ctx, MAX_JSON_BODY};
use crate::detach::DetachKeys;
use crate::error::{ApiError, ApiResult};
use crate::frames;
use crate::router::Route;
use crate::service::*;
use crate::types::*;
use crate::wait::{wait_until, WaitCondition};
use base64::Engine as _;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Runs a blocking service call on tokio's blocking pool. A panic in the
/// service becomes a 500 instead of taking the daemon down.
pub(crate) async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> ApiResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("the operation failed unexpectedly: {e}")))?
}

/// Reads and decodes a JSON body; an empty body is `T::default()` when
/// `optional`. Unknown fields are ignored, wrong types are a 400.
pub(crate) async fn json_body<T: DeserializeOwned + Default>(
    req: Request<Incoming>,
    optional: bool,
) -> ApiResult<T> {
    let bytes = read_limited(req.into_body(), MAX_JSON_BODY).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if optional {
            Ok(T::default())
        } else {
            Err(ApiError::BadParameter(
                "the request needs a JSON body".to_string(),
            ))
        };
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadParameter(format!("invalid JSON in the request body: {e}")))
}

/// Decodes `X-Registry-Auth` (base64url of a JSON object); absent or empty
/// is no credentials.
fn registry_auth(req: &Request<Incoming>) -> ApiResult<Option<RegistryAuth>> {
    let Some(header) = req.headers().get("X-Registry-Auth") else {
        return Ok(None);
    };
    let text = header
        .to_str()
        .map_err(|_| ApiError::BadParameter("X-Registry-Auth is not ASCII".to_string()))?
        .trim();
    if text.is_empty() || text == "e30=" || text == "e30" {
        return Ok(None); // "{}"
    }
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
    ];
    let json = engines
        .iter()
        .find_map(|e| e.decode(text).ok())
        .ok_or_else(|| ApiError::BadParameter("X-Registry-Auth is not base64".to_string()))?;
    serde_json::from_slice(&json).map(Some).map_err(|e| {
        ApiError::BadParameter(format!("X-Registry-Auth is not a JSON auth object: {e}"))
    })
}

/// Checks a container name given to create (`?name=`), Docker's rule.
pub fn check_container_name(name: &str) -> ApiResult<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut bytes = bare.bytes();
    let ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && bare.len() >= 2
        && bare.len() <= 128;
    if ok {
        Ok(bare.to_string())
    } else {
        Err(ApiError::BadParameter(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

fn terminal_size(ctx: &Ctx) -> ApiResult<(u16, u16)> {
    let read = |key: &str| -> ApiResult<u16> {
        let value = ctx.query.int(key)?.unwrap_or(0);
        u16::try_from(value)
            .map_err(|_| ApiError::BadParameter(format!("invalid {key}: {value} is out of range")))
    };
    Ok((read("h")?, read("w")?))
}

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

/// The detach keys a client asked for (`detachKeys`), Docker's default
/// when it asked for none.
fn detach_keys(spec: Option<&str>) -> ApiResult<DetachKeys> {
    DetachKeys::parse(spec.unwrap_or_default()).map_err(|e| ApiError::BadParameter(e.to_string()))
}

fn stop_options(ctx: &Ctx) -> ApiResult<StopOptions> {
    Ok(StopOptions {
        timeout: ctx.query.int("t")?,
        signal: ctx.query.string("signal"),
    })
}

fn changed(changed: bool) -> Response<Body> {
    empty_response(if changed {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_MODIFIED
    })
}

/// Dispatches a routed request to its handler.
pub(crate) async fn handle(
    route: Route,
    ctx: Ctx,
    mut req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let containers = ctx.api.containers.clone();
    let images = ctx.api.images.clone();
    match route {
        Route::Ping => Ok(system::ping()),
        Route::Build => super::build::build(ctx, req).await,
        Route::BuildPrune => super::build::prune(ctx).await,
        Route::Commit => super::build::commit(ctx).await,
        Route::ContainerExport(id) => super::build::export(ctx, id).await,
        Route::Version => system::version(),
        Route::Info => system::info(ctx).await,
        Route::Events => system::events(ctx).await,
        Route::Auth => {
            let auth: RegistryAuth = json_body(req, false).await?;
            blocking(move || images.login(&auth)).await?;
            json_response(
                StatusCode::OK,
                &serde_json::json!({"Status": "Login Succeeded", "IdentityToken": ""}),
            )
        }

        // ---- images ----
        Route::ImageList => {
            let all = ctx.query.bool("all", false);
            let filters = ctx.query.filters()?;
            let build = ctx.api.build.clone();
            let list = blocking(move || {
                let mut list = images.list(all, &filters)?;
                if let (false, Some(build)) = (all, build) {
                    // `docker images` hides a build's intermediate images
                    let hidden = build.intermediates()?;
                    list.retain(|i| !(i.repo_tags.is_empty() && hidden.contains(&i.id)));
                }
                Ok(list)
            })
            .await?;
            json_response(StatusCode::OK, &list)
        }
        Route::ImageInspect(name) => {
            let inspect = blocking(move || images.inspect(&name)).await?;
            json_response(StatusCode::OK, &inspect)
        }
        Route::ImageHistory(name) => {
            let history = blocking(move || images.history(&name)).await?;
            json_response(StatusCode::OK, &history)
        }
        Route::ImageTag(name) => {
            let repo = ctx.query.string("repo").ok_or_else(|| {
                ApiError::BadParameter("repo is required to tag an image".to_string())
            })?;
            let tag = ctx.query.string("tag");
            blocking(move || images.tag(&name, &repo, tag.as_deref())).await?;
            Ok(empty_response(StatusCode::CREATED))
        }
        Route::ImageDelete(name) => {
            let force = ctx.query.bool("force", false);
            let deleted = blocking(move || images.remove(&name, force)).await?;
            json_response(StatusCode::OK, &deleted)
        }
        Route::ImagePrune => {
            let filters = ctx.query.filters()?;
            let pruned = blocking(move || images.prune(&filters)).await?;
            json_response(StatusCode::OK, &pruned)
        }
        Route::ImageCreate => image_create(ctx, req).await,
        Route::ImageSearch => Err(ApiError::NotImplemented(
            "image search needs an image index (Docker Hub's search service), and minidockd \
             reaches none: search on the registry's web site, then pull the image by name"
                .to_string(),
        )),
        Route::ImagePush(name) => {
            let tag = ctx.query.string("tag");
            let auth = registry_auth(&req)?;
            progress_stream(move |progress| {
                images.push(&name, tag.as_deref(), auth.as_ref(), progress)
            })
            .await
        }
        Route::ImageLoad => {
            let mut tar = spawn_body_pump(req.into_body());
            // As dockerd: the answer is 200 whatever happens, and a bad
            // archive is the stream's error object, even as its first line.
            progress_stream(move |progress| {
                if let Err(err) = images.load(&mut tar, progress) {
                    progress(ProgressMessage::error(err.message()));
                }
                Ok(())
            })
            .await
        }
        Route::ImageGetAll => {
            let names = ctx.query.all("names");
            if names.is_empty() {
                return Err(ApiError::BadParameter(
                    "names is required: which images to save".to_string(),
                ));
            }
            raw_stream("application/x-tar", move |out| images.save(&names, out)).await
        }
        Route::ImageGet(name) => {
            raw_stream("application/x-tar", move |out| images.save(&[name], out)).await
        }

        // ---- containers ----
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
            ctx.api
                .facts
                .container_defaults
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .apply(&mut body);
            let created = blocking(move || containers.create(name.as_deref(), body)).await?;
            json_response(StatusCode::CREATED, &created)
        }
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

        // ---- volumes (a plugged-in service) and /system/df ----
        Route::VolumeList
        | Route::VolumeCreate
        | Route::VolumeInspect(_)
        | Route::VolumeDelete(_)
        | Route::VolumePrune
        | Route::SystemDf => super::volumes::handle(route, ctx, req).await,

        // ---- exec ----
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
        Route::ExecInspect(id) => {
            let inspect = blocking(move || containers.exec_inspect(&id)).await?;
            json_response(StatusCode::OK, &inspect)
        }
        Route::ExecResize(id) => {
            let (h, w) = terminal_size(&ctx)?;
            blocking(move || containers.exec_resize(&id, h, w)).await?;
            Ok(empty_response(StatusCode::OK))
        }

        // ---- networks ----
        Route::NetworkList
        | Route::NetworkCreate
        | Route::NetworkPrune
        | Route::NetworkInspect(_)
        | Route::NetworkDelete(_)
        | Route::NetworkConnect(_)
        | Route::NetworkDisconnect(_) => super::networks::handle(route, ctx, req).await,
    }
}

/// `POST /images/create`: pull (`fromImage`) or import (`fromSrc=-`).
async fn image_create(ctx: Ctx, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let images = ctx.api.images.clone();
    let tag = ctx.query.string("tag");
    if let Some(from_image) = ctx.query.string("fromImage") {
        let auth = registry_auth(&req)?;
        return progress_stream(move |progress| {
            images.pull(&from_image, tag.as_deref(), auth.as_ref(), progress)
        })
        .await;
    }
    match ctx.query.string("fromSrc").as_deref() {
        Some("-") => {
            let req = match super::build::import(&ctx, req).await {
                Ok(answer) => return answer,
                Err(req) => req,
            };
            let repo = ctx.query.string("repo");
            let mut source = spawn_body_pump(req.into_body());
            progress_stream(move |progress| {
                images.import(&mut source, repo.as_deref(), tag.as_deref(), progress)
            })
            .await
        }
        Some(url) => Err(ApiError::NotImplemented(format!(
            "importing from a URL ({url}) is not supported: send the tar in the body with fromSrc=-"
        ))),
        None => Err(ApiError::BadParameter(
            "fromImage or fromSrc is required: what to pull or import".to_string(),
        )),
    }
}

// ANCHOR: wait_handler
/// `POST /containers/{id}/wait`: the headers now, the body on the condition.
async fn container_wait(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
    let condition: WaitCondition = ctx.query.get("condition").unwrap_or("").parse()?;
    let containers = ctx.api.containers.clone();
    // Subscribing before answering fixes the reference state of `next-exit`.
    let states = blocking(move || containers.watch(&id)).await?;
    let (tx, body) = Body::channel(1);
    tokio::spawn(async move {
        tokio::select! {
            response = wait_until(condition, states) => {
                let mut line = serde_json::to_vec(&response).unwrap_or_default();
                line.push(b'\n');
                tx.send(Ok(Bytes::from(line))).await.ok();
            }
            _ = tx.closed() => {} // the client gave up waiting
        }
    });
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
// ANCHOR_END: wait_handler

/// `GET /containers/{id}/logs`: frames (or raw bytes with a TTY), with
/// optional timestamps, following while the container runs.
async fn container_logs(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
    let time = |key: &str| -> ApiResult<Option<std::time::SystemTime>> {
        match ctx.query.string(key) {
            None => Ok(None),
            Some(t) if t == "0" => Ok(None),
            Some(t) => crate::time::parse_timestamp(&t)
                .map(Some)
                .ok_or_else(|| ApiError::BadParameter(format!("invalid value for {key}: {t:?}"))),
        }
    };
    let tail = match ctx.query.string("tail").as_deref() {
        None | Some("all") => None,
        Some(n) => Some(
            n.parse::<i64>()
                .map_err(|_| ApiError::BadParameter(format!("invalid value for tail: {n:?}")))?
                .max(0) as usize,
        ),
    };
    let options = LogsOptions {
        stdout: ctx.query.bool("stdout", false),
        stderr: ctx.query.bool("stderr", false),
        follow: ctx.query.bool("follow", false),
        tail,
        since: time("since")?,
        until: time("until")?,
    };
    if !options.stdout && !options.stderr {
        return Err(ApiError::BadParameter(
            "Bad parameters: you must choose at least one stream".to_string(),
        ));
    }
    let timestamps = ctx.query.bool("timestamps", false);
    let containers = ctx.api.containers.clone();
    let mut logs = blocking(move || containers.logs(&id, &options)).await?;
    let (tx, body) = Body::channel(16);
    let tty = logs.tty;
    tokio::spawn(async move {
        while let Some(entry) = logs.entries.recv().await {
            let mut data = Vec::with_capacity(entry.data.len() + 32);
            if timestamps {
                data.extend_from_slice(crate::time::rfc3339_fixed(entry.time).as_bytes());
                data.push(b' ');
            }
            data.extend_from_slice(&entry.data);
            let bytes = if tty {
                data
            } else {
                frames::encode(entry.stream, &data)
            };
            if tx.send(Ok(Bytes::from(bytes))).await.is_err() {
                break;
            }
        }
    });
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// `GET /containers/{id}/stats`: one sample per second, or one answer with
/// `stream=false` (two samples a second apart, so the CPU percentage can be
/// computed, unless `one-shot=true`).
async fn container_stats(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
    let stream = ctx.query.bool("stream", true);
    let one_shot = ctx.query.bool("one-shot", false);
    let containers = ctx.api.containers.clone();
    let sample = {
        let containers = containers.clone();
        let id = id.clone();
        move || {
            let containers = containers.clone();
            let id = id.clone();
            blocking(move || containers.stats(&id))
        }
    };
    let first = sample().await?;
    if !stream {
        let answer = if one_shot {
            first
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut second = sample().await?;
            second.precpu_stats = first.cpu_stats;
            second.preread = first.read;
            second
        };
        return json_response(StatusCode::OK, &answer);
    }
    let (tx, body) = Body::channel(2);
    tokio::spawn(async move {
        let mut previous: Option<ContainerStats> = None;
        let mut current = Ok(first);
        while let Ok(mut stats) = current {
            if let Some(prev) = previous.take() {
                stats.precpu_stats = prev.cpu_stats;
                stats.preread = prev.read;
            }
            let mut line = serde_json::to_vec(&stats).unwrap_or_default();
            line.push(b'\n');
            if tx.send(Ok(Bytes::from(line))).await.is_err() {
                break;
            }
            previous = Some(stats);
            tokio::time::sleep(Duration::from_secs(1)).await;
            current = sample().await;
        }
    });
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
