//! Content addressing: a blob is named by the SHA-256 of its bytes.
//!
//! A [`Digest`] is both a name and a promise. Whoever hands us a blob under a
//! digest promises that the bytes hash to it; the store checks the promise
//! before the blob becomes visible, so nothing under `blobs/sha256/<hex>` can
//! ever hold other bytes than its name says.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A string that is not a digest this store can use: what was given, and
/// why it was refused.
///
/// Its own small type, not the chapter's [`Error`](crate::Error): a digest
/// is the vocabulary every other module speaks, so it must not depend on
/// them (the chapter's error converts from it, keeping the same words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {input:?}: {reason}")]
pub struct DigestError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A `sha256:<64 lowercase hex>` content digest.
///
/// Only SHA-256 is supported: it is what Docker, containerd and every
/// registry use for images. Other algorithms are refused with a clear error
/// rather than half-supported.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// The one algorithm this store speaks.
    pub const ALGORITHM: &'static str = "sha256";

    /// The digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest {
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// Builds a digest from its 64 hex characters (no `sha256:` prefix).
    pub fn from_hex(hex: &str) -> Result<Digest, DigestError> {
        validate_hex(hex).map_err(|reason| DigestError {
            input: hex.to_string(),
            reason,
        })?;
        Ok(Digest {
            hex: hex.to_string(),
        })
    }

    /// The algorithm name, always `sha256`.
    pub fn algorithm(&self) -> &'static str {
        Self::ALGORITHM
    }

    /// The 64 hex characters: the file name under `blobs/sha256/`.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, as `docker images` shows ids.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }

    /// The same digest as `oci-spec` spells it, for building manifests.
    pub fn to_oci(&self) -> oci_spec::image::Digest {
        oci_spec::image::Digest::from_str(&self.to_string())
            .expect("a validated sha256 digest is a valid OCI digest")
    }
}

fn validate_hex(hex: &str) -> std::result::Result<(), String> {
    if hex.len() != 64 {
        return Err(format!(
            "a sha256 digest has 64 hex characters, this one has {}",
            hex.len()
        ));
    }
    if let Some(c) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!("{c:?} is not a lowercase hexadecimal digit"));
    }
    Ok(())
}

// ANCHOR: digest_parse
impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Digest, DigestError> {
        let err = |reason: String| DigestError {
            input: s.to_string(),
            reason,
        };
        let Some((algorithm, hex)) = s.split_once(':') else {
            return Err(err("expected ALGORITHM:HEX, e.g. sha256:…".into()));
        };
        if algorithm != Self::ALGORITHM {
            let well_formed = !algorithm.is_empty()
                && algorithm
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c));
            return Err(err(if well_formed {
                format!("algorithm {algorithm:?} is not supported, only sha256 is")
            } else {
                format!("{algorithm:?} is not a digest algorithm")
            }));
        }
        validate_hex(hex).map_err(err)?;
        Ok(Digest {
            hex: hex.to_string(),
        })
    }
}
// ANCHOR_END: digest_parse

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = DigestError;
    fn try_from(d: &oci_spec::image::Digest) -> Result<Digest, DigestError> {
        d.to_string().parse()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", Self::ALGORITHM, self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
// ANCHOR: hasher

/// A running SHA-256 over a stream, counting its bytes as it goes.
#[derive(Clone, Default)]
pub struct Hasher {
    sha: Sha256,
    len: u64,
}

impl Hasher {
    /// A hasher that has seen nothing yet.
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// How many bytes were fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        Digest {
            hex: hex::encode(self.sha.finalize()),
        }
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
// ANCHOR_END: hasher
// ANCHOR: hashing_reader

/// A reader that hashes what passes through it, and refuses to pass more
/// than `limit` bytes (so a small compressed layer cannot inflate into an
/// endless stream that fills the disk).
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    limit: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`; reading past `limit` bytes is an error.
    pub fn new(inner: R, limit: u64) -> HashingReader<R> {
        HashingReader {
            inner,
            hasher: Hasher::new(),
            limit,
        }
    }

    /// Reads what is left (a tar stream ends with padding that belongs to
    /// the hash too) and returns the digest and length of everything read.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let len = self.hasher.len();
        Ok((self.hasher.finish(), len))
    }
}
// ANCHOR_END: hashing_reader
// ANCHOR: hashing_read

/// The error a [`HashingReader`] gives past its limit; recognised with
/// [`is_limit_error`].
const LIMIT_MESSAGE: &str = "stream exceeds its size limit";

/// Whether an I/O error is the one [`HashingReader`] gives past its limit.
pub fn is_limit_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::FileTooLarge && e.to_string() == LIMIT_MESSAGE
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if self.hasher.len() > self.limit {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, LIMIT_MESSAGE));
        }
        Ok(n)
    }
}
// ANCHOR_END: hashing_read

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty_input_is_the_well_known_one() {
        assert_eq!(Digest::sha256_of(b"").to_string(), EMPTY);
        assert_eq!(EMPTY.parse::<Digest>().unwrap(), Digest::sha256_of(b""));
    }

    #[test]
    fn bad_digests_are_refused_with_the_reason() {
        let cases = [
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "ALGORITHM:HEX",
            ),
            ("sha256:e3b0", "64 hex"),
            (
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                "lowercase",
            ),
            ("sha512:abcd", "not supported"),
            ("SHA256:abcd", "not a digest algorithm"),
            (
                "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "'g'",
            ),
        ];
        for (input, want) in cases {
            let err = input.parse::<Digest>().unwrap_err().to_string();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn hashing_reader_hashes_everything_and_enforces_its_limit() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut r = HashingReader::new(&data[..], 1 << 20);
        let mut first = [0u8; 100];
        r.read_exact(&mut first).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!((d, n), (Digest::sha256_of(&data), data.len() as u64));

        let r = HashingReader::new(&data[..], 5000);
        let err = r.finish().unwrap_err();
        assert!(is_limit_error(&err), "{err}");
    }

    #[test]
    fn serde_round_trip() {
        let d = Digest::sha256_of(b"x");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        assert_eq!(Digest::try_from(&d.to_oci()).unwrap(), d);
    }
}
