//! Log rotation: the json-file log kept under `max-size` × `max-file`.
//!
//! The files have Docker's names, newest first:
//!
//! ```text
//! <id>-json.log        being written
//! <id>-json.log.1      the previous one     (<id>-json.log.1.gz with compress=true)
//! <id>-json.log.2      the one before that  (…2.gz)
//! ```
//!
//! The writer checks the size *before* each line, as Docker does: once the
//! file has reached `max-size`, it is rotated and the line goes into a new
//! file, so a file is at most `max-size` plus one line, and a line is never
//! split across two files. Rotating shifts every `.N` to `.N+1` (the oldest
//! falls off), renames the log to `.1` and, with `compress`, gzips `.1`
//! into `.1.gz`. With `max-file=1` the log is simply started anew.
//!
//! Readers ([`crate::log_files`]) open the set of files while the writer
//! cannot be half-way through a rotation: both take a `flock` on the
//! container's directory, the writer an exclusive one while it rotates, a
//! reader a shared one while it opens the files. An open file stays
//! readable after it is renamed or removed, so a reader never needs the
//! lock for longer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, IoContext, Result};
use crate::log_config::Rotation;

/// The name of the `n`-th rotated file of `log` (1: the newest).
pub fn rotated_name(log: &Path, n: u32, compressed: bool) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(format!(".{n}"));
    if compressed {
        name.push(".gz");
    }
    PathBuf::from(name)
}

/// Takes a `flock` on the directory that holds `log`: exclusive for the
/// writer while it rotates, shared for a reader while it opens the files.
/// Released when dropped.
pub fn lock_log_dir(log: &Path, exclusive: bool) -> Result<Flock<File>> {
    let dir = log.parent().unwrap_or(Path::new("."));
    let file = File::open(dir).ctx("open log directory", dir)?;
    let arg = if exclusive {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockShared
    };
    Flock::lock(file, arg).map_err(|(_, e)| Error::Io {
        op: "lock log directory",
        path: dir.into(),
        source: e.into(),
    })
}

/// The file the writer appends to, rotated as its [`Rotation`] says.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    /// Bytes in `file` (what was there when it was opened, plus what was
    /// written since).
    size: u64,
    rotation: Rotation,
}

impl RotatingFile {
    /// Opens `path` for appending (creating it with mode 0640); a log that
    /// is already there (a container started again) keeps growing.
    pub fn open(path: &Path, rotation: Rotation) -> Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata().ctx("stat log", path)?.len();
        Ok(RotatingFile {
            path: path.into(),
            file,
            size,
            rotation,
        })
    }

    // ANCHOR: write_line
    /// Appends one encoded line, rotating first if the file is full.
    pub fn write_line(&mut self, line: &[u8]) -> Result<()> {
        if self.rotation.max_size.is_some_and(|max| self.size >= max) {
            self.rotate()?;
        }
        // One write per line: with O_APPEND, readers never see two lines
        // interleaved.
        self.file.write_all(line).ctx("write log", &self.path)?;
        self.size += line.len() as u64;
        Ok(())
    }
    // ANCHOR_END: write_line

    // ANCHOR: rotate
    /// Moves the full log out of the way and starts a new one.
    fn rotate(&mut self) -> Result<()> {
        let _lock = lock_log_dir(&self.path, true)?;
        let Rotation {
            max_file, compress, ..
        } = self.rotation;
        if max_file < 2 {
            remove_if_there(&self.path)?;
        } else {
            // The oldest falls off; every other moves one up.
            remove_if_there(&rotated_name(&self.path, max_file - 1, compress))?;
            for n in (2..max_file).rev() {
                let from = rotated_name(&self.path, n - 1, compress);
                let to = rotated_name(&self.path, n, compress);
                rename_if_there(&from, &to)?;
            }
            let first = rotated_name(&self.path, 1, false);
            fs::rename(&self.path, &first).ctx("rotate log", &self.path)?;
            if compress {
                gzip_into(&first, &rotated_name(&self.path, 1, true))?;
            }
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
    // ANCHOR_END: rotate
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
        .ctx("open log", path)
}

fn remove_if_there(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).ctx("remove log", path),
        _ => Ok(()),
    }
}

fn rename_if_there(from: &Path, to: &Path) -> Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).ctx("rotate log", from),
        _ => Ok(()),
    }
}

/// Writes `plain` gzip'd to `gz` (through a temporary name, so a reader
/// never opens half a file), then removes `plain`.
fn gzip_into(plain: &Path, gz: &Path) -> Result<()> {
    let tmp = gz.with_extension("gz.tmp");
    let write = || -> io::Result<()> {
        let mut from = File::open(plain)?;
        let to = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o640)
            .open(&tmp)?;
        let mut encoder = flate2::write::GzEncoder::new(to, flate2::Compression::default());
        io::copy(&mut from, &mut encoder)?;
        encoder.finish()?;
        fs::rename(&tmp, gz)
    };
    write().ctx("compress log", plain)?;
    remove_if_there(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn line(i: usize) -> Vec<u8> {
        format!("line {i:04}\n").into_bytes() // 10 bytes
    }

    #[test]
    fn keeps_at_most_max_file_files_with_dockers_names() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        let rotation = Rotation {
            max_size: Some(30),
            max_file: 3,
            compress: false,
        };
        let mut w = RotatingFile::open(&log, rotation).unwrap();
        for i in 0..20 {
            w.write_line(&line(i)).unwrap();
        }
        assert_eq!(
            names(dir.path()),
            ["c-json.log", "c-json.log.1", "c-json.log.2"]
        );
        // Three lines a file, newest in the log; two whole files before it.
        let read = |p: &Path| fs::read_to_string(p).unwrap();
        assert_eq!(read(&log), "line 0018\nline 0019\n");
        assert_eq!(
            read(&rotated_name(&log, 1, false)),
            "line 0015\nline 0016\nline 0017\n"
        );
        assert_eq!(
            read(&rotated_name(&log, 2, false)),
            "line 0012\nline 0013\nline 0014\n"
        );
    }

    #[test]
    fn compressed_files_are_gzip_of_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        let rotation = Rotation {
            max_size: Some(30),
            max_file: 4,
            compress: true,
        };
        let mut w = RotatingFile::open(&log, rotation).unwrap();
        for i in 0..12 {
            w.write_line(&line(i)).unwrap();
        }
        assert_eq!(
            names(dir.path()),
            [
                "c-json.log",
                "c-json.log.1.gz",
                "c-json.log.2.gz",
                "c-json.log.3.gz"
            ]
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(rotated_name(&log, 3, true)).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "line 0000\nline 0001\nline 0002\n");
    }

    #[test]
    fn one_file_starts_anew_and_no_size_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        let mut w = RotatingFile::open(
            &log,
            Rotation {
                max_size: Some(15),
                ..Rotation::default()
            },
        )
        .unwrap();
        for i in 0..5 {
            w.write_line(&line(i)).unwrap();
        }
        assert_eq!(names(dir.path()), ["c-json.log"]);
        assert_eq!(fs::read_to_string(&log).unwrap(), "line 0004\n");
        let other = dir.path().join("d-json.log");
        let mut w = RotatingFile::open(&other, Rotation::default()).unwrap();
        for i in 0..50 {
            w.write_line(&line(i)).unwrap();
        }
        assert_eq!(fs::read(&other).unwrap().len(), 500);
    }
}
