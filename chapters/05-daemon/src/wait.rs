//! `POST /containers/{id}/wait`: block until a container reaches a state.
//!
//! `docker run` sends its wait request *before* it starts the container, and
//! only starts it once the wait's response headers have arrived: that is how
//! it knows the daemon will not miss a fast exit. So the daemon answers the
//! headers at once and sends the body `{"StatusCode":N,"Error":null}` when the
//! condition is met.
//!
//! Each container publishes its [`LifeState`] on a `tokio::sync::watch`
//! channel; a waiter remembers the state at the time it asked and watches for
//! the change its condition names.

use crate::compat::types::WaitResponse;
use crate::error::ApiError;
use std::str::FromStr;
use tokio::sync::watch;

// ANCHOR: wait_types
/// What a waiter waits for (`?condition=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// The container is not running: answered at once if it is not (the
    /// default, used by `docker wait`).
    NotRunning,
    /// The container exits after the request: even if it is not running now
    /// (`docker run` asks this before it starts the container).
    NextExit,
    /// The container is removed (`docker run --rm`: the daemon removes it).
    Removed,
}

impl FromStr for WaitCondition {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<WaitCondition, ApiError> {
        match text {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(ApiError::BadParameter(format!(
                "invalid condition: {other:?} (expected not-running, next-exit or removed)"
            ))),
        }
    }
}

/// What a waiter needs to know about a container, published on every change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifeState {
    /// Its process runs (paused counts as running, as in Docker).
    pub running: bool,
    /// How many times it has exited since it was created.
    pub exits: u64,
    /// The status of the last exit (0 before the first).
    pub exit_code: i64,
    /// Why the last start or exit failed, if it did.
    pub error: Option<String>,
    /// The container is gone. Set before the channel is dropped.
    pub removed: bool,
}
// ANCHOR_END: wait_types

// ANCHOR: condition_met
/// Whether `condition` is met in state `now` for a waiter who asked in state
/// `asked`.
pub fn condition_met(condition: WaitCondition, asked: &LifeState, now: &LifeState) -> bool {
    // exercise 5.5 wait-condition: decide whether a waiter's condition is met.
    // hint: not-running is met as soon as the container does not run; next-exit needs an exit
    // hint: that happened after the request (compare the exit counters); removed needs `removed`
    // hint: a removed container meets every condition, or its waiters would hang forever
    if now.removed {
        return true;
    }
    match condition {
        WaitCondition::NotRunning => !now.running,
        WaitCondition::NextExit => now.exits > asked.exits,
        WaitCondition::Removed => false,
    }
    // end exercise
}
// ANCHOR_END: condition_met

/// Waits until `condition` is met, then says with which exit status.
///
/// The state at the time of the call is the reference for `next-exit`, so
/// subscribe (get the receiver) before starting the container.
pub async fn wait_until(
    condition: WaitCondition,
    mut states: watch::Receiver<LifeState>,
) -> WaitResponse {
    let asked = states.borrow_and_update().clone();
    loop {
        let now = states.borrow_and_update().clone();
        if condition_met(condition, &asked, &now) {
            return WaitResponse::new(now.exit_code, now.error);
        }
        if states.changed().await.is_err() {
            // The container's channel is gone: it was removed. Its last state
            // is still readable.
            let last = states.borrow().clone();
            return WaitResponse::new(last.exit_code, last.error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(running: bool, exits: u64, code: i64) -> LifeState {
        LifeState {
            running,
            exits,
            exit_code: code,
            ..LifeState::default()
        }
    }

    #[test]
    fn conditions_follow_dockers_semantics() {
        let created = state(false, 0, 0);
        let running = state(true, 0, 0);
        let exited = state(false, 1, 3);
        let removed = LifeState {
            removed: true,
            ..exited.clone()
        };
        use WaitCondition::*;
        assert!(condition_met(NotRunning, &created, &created));
        assert!(!condition_met(NotRunning, &created, &running));
        assert!(condition_met(NotRunning, &running, &exited));
        assert!(!condition_met(NextExit, &created, &created));
        assert!(!condition_met(NextExit, &created, &running));
        assert!(condition_met(NextExit, &created, &exited));
        assert!(!condition_met(NextExit, &exited, &exited));
        assert!(!condition_met(Removed, &created, &exited));
        assert!(condition_met(Removed, &created, &removed));
        assert!(condition_met(NextExit, &created, &removed));
    }

    #[test]
    fn condition_names_parse() {
        assert_eq!(
            "".parse::<WaitCondition>().unwrap(),
            WaitCondition::NotRunning
        );
        assert_eq!(
            "next-exit".parse::<WaitCondition>().unwrap(),
            WaitCondition::NextExit
        );
        assert_eq!(
            "removed".parse::<WaitCondition>().unwrap(),
            WaitCondition::Removed
        );
        assert!(matches!(
            "soon".parse::<WaitCondition>(),
            Err(ApiError::BadParameter(_))
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn next_exit_waits_for_an_exit_after_the_request() {
        let (tx, rx) = watch::channel(state(false, 1, 7));
        let waiter = tokio::spawn(wait_until(WaitCondition::NextExit, rx));
        tokio::task::yield_now().await;
        tx.send_replace(state(true, 1, 7));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        tx.send_replace(state(false, 2, 42));
        let response = waiter.await.unwrap();
        assert_eq!(response.status_code, 42);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_channel_ends_the_wait_with_the_last_state() {
        let (tx, rx) = watch::channel(state(true, 0, 0));
        let waiter = tokio::spawn(wait_until(WaitCondition::Removed, rx));
        tokio::task::yield_now().await;
        tx.send_replace(state(false, 1, 9));
        drop(tx);
        assert_eq!(waiter.await.unwrap().status_code, 9);
    }
}
