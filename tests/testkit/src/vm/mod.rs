//! A cgroup v2 machine on demand: Debian's kernel in qemu, booted with
//! `cgroup_no_v1=all` so that every controller lives in the unified tree,
//! running test binaries built on the host and reporting on the serial
//! console.
//!
//! The host (and CI) is cgroup v1, while most users' hosts are v2 only; the
//! v2 code paths (`memory.max`, `cgroup.freeze`, `memory.events`) can only be
//! proven on a v2 kernel, and a VM is the one place where this machine can
//! have one. The VM has no network device and no disk: an initramfs holds
//! busybox, the test binaries at their host paths, their libraries and the
//! kernel modules (overlay) the tests need.
//!
//! The guest's `/init` prints lines starting with [`MARK`]; everything else
//! on the console is the tests' own output, passed through.

mod cpio;
mod initramfs;

pub use cpio::Cpio;
pub use initramfs::{module_with_deps, shared_libraries, Initramfs};

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Prefix of the lines the guest's init writes for the host to read.
pub const MARK: &str = "MINIDOCK-VM";

/// The kernel command line: v2 only, console on the first serial port,
/// `panic=-1` with qemu's `-no-reboot` so a crash ends the VM at once.
/// `no_timer_check`: under TCG on a busy host the kernel's check that the
/// timer interrupt arrives in time fails and panics ("IO-APIC + timer
/// doesn't work").
pub const KERNEL_CMDLINE: &str = "console=ttyS0 panic=-1 quiet no_timer_check cgroup_no_v1=all \
     systemd.unified_cgroup_hierarchy=1 rdinit=/init";

/// Kernel modules the container tests need (Debian builds them as modules).
pub const MODULES: &[&str] = &["overlay", "veth"];

/// A kernel to boot and the modules built for it.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// `/boot/vmlinuz-<version>`.
    pub image: PathBuf,
    /// `/lib/modules/<version>`.
    pub modules: PathBuf,
    /// `6.1.0-28-amd64`.
    pub version: String,
}

impl Kernel {
    /// `$MINIDOCK_VM_KERNEL` when set, else the newest `/boot/vmlinuz-*`
    /// that has its modules in `/lib/modules`.
    pub fn find() -> Result<Kernel, String> {
        const HOW: &str = "apt-get install linux-image-amd64";
        let candidates: Vec<PathBuf> = match std::env::var_os("MINIDOCK_VM_KERNEL") {
            Some(k) => vec![PathBuf::from(k)],
            None => {
                let mut v: Vec<PathBuf> = fs::read_dir("/boot")
                    .map_err(|e| format!("read /boot: {e}; {HOW}"))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
                    })
                    .collect();
                v.sort();
                v.reverse();
                v
            }
        };
        for image in candidates {
            let name = image.file_name().unwrap_or_default().to_string_lossy();
            let version = name.trim_start_matches("vmlinuz-").to_string();
            let modules = PathBuf::from("/lib/modules").join(&version);
            if image.is_file() && modules.join("modules.dep").is_file() {
                return Ok(Kernel {
                    image,
                    modules,
                    version,
                });
            }
        }
        Err(format!(
            "no kernel to boot: no /boot/vmlinuz-* with its /lib/modules/<version>/modules.dep; {HOW}"
        ))
    }
}

/// How qemu runs the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation through `/dev/kvm`.
    Kvm,
    /// qemu's emulator, when `/dev/kvm` does not open: many times slower,
    /// still a real kernel. The reason says why KVM was not used.
    Tcg { reason: String },
}

impl Accel {
    /// KVM when `/dev/kvm` opens for reading and writing, TCG otherwise
    /// (and always when `MINIDOCK_VM_ACCEL=tcg`).
    pub fn detect() -> Accel {
        if std::env::var("MINIDOCK_VM_ACCEL").as_deref() == Ok("tcg") {
            return Accel::Tcg {
                reason: "MINIDOCK_VM_ACCEL=tcg".into(),
            };
        }
        // PVM ("pagetable-based virtual machine") serves /dev/kvm inside
        // some cloud VMs without hardware nesting; it runs only guest kernels
        // built for it, and Debian's hangs before its first message.
        if Path::new("/sys/module/kvm_pvm").exists() {
            return Accel::Tcg {
                reason:
                    "/dev/kvm is PVM (module kvm_pvm), which boots only kernels built as PVM guests"
                        .into(),
            };
        }
        match fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
        {
            Ok(_) => Accel::Kvm,
            Err(e) => Accel::Tcg {
                reason: format!("cannot open /dev/kvm: {e}"),
            },
        }
    }

    fn qemu_args(&self) -> &'static [&'static str] {
        match self {
            Accel::Kvm => &["-enable-kvm", "-cpu", "host"],
            Accel::Tcg { .. } => &["-accel", "tcg", "-cpu", "max"],
        }
    }
}

/// One test binary to run in the guest.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// A short name for reports, e.g. `minidock-lifecycle/resources`.
    pub name: String,
    /// The binary, run from its host path.
    pub binary: PathBuf,
    /// Its working directory (cargo runs tests in the package's directory).
    pub cwd: PathBuf,
    /// Arguments for the libtest harness: filters, `--skip`, `--exact`.
    pub args: Vec<String>,
}

/// What goes into the VM and how long it may take.
#[derive(Debug, Clone)]
pub struct VmConfig {
    pub kernel: Kernel,
    pub accel: Accel,
    /// Guest memory.
    pub memory_mib: u32,
    pub cpus: u32,
    /// From qemu's start to the guest's last mark.
    pub timeout: Duration,
    /// From qemu's start to the guest's init reporting (kernel boot).
    pub boot_timeout: Duration,
    /// Where the whole console is kept.
    pub console_log: PathBuf,
    /// Where the initramfs is written.
    pub initramfs: PathBuf,
    /// Executables the tests start by path (the engine's binaries, examples).
    pub executables: Vec<PathBuf>,
    /// Commands (busybox sh) run before the tests, their output on the
    /// console: what the book shows of the v2 machine.
    pub probe: String,
}

/// Why a VM run gave no verdict.
#[derive(Debug)]
pub enum VmError {
    /// The guest never reached its init: a kernel that does not boot under
    /// this accelerator, or qemu that failed to start the machine.
    NoBoot(String),
    /// Anything else: the fixture could not be built, the guest stopped
    /// half-way, the time ran out.
    Failed(String),
}

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmError::NoBoot(why) => write!(f, "the VM did not boot: {why}"),
            VmError::Failed(why) => f.write_str(why),
        }
    }
}

impl From<String> for VmError {
    fn from(why: String) -> Self {
        VmError::Failed(why)
    }
}

/// The result of one [`TestRun`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    pub name: String,
    /// The exit status; 0 when every test passed.
    pub code: i32,
    /// The `test result:` summary line libtest printed.
    pub summary: Option<String>,
    pub duration: Duration,
}

/// The whole VM run.
#[derive(Debug)]
pub struct VmOutcome {
    pub results: Vec<RunResult>,
    /// `uname -r` and what is mounted at /sys/fs/cgroup, from the guest.
    pub guest: String,
    /// From qemu's start to its exit.
    pub duration: Duration,
    /// Until the guest's init started (kernel boot).
    pub boot: Duration,
}

impl VmOutcome {
    /// Whether every run exited 0.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.code == 0)
    }
}

/// Builds the initramfs, boots the VM, runs `runs` in order and collects the
/// results. Each console line is also handed to `on_line` as it arrives.
///
/// An `Err` means the VM did not do its job (qemu missing, no boot, a
/// timeout, a run never reported); failing tests are an `Ok` whose
/// [`VmOutcome::passed`] is false.
pub fn run_in_vm(
    config: &VmConfig,
    runs: &[TestRun],
    mut on_line: impl FnMut(&str),
) -> Result<VmOutcome, VmError> {
    let mut root = Initramfs::new();
    assemble(&mut root, config, runs)?;
    let size = root.write(&config.initramfs)?;
    on_line(&format!(
        "{MARK}-HOST initramfs {} ({} MiB), kernel {}",
        config.initramfs.display(),
        size >> 20,
        config.kernel.image.display()
    ));

    let qemu = "qemu-system-x86_64";
    let mut cmd = Command::new(qemu);
    cmd.args(config.accel.qemu_args());
    cmd.args(["-m", &config.memory_mib.to_string()])
        .args(["-smp", &config.cpus.to_string()])
        .args(["-nographic", "-no-reboot", "-nic", "none"])
        .arg("-kernel")
        .arg(&config.kernel.image)
        .arg("-initrd")
        .arg(&config.initramfs)
        .args(["-append", KERNEL_CMDLINE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {qemu}: {e} (apt-get install qemu-system-x86)"))?;

    // Lines from the console (stdout) and qemu's own complaints (stderr),
    // through one channel so the timeout covers both.
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    for (is_err, stream) in [
        (
            false,
            Box::new(child.stdout.take().expect("piped")) as Box<dyn std::io::Read + Send>,
        ),
        (true, Box::new(child.stderr.take().expect("piped"))),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n') {
                let Ok(line) = line else { break };
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                if tx.send((is_err, text)).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    let mut log = fs::File::create(&config.console_log)
        .map_err(|e| format!("create {}: {e}", config.console_log.display()))?;
    let mut qemu_errors = String::new();
    let mut tail: Vec<String> = Vec::new();
    let mut results = Vec::new();
    let mut guest = String::new();
    let mut boot = None;
    let mut current: Option<(String, Instant, Option<String>)> = None;
    let mut done = false;
    loop {
        let deadline = start
            + if boot.is_none() {
                config.boot_timeout.min(config.timeout)
            } else {
                config.timeout
            };
        let left = deadline.saturating_duration_since(Instant::now());
        let (is_err, line) = match rx.recv_timeout(left) {
            Ok(l) => l,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                child.kill().ok();
                child.wait().ok();
                if boot.is_none() {
                    return Err(VmError::NoBoot(format!(
                        "the guest's init did not report within {:?} of qemu's start ({:?}); \
                         console in {}; last lines:\n{}",
                        config.boot_timeout,
                        config.accel,
                        config.console_log.display(),
                        tail.join("\n")
                    )));
                }
                let doing = match (&boot, &current) {
                    (None, _) => unreachable!("handled above"),
                    (_, Some((name, ..))) => format!("{name} was still running"),
                    _ => "between runs".to_string(),
                };
                return Err(VmError::Failed(format!(
                    "the VM ran out of its {:?} ({doing}); console in {}; last lines:\n{}",
                    config.timeout,
                    config.console_log.display(),
                    tail.join("\n")
                )));
            }
        };
        writeln!(log, "{line}").ok();
        if is_err {
            writeln!(qemu_errors, "{line}").ok();
        }
        on_line(&line);
        tail.push(line.clone());
        if tail.len() > 40 {
            tail.remove(0);
        }
        // A mark may follow kernel output on the same line.
        let Some(at) = line.find(MARK) else {
            if let Some((_, _, summary)) = current.as_mut() {
                if line.starts_with("test result:") {
                    *summary = Some(line.clone());
                }
            }
            continue;
        };
        let mut words = line[at..].split_whitespace();
        match words.next() {
            Some(m) if m == format!("{MARK}-READY") => {
                boot = Some(start.elapsed());
                guest = words.collect::<Vec<_>>().join(" ");
            }
            Some(m) if m == format!("{MARK}-BEGIN") => {
                let name = words.next().unwrap_or_default().to_string();
                current = Some((name, Instant::now(), None));
            }
            Some(m) if m == format!("{MARK}-END") => {
                let name = words.next().unwrap_or_default().to_string();
                let code = words.next().and_then(|c| c.parse().ok()).unwrap_or(-1);
                let (begun, since, summary) =
                    current
                        .take()
                        .unwrap_or((name.clone(), Instant::now(), None));
                if begun != name {
                    return Err(VmError::Failed(format!(
                        "the guest ended {name} but had begun {begun}"
                    )));
                }
                results.push(RunResult {
                    name,
                    code,
                    summary,
                    duration: since.elapsed(),
                });
            }
            Some(m) if m == format!("{MARK}-DONE") => done = true,
            Some(m) if m == format!("{MARK}-FAIL") => {
                child.kill().ok();
                child.wait().ok();
                return Err(VmError::Failed(format!(
                    "the guest's init failed: {}; console in {}",
                    words.collect::<Vec<_>>().join(" "),
                    config.console_log.display()
                )));
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| format!("wait for qemu: {e}"))?;
    let duration = start.elapsed();
    let Some(boot) = boot else {
        return Err(VmError::NoBoot(format!(
            "qemu exited ({status}) before the guest's init reported; \
             qemu said: {}; console in {}; last lines:\n{}",
            if qemu_errors.is_empty() {
                "nothing"
            } else {
                qemu_errors.trim()
            },
            config.console_log.display(),
            tail.join("\n")
        )));
    };
    if !done {
        let doing = current
            .map(|(n, ..)| format!("during {n}"))
            .unwrap_or_else(|| "between runs".into());
        return Err(VmError::Failed(format!(
            "the VM stopped ({status}) {doing} before the guest's init finished \
             (a kernel panic or a crashed init); console in {}; last lines:\n{}",
            config.console_log.display(),
            tail.join("\n")
        )));
    }
    if results.len() != runs.len() {
        return Err(VmError::Failed(format!(
            "the guest reported {} runs of {}",
            results.len(),
            runs.len()
        )));
    }
    Ok(VmOutcome {
        results,
        guest,
        duration,
        boot,
    })
}

/// Puts busybox, the modules, the binaries and the init scripts into `root`.
fn assemble(root: &mut Initramfs, config: &VmConfig, runs: &[TestRun]) -> Result<(), String> {
    for d in [
        "proc", "sys", "dev", "tmp", "run", "root", "newroot", "etc", "sbin", "usr/bin", "usr/sbin",
    ] {
        root.dir(d);
    }
    // busybox at /bin/busybox, where the test kit looks for it.
    root.copy("bin/busybox", &crate::busybox_path(), 0o755)?;
    root.bytes(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
    );
    root.bytes("etc/group", 0o644, b"root:x:0:\n".to_vec());
    // The daemon tests' leak check asks `nft list tables` (nftables) which
    // tables are left; without the binary it cannot say, and fails.
    root.executable(Path::new("/usr/sbin/nft"))
        .map_err(|e| format!("the leak check's oracle nft (apt-get install nftables): {e}"))?;
    let mut insmod = String::new();
    for module in MODULES {
        for path in module_with_deps(&config.kernel.modules, module)? {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let at = format!("lib/modules/{name}");
            if !insmod.contains(&at) {
                root.copy(&at, &path, 0o644)?;
                writeln!(insmod, "insmod /{at} || fail \"insmod {name}\"").ok();
            }
        }
    }
    for exe in &config.executables {
        root.executable(exe)?;
    }
    let mut body = String::new();
    for run in runs {
        root.executable(&run.binary)?;
        root.dir(&run.cwd.to_string_lossy());
        let args: Vec<String> = run.args.iter().map(|a| shell_quote(a)).collect();
        writeln!(
            body,
            "run {} {} {} {}",
            shell_quote(&run.name),
            shell_quote(&run.cwd.to_string_lossy()),
            shell_quote(&run.binary.to_string_lossy()),
            args.join(" ")
        )
        .ok();
    }
    root.bytes("init", 0o755, STAGE1.as_bytes().to_vec());
    let stage2 = STAGE2
        .replace("@INSMOD@", &insmod)
        .replace("@PROBE@", &config.probe)
        .replace("@RUNS@", &body);
    root.bytes("init2", 0o755, stage2.into_bytes());
    Ok(())
}

/// `'…'` with embedded quotes escaped, for the init script.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The first init, on the kernel's initramfs. `pivot_root` refuses to move
/// away from that file system (the rootfs), and every container start calls
/// it, so everything is copied into a tmpfs that becomes `/` instead.
const STAGE1: &str = r#"#!/bin/busybox sh
/bin/busybox mount -t tmpfs -o mode=0755 root /newroot || exec /bin/busybox echo "MINIDOCK-VM-FAIL mount the root tmpfs"
for f in /*; do
    case "$f" in /newroot|/proc|/sys|/dev|/init) ;; *) /bin/busybox cp -a "$f" /newroot/ ;; esac
done
/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev
exec /bin/busybox switch_root /newroot /init2
"#;

/// The second init, as PID 1 on the tmpfs root: mounts, modules, the probe,
/// the runs, power off.
const STAGE2: &str = r#"#!/bin/busybox sh
fail() { echo "MINIDOCK-VM-FAIL $*"; /bin/busybox poweroff -f; }
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root RUST_BACKTRACE=1
mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2 at /sys/fs/cgroup"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts || fail "mount devpts"
ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs tmpfs /run
@INSMOD@
hostname minidock-vm
ip link set lo up 2>/dev/null
echo "MINIDOCK-VM-READY kernel $(uname -r), /sys/fs/cgroup is $(awk '$2=="/sys/fs/cgroup"{print $3}' /proc/mounts), $(nproc) CPUs"
@PROBE@
run() {
    name=$1; cwd=$2; bin=$3; shift 3
    echo "MINIDOCK-VM-BEGIN $name"
    (cd "$cwd" && "$bin" "$@")
    echo "MINIDOCK-VM-END $name $?"
}
@RUNS@
echo "MINIDOCK-VM-DONE"
sync
poweroff -f
"#;
