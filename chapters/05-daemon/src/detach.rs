//! Detach keys: leaving an attached container running.
//!
//! Someone attached to a container's terminal (`docker run -it`, `docker
//! attach`, `docker exec -it`) types into the container: every key goes to
//! its shell. To leave without stopping it they type a key sequence that
//! the container never sees, by default `ctrl-p ctrl-q`. The daemon (and the
//! docker CLI, on its side) watches the input for that sequence:
//!
//! ```text
//! input:  l  s  ⏎  ^P  x  ^P  ^Q
//!         └──────┘  │   │  └────┘
//!         passed    │   │  the sequence: detach, the container keeps running
//!                   └───┘
//!                   ^P was the start of the sequence, but x is not ^Q:
//!                   both are passed on, late but in order
//! ```
//!
//! Bytes that may start the sequence are held back until the next byte
//! says whether they were the sequence or ordinary input. Only a terminal's
//! input is watched, as in Docker: without a TTY, stdin is data (a binary
//! file piped into the container) and passes untouched.
//!
//! The sequence is written as Docker writes it: comma-separated keys, each
//! a single character (`a`) or `ctrl-<c>` with `<c>` one of `a`–`z`, `@`,
//! `[`, `\`, `]`, `^`, `_` (the control codes 0–31).

use std::fmt;

/// Docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// A detach sequence as bytes, e.g. `[0x10, 0x11]` for `ctrl-p,ctrl-q`.
#[derive(Clone, PartialEq, Eq)]
pub struct DetachKeys(Vec<u8>);

impl fmt::Debug for DetachKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DetachKeys({:?})", self.0)
    }
}

/// Docker's notation again (`ctrl-p,ctrl-q`), for sending to the daemon.
impl fmt::Display for DetachKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match byte {
                // 1..=26 are ctrl-a..ctrl-z; 0 and 27..=31 are @ [ \ ] ^ _.
                0..=31 => write!(f, "ctrl-{}", ((byte | 0x40) as char).to_ascii_lowercase())?,
                _ => write!(f, "{}", *byte as char)?,
            }
        }
        Ok(())
    }
}

impl Default for DetachKeys {
    fn default() -> Self {
        DetachKeys(vec![0x10, 0x11])
    }
}

/// A detach sequence that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid detach keys ({spec}) provided: unknown key {key:?} (use single characters or ctrl-a … ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_, separated by commas)")]
pub struct InvalidDetachKeys {
    /// The whole sequence as given.
    pub spec: String,
    /// The key that is not one.
    pub key: String,
}

// ANCHOR: parse
impl DetachKeys {
    /// Parses Docker's notation; the empty string is the default sequence.
    pub fn parse(spec: &str) -> Result<DetachKeys, InvalidDetachKeys> {
        if spec.is_empty() {
            return Ok(DetachKeys::default());
        }
        let mut bytes = Vec::new();
        for key in spec.split(',') {
            let bad = || InvalidDetachKeys {
                spec: spec.to_string(),
                key: key.to_string(),
            };
            let byte = match (key.as_bytes(), key.strip_prefix("ctrl-")) {
                ([single], _) => *single,
                (_, Some(c)) => match c.as_bytes() {
                    // ctrl-a is 1 … ctrl-z is 26: the letter's code & 0x1f.
                    [c @ b'a'..=b'z'] => c & 0x1f,
                    // ctrl-@ 0, ctrl-[ 27, ctrl-\ 28, ctrl-] 29, ctrl-^ 30, ctrl-_ 31.
                    [c @ (b'@' | b'[' | b'\\' | b']' | b'^' | b'_')] => c & 0x1f,
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            };
            bytes.push(byte);
        }
        Ok(DetachKeys(bytes))
    }

    /// The sequence as bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A watcher for this sequence over one input stream.
    pub fn scanner(&self) -> DetachScanner {
        DetachScanner {
            keys: self.0.clone(),
            matched: 0,
        }
    }
}
// ANCHOR_END: parse

/// What a chunk of input turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// Pass these bytes on (possibly none: the chunk may be the start of
    /// the sequence, held back).
    Input(Vec<u8>),
    /// The sequence was typed: pass `before` on, then detach. What followed
    /// the sequence in the chunk is dropped, as Docker does.
    Detach {
        /// The bytes of the chunk typed before the sequence.
        before: Vec<u8>,
    },
}

/// Watches one input stream for the detach sequence.
#[derive(Debug, Clone)]
pub struct DetachScanner {
    keys: Vec<u8>,
    /// How many bytes of the sequence the input has matched so far (held back).
    matched: usize,
}

// ANCHOR: scan
impl DetachScanner {
    /// Feeds the next chunk of input.
    pub fn scan(&mut self, chunk: &[u8]) -> Scanned {
        let mut out = Vec::with_capacity(chunk.len());
        for &byte in chunk {
            if byte == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Scanned::Detach { before: out };
                }
                continue;
            }
            // Not the sequence after all: what was held back is input.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if byte == self.keys[0] {
                // (a one-key sequence matched in the branch above)
                self.matched = 1;
            } else {
                out.push(byte);
            }
        }
        Scanned::Input(out)
    }
}
// ANCHOR_END: scan

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_notation() {
        assert_eq!(DetachKeys::parse("").unwrap().bytes(), [0x10, 0x11]);
        assert_eq!(
            DetachKeys::parse(DEFAULT_DETACH_KEYS).unwrap(),
            DetachKeys::default()
        );
        assert_eq!(DetachKeys::parse("ctrl-a,x").unwrap().bytes(), [1, b'x']);
        assert_eq!(
            DetachKeys::parse("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,ctrl-z")
                .unwrap()
                .bytes(),
            [0, 27, 28, 29, 30, 31, 26]
        );
        let err = DetachKeys::parse("ctrl-p,ctrl-Q").unwrap_err();
        assert_eq!(err.key, "ctrl-Q");
        assert!(err
            .to_string()
            .starts_with("Invalid detach keys (ctrl-p,ctrl-Q)"));
        assert!(DetachKeys::parse("ctrl-p,,q").is_err());
        assert!(DetachKeys::parse("ab").is_err());
        for spec in [
            "ctrl-p,ctrl-q",
            "ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_",
            "ctrl-a,d,X",
        ] {
            assert_eq!(DetachKeys::parse(spec).unwrap().to_string(), spec);
        }
    }

    #[test]
    fn passes_input_and_detaches_on_the_sequence() {
        let mut s = DetachKeys::default().scanner();
        assert_eq!(s.scan(b"ls\r"), Scanned::Input(b"ls\r".to_vec()));
        // ^P alone is held back, then turns out to be input.
        assert_eq!(s.scan(&[0x10]), Scanned::Input(vec![]));
        assert_eq!(s.scan(b"x"), Scanned::Input(vec![0x10, b'x']));
        // ^P ^P ^Q: the first ^P is input, the next two the sequence.
        assert_eq!(
            s.scan(&[b'a', 0x10, 0x10, 0x11, b'z']),
            Scanned::Detach {
                before: vec![b'a', 0x10]
            }
        );
    }

    #[test]
    fn the_sequence_may_span_chunks() {
        let keys = DetachKeys::parse("ctrl-a,b,c").unwrap();
        let mut s = keys.scanner();
        assert_eq!(s.scan(b"x\x01"), Scanned::Input(b"x".to_vec()));
        assert_eq!(s.scan(b"b"), Scanned::Input(vec![]));
        assert_eq!(s.scan(b"c"), Scanned::Detach { before: vec![] });
        let mut one = DetachKeys::parse("q").unwrap().scanner();
        assert_eq!(
            one.scan(b"abqd"),
            Scanned::Detach {
                before: b"ab".to_vec()
            }
        );
    }

    #[test]
    fn random_input_without_the_first_key_passes_unchanged() {
        let keys = DetachKeys::default();
        let mut s = keys.scanner();
        let input: Vec<u8> = (0..4096)
            .map(|_| rand::random::<u8>())
            .filter(|b| *b != 0x10)
            .collect();
        let mut out = Vec::new();
        for chunk in input.chunks(7) {
            match s.scan(chunk) {
                Scanned::Input(b) => out.extend(b),
                Scanned::Detach { .. } => panic!("no ^P, no detach"),
            }
        }
        assert_eq!(out, input);
    }
}
