//! A container's cgroup files, found as an independent reader would: the
//! container's process says in `/proc/PID/cgroup` which group it is in, and
//! `/proc/self/mountinfo` says where that hierarchy is mounted. Nothing of
//! the engine's cgroup code is used to look.

use std::path::PathBuf;

/// Whether this kernel runs cgroup v2 only (the VM) or v1 (this host).
pub fn unified() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.contains(" /sys/fs/cgroup ") && l.contains(" - cgroup2 "))
}

/// The directory of `pid`'s group for `controller` (v1) or its one group (v2).
pub fn group_dir(pid: i64, controller: &str) -> PathBuf {
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    if unified() {
        let path = own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .expect("a v2 line in /proc/PID/cgroup");
        return PathBuf::from("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    }
    let path = own
        .lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("no {controller} line in /proc/{pid}/cgroup:\n{own}"));
    let mount = mountinfo
        .lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mut right = right.split_whitespace();
            let (fs, _, options) = (right.next()?, right.next()?, right.next()?);
            (fs == "cgroup" && options.split(',').any(|o| o == controller))
                .then(|| left.split_whitespace().nth(4).unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("{controller} is not mounted"));
    PathBuf::from(mount).join(path.trim_start_matches('/'))
}

/// Reads `file` of `pid`'s group for `controller`, trimmed.
pub fn read(pid: i64, controller: &str, file: &str) -> String {
    let path = group_dir(pid, controller).join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}
