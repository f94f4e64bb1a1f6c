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
//!
//! This file is the pull as a whole; `fetch.rs` fetches and verifies a
//! manifest, `blob.rs` downloads one blob (resuming with `Range`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use minidock_images::{Digest, ImageId, Reference, Store};

use crate::client::Repo;
use crate::error::{RegistryError, Result};
use crate::manifest::{
    pick_platform, platforms_of, Descriptor, ImageManifest, ManifestKind, Platform,
};
use crate::progress::{Progress, ProgressFn};
use crate::Client;

mod blob;
mod fetch;

pub use blob::{resume_decision, Resume};
pub use fetch::{verify_manifest_digest, FetchedManifest};

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
