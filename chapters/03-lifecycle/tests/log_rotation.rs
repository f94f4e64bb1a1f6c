//! The json-file log with rotation: what `logs`, `--tail`, `--since`,
//! `--until` and `logs -f` read back from a log that is a set of plain and
//! gzip'd files (no container: the writer and the reader of chapter 03).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use minidock_lifecycle::log_config::{LogConfig, Rotation};
use minidock_lifecycle::log_rotate::RotatingFile;
use minidock_lifecycle::logs::{encode_line, read_log, LogEntry, LogOptions, LogWriter, Stream};
use minidock_lifecycle::time::Timestamp;

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

/// The log configuration that asks for `rotation`.
fn config(rotation: Rotation) -> LogConfig {
    let mut options = std::collections::BTreeMap::new();
    options.insert(
        "max-size".to_string(),
        rotation.max_size.unwrap().to_string(),
    );
    options.insert("max-file".to_string(), rotation.max_file.to_string());
    options.insert("compress".to_string(), rotation.compress.to_string());
    LogConfig {
        driver: "json-file".to_string(),
        options,
    }
}

/// A log of lines 0..total, rotated every 3 lines into at most 4
/// files (the rotated ones gzip'd when `compress`).
fn rotated_log(dir: &Path, total: u64, compress: bool) -> PathBuf {
    let path = dir.join("c-json.log");
    let one = encode_line(&LogEntry {
        log: "line 00\n".into(),
        stream: Stream::Stdout,
        time: Timestamp::from_unix(1_000, 0),
    })
    .len() as u64;
    let rotation = Rotation {
        max_size: Some(3 * one),
        max_file: 4,
        compress,
    };
    let mut w = RotatingFile::open(&path, rotation).unwrap();
    for i in 0..total {
        let e = LogEntry {
            log: format!("line {i:02}\n"),
            stream: if i % 2 == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            },
            time: Timestamp::from_unix(1_000 + i as i64, 0),
        };
        w.write_line(&encode_line(&e)).unwrap();
    }
    path
}

#[test]
fn reads_across_rotated_and_compressed_files_in_order() {
    for compress in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        // 3 rotated files of 3 lines and the current one: 0..=8 fell off.
        let path = rotated_log(dir.path(), 19, compress);
        let logs = |o: LogOptions| -> Vec<String> {
            read_all(&path, &o)
                .into_iter()
                .map(|e| e.log.trim().to_string())
                .collect()
        };
        let all: Vec<String> = (9..19).map(|i| format!("line {i:02}")).collect();
        assert_eq!(logs(LogOptions::default()), all, "compress={compress}");
        for n in [0, 1, 2, 5, 9, 10, 50] {
            let tail = logs(LogOptions {
                tail: Some(n),
                ..Default::default()
            });
            assert_eq!(tail, all[all.len().saturating_sub(n)..], "tail {n}");
        }
        let stderr_tail = logs(LogOptions {
            stdout: false,
            tail: Some(4),
            ..Default::default()
        });
        assert_eq!(stderr_tail, ["line 11", "line 13", "line 15", "line 17"]);
        let window = logs(LogOptions {
            since: Some(Timestamp::from_unix(1_010, 0)),
            until: Some(Timestamp::from_unix(1_013, 0)),
            ..Default::default()
        });
        assert_eq!(window, ["line 10", "line 11", "line 12"]);
    }
}

#[test]
fn follow_goes_on_across_one_rotation_or_several_between_looks() {
    for compress in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        // max-size is 1 byte: each line after the first rotates.
        let rotation = Rotation {
            max_size: Some(1),
            max_file: 10,
            compress,
        };
        let mut w = LogWriter::for_config(&path, &config(rotation)).unwrap();
        w.write(Stream::Stdout, b"first\n").unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let reader = {
            let (path, running) = (path.clone(), running.clone());
            std::thread::spawn(move || {
                let options = LogOptions {
                    follow: true,
                    ..Default::default()
                };
                let keep = || running.load(Ordering::SeqCst);
                let sink = |e: &LogEntry| seen_tx.send(e.log.clone()).map_err(io::Error::other);
                read_log(&path, &options, keep, sink).unwrap();
            })
        };
        let wait = Duration::from_secs(10);
        assert_eq!(seen_rx.recv_timeout(wait).unwrap(), "first\n");
        // One rotation at a time, each seen before the next.
        for i in 0..3 {
            let line = format!("step {i}\n");
            w.write(Stream::Stdout, line.as_bytes()).unwrap();
            assert_eq!(seen_rx.recv_timeout(wait).unwrap(), line);
        }
        // Five rotations at once, faster than the reader looks.
        w.write(Stream::Stdout, b"b0\nb1\nb2\nb3\nb4\n").unwrap();
        for i in 0..5 {
            let got = seen_rx.recv_timeout(wait).unwrap();
            assert_eq!(got, format!("b{i}\n"), "compress={compress}");
        }
        running.store(false, Ordering::SeqCst);
        reader.join().unwrap();
        assert!(seen_rx.try_recv().is_err(), "nothing seen twice");
    }
}
