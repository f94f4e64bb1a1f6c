//! Volume names.
//!
//! A volume's name becomes a directory name: `ROOT/volumes/<name>`. A name
//! such as `../containers` or `a/b` would put — or delete! — a volume
//! somewhere else, so the rule is Docker's, and strict:
//! `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. No `/`, so never more than one path
//! component; it starts with a letter or a digit, so never `.` or `..`.
//! Anonymous volumes get 64 random hex digits, which fit the same rule.

use crate::error::Result;

/// The longest name accepted: one path component on any Linux file system.
pub const MAX_NAME: usize = 255;

// ANCHOR: validate
/// Checks `name` against Docker's rule for volume names,
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`: at least two characters, the first a
/// letter or a digit.
pub fn validate(name: &str) -> Result<()> {
    // exercise 7.1 volume-name: accept [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at most MAX_NAME bytes), refuse anything else.
    // hint: the name becomes a directory under ROOT/volumes: what would `..`, `a/b` or an empty name do there?
    // hint: work on bytes: the first is an ASCII letter or digit, the others may also be one of three punctuation characters.
    // hint: return Error::InvalidName { name, reason } with a reason that says which rule failed.
    let bad = |reason: &str| {
        Err(crate::error::Error::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    let bytes = name.as_bytes();
    if bytes.len() < 2 {
        return bad("a name has at least two characters");
    }
    if bytes.len() > MAX_NAME {
        return bad("a name has at most 255 characters");
    }
    if !bytes[0].is_ascii_alphanumeric() {
        return bad("a name starts with a letter or a digit");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
    {
        return bad("only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: validate

/// A fresh name for an anonymous volume: 64 random hex digits, as Docker's.
pub fn anonymous() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn dockers_rule() {
        for good in [
            "data",
            "db_1",
            "a.b-c",
            "0x",
            "my-app_data.v2",
            &anonymous(),
        ] {
            validate(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "", "a", "..", ".hidden", "-x", "_x", "a/b", "../etc", "a b", "a:b", "é1", "a\0b",
        ] {
            assert!(
                matches!(validate(bad), Err(Error::InvalidName { .. })),
                "{bad:?} should be refused"
            );
        }
        assert!(validate(&"a".repeat(256)).is_err());
        assert!(validate(&"a".repeat(255)).is_ok());
    }
}
