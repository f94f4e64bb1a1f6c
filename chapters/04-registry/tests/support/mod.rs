//! A small HTTP/1.1 server for tests, written by hand so each test can make
//! it misbehave exactly as it needs: serve wrong bytes, cut a body half-way,
//! redirect elsewhere, ask for a token.
//!
//! [`FakeServer`] accepts connections on 127.0.0.1, parses each request
//! (request line, headers, body by `Content-Length`), records it, and asks
//! the test's handler for a [`Reply`]. Every reply closes the connection,
//! which keeps the server simple (clients open a new one).
//!
//! [`Layout`] serves the distribution API read-only from an OCI image
//! layout written by the test kit: `GET /v2/`, manifests by tag or digest,
//! blobs with `Range` support.

#![allow(dead_code)] // each test file uses a different part of it

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent (`/v2/a/b/blobs/sha256:…?x=1`).
    pub target: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, key: &str) -> Vec<String> {
        let Some((_, q)) = self.target.split_once('?') else {
            return Vec::new();
        };
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| percent_decode(v))
            .collect()
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Announce the whole body's length but send only this many bytes,
    /// then close the connection: a download cut half-way.
    pub cut_after: Option<usize>,
    /// Do not send `Content-Length`; the end of the body is the close.
    pub no_length: bool,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            cut_after: None,
            no_length: false,
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply::new(status, Vec::new())
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn cut_after(mut self, n: usize) -> Reply {
        self.cut_after = Some(n);
        self
    }
    pub fn without_length(mut self) -> Reply {
        self.no_length = true;
        self
    }
    /// A registry-style JSON error.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::new(
            status,
            format!(r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#),
        )
        .header("Content-Type", "application/json")
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The server. Stops when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Starts a server on `ip` (any 127.x.y.z works on Linux) and a free port.
    pub fn start_on(
        ip: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> FakeServer {
        let listener = TcpListener::bind((ip, 0)).expect("bind a test port");
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (log, handler) = (log.clone(), handler.clone());
                    std::thread::spawn(move || serve(conn, &log, &*handler));
                }
            })
        };
        FakeServer {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// Starts a server on 127.0.0.1.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        FakeServer::start_on("127.0.0.1", handler)
    }

    /// `127.0.0.1:PORT`: the registry's domain in references.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// The requests whose path contains `part`.
    pub fn requests_to(&self, part: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.contains(part))
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        drop(TcpStream::connect(self.addr));
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread");
        }
    }
}

/// Reads one request from `conn`, answers it, closes.
fn serve(conn: TcpStream, log: &Mutex<Vec<Request>>, handler: &Handler) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone socket"));
    let Some(req) = read_request(&mut reader) else {
        return;
    };
    log.lock().unwrap().push(req.clone());
    let reply = handler(&req);
    let mut out = conn;
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !reply.no_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    if req.method != "HEAD" {
        let n = reply
            .cut_after
            .unwrap_or(reply.body.len())
            .min(reply.body.len());
        // The client may hang up early (that is what some tests provoke).
        if out.write_all(&reply.body[..n]).is_err() {
            return;
        }
    }
    let _flushed = out.flush();
    let _closed = out.shutdown(std::net::Shutdown::Both);
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The content of an OCI image layout, served as a read-only registry.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Blobs by digest (`sha256:…`).
    pub blobs: HashMap<String, Vec<u8>>,
    /// Tag → manifest digest, from `index.json`'s ref-name annotations.
    pub tags: HashMap<String, String>,
    /// Media type of each manifest or index, by digest.
    pub media_types: HashMap<String, String>,
}

impl Layout {
    /// Reads every blob and tag of the layout at `dir`.
    pub fn read(dir: &Path) -> Layout {
        let mut layout = Layout::default();
        for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
            let entry = entry.unwrap();
            let digest = format!("sha256:{}", entry.file_name().to_string_lossy());
            layout
                .blobs
                .insert(digest, std::fs::read(entry.path()).unwrap());
        }
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        for m in index["manifests"].as_array().unwrap() {
            let digest = m["digest"].as_str().unwrap().to_string();
            let media_type = m["mediaType"].as_str().unwrap().to_string();
            layout.media_types.insert(digest.clone(), media_type);
            if let Some(tag) = m["annotations"]["org.opencontainers.image.ref.name"].as_str() {
                layout.tags.insert(tag.to_string(), digest);
            }
        }
        layout
    }

    /// Adds a manifest or index document under `tag`; returns its digest.
    pub fn add_manifest(&mut self, tag: &str, media_type: &str, bytes: Vec<u8>) -> String {
        let digest = minidock_testkit::sha256_digest(&bytes);
        self.blobs.insert(digest.clone(), bytes);
        self.media_types
            .insert(digest.clone(), media_type.to_string());
        self.tags.insert(tag.to_string(), digest.clone());
        digest
    }

    /// Answers a distribution API request for repository `repo`, with
    /// `Range` support on blobs.
    pub fn serve(&self, repo: &str, req: &Request) -> Reply {
        let path = req.path();
        if path == "/v2/" {
            return Reply::new(200, "{}");
        }
        let prefix = format!("/v2/{repo}/");
        let Some(rest) = path.strip_prefix(&prefix) else {
            return Reply::error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        if let Some(reference) = rest.strip_prefix("manifests/") {
            let digest = if reference.starts_with("sha256:") {
                reference.to_string()
            } else {
                match self.tags.get(reference) {
                    Some(d) => d.clone(),
                    None => return Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
                }
            };
            return match (self.blobs.get(&digest), self.media_types.get(&digest)) {
                (Some(bytes), Some(mt)) => Reply::new(200, bytes.clone())
                    .header("Content-Type", mt.clone())
                    .header("Docker-Content-Digest", digest.clone()),
                _ => Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
            };
        }
        if let Some(digest) = rest.strip_prefix("blobs/") {
            let Some(bytes) = self.blobs.get(digest) else {
                return Reply::error(404, "BLOB_UNKNOWN", "blob unknown to registry");
            };
            return range_reply(bytes, req.header("range"))
                .header("Docker-Content-Digest", digest.to_string());
        }
        Reply::error(404, "NOT_FOUND", "no such route")
    }
}

/// `200` with the whole body, or `206` from `Range: bytes=N-`.
pub fn range_reply(bytes: &[u8], range: Option<&str>) -> Reply {
    let start = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok());
    match start {
        Some(start) if start < bytes.len() => Reply::new(206, bytes[start..].to_vec())
            .header("Content-Type", "application/octet-stream")
            .header(
                "Content-Range",
                format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len()),
            ),
        _ => Reply::new(200, bytes.to_vec()).header("Content-Type", "application/octet-stream"),
    }
}

/// The names under a directory, sorted (to check `blobs/` and `ingest/`).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// One raw HTTP/1.1 request to `addr` (for test setup that the kit's
/// tools cannot do, such as `PUT`ting an index). Returns status and body.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    (status, text)
}
