//! The lifecycle as a state machine.
//!
//! ```text
//!            create
//!              │
//!              ▼         start
//!          Created ───────────────▶ Running ◀──── unpause ───┐
//!                                   │  ▲   └───── pause ──▶ Paused
//!             process exits / stop / kill │                  │
//!                                   ▼  │ start / restart     │ exits
//!                                  Exited ◀──────────────────┘
//!              rm (Created, Exited; Running/Paused with force)
//!                                   ▼
//!                                Removed
//! ```
//!
//! [`transition`] is a pure function from a state and an event to the next
//! state, or to an error that says why the event is not allowed. Everything
//! that changes a container goes through it, so the rules live in one place
//! and are tested without a single process.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

// ANCHOR: state_enum
/// Where a container is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Status", rename_all = "lowercase")]
pub enum State {
    /// Created, never started (or the start failed).
    Created,
    /// Its init process runs (host pid `pid`).
    Running {
        /// The host pid of the container's init.
        #[serde(rename = "Pid")]
        pid: i32,
        /// When it started.
        #[serde(rename = "StartedAt")]
        started_at: Timestamp,
    },
    /// Its processes are frozen by the cgroup freezer.
    Paused {
        /// The host pid of the container's init.
        #[serde(rename = "Pid")]
        pid: i32,
        /// When it started.
        #[serde(rename = "StartedAt")]
        started_at: Timestamp,
    },
    /// Its init process has exited.
    Exited {
        /// The exit status Docker reports: the code, or 128 + signal.
        #[serde(rename = "ExitCode")]
        code: i32,
        /// Whether the kernel's OOM killer killed a process of the group.
        #[serde(rename = "OOMKilled")]
        oom_killed: bool,
        /// When its last run started.
        #[serde(rename = "StartedAt")]
        started_at: Timestamp,
        /// When its last run ended.
        #[serde(rename = "FinishedAt")]
        finished_at: Timestamp,
    },
    /// Removed; only seen by those who held the container before `rm`.
    Removed,
}
// ANCHOR_END: state_enum

// ANCHOR: state_impl
impl State {
    /// The lowercase name Docker shows: `created`, `running`, …
    pub fn name(&self) -> &'static str {
        match self {
            State::Created => "created",
            State::Running { .. } => "running",
            State::Paused { .. } => "paused",
            State::Exited { .. } => "exited",
            State::Removed => "removed",
        }
    }

    /// The host pid of the init process while it runs (or is paused).
    pub fn pid(&self) -> Option<i32> {
        match self {
            State::Running { pid, .. } | State::Paused { pid, .. } => Some(*pid),
            _ => None,
        }
    }

    /// Running or paused: there is a process.
    pub fn is_alive(&self) -> bool {
        self.pid().is_some()
    }
}
// ANCHOR_END: state_impl

// ANCHOR: state_events
/// Something that happens to a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Its init process started as host pid `pid`.
    Start {
        /// The host pid of its init.
        pid: i32,
        /// When.
        at: Timestamp,
    },
    /// `pause`: the freezer froze it.
    Pause,
    /// `unpause`: the freezer thawed it.
    Unpause,
    /// Its init process exited.
    Exit {
        /// The exit code: the command's, or 128 + signal.
        code: i32,
        /// Whether the OOM killer killed a process of the group.
        oom_killed: bool,
        /// When.
        at: Timestamp,
    },
    /// `rm`, with or without `--force`.
    Remove {
        /// `--force`: a running container is killed first.
        force: bool,
    },
    /// `kill` asks to send a signal: allowed only to a live container, and
    /// changes no state (the exit that follows does).
    Kill,
    /// `stop`: like kill, but a no-op error for a container that is not
    /// running (Docker answers 304 Not Modified).
    Stop,
    /// `restart`: allowed from every state but Removed.
    Restart,
}

/// Why an event is not allowed in the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// `start` of a running container.
    #[error("cannot start container {id}: container is running")]
    AlreadyRunning {
        /// The container.
        id: String,
    },
    /// `start` of a paused container: it runs already, only frozen.
    #[error("cannot start container {id}: container is paused, unpause it instead")]
    StartPaused {
        /// The container.
        id: String,
    },
    /// An operation that needs a live process (`kill`, `pause`) on a
    /// container that has none.
    #[error("cannot {op} container {id}: container is not running")]
    NotRunning {
        /// The operation, as Docker names it.
        op: &'static str,
        /// The container.
        id: String,
    },
    /// `pause` of a paused container.
    #[error("cannot pause container {id}: container is already paused")]
    AlreadyPaused {
        /// The container.
        id: String,
    },
    /// `unpause` of a container that is not paused.
    #[error("cannot unpause container {id}: container is not paused")]
    NotPaused {
        /// The container.
        id: String,
    },
    /// `stop` of a stopped container (Docker answers 304 Not Modified).
    #[error("cannot stop container {id}: container is already stopped")]
    AlreadyStopped {
        /// The container.
        id: String,
    },
    /// `rm` without `--force` of a container whose process lives.
    #[error("cannot remove a {state} container {id}: stop it first or use force")]
    RemoveRunning {
        /// The container.
        id: String,
        /// `running` or `paused`.
        state: &'static str,
    },
    /// Any event but `rm` on a container removed meanwhile.
    #[error("no such container: {id} (it was removed)")]
    Removed {
        /// The container.
        id: String,
    },
}
// ANCHOR_END: state_events

// ANCHOR: transition
/// The state after `event`, or why `event` is not allowed in `state`.
/// `id` only goes into the error messages.
pub fn transition(id: &str, state: &State, event: Event) -> Result<State, TransitionError> {
    // exercise 3.1 transition: implement the lifecycle's state machine (see the diagram above).
    // hint: match on (state, event) pairs; list the legal ones first and build the new state from the event's data
    // hint: keep started_at from Running/Paused into Exited; Kill and Stop leave a live state as it is
    use State::*;
    let id = id.to_string();
    match (state, event) {
        (Removed, _) => Err(TransitionError::Removed { id }),
        (Created | Exited { .. }, Event::Start { pid, at }) => Ok(Running {
            pid,
            started_at: at,
        }),
        (Running { .. }, Event::Start { .. }) => Err(TransitionError::AlreadyRunning { id }),
        (Paused { .. }, Event::Start { .. }) => Err(TransitionError::StartPaused { id }),
        (Running { pid, started_at }, Event::Pause) => Ok(Paused {
            pid: *pid,
            started_at: *started_at,
        }),
        (Paused { .. }, Event::Pause) => Err(TransitionError::AlreadyPaused { id }),
        (_, Event::Pause) => Err(TransitionError::NotRunning { op: "pause", id }),
        (Paused { pid, started_at }, Event::Unpause) => Ok(Running {
            pid: *pid,
            started_at: *started_at,
        }),
        (_, Event::Unpause) => Err(TransitionError::NotPaused { id }),
        (
            Running { started_at, .. } | Paused { started_at, .. },
            Event::Exit {
                code,
                oom_killed,
                at,
            },
        ) => Ok(Exited {
            code,
            oom_killed,
            started_at: *started_at,
            finished_at: at,
        }),
        (_, Event::Exit { .. }) => Err(TransitionError::NotRunning {
            op: "record the exit of",
            id,
        }),
        (Created | Exited { .. }, Event::Remove { .. }) => Ok(Removed),
        (Running { .. } | Paused { .. }, Event::Remove { force: true }) => Ok(Removed),
        (s @ (Running { .. } | Paused { .. }), Event::Remove { force: false }) => {
            Err(TransitionError::RemoveRunning {
                id,
                state: s.name(),
            })
        }
        (s @ (Running { .. } | Paused { .. }), Event::Kill | Event::Stop) => Ok(s.clone()),
        (_, Event::Kill) => Err(TransitionError::NotRunning { op: "kill", id }),
        (_, Event::Stop) => Err(TransitionError::AlreadyStopped { id }),
        (s, Event::Restart) => Ok(s.clone()),
    }
    // end exercise
}
// ANCHOR_END: transition

// ANCHOR: state_record
/// The record stored in `state.json`: the state plus what the engine needs
/// to find and manage the container's processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateRecord {
    /// The container's state.
    #[serde(flatten)]
    pub state: State,
    /// The shim supervising the container, while there is one.
    pub shim_pid: Option<i32>,
    /// How often a restart policy restarted it.
    pub restart_count: u32,
    /// Set by `stop`/`kill` through the engine, so restart policies leave
    /// the container alone; cleared by `start`.
    pub stopped_by_user: bool,
    /// The last start error, empty when there is none.
    pub error: String,
    /// The exit code of the last start when it failed: 127 (command not
    /// found), 126 (not executable) or 128. The container stays in its
    /// state (`created`), as in Docker, which reports this code as its
    /// `ExitCode`. `None` once a start succeeds.
    #[serde(default)]
    pub start_exit_code: Option<i32>,
}

impl StateRecord {
    /// The record of a freshly created container.
    pub fn created() -> StateRecord {
        StateRecord {
            state: State::Created,
            shim_pid: None,
            restart_count: 0,
            stopped_by_user: false,
            error: String::new(),
            start_exit_code: None,
        }
    }

    /// The `ExitCode` Docker shows: that of a failed start, else that of
    /// the last exit, else 0.
    pub fn exit_code(&self) -> i32 {
        match (&self.start_exit_code, &self.state) {
            (Some(code), _) | (None, State::Exited { code, .. }) => *code,
            _ => 0,
        }
    }
}
// ANCHOR_END: state_record

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "c0ffee";

    fn t(n: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + n, 0)
    }

    fn running() -> State {
        State::Running {
            pid: 42,
            started_at: t(1),
        }
    }
    fn paused() -> State {
        State::Paused {
            pid: 42,
            started_at: t(1),
        }
    }
    fn exited() -> State {
        State::Exited {
            code: 3,
            oom_killed: false,
            started_at: t(1),
            finished_at: t(2),
        }
    }
    fn all_states() -> Vec<State> {
        vec![
            State::Created,
            running(),
            paused(),
            exited(),
            State::Removed,
        ]
    }
    fn all_events() -> Vec<Event> {
        vec![
            Event::Start { pid: 7, at: t(10) },
            Event::Pause,
            Event::Unpause,
            Event::Exit {
                code: 137,
                oom_killed: true,
                at: t(11),
            },
            Event::Remove { force: false },
            Event::Remove { force: true },
            Event::Kill,
            Event::Stop,
            Event::Restart,
        ]
    }

    /// The whole table: every (state, event) pair and its expected outcome.
    fn expected(state: &State, event: &Event) -> Result<State, TransitionError> {
        let id = ID.to_string();
        let new_run = State::Running {
            pid: 7,
            started_at: t(10),
        };
        let exit = State::Exited {
            code: 137,
            oom_killed: true,
            started_at: t(1),
            finished_at: t(11),
        };
        use Event as E;
        use TransitionError as TE;
        match (state.name(), event) {
            ("removed", _) => Err(TE::Removed { id }),
            ("created", E::Start { .. }) | ("exited", E::Start { .. }) => Ok(new_run),
            ("running", E::Start { .. }) => Err(TE::AlreadyRunning { id }),
            ("paused", E::Start { .. }) => Err(TE::StartPaused { id }),
            ("running", E::Pause) => Ok(paused()),
            ("paused", E::Pause) => Err(TE::AlreadyPaused { id }),
            (_, E::Pause) => Err(TE::NotRunning { op: "pause", id }),
            ("paused", E::Unpause) => Ok(running()),
            (_, E::Unpause) => Err(TE::NotPaused { id }),
            ("running" | "paused", E::Exit { .. }) => Ok(exit),
            (_, E::Exit { .. }) => Err(TE::NotRunning {
                op: "record the exit of",
                id,
            }),
            ("created" | "exited", E::Remove { .. }) => Ok(State::Removed),
            (_, E::Remove { force: true }) => Ok(State::Removed),
            (s, E::Remove { force: false }) => Err(TE::RemoveRunning {
                id,
                state: if s == "running" { "running" } else { "paused" },
            }),
            ("running" | "paused", E::Kill | E::Stop) => Ok(state.clone()),
            (_, E::Kill) => Err(TE::NotRunning { op: "kill", id }),
            (_, E::Stop) => Err(TE::AlreadyStopped { id }),
            (_, E::Restart) => Ok(state.clone()),
            (other, event) => unreachable!("no expectation for {other} + {event:?}"),
        }
    }

    #[test]
    fn every_state_and_event_pair() {
        let mut legal = 0;
        let mut illegal = 0;
        for state in all_states() {
            for event in all_events() {
                let got = transition(ID, &state, event.clone());
                assert_eq!(
                    got,
                    expected(&state, &event),
                    "{} + {event:?}",
                    state.name()
                );
                if got.is_ok() {
                    legal += 1
                } else {
                    illegal += 1
                }
            }
        }
        assert_eq!((legal, illegal), (20, 25));
    }

    #[test]
    fn the_messages_say_what_to_do() {
        let msg = |s: &State, e| transition("web", s, e).unwrap_err().to_string();
        assert_eq!(
            msg(&running(), Event::Start { pid: 1, at: t(0) }),
            "cannot start container web: container is running"
        );
        assert_eq!(
            msg(&exited(), Event::Pause),
            "cannot pause container web: container is not running"
        );
        assert_eq!(
            msg(&running(), Event::Remove { force: false }),
            "cannot remove a running container web: stop it first or use force"
        );
        assert_eq!(
            msg(&paused(), Event::Remove { force: false }),
            "cannot remove a paused container web: stop it first or use force"
        );
        assert_eq!(
            msg(&State::Created, Event::Kill),
            "cannot kill container web: container is not running"
        );
        assert_eq!(
            msg(&running(), Event::Unpause),
            "cannot unpause container web: container is not paused"
        );
    }

    #[test]
    fn exit_keeps_the_start_time_and_records_code_and_oom() {
        let s = transition(
            ID,
            &paused(),
            Event::Exit {
                code: 137,
                oom_killed: true,
                at: t(5),
            },
        )
        .unwrap();
        assert_eq!(
            s,
            State::Exited {
                code: 137,
                oom_killed: true,
                started_at: t(1),
                finished_at: t(5)
            }
        );
        assert_eq!(s.pid(), None);
        assert_eq!(running().pid(), Some(42));
    }

    #[test]
    fn state_record_json_uses_dockers_names() {
        let mut r = StateRecord::created();
        r.state = exited();
        r.shim_pid = Some(9);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["Status"], "exited");
        assert_eq!(json["ExitCode"], 3);
        assert_eq!(json["OOMKilled"], false);
        assert_eq!(json["FinishedAt"], t(2).to_rfc3339_nanos());
        assert_eq!(json["ShimPid"], 9);
        let back: StateRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn exit_code_is_a_failed_starts_then_the_last_exits() {
        let mut r = StateRecord::created();
        assert_eq!(r.exit_code(), 0);
        r.state = exited();
        assert_eq!(r.exit_code(), 3);
        r.start_exit_code = Some(127);
        assert_eq!(r.exit_code(), 127);
        r.state = State::Created;
        assert_eq!(r.exit_code(), 127);
        // a state.json written before the field existed still reads
        let mut json = serde_json::to_value(StateRecord::created()).unwrap();
        json.as_object_mut().unwrap().remove("StartExitCode");
        let back: StateRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back.start_exit_code, None);
    }
}
