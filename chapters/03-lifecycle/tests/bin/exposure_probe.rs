//! A test program that runs *inside* a container and plays the attacker of
//! CVE-2019-5736 (see `tests/helper_exposure.rs`): it waits for a helper
//! process of the engine to appear in the container's `/proc` and to drop
//! to the container's capabilities, then tries
//! to open the helper's binary for reading and for writing and to attach
//! to it with `ptrace`, and prints what each attempt got, e.g.
//! `read=EACCES write=EACCES seize=EPERM`.
//!
//! Usage: `minidock-exposure-probe ROLE` — ROLE is the helper's first
//! argument (`__minidock_exec`). It prints `ready` once it is watching.

use std::ffi::CString;
use std::io::Write;
use std::time::{Duration, Instant};

/// The errno of the last call, by name for the ones this probe expects.
fn last_error() -> String {
    let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    match e {
        libc::EACCES => "EACCES".into(),
        libc::EPERM => "EPERM".into(),
        libc::ETXTBSY => "ETXTBSY".into(),
        libc::ENOENT => "ENOENT".into(),
        libc::ESRCH => "ESRCH".into(),
        other => format!("errno{other}"),
    }
}

/// A process other than us and PID 1 whose first argument is `role`.
fn find_helper(role: &[u8]) -> Option<i32> {
    let me = std::process::id() as i32;
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me && *pid != 1)
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|b| *b == 0).nth(1) == Some(role))
                .unwrap_or(false)
        })
}

/// The `CapPrm:` line of `/proc/PID/status` (readable for any process).
fn permitted(pid: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("CapPrm:"))
        .map(String::from)
}

fn try_open(path: &CString, flags: libc::c_int) -> String {
    // SAFETY: open with a valid NUL-terminated path; a descriptor we get
    // is closed right away.
    let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return last_error();
    }
    // SAFETY: fd is ours and not used after this.
    unsafe { libc::close(fd) };
    "ok".into()
}

fn try_seize(pid: i32) -> String {
    // SAFETY: PTRACE_SEIZE takes a pid and no addresses; a seize that
    // works is undone with PTRACE_DETACH at once (the tracee never stops).
    let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) };
    if r < 0 {
        return last_error();
    }
    // SAFETY: as above.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize) };
    "ok".into()
}

fn main() {
    let role = std::env::args()
        .nth(1)
        .expect("usage: minidock-exposure-probe ROLE");
    let mut out = std::io::stdout();
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        if let Some(pid) = find_helper(role.as_bytes()) {
            break pid;
        }
        if Instant::now() > deadline {
            println!("no process with role {role} appeared within 60 s");
            std::process::exit(2);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    // Right after its fork the helper still has every capability, and the
    // kernel refuses a less capable process anyway. The attack that
    // matters comes once it has dropped to the container's capabilities,
    // just before its execve: wait for that.
    let mine = permitted("self").expect("own status");
    while permitted(&pid.to_string()).as_ref() != Some(&mine) {
        if Instant::now() > deadline {
            println!("the helper {pid} never dropped to the container's capabilities");
            std::process::exit(2);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let exe = CString::new(format!("/proc/{pid}/exe")).expect("no NUL");
    let read = try_open(&exe, libc::O_RDONLY);
    let write = try_open(&exe, libc::O_WRONLY);
    let seize = try_seize(pid);
    println!("read={read} write={write} seize={seize}");
}
