//! The daemon's connection to a container's shim.
//!
//! For every running container the daemon holds one connection to the
//! shim's attach socket (chapter 03's protocol). Output arrives there and is
//! fanned out to every API client attached through the daemon; the exit
//! frame tells the daemon, at once, that the container ended. A `docker
//! run` attaches *before* the container starts: those clients wait in the
//! container's entry and are connected when `start` opens the session — the
//! shim holds the process until the session is connected, so not a byte of
//! output is lost.

use crate::frames::StreamType;
use crate::locks::lock;
use crate::service::Output;
use minidock_lifecycle::attach::{read_frame, write_frame, Frame};
use std::io;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

// ANCHOR: session_types
/// An API client that receives a container's output.
pub(crate) struct Subscriber {
    /// Where its output goes; closed when the container exits.
    pub tx: mpsc::Sender<Output>,
    /// It asked for stdout.
    pub stdout: bool,
    /// It asked for stderr.
    pub stderr: bool,
}

/// An attach that arrived before the container started.
pub(crate) struct Pending {
    pub subscriber: Subscriber,
    /// Its stdin, when it asked for stdin.
    pub stdin: Option<mpsc::Receiver<Vec<u8>>>,
}

/// One connection to a shim.
pub(crate) struct Session {
    writer: Mutex<UnixStream>,
    subscribers: Mutex<Vec<Subscriber>>,
}

impl Session {
    /// A session writing to `stream`.
    pub fn new(stream: UnixStream) -> Session {
        Session {
            writer: Mutex::new(stream),
            subscribers: Mutex::new(Vec::new()),
        }
    }

    /// Sends a frame to the shim: stdin, end of stdin, terminal size.
    pub fn send(&self, frame: &Frame) -> io::Result<()> {
        write_frame(&mut *lock(&self.writer), frame)
    }

    /// Adds a client for the output from now on.
    pub fn subscribe(&self, subscriber: Subscriber) {
        lock(&self.subscribers).push(subscriber);
    }
    // ANCHOR_END: session_types

    // ANCHOR: session_pump
    /// Reads the shim's frames until the exit frame or the end of the
    /// connection; returns the exit code when the shim sent it. Clients are
    /// dropped (their streams end) when it returns.
    pub fn pump(&self, mut reader: UnixStream) -> Option<i32> {
        let code = loop {
            let (stream, data) = match read_frame(&mut reader) {
                Ok(Some(Frame::Stdout(data))) => (StreamType::Stdout, data),
                Ok(Some(Frame::Stderr(data))) => (StreamType::Stderr, data),
                Ok(Some(Frame::Exit(code))) => break Some(code),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break None,
            };
            let mut subscribers = lock(&self.subscribers);
            subscribers.retain(|s| {
                let wanted = match stream {
                    StreamType::Stderr => s.stderr,
                    _ => s.stdout,
                };
                // A client that went away is dropped; a slow one slows the
                // session (the shim buffers, as Docker's does).
                !wanted
                    || s.tx
                        .blocking_send(Output {
                            stream,
                            data: data.clone(),
                        })
                        .is_ok()
            });
        };
        lock(&self.subscribers).clear();
        code
    }
    // ANCHOR_END: session_pump

    /// Ends the output of every client now.
    pub fn close_clients(&self) {
        lock(&self.subscribers).clear();
    }
}

// ANCHOR: forward_stdin
/// Forwards an API client's input to the container's stdin, from a thread.
/// At the client's end of input, the container's stdin is closed when
/// `close_at_eof` (the container's `StdinOnce`, set by `docker run -i`).
pub(crate) fn forward_stdin(
    session: Arc<Session>,
    mut rx: mpsc::Receiver<Vec<u8>>,
    close_at_eof: bool,
) {
    std::thread::spawn(move || {
        while let Some(data) = rx.blocking_recv() {
            if session.send(&Frame::Stdin(data)).is_err() {
                return;
            }
        }
        if close_at_eof {
            session.send(&Frame::CloseStdin).ok();
        }
    });
}
// ANCHOR_END: forward_stdin
