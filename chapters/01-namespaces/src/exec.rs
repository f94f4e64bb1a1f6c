//! The last step: find the command and become it.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::SetupError;

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
        "exec",
        Some(command.to_string()),
        format!("executable file not found in $PATH ({path})"),
    ))
}

fn cstring(what: &str, s: &str) -> Result<CString, SetupError> {
    CString::new(s).map_err(|_| {
        SetupError::refused(
            "exec",
            Some(s.to_string()),
            format!("{what} contains a NUL byte"),
        )
    })
}

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
        "exec",
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
