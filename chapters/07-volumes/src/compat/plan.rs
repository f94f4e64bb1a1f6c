//! From a create request's many mount fields to what the runtime mounts.
//!
//! Precedence is Docker's: the mounts a request names itself (`Binds`,
//! `Mounts`, `Tmpfs`) come first, and two of them at one destination are
//! an error; `--volumes-from` fills destinations still free; `Config.Volumes`
//! and the image's `VOLUME` get an anonymous volume only where nothing else
//! is mounted.

use super::api::api_error;
use crate::error::Error;
use crate::mountspec::{self, MountSpec, Source, TmpfsOptions};
use crate::name;
use crate::store::{VolumeStore, ANONYMOUS_LABEL};
use minidock_daemon::types::MountPoint;
use minidock_daemon::volumes::{ContainerMounts, MountRequest};
use minidock_daemon::ApiResult;
use minidock_lifecycle::config::{Bind, TmpfsMount};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One entry of the API's `HostConfig.Mounts`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ApiMount {
    #[serde(rename = "Type")]
    kind: String,
    source: String,
    target: String,
    read_only: bool,
    bind_options: Option<BindOptions>,
    volume_options: Option<VolumeOptions>,
    tmpfs_options: Option<TmpfsApiOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct BindOptions {
    propagation: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct VolumeOptions {
    no_copy: bool,
    labels: Option<BTreeMap<String, String>>,
    driver_config: Option<DriverConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DriverConfig {
    name: String,
    options: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TmpfsApiOptions {
    size_bytes: i64,
    /// Unix permission bits as a number (Go's `os.FileMode`).
    mode: u32,
}

/// What a named volume made on first use gets (`--mount`'s volume options).
#[derive(Debug, Clone, Default)]
struct NewVolume {
    labels: BTreeMap<String, String>,
    driver_options: BTreeMap<String, String>,
}

/// An API `Mount` object as a [`MountSpec`], checked like `--mount`.
fn api_mount(value: &serde_json::Value) -> Result<(MountSpec, NewVolume), Error> {
    let spec = value.to_string();
    let invalid = |reason: String| Error::InvalidMount {
        spec: spec.clone(),
        reason,
    };
    let m: ApiMount = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("not a Mount object: {e}")))?;
    let mut text = format!("type={},target={}", m.kind, m.target);
    if !m.source.is_empty() {
        text.push_str(&format!(",source={}", m.source));
    }
    if m.read_only {
        text.push_str(",readonly");
    }
    if let Some(b) = m.bind_options.filter(|b| !b.propagation.is_empty()) {
        text.push_str(&format!(",bind-propagation={}", b.propagation));
    }
    let mut new = NewVolume::default();
    if let Some(v) = m.volume_options {
        if v.no_copy {
            text.push_str(",volume-nocopy");
        }
        new.labels = v.labels.unwrap_or_default();
        if let Some(driver) = v.driver_config {
            if !driver.name.is_empty() && driver.name != "local" {
                return Err(invalid(format!(
                    "volume driver {:?} is not available: minidock has the local driver only",
                    driver.name
                )));
            }
            new.driver_options = driver.options.unwrap_or_default();
        }
    }
    if let Some(t) = m.tmpfs_options {
        if t.size_bytes > 0 {
            text.push_str(&format!(",tmpfs-size={}", t.size_bytes));
        }
        if t.mode != 0 {
            text.push_str(&format!(",tmpfs-mode={:o}", t.mode & 0o7777));
        }
    }
    // A comma inside a value would be read as another field.
    if [&m.kind, &m.source, &m.target]
        .iter()
        .any(|v| v.contains(','))
    {
        return Err(invalid("a field contains ','".to_string()));
    }
    Ok((
        mountspec::parse_mount(&text).map_err(|e| match e {
            Error::InvalidMount { reason, .. } => invalid(reason),
            other => other,
        })?,
        new,
    ))
}

/// The mounts of one create request, parsed and in Docker's precedence,
/// before anything exists.
fn gather(request: &MountRequest) -> Result<Vec<(MountSpec, NewVolume)>, Error> {
    let mut mounts: Vec<(MountSpec, NewVolume)> = Vec::new();
    let duplicate = |mounts: &[(MountSpec, NewVolume)], spec: &MountSpec| {
        if mounts
            .iter()
            .any(|(m, _)| m.destination == spec.destination)
        {
            Err(Error::InvalidMount {
                spec: spec.destination.display().to_string(),
                reason: "Duplicate mount point: two mounts at one destination".to_string(),
            })
        } else {
            Ok(())
        }
    };
    for bind in &request.binds {
        let spec = mountspec::parse_volume(bind)?;
        duplicate(&mounts, &spec)?;
        mounts.push((spec, NewVolume::default()));
    }
    for value in &request.mounts {
        let (spec, new) = api_mount(value)?;
        duplicate(&mounts, &spec)?;
        mounts.push((spec, new));
    }
    for (dest, options) in &request.tmpfs {
        let spec = mountspec::tmpfs_with_options(&format!("{dest}:{options}"), dest, options)?;
        duplicate(&mounts, &spec)?;
        mounts.push((spec, NewVolume::default()));
    }
    let taken = |mounts: &[(MountSpec, NewVolume)], dest: &Path| {
        mounts.iter().any(|(m, _)| m.destination == dest)
    };
    for from in &request.volumes_from {
        for point in &from.mounts {
            let destination = PathBuf::from(&point.destination);
            let (source, propagation) = match (point.kind.as_str(), &point.name) {
                ("volume", Some(name)) => (Source::Volume(Some(name.clone())), None),
                // a bind keeps the propagation the other container gave it
                ("bind", _) => (
                    Source::Bind(PathBuf::from(&point.source)),
                    point.propagation.parse().ok(),
                ),
                _ => continue, // a tmpfs is the other container's own
            };
            if taken(&mounts, &destination) {
                continue;
            }
            mounts.push((
                MountSpec {
                    source,
                    destination,
                    read_only: from.read_only.unwrap_or(!point.rw),
                    nocopy: true,
                    propagation,
                },
                NewVolume::default(),
            ));
        }
    }
    for path in &request.volumes {
        let destination = mountspec::destination(path, path)?;
        if !taken(&mounts, &destination) {
            let spec = MountSpec {
                source: Source::Volume(None),
                destination,
                read_only: false,
                nocopy: false,
                propagation: None,
            };
            mounts.push((spec, NewVolume::default()));
        }
    }
    Ok(mounts)
}

// ANCHOR: plan
/// Plans a container's mounts: checks them all, then makes the volumes
/// that do not exist yet (named ones on first use, a fresh anonymous one
/// for each anonymous mount). If making one fails, those made are removed.
pub fn plan(store: &VolumeStore, request: &MountRequest) -> ApiResult<ContainerMounts> {
    let specs = gather(request).map_err(api_error)?;
    let mut out = ContainerMounts::default();
    let made = (|| {
        for (spec, new) in &specs {
            let read_only = spec.read_only;
            let destination = spec.destination.clone();
            let mode = if read_only { "ro" } else { "" }.to_string();
            match &spec.source {
                Source::Bind(source) => {
                    let propagation = spec.propagation.unwrap_or_default();
                    out.binds.push(Bind {
                        source: source.clone(),
                        destination: destination.clone(),
                        read_only,
                        propagation,
                    });
                    out.points.push(MountPoint {
                        kind: "bind".to_string(),
                        source: source.display().to_string(),
                        destination: destination.display().to_string(),
                        mode,
                        rw: !read_only,
                        propagation: propagation.to_string(),
                        ..Default::default()
                    });
                }
                Source::Tmpfs(options) => {
                    out.tmpfs
                        .push(tmpfs_mount(&destination, options, read_only));
                    out.points.push(MountPoint {
                        kind: "tmpfs".to_string(),
                        destination: destination.display().to_string(),
                        mode,
                        rw: !read_only,
                        ..Default::default()
                    });
                }
                Source::Volume(name) => {
                    let (info, made) = match name {
                        // An existing volume is used as it is; a missing
                        // one is made with the mount's volume options.
                        Some(name) => match store.get(name) {
                            Ok(info) => (info, false),
                            Err(Error::NotFound(_)) => store.create(
                                name,
                                "local",
                                new.driver_options.clone(),
                                new.labels.clone(),
                            )?,
                            Err(err) => return Err(err),
                        },
                        None => store.create(
                            &name::anonymous(),
                            "local",
                            BTreeMap::new(),
                            BTreeMap::from([(ANONYMOUS_LABEL.to_string(), String::new())]),
                        )?,
                    };
                    if made {
                        out.created.push(info.name.clone());
                    }
                    if !spec.nocopy {
                        out.copy_up.push(info.name.clone());
                    }
                    out.binds.push(Bind {
                        source: info.source(),
                        destination: destination.clone(),
                        read_only,
                        propagation: Default::default(),
                    });
                    out.points.push(MountPoint {
                        kind: "volume".to_string(),
                        name: Some(info.name.clone()),
                        source: info.mountpoint.display().to_string(),
                        destination: destination.display().to_string(),
                        driver: Some(info.driver.clone()),
                        mode,
                        rw: !read_only,
                        propagation: String::new(),
                    });
                }
            }
        }
        Ok::<(), Error>(())
    })();
    if let Err(err) = made {
        for name in &out.created {
            store.remove(name).ok();
        }
        return Err(api_error(err));
    }
    Ok(out)
}
// ANCHOR_END: plan

/// Chapter 01's tmpfs mount for a tmpfs spec.
fn tmpfs_mount(destination: &Path, options: &TmpfsOptions, read_only: bool) -> TmpfsMount {
    TmpfsMount {
        destination: destination.to_path_buf(),
        data: options.data(),
        read_only,
        noexec: !options.exec,
    }
}

/// Refuses with a 400 when a mount's destination is a symlink in the
/// container's root file system.
pub fn check_destinations(rootfs: &Path, points: &[MountPoint]) -> ApiResult<()> {
    for point in points {
        crate::copyup::resolve_in_root(rootfs, Path::new(&point.destination)).map_err(api_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidock_daemon::volumes::VolumesFrom;
    use minidock_daemon::ApiError;
    use serde_json::json;

    #[test]
    fn precedence_and_duplicates() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        let request = MountRequest {
            binds: vec!["data:/db:ro".into(), "/tmp:/host".into()],
            mounts: vec![json!({"Type": "tmpfs", "Target": "/cache",
                "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 0o1770}})],
            tmpfs: BTreeMap::from([("/run".to_string(), "size=64k".to_string())]),
            volumes: vec!["/db".into(), "/anon".into()],
            volumes_from: vec![VolumesFrom {
                mounts: vec![MountPoint {
                    kind: "volume".into(),
                    name: Some("shared".into()),
                    destination: "/shared".into(),
                    rw: true,
                    ..Default::default()
                }],
                read_only: Some(true),
            }],
        };
        let planned = plan(&store, &request).unwrap();
        let kinds: Vec<_> = planned
            .points
            .iter()
            .map(|p| format!("{} {} {}", p.kind, p.destination, p.rw))
            .collect();
        assert_eq!(
            kinds,
            [
                "volume /db false",
                "bind /host true",
                "tmpfs /cache true",
                "tmpfs /run true",
                "volume /shared false",
                "volume /anon true"
            ]
        );
        assert_eq!(planned.tmpfs[0].data, "size=1048576,mode=1770");
        // data, shared (volumes-from names a volume that did not exist) and one anonymous
        assert_eq!(planned.created.len(), 3);
        assert_eq!(store.list().0.len(), 3);
        let anonymous = planned.points[5].name.clone().unwrap();
        assert!(store.get(&anonymous).unwrap().is_anonymous());
        assert!(!store.get("data").unwrap().is_anonymous());
        // --volumes-from never copies up
        assert_eq!(planned.copy_up, ["data".to_string(), anonymous]);
    }

    #[test]
    fn a_bad_mount_makes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        for request in [
            MountRequest {
                binds: vec!["good:/a".into(), "../evil:/b".into()],
                ..Default::default()
            },
            MountRequest {
                binds: vec!["good:/a".into(), "other:/a".into()],
                ..Default::default()
            },
            MountRequest {
                binds: vec!["good:/a".into()],
                mounts: vec![json!({"Type": "volume", "Source": "x1", "Target": "/b",
                    "VolumeOptions": {"DriverConfig": {"Name": "nfs"}}})],
                ..Default::default()
            },
        ] {
            assert!(matches!(
                plan(&store, &request),
                Err(ApiError::BadParameter(_))
            ));
            assert!(store.list().0.is_empty());
        }
    }
}
