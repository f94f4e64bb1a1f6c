//! Exec instances: `docker exec` is two requests (create, then start), so
//! the daemon remembers what was created until it runs, and how it ended.

use crate::compat::types::{ExecConfig, ExecInspect, ExecProcessConfig};
use crate::detach::DetachKeys;
use crate::error::{ApiError, ApiResult};
use crate::frames::StreamType;
use crate::locks::lock;
use crate::service::{AttachStream, Output};
use minidock_lifecycle::{ContainerId, ExecOptions, Runtime};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

// ANCHOR: exec_entry
struct ExecEntry {
    container: ContainerId,
    config: ExecConfig,
    started: bool,
    running: bool,
    exit_code: Option<i64>,
    /// The terminal's master side, for resize.
    pty: Option<File>,
}

/// The exec instances of the daemon.
#[derive(Default)]
pub struct Execs {
    entries: Arc<Mutex<HashMap<String, ExecEntry>>>,
}

/// A fresh exec id: 64 random hex digits, the shape of a container id.
fn random_id() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
// ANCHOR_END: exec_entry

// ANCHOR: exec_pump
/// Copies a process's output into an exec's stream; once nobody reads it,
/// keeps draining so the process never blocks on a full pipe.
fn pump(
    mut from: impl Read + Send + 'static,
    stream: StreamType,
    tx: mpsc::Sender<Output>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 32 * 1024];
        let mut reading = true;
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) if reading => {
                    let output = Output {
                        stream,
                        data: buffer[..n].to_vec(),
                    };
                    reading = tx.blocking_send(output).is_ok();
                }
                Ok(_) => {}
            }
        }
    })
}

/// Writes what the client sends to the process's stdin; closes it at the
/// client's end of input.
fn feed(mut to: impl Write + Send + 'static, mut rx: mpsc::Receiver<Vec<u8>>) {
    std::thread::spawn(move || {
        while let Some(data) = rx.blocking_recv() {
            if to.write_all(&data).and_then(|()| to.flush()).is_err() {
                break;
            }
        }
    });
}
// ANCHOR_END: exec_pump

/// `TIOCSWINSZ` on a terminal's master side.
fn set_window_size(master: &File, rows: u16, cols: u16) -> std::io::Result<()> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, valid for the call.
    let rc = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    if rc == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Execs {
    /// Records an exec instance; returns its id.
    pub fn create(&self, container: ContainerId, config: ExecConfig) -> String {
        let id = random_id();
        lock(&self.entries).insert(
            id.clone(),
            ExecEntry {
                container,
                config,
                started: false,
                running: false,
                exit_code: None,
                pty: None,
            },
        );
        id
    }

    /// The exec ids of a container.
    pub fn ids_of(&self, container: &ContainerId) -> Vec<String> {
        lock(&self.entries)
            .iter()
            .filter(|(_, e)| &e.container == container)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Drops the exec instances of a removed container.
    pub fn forget_container(&self, container: &ContainerId) {
        lock(&self.entries).retain(|_, e| &e.container != container);
    }

    // ANCHOR: exec_start
    /// Starts an exec instance in its container.
    pub fn start(
        &self,
        runtime: &Runtime,
        exec_id: &str,
        detach: bool,
    ) -> ApiResult<Option<AttachStream>> {
        let (container, config) = {
            let mut entries = lock(&self.entries);
            let entry = entries
                .get_mut(exec_id)
                .ok_or_else(|| ApiError::no_such_exec(exec_id))?;
            if entry.started {
                return Err(ApiError::Conflict(format!(
                    "exec {exec_id} has already been started"
                )));
            }
            entry.started = true;
            entry.running = true;
            (entry.container.clone(), entry.config.clone())
        };
        let options = ExecOptions {
            args: config.cmd.clone(),
            env: config.env.clone().unwrap_or_default(),
            user: config.user.clone().filter(|u| !u.is_empty()),
            working_dir: config.working_dir.clone().filter(|w| !w.is_empty()),
            tty: config.tty,
            stdin: config.attach_stdin && !detach,
        };
        let mut process = match runtime.exec(&container, options) {
            Ok(p) => p,
            Err(err) => {
                if let Some(e) = lock(&self.entries).get_mut(exec_id) {
                    e.running = false;
                    e.exit_code = Some(126);
                }
                return Err(ApiError::from(err));
            }
        };
        // ANCHOR_END: exec_start
        // ANCHOR: exec_streams
        let (out_tx, out_rx) = mpsc::channel(64);
        let (stdin_tx, stdin_rx) = mpsc::channel(64);
        let mut pumps = Vec::new();
        let mut wants_stdin = false;
        if let Some(master) = process.pty.take() {
            let reader = master.try_clone().map_err(ApiError::internal)?;
            let writer = master.try_clone().map_err(ApiError::internal)?;
            pumps.push(pump(reader, StreamType::Stdout, out_tx.clone()));
            if config.attach_stdin && !detach {
                feed(writer, stdin_rx);
                wants_stdin = true;
            }
            if let Some(e) = lock(&self.entries).get_mut(exec_id) {
                e.pty = Some(master);
            }
        } else {
            if let Some(stdin) = process.take_stdin() {
                feed(stdin, stdin_rx);
                wants_stdin = true;
            }
            if let Some(out) = process.take_stdout() {
                pumps.push(pump(out, StreamType::Stdout, out_tx.clone()));
            }
            if let Some(err) = process.take_stderr() {
                pumps.push(pump(err, StreamType::Stderr, out_tx.clone()));
            }
        }
        drop(out_tx);
        // ANCHOR_END: exec_streams
        // ANCHOR: exec_relay
        // The pumps feed `out_rx`; a relay passes their output on to the
        // client and ends the client's stream only after the exit code is
        // recorded, so a client that reads to the end and then inspects
        // (as the docker CLI does) sees the code.
        let (client_tx, client_rx) = mpsc::channel(64);
        let (recorded_tx, recorded_rx) = std::sync::mpsc::channel::<()>();
        let mut from_pumps = out_rx;
        std::thread::spawn(move || {
            let mut relaying = true;
            while let Some(output) = from_pumps.blocking_recv() {
                if relaying {
                    relaying = client_tx.blocking_send(output).is_ok();
                }
            }
            recorded_rx.recv().ok();
            drop(client_tx);
        });
        let entries = self.entries.clone();
        let exec_id = exec_id.to_string();
        std::thread::spawn(move || {
            let code = process.wait().map(i64::from).unwrap_or(255);
            for p in pumps {
                p.join().ok();
            }
            if let Some(e) = lock(&entries).get_mut(&exec_id) {
                e.running = false;
                e.exit_code = Some(code);
                e.pty = None;
            }
            recorded_tx.send(()).ok();
        });
        if detach {
            return Ok(None);
        }
        Ok(Some(AttachStream {
            tty: config.tty,
            output: client_rx,
            stdin: wants_stdin.then_some(stdin_tx),
            // Checked at exec create.
            detach_keys: DetachKeys::parse(config.detach_keys.as_deref().unwrap_or_default())
                .unwrap_or_default(),
        }))
    }
    // ANCHOR_END: exec_relay

    /// `GET /exec/{id}/json`.
    pub fn inspect(&self, exec_id: &str) -> ApiResult<ExecInspect> {
        let entries = lock(&self.entries);
        let e = entries
            .get(exec_id)
            .ok_or_else(|| ApiError::no_such_exec(exec_id))?;
        Ok(ExecInspect {
            id: exec_id.to_string(),
            container_id: e.container.to_string(),
            running: e.running,
            exit_code: e.exit_code,
            pid: 0,
            open_stdin: e.config.attach_stdin,
            open_stdout: e.config.attach_stdout,
            open_stderr: e.config.attach_stderr,
            process_config: ExecProcessConfig {
                entrypoint: e.config.cmd.first().cloned().unwrap_or_default(),
                arguments: e.config.cmd.iter().skip(1).cloned().collect(),
                tty: e.config.tty,
                privileged: false,
                user: e.config.user.clone().unwrap_or_default(),
            },
        })
    }

    /// `POST /exec/{id}/resize`.
    pub fn resize(&self, exec_id: &str, height: u16, width: u16) -> ApiResult<()> {
        let entries = lock(&self.entries);
        let e = entries
            .get(exec_id)
            .ok_or_else(|| ApiError::no_such_exec(exec_id))?;
        match &e.pty {
            Some(master) => set_window_size(master, height, width).map_err(ApiError::internal),
            None => Ok(()),
        }
    }
}
