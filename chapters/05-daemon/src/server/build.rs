//! The endpoints of the build service (see [`crate::builder`]): their
//! queries read, the plugin called, the answers shaped.

use super::body::{spawn_body_pump, Body};
use super::call::blocking;
use super::stream::{progress_stream, raw_stream};
use super::{json_response, Ctx};
use crate::builder::{BuildRequest, BuildService, CommitRequest};
use crate::error::{ApiError, ApiResult};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The plugin, or a 501 that says what is missing.
fn service(ctx: &Ctx) -> ApiResult<Arc<dyn BuildService>> {
    ctx.api.build.clone().ok_or_else(|| {
        ApiError::NotImplemented(
            "this daemon was started without a builder: build, commit and export are not available"
                .to_string(),
        )
    })
}

/// A query parameter holding a JSON object of strings (`buildargs`,
/// `labels`); `null` values are left out.
fn json_map(ctx: &Ctx, key: &str) -> ApiResult<BTreeMap<String, String>> {
    let Some(text) = ctx.query.get(key).filter(|t| !t.is_empty()) else {
        return Ok(BTreeMap::new());
    };
    let map: BTreeMap<String, Option<String>> = serde_json::from_str(text).map_err(|e| {
        ApiError::BadParameter(format!("{key} must be a JSON object of strings: {e}"))
    })?;
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}

/// `POST /build`.
pub(super) async fn build(ctx: Ctx, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let service = service(&ctx)?;
    if ctx.query.get("remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::NotImplemented(
            "building from a remote URL is not supported: send the context as a tar".to_string(),
        ));
    }
    let request = BuildRequest {
        dockerfile: ctx.query.string("dockerfile").unwrap_or_default(),
        tags: ctx
            .query
            .all("t")
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect(),
        build_args: json_map(&ctx, "buildargs")?,
        no_cache: ctx.query.bool("nocache", false),
        remove: ctx.query.bool("rm", true),
        force_remove: ctx.query.bool("forcerm", false),
        labels: json_map(&ctx, "labels")?,
        target: ctx.query.string("target").filter(|t| !t.is_empty()),
        quiet: ctx.query.bool("q", false),
        pull: ctx.query.bool("pull", false),
    };
    let mut context = spawn_body_pump(req.into_body());
    progress_stream(move |progress| service.build(&mut context, &request, progress)).await
}

/// `POST /build/prune`.
pub(super) async fn prune(ctx: Ctx) -> ApiResult<Response<Body>> {
    let service = service(&ctx)?;
    let all = ctx.query.bool("all", false);
    let answer = blocking(move || service.prune(all)).await?;
    json_response(StatusCode::OK, &answer)
}

/// `POST /commit`.
pub(super) async fn commit(ctx: Ctx) -> ApiResult<Response<Body>> {
    let service = service(&ctx)?;
    let container = ctx
        .query
        .string("container")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError::BadParameter("container is required: which container to commit".to_string())
        })?;
    let request = CommitRequest {
        container,
        repo: ctx.query.string("repo").filter(|r| !r.is_empty()),
        tag: ctx.query.string("tag").filter(|t| !t.is_empty()),
        comment: ctx.query.string("comment").filter(|c| !c.is_empty()),
        author: ctx.query.string("author").filter(|a| !a.is_empty()),
        changes: ctx
            .query
            .all("changes")
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect(),
        pause: ctx.query.bool("pause", true),
    };
    let id = blocking(move || service.commit(&request)).await?;
    json_response(StatusCode::CREATED, &serde_json::json!({ "Id": id }))
}

/// `GET /containers/{id}/export`.
pub(super) async fn export(ctx: Ctx, id: String) -> ApiResult<Response<Body>> {
    let service = service(&ctx)?;
    raw_stream("application/x-tar", move |out| service.export(&id, out)).await
}

/// `POST /images/create?fromSrc=-` with `changes` or `message`: the
/// import goes through the builder, which reads the instructions. `None`
/// when the request has neither, or no builder is plugged in.
pub(super) async fn import(
    ctx: &Ctx,
    req: Request<Incoming>,
) -> Result<ApiResult<Response<Body>>, Request<Incoming>> {
    let changes: Vec<String> = ctx
        .query
        .all("changes")
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    let message = ctx.query.string("message").filter(|m| !m.is_empty());
    let Some(service) = ctx.api.build.clone() else {
        return Err(req);
    };
    if changes.is_empty() && message.is_none() {
        return Err(req);
    }
    let repo = ctx.query.string("repo");
    let tag = ctx.query.string("tag");
    let mut source = spawn_body_pump(req.into_body());
    Ok(progress_stream(move |progress| {
        service.import(
            &mut source,
            repo.as_deref(),
            tag.as_deref(),
            &changes,
            message.as_deref(),
            progress,
        )
    })
    .await)
}
