//! Capabilities: root's power, split into ~40 pieces, most of them dropped.
//!
//! Since Linux 2.2, "root can do anything" is a set of capabilities:
//! `CAP_SYS_ADMIN` (mount, and much else), `CAP_NET_ADMIN`, `CAP_SYS_MODULE`
//! (load kernel modules!) and so on. Root in a container is still root on
//! the host, so Docker keeps only 14 harmless ones (see
//! [`crate::spec::DEFAULT_CAPABILITIES`]).
//!
//! A thread has five sets: *effective* (checked by the kernel now),
//! *permitted* (may be made effective), *inheritable* and *ambient* (passed
//! through `execve`), and the *bounding* set, a ceiling no later `execve`
//! can go above. The bounding set is the one that matters for root: on
//! `execve` a root process gets `permitted = inheritable | bounding`, so
//! dropping only effective and permitted would be undone by the exec.

use caps::{CapSet, Capability, CapsHashSet};

use crate::error::SetupError;

/// Parses capability names (`CAP_CHOWN` or `chown`).
pub fn parse(names: &[String]) -> Result<CapsHashSet, String> {
    names
        .iter()
        .map(|n| {
            let canonical = caps::to_canonical(n);
            canonical
                .parse::<Capability>()
                .map_err(|_| format!("unknown capability {n:?}"))
        })
        .collect()
}

// ANCHOR: bounding
/// Lowers the bounding set to `keep`: `prctl(PR_CAPBSET_DROP, cap)` for
/// every other capability this kernel knows. This needs `CAP_SETPCAP`, so
/// it runs before the switch to a non-root user, which loses it.
pub fn drop_bounding_set(keep: &CapsHashSet) -> Result<(), SetupError> {
    // exercise 1.9 drop-capabilities: drop every capability not in `keep` from the bounding set.
    // hint: the bounding set is a ceiling: a capability dropped from it never comes back, not even through an execve; drop every capability this kernel knows except those in `keep`
    // hint: the caps crate lists the capabilities this kernel supports (its `runtime` module) and drops one capability from one set at a time; for the bounding set that is prctl(PR_CAPBSET_DROP)
    // hint: loop over the supported ones, skip those `keep` contains, and turn a CapsError into SetupError::refused naming the capability
    for cap in caps::runtime::thread_all_supported() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(|e| {
                SetupError::refused("drop capability", Some(cap.to_string()), e.to_string())
            })?;
        }
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: bounding

// ANCHOR: sets
/// Sets effective and permitted to `keep` for root, to nothing for any
/// other user (as Docker does: a non-root user gets capabilities only from
/// file capabilities, within the bounding set), and clears inheritable and
/// ambient so nothing is handed on past `execve` by those routes.
///
/// Effective goes first: the kernel refuses an effective set larger than
/// the permitted one, so permitted can only shrink after effective did.
pub fn apply(keep: &CapsHashSet, is_root: bool) -> Result<(), SetupError> {
    let wanted = if is_root {
        keep.clone()
    } else {
        CapsHashSet::new()
    };
    let fail = |set: &str, e: caps::errors::CapsError| {
        SetupError::refused("set capabilities", Some(set.to_string()), e.to_string())
    };
    caps::set(None, CapSet::Effective, &wanted).map_err(|e| fail("effective", e))?;
    caps::set(None, CapSet::Permitted, &wanted).map_err(|e| fail("permitted", e))?;
    caps::set(None, CapSet::Inheritable, &CapsHashSet::new())
        .map_err(|e| fail("inheritable", e))?;
    caps::clear(None, CapSet::Ambient).map_err(|e| fail("ambient", e))?;
    Ok(())
}
// ANCHOR_END: sets

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_both_spellings_and_refuses_nonsense() {
        let set = parse(&["CAP_CHOWN".into(), "kill".into()]).unwrap();
        assert!(set.contains(&Capability::CAP_CHOWN) && set.contains(&Capability::CAP_KILL));
        assert!(parse(&["CAP_FLY".into()]).unwrap_err().contains("CAP_FLY"));
    }

    /// Exercise 1.9 on its own: the bounding set belongs to a thread, so a thread can drop
    /// its own and read what is left: exactly what it kept.
    #[test]
    fn drop_bounding_set_keeps_only_what_is_asked() {
        minidock_testkit::require_root();
        let keep: CapsHashSet = [Capability::CAP_CHOWN, Capability::CAP_KILL]
            .into_iter()
            .collect();
        let wanted = keep.clone();
        let left = std::thread::spawn(move || {
            drop_bounding_set(&keep).expect("drop_bounding_set");
            caps::read(None, CapSet::Bounding).expect("read the bounding set")
        })
        .join()
        .expect("the thread that dropped its capabilities");
        assert_eq!(
            left, wanted,
            "exercise 1.9 drop-capabilities: the bounding set after drop_bounding_set is not what was kept"
        );
        assert!(
            caps::has_cap(None, CapSet::Bounding, Capability::CAP_SYS_ADMIN).unwrap(),
            "the test's other threads lost a capability"
        );
    }
}
