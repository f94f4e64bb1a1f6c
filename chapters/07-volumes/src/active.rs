//! Volumes mounted per use: who runs with a tmpfs volume right now.
//!
//! A plain volume is a directory: it is there whether or not a container
//! runs. A tmpfs volume (`docker volume create -o type=tmpfs`) is memory,
//! and Docker's `local` driver treats it as a mount that exists only while
//! it is used: the first container that starts with it mounts the tmpfs,
//! the others share that one mount, and when the last of them stops it is
//! unmounted — and its data is gone. The volume itself (its name, its
//! options) stays until `docker volume rm`.
//!
//! ```text
//! start a (-v mem:/m)   count 0 → 1   mount tmpfs on volumes/mem/_data
//! start b (-v mem:/m)   count 1 → 2   (the same tmpfs: a and b share it)
//! stop a                count 2 → 1
//! stop b                count 1 → 0   unmount: the data goes with it
//! ```
//!
//! So the engine counts, per volume, the runs that use it, keyed by
//! container (a container may mount one volume at two paths). The count
//! lives in the daemon's memory; a daemon that restarts while containers
//! still run rebuilds it from those containers ([`Active::adopt`]) rather
//! than mounting a second tmpfs over the first (hiding its data from new
//! users) or unmounting it under them.

use std::collections::BTreeMap;

/// Volume name → container id → how many of that container's mounts use
/// the volume while it runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Active {
    users: BTreeMap<String, BTreeMap<String, usize>>,
}

// ANCHOR: active
impl Active {
    /// `container` starts with `volume` mounted: returns whether it is the
    /// first user, which must mount it.
    pub fn activate(&mut self, volume: &str, container: &str) -> bool {
        let users = self.users.entry(volume.to_string()).or_default();
        let first = users.is_empty();
        *users.entry(container.to_string()).or_default() += 1;
        first
    }

    /// `container`'s run with `volume` ended: returns whether it was the
    /// last user, after which the volume is unmounted. A container that
    /// was not counted changes nothing (and is not the last user).
    pub fn deactivate(&mut self, volume: &str, container: &str) -> bool {
        let Some(users) = self.users.get_mut(volume) else {
            return false;
        };
        let Some(count) = users.get_mut(container) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            users.remove(container);
        }
        if users.is_empty() {
            self.users.remove(volume);
            return true;
        }
        false
    }

    /// A daemon that starts finds `container` running with `volume`: it
    /// is counted as a user, as if it had started under this daemon.
    pub fn adopt(&mut self, volume: &str, container: &str) {
        self.activate(volume, container);
    }

    /// Whether any running container uses `volume`.
    pub fn is_active(&self, volume: &str) -> bool {
        self.users.contains_key(volume)
    }

    /// The volumes that running containers use.
    pub fn volumes(&self) -> impl Iterator<Item = &String> {
        self.users.keys()
    }

    /// The containers running with `volume`.
    pub fn users(&self, volume: &str) -> Vec<String> {
        self.users
            .get(volume)
            .map(|u| u.keys().cloned().collect())
            .unwrap_or_default()
    }
}
// ANCHOR_END: active

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_mounts_and_the_last_unmounts() {
        let mut active = Active::default();
        assert!(active.activate("mem", "a"));
        assert!(!active.activate("mem", "b"));
        assert_eq!(active.users("mem"), ["a", "b"]);
        assert!(!active.deactivate("mem", "a"));
        assert!(active.is_active("mem"));
        assert!(active.deactivate("mem", "b"));
        assert!(!active.is_active("mem"));
        // a second end of a run already counted out is not another last
        assert!(!active.deactivate("mem", "b"));
    }

    #[test]
    fn one_container_mounting_a_volume_twice_counts_twice() {
        let mut active = Active::default();
        assert!(active.activate("mem", "a"));
        assert!(!active.activate("mem", "a"));
        assert!(!active.deactivate("mem", "a"));
        assert!(active.deactivate("mem", "a"));
    }

    #[test]
    fn adopted_users_keep_the_volume_mounted() {
        let mut active = Active::default();
        active.adopt("mem", "a");
        assert!(!active.activate("mem", "b"), "a mounted it already");
        assert!(!active.deactivate("mem", "b"));
        assert!(active.deactivate("mem", "a"));
    }
}
