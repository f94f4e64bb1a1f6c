//! `minidock`, the command-line client. Until the daemon exists it only says
//! so, with an exit code that tells scripts it did not run anything.

fn main() {
    eprintln!("minidock: the client is not built yet; see README.md for what runs today");
    std::process::exit(125);
}
