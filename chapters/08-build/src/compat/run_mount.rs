//! `RUN --mount=…`: what BuildKit lets a RUN step mount, for the kinds a
//! single-host builder can honour.
//!
//! | `type=`  | what the step sees                                   | in the image? |
//! |----------|------------------------------------------------------|---------------|
//! | `cache`  | a directory kept by the builder between builds (`id`, else the target, names it) | no |
//! | `bind`   | a path of the build context, read-only               | no            |
//! | `tmpfs`  | a fresh tmpfs (`size=`)                              | no            |
//!
//! None of them is part of the layer: they are mounts over the container's
//! root file system, not writes into its upper directory. `secret` and
//! `ssh` need a client that sends them, which the classic API has no way
//! to do: they are refused by name.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// One `--mount` of a RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// `type=cache,target=/root/.cache[,id=…][,ro]`.
    Cache {
        /// What names the directory (the target when no `id`).
        id: String,
        /// Where the step sees it.
        target: PathBuf,
        /// `ro`/`readonly`.
        read_only: bool,
    },
    /// `type=bind,target=/src[,source=dir]`: the context's `source`.
    Bind {
        /// Path in the build context (`.` when not given).
        source: String,
        /// Where the step sees it.
        target: PathBuf,
    },
    /// `type=tmpfs,target=/t[,size=bytes]`.
    Tmpfs {
        /// Where the step sees it.
        target: PathBuf,
        /// `size=` as given.
        size: Option<String>,
    },
}

/// Parses the value of one `--mount=` flag of a RUN.
pub fn parse(spec: &str) -> Result<RunMount, String> {
    let bad = |why: String| Err(format!("--mount={spec}: {why}"));
    let mut kind = "bind";
    let mut target = None;
    let mut source = None;
    let mut id = None;
    let mut size = None;
    let mut read_only = None;
    for field in spec.split(',') {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field, None),
        };
        match (key, value) {
            ("type", Some(v)) => kind = v,
            ("target" | "dst" | "destination", Some(v)) => target = Some(v),
            ("source" | "src", Some(v)) => source = Some(v),
            ("id", Some(v)) => id = Some(v),
            ("size", Some(v)) => size = Some(v.to_string()),
            ("ro" | "readonly", None) => read_only = Some(true),
            ("ro" | "readonly", Some(v)) => read_only = Some(v == "true"),
            ("rw" | "readwrite", None) => read_only = Some(false),
            ("rw" | "readwrite", Some(v)) => read_only = Some(v != "true"),
            // sharing between concurrent builds: ours are serial per cache
            ("sharing" | "mode" | "uid" | "gid", Some(_)) if kind == "cache" => {}
            ("from", Some(_)) => {
                return bad(
                    "from= is not supported: COPY --from the stage into this one first".into(),
                )
            }
            _ => return bad(format!("unknown or malformed field {field:?}")),
        }
    }
    if matches!(kind, "secret" | "ssh") {
        return bad(format!(
            "type={kind} needs BuildKit's session with the client, which the classic \
             builder API has not: pass what the step needs as a build arg or a context file"
        ));
    }
    let Some(target) = target.filter(|t| t.starts_with('/')) else {
        return bad("target=/absolute/path is required".into());
    };
    let target = PathBuf::from(target);
    match kind {
        "cache" => Ok(RunMount::Cache {
            id: id.unwrap_or(&target.display().to_string()).to_string(),
            target,
            read_only: read_only.unwrap_or(false),
        }),
        "bind" => {
            if read_only == Some(false) {
                return bad(
                    "rw binds are not supported: the step's writes there would be lost; \
                     COPY the files in instead"
                        .into(),
                );
            }
            Ok(RunMount::Bind {
                source: source.unwrap_or(".").to_string(),
                target,
            })
        }
        "tmpfs" => Ok(RunMount::Tmpfs { target, size }),
        other => bad(format!("type={other} is not one of cache, bind, tmpfs")),
    }
}

/// The mount points of `targets` that the image at `root` (a container's
/// merged root, before it runs) does not have: each target and each of its
/// parents that is missing, relative to the root, deepest first. The
/// runtime creates them to mount on, in the container's upper directory:
/// left there, they would end up in the step's layer as empty directories
/// the Dockerfile never made. A path that crosses a symlink is left alone.
pub fn missing_mount_points(root: &Path, targets: &[PathBuf]) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    for target in targets {
        if target.components().any(|c| c == Component::ParentDir) {
            continue; // not a plain path: leave it alone
        }
        let mut rel = PathBuf::new();
        for part in target.components() {
            let Component::Normal(name) = part else {
                continue;
            };
            rel.push(name);
            match fs::symlink_metadata(root.join(&rel)) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(_) => break, // a symlink or a file: not ours to judge
                Err(_) => {
                    if !missing.contains(&rel) {
                        missing.push(rel.clone());
                    }
                }
            }
        }
    }
    // deepest first, so a parent is empty by the time it is looked at
    missing.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    missing
}

/// Removes from `upper` (a stopped container's upper directory) the mount
/// points of [`missing_mount_points`] that are still empty directories.
/// One the step wrote into stays, with what it wrote. Every part of each
/// path is checked to be a real directory first, never a symlink the step
/// may have planted: nothing outside `upper` is touched.
pub fn remove_mount_points(upper: &Path, created: &[PathBuf]) -> std::io::Result<()> {
    for rel in created {
        let mut path = upper.to_path_buf();
        let mut plain = true;
        for part in rel.components() {
            path.push(part);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {}
                _ => {
                    plain = false;
                    break;
                }
            }
        }
        if !plain {
            continue;
        }
        match fs::remove_dir(&path) {
            Ok(()) => {}
            // not empty: the step put something there
            Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The directory a cache mount's `id` names, below the builder's `dir`:
/// the id is hashed, so no id can name a path outside it.
pub fn cache_dir(dir: &std::path::Path, id: &str) -> PathBuf {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(id.as_bytes()));
    dir.join("run-cache").join(&hash[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_defaults() {
        assert_eq!(
            parse("type=cache,target=/root/.cache").unwrap(),
            RunMount::Cache {
                id: "/root/.cache".into(),
                target: "/root/.cache".into(),
                read_only: false
            }
        );
        assert_eq!(
            parse("target=/src,source=app,ro").unwrap(),
            RunMount::Bind {
                source: "app".into(),
                target: "/src".into()
            }
        );
        assert_eq!(
            parse("type=tmpfs,dst=/t,size=1m").unwrap(),
            RunMount::Tmpfs {
                target: "/t".into(),
                size: Some("1m".into())
            }
        );
    }

    #[test]
    fn only_the_mount_points_the_image_lacked_are_removed_and_only_if_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (root, upper) = (dir.path().join("root"), dir.path().join("upper"));
        fs::create_dir_all(root.join("etc")).unwrap();
        std::os::unix::fs::symlink("/", root.join("link")).unwrap();
        let targets: Vec<PathBuf> = ["/etc/deep/er", "/made/here", "/etc", "/link/x", "/a/../b"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let missing = missing_mount_points(&root, &targets);
        let shown: Vec<&str> = missing.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(shown, ["etc/deep/er", "etc/deep", "made/here", "made"]);

        // after the run: etc/deep/er empty, made/here written into
        for d in ["etc/deep/er", "made/here", "a"] {
            fs::create_dir_all(upper.join(d)).unwrap();
        }
        fs::write(upper.join("made/here/file"), "kept").unwrap();
        remove_mount_points(&upper, &missing).unwrap();
        assert!(!upper.join("etc/deep").exists());
        assert!(upper.join("etc").is_dir(), "the image had it");
        assert!(upper.join("made/here/file").exists());
        assert!(upper.join("a").is_dir(), "not a mount point of ours");

        // a symlink planted where a mount point was: never followed
        let outside = dir.path().join("outside");
        fs::create_dir_all(outside.join("er")).unwrap();
        fs::create_dir_all(upper.join("etc")).unwrap();
        std::os::unix::fs::symlink(&outside, upper.join("etc/deep")).unwrap();
        remove_mount_points(&upper, &missing).unwrap();
        assert!(outside.join("er").is_dir());
    }

    #[test]
    fn what_cannot_be_done_is_refused_by_name() {
        for (spec, says) in [
            ("type=secret,id=npm,target=/run/secrets/npm", "BuildKit"),
            ("type=ssh", "BuildKit"),
            ("type=bind,target=/s,rw", "rw binds"),
            ("type=bind,target=/s,from=build", "from="),
            ("type=cache", "target="),
            ("type=cache,target=rel", "target="),
            ("type=nfs,target=/x", "type=nfs"),
            ("type=cache,target=/x,bogus=1", "bogus"),
        ] {
            let err = parse(spec).unwrap_err();
            assert!(err.contains(says), "{spec}: {err}");
        }
        let a = cache_dir(std::path::Path::new("/b"), "../../etc");
        assert!(a.starts_with("/b/run-cache"), "{}", a.display());
    }
}
