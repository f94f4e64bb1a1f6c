//! What a user writes to ask for a mount, parsed into one shape.
//!
//! Docker grew three syntaxes for the same thing:
//!
//! ```text
//! -v data:/var/lib/db:ro         named volume (made on first use), read-only
//! -v /var/lib/db                 anonymous volume: a fresh one, random name
//! -v /srv/conf:/etc/app          bind mount of a host path
//! --mount type=volume,source=data,target=/db,readonly,volume-nocopy
//! -v /mnt:/mnt:ro,rslave        bind that receives the host's later mounts
//! --mount type=bind,source=/srv,target=/srv,bind-propagation=rslave
//! --mount type=tmpfs,target=/cache,tmpfs-size=64m,tmpfs-mode=1770
//! --tmpfs /run:size=64m,mode=1777
//! ```
//!
//! `-v` tells a volume from a bind by the first character of the source: a
//! `/` is a host path, anything else a volume name. `--mount` says it with
//! `type=`. All become a [`MountSpec`].

use crate::error::{Error, Result};
use crate::name;
use minidock_lifecycle::config::Propagation;
use std::path::{Component, Path, PathBuf};

/// What is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A named volume, or an anonymous one (`None`).
    Volume(Option<String>),
    /// A host path.
    Bind(PathBuf),
    /// A fresh tmpfs.
    Tmpfs(TmpfsOptions),
}

/// A tmpfs's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TmpfsOptions {
    /// Bytes; `None`: the kernel's default (half the memory).
    pub size: Option<u64>,
    /// Permission bits of its root; `None`: 1777.
    pub mode: Option<u32>,
    /// Allow executing files from it (`exec`); Docker's default is `noexec`.
    pub exec: bool,
}

impl TmpfsOptions {
    /// The mount data the kernel gets: `size=…,mode=…`.
    pub fn data(&self) -> String {
        let mut parts = Vec::new();
        if let Some(size) = self.size {
            parts.push(format!("size={size}"));
        }
        parts.push(format!("mode={:o}", self.mode.unwrap_or(0o1777)));
        parts.join(",")
    }
}

// ANCHOR: mount_spec
/// One mount a container asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    /// What is mounted.
    pub source: Source,
    /// Where, inside the container: absolute, no `..`, not `/`.
    pub destination: PathBuf,
    /// `ro`, `readonly`.
    pub read_only: bool,
    /// `nocopy`, `volume-nocopy`: no copy-up into a fresh volume.
    pub nocopy: bool,
    /// `rslave`, `bind-propagation=shared`, …, for a bind (chapter 01's
    /// propagation modes); `None` when not asked: `rprivate`.
    pub propagation: Option<Propagation>,
}
// ANCHOR_END: mount_spec

fn invalid(spec: &str, reason: impl Into<String>) -> Error {
    Error::InvalidMount {
        spec: spec.to_string(),
        reason: reason.into(),
    }
}

// ANCHOR: destination
/// Checks a mount destination: absolute, no `.` or `..`, not `/` itself.
/// Mounts are resolved inside the container's root, and `..` has no
/// business there.
pub fn destination(spec: &str, path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return Err(invalid(
            spec,
            format!("the container path {path:?} must be absolute"),
        ));
    }
    if p.components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(invalid(
            spec,
            "the container path may not contain '..' or '.'",
        ));
    }
    if p.components().all(|c| c == Component::RootDir) {
        return Err(invalid(spec, "cannot mount over the container's root '/'"));
    }
    Ok(p.to_path_buf())
}
// ANCHOR_END: destination

/// A mount propagation, one of chapter 01's six modes. Only a bind has
/// one: a volume or a tmpfs is the engine's own, nothing mounts under it
/// on the host.
fn propagation(spec: &str, mode: &str) -> Result<Propagation> {
    mode.parse().map_err(|e: String| invalid(spec, e))
}

/// Refuses a propagation on anything but a bind, as Docker does.
fn only_binds_propagate(spec: &str, mount: &MountSpec) -> Result<()> {
    match (&mount.source, mount.propagation) {
        (Source::Bind(_), _) | (_, None) => Ok(()),
        (_, Some(mode)) => Err(invalid(
            spec,
            format!("bind propagation {mode} is for bind mounts, not volumes or tmpfs"),
        )),
    }
}

// ANCHOR: parse_volume
/// Parses a `-v` flag (and an entry of the API's `Binds`):
/// `[SOURCE:]DESTINATION[:OPTIONS]`, where a SOURCE starting with `/` is a
/// host path, any other a volume name, and no SOURCE an anonymous volume.
/// OPTIONS: `ro`, `rw`, `nocopy`, `z`/`Z` (SELinux relabelling; no-ops
/// here), and a bind's propagation (`rslave`, `shared`, …).
pub fn parse_volume(spec: &str) -> Result<MountSpec> {
    // exercise 7.2 parse-volume: split `-v` into source, destination and options, and tell a volume from a bind.
    // hint: split on ':' into one, two or three parts: `/dst`, `src:/dst`, `src:/dst:opts`.
    // hint: a source that is an absolute path is a bind mount of the host; any other is a volume name, checked like every volume name; no source is an anonymous volume.
    // hint: options are comma-separated: read-only or read-write, nocopy, the SELinux labels (accepted, no effect here), one of the six propagation modes; anything else is refused.
    // hint: only a bind mount may have a propagation mode (this module checks that), and nocopy is for volumes.
    // hint: the destination has checks of its own in this module.
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, dest, options) = match parts.as_slice() {
        [dest] => (None, *dest, ""),
        [source, dest] => (Some(*source), *dest, ""),
        [source, dest, options] => (Some(*source), *dest, *options),
        _ => {
            return Err(invalid(
                spec,
                "expected [name|/host/path:]/container/path[:ro|rw|nocopy]",
            ))
        }
    };
    let source = match source {
        None => Source::Volume(None),
        Some("") => return Err(invalid(spec, "the source is empty")),
        Some(path) if path.starts_with('/') => {
            destination(spec, path)
                .map_err(|_| invalid(spec, "the host path may not contain '..'"))?;
            Source::Bind(PathBuf::from(path))
        }
        Some(volume) => {
            name::validate(volume)?;
            Source::Volume(Some(volume.to_string()))
        }
    };
    let mut mount = MountSpec {
        destination: destination(spec, dest)?,
        source,
        read_only: false,
        nocopy: false,
        propagation: None,
    };
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => mount.read_only = true,
            "rw" => mount.read_only = false,
            "nocopy" => mount.nocopy = true,
            "z" | "Z" => {}
            mode @ ("private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave") => {
                mount.propagation = Some(propagation(spec, mode)?)
            }
            other => return Err(invalid(spec, format!("unknown option {other:?}"))),
        }
    }
    if mount.nocopy && matches!(mount.source, Source::Bind(_)) {
        return Err(invalid(spec, "nocopy is for volumes, not bind mounts"));
    }
    only_binds_propagate(spec, &mount)?;
    Ok(mount)
    // end exercise
}
// ANCHOR_END: parse_volume

/// Parses a size: bytes, or a number with `k`, `m`, `g` (powers of 1024),
/// optionally followed by `b`: `65536k`, `64m`, `1g`.
pub fn parse_size(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (digits, unit) = match lower.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => lower.split_at(i),
        None => (lower, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

fn parse_mode(spec: &str, text: &str) -> Result<u32> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| invalid(spec, format!("invalid mode {text:?}: octal, e.g. 1777")))
}

// ANCHOR: parse_tmpfs
/// Parses a `--tmpfs` flag, `DESTINATION[:OPTIONS]`, where OPTIONS are
/// mount options: `size=64m`, `mode=1777`, `ro`, `rw`, `exec`, `noexec`,
/// `nosuid`, `nodev` (the last two are always on).
pub fn parse_tmpfs(spec: &str) -> Result<MountSpec> {
    let (dest, options) = spec.split_once(':').unwrap_or((spec, ""));
    tmpfs_with_options(spec, dest, options)
}

/// A tmpfs at `dest` with mount options `options` (the API's
/// `HostConfig.Tmpfs` gives them apart).
pub fn tmpfs_with_options(spec: &str, dest: &str, options: &str) -> Result<MountSpec> {
    let mut tmpfs = TmpfsOptions::default();
    let mut read_only = false;
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", size)) => {
                tmpfs.size = Some(
                    parse_size(size)
                        .ok_or_else(|| invalid(spec, format!("invalid size {size:?}")))?,
                )
            }
            Some(("mode", mode)) => tmpfs.mode = Some(parse_mode(spec, mode)?),
            None if option == "ro" => read_only = true,
            None if option == "rw" => read_only = false,
            None if option == "exec" => tmpfs.exec = true,
            None if option == "noexec" => tmpfs.exec = false,
            None if ["nosuid", "nodev"].contains(&option) => {}
            _ => {
                return Err(invalid(
                    spec,
                    format!("tmpfs option {option:?} is not one of size=, mode=, ro, rw, exec, noexec, nosuid, nodev"),
                ))
            }
        }
    }
    Ok(MountSpec {
        source: Source::Tmpfs(tmpfs),
        destination: destination(spec, dest)?,
        read_only,
        nocopy: false,
        propagation: None,
    })
}
// ANCHOR_END: parse_tmpfs

/// Parses a `--mount` flag: comma-separated `key=value` fields, `type=`
/// (`volume` by default), `source`/`src`, `target`/`destination`/`dst`,
/// `readonly`/`ro`, `volume-nocopy`, `volume-driver=local`,
/// `bind-propagation`, `tmpfs-size`, `tmpfs-mode`.
pub fn parse_mount(spec: &str) -> Result<MountSpec> {
    let mut kind = "volume";
    let mut source: Option<&str> = None;
    let mut target: Option<&str> = None;
    let mut read_only = false;
    let mut nocopy = false;
    let mut bind_propagation = None;
    let mut tmpfs = TmpfsOptions::default();
    let truth = |key: &str, value: Option<&str>| match value {
        None | Some("1" | "true") => Ok(true),
        Some("0" | "false") => Ok(false),
        Some(other) => Err(invalid(
            spec,
            format!("{key}={other}: expected true or false"),
        )),
    };
    for field in spec.split(',').filter(|f| !f.is_empty()) {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (field.trim(), None),
        };
        let need = || value.ok_or_else(|| invalid(spec, format!("{key} needs a value")));
        match key {
            "type" => kind = need()?,
            "source" | "src" => source = Some(need()?),
            "target" | "destination" | "dst" => target = Some(need()?),
            "readonly" | "ro" => read_only = truth(key, value)?,
            "volume-nocopy" => nocopy = truth(key, value)?,
            "volume-driver" if value == Some("local") => {}
            "bind-propagation" => bind_propagation = Some(propagation(spec, need()?)?),
            "tmpfs-size" => {
                let size = need()?;
                tmpfs.size = Some(
                    parse_size(size)
                        .ok_or_else(|| invalid(spec, format!("invalid size {size:?}")))?,
                )
            }
            "tmpfs-mode" => tmpfs.mode = Some(parse_mode(spec, need()?)?),
            "consistency" => {}
            other => return Err(invalid(spec, format!("unknown field {other:?}"))),
        }
    }
    let target = target.ok_or_else(|| invalid(spec, "target= is required"))?;
    let source = match (kind, source) {
        ("volume", None | Some("")) => Source::Volume(None),
        ("volume", Some(name)) => {
            name::validate(name)?;
            Source::Volume(Some(name.to_string()))
        }
        ("bind", Some(path)) if path.starts_with('/') => Source::Bind(PathBuf::from(path)),
        ("bind", _) => return Err(invalid(spec, "a bind needs source=/absolute/host/path")),
        ("tmpfs", None) => Source::Tmpfs(tmpfs.clone()),
        ("tmpfs", Some(_)) => return Err(invalid(spec, "a tmpfs has no source")),
        (other, _) => {
            return Err(invalid(
                spec,
                format!("type={other} is not one of volume, bind, tmpfs"),
            ))
        }
    };
    if nocopy && !matches!(source, Source::Volume(_)) {
        return Err(invalid(spec, "volume-nocopy is for type=volume"));
    }
    let mount = MountSpec {
        source,
        destination: destination(spec, target)?,
        read_only,
        nocopy,
        propagation: bind_propagation,
    };
    only_binds_propagate(spec, &mount)?;
    Ok(mount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: Option<&str>, dest: &str, ro: bool, nocopy: bool) -> MountSpec {
        MountSpec {
            source: Source::Volume(name.map(str::to_string)),
            destination: dest.into(),
            read_only: ro,
            nocopy,
            propagation: None,
        }
    }

    #[test]
    fn dash_v_tells_volumes_from_binds() {
        assert_eq!(
            parse_volume("data:/db").unwrap(),
            volume(Some("data"), "/db", false, false)
        );
        assert_eq!(
            parse_volume("data:/db:ro,nocopy").unwrap(),
            volume(Some("data"), "/db", true, true)
        );
        assert_eq!(
            parse_volume("/db").unwrap(),
            volume(None, "/db", false, false)
        );
        let bind = parse_volume("/srv/x:/x:ro,rprivate").unwrap();
        assert_eq!(bind.source, Source::Bind("/srv/x".into()));
        assert!(bind.read_only);
        assert_eq!(bind.propagation, Some(Propagation::Rprivate));
        let bind = parse_volume("/mnt:/mnt:rslave").unwrap();
        assert_eq!(bind.propagation, Some(Propagation::Rslave));
        assert!(!bind.read_only);
        assert_eq!(parse_volume("/srv:/x").unwrap().propagation, None);
        for bad in [
            "../x:/db",
            "a/b:/db",
            "data:db",
            "data:/",
            "data:/a/../b",
            "data:/db:rx",
            "/srv:/x:rshare",
            "data:/x:rslave",
            "/x:rslave",
            "/srv:/x:nocopy",
            "a:b:c:d",
            ":/db",
            "x:/db",
        ] {
            let err = parse_volume(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidMount { .. } | Error::InvalidName { .. }),
                "{bad}: {err}"
            );
        }
        assert!(parse_volume("data:/x:rshared")
            .unwrap_err()
            .to_string()
            .contains("for bind mounts"));
    }

    #[test]
    fn dash_dash_mount() {
        assert_eq!(
            parse_mount("type=volume,source=data,target=/db,readonly,volume-nocopy").unwrap(),
            volume(Some("data"), "/db", true, true)
        );
        assert_eq!(
            parse_mount("target=/db").unwrap(),
            volume(None, "/db", false, false)
        );
        let t = parse_mount("type=tmpfs,dst=/cache,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        assert_eq!(
            t.source,
            Source::Tmpfs(TmpfsOptions {
                size: Some(64 << 20),
                mode: Some(0o1770),
                exec: false
            })
        );
        let b = parse_mount("type=bind,src=/srv,target=/srv,bind-propagation=rprivate,ro=true")
            .unwrap();
        assert_eq!(b.source, Source::Bind("/srv".into()));
        assert!(b.read_only);
        assert_eq!(b.propagation, Some(Propagation::Rprivate));
        let b = parse_mount("type=bind,src=/a,target=/x,bind-propagation=shared").unwrap();
        assert_eq!(b.propagation, Some(Propagation::Shared));
        for bad in [
            "type=volume",
            "type=bind,target=/x",
            "type=tmpfs,source=x,target=/x",
            "type=npipe,target=/x",
            "target=/x,bogus=1",
            "type=bind,src=/a,target=/x,bind-propagation=sideways",
            "type=volume,src=v,target=/x,bind-propagation=rslave",
            "type=tmpfs,target=/x,tmpfs-size=lots",
            "type=bind,src=/a,target=/x,volume-nocopy",
            "type=volume,src=../x,target=/x",
            "type=volume,target=/x,volume-driver=nfs",
        ] {
            assert!(parse_mount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dash_dash_tmpfs() {
        let t = parse_tmpfs("/run:size=65536k,mode=1777,exec,ro").unwrap();
        assert_eq!(t.destination, PathBuf::from("/run"));
        assert!(t.read_only);
        let Source::Tmpfs(options) = &t.source else {
            panic!()
        };
        assert_eq!(options.size, Some(64 << 20));
        assert!(options.exec);
        assert_eq!(options.data(), "size=67108864,mode=1777");
        assert!(parse_tmpfs("/run:size=1m,uid=0,foo").is_err());
        assert!(parse_tmpfs("/run:mode=9999").is_err());
        assert!(parse_tmpfs("run").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("2gb"), Some(2 << 30));
        assert_eq!(parse_size("1t"), None);
        assert_eq!(parse_size("m"), None);
    }
}
