//! Deleting veths off the critical path.
//!
//! Deleting a link is slow in the kernel: it waits until nobody can still
//! be reading the old interface (an RCU grace period, twice), some 15 to
//! 20 ms on a quiet machine. `run --rm` waits for a container's removal,
//! so a delete there is time the user sees. It is not needed either: a
//! container's veth has one end in the container's namespace, and when
//! the namespace ends (unpinned, its last process gone) the kernel deletes
//! both ends by itself, in the background.
//!
//! The reaper is the safety net: a thread that, a moment after a sandbox
//! was unwired, deletes whatever of its veths is still there (a namespace
//! something else still held). A daemon killed before it ran leaves them
//! to [`crate::Driver::reconcile`], which finds them by their tag.

use crate::links;
use crate::netlink::{Socket, NETLINK_ROUTE};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the kernel gets to delete a veth by itself.
const DELAY: Duration = Duration::from_millis(500);

/// Links to delete, and when.
type Batch = (Instant, Vec<String>);

/// The reaper: a thread, started at its first use.
#[derive(Default)]
pub struct Reaper {
    queue: Mutex<Option<Sender<Batch>>>,
}

impl Reaper {
    /// Deletes the links `names` in a moment, if they are still there.
    pub fn defer(&self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        let item = (Instant::now() + DELAY, names);
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let item = match queue.as_ref() {
            Some(tx) => match tx.send(item) {
                Ok(()) => return,
                // The thread is gone: start another.
                Err(err) => err.0,
            },
            None => item,
        };
        let (tx, rx) = channel::<Batch>();
        let spawned = std::thread::Builder::new()
            .name("veth-reaper".into())
            .spawn(move || {
                for (due, names) in rx {
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    reap(&names);
                }
            });
        match spawned {
            Ok(_) => {
                tx.send(item).ok();
                *queue = Some(tx);
            }
            // No thread: delete now, in the caller's time.
            Err(_) => reap(&item.1),
        }
    }
}

/// Deletes the links that are still there; a failure is reported, not
/// fatal (the next daemon start sweeps by tag).
fn reap(names: &[String]) {
    let mut sock = match Socket::open(NETLINK_ROUTE) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("minidockd: deleting veths {names:?}: {err}");
            return;
        }
    };
    for name in names {
        if let Err(err) = links::delete(&mut sock, name) {
            eprintln!("minidockd: deleting veth {name}: {err}");
        }
    }
}
