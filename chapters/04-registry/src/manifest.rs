//! Manifests and indexes: what a tag points to.
//!
//! A tag on a registry points to one of two kinds of JSON document:
//!
//! - an **image manifest**: the config blob and the layer blobs of one image,
//!   each named by digest and size;
//! - an **index** (Docker calls it a *manifest list*): one manifest per
//!   platform (`linux/amd64`, `linux/arm64/v8`, …), also by digest.
//!
//! Each comes in an OCI and a Docker flavour with the same shape but
//! different media types. A registry only returns a flavour the client says
//! it accepts, so the `Accept` header lists all four.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use minidock_images::Digest;
use serde::{Deserialize, Serialize};

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (the Docker flavour of an index).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

// ANCHOR: accept
/// What we send in `Accept` when fetching a manifest. Leave out the OCI types
/// and the distribution registry answers `404 MANIFEST_UNKNOWN` for an image
/// pushed as OCI; leave out the index types and a registry may convert or
/// refuse multi-platform images.
pub const MANIFEST_ACCEPT: [&str; 4] = [
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST,
];
// ANCHOR_END: accept

/// The annotation Docker BuildKit puts on the index entries that carry
/// build attestations (SBOM, provenance) rather than an image.
pub const REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";

/// A pointer to a blob: its media type, digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    /// What the blob is (a layer, a config, a manifest).
    pub media_type: String,
    /// Its digest: the blob is fetched by it and verified against it.
    pub digest: Digest,
    /// Its size in bytes: a body longer than this is refused.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// For an entry of an index: the platform of the manifest it points to.
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Free-form annotations (a Docker attestation says what it is here).
    pub annotations: BTreeMap<String, String>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The manifest's own media type (OCI manifests may leave it out).
    pub media_type: Option<String>,
    /// The image's config blob.
    pub config: Descriptor,
    #[serde(default)]
    /// The layers, bottom first.
    pub layers: Vec<Descriptor>,
}

/// An index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The index's own media type (OCI indexes may leave it out).
    pub media_type: Option<String>,
    /// One manifest per platform (and attestations).
    pub manifests: Vec<Descriptor>,
}

/// What a manifest request returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestKind {
    /// An index or manifest list: one manifest per platform.
    Index(ImageIndex),
    /// One platform's image manifest.
    Manifest(ImageManifest),
}

// ANCHOR: parse_manifest
/// Decides what the bytes are, from the `Content-Type` of the answer or,
/// failing that, the `mediaType` inside, and parses them.
pub fn parse_manifest(content_type: Option<&str>, bytes: &[u8]) -> Result<ManifestKind, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Peek {
        media_type: Option<String>,
        schema_version: Option<u32>,
        manifests: Option<serde_json::Value>,
    }
    let peek: Peek =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JSON manifest: {e}"))?;
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "text/plain");
    let media_type = header
        .map(str::to_string)
        .or(peek.media_type)
        .unwrap_or_else(|| {
            // Bare OCI documents may omit mediaType: the shape tells.
            if peek.manifests.is_some() {
                OCI_INDEX
            } else {
                OCI_MANIFEST
            }
            .to_string()
        });
    if peek.schema_version != Some(2) {
        return Err(format!(
            "schema version {:?} is not supported (only schema 2: Docker's schema 1 is deprecated)",
            peek.schema_version
        ));
    }
    match media_type.as_str() {
        OCI_INDEX | DOCKER_MANIFEST_LIST => serde_json::from_slice(bytes)
            .map(ManifestKind::Index)
            .map_err(|e| format!("bad index: {e}")),
        OCI_MANIFEST | DOCKER_MANIFEST => serde_json::from_slice(bytes)
            .map(ManifestKind::Manifest)
            .map_err(|e| format!("bad image manifest: {e}")),
        other => Err(format!(
            "media type {other:?} is not a manifest type minidock supports"
        )),
    }
}
// ANCHOR_END: parse_manifest

/// An operating system and CPU architecture, as OCI names them (Go's
/// `GOOS`/`GOARCH`), with an optional CPU variant (`v8` for arm64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    /// The operating system (`linux`).
    pub os: String,
    /// The CPU architecture (`amd64`, `arm64`).
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The CPU variant (`v8`), when it matters.
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this program runs on.
    pub fn host() -> Platform {
        let (architecture, variant) = oci_architecture(std::env::consts::ARCH);
        Platform {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        }
    }
}

/// Rust's name of a CPU architecture → OCI's name and default variant.
pub fn oci_architecture(rust_arch: &str) -> (&str, Option<&str>) {
    match rust_arch {
        "x86_64" => ("amd64", None),
        "aarch64" => ("arm64", Some("v8")),
        "arm" => ("arm", Some("v7")),
        "x86" => ("386", None),
        "powerpc64" => ("ppc64le", None),
        "loongarch64" => ("loong64", None),
        other => (other, None),
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

// ANCHOR: platform_parse
impl FromStr for Platform {
    type Err = String;
    /// `linux/arm64`, `linux/arm/v7`, `linux/amd64`.
    fn from_str(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| !p.is_empty();
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(format!(
                "invalid platform {s:?}: expected OS/ARCH[/VARIANT], e.g. linux/arm64"
            )),
        }
    }
}

/// Whether an index entry is an attestation (SBOM, provenance) rather than
/// an image: BuildKit marks them with an annotation and `unknown/unknown`.
pub fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .get(REFERENCE_TYPE_ANNOTATION)
        .map(String::as_str)
        == Some("attestation-manifest")
        || d.platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}
// ANCHOR_END: platform_parse

// ANCHOR: pick_platform
/// Picks the manifest for `want` from an index: same OS and architecture,
/// and the same variant when both name one (arm64 without a variant means
/// `v8`). Attestations are never picked. The first match wins, as in Docker.
pub fn pick_platform<'a>(index: &'a ImageIndex, want: &Platform) -> Option<&'a Descriptor> {
    // exercise 4.3 pick-platform: choose the index entry for the wanted platform, skipping attestations.
    // hint: iterate over index.manifests; entries without a platform or with is_attestation() are skipped
    // hint: compare os and architecture; compare variants only when both sides have one, after defaulting arm64 to v8
    let default_variant = |p: &Platform| match (&p.variant, p.architecture.as_str()) {
        (Some(v), _) => Some(v.clone()),
        (None, "arm64") => Some("v8".to_string()),
        (None, _) => None,
    };
    index.manifests.iter().find(|d| {
        let Some(p) = &d.platform else {
            return false;
        };
        if is_attestation(d) || p.os != want.os || p.architecture != want.architecture {
            return false;
        }
        match (default_variant(p), default_variant(want)) {
            (Some(have), Some(wanted)) => have == wanted,
            _ => true,
        }
    })
    // end exercise
}
// ANCHOR_END: pick_platform

/// `linux/amd64, linux/arm64/v8` — the platforms of an index, for messages.
pub fn platforms_of(index: &ImageIndex) -> String {
    let list: Vec<String> = index
        .manifests
        .iter()
        .filter(|d| !is_attestation(d))
        .filter_map(|d| d.platform.as_ref().map(Platform::to_string))
        .collect();
    if list.is_empty() {
        "no platforms".into()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(n: u8, platform: Option<&str>, attestation: bool) -> Descriptor {
        let mut annotations = BTreeMap::new();
        if attestation {
            annotations.insert(
                REFERENCE_TYPE_ANNOTATION.into(),
                "attestation-manifest".into(),
            );
        }
        Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: Digest::sha256_of(&[n]),
            size: 100 + n as u64,
            platform: platform.map(|p| p.parse().unwrap()),
            annotations,
        }
    }

    fn index(entries: Vec<Descriptor>) -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            manifests: entries,
        }
    }

    #[test]
    fn host_platform_uses_oci_names() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        assert_ne!(host.architecture, "x86_64");
        assert_ne!(host.architecture, "aarch64");
        assert_eq!(oci_architecture("x86_64"), ("amd64", None));
        assert_eq!(oci_architecture("aarch64"), ("arm64", Some("v8")));
    }

    #[test]
    fn picks_the_platform_and_skips_attestations() {
        let idx = index(vec![
            desc(0, Some("unknown/unknown"), true),
            desc(1, Some("linux/arm64"), true),
            desc(2, Some("linux/amd64"), false),
            desc(3, Some("linux/arm/v6"), false),
            desc(4, Some("linux/arm/v7"), false),
            desc(5, Some("linux/arm64/v8"), false),
            desc(6, Some("windows/amd64"), false),
            desc(7, None, false),
        ]);
        let pick = |p: &str| pick_platform(&idx, &p.parse().unwrap()).map(|d| d.size - 100);
        assert_eq!(pick("linux/amd64"), Some(2));
        assert_eq!(pick("linux/arm/v7"), Some(4));
        assert_eq!(pick("linux/arm/v6"), Some(3));
        assert_eq!(pick("linux/arm/v5"), None);
        assert_eq!(pick("linux/arm64"), Some(5));
        assert_eq!(pick("linux/arm64/v8"), Some(5));
        assert_eq!(pick("windows/amd64"), Some(6));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(
            platforms_of(&idx),
            "linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, windows/amd64"
        );
        // arm64 entries without a variant match a wanted v8, and the attestation
        // marked only by annotation is still skipped.
        let only_att = index(vec![
            desc(1, Some("linux/arm64"), true),
            desc(9, Some("linux/arm64"), false),
        ]);
        assert_eq!(
            pick_platform(&only_att, &"linux/arm64/v8".parse().unwrap()).map(|d| d.size),
            Some(109)
        );
    }

    #[test]
    fn platform_strings() {
        assert_eq!(
            "linux/arm/v7".parse::<Platform>().unwrap().to_string(),
            "linux/arm/v7"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", ""] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    #[test]
    fn manifests_are_classified_by_header_then_body() {
        let d = Digest::sha256_of(b"c");
        let manifest = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","digest":"{d}","size":1}},"layers":[]}}"#
        );
        assert!(matches!(
            parse_manifest(Some(DOCKER_MANIFEST), manifest.as_bytes()),
            Ok(ManifestKind::Manifest(_))
        ));
        assert!(matches!(
            parse_manifest(Some("application/json"), manifest.as_bytes()),
            Ok(ManifestKind::Manifest(_))
        ));
        let idx = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[{{"mediaType":"{DOCKER_MANIFEST}","digest":"{d}","size":3,"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#
        );
        match parse_manifest(None, idx.as_bytes()).unwrap() {
            ManifestKind::Index(i) => assert_eq!(i.manifests[0].digest, d),
            other => panic!("{other:?}"),
        }
        let v1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        assert!(parse_manifest(None, v1).unwrap_err().contains("schema 1"));
        let unknown = parse_manifest(Some("application/vnd.foo+json"), manifest.as_bytes());
        assert!(unknown.unwrap_err().contains("vnd.foo"));
    }
}
