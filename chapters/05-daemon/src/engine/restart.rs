//! Restart policies when the daemon starts.
//!
//! While a container runs, its shim applies the restart policy itself
//! (chapter 03): the shim outlives the daemon, so restarts do not depend on
//! it. What the shim cannot do is come back after it died itself — with the
//! machine, say. When the daemon starts, it looks at every container that is
//! not running and starts those whose policy says so, the way `dockerd` does
//! on boot (the rule is chapter 03's `RestartPolicy::decide`, its one home):
//!
//! | policy           | started when the daemon starts                        |
//! |------------------|-------------------------------------------------------|
//! | `no`             | never                                                 |
//! | `always`         | always, even after a manual stop                      |
//! | `unless-stopped` | unless it was stopped by hand                         |
//! | `on-failure[:N]` | if it failed (code ≠ 0), was not stopped by hand, and has restarts left |

use minidock_lifecycle::config::RestartPolicy;
use minidock_lifecycle::state::StateRecord;

// ANCHOR: start_on_boot
/// Whether the daemon starts this container when it starts.
pub fn start_on_boot(policy: &RestartPolicy, record: &StateRecord) -> bool {
    // exercise 5.8 restart-on-boot: decide whether the daemon starts a stopped container on boot.
    // hint: only a container in State::Exited qualifies (created ones were never started)
    // hint: the rule itself is chapter 03's, for every trigger: RestartPolicy::decide, asked with RestartTrigger::EngineStart
    // hint: it takes the exit code, `record.restart_count` and `record.stopped_by_user` (the manual stop)
    use minidock_lifecycle::config::RestartTrigger;
    use minidock_lifecycle::state::State;
    let State::Exited { code, .. } = record.state else {
        return false;
    };
    policy.decide(
        RestartTrigger::EngineStart,
        code,
        record.restart_count,
        record.stopped_by_user,
    )
    // end exercise
}
// ANCHOR_END: start_on_boot

#[cfg(test)]
mod tests {
    use super::*;
    use minidock_lifecycle::state::State;
    use minidock_lifecycle::time::Timestamp;

    fn exited(code: i32, by_user: bool, restarts: u32) -> StateRecord {
        StateRecord {
            state: State::Exited {
                code,
                oom_killed: false,
                started_at: Timestamp::from_unix(1, 0),
                finished_at: Timestamp::from_unix(2, 0),
            },
            stopped_by_user: by_user,
            restart_count: restarts,
            ..StateRecord::created()
        }
    }

    fn policy(spec: &str) -> RestartPolicy {
        spec.parse().unwrap()
    }

    #[test]
    fn policies_on_boot() {
        assert!(!start_on_boot(&policy("no"), &exited(1, false, 0)));
        assert!(start_on_boot(&policy("always"), &exited(0, true, 0)));
        assert!(start_on_boot(
            &policy("unless-stopped"),
            &exited(0, false, 0)
        ));
        assert!(!start_on_boot(
            &policy("unless-stopped"),
            &exited(0, true, 0)
        ));
        assert!(start_on_boot(&policy("on-failure"), &exited(2, false, 7)));
        assert!(!start_on_boot(&policy("on-failure"), &exited(0, false, 0)));
        assert!(!start_on_boot(&policy("on-failure"), &exited(2, true, 0)));
        assert!(start_on_boot(&policy("on-failure:3"), &exited(2, false, 2)));
        assert!(!start_on_boot(
            &policy("on-failure:3"),
            &exited(2, false, 3)
        ));
        assert!(!start_on_boot(&policy("always"), &StateRecord::created()));
    }
}
