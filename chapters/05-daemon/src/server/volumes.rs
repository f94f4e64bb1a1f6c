//! The `/volumes` endpoints and `/system/df`: the volume service when one
//! is plugged in, 501 when none is.

use super::call::{blocking, json_body};
use super::{empty_response, json_response, Body, Ctx};
use crate::compat::types::{SystemDfResponse, VolumeCreateBody};
use crate::engine::containers::volume_attributes;
use crate::error::{ApiError, ApiResult};
use crate::router::Route;
use crate::service::ListOptions;
use crate::volumes::VolumeService;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

fn service(ctx: &Ctx) -> ApiResult<Arc<dyn VolumeService>> {
    ctx.api.volumes.clone().ok_or_else(|| {
        ApiError::NotImplemented(
            "this daemon has no volume service: use bind mounts (-v /host/path:/path)".to_string(),
        )
    })
}

/// Answers a volume route or `/system/df`.
pub(crate) async fn handle(
    route: Route,
    ctx: Ctx,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let containers = ctx.api.containers.clone();
    if route == Route::SystemDf {
        return system_df(&ctx).await;
    }
    let volumes = service(&ctx)?;
    match route {
        Route::VolumeList => {
            let filters = ctx.query.filters()?;
            let list = blocking(move || volumes.list(&filters, &containers.volume_users())).await?;
            json_response(StatusCode::OK, &list)
        }
        Route::VolumeCreate => {
            let body: VolumeCreateBody = json_body(req, true).await?;
            let volume = blocking(move || volumes.create(body)).await?;
            let attributes = volume_attributes();
            ctx.api
                .events
                .publish("volume", "create", &volume.name, attributes);
            json_response(StatusCode::CREATED, &volume)
        }
        Route::VolumeInspect(name) => {
            let volume = blocking(move || volumes.inspect(&name)).await?;
            json_response(StatusCode::OK, &volume)
        }
        Route::VolumeDelete(name) => {
            let force = ctx.query.bool("force", false);
            let removed = name.clone();
            let existed = blocking(move || {
                let existed = volumes.inspect(&name).is_ok();
                volumes.remove(&name, force, &|| containers.volume_users())?;
                Ok(existed)
            })
            .await?;
            if existed {
                let attributes = volume_attributes();
                ctx.api
                    .events
                    .publish("volume", "destroy", &removed, attributes);
            }
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::VolumePrune => {
            let filters = ctx.query.filters()?;
            let pruned =
                blocking(move || volumes.prune(&filters, &|| containers.volume_users())).await?;
            for name in pruned.volumes_deleted.iter().flatten() {
                let attributes = volume_attributes();
                ctx.api
                    .events
                    .publish("volume", "destroy", name, attributes);
            }
            let reclaimed = pruned.space_reclaimed.to_string();
            let attributes = [("reclaimed".to_string(), reclaimed)].into();
            ctx.api.events.publish("volume", "prune", "", attributes);
            json_response(StatusCode::OK, &pruned)
        }
        _ => Err(crate::router::page_not_found()),
    }
}

/// `GET /system/df`: images (with how many containers use each),
/// containers (with their sizes) and volumes (with `UsageData`).
async fn system_df(ctx: &Ctx) -> ApiResult<Response<Body>> {
    let containers = ctx.api.containers.clone();
    let images = ctx.api.images.clone();
    let volumes = ctx.api.volumes.clone();
    let build = ctx.api.build.clone();
    let df = blocking(move || {
        let list = containers.list(&ListOptions {
            all: true,
            size: true,
            ..Default::default()
        })?;
        let mut images = images.list(false, &Default::default())?;
        for image in &mut images {
            image.containers = list.iter().filter(|c| c.image_id == image.id).count() as i64;
        }
        // Each image's size: layers two images share count twice, as the
        // image service does not say which layers are shared.
        let layers_size = images.iter().map(|i| i.size.max(0)).sum();
        let volumes = match volumes {
            Some(v) => v.usage(&containers.volume_users())?,
            None => Vec::new(),
        };
        let build_cache = match build {
            Some(b) => b.cache_usage()?,
            None => Vec::new(),
        };
        Ok(SystemDfResponse {
            layers_size,
            images,
            containers: list,
            volumes,
            build_cache,
        })
    })
    .await?;
    json_response(StatusCode::OK, &df)
}
