//! The helpers run from a sealed, in-memory copy of the engine's binary.
//!
//! Every helper (the shim, chapter 01's init helper, the exec helper) is
//! the engine's own binary started again. While a helper enters a
//! container, its `/proc/<pid>/exe` names the file it runs. If that file is
//! the host's binary, a container process that gets hold of it can write
//! into it (CVE-2019-5736: the next helper then runs the attacker's code as
//! root on the host). Chapter 01 makes the helper not dumpable, which closes
//! `/proc/<pid>/exe` to the container; this module makes sure that even an
//! open file would be worthless:
//!
//! 1. copy the binary into a `memfd` — an anonymous file in memory, with no
//!    path on any file system;
//! 2. *seal* it (`F_SEAL_WRITE`, `F_SEAL_SHRINK`, `F_SEAL_GROW`, then
//!    `F_SEAL_SEAL`): from then on the kernel refuses every write, resize
//!    and change of seals, for everyone, root included;
//! 3. start the helpers through `/proc/self/fd/<n>`, so their
//!    `/proc/<pid>/exe` is the sealed copy, never the host's file. A helper
//!    that re-executes itself (`/proc/self/exe`) runs the same copy.
//!
//! runc does exactly this (`runc-dmz`, `memfd-bind`). The copy is made once
//! per engine process and kept: it costs the binary's size in memory, and
//! makes each start *cheaper*, since its pages are already resident.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, IoContext, Result};

/// The seals a helper binary carries: no write, no resize, no more changes.
pub const SEALS: libc::c_int =
    libc::F_SEAL_WRITE | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;

/// A sealed in-memory copy of a program.
#[derive(Debug)]
pub struct SealedBinary {
    /// Close-on-exec: a helper never inherits it; `execve` opens the file
    /// through `/proc/self/fd/<n>` before the descriptors are closed.
    fd: OwnedFd,
    source: PathBuf,
}

// ANCHOR: seal
impl SealedBinary {
    /// Copies `program` into a new memfd and seals it.
    pub fn copy_of(program: &Path) -> Result<SealedBinary> {
        let name = c"minidock-helper";
        // SAFETY: memfd_create takes a NUL-terminated name and flags and
        // returns a new descriptor, which we own from here on.
        let fd = unsafe {
            libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error()).ctx("memfd_create for", program);
        }
        // SAFETY: fd was just returned by memfd_create and is ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut source = File::open(program).ctx("open", program)?;
        let mut copy = File::from(fd);
        io::copy(&mut source, &mut copy).ctx("copy into a memfd", program)?;
        let fd = OwnedFd::from(copy);
        add_seals(&fd).ctx("seal the memfd copy of", program)?;
        let sealed = SealedBinary {
            fd,
            source: program.to_path_buf(),
        };
        // A seal that did not take must stop the engine, not be found later.
        if sealed.seals()? & SEALS != SEALS {
            return Err(Error::NotSealed(program.to_path_buf()));
        }
        Ok(sealed)
    }

    /// The path to execute: `/proc/self/fd/<n>`, valid in this process
    /// and in a child between `fork` and `execve`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
    // ANCHOR_END: seal

    /// The program it is a copy of.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The seals the kernel reports (`F_GET_SEALS`).
    pub fn seals(&self) -> Result<libc::c_int> {
        seals_of(&self.fd)
    }
}

/// Adds [`SEALS`] to a memfd, waiting out a busy page.
///
/// `F_SEAL_WRITE` is refused with `EBUSY` while a page of the file still has
/// an extra reference: the copy we just made can leave pages in another
/// CPU's LRU batch (or in flight from `copy_file_range`) for a moment, and
/// the kernel only waits briefly for them. Nothing is wrong with the file, so
/// trying again a little later is the fix; any other error is final.
fn add_seals(fd: &OwnedFd) -> io::Result<()> {
    let mut delay = std::time::Duration::from_millis(5);
    let mut attempts = 0;
    loop {
        // SAFETY: F_ADD_SEALS on a memfd we own, with a constant bit set.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        attempts += 1;
        // About three seconds in all before a busy page counts as a failure.
        if err.raw_os_error() != Some(libc::EBUSY) || attempts == 20 {
            return Err(err);
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(std::time::Duration::from_millis(200));
    }
}

// ANCHOR: sealed_once
/// The seals of the file behind `fd`, e.g. a helper's `/proc/<pid>/exe`
/// opened read-only (`EINVAL` for a file that cannot be sealed).
pub fn seals_of(fd: &impl AsRawFd) -> Result<libc::c_int> {
    // SAFETY: F_GET_SEALS only reads the flags of a descriptor we hold.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 {
        return Err(io::Error::last_os_error()).ctx("read the seals of", "helper binary");
    }
    Ok(seals)
}

/// The sealed copy of `program` for this process, made on first use and
/// kept: an engine copies each helper binary once.
pub fn sealed(program: &Path) -> Result<Arc<SealedBinary>> {
    static COPIES: OnceLock<Mutex<Vec<Arc<SealedBinary>>>> = OnceLock::new();
    let mut copies = COPIES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(copy) = copies.iter().find(|c| c.source == program) {
        return Ok(copy.clone());
    }
    let copy = Arc::new(SealedBinary::copy_of(program)?);
    copies.push(copy.clone());
    Ok(copy)
}
// ANCHOR_END: sealed_once

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn the_copy_is_sealed_and_runs() {
        let sealed = sealed(Path::new("/bin/true")).unwrap();
        assert_eq!(sealed.seals().unwrap() & SEALS, SEALS);
        // Cached: the same copy again.
        assert!(Arc::ptr_eq(
            &sealed,
            &super::sealed(Path::new("/bin/true")).unwrap()
        ));
        let status = std::process::Command::new(sealed.path()).status().unwrap();
        assert!(status.success());
        // Neither root nor anyone can write to it, through any path.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(sealed.path())
            .unwrap();
        let e = f.write_all(b"\x7fELF").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
    }

    #[test]
    fn a_missing_program_is_named() {
        let e = SealedBinary::copy_of(Path::new("/no/such/engine")).unwrap_err();
        assert!(e.to_string().contains("/no/such/engine"), "{e}");
    }
}
