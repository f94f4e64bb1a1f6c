//! Runs one command in a container: `cargo run -p minidock-namespaces
//! --example run -- ROOTFS CMD [ARG…]` (as root). With a busybox rootfs,
//! `… -- /tmp/rootfs /bin/sh` gives an isolated shell.
//!
//! It shows the re-exec pattern engines use: the program is its own init
//! helper. Started with the hidden argument `__minidock_init`, `main`
//! becomes the helper at once, before anything else (and before any
//! thread) runs.

use std::process::ExitCode;

use minidock_namespaces::{init, InitHelper, ProcessSpec, REEXEC_ARG};

// ANCHOR: main
fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some(REEXEC_ARG) {
        init::main(); // never returns
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rootfs, command @ ..] = args.as_slice() else {
        eprintln!("usage: run ROOTFS CMD [ARG…]");
        return ExitCode::from(2);
    };
    if command.is_empty() {
        eprintln!("usage: run ROOTFS CMD [ARG…]");
        return ExitCode::from(2);
    }
    let spec = ProcessSpec::new(rootfs, command)
        .hostname("minidock")
        .env("TERM", "xterm")
        .env("HOME", "/root");
    let started = spec.spawn(&InitHelper::reexec());
    match started.and_then(|mut container| container.wait()) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("run: {e}");
            ExitCode::from(125)
        }
    }
}
// ANCHOR_END: main
