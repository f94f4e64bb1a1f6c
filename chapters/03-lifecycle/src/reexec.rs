// ANCHOR: reexec_dispatch
//! One binary, several roles.
//!
//! A container engine needs helper processes that are *fresh programs*:
//! single-threaded, started by `exec`, so they may do anything after
//! `fork` (see chapter 01). Instead of shipping one binary per role, the
//! engine re-executes itself (`/proc/self/exe`) with a hidden first
//! argument that names the role. Every engine binary (the `ctr` example,
//! the daemon, `minidock-shim`) calls [`dispatch`] first thing in `main`:
//!
//! | first argument            | role                                          |
//! |---------------------------|-----------------------------------------------|
//! | `__minidock_shim`         | the shim supervising one container            |
//! | `__minidock_init`         | chapter 01's init helper                      |
//! | `__minidock_exec`         | `exec`: a process joining a running container |

use crate::{exec, shim};

/// Whether `arg` (a process's first argument) names one of the helper
/// roles, so `top` can leave the engine's own processes out.
pub fn is_helper_role(arg: &[u8]) -> bool {
    [minidock_namespaces::REEXEC_ARG, exec::EXEC_ARG]
        .iter()
        .any(|r| r.as_bytes() == arg)
}

/// Runs the role named by the first argument, if it is one of ours, and
/// never returns then. Returns when the program was started normally.
pub fn dispatch() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let Some(role) = args.get(1).and_then(|a| a.to_str()) else {
        return;
    };
    match role {
        minidock_namespaces::REEXEC_ARG => minidock_namespaces::init::main(),
        shim::SHIM_ARG => shim::main(),
        exec::EXEC_ARG => exec::main(),
        _ => {}
    }
}
// ANCHOR_END: reexec_dispatch
