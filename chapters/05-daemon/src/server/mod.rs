//! The HTTP server: one hyper connection per client, one function per
//! endpoint.
//!
//! A request goes through four steps: split the `/v1.xx` prefix and check the
//! version, find the route, run the handler (which calls a service on the
//! blocking pool), and add the headers every Docker response carries. Any
//! error becomes `{"message": …}` with its status; a panic in a service
//! becomes a 500, and the daemon keeps serving.

mod body;
mod build;
mod call;
mod containers;
mod drain;
mod follow;
mod handlers;
mod hijack;
mod images;
pub mod limits;
mod networks;
mod params;
mod scrub;
mod stream;
mod system;
mod volumes;

pub use body::{Body, ChannelReader, ChannelWriter};
pub use system::{common_headers, ping_headers};

use crate::compat::defaults::ContainerDefaults;
use crate::error::ApiError;
use crate::events::Events;
use crate::networks::NetworkService;
use crate::query::Query;
use crate::router::route;
use crate::service::{ContainerService, HostService, ImageService};
use crate::version::{check_version, split_version, ApiVersion, API_VERSION};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};

/// The largest JSON request body accepted (a create body is a few KiB).
pub const MAX_JSON_BODY: usize = 8 * 1024 * 1024;

/// What `/info` and `/version` say about the daemon.
#[derive(Debug, Clone)]
pub struct DaemonFacts {
    /// A stable id of this daemon (kept in its root directory).
    pub id: String,
    /// The state directory.
    pub root: PathBuf,
    /// Print every request on stderr (a reload may switch it).
    pub debug: Arc<AtomicBool>,
    /// How registries are reached (a reload may change it).
    pub registry: Arc<RwLock<minidock_registry::ClientOptions>>,
    /// What new containers get when their request leaves it out.
    pub container_defaults: Arc<RwLock<ContainerDefaults>>,
}

/// Everything a handler needs: the services, the event bus, the facts.
pub struct Api {
    /// Images: list, pull, push, remove, load and save (chapters 02 and 04).
    pub images: Arc<dyn ImageService>,
    /// Containers: their lifecycle, streams and exec (chapter 03).
    pub containers: Arc<dyn ContainerService>,
    /// The machine, as `/info` and `/version` report it.
    pub host: Arc<dyn HostService>,
    /// Networks, when a network service is plugged in (chapter 06).
    pub networks: Option<Arc<dyn NetworkService>>,
    /// Volumes, when a volume service is plugged in.
    pub volumes: Option<Arc<dyn crate::volumes::VolumeService>>,
    /// Chapter 08's builder, when the daemon was given one.
    pub build: Option<Arc<dyn crate::builder::BuildService>>,
    /// The event bus the services publish on.
    pub events: Events,
    /// About the daemon.
    pub facts: DaemonFacts,
}

/// A request after routing: what the handlers work with.
pub(crate) struct Ctx {
    pub api: Arc<Api>,
    pub query: Query,
    pub version: ApiVersion,
}

// ANCHOR: handle
/// Answers one request. Never fails: errors become error responses.
pub async fn handle(api: Arc<Api>, req: Request<Incoming>) -> Response<Body> {
    let debug = api.facts.debug.load(Ordering::Relaxed);
    let line = debug.then(|| (format!("{} {}", req.method(), req.uri()), Instant::now()));
    let root = api.facts.root.clone();
    let mut response = match dispatch(api, req).await {
        Ok(response) => response,
        Err(err) => {
            if debug {
                eprintln!("minidockd: error: {err}");
            }
            scrubbed_error_response(&err, &root)
        }
    };
    common_headers(response.headers_mut());
    // With the time the answer took (for a hijacked or streamed answer,
    // until its head was ready).
    if let Some((line, started)) = line {
        let took = started.elapsed().as_secs_f64() * 1000.0;
        eprintln!(
            "minidockd: {line} -> {} ({took:.2} ms)",
            response.status().as_u16()
        );
    }
    response
}
// ANCHOR_END: handle

// ANCHOR: dispatch
async fn dispatch(api: Arc<Api>, mut req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let routed = (|| {
        let (version, path) = split_version(req.uri().path());
        let version = match version {
            Some(v) => check_version(v)?,
            None => API_VERSION,
        };
        let route = route(req.method(), path)?;
        let query = Query::parse(req.uri().query())?;
        Ok::<_, ApiError>((version, route, query))
    })();
    let (version, route, query) = match routed {
        Ok(routed) => routed,
        Err(err) => {
            drain::drain(req.body_mut()).await;
            return Err(err);
        }
    };
    if drain::ignores_body(&route) {
        drain::drain(req.body_mut()).await;
    }
    handlers::handle(
        route,
        Ctx {
            api,
            query,
            version,
        },
        req,
    )
    .await
}
// ANCHOR_END: dispatch

/// `{"message": …}` with the error's status.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let mut body = err.to_json();
    body.push('\n');
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = err.status();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// [`error_response`], with the host paths under `root` in the message
/// replaced by what they name (see [`scrub`]).
fn scrubbed_error_response(err: &ApiError, root: &std::path::Path) -> Response<Body> {
    let mut body = scrub::scrub(&err.to_json(), root);
    body.push('\n');
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = err.status();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON response.
pub(crate) fn json_response(
    status: StatusCode,
    value: &impl serde::Serialize,
) -> Result<Response<Body>, ApiError> {
    let mut bytes = serde_json::to_vec(value).map_err(ApiError::internal)?;
    bytes.push(b'\n');
    let mut response = Response::new(Body::full(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// A response with a status and no body.
pub(crate) fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

// ANCHOR: serve_connection
/// Serves HTTP/1.1 (with upgrades, for the attach hijack) on one connection.
pub async fn serve_connection<I>(io: I, api: Arc<Api>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let debug = api.facts.debug.load(Ordering::Relaxed);
    let service = hyper::service::service_fn(move |req| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(handle(api, req).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits::header_read_timeout())
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Err(err) = connection.await {
        if debug {
            eprintln!("minidockd: connection ended with an error: {err}");
        }
    }
}
// ANCHOR_END: serve_connection

/// Accepts connections on a unix socket until `shutdown` completes.
pub async fn serve_unix(
    listener: tokio::net::UnixListener,
    api: Arc<Api>,
    shutdown: impl Future<Output = ()>,
) {
    let listener = &listener;
    let accept = move || async move { listener.accept().await.map(|(stream, _)| stream) };
    accept_until(
        accept,
        |stream| std::future::ready(Some(stream)),
        api,
        shutdown,
    )
    .await;
}

/// Accepts plain TCP connections until `shutdown` completes: only for a
/// daemon started with `--insecure-tcp-without-tls-i-know-this-is-root`.
pub async fn serve_tcp(
    listener: tokio::net::TcpListener,
    api: Arc<Api>,
    shutdown: impl Future<Output = ()>,
) {
    let listener = &listener;
    let accept = move || async move { listener.accept().await.map(|(stream, _)| stream) };
    accept_until(
        accept,
        |stream| std::future::ready(Some(stream)),
        api,
        shutdown,
    )
    .await;
}

// ANCHOR: serve_tls
/// Accepts TCP connections and serves each one after a TLS handshake in
/// which the client proved it holds a certificate of the daemon's CA (see
/// [`crate::tls`]), until `shutdown` completes.
///
/// The handshake runs on the connection's own task, bounded by the header
/// timeout: a client that connects and says nothing holds one connection
/// slot for a while, never the accept loop. A failed handshake (no client
/// certificate, one from another CA, a plain HTTP request) is logged with
/// the peer's address and the connection closed.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    api: Arc<Api>,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = &listener;
    let accept = move || async move { listener.accept().await };
    let handshake = move |(stream, peer): (tokio::net::TcpStream, std::net::SocketAddr)| {
        let acceptor = acceptor.clone();
        async move {
            let timeout = limits::header_read_timeout();
            match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => Some(tls),
                Ok(Err(err)) => {
                    eprintln!("minidockd: TLS handshake with {peer} failed: {err}");
                    None
                }
                Err(_) => {
                    eprintln!(
                        "minidockd: TLS handshake with {peer} took longer than {timeout:?}; closed"
                    );
                    None
                }
            }
        }
    };
    accept_until(accept, handshake, api, shutdown).await;
}
// ANCHOR_END: serve_tls

// ANCHOR: accept_limit
/// The accept loop of every kind of socket: each connection that `accept`
/// yields is made ready by `ready` (a TLS handshake, or nothing) and
/// served, both on a task of its own, until `shutdown` completes.
async fn accept_until<C, F, S, R>(
    mut accept: impl FnMut() -> F,
    ready: impl Fn(C) -> R,
    api: Arc<Api>,
    shutdown: impl Future<Output = ()>,
) where
    F: Future<Output = std::io::Result<C>>,
    R: Future<Output = Option<S>> + Send + 'static,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::pin!(shutdown);
    let max = limits::max_connections();
    let open = Arc::new(tokio::sync::Semaphore::new(max));
    loop {
        let permit = match open.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                eprintln!(
                    "minidockd: {max} connections are open, the most this daemon serves (its \
                     file descriptor limit): new ones wait until one closes"
                );
                tokio::select! {
                    _ = &mut shutdown => break,
                    permit = open.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        // ANCHOR_END: accept_limit
        // ANCHOR: accept_loop
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = accept() => match accepted {
                Ok(connection) => {
                    let api = api.clone();
                    let ready = ready(connection);
                    tokio::spawn(async move {
                        if let Some(stream) = ready.await {
                            serve_connection(stream, api).await;
                        }
                        drop(permit);
                    });
                }
                Err(err) => accept_failed(err).await,
            },
        }
    }
}

/// An accept error (EMFILE when out of descriptors) must not end the daemon
/// nor spin: wait a little and go on.
async fn accept_failed(err: std::io::Error) {
    eprintln!("minidockd: accept failed: {err}; retrying");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}
// ANCHOR_END: accept_loop
