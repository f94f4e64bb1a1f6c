//! The `newc` cpio format, the one the kernel unpacks as an initramfs
//! (`Documentation/driver-api/early-userspace/buffer-format.rst`).
//!
//! Each entry is a 110-byte ASCII header (magic `070701` and thirteen
//! 8-digit hex fields), the NUL-terminated name, padding to 4 bytes, the
//! data, padding to 4 bytes. The archive ends with an entry named
//! `TRAILER!!!`. Written here rather than by the `cpio` tool so the fixture
//! needs no extra package and sets owner, mode and times itself.

use std::io::{self, Write};

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

/// Writes a newc archive entry by entry; [`Cpio::finish`] adds the trailer.
pub struct Cpio<W: Write> {
    out: W,
    ino: u32,
    written: u64,
}

impl<W: Write> Cpio<W> {
    /// An empty archive writing to `out`.
    pub fn new(out: W) -> Self {
        Cpio {
            out,
            ino: 1,
            written: 0,
        }
    }

    /// A directory (`path` without a leading `/`), owned by root.
    pub fn dir(&mut self, path: &str, mode: u32) -> io::Result<()> {
        self.entry(path, S_IFDIR | (mode & 0o7777), 2, &[])
    }

    /// A regular file with `data`.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.entry(path, S_IFREG | (mode & 0o7777), 1, data)
    }

    /// A symbolic link to `target` (the data of a link entry is its target).
    pub fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        self.entry(path, S_IFLNK | 0o777, 1, target.as_bytes())
    }

    /// Writes the trailer and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry("TRAILER!!!", 0, 1, &[])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, data: &[u8]) -> io::Result<()> {
        let name = path.trim_start_matches('/');
        let ino = self.ino;
        self.ino += 1;
        let fields = [
            ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            u32::try_from(data.len())
                .map_err(|_| io::Error::other(format!("{name}: over 4 GiB, too big for newc")))?,
            0, // dev major
            0, // dev minor
            0, // rdev major
            0, // rdev minor
            u32::try_from(name.len() + 1).expect("short name"),
            0, // checksum (only for the 070702 variant)
        ];
        let mut header = String::from("070701");
        for f in fields {
            header.push_str(&format!("{f:08X}"));
        }
        self.put(header.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(data)?;
        self.pad()
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }
}

#[cfg(test)]
mod tests {
    use super::Cpio;
    use std::process::Command;

    /// busybox's `cpio` (an independent reader) lists what we wrote.
    #[test]
    fn busybox_cpio_reads_the_archive() {
        let mut c = Cpio::new(Vec::new());
        c.dir("bin", 0o755).unwrap();
        c.file("bin/hello", 0o755, b"#!/bin/sh\necho hi\n").unwrap();
        c.symlink("bin/sh", "busybox").unwrap();
        c.file("odd-length-name", 0o644, b"x").unwrap();
        let bytes = c.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.cpio");
        std::fs::write(&archive, &bytes).unwrap();
        let out = Command::new(crate::busybox_path())
            .args(["cpio", "-t", "-F"])
            .arg(&archive)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let names = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            names.lines().collect::<Vec<_>>(),
            ["bin", "bin/hello", "bin/sh", "odd-length-name"]
        );
    }
}
