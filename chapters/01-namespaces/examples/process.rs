//! Chapter 1 before any exercise: the command as an ordinary child process.
//! `cargo run -q -p minidock-namespaces --example process -- CMD [ARG…]`
//!
//! It sees what every process of the host sees: the host's hostname, a PID among the host's,
//! the host's files. The milestones `namespaces` and `rootfs`, then `run`, take each of those
//! away.

use std::process::{Command, ExitCode};

// ANCHOR: main
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((program, rest)) = args.split_first() else {
        eprintln!("usage: process CMD [ARG…]");
        return ExitCode::from(2);
    };
    match Command::new(program).args(rest).status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1) as u8),
        Err(e) => {
            eprintln!("process: {program}: {e}");
            ExitCode::from(127)
        }
    }
}
// ANCHOR_END: main
