//! `/dev`: a small, fresh set of devices instead of the host's.
//!
//! The host's `/dev` holds its disks (`/dev/sda`), memory (`/dev/mem`) and
//! every terminal. A container gets a new tmpfs with only the harmless
//! devices programs expect: `null`, `zero`, `full`, `random`, `urandom`,
//! `tty`, a private pseudo-terminal instance, and shared-memory and
//! message-queue mounts.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use crate::compat::{DockerProcess, Shm};
use crate::error::SetupError;

/// The device nodes every container gets (Docker's default list, less
/// `console`, which only exists with a terminal).
pub const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

fn display(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}

// ANCHOR: mount_dev_tmpfs
/// Mounts the container's `/dev` on `dev`, its mount point inside the
/// root (made by [`crate::rootfs`], which resolves it safely): a tmpfs (`nosuid`,
/// `nodev`, mode 755) holding [`DEVICES`], `pts`, `ptmx`, `shm`, `mqueue`
/// and the `fd`/`stdin`/`stdout`/`stderr` symlinks. `nodev` on the tmpfs
/// itself: a node someone `mknod`s there cannot be opened; the ones bound
/// from the host are mounts of their own and work (see
/// [`crate::rootfs::remount_nodev`]).
///
/// `docker` carries Docker's options beyond the lesson: with
/// `host_devices` (`--privileged`) the tmpfs is not `nodev` and gets every
/// device node of the host's; `shm` sizes `/dev/shm` or binds another's.
pub fn mount_dev(
    dev: &Path,
    in_user_namespace: bool,
    docker: &DockerProcess,
) -> Result<(), SetupError> {
    let nodev = if docker.host_devices {
        MsFlags::empty()
    } else {
        MsFlags::MS_NODEV
    };
    mount(
        Some("tmpfs"),
        dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | nodev | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .map_err(|e| SetupError::sys("mount tmpfs", display(dev), e))?;

    create_device_nodes(dev)?;

    // ANCHOR_END: mount_dev_tmpfs
    // ANCHOR: mount_dev_pts
    // A private devpts instance: the container's terminals are numbered
    // from 0 and it cannot see the host's. `ptmx` opens new ones. The tty
    // group (gid 5) only exists when host gids are not remapped.
    let pts = dev.join("pts");
    make_dir(&pts)?;
    let pts_options = if in_user_namespace {
        "newinstance,ptmxmode=0666,mode=0620"
    } else {
        "newinstance,ptmxmode=0666,mode=0620,gid=5"
    };
    mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(pts_options),
    )
    .map_err(|e| SetupError::sys("mount devpts", display(&pts), e))?;
    make_symlink("pts/ptmx", &dev.join("ptmx"))?;

    // ANCHOR_END: mount_dev_pts
    // ANCHOR: mount_dev_shm
    // POSIX shared memory lives in /dev/shm, message queues in /dev/mqueue
    // (which shows the queues of the container's IPC namespace).
    let shm = dev.join("shm");
    make_dir(&shm)?;
    match &docker.shm {
        Shm::Tmpfs { size } => mount(
            Some("shm"),
            &shm,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some(format!("mode=1777,size={size}").as_str()),
        )
        .map_err(|e| SetupError::sys("mount tmpfs", display(&shm), e))?,
        Shm::Bind(source) => mount(
            Some(source),
            &shm,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| SetupError::sys("bind /dev/shm", display(source), e))?,
        Shm::OfProcess(_) => crate::compat::shm::attach_cloned_shm(&shm)?,
    }
    let mqueue = dev.join("mqueue");
    make_dir(&mqueue)?;
    mount(
        Some("mqueue"),
        &mqueue,
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("mount mqueue", display(&mqueue), e))?;

    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        make_symlink(target, &dev.join(link))?;
    }
    if docker.host_devices {
        // Last: the names made above are kept.
        crate::compat::host_devices::add_all(Path::new("/dev"), dev)?;
    }
    Ok(())
}
// ANCHOR_END: mount_dev_shm

// ANCHOR: nodes
/// Creates each of [`DEVICES`] in `dev` by bind-mounting the host's node
/// onto an empty file.
///
/// `mknod` would work for root, but not in a user namespace, where the
/// kernel refuses to create device nodes; a bind mount of the host's node
/// works in both cases (runc does the same in user namespaces). These
/// binds are the only device nodes the container can open: everything it
/// can write to is `nodev` ([`crate::rootfs::remount_nodev`]).
pub fn create_device_nodes(dev: &Path) -> Result<(), SetupError> {
    // exercise 1.6 dev-nodes: make /dev/null, zero, full, random, urandom and tty exist in the new /dev.
    // hint: a device node is a special file whose open reaches a driver; the container gets the host's own nodes, not new ones: mknod is refused in a user namespace, a bind mount works everywhere
    // hint: a bind mount needs a mount point of the same kind as its source: for a node, an empty regular file named after it in `dev`, one for each name in DEVICES
    // hint: then one mount call per name: the host's node under /dev as source, no file system type, MS_BIND and no data; each error becomes a SetupError naming the path
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        let target = dev.join(name);
        fs::File::create(&target).map_err(|e| {
            SetupError::refused("create device node", display(&target), e.to_string())
        })?;
        mount(
            Some(&host),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| SetupError::sys("bind device", display(&host), e))?;
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: nodes

fn make_dir(path: &Path) -> Result<(), SetupError> {
    fs::create_dir(path).map_err(|e| SetupError::refused("mkdir", display(path), e.to_string()))
}

fn make_symlink(target: &str, link: &Path) -> Result<(), SetupError> {
    symlink(target, link).map_err(|e| SetupError::refused("symlink", display(link), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{Read, Write};
    use std::os::unix::fs::MetadataExt;

    /// Exercise 1.6 on its own: in a thread's private mount namespace, each node made in an
    /// empty dev directory is the host's device (same major:minor), and works: /dev/null
    /// swallows, /dev/zero gives zeros.
    #[test]
    fn create_device_nodes_gives_the_hosts_devices() {
        minidock_testkit::require_root();
        let root = tempfile::tempdir().unwrap();
        let dev = root.path().to_path_buf();
        let (nodes, zeros) = minidock_testkit::solo::in_new_namespaces(
            nix::sched::CloneFlags::CLONE_NEWNS,
            move || {
                create_device_nodes(&dev).expect("create_device_nodes");
                let nodes: Vec<(String, bool)> = DEVICES
                    .iter()
                    .map(|name| {
                        let ours = fs::metadata(dev.join(name)).ok();
                        let host = fs::metadata(Path::new("/dev").join(name)).unwrap();
                        let same = ours.is_some_and(|m| {
                            use std::os::unix::fs::FileTypeExt;
                            m.file_type().is_char_device() && m.rdev() == host.rdev()
                        });
                        (name.to_string(), same)
                    })
                    .collect();
                let mut null = fs::OpenOptions::new()
                    .write(true)
                    .open(dev.join("null"))
                    .unwrap();
                null.write_all(b"gone").expect("write to the new /dev/null");
                let mut zeros = [1u8; 4];
                fs::File::open(dev.join("zero"))
                    .and_then(|mut f| f.read_exact(&mut zeros))
                    .expect("read the new /dev/zero");
                (nodes, zeros)
            },
        );
        for (name, same) in nodes {
            assert!(
                same,
                "exercise 1.6 dev-nodes: dev/{name} is not the host's /dev/{name} character device"
            );
        }
        assert_eq!(zeros, [0; 4], "dev/zero does not read zeros");
    }
}
