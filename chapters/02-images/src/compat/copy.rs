//! Copying files out of and into a container's root file system without
//! ever leaving it: what `docker cp` needs.
//!
//! The root belongs to the container, and the container is running: any
//! path in it may be a symlink to `/`, and may *become* one between a check
//! and a use (CVE-2018-15664 was exactly that race in Docker's `cp`). So
//! nothing here joins paths as strings. The path the user named is resolved
//! with `openat2(RESOLVE_IN_ROOT)` — symlinks are followed as if the root
//! were `/`, so `/etc -> /host/etc` stays inside — and everything below is
//! walked through directory descriptors with `O_NOFOLLOW`: a symlink is
//! archived as a symlink, never followed. Copying in goes through chapter
//! 2's layer extractor, which already refuses `..`, absolute paths and
//! writes through symlinks.

use std::ffi::{CStr, CString, OsStr};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};

use crate::error::{Error, Result};
use crate::layer::extract::Extractor;
use crate::staging::Staging;

/// What `stat` says about a path in the root, in the shape of Docker's
/// `X-Docker-Container-Path-Stat` header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PathStat {
    /// The last component of the path (`/` for the root).
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Go's `os.FileMode`: permission bits, plus `1<<31` for a directory
    /// and `1<<27` for a symlink (what the docker CLI tests).
    pub mode: u32,
    /// Modification time, unix seconds.
    pub mtime: i64,
    /// The target, for a symlink.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

impl PathStat {
    /// Whether the path is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & GO_MODE_DIR != 0
    }
}

const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;

fn copy_error(path: &str, reason: impl std::fmt::Display) -> Error {
    Error::Copy {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

/// Opens `path` (absolute inside the container) below `root` with the
/// kernel keeping every step, symlinks included, inside `root` (symlinks
/// are followed, as `docker cp` does, but resolve inside the container).
fn open_in_root(root: BorrowedFd<'_>, path: &CStr, flags: OFlag) -> io::Result<OwnedFd> {
    use crate::layer::safe::{RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV};
    crate::layer::safe::open_in_root(
        root,
        path,
        flags,
        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    )
}

fn open_root(root: &Path) -> Result<OwnedFd> {
    let fd = nix::fcntl::open(
        root,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| copy_error(&root.display().to_string(), format!("open the root: {e}")))?;
    // SAFETY: open just returned this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `path` split into the directory holding it (opened inside the root) and
/// its last component; `None` as the name for the root itself.
fn parent_and_name(root: &OwnedFd, path: &str) -> Result<(OwnedFd, Option<CString>)> {
    let trimmed = path.trim_end_matches('/');
    let (parent, name) = match trimmed.rsplit_once('/') {
        Some((parent, name)) => (if parent.is_empty() { "/" } else { parent }, name),
        None if trimmed.is_empty() => ("/", ""),
        None => ("/", trimmed),
    };
    let c = |s: &str| CString::new(s).map_err(|_| copy_error(path, "the path contains a NUL byte"));
    let dir = open_in_root(
        root.as_fd(),
        &c(parent)?,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY,
    )
    .map_err(|e| not_found_or(path, e))?;
    match name {
        "" | "." => Ok((dir, None)),
        ".." => Err(copy_error(path, "a path may not end in '..'")),
        name => Ok((dir, Some(c(name)?))),
    }
}

fn not_found_or(path: &str, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotFound {
        Error::CopyNotFound(path.to_string())
    } else {
        copy_error(path, e)
    }
}

fn stat_of(st: &FileStat, name: &str, link_target: String) -> PathStat {
    let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    let mut mode = st.st_mode & 0o7777;
    if kind == SFlag::S_IFDIR {
        mode |= GO_MODE_DIR;
    } else if kind == SFlag::S_IFLNK {
        mode |= GO_MODE_SYMLINK;
    }
    PathStat {
        name: name.to_string(),
        size: st.st_size,
        mode,
        mtime: st.st_mtime,
        link_target,
    }
}

fn read_link(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name)
        .map(|t| t.as_bytes().to_vec())
        .map_err(io::Error::from)
}

/// `docker cp`'s stat of `path` in the root: the thing itself, a symlink
/// not followed.
pub fn stat_in_root(root: &Path, path: &str) -> Result<PathStat> {
    let root_fd = open_root(root)?;
    let (dir, name) = parent_and_name(&root_fd, path)?;
    let Some(name) = name else {
        let st = nix::sys::stat::fstat(dir.as_raw_fd()).map_err(|e| copy_error(path, e))?;
        return Ok(stat_of(&st, "/", String::new()));
    };
    let st = fstatat(
        Some(dir.as_raw_fd()),
        name.as_c_str(),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| not_found_or(path, e.into()))?;
    let target = if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
        String::from_utf8_lossy(&read_link(dir.as_fd(), &name).map_err(|e| copy_error(path, e))?)
            .into_owned()
    } else {
        String::new()
    };
    Ok(stat_of(&st, &name.to_string_lossy(), target))
}

// ANCHOR: archive
/// Writes `path` of the root as a tar to `out`: its last component as the
/// top entry, a directory with everything below it. Returns its stat.
pub fn archive_from_root(root: &Path, path: &str, out: &mut dyn Write) -> Result<PathStat> {
    let stat = stat_in_root(root, path)?;
    let root_fd = open_root(root)?;
    let (dir, name) = parent_and_name(&root_fd, path)?;
    let mut builder = tar::Builder::new(out);
    match name {
        // the root: its content, under `.`
        None => append_dir_content(&mut builder, dir.as_fd(), Path::new("."), path)?,
        Some(name) => append(
            &mut builder,
            dir.as_fd(),
            &name,
            Path::new(&stat.name),
            path,
        )?,
    }
    builder
        .into_inner()
        .and_then(|out| out.flush())
        .map_err(|e| copy_error(path, format!("write the archive: {e}")))?;
    Ok(stat)
}

/// Appends `name` (in `dir`) as `archive_path`, never following it.
fn append(
    builder: &mut tar::Builder<&mut dyn Write>,
    dir: BorrowedFd<'_>,
    name: &CStr,
    archive_path: &Path,
    path: &str,
) -> Result<()> {
    let fail =
        |e: &dyn std::fmt::Display| copy_error(path, format!("{}: {e}", archive_path.display()));
    let st =
        fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(|e| fail(&e))?;
    let mut header = tar::Header::new_gnu();
    header.set_mode(st.st_mode & 0o7777);
    header.set_uid(u64::from(st.st_uid));
    header.set_gid(u64::from(st.st_gid));
    header.set_mtime(st.st_mtime.max(0) as u64);
    match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFDIR => {
            let sub = nix::fcntl::openat(
                Some(dir.as_raw_fd()),
                name,
                OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| fail(&e))?;
            // SAFETY: openat just returned this fd.
            let sub = unsafe { OwnedFd::from_raw_fd(sub) };
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder
                .append_data(&mut header, archive_path, io::empty())
                .map_err(|e| fail(&e))?;
            append_dir_content(builder, sub.as_fd(), archive_path, path)
        }
        SFlag::S_IFREG => {
            let fd = nix::fcntl::openat(
                Some(dir.as_raw_fd()),
                name,
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| fail(&e))?;
            // SAFETY: openat just returned this fd; the File owns it.
            let file = unsafe { std::fs::File::from_raw_fd(fd) };
            // The size of what we opened, not of what was there at the stat.
            let size = file.metadata().map_err(|e| fail(&e))?.len();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(size);
            builder
                .append_data(&mut header, archive_path, file.take(size))
                .map_err(|e| fail(&e))
        }
        SFlag::S_IFLNK => {
            let target = read_link(dir, name).map_err(|e| fail(&e))?;
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            // The target byte for byte: `append_link` would normalise it as
            // a path (`/` became `//`). Long targets need its GNU extension.
            if header.set_link_name_literal(&target).is_ok() {
                builder
                    .append_data(&mut header, archive_path, io::empty())
                    .map_err(|e| fail(&e))
            } else {
                builder
                    .append_link(&mut header, archive_path, OsStr::from_bytes(&target))
                    .map_err(|e| fail(&e))
            }
        }
        // fifos, sockets, devices: nothing to copy
        _ => Ok(()),
    }
}

/// Appends every entry of the open directory `dir` below `prefix`.
fn append_dir_content(
    builder: &mut tar::Builder<&mut dyn Write>,
    dir: BorrowedFd<'_>,
    prefix: &Path,
    path: &str,
) -> Result<()> {
    let listing = nix::dir::Dir::openat(
        Some(dir.as_raw_fd()),
        ".",
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| copy_error(path, e))?;
    let mut names: Vec<CString> = Vec::new();
    for entry in listing.into_iter() {
        let entry = entry.map_err(|e| copy_error(path, e))?;
        let name = entry.file_name();
        if name != c"." && name != c".." {
            names.push(name.to_owned());
        }
    }
    names.sort();
    for name in names {
        let child = prefix.join(OsStr::from_bytes(name.to_bytes()));
        append(builder, dir, &name, &child, path)?;
    }
    Ok(())
}
// ANCHOR_END: archive

/// Extracts the tar `archive` into `dir`, an empty directory private to
/// the caller that is deleted after use (a build context), every entry
/// owned by `owner`. The same checks as [`extract_into_root`] (no `..`, no
/// absolute paths, no device nodes, no writes through symlinks), without
/// its two costs that only a container's root needs: no staging directory
/// (a refused entry fails the whole operation, and the caller throws the
/// directory away) and no flush to disk (nothing here must survive a
/// crash).
pub fn extract_into_scratch_dir(
    dir: &Path,
    archive: &mut dyn Read,
    owner: (u32, u32),
) -> Result<()> {
    let shown = dir.display().to_string();
    let root = open_root(dir)?;
    let mut extractor = Extractor::for_scratch(root, owner);
    let mut tar = tar::Archive::new(archive);
    for entry in tar
        .entries()
        .map_err(|e| copy_error(&shown, format!("read the archive: {e}")))?
    {
        let mut entry = entry.map_err(|e| copy_error(&shown, format!("read the archive: {e}")))?;
        extractor.entry(&mut entry).map_err(|e| {
            copy_error(&shown, format!("entry {:?} refused: {}", e.entry, e.reason))
        })?;
    }
    extractor
        .finish()
        .map_err(|e| copy_error(&shown, format!("{}: {}", e.entry, e.reason)))
}

/// Extracts the tar `archive` into the directory `dir` (absolute inside
/// the container) of the root, every entry owned by `owner`. The directory
/// must exist; entries with `..`, absolute paths, device nodes, or paths
/// through symlinks are refused (see chapter 2's layer extractor). All or
/// nothing: a refused entry or a broken archive leaves the directory as it
/// was (see the `staging` module).
pub fn extract_into_root(
    root: &Path,
    dir: &str,
    archive: &mut dyn Read,
    owner: (u32, u32),
) -> Result<()> {
    let root_fd = open_root(root)?;
    let target = CString::new(dir).map_err(|_| copy_error(dir, "the path contains a NUL byte"))?;
    let dir_fd = open_in_root(
        root_fd.as_fd(),
        &target,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY,
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ENOTDIR) => copy_error(dir, "extraction point is not a directory"),
        _ => not_found_or(dir, e),
    })?;
    // Into a staging directory first: a bad entry halfway must leave the
    // container as it was (see `crate::staging`).
    let staging = Staging::create(dir_fd.as_fd())
        .map_err(|e| copy_error(dir, format!("create a staging directory: {e}")))?;
    let staged = staging
        .dir()
        .map_err(|e| copy_error(dir, format!("open the staging directory: {e}")))?;
    let mut extractor = Extractor::for_copy(staged, owner);
    let mut tar = tar::Archive::new(archive);
    for entry in tar
        .entries()
        .map_err(|e| copy_error(dir, format!("read the archive: {e}")))?
    {
        let mut entry = entry.map_err(|e| copy_error(dir, format!("read the archive: {e}")))?;
        extractor
            .entry(&mut entry)
            .map_err(|e| copy_error(dir, format!("entry {:?} refused: {}", e.entry, e.reason)))?;
    }
    extractor
        .finish()
        .map_err(|e| copy_error(dir, format!("{}: {}", e.entry, e.reason)))?;
    staging
        .commit(dir)
        .map_err(|reason| copy_error(dir, reason))
}
