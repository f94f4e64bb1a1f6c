//! One blob: downloaded into the store through a hasher, resumed with
//! `Range` after a cut connection, and refused unless it is the size and
//! digest its descriptor promised.

use std::io::{Read, Write};

use minidock_images::{BlobWriter, Digest, Store};

use crate::client::{header, Repo, Req};
use crate::error::{RegistryError, Result};
use crate::manifest::Descriptor;
use crate::progress::Progress;

use super::READ_BUFFER;

impl Repo<'_> {
    pub(super) fn bad_blob(&self, digest: &Digest, reason: String) -> RegistryError {
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
    pub(super) fn try_download(
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
    pub(super) fn transfer(
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
