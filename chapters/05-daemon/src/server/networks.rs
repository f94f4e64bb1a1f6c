//! The `/networks` endpoints: each calls the network service, if the daemon
//! has one.

use super::body::Body;
use super::call::{blocking, json_body};
use super::{empty_response, json_response, Ctx};
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use crate::networks::{ContainerRef, NetworkService};
use crate::router::Route;
use crate::service::ContainerService;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// The container named in a connect or disconnect, as the network service
/// needs it.
pub(crate) fn container_ref(
    containers: &dyn ContainerService,
    id: &str,
) -> ApiResult<ContainerRef> {
    let inspect = containers.inspect(id)?;
    Ok(ContainerRef {
        id: inspect.id,
        name: inspect.name.trim_start_matches('/').to_string(),
        hostname: inspect.config.hostname.unwrap_or_default(),
        running: inspect.state.running,
    })
}

/// Answers a `/networks` route.
pub(crate) async fn handle(
    route: Route,
    ctx: Ctx,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let networks: Arc<dyn NetworkService> = ctx.api.networks.clone().ok_or_else(|| {
        ApiError::NotImplemented(
            "this daemon has no network driver: containers run with --network none or host"
                .to_string(),
        )
    })?;
    let containers = ctx.api.containers.clone();
    match route {
        Route::NetworkList => {
            let filters = ctx.query.filters()?;
            let list = blocking(move || networks.list(&filters)).await?;
            json_response(StatusCode::OK, &list)
        }
        Route::NetworkCreate => {
            let body: NetworkCreateRequest = json_body(req, false).await?;
            let created = blocking(move || networks.create(body)).await?;
            json_response(StatusCode::CREATED, &created)
        }
        Route::NetworkPrune => {
            let filters = ctx.query.filters()?;
            let pruned = blocking(move || networks.prune(&filters)).await?;
            json_response(StatusCode::OK, &pruned)
        }
        Route::NetworkInspect(id) => {
            let network = blocking(move || networks.inspect(&id)).await?;
            json_response(StatusCode::OK, &network)
        }
        Route::NetworkDelete(id) => {
            blocking(move || networks.remove(&id)).await?;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Route::NetworkConnect(id) => {
            let body: NetworkConnectRequest = json_body(req, false).await?;
            blocking(move || {
                let container = container_ref(containers.as_ref(), &body.container)?;
                networks.connect(&id, &container, body.endpoint_config.unwrap_or_default())
            })
            .await?;
            Ok(empty_response(StatusCode::OK))
        }
        Route::NetworkDisconnect(id) => {
            let body: NetworkDisconnectRequest = json_body(req, false).await?;
            blocking(move || {
                let container = container_ref(containers.as_ref(), &body.container)?;
                networks.disconnect(&id, &container, body.force)
            })
            .await?;
            Ok(empty_response(StatusCode::OK))
        }
        _ => Err(crate::router::page_not_found()),
    }
}
