//! The `local` driver: volumes as directories under the state root.
//!
//! ```text
//! ROOT/volumes/            mode 0700: only root reaches the volumes
//!   data/                  one volume, named `data`
//!     _data/               what containers see (bind-mounted at their path)
//!     volume.json          driver, labels, options, creation time
//!   .new-data-1a2b3c/      a create in progress (or a crash's leftover)
//!   .gone-data-4d5e6f/     a remove in progress
//! ```
//!
//! A volume appears and disappears in one `rename(2)`: it is built under a
//! temporary name (`_data`, and `volume.json` written tmp, fsync, rename)
//! and renamed into place, and removed by renaming it aside first.
//! A crash at any moment leaves either a whole volume or a dot-directory,
//! which [`VolumeStore::open`] sweeps away.
//!
//! Driver options (`docker volume create -o`) choose what `_data` is:
//! a plain directory; a tmpfs (`type=tmpfs o=size=64m`), mounted on `_data`
//! in the daemon's mount namespace only while containers that use it run
//! ([`VolumeStore::mount`], [`VolumeStore::unmount`], counted by
//! [`crate::active`]); or another host directory (`type=none o=bind
//! device=/srv/x`), which containers get in place of `_data`.

use crate::error::{io, Error, Result};
use crate::name;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The only driver there is.
pub const LOCAL: &str = "local";
/// The label Docker puts on anonymous volumes (`-v /path`, image `VOLUME`):
/// `rm -v` and a plain `volume prune` take only these.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";
const META: &str = "volume.json";
const DATA: &str = "_data";

/// What `volume.json` holds: everything about a volume but its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// The name (also the directory's).
    pub name: String,
    /// `local`.
    pub driver: String,
    /// Unix seconds.
    pub created: u64,
    /// `--label`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `-o`: `type`, `device`, `o`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// `ROOT/volumes/<name>/_data` (not stored: computed on read).
    #[serde(skip)]
    pub mountpoint: PathBuf,
}

impl VolumeInfo {
    /// Anonymous volumes carry Docker's label.
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }

    /// The host directory a container mounts: `_data`, or the device of a
    /// bind volume.
    pub fn source(&self) -> PathBuf {
        match LocalKind::parse(&self.options) {
            Ok(LocalKind::Bind(device)) => device,
            _ => self.mountpoint.clone(),
        }
    }
}

// ANCHOR: local_kind
/// What the `local` driver's options ask `_data` to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalKind {
    /// No options: a directory.
    Directory,
    /// `type=tmpfs [device=tmpfs] [o=size=64m,mode=1777]`: a tmpfs with
    /// this mount data.
    Tmpfs(String),
    /// `type=none o=bind device=/host/dir`: that directory.
    Bind(PathBuf),
}

impl LocalKind {
    /// Reads `-o` options; what the local driver cannot do is refused by
    /// name rather than ignored.
    pub fn parse(options: &BTreeMap<String, String>) -> Result<LocalKind> {
        let refuse = |why: String| Err(Error::Driver(why));
        if let Some(key) = options
            .keys()
            .find(|k| !["type", "device", "o"].contains(&k.as_str()))
        {
            return refuse(format!(
                "the local driver has options type, device and o, not {key:?}"
            ));
        }
        let get = |k: &str| options.get(k).map(String::as_str).unwrap_or("");
        match (get("type"), get("device"), get("o")) {
            ("", "", "") => Ok(LocalKind::Directory),
            ("tmpfs", "" | "tmpfs", o) => Ok(LocalKind::Tmpfs(tmpfs_data(o)?)),
            ("none" | "", device, o) if o.split(',').any(|f| f == "bind" || f == "rbind") => {
                let path = Path::new(device);
                if !path.is_absolute() || !path.is_dir() {
                    return refuse(format!(
                        "a bind volume needs device=/an/existing/directory, not {device:?}"
                    ));
                }
                if let Some(flag) = o.split(',').find(|f| !["bind", "rbind"].contains(f)) {
                    return refuse(format!(
                        "o={o}: a bind volume takes o=bind only; mount it read-only with :ro \
                         where it is used (not {flag:?})"
                    ));
                }
                Ok(LocalKind::Bind(path.to_path_buf()))
            }
            (kind, _, _) => refuse(format!(
                "the local driver mounts type=tmpfs and binds (type=none o=bind device=/dir), \
                 not type={kind:?}: mount that file system on the host and bind its directory"
            )),
        }
    }
}

/// Checks tmpfs mount data: only tmpfs's own options reach the kernel.
pub fn tmpfs_data(o: &str) -> Result<String> {
    let known = ["size=", "mode=", "nr_inodes=", "uid=", "gid="];
    for option in o.split(',').filter(|s| !s.is_empty()) {
        if !known.iter().any(|k| option.starts_with(k)) {
            return Err(Error::Driver(format!(
                "tmpfs option {option:?} is not one of size=, mode=, nr_inodes=, uid=, gid="
            )));
        }
    }
    Ok(o.to_string())
}
// ANCHOR_END: local_kind

/// The volumes of one state root.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    dir: PathBuf,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether `path` is the root of a mount (its device differs from its
/// parent's).
fn is_mount_point(path: &Path) -> bool {
    let dev = |p: &Path| fs::symlink_metadata(p).map(|m| m.dev()).ok();
    match (dev(path), path.parent().and_then(dev)) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

impl VolumeStore {
    // ANCHOR: store_open
    /// Opens (or makes) `root/volumes` and sweeps what a crash left. A
    /// tmpfs volume's mount is not touched here: whether it stays depends
    /// on the containers still running, which the daemon knows
    /// ([`crate::compat::LocalVolumes`] adopts them).
    pub fn open(root: &Path) -> Result<VolumeStore> {
        let dir = root.join("volumes");
        minidock_images::create_private_dir(&dir).map_err(io("create", &dir))?;
        let store = VolumeStore { dir };
        for entry in fs::read_dir(&store.dir).map_err(io("read", &store.dir))? {
            let entry = entry.map_err(io("read", &store.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".new-") || name.starts_with(".gone-") {
                store.delete_dir(&entry.path())?;
            }
        }
        Ok(store)
    }
    // ANCHOR_END: store_open

    /// `ROOT/volumes`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        name::validate(name)?;
        Ok(self.dir.join(name))
    }

    // ANCHOR: create
    /// Creates volume `name`. Returns it and whether it was made now: a
    /// volume that exists with the same driver and options is returned as
    /// it is (labels are not compared), as Docker does.
    pub fn create(
        &self,
        name: &str,
        driver: &str,
        options: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
    ) -> Result<(VolumeInfo, bool)> {
        let path = self.path(name)?;
        let driver = if driver.is_empty() { LOCAL } else { driver };
        if driver != LOCAL {
            return Err(Error::Driver(format!(
                "volume driver {driver:?} is not available: minidock has the local driver only"
            )));
        }
        LocalKind::parse(&options)?;
        if let Ok(existing) = self.get(name) {
            return if existing.driver == driver && existing.options == options {
                Ok((existing, false))
            } else {
                Err(Error::Exists(name.to_string()))
            };
        }
        let info = VolumeInfo {
            name: name.to_string(),
            driver: driver.to_string(),
            created: now(),
            labels,
            options,
            mountpoint: path.join(DATA),
        };
        // Built aside, then renamed into place: all of it or none.
        let new = self
            .dir
            .join(format!(".new-{name}-{:08x}", rand::random::<u32>()));
        let built = (|| {
            let mut dirs = fs::DirBuilder::new();
            dirs.mode(0o755).create(&new).map_err(io("create", &new))?;
            let data = new.join(DATA);
            dirs.create(&data).map_err(io("create", &data))?;
            let bytes = serde_json::to_vec_pretty(&info).map_err(|e| Error::Io {
                action: "encode",
                path: new.join(META),
                source: e.into(),
            })?;
            minidock_lifecycle::atomic::write_atomic(&new.join(META), &bytes).map_err(|e| {
                Error::Io {
                    action: "write",
                    path: new.join(META),
                    source: std::io::Error::other(e.to_string()),
                }
            })?;
            fs::rename(&new, &path).map_err(io("rename into place", &path))
        })();
        if let Err(err) = built {
            self.delete_dir(&new).ok();
            // A concurrent create of the same name won the rename.
            if let Ok(existing) = self.get(name) {
                if existing.options == info.options {
                    return Ok((existing, false));
                }
            }
            return Err(err);
        }
        Ok((info, true))
    }
    // ANCHOR_END: create

    /// Volume `name`.
    pub fn get(&self, name: &str) -> Result<VolumeInfo> {
        let path = self.path(name)?;
        let meta = path.join(META);
        let bytes = match fs::read(&meta) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(name.to_string()))
            }
            Err(e) => return Err(io("read", &meta)(e)),
        };
        let mut info: VolumeInfo = serde_json::from_slice(&bytes).map_err(|e| Error::Io {
            action: "decode",
            path: meta.clone(),
            source: e.into(),
        })?;
        if info.name != name {
            return Err(Error::Io {
                action: "read",
                path: meta,
                source: std::io::Error::other(format!("it names volume {:?}", info.name)),
            });
        }
        info.mountpoint = path.join(DATA);
        Ok(info)
    }

    /// Every volume, and a warning for each directory that is not a
    /// readable volume (reported, never a reason to fail the list).
    pub fn list(&self) -> (Vec<VolumeInfo>, Vec<String>) {
        let mut volumes = Vec::new();
        let mut warnings = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) => return (volumes, vec![format!("{}: {e}", self.dir.display())]),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            match self.get(&name) {
                Ok(info) => volumes.push(info),
                Err(err) => warnings.push(format!("volume {name}: {err}")),
            }
        }
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        (volumes, warnings)
    }

    // ANCHOR: per_use
    /// Whether volume `info` is mounted only while it is used (a tmpfs).
    pub fn mounted_per_use(info: &VolumeInfo) -> bool {
        matches!(LocalKind::parse(&info.options), Ok(LocalKind::Tmpfs(_)))
    }

    /// Mounts what a container needs before it starts with `info`: a
    /// tmpfs volume's tmpfs, unless it is mounted already (then it is
    /// shared, never hidden under a second one). Other volumes are there
    /// all the time.
    pub fn mount(&self, info: &VolumeInfo) -> Result<()> {
        match LocalKind::parse(&info.options)? {
            LocalKind::Tmpfs(data) if !is_mount_point(&info.mountpoint) => {
                mount_tmpfs(&info.mountpoint, &data)
            }
            _ => Ok(()),
        }
    }

    /// Unmounts a tmpfs volume's tmpfs once nobody runs with it: what was
    /// in it is gone, as with Docker. Lazily (`MNT_DETACH`): a container
    /// that still had it would keep its own view, and nothing of ours
    /// waits on it.
    pub fn unmount(&self, info: &VolumeInfo) -> Result<()> {
        if Self::mounted_per_use(info) && is_mount_point(&info.mountpoint) {
            umount2(&info.mountpoint, MntFlags::MNT_DETACH).map_err(|e| Error::Io {
                action: "unmount",
                path: info.mountpoint.clone(),
                source: e.into(),
            })?;
        }
        Ok(())
    }

    /// Whether `info`'s data is there to read and write now: always for a
    /// directory or a bind, only while mounted for a tmpfs.
    pub fn is_present(info: &VolumeInfo) -> bool {
        !Self::mounted_per_use(info) || is_mount_point(&info.mountpoint)
    }
    // ANCHOR_END: per_use

    // ANCHOR: store_remove
    /// Removes volume `name` and its data. Whether containers use it is
    /// for the caller to check first ([`crate::usage`]).
    pub fn remove(&self, name: &str) -> Result<()> {
        let info = self.get(name)?;
        if is_mount_point(&info.mountpoint) {
            umount2(&info.mountpoint, MntFlags::MNT_DETACH).map_err(|e| Error::Io {
                action: "unmount",
                path: info.mountpoint.clone(),
                source: e.into(),
            })?;
        }
        let path = self.path(name)?;
        let gone = self
            .dir
            .join(format!(".gone-{name}-{:08x}", rand::random::<u32>()));
        fs::rename(&path, &gone).map_err(io("rename aside", &path))?;
        self.delete_dir(&gone)
    }

    /// Deletes a volume directory that is out of the way. Refuses when
    /// something is still mounted on `_data`: deleting would reach into it.
    fn delete_dir(&self, dir: &Path) -> Result<()> {
        let data = dir.join(DATA);
        if is_mount_point(&data) {
            umount2(&data, MntFlags::MNT_DETACH).map_err(|e| Error::Io {
                action: "unmount",
                path: data.clone(),
                source: e.into(),
            })?;
        }
        // remove_dir_all never follows a symlink: a link a container made
        // in its volume is deleted, not what it points to.
        fs::remove_dir_all(dir).map_err(io("delete", dir))
    }
}
// ANCHOR_END: store_remove

// ANCHOR: mount_tmpfs
/// Mounts a tmpfs on a tmpfs volume's `_data`, in the daemon's own mount
/// namespace: containers bind it from there, so they share it.
fn mount_tmpfs(target: &Path, data: &str) -> Result<()> {
    let data = (!data.is_empty()).then_some(data);
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        data,
    )
    .map_err(|e| Error::Io {
        action: "mount tmpfs on",
        path: target.to_path_buf(),
        source: e.into(),
    })
}
// ANCHOR_END: mount_tmpfs

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn create_get_list_remove() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        let labels = opts(&[("app", "db")]);
        let (info, made) = store
            .create("data", "", BTreeMap::new(), labels.clone())
            .unwrap();
        assert!(made);
        assert_eq!(info.driver, "local");
        assert!(info.mountpoint.ends_with("volumes/data/_data"));
        assert!(info.mountpoint.is_dir());
        let (again, made) = store
            .create("data", "local", BTreeMap::new(), BTreeMap::new())
            .unwrap();
        assert!(!made);
        assert_eq!(again.labels, labels);
        assert!(matches!(
            store.create("data", "", opts(&[("type", "tmpfs")]), BTreeMap::new()),
            Err(Error::Exists(_))
        ));
        assert_eq!(store.list().0.len(), 1);
        store.remove("data").unwrap();
        assert!(matches!(store.get("data"), Err(Error::NotFound(_))));
        assert!(fs::read_dir(store.dir()).unwrap().next().is_none());
    }

    #[test]
    fn hostile_names_and_drivers_create_nothing() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        for bad in ["../x", "a/b", ".x", "x"] {
            assert!(matches!(
                store.create(bad, "", BTreeMap::new(), BTreeMap::new()),
                Err(Error::InvalidName { .. })
            ));
        }
        let err = store
            .create(
                "nfs",
                "",
                opts(&[("type", "nfs"), ("device", ":/x")]),
                BTreeMap::new(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("type=\"nfs\""), "{err}");
        let err = store
            .create("x1", "flocker", BTreeMap::new(), BTreeMap::new())
            .unwrap_err();
        assert!(err.to_string().contains("local driver only"), "{err}");
        let err = store
            .create(
                "x2",
                "",
                opts(&[("type", "tmpfs"), ("o", "size=1m,exec")]),
                BTreeMap::new(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("\"exec\""), "{err}");
        assert!(fs::read_dir(store.dir()).unwrap().next().is_none());
        assert!(!root.path().join("x").exists());
    }

    #[test]
    fn leftovers_of_a_crash_are_swept() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        fs::create_dir_all(store.dir().join(".new-a-1/_data")).unwrap();
        fs::create_dir_all(store.dir().join(".gone-b-2/_data")).unwrap();
        fs::create_dir_all(store.dir().join("broken/_data")).unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        let names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["broken"]);
        let (volumes, warnings) = store.list();
        assert!(volumes.is_empty());
        assert!(warnings[0].contains("broken"), "{warnings:?}");
    }

    /// The lines of this thread's mount table that mount on `point`.
    fn mounts_on(point: &Path) -> usize {
        let table = fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
        let point = format!(" {} ", point.display());
        table.lines().filter(|l| l.contains(&point)).count()
    }

    #[test]
    fn a_tmpfs_volume_is_mounted_per_use_once() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        let options = opts(&[("type", "tmpfs"), ("o", "size=64k")]);
        let (info, _) = store.create("mem", "", options, BTreeMap::new()).unwrap();
        assert!(VolumeStore::mounted_per_use(&info));
        assert_eq!(mounts_on(&info.mountpoint), 0, "mounted before any use");
        assert!(!VolumeStore::is_present(&info));
        store.mount(&info).unwrap();
        store.mount(&info).unwrap();
        assert_eq!(mounts_on(&info.mountpoint), 1, "mounted twice");
        assert!(VolumeStore::is_present(&info));
        fs::write(info.mountpoint.join("f"), "x").unwrap();
        store.unmount(&info).unwrap();
        assert_eq!(mounts_on(&info.mountpoint), 0);
        assert!(
            !info.mountpoint.join("f").exists(),
            "the data outlived its tmpfs"
        );
        store.unmount(&info).unwrap();
        // a plain volume is always there; mount and unmount leave it alone
        let (plain, _) = store
            .create("disk", "", BTreeMap::new(), BTreeMap::new())
            .unwrap();
        store.mount(&plain).unwrap();
        assert!(VolumeStore::is_present(&plain));
        assert_eq!(mounts_on(&plain.mountpoint), 0);
        store.mount(&info).unwrap();
        store.remove("mem").unwrap();
        assert_eq!(mounts_on(&info.mountpoint), 0, "remove left the tmpfs");
    }

    #[test]
    fn bind_volumes_use_their_device() {
        let root = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        let device = host.path().to_str().unwrap();
        let options = opts(&[("type", "none"), ("o", "bind"), ("device", device)]);
        let (info, _) = store.create("b1", "", options, BTreeMap::new()).unwrap();
        assert_eq!(info.source(), host.path());
        let err = store
            .create(
                "b2",
                "",
                opts(&[("o", "bind"), ("device", "rel")]),
                BTreeMap::new(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("existing/directory"), "{err}");
    }
}
