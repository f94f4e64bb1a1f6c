//! `_ping`, `version`, `info`, `events`, and the headers of every response.

use super::body::Body;
use super::{json_response, Ctx};
use crate::compat::types::{
    Commit, ComponentVersion, Event, IndexInfo, Platform, RegistryConfig, SwarmInfo, SystemInfo,
    SystemVersion,
};
use crate::error::ApiError;
use crate::events::event_matches;
use crate::locks::read;
use crate::service::ListOptions;
use crate::version::{API_VERSION, MIN_API_VERSION};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast::error::RecvError;

/// The engine's version: the crate's.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Headers on every response, as Docker's middleware adds them: clients
/// learn the API version from any answer, not only from `_ping`.
pub fn common_headers(headers: &mut HeaderMap) {
    headers.insert("Api-Version", HeaderValue::from_static("1.44"));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    headers.insert(
        "Server",
        HeaderValue::from_str(&format!("minidock/{ENGINE_VERSION} (linux)")).expect("ASCII"),
    );
}

// ANCHOR: ping_headers
/// The headers of a `_ping` answer, which is how a client negotiates.
pub fn ping_headers(headers: &mut HeaderMap) {
    // exercise 5.4 ping-headers: the headers a client negotiates with, on HEAD and GET /_ping.
    // hint: Api-Version (the API_VERSION constant), Ostype "linux", Docker-Experimental "false"
    // hint: Builder-Version "1" (no BuildKit), Swarm "inactive"
    // hint: and Cache-Control "no-cache, no-store, must-revalidate" with Pragma "no-cache"
    headers.insert(
        "Api-Version",
        HeaderValue::from_str(&API_VERSION.to_string()).expect("ASCII"),
    );
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    headers.insert("Builder-Version", HeaderValue::from_static("1"));
    headers.insert("Swarm", HeaderValue::from_static("inactive"));
    headers.insert(
        "Cache-Control",
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    headers.insert("Pragma", HeaderValue::from_static("no-cache"));
    // end exercise
}
// ANCHOR_END: ping_headers

/// `GET|HEAD /_ping`: `OK`.
pub(super) fn ping() -> Response<Body> {
    let mut response = Response::new(Body::full("OK"));
    ping_headers(response.headers_mut());
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Go's name for this architecture, as Docker reports it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    }
}

// ANCHOR: version_handler
/// `GET /version`.
pub(super) async fn version(ctx: Ctx) -> Result<Response<Body>, ApiError> {
    let host = ctx.api.host.clone();
    let kernel = super::call::blocking(move || Ok(host.facts().kernel_version)).await?;
    let mut details = BTreeMap::new();
    details.insert("ApiVersion".to_string(), API_VERSION.to_string());
    details.insert("MinAPIVersion".to_string(), MIN_API_VERSION.to_string());
    details.insert("Os".to_string(), "linux".to_string());
    details.insert("Arch".to_string(), go_arch().to_string());
    details.insert("KernelVersion".to_string(), kernel.clone());
    details.insert("Experimental".to_string(), "false".to_string());
    details.insert("GitCommit".to_string(), String::new());
    details.insert("GoVersion".to_string(), "rust".to_string());
    details.insert("BuildTime".to_string(), String::new());
    let version = SystemVersion {
        platform: Platform {
            name: "minidock".to_string(),
        },
        components: vec![ComponentVersion {
            name: "Engine".to_string(),
            version: ENGINE_VERSION.to_string(),
            details,
        }],
        version: ENGINE_VERSION.to_string(),
        api_version: API_VERSION.to_string(),
        min_api_version: MIN_API_VERSION.to_string(),
        git_commit: String::new(),
        go_version: "rust".to_string(),
        os: "linux".to_string(),
        arch: go_arch().to_string(),
        kernel_version: kernel,
        experimental: false,
        build_time: String::new(),
    };
    json_response(StatusCode::OK, &version)
}
// ANCHOR_END: version_handler

/// `/info`'s `RegistryConfig`, from the registry client's settings as they
/// are now (a reload changes them).
fn registry_config(
    settings: &std::sync::RwLock<minidock_registry::ClientOptions>,
) -> RegistryConfig {
    let options = read(settings);
    let hub = minidock_registry::endpoint::DOCKER_HUB_DOMAIN;
    let mut index_configs = std::collections::BTreeMap::new();
    index_configs.insert(
        hub.to_string(),
        IndexInfo {
            name: hub.to_string(),
            mirrors: options.registry_mirrors.clone(),
            secure: true,
            official: true,
        },
    );
    for name in &options.insecure_registries {
        index_configs.insert(
            name.clone(),
            IndexInfo {
                name: name.clone(),
                mirrors: Vec::new(),
                secure: false,
                official: false,
            },
        );
    }
    RegistryConfig {
        insecure_registry_cidrs: vec!["127.0.0.0/8".to_string(), "::1/128".to_string()],
        index_configs,
        mirrors: options.registry_mirrors.clone(),
    }
}

// ANCHOR: info_gather
/// `GET /info`.
pub(super) async fn info(ctx: Ctx) -> Result<Response<Body>, ApiError> {
    let containers = ctx.api.containers.clone();
    let images = ctx.api.images.clone();
    let host = ctx.api.host.clone();
    let (all, image_count, host) = super::call::blocking(move || {
        let all = containers.list(&ListOptions {
            all: true,
            ..ListOptions::default()
        })?;
        let images = images.list(false, &Default::default())?;
        Ok((all, images.len() as i64, host.facts()))
    })
    .await?;
    let count = |state: &str| all.iter().filter(|c| c.state == state).count() as i64;
    // ANCHOR_END: info_gather
    // ANCHOR: info_fields
    let info = SystemInfo {
        id: ctx.api.facts.id.clone(),
        containers: all.len() as i64,
        containers_running: count("running"),
        containers_paused: count("paused"),
        containers_stopped: all.len() as i64 - count("running") - count("paused"),
        images: image_count,
        driver: "overlay".to_string(),
        driver_status: vec![["Backing Filesystem".to_string(), "overlay".to_string()]],
        docker_root_dir: ctx.api.facts.root.display().to_string(),
        memory_limit: true,
        swap_limit: false,
        cpu_cfs_quota: true,
        cpu_shares: true,
        pids_limit: true,
        debug: ctx
            .api
            .facts
            .debug
            .load(std::sync::atomic::Ordering::Relaxed),
        n_fd: host.open_fds,
        n_goroutines: 0,
        system_time: crate::time::rfc3339(SystemTime::now()),
        // The default of new containers (daemon.json's `log-driver`).
        logging_driver: read(&ctx.api.facts.container_defaults)
            .log_config
            .kind
            .clone(),
        cgroup_driver: "cgroupfs".to_string(),
        cgroup_version: host.cgroup_version,
        n_events_listener: ctx.api.events.listeners() as i64,
        kernel_version: host.kernel_version,
        operating_system: host.operating_system,
        os_type: "linux".to_string(),
        architecture: host.architecture,
        ncpu: host.ncpu,
        mem_total: host.mem_total,
        name: host.hostname,
        labels: Vec::new(),
        registry_config: registry_config(&ctx.api.facts.registry),
        experimental_build: false,
        server_version: ENGINE_VERSION.to_string(),
        default_runtime: "minidock".to_string(),
        swarm: SwarmInfo {
            local_node_state: "inactive".to_string(),
        },
        live_restore_enabled: true,
        security_options: vec!["name=seccomp,profile=builtin".to_string()],
        warnings: ctx.api.events.warnings(),
        containerd_commit: Commit::default(),
        runc_commit: Commit::default(),
        init_commit: Commit::default(),
    };
    json_response(StatusCode::OK, &info)
}
// ANCHOR_END: info_fields

// ANCHOR: events_replay
/// `GET /events?filters=&since=&until=`: streams events, one JSON object
/// per line: with `since`, the remembered ones from then on first (the last
/// [`crate::events::HISTORY`]), then the live ones, until `until`.
pub(super) async fn events(ctx: Ctx) -> Result<Response<Body>, ApiError> {
    let filters = ctx.query.filters()?;
    let time = |key: &str| match ctx.query.string(key) {
        Some(text) => crate::time::parse_timestamp(&text)
            .map(Some)
            .ok_or_else(|| ApiError::BadParameter(format!("invalid value for {key}: {text:?}"))),
        None => Ok(None),
    };
    let (since, until) = (time("since")?, time("until")?);
    let (past, mut receiver) = ctx.api.events.subscribe_with_history();
    let replay: Vec<Event> = match since {
        Some(since) => past
            .into_iter()
            .filter(|e| {
                let at = UNIX_EPOCH + std::time::Duration::from_nanos(e.time_nano as u64);
                at >= since && until.is_none_or(|u| at <= u) && event_matches(e, &filters)
            })
            .collect(),
        None => Vec::new(),
    };
    let (tx, body) = Body::channel(16);
    tokio::spawn(async move {
        for event in replay {
            let mut line = serde_json::to_vec(&event).unwrap_or_default();
            line.push(b'\n');
            if tx.send(Ok(Bytes::from(line))).await.is_err() {
                return;
            }
        }
        // ANCHOR_END: events_replay
        // ANCHOR: events_live
        let deadline = until.map(|t| {
            let left = t.duration_since(SystemTime::now()).unwrap_or_default();
            tokio::time::Instant::now() + left
        });
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, receiver.recv()).await.ok(),
                    None => Some(receiver.recv().await),
                }
            };
            tokio::select! {
                _ = tx.closed() => break,
                received = next => match received {
                    None => break, // until reached
                    Some(Ok(event)) => {
                        if !event_matches(&event, &filters) {
                            continue;
                        }
                        let mut line = serde_json::to_vec(&event).unwrap_or_default();
                        line.push(b'\n');
                        if tx.send(Ok(Bytes::from(line))).await.is_err() {
                            break;
                        }
                    }
                    Some(Err(RecvError::Lagged(_))) => continue,
                    Some(Err(RecvError::Closed)) => break,
                },
            }
        }
    });
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
// ANCHOR_END: events_live
