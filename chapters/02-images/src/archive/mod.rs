//! Images as files: `docker load`, `docker save` and `docker import`.
//!
//! Two archive formats carry images between machines without a registry:
//!
//! - the **OCI image layout**: a directory (or a tar of one) with an
//!   `oci-layout` marker, an `index.json` that points at manifests, and
//!   every blob under `blobs/sha256/<hex>`;
//! - the **legacy `docker save` format**: a `manifest.json` listing, per
//!   image, its config file, its tags (`RepoTags`) and its layer tars.
//!
//! Since Docker 25, `docker save` writes both into one tar, sharing the
//! blobs. This module reads either (preferring the OCI index when both
//! are there) and writes both.

mod import;
mod load;
mod save;

pub use import::ImageChanges;
pub use load::LoadedImage;

/// `org.opencontainers.image.ref.name`: the name of a manifest in an OCI
/// layout (often just a tag).
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// `io.containerd.image.name`: the full image name, as Docker writes it.
const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// Formats seconds since the epoch as RFC 3339 (UTC), as image configs
/// carry their dates.
pub(crate) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days → civil date algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
