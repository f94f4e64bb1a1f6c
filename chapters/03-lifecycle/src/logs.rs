//! Docker's `json-file` log: one JSON object per line.
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-27T23:19:15.123456789Z"}
//! {"log":"oops\n","stream":"stderr","time":"2026-11-27T23:19:15.123501234Z"}
//! ```
//!
//! The shim writes it while the container runs; `logs` reads it, filters by
//! stream and time, keeps the last N lines, and can follow the file as it
//! grows. One file holds both streams, so their order is kept.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{io_err, Error, Result};
use crate::time::Timestamp;

/// Which output of the container a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The text, with its trailing newline (absent for a partial line).
    pub log: String,
    pub stream: Stream,
    /// When the shim read it from the container.
    pub time: Timestamp,
}

impl LogEntry {
    /// The line as `docker logs` prints it, with the time in front when
    /// `timestamps` is set.
    pub fn format(&self, timestamps: bool) -> String {
        if timestamps {
            format!("{} {}", self.time, self.log)
        } else {
            self.log.clone()
        }
    }
}

// ANCHOR: encode_line
/// One log entry as one line of the file: a JSON object with the keys
/// `log`, `stream`, `time` in this order, then `\n`.
pub fn encode_line(entry: &LogEntry) -> Vec<u8> {
    // exercise 3.4 json-log-line: encode one entry as a line of Docker's json-file log.
    // hint: the struct derives Serialize with the field names Docker uses: serde_json::to_vec does the escaping
    // hint: one object per line: end it with b'\n' (the "\n" inside `log` is escaped by JSON, so it cannot break the line)
    let mut line = serde_json::to_vec(entry).expect("a LogEntry always serialises");
    line.push(b'\n');
    line
    // end exercise
}
// ANCHOR_END: encode_line

/// Longest line kept whole; longer output is written in pieces of this
/// size (Docker uses 16 KiB too), so one endless line cannot eat memory.
pub const MAX_LINE: usize = 16 * 1024;

/// Appends a container's output to its json-file log, line by line.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    path: PathBuf,
    /// Bytes of an unfinished line, per stream (stdout, stderr).
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    /// Opens `path` for appending, creating it with mode 0640.
    pub fn open(path: &Path) -> Result<LogWriter> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(path)
            .map_err(io_err("open log", path))?;
        Ok(LogWriter {
            file,
            path: path.into(),
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Adds output read from `stream`: every completed line is written at
    /// once, with the current time; the rest waits for its newline.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> Result<()> {
        let idx = stream as usize;
        self.pending[idx].extend_from_slice(data);
        loop {
            let buf = &self.pending[idx];
            let cut = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => i + 1,
                None if buf.len() >= MAX_LINE => MAX_LINE,
                None => break,
            };
            let line: Vec<u8> = self.pending[idx].drain(..cut).collect();
            self.append(stream, &line)?;
        }
        Ok(())
    }

    /// Writes what is left of an unfinished line of `stream` (at its end).
    pub fn flush(&mut self, stream: Stream) -> Result<()> {
        let rest = std::mem::take(&mut self.pending[stream as usize]);
        if rest.is_empty() {
            return Ok(());
        }
        self.append(stream, &rest)
    }

    fn append(&mut self, stream: Stream, bytes: &[u8]) -> Result<()> {
        let entry = LogEntry {
            log: String::from_utf8_lossy(bytes).into_owned(),
            stream,
            time: Timestamp::now(),
        };
        // One write per line: with O_APPEND, readers never see two lines
        // interleaved.
        self.file
            .write_all(&encode_line(&entry))
            .map_err(io_err("write log", &self.path))
    }
}

/// What `docker logs` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    /// Only lines at or after this time.
    pub since: Option<Timestamp>,
    /// Only lines before this time.
    pub until: Option<Timestamp>,
    /// Only the last N lines (of those the other filters keep).
    pub tail: Option<usize>,
    /// Keep reading as the file grows, while `keep_following` says so.
    pub follow: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            stdout: true,
            stderr: true,
            since: None,
            until: None,
            tail: None,
            follow: false,
        }
    }
}

impl LogOptions {
    fn wants(&self, e: &LogEntry) -> bool {
        let stream_ok = match e.stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        };
        stream_ok && self.since.is_none_or(|s| e.time >= s) && self.until.is_none_or(|u| e.time < u)
    }
}

/// How often a following reader looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// Reads the log at `path`, handing every wanted entry to `sink`.
///
/// The log is streamed, never loaded whole: memory stays at one line and a
/// read buffer whatever the size of the file. `tail` finds where the last
/// N wanted lines begin by reading the file backwards from its end
/// ([`crate::log_tail`]); without `follow`, reading stops at the size the
/// file had when the read began.
///
/// With `follow`, it keeps polling the file for new lines until
/// `keep_following` returns false (the container stopped, or the client
/// left); it then reads once more so the last lines are not lost. A `sink`
/// error (a client that hung up) ends the read without an error.
pub fn read_log(
    path: &Path,
    options: &LogOptions,
    mut keep_following: impl FnMut() -> bool,
    mut sink: impl FnMut(&LogEntry) -> io::Result<()>,
) -> Result<()> {
    let mut lines = LineReader::open(path)?;
    if let (Some(n), Some(file)) = (options.tail, lines.file()) {
        let end = lines.end;
        let start = crate::log_tail::start_of_last(file, end, n, |line| {
            serde_json::from_slice::<LogEntry>(line).is_ok_and(|e| options.wants(&e))
        })
        .map_err(io_err("read log", path))?;
        lines.seek(start)?;
    }
    let limit = (!options.follow).then_some(lines.end);
    while let Some(e) = lines.next_entry(limit)? {
        if options.wants(&e) && sink(&e).is_err() {
            return Ok(());
        }
    }
    if !options.follow {
        return Ok(());
    }
    loop {
        let still = keep_following();
        if options.until.is_some_and(|u| Timestamp::now() >= u) {
            return Ok(());
        }
        lines.reopen_if_missing();
        while let Some(e) = lines.next_entry(None)? {
            if options.wants(&e) && sink(&e).is_err() {
                return Ok(());
            }
        }
        if !still {
            return Ok(());
        }
        sleep(FOLLOW_POLL);
    }
}

/// The longest line a reader accepts: the writer cuts output at
/// [`MAX_LINE`] bytes, which JSON escaping can make at most six times
/// longer. Anything longer is not a line this engine wrote.
const MAX_ENCODED_LINE: u64 = (MAX_LINE as u64) * 6 + 4096;

/// Reads complete lines of a log that may still grow, one at a time.
struct LineReader {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    /// Bytes of an incomplete last line, kept until its newline arrives.
    partial: Vec<u8>,
    /// The offset just after what was read.
    offset: u64,
    /// The size of the file when it was opened.
    end: u64,
}

impl LineReader {
    fn open(path: &Path) -> Result<LineReader> {
        let file = match File::open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err("open log", path)(e)),
        };
        let end = match &file {
            Some(f) => f.metadata().map_err(io_err("stat log", path))?.len(),
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

    fn file(&self) -> Option<&File> {
        self.reader.as_ref().map(BufReader::get_ref)
    }

    fn seek(&mut self, offset: u64) -> Result<()> {
        if let Some(reader) = &mut self.reader {
            reader
                .seek(SeekFrom::Start(offset))
                .map_err(io_err("seek log", &self.path))?;
            self.offset = offset;
            self.partial.clear();
        }
        Ok(())
    }

    /// A log that did not exist yet may have appeared (a following reader
    /// that started before the container wrote anything).
    fn reopen_if_missing(&mut self) {
        if self.reader.is_none() {
            self.reader = File::open(&self.path)
                .ok()
                .map(|f| BufReader::with_capacity(64 * 1024, f));
        }
    }

    /// The next complete entry that starts before `limit` (if given), or
    /// `None` when no complete line is there now.
    fn next_entry(&mut self, limit: Option<u64>) -> Result<Option<LogEntry>> {
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
                .map_err(io_err("read log", &self.path))?;
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
            let line = std::mem::take(&mut self.partial);
            let line = &line[..line.len() - 1];
            if line.is_empty() {
                continue;
            }
            return serde_json::from_slice(line)
                .map(Some)
                .map_err(|e| Error::Corrupt {
                    path: self.path.clone(),
                    reason: format!("log line {:?}: {e}", String::from_utf8_lossy(line)),
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn read_all(path: &Path, options: &LogOptions) -> Vec<LogEntry> {
        let mut out = Vec::new();
        read_log(
            path,
            options,
            || false,
            |e| {
                out.push(e.clone());
                Ok(())
            },
        )
        .unwrap();
        out
    }

    #[test]
    fn a_line_is_dockers_json_object() {
        let entry = LogEntry {
            log: "tab\t\"quoted\" ü\n".into(),
            stream: Stream::Stderr,
            time: Timestamp::from_unix(1_795_821_555, 123_456_789),
        };
        let line = encode_line(&entry);
        assert_eq!(
            String::from_utf8(line.clone()).unwrap(),
            "{\"log\":\"tab\\t\\\"quoted\\\" ü\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-27T23:19:15.123456789Z\"}\n"
        );
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let back: LogEntry = serde_json::from_slice(&line).unwrap();
        assert_eq!(back, entry);
    }

    #[test]
    fn writer_splits_lines_keeps_streams_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut w = LogWriter::open(&path).unwrap();
        let n: u32 = rand::random::<u32>() % 1000;
        w.write(Stream::Stdout, format!("one {n}\ntw").as_bytes())
            .unwrap();
        w.write(Stream::Stderr, b"err\n").unwrap();
        w.write(Stream::Stdout, b"o\nthree").unwrap();
        w.flush(Stream::Stdout).unwrap();
        w.flush(Stream::Stderr).unwrap();
        let got = read_all(&path, &LogOptions::default());
        let lines: Vec<(Stream, &str)> = got.iter().map(|e| (e.stream, e.log.as_str())).collect();
        let first = format!("one {n}\n");
        assert_eq!(
            lines,
            vec![
                (Stream::Stdout, first.as_str()),
                (Stream::Stderr, "err\n"),
                (Stream::Stdout, "two\n"),
                (Stream::Stdout, "three"),
            ]
        );
        assert!(
            got.windows(2).all(|w| w[0].time <= w[1].time),
            "times must not go back"
        );
        let raw = std::fs::read_to_string(&path).unwrap();
        assert_eq!(raw.lines().count(), 4);
    }

    #[test]
    fn endless_lines_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stdout, &vec![b'x'; MAX_LINE * 2 + 10])
            .unwrap();
        let got = read_all(&path, &LogOptions::default());
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|e| e.log.len() == MAX_LINE));
    }

    fn sample_log(dir: &Path) -> PathBuf {
        let path = dir.join("log");
        let mut f = File::create(&path).unwrap();
        for i in 0..10 {
            let e = LogEntry {
                log: format!("line {i}\n"),
                stream: if i % 3 == 0 {
                    Stream::Stderr
                } else {
                    Stream::Stdout
                },
                time: Timestamp::from_unix(1_000 + i, 0),
            };
            f.write_all(&encode_line(&e)).unwrap();
        }
        path
    }

    #[test]
    fn filters_tail_since_until_and_streams() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_log(dir.path());
        let logs = |o: LogOptions| -> Vec<String> {
            read_all(&path, &o)
                .into_iter()
                .map(|e| e.log.trim().to_string())
                .collect()
        };
        assert_eq!(logs(LogOptions::default()).len(), 10);
        assert_eq!(
            logs(LogOptions {
                tail: Some(2),
                ..Default::default()
            }),
            ["line 8", "line 9"]
        );
        assert_eq!(
            logs(LogOptions {
                tail: Some(0),
                ..Default::default()
            }),
            Vec::<String>::new()
        );
        assert_eq!(
            logs(LogOptions {
                stdout: false,
                ..Default::default()
            }),
            ["line 0", "line 3", "line 6", "line 9"]
        );
        assert_eq!(
            logs(LogOptions {
                stderr: false,
                tail: Some(1),
                ..Default::default()
            }),
            ["line 8"]
        );
        let since = Some(Timestamp::from_unix(1_007, 0));
        assert_eq!(
            logs(LogOptions {
                since,
                ..Default::default()
            }),
            ["line 7", "line 8", "line 9"]
        );
        let until = Some(Timestamp::from_unix(1_002, 0));
        assert_eq!(
            logs(LogOptions {
                until,
                ..Default::default()
            }),
            ["line 0", "line 1"]
        );
        let e = read_all(&path, &LogOptions::default()).remove(0);
        assert_eq!(e.format(true), "1970-01-01T00:16:40.000000000Z line 0\n");
        assert_eq!(e.format(false), "line 0\n");
    }

    #[test]
    fn a_missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_all(&dir.path().join("none"), &LogOptions::default()).is_empty());
    }

    #[test]
    fn follow_sees_lines_written_later_and_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stdout, b"before\n").unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let reader = {
            let (path, running) = (path.clone(), running.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let options = LogOptions {
                    follow: true,
                    ..Default::default()
                };
                read_log(
                    &path,
                    &options,
                    || running.load(Ordering::SeqCst),
                    |e| {
                        seen.push(e.log.clone());
                        Ok(())
                    },
                )
                .unwrap();
                seen
            })
        };
        sleep(Duration::from_millis(150));
        w.write(Stream::Stdout, b"after 1\nafter").unwrap();
        sleep(Duration::from_millis(150));
        w.write(Stream::Stderr, b"after 2\n").unwrap();
        w.flush(Stream::Stdout).unwrap();
        running.store(false, Ordering::SeqCst);
        let seen = reader.join().unwrap();
        assert_eq!(seen, ["before\n", "after 1\n", "after 2\n", "after"]);
    }
}
