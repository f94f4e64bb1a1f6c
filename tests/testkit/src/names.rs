//! Unique names, so tests running side by side never share a container,
//! image, cgroup or network namespace — and so leak checks can find what a
//! test left behind by its name.

use rand::Rng;

/// `prefix` followed by 8 random lowercase letters and digits.
pub fn random_name(prefix: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..8)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}
