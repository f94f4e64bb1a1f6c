//! A seccomp filter: system calls the container may not make at all.
//!
//! Capabilities decide what root may do *with* a system call; some calls
//! need no capability and still reach deep into the kernel. `unshare(2)`
//! with `CLONE_NEWUSER` is the famous one: any process may make a user
//! namespace, becomes root with every capability *inside* it, and can then
//! reach kernel code (mounting file systems, netfilter, …) that has had many
//! privilege-escalation bugs. The kernel keyring (`keyctl`) is not
//! namespaced at all; `userfaultfd` and `io_uring` are favourite tools of
//! exploits. Docker answers with a seccomp profile: a small program the
//! kernel runs on every system call the container makes, before the call
//! itself.
//!
//! The program is classic BPF, the language of socket filters. It reads a
//! `struct seccomp_data` — the call's number, the architecture, the
//! arguments — and returns a verdict: allow, or fail with an errno. Once
//! installed it is inherited by every child and cannot be removed.
//!
//! Docker's profile is an allow-list of about 400 calls. This one is the
//! other way round, to stay readable: everything is allowed except the
//! calls Docker's profile refuses to a container with the default
//! capabilities ([`DENIED`]), `clone` with a namespace flag, and anything
//! from another ABI (32-bit calls through `int 0x80`, x32), whose numbers
//! mean other calls and would slip past a list of this ABI's numbers.

use libc::{sock_filter, sock_fprog};

use crate::error::SetupError;

// ANCHOR: seccomp_data
/// `struct seccomp_data` offsets: `int nr; __u32 arch; __u64
/// instruction_pointer; __u64 args[6];`.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// The low 32 bits of `args[0]` (little endian): `clone`'s flags.
// Used by exercise 1.10 alone: after `start`, a building block for yours.
#[allow(dead_code)]
const ARG0_LOW: u32 = 16;

/// `AUDIT_ARCH_*` of the ABI this program was built for (from
/// `<linux/audit.h>`: the ELF machine, 64-bit, little endian).
#[cfg(target_arch = "x86_64")]
const NATIVE_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const NATIVE_ARCH: u32 = 0xC000_00B7;

/// x32 calls are x86_64 calls with this bit set in their number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
// ANCHOR_END: seccomp_data

/// Every `CLONE_NEW*` flag: a new namespace of any kind.
// Used by exercise 1.10 alone: after `start`, a building block for yours.
#[allow(dead_code)]
const CLONE_NEW_ANY: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32;

/// System calls refused with `EPERM`: those Docker's default profile
/// refuses to a container without extra capabilities. Most need a
/// capability the container does not have anyway (mount, reboot, modules,
/// clocks, swap); the filter is a second wall. Others need none, and the
/// filter is the only wall: keys, `unshare`, `userfaultfd`,
/// `perf_event_open`, `bpf`, `io_uring`, NUMA memory policy.
#[rustfmt::skip]
pub const DENIED: &[(&str, libc::c_long)] = &[
    // kernel keyring: not namespaced
    ("add_key", libc::SYS_add_key), ("keyctl", libc::SYS_keyctl),
    ("request_key", libc::SYS_request_key),
    // namespaces and mounts: the container's are fixed
    ("unshare", libc::SYS_unshare), ("setns", libc::SYS_setns),
    ("mount", libc::SYS_mount), ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root), ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount), ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig), ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick), ("mount_setattr", libc::SYS_mount_setattr),
    // file handles bypass path checks (the "shocker" escape)
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    // exploit tools and kernel attack surface
    ("bpf", libc::SYS_bpf), ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    // other processes' memory
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev), ("kcmp", libc::SYS_kcmp),
    // NUMA policy (Docker allows it with CAP_SYS_NICE only)
    ("mbind", libc::SYS_mbind), ("get_mempolicy", libc::SYS_get_mempolicy),
    ("set_mempolicy", libc::SYS_set_mempolicy), ("move_pages", libc::SYS_move_pages),
    // the machine: modules, reboot, clocks, swap, accounting, quotas
    ("init_module", libc::SYS_init_module), ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module), ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load), ("reboot", libc::SYS_reboot),
    ("settimeofday", libc::SYS_settimeofday), ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime), ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff), ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl), ("lookup_dcookie", libc::SYS_lookup_dcookie),
    ("nfsservctl", libc::SYS_nfsservctl),
];

/// Calls only x86_64 has, refused there too.
#[cfg(target_arch = "x86_64")]
#[rustfmt::skip]
const DENIED_X86_64: &[(&str, libc::c_long)] = &[
    ("ioperm", libc::SYS_ioperm), ("iopl", libc::SYS_iopl), ("uselib", libc::SYS_uselib),
    ("ustat", libc::SYS_ustat), ("sysfs", libc::SYS_sysfs), ("_sysctl", libc::SYS__sysctl),
];
#[cfg(not(target_arch = "x86_64"))]
const DENIED_X86_64: &[(&str, libc::c_long)] = &[];

// ANCHOR: bpf_helpers
const fn stmt(code: u32, k: u32) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A conditional jump: `jt` / `jf` instructions forward when true / false.
const fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

const LOAD: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const RETURN: u32 = libc::BPF_RET | libc::BPF_K;
const IF_EQUAL: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const IF_AT_LEAST: u32 = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
// Used by exercise 1.10 alone: after `start`, a building block for yours.
#[allow(dead_code)]
const IF_ANY_BIT: u32 = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;

// Used by exercise 1.10 alone: after `start`, a building block for yours.
#[allow(dead_code)]
const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const fn fail(errno: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA)
}
// ANCHOR_END: bpf_helpers

// ANCHOR: program
/// The filter, instruction by instruction. Each check is "if it is this,
/// return that; else fall through to the next": no jump skips more than
/// its own check's few instructions, so the list can grow without BPF's
/// 255-instruction jump limit getting in the way.
pub fn program() -> Vec<sock_filter> {
    let mut p = vec![
        // Another ABI (32-bit compat): its numbers mean other calls.
        stmt(LOAD, ARCH),
        jump(IF_EQUAL, NATIVE_ARCH, 1, 0),
        stmt(RETURN, fail(libc::ENOSYS)),
        stmt(LOAD, NR),
    ];
    if cfg!(target_arch = "x86_64") {
        // x32: the same arch value, numbers with bit 30 set.
        p.push(jump(IF_AT_LEAST, X32_SYSCALL_BIT, 0, 1));
        p.push(stmt(RETURN, fail(libc::ENOSYS)));
    }
    for &(_, nr) in DENIED.iter().chain(DENIED_X86_64) {
        p.push(jump(IF_EQUAL, nr as u32, 0, 1));
        p.push(stmt(RETURN, fail(libc::EPERM)));
    }
    // clone3 passes its flags in memory, where BPF cannot look: refuse it
    // with ENOSYS, and the C library falls back to clone, checked below.
    p.push(jump(IF_EQUAL, libc::SYS_clone3 as u32, 0, 1));
    p.push(stmt(RETURN, fail(libc::ENOSYS)));
    p.extend(clone_without_namespaces());
    p
}

/// `clone`: threads and processes yes, new namespaces no. The last check,
/// and the end of the program: a call that is not `clone` jumps straight
/// to the final "allow"; a `clone` gets there only without a `CLONE_NEW*`
/// flag.
fn clone_without_namespaces() -> [sock_filter; 5] {
    // exercise 1.10 seccomp-clone: refuse clone with any CLONE_NEW* flag (EPERM), and allow everything else.
    // hint: five instructions: is it clone? load its flags; is any bit of CLONE_NEW_ANY set? fail with EPERM; allow
    // hint: the pieces are above: stmt(code, k) and jump(code, k, jt, jf); the codes LOAD, IF_EQUAL, IF_ANY_BIT, RETURN; the values ARG0_LOW, CLONE_NEW_ANY, ALLOW and fail(errno)
    // hint: jt and jf count the instructions to skip when the test is true or false: a call that is not clone skips three, straight to the last instruction (allow)
    [
        jump(IF_EQUAL, libc::SYS_clone as u32, 0, 3),
        stmt(LOAD, ARG0_LOW),
        jump(IF_ANY_BIT, CLONE_NEW_ANY, 0, 1),
        stmt(RETURN, fail(libc::EPERM)),
        stmt(RETURN, ALLOW),
    ]
    // end exercise
}
// ANCHOR_END: program

// ANCHOR: install
/// Installs [`program`] for this process and everything it will exec or
/// fork. Without `no_new_privs` the kernel only lets a process with
/// `CAP_SYS_ADMIN` do this (a filter could otherwise trick a setuid
/// program), so it runs before the capabilities are dropped.
pub fn install() -> Result<(), SetupError> {
    let filter = program();
    let prog = sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut sock_filter,
    };
    // SAFETY: `prog` points at `filter`, which lives until the call
    // returns; the kernel copies the program and keeps no pointer to it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const sock_fprog,
        )
    };
    if rc != 0 {
        return Err(SetupError::sys(
            "seccomp SECCOMP_SET_MODE_FILTER",
            None,
            nix::errno::Errno::last(),
        ));
    }
    Ok(())
}
// ANCHOR_END: install

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_fits_and_every_jump_lands_inside_it() {
        let p = program();
        assert!(
            p.len() < 4096,
            "BPF programs are limited to 4096 instructions"
        );
        for (i, ins) in p.iter().enumerate() {
            if u32::from(ins.code) & 0x07 == libc::BPF_JMP {
                let furthest = i + 1 + usize::from(ins.jt.max(ins.jf));
                assert!(
                    furthest < p.len(),
                    "instruction {i} jumps out of the program"
                );
            }
        }
        let last = p.last().unwrap();
        assert_eq!((u32::from(last.code), last.k), (RETURN, ALLOW));
    }

    /// The calls' results under [`program`] (see [`calls_in_a_child`]).
    fn calls_under_the_filter(calls: &[fn() -> libc::c_long]) -> Vec<u8> {
        calls_in_a_child(Some(&program()), calls)
    }

    /// The same calls with no filter: what the kernel itself answers.
    fn calls_without_a_filter(calls: &[fn() -> libc::c_long]) -> Vec<u8> {
        calls_in_a_child(None, calls)
    }

    /// In a forked child: install `filter` (if any), make raw system calls,
    /// and report each result as one byte of a pipe (0 = succeeded, else
    /// the errno). Only raw system calls between fork and `_exit`: the test
    /// harness has other threads.
    fn calls_in_a_child(filter: Option<&[sock_filter]>, calls: &[fn() -> libc::c_long]) -> Vec<u8> {
        let prog = filter.map(|filter| sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_ptr() as *mut sock_filter,
        });
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only makes raw system calls and leaves with
        // _exit, which is sound in a fork of a multi-threaded process.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: raw system calls on memory this process owns.
            unsafe {
                if let Some(prog) = &prog {
                    libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                    let installed =
                        libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, prog);
                    if installed != 0 {
                        libc::_exit(100);
                    }
                }
                for call in calls {
                    let rc = call();
                    let byte: u8 = if rc >= 0 {
                        0
                    } else {
                        *libc::__errno_location() as u8
                    };
                    libc::write(fds[1], (&byte as *const u8).cast(), 1);
                }
                libc::_exit(0);
            }
        }
        // SAFETY: closing our copy of the write end, waiting for our child.
        unsafe { libc::close(fds[1]) };
        let mut status = 0;
        // SAFETY: pid is our child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child status {status}"
        );
        let mut out = vec![0u8; calls.len()];
        // SAFETY: out has room for calls.len() bytes.
        let n = unsafe { libc::read(fds[0], out.as_mut_ptr().cast(), out.len()) };
        // SAFETY: our descriptor.
        unsafe { libc::close(fds[0]) };
        assert_eq!(n as usize, calls.len());
        out
    }

    /// A raw `clone` with `flags`; the child (if any) leaves at once.
    fn raw_clone(flags: libc::c_long) -> libc::c_long {
        // SAFETY: like fork: the child only calls _exit; the parent reaps it.
        unsafe {
            let pid = libc::syscall(
                libc::SYS_clone,
                flags | libc::SIGCHLD as libc::c_long,
                0,
                0,
                0,
                0,
            );
            if pid == 0 {
                libc::_exit(0);
            }
            if pid > 0 {
                libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
            }
            pid
        }
    }

    /// A thread, made with the flags a thread library gives `clone`, on a
    /// stack of its own; it exits at once. `CLONE_VFORK` makes the caller
    /// wait until it has, so the test needs no futex to join it.
    fn raw_thread() -> libc::c_long {
        extern "C" fn exit_at_once(_: *mut libc::c_void) -> libc::c_int {
            0
        }
        const STACK: usize = 64 * 1024;
        // SAFETY: a fresh anonymous mapping for the thread's stack (never
        // unmapped: the forked child that calls this exits soon). The thread
        // runs only `exit_at_once`, on that stack, and the C library's clone
        // ends it with the exit system call, which ends this thread alone.
        unsafe {
            let stack = libc::mmap(
                std::ptr::null_mut(),
                STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if stack == libc::MAP_FAILED {
                return -1;
            }
            let flags = libc::CLONE_VM
                | libc::CLONE_FS
                | libc::CLONE_FILES
                | libc::CLONE_SIGHAND
                | libc::CLONE_THREAD
                | libc::CLONE_SYSVSEM
                | libc::CLONE_VFORK;
            let top = stack.cast::<u8>().add(STACK).cast();
            libc::clone(exit_at_once, top, flags, std::ptr::null_mut()).into()
        }
    }

    /// The rule of exercise 1.10 on its own. Root may make every kind of
    /// namespace, so without the filter all these calls succeed: each EPERM
    /// below comes from the filter, not from the kernel.
    #[test]
    fn seccomp_clone_refuses_every_namespace_flag_and_lets_threads_through() {
        minidock_testkit::require_root();
        let calls: [fn() -> libc::c_long; 9] = [
            || raw_clone(libc::CLONE_NEWNS as libc::c_long),
            || raw_clone(libc::CLONE_NEWUTS as libc::c_long),
            || raw_clone(libc::CLONE_NEWIPC as libc::c_long),
            || raw_clone(libc::CLONE_NEWUSER as libc::c_long),
            || raw_clone(libc::CLONE_NEWPID as libc::c_long),
            || raw_clone(libc::CLONE_NEWNET as libc::c_long),
            || raw_clone(libc::CLONE_NEWCGROUP as libc::c_long),
            raw_thread,
            // Not clone, but the same bits in its first argument (which
            // getpid ignores): only clone's flags count.
            // SAFETY: getpid takes no arguments and ignores extra ones.
            || unsafe { libc::syscall(libc::SYS_getpid, CLONE_NEW_ANY) },
        ];
        let what = "clone with NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP; \
                    a thread; getpid(CLONE_NEW_ANY)";
        assert_eq!(calls_without_a_filter(&calls), [0; 9], "{what}");
        let eperm = libc::EPERM as u8;
        assert_eq!(
            calls_under_the_filter(&calls),
            [eperm, eperm, eperm, eperm, eperm, eperm, eperm, 0, 0],
            "{what}"
        );
    }

    #[test]
    fn the_filter_refuses_what_it_lists_and_allows_the_rest() {
        let results = calls_under_the_filter(&[
            // SAFETY: getpid takes no arguments and touches no memory.
            || unsafe { libc::syscall(libc::SYS_getpid) },
            || raw_clone(0),
            || raw_clone(libc::CLONE_NEWUSER as libc::c_long),
            || raw_clone(libc::CLONE_NEWNET as libc::c_long),
            // SAFETY: unshare takes flags only; it runs in a child that is
            // thrown away, so a new user namespace changes nothing here.
            || unsafe { libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER) },
            // SAFETY: keyctl operation 0 (KEYCTL_GET_KEYRING_ID) with null
            // arguments reads no memory of ours.
            || unsafe { libc::syscall(libc::SYS_keyctl, 0, 0, 0, 0, 0) },
            // SAFETY: clone3 with a null argument and size 0 is refused
            // (EINVAL, or ENOSYS under the filter) before it reads anything.
            || unsafe { libc::syscall(libc::SYS_clone3, 0, 0) },
            // SAFETY: userfaultfd takes flags only and returns a new
            // descriptor of the thrown-away child, or an error.
            || unsafe { libc::syscall(libc::SYS_userfaultfd, 0) },
        ]);
        let (eperm, enosys) = (libc::EPERM as u8, libc::ENOSYS as u8);
        assert_eq!(
            results,
            [0, 0, eperm, eperm, eperm, eperm, enosys, eperm],
            "getpid, clone, clone(NEWUSER), clone(NEWNET), unshare, keyctl, clone3, userfaultfd"
        );
    }

    #[test]
    fn the_denied_calls_are_distinct_and_the_allowed_essentials_are_not_among_them() {
        let mut numbers: Vec<_> = DENIED.iter().chain(DENIED_X86_64).map(|d| d.1).collect();
        numbers.sort();
        let before = numbers.len();
        numbers.dedup();
        assert_eq!(numbers.len(), before, "a call is listed twice");
        for essential in [
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_wait4,
            libc::SYS_chroot,
            libc::SYS_setuid,
            libc::SYS_capset,
            libc::SYS_ptrace,
        ] {
            assert!(!numbers.contains(&essential), "{essential} is denied");
        }
    }
}
