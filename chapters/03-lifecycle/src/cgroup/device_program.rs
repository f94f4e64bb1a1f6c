//! cgroup v2's devices "controller": a small eBPF program.
//!
//! cgroup v2 has no `devices.allow` file. Instead the kernel runs a program
//! of type `BPF_PROG_TYPE_CGROUP_DEVICE`, attached to the group, at every
//! `open` and `mknod` of a device node by a process in it. The program reads
//! a `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
//! (`access_type` = access bits << 16 | device type) and returns 1 (allow)
//! or 0 (deny, `EPERM`). runc and crun generate it from the rule list; so
//! does this module, instruction by instruction, without a compiler or a
//! BPF library: the program is a straight chain of "does rule N match?"
//! blocks, each ending in `return 1`, and a final `return 0`.
//!
//! The kernel's verifier checks the program at load time; the bytes are
//! handed over with the `bpf(2)` system call (`BPF_PROG_LOAD`), and the
//! program is attached to the group's directory (`BPF_PROG_ATTACH`), where it
//! stays until the group is removed.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::device_rules::{DeviceKind, DeviceRule, ALL_ACCESS};
use super::error::{CgroupError, Result};

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The operation: class, size or source, and opcode, in one byte.
    pub code: u8,
    /// Destination register in the low 4 bits, source in the high 4.
    pub regs: u8,
    /// A signed offset: of memory for loads, of instructions for jumps.
    pub off: i16,
    /// The immediate operand: a constant to compare or to load.
    pub imm: i32,
}

// The opcodes the program uses (linux/bpf.h, linux/bpf_common.h).
/// `dst = *(u32 *)(src + off)`.
const LDX_MEM_W: u8 = 0x61;
/// `dst &= imm` (64 bit).
const ALU64_AND_K: u8 = 0x57;
/// `dst >>= imm` (64 bit).
const ALU64_RSH_K: u8 = 0x77;
/// `dst = src`.
const ALU64_MOV_X: u8 = 0xbf;
/// `dst = imm`.
const ALU64_MOV_K: u8 = 0xb7;
/// `if dst != imm goto pc + 1 + off`.
const JMP_JNE_K: u8 = 0x55;
/// `return r0`.
const JMP_EXIT: u8 = 0x95;

// Registers: r1 holds the context on entry, r0 the result on exit.
const R0: u8 = 0;
const R1: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

/// `BPF_DEVCG_DEV_BLOCK`, `BPF_DEVCG_DEV_CHAR`.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: dst | (src << 4),
        off,
        imm,
    }
}

// ANCHOR: program
/// The program for `rules`: allow what one of them allows, deny the rest.
pub fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_MEM_W, TYPE, R1, 0, 0), // access_type
        insn(ALU64_AND_K, TYPE, 0, 0, 0xffff),
        insn(LDX_MEM_W, ACCESS, R1, 0, 0),
        insn(ALU64_RSH_K, ACCESS, 0, 0, 16),
        insn(LDX_MEM_W, MAJOR, R1, 4, 0),
        insn(LDX_MEM_W, MINOR, R1, 8, 0),
    ];
    for rule in rules {
        // Each test jumps past the end of this rule's block when it fails;
        // the offsets are filled in once the block's length is known.
        let mut block = Vec::new();
        match rule.kind {
            DeviceKind::Block => block.push(insn(JMP_JNE_K, TYPE, 0, 0, DEV_BLOCK)),
            DeviceKind::Char => block.push(insn(JMP_JNE_K, TYPE, 0, 0, DEV_CHAR)),
            DeviceKind::All => {}
        }
        if rule.access != ALL_ACCESS {
            // Every requested bit must be one the rule grants:
            // (access & !granted) == 0.
            let not_granted = i32::from(!rule.access & ALL_ACCESS);
            block.push(insn(ALU64_MOV_X, R1, ACCESS, 0, 0));
            block.push(insn(ALU64_AND_K, R1, 0, 0, not_granted));
            block.push(insn(JMP_JNE_K, R1, 0, 0, 0));
        }
        if let Some(major) = rule.major {
            block.push(insn(JMP_JNE_K, MAJOR, 0, 0, major as i32));
        }
        if let Some(minor) = rule.minor {
            block.push(insn(JMP_JNE_K, MINOR, 0, 0, minor as i32));
        }
        block.push(insn(ALU64_MOV_K, R0, 0, 0, 1));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == JMP_JNE_K {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
    }
    p.push(insn(ALU64_MOV_K, R0, 0, 0, 0));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}
// ANCHOR_END: program

// The bpf(2) interface: commands, types and the parts of `union bpf_attr`
// this module fills in.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

/// `bpf(cmd, attr, size)`.
///
/// # Safety
/// `attr` must be the `bpf_attr` variant `cmd` expects, and every pointer
/// in it valid for the kernel to read (or write, the log) during the call.
unsafe fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<i32> {
    // SAFETY: forwarded to the caller's contract; the size is T's.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as i32)
    }
}

/// Loads `insns` as a cgroup device program; the error carries the
/// verifier's explanation.
pub fn load(insns: &[Insn]) -> io::Result<OwnedFd> {
    let license = c"MIT";
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    attr.prog_name[..8].copy_from_slice(b"minidock");
    // SAFETY: a BPF_PROG_LOAD attr whose pointers (instructions, license,
    // log) outlive the call; the log's size is its length.
    match unsafe { bpf(BPF_PROG_LOAD, &mut attr) } {
        // SAFETY: the kernel returned a new descriptor for the program.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
        Err(e) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let verifier = String::from_utf8_lossy(&log[..end]);
            Err(io::Error::new(
                e.kind(),
                format!("{e}; verifier: {}", verifier.trim()),
            ))
        }
    }
}

/// Loads the program for `rules` and attaches it to the v2 group at `dir`.
///
/// Attached without `BPF_F_ALLOW_MULTI`, so attaching again (a container
/// that restarts in the same group) replaces the program instead of adding
/// one more; programs of parent groups attached with `ALLOW_MULTI`
/// (systemd's) still run too, and all must allow.
pub fn attach(dir: &Path, rules: &[DeviceRule]) -> Result<()> {
    let io_error = |op: &'static str| {
        move |source: io::Error| CgroupError::Io {
            op,
            path: dir.into(),
            source,
        }
    };
    let prog = load(&program(rules)).map_err(io_error("load the device program for"))?;
    let group = std::fs::File::open(dir).map_err(io_error("open"))?;
    let mut attr = ProgAttachAttr {
        target_fd: group.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: 0,
    };
    // SAFETY: a BPF_PROG_ATTACH attr holding two descriptors we own; no
    // pointers.
    unsafe { bpf(BPF_PROG_ATTACH, &mut attr) }.map_err(io_error("attach the device program to"))?;
    // The group holds the program now; our descriptors may go.
    Ok(())
}

/// Runs `program` on one access the way the kernel would, for the tests:
/// only the instructions [`program`] emits are understood.
#[cfg(test)]
pub(crate) fn run(program: &[Insn], kind: DeviceKind, major: u32, minor: u32, access: u8) -> u64 {
    let dev_type = match kind {
        DeviceKind::Block => DEV_BLOCK as u64,
        DeviceKind::Char => DEV_CHAR as u64,
        DeviceKind::All => unreachable!("an access is to one kind of device"),
    };
    let ctx = [
        (u64::from(access) << 16) | dev_type,
        major.into(),
        minor.into(),
    ];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = program[pc];
        let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
        pc += 1;
        match i.code {
            LDX_MEM_W => r[dst] = ctx[(i.off / 4) as usize],
            ALU64_AND_K => r[dst] &= i.imm as i64 as u64,
            ALU64_RSH_K => r[dst] >>= i.imm,
            ALU64_MOV_X => r[dst] = r[src],
            ALU64_MOV_K => r[dst] = i.imm as i64 as u64,
            JMP_JNE_K => {
                if r[dst] != i.imm as i64 as u64 {
                    pc += i.off as usize;
                }
            }
            JMP_EXIT => return r[0],
            other => panic!("instruction {other:#x} is not one the program uses"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::device_rules::{allowed, DEFAULT_RULES, MKNOD, READ, WRITE};
    use super::*;

    #[test]
    fn the_program_decides_as_the_rules_do() {
        let mut rules = DEFAULT_RULES.to_vec();
        // And rules of every shape: any kind, read-only, any minor.
        rules.push(DeviceRule {
            kind: DeviceKind::All,
            major: Some(7),
            minor: None,
            access: READ,
        });
        rules.push(DeviceRule {
            kind: DeviceKind::Block,
            major: None,
            minor: None,
            access: MKNOD,
        });
        let p = program(&rules);
        for kind in [DeviceKind::Block, DeviceKind::Char] {
            for major in [0, 1, 5, 7, 8, 136, 137] {
                for minor in [0, 1, 2, 3, 5, 7, 8, 9, 300] {
                    for access in 1..=7u8 {
                        let want = allowed(&rules, kind, major, minor, access);
                        assert_eq!(
                            run(&p, kind, major, minor, access) == 1,
                            want,
                            "{kind:?} {major}:{minor} access {access:03b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_default_program_denies_a_disk_and_allows_dev_null() {
        let p = program(DEFAULT_RULES);
        assert_eq!(run(&p, DeviceKind::Char, 1, 3, READ | WRITE), 1);
        assert_eq!(run(&p, DeviceKind::Block, 8, 0, READ), 0);
        assert_eq!(run(&p, DeviceKind::Block, 253, 0, MKNOD), 0);
        // Ends in "return 0": a request no rule matches is denied.
        assert_eq!(p[p.len() - 2], insn(ALU64_MOV_K, R0, 0, 0, 0));
        assert_eq!(program(&[]).len(), 8, "no rules: deny everything");
    }
}
