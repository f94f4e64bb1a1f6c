//! One module per command of `cargo workbook`. Each prints for a person and returns whether
//! everything it checked was fine (the process exit code).

pub mod book;
pub mod check;
pub mod diff;
pub mod doctor;
pub mod hint;
pub mod list;
pub mod solution;
pub mod start;
pub mod try_its;
pub mod verify;
pub mod watch;

/// The mark for a good and a bad line.
pub fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}
