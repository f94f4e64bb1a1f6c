//! `minidock completion SHELL`: the shell's completion script.
//!
//! The script is generated from the clap definitions, so it knows every
//! command and flag there is and never drifts from them. For bash, a layer
//! of its own (`assets/names.bash`) adds the names only the daemon knows:
//! containers where a command takes a container, images where it takes an
//! image, asked of the daemon at the moment of completing. zsh, fish,
//! elvish and PowerShell get the commands and flags.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Failure;

/// The bash functions that complete container and image names.
const BASH_NAMES: &str = include_str!("assets/names.bash");

/// Prints the completion script of `shell`. A reader that goes away
/// early (`minidock completion bash | head`) is not an error.
pub fn completion(shell: Shell) -> Result<i32, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "minidock", &mut script);
    if shell == Shell::Bash {
        script.extend_from_slice(BASH_NAMES.as_bytes());
    }
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Failure::new(format!(
            "minidock completion: writing the script: {e}"
        ))),
    }
}
