//! Namespaces: the kernel's way of giving a process its own view of one
//! global resource.
//!
//! A namespace wraps one kind of resource — hostnames (UTS), process ids
//! (PID), mounts, System V IPC, network interfaces, user ids — so that
//! processes inside see only their own copy. `unshare(2)` moves the calling
//! process into new namespaces; children inherit them. A container is
//! nothing more than a process whose namespaces are all new.

use std::os::unix::fs::MetadataExt;

use nix::sched::CloneFlags;

use crate::error::SetupError;
use crate::spec::Namespaces;

// ANCHOR: clone_flags
/// The `CLONE_NEW*` flags for a namespace set. The mount namespace is
/// always included: everything that follows mounts file systems and calls
/// `pivot_root`, which must never happen in the host's mount namespace.
pub fn clone_flags(ns: &Namespaces) -> CloneFlags {
    let mut flags = CloneFlags::CLONE_NEWNS;
    for (wanted, flag) in [
        (ns.makes("uts"), CloneFlags::CLONE_NEWUTS),
        (ns.makes("pid"), CloneFlags::CLONE_NEWPID),
        (ns.makes("ipc"), CloneFlags::CLONE_NEWIPC),
        (ns.makes("net"), CloneFlags::CLONE_NEWNET),
        (ns.user.is_some(), CloneFlags::CLONE_NEWUSER),
    ] {
        if wanted {
            flags |= flag;
        }
    }
    flags
}
// ANCHOR_END: clone_flags

// ANCHOR: unshare
/// Moves this process into new namespaces.
///
/// For UTS, IPC, mount and network the change is immediate: from the next
/// syscall on, `sethostname` or `mount` touch the new copies. A new PID
/// namespace is different: the caller keeps its PID, and only its *next
/// child* is born inside, as PID 1 (see `init::fork_pid1`). When
/// `CLONE_NEWUSER` is among the flags the kernel creates the user namespace
/// first and makes it the owner of the others, so root inside it can
/// administer them.
pub fn unshare_namespaces(ns: &Namespaces) -> Result<(), SetupError> {
    // exercise 1.1 new-namespaces: move this process into the new namespaces the spec asks for.
    // hint: a process enters new namespaces by leaving its own: one system call detaches the caller from the namespaces its flags name (the shell tool of the same name is a wrapper around it)
    // hint: clone_flags(ns) above already turns the spec into CLONE_NEW* flags, all at once; nix wraps the call in its `sched` module
    // hint: the call fails with an Errno: turn it into this crate's error with SetupError::sys, naming the call, and return Ok(()) otherwise
    nix::sched::unshare(clone_flags(ns)).map_err(|e| SetupError::sys("unshare", None, e))?;
    Ok(())
    // end exercise
}
// ANCHOR_END: unshare
// ANCHOR: verify_unshared

/// The identity (inode number of `/proc/self/ns/NAME`) of each namespace
/// this process is in, for the kinds [`verify_unshared`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceIds(Vec<(&'static str, u64)>);

const CHECKED: &[&str] = &["mnt", "uts", "ipc", "net", "user"];

/// Reads the ids of this process's namespaces.
pub fn current_ids() -> Result<NamespaceIds, SetupError> {
    CHECKED
        .iter()
        .map(|name| {
            let path = format!("/proc/self/ns/{name}");
            std::fs::metadata(&path)
                .map(|m| (*name, m.ino()))
                .map_err(|e| SetupError::refused("read namespace", Some(path), e.to_string()))
        })
        .collect::<Result<_, _>>()
        .map(NamespaceIds)
}

/// Fails unless every namespace `ns` asks for really is new since
/// `before`. Everything after this mounts, calls `pivot_root` and sets the
/// hostname: done in the host's namespaces by mistake, that would change
/// the host itself. So it is checked, not assumed.
pub fn verify_unshared(before: &NamespaceIds, ns: &Namespaces) -> Result<(), SetupError> {
    let after = current_ids()?;
    for ((name, old), (_, new)) in before.0.iter().zip(&after.0) {
        let wanted = match *name {
            "mnt" => true,
            "user" => ns.user.is_some(),
            kind => ns.makes(kind),
        };
        if wanted && old == new {
            return Err(SetupError::refused(
                "verify namespaces",
                Some(format!("/proc/self/ns/{name}")),
                "still the host's namespace after unshare; refusing to go on",
            ));
        }
    }
    Ok(())
}
// ANCHOR_END: verify_unshared

// ANCHOR: join_namespaces
/// Joins the namespaces the spec names files of: the network namespace
/// pinned at `ns.net_path`, where the container then finds the interfaces
/// the engine put there (a veth to a bridge, chapter 06) instead of a lone
/// `lo`; another container's PID, IPC or UTS namespace (`--pid
/// container:NAME`). Done before `unshare`, while the helper is still root
/// of the host's namespaces. A joined PID namespace, like a new one, is
/// for children: PID 1's fork is born in it.
pub fn join_namespaces(ns: &Namespaces) -> Result<(), SetupError> {
    for (kind, flag, path) in ns.joined() {
        let shown = || Some(path.display().to_string());
        let file = std::fs::File::open(path).map_err(|e| {
            SetupError::refused(format!("open {kind} namespace"), shown(), e.to_string())
        })?;
        nix::sched::setns(&file, flag)
            .map_err(|e| SetupError::sys(format!("setns({kind})"), shown(), e))?;
    }
    Ok(())
}
// ANCHOR_END: join_namespaces

// ANCHOR: hostname
/// Gives the new UTS namespace its own hostname. The host's is untouched:
/// `sethostname` writes the copy of the namespace the caller is in.
pub fn set_hostname(name: &str) -> Result<(), SetupError> {
    // exercise 1.3 set-hostname: give the container's UTS namespace its own hostname.
    // hint: a UTS namespace holds two names, the hostname and the NIS domain name; `hostname` prints the first, and a new namespace starts with a copy of the host's
    // hint: one system call sets it, for the caller's UTS namespace only; nix wraps it in its `unistd` module, taking the name as it is
    // hint: its error is an Errno: turn it into this crate's error with SetupError::sys, naming the call and the name, and return Ok(()) otherwise
    nix::unistd::sethostname(name)
        .map_err(|e| SetupError::sys("sethostname", Some(name.to_string()), e))?;
    Ok(())
    // end exercise
}
// ANCHOR_END: hostname

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::UserNamespace;

    #[test]
    fn mount_namespace_is_always_new() {
        let none = Namespaces {
            uts: false,
            pid: false,
            ipc: false,
            net: false,
            ..Namespaces::default()
        };
        assert_eq!(clone_flags(&none), CloneFlags::CLONE_NEWNS);
        let all = Namespaces {
            user: Some(UserNamespace::remap(1, 1)),
            ..Namespaces::default()
        };
        assert!(clone_flags(&all).contains(
            CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWUTS
                | CloneFlags::CLONE_NEWPID
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWNET
                | CloneFlags::CLONE_NEWUSER
        ));
    }

    /// Exercise 1.3 on its own, without a container: a thread of its own unshares a UTS
    /// namespace (which only that thread enters), sets the name there and reads it back; the
    /// host's name is unchanged. So this test can tell 1.3 done before 1.1 and 1.2 are.
    #[test]
    fn set_hostname_names_a_fresh_uts_namespace_and_not_the_host() {
        minidock_testkit::require_root();
        let host = nix::unistd::gethostname().expect("gethostname");
        let inside = std::thread::spawn(|| {
            nix::sched::unshare(CloneFlags::CLONE_NEWUTS).expect("unshare(CLONE_NEWUTS)");
            set_hostname("md-guard-1-3").expect("set_hostname");
            nix::unistd::gethostname().expect("gethostname")
        })
        .join()
        .expect("the thread in the new UTS namespace");
        assert_eq!(
            inside, "md-guard-1-3",
            "exercise 1.3 set-hostname: after set_hostname, the namespace's hostname is not the name given"
        );
        assert_eq!(
            nix::unistd::gethostname().expect("gethostname"),
            host,
            "the host's hostname changed: set_hostname must only touch the new namespace"
        );
    }

    /// The inode of each namespace of the calling thread (`/proc/thread-self/ns`), or of the
    /// process's main thread (`/proc/self/ns`).
    fn ids(dir: &str) -> Vec<(&'static str, u64)> {
        use std::os::unix::fs::MetadataExt;
        ["mnt", "uts", "ipc", "net"]
            .into_iter()
            .map(|kind| {
                let path = format!("{dir}/{kind}");
                (kind, std::fs::metadata(&path).expect(&path).ino())
            })
            .collect()
    }

    /// Exercise 1.1 on its own: a thread unshares what a container asks for (every kind but
    /// the user namespace, which a thread cannot enter) and finds itself in new mount, UTS,
    /// IPC and network namespaces, while the test process stays where it was. (The new PID
    /// namespace is for the thread's children: exercise 1.2's test shows it.)
    #[test]
    fn unshare_namespaces_moves_the_caller_into_new_namespaces() {
        minidock_testkit::require_root();
        let host = ids("/proc/self/ns");
        let inside = std::thread::spawn(|| {
            unshare_namespaces(&Namespaces::default()).expect("unshare_namespaces");
            // The copy of the host's mounts is private to the thread: nothing is mounted.
            ids("/proc/thread-self/ns")
        })
        .join()
        .expect("the thread that unshared");
        for ((kind, before), (_, after)) in host.iter().zip(&inside) {
            assert_ne!(
                before, after,
                "exercise 1.1 new-namespaces: after unshare_namespaces the {kind} namespace is still the host's"
            );
        }
        assert_eq!(ids("/proc/self/ns"), host, "the test process itself moved");
    }
}
