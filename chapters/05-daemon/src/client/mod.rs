//! The client library: typed calls for every endpoint of the daemon, over its
//! unix socket or TCP with TLS ([`Endpoint`]). The `minidock` CLI and the
//! tests use it.
//!
//! It is blocking on purpose (see [`http`]): each call opens a connection,
//! sends one request and reads the answer. Streaming answers come back as
//! readers or iterators ([`JsonStream`], [`OutputStream`]); attach and exec
//! come back as a [`Hijacked`] connection. An error answer of the daemon
//! becomes [`ClientError::Api`] with its status and message.

mod build;
mod conn;
mod http;
mod networks;
mod stream;
mod volumes;

pub use conn::Endpoint;
pub use stream::{Hijacked, JsonStream, OutputStream, PendingWait, StdinWriter};

use crate::listen::DEFAULT_SOCKET;
use crate::query::Filters;
use crate::service::{AttachOptions, HistoryItem, ListOptions, LogsOptions, RegistryAuth};
use crate::types::*;
use crate::version::API_VERSION;
use crate::wait::WaitCondition;
use base64::Engine as _;
use http::{send, RequestBody, Response};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// What can go wrong talking to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket is not there or nobody listens.
    #[error("Cannot connect to the minidock daemon at {address}: {source}. Is minidockd running?")]
    Connect {
        /// The daemon's address (`unix:///…`, `tcp://…`).
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS handshake failed, or the daemon refused the client's
    /// certificate.
    #[error(
        "TLS with the minidock daemon at {address} failed: {source}. Check the CA, certificate \
         and key (--tlscacert, --tlscert, --tlskey, or DOCKER_CERT_PATH)"
    )]
    Tls {
        /// The daemon's address.
        address: String,
        /// What TLS said.
        source: std::io::Error,
    },
    /// The daemon answered with an error status.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The daemon's message.
        message: String,
    },
    /// A stream ended with an error object (pull, push, load).
    #[error("{0}")]
    Stream(String),
    /// The connection broke.
    #[error("talking to the daemon at {address}: {source}")]
    Io {
        /// The daemon's address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// Reading what should be sent failed.
    #[error("reading the data to send: {0}")]
    Upload(std::io::Error),
    /// The daemon's answer was not HTTP as expected.
    #[error("unexpected answer from the daemon: {0}")]
    Protocol(String),
    /// The daemon's JSON did not decode.
    #[error("could not decode {what} from the daemon: {source}")]
    Decode {
        /// What was decoded.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// A `DOCKER_HOST`/`MINIDOCK_HOST` value this client cannot use.
    #[error("{0}")]
    BadHost(String),
}

impl ClientError {
    /// The HTTP status when the daemon answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The answer to `_ping`: what the daemon announced in its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// `Api-Version`.
    pub api_version: String,
    /// `Ostype`.
    pub os_type: String,
    /// The body (`OK`).
    pub body: String,
}

/// A response as it came, from [`Client::raw`].
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header's value, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `message` of an error body.
    pub fn message(&self) -> Option<String> {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()?
            .get("message")?
            .as_str()
            .map(str::to_owned)
    }
}

/// Escapes a query value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `?a=1&b=2` from pairs, skipping `None`s.
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", escape(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn flag(on: bool) -> Option<String> {
    Some(if on { "1" } else { "0" }.to_string())
}

fn timestamp(time: SystemTime) -> String {
    let d = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// A client of one daemon.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
}

impl Client {
    /// A client of the daemon listening on the unix socket `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client::at(Endpoint::Unix(socket.into()))
    }

    /// A client of the daemon at `endpoint` (a unix socket, or TCP with TLS).
    pub fn at(endpoint: Endpoint) -> Client {
        Client { endpoint }
    }

    /// The daemon named by `MINIDOCK_HOST`, else `DOCKER_HOST`, else the
    /// default socket. A `tcp://` address uses TLS when `DOCKER_TLS_VERIFY`
    /// is set, with `ca.pem`, `cert.pem` and `key.pem` of
    /// `DOCKER_CERT_PATH` (default `~/.docker`), as the docker CLI does.
    pub fn from_env() -> Result<Client, ClientError> {
        let host = std::env::var("MINIDOCK_HOST")
            .or_else(|_| std::env::var("DOCKER_HOST"))
            .unwrap_or_else(|_| format!("unix://{DEFAULT_SOCKET}"));
        let verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
        let tls = if verify && host.starts_with("tcp://") {
            let files = crate::tls::TlsFiles::in_dir(&crate::tls::TlsFiles::default_dir());
            let config = crate::tls::client_config(&files.ca, Some((&files.cert, &files.key)))
                .map_err(|e| ClientError::BadHost(e.to_string()))?;
            Some(config)
        } else {
            None
        };
        Ok(Client::at(Endpoint::parse(&host, tls)?))
    }

    /// The daemon this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn url(&self, path: &str) -> String {
        format!("/v{API_VERSION}{path}")
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: RequestBody<'_>,
        upgrade: bool,
    ) -> Result<Response, ClientError> {
        let mut response = send(
            &self.endpoint,
            method,
            &self.url(path),
            headers,
            body,
            upgrade,
        )?;
        if response.status >= 400 {
            let mut text = String::new();
            response.body.read_to_string(&mut text).ok();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                .unwrap_or_else(|| text.trim().to_string());
            return Err(ClientError::Api {
                status: response.status,
                message,
            });
        }
        Ok(response)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        mut response: Response,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let bytes = self.read_body(&mut response)?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode { what, source })
    }

    /// The whole body of `response`.
    fn read_body(&self, response: &mut Response) -> Result<Vec<u8>, ClientError> {
        let mut bytes = Vec::new();
        response
            .body
            .read_to_end(&mut bytes)
            .map_err(|source| ClientError::Io {
                address: self.endpoint.to_string(),
                source,
            })?;
        Ok(bytes)
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let response = self.request("GET", path, &[], RequestBody::None, false)?;
        self.decode(response, what)
    }

    fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let bytes =
            serde_json::to_vec(body).map_err(|source| ClientError::Decode { what, source })?;
        let response = self.request("POST", path, &[], RequestBody::Json(bytes), false)?;
        self.decode(response, what)
    }

    /// A POST with a JSON body whose answer has no body that matters.
    fn post_json_empty(&self, path: &str, body: &impl serde::Serialize) -> Result<(), ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|source| ClientError::Decode {
            what: "the request",
            source,
        })?;
        let mut response = self.request("POST", path, &[], RequestBody::Json(bytes), false)?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(())
    }

    /// A DELETE whose answer has no body that matters.
    fn delete(&self, path: &str) -> Result<(), ClientError> {
        let mut response = self.request("DELETE", path, &[], RequestBody::None, false)?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(())
    }

    /// A request whose answer has no body that matters; returns the status.
    fn post_empty(&self, path: &str) -> Result<u16, ClientError> {
        let mut response = self.request("POST", path, &[], RequestBody::None, false)?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(response.status)
    }

    fn auth_header(auth: Option<&RegistryAuth>) -> Vec<(&'static str, String)> {
        match auth {
            Some(auth) => {
                let json = serde_json::to_vec(auth).unwrap_or_default();
                vec![(
                    "X-Registry-Auth",
                    base64::engine::general_purpose::URL_SAFE.encode(json),
                )]
            }
            None => Vec::new(),
        }
    }

    // ---- system ----

    /// `GET /_ping`.
    pub fn ping(&self) -> Result<Ping, ClientError> {
        let mut response = send(
            &self.endpoint,
            "GET",
            "/_ping",
            &[],
            RequestBody::None,
            false,
        )?;
        let mut body = String::new();
        response.body.read_to_string(&mut body).ok();
        if response.status != 200 {
            return Err(ClientError::Api {
                status: response.status,
                message: body,
            });
        }
        Ok(Ping {
            api_version: response.header("Api-Version").unwrap_or("").to_string(),
            os_type: response.header("Ostype").unwrap_or("").to_string(),
            body,
        })
    }

    /// `GET /version`.
    pub fn version(&self) -> Result<SystemVersion, ClientError> {
        self.get("/version", "the version")
    }

    /// `GET /info`.
    pub fn info(&self) -> Result<SystemInfo, ClientError> {
        self.get("/info", "the daemon's info")
    }

    /// `GET /events`: the remembered events from `since` on (if given),
    /// then events as they happen, until `until` (if given). Times are unix
    /// seconds or RFC 3339.
    pub fn events(
        &self,
        filters: &Filters,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<JsonStream<Event>, ClientError> {
        let q = query(&[
            ("filters", (!filters.is_empty()).then(|| filters.to_json())),
            ("since", since.map(str::to_owned)),
            ("until", until.map(str::to_owned)),
        ]);
        let response =
            self.request("GET", &format!("/events{q}"), &[], RequestBody::None, false)?;
        Ok(JsonStream::new(response.body))
    }

    // ---- images ----

    /// `GET /images/json`.
    pub fn images(&self, all: bool) -> Result<Vec<ImageSummary>, ClientError> {
        self.images_filtered(all, &Filters::default())
    }

    /// `GET /images/json?filters=` (`dangling`, `label`, `reference`).
    pub fn images_filtered(
        &self,
        all: bool,
        filters: &Filters,
    ) -> Result<Vec<ImageSummary>, ClientError> {
        let q = query(&[
            ("all", flag(all)),
            ("filters", (!filters.is_empty()).then(|| filters.to_json())),
        ]);
        self.get(&format!("/images/json{q}"), "the image list")
    }

    /// `GET /images/{name}/json`.
    pub fn image_inspect(&self, name: &str) -> Result<ImageInspect, ClientError> {
        self.get(&format!("/images/{name}/json"), "the image")
    }

    /// `GET /images/{name}/history`.
    pub fn image_history(&self, name: &str) -> Result<Vec<HistoryItem>, ClientError> {
        self.get(&format!("/images/{name}/history"), "the image history")
    }

    /// `POST /images/{name}/tag`.
    pub fn image_tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<(), ClientError> {
        let q = query(&[
            ("repo", Some(repo.to_string())),
            ("tag", tag.map(str::to_owned)),
        ]);
        self.post_empty(&format!("/images/{name}/tag{q}"))
            .map(|_| ())
    }

    /// `DELETE /images/{name}`.
    pub fn image_remove(
        &self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteItem>, ClientError> {
        let q = query(&[("force", flag(force))]);
        let response = self.request(
            "DELETE",
            &format!("/images/{name}{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        self.decode(response, "the deleted images")
    }

    /// `POST {path}?filters=` of a prune, decoded.
    fn prune<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        filters: &Filters,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let q = query(&[("filters", (!filters.is_empty()).then(|| filters.to_json()))]);
        let response =
            self.request("POST", &format!("{path}{q}"), &[], RequestBody::None, false)?;
        self.decode(response, what)
    }

    /// `POST /images/prune`: deletes unused images (only untagged ones
    /// unless `filters` say `dangling=false`).
    pub fn images_prune(&self, filters: &Filters) -> Result<ImagePruneResponse, ClientError> {
        self.prune("/images/prune", filters, "the pruned images")
    }

    /// `POST /images/create?fromImage=`: the pull's progress stream.
    pub fn image_pull(
        &self,
        image: &str,
        tag: Option<&str>,
        auth: Option<&RegistryAuth>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let q = query(&[
            ("fromImage", Some(image.to_string())),
            ("tag", tag.map(str::to_owned)),
        ]);
        let headers = Self::auth_header(auth);
        let response = self.request(
            "POST",
            &format!("/images/create{q}"),
            &headers,
            RequestBody::None,
            false,
        )?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /images/{name}/push`.
    pub fn image_push(
        &self,
        name: &str,
        tag: Option<&str>,
        auth: Option<&RegistryAuth>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let q = query(&[("tag", tag.map(str::to_owned))]);
        let mut headers = Self::auth_header(auth);
        if headers.is_empty() {
            // Docker requires the header, even empty.
            headers.push(("X-Registry-Auth", "e30=".to_string()));
        }
        let response = self.request(
            "POST",
            &format!("/images/{name}/push{q}"),
            &headers,
            RequestBody::None,
            false,
        )?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /images/create?fromSrc=-`: a root filesystem tar as an image.
    pub fn image_import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let q = query(&[
            ("fromSrc", Some("-".to_string())),
            ("repo", repo.map(str::to_owned)),
            ("tag", tag.map(str::to_owned)),
        ]);
        let body = RequestBody::Stream(source, "application/x-tar");
        let response = self.request("POST", &format!("/images/create{q}"), &[], body, false)?;
        Ok(JsonStream::new(response.body))
    }

    /// `POST /images/load`: a `docker save` tar.
    pub fn image_load(
        &self,
        tar: &mut dyn Read,
    ) -> Result<JsonStream<ProgressMessage>, ClientError> {
        let body = RequestBody::Stream(tar, "application/x-tar");
        let response = self.request("POST", "/images/load", &[], body, false)?;
        Ok(JsonStream::new(response.body))
    }

    /// `GET /images/get?names=`: writes a `docker save` tar; returns its size.
    pub fn image_save(&self, names: &[&str], out: &mut dyn Write) -> Result<u64, ClientError> {
        let q: Vec<String> = names
            .iter()
            .map(|n| format!("names={}", escape(n)))
            .collect();
        let mut response = self.request(
            "GET",
            &format!("/images/get?{}", q.join("&")),
            &[],
            RequestBody::None,
            false,
        )?;
        std::io::copy(&mut response.body, out).map_err(|source| ClientError::Io {
            address: self.endpoint.to_string(),
            source,
        })
    }

    // ---- containers ----

    /// `POST /containers/create`.
    pub fn container_create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> Result<ContainerCreateResponse, ClientError> {
        let q = query(&[("name", name.map(str::to_owned))]);
        // The fields the types do not name (`other`) are sent too: the
        // server reads them (ports, networking, …) even if inspect does not
        // echo them.
        let mut json = serde_json::to_value(body).map_err(|source| ClientError::Decode {
            what: "the create request",
            source,
        })?;
        if let Some(top) = json.as_object_mut() {
            for (k, v) in &body.config.other {
                top.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if let Some(host) = top.get_mut("HostConfig").and_then(|h| h.as_object_mut()) {
                for (k, v) in &body.host_config.other {
                    host.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        self.post_json(
            &format!("/containers/create{q}"),
            &json,
            "the created container",
        )
    }

    /// `GET /containers/json`.
    pub fn containers(&self, options: &ListOptions) -> Result<Vec<ContainerSummary>, ClientError> {
        let q = query(&[
            ("all", flag(options.all)),
            ("limit", options.limit.map(|l| l.to_string())),
            ("size", options.size.then(|| "1".to_string())),
            (
                "filters",
                (!options.filters.is_empty()).then(|| options.filters.to_json()),
            ),
        ]);
        self.get(&format!("/containers/json{q}"), "the container list")
    }

    /// `POST /containers/prune`: removes every container that is not
    /// running.
    pub fn containers_prune(
        &self,
        filters: &Filters,
    ) -> Result<ContainerPruneResponse, ClientError> {
        self.prune("/containers/prune", filters, "the pruned containers")
    }

    /// `POST /containers/{id}/rename?name=`.
    pub fn container_rename(&self, id: &str, name: &str) -> Result<(), ClientError> {
        let q = query(&[("name", Some(name.to_string()))]);
        self.post_empty(&format!("/containers/{id}/rename{q}"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/update`.
    pub fn container_update(
        &self,
        id: &str,
        body: &crate::compat::update::ContainerUpdateBody,
    ) -> Result<crate::compat::update::ContainerUpdateResponse, ClientError> {
        self.post_json(
            &format!("/containers/{id}/update"),
            body,
            "the update result",
        )
    }

    /// `GET /containers/{id}/changes`.
    pub fn container_changes(&self, id: &str) -> Result<Vec<ContainerChange>, ClientError> {
        let changes: Option<Vec<ContainerChange>> =
            self.get(&format!("/containers/{id}/changes"), "the changes")?;
        Ok(changes.unwrap_or_default())
    }

    /// The path-stat header of an archive response.
    fn path_stat(response: &Response) -> Result<ContainerPathStat, ClientError> {
        let what = "the X-Docker-Container-Path-Stat header";
        let value = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("X-Docker-Container-Path-Stat"))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let json = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|e| ClientError::Decode {
                what,
                source: serde::de::Error::custom(e),
            })?;
        serde_json::from_slice(&json).map_err(|source| ClientError::Decode { what, source })
    }

    /// `HEAD /containers/{id}/archive?path=`: what `path` is in the
    /// container; `None` when it does not exist.
    pub fn container_path_stat(
        &self,
        id: &str,
        path: &str,
    ) -> Result<Option<ContainerPathStat>, ClientError> {
        let url = format!(
            "/containers/{id}/archive{}",
            query(&[("path", Some(path.to_string()))])
        );
        let error = match self.request("HEAD", &url, &[], RequestBody::None, false) {
            Ok(response) => return Self::path_stat(&response).map(Some),
            // A HEAD answer has no body, so no message: ask again with GET,
            // whose error carries it (a success there is not read).
            Err(ClientError::Api { message, .. }) if message.is_empty() => {
                match self.request("GET", &url, &[], RequestBody::None, false) {
                    Err(e) => e,
                    Ok(_) => {
                        return Err(ClientError::Api {
                            status: 500,
                            message: format!("stat of {path} failed"),
                        })
                    }
                }
            }
            Err(e) => e,
        };
        match error {
            ClientError::Api {
                status: 404,
                message,
            } if message.starts_with("Could not find") => Ok(None),
            e => Err(e),
        }
    }

    /// `GET /containers/{id}/archive?path=`: writes `path` as a tar to
    /// `out`; returns its stat.
    pub fn container_archive_get(
        &self,
        id: &str,
        path: &str,
        out: &mut dyn Write,
    ) -> Result<ContainerPathStat, ClientError> {
        let q = query(&[("path", Some(path.to_string()))]);
        let mut response = self.request(
            "GET",
            &format!("/containers/{id}/archive{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        let stat = Self::path_stat(&response)?;
        std::io::copy(&mut response.body, out).map_err(|source| ClientError::Io {
            address: self.endpoint.to_string(),
            source,
        })?;
        Ok(stat)
    }

    /// `PUT /containers/{id}/archive?path=`: extracts the tar `archive`
    /// into the directory `path` of the container.
    pub fn container_archive_put(
        &self,
        id: &str,
        path: &str,
        archive: &mut dyn Read,
    ) -> Result<(), ClientError> {
        let q = query(&[("path", Some(path.to_string()))]);
        let body = RequestBody::Stream(archive, "application/x-tar");
        let mut response = self.request(
            "PUT",
            &format!("/containers/{id}/archive{q}"),
            &[],
            body,
            false,
        )?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(())
    }

    /// `GET /containers/{id}/json`.
    pub fn container_inspect(&self, id: &str) -> Result<ContainerInspect, ClientError> {
        self.get(&format!("/containers/{id}/json"), "the container")
    }

    /// `POST /containers/{id}/start`; `false` when it already ran.
    pub fn container_start(&self, id: &str) -> Result<bool, ClientError> {
        Ok(self.post_empty(&format!("/containers/{id}/start"))? != 304)
    }

    /// `POST /containers/{id}/stop`; `false` when it was not running.
    pub fn container_stop(
        &self,
        id: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<bool, ClientError> {
        let q = query(&[
            ("t", timeout.map(|t| t.to_string())),
            ("signal", signal.map(str::to_owned)),
        ]);
        Ok(self.post_empty(&format!("/containers/{id}/stop{q}"))? != 304)
    }

    /// `POST /containers/{id}/restart`.
    pub fn container_restart(&self, id: &str, timeout: Option<i64>) -> Result<(), ClientError> {
        let q = query(&[("t", timeout.map(|t| t.to_string()))]);
        self.post_empty(&format!("/containers/{id}/restart{q}"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/kill`.
    pub fn container_kill(&self, id: &str, signal: Option<&str>) -> Result<(), ClientError> {
        let q = query(&[("signal", signal.map(str::to_owned))]);
        self.post_empty(&format!("/containers/{id}/kill{q}"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/pause`.
    pub fn container_pause(&self, id: &str) -> Result<(), ClientError> {
        self.post_empty(&format!("/containers/{id}/pause"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/unpause`.
    pub fn container_unpause(&self, id: &str) -> Result<(), ClientError> {
        self.post_empty(&format!("/containers/{id}/unpause"))
            .map(|_| ())
    }

    /// `DELETE /containers/{id}`.
    pub fn container_remove(&self, id: &str, force: bool) -> Result<(), ClientError> {
        let q = query(&[("force", flag(force))]);
        self.delete(&format!("/containers/{id}{q}"))
    }

    fn condition_name(condition: WaitCondition) -> &'static str {
        match condition {
            WaitCondition::NotRunning => "not-running",
            WaitCondition::NextExit => "next-exit",
            WaitCondition::Removed => "removed",
        }
    }

    /// `POST /containers/{id}/wait`, returning as soon as the headers arrive:
    /// the daemon now watches the container, so it can be started without
    /// missing its exit. [`PendingWait::finish`] blocks for the result.
    pub fn container_wait_begin(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<PendingWait, ClientError> {
        let q = query(&[(
            "condition",
            Some(Self::condition_name(condition).to_string()),
        )]);
        let response = self.request(
            "POST",
            &format!("/containers/{id}/wait{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        Ok(PendingWait {
            body: response.body,
        })
    }

    /// `POST /containers/{id}/wait`: blocks until the condition is met.
    pub fn container_wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<WaitResponse, ClientError> {
        self.container_wait_begin(id, condition)?.finish()
    }

    /// `GET /containers/{id}/logs`.
    pub fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
        timestamps: bool,
    ) -> Result<OutputStream, ClientError> {
        let q = query(&[
            ("stdout", flag(options.stdout)),
            ("stderr", flag(options.stderr)),
            ("follow", flag(options.follow)),
            ("timestamps", flag(timestamps)),
            ("tail", options.tail.map(|t| t.to_string())),
            ("since", options.since.map(timestamp)),
            ("until", options.until.map(timestamp)),
        ]);
        let response = self.request(
            "GET",
            &format!("/containers/{id}/logs{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        let tty = response.header("Content-Type") == Some("application/vnd.docker.raw-stream");
        Ok(OutputStream::new(tty, Box::new(response.body)))
    }

    /// `POST /containers/{id}/attach`, hijacked.
    pub fn container_attach(
        &self,
        id: &str,
        options: &AttachOptions,
    ) -> Result<Hijacked, ClientError> {
        let q = query(&[
            ("stdin", flag(options.stdin)),
            ("stdout", flag(options.stdout)),
            ("stderr", flag(options.stderr)),
            ("stream", flag(options.stream)),
            ("logs", flag(options.logs)),
            ("detachKeys", options.detach_keys.clone()),
        ]);
        let response = self.request(
            "POST",
            &format!("/containers/{id}/attach{q}"),
            &[],
            RequestBody::None,
            true,
        )?;
        Self::hijacked(response)
    }

    fn hijacked(response: Response) -> Result<Hijacked, ClientError> {
        let tty = response.header("Content-Type") == Some("application/vnd.docker.raw-stream");
        match response.writer {
            Some(writer) => Ok(Hijacked::new(tty, response.body, writer)),
            None => Err(ClientError::Protocol(format!(
                "expected 101 UPGRADED for a hijacked stream, got {}",
                response.status
            ))),
        }
    }

    /// `POST /containers/{id}/resize`.
    pub fn container_resize(&self, id: &str, height: u16, width: u16) -> Result<(), ClientError> {
        self.resize(&format!("/containers/{id}/resize"), height, width)
    }

    /// `POST {path}?h=&w=`: the terminal of a container or an exec is now
    /// `height` rows by `width` columns.
    fn resize(&self, path: &str, height: u16, width: u16) -> Result<(), ClientError> {
        let q = query(&[
            ("h", Some(height.to_string())),
            ("w", Some(width.to_string())),
        ]);
        self.post_empty(&format!("{path}{q}")).map(|_| ())
    }

    /// `GET /containers/{id}/top`.
    pub fn container_top(
        &self,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<TopResponse, ClientError> {
        let q = query(&[("ps_args", ps_args.map(str::to_owned))]);
        self.get(&format!("/containers/{id}/top{q}"), "the process list")
    }

    /// `GET /containers/{id}/stats?stream=false&one-shot=true`: one sample.
    pub fn container_stats(&self, id: &str) -> Result<ContainerStats, ClientError> {
        self.get(
            &format!("/containers/{id}/stats?stream=0&one-shot=1"),
            "the stats",
        )
    }

    // ---- exec ----

    /// `POST /containers/{id}/exec`: the exec id.
    pub fn exec_create(&self, id: &str, config: &ExecConfig) -> Result<String, ClientError> {
        let created: IdResponse =
            self.post_json(&format!("/containers/{id}/exec"), config, "the exec id")?;
        Ok(created.id)
    }

    /// `POST /exec/{id}/start`, hijacked.
    pub fn exec_start(&self, exec_id: &str, tty: bool) -> Result<Hijacked, ClientError> {
        let config = ExecStartConfig { detach: false, tty };
        Self::hijacked(self.send_exec_start(exec_id, &config, true)?)
    }

    /// `POST /exec/{id}/start` with `Detach`: starts and returns at once.
    pub fn exec_start_detached(&self, exec_id: &str) -> Result<(), ClientError> {
        let config = ExecStartConfig {
            detach: true,
            tty: false,
        };
        let mut response = self.send_exec_start(exec_id, &config, false)?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(())
    }

    /// `POST /exec/{id}/start` with `config`; `upgrade` asks for the
    /// connection to be hijacked for the exec's streams.
    fn send_exec_start(
        &self,
        exec_id: &str,
        config: &ExecStartConfig,
        upgrade: bool,
    ) -> Result<Response, ClientError> {
        let body = serde_json::to_vec(config).unwrap_or_default();
        self.request(
            "POST",
            &format!("/exec/{exec_id}/start"),
            &[],
            RequestBody::Json(body),
            upgrade,
        )
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect, ClientError> {
        self.get(&format!("/exec/{exec_id}/json"), "the exec instance")
    }

    /// `POST /exec/{id}/resize`.
    pub fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> Result<(), ClientError> {
        self.resize(&format!("/exec/{exec_id}/resize"), height, width)
    }

    /// Sends a request as given (no version prefix added, no error
    /// decoding): for tests and tools that probe the protocol itself.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<RawResponse, ClientError> {
        let body = match body {
            Some(b) => RequestBody::Json(b.to_vec()),
            None => RequestBody::None,
        };
        let mut response = send(&self.endpoint, method, path, &[], body, false)?;
        let bytes = self.read_body(&mut response)?;
        Ok(RawResponse {
            status: response.status,
            headers: response.headers,
            body: bytes,
        })
    }
}
