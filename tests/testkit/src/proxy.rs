//! A recording HTTP/1.1 proxy in front of a local server (the registry),
//! that can hold one request until a condition holds: "the pull's token
//! has expired" becomes a fact the test waits for, not a sleep.
//!
//! Each client connection carries one request: the proxy forwards it to
//! the upstream server with `Connection: close`, sends the answer back with
//! `Connection: close` too, and closes both. The client sees a server that
//! does not keep connections alive, which HTTP/1.1 allows. Request bodies
//! must have a `Content-Length` (what registry clients send); a chunked one
//! is answered `501` and recorded, so a test sees why it failed.
//!
//! Plain HTTP on 127.0.0.1 only; it depends on no minidock code.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request the proxy forwarded: its method and path (with query), and
/// the status the upstream server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Whether a request (method, path) is the one to hold.
pub type RequestMatcher = Box<dyn Fn(&str, &str) -> bool + Send>;

/// Which request to hold, and until when: the first request for which
/// `matches(method, path)` is true waits for `until()` to return before it
/// is forwarded. Later matching requests pass at once.
pub struct Hold {
    pub matches: RequestMatcher,
    pub until: Box<dyn FnOnce() + Send>,
}

/// A running proxy; stopped when dropped.
pub struct HoldingProxy {
    addr: String,
    requests: Arc<Mutex<Vec<ProxiedRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HoldingProxy {
    /// Starts a proxy for `upstream` (`127.0.0.1:PORT`) that applies `hold`.
    pub fn start(upstream: &str, hold: Hold) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let hold = Arc::new(Mutex::new(Some(hold)));
        let (stopping, recorded, upstream) = (stop.clone(), requests.clone(), upstream.to_string());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (hold, recorded, upstream) = (hold.clone(), recorded.clone(), upstream.clone());
                // One thread per connection: a held request must not stop
                // the others (parallel layer downloads).
                std::thread::spawn(move || {
                    if let Err(e) = forward(stream, &upstream, &hold, &recorded) {
                        eprintln!("proxy to {upstream}: {e}");
                    }
                });
            }
        });
        HoldingProxy {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`: where clients connect.
    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// Every request forwarded so far, in the order their answers' heads
    /// came from the upstream server.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        TcpStream::connect(&self.addr).ok();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// Forwards the one request of `client` to `upstream` and the answer back.
fn forward(
    client: TcpStream,
    upstream: &str,
    hold: &Mutex<Option<Hold>>,
    recorded: &Mutex<Vec<ProxiedRequest>>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut head = read_head(&mut from_client)?;
    let Some(request_line) = head.first().cloned() else {
        return Ok(()); // closed without a request
    };
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let record = |status| {
        recorded
            .lock()
            .expect("requests lock")
            .push(ProxiedRequest {
                method: method.clone(),
                path: path.clone(),
                status,
            })
    };
    let mut client = client;
    if header(&head, "transfer-encoding").is_some() {
        record(501);
        return client.write_all(
            b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let held = {
        let mut hold = hold.lock().expect("hold lock");
        match hold.take() {
            Some(h) if (h.matches)(&method, &path) => Some(h),
            other => {
                *hold = other;
                None
            }
        }
    };
    if let Some(h) = held {
        (h.until)();
    }
    let length: u64 = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    set_connection_close(&mut head);
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(join_head(&head).as_bytes())?;
    std::io::copy(&mut (&mut from_client).take(length), &mut server)?;
    server.flush()?;

    let mut from_server = BufReader::new(server);
    let mut answer = read_head(&mut from_server)?;
    let status = answer
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Recorded before the client sees the answer: a retry it sends after
    // a 401 is then always recorded after that 401.
    record(status);
    set_connection_close(&mut answer);
    client.write_all(join_head(&answer).as_bytes())?;
    std::io::copy(&mut from_server, &mut client)?;
    client.flush()
}

/// The lines of a message head, without their line ends; empty at EOF.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(lines);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Ok(lines);
        }
        lines.push(line);
    }
}

/// The value of header `name` (case-insensitive).
fn header<'h>(head: &'h [String], name: &str) -> Option<&'h str> {
    head.iter().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Replaces any `Connection` header with `Connection: close`.
fn set_connection_close(head: &mut Vec<String>) {
    head.retain(|line| {
        !line
            .split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("connection"))
    });
    head.push("Connection: close".to_string());
}

fn join_head(head: &[String]) -> String {
    let mut text = head.join("\r\n");
    text.push_str("\r\n\r\n");
    text
}
