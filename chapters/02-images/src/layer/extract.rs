//! Creating a layer's files, one tar entry at a time, without trusting it.
//!
//! The `tar` crate only *parses* here; every file is created by this module
//! relative to a directory file descriptor (see [`super::safe`]):
//!
//! - regular files with `openat(O_CREAT|O_EXCL|O_NOFOLLOW)`: never through a
//!   symlink, never into an existing file someone linked elsewhere;
//! - owner, mode and times set on the open descriptor (`fchown`, `fchmod`,
//!   `futimens`), or with `AT_SYMLINK_NOFOLLOW` for symlinks;
//! - hardlinks only to an entry of this same layer, found the same safe way;
//! - device nodes: only the harmless ones a real root file system has in
//!   `/dev` (see [`super::devices`]); a layer has no business creating
//!   `/dev/sda` or `/dev/mem`.
//!
//! Whiteouts (`.wh.NAME`, `.wh..wh..opq`) become what overlayfs understands.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};

use crate::digest::is_limit_error;

use super::dirfd::{make_dir, replace_non_dir, set_xattrs, wanted_xattrs};
use super::safe::{entry_components, explain_open_error, join, open_dir_in_root};

/// The prefix that marks a whiteout entry in a layer tar.
pub(crate) const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// The entry that makes its directory opaque (hides all lower content).
// Used by exercise 2.4 alone: after `start`, a building block for yours.
#[allow(dead_code)]
pub(crate) const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";

/// Why an entry was refused: its path and the reason, for the caller to
/// wrap with the layer's digest.
#[derive(Debug)]
pub(crate) struct EntryError {
    pub entry: String,
    pub reason: String,
    /// Reading the entry's data hit the layer's size limit.
    pub too_large: bool,
}

type EResult<T> = Result<T, EntryError>;

/// Extracts the entries of one layer into the directory `root`.
pub(crate) struct Extractor {
    root: OwnedFd,
    /// The last parent directory opened, by path: consecutive entries of a
    /// tar usually share it, and opening it costs a path walk.
    parent_cache: Option<(Vec<u8>, OwnedFd)>,
    /// Directories whose times are set at the end (creating their children
    /// would change them again).
    dir_times: Vec<(CString, i64)>,
    buf: Vec<u8>,
    euid: Uid,
    egid: Gid,
    /// A layer's `.wh.` entries become overlayfs whiteouts; for a plain
    /// copy (`docker cp`) they are ordinary names.
    whiteouts: bool,
    /// Owner to give every entry instead of the tar's (a copy into a
    /// container belongs to its root, as in Docker).
    owner: Option<(u32, u32)>,
    /// Whether [`Extractor::finish`] flushes the file system: a layer and
    /// a copy into a container must survive a crash; a scratch directory
    /// that is thrown away after use (a build context) need not.
    sync: bool,
}

/// The metadata of an entry that we apply.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
}

impl Extractor {
    pub(crate) fn new(root: OwnedFd) -> Extractor {
        Extractor {
            root,
            parent_cache: None,
            dir_times: Vec::new(),
            buf: vec![0; 1 << 20],
            euid: Uid::effective(),
            egid: Gid::effective(),
            whiteouts: true,
            owner: None,
            sync: true,
        }
    }

    /// An extractor for copying files in (`docker cp`): no whiteouts, and
    /// every entry owned by `owner`.
    pub(crate) fn for_copy(root: OwnedFd, owner: (u32, u32)) -> Extractor {
        Extractor {
            whiteouts: false,
            owner: Some(owner),
            buf: vec![0; 64 << 10],
            ..Extractor::new(root)
        }
    }

    /// An extractor for a scratch directory, deleted after use and never
    /// needed after a crash: like [`Extractor::for_copy`], but
    /// [`Extractor::finish`] does not flush. A `syncfs` flushes every dirty
    /// file of the whole file system, others' too: on a busy host that
    /// costs more than the extraction itself.
    pub(crate) fn for_scratch(root: OwnedFd, owner: (u32, u32)) -> Extractor {
        Extractor {
            sync: false,
            ..Extractor::for_copy(root, owner)
        }
    }

    // ANCHOR: entry_head
    /// Applies one entry.
    pub(crate) fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> EResult<()> {
        let raw = entry.path_bytes().into_owned();
        let name_for_errors = String::from_utf8_lossy(&raw).into_owned();
        let too_large = std::cell::Cell::new(false);
        let fail = |reason: String| EntryError {
            entry: name_for_errors.clone(),
            reason,
            too_large: too_large.get(),
        };
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader
                | tar::EntryType::XHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let components = entry_components(&raw).map_err(fail)?;
        let header = entry.header();
        let mut meta = Meta {
            mode: header.mode().map_err(|e| fail(format!("bad mode: {e}")))? & 0o7777,
            uid: header.uid().map_err(|e| fail(format!("bad uid: {e}")))? as u32,
            gid: header.gid().map_err(|e| fail(format!("bad gid: {e}")))? as u32,
            mtime: header
                .mtime()
                .map_err(|e| fail(format!("bad mtime: {e}")))? as i64,
        };
        if let Some((uid, gid)) = self.owner {
            (meta.uid, meta.gid) = (uid, gid);
        }
        let device = (
            header.device_major().ok().flatten().unwrap_or(0),
            header.device_minor().ok().flatten().unwrap_or(0),
        );

        // ANCHOR_END: entry_head
        // ANCHOR: entry_root
        let xattrs = wanted_xattrs(entry).map_err(|e| fail(format!("bad pax extensions: {e}")))?;

        let Some((name, parent)) = components.split_last() else {
            // The entry is the layer root itself (`./`).
            if !kind.is_dir() {
                return Err(fail("the layer root can only be a directory".into()));
            }
            let root = self
                .root
                .try_clone()
                .map_err(|e| fail(format!("dup root fd: {e}")))?;
            return self.set_fd_meta(&root, &meta, c".").map_err(fail);
        };
        let name = CString::new(*name).expect("components were checked for NUL bytes");
        self.forget_cached_parent_under(&components);

        if self.whiteouts && name.as_bytes().starts_with(WHITEOUT_PREFIX) {
            let dir = self.open_parent(parent).map_err(fail)?;
            return whiteout(dir.as_fd(), &name).map_err(fail);
        }

        // ANCHOR_END: entry_root
        // ANCHOR: entry_files
        let dir = self.open_parent(parent).map_err(fail)?;
        let dir = dir.as_fd();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                replace_non_dir(dir, &name).map_err(fail)?;
                let file = self
                    .write_file(dir, &name, entry, &meta, &too_large)
                    .map_err(fail)?;
                set_xattrs(&file, &xattrs).map_err(fail)
            }
            tar::EntryType::Directory => {
                let fd = make_dir(dir, &name).map_err(fail)?;
                self.set_fd_meta(&fd, &meta, &name).map_err(fail)?;
                set_xattrs(&fd, &xattrs).map_err(fail)?;
                self.dir_times.push((join(&components), meta.mtime));
                Ok(())
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| fail("a symlink without a target".into()))?;
                let target = CString::new(target.into_owned())
                    .map_err(|_| fail("a symlink target may not contain a NUL byte".into()))?;
                replace_non_dir(dir, &name).map_err(fail)?;
                nix::unistd::symlinkat(target.as_c_str(), Some(dir.as_raw_fd()), name.as_c_str())
                    .map_err(|e| fail(format!("symlinkat: {e}")))?;
                self.set_nofollow_meta(dir, &name, &meta).map_err(fail)
            }
            // ANCHOR_END: entry_files
            // ANCHOR: entry_special
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| fail("a hardlink without a target".into()))?
                    .into_owned();
                self.hardlink(dir, &name, &components, &target)
                    .map_err(fail)
            }
            tar::EntryType::Fifo => {
                replace_non_dir(dir, &name).map_err(fail)?;
                nix::sys::stat::mknodat(
                    Some(dir.as_raw_fd()),
                    name.as_c_str(),
                    SFlag::S_IFIFO,
                    Mode::from_bits_truncate(0o600),
                    0,
                )
                .map_err(|e| fail(format!("mknodat fifo: {e}")))?;
                self.set_nofollow_meta(dir, &name, &meta).map_err(fail)?;
                nix::sys::stat::fchmodat(
                    Some(dir.as_raw_fd()),
                    name.as_c_str(),
                    Mode::from_bits_truncate(meta.mode),
                    nix::sys::stat::FchmodatFlags::NoFollowSymlink,
                )
                .map_err(|e| fail(format!("chmod fifo: {e}")))
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                let (major, minor) = device;
                super::devices::check(kind, major, minor).map_err(fail)?;
                replace_non_dir(dir, &name).map_err(fail)?;
                nix::sys::stat::mknodat(
                    Some(dir.as_raw_fd()),
                    name.as_c_str(),
                    SFlag::S_IFCHR,
                    Mode::from_bits_truncate(0o600),
                    nix::sys::stat::makedev(major.into(), minor.into()),
                )
                .map_err(|e| fail(format!("mknodat {major}:{minor}: {e}")))?;
                self.set_nofollow_meta(dir, &name, &meta).map_err(fail)?;
                // No set-id bits on a device node.
                nix::sys::stat::fchmodat(
                    Some(dir.as_raw_fd()),
                    name.as_c_str(),
                    Mode::from_bits_truncate(meta.mode & 0o777),
                    nix::sys::stat::FchmodatFlags::NoFollowSymlink,
                )
                .map_err(|e| fail(format!("chmod device: {e}")))
            }
            other => Err(fail(format!("unsupported tar entry type {other:?}"))),
        }
    }
    // ANCHOR_END: entry_special

    // ANCHOR: extract_finish
    /// Sets the times of the directories (now that their content is
    /// complete) and flushes the whole layer to disk with one `syncfs`
    /// (not for a scratch directory, see [`Extractor::for_scratch`]).
    pub(crate) fn finish(mut self) -> EResult<()> {
        for (path, mtime) in self.dir_times.drain(..).rev() {
            let fail = |e: io::Error| EntryError {
                entry: path.to_string_lossy().into_owned(),
                reason: format!("set times: {e}"),
                too_large: false,
            };
            let fd = open_dir_in_root(self.root.as_fd(), &path).map_err(fail)?;
            let t = TimeSpec::new(mtime, 0);
            nix::sys::stat::futimens(fd.as_raw_fd(), &t, &t).map_err(|e| fail(e.into()))?;
        }
        if !self.sync {
            return Ok(());
        }
        nix::unistd::syncfs(self.root.as_raw_fd()).map_err(|e| EntryError {
            entry: ".".into(),
            reason: format!("syncfs: {e}"),
            too_large: false,
        })
    }
    // ANCHOR_END: extract_finish

    // ANCHOR: open_parent
    /// Opens (creating if missing, like `mkdir -p`) the parent directory of
    /// an entry, inside the root.
    fn open_parent(&mut self, parent: &[&[u8]]) -> Result<OwnedFd, String> {
        let key = parent.join(&b'/');
        if let Some((cached, fd)) = &self.parent_cache {
            if *cached == key {
                return fd.try_clone().map_err(|e| format!("dup fd: {e}"));
            }
        }
        let fd = match open_dir_in_root(self.root.as_fd(), &join(parent)) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => self.make_parents(parent)?,
            Err(e) => return Err(explain_open_error(&e)),
        };
        let dup = fd.try_clone().map_err(|e| format!("dup fd: {e}"))?;
        self.parent_cache = Some((key, fd));
        Ok(dup)
    }
    // ANCHOR_END: open_parent

    // ANCHOR: make_parents
    /// Creates missing parent directories one component at a time (mode
    /// 0755, as Docker does for parents a layer does not list).
    fn make_parents(&self, parent: &[&[u8]]) -> Result<OwnedFd, String> {
        let mut cur = self.root.try_clone().map_err(|e| format!("dup fd: {e}"))?;
        for component in parent {
            let c = CString::new(*component).expect("checked for NUL bytes");
            let next = match open_dir_in_root(cur.as_fd(), &c) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    match nix::sys::stat::mkdirat(
                        Some(cur.as_raw_fd()),
                        c.as_c_str(),
                        Mode::from_bits_truncate(0o755),
                    ) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(format!("mkdir parent {c:?}: {e}")),
                    }
                    // The mode passed to mkdir is masked by the umask.
                    let fd =
                        open_dir_in_root(cur.as_fd(), &c).map_err(|e| explain_open_error(&e))?;
                    nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(0o755))
                        .map_err(|e| format!("chmod parent {c:?}: {e}"))?;
                    fd
                }
                other => other.map_err(|e| explain_open_error(&e))?,
            };
            cur = next;
        }
        Ok(cur)
    }
    // ANCHOR_END: make_parents

    /// Drops the cached parent if this entry may replace it or one of its
    /// ancestors (a later entry of a tar wins over an earlier one).
    fn forget_cached_parent_under(&mut self, components: &[&[u8]]) {
        if let Some((cached, _)) = &self.parent_cache {
            let path = components.join(&b'/');
            if cached.starts_with(&path)
                && (cached.len() == path.len() || cached[path.len()] == b'/')
            {
                self.parent_cache = None;
            }
        }
    }

    // ANCHOR: write_file
    fn write_file<R: Read>(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        entry: &mut tar::Entry<'_, R>,
        meta: &Meta,
        too_large: &std::cell::Cell<bool>,
    ) -> Result<File, String> {
        let fd = nix::fcntl::openat(
            Some(dir.as_raw_fd()),
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| format!("create file: {e}"))?;
        // SAFETY: openat just returned this fd; the File becomes its only owner.
        let mut file = unsafe { File::from_raw_fd(fd) };
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    too_large.set(is_limit_error(&e));
                    return Err(format!("read entry data: {e}"));
                }
            };
            file.write_all(&self.buf[..n])
                .map_err(|e| format!("write: {e}"))?;
        }
        self.set_fd_meta(&file, meta, name)?;
        Ok(file)
    }
    // ANCHOR_END: write_file

    /// Owner, then mode (a chown clears setuid bits), then times, all on
    /// an open descriptor so that nothing is followed.
    fn set_fd_meta(&self, fd: &impl AsFd, meta: &Meta, name: &CStr) -> Result<(), String> {
        let raw = fd.as_fd().as_raw_fd();
        if meta.uid != self.euid.as_raw() || meta.gid != self.egid.as_raw() {
            nix::unistd::fchown(
                raw,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
            )
            .map_err(|e| format!("chown {name:?} to {}:{}: {e}", meta.uid, meta.gid))?;
        }
        nix::sys::stat::fchmod(raw, Mode::from_bits_truncate(meta.mode))
            .map_err(|e| format!("chmod {name:?}: {e}"))?;
        let t = TimeSpec::new(meta.mtime, 0);
        nix::sys::stat::futimens(raw, &t, &t).map_err(|e| format!("set times of {name:?}: {e}"))
    }

    /// Owner and times of something we cannot open (a symlink, a fifo).
    fn set_nofollow_meta(
        &self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        meta: &Meta,
    ) -> Result<(), String> {
        if meta.uid != self.euid.as_raw() || meta.gid != self.egid.as_raw() {
            nix::unistd::fchownat(
                Some(dir.as_raw_fd()),
                name,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(|e| format!("chown {name:?}: {e}"))?;
        }
        let t = TimeSpec::new(meta.mtime, 0);
        nix::sys::stat::utimensat(
            Some(dir.as_raw_fd()),
            name,
            &t,
            &t,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| format!("set times of {name:?}: {e}"))
    }

    // ANCHOR: hardlink_find
    /// A hardlink may only point at an entry already in this layer, found
    /// with the same safe resolution as every other path.
    fn hardlink(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        own: &[&[u8]],
        target: &[u8],
    ) -> Result<(), String> {
        let components = entry_components(target).map_err(|reason| {
            format!(
                "hardlink target {:?}: {reason}",
                String::from_utf8_lossy(target)
            )
        })?;
        let Some((target_name, target_parent)) = components.split_last() else {
            return Err("a hardlink to the layer root is not allowed".into());
        };
        if components == own {
            return Ok(()); // a link to itself: nothing to do
        }
        // ANCHOR_END: hardlink_find
        // ANCHOR: hardlink_link
        let target_dir =
            open_dir_in_root(self.root.as_fd(), &join(target_parent)).map_err(|e| {
                format!(
                    "hardlink target {:?} is not an earlier entry of this layer: {}",
                    String::from_utf8_lossy(target),
                    explain_open_error(&e)
                )
            })?;
        let target_name = CString::new(*target_name).expect("checked for NUL bytes");
        replace_non_dir(dir, name)?;
        nix::unistd::linkat(
            Some(target_dir.as_raw_fd()),
            target_name.as_c_str(),
            Some(dir.as_raw_fd()),
            name,
            AtFlags::empty(), // link a symlink itself, never what it points to
        )
        .map_err(|e| match e {
            Errno::ENOENT => format!(
                "hardlink target {:?} is not an earlier entry of this layer",
                String::from_utf8_lossy(target)
            ),
            Errno::EPERM => format!(
                "hardlink target {:?} is a directory",
                String::from_utf8_lossy(target)
            ),
            e => format!("link to {:?}: {e}", String::from_utf8_lossy(target)),
        })
    }
    // ANCHOR_END: hardlink_link
}

// ANCHOR: whiteout
/// Turns a whiteout entry into what overlayfs understands:
///
/// - `DIR/.wh..wh..opq` (opaque directory: hide everything lower layers
///   have in `DIR`) becomes the extended attribute
///   `trusted.overlay.opaque=y` on `DIR`;
/// - `DIR/.wh.NAME` (delete `NAME` of lower layers) becomes a character
///   device with device number 0/0 named `NAME`.
fn whiteout(dir: BorrowedFd<'_>, name: &CStr) -> Result<(), String> {
    // exercise 2.4 whiteout-conversion: convert an OCI whiteout entry into an overlayfs whiteout.
    // hint: OPAQUE_MARKER → libc::fsetxattr(dir, "trusted.overlay.opaque", "y"); else strip WHITEOUT_PREFIX
    // hint: the hidden name becomes mknodat(dir, hidden, S_IFCHR, 0 /* makedev(0, 0) */)
    let name = name.to_bytes();
    if name == OPAQUE_MARKER {
        let value = b"y";
        // SAFETY: fsetxattr reads the NUL-terminated attribute name and
        // `value.len()` bytes of `value`, both alive for the call.
        let rc = unsafe {
            libc::fsetxattr(
                dir.as_raw_fd(),
                c"trusted.overlay.opaque".as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        if rc != 0 {
            return Err(format!(
                "mark directory opaque: {}",
                io::Error::last_os_error()
            ));
        }
        return Ok(());
    }
    let hidden = &name[WHITEOUT_PREFIX.len()..];
    if hidden.is_empty() || hidden == b"." || hidden == b".." || hidden.starts_with(WHITEOUT_PREFIX)
    {
        return Err("not a valid whiteout name".into());
    }
    let hidden = CString::new(hidden).expect("checked for NUL bytes");
    replace_non_dir(dir, &hidden)?;
    nix::sys::stat::mknodat(
        Some(dir.as_raw_fd()),
        hidden.as_c_str(),
        SFlag::S_IFCHR,
        Mode::empty(),
        0,
    )
    .map_err(|e| format!("create whiteout device: {e}"))
    // end exercise
}
// ANCHOR_END: whiteout
