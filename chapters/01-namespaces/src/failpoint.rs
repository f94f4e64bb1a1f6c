// ANCHOR: failpoint_doc
//! Fail points: a way for tests to stop or slow the engine at an exact step.
//!
//! A promise like "an engine killed in the middle of `create` leaves no
//! half-made container" cannot be tested by killing the engine at a random
//! moment: the test would pass or fail by timing. Real engines and
//! databases (etcd's `gofail`, TiKV's `fail-rs`, FoundationDB's simulator)
//! name the dangerous steps instead, and let a test make the process die
//! (or wait) right there. This is the smallest such mechanism:
//!
//! ```text
//! MINIDOCK_FAILPOINT=create-after-mount minidockd …          abort there
//! MINIDOCK_FAILPOINT='before-execve=delay(2000)' minidockd … sleep 2 s there
//! ```
//!
//! When a process reaches the point named by `MINIDOCK_FAILPOINT`, it
//! aborts (`SIGABRT`), as abruptly as `kill -9`: no destructor runs, no file
//! is closed cleanly, no mount is undone. With `=delay(MS)` it sleeps instead,
//! which holds a short-lived state (a helper that has not exec'd yet) long
//! enough for a test to look at it. The variable is read once per process.
//! It exists only for tests; unset, [`hit`] costs one comparison.
//!
//! This chapter's point is `before-execve`: a process entering the container
//! has done every setup step and is about to become the command
//! ([`crate::init::become_command`]). Later chapters add their own.

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable naming the point to stop at.
pub const ENV: &str = "MINIDOCK_FAILPOINT";

/// What to do at the armed point.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Abort,
    Delay(Duration),
}

/// `NAME` or `NAME=delay(MS)`; `None` for anything else.
fn parse(value: &str) -> Option<(String, Action)> {
    let Some((name, action)) = value.split_once('=') else {
        return Some((value.to_string(), Action::Abort));
    };
    let ms = action.strip_prefix("delay(")?.strip_suffix(')')?;
    let ms: u64 = ms.parse().ok()?;
    Some((name.to_string(), Action::Delay(Duration::from_millis(ms))))
}
// ANCHOR_END: failpoint_doc
// ANCHOR: failpoint_hit

/// Aborts (or waits) when `point` is the one named by [`ENV`].
pub fn hit(point: &str) {
    static ARMED: OnceLock<Option<(String, Action)>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var(ENV).ok().as_deref().and_then(parse));
    match armed {
        Some((name, Action::Abort)) if name == point => {
            eprintln!("{ENV}={point}: aborting here, as a crash test asked");
            std::process::abort();
        }
        Some((name, Action::Delay(d))) if name == point => std::thread::sleep(*d),
        _ => {}
    }
}
// ANCHOR_END: failpoint_hit

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_aborts_and_a_delay_waits() {
        assert_eq!(parse("x-y"), Some(("x-y".into(), Action::Abort)));
        assert_eq!(
            parse("before-execve=delay(250)"),
            Some((
                "before-execve".into(),
                Action::Delay(Duration::from_millis(250))
            ))
        );
        assert_eq!(parse("p=delay(soon)"), None);
        assert_eq!(parse("p=explode"), None);
    }
}
