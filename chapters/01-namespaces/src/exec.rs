//! The last step: find the command and become it.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{SetupError, Step};

/// Looks `command` up in `path` (a `PATH` value) the way a shell does,
/// inside the container's file system. A command with a `/` is used as is.
pub fn find_executable(command: &str, path: &str) -> Result<PathBuf, SetupError> {
    if command.contains('/') {
        return Ok(PathBuf::from(command));
    }
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(command);
        if let Ok(meta) = candidate.metadata() {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(SetupError::refused(
        Step::Exec,
        Some(command.to_string()),
        format!("executable file not found in $PATH ({path})"),
    ))
}

fn cstring(what: &str, s: &str) -> Result<CString, SetupError> {
    CString::new(s).map_err(|_| {
        SetupError::refused(
            Step::Exec,
            Some(s.to_string()),
            format!("{what} contains a NUL byte"),
        )
    })
}

// ANCHOR: signals
/// Gives the command the signal dispositions of a fresh process: every
/// signal handled by default, none blocked.
///
/// `execve` resets signals that had handlers, but keeps the *ignored* ones
/// and the blocked set. Without this step a container would inherit
/// whatever its engine's parents ignored: every Rust program ignores
/// `SIGPIPE` (so `yes | head -1` would print "Broken pipe" errors instead of
/// ending quietly), and a shell starting a daemon with `&` makes it ignore
/// `SIGINT` and `SIGQUIT` (so `^C` in `docker run -it` would do nothing).
pub fn reset_signals() -> Result<(), SetupError> {
    // The kernel's `struct sigaction` (not the C library's): the C library
    // refuses to touch signals 32 and 33, which it keeps for its threads,
    // and an ignored 32 would be inherited like any other.
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for signal in 1..=64 {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `default` is a valid kernel sigaction that installs no
        // handler, and the kernel only reads it; the size is the kernel's
        // signal set (64 bits).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            )
        };
        if rc != 0 {
            let errno = nix::errno::Errno::last();
            return Err(SetupError::sys(
                "rt_sigaction SIG_DFL",
                Some(signal.to_string()),
                errno,
            ));
        }
    }
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    )
    .map_err(|e| SetupError::sys("sigprocmask", None, e))
}
// ANCHOR_END: signals

// ANCHOR: exec
/// `execve`: the process becomes the command, keeping its PID, namespaces,
/// root, credentials and descriptors 0–2. Only returns on failure.
pub fn exec(program: &Path, args: &[String], env: &[String]) -> Result<Infallible, SetupError> {
    let prog = cstring("program", &program.to_string_lossy())?;
    let argv = args
        .iter()
        .map(|a| cstring("argument", a))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = env
        .iter()
        .map(|e| cstring("environment", e))
        .collect::<Result<Vec<_>, _>>()?;
    let errno = nix::unistd::execve(&prog, &argv, &envp).unwrap_err();
    Err(SetupError::sys(
        Step::Exec,
        Some(program.display().to_string()),
        errno,
    ))
}
// ANCHOR_END: exec

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_in_path_and_says_not_found() {
        assert_eq!(
            find_executable("sh", "/nonexistent:/bin").unwrap(),
            PathBuf::from("/bin/sh")
        );
        assert_eq!(find_executable("./x", "").unwrap(), PathBuf::from("./x"));
        let e = find_executable("no-such-cmd-xyz", "/bin").unwrap_err();
        assert!(e.to_string().contains("executable file not found"), "{e}");
    }
}
