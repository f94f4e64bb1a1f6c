//! A container's output to clients: its log, read back from the file the
//! shim writes, and live attach through the session to its shim (or, for
//! a container that has not started yet, as a client waiting for the
//! start).

use super::RuntimeContainers;
use crate::detach::DetachKeys;
use crate::engine::session::{forward_stdin, Pending, Subscriber};
use crate::error::{ApiError, ApiResult};
use crate::frames::StreamType;
use crate::locks::lock;
use crate::service::*;
use crate::time::system_time;
use minidock_lifecycle::attach::Frame;
use minidock_lifecycle::logs::{LogOptions, Stream};
use std::time::SystemTime;
use tokio::sync::mpsc;

// ANCHOR: engine_logs
/// `GET /containers/{id}/logs`: the log, read by a thread into a channel.
pub(super) fn logs(
    service: &RuntimeContainers,
    id: &str,
    options: &LogsOptions,
) -> ApiResult<LogStream> {
    let entry = service.entry(id)?;
    if !entry.container().host_config.log_config.readable() {
        return Err(crate::compat::log_config::not_readable());
    }
    let to_timestamp = |t: SystemTime| minidock_lifecycle::time::Timestamp::from_system_time(t);
    let log_options = LogOptions {
        stdout: options.stdout,
        stderr: options.stderr,
        since: options.since.map(to_timestamp),
        until: options.until.map(to_timestamp),
        tail: options.tail,
        follow: options.follow,
    };
    let (tx, rx) = mpsc::channel(64);
    let runtime = service.inner.runtime.clone();
    let cid = entry.id.clone();
    std::thread::spawn(move || {
        let result = runtime.logs(&cid, &log_options, |line| {
            let entry = LogEntry {
                stream: match line.stream {
                    Stream::Stdout => StreamType::Stdout,
                    Stream::Stderr => StreamType::Stderr,
                },
                time: system_time(&line.time),
                data: line.log.as_bytes().to_vec(),
            };
            tx.blocking_send(entry).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
            })
        });
        if let Err(err) = result {
            eprintln!("minidockd: reading the log of {}: {err}", cid.short());
        }
    });
    Ok(LogStream {
        tty: entry.container().config.tty,
        entries: rx,
    })
}
// ANCHOR_END: engine_logs

// ANCHOR: attach_logs
/// `POST /containers/{id}/attach`: the log first when asked, then the
/// live output (and input) of the running container, or of its next
/// start.
pub(super) fn attach(
    service: &RuntimeContainers,
    id: &str,
    options: &AttachOptions,
) -> ApiResult<AttachStream> {
    let entry = service.entry(id)?;
    let (tx, rx) = mpsc::channel(256);
    // Attach's log part has nothing to show for a driver that keeps
    // nothing; the live output still comes.
    if options.logs && entry.container().host_config.log_config.readable() {
        let logged = logs(
            service,
            id,
            &LogsOptions {
                stdout: options.stdout,
                stderr: options.stderr,
                ..LogsOptions::default()
            },
        )?;
        let mut entries = logged.entries;
        while let Some(line) = entries.blocking_recv() {
            if tx
                .try_send(Output {
                    stream: line.stream,
                    data: line.data,
                })
                .is_err()
            {
                break;
            }
        }
    }
    let wants_stdin = options.stdin && entry.container().config.open_stdin;
    let (stdin_tx, stdin_rx) = if wants_stdin {
        let (t, r) = mpsc::channel(64);
        (Some(t), Some(r))
    } else {
        (None, None)
    };
    // ANCHOR: attach_live
    // ANCHOR_END: attach_logs
    let subscriber = Subscriber {
        tx,
        stdout: options.stdout,
        stderr: options.stderr,
    };
    if !options.stream {
        return Ok(AttachStream {
            tty: entry.container().config.tty,
            output: rx,
            stdin: None,
            detach_keys: DetachKeys::default(),
        });
    }
    // Registered under the op lock, so a concurrent start either sees
    // this client as pending or has its session ready for it.
    let _op = lock(&entry.op);
    match entry.session() {
        Some(session) => {
            session.subscribe(subscriber);
            if let Some(rx) = stdin_rx {
                forward_stdin(session, rx, entry.closes_stdin());
            }
        }
        None => lock(&entry.pending).push(Pending {
            subscriber,
            stdin: stdin_rx,
        }),
    }
    Ok(AttachStream {
        tty: entry.container().config.tty,
        output: rx,
        stdin: stdin_tx,
        detach_keys: DetachKeys::default(),
    })
}
// ANCHOR_END: attach_live

/// `POST /containers/{id}/resize`: the terminal's new size, to the shim.
pub(super) fn resize(
    service: &RuntimeContainers,
    id: &str,
    height: u16,
    width: u16,
) -> ApiResult<()> {
    let entry = service.entry(id)?;
    match entry.session() {
        Some(session) => session
            .send(&Frame::Resize {
                rows: height,
                cols: width,
            })
            .map_err(ApiError::internal),
        None => Err(ApiError::not_running(entry.id.as_str())),
    }
}
