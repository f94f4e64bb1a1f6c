//! # Chapter 03 — lifecycle: containers with state, resources and logs
//!
//! A container in chapter 01 was a process: it ran and it was gone. Docker's
//! containers live longer than their processes. They are *created*, then
//! *started*, *paused* and *unpaused*, *stopped* or *killed*, restarted, and
//! finally *removed*; between those steps they are a directory on disk that
//! any later engine process can pick up again.
//!
//! This crate holds that life:
//! - [`id`] and [`config`]: what a container is — its id, name, and the
//!   configuration merged from the image and the user's options; [`user`]
//!   resolves `--user` inside the container's own `/etc/passwd`; [`env`]
//!   the one rule for environment entries (keyed by what precedes `=`);
//! - [`state`]: the lifecycle as a pure state machine;
//! - [`store`] and [`atomic`]: containers on disk, written so that a crash
//!   never leaves half a file;
//! - [`cgroup`]: memory, CPU and pids limits and the freezer, for cgroup v1
//!   and v2 behind one trait; [`limits`]: the limits beyond those four, and
//!   `docker update`;
//! - [`logs`]: Docker's json-file log, written and read, streamed (and
//!   [`log_tail`]: its last lines, found from the end); [`log_config`]:
//!   the log driver and its options (`none`, `max-size`, …);
//!   [`log_rotate`]: the log kept under `max-size` × `max-file`, gzip'd
//!   with `compress`; [`log_files`]: those files, read in order;
//! - [`notify`]: waiting for a container's state to change without polling;
//!   [`proc`]: whether a process lives, the host's memory;
//! - [`time`]: RFC 3339 timestamps with nanoseconds;
//! - [`shim`]: the supervisor process of one container, which outlives the
//!   engine, owns the container's stdio and records its exit (it starts
//!   the container's init helper while its engine finishes the start, see
//!   `shim::process::EarlyHelper`); [`attach`]
//!   is how clients talk to it;
//! - [`runtime`]: the operations — create, start (in two halves, so the
//!   engine can finish the container between the shim's spawn and its
//!   attach), stop, kill, pause, unpause, restart, rm, wait, logs and
//!   [`exec`], one module each;
//! - [`reexec`]: one binary serving every helper role, run from a sealed
//!   in-memory copy ([`sealed_binary`]) so a container cannot reach the
//!   host's file;
//! - [`failpoint`]: how crash tests kill the engine at an exact step;
//! - [`recover`]: what the engine does at start with a directory it
//!   cannot use (finish an interrupted `rm`, or quarantine it).
//!
//! The compat part, [`compat`], holds Docker's process settings the lesson
//! does not walk through (capabilities, shared namespaces, ulimits,
//! sysctls, `--init`, …) and what `docker top` and `docker stats` show.

pub mod atomic;
pub mod attach;
pub mod cgroup;
pub mod compat;
pub mod config;
pub mod env;
pub mod error;
pub mod exec;
pub mod failpoint;
pub mod id;
pub mod inroot;
pub mod limits;
pub mod log_config;
pub mod log_files;
pub mod log_rotate;
pub mod log_tail;
pub mod logs;
pub mod notify;
pub mod proc;
pub mod recover;
pub mod reexec;
pub mod runtime;
pub mod sealed_binary;
pub mod shim;
pub mod signal;
pub mod state;
pub mod store;
pub mod time;
pub mod user;

pub use error::{Error, Result};
pub use id::ContainerId;
pub use runtime::{CreateOptions, ExecOptions, ExitStatus, Runtime, RuntimeConfig, WaitCondition};
