//! The hijack: attach and exec start take over the HTTP connection.
//!
//! The client sends `Connection: Upgrade` and `Upgrade: tcp`; the daemon
//! answers `101 UPGRADED`, and from then on the socket is no longer HTTP but
//! a raw pipe in both directions: the container's output flows to the client
//! (in 8-byte frames when there is no TTY, see [`crate::frames`]), and what
//! the client writes is the container's stdin. When the client has no more
//! input, it half-closes the socket (`shutdown(SHUT_WR)`): the daemon reads
//! EOF, closes the container's stdin, and keeps sending output until the
//! process is done, then closes its side.

use super::body::Body;
use crate::detach::Scanned;
use crate::frames;
use crate::service::AttachStream;
use crate::version::ApiVersion;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

// ANCHOR: wants_upgrade
/// Whether the client asked to take the connection over.
pub(crate) fn wants_upgrade(req: &Request<Incoming>) -> bool {
    let connection_upgrade = req
        .headers()
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    connection_upgrade && req.headers().contains_key(UPGRADE)
}

/// The content type that tells a client how to read the stream.
fn stream_content_type(tty: bool, version: ApiVersion) -> &'static str {
    if tty
        || version
            < (ApiVersion {
                major: 1,
                minor: 42,
            })
    {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// Takes the upgrade handle of a request that asked for one. Take it before
/// the request body is consumed.
pub(crate) fn upgrade_handle(req: &mut Request<Incoming>) -> Option<OnUpgrade> {
    wants_upgrade(req).then(|| hyper::upgrade::on(req))
}
// ANCHOR_END: wants_upgrade
// ANCHOR: hijack_begin

/// Answers an attach or exec start: `101` and a pump when the client asked
/// for the upgrade, otherwise `200` with the output as the response body
/// (and no stdin).
pub(crate) fn hijack(
    upgrade: Option<OnUpgrade>,
    mut stream: AttachStream,
    version: ApiVersion,
) -> Response<Body> {
    // ANCHOR_END: hijack_begin
    let content_type = stream_content_type(stream.tty, version);
    // ANCHOR: upgrade
    if let Some(on_upgrade) = upgrade {
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => pump(TokioIo::new(upgraded), stream).await,
                Err(err) => eprintln!("minidockd: the connection upgrade failed: {err}"),
            }
        });
        return switching_protocols(content_type);
    }
    // ANCHOR_END: upgrade
    // ANCHOR: hijack_plain
    // No upgrade: output only, as a plain streamed body.
    stream.stdin = None;
    let (tx, body) = Body::channel(16);
    tokio::spawn(async move {
        while let Some(output) = stream.output.recv().await {
            let bytes = encode_output(stream.tty, &output);
            if tx.send(Ok(bytes)).await.is_err() {
                break;
            }
        }
    });
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
// ANCHOR_END: hijack_plain

// ANCHOR: switching_protocols
/// The answer that hands the connection over: from the blank line after it on, the socket
/// carries the container's streams, not HTTP.
fn switching_protocols(content_type: &'static str) -> Response<Body> {
    // exercise 5.6 upgrade: answer 101 and name the protocol the connection switches to.
    // hint: HTTP/1.1 has one status for "from now on this connection speaks something else": 101 Switching Protocols. hyper's client (and Go's, in the docker CLI) only hands the socket over on it.
    // hint: the client asked with `Connection: Upgrade` and `Upgrade: tcp`; the answer says both back, and its Content-Type (the argument) tells how the stream is framed.
    // hint: an empty response (`Body::Empty`) whose status comes from `hyper::StatusCode`, and three headers inserted from static values.
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
    response
    // end exercise
}
// ANCHOR_END: switching_protocols

/// Raw bytes with a TTY, a frame without.
fn encode_output(tty: bool, output: &crate::service::Output) -> Bytes {
    if tty {
        Bytes::copy_from_slice(&output.data)
    } else {
        Bytes::from(frames::encode(output.stream, &output.data))
    }
}

// ANCHOR: pump
/// Moves bytes both ways on a hijacked connection until the output ends,
/// or until the client types the detach keys on a terminal.
pub(crate) async fn pump<IO>(io: IO, mut stream: AttachStream)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(io);
    let (detached_tx, mut detached) = tokio::sync::oneshot::channel::<()>();
    // Only a terminal's input is watched for the detach keys.
    let mut scanner = stream.tty.then(|| stream.detach_keys.scanner());
    let stdin_task = stream.stdin.take().map(|stdin| {
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 32 * 1024];
            loop {
                let n = match reader.read(&mut buffer).await {
                    // EOF: the client half-closed; dropping `stdin` closes the
                    // container's stdin. Output keeps flowing.
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let (input, detach) = match scanner.as_mut().map(|s| s.scan(&buffer[..n])) {
                    None => (buffer[..n].to_vec(), false),
                    Some(Scanned::Input(input)) => (input, false),
                    Some(Scanned::Detach { before }) => (before, true),
                };
                if !input.is_empty() && stdin.send(input).await.is_err() {
                    break; // the process no longer reads
                }
                if detach {
                    detached_tx.send(()).ok();
                    break;
                }
            }
        })
    });
    let mut watching = stdin_task.is_some();
    loop {
        let output = tokio::select! {
            output = stream.output.recv() => output,
            typed = &mut detached, if watching => match typed {
                // The client detached: the container keeps running.
                Ok(()) => None,
                // Its input ended without the keys: output keeps flowing.
                Err(_) => {
                    watching = false;
                    continue;
                }
            },
        };
        let Some(output) = output else { break };
        let bytes = encode_output(stream.tty, &output);
        // Flush every chunk: an interactive prompt must not wait in a buffer.
        if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
            break;
        }
    }
    // The process is done (or the client detached): close our side so the
    // client sees the end.
    writer.shutdown().await.ok();
    if let Some(task) = stdin_task {
        task.abort();
    }
}
// ANCHOR_END: pump

#[cfg(test)]
mod tests {
    use super::*;

    /// What the docker CLI checks before it treats the socket as the container's streams:
    /// the status, and the protocol it asked for.
    #[test]
    fn the_upgrade_answer_is_101_with_the_protocol_and_the_framing() {
        let response = switching_protocols("application/vnd.docker.multiplexed-stream");
        assert_eq!(response.status(), hyper::StatusCode::SWITCHING_PROTOCOLS);
        let headers = response.headers();
        assert_eq!(headers[CONNECTION], "Upgrade");
        assert_eq!(headers[UPGRADE], "tcp");
        assert_eq!(
            headers[CONTENT_TYPE],
            "application/vnd.docker.multiplexed-stream"
        );
        assert!(matches!(response.body(), Body::Empty));
    }
}
