//! A container's root file system: the image's layers under an overlay.
//!
//! overlayfs stacks read-only *lower* directories (the image's layers, top
//! first) under one writable *upper* directory (the container's own), and
//! shows their union at a *merged* mount point:
//!
//! - reading a file finds it in the highest layer that has it;
//! - writing a lower file first copies it up into the upper directory
//!   (copy-on-write), so the layers themselves never change;
//! - deleting a lower file puts a whiteout (a 0/0 character device) in the
//!   upper directory, which hides it.
//!
//! So any number of containers share one copy of each layer, and starting a
//! container costs one mount, not a copy of the image.
//!
//! ```text
//! CONTAINER_DIR/upper    the container's changes
//!               work     overlayfs' scratch space (same file system as upper)
//!               merged   the mount point: the container's `/`
//! ```

use std::ffi::{CStr, CString};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::store::{Image, Store};

mod mountinfo;
use mountinfo::is_overlay_mount;

/// A mounted overlay root file system.
///
/// Dropping a `Rootfs` does **not** unmount it: a container's root file
/// system lives as long as the container, longer than any one process that
/// handles it. Call [`Rootfs::unmount`], or [`unmount_rootfs`] with the
/// container directory.
#[derive(Debug)]
pub struct Rootfs {
    container_dir: PathBuf,
    merged: PathBuf,
}

/// How to hand the list of layers to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountMethod {
    /// The new mount API when the kernel supports `lowerdir+` (Linux 6.8),
    /// else the classic `mount(2)`.
    Auto,
    /// `fsopen`/`fsconfig("lowerdir+")`/`fsmount`: one layer per call, so
    /// no limit on the number of layers but the kernel's (500).
    NewApi,
    /// `mount(2)` with one option string. It must fit in a page (4096
    /// bytes); when it does not, short symlinks and relative paths are used
    /// from a child process that changed its working directory.
    Legacy,
}

// ANCHOR: volatile
/// How an overlay treats its upper directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Upper {
    /// Flushed to disk when the overlay is unmounted: the container's
    /// changes survive a crash of the host.
    #[default]
    Durable,
    /// overlayfs' `volatile` option: the overlay never flushes its upper
    /// directory, not at unmount and not for a `sync` or an `fsync` inside.
    /// For a container removed at its exit (`run --rm`), whose changes no
    /// one reads after a crash: unmounting a durable overlay runs a
    /// `syncfs` of the whole host file system, which on a busy host takes
    /// longer than the container's whole run. The kernel refuses to mount
    /// a volatile upper again (it cannot know it is whole); mounting one
    /// volatile again says it does not care.
    Volatile,
}
// ANCHOR_END: volatile

impl Rootfs {
    /// Mounts the root file system of a container of `image` in
    /// `container_dir` (creating `upper`, `work` and `merged` there).
    pub fn mount(store: &Store, image: &Image, container_dir: &Path) -> Result<Rootfs> {
        Rootfs::mount_with(store, image, container_dir, Upper::Durable)
    }

    /// [`Rootfs::mount`] with an upper directory that is `upper`.
    pub fn mount_with(
        store: &Store,
        image: &Image,
        container_dir: &Path,
        upper: Upper,
    ) -> Result<Rootfs> {
        let layers = image.layer_dirs(store);
        for (dir, diff_id) in layers.iter().zip(&image.layers) {
            if !dir.is_dir() {
                return Err(Error::BadLayer {
                    layer: diff_id.clone(),
                    reason: format!(
                        "layer of image {} is not unpacked in {}",
                        image.id,
                        dir.display()
                    ),
                });
            }
        }
        Rootfs::mount_layers_with(&layers, container_dir, MountMethod::Auto, upper)
    }

    // ANCHOR: mount_layers
    /// Mounts an overlay of `layers` (bottom layer first) with its upper,
    /// work and merged directories in `container_dir`. If the merged
    /// directory is already an overlay mount (say, after a daemon restart),
    /// that mount is returned as it is.
    pub fn mount_layers(
        layers: &[PathBuf],
        container_dir: &Path,
        method: MountMethod,
    ) -> Result<Rootfs> {
        Rootfs::mount_layers_with(layers, container_dir, method, Upper::Durable)
    }

    /// [`Rootfs::mount_layers`] with an upper directory that is `upper`.
    pub fn mount_layers_with(
        layers: &[PathBuf],
        container_dir: &Path,
        method: MountMethod,
        upper_kind: Upper,
    ) -> Result<Rootfs> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true).mode(0o755);
        for dir in ["upper", "work", "merged"] {
            let dir = container_dir.join(dir);
            builder.create(&dir).ctx("create directory", &dir)?;
        }
        let container_dir =
            fs::canonicalize(container_dir).ctx("resolve container directory", container_dir)?;
        let rootfs = Rootfs {
            merged: container_dir.join("merged"),
            container_dir,
        };
        if is_overlay_mount(&rootfs.merged)? {
            return Ok(rootfs);
        }
        let mut layers: Vec<PathBuf> = layers.to_vec();
        if layers.is_empty() {
            // overlayfs needs a lower directory: an image without layers
            // (FROM scratch with nothing added) gets an empty one.
            let empty = rootfs.container_dir.join("empty");
            builder.create(&empty).ctx("create directory", &empty)?;
            layers.push(empty);
        }
        let upper = rootfs.container_dir.join("upper");
        let work = rootfs.container_dir.join("work");
        let volatile = upper_kind == Upper::Volatile;
        if volatile {
            // An earlier volatile mount of these directories left its mark
            // (a host that went down under it): mounting one volatile
            // again accepts whatever upper it left.
            let mark = work.join("work").join("incompat");
            match fs::remove_dir_all(&mark) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).ctx("remove the volatile mark", &mark)
                }
                _ => {}
            }
        }
        let use_new_api = match method {
            MountMethod::NewApi => true,
            MountMethod::Legacy => false,
            MountMethod::Auto => new_api_has_lowerdir_plus(),
        };
        if use_new_api {
            mount_new_api(&layers, &upper, &work, &rootfs.merged, volatile)?;
        } else {
            mount_legacy(&layers, &rootfs.container_dir, &rootfs.merged, volatile)?;
        }
        Ok(rootfs)
    }
    // ANCHOR_END: mount_layers

    /// The merged directory: the container's `/`.
    pub fn path(&self) -> &Path {
        &self.merged
    }

    /// The container directory holding upper, work and merged.
    pub fn container_dir(&self) -> &Path {
        &self.container_dir
    }

    /// The upper directory: everything the container changed.
    pub fn upper(&self) -> PathBuf {
        self.container_dir.join("upper")
    }

    /// Unmounts the overlay.
    pub fn unmount(self) -> Result<()> {
        unmount_rootfs(&self.container_dir)
    }
}

// ANCHOR: unmount_rootfs
/// Unmounts the overlay of a container directory, if it is mounted (so it
/// can be called for cleanup after a crash or restart without knowing).
/// Only an overlay mount on `CONTAINER_DIR/merged` is ever unmounted.
pub fn unmount_rootfs(container_dir: &Path) -> Result<()> {
    let merged = container_dir.join("merged");
    let merged = match fs::canonicalize(&merged) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).ctx("resolve merged directory", merged),
    };
    while is_overlay_mount(&merged)? {
        match nix::mount::umount2(&merged, nix::mount::MntFlags::empty()) {
            Ok(()) => {}
            // Still in use by some process: detach it now, the kernel frees
            // it when the last user is gone.
            Err(nix::errno::Errno::EBUSY) => {
                nix::mount::umount2(&merged, nix::mount::MntFlags::MNT_DETACH).map_err(|e| {
                    Error::Mount {
                        op: "unmount",
                        path: merged.clone(),
                        source: e.into(),
                    }
                })?
            }
            Err(e) => {
                return Err(Error::Mount {
                    op: "unmount",
                    path: merged,
                    source: e.into(),
                })
            }
        }
    }
    Ok(())
}
// ANCHOR_END: unmount_rootfs

fn cstring(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::Mount {
        op: "mount",
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"),
    })
}

// The new mount API (linux/mount.h).
const FSOPEN_CLOEXEC: libc::c_uint = 1;
#[allow(dead_code)] // used by exercise 2.6 alone
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
#[allow(dead_code)] // used by exercise 2.6 alone
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
#[allow(dead_code)] // used by exercise 2.6 alone
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
#[allow(dead_code)] // used by exercise 2.6 alone
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

// ANCHOR: fs_context_open
/// A file-system context of the new mount API.
struct FsContext {
    fd: OwnedFd,
}

impl FsContext {
    fn open(fs_type: &CStr) -> io::Result<FsContext> {
        // SAFETY: fsopen reads a NUL-terminated string; returns an fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_fsopen, fs_type.as_ptr(), FSOPEN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(FsContext {
            // SAFETY: a fresh fd from the kernel, owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd as i32) },
        })
    }

    /// `fsconfig(FSCONFIG_SET_STRING, key, value)`.
    fn set(&self, key: &CStr, value: &CStr) -> io::Result<()> {
        // SAFETY: fsconfig reads two NUL-terminated strings alive for the call.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_SET_STRING,
                key.as_ptr(),
                value.as_ptr(),
                0,
            )
        };
        if rc < 0 {
            return Err(self.explain(io::Error::last_os_error()));
        }
        Ok(())
    }
    // ANCHOR_END: fs_context_open

    /// `fsconfig(FSCONFIG_SET_FLAG, key)`: an option without a value.
    #[allow(dead_code)] // used by exercise 2.6 alone: after `start`, a building block for yours
    fn set_flag(&self, key: &CStr) -> io::Result<()> {
        // SAFETY: fsconfig reads one NUL-terminated string alive for the
        // call; a flag takes no value (NULL).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_SET_FLAG,
                key.as_ptr(),
                std::ptr::null::<libc::c_char>(),
                0,
            )
        };
        if rc < 0 {
            return Err(self.explain(io::Error::last_os_error()));
        }
        Ok(())
    }

    // ANCHOR: fs_context_create
    /// Creates the superblock and returns a detached mount of it.
    #[allow(dead_code)] // used by exercise 2.6 alone: after `start`, a building block for yours
    fn create_and_mount(&self) -> io::Result<OwnedFd> {
        // SAFETY: FSCONFIG_CMD_CREATE takes no pointers (both NULL).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_void>(),
                0,
            )
        };
        if rc < 0 {
            return Err(self.explain(io::Error::last_os_error()));
        }
        // SAFETY: fsmount takes the context fd and flags; returns an fd or -1.
        let fd =
            unsafe { libc::syscall(libc::SYS_fsmount, self.fd.as_raw_fd(), FSMOUNT_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd from the kernel, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    // ANCHOR_END: fs_context_create
    // ANCHOR: fs_context_explain
    /// The kernel explains a failed fsconfig in a message log readable from
    /// the context fd; add it to the error.
    fn explain(&self, e: io::Error) -> io::Error {
        let mut buf = [0u8; 1024];
        let mut messages = Vec::new();
        // Each read returns one message, until ENODATA.
        for _ in 0..8 {
            match (&File::from(self.fd.try_clone().expect("dup fs context fd"))).read(&mut buf) {
                Ok(n) if n > 0 => {
                    messages.push(String::from_utf8_lossy(&buf[..n]).trim().to_string())
                }
                _ => break,
            }
        }
        if messages.is_empty() {
            e
        } else {
            io::Error::new(e.kind(), format!("{e} ({})", messages.join("; ")))
        }
    }
    // ANCHOR_END: fs_context_explain
}

/// Whether the kernel takes overlay lower directories one by one with
/// `lowerdir+` (Linux 6.8+). Probed on a context that is never mounted.
fn new_api_has_lowerdir_plus() -> bool {
    static PROBE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PROBE.get_or_init(probe_lowerdir_plus)
}

fn probe_lowerdir_plus() -> bool {
    let Ok(ctx) = FsContext::open(c"overlay") else {
        return false;
    };
    // A missing directory gives ENOENT if the key is known, EINVAL if not.
    // Success means it was not checked at all: before Linux 6.5 overlayfs
    // has no fsconfig parser, and the kernel's fallback stores any key in
    // an option string that the mount then rejects (EINVAL, seen on 6.1).
    match ctx.set(c"lowerdir+", c"/nonexistent/minidock-probe") {
        Err(e) => e.raw_os_error() == Some(libc::ENOENT),
        Ok(()) => false,
    }
}

// ANCHOR: overlay_mount
/// Mounts an overlay with the new mount API: each lower layer is passed in
/// its own `fsconfig` call, so the number of layers is not limited by the
/// length of an option string. `volatile`: see [`Upper::Volatile`].
fn mount_new_api(
    layers: &[PathBuf],
    upper: &Path,
    work: &Path,
    merged: &Path,
    volatile: bool,
) -> Result<()> {
    let err = |op: &'static str| {
        move |source: io::Error| Error::Mount {
            op,
            path: merged.to_path_buf(),
            source,
        }
    };
    // exercise 2.6 overlay-mount: mount an overlay of `layers` (bottom first) at `merged`.
    // hint: overlayfs wants the lower directories top layer first: iterate layers in reverse
    // hint: FsContext::open(c"overlay"), ctx.set(c"lowerdir+", dir) per layer, then upperdir and workdir
    // hint: a volatile overlay also gets the flag "volatile" (ctx.set_flag), before the mount is created
    // hint: ctx.create_and_mount() gives a detached mount; move_mount(fd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) attaches it
    let ctx = FsContext::open(c"overlay").map_err(err("open overlay context for"))?;
    for layer in layers.iter().rev() {
        ctx.set(c"lowerdir+", &cstring(layer)?)
            .map_err(err("add lower layer to"))?;
    }
    ctx.set(c"upperdir", &cstring(upper)?)
        .map_err(err("set upper directory of"))?;
    ctx.set(c"workdir", &cstring(work)?)
        .map_err(err("set work directory of"))?;
    if volatile {
        ctx.set_flag(c"volatile")
            .map_err(err("make volatile the overlay of"))?;
    }
    let mount = ctx.create_and_mount().map_err(err("create"))?;
    let target = cstring(merged)?;
    // SAFETY: move_mount reads the NUL-terminated strings ("" and the
    // target) alive for the call; the fds are valid.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mount.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if rc < 0 {
        return Err(err("attach")(io::Error::last_os_error()));
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: overlay_mount

/// The most option bytes `mount(2)` accepts: one page, with its NUL.
const MOUNT_DATA_MAX: usize = 4095;

/// Mounts an overlay with `mount(2)` and one option string. When absolute
/// paths make the string too long, short relative symlinks
/// (`CONTAINER_DIR/l/0 -> layer`) are used from a child process whose
/// working directory is the container directory: a process-wide `chdir` in
/// this (possibly multi-threaded) process would pull the rug from under
/// every other thread.
fn mount_legacy(
    layers: &[PathBuf],
    container_dir: &Path,
    merged: &Path,
    volatile: bool,
) -> Result<()> {
    let mount_err = |source: io::Error| Error::Mount {
        op: "mount",
        path: merged.to_path_buf(),
        source,
    };
    for layer in layers {
        let bytes = layer.as_os_str().as_bytes();
        if bytes.iter().any(|b| matches!(b, b':' | b',' | b'\\')) {
            return Err(mount_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("layer path {} contains ':', ',' or '\\'", layer.display()),
            )));
        }
    }
    let join = |lowers: Vec<String>, upper: &str, work: &str| {
        format!(
            "lowerdir={},upperdir={upper},workdir={work}{}",
            lowers.join(":"),
            if volatile { ",volatile" } else { "" }
        )
    };
    let absolute = join(
        layers
            .iter()
            .rev()
            .map(|l| l.display().to_string())
            .collect(),
        &container_dir.join("upper").display().to_string(),
        &container_dir.join("work").display().to_string(),
    );
    let target = cstring(merged)?;
    if absolute.len() <= MOUNT_DATA_MAX {
        return nix::mount::mount(
            Some("overlay"),
            merged,
            Some("overlay"),
            nix::mount::MsFlags::empty(),
            Some(absolute.as_str()),
        )
        .map_err(|e| mount_err(e.into()));
    }

    // Short links: l/0 is the bottom layer.
    let links = container_dir.join("l");
    match fs::remove_dir_all(&links) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(e).ctx("remove old layer links", &links)
        }
        _ => {}
    }
    fs::create_dir(&links).ctx("create layer links directory", &links)?;
    for (i, layer) in layers.iter().enumerate() {
        let link = links.join(i.to_string());
        std::os::unix::fs::symlink(layer, &link).ctx("create layer link", &link)?;
    }
    let relative = join(
        (0..layers.len()).rev().map(|i| format!("l/{i}")).collect(),
        "upper",
        "work",
    );
    if relative.len() > MOUNT_DATA_MAX {
        return Err(mount_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} layers do not fit in one mount option string",
                layers.len()
            ),
        )));
    }
    let dir = cstring(container_dir)?;
    let data = CString::new(relative).expect("no NUL in generated options");
    mount_in_child(&dir, &target, &data).map_err(mount_err)
}

/// Forks a child that changes directory to `dir` and mounts an overlay at
/// `target` with the options `data` (relative to `dir`).
fn mount_in_child(dir: &CStr, target: &CStr, data: &CStr) -> io::Result<()> {
    // SAFETY: after fork in a possibly multi-threaded process the child
    // only makes async-signal-safe calls (chdir, mount, _exit) on memory
    // prepared before the fork; it never returns into Rust code.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe {
            // SAFETY: see above; raw syscalls only, errno becomes the exit code.
            if libc::chdir(dir.as_ptr()) != 0 {
                libc::_exit(*libc::__errno_location());
            }
            let rc = libc::mount(
                c"overlay".as_ptr(),
                target.as_ptr(),
                c"overlay".as_ptr(),
                0,
                data.as_ptr().cast(),
            );
            libc::_exit(if rc == 0 {
                0
            } else {
                *libc::__errno_location()
            });
        },
        child => {
            let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child), None)?;
            match status {
                nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
                nix::sys::wait::WaitStatus::Exited(_, errno) => {
                    Err(io::Error::from_raw_os_error(errno))
                }
                other => Err(io::Error::other(format!(
                    "mount helper ended with {other:?}"
                ))),
            }
        }
    }
}
