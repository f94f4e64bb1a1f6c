//! What the milestone examples share: new namespaces, PID 1 forked into them, the milestone's
//! own setup inside PID 1, then the command. Each milestone calls only the exercises done by
//! then; `run.rs` is the whole chapter through the init helper.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use minidock_namespaces::{init, namespaces, rootfs, Namespaces, SetupError};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::ForkResult;

/// The arguments after the example's own, or the usage line.
pub fn args(usage: &str) -> Result<Vec<String>, ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: {usage}");
        return Err(ExitCode::from(2));
    }
    Ok(args)
}

/// Runs `command` as PID 1 of new namespaces `ns`, after `setup` ran in it. Returns the
/// command's exit code; a failed step is 125 with its error, as in `run`.
pub fn run(
    name: &str,
    ns: &Namespaces,
    command: &[String],
    setup: impl FnOnce() -> Result<(), SetupError>,
) -> ExitCode {
    // Exercise 1.1; then nothing this process mounts may reach the host.
    let entered = namespaces::unshare_namespaces(ns).and_then(|()| rootfs::make_mounts_private());
    if let Err(e) = entered {
        eprintln!("{name}: {e}");
        return ExitCode::from(125);
    }
    // Exercise 1.2. The example has one thread, so the child may do anything before exec.
    match init::fork_pid1() {
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(125)
        }
        Ok(ForkResult::Child) => {
            if let Err(e) = setup() {
                eprintln!("{name}: {e}");
                std::process::exit(125);
            }
            let err = Command::new(&command[0])
                .args(&command[1..])
                .env_clear()
                .env(
                    "PATH",
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                )
                .exec();
            eprintln!("{name}: exec {}: {err}", command[0]);
            std::process::exit(127)
        }
        Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => ExitCode::from(code as u8),
            Ok(other) => {
                // Turning this into one exit code is exercise 1.12.
                eprintln!("{name}: the command ended with {other:?}");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("{name}: waitpid: {e}");
                ExitCode::from(125)
            }
        },
    }
}
