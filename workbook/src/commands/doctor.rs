//! `cargo workbook doctor`: does this machine have what the chapters need? Each missing piece
//! comes with the command that fixes it.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::mark;
use crate::explain::as_root;

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// Required checks make doctor fail; the others are advice.
    pub required: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn new(
        name: &'static str,
        required: bool,
        ok: bool,
        detail: impl Into<String>,
        fix: Option<String>,
    ) -> Check {
        Check {
            name,
            ok,
            required,
            detail: detail.into(),
            fix: if ok { None } else { fix },
        }
    }
}

pub fn run() -> Result<bool> {
    let checks = all_checks();
    println!("what the chapters need, on this machine:");
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for check in &checks {
        let optional = if check.required || check.ok {
            ""
        } else {
            " (optional)"
        };
        println!(
            "  {} {:<width$}  {}{optional}",
            mark(check.ok),
            check.name,
            check.detail
        );
        if let Some(fix) = &check.fix {
            for line in fix.lines() {
                println!("      fix: {line}");
            }
        }
    }
    let missing = checks.iter().filter(|c| c.required && !c.ok).count();
    println!();
    if missing == 0 {
        println!("{} everything the chapters need is here", mark(true));
    } else {
        println!(
            "{} {missing} required check(s) failed: see the fixes above",
            mark(false)
        );
    }
    Ok(missing == 0)
}

pub fn all_checks() -> Vec<Check> {
    let root = nix::unistd::geteuid().is_root();
    vec![
        check_root(root),
        check_kernel(),
        check_namespaces(root),
        check_overlay(),
        check_cgroups(),
        check_propagation(),
        check_busybox(),
        check_tool(
            "git",
            true,
            "starts chapters and keeps the reference",
            "apt-get install git",
        ),
        check_tool(
            "docker-registry",
            true,
            "the registry chapter 04 pulls from and pushes to",
            "apt-get install docker-registry",
        ),
        check_tool(
            "skopeo",
            true,
            "an independent oracle for images and registries",
            "apt-get install skopeo",
        ),
        check_tool(
            "umoci",
            true,
            "an independent oracle for image layouts and layers",
            "apt-get install umoci",
        ),
        check_tool(
            "mdbook",
            false,
            "builds the book (book/)",
            "cargo install mdbook --locked --version '^0.4'",
        ),
    ]
}

fn check_root(root: bool) -> Check {
    Check::new(
        "root",
        true,
        root,
        if root {
            "running as root".to_string()
        } else {
            format!(
                "running as uid {}: namespaces, mounts and cgroups need root",
                nix::unistd::geteuid()
            )
        },
        Some(format!("run as root: {}", as_root("doctor"))),
    )
}

/// `6.1.0-18-amd64` → (6, 1).
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn check_kernel() -> Check {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version = kernel_version(&release);
    let ok = version.is_some_and(|v| v >= (5, 6));
    Check::new(
        "kernel",
        true,
        ok,
        format!(
            "Linux {} (5.6 or newer needed: openat2 for safe image extraction)",
            release.trim()
        ),
        Some(
            "upgrade the kernel to 5.6 or newer (Debian 12 and Ubuntu 22.04 ship newer ones)"
                .to_string(),
        ),
    )
}

const NAMESPACES: [(&str, libc::c_int); 7] = [
    ("mnt", libc::CLONE_NEWNS),
    ("uts", libc::CLONE_NEWUTS),
    ("ipc", libc::CLONE_NEWIPC),
    ("pid", libc::CLONE_NEWPID),
    ("net", libc::CLONE_NEWNET),
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
];

/// Tries `unshare(flag)` in a forked child, so the doctor itself stays where it is. Returns the
/// errno on failure.
fn try_unshare(flag: libc::c_int) -> Result<(), i32> {
    // SAFETY: the doctor is single-threaded here (nothing has spawned a thread), and the child
    // only calls unshare and _exit, both async-signal-safe, before it ends.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    if pid == 0 {
        // SAFETY: in the forked child: unshare changes only this child, _exit ends it without
        // running the parent's atexit handlers or flushing its buffers.
        unsafe {
            let code = if libc::unshare(flag) == 0 {
                0
            } else {
                *libc::__errno_location()
            };
            libc::_exit(code.clamp(0, 255));
        }
    }
    let mut status = 0;
    // SAFETY: waiting for the child forked just above; status is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    if waited != pid || !libc::WIFEXITED(status) {
        return Err(0);
    }
    match libc::WEXITSTATUS(status) {
        0 => Ok(()),
        errno => Err(errno),
    }
}

fn check_namespaces(root: bool) -> Check {
    let mut present = Vec::new();
    let mut missing = Vec::new();
    let mut refused = Vec::new();
    for (name, flag) in NAMESPACES {
        if !Path::new("/proc/self/ns").join(name).exists() {
            missing.push(name);
            continue;
        }
        present.push(name);
        if root {
            if let Err(errno) = try_unshare(flag) {
                refused.push(format!("{name} ({})", nix::errno::Errno::from_raw(errno)));
            }
        }
    }
    let ok = missing.is_empty() && refused.is_empty();
    let mut detail = present.join(" ");
    if root && refused.is_empty() {
        detail.push_str(" (unshare of each works)");
    } else if !root {
        detail.push_str(" (unshare not tried: needs root)");
    }
    if !missing.is_empty() {
        detail.push_str(&format!("; missing: {}", missing.join(" ")));
    }
    if !refused.is_empty() {
        detail.push_str(&format!("; unshare refused: {}", refused.join(", ")));
    }
    let mut fix = Vec::new();
    if !missing.is_empty() {
        fix.push("use a kernel built with CONFIG_NAMESPACES and each CONFIG_<KIND>_NS (any distribution kernel has them)".to_string());
    }
    if refused.iter().any(|r| r.starts_with("user")) {
        fix.push("allow user namespaces: sysctl -w user.max_user_namespaces=15000".to_string());
    }
    if !refused.is_empty() {
        fix.push("inside a container? run on a VM or machine of your own, or a container started with --privileged".to_string());
    }
    Check::new("namespaces", true, ok, detail, Some(fix.join("\n")))
}

fn check_overlay() -> Check {
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let ok = filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"));
    Check::new(
        "overlayfs",
        true,
        ok,
        if ok {
            "overlay is in /proc/filesystems"
        } else {
            "overlay is not in /proc/filesystems"
        },
        Some("load the module: modprobe overlay".to_string()),
    )
}

/// The cgroup layout: `v2`, `v1`, or `hybrid` (v1 controllers, v2 at /sys/fs/cgroup/unified).
pub fn cgroup_version() -> &'static str {
    use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, TMPFS_MAGIC};
    match statfs("/sys/fs/cgroup").map(|s| s.filesystem_type()) {
        Ok(t) if t == CGROUP2_SUPER_MAGIC => "v2",
        Ok(t) if t == TMPFS_MAGIC => {
            let unified = statfs("/sys/fs/cgroup/unified")
                .is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC);
            if unified {
                "hybrid"
            } else {
                "v1"
            }
        }
        _ => "none",
    }
}

/// The controllers available: v2 from cgroup.controllers, v1 from /proc/cgroups (enabled ones
/// with a mounted hierarchy).
fn cgroup_controllers(version: &str) -> Vec<String> {
    if version == "v2" {
        return std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
    }
    std::fs::read_to_string("/proc/cgroups")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.len() >= 4 && fields[3] == "1").then(|| fields[0].to_string())
        })
        .filter(|name| Path::new("/sys/fs/cgroup").join(name).exists())
        .collect()
}

fn check_cgroups() -> Check {
    let version = cgroup_version();
    let controllers = cgroup_controllers(version);
    let needed = ["cpu", "memory", "pids"];
    let lacking: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !controllers.iter().any(|c| c == n))
        .collect();
    let ok = version != "none" && lacking.is_empty();
    let layout = match version {
        "v2" => "v2 (unified)",
        "hybrid" => "v1 (hybrid: v2 also at /sys/fs/cgroup/unified)",
        "v1" => "v1",
        _ => "not mounted at /sys/fs/cgroup",
    };
    let mut detail = format!("{layout}; controllers: {}", controllers.join(" "));
    if !lacking.is_empty() {
        detail.push_str(&format!("; missing: {}", lacking.join(" ")));
    }
    let fix = if version == "none" {
        "mount cgroups: mount -t cgroup2 none /sys/fs/cgroup".to_string()
    } else if version == "v2" {
        format!(
            "enable the controllers for child groups: echo \"{}\" > /sys/fs/cgroup/cgroup.subtree_control\n\
             (memory also needs cgroup_enable=memory on the kernel command line on some boards)",
            lacking.iter().map(|c| format!("+{c}")).collect::<Vec<_>>().join(" ")
        )
    } else {
        "enable the controllers on the kernel command line (cgroup_enable=memory) and reboot"
            .to_string()
    };
    Check::new("cgroups", true, ok, detail, Some(fix))
}

/// The propagation of `/` in this mount namespace: `shared:N`, `master:N`, or `private`.
pub fn root_propagation(mountinfo: &str) -> Option<String> {
    let line = mountinfo
        .lines()
        .rfind(|l| l.split_whitespace().nth(4) == Some("/"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let optional: Vec<&str> = fields
        .iter()
        .skip(6)
        .take_while(|f| **f != "-")
        .copied()
        .collect();
    Some(if optional.is_empty() {
        "private".to_string()
    } else {
        optional.join(" ")
    })
}

fn check_propagation() -> Check {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let propagation = root_propagation(&mountinfo);
    let detail = match &propagation {
        Some(p) if p.contains("shared") => format!(
            "/ is {p}: mounts would leak to the host, which is why the chapters make / private (MS_REC | MS_PRIVATE) in their own mount namespace first"
        ),
        Some(p) => format!("/ is {p}"),
        None => "no entry for / in /proc/self/mountinfo".to_string(),
    };
    Check::new(
        "mount propagation",
        false,
        propagation.is_some(),
        detail,
        None,
    )
}

/// Whether an ELF file has no program interpreter (PT_INTERP): a static binary.
pub fn is_static_elf(bytes: &[u8]) -> Option<bool> {
    if bytes.len() < 0x34 || &bytes[..4] != b"\x7fELF" {
        return None;
    }
    let little = match bytes[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let read = |at: usize, len: usize| -> Option<u64> {
        let field = bytes.get(at..at + len)?;
        let mut value = 0u64;
        for i in 0..len {
            let byte = if little { field[len - 1 - i] } else { field[i] };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    };
    let (phoff, phentsize, phnum) = match bytes[4] {
        1 => (read(0x1c, 4)?, read(0x2a, 2)?, read(0x2c, 2)?),
        2 => (read(0x20, 8)?, read(0x36, 2)?, read(0x38, 2)?),
        _ => return None,
    };
    const PT_INTERP: u64 = 3;
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize).ok()?;
        if read(at, 4)? == PT_INTERP {
            return Some(false);
        }
    }
    Some(true)
}

fn check_busybox() -> Check {
    let path = Path::new("/bin/busybox");
    let fix = Some("apt-get install busybox-static (the chapters copy it into an empty rootfs, so it must be static)".to_string());
    let Ok(bytes) = std::fs::read(path) else {
        return Check::new("busybox-static", true, false, "/bin/busybox not found", fix);
    };
    match is_static_elf(&bytes) {
        Some(true) => Check::new("busybox-static", true, true, "/bin/busybox is static", fix),
        Some(false) => Check::new(
            "busybox-static",
            true,
            false,
            "/bin/busybox is dynamically linked: it cannot run in an empty rootfs",
            fix,
        ),
        None => Check::new(
            "busybox-static",
            true,
            false,
            "/bin/busybox is not an ELF binary",
            fix,
        ),
    }
}

/// Finds an executable on PATH (and in ~/.cargo/bin, which sudo leaves off PATH).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

fn check_tool(name: &'static str, required: bool, what: &str, fix: &str) -> Check {
    let found = find_tool(name);
    let detail = match &found {
        Some(path) => format!("{} ({what})", path.display()),
        None => format!("not found ({what})"),
    };
    Check::new(
        name,
        required,
        found.is_some(),
        detail,
        Some(fix.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(kernel_version("6.1.0-18-amd64\n"), Some((6, 1)));
        assert_eq!(kernel_version("5.15.0-91-generic"), Some((5, 15)));
        assert_eq!(kernel_version("garbage"), None);
        assert!(kernel_version("5.4.0").unwrap() < (5, 6));
    }

    #[test]
    fn root_propagation_reads_the_optional_fields() {
        let shared = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
        assert_eq!(root_propagation(shared).as_deref(), Some("shared:1"));
        let private = "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n";
        assert_eq!(root_propagation(private).as_deref(), Some("private"));
        // The last mount on / is the one that counts (mounted over the first).
        let stacked = format!("{shared}40 22 0:5 / / rw master:3 - overlay overlay rw\n");
        assert_eq!(root_propagation(&stacked).as_deref(), Some("master:3"));
        assert_eq!(
            root_propagation("23 22 0:5 / /proc rw - proc proc rw\n"),
            None
        );
    }

    #[test]
    fn static_elf_detection() {
        // This test binary is linked dynamically: it has a PT_INTERP header.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(is_static_elf(&exe), Some(false));
        // A 64-bit little-endian header with one PT_LOAD program header only: static.
        let mut elf = vec![0u8; 0x40 + 0x38];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[0x20] = 0x40; // e_phoff
        elf[0x36] = 0x38; // e_phentsize
        elf[0x38] = 1; // e_phnum
        elf[0x40] = 1; // p_type = PT_LOAD
        assert_eq!(is_static_elf(&elf), Some(true));
        elf[0x40] = 3; // p_type = PT_INTERP
        assert_eq!(is_static_elf(&elf), Some(false));
        assert_eq!(is_static_elf(b"#!/bin/sh\necho not elf\n"), None);
    }

    #[test]
    fn tools_are_found_on_path() {
        // `sh` is on every PATH the tests run with; a random name is on none.
        assert!(find_tool("sh").is_some());
        let name = format!("no-such-tool-{}", rand::random::<u64>());
        assert!(find_tool(&name).is_none());
        let check = check_tool("mdbook", false, "x", "cargo install mdbook --locked");
        assert_eq!(check.fix.is_some(), !check.ok);
    }
}
