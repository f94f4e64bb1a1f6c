//! Pull: from a reference to an image in the store.
//!
//! ```text
//! GET /v2/                                  → 401 + challenge (or 200)
//! GET token?service=…&scope=repository:NAME:pull
//! GET /v2/NAME/manifests/TAG                → index (one entry per platform)
//! GET /v2/NAME/manifests/sha256:…           → the host's image manifest
//! GET /v2/NAME/blobs/sha256:… (config)      → verified into the store
//! GET /v2/NAME/blobs/sha256:… × layers      → 3 at a time, verified into the store
//! register_image: unpack layers, check diff-ids; tag
//! ```
//!
//! Nothing is trusted that was not checked: the manifest's bytes must hash to
//! the digest we asked for (or the registry announced), and every blob is
//! hashed on its way into the store, which refuses to make it visible unless
//! size and digest are the ones the manifest promised.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use minidock_images::{BlobWriter, Digest, ImageId, Reference, Store};

use crate::client::{header, Repo, Req};
use crate::error::{RegistryError, Result};
use crate::manifest::{
    parse_manifest, pick_platform, platforms_of, Descriptor, ImageManifest, ManifestKind, Platform,
    MANIFEST_ACCEPT,
};
use crate::progress::{Progress, ProgressFn};
use crate::Client;

/// The largest manifest or index we accept: they are small JSON documents,
/// and a registry that sends more is broken or hostile.
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Size of one read from the network while downloading a blob.
const READ_BUFFER: usize = 256 << 10;

/// Choices for a pull.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// The platform to pull from a multi-platform image (default: the host's).
    pub platform: Option<Platform>,
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference pulled (normalised).
    pub reference: Reference,
    /// The digest of the image manifest now in the store.
    pub manifest_digest: Digest,
    /// The digest of the index it was picked from, for multi-platform images.
    pub index_digest: Option<Digest>,
    /// The id of the image (the digest of its config).
    pub image_id: ImageId,
    /// Blobs that were downloaded (config and layers).
    pub downloaded: Vec<Digest>,
    /// Blobs that were already in the store.
    pub already_present: Vec<Digest>,
}

/// A manifest as fetched: its bytes, their digest and what they are.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The bytes as the registry sent them (the digest is of these).
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: Digest,
    /// The `Content-Type` of the answer.
    pub media_type: Option<String>,
    /// What they parse as.
    pub kind: ManifestKind,
}

impl Client {
    // ANCHOR: pull
    /// Pulls `reference` into `store`: manifest (picking the platform from an
    /// index), config and layers (verified, several at a time), then
    /// unpacks and tags the image.
    pub fn pull(
        &self,
        store: &Store,
        reference: &Reference,
        options: &PullOptions,
        progress: ProgressFn<'_>,
    ) -> Result<Pulled> {
        progress(Progress::Resolving);
        // Mirrors of Docker Hub first, each failure falling through to the
        // next and finally to the registry itself.
        for mirror in self.mirrors_for(reference.domain()) {
            if let Ok(pulled) = self.pull_from(
                self.mirror_repo(&mirror, reference.path()),
                store,
                reference,
                options,
                progress,
            ) {
                return Ok(pulled);
            }
        }
        let repo = self.repo(reference.domain(), reference.path(), false);
        self.pull_from(repo, store, reference, options, progress)
    }

    /// [`Client::pull`] from one registry (or mirror).
    fn pull_from(
        &self,
        repo: crate::client::Repo<'_>,
        store: &Store,
        reference: &Reference,
        options: &PullOptions,
        progress: ProgressFn<'_>,
    ) -> Result<Pulled> {
        let wanted = options.platform.clone().unwrap_or_else(Platform::host);
        let by = match (reference.digest(), reference.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(tag)) => tag.to_string(),
            (None, None) => "latest".to_string(),
        };
        let mut fetched = repo.fetch_manifest(&by, reference.digest())?;
        let mut index_digest = None;
        if let ManifestKind::Index(index) = &fetched.kind {
            let entry =
                pick_platform(index, &wanted).ok_or_else(|| RegistryError::NoMatchingPlatform {
                    registry: repo.endpoint.domain.clone(),
                    repository: repo.name.clone(),
                    reference: by.clone(),
                    wanted: wanted.to_string(),
                    available: platforms_of(index),
                })?;
            let entry = entry.clone();
            store
                .put_blob(&fetched.bytes)
                .map_err(RegistryError::store(format!(
                    "store index {}",
                    fetched.digest
                )))?;
            index_digest = Some(fetched.digest.clone());
            fetched = repo.fetch_manifest(&entry.digest.to_string(), Some(&entry.digest))?;
        }
        let manifest = match &fetched.kind {
            ManifestKind::Manifest(m) => m.clone(),
            ManifestKind::Index(_) => {
                return Err(repo.bad_manifest(&by, "an index points to another index"))
            }
        };

        let mut downloaded = Vec::new();
        let mut already_present = Vec::new();
        let mut record = |digest: Digest, fresh: bool| {
            if fresh {
                downloaded.push(digest)
            } else {
                already_present.push(digest)
            }
        };
        let config_fresh = self.download_blob(&repo, store, &manifest.config, None)?;
        record(manifest.config.digest.clone(), config_fresh);
        for (digest, fresh) in self.download_layers(&repo, store, &manifest, progress)? {
            record(digest, fresh);
        }

        minidock_images::failpoint::hit("pull-after-blobs");
        progress(Progress::Extracting);
        store
            .put_blob(&fetched.bytes)
            .map_err(RegistryError::store(format!(
                "store manifest {}",
                fetched.digest
            )))?;
        let image_id = store
            .register_image(&fetched.digest)
            .map_err(RegistryError::store(format!("register image {reference}")))?;
        if reference.tag().is_some() {
            store
                .tag(reference, &fetched.digest)
                .map_err(RegistryError::store(format!("tag {reference}")))?;
        }
        progress(Progress::Done {
            digest: fetched.digest.clone(),
        });
        Ok(Pulled {
            reference: reference.clone(),
            manifest_digest: fetched.digest,
            index_digest,
            image_id,
            downloaded,
            already_present,
        })
    }
    // ANCHOR_END: pull

    // ANCHOR: download_layers
    /// Downloads the layers of `manifest`, `max_concurrent_downloads` at a
    /// time. Workers take the next layer from a shared counter; the first
    /// error stops the others (a layer half-way keeps its partial file).
    fn download_layers(
        &self,
        repo: &Repo<'_>,
        store: &Store,
        manifest: &ImageManifest,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<(Digest, bool)>> {
        let layers = &manifest.layers;
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let workers = self
            .options
            .max_concurrent_downloads
            .clamp(1, layers.len().max(1));
        let results: Vec<Result<Vec<(Digest, bool)>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            if i >= layers.len() || failed.load(Ordering::SeqCst) {
                                return Ok(done);
                            }
                            match self.download_blob(repo, store, &layers[i], Some(progress)) {
                                Ok(fresh) => done.push((layers[i].digest.clone(), fresh)),
                                Err(e) => {
                                    failed.store(true, Ordering::SeqCst);
                                    return Err(e);
                                }
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a download thread panicked"))
                .collect()
        });
        let mut all = Vec::new();
        for r in results {
            all.extend(r?);
        }
        // Report in the manifest's order, whatever order the threads ran in.
        all.sort_by_key(|(d, _)| layers.iter().position(|l| &l.digest == d));
        Ok(all)
    }
    // ANCHOR_END: download_layers

    /// Downloads one blob into the store unless it is there; retries
    /// transient failures, resuming from what the earlier try wrote.
    /// Returns whether anything was downloaded.
    fn download_blob(
        &self,
        repo: &Repo<'_>,
        store: &Store,
        blob: &Descriptor,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<bool> {
        let report = |p: Progress| {
            if let Some(f) = progress {
                f(p)
            }
        };
        let digest = &blob.digest;
        if store.has_blob(digest) {
            report(Progress::LayerExists {
                digest: digest.clone(),
            });
            return Ok(false);
        }
        report(Progress::LayerStart {
            digest: digest.clone(),
            size: blob.size,
        });
        let mut tries = 0;
        loop {
            tries += 1;
            match repo.try_download(store, blob, &report) {
                Ok(()) => {
                    report(Progress::LayerDone {
                        digest: digest.clone(),
                    });
                    return Ok(true);
                }
                Err(e) if e.is_transient() && tries < self.options.tries => {
                    std::thread::sleep(self.options.retry_delay * tries);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Repo<'_> {
    /// `GET /v2/NAME/manifests/REFERENCE` with all four `Accept` types;
    /// checks the digest of the bytes (see [`verify_manifest_digest`]).
    pub fn fetch_manifest(
        &self,
        reference: &str,
        pinned: Option<&Digest>,
    ) -> Result<FetchedManifest> {
        let req = Req::get(self.url(&format!("manifests/{reference}")))
            .header("Accept", MANIFEST_ACCEPT.join(", "));
        let mut tries = 0;
        let mut resp = loop {
            tries += 1;
            let attempt = self
                .send(&req)
                .and_then(|resp| match resp.status().as_u16() {
                    200 => Ok(resp),
                    _ => Err(self.status_error(&req, resp, &format!("manifest {reference}"))),
                });
            match attempt {
                Err(e) if e.is_transient() && tries < self.client.options.tries => {
                    std::thread::sleep(self.client.options.retry_delay * tries);
                }
                other => break other?,
            }
        };
        let media_type = header(&resp, "content-type").map(str::to_string);
        let announced = header(&resp, "docker-content-digest").map(str::to_string);
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_MANIFEST_SIZE)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => RegistryError::TooLarge {
                    registry: self.endpoint.domain.clone(),
                    repository: self.name.clone(),
                    what: format!("manifest {reference}"),
                    limit: MAX_MANIFEST_SIZE,
                },
                other => RegistryError::Transport {
                    registry: self.endpoint.domain.clone(),
                    url: req.url.clone(),
                    source: other,
                },
            })?;
        let digest =
            verify_manifest_digest(&bytes, pinned, announced.as_deref()).map_err(|expected| {
                RegistryError::ManifestDigest {
                    registry: self.endpoint.domain.clone(),
                    repository: self.name.clone(),
                    reference: reference.to_string(),
                    expected,
                    actual: Digest::sha256_of(&bytes),
                }
            })?;
        let kind = parse_manifest(media_type.as_deref(), &bytes)
            .map_err(|reason| self.bad_manifest(reference, &reason))?;
        Ok(FetchedManifest {
            bytes,
            digest,
            media_type,
            kind,
        })
    }

    pub(crate) fn bad_manifest(&self, reference: &str, reason: &str) -> RegistryError {
        RegistryError::BadManifest {
            registry: self.endpoint.domain.clone(),
            repository: self.name.clone(),
            reference: reference.to_string(),
            reason: reason.to_string(),
        }
    }

    fn bad_blob(&self, digest: &Digest, reason: String) -> RegistryError {
        RegistryError::BadBlob {
            registry: self.endpoint.domain.clone(),
            repository: self.name.clone(),
            digest: digest.clone(),
            reason,
        }
    }

    // ANCHOR: try_download
    /// One try at a blob: continue a partial download with `Range`, stream
    /// the body through the store's hashing writer, commit (which checks
    /// size and digest). A cut connection leaves the partial file for the
    /// next try; a try that got no byte leaves nothing.
    fn try_download(
        &self,
        store: &Store,
        blob: &Descriptor,
        report: &dyn Fn(Progress),
    ) -> Result<()> {
        let digest = &blob.digest;
        let writer = store
            .blob_writer(digest, Some(blob.size))
            .map_err(RegistryError::store(format!("write blob {digest}")))?;
        let mut writer = Some(writer);
        let result = self.transfer(store, blob, &mut writer, report);
        match (result, writer) {
            (Ok(()), Some(w)) => w.commit().map_err(|e| match e {
                minidock_images::Error::DigestMismatch { .. }
                | minidock_images::Error::SizeMismatch { .. } => {
                    self.bad_blob(digest, e.to_string())
                }
                other => RegistryError::store(format!("commit blob {digest}"))(other),
            }),
            (Err(e), Some(w)) if w.offset() == 0 => {
                w.abort()
                    .map_err(RegistryError::store(format!("discard blob {digest}")))?;
                Err(e)
            }
            (Err(e), _) => Err(e),
            (Ok(()), None) => unreachable!("transfer only gives up the writer on error"),
        }
    }

    /// Fills `writer` (from its offset) with the blob's bytes from the
    /// registry. On error, `writer` is `None` when it was thrown away.
    fn transfer(
        &self,
        store: &Store,
        blob: &Descriptor,
        writer: &mut Option<BlobWriter>,
        report: &dyn Fn(Progress),
    ) -> Result<()> {
        let (digest, size) = (&blob.digest, blob.size);
        let store_err = |what: &str| RegistryError::store(format!("{what} blob {digest}"));
        let w = writer.as_mut().expect("a writer to fill");
        let offset = w.offset();
        if offset >= size {
            return Ok(()); // all there: commit checks it
        }
        let mut req = Req::get(self.url(&format!("blobs/{digest}")));
        if offset > 0 {
            req = req.header("Range", format!("bytes={offset}-"));
        }
        let resp = self.send(&req)?;
        let status = resp.status().as_u16();
        if !matches!(status, 200 | 206) {
            return Err(self.status_error(&req, resp, &format!("blob {digest}")));
        }
        let content_range = header(&resp, "content-range").map(str::to_string);
        let decision = resume_decision(status, offset, content_range.as_deref())
            .map_err(|reason| self.bad_blob(digest, reason))?;
        if decision == Resume::Restart {
            let old = writer.take().expect("a writer to restart");
            old.abort().map_err(store_err("restart"))?;
            *writer = Some(
                store
                    .blob_writer(digest, Some(size))
                    .map_err(store_err("write"))?,
            );
        }
        let w = writer.as_mut().expect("a writer to fill");
        let mut current = w.offset();
        let mut body = resp.into_body().into_reader();
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(RegistryError::Body {
                        registry: self.endpoint.domain.clone(),
                        what: format!("blob {digest} at byte {current} of {size}"),
                        source,
                    })
                }
            };
            current += n as u64;
            if current > size {
                let w = writer.take().expect("a writer to discard");
                w.abort().map_err(store_err("discard"))?;
                return Err(self.bad_blob(
                    digest,
                    format!("the registry sent more than the {size} bytes the manifest announced"),
                ));
            }
            w.write_all(&buf[..n]).map_err(|source| {
                store_err("write")(minidock_images::Error::Io {
                    op: "write",
                    path: store.blob_path(digest),
                    source,
                })
            })?;
            report(Progress::LayerProgress {
                digest: digest.clone(),
                current,
                total: size,
            });
        }
        if current < size {
            // The body ended early (a connection closed without a length):
            // keep what we have, the next try resumes from there.
            return Err(RegistryError::Body {
                registry: self.endpoint.domain.clone(),
                what: format!("blob {digest}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the body ended after {current} of {size} bytes"),
                ),
            });
        }
        Ok(())
    }
    // ANCHOR_END: try_download
}

/// What to do with the answer to a (possibly ranged) blob request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// The body continues the bytes we have: append it.
    Append,
    /// The body is the whole blob: throw away what we have and start at 0.
    Restart,
}

// ANCHOR: resume_decision
/// Decides from the status and `Content-Range` of the answer whether the
/// body continues our partial download (`206` starting at `offset`) or is
/// the whole blob (`200`, a registry that ignores `Range`).
pub fn resume_decision(
    status: u16,
    offset: u64,
    content_range: Option<&str>,
) -> Result<Resume, String> {
    // exercise 4.6 range-resume: append after a 206 that starts where we stopped, restart after a 200.
    // hint: a 206 answer has `Content-Range: bytes START-END/TOTAL`; START must equal offset
    // hint: with offset 0 there is nothing to throw away, so a 200 is simply Append
    match status {
        200 if offset == 0 => Ok(Resume::Append),
        200 => Ok(Resume::Restart),
        206 => {
            let range = content_range.ok_or("206 Partial Content without Content-Range")?;
            let start = range
                .trim()
                .strip_prefix("bytes ")
                .and_then(|r| r.split('-').next())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| format!("cannot parse Content-Range {range:?}"))?;
            if start == offset {
                Ok(Resume::Append)
            } else {
                Err(format!("asked for bytes from {offset}, got {range:?}"))
            }
        }
        other => Err(format!("unexpected status {other} for a blob")),
    }
    // end exercise
}
// ANCHOR_END: resume_decision

// ANCHOR: verify_manifest_digest
/// The digest of a manifest's bytes, checked against the digest we pulled
/// by (`pinned`) and the one the registry announced in
/// `Docker-Content-Digest`. On a mismatch, returns the digest that was
/// expected: the bytes are not what they claim to be.
pub fn verify_manifest_digest(
    bytes: &[u8],
    pinned: Option<&Digest>,
    announced: Option<&str>,
) -> Result<Digest, String> {
    // exercise 4.4 verify-manifest-digest: hash the bytes and refuse them if they are not the digest asked for or announced.
    // hint: Digest::sha256_of(bytes); compare with pinned first
    // hint: the header may name another algorithm (sha512:…): only compare sha256 digests
    let actual = Digest::sha256_of(bytes);
    if let Some(pinned) = pinned {
        if *pinned != actual {
            return Err(pinned.to_string());
        }
    }
    if let Some(announced) = announced.map(str::trim) {
        if announced.starts_with("sha256:") && announced != actual.to_string() {
            return Err(announced.to_string());
        }
    }
    Ok(actual)
    // end exercise
}
// ANCHOR_END: verify_manifest_digest

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_decisions() {
        assert_eq!(resume_decision(200, 0, None), Ok(Resume::Append));
        assert_eq!(resume_decision(200, 500, None), Ok(Resume::Restart));
        assert_eq!(
            resume_decision(206, 500, Some("bytes 500-999/1000")),
            Ok(Resume::Append)
        );
        assert!(resume_decision(206, 500, Some("bytes 0-999/1000")).is_err());
        assert!(resume_decision(206, 500, None).is_err());
        assert!(resume_decision(206, 500, Some("items 500-")).is_err());
        assert!(resume_decision(416, 500, None).is_err());
    }

    #[test]
    fn manifest_digests_are_checked_against_the_pin_and_the_header() {
        let bytes = br#"{"schemaVersion":2}"#;
        let good = Digest::sha256_of(bytes);
        let other = Digest::sha256_of(b"other");
        assert_eq!(verify_manifest_digest(bytes, None, None), Ok(good.clone()));
        assert_eq!(
            verify_manifest_digest(bytes, Some(&good), Some(&good.to_string())),
            Ok(good.clone())
        );
        assert_eq!(
            verify_manifest_digest(bytes, Some(&other), None),
            Err(other.to_string())
        );
        assert_eq!(
            verify_manifest_digest(bytes, None, Some(&other.to_string())),
            Err(other.to_string())
        );
        assert_eq!(
            verify_manifest_digest(bytes, None, Some("sha512:abcd")),
            Ok(good)
        );
    }
}
