// ANCHOR: log_tail_doc
//! `docker logs --tail N` without reading the whole log: the file is read
//! backwards from its end, one block at a time, until N wanted lines are
//! found. Memory is one block and one line, however large the log.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// How much is read at a time, backwards.
const BLOCK: u64 = 64 * 1024;
/// A line longer than this is not one the log writer wrote.
const MAX_LINE: usize = 1 << 20;

// ANCHOR_END: log_tail_doc
// ANCHOR: log_tail_start
/// The offset where the last `n` complete lines of `file` (those before
/// `end`, a trailing incomplete line excluded) that `keep` accepts begin;
/// 0 when there are fewer. `keep` gets each line without its newline.
pub fn start_of_last(
    file: &File,
    end: u64,
    n: usize,
    mut keep: impl FnMut(&[u8]) -> bool,
) -> io::Result<u64> {
    // `pending` holds the file's bytes [pos, pos + pending.len()).
    let mut pending: Vec<u8> = Vec::new();
    let mut pos = end;
    // First, drop an incomplete last line: lines end at a newline.
    loop {
        if let Some(i) = pending.iter().rposition(|b| *b == b'\n') {
            pending.truncate(i + 1);
            break;
        }
        if pos == 0 {
            return Ok(0);
        }
        pos = load_before(file, pos, &mut pending)?;
    }
    if n == 0 {
        return Ok(pos + pending.len() as u64);
    }
    let mut found = 0;
    loop {
        // `pending` ends with the newline of its last line.
        let body = pending.len() - 1;
        if let Some(i) = pending[..body].iter().rposition(|b| *b == b'\n') {
            if keep(&pending[i + 1..body]) {
                found += 1;
                if found == n {
                    return Ok(pos + i as u64 + 1);
                }
            }
            pending.truncate(i + 1);
            continue;
        }
        if pos == 0 {
            // The first line of the file: all of `pending`.
            return Ok(0);
        }
        if pending.len() > MAX_LINE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a line ending at offset {} is longer than any log line",
                    pos + pending.len() as u64
                ),
            ));
        }
        pos = load_before(file, pos, &mut pending)?;
    }
}
// ANCHOR_END: log_tail_start

/// Reads the block before `pos` in front of `pending`; returns its start.
fn load_before(file: &File, pos: u64, pending: &mut Vec<u8>) -> io::Result<u64> {
    let start = pos.saturating_sub(BLOCK);
    let mut block = vec![0u8; (pos - start) as usize];
    file.read_exact_at(&mut block, start)?;
    block.extend_from_slice(pending);
    *pending = block;
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(lines: &[String], trailing: &str) -> (tempfile::NamedTempFile, u64) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        write!(f, "{trailing}").unwrap();
        let len = f.as_file().metadata().unwrap().len();
        (f, len)
    }

    #[test]
    fn finds_the_start_of_the_last_lines_across_blocks() {
        // Lines long enough that the last ones span several blocks.
        let lines: Vec<String> = (0..300)
            .map(|i| format!("{i:05}{}", "x".repeat(i * 37 % 900)))
            .collect();
        let (f, len) = file_with(&lines, "incomplete");
        let text = std::fs::read(f.path()).unwrap();
        for n in [1, 2, 5, 150, 299, 300, 301, 1000] {
            let start = start_of_last(f.as_file(), len, n, |_| true).unwrap() as usize;
            let expected: Vec<&String> = lines.iter().skip(lines.len().saturating_sub(n)).collect();
            let got = String::from_utf8_lossy(&text[start..]);
            let got: Vec<&str> = got.lines().filter(|l| *l != "incomplete").collect();
            assert_eq!(
                got,
                expected.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "n={n}"
            );
        }
        // Only the lines `keep` wants count.
        let start = start_of_last(f.as_file(), len, 3, |l| l.starts_with(b"001")).unwrap() as usize;
        assert!(String::from_utf8_lossy(&text[start..]).starts_with("00197"));
        assert_eq!(
            start_of_last(f.as_file(), len, 0, |_| true).unwrap() as usize,
            text.len() - "incomplete".len()
        );
    }

    #[test]
    fn empty_and_newline_free_files() {
        let (f, len) = file_with(&[], "");
        assert_eq!(start_of_last(f.as_file(), len, 3, |_| true).unwrap(), 0);
        let (f, len) = file_with(&[], "no newline at all");
        assert_eq!(start_of_last(f.as_file(), len, 3, |_| true).unwrap(), 0);
    }
}
