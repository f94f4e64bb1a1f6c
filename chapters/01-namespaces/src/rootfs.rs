//! The container's file system: mounts, then `pivot_root`.
//!
//! Everything here runs in the container's new mount namespace, in PID 1,
//! before the command starts. The order matters:
//!
//! 1. make every mount private, so nothing we do propagates to the host;
//! 2. bind-mount the rootfs onto itself, so it is a mount point
//!    (`pivot_root` only accepts mount points), and make it `nodev`;
//! 3. mount `/proc`, `/dev`, `/sys` and the bind mounts *under* the rootfs,
//!    while host paths such as `/dev/null` are still reachable;
//! 4. `pivot_root` into it and detach the old root: from then on the host's
//!    file system is not just hidden but gone from this mount namespace.

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

use crate::devices;
use crate::error::SetupError;
use crate::propagation::{self, Propagation};
use crate::spec::{BindMount, ProcessSpec, TmpfsMount};

/// Every step of [`crate::rootfs`], in order. On return the process's root
/// and working directory are the container's `/`.
pub fn enter(spec: &ProcessSpec) -> Result<(), SetupError> {
    let root = spec.rootfs.as_path();
    match propagation::namespace_mode(spec.mounts.iter().map(|m| m.propagation)) {
        Propagation::Rprivate => make_mounts_private()?,
        // a bind stays linked to the host: receive, never send
        mode => propagation::set_namespace(mode)?,
    }
    bind_rootfs(root)?;
    mount_proc(root)?;
    let dev = mount_point(root, Path::new("/dev"), Kind::Dir)?;
    devices::mount_dev(&dev, spec.namespaces.user.is_some(), &spec.docker)?;
    // Docker leaves /sys writable for a privileged container only.
    mount_sys(root, !spec.docker.host_devices)?;
    mount_volumes(root, spec)?;
    enter_rootfs(root)?;
    if spec.readonly_rootfs {
        // Only the root mount: /proc, /dev, /sys and the binds under it are
        // mounts of their own and keep their modes.
        remount_read_only(Path::new("/"))?;
    }
    Ok(())
}

fn display(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}

// ANCHOR: private
/// `mount --make-rprivate /`: the new mount namespace starts as a copy of
/// the host's, and on most systems (systemd) its mounts are *shared*: a
/// mount made under a shared mount appears on the host too. Turning every
/// mount private cuts that link before we mount anything.
pub fn make_mounts_private() -> Result<(), SetupError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("mount --make-rprivate", Some("/".into()), e))
}

/// Bind-mounts the rootfs onto itself: a plain directory becomes a mount
/// point, which `pivot_root` requires. Then makes it `nodev`: see
/// [`remount_nodev`].
pub fn bind_rootfs(rootfs: &Path) -> Result<(), SetupError> {
    mount(
        Some(rootfs),
        rootfs,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("bind rootfs", display(rootfs), e))?;
    remount_nodev(rootfs)
}
// ANCHOR_END: private

// ANCHOR: nodev
/// Makes a mount `nodev`: device nodes on it cannot be opened.
///
/// The container keeps `CAP_MKNOD` (Docker grants it), so root inside can
/// `mknod /x b 8 0` and create a node for the host's first disk. What keeps
/// it from *opening* that node? Docker and runc use the device cgroup: a
/// list of allowed major:minor pairs (cgroup v1), or an eBPF program
/// attached to the cgroup (v2). minidock takes a simpler road that works
/// the same on both: every file system the container can write to — its
/// root, `/dev`, bind mounts — is mounted `nodev`. The only devices it can
/// open are the ones [`crate::devices`] bind-mounts from the host's `/dev`
/// (each such bind is a mount of its own, without `nodev`) and the
/// terminals of its private `devpts`. Without `CAP_SYS_ADMIN` the container
/// cannot remount anything to lift the flag.
pub fn remount_nodev(target: &Path) -> Result<(), SetupError> {
    remount_adding(target, MsFlags::MS_NODEV, "remount nodev")
}
// ANCHOR_END: nodev

/// What kind of mount point to create when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory: the mount point of a directory bind or a tmpfs.
    Dir,
    /// An empty file: a bind of one file (`/etc/hosts`, a device node) needs a file to cover.
    File,
}

// ANCHOR: mount_point
/// The host path of `dest` inside `rootfs`, created if missing.
///
/// The rootfs comes from an image, and an image may hold a symlink such as
/// `proc -> /` or `etc -> /host/etc`. Mounting "on `rootfs/proc`" would then
/// follow it and mount over a *host* directory. So every component is
/// checked with `lstat`, and a symlink refuses the start. (A production
/// runtime resolves with `openat2(RESOLVE_IN_ROOT)` and mounts through a
/// file descriptor, which also closes the race between check and use.)
pub fn mount_point(rootfs: &Path, dest: &Path, kind: Kind) -> Result<PathBuf, SetupError> {
    let refuse =
        |why: &str| SetupError::refused("mount point", Some(dest.display().to_string()), why);
    if !dest.is_absolute() {
        return Err(refuse("must be an absolute path inside the container"));
    }
    let parts: Vec<_> = dest.components().skip(1).collect();
    let mut path = rootfs.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else {
            return Err(refuse("must not contain `..` or `.`"));
        };
        path.push(name);
        let last = i + 1 == parts.len();
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(refuse(&format!(
                    "{} is a symlink in the rootfs; refusing to mount through it",
                    path.display()
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let made = if last && kind == Kind::File {
                    fs::File::create(&path).map(drop)
                } else {
                    fs::create_dir(&path)
                };
                made.map_err(|e| {
                    SetupError::refused("create mount point", display(&path), e.to_string())
                })?;
            }
            Err(e) => {
                return Err(SetupError::refused("lstat", display(&path), e.to_string()));
            }
        }
    }
    Ok(path)
}
// ANCHOR_END: mount_point

// ANCHOR: proc
/// Mounts a fresh `proc` on the rootfs's `/proc`.
///
/// procfs shows the processes of the PID namespace of the process that
/// mounts it — this is why it is done here in PID 1 and not in the helper,
/// which still lives in the host's PID namespace. `nosuid,noexec,nodev`:
/// nothing under `/proc` should ever be executed or act as a device.
pub fn mount_proc(rootfs: &Path) -> Result<(), SetupError> {
    // exercise 1.5 mount-proc: mount a new procfs on /proc inside the rootfs, nosuid, noexec, nodev.
    // hint: procfs has no device behind it: each mount is a fresh view made by the kernel, showing the PID namespace of whoever mounts it, which is why PID 1 mounts it here
    // hint: first the place: this file's mount_point, asked for a directory (Kind::Dir), gives the path inside the rootfs and refuses a symlink; then one mount call from nix::mount, with "proc" as both source and file system type
    // hint: the three options of the task are MsFlags, or'ed together, and there is no data; mount_sys below has the same shape; the Errno becomes a SetupError naming the step and the path
    let target = mount_point(rootfs, Path::new("/proc"), Kind::Dir)?;
    mount(
        Some("proc"),
        &target,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("mount proc", display(&target), e))?;
    Ok(())
    // end exercise
}
// ANCHOR_END: proc

// ANCHOR: mount_sys
/// Mounts `sysfs` on `/sys`, read-only unless told. sysfs shows the network
/// devices of the mounter's network namespace, so in a new one only `lo`
/// appears.
pub fn mount_sys(rootfs: &Path, read_only: bool) -> Result<(), SetupError> {
    let target = mount_point(rootfs, Path::new("/sys"), Kind::Dir)?;
    let ro = if read_only {
        MsFlags::MS_RDONLY
    } else {
        MsFlags::empty()
    };
    mount(
        Some("sysfs"),
        &target,
        Some("sysfs"),
        ro | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("mount sysfs", display(&target), e))
}

// ANCHOR_END: mount_sys
// ANCHOR: bind_mount
/// A host file or directory made visible inside the container
/// (`docker run -v /host:/ctr[:ro]`), with the propagation it asked for.
pub fn bind_mount(rootfs: &Path, m: &BindMount) -> Result<(), SetupError> {
    let meta = fs::metadata(&m.source)
        .map_err(|e| SetupError::refused("bind mount source", display(&m.source), e.to_string()))?;
    let kind = if meta.is_dir() { Kind::Dir } else { Kind::File };
    let target = mount_point(rootfs, &m.destination, kind)?;
    mount(
        Some(&m.source),
        &target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("bind mount", display(&target), e))?;
    let flags = if m.read_only {
        MsFlags::MS_NODEV | MsFlags::MS_RDONLY
    } else {
        MsFlags::MS_NODEV
    };
    remount_adding(&target, flags, "remount bind mount")?;
    propagation::apply(&target, m.propagation)
}
// ANCHOR_END: bind_mount

// ANCHOR: mount_volumes
/// The bind mounts and tmpfs mounts of `spec`, shallow destinations first:
/// `/data` must be mounted before `/data/cache`, or the second would be
/// hidden under the first, whatever kind each one is.
pub fn mount_volumes(rootfs: &Path, spec: &ProcessSpec) -> Result<(), SetupError> {
    enum One<'a> {
        Bind(&'a BindMount),
        Tmpfs(&'a TmpfsMount),
    }
    let mut all: Vec<(usize, One)> = spec
        .mounts
        .iter()
        .map(|m| (m.destination.components().count(), One::Bind(m)))
        .chain(
            spec.tmpfs
                .iter()
                .map(|t| (t.destination.components().count(), One::Tmpfs(t))),
        )
        .collect();
    // stable: mounts at the same depth keep the order they were given in
    all.sort_by_key(|(depth, _)| *depth);
    for (_, one) in all {
        match one {
            One::Bind(m) => bind_mount(rootfs, m)?,
            One::Tmpfs(t) => mount_tmpfs(rootfs, t)?,
        }
    }
    Ok(())
}

// ANCHOR_END: mount_volumes
// ANCHOR: tmpfs
/// A fresh tmpfs at `t.destination` (`docker run --tmpfs /run:size=64m`).
/// Its pages live in memory and count against the container's memory
/// cgroup; `size=` caps it, so a full tmpfs answers ENOSPC.
pub fn mount_tmpfs(rootfs: &Path, t: &TmpfsMount) -> Result<(), SetupError> {
    let target = mount_point(rootfs, &t.destination, Kind::Dir)?;
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    if t.noexec {
        flags |= MsFlags::MS_NOEXEC;
    }
    if t.read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    let data = (!t.data.is_empty()).then_some(t.data.as_str());
    mount(Some("tmpfs"), &target, Some("tmpfs"), flags, data)
        .map_err(|e| SetupError::sys("mount tmpfs", display(&target), e))
}
// ANCHOR_END: tmpfs
// ANCHOR: remount

/// Makes an existing bind mount read-only. A bind mount cannot be made
/// read-only in the same `mount` call that creates it: the kernel ignores
/// `MS_RDONLY` there, so it takes a second, `MS_REMOUNT` call. That call
/// must repeat the flags the mount already has (`nosuid`, `nodev`, …),
/// because in a user namespace the kernel refuses to clear them.
pub fn remount_read_only(target: &Path) -> Result<(), SetupError> {
    remount_adding(target, MsFlags::MS_RDONLY, "remount read-only")
}

/// Remounts the bind mount at `target` with `add` on top of the flags it
/// already has (see [`remount_read_only`] for why they are repeated).
fn remount_adding(target: &Path, add: MsFlags, step: &'static str) -> Result<(), SetupError> {
    let have = statvfs(target)
        .map_err(|e| SetupError::sys("statvfs", display(target), e))?
        .flags();
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | add;
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if have.contains(st) {
            flags |= ms;
        }
    }
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
        .map_err(|e| SetupError::sys(step, display(target), e))
}

// ANCHOR_END: remount
// ANCHOR: pivot_root
/// Makes `rootfs` the root of this mount namespace and detaches the old one.
///
/// `pivot_root(new_root, put_old)` swaps the root mount: `new_root` becomes
/// `/` and the old root is moved to `put_old`. Passing `"."` for both (from
/// inside `new_root`) stacks the old root on top of the new one at `/`,
/// where `umount2(".", MNT_DETACH)` removes it; no `put_old` directory has to
/// exist, so a read-only rootfs works too (runc does the same).
///
/// Why not `chroot`? `chroot` only changes how *this process* resolves `/`;
/// the host's root stays mounted in the namespace, and a process with
/// `CAP_SYS_CHROOT` can climb back out (tests/escape.rs shows it). After
/// `pivot_root` and the detach, the host's file system is not mounted in
/// this namespace at all: there is nothing left to escape to.
pub fn enter_rootfs(rootfs: &Path) -> Result<(), SetupError> {
    // exercise 1.7 pivot-root: make the rootfs the root of the mount namespace and detach the host's root.
    // hint: pivot_root(2) swaps the root mount of this namespace for another mount (enter bind-mounted the rootfs onto itself for this); it does not change the working directory, and its NOTES describe a form that needs no put_old directory
    // hint: in that form you stand inside the new root (change the working directory there first) and pass "." for both arguments: the old root ends up stacked on top of the new one at "/"
    // hint: peel the old root off with a lazy (MNT_DETACH) unmount of ".", then make "/" the working directory; nix has these calls in `unistd` and `mount`; each Errno becomes a SetupError naming its step
    use nix::mount::{umount2, MntFlags};
    use nix::unistd::{chdir, pivot_root};
    chdir(rootfs).map_err(|e| SetupError::sys("chdir", display(rootfs), e))?;
    pivot_root(".", ".").map_err(|e| SetupError::sys("pivot_root", display(rootfs), e))?;
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(|e| SetupError::sys("umount2 old root", Some("/".into()), e))?;
    chdir("/").map_err(|e| SetupError::sys("chdir", Some("/".into()), e))?;
    Ok(())
    // end exercise
}
// ANCHOR_END: pivot_root

/// True when `path` is a character device with the given major:minor.
pub fn is_char_device(path: &Path, major: u64, minor: u64) -> bool {
    match fs::metadata(path) {
        Ok(meta) if meta.file_type().is_char_device() => {
            use std::os::unix::fs::MetadataExt;
            let rdev = meta.rdev();
            nix::sys::stat::major(rdev) == major && nix::sys::stat::minor(rdev) == minor
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_point_creates_dirs_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = mount_point(dir.path(), Path::new("/a/b/c"), Kind::File).unwrap();
        assert_eq!(p, dir.path().join("a/b/c"));
        assert!(p.is_file());
        assert!(dir.path().join("a/b").is_dir());
    }

    #[test]
    fn mount_point_refuses_symlinks_and_dotdot() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("proc")).unwrap();
        let e = mount_point(dir.path(), Path::new("/proc"), Kind::Dir).unwrap_err();
        assert!(e.to_string().contains("is a symlink"), "{e}");
        let e = mount_point(dir.path(), Path::new("/x/../y"), Kind::Dir).unwrap_err();
        assert!(e.to_string().contains(".."), "{e}");
        let e = mount_point(dir.path(), Path::new("rel"), Kind::Dir).unwrap_err();
        assert!(e.to_string().contains("absolute"), "{e}");
    }

    #[test]
    fn dev_null_is_the_null_device() {
        assert!(is_char_device(Path::new("/dev/null"), 1, 3));
        assert!(!is_char_device(Path::new("/dev/zero"), 1, 3));
        assert!(!is_char_device(Path::new("/"), 1, 3));
    }

    use minidock_testkit::solo::{in_new_namespaces, mount_of};
    use nix::sched::CloneFlags;

    /// Exercise 1.5 on its own: in a thread's private mount namespace, mount_proc mounts a
    /// procfs on the rootfs's /proc with nosuid, nodev and noexec.
    #[test]
    fn mount_proc_mounts_a_procfs_nosuid_nodev_noexec() {
        minidock_testkit::require_root();
        let root = tempfile::tempdir().unwrap();
        let rootfs = root.path().to_path_buf();
        let (fstype, options, has_self) = in_new_namespaces(CloneFlags::CLONE_NEWNS, move || {
            mount_proc(&rootfs).expect("mount_proc");
            let proc = rootfs.join("proc");
            let (fstype, options) = mount_of(&proc).expect(
                "exercise 1.5 mount-proc: after mount_proc, the rootfs's /proc is not a mount point",
            );
            (fstype, options, proc.join("self/status").exists())
        });
        assert_eq!(
            fstype, "proc",
            "exercise 1.5 mount-proc: /proc holds a {fstype} mount"
        );
        assert!(has_self, "the new /proc has no self/status");
        for flag in ["nosuid", "nodev", "noexec"] {
            assert!(
                options.split(',').any(|o| o == flag),
                "exercise 1.5 mount-proc: /proc is mounted without {flag} ({options})"
            );
        }
    }

    /// Exercise 1.7 on its own: in a thread's private mount namespace, enter_rootfs makes a
    /// directory (bind-mounted onto itself, as enter does) the thread's `/`, and the host's
    /// files are gone from its view — not only hidden: the chroot escape of tests/escape.rs,
    /// in miniature, climbs no higher than the rootfs, so a `chroot` in place of `pivot_root`
    /// fails here too, before the whole chapter can run a container.
    #[test]
    fn enter_rootfs_makes_the_rootfs_the_root() {
        minidock_testkit::require_root();
        let root = tempfile::tempdir().unwrap();
        let rootfs = root.path().to_path_buf();
        std::fs::write(rootfs.join("only-in-the-rootfs"), "x").unwrap();
        let (entries, cwd, top) = in_new_namespaces(CloneFlags::CLONE_NEWNS, move || {
            nix::mount::mount(
                Some(&rootfs),
                &rootfs,
                None::<&str>,
                nix::mount::MsFlags::MS_BIND,
                None::<&str>,
            )
            .expect("bind the rootfs onto itself");
            enter_rootfs(&rootfs).expect("enter_rootfs");
            let mut entries: Vec<String> = fs::read_dir("/")
                .expect("read /")
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            entries.sort();
            let cwd = std::env::current_dir().expect("getcwd");
            // chroot into a directory without entering it, climb, take the top as root.
            fs::create_dir("/climb").expect("mkdir /climb");
            nix::unistd::chroot("/climb").expect("chroot /climb");
            for _ in 0..64 {
                nix::unistd::chdir("..").expect("chdir ..");
            }
            nix::unistd::chroot(".").expect("chroot .");
            let mut top: Vec<String> = fs::read_dir("/")
                .expect("read / after the climb")
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            top.sort();
            (entries, cwd, top)
        });
        assert_eq!(
            top,
            ["climb", "only-in-the-rootfs"],
            "exercise 1.7 pivot-root: a chroot escape from the new root climbed out of it: the \
             host's root is still mounted in this mount namespace (pivot_root into the rootfs, \
             then detach the old root; chroot alone is not enough)"
        );
        assert_eq!(
            entries,
            ["only-in-the-rootfs"],
            "exercise 1.7 pivot-root: after enter_rootfs, / is not the rootfs"
        );
        assert_eq!(
            cwd,
            Path::new("/"),
            "exercise 1.7 pivot-root: the working directory is not /"
        );
    }
}
