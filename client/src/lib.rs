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
mod containers;
mod exec;
mod http;
mod images;
mod networks;
mod stream;
mod volumes;

pub use conn::Endpoint;
pub use http::Closer;
pub use stream::{Hijacked, JsonStream, OutputStream, PendingWait, StdinWriter};

use base64::Engine as _;
use http::{send, RequestBody, Response};
use minidock_daemon::listen::DEFAULT_SOCKET;
use minidock_daemon::query::Filters;
use minidock_daemon::service::RegistryAuth;
use minidock_daemon::types::*;
use minidock_daemon::version::API_VERSION;
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
        /// What the system said (no such file: the daemon is not running;
        /// permission denied: not in the socket's group; connection refused).
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
        /// What the system said (the daemon closed the connection, a reset, …).
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
            let files = minidock_daemon::tls::TlsFiles::in_dir(
                &minidock_daemon::tls::TlsFiles::default_dir(),
            );
            let config =
                minidock_daemon::tls::client_config(&files.ca, Some((&files.cert, &files.key)))
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

    /// A GET whose answer body (a tar, an image archive) is streamed into
    /// `out` as it arrives, never held whole in memory; returns its size.
    fn download(&self, path: &str, out: &mut dyn Write) -> Result<u64, ClientError> {
        let mut response = self.request("GET", path, &[], RequestBody::None, false)?;
        self.copy_body(&mut response, out)
    }

    /// Streams an answer's body into `out`; an I/O error names the daemon.
    fn copy_body(&self, response: &mut Response, out: &mut dyn Write) -> Result<u64, ClientError> {
        std::io::copy(&mut response.body, out).map_err(|source| ClientError::Io {
            address: self.endpoint.to_string(),
            source,
        })
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

    /// `POST {path}?h=&w=`: the terminal of a container or an exec is now
    /// `height` rows by `width` columns.
    fn resize(&self, path: &str, height: u16, width: u16) -> Result<(), ClientError> {
        let q = query(&[
            ("h", Some(height.to_string())),
            ("w", Some(width.to_string())),
        ]);
        self.post_empty(&format!("{path}{q}")).map(|_| ())
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
