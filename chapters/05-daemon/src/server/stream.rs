//! Streaming answers of blocking jobs: pull/push/load/import progress and
//! `docker save` tars.
//!
//! Docker decides late whether a streaming request failed: if the job fails
//! before it has reported anything (an unknown image, a registry that says
//! 404), the client gets a real error status; once the first progress
//! message is out, the status is 200 and a failure becomes the last object
//! of the stream, `{"errorDetail":{"message":…},"error":…}`.

use super::body::{Body, ChannelWriter};
use crate::compat::types::ProgressMessage;
use crate::error::{ApiError, ApiResult};
use crate::service::Progress;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use std::io::{self, Write};
use tokio::sync::oneshot;

// ANCHOR: first_sign
/// Waits for the job's first sign: a message (stream) or an early result.
async fn first_sign(rx: oneshot::Receiver<ApiResult<()>>) -> ApiResult<()> {
    rx.await.unwrap_or_else(|_| {
        Err(ApiError::Internal(
            "the operation failed unexpectedly".to_string(),
        ))
    })
}
// ANCHOR_END: first_sign

fn progress_line(message: &ProgressMessage) -> Bytes {
    let mut line = serde_json::to_vec(message).unwrap_or_default();
    line.extend_from_slice(b"\r\n");
    Bytes::from(line)
}

// ANCHOR: progress_stream
/// Runs `job` on the blocking pool and streams its progress messages as
/// JSON objects.
pub(crate) async fn progress_stream<F>(job: F) -> ApiResult<Response<Body>>
where
    F: FnOnce(Progress) -> ApiResult<()> + Send + 'static,
{
    let (tx, body) = Body::channel(64);
    let (first_tx, first_rx) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let mut first = Some(first_tx);
        let result = {
            let mut report = |message: ProgressMessage| {
                if let Some(started) = first.take() {
                    started.send(Ok(())).ok();
                }
                // A client that went away does not stop the job: a pull
                // that is half done is finished anyway, as Docker does.
                tx.blocking_send(Ok(progress_line(&message))).ok();
            };
            job(&mut report)
        };
        match (result, first.take()) {
            (Ok(()), Some(started)) => {
                started.send(Ok(())).ok();
            }
            (Ok(()), None) => {}
            (Err(err), Some(started)) => {
                started.send(Err(err)).ok();
            }
            (Err(err), None) => {
                let line = progress_line(&ProgressMessage::error(err.message()));
                tx.blocking_send(Ok(line)).ok();
            }
        }
    });
    first_sign(first_rx).await?;
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
// ANCHOR_END: progress_stream
// ANCHOR: announcing

/// A writer that says when the first byte is written.
struct Announcing {
    inner: ChannelWriter,
    first: Option<oneshot::Sender<ApiResult<()>>>,
}

impl Write for Announcing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(started) = self.first.take() {
            started.send(Ok(())).ok();
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
// ANCHOR_END: announcing

// ANCHOR: raw_stream
/// Runs `job` on the blocking pool and streams what it writes as the body
/// (`content_type`). A failure after the first byte aborts the connection,
/// so the client cannot mistake a truncated tar for a whole one.
pub(crate) async fn raw_stream<F>(content_type: &'static str, job: F) -> ApiResult<Response<Body>>
where
    F: FnOnce(&mut dyn Write) -> ApiResult<()> + Send + 'static,
{
    let (tx, body) = Body::channel(4);
    let (first_tx, first_rx) = oneshot::channel();
    let abort = tx.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = Announcing {
            inner: ChannelWriter::new(tx),
            first: Some(first_tx),
        };
        let result = job(&mut writer).and_then(|()| writer.flush().map_err(ApiError::internal));
        match (result, writer.first.take()) {
            (Ok(()), Some(started)) => {
                started.send(Ok(())).ok();
            }
            (Ok(()), None) => {}
            (Err(err), Some(started)) => {
                started.send(Err(err)).ok();
            }
            (Err(err), None) => {
                let failure = io::Error::other(err.message().to_string());
                abort.blocking_send(Err(failure)).ok();
            }
        }
    });
    first_sign(first_rx).await?;
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}
// ANCHOR_END: raw_stream
