//! The dispatch of a routed request: each group of endpoints has its
//! module, which reads the parameters, calls a service on the blocking
//! pool and shapes the answer.

use super::body::Body;
use super::{system, Ctx};
use crate::error::ApiResult;
use crate::router::Route;
use hyper::body::Incoming;
use hyper::{Request, Response};

// ANCHOR: route_groups
/// Dispatches a routed request to its handler.
pub(crate) async fn handle(
    route: Route,
    ctx: Ctx,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    match route {
        Route::Ping => Ok(system::ping()),
        Route::Build => super::build::build(ctx, req).await,
        Route::BuildPrune => super::build::prune(ctx).await,
        Route::Commit => super::build::commit(ctx).await,
        Route::ContainerExport(id) => super::build::export(ctx, id).await,
        Route::Version => system::version(ctx).await,
        Route::Info => system::info(ctx).await,
        Route::Events => system::events(ctx).await,

        Route::Auth
        | Route::ImageList
        | Route::ImageInspect(_)
        | Route::ImageHistory(_)
        | Route::ImageTag(_)
        | Route::ImageDelete(_)
        | Route::ImagePrune
        | Route::ImageCreate
        | Route::ImageSearch
        | Route::ImagePush(_)
        | Route::ImageLoad
        | Route::ImageGetAll
        | Route::ImageGet(_) => super::images::handle(route, ctx, req).await,

        // ANCHOR_END: route_groups
        Route::ContainerList
        | Route::ContainerCreate
        | Route::ContainerPrune
        | Route::ContainerInspect(_)
        | Route::ContainerStart(_)
        | Route::ContainerStop(_)
        | Route::ContainerRestart(_)
        | Route::ContainerKill(_)
        | Route::ContainerPause(_)
        | Route::ContainerUnpause(_)
        | Route::ContainerDelete(_)
        | Route::ContainerArchive(_)
        | Route::ContainerRename(_)
        | Route::ContainerUpdate(_)
        | Route::ContainerChanges(_)
        | Route::ContainerWait(_)
        | Route::ContainerLogs(_)
        | Route::ContainerAttach(_)
        | Route::ContainerResize(_)
        | Route::ContainerTop(_)
        | Route::ContainerStats(_)
        | Route::ExecCreate(_)
        | Route::ExecStart(_)
        | Route::ExecInspect(_)
        | Route::ExecResize(_) => super::containers::handle(route, ctx, req).await,

        Route::VolumeList
        | Route::VolumeCreate
        | Route::VolumeInspect(_)
        | Route::VolumeDelete(_)
        | Route::VolumePrune
        | Route::SystemDf => super::volumes::handle(route, ctx, req).await,

        Route::NetworkList
        | Route::NetworkCreate
        | Route::NetworkPrune
        | Route::NetworkInspect(_)
        | Route::NetworkDelete(_)
        | Route::NetworkConnect(_)
        | Route::NetworkDisconnect(_) => super::networks::handle(route, ctx, req).await,
    }
}
