//! The files of one log, for a reader: the rotated ones, oldest first, and
//! the one being written (see [`crate::log_rotate`] for their names).
//!
//! They are opened together under the directory's shared lock, so the set
//! is one the writer left whole, never one half-way through a rotation;
//! once open, each stays readable whatever the writer renames or removes.
//! A rotated file is complete (it is never written again), so it is read
//! with no limit; a gzip'd one cannot be read backwards, so `--tail` counts
//! its lines in one pass and skips them in a second: memory stays at one
//! line and a buffer, as for the plain file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::log_rotate::{lock_log_dir, rotated_name};

/// The longest line a reader accepts: the writer cuts output at
/// [`crate::logs::MAX_LINE`] bytes (16 KiB), which JSON escaping can make
/// at most six times longer. Anything longer is not a line this engine
/// wrote.
pub const MAX_ENCODED_LINE: u64 = 16 * 1024 * 6 + 4096;

/// The files of a log, open.
pub(crate) struct LogSet {
    /// The rotated files, oldest first.
    pub rotated: Vec<RotatedFile>,
    /// The file being written, if there is one yet.
    pub current: Option<File>,
}

/// One rotated file, and where reading it begins.
pub(crate) struct RotatedFile {
    path: PathBuf,
    file: File,
    gzip: bool,
    /// For a plain file: the offset reading begins at.
    offset: u64,
    /// For a gzip'd file: how many wanted lines to pass over first.
    skip: usize,
}

// ANCHOR: open_set
/// Opens every file of the log at `log`. A log with no file yet is empty;
/// a container directory that is gone has no log either.
pub(crate) fn open(log: &Path) -> Result<LogSet> {
    let _lock = match lock_log_dir(log, false) {
        Ok(lock) => Some(lock),
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut rotated = Vec::new();
    for n in 1.. {
        let Some(found) = open_rotated(log, n)? else {
            break;
        };
        rotated.push(found);
    }
    rotated.reverse();
    let current = open_if_there(log)?;
    Ok(LogSet { rotated, current })
}
// ANCHOR_END: open_set

/// Opens the files of the log as [`open`] does, less the older rotated
/// ones: only the newest rotated files whose first line `is_new` accepts
/// are kept (a following reader that has read up to some time, and finds
/// that the writer rotated one or more times since).
pub(crate) fn open_since(log: &Path, mut is_new: impl FnMut(&[u8]) -> bool) -> Result<LogSet> {
    let mut set = open(log)?;
    let mut keep_from = set.rotated.len();
    while keep_from > 0 {
        let mut first = None;
        set.rotated[keep_from - 1].each_line(|line| {
            first = Some(line.to_vec());
            Ok(false)
        })?;
        if !first.is_some_and(|line| is_new(&line)) {
            break;
        }
        keep_from -= 1;
    }
    set.rotated.drain(..keep_from);
    Ok(set)
}

/// The `n`-th rotated file, plain or gzip'd, if there is one.
fn open_rotated(log: &Path, n: u32) -> Result<Option<RotatedFile>> {
    for gzip in [false, true] {
        let path = rotated_name(log, n, gzip);
        if let Some(file) = open_if_there(&path)? {
            return Ok(Some(RotatedFile {
                path,
                file,
                gzip,
                offset: 0,
                skip: 0,
            }));
        }
    }
    Ok(None)
}

fn open_if_there(path: &Path) -> Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).ctx("open log", path),
    }
}

impl RotatedFile {
    /// Makes reading begin at the last `n` lines that `keep` accepts;
    /// returns how many there are (fewer than `n` when the file has fewer).
    pub fn start_at_last(
        &mut self,
        n: usize,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> Result<usize> {
        if !self.gzip {
            let end = self.file.metadata().ctx("stat log", &self.path)?.len();
            let (offset, found) = crate::log_tail::last_lines(&self.file, end, n, keep)
                .ctx("read log", &self.path)?;
            self.offset = offset;
            return Ok(found);
        }
        let mut total = 0usize;
        self.each_line(|line| {
            if keep(line) {
                total += 1;
            }
            Ok(true)
        })?;
        self.skip = total.saturating_sub(n);
        Ok(total.min(n))
    }

    /// How many wanted lines to pass over before handing them on.
    pub fn skip(&self) -> usize {
        self.skip
    }

    /// The file's name, for errors.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands each line (without its newline) from where reading begins to
    /// `f`, until the end or until `f` returns `Ok(false)`.
    pub fn each_line(&mut self, f: impl FnMut(&[u8]) -> Result<bool>) -> Result<()> {
        let mut file = &self.file;
        let at = if self.gzip { 0 } else { self.offset };
        file.seek(SeekFrom::Start(at)).ctx("seek log", &self.path)?;
        if self.gzip {
            let decoder = flate2::read::GzDecoder::new(file);
            lines_of(BufReader::with_capacity(64 * 1024, decoder), &self.path, f)
        } else {
            lines_of(BufReader::with_capacity(64 * 1024, file), &self.path, f)
        }
    }
}

/// The lines of a complete file, one at a time, none longer than a log
/// line can be.
fn lines_of(
    mut reader: impl BufRead,
    path: &Path,
    mut f: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_ENCODED_LINE + 1)
            .read_until(b'\n', &mut line)
            .ctx("read log", path)?;
        if read == 0 {
            return Ok(());
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() as u64 > MAX_ENCODED_LINE {
            return Err(Error::Corrupt {
                path: path.into(),
                reason: "a line is longer than any log line".to_string(),
            });
        }
        if !line.is_empty() && !f(&line)? {
            return Ok(());
        }
    }
}

/// Reads complete lines of a log that may still grow, one at a time.
pub(crate) struct LineReader {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    /// Bytes of an incomplete last line, kept until its newline arrives.
    partial: Vec<u8>,
    /// The offset just after what was read.
    offset: u64,
    /// The size of the file when it was opened.
    pub end: u64,
}

impl LineReader {
    pub fn new(path: &Path, file: Option<File>) -> Result<LineReader> {
        let end = match &file {
            Some(f) => f.metadata().ctx("stat log", path)?.len(),
            None => 0,
        };
        Ok(LineReader {
            path: path.into(),
            reader: file.map(|f| BufReader::with_capacity(64 * 1024, f)),
            partial: Vec::new(),
            offset: 0,
            end,
        })
    }

    pub fn file(&self) -> Option<&File> {
        self.reader.as_ref().map(BufReader::get_ref)
    }

    pub fn seek(&mut self, offset: u64) -> Result<()> {
        if let Some(reader) = &mut self.reader {
            reader
                .seek(SeekFrom::Start(offset))
                .ctx("seek log", &self.path)?;
            self.offset = offset;
            self.partial.clear();
        }
        Ok(())
    }

    /// A log that did not exist yet may have appeared (a following reader
    /// that started before the container wrote anything).
    pub fn reopen_if_missing(&mut self) {
        if self.reader.is_none() {
            self.reader = File::open(&self.path)
                .ok()
                .map(|f| BufReader::with_capacity(64 * 1024, f));
        }
    }

    /// Whether the file at the log's path is another one than ours: the
    /// writer rotated (or, with `max-file=1`, started anew).
    pub fn rotated_away(&self) -> bool {
        let Some(ours) = self.file().and_then(|f| f.metadata().ok()) else {
            return false;
        };
        std::fs::metadata(&self.path)
            .is_ok_and(|now| (now.dev(), now.ino()) != (ours.dev(), ours.ino()))
    }

    /// The next complete line (without its newline) that starts before
    /// `limit` (if given), or `None` when no complete line is there now.
    pub fn next_line(&mut self, limit: Option<u64>) -> Result<Option<Vec<u8>>> {
        let Some(reader) = &mut self.reader else {
            return Ok(None);
        };
        loop {
            let line_start = self.offset - self.partial.len() as u64;
            if self.partial.is_empty() && limit.is_some_and(|l| line_start >= l) {
                return Ok(None);
            }
            let room = MAX_ENCODED_LINE.saturating_sub(self.partial.len() as u64);
            let read = (&mut *reader)
                .take(room + 1)
                .read_until(b'\n', &mut self.partial)
                .ctx("read log", &self.path)?;
            self.offset += read as u64;
            if self.partial.last() != Some(&b'\n') {
                if self.partial.len() as u64 > MAX_ENCODED_LINE {
                    return Err(Error::Corrupt {
                        path: self.path.clone(),
                        reason: format!(
                            "a line at offset {line_start} is longer than any log line"
                        ),
                    });
                }
                return Ok(None); // incomplete: wait for the rest
            }
            let mut line = std::mem::take(&mut self.partial);
            line.pop();
            if line.is_empty() {
                continue;
            }
            return Ok(Some(line));
        }
    }
}
