//! `minidockd`, the daemon. Until chapter 05 exists it only says so, with an
//! exit code that tells scripts it did not start.

fn main() {
    eprintln!("minidockd: the daemon is not built yet; see README.md for what runs today");
    std::process::exit(1);
}
