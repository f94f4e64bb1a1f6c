//! The API socket does not let a client hold a connection without using
//! it: a request's headers must arrive in time, an idle connection is
//! closed, and a body announced larger than the daemon accepts is refused
//! before it is sent. (A test binary of its own: it shortens the timeout
//! for its whole process.)

mod common;

use common::TestServer;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(1500);

/// Reads until the daemon closes the connection; returns what it sent and
/// how long that took.
fn read_to_close(socket: &mut UnixStream) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading: {e} after {:?}", start.elapsed()),
        }
    }
    (got, start.elapsed())
}

#[test]
fn slow_headers_and_idle_connections_are_closed_and_big_bodies_refused_up_front() {
    minidock_daemon::server::limits::set_header_read_timeout(TIMEOUT);
    let server = TestServer::start();

    // Half a header, then nothing: closed after the timeout.
    let mut slow = UnixStream::connect(&server.socket).unwrap();
    slow.write_all(b"GET /_ping HTTP/1.1\r\nHost: dock")
        .unwrap();
    // Nothing at all: closed after the timeout too.
    let mut idle = UnixStream::connect(&server.socket).unwrap();
    // One request answered, then idle: closed after the timeout.
    let mut kept = UnixStream::connect(&server.socket).unwrap();
    kept.write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        .unwrap();
    for (what, socket) in [
        ("half a header", &mut slow),
        ("idle", &mut idle),
        ("kept alive", &mut kept),
    ] {
        let (got, took) = read_to_close(socket);
        assert!(took < TIMEOUT * 10, "{what}: still open after {took:?}");
        if what == "kept alive" {
            assert!(
                got.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&got)
            );
        }
    }
    // The daemon still answers.
    assert_eq!(server.client.ping().unwrap().api_version, "1.44");

    // A body announced larger than a JSON body may be: 413 at once,
    // before the client sends any of it.
    let mut big = UnixStream::connect(&server.socket).unwrap();
    big.write_all(
        b"POST /v1.44/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n\
          Content-Length: 1000000000\r\n\r\n",
    )
    .unwrap();
    let start = Instant::now();
    let (got, _) = read_to_close(&mut big);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        start.elapsed() < TIMEOUT,
        "the 413 took {:?}",
        start.elapsed()
    );
}
