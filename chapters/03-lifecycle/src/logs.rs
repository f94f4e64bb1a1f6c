//! Docker's `json-file` log: one JSON object per line.
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-27T23:19:15.123456789Z"}
//! {"log":"oops\n","stream":"stderr","time":"2026-11-27T23:19:15.123501234Z"}
//! ```
//!
//! The shim writes it while the container runs; `logs` reads it, filters by
//! stream and time, keeps the last N lines, and can follow the file as it
//! grows. One file holds both streams, so their order is kept. With
//! `max-size` the log is a set of files ([`crate::log_rotate`]), read in
//! order from the oldest ([`crate::log_files`]).

use std::io;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::log_config::{LogConfig, LogPolicy, Rotation};
use crate::log_files::{LineReader, LogSet, RotatedFile};
use crate::log_rotate::RotatingFile;
use crate::time::Timestamp;

/// Which output of the container a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// The container's standard output.
    Stdout,
    /// The container's standard error.
    Stderr,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The text, with its trailing newline (absent for a partial line).
    pub log: String,
    /// Which output it came from.
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

// A reader must accept every line the writer can write, escaped.
const _: () = assert!(crate::log_files::MAX_ENCODED_LINE >= (MAX_LINE as u64) * 6);

/// Appends a container's output to its json-file log, line by line.
#[derive(Debug)]
pub struct LogWriter {
    /// `None` for the `none` driver: the output is kept nowhere.
    file: Option<RotatingFile>,
    /// Bytes of an unfinished line, per stream (stdout, stderr).
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    /// Opens `path` for appending, creating it with mode 0640; the log
    /// grows without limit.
    pub fn open(path: &Path) -> Result<LogWriter> {
        LogWriter::with_policy(path, LogPolicy::JsonFile(Rotation::default()))
    }

    /// The writer a container's log configuration asks for: a json-file
    /// log at `path` rotated as configured, or (`none`) no file at all.
    pub fn for_config(path: &Path, config: &LogConfig) -> Result<LogWriter> {
        let policy = config
            .policy()
            .map_err(|e| Error::InvalidHostConfig(e.to_string()))?;
        LogWriter::with_policy(path, policy)
    }

    fn with_policy(path: &Path, policy: LogPolicy) -> Result<LogWriter> {
        let file = match policy {
            LogPolicy::Discard => None,
            LogPolicy::JsonFile(rotation) => Some(RotatingFile::open(path, rotation)?),
        };
        Ok(LogWriter {
            file,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Adds output read from `stream`: every completed line is written at
    /// once, with the current time; the rest waits for its newline.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
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
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let entry = LogEntry {
            log: String::from_utf8_lossy(bytes).into_owned(),
            stream,
            time: Timestamp::now(),
        };
        file.write_line(&encode_line(&entry))
    }
}

/// What `docker logs` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// Include the lines the container wrote to stdout.
    pub stdout: bool,
    /// Include the lines the container wrote to stderr.
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
    sink: impl FnMut(&LogEntry) -> io::Result<()>,
) -> Result<()> {
    let LogSet {
        mut rotated,
        current,
    } = crate::log_files::open(path)?;
    let mut lines = LineReader::new(path, current)?;
    let mut out = Delivery {
        options,
        sink,
        last: None,
    };
    let wanted =
        |line: &[u8]| serde_json::from_slice::<LogEntry>(line).is_ok_and(|e| options.wants(&e));
    // The rotated files to read: all of them, or with `tail`, from the
    // newest back until N lines are found.
    let mut first = 0;
    if let Some(n) = options.tail {
        let mut found = 0;
        if let Some(file) = lines.file() {
            let (start, here) =
                crate::log_tail::last_lines(file, lines.end, n, wanted).ctx("read log", path)?;
            lines.seek(start)?;
            found = here;
        }
        first = rotated.len();
        while found < n && first > 0 {
            first -= 1;
            found += rotated[first].start_at_last(n - found, wanted)?;
        }
    }
    for file in &mut rotated[first..] {
        if !read_rotated(file, &mut out, None)? {
            return Ok(());
        }
    }
    let limit = (!options.follow).then_some(lines.end);
    while let Some(line) = lines.next_line(limit)? {
        if !out.offer(&parse_line(&line, path)?) {
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
        loop {
            // Asked before reading: if the writer has rotated, all it
            // wrote to the file we hold is there by now.
            let rotated = lines.rotated_away();
            while let Some(line) = lines.next_line(None)? {
                if !out.offer(&parse_line(&line, path)?) {
                    return Ok(());
                }
            }
            if !rotated {
                break;
            }
            // ANCHOR: follow_rotation
            // The rest is in the files rotated since (more than one if
            // the writer was quick), then in the new file.
            let after = out.last;
            let newer = |line: &[u8]| {
                after.is_none_or(|a| parse_line(line, path).is_ok_and(|e| e.time > a))
            };
            let LogSet { rotated, current } = crate::log_files::open_since(path, newer)?;
            for mut file in rotated {
                if !read_rotated(&mut file, &mut out, after)? {
                    return Ok(());
                }
            }
            lines = LineReader::new(path, current)?;
            // ANCHOR_END: follow_rotation
        }
        if !still {
            return Ok(());
        }
        sleep(FOLLOW_POLL);
    }
}

/// Hands the entries a reader reads to its client: those the options
/// want, and remembers how far it has read.
struct Delivery<'a, S> {
    options: &'a LogOptions,
    sink: S,
    /// The time of the last entry read (wanted or not): after a rotation,
    /// reading goes on after it.
    last: Option<Timestamp>,
}

impl<S: FnMut(&LogEntry) -> io::Result<()>> Delivery<'_, S> {
    /// False when the client went away.
    fn offer(&mut self, e: &LogEntry) -> bool {
        self.last = Some(e.time);
        !self.options.wants(e) || (self.sink)(e).is_ok()
    }
}

/// Reads a rotated file into `out`, passing over the wanted lines `tail`
/// left out and those not after `after`; false when the client left.
fn read_rotated<S: FnMut(&LogEntry) -> io::Result<()>>(
    file: &mut RotatedFile,
    out: &mut Delivery<'_, S>,
    after: Option<Timestamp>,
) -> Result<bool> {
    let mut skip = file.skip();
    let mut open = true;
    let path = file.path().to_path_buf();
    file.each_line(|line| {
        let e = parse_line(line, &path)?;
        if after.is_some_and(|a| e.time <= a) {
            return Ok(true);
        }
        if skip > 0 && out.options.wants(&e) {
            skip -= 1;
            out.last = Some(e.time);
            return Ok(true);
        }
        open = out.offer(&e);
        Ok(open)
    })?;
    Ok(open)
}

/// One line of the log, read back.
pub(crate) fn parse_line(line: &[u8], path: &Path) -> Result<LogEntry> {
    serde_json::from_slice(line).map_err(|e| Error::Corrupt {
        path: path.into(),
        reason: format!("log line {:?}: {e}", String::from_utf8_lossy(line)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;
    use std::path::PathBuf;
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
