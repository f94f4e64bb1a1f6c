//! Mount propagation: whether a mount made on one side of a bind reaches
//! the other side.
//!
//! Every mount belongs to a *peer group* or to none. A mount event (a new
//! mount, an unmount) under a **shared** mount is repeated on its peers; a
//! **slave** mount receives the events of its master's peer group but sends
//! none back; a **private** mount does neither. A new mount namespace starts
//! as a copy of its parent's, and on most hosts (systemd) the copies are
//! shared with the originals: that is why [`crate::rootfs`] cuts the link
//! first.
//!
//! `docker run -v /mnt:/mnt:rslave` asks for one bind to stay linked: a disk
//! the host mounts under `/mnt` later should appear in the container. So:
//!
//! - with no bind asking for more than `private`, the container's mount
//!   namespace is made `rprivate` before anything is mounted, as always;
//! - when a bind asks for `slave` or `shared`, the namespace is made
//!   `rslave` instead: the host's mount events still flow in, and nothing
//!   the setup does (`/proc`, `pivot_root`, the detach of the old root)
//!   can flow back out. Each bind then gets the mode it asked for.
//!
//! A `shared` bind is shared *inside* the container (its sub-mounts reach
//! other binds of the same peer group there) and receives the host's
//! mounts; the container's own mounts never reach the host, because the
//! namespace under it is a slave. Docker (runc) makes the whole namespace
//! `rshared` for that; minidock does not let a container mount onto the
//! host.
//!
//! Docker's check comes first, in the engine's process, before any
//! namespace exists: a bind can only receive the host's mounts if its
//! source sits on a mount that sends them. `shared` needs a shared source
//! mount; `slave` a shared or slave one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use nix::mount::{mount, MsFlags};
use serde::{Deserialize, Serialize};

use crate::error::SetupError;

// ANCHOR: modes
/// The six propagation modes of a bind mount (`bind-propagation=`). The
/// `r` forms apply to every mount under the bind too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// Events cross neither way (for this mount only, not those below it).
    Private,
    /// Docker's default for binds.
    #[default]
    Rprivate,
    /// Events cross both ways, for this mount only.
    Shared,
    /// Events cross both ways, for this mount and every mount below it.
    Rshared,
    /// The host's mounts appear in the container, not the other way round; this mount only.
    Slave,
    /// As [`Propagation::Slave`], for this mount and every mount below it.
    Rslave,
}

impl Propagation {
    /// Every mode, as Docker spells them.
    pub const ALL: [Propagation; 6] = [
        Propagation::Private,
        Propagation::Rprivate,
        Propagation::Shared,
        Propagation::Rshared,
        Propagation::Slave,
        Propagation::Rslave,
    ];

    /// The name Docker shows (`rprivate`, `rslave`, …).
    pub fn name(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }

    /// The `mount(2)` flags that give a mount this mode.
    pub fn flags(self) -> MsFlags {
        let (kind, recursive) = match self {
            Propagation::Private => (MsFlags::MS_PRIVATE, false),
            Propagation::Rprivate => (MsFlags::MS_PRIVATE, true),
            Propagation::Shared => (MsFlags::MS_SHARED, false),
            Propagation::Rshared => (MsFlags::MS_SHARED, true),
            Propagation::Slave => (MsFlags::MS_SLAVE, false),
            Propagation::Rslave => (MsFlags::MS_SLAVE, true),
        };
        if recursive {
            kind | MsFlags::MS_REC
        } else {
            kind
        }
    }

    /// Whether the bind stays linked to the host (receives its mounts).
    pub fn is_linked(self) -> bool {
        !matches!(self, Propagation::Private | Propagation::Rprivate)
    }

    fn is_shared(self) -> bool {
        matches!(self, Propagation::Shared | Propagation::Rshared)
    }
}
// ANCHOR_END: modes

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Propagation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Propagation::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown bind propagation {s:?}: one of private, rprivate, shared, rshared, \
                     slave, rslave"
                )
            })
    }
}

// ANCHOR: root
/// The propagation the whole mount namespace gets before anything is
/// mounted: `rprivate`, unless some bind must stay linked to the host;
/// then `rslave`, which still sends nothing back to the host.
pub fn namespace_mode(binds: impl IntoIterator<Item = Propagation>) -> Propagation {
    if binds.into_iter().any(|mode| mode.is_linked()) {
        Propagation::Rslave
    } else {
        Propagation::Rprivate
    }
}

/// Gives the whole mount namespace `mode` (`mount --make-rslave /`).
pub fn set_namespace(mode: Propagation) -> Result<(), SetupError> {
    mount(None::<&str>, "/", None::<&str>, mode.flags(), None::<&str>)
        .map_err(|e| SetupError::sys(format!("mount --make-{mode}"), Some("/".into()), e))
}

/// Gives one freshly made bind mount the mode it asked for.
pub fn apply(target: &Path, mode: Propagation) -> Result<(), SetupError> {
    mount(
        None::<&str>,
        target,
        None::<&str>,
        mode.flags(),
        None::<&str>,
    )
    .map_err(|e| {
        SetupError::sys(
            format!("mount --make-{mode}"),
            Some(target.display().to_string()),
            e,
        )
    })
}
// ANCHOR_END: root

// ANCHOR: mountinfo
/// One line of `/proc/self/mountinfo`: where a mount sits and how it
/// propagates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// The mount point.
    pub mount_point: PathBuf,
    /// `shared:N`: in a peer group.
    pub shared: bool,
    /// `master:N`: a slave of a peer group.
    pub slave: bool,
}

/// Reads `mountinfo` (`/proc/self/mountinfo`'s format, see proc(5)).
/// Mount points escape space, tab, newline and `\` as octal (`\040`).
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let separator = fields.iter().position(|f| *f == "-")?;
            let optional = fields.get(6..separator)?;
            Some(MountInfo {
                mount_point: PathBuf::from(unescape(fields.get(4)?)),
                shared: optional.iter().any(|f| f.starts_with("shared:")),
                slave: optional.iter().any(|f| f.starts_with("master:")),
            })
        })
        .collect()
}
// ANCHOR_END: mountinfo

// ANCHOR: mount_of
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let text = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount that holds `path`: the last-mounted one whose mount point is
/// the longest prefix of it (a later mount over the same point hides the
/// earlier one).
pub fn mount_of<'a>(mounts: &'a [MountInfo], path: &Path) -> Option<&'a MountInfo> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
        .map(|(_, m)| m)
}
// ANCHOR_END: mount_of

// ANCHOR: check
/// Docker's check of a linked bind: its source must sit on a mount that
/// sends mount events, or the mode would silently mean `private`. Errors
/// carry Docker's words, so a user's search finds the answer
/// (`mount --make-shared` on the source's mount).
pub fn check_source(mounts: &[MountInfo], bind: &Path, mode: Propagation) -> Result<(), String> {
    if !mode.is_linked() {
        return Ok(());
    }
    let source = bind
        .canonicalize()
        .map_err(|e| format!("bind source {}: {e}", bind.display()))?;
    let Some(mount) = mount_of(mounts, &source) else {
        return Err(format!(
            "path {} is not under any mount point",
            source.display()
        ));
    };
    let at = mount.mount_point.display();
    if mode.is_shared() && !mount.shared {
        return Err(format!(
            "path {} is mounted on {at} but it is not a shared mount",
            bind.display()
        ));
    }
    if !mount.shared && !mount.slave {
        return Err(format!(
            "path {} is mounted on {at} but it is not a shared or slave mount",
            bind.display()
        ));
    }
    Ok(())
}
// ANCHOR_END: check

/// [`check_source`] for every bind (its source and mode), against this
/// process's mount table.
pub fn check_sources(binds: &[(&Path, Propagation)]) -> Result<(), String> {
    if !binds.iter().any(|(_, mode)| mode.is_linked()) {
        return Ok(());
    }
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("read /proc/self/mountinfo: {e}"))?;
    let mounts = parse_mountinfo(&text);
    binds
        .iter()
        .try_for_each(|(source, mode)| check_source(&mounts, source, *mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:40 / /srv rw master:7 - tmpfs tmpfs rw
31 22 0:41 / /my\\040disk rw - tmpfs tmpfs rw
32 31 0:42 / /my\\040disk/in rw shared:9 master:7 - tmpfs tmpfs rw
";

    #[test]
    fn names_round_trip_and_flags() {
        for p in Propagation::ALL {
            assert_eq!(p.name().parse::<Propagation>().unwrap(), p);
        }
        assert!("rshare".parse::<Propagation>().is_err());
        assert_eq!(
            Propagation::Rslave.flags(),
            MsFlags::MS_SLAVE | MsFlags::MS_REC
        );
        assert_eq!(Propagation::Shared.flags(), MsFlags::MS_SHARED);
        assert_eq!(Propagation::default(), Propagation::Rprivate);
    }

    #[test]
    fn mountinfo_is_read_with_escapes_and_tags() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.len(), 4);
        assert_eq!(mounts[2].mount_point, Path::new("/my disk"));
        assert!(mounts[0].shared && !mounts[0].slave);
        assert!(mounts[1].slave && !mounts[1].shared);
        assert!(!mounts[2].shared && !mounts[2].slave);
        assert!(mounts[3].shared && mounts[3].slave);
        let of = |p: &str| mount_of(&mounts, Path::new(p)).unwrap().mount_point.clone();
        assert_eq!(of("/my disk/in/x"), Path::new("/my disk/in"));
        assert_eq!(of("/my disk/x"), Path::new("/my disk"));
        assert_eq!(of("/srvx"), Path::new("/"));
    }

    #[test]
    fn the_namespace_is_a_slave_only_when_a_bind_asks() {
        assert_eq!(namespace_mode([]), Propagation::Rprivate);
        assert_eq!(
            namespace_mode([Propagation::Private]),
            Propagation::Rprivate
        );
        assert_eq!(
            namespace_mode([Propagation::Private, Propagation::Shared]),
            Propagation::Rslave
        );
    }

    #[test]
    fn linked_binds_need_a_source_that_sends() {
        // "/" exists on every host; the table decides what it is.
        let root = Path::new("/");
        let shared_root = parse_mountinfo("1 0 8:1 / / rw shared:1 - ext4 x rw\n");
        let slave_root = parse_mountinfo("1 0 8:1 / / rw master:1 - ext4 x rw\n");
        let private_root = parse_mountinfo("1 0 8:1 / / rw - ext4 x rw\n");
        for p in Propagation::ALL {
            assert!(check_source(&shared_root, root, p).is_ok(), "{p}");
        }
        assert!(check_source(&slave_root, root, Propagation::Rslave).is_ok());
        let err = check_source(&slave_root, root, Propagation::Rshared).unwrap_err();
        assert_eq!(err, "path / is mounted on / but it is not a shared mount");
        let err = check_source(&private_root, root, Propagation::Slave).unwrap_err();
        assert_eq!(
            err,
            "path / is mounted on / but it is not a shared or slave mount"
        );
        assert!(check_source(&private_root, root, Propagation::Rprivate).is_ok());
    }
}
