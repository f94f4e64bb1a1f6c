//! The manifest: fetched with every `Accept` type a registry may answer
//! with, and refused unless its bytes hash to the digest asked for or
//! announced.

use minidock_images::Digest;

use crate::client::{header, Repo, Req};
use crate::error::{RegistryError, Result};
use crate::manifest::{parse_manifest, ManifestKind, MANIFEST_ACCEPT};

use super::MAX_MANIFEST_SIZE;

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

impl Repo<'_> {
    // ANCHOR: fetch_retry
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
        // ANCHOR_END: fetch_retry
        // ANCHOR: fetch_limit
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
    // ANCHOR_END: fetch_limit

    pub(crate) fn bad_manifest(&self, reference: &str, reason: &str) -> RegistryError {
        RegistryError::BadManifest {
            registry: self.endpoint.domain.clone(),
            repository: self.name.clone(),
            reference: reference.to_string(),
            reason: reason.to_string(),
        }
    }
}

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
