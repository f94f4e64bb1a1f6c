//! Container ids and names.
//!
//! Docker gives every container a random 256-bit id, written as 64 hex
//! digits, and shows its first 12 digits as the short id. A name is a second,
//! human handle: unique among the engine's containers, and limited to
//! characters that are safe in paths, URLs and DNS-ish places.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::Error;
// ANCHOR: container_id

/// A container id: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerId(String);

impl ContainerId {
    /// A fresh random id. An id of all digits is drawn again: Docker does
    /// the same, so a short id is never mistaken for a number.
    pub fn random() -> ContainerId {
        let mut rng = rand::thread_rng();
        loop {
            let bytes: [u8; 32] = rng.gen();
            let hex = hex::encode(bytes);
            if !hex[..12].bytes().all(|b| b.is_ascii_digit()) {
                return ContainerId(hex);
            }
        }
    }

    /// The full 64-digit id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 digits, as `docker ps` shows them.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl FromStr for ContainerId {
    type Err = Error;

    /// Accepts exactly 64 lowercase hex digits: an id becomes a directory
    /// name, so nothing else (no `/`, no `..`) may pass.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(ContainerId(s.to_string()))
        } else {
            Err(Error::InvalidId(s.to_string()))
        }
    }
}
// ANCHOR_END: container_id

impl TryFrom<String> for ContainerId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<ContainerId> for String {
    fn from(id: ContainerId) -> String {
        id.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ANCHOR: validate_name
/// Checks a container name against Docker's rule
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (so at least two characters). A leading
/// `/`, which Docker's API shows in front of names, is accepted and dropped.
pub fn validate_name(name: &str) -> Result<String, Error> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let b = bare.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c));
    if ok {
        Ok(bare.to_string())
    } else {
        Err(Error::InvalidName(name.to_string()))
    }
}

/// A random `adjective_noun` name, in the spirit of Docker's
/// `focused_turing`.
pub fn random_name() -> String {
    const ADJECTIVES: &[&str] = &[
        "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
        "nifty", "quiet", "sharp", "swift", "tender", "vivid", "wise", "zen",
    ];
    const NOUNS: &[&str] = &[
        "babbage", "curie", "dijkstra", "euler", "gauss", "hopper", "kepler", "lovelace",
        "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak",
    ];
    let mut rng = rand::thread_rng();
    format!(
        "{}_{}",
        ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
        NOUNS[rng.gen_range(0..NOUNS.len())]
    )
}
// ANCHOR_END: validate_name

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_64_hex_and_distinct() {
        let a = ContainerId::random();
        let b = ContainerId::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 64);
        assert_eq!(a.short(), &a.as_str()[..12]);
        assert_eq!(a.as_str().parse::<ContainerId>().unwrap(), a);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<ContainerId>(&json).unwrap(), a);
    }

    #[test]
    fn ids_that_could_be_paths_are_refused() {
        let good = ContainerId::random().to_string();
        for bad in [
            String::new(),
            good[..63].to_string(),
            format!("{good}0"),
            good.to_uppercase(),
            format!("../{}", &good[3..]),
        ] {
            if bad == good {
                continue;
            }
            assert!(
                bad.parse::<ContainerId>().is_err(),
                "{bad:?} must be refused"
            );
            assert!(serde_json::from_str::<ContainerId>(&format!("{bad:?}")).is_err());
        }
    }

    #[test]
    fn names_follow_dockers_rule() {
        for good in ["ab", "web1", "my_app.v2-x", "/leading-slash", "9lives"] {
            assert!(validate_name(good).is_ok(), "{good:?} is valid");
        }
        assert_eq!(validate_name("/web").unwrap(), "web");
        for bad in [
            "", "a", "_ab", "-ab", ".ab", "a b", "a/b", "../etc", "ab\n", "é1", "a:b",
        ] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains("[a-zA-Z0-9][a-zA-Z0-9_.-]"), "{bad:?}: {err}");
        }
        for _ in 0..20 {
            validate_name(&random_name()).unwrap();
        }
    }
}
