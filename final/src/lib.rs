//! # minidock — the working engine
//!
//! `final/` is thin on purpose: argument parsing, output formatting and the
//! wiring between the chapter crates. Every concept lives in the chapter that
//! teaches it. The two binaries are `minidock` (the client) and `minidockd`
//! (the daemon).
//!
//! The client's modules:
//!
//! - [`cli`]: Docker's commands and flags as clap definitions, with the
//!   larger sub-tables beside it ([`cli_build`], [`cli_volume`],
//!   [`cli_network`], [`cli_prune`], …), which never need the commands,
//!   and [`cli_lazy`], which has clap build a command's flags only when
//!   that command runs;
//! - [`connect`]: `-H`, `--context`, the environment and the TLS flags,
//!   turned into the daemon's address; [`context_store`]: the named daemons
//!   of `minidock context` ([`cli_context`] has its flags);
//! - [`commands`]: each command as calls of the daemon's client library
//!   (chapter 05) — the client talks to the daemon's API and nothing else;
//! - [`format`], [`template`], [`progress`]: output the way the docker CLI
//!   prints it (tables, sizes, durations, `inspect -f`, pull progress);
//! - [`tty`]: the local terminal during `run -it`, and [`detach_keys`]:
//!   the keys that leave it;
//! - [`error`]: Docker's messages and exit codes;
//! - [`desktop`]: `minidock desktop`, the dashboard — a web page on
//!   127.0.0.1 that is one more client of the daemon.
//!
//! The daemon's: [`daemon_args`] (its flags) and [`daemon_config`] (its
//! daemon.json, merged into the flags and reloaded on SIGHUP).

pub mod cli;
pub mod cli_build;
pub mod cli_context;
pub mod cli_desktop;
pub mod cli_health;
pub mod cli_lazy;
pub mod cli_limits;
pub mod cli_network;
pub mod cli_process;
pub mod cli_prune;
pub mod cli_volume;
pub mod commands;
pub mod connect;
pub mod context_store;
pub mod daemon_args;
pub mod daemon_config;
pub mod daemon_logs;
pub mod desktop;
pub mod detach_keys;
pub mod error;
pub mod format;
pub mod listing;
pub mod progress;
pub mod template;
pub mod tty;

use clap::Parser;

/// Runs the client on `args` (the program name first); returns the exit
/// code. Messages go to stdout and stderr.
pub fn client_main<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 125,
            };
            // Printing the usage fails only when stdout/stderr are gone,
            // and then there is no one left to tell.
            e.print().ok();
            return code;
        }
    };
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("{}", failure.message);
            }
            failure.code
        }
    }
}
