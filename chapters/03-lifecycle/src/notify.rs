// ANCHOR: dir_watch
//! Waiting for a container's directory to change, without polling.
//!
//! The shim records every state change by renaming a new `state.json` into
//! the container's directory ([`crate::atomic`]), and `--rm` renames the
//! directory away before deleting it. A waiter that slept a fixed interval between looks would add
//! half that interval, on average, to every `docker run`; with inotify the
//! kernel wakes it the moment the rename or the removal happens.
//!
//! Some changes are no file event — a shim that dies without a word — so a
//! waiter still looks again after a timeout: the watch makes waiting fast,
//! the timeout keeps it correct.

use std::os::fd::AsFd;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// A watch on one directory: files renamed into it, and its removal or
/// its own rename (the first step of a removal).
pub struct DirWatch {
    /// `None` when inotify was not available (no more watches, say):
    /// then [`DirWatch::wait`] just sleeps, as a poll loop would.
    inotify: Option<Inotify>,
}

// ANCHOR_END: dir_watch
// ANCHOR: dir_watch_wait
impl DirWatch {
    /// Starts watching `dir`. Create the watch *before* looking at the
    /// state, so a change between the look and the wait is not missed.
    pub fn new(dir: &Path) -> DirWatch {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .ok()
            .filter(|i| {
                i.add_watch(
                    dir,
                    AddWatchFlags::IN_MOVED_TO
                        | AddWatchFlags::IN_DELETE_SELF
                        | AddWatchFlags::IN_MOVE_SELF,
                )
                .is_ok()
            });
        DirWatch { inotify }
    }

    /// Blocks until something happened in the directory, or `timeout`.
    /// Either way the caller looks at the state again.
    pub fn wait(&self, timeout: Duration) {
        let Some(inotify) = &self.inotify else {
            sleep(timeout);
            return;
        };
        let millis = timeout.as_millis().clamp(1, i32::MAX as u128);
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
        if matches!(poll(&mut fds, timeout), Ok(n) if n > 0) {
            // Drained, so the next wait blocks until the next change.
            inotify.read_events().ok();
        }
    }
}
// ANCHOR_END: dir_watch_wait

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn wakes_on_a_rename_into_the_directory_and_times_out_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let watch = DirWatch::new(dir.path());
        assert!(watch.inotify.is_some(), "inotify must work here");
        // Nothing happens: the wait lasts its timeout.
        let start = Instant::now();
        watch.wait(Duration::from_millis(50));
        assert!(start.elapsed() >= Duration::from_millis(45));
        // A state file renamed in from another thread wakes it at once.
        let name = format!("state-{}.json", rand::random::<u32>());
        let (tmp, target) = (dir.path().join(".tmp"), dir.path().join(name));
        std::fs::write(&tmp, b"{}").unwrap();
        let writer = std::thread::spawn(move || {
            sleep(Duration::from_millis(20));
            std::fs::rename(tmp, target).unwrap();
        });
        let start = Instant::now();
        watch.wait(Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(5));
        writer.join().unwrap();
    }

    #[test]
    fn wakes_when_the_directory_is_removed() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join(format!("c{}", rand::random::<u32>()));
        std::fs::create_dir(&dir).unwrap();
        let watch = DirWatch::new(&dir);
        let remover = {
            let dir = dir.clone();
            std::thread::spawn(move || {
                sleep(Duration::from_millis(20));
                std::fs::remove_dir(dir).unwrap();
            })
        };
        let start = Instant::now();
        watch.wait(Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(5));
        remover.join().unwrap();
    }

    #[test]
    fn wakes_when_the_directory_is_renamed_away() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join(format!("c{}", rand::random::<u32>()));
        std::fs::create_dir(&dir).unwrap();
        let watch = DirWatch::new(&dir);
        let mover = {
            let (dir, away) = (dir.clone(), parent.path().join(".removing-c"));
            std::thread::spawn(move || {
                sleep(Duration::from_millis(20));
                std::fs::rename(dir, away).unwrap();
            })
        };
        let start = Instant::now();
        watch.wait(Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(5));
        mover.join().unwrap();
    }
}
