//! The VM's initial file system: every file the tests need, at the same
//! absolute path as on the host (test binaries find the engine's binaries
//! through paths compiled into them), with the shared libraries `ldd`
//! names and the kernel modules the tests load.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::cpio::Cpio;

enum Entry {
    Dir,
    File { mode: u32, data: Vec<u8> },
    Symlink(String),
}

/// An initramfs being put together; [`Initramfs::write`] makes the cpio.
pub struct Initramfs {
    entries: BTreeMap<String, Entry>,
    /// Where stripped copies of binaries are made.
    scratch: tempfile::TempDir,
}

impl Default for Initramfs {
    fn default() -> Self {
        Self::new()
    }
}

impl Initramfs {
    /// An empty one.
    pub fn new() -> Self {
        Initramfs {
            entries: BTreeMap::new(),
            scratch: tempfile::tempdir().expect("temporary directory for the initramfs"),
        }
    }

    /// A directory and its parents.
    pub fn dir(&mut self, path: &str) {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return;
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entries.entry(path.to_string()).or_insert(Entry::Dir);
    }

    /// A file with `data`.
    pub fn bytes(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        let path = path.trim_matches('/');
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entries
            .insert(path.to_string(), Entry::File { mode, data });
    }

    /// A symbolic link at `path` to `target`.
    pub fn symlink(&mut self, path: &str, target: &str) {
        let path = path.trim_matches('/');
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entries
            .insert(path.to_string(), Entry::Symlink(target.to_string()));
    }

    /// The host file `src` (symbolic links followed) at `path`.
    pub fn copy(&mut self, path: &str, src: &Path, mode: u32) -> Result<(), String> {
        let data = fs::read(src).map_err(|e| format!("read {}: {e}", src.display()))?;
        self.bytes(path, mode, data);
        Ok(())
    }

    /// The host executable `src` at the same absolute path, without its
    /// debug information (a debug test binary is ~45 MB, ~8 MB stripped:
    /// the VM keeps the whole initramfs in RAM), and the shared libraries
    /// it loads.
    pub fn executable(&mut self, src: &Path) -> Result<(), String> {
        let at = src
            .to_str()
            .ok_or_else(|| format!("{}: path is not UTF-8", src.display()))?
            .to_string();
        if self.entries.contains_key(at.trim_matches('/')) {
            return Ok(());
        }
        let stripped = self
            .scratch
            .path()
            .join(format!("bin{}", self.entries.len()));
        let out = Command::new("objcopy")
            .arg("--strip-debug")
            .arg(src)
            .arg(&stripped)
            .output()
            .map_err(|e| format!("run objcopy (apt-get install binutils): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "objcopy --strip-debug {}: {}",
                src.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        self.copy(&at, &stripped, 0o755)?;
        fs::remove_file(&stripped).ok();
        for lib in shared_libraries(src)? {
            let lib_at = lib.to_str().expect("ldd prints UTF-8 paths").to_string();
            if !self.entries.contains_key(lib_at.trim_matches('/')) {
                self.copy(&lib_at, &lib, 0o755)?;
            }
        }
        Ok(())
    }

    /// Writes the newc archive to `out`; returns its size in bytes.
    pub fn write(&self, out: &Path) -> Result<u64, String> {
        let file = fs::File::create(out).map_err(|e| format!("create {}: {e}", out.display()))?;
        let mut cpio = Cpio::new(BufWriter::new(file));
        let err = |e: std::io::Error| format!("write {}: {e}", out.display());
        // BTreeMap order puts every directory before what it holds.
        for (path, entry) in &self.entries {
            match entry {
                Entry::Dir => cpio.dir(path, 0o755).map_err(err)?,
                Entry::File { mode, data } => cpio.file(path, *mode, data).map_err(err)?,
                Entry::Symlink(target) => cpio.symlink(path, target).map_err(err)?,
            }
        }
        cpio.finish().map_err(err)?;
        Ok(fs::metadata(out).map_err(err)?.len())
    }
}

/// The libraries (and the ELF interpreter) `ldd` says `binary` loads;
/// none for a static binary.
pub fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("run ldd: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // "not a dynamic executable": nothing to add.
        return Ok(Vec::new());
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x…)" or "linux-vdso.so.1 (0x…)"
        let path = match line.split_once("=>") {
            Some((_, right)) => right.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        match path {
            Some(p) if p.starts_with('/') => libs.push(PathBuf::from(p)),
            Some("not") => return Err(format!("ldd {}: {line}", binary.display())),
            _ => {}
        }
    }
    Ok(libs)
}

/// `module` (e.g. `overlay`) and the modules it needs, in loading order, as
/// paths under `modules_dir` (`/lib/modules/<version>`), from
/// `modules.dep`. Empty when the module is built into the kernel.
pub fn module_with_deps(modules_dir: &Path, module: &str) -> Result<Vec<PathBuf>, String> {
    let builtin = fs::read_to_string(modules_dir.join("modules.builtin")).unwrap_or_default();
    let file_name = |p: &str| {
        Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let is = |p: &str| {
        let n = file_name(p);
        let stem = n.split(".ko").next().unwrap_or("");
        stem == module || stem.replace('-', "_") == module.replace('-', "_")
    };
    if builtin.lines().any(is) {
        return Ok(Vec::new());
    }
    let dep_file = modules_dir.join("modules.dep");
    let deps = fs::read_to_string(&dep_file).map_err(|e| {
        format!(
            "read {}: {e} (is the kernel's package installed?)",
            dep_file.display()
        )
    })?;
    let line = deps
        .lines()
        .find(|l| l.split(':').next().is_some_and(is))
        .ok_or_else(|| {
            format!(
                "kernel module {module} is neither built in nor in {}",
                dep_file.display()
            )
        })?;
    let (own, needs) = line.split_once(':').expect("found by its ':'");
    // modules.dep lists what a module needs, the last one to be loaded first.
    let mut order: Vec<PathBuf> = needs
        .split_whitespace()
        .rev()
        .map(|p| modules_dir.join(p))
        .collect();
    order.push(modules_dir.join(own));
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_names_libc_for_a_dynamic_binary_and_nothing_for_busybox() {
        // /bin/sh is dash (or bash), dynamically linked on every Debian.
        let libs = shared_libraries(Path::new("/bin/sh")).unwrap();
        assert!(
            libs.iter().any(|l| l.to_string_lossy().contains("libc.so")),
            "{libs:?}"
        );
        assert!(libs.iter().all(|l| l.is_absolute()), "{libs:?}");
        assert_eq!(
            shared_libraries(&crate::busybox_path()).unwrap(),
            Vec::<PathBuf>::new()
        );
    }

    #[test]
    fn a_module_comes_after_the_modules_it_needs() {
        let kernel = crate::vm::Kernel::find().unwrap();
        let order = module_with_deps(&kernel.modules, "bridge").unwrap();
        let names: Vec<String> = order
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // Debian builds bridge as a module that needs stp and llc; a kernel
        // with it built in needs nothing loaded.
        if !names.is_empty() {
            assert_eq!(names.last().unwrap(), "bridge.ko", "{names:?}");
            assert!(names.contains(&"stp.ko".to_string()), "{names:?}");
        }
        assert!(module_with_deps(&kernel.modules, "no-such-module").is_err());
    }
}
