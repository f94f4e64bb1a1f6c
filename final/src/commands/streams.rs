//! Copying a hijacked connection to and from the local terminal.
//!
//! After attach (or exec start) the connection carries the container's
//! output one way and its input the other. Output is copied on the calling
//! thread until the daemon closes the connection (the process exited);
//! input is copied by a second thread, which half-closes the connection at
//! the end of the local stdin, so the container reads EOF while its
//! output keeps coming (`echo hi | minidock run -i busybox cat`).

use std::io::{self, Read, Write};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use minidock_client::{Client, Hijacked, OutputStream};
use minidock_daemon::detach::{DetachKeys, Scanned};
use minidock_daemon::frames::StreamType;

use crate::detach_keys::Pumped;
use crate::error::Failure;
use crate::tty::{watch_resize, RawMode};

/// Where a terminal's size changes go: a container or an exec instance.
pub enum TtyResize {
    /// `POST /containers/{id}/resize`.
    Container {
        /// The client.
        client: Client,
        /// The container.
        id: String,
    },
    /// `POST /exec/{id}/resize`.
    Exec {
        /// The client.
        client: Client,
        /// The exec instance.
        id: String,
    },
}

impl TtyResize {
    fn resize(&self, rows: u16, cols: u16) {
        // A resize that fails (the process just exited) changes nothing
        // the user could act on; the output copy reports real failures.
        let result = match self {
            TtyResize::Container { client, id } => client.container_resize(id, rows, cols),
            TtyResize::Exec { client, id } => client.exec_resize(id, rows, cols),
        };
        drop(result);
    }
}

/// Copies the local stdin into the connection (when `stdin`), the
/// connection's output to stdout and stderr, until the output ends.
/// `raw` puts the local terminal in raw mode for the duration; `resize`
/// follows the terminal's size. With `detach_keys` (a terminal's input),
/// typing them closes the connection and leaves the container running.
pub fn pump(
    hijacked: Hijacked,
    stdin: bool,
    raw: bool,
    resize: Option<TtyResize>,
    detach_keys: Option<DetachKeys>,
) -> Result<Pumped, Failure> {
    let Hijacked {
        mut output,
        stdin: mut input,
    } = hijacked;
    let stdin_fd = io::stdin();
    let _raw = if raw {
        Some(
            RawMode::enable(std::os::fd::AsFd::as_fd(&stdin_fd)).map_err(|e| {
                Failure::new(format!(
                    "minidock: cannot put the terminal in raw mode: {e}"
                ))
            })?,
        )
    } else {
        None
    };
    if let Some(resize) = resize {
        if std::io::IsTerminal::is_terminal(&io::stdout()) {
            watch_resize(move |rows, cols| resize.resize(rows, cols)).map_err(|e| {
                Failure::new(format!("minidock: cannot watch the terminal size: {e}"))
            })?;
        }
    }
    let detached = Arc::new(AtomicBool::new(false));
    if stdin {
        let detached = detached.clone();
        let mut scanner = detach_keys.map(|k| k.scanner());
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                let mut local = io::stdin().lock();
                let mut buffer = [0u8; 8192];
                loop {
                    let n = match local.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let (data, detach) = match scanner.as_mut().map(|s| s.scan(&buffer[..n])) {
                        None => (buffer[..n].to_vec(), false),
                        Some(Scanned::Input(data)) => (data, false),
                        Some(Scanned::Detach { before }) => (before, true),
                    };
                    if input.write_all(&data).and_then(|()| input.flush()).is_err() {
                        // The container is gone; its output end says why.
                        return;
                    }
                    if detach {
                        // Closing both ways ends the output copy below.
                        detached.store(true, Ordering::SeqCst);
                        drop(input.detach());
                        return;
                    }
                }
                // EOF: let the container see the end of its input. If the
                // connection is already closed there is nobody to tell.
                drop(input.close());
            })
            .map_err(|e| Failure::new(format!("minidock: cannot start the stdin thread: {e}")))?;
    }
    let copied = copy_output(&mut output);
    if detached.load(Ordering::SeqCst) {
        return Ok(Pumped::Detached);
    }
    copied.map(|()| Pumped::Ended)
}

/// Copies a container's output to stdout and stderr until it ends. A
/// reader that went away (`minidock logs … | head`) ends the copy quietly.
pub fn copy_output(output: &mut OutputStream) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    while let Some((stream, data)) = output
        .next_chunk()
        .map_err(|e| Failure::new(format!("minidock: {e}")))?
    {
        let local: &mut dyn Write = if stream == StreamType::Stderr {
            &mut stderr
        } else {
            &mut stdout
        };
        match local.write_all(&data).and_then(|()| local.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => {
                return Err(Failure::new(format!(
                    "minidock: writing the container's output: {e}"
                )))
            }
        }
    }
    Ok(())
}
