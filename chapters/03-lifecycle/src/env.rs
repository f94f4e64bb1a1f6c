// ANCHOR: env_rule
//! A container's environment: `KEY=VALUE` entries, one per key.
//!
//! Docker keys an entry by what comes before its first `=` (an entry with
//! none is all key: `-e FOO` passes the engine's own `FOO`, resolved by the
//! client). Every merge of environments goes through [`key`] and [`set`],
//! so the image's, the user's and an exec's entries follow one rule.

/// The key of an entry: `PATH` of `PATH=/bin`.
pub fn key(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(k, _)| k)
}

/// Sets `entry` in `env`: an entry with the same key goes, the new one
/// comes last (as a later `-e` wins over an earlier one).
pub fn set(env: &mut Vec<String>, entry: &str) {
    let k = key(entry);
    env.retain(|e| key(e) != k);
    env.push(entry.to_string());
}

/// Whether `env` has an entry for `k`.
pub fn has(env: &[String], k: &str) -> bool {
    env.iter().any(|e| key(e) == k)
}
// ANCHOR_END: env_rule

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_keyed_by_what_comes_before_the_first_equals() {
        assert_eq!(key("A=1=2"), "A");
        assert_eq!(key("A="), "A");
        assert_eq!(key("A"), "A");
        let mut env = vec!["A=1".to_string(), "B=2".to_string()];
        set(&mut env, "A=3");
        assert_eq!(env, ["B=2", "A=3"]);
        assert!(has(&env, "B"));
        assert!(!has(&env, "A=3"));
    }
}
