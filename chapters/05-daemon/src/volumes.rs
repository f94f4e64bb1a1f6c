//! Volumes, as a service the daemon is given.
//!
//! Volumes are chapter 07, which comes after this one: the daemon cannot
//! use it, so it says what it needs as a trait, and whoever builds the
//! daemon (`minidockd`) plugs an implementation in. Without one, the
//! `/volumes` endpoints answer 501 and a create that asks for a volume, a
//! tmpfs or `--volumes-from` is refused by name, as before.
//!
//! The service owns the volumes; the daemon owns the containers, so it is
//! the daemon that knows who uses which volume. It passes that knowledge in
//! ([`VolumeUsers`]) wherever the answer depends on it: a volume in use is
//! not removed (409), `dangling=true` lists the unused ones, prune skips
//! the used ones.

use crate::compat::types::{
    MountPoint, Volume, VolumeCreateBody, VolumeListResponse, VolumePruneResponse,
};
use crate::error::ApiResult;
use crate::query::Filters;
use minidock_lifecycle::config::{Bind, TmpfsMount};
use std::collections::BTreeMap;
use std::path::Path;

/// Who uses which volume: volume name → ids of the containers (running or
/// not) that mount it.
pub type VolumeUsers = BTreeMap<String, Vec<String>>;

/// How the service asks who uses which volume: a function it calls under
/// its own lock, so that the answer and the removal it decides are one
/// step that no create's [`VolumeService::plan`] can come between.
pub type UsersOf<'a> = &'a dyn Fn() -> VolumeUsers;

/// The mounts a create request asks for, gathered from every place the
/// API lets a client ask.
#[derive(Debug, Clone, Default)]
pub struct MountRequest {
    /// `HostConfig.Binds`: `name:/path[:ro]`, `/host:/path[:ro]`.
    pub binds: Vec<String>,
    /// `HostConfig.Mounts`, as sent (`{"Type": "volume", "Source": …}`).
    pub mounts: Vec<serde_json::Value>,
    /// `HostConfig.Tmpfs`: path → options (`size=64m,mode=1777`).
    pub tmpfs: BTreeMap<String, String>,
    /// `Config.Volumes` and then the image's `VOLUME`: paths that get an
    /// anonymous volume unless something else is mounted there.
    pub volumes: Vec<String>,
    /// `HostConfig.VolumesFrom`, each resolved to that container's mounts.
    pub volumes_from: Vec<VolumesFrom>,
}

/// One `--volumes-from container[:ro|:rw]`.
#[derive(Debug, Clone, Default)]
pub struct VolumesFrom {
    /// The container's mounts (its inspect's `Mounts`).
    pub mounts: Vec<MountPoint>,
    /// `:ro` or `:rw` when given; else each mount keeps its own mode.
    pub read_only: Option<bool>,
}

/// What a container gets mounted: the daemon hands `binds` and `tmpfs` to
/// chapter 03's runtime, and keeps `points` for inspect's `Mounts`.
#[derive(Debug, Clone, Default)]
pub struct ContainerMounts {
    /// Bind mounts: host paths, and each volume's data directory.
    pub binds: Vec<Bind>,
    /// tmpfs mounts.
    pub tmpfs: Vec<TmpfsMount>,
    /// Every mount, as inspect shows it.
    pub points: Vec<MountPoint>,
    /// Volumes made for this request (removed again if the create fails).
    pub created: Vec<String>,
    /// Volumes that get the image's content on first use (no `nocopy`).
    pub copy_up: Vec<String>,
}

// ANCHOR: trait
/// Volumes: chapter 07's `local` driver behind the API.
pub trait VolumeService: Send + Sync + 'static {
    /// `GET /volumes?filters=` (`dangling`, `label`, `name`, `driver`).
    fn list(&self, filters: &Filters, users: &VolumeUsers) -> ApiResult<VolumeListResponse>;
    /// `POST /volumes/create`: an existing volume of that name is returned
    /// as it is, as Docker does.
    fn create(&self, body: VolumeCreateBody) -> ApiResult<Volume>;
    /// `GET /volumes/{name}`.
    fn inspect(&self, name: &str) -> ApiResult<Volume>;
    /// `DELETE /volumes/{name}?force=`: 409 while a container uses it,
    /// 404 when there is no such volume (unless `force`).
    fn remove(&self, name: &str, force: bool, users: UsersOf<'_>) -> ApiResult<()>;
    /// `POST /volumes/prune?filters=`: removes unused anonymous volumes,
    /// or all unused ones with `all=true`.
    fn prune(&self, filters: &Filters, users: UsersOf<'_>) -> ApiResult<VolumePruneResponse>;
    /// Every volume with its `UsageData` (size measured), for
    /// `GET /system/df`.
    fn usage(&self, users: &VolumeUsers) -> ApiResult<Vec<Volume>>;

    /// A container create: checks every mount asked for, then makes the
    /// volumes that do not exist yet. Nothing is made when a check fails.
    /// The volumes planned count as used until [`VolumeService::settle`]:
    /// the container that will use them is not recorded yet.
    fn plan(&self, request: &MountRequest) -> ApiResult<ContainerMounts>;
    /// The create that `plan` made `mounts` for is over: its container is
    /// recorded (and is a user from now on), or the create failed.
    fn settle(&self, mounts: &ContainerMounts);
    /// After the container's root file system is mounted at `rootfs`:
    /// refuses a mount destination that is a symlink there, and copies the
    /// image's content into the fresh volumes of `mounts.copy_up`.
    fn populate(&self, rootfs: &Path, mounts: &ContainerMounts) -> ApiResult<()>;
    /// Container `container` is about to start with `points`: mounts what
    /// is mounted only while used (a tmpfs volume, shared by the
    /// containers that run with it), counting this run as a user. On an
    /// error nothing stays counted and the start must not go on.
    fn activate(&self, container: &str, points: &[MountPoint]) -> ApiResult<()>;
    /// One run of `container` that [`VolumeService::activate`] counted has
    /// ended: the last user's end unmounts (and a tmpfs's data is gone).
    fn deactivate(&self, container: &str, points: &[MountPoint]) -> ApiResult<()>;
    /// The daemon starts, and these containers still run (they outlived
    /// the last daemon): each counts as a user as if it had started now,
    /// with what it uses kept mounted, never mounted a second time; what
    /// no running container uses is unmounted.
    fn adopt(&self, running: &[(String, Vec<MountPoint>)]) -> ApiResult<()>;
    /// A container is gone: with `remove_anonymous` (`rm -v`, `run --rm`),
    /// removes its anonymous volumes that no other container in `users`
    /// uses, and returns their names. Named volumes stay.
    fn release(
        &self,
        points: &[MountPoint],
        remove_anonymous: bool,
        users: UsersOf<'_>,
    ) -> ApiResult<Vec<String>>;
}
// ANCHOR_END: trait
