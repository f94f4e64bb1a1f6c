//! `minidock desktop`: the dashboard. A small web server on 127.0.0.1 that
//! shows what the daemon holds and runs, and lets a person act on it from a
//! browser — a client of the daemon like the CLI, through the same client
//! library.
//!
//! The modules, in the order a request meets them:
//!
//! - [`access`]: the one-time token, the host check and CSRF — the daemon
//!   is root-equivalent, so the page is only for the person who started it;
//! - [`web`]: forms, queries and the answers (with their guard headers);
//! - the pages: [`containers`], [`logs`], [`events`], [`inside`] (what
//!   is happening in one container); [`images`], [`volumes`],
//!   [`networks`] and [`exec`] (with what their forms share in [`forms`]);
//! - the live streams: [`follow`] (new log lines, events), sent as
//!   server-sent events by [`sse`];
//! - [`html`]: escaping and the frame every page shares.
//!
//! The client library is blocking (one connection per call), so each
//! request is handled on tokio's blocking pool; hyper and the async runtime
//! only carry the HTTP. Since every call opens a new connection to the
//! daemon, the pages keep working across a restart of the daemon: while it
//! is away they say so (503), and the next load finds it back.

pub mod access;
pub mod containers;
pub mod events;
pub mod exec;
pub mod follow;
pub mod forms;
pub mod html;
pub mod images;
pub mod inside;
pub mod logs;
pub mod networks;
pub mod sse;
pub mod volumes;
pub mod web;

use crate::cli_desktop::DesktopArgs;
use crate::error::Failure;
use access::{Access, Proof};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, COOKIE, HOST, ORIGIN, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use minidock_client::{Client, ClientError};
use minidock_daemon::server::Body;
use minidock_daemon::types::CpuStats;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use web::Form;

/// The largest form the dashboard reads (its forms are a few fields).
const MAX_FORM: usize = 64 * 1024;

/// What every page needs: the daemon's client, the secrets, and the
/// previous CPU sample of each running container (for its percentage).
pub struct Desk {
    /// The client of the daemon.
    pub client: Client,
    /// The token and the CSRF token.
    pub access: Access,
    /// Container id → its CPU counters at the previous page load.
    pub cpu: Mutex<HashMap<String, CpuStats>>,
}

impl Desk {
    /// A page that says a call to the daemon failed, with the status that
    /// fits (503 when the daemon is not there).
    pub fn failed(&self, title: &str, current: &str, error: &ClientError) -> Response<Body> {
        let (status, message) = containers::failure(title, error);
        web::html(status, html::page(title, current, Some(&message), ""))
    }
}

// ANCHOR: desktop
/// `minidock desktop`: binds 127.0.0.1 (never another address), prints the
/// URL with the token, and serves until interrupted.
pub fn desktop(client: Client, args: DesktopArgs) -> Result<i32, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("minidock desktop: starting the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .map_err(|e| {
                Failure::new(format!(
                    "minidock desktop: cannot listen on 127.0.0.1:{}: {e}. Pick another \
                     --port, or leave it out for a free one",
                    args.port
                ))
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| Failure::new(format!("minidock desktop: {e}")))?
            .port();
        let access = Access::new(port).map_err(|e| {
            Failure::new(format!(
                "minidock desktop: reading /dev/urandom for the token: {e}"
            ))
        })?;
        println!("minidock desktop is at {}", access.url());
        println!("Open it in a browser on this machine; stop it with Ctrl-C.");
        let desk = Arc::new(Desk {
            client,
            access,
            cpu: Mutex::new(HashMap::new()),
        });
        serve(listener, desk).await;
        Ok(0)
    })
}
// ANCHOR_END: desktop

/// Accepts connections until SIGINT or SIGTERM.
async fn serve(listener: tokio::net::TcpListener, desk: Arc<Desk>) {
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let desk = desk.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let desk = desk.clone();
                        async move { Ok::<_, Infallible>(handle(desk, req).await) }
                    });
                    // A browser that goes away mid-answer is no error of ours.
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                        .ok();
                });
            }
        }
    }
}

// ANCHOR: handle
/// One request: the access checks first (403 when they fail), then the
/// page on the blocking pool.
async fn handle(desk: Arc<Desk>, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let query = Form::parse(parts.uri.query().unwrap_or(""));
    let cookies: Vec<&str> = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let proof = match desk
        .access
        .check(header(HOST), query.get("token"), &cookies)
    {
        Ok(proof) => proof,
        Err(refused) => return web::guarded(web::forbidden(refused.0)),
    };
    let path = parts.uri.path().to_string();
    if proof == Proof::Query && parts.method == Method::GET {
        // The token's URL: keep the token in a cookie and go to the same
        // page without it, so it does not stay in the address bar.
        let mut response = web::redirect(&path);
        if let Ok(cookie) = HeaderValue::from_str(&desk.access.cookie()) {
            response.headers_mut().insert(SET_COOKIE, cookie);
        }
        return web::guarded(response);
    }
    if let Some(stream) = follow::route(&desk, &parts).await {
        return web::guarded(stream);
    }
    let form = if parts.method == Method::POST {
        let bytes = match http_body_util::Limited::new(body, MAX_FORM).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return web::guarded(web::answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "text/plain; charset=utf-8",
                    format!("the form is larger than the dashboard reads ({MAX_FORM} bytes)\n"),
                ))
            }
        };
        let form = Form::parse(&String::from_utf8_lossy(&bytes));
        if let Err(refused) = desk.access.check_post(header(ORIGIN), form.get("csrf")) {
            return web::guarded(web::forbidden(refused.0));
        }
        form
    } else {
        Form::default()
    };
    let method = parts.method.clone();
    let answer = tokio::task::spawn_blocking(move || route(&desk, &method, &path, &form)).await;
    web::guarded(answer.unwrap_or_else(|panic| {
        web::answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("the page failed: {panic}\n"),
        )
    }))
}
// ANCHOR_END: handle

/// Finds the page for a method and path.
fn route(desk: &Desk, method: &Method, path: &str, form: &Form) -> Response<Body> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, [""]) => containers::list(desk, None),
        (&Method::GET, ["assets", "desk.css"]) => {
            web::answer(StatusCode::OK, "text/css; charset=utf-8", html::CSS.into())
        }
        (&Method::GET, ["assets", "desk.js"]) => web::answer(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            html::JS.into(),
        ),
        (&Method::GET, ["assets", "live.js"]) => web::answer(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            follow::LIVE_JS.into(),
        ),
        (&Method::GET, ["events"]) => events::page_of(desk),
        (&Method::GET, ["containers", id, "inside"]) if is_id(id) => inside::page_of(desk, id),
        (&Method::POST, ["containers", "run"]) => containers::run(desk, form),
        (&Method::GET, ["containers", id, "logs"]) if is_id(id) => logs::page_of(desk, id),
        (_, ["containers", id, "exec"]) if is_id(id) => {
            exec::route(desk, method, id, form).unwrap_or_else(|| web::not_found(path))
        }
        (_, ["images", rest @ ..]) => {
            images::route(desk, method, rest, form).unwrap_or_else(|| web::not_found(path))
        }
        (_, ["volumes", rest @ ..]) => {
            volumes::route(desk, method, rest, form).unwrap_or_else(|| web::not_found(path))
        }
        (_, ["networks", rest @ ..]) => {
            networks::route(desk, method, rest, form).unwrap_or_else(|| web::not_found(path))
        }
        (&Method::POST, ["containers", id, action])
            if is_id(id) && containers::ACTIONS.contains(action) =>
        {
            containers::act(desk, id, action)
        }
        _ => web::not_found(path),
    }
}

/// Whether a path segment can be a container's id or name (and so is safe
/// to put into the daemon's path).
fn is_id(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}
