//! Writing a file so that readers see the old content or the new one, never
//! a mix, and a crash never leaves half a file.
//!
//! The recipe: write a temporary file in the same directory, `fsync` it,
//! `rename` it over the target (atomic within one file system), then `fsync`
//! the directory so the rename itself survives a power cut.

use std::path::Path;

use crate::error::Result;

// ANCHOR: write_atomic
/// Replaces `path` with `bytes` atomically (see the module text). The file
/// gets mode 0600: container state is the engine's business.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // exercise 3.3 atomic-write: replace `path` by `bytes` so a crash or a concurrent reader never sees a partial file.
    // hint: create a temporary file next to `path` (same directory, so rename stays on one file system), write it and call sync_all
    // hint: fs::rename the temporary file over `path`, then open the directory and sync_all it; remove the temporary file if anything fails
    use crate::error::IoContext;
    use rand::Rng;
    use std::fs::{self, File, OpenOptions};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.tmp-{:08x}",
        rand::thread_rng().gen::<u32>()
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .ctx("create", &tmp)?;
        file.write_all(bytes).ctx("write", &tmp)?;
        file.sync_all().ctx("fsync", &tmp)?;
        fs::rename(&tmp, path).ctx("rename into place", path)?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .ctx("fsync directory", dir)
    })();
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        fs::remove_file(&tmp).ok();
    }
    result
    // end exercise
}
// ANCHOR_END: write_atomic

/// Replaces `path` with `bytes` atomically, like [`write_atomic`], but
/// without waiting for the disk (no `fsync`): a reader, or an engine that
/// restarts after a crash of its own, sees the old content or the new,
/// never a mix; only a power cut may lose the new content, and then the
/// old one is still whole. Each `fsync` costs a journal commit, often
/// milliseconds on a busy disk; this is for what nobody reads after a
/// power cut: the last states of a container about to be removed.
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use crate::error::IoContext;
    use std::fs::{self, OpenOptions};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{:08x}", rand::random::<u32>()));
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .ctx("create", &tmp)
        .and_then(|mut file| file.write_all(bytes).ctx("write", &tmp))
        .and_then(|()| match exchange(&tmp, path) {
            // The old content now has the temporary name.
            Ok(()) => fs::remove_file(&tmp).ctx("remove", &tmp),
            // Nothing to replace yet (or no exchange on this file system).
            Err(_) => fs::rename(&tmp, path).ctx("rename into place", path),
        });
    if result.is_err() {
        fs::remove_file(&tmp).ok();
    }
    result
}

/// Swaps the files `a` and `b` atomically (`renameat2` with
/// `RENAME_EXCHANGE`); fails when either is missing.
///
/// What [`replace_atomic`] replaces with: a plain `rename` over an
/// existing file makes ext4 start writing the new file out, and often
/// wait for its journal (its `auto_da_alloc` guard for programs that
/// forget to `fsync`) — the very wait `replace_atomic` is there to avoid,
/// 5 to 15 ms a file on a busy disk. An exchange is atomic too, and exempt.
pub fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are NUL-terminated paths that live through the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let a: u64 = rand::thread_rng().gen();
        write_atomic(&path, format!("{a}").as_bytes()).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), a.to_string());
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["state.json"]);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn replacing_without_fsync_is_still_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        replace_atomic(&path, b"first").unwrap();
        replace_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(replace_atomic(&dir.path().join("missing/x"), b"x").is_err());
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "x").unwrap();
        // renaming a file over a non-empty directory fails
        assert!(write_atomic(&path, b"new").is_err());
        assert!(path.join("inside").exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file left behind"
        );
    }

    /// A reader racing with writers sees one whole version or the other.
    #[test]
    fn concurrent_readers_never_see_a_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let a = vec![b'a'; 256 * 1024];
        let b = vec![b'b'; 200 * 1024];
        write_atomic(&path, &a).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (path, stop, a, b) = (path.clone(), stop.clone(), a.clone(), b.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) {
                    let got = fs::read(&path).unwrap();
                    assert!(
                        got == a || got == b,
                        "saw a partial file of {} bytes",
                        got.len()
                    );
                    reads += 1;
                }
                reads
            })
        };
        for i in 0..200 {
            write_atomic(&path, if i % 2 == 0 { &b } else { &a }).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    }
}
