//! Chapter 1's first milestone, after exercises 1.1–1.3: the command as PID 1 of new UTS, PID,
//! IPC and mount namespaces, with its own hostname, still on the host's files.
//! `cargo run -q -p minidock-namespaces --example namespaces -- CMD [ARG…]` (as root)

mod milestone;

use std::process::ExitCode;

use minidock_namespaces::{namespaces, Namespaces};

// ANCHOR: main
fn main() -> ExitCode {
    let command = match milestone::args("namespaces CMD [ARG…]") {
        Ok(args) => args,
        Err(code) => return code,
    };
    // No network namespace yet: its loopback is down until exercise 1.4.
    let ns = Namespaces {
        net: false,
        ..Namespaces::default()
    };
    milestone::run("namespaces", &ns, &command, || {
        namespaces::set_hostname("minidock") // exercise 1.3
    })
}
// ANCHOR_END: main
