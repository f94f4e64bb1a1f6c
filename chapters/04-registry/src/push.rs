//! Push: from an image in the store to a registry.
//!
//! Blobs go first, the manifest last — a registry refuses a manifest whose
//! blobs it does not have, and once the manifest is there the tag works.
//!
//! ```text
//! HEAD /v2/NAME/blobs/sha256:…                      200: already there, skip
//! POST /v2/NAME/blobs/uploads/?mount=sha256:…&from=OTHER
//!                                                   201: mounted from OTHER, no upload
//! POST /v2/NAME/blobs/uploads/                      202 + Location: an upload session
//! PUT  LOCATION&digest=sha256:…   (the whole blob)  201
//!   or PATCH LOCATION (8 MiB chunks, each answer has the next Location), then PUT
//! PUT  /v2/NAME/manifests/TAG  Content-Type: the manifest's media type
//! ```

use std::io::Read;

use minidock_images::{Digest, Image, Reference, Store};

use crate::client::{header, resolve_location, Repo, Req};
use crate::error::{RegistryError, Result};
use crate::manifest::{parse_manifest, Descriptor, ManifestKind, OCI_MANIFEST};
use crate::progress::{Progress, ProgressFn};
use crate::Client;

/// Blobs up to this size are uploaded in one `PUT`; larger ones in
/// `PATCH` chunks of this size, so a huge layer is never one request body.
pub const CHUNK_SIZE: u64 = 8 << 20;

/// Choices for a push.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Other repositories on the same registry that may already hold the
    /// image's blobs (where it was pulled from): blobs are *mounted* from
    /// them instead of uploaded.
    pub mount_from: Vec<String>,
}

/// How a blob got to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPush {
    /// The registry had it already.
    Exists,
    /// Mounted from another repository: no bytes sent.
    Mounted,
    /// Uploaded.
    Uploaded,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// Where the image went.
    pub reference: Reference,
    /// The digest of the pushed manifest (the same as in the store).
    pub manifest_digest: Digest,
    /// Each blob (config first, then layers) and how it got there.
    pub blobs: Vec<(Digest, BlobPush)>,
}

impl Client {
    // ANCHOR: push
    // ANCHOR: push_manifest_read
    /// Pushes the image whose manifest is `manifest_digest` in `store` to
    /// `target` (its tag, or just by digest when it has none).
    pub fn push(
        &self,
        store: &Store,
        manifest_digest: &Digest,
        target: &Reference,
        options: &PushOptions,
        progress: ProgressFn<'_>,
    ) -> Result<Pushed> {
        let mut repo = self.repo(target.domain(), target.path(), true);
        for other in options.mount_from.iter().filter(|o| *o != target.path()) {
            repo.add_pull_scope(other);
        }
        let bytes = store
            .read_blob(manifest_digest)
            .map_err(RegistryError::store(format!(
                "read manifest {manifest_digest}"
            )))?;
        let manifest = match parse_manifest(None, &bytes) {
            Ok(ManifestKind::Manifest(m)) => m,
            Ok(ManifestKind::Index(_)) => {
                return Err(repo.bad_manifest(
                    &manifest_digest.to_string(),
                    "pushing an index is not supported",
                ))
            }
            Err(reason) => return Err(repo.bad_manifest(&manifest_digest.to_string(), &reason)),
        };

        // ANCHOR_END: push_manifest_read
        // ANCHOR: push_blobs_manifest
        let mut blobs = Vec::new();
        for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
            let how = repo.push_blob(store, blob, &options.mount_from, progress)?;
            blobs.push((blob.digest.clone(), how));
        }

        let media_type = manifest.media_type.as_deref().unwrap_or(OCI_MANIFEST);
        let by = target
            .tag()
            .map(str::to_string)
            .unwrap_or_else(|| manifest_digest.to_string());
        let req = Req::new("PUT", repo.url(&format!("manifests/{by}")))
            .header("Content-Type", media_type)
            .body(&bytes);
        let resp = repo.send(&req)?;
        if resp.status() != 201 && resp.status() != 200 {
            return Err(repo.status_error(&req, resp, &format!("manifest {by}")));
        }
        if let Some(announced) = header(&resp, "docker-content-digest") {
            if announced != manifest_digest.to_string() {
                return Err(RegistryError::ManifestDigest {
                    registry: repo.endpoint.domain.clone(),
                    repository: repo.name.clone(),
                    reference: by,
                    expected: manifest_digest.to_string(),
                    actual: announced.parse().map_err(|_| {
                        RegistryError::Invalid(format!("registry answered digest {announced:?}"))
                    })?,
                });
            }
        }
        progress(Progress::Done {
            digest: manifest_digest.clone(),
        });
        Ok(Pushed {
            reference: target.clone(),
            manifest_digest: manifest_digest.clone(),
            blobs,
        })
    }
    // ANCHOR_END: push_blobs_manifest
    // ANCHOR_END: push

    /// Pushes an image of the store to `target`, mounting blobs from the
    /// other repositories of the same registry the image is tagged in
    /// (where it was most likely pulled from).
    pub fn push_image(
        &self,
        store: &Store,
        image: &Image,
        target: &Reference,
        progress: ProgressFn<'_>,
    ) -> Result<Pushed> {
        let options = PushOptions {
            mount_from: mount_sources(image, target),
        };
        self.push(store, &image.manifest_digest, target, &options, progress)
    }
}

// ANCHOR: mount_has_blob
/// The repositories on `target`'s registry, other than its own, in which
/// `image` is tagged: candidates for cross-repository mounts.
pub fn mount_sources(image: &Image, target: &Reference) -> Vec<String> {
    let mut repos: Vec<String> = image
        .references
        .iter()
        .filter(|r| r.domain() == target.domain() && r.path() != target.path())
        .map(|r| r.path().to_string())
        .collect();
    repos.sort();
    repos.dedup();
    repos
}

impl Repo<'_> {
    /// `HEAD /v2/NAME/blobs/DIGEST`: does the registry have this blob?
    pub fn has_blob(&self, digest: &Digest) -> Result<bool> {
        let req = Req::new("HEAD", self.url(&format!("blobs/{digest}")));
        let resp = self.send(&req)?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.status_error(&req, resp, &format!("blob {digest}"))),
        }
    }
    // ANCHOR_END: mount_has_blob

    // ANCHOR: push_blob_mount
    /// Gets one blob to the registry: skip, mount or upload.
    fn push_blob(
        &self,
        store: &Store,
        blob: &Descriptor,
        mount_from: &[String],
        progress: ProgressFn<'_>,
    ) -> Result<BlobPush> {
        let digest = &blob.digest;
        if self.has_blob(digest)? {
            progress(Progress::LayerExists {
                digest: digest.clone(),
            });
            return Ok(BlobPush::Exists);
        }
        // Try to mount from a repository that may have it (the first one:
        // each try opens an upload session). A refused mount (202) still
        // opens an upload session that we use.
        let mut session = None;
        if let Some(from) = mount_from.iter().find(|f| **f != self.name) {
            let url = format!(
                "{}?mount={digest}&from={}",
                self.url("blobs/uploads/"),
                crate::auth::percent_encode(from)
            );
            let req = Req::new("POST", url);
            let resp = self.send(&req)?;
            match resp.status().as_u16() {
                201 => {
                    progress(Progress::LayerExists {
                        digest: digest.clone(),
                    });
                    return Ok(BlobPush::Mounted);
                }
                202 => session = Some(self.location(&req, &resp)?),
                _ => {
                    let what = format!("mount of blob {digest} from {from}");
                    return Err(self.status_error(&req, resp, &what));
                }
            }
        }
        // ANCHOR_END: push_blob_mount
        // ANCHOR: push_blob_upload
        let location = match session {
            Some(l) => l,
            None => {
                let req = Req::new("POST", self.url("blobs/uploads/"));
                let resp = self.send(&req)?;
                if resp.status() != 202 {
                    return Err(self.status_error(&req, resp, &format!("upload of blob {digest}")));
                }
                self.location(&req, &resp)?
            }
        };
        progress(Progress::LayerStart {
            digest: digest.clone(),
            size: blob.size,
        });
        self.upload(store, blob, location, progress)?;
        progress(Progress::LayerDone {
            digest: digest.clone(),
        });
        Ok(BlobPush::Uploaded)
    }

    /// The upload session URL of a `202` answer, made absolute.
    fn location(&self, req: &Req<'_>, resp: &crate::client::Response) -> Result<String> {
        let loc = header(resp, "location").ok_or_else(|| RegistryError::Unexpected {
            registry: self.endpoint.domain.clone(),
            method: req.method.to_string(),
            url: req.url.clone(),
            status: resp.status().as_u16(),
            detail: "no Location header for the upload session".into(),
        })?;
        Ok(resolve_location(&req.url, loc))
    }
    // ANCHOR_END: push_blob_upload

    // ANCHOR: upload
    /// Sends the bytes of `blob` to the upload session at `location`: one
    /// `PUT` for small blobs, `PATCH` chunks then a closing `PUT` for big ones.
    fn upload(
        &self,
        store: &Store,
        blob: &Descriptor,
        mut location: String,
        progress: ProgressFn<'_>,
    ) -> Result<()> {
        let digest = &blob.digest;
        let what = format!("upload of blob {digest}");
        let store_err = RegistryError::store(format!("read blob {digest}"));
        if blob.size <= CHUNK_SIZE {
            let bytes = store.read_blob(digest).map_err(store_err)?;
            let req = Req::new("PUT", upload_url(&location, &location, digest))
                .header("Content-Type", "application/octet-stream")
                .body(&bytes);
            let resp = self.send(&req)?;
            if resp.status() != 201 {
                return Err(self.status_error(&req, resp, &what));
            }
            progress(Progress::LayerProgress {
                digest: digest.clone(),
                current: blob.size,
                total: blob.size,
            });
            return Ok(());
        }
        let mut file = store.open_blob(digest).map_err(store_err)?;
        let mut chunk = vec![0u8; CHUNK_SIZE as usize];
        let mut sent = 0u64;
        while sent < blob.size {
            let n = read_full(&mut file, &mut chunk).map_err(|e| RegistryError::Store {
                context: format!("read blob {digest}"),
                source: minidock_images::Error::Io {
                    op: "read",
                    path: store.blob_path(digest),
                    source: e,
                },
            })?;
            if n == 0 {
                break;
            }
            let req = Req::new("PATCH", location.clone())
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", format!("{}-{}", sent, sent + n as u64 - 1))
                .body(&chunk[..n]);
            let resp = self.send(&req)?;
            if resp.status() != 202 {
                return Err(self.status_error(&req, resp, &what));
            }
            location = self.location(&req, &resp)?;
            sent += n as u64;
            progress(Progress::LayerProgress {
                digest: digest.clone(),
                current: sent,
                total: blob.size,
            });
        }
        let req = Req::new("PUT", upload_url(&location, &location, digest));
        let resp = self.send(&req)?;
        if resp.status() != 201 {
            return Err(self.status_error(&req, resp, &what));
        }
        Ok(())
    }
    // ANCHOR_END: upload
}

/// Reads until `buf` is full or the file ends.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

// ANCHOR: upload_url
/// The URL that closes an upload: the session's `Location` (relative to
/// the request that returned it, or absolute, and possibly already with a
/// query such as `?_state=…`) plus `digest=sha256:…`.
pub fn upload_url(request_url: &str, location: &str, digest: &Digest) -> String {
    // exercise 4.5 upload-location: resolve the Location and add the digest parameter.
    // hint: resolve_location(request_url, location) makes it absolute
    // hint: append "&digest=" when the URL already has a '?', else "?digest="; encode ':' as %3A
    let url = resolve_location(request_url, location);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}digest={}",
        crate::auth::percent_encode(&digest.to_string())
    )
    // end exercise
}
// ANCHOR_END: upload_url

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_urls() {
        let d = Digest::sha256_of(b"x");
        let enc = format!("sha256%3A{}", d.hex());
        let req = "http://127.0.0.1:5000/v2/a/blobs/uploads/";
        assert_eq!(
            upload_url(
                req,
                "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=abc",
                &d
            ),
            format!("http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=abc&digest={enc}")
        );
        assert_eq!(
            upload_url(req, "/v2/a/blobs/uploads/u2", &d),
            format!("http://127.0.0.1:5000/v2/a/blobs/uploads/u2?digest={enc}")
        );
        assert_eq!(
            upload_url(req, "u3", &d),
            format!("http://127.0.0.1:5000/v2/a/blobs/uploads/u3?digest={enc}")
        );
    }
}
