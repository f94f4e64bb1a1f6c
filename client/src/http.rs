//! Just enough HTTP/1.1 to talk to the daemon, by hand, on the stream that
//! [`super::conn`] opens (a unix socket, or a relayed TCP/TLS connection).
//!
//! One connection per request (`Connection: close`), bodies with
//! `Content-Length` or chunked, and the upgrade that attach and exec use.
//! Written out so that a reader sees every byte that crosses the socket; a
//! blocking client also starts faster than an async runtime would, which
//! matters to a CLI that runs once per command.

use super::conn::{connect, Endpoint};
use super::ClientError;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

/// A request body.
pub(crate) enum RequestBody<'a> {
    /// No body.
    None,
    /// JSON bytes.
    Json(Vec<u8>),
    /// A stream sent with chunked encoding (a tar), with its content type.
    Stream(&'a mut dyn Read, &'static str),
}

/// A response: status, headers, and the body as a reader.
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ResponseBody,
    /// For `101`: the write side of the connection.
    pub writer: Option<UnixStream>,
}

impl Response {
    /// The value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The body of a response, decoded from its transfer encoding.
pub struct ResponseBody {
    kind: BodyKind,
}

enum BodyKind {
    Empty,
    Length(io::Take<BufReader<UnixStream>>),
    Chunked(ChunkedReader),
    UntilEof(BufReader<UnixStream>),
}

/// Closes a streaming response's connection from another thread: a reader
/// blocked on it then sees the end at once. For a long-lived follower (a
/// dashboard's live logs or events) whose reader has gone away while the
/// daemon has nothing to send.
#[derive(Debug)]
pub struct Closer {
    stream: UnixStream,
}

impl Closer {
    pub(crate) fn new(stream: UnixStream) -> Closer {
        Closer { stream }
    }

    /// Shuts the connection down both ways (for a TCP daemon, the local
    /// end of the relay, which then closes the TCP connection).
    pub fn close(&self) {
        // Already closed by the other side: nothing left to do.
        self.stream.shutdown(Shutdown::Both).ok();
    }
}

impl ResponseBody {
    /// A handle that can close the connection this body is read from, from
    /// another thread (`None` for an empty body, which has none).
    pub(crate) fn closer(&self) -> Option<Closer> {
        let reader = match &self.kind {
            BodyKind::Empty => return None,
            BodyKind::Length(r) => r.get_ref(),
            BodyKind::Chunked(r) => &r.inner,
            BodyKind::UntilEof(r) => r,
        };
        reader.get_ref().try_clone().ok().map(Closer::new)
    }
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.kind {
            BodyKind::Empty => Ok(0),
            BodyKind::Length(r) => {
                let limit = r.limit();
                let n = r.read(buf)?;
                if n == 0 && limit > 0 && !buf.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the daemon closed the connection {limit} bytes before the end of the body"),
                    ));
                }
                Ok(n)
            }
            BodyKind::Chunked(r) => r.read(buf),
            BodyKind::UntilEof(r) => r.read(buf),
        }
    }
}

/// `Transfer-Encoding: chunked`: `<hex size>\r\n<data>\r\n` … `0\r\n\r\n`.
struct ChunkedReader {
    inner: BufReader<UnixStream>,
    left_in_chunk: u64,
    done: bool,
}

impl ChunkedReader {
    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.inner.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the daemon closed the connection inside a chunked body",
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

impl Read for ChunkedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left_in_chunk == 0 {
            let line = self.read_line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad chunk size line {line:?}"),
                )
            })?;
            if size == 0 {
                // Trailers, then an empty line.
                while !self.read_line()?.is_empty() {}
                self.done = true;
                return Ok(0);
            }
            self.left_in_chunk = size;
        }
        let want = buf.len().min(self.left_in_chunk as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the daemon closed the connection inside a chunk",
            ));
        }
        self.left_in_chunk -= n as u64;
        if self.left_in_chunk == 0 {
            let end = self.read_line()?;
            if !end.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk not followed by CRLF",
                ));
            }
        }
        Ok(n)
    }
}

// ANCHOR: send
/// Sends one request on a new connection and reads the response head.
pub(crate) fn send(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    extra_headers: &[(&str, String)],
    body: RequestBody<'_>,
    upgrade: bool,
) -> Result<Response, ClientError> {
    let connection = connect(endpoint)?;
    let stream = connection
        .stream
        .try_clone()
        .map_err(|source| ClientError::Io {
            address: endpoint.to_string(),
            source,
        })?;
    let io_err = |source: io::Error| {
        connection.failure().unwrap_or(ClientError::Io {
            address: endpoint.to_string(),
            source,
        })
    };
    let mut writer = stream.try_clone().map_err(io_err)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: minidock\r\nUser-Agent: minidock-client/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if upgrade {
        head.push_str("Connection: Upgrade\r\nUpgrade: tcp\r\n");
    } else {
        head.push_str("Connection: close\r\n");
    }
    match &body {
        RequestBody::None => {
            if method != "GET" && method != "HEAD" {
                head.push_str("Content-Length: 0\r\n");
            }
        }
        RequestBody::Json(bytes) => {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
        }
        RequestBody::Stream(_, content_type) => {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
            ));
        }
    }
    head.push_str("\r\n");
    // A daemon may answer before it has read the whole body (413 for a body
    // that is too large) and close: then writing fails, but its answer is
    // there to be read.
    let written = write_request(&mut writer, head.as_bytes(), body);
    let write_failed = match written {
        Ok(()) => None,
        Err(WriteError::Upload(e)) => return Err(ClientError::Upload(e)),
        Err(WriteError::Socket(e))
            if matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) =>
        {
            Some(e)
        }
        Err(WriteError::Socket(e)) => return Err(io_err(e)),
    };
    let head = read_head(stream, method, endpoint);
    match (head, write_failed) {
        (Ok(response), _) => Ok(Response {
            writer: (response.status == 101).then_some(writer),
            ..response
        }),
        (Err(_), Some(e)) => Err(io_err(e)),
        // A TLS refusal surfaces here, as a connection closed early.
        (Err(e), None) => Err(connection.failure().unwrap_or(e)),
    }
}
// ANCHOR_END: send

enum WriteError {
    Upload(io::Error),
    Socket(io::Error),
}

fn write_request(
    writer: &mut UnixStream,
    head: &[u8],
    body: RequestBody<'_>,
) -> Result<(), WriteError> {
    writer.write_all(head).map_err(WriteError::Socket)?;
    match body {
        RequestBody::None => {}
        RequestBody::Json(bytes) => writer.write_all(&bytes).map_err(WriteError::Socket)?,
        RequestBody::Stream(reader, _) => {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match reader.read(&mut buffer) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(WriteError::Upload(e)),
                };
                if n == 0 {
                    break;
                }
                let mut chunk = format!("{n:x}\r\n").into_bytes();
                chunk.extend_from_slice(&buffer[..n]);
                chunk.extend_from_slice(b"\r\n");
                writer.write_all(&chunk).map_err(WriteError::Socket)?;
            }
            writer.write_all(b"0\r\n\r\n").map_err(WriteError::Socket)?;
        }
    }
    writer.flush().map_err(WriteError::Socket)
}

/// Reads the status line and headers, and picks the body's framing.
fn read_head(
    stream: UnixStream,
    method: &str,
    endpoint: &Endpoint,
) -> Result<Response, ClientError> {
    let io_err = |source: io::Error| ClientError::Io {
        address: endpoint.to_string(),
        source,
    };
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    if reader.read_line(&mut status_line).map_err(io_err)? == 0 {
        return Err(ClientError::Protocol(
            "the daemon closed the connection without answering".to_string(),
        ));
    }
    // 0x15 and 0x16 begin a TLS record (an alert, a handshake): a plain
    // request reached a daemon that serves TLS.
    if status_line.starts_with(['\u{15}', '\u{16}']) {
        return Err(ClientError::Protocol(format!(
            "the daemon at {endpoint} speaks TLS: connect with --tlsverify (and --tlscacert, \
             --tlscert, --tlskey), or set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH"
        )));
    }
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ClientError::Protocol(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(io_err)? == 0 {
            return Err(ClientError::Protocol(
                "the daemon closed the connection inside the headers".to_string(),
            ));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| ClientError::Protocol(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let kind = if status == 101 {
        BodyKind::UntilEof(reader)
    } else if method == "HEAD" || status == 204 || status == 304 {
        BodyKind::Empty
    } else if find("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        BodyKind::Chunked(ChunkedReader {
            inner: reader,
            left_in_chunk: 0,
            done: false,
        })
    } else if let Some(length) = find("Content-Length") {
        let length: u64 = length
            .parse()
            .map_err(|_| ClientError::Protocol(format!("bad Content-Length {length:?}")))?;
        BodyKind::Length(reader.take(length))
    } else {
        BodyKind::UntilEof(reader)
    };
    Ok(Response {
        status,
        headers,
        body: ResponseBody { kind },
        writer: None,
    })
}
