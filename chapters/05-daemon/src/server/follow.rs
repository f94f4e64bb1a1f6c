//! Answers that follow a container over time: `wait` (headers now, the
//! body at the exit), `logs` (with `follow`, while it runs) and `stats`
//! (a sample a second).

use super::body::Body;
use super::call::blocking;
use super::{json_response, Ctx};
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::frames;
use crate::service::*;
use crate::wait::{wait_until, WaitCondition};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::time::Duration;

// ANCHOR: wait_handler
/// `POST /containers/{id}/wait`: the headers now, the body on the condition.
pub(super) async fn container_wait(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
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
// ANCHOR: logs_handler

/// `GET /containers/{id}/logs`: frames (or raw bytes with a TTY), with
/// optional timestamps, following while the container runs.
pub(super) async fn container_logs(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
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
    // ANCHOR_END: logs_handler
    // ANCHOR: logs_frames
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
// ANCHOR_END: logs_frames

// ANCHOR: stats_handler
/// `GET /containers/{id}/stats`: one sample per second, or one answer with
/// `stream=false` (two samples a second apart, so the CPU percentage can be
/// computed, unless `one-shot=true`).
pub(super) async fn container_stats(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
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
// ANCHOR_END: stats_handler
