//! All or nothing: `docker cp` into a container either adds the whole
//! archive or changes nothing.
//!
//! Extracting straight into the target would leave the entries before a bad
//! one (a refused `../x`, a truncated archive) in the container. Instead the
//! archive is extracted into a *staging directory* made inside the target
//! (so on the same file system), and only when every entry is in does it
//! move into place:
//!
//! 1. check: walk the staged tree beside the target and refuse a directory
//!    that would replace a non-directory or the other way round (what
//!    Docker refuses too) — before anything in the target changed;
//! 2. move: `renameat` each staged entry over its place (atomic per entry;
//!    a directory that exists on both sides is merged into, entry by
//!    entry, and takes the staged directory's mode, owner and times);
//! 3. remove the (now empty) staging directory.
//!
//! On any failure before step 2 the staging directory is removed, and the
//! target is as it was. Everything goes through directory descriptors with
//! `O_NOFOLLOW`: the container is running and may swap a directory for a
//! symlink at any time.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use nix::unistd::UnlinkatFlags;

/// The prefix of a staging directory's name.
pub const PREFIX: &str = ".minidock-cp-";

/// A staging directory inside `target`; removed on drop unless committed.
#[derive(Debug)]
pub struct Staging {
    target: OwnedFd,
    name: CString,
    dir: OwnedFd,
    done: bool,
}

fn open_dir_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: openat just returned this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The names in a directory, without `.` and `..`.
fn names(dir: BorrowedFd<'_>) -> io::Result<Vec<CString>> {
    let listing = nix::dir::Dir::openat(
        Some(dir.as_raw_fd()),
        ".",
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut out = Vec::new();
    for entry in listing.into_iter() {
        let name = entry?.file_name().to_owned();
        if name.as_bytes() != b"." && name.as_bytes() != b".." {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// `lstat` of `name` in `dir`; `None` if it does not exist.
fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Option<FileStat>> {
    match fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(nix::errno::Errno::ENOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

fn shown(parent: &str, name: &CStr) -> String {
    format!("{parent}/{}", name.to_string_lossy())
}

// ANCHOR: remove_tree
/// Removes `name` in `dir` and everything below it, never following a
/// symlink.
pub(crate) fn remove_tree(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    let sub = open_dir_at(dir, name)?;
    for child in names(sub.as_fd())? {
        match stat_at(sub.as_fd(), &child)? {
            Some(st) if is_dir(&st) => remove_tree(sub.as_fd(), &child)?,
            Some(_) => nix::unistd::unlinkat(
                Some(sub.as_raw_fd()),
                child.as_c_str(),
                UnlinkatFlags::NoRemoveDir,
            )?,
            None => {}
        }
    }
    nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::RemoveDir)?;
    Ok(())
}
// ANCHOR_END: remove_tree

// ANCHOR: staging
// ANCHOR: staging_create
impl Staging {
    /// Makes a fresh, private (0700) staging directory inside `target`.
    pub fn create(target: BorrowedFd<'_>) -> io::Result<Staging> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{nanos:x}-{n}", std::process::id());
        let name = CString::new(name).expect("no NUL in a generated name");
        nix::sys::stat::mkdirat(
            Some(target.as_raw_fd()),
            name.as_c_str(),
            Mode::from_bits_truncate(0o700),
        )?;
        let staging = Staging {
            target: target.try_clone_to_owned()?,
            dir: open_dir_at(target, &name)?,
            name,
            done: false,
        };
        Ok(staging)
    }
    // ANCHOR_END: staging_create

    // ANCHOR: staging_commit
    /// The staging directory, to extract into.
    pub fn dir(&self) -> io::Result<OwnedFd> {
        self.dir.try_clone()
    }

    /// Moves everything staged into the target (see the module's text).
    /// `shown_target` names the target in errors. A conflict is found
    /// before anything moves; the staging directory is then removed.
    pub fn commit(mut self, shown_target: &str) -> Result<(), String> {
        check(self.dir.as_fd(), self.target.as_fd(), shown_target)?;
        merge(self.dir.as_fd(), self.target.as_fd(), shown_target)?;
        nix::unistd::unlinkat(
            Some(self.target.as_raw_fd()),
            self.name.as_c_str(),
            UnlinkatFlags::RemoveDir,
        )
        .map_err(|e| format!("remove the staging directory: {e}"))?;
        self.done = true;
        Ok(())
    }
    // ANCHOR_END: staging_commit
}

// ANCHOR: staging_check
/// Refuses a directory over a non-directory and the reverse, anywhere in
/// the staged tree.
fn check(staged: BorrowedFd<'_>, target: BorrowedFd<'_>, shown_target: &str) -> Result<(), String> {
    let fail = |e: io::Error| format!("{shown_target}: {e}");
    for name in names(staged).map_err(fail)? {
        let Some(existing) = stat_at(target, &name).map_err(fail)? else {
            continue;
        };
        let new = stat_at(staged, &name)
            .map_err(fail)?
            .ok_or_else(|| format!("{} vanished from staging", shown(shown_target, &name)))?;
        match (is_dir(&new), is_dir(&existing)) {
            (true, true) => check(
                open_dir_at(staged, &name).map_err(fail)?.as_fd(),
                open_dir_at(target, &name).map_err(fail)?.as_fd(),
                &shown(shown_target, &name),
            )?,
            (true, false) => {
                return Err(format!(
                    "entry refused: cannot overwrite non-directory {} with a directory",
                    shown(shown_target, &name)
                ))
            }
            (false, true) => {
                return Err(format!(
                    "entry refused: cannot overwrite directory {} with a non-directory",
                    shown(shown_target, &name)
                ))
            }
            (false, false) => {}
        }
    }
    Ok(())
}
// ANCHOR_END: staging_check

// ANCHOR: staging_merge
/// Renames each staged entry into `target`, merging into directories that
/// exist on both sides.
fn merge(staged: BorrowedFd<'_>, target: BorrowedFd<'_>, shown_target: &str) -> Result<(), String> {
    let fail = |what: &str, e: io::Error| format!("{what}: {e}");
    for name in names(staged).map_err(|e| fail(shown_target, e))? {
        let here = shown(shown_target, &name);
        let both_dirs = matches!(
            stat_at(target, &name).map_err(|e| fail(&here, e))?,
            Some(existing) if is_dir(&existing)
        );
        if !both_dirs {
            nix::fcntl::renameat(
                Some(staged.as_raw_fd()),
                name.as_c_str(),
                Some(target.as_raw_fd()),
                name.as_c_str(),
            )
            .map_err(|e| fail(&here, e.into()))?;
            continue;
        }
        let from = open_dir_at(staged, &name).map_err(|e| fail(&here, e))?;
        let to = open_dir_at(target, &name).map_err(|e| fail(&here, e))?;
        merge(from.as_fd(), to.as_fd(), &here)?;
        take_metadata(from.as_fd(), to.as_fd()).map_err(|e| fail(&here, e))?;
        nix::unistd::unlinkat(
            Some(staged.as_raw_fd()),
            name.as_c_str(),
            UnlinkatFlags::RemoveDir,
        )
        .map_err(|e| fail(&here, e.into()))?;
    }
    Ok(())
}
// ANCHOR_END: staging_merge
// ANCHOR_END: staging

/// Gives directory `to` the mode, owner and times of `from`, as extracting
/// the archive's entry over it would have.
fn take_metadata(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    let st = nix::sys::stat::fstat(from.as_raw_fd())?;
    nix::unistd::fchown(
        to.as_raw_fd(),
        Some(nix::unistd::Uid::from_raw(st.st_uid)),
        Some(nix::unistd::Gid::from_raw(st.st_gid)),
    )?;
    nix::sys::stat::fchmod(
        to.as_raw_fd(),
        Mode::from_bits_truncate(st.st_mode & 0o7777),
    )?;
    let times = [
        nix::sys::time::TimeSpec::new(st.st_atime, st.st_atime_nsec),
        nix::sys::time::TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
    ];
    nix::sys::stat::futimens(to.as_raw_fd(), &times[0], &times[1])?;
    Ok(())
}

// ANCHOR: staging_drop
impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            // Best effort: a failed copy must not also fail its cleanup, and
            // a leftover is named `.minidock-cp-…` for anyone to find.
            if let Err(e) = remove_tree(self.target.as_fd(), &self.name) {
                eprintln!(
                    "cannot remove the staging directory {}: {e}",
                    self.name.to_string_lossy()
                );
            }
        }
    }
}
// ANCHOR_END: staging_drop
