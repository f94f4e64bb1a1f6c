//! What the client reads incrementally: JSON streams, output streams, the
//! hijacked connection, a pending wait.

use super::http::{Closer, ResponseBody};
use super::ClientError;
use minidock_daemon::frames::{read_frame, StreamType};
use minidock_daemon::types::{ProgressMessage, WaitResponse};
use serde::de::DeserializeOwned;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

/// A stream of JSON objects (events, pull progress).
pub struct JsonStream<T> {
    inner: serde_json::StreamDeserializer<'static, serde_json::de::IoRead<ResponseBody>, T>,
    closer: Option<Closer>,
}

impl<T: DeserializeOwned> JsonStream<T> {
    pub(crate) fn new(body: ResponseBody) -> JsonStream<T> {
        JsonStream {
            closer: body.closer(),
            inner: serde_json::Deserializer::from_reader(body).into_iter(),
        }
    }

    /// A handle that ends this stream from another thread.
    pub fn closer(&mut self) -> Option<Closer> {
        self.closer.take()
    }
}

impl<T: DeserializeOwned> Iterator for JsonStream<T> {
    type Item = Result<T, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|item| {
            item.map_err(|source| ClientError::Decode {
                what: "a streamed JSON object",
                source,
            })
        })
    }
}

impl JsonStream<ProgressMessage> {
    /// Reads the stream to its end, handing each message to `each`; an
    /// error object in the stream becomes [`ClientError::Stream`].
    pub fn finish(self, mut each: impl FnMut(&ProgressMessage)) -> Result<(), ClientError> {
        for message in self {
            let message = message?;
            if let Some(detail) = &message.error_detail {
                return Err(ClientError::Stream(detail.message.clone()));
            }
            if let Some(error) = &message.error {
                return Err(ClientError::Stream(error.clone()));
            }
            each(&message);
        }
        Ok(())
    }
}

/// A container's output: frames without a TTY, raw bytes with one.
pub struct OutputStream {
    tty: bool,
    reader: Box<dyn Read + Send>,
    closer: Option<Closer>,
}

impl OutputStream {
    pub(crate) fn new(tty: bool, reader: Box<dyn Read + Send>) -> OutputStream {
        OutputStream {
            tty,
            reader,
            closer: None,
        }
    }

    /// The stream of a response body, which can be closed from elsewhere.
    pub(crate) fn of_body(tty: bool, body: ResponseBody) -> OutputStream {
        OutputStream {
            tty,
            closer: body.closer(),
            reader: Box::new(body),
        }
    }

    /// A handle that ends this stream from another thread (`None` when it
    /// has none, or it was taken).
    pub fn closer(&mut self) -> Option<Closer> {
        self.closer.take()
    }

    /// Whether the bytes are raw (a TTY) rather than framed.
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// The next piece of output and its stream (stdout for a TTY); `None` at
    /// the end.
    pub fn next_chunk(&mut self) -> Result<Option<(StreamType, Vec<u8>)>, ClientError> {
        let io_err = |source: io::Error| {
            ClientError::Protocol(format!("reading the output stream: {source}"))
        };
        if self.tty {
            let mut buffer = vec![0u8; 32 * 1024];
            loop {
                match self.reader.read(&mut buffer) {
                    Ok(0) => return Ok(None),
                    Ok(n) => {
                        buffer.truncate(n);
                        return Ok(Some((StreamType::Stdout, buffer)));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_err(e)),
                }
            }
        }
        Ok(read_frame(&mut self.reader)
            .map_err(io_err)?
            .map(|f| (f.stream, f.payload)))
    }

    /// Copies everything to `stdout` and `stderr`, flushing after each piece.
    pub fn copy_to(
        &mut self,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> Result<(), ClientError> {
        let local = |source: io::Error| {
            ClientError::Protocol(format!("writing the container's output: {source}"))
        };
        while let Some((stream, data)) = self.next_chunk()? {
            let out: &mut dyn Write = if stream == StreamType::Stderr {
                &mut *stderr
            } else {
                &mut *stdout
            };
            out.write_all(&data).map_err(local)?;
            out.flush().map_err(local)?;
        }
        Ok(())
    }

    /// Everything, as (stdout, stderr).
    pub fn collect(mut self) -> Result<(Vec<u8>, Vec<u8>), ClientError> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        self.copy_to(&mut out, &mut err)?;
        Ok((out, err))
    }
}

/// The write side of a hijacked connection: the container's stdin.
pub struct StdinWriter {
    stream: UnixStream,
}

impl StdinWriter {
    /// Says "no more input": half-closes the connection, so the container
    /// reads EOF while its output keeps coming.
    pub fn close(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Leaves the connection (the user typed the detach keys): closes it
    /// both ways, so the output stream ends too, while the container runs on.
    pub fn detach(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Both)
    }
}

impl Write for StdinWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// A hijacked attach or exec connection.
pub struct Hijacked {
    /// The container's output.
    pub output: OutputStream,
    /// The container's input.
    pub stdin: StdinWriter,
}

impl Hijacked {
    pub(crate) fn new(tty: bool, body: ResponseBody, writer: UnixStream) -> Hijacked {
        Hijacked {
            output: OutputStream::new(tty, Box::new(body)),
            stdin: StdinWriter { stream: writer },
        }
    }
}

/// A wait whose response headers arrived: the daemon watches the container.
/// `finish` blocks until the condition is met.
pub struct PendingWait {
    pub(crate) body: ResponseBody,
}

impl PendingWait {
    /// Blocks until the daemon sends the result.
    pub fn finish(self) -> Result<WaitResponse, ClientError> {
        let mut text = Vec::new();
        let mut body = self.body;
        body.read_to_end(&mut text)
            .map_err(|e| ClientError::Protocol(format!("reading the wait result: {e}")))?;
        serde_json::from_slice(&text).map_err(|source| ClientError::Decode {
            what: "the wait result",
            source,
        })
    }
}
