//! Root checks: most of minidock's behaviour (namespaces, mounts, cgroups) only
//! exists for root, so a test that needs it must say so loudly instead of
//! passing without having checked anything.

/// Panics unless the test runs as root (effective uid 0).
///
/// Tests that create namespaces, mount file systems or chroot call this first,
/// so that running them as a normal user fails with a message that says what
/// to do, rather than with an obscure `EPERM` deep inside — or, worse, a skip
/// that looks like a pass.
pub fn require_root() {
    if !nix::unistd::geteuid().is_root() {
        panic!("needs root: run the test command as root (see README)");
    }
}
