//! The event bus behind `GET /events`.
//!
//! Services publish what happens (a container started, died, was removed; an
//! image was pulled, tagged, deleted) on a broadcast channel; every
//! `/events` request subscribes and streams what it receives. A slow listener
//! that falls behind loses the oldest events instead of slowing the daemon.
//!
//! The bus also remembers the last [`HISTORY`] events, for `docker events
//! --since`: a listener gets the remembered ones first, then the live ones.
//! Publishing appends to the history and sends under one lock, and
//! subscribing takes the receiver and a copy of the history under the same
//! lock, so every event is in exactly one of the two.

use crate::compat::types::{Event, EventActor};
use crate::locks::lock;
use crate::query::Filters;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// How many events a listener may lag behind before it loses some.
const CAPACITY: usize = 256;

/// How many past events the daemon remembers (Docker keeps 256 too).
pub const HISTORY: usize = 256;

/// A handle to publish and subscribe; clones share one channel.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<Event>,
    history: Arc<Mutex<VecDeque<Event>>>,
    /// What the daemon found wrong and worked around, for `/info`.
    warnings: Arc<Mutex<Vec<String>>>,
}

impl Default for Events {
    fn default() -> Events {
        Events::new()
    }
}

// ANCHOR: events_warn
impl Events {
    /// A new, empty bus.
    pub fn new() -> Events {
        let (sender, _) = broadcast::channel(CAPACITY);
        Events {
            sender,
            history: Arc::new(Mutex::new(VecDeque::with_capacity(HISTORY))),
            warnings: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Reports something the daemon found wrong and worked around (a
    /// directory it quarantined): on its log, in `GET /info`'s `Warnings`
    /// for as long as it runs, and as a `daemon` event with `action`.
    pub fn warn(&self, action: &str, message: String, attributes: BTreeMap<String, String>) {
        eprintln!("minidockd: WARNING: {message}");
        lock(&self.warnings).push(message.clone());
        let mut attributes = attributes;
        attributes.insert("message".to_string(), message);
        self.publish("daemon", action, "", attributes);
    }
    // ANCHOR_END: events_warn

    /// The warnings reported so far, oldest first.
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.warnings).clone()
    }

    fn history(&self) -> std::sync::MutexGuard<'_, VecDeque<Event>> {
        lock(&self.history)
    }

    // ANCHOR: events_publish
    /// Publishes an event of `kind` (`container`, `image`) now. Nobody
    /// listening is fine.
    pub fn publish(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let legacy = kind == "container" || kind == "image";
        let from = match kind {
            "container" => attributes.get("image").cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let event = Event {
            status: if legacy {
                action.to_string()
            } else {
                String::new()
            },
            id: if legacy {
                id.to_string()
            } else {
                String::new()
            },
            from,
            kind: kind.to_string(),
            action: action.to_string(),
            actor: EventActor {
                id: id.to_string(),
                attributes,
            },
            scope: "local".to_string(),
            time: now.as_secs() as i64,
            time_nano: now.as_nanos() as i64,
        };
        let mut history = self.history();
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(event.clone());
        // `send` fails only when no one listens; the event is then dropped.
        self.sender.send(event).ok();
    }
    // ANCHOR_END: events_publish

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    // ANCHOR: events_history
    /// The remembered events, oldest first, and a receiver of every event
    /// published after them: none missed, none twice.
    pub fn subscribe_with_history(&self) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let history = self.history();
        let receiver = self.sender.subscribe();
        (history.iter().cloned().collect(), receiver)
    }

    // ANCHOR_END: events_history
    /// How many listeners there are (for `/info`).
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }
}

// ANCHOR: event_matches
/// Whether an event passes `/events` filters (`type`, `event`, `container`,
/// `image`, `label`); names match the `name` attribute as well as the id.
pub fn event_matches(event: &Event, filters: &Filters) -> bool {
    let one_of = |name: &str, value: &str| {
        let wanted = filters.values(name);
        wanted.is_empty() || wanted.iter().any(|w| w == value)
    };
    let names_object = |name: &str| {
        let wanted = filters.values(name);
        wanted.is_empty()
            || wanted.iter().any(|w| {
                event.actor.id.starts_with(w.as_str())
                    || event.actor.attributes.get("name") == Some(w)
                    || event.actor.attributes.get("image") == Some(w)
            })
    };
    let container_ok = event.kind != "container" || names_object("container");
    let image_ok = filters.values("image").is_empty() || names_object("image");
    one_of("type", &event.kind)
        && one_of("event", &event.action)
        && container_ok
        && (filters.values("container").is_empty() || event.kind == "container")
        && image_ok
        && filters.labels_match(&event.actor.attributes)
}
// ANCHOR_END: event_matches

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_select_events() {
        let bus = Events::new();
        let mut rx = bus.subscribe();
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), "web".to_string());
        bus.publish("container", "start", "abc123", attrs);
        let event = rx.try_recv().unwrap();
        assert_eq!(event.actor.id, "abc123");
        let f = |json: &str| Filters::parse(json).unwrap();
        assert!(event_matches(&event, &Filters::default()));
        assert!(event_matches(&event, &f(r#"{"type":["container"]}"#)));
        assert!(!event_matches(&event, &f(r#"{"type":["image"]}"#)));
        assert!(event_matches(&event, &f(r#"{"container":["web"]}"#)));
        assert!(event_matches(&event, &f(r#"{"container":["abc"]}"#)));
        assert!(!event_matches(&event, &f(r#"{"container":["db"]}"#)));
        assert!(!event_matches(&event, &f(r#"{"event":["die"]}"#)));
    }

    #[test]
    fn history_and_live_events_meet_without_gap_or_repeat() {
        let bus = Events::new();
        for i in 0..HISTORY + 10 {
            bus.publish("container", "start", &format!("c{i}"), BTreeMap::new());
        }
        let (past, mut live) = bus.subscribe_with_history();
        assert_eq!(past.len(), HISTORY, "only the last {HISTORY} are kept");
        assert_eq!(past[0].actor.id, "c10");
        assert_eq!(past[HISTORY - 1].actor.id, format!("c{}", HISTORY + 9));
        bus.publish("container", "die", "next", BTreeMap::new());
        assert_eq!(live.try_recv().unwrap().actor.id, "next");
        assert!(live.try_recv().is_err());
    }
}
