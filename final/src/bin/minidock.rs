//! `minidock`, the command-line client: Docker's commands, flags, output
//! and exit codes, spoken to `minidockd` over its unix socket.

fn main() {
    std::process::exit(minidock::client_main(std::env::args_os()));
}
