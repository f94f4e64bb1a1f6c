//! # minidock-namespaces — a container is an isolated process
//!
//! Chapter 01 of minidock. A container is not a virtual machine: it is one
//! ordinary Linux process, started with its own *namespaces* (hostname,
//! PIDs, mounts, IPC, network), its own root file system (`pivot_root`),
//! and less power than root (capabilities dropped, sensitive paths
//! masked). This crate does exactly that, step by step:
//!
//! ```no_run
//! use minidock_namespaces::{InitHelper, ProcessSpec, Stdio};
//!
//! let init = InitHelper::new("/usr/local/bin/minidock-init");
//! let out = ProcessSpec::new("/tmp/rootfs", ["echo", "hello"])
//!     .hostname("box")
//!     .stdout(Stdio::Piped)
//!     .spawn(&init)?
//!     .wait_with_output()?;
//! assert_eq!(out.stdout, b"hello\n");
//! # Ok::<(), minidock_namespaces::Error>(())
//! ```
//!
//! The modules follow the order of the setup: [`spec`] (what to run),
//! [`spawn`] (the engine's side, in two halves: the helper starts knowing
//! only its stdio, the spec follows), [`init`] (the helper's side) and
//! [`supervise`] (what it does for PID 1: signals, the exit code), then one
//! module per step: [`dumpable`], [`namespaces`], [`network`], [`rootfs`]
//! (with [`propagation`] for binds that stay linked to the host), [`devices`],
//! [`masks`], [`capabilities`], [`user`], [`fds`], [`exec`], and
//! [`terminal`] for containers with a TTY. [`failpoint`] lets tests stop a
//! process at a named step.
//!
//! The compat part, [`compat`], holds what Docker's clients ask beyond the
//! lesson: `--ulimit`, `--sysctl`, `--oom-score-adj`, `--init`, the host's
//! devices for `--privileged`, the size and source of `/dev/shm`.

pub mod capabilities;
pub mod channel;
pub mod compat;
pub mod devices;
pub mod dumpable;
pub mod error;
pub mod exec;
pub mod failpoint;
pub mod fds;
pub mod init;
pub mod masks;
pub mod namespaces;
pub mod network;
pub mod propagation;
pub mod rootfs;
pub mod seccomp;
pub mod spawn;
pub mod spec;
pub mod supervise;
pub mod terminal;
pub mod user;

pub use error::{Error, SetupError, Step};
pub use propagation::Propagation;
pub use spawn::{Container, InitHelper, Output, WaitingHelper, REEXEC_ARG};
pub use spec::{BindMount, IdMap, Namespaces, ProcessSpec, Stdio, TmpfsMount, User, UserNamespace};
