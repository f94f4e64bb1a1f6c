//! A few lines of HTTP/1.1 over a plain TCP socket, enough to ask a local
//! server "are you up?" and "do you want credentials?" without pulling an
//! HTTP client into the kit (and without trusting minidock's).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;

/// A response: status code, headers (names lowercased), raw body bytes
/// (as sent: not de-chunked).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` on `addr` ("127.0.0.1:PORT"), optionally with basic auth.
/// Returns an `Err` (not a panic) when the server cannot be reached, so
/// callers can poll a server that is still starting.
pub fn http_get(
    addr: &str,
    path: &str,
    basic_auth: Option<(&str, &str)>,
) -> std::io::Result<HttpResponse> {
    let authorization = basic_auth.map(|(user, password)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    });
    http_get_authorized(addr, path, authorization.as_deref())
}

/// `GET path` on `addr` with this `Authorization` value (`Bearer …`), or
/// none. Errors as [`http_get`].
pub fn http_get_authorized(
    addr: &str,
    path: &str,
    authorization: Option<&str>,
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(authorization) = authorization {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not an HTTP response from {addr}: {:?}",
                String::from_utf8_lossy(&raw)
            ),
        )
    })
}

fn parse(raw: &[u8]) -> Option<HttpResponse> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(HttpResponse {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}
