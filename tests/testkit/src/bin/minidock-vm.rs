//! Runs the cgroup v2 tests in a VM: builds the test binaries that
//! `tests/vm/plan.txt` names (`cargo test --no-run`), boots Debian's kernel
//! with cgroup v1 switched off, runs them there and exits non-zero unless
//! every one passed. A VM that cannot boot is a failure, never a skip.
//!
//! ```text
//! minidock-vm [--plan tests/vm/plan.txt] [--only TARGET]…
//! ```
//! `MINIDOCK_VM_TIMEOUT` (seconds) bounds the whole VM run,
//! `MINIDOCK_VM_ACCEL=tcg` forces the emulator, `MINIDOCK_VM_KERNEL` picks
//! the kernel image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use minidock_testkit::vm::{run_in_vm, Accel, Kernel, TestRun, VmConfig, VmError};

/// Shown before the tests: what a v2-only machine mounts, which
/// controllers it has, and how a group's limit files are named there.
const PROBE: &str = r#"
echo "== cgroup mounts"; grep cgroup /proc/mounts
echo "== /sys/fs/cgroup/cgroup.controllers"; cat /sys/fs/cgroup/cgroup.controllers
echo "+cpu +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/probe
echo "== a new group: the memory files"; ls /sys/fs/cgroup/probe | grep '^memory\.' | tr '\n' ' '; echo
echo $((32*1024*1024)) > /sys/fs/cgroup/probe/memory.max
echo "== echo 33554432 > memory.max; cat memory.max"; cat /sys/fs/cgroup/probe/memory.max
echo "== echo 33554432 > memory.limit_in_bytes"; echo 33554432 > /sys/fs/cgroup/probe/memory.limit_in_bytes 2>&1 || true
rmdir /sys/fs/cgroup/probe
"#;

struct PlanLine {
    package_dir: PathBuf,
    target: String,
    args: Vec<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("\nVM stage FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let mut plan_file = PathBuf::from("tests/vm/plan.txt");
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--plan" => plan_file = args.next().ok_or("--plan needs a file")?.into(),
            "--only" => only.push(args.next().ok_or("--only needs a test target")?),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: minidock-vm [--plan FILE] [--only TARGET]…"
                ))
            }
        }
    }
    let plan = read_plan(&plan_file, &only)?;
    let accel = Accel::detect();
    match &accel {
        Accel::Kvm => println!("VM: KVM (/dev/kvm)"),
        Accel::Tcg { reason } => println!(
            "\n*** VM: NO KVM ({reason}): falling back to TCG, qemu's emulator. \
             Many times slower; the results are as valid. ***\n"
        ),
    }
    let kernel = Kernel::find()?;

    // One build of the workspace's tests, the same `cargo test` builds (so
    // after test.sh's test step it is only a check): every executable of a
    // package in the plan goes into the VM, for the engine binaries and
    // examples the tests start by path.
    let all = build()?;
    let mut built: BTreeMap<PathBuf, Vec<Artifact>> = BTreeMap::new();
    for line in &plan {
        let dir = std::fs::canonicalize(&line.package_dir)
            .map_err(|e| format!("{}: {e}", line.package_dir.display()))?;
        let of_package = all
            .iter()
            .filter(|a| a.package_dir == dir)
            .cloned()
            .collect();
        built.insert(line.package_dir.clone(), of_package);
    }
    let mut runs = Vec::new();
    for line in &plan {
        let artifacts = &built[&line.package_dir];
        let test = artifacts
            .iter()
            .find(|a| a.is_test && a.name == line.target)
            .ok_or_else(|| {
                format!(
                    "{}: cargo built no test target {:?}",
                    line.package_dir.display(),
                    line.target
                )
            })?;
        runs.push(TestRun {
            name: format!("{}/{}", line.package_dir.display(), line.target),
            binary: test.executable.clone(),
            cwd: std::fs::canonicalize(&line.package_dir)
                .map_err(|e| format!("{}: {e}", line.package_dir.display()))?,
            args: line.args.clone(),
        });
    }
    let executables = built
        .values()
        .flatten()
        .filter(|a| !a.is_test)
        .map(|a| a.executable.clone())
        .collect();

    let out_dir = target_dir().join("vm");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let timeout = |accel: &Accel| {
        let default = match accel {
            Accel::Kvm => 300,
            Accel::Tcg { .. } => 600,
        };
        std::env::var("MINIDOCK_VM_TIMEOUT")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(default)
    };
    let mut config = VmConfig {
        kernel,
        timeout: Duration::from_secs(timeout(&accel)),
        accel,
        memory_mib: 2048,
        cpus: 2,
        // Debian's kernel reaches init in ~2 s under KVM, ~20 s under TCG
        // on a busy machine.
        boot_timeout: Duration::from_secs(120),
        console_log: out_dir.join("console.log"),
        initramfs: out_dir.join("initramfs.cpio"),
        executables,
        probe: PROBE.to_string(),
    };
    println!(
        "VM: {} runs, kernel {}, {} MiB, {} CPUs, at most {} s",
        runs.len(),
        config.kernel.version,
        config.memory_mib,
        config.cpus,
        config.timeout.as_secs()
    );
    let show = |line: &str| println!("vm| {line}");
    let outcome = match run_in_vm(&config, &runs, show) {
        Err(VmError::NoBoot(why)) if config.accel == Accel::Kvm => {
            let reason = format!("the kernel did not boot under KVM: {why}");
            println!("\n*** VM: falling back to TCG, qemu's emulator ({reason}) ***\n");
            config.accel = Accel::Tcg { reason };
            config.timeout = Duration::from_secs(timeout(&config.accel));
            run_in_vm(&config, &runs, show)
        }
        other => other,
    }
    .map_err(|e| e.to_string())?;
    if let Accel::Tcg { reason } = &config.accel {
        println!("\nVM: ran under TCG, not KVM ({reason})");
    }
    println!(
        "\nVM ({}): booted in {:.1} s, ran for {:.1} s in all",
        outcome.guest,
        outcome.boot.as_secs_f64(),
        outcome.duration.as_secs_f64()
    );
    for r in &outcome.results {
        println!(
            "  {} {:<36} {:>5.1} s  {}",
            if r.code == 0 { "PASS" } else { "FAIL" },
            r.name,
            r.duration.as_secs_f64(),
            r.summary
                .as_deref()
                .unwrap_or("(no summary: the binary did not finish normally)")
        );
    }
    if !outcome.passed() {
        println!(
            "\nVM stage FAILED: tests failed on the cgroup v2 kernel (console: {})",
            config.console_log.display()
        );
    }
    Ok(outcome.passed())
}

fn read_plan(file: &Path, only: &[String]) -> Result<Vec<PlanLine>, String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("read {}: {e}", file.display()))?;
    let mut plan = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(dir), Some(target)) = (words.next(), words.next()) else {
            return Err(format!(
                "{}: {line:?} needs a package directory and a test target",
                file.display()
            ));
        };
        if only.is_empty() || only.iter().any(|o| o == target) {
            plan.push(PlanLine {
                package_dir: dir.into(),
                target: target.into(),
                args: words.map(String::from).collect(),
            });
        }
    }
    if plan.is_empty() {
        return Err(format!("{}: nothing to run", file.display()));
    }
    Ok(plan)
}

#[derive(Clone)]
struct Artifact {
    name: String,
    is_test: bool,
    executable: PathBuf,
    /// The directory of the package's Cargo.toml.
    package_dir: PathBuf,
}

/// `cargo test --workspace --no-run`; every executable it reports.
fn build() -> Result<Vec<Artifact>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let out = Command::new(&cargo)
        .args([
            "test",
            "--workspace",
            "--no-run",
            "--locked",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("run {cargo}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo test --workspace --no-run failed ({})",
            out.status
        ));
    }
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let (Some(exe), Some(manifest)) =
            (msg["executable"].as_str(), msg["manifest_path"].as_str())
        else {
            continue;
        };
        let kinds = msg["target"]["kind"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        found.push(Artifact {
            name: msg["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            is_test: kinds.iter().any(|k| k == "test"),
            executable: exe.into(),
            package_dir: Path::new(manifest)
                .parent()
                .unwrap_or(Path::new("/"))
                .to_path_buf(),
        });
    }
    println!(
        "built {} executables of the workspace in {:.0} s",
        found.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(found)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}
