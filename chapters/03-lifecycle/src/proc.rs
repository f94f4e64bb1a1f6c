//! What `/proc` says about a process and the host, read in one place.

use std::fs;

// ANCHOR: proc_alive
/// Whether `pid` is a live process: it exists and is not a zombie (`Z`)
/// or dead (`X`). A zombie has exited; only its parent's `wait` is left.
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // the state is the field after the ")" that ends the command name
        // (which may itself hold spaces and parentheses)
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The host's memory in bytes (`MemTotal` of `/proc/meminfo`), the
/// "limit" of a container without one; 0 if it cannot be read.
pub fn total_memory() -> u64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}
// ANCHOR_END: proc_alive

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(alive(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert!(!alive(pid));
    }

    #[test]
    fn total_memory_is_what_meminfo_says() {
        let text = fs::read_to_string("/proc/meminfo").unwrap();
        let kib: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap();
        assert_eq!(total_memory(), kib * 1024);
    }
}
