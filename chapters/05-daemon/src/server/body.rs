//! Response bodies, and bridges between async bodies and blocking services.
//!
//! A response is either complete (JSON, errors) or a stream fed through a
//! channel: the handler returns the response — so hyper sends the headers at
//! once — and a task keeps pushing chunks. Services are blocking code, so two
//! adapters let them read a request body ([`ChannelReader`]) and write a
//! response body ([`ChannelWriter`]) as ordinary `Read` and `Write`.

use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame, Incoming};
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The body of every response of the daemon.
#[derive(Debug)]
pub enum Body {
    /// Nothing (204, 304, HEAD).
    Empty,
    /// All of it, known now.
    Full(Option<Bytes>),
    /// Chunks as they come; an `Err` aborts the connection, so a client sees
    /// a truncated stream instead of a clean end.
    Stream(mpsc::Receiver<io::Result<Bytes>>),
}

impl Body {
    /// A complete body.
    pub fn full(bytes: impl Into<Bytes>) -> Body {
        Body::Full(Some(bytes.into()))
    }

    /// A streamed body and the sender that feeds it. Dropping the sender ends
    /// the body.
    pub fn channel(capacity: usize) -> (mpsc::Sender<io::Result<Bytes>>, Body) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, Body::Stream(rx))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx
                .poll_recv(cx)
                .map(|item| item.map(|chunk| chunk.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_none(),
            Body::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Empty => hyper::body::SizeHint::with_exact(0),
            Body::Full(Some(b)) => hyper::body::SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => hyper::body::SizeHint::with_exact(0),
            Body::Stream(_) => hyper::body::SizeHint::default(),
        }
    }
}

// ANCHOR: read_limited
/// Reads a whole request body, refusing more than `limit` bytes with a 413.
pub async fn read_limited(body: Incoming, limit: usize) -> Result<Bytes, crate::ApiError> {
    // A Content-Length over the limit is refused before a byte is read.
    if hyper::body::Body::size_hint(&body).lower() > limit as u64 {
        return Err(crate::ApiError::TooLarge(format!(
            "request body is larger than the daemon accepts ({limit} bytes)"
        )));
    }
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(crate::ApiError::TooLarge(
            format!("request body is larger than the daemon accepts ({limit} bytes)"),
        )),
        Err(e) => Err(crate::ApiError::BadParameter(format!(
            "could not read the request body: {e}"
        ))),
    }
}
// ANCHOR_END: read_limited

// ANCHOR: body_pump
/// Feeds a request body into a channel that a [`ChannelReader`] drains, from
/// a task; the body streams while the blocking service reads it.
pub fn spawn_body_pump(mut body: Incoming) -> ChannelReader {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::spawn(async move {
        loop {
            match body.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if tx.send(Ok(data)).await.is_err() {
                            break; // the reader stopped reading
                        }
                    }
                }
                Some(Err(e)) => {
                    let err =
                        io::Error::new(io::ErrorKind::UnexpectedEof, format!("request body: {e}"));
                    tx.send(Err(err)).await.ok();
                    break;
                }
            }
        }
    });
    ChannelReader {
        rx,
        current: Bytes::new(),
    }
}
// ANCHOR_END: body_pump

/// A blocking `Read` over chunks arriving on a channel. Only use it on a
/// blocking thread: `read` blocks.
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// A blocking `Write` that sends 64 KiB chunks into a streamed body. Only use
/// it on a blocking thread: `write` blocks when the client reads slowly.
pub struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChannelWriter {
    /// A writer into `tx`.
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> ChannelWriter {
        ChannelWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK),
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK {
            self.send_buffer()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        // The last bytes; if the client is gone there is no one to tell.
        self.send_buffer().ok();
    }
}
