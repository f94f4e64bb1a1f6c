//! The `/images` endpoints and `/auth`: chapter 02's store and chapter
//! 04's registry client, through the image service.

use super::body::{spawn_body_pump, Body};
use super::call::{blocking, json_body};
use super::params::{pull_platform, registry_auth};
use super::stream::{progress_stream, raw_stream};
use super::{empty_response, json_response, Ctx};
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::router::Route;
use crate::service::*;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

// ANCHOR: image_handler
/// Answers an image route or `/auth`.
pub(crate) async fn handle(
    route: Route,
    ctx: Ctx,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let images = ctx.api.images.clone();
    match route {
        Route::Auth => {
            let auth: RegistryAuth = json_body(req, false).await?;
            blocking(move || images.login(&auth)).await?;
            json_response(
                StatusCode::OK,
                &serde_json::json!({"Status": "Login Succeeded", "IdentityToken": ""}),
            )
        }
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
        // ANCHOR_END: image_handler
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
        // ANCHOR: image_push_load_save
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
        _ => Err(crate::router::page_not_found()),
    }
}
// ANCHOR_END: image_push_load_save

// ANCHOR: image_create
/// `POST /images/create`: pull (`fromImage`) or import (`fromSrc=-`).
async fn image_create(ctx: Ctx, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let images = ctx.api.images.clone();
    let tag = ctx.query.string("tag");
    if let Some(from_image) = ctx.query.string("fromImage") {
        let auth = registry_auth(&req)?;
        let platform = pull_platform(&ctx)?;
        return progress_stream(move |progress| {
            let request = PullRequest {
                image: &from_image,
                tag: tag.as_deref(),
                platform: platform.as_ref(),
                auth: auth.as_ref(),
            };
            images.pull(&request, progress)
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
// ANCHOR_END: image_create
