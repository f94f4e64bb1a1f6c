//! Containers on disk, like `/var/lib/docker/containers`.
//!
//! ```text
//! <root>/containers/<id>/config.json   what the container is (written once, last)
//!                        state.json    where it is in its life (rewritten)
//!                        <id>-json.log its output
//!                        lock          serialises updates of state.json
//! ```
//!
//! The engine, the shim and the next engine after a crash all read and write
//! these files, so every write is atomic ([`write_atomic`]) and every
//! read-modify-write of the state holds the container's lock.
//!
//! Creating a container takes several steps — the directory, `state.json`,
//! the overlay root file system mounted in `merged/`, `config.json` — and
//! the engine may die between any two of them. So `config.json` is written
//! last, and all the steps run under the store's lock: a directory without
//! `config.json` that anyone sees while holding the lock is the remains of
//! an interrupted create. It is never listed; its root file system is
//! unmounted and it is removed ([`ContainerStore::remove_incomplete`]).

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::atomic::{replace_atomic, write_atomic};
use crate::config::{Config, HostConfig};
use crate::error::{Error, IoContext, Result};
use crate::id::ContainerId;
use crate::state::StateRecord;
use crate::time::Timestamp;

// ANCHOR: store_types
/// What a container is: fixed at create, stored in `config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    /// The full 64-hex-digit id.
    pub id: ContainerId,
    /// The name, without Docker's leading `/`; unique in the store.
    pub name: String,
    /// When it was created.
    pub created: Timestamp,
    /// The image id (`sha256:` of its config) the container was made from.
    pub image_id: String,
    /// What runs: the image's config merged with the user's options.
    pub config: Config,
    /// How the host runs it: limits, binds, restart policy, …
    pub host_config: HostConfig,
}

/// The `containers/` directory of an engine root.
#[derive(Debug, Clone)]
pub struct ContainerStore {
    dir: PathBuf,
}

pub(crate) const CONFIG: &str = "config.json";
pub(crate) const STATE: &str = "state.json";
/// The prefix of a container directory being deleted.
pub(crate) const REMOVING: &str = ".removing-";

impl ContainerStore {
    /// Opens (creating, mode 0700) `root/containers`.
    pub fn open(root: &Path) -> Result<ContainerStore> {
        let dir = root.join("containers");
        minidock_images::create_private_dir(&dir).ctx("create", &dir)?;
        Ok(ContainerStore { dir })
    }
    // ANCHOR_END: store_types

    /// The directory of container `id`.
    pub fn dir(&self, id: &ContainerId) -> PathBuf {
        self.dir.join(id.as_str())
    }

    /// Stores a new container in state Created. Fails when its name is
    /// taken; holds the store lock, so two creates cannot take one name.
    pub fn create(&self, container: &Container) -> Result<()> {
        self.create_with(container, |_| Ok(()))
    }

    // ANCHOR: create_with
    /// Like [`ContainerStore::create`], and runs `prepare` on the new
    /// container directory (to mount its root file system) before the
    /// container is committed by writing `config.json`. All of it holds the
    /// store lock, so no one sees the container half-made. When `prepare`
    /// fails, the directory is unmounted and removed again.
    pub fn create_with(
        &self,
        container: &Container,
        prepare: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let _lock = self.lock_store()?;
        for (other, _) in self.list_locked()? {
            if other.id.short() == container.id.short() {
                return Err(Error::ShortIdTaken {
                    id: container.id.to_string(),
                    other: other.id.to_string(),
                });
            }
            if other.name == container.name {
                return Err(Error::NameInUse {
                    name: container.name.clone(),
                    id: other.id.to_string(),
                });
            }
        }
        let dir = self.dir(&container.id);
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .ctx("create container directory", &dir)?;
        crate::failpoint::hit("create-after-dir");
        // A container removed at its exit (`--rm`) is written atomically
        // but not flushed: after a power cut nobody wants it back, and its
        // four `fsync`s were a third of `run --rm`'s time.
        let write = |path: &Path, value: &dyn ErasedJson| -> Result<()> {
            let bytes = value.bytes(path)?;
            if container.host_config.auto_remove {
                replace_atomic(path, &bytes)
            } else {
                write_atomic(path, &bytes)
            }
        };
        let prepared =
            write(&dir.join(STATE), &StateRecord::created()).and_then(|()| prepare(&dir));
        if let Err(e) = prepared {
            return match discard_incomplete(&dir) {
                Ok(()) => Err(e),
                Err(cleanup) => Err(Error::CleanupFailed {
                    error: Box::new(e),
                    cleanup: Box::new(cleanup),
                }),
            };
        }
        crate::failpoint::hit("create-after-mount");
        // Last: its presence marks the container as complete.
        write(&dir.join(CONFIG), container)?;
        crate::failpoint::hit("create-after-config");
        Ok(())
    }
    // ANCHOR_END: create_with

    // ANCHOR: remove_incomplete
    /// Removes the remains of creates that were interrupted (the engine
    /// died before writing `config.json`): unmounts their root file system
    /// and deletes their directory. Returns their ids. The runtime calls it
    /// when it opens the root; [`ContainerStore::list`] does it on the way.
    pub fn remove_incomplete(&self) -> Result<Vec<ContainerId>> {
        let _lock = self.lock_store()?;
        self.remove_incomplete_locked()
    }

    fn remove_incomplete_locked(&self) -> Result<Vec<ContainerId>> {
        let mut removed = Vec::new();
        for entry in fs::read_dir(&self.dir).ctx("read", &self.dir)? {
            let entry = entry.ctx("read", &self.dir)?;
            let Ok(id) = entry.file_name().to_string_lossy().parse::<ContainerId>() else {
                continue; // the lock file, or something that is not ours
            };
            if !entry.path().join(CONFIG).exists() {
                discard_incomplete(&entry.path())?;
                removed.push(id);
            }
        }
        Ok(removed)
    }
    // ANCHOR_END: remove_incomplete

    /// `docker rename`: gives container `id` the name `new`, which no other
    /// container may have. Holds the store lock, like create, so a rename
    /// and a create cannot both take one name; `config.json` is rewritten
    /// atomically, so a crash leaves the old name or the new one.
    pub fn rename(&self, id: &ContainerId, new: &str) -> Result<()> {
        let _lock = self.lock_store()?;
        let mut container = self.container(id)?;
        for (other, _) in self.list_locked()? {
            if other.name == new {
                return Err(if other.id == *id {
                    Error::SameName(new.to_string())
                } else {
                    Error::NameInUse {
                        name: new.to_string(),
                        id: other.id.to_string(),
                    }
                });
            }
        }
        container.name = new.to_string();
        write_json(&self.dir(id).join(CONFIG), &container)
    }

    /// Like [`ContainerStore::update`], but the new `config.json` is not
    /// flushed to disk ([`replace_atomic`]): for what every start prepares
    /// afresh (the network namespace to join, the files the network
    /// mounts). A power cut that loses the change takes the namespace it
    /// names with it, and leaves the old file whole; the next start
    /// prepares both again. Saves two `fsync`s on every start on a network.
    pub fn update_unsynced(
        &self,
        id: &ContainerId,
        change: impl FnOnce(&mut Container),
    ) -> Result<()> {
        let _lock = self.lock_store()?;
        let mut container = self.container(id)?;
        let before = container.clone();
        change(&mut container);
        if container == before {
            return Ok(());
        }
        let path = self.dir(id).join(CONFIG);
        replace_atomic(&path, &json_bytes(&path, &container)?)
    }

    // ANCHOR: store_read
    /// Rewrites `config.json` of `id` with `change` applied (under the
    /// store lock, atomically): the engine records what it prepared for a
    /// start, such as the network namespace to join.
    pub fn update(&self, id: &ContainerId, change: impl FnOnce(&mut Container)) -> Result<()> {
        let _lock = self.lock_store()?;
        let mut container = self.container(id)?;
        let before = container.clone();
        change(&mut container);
        if container == before {
            return Ok(()); // a start that prepared the same again: no write
        }
        write_json(&self.dir(id).join(CONFIG), &container)
    }

    /// Reads `config.json` of `id`.
    pub fn container(&self, id: &ContainerId) -> Result<Container> {
        match read_json(&self.dir(id).join(CONFIG)) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::NoSuchContainer(id.to_string()))
            }
            other => other,
        }
    }

    /// Reads `state.json` of `id`.
    pub fn state(&self, id: &ContainerId) -> Result<StateRecord> {
        let path = self.dir(id).join(STATE);
        if !self.dir(id).join(CONFIG).exists() {
            return Err(Error::NoSuchContainer(id.to_string()));
        }
        match read_json(&path) {
            // removed between the check and the read
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::NoSuchContainer(id.to_string()))
            }
            other => other,
        }
    }
    // ANCHOR_END: store_read

    /// PID 1 of the running container `id`, for one that joins its namespaces.
    pub fn running_pid(&self, id: &str) -> Result<i32> {
        let id: ContainerId = id.parse()?;
        let not_running = || format!("cannot join container {id}'s namespaces: it is not running");
        (self.state(&id)?.state.pid()).ok_or_else(|| Error::InvalidHostConfig(not_running()))
    }

    // ANCHOR: store_update_state
    /// Reads, changes and writes back `state.json` under the container's
    /// lock, so the shim recording an exit and the engine recording a pause
    /// cannot overwrite each other. `change` may refuse with an error; then
    /// nothing is written; nor when it changed nothing.
    pub fn update_state<T>(
        &self,
        id: &ContainerId,
        change: impl FnOnce(&mut StateRecord) -> Result<T>,
    ) -> Result<T> {
        self.update_state_as(id, Durability::Durable, change)
    }

    /// [`ContainerStore::update_state`] for a container about to be
    /// removed (`--rm`): the write is atomic but not flushed to disk
    /// ([`replace_atomic`]). After a power cut nobody reads these states;
    /// an `fsync` of each would only make `run --rm` wait for the disk.
    pub fn update_state_unsynced<T>(
        &self,
        id: &ContainerId,
        change: impl FnOnce(&mut StateRecord) -> Result<T>,
    ) -> Result<T> {
        self.update_state_as(id, Durability::Unsynced, change)
    }

    fn update_state_as<T>(
        &self,
        id: &ContainerId,
        durability: Durability,
        change: impl FnOnce(&mut StateRecord) -> Result<T>,
    ) -> Result<T> {
        let _lock = self.lock_container(id)?;
        let mut record = self.state(id)?;
        let before = record.clone();
        let out = change(&mut record)?;
        if record == before {
            return Ok(out);
        }
        let path = self.dir(id).join(STATE);
        match durability {
            Durability::Durable => write_json(&path, &record)?,
            Durability::Unsynced => replace_atomic(&path, &json_bytes(&path, &record)?)?,
        }
        Ok(out)
    }
    // ANCHOR_END: store_update_state

    // ANCHOR: store_list
    /// Every complete container with its state, oldest first. Directories
    /// of interrupted creates are removed on the way.
    pub fn list(&self) -> Result<Vec<(Container, StateRecord)>> {
        let _lock = self.lock_store()?;
        self.list_locked()
    }

    fn list_locked(&self) -> Result<Vec<(Container, StateRecord)>> {
        self.remove_incomplete_locked()?;
        let mut all = Vec::new();
        for entry in fs::read_dir(&self.dir).ctx("read", &self.dir)? {
            let entry = entry.ctx("read", &self.dir)?;
            let Ok(id) = entry.file_name().to_string_lossy().parse::<ContainerId>() else {
                continue; // the lock file, or something that is not ours
            };
            if !entry.path().join(CONFIG).exists() {
                continue; // never list a container that is not complete
            }
            match (self.container(&id), self.state(&id)) {
                (Ok(c), Ok(s)) => all.push((c, s)),
                // removed by its shim (`--rm`) between the look and the read
                (Err(Error::NoSuchContainer(_)), _) | (_, Err(Error::NoSuchContainer(_))) => {}
                (Err(e), _) | (_, Err(e)) => return Err(e),
            }
        }
        all.sort_by_key(|(c, _)| c.created);
        Ok(all)
    }
    // ANCHOR_END: store_list

    // ANCHOR: store_resolve
    /// Finds a container by full id, name, or unique id prefix, as the
    /// docker CLI accepts them.
    pub fn resolve(&self, reference: &str) -> Result<ContainerId> {
        let all = self.list()?;
        let bare = reference.strip_prefix('/').unwrap_or(reference);
        if let Some((c, _)) = all
            .iter()
            .find(|(c, _)| c.id.as_str() == reference || c.name == bare)
        {
            return Ok(c.id.clone());
        }
        if reference.is_empty() {
            return Err(Error::NoSuchContainer(reference.to_string()));
        }
        let matches: Vec<&Container> = all
            .iter()
            .map(|(c, _)| c)
            .filter(|c| c.id.as_str().starts_with(reference))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Error::NoSuchContainer(reference.to_string())),
            _ => Err(Error::Ambiguous(reference.to_string())),
        }
    }
    // ANCHOR_END: store_resolve

    // ANCHOR: store_remove
    /// Deletes the container's directory. Refuses while anything is mounted
    /// inside it: deleting through a mount would delete the mounted files.
    /// The directory is renamed away first (`.removing-<id>`), so a crash
    /// in the middle leaves no half-deleted container, only a directory
    /// that [`crate::recover`] deletes at the next start.
    pub fn remove(&self, id: &ContainerId) -> Result<()> {
        check_unmounted(&self.dir(id))?;
        match self.detach(id)? {
            Some(doomed) => remove_unmounted_dir(&doomed),
            None => Ok(()),
        }
    }

    /// The first half of a removal: renames the container's directory,
    /// mounts and all, to `.removing-<id>` and returns that path (`None`
    /// if it was gone already). From here on the container does not exist
    /// for anyone; what is left is files to delete, which can wait: its
    /// root file system is unmounted and the directory deleted afterwards
    /// ([`remove_detached`]), or by [`crate::recover`] at the next start.
    pub fn detach(&self, id: &ContainerId) -> Result<Option<PathBuf>> {
        let _lock = self.lock_store()?;
        let dir = self.dir(id);
        let doomed = self.dir.join(format!("{REMOVING}{id}"));
        match fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).ctx("move away for removal", &dir),
        }
        crate::failpoint::hit("remove-after-rename");
        Ok(Some(doomed))
    }
    // ANCHOR_END: store_remove

    /// The `containers/` directory itself.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn lock_store(&self) -> Result<Flock<File>> {
        lock_file(&self.dir.join(".lock"))
    }

    fn lock_container(&self, id: &ContainerId) -> Result<Flock<File>> {
        let dir = self.dir(id);
        if !dir.join(CONFIG).exists() {
            return Err(Error::NoSuchContainer(id.to_string()));
        }
        // The directory itself carries the lock: one file fewer to make
        // (and delete) for every container.
        let file = File::open(&dir).ctx("open", &dir)?;
        lock(file, &dir)
    }
}

// ANCHOR: lock_file
/// Takes an exclusive `flock` on `path` (created if missing), released when
/// the returned value is dropped — also when the process dies.
fn lock_file(path: &Path) -> Result<Flock<File>> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .ctx("open lock file", path)?;
    lock(file, path)
}

/// An exclusive `flock` on `file`, which may be a directory: the lock
/// belongs to the inode, whatever kind of file it is.
fn lock(file: File, path: &Path) -> Result<Flock<File>> {
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| Error::Io {
        op: "lock",
        path: path.into(),
        source: e.into(),
    })
}
// ANCHOR_END: lock_file

// ANCHOR: discard_incomplete
/// Unmounts the root file system of a container directory that never
/// became a container, then removes the directory.
pub(crate) fn discard_incomplete(dir: &Path) -> Result<()> {
    minidock_images::unmount_rootfs(dir).map_err(Error::Image)?;
    remove_unmounted_dir(dir)
}

/// The second half of a removal ([`ContainerStore::detach`]): unmounts the
/// root file system of the directory `doomed`, then deletes it.
pub fn remove_detached(doomed: &Path) -> Result<()> {
    minidock_images::unmount_rootfs(doomed).map_err(Error::Image)?;
    remove_unmounted_dir(doomed)
}

/// Removes `dir` recursively unless a mount point is at or below it.
pub(crate) fn remove_unmounted_dir(dir: &Path) -> Result<()> {
    check_unmounted(dir)?;
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).ctx("remove", dir),
    }
}
// ANCHOR_END: discard_incomplete

/// Fails when a mount point is at or below `dir`.
fn check_unmounted(dir: &Path) -> Result<()> {
    let mounts = fs::read_to_string("/proc/self/mountinfo").ctx("read", "/proc/self/mountinfo")?;
    if let Some(m) = crate::cgroup::parse_mountinfo(&mounts)
        .into_iter()
        .find(|m| m.mount_point.starts_with(dir))
    {
        return Err(Error::StillMounted {
            dir: dir.to_path_buf(),
            mount: m.mount_point,
        });
    }
    Ok(())
}

/// How a write of `state.json` reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Flushed before the write counts ([`write_atomic`]).
    Durable,
    /// Atomic, not flushed ([`replace_atomic`]).
    Unsynced,
}

/// A value the store writes as JSON, whatever its type.
trait ErasedJson {
    fn bytes(&self, path: &Path) -> Result<Vec<u8>>;
}

impl<T: Serialize> ErasedJson for T {
    fn bytes(&self, path: &Path) -> Result<Vec<u8>> {
        json_bytes(path, self)
    }
}

// ANCHOR: json_files
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_atomic(path, &json_bytes(path, value)?)
}

/// `value` as the store writes it: pretty JSON and a newline.
pub(crate) fn json_bytes(path: &Path, value: &impl Serialize) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Corrupt {
        path: path.into(),
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).ctx("read", path)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
        path: path.into(),
        reason: e.to_string(),
    })
}
// ANCHOR_END: json_files

#[cfg(test)]
mod tests;
