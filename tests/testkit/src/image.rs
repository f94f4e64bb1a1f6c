//! Container images on disk, in the two formats minidock reads: an OCI image
//! layout directory and a `docker save` tar.
//!
//! The bytes are produced here with serde_json and the `tar` crate, not with
//! minidock, so that tests can compare minidock's view of an image with what
//! was really written — and with what umoci and skopeo make of it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::digest::{hex_of, sha256_digest};
use crate::layer::{Compression, Entry, LayerSpec};
use crate::rootfs::busybox_rootfs;

/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of an OCI image index (`index.json`).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Annotation naming a manifest's tag in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The `PATH` most images set, busybox's and Docker's default.
pub const DEFAULT_PATH_ENV: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// `created` of every config written here: fixed, for stable digests.
const CREATED: &str = "2024-01-01T00:00:00Z";

/// A declarative image: its layers (lowest first) and its run configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub layers: Vec<LayerSpec>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    /// `VOLUME` paths: each gets an anonymous volume in a container.
    pub volumes: Vec<String>,
    /// GOARCH-style name, default the host's (`amd64`, `arm64`, …).
    pub architecture: String,
    pub os: String,
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            layers: Vec::new(),
            cmd: Vec::new(),
            entrypoint: Vec::new(),
            env: Vec::new(),
            working_dir: String::new(),
            user: String::new(),
            volumes: Vec::new(),
            architecture: host_architecture().to_string(),
            os: "linux".to_string(),
        }
    }
}

/// The host's architecture as OCI names it (Go's GOARCH).
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// What was written for an image. All digests are `sha256:<hex>`.
#[derive(Debug, Clone, PartialEq)]
pub struct OciImage {
    /// The OCI layout directory, or for `write_docker_save` the tar file.
    pub dir: PathBuf,
    pub manifest_digest: String,
    pub config_digest: String,
    /// Digests of the layer blobs as stored (compressed).
    pub layer_digests: Vec<String>,
    /// sha256 of each uncompressed layer tar (the config's `rootfs.diff_ids`).
    pub diff_ids: Vec<String>,
    pub manifest: Value,
    pub config: Value,
}

/// The blobs of one image, ready to be written in either format.
struct Blobs {
    /// (digest, bytes) of config, layers and manifest.
    blobs: Vec<(String, Vec<u8>)>,
    manifest_bytes: Vec<u8>,
    image: OciImage,
}

impl ImageSpec {
    /// The uncompressed tar of layer `i` (for oracles and diff ids).
    pub fn layer_tar(&self, i: usize) -> Vec<u8> {
        self.layers
            .get(i)
            .unwrap_or_else(|| panic!("image has {} layers, no layer {i}", self.layers.len()))
            .tar()
    }

    /// The image config (`application/vnd.oci.image.config.v1+json`).
    fn config_json(&self, diff_ids: &[String]) -> Value {
        let mut config = serde_json::Map::new();
        let list = |v: &[String]| Value::from(v.to_vec());
        if !self.env.is_empty() {
            config.insert("Env".into(), list(&self.env));
        }
        if !self.entrypoint.is_empty() {
            config.insert("Entrypoint".into(), list(&self.entrypoint));
        }
        if !self.cmd.is_empty() {
            config.insert("Cmd".into(), list(&self.cmd));
        }
        if !self.working_dir.is_empty() {
            config.insert("WorkingDir".into(), self.working_dir.clone().into());
        }
        if !self.user.is_empty() {
            config.insert("User".into(), self.user.clone().into());
        }
        if !self.volumes.is_empty() {
            let paths: serde_json::Map<String, Value> = self
                .volumes
                .iter()
                .map(|p| (p.clone(), json!({})))
                .collect();
            config.insert("Volumes".into(), Value::Object(paths));
        }
        let history: Vec<Value> = (0..diff_ids.len())
            .map(|i| json!({"created": CREATED, "created_by": format!("minidock-testkit layer {i}")}))
            .collect();
        json!({
            "created": CREATED,
            "architecture": self.architecture,
            "os": self.os,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        })
    }

    /// Builds every blob. `force_uncompressed` is the `docker save` case.
    fn blobs(&self, force_uncompressed: bool) -> Blobs {
        let mut blobs = Vec::new();
        let mut layer_descs = Vec::new();
        let mut layer_digests = Vec::new();
        let mut diff_ids = Vec::new();
        for layer in &self.layers {
            let tar = layer.tar();
            diff_ids.push(sha256_digest(&tar));
            let compression = if force_uncompressed {
                Compression::None
            } else {
                layer.compression
            };
            let blob = compression.compress(&tar);
            let digest = sha256_digest(&blob);
            layer_descs.push(json!({
                "mediaType": compression.media_type(),
                "digest": digest,
                "size": blob.len(),
            }));
            layer_digests.push(digest.clone());
            blobs.push((digest, blob));
        }
        let config = self.config_json(&diff_ids);
        let config_bytes = serde_json::to_vec(&config).expect("serialize config");
        let config_digest = sha256_digest(&config_bytes);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": config_digest,
                "size": config_bytes.len(),
            },
            "layers": layer_descs,
        });
        let manifest_bytes = serde_json::to_vec(&manifest).expect("serialize manifest");
        let manifest_digest = sha256_digest(&manifest_bytes);
        blobs.push((config_digest.clone(), config_bytes));
        blobs.push((manifest_digest.clone(), manifest_bytes.clone()));
        Blobs {
            blobs,
            manifest_bytes,
            image: OciImage {
                dir: PathBuf::new(),
                manifest_digest,
                config_digest,
                layer_digests,
                diff_ids,
                manifest,
                config,
            },
        }
    }

    /// Writes the image into the OCI image layout `dir` (created if missing)
    /// under the tag `tag` (`org.opencontainers.image.ref.name` in
    /// `index.json`). Several images can share one layout: an existing
    /// `index.json` is kept and an older entry with the same tag replaced.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> OciImage {
        let Blobs {
            blobs,
            manifest_bytes,
            mut image,
        } = self.blobs(false);
        let blob_dir = dir.join("blobs/sha256");
        fs::create_dir_all(&blob_dir)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", blob_dir.display()));
        for (digest, bytes) in &blobs {
            write_file(&blob_dir.join(hex_of(digest)), bytes);
        }
        write_file(
            &dir.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        );

        let index_path = dir.join("index.json");
        let mut manifests: Vec<Value> = match fs::read(&index_path) {
            Ok(bytes) => {
                let index: Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", index_path.display()));
                index["manifests"].as_array().cloned().unwrap_or_default()
            }
            Err(_) => Vec::new(),
        };
        manifests.retain(|m| m["annotations"][REF_NAME] != tag);
        manifests.push(json!({
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": image.manifest_digest,
            "size": manifest_bytes.len(),
            "annotations": {REF_NAME: tag},
        }));
        let index = json!({
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": manifests,
        });
        write_file(&index_path, &serde_json::to_vec(&index).expect("index"));
        image.dir = dir.to_path_buf();
        image
    }

    /// Writes an image index (a multi-platform image) into the OCI layout
    /// `dir` under the tag `tag`: one entry per image already written there,
    /// each with its platform (`linux/arm64`, `linux/arm/v7`). Returns the
    /// index's digest.
    pub fn write_oci_index(dir: &Path, tag: &str, images: &[(&OciImage, &str)]) -> String {
        let entries: Vec<Value> = images
            .iter()
            .map(|(image, platform)| {
                let hex = hex_of(&image.manifest_digest);
                let path = dir.join("blobs/sha256").join(hex);
                let size = fs::metadata(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                    .len();
                let mut parts = platform.split('/');
                let mut platform = json!({
                    "os": parts.next().expect("an OS"),
                    "architecture": parts.next().expect("an architecture"),
                });
                if let Some(variant) = parts.next() {
                    platform["variant"] = json!(variant);
                }
                json!({
                    "mediaType": MANIFEST_MEDIA_TYPE,
                    "digest": image.manifest_digest,
                    "size": size,
                    "platform": platform,
                })
            })
            .collect();
        let bytes = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": entries,
        }))
        .expect("index");
        let digest = sha256_digest(&bytes);
        write_file(&dir.join("blobs/sha256").join(hex_of(&digest)), &bytes);
        let index_path = dir.join("index.json");
        let mut top: Value = serde_json::from_slice(
            &fs::read(&index_path).unwrap_or_else(|e| panic!("{}: {e}", index_path.display())),
        )
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", index_path.display()));
        let manifests = top["manifests"].as_array_mut().expect("manifests");
        manifests.retain(|m| m["annotations"][REF_NAME] != tag);
        manifests.push(json!({
            "mediaType": INDEX_MEDIA_TYPE,
            "digest": digest,
            "size": bytes.len(),
            "annotations": {REF_NAME: tag},
        }));
        write_file(&index_path, &serde_json::to_vec(&top).expect("index.json"));
        digest
    }

    /// Writes the image as `docker save` (Docker 25 and later) does: a tar
    /// holding both the legacy format (`manifest.json` with
    /// `Config`/`RepoTags`/`Layers`, `repositories`) and an OCI layout
    /// (`oci-layout`, `index.json`), all pointing at `blobs/sha256/<hex>`.
    /// Layers are stored uncompressed, as Docker stores them.
    pub fn write_docker_save(&self, tar_path: &Path, repo_tag: &str) -> OciImage {
        let Blobs {
            blobs,
            manifest_bytes,
            mut image,
        } = self.blobs(true);
        let (repo, tag) = split_repo_tag(repo_tag);
        let blob_path = |digest: &str| format!("blobs/sha256/{}", hex_of(digest));

        let legacy = json!([{
            "Config": blob_path(&image.config_digest),
            "RepoTags": [format!("{repo}:{tag}")],
            "Layers": image.layer_digests.iter().map(|d| blob_path(d)).collect::<Vec<_>>(),
        }]);
        let mut repositories = serde_json::Map::new();
        if let Some(top) = image.layer_digests.last() {
            repositories.insert(repo.clone(), json!({ tag.clone(): hex_of(top) }));
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": [{
                "mediaType": MANIFEST_MEDIA_TYPE,
                "digest": image.manifest_digest,
                "size": manifest_bytes.len(),
                "annotations": {
                    "io.containerd.image.name": docker_reference(&repo, &tag),
                    REF_NAME: tag,
                },
            }],
        });

        let mut out = tar::Builder::new(Vec::new());
        let add_dir = |out: &mut tar::Builder<Vec<u8>>, path: &str| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            h.set_mtime(crate::layer::LAYER_MTIME);
            out.append_data(&mut h, path, std::io::empty())
                .unwrap_or_else(|e| panic!("docker save tar: {e}"));
        };
        add_dir(&mut out, "blobs/");
        add_dir(&mut out, "blobs/sha256/");
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (digest, bytes) in blobs {
            files.insert(blob_path(&digest), bytes);
        }
        files.insert(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        files.insert("index.json".into(), serde_json::to_vec(&index).unwrap());
        files.insert("manifest.json".into(), serde_json::to_vec(&legacy).unwrap());
        files.insert(
            "repositories".into(),
            serde_json::to_vec(&repositories).unwrap(),
        );
        for (path, bytes) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(bytes.len() as u64);
            h.set_mtime(crate::layer::LAYER_MTIME);
            out.append_data(&mut h, path, bytes.as_slice())
                .unwrap_or_else(|e| panic!("docker save tar, {path}: {e}"));
        }
        let bytes = out.into_inner().expect("finish docker save tar");
        write_file(tar_path, &bytes);
        image.dir = tar_path.to_path_buf();
        image
    }
}

/// `"busybox:1.36"` → (`"busybox"`, `"1.36"`); the tag defaults to
/// `latest`, and a registry port (`host:5000/x`) is not mistaken for a tag.
fn split_repo_tag(repo_tag: &str) -> (String, String) {
    match repo_tag.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (repo_tag.to_string(), "latest".to_string()),
    }
}

/// The fully qualified name Docker writes for `io.containerd.image.name`.
fn docker_reference(repo: &str, tag: &str) -> String {
    let first = repo.split('/').next().unwrap_or_default();
    let has_registry =
        repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        repo.to_string()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    format!("{full}:{tag}")
}

fn write_file(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The busybox image: one gzip layer holding `busybox_rootfs`, `Cmd`
/// `["sh"]` and the usual `PATH`, like `docker.io/library/busybox`. It is the
/// image every end-to-end test runs, built offline from the host's binary.
pub fn busybox_image() -> ImageSpec {
    let dir = tempfile::tempdir().expect("create a temp dir for the busybox rootfs");
    busybox_rootfs(dir.path());
    ImageSpec {
        layers: vec![LayerSpec::new(
            Compression::Gzip,
            entries_of_dir(dir.path()),
        )],
        cmd: vec!["sh".into()],
        env: vec![DEFAULT_PATH_ENV.into()],
        ..ImageSpec::default()
    }
}

/// The entries of a directory tree, parents before children, sorted by
/// path, so a directory on disk becomes a reproducible layer.
pub fn entries_of_dir(root: &Path) -> Vec<Entry> {
    let mut entries = Vec::new();
    for item in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let item = item.unwrap_or_else(|e| panic!("walk {}: {e}", root.display()));
        let rel = item
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under its root")
            .to_str()
            .unwrap_or_else(|| panic!("{} is not UTF-8", item.path().display()))
            .to_string();
        let meta = item
            .path()
            .symlink_metadata()
            .unwrap_or_else(|e| panic!("stat {}: {e}", item.path().display()));
        let mode = meta.permissions().mode() & 0o7777;
        let ft = meta.file_type();
        if ft.is_dir() {
            entries.push(Entry::dir(&rel, mode));
        } else if ft.is_symlink() {
            let target = fs::read_link(item.path())
                .unwrap_or_else(|e| panic!("readlink {}: {e}", item.path().display()));
            entries.push(Entry::symlink(&rel, target.to_str().expect("UTF-8 link")));
        } else if ft.is_file() {
            let contents = fs::read(item.path())
                .unwrap_or_else(|e| panic!("read {}: {e}", item.path().display()));
            entries.push(Entry::file(&rel, contents, mode));
        } else {
            panic!("{} is neither file, dir nor symlink", item.path().display());
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::{docker_reference, split_repo_tag};

    #[test]
    fn repo_tags_split_like_docker_does() {
        let split = |s| split_repo_tag(s);
        assert_eq!(split("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(split("busybox:1.36"), ("busybox".into(), "1.36".into()));
        assert_eq!(
            split("localhost:5000/x/y"),
            ("localhost:5000/x/y".into(), "latest".into())
        );
        assert_eq!(
            docker_reference("busybox", "1"),
            "docker.io/library/busybox:1"
        );
        assert_eq!(docker_reference("me/app", "1"), "docker.io/me/app:1");
        assert_eq!(
            docker_reference("localhost:5000/app", "1"),
            "localhost:5000/app:1"
        );
    }
}
