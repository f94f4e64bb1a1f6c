//! Copy-up: a fresh volume starts with what the image had there.
//!
//! An image for a database ships `/var/lib/db` with a skeleton (a config,
//! an owner `db:db`, a mode 0700). Mounting an empty volume there would
//! hide all of it, so Docker copies the image's directory into a volume
//! the first time it is mounted and still empty — with owners, modes and
//! symlinks as they are. `nocopy` (`-v data:/db:nocopy`,
//! `volume-nocopy`) turns that off; binds are never copied into.
//!
//! The image's files are not trusted. A layer can hold `var/lib/db ->
//! /etc` and make "copy `/var/lib/db` into the volume" read the *host's*
//! `/etc`, or — for a mount — mount over it. So the path is walked one
//! component at a time with `lstat`, and a symlink anywhere refuses; below
//! it, symlinks are copied as symlinks, never followed. Nothing runs in
//! the container yet (this happens at create), so nothing can swap a
//! directory for a link between the check and the copy.

use crate::error::{io, Result};
use nix::fcntl::AtFlags;
use nix::sys::stat::{mknod, Mode, SFlag};
use nix::unistd::{fchownat, Gid, Uid};
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

// ANCHOR: resolve
/// The host path of `dest` inside `rootfs`, never through a symlink:
/// `Ok(None)` when the path (or a directory on the way) does not exist,
/// [`crate::error::Error::Symlink`] when any component is a symlink.
pub fn resolve_in_root(rootfs: &Path, dest: &Path) -> Result<Option<PathBuf>> {
    // exercise 7.3 no-symlink-walk: walk `dest` below `rootfs` one component at a time, refusing symlinks.
    // hint: the image decides what is a symlink; `var -> /` would lead out of the rootfs, so never follow one.
    // hint: add one normal component at a time and look at it without following it (lstat): a symlink is refused with the error that names the destination and the path.
    // hint: a component that does not exist ends the walk: nothing there; `..` and `.` make the mount invalid.
    let mut path = rootfs.to_path_buf();
    for part in dest.components() {
        match part {
            std::path::Component::RootDir => continue,
            std::path::Component::Normal(name) => path.push(name),
            _ => {
                return Err(crate::error::Error::InvalidMount {
                    spec: dest.display().to_string(),
                    reason: "the container path may not contain '..' or '.'".to_string(),
                })
            }
        }
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(crate::error::Error::Symlink {
                    destination: dest.display().to_string(),
                    path: PathBuf::from("/").join(path.strip_prefix(rootfs).unwrap_or(&path)),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("look at", &path)(e)),
        }
    }
    Ok(Some(path))
    // end exercise
}
// ANCHOR_END: resolve

// ANCHOR: copy_up
/// Copies the image's directory at `dest` (inside `rootfs`) into a
/// volume's data directory `data`, if `data` is empty and the image has a
/// directory there. Returns whether it copied. `data` itself gets the
/// directory's owner and mode, as Docker does.
pub fn copy_up(rootfs: &Path, dest: &Path, data: &Path) -> Result<bool> {
    // exercise 7.4 copy-up: fill an empty volume with the image's directory, owners and modes included.
    // hint: only a volume with nothing in it gets the image's content: data written before wins.
    // hint: find the source inside the rootfs with the walk of exercise 7.3; no directory there means nothing to copy.
    // hint: this module has a helper that copies a tree (it remembers hard links); then the volume's directory itself takes the source's owner and mode.
    if fs::read_dir(data)
        .map_err(io("read", data))?
        .next()
        .is_some()
    {
        return Ok(false);
    }
    let Some(from) = resolve_in_root(rootfs, dest)? else {
        return Ok(false);
    };
    let meta = fs::symlink_metadata(&from).map_err(io("look at", &from))?;
    if !meta.is_dir() {
        return Ok(false);
    }
    copy_tree(&from, data, &mut HashMap::new())?;
    set_owner(data, &meta)?;
    fs::set_permissions(data, fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(io("chmod", data))?;
    Ok(true)
    // end exercise
}
// ANCHOR_END: copy_up

/// `lchown`: the owner of `path` itself, a symlink included.
fn set_owner(path: &Path, meta: &fs::Metadata) -> Result<()> {
    fchownat(
        None,
        path,
        Some(Uid::from_raw(meta.uid())),
        Some(Gid::from_raw(meta.gid())),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| io("chown", path)(e.into()))
}

// ANCHOR: copy_tree
/// Copies the content of directory `from` into the existing directory
/// `to`: files, directories, symlinks (as symlinks), fifos and device
/// nodes, with owners and modes; files that are hard links of each other
/// stay hard links (`links`: inode → first copy).
pub fn copy_tree(from: &Path, to: &Path, links: &mut HashMap<(u64, u64), PathBuf>) -> Result<()> {
    for entry in fs::read_dir(from).map_err(io("read", from))? {
        let entry = entry.map_err(io("read", from))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let meta = fs::symlink_metadata(&src).map_err(io("look at", &src))?;
        let kind = meta.file_type();
        let mode = meta.mode() & 0o7777;
        if kind.is_dir() {
            fs::create_dir(&dst).map_err(io("create", &dst))?;
            copy_tree(&src, &dst, links)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&src).map_err(io("read link", &src))?;
            std::os::unix::fs::symlink(&target, &dst).map_err(io("create link", &dst))?;
            set_owner(&dst, &meta)?;
            continue; // a symlink has no mode of its own
        } else if meta.nlink() > 1 && links.contains_key(&(meta.dev(), meta.ino())) {
            fs::hard_link(&links[&(meta.dev(), meta.ino())], &dst).map_err(io("link", &dst))?;
            continue;
        // ANCHOR_END: copy_tree
        // ANCHOR: copy_tree_files
        } else if kind.is_file() {
            // O_NOFOLLOW on both sides: a file is read and written as itself.
            let mut input = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&src)
                .map_err(io("open", &src))?;
            let mut output = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&dst)
                .map_err(io("create", &dst))?;
            std::io::copy(&mut input, &mut output).map_err(io("copy into", &dst))?;
            output.flush().map_err(io("write", &dst))?;
        } else {
            // fifos, sockets, devices: the node itself, not what it reads
            let flag = SFlag::from_bits_truncate(meta.mode() & libc::S_IFMT);
            mknod(&dst, flag, Mode::from_bits_truncate(mode), meta.rdev())
                .map_err(|e| io("create node", &dst)(e.into()))?;
        }
        if meta.nlink() > 1 && !kind.is_dir() {
            links.insert((meta.dev(), meta.ino()), dst.clone());
        }
        // chown before chmod: chown clears the setuid and setgid bits.
        set_owner(&dst, &meta)?;
        fs::set_permissions(&dst, fs::Permissions::from_mode(mode)).map_err(io("chmod", &dst))?;
    }
    Ok(())
}
// ANCHOR_END: copy_tree_files

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_on_the_way_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("var/lib")).unwrap();
        symlink("/etc", r.join("var/lib/db")).unwrap();
        let err = resolve_in_root(r, Path::new("/var/lib/db/x")).unwrap_err();
        assert!(
            matches!(&err, Error::Symlink { path, .. } if path == Path::new("/var/lib/db")),
            "{err}"
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/var/lib/none")).unwrap(),
            None
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/var/lib")).unwrap(),
            Some(r.join("var/lib"))
        );
        assert!(resolve_in_root(r, Path::new("/var/../etc")).is_err());
    }

    #[test]
    fn copies_only_into_an_empty_volume_and_never_follows_links() {
        let root = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("db/sub")).unwrap();
        fs::write(r.join("db/sub/conf"), "x=1").unwrap();
        fs::set_permissions(r.join("db/sub/conf"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("/etc/passwd", r.join("db/link")).unwrap();
        fs::set_permissions(r.join("db"), fs::Permissions::from_mode(0o750)).unwrap();
        assert!(copy_up(r, Path::new("/db"), data.path()).unwrap());
        let d = data.path();
        assert_eq!(fs::read_to_string(d.join("sub/conf")).unwrap(), "x=1");
        assert_eq!(
            fs::metadata(d.join("sub/conf")).unwrap().mode() & 0o7777,
            0o640
        );
        assert_eq!(
            fs::read_link(d.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(fs::metadata(d).unwrap().mode() & 0o7777, 0o750);
        // not empty any more: a second copy-up leaves it alone
        fs::write(r.join("db/new"), "n").unwrap();
        assert!(!copy_up(r, Path::new("/db"), d).unwrap());
        assert!(!d.join("new").exists());
        // nothing in the image there: nothing to copy
        let empty = tempfile::tempdir().unwrap();
        assert!(!copy_up(r, Path::new("/nothing"), empty.path()).unwrap());
    }
}
