//! Signals by name, and how `stop` escalates.
//!
//! `docker stop` sends the container's stop signal (`SIGTERM` unless the
//! image or the user chose another), gives the process a grace period to
//! finish its work, and only then sends `SIGKILL`, which cannot be caught.
//! A PID 1 without a handler for `SIGTERM` ignores it (the kernel protects
//! a namespace's init), so such a container always takes the full timeout.

use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::error::{Error, Result};

// ANCHOR: parse_signal
/// Parses `SIGTERM`, `TERM`, `sigterm` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| Error::InvalidSignal(text.to_string()));
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| Error::InvalidSignal(text.to_string()))
}

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// The process exited within the grace period after the stop signal.
    Graceful,
    /// It did not: it was killed with `SIGKILL`.
    Killed,
}
// ANCHOR_END: parse_signal

// ANCHOR: stop_escalating
/// Sends `signal`, waits up to `timeout` for the exit, then sends
/// `SIGKILL` and waits again (up to `kill_wait`).
///
/// `send` delivers a signal to the container; `exited_within(d)` waits up to
/// `d` and says whether the container has exited. Both are parameters so
/// the escalation is a plain function, testable without a process.
pub fn stop_escalating(
    signal: Signal,
    timeout: Duration,
    kill_wait: Duration,
    mut send: impl FnMut(Signal) -> Result<()>,
    mut exited_within: impl FnMut(Duration) -> Result<bool>,
) -> Result<StopOutcome> {
    // exercise 3.7 stop-escalation: stop gracefully, then force.
    // hint: send(signal), then exited_within(timeout): if it exited, that was Graceful
    // hint: otherwise send(Signal::SIGKILL) and wait with exited_within(kill_wait); still running after that is an error
    send(signal)?;
    if exited_within(timeout)? {
        return Ok(StopOutcome::Graceful);
    }
    send(Signal::SIGKILL)?;
    if exited_within(kill_wait)? {
        Ok(StopOutcome::Killed)
    } else {
        Err(Error::NotKilled {
            what: "the container".into(),
            waited: kill_wait,
        })
    }
    // end exercise
}
// ANCHOR_END: stop_escalating

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_and_numbers() {
        assert_eq!(parse_signal("SIGTERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("term").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("SIGUSR1").unwrap(), Signal::SIGUSR1);
        for bad in ["", "SIGNOPE", "0", "999", "-1"] {
            assert!(parse_signal(bad).is_err(), "{bad:?}");
        }
    }

    /// A fake container that exits `exits_after` after receiving
    /// `exits_on`, or never.
    struct Fake {
        exits_on: Option<Signal>,
        sent: Vec<Signal>,
        waited: Vec<Duration>,
    }

    impl Fake {
        fn run(&mut self, timeout: Duration) -> Result<StopOutcome> {
            let exits_on = self.exits_on;
            let sent = std::cell::RefCell::new(Vec::new());
            let mut waited = Vec::new();
            let out = stop_escalating(
                Signal::SIGQUIT,
                timeout,
                Duration::from_secs(3),
                |s| {
                    sent.borrow_mut().push(s);
                    Ok(())
                },
                |d| {
                    waited.push(d);
                    Ok(sent.borrow().iter().any(|s| {
                        Some(*s) == exits_on || *s == Signal::SIGKILL && exits_on.is_some()
                    }))
                },
            );
            self.sent = sent.into_inner();
            self.waited = waited;
            out
        }
    }

    #[test]
    fn a_process_that_exits_on_the_stop_signal_is_not_killed() {
        let mut f = Fake {
            exits_on: Some(Signal::SIGQUIT),
            sent: vec![],
            waited: vec![],
        };
        let timeout = Duration::from_millis(rand::random::<u16>() as u64);
        assert_eq!(f.run(timeout).unwrap(), StopOutcome::Graceful);
        assert_eq!(f.sent, vec![Signal::SIGQUIT]);
        assert_eq!(f.waited, vec![timeout]);
    }

    #[test]
    fn a_process_that_ignores_it_is_killed_after_the_timeout() {
        let mut f = Fake {
            exits_on: Some(Signal::SIGKILL),
            sent: vec![],
            waited: vec![],
        };
        let timeout = Duration::from_secs(7);
        assert_eq!(f.run(timeout).unwrap(), StopOutcome::Killed);
        assert_eq!(f.sent, vec![Signal::SIGQUIT, Signal::SIGKILL]);
        assert_eq!(f.waited, vec![timeout, Duration::from_secs(3)]);
    }

    #[test]
    fn a_process_that_survives_sigkill_is_an_error() {
        let mut f = Fake {
            exits_on: None,
            sent: vec![],
            waited: vec![],
        };
        assert!(f.run(Duration::from_secs(1)).is_err());
        assert_eq!(f.sent, vec![Signal::SIGQUIT, Signal::SIGKILL]);
    }
}
