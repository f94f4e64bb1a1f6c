//! Image references: `busybox`, `localhost:5000/team/app:1.2`, `alpine@sha256:…`.
//!
//! A reference names a repository on a registry, and optionally a tag and a
//! content digest in it. The grammar is the one of the distribution project
//! (`github.com/distribution/reference`), which every registry and Docker
//! share:
//!
//! ```text
//! reference   := name [ ":" tag ] [ "@" digest ]
//! name        := [domain "/"] path
//! domain      := host [":" port]
//! host        := domain-name | "[" IPv6 "]"
//! domain-name := component ("." component)*      component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
//! path        := path-component ("/" path-component)*
//! path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := [_.] | "__" | "-"+
//! tag         := [\w][\w.-]{0,127}
//! ```
//!
//! Docker then *normalises* short names: a name without a registry lives on
//! Docker Hub (`docker.io`), and a one-word Hub name lives in the `library/`
//! namespace of official images. So `busybox` means
//! `docker.io/library/busybox:latest`.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The registry of names without one.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's namespace of official images.
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag of a reference that names none.
pub const DEFAULT_TAG: &str = "latest";
/// The longest repository name (domain and path) the grammar allows.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A parsed, normalised image reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    // ANCHOR: reference_parse
    /// Parses and normalises `input` the way `docker pull` does: a missing
    /// registry becomes `docker.io`, a one-word Hub name gets `library/`,
    /// and a reference with neither tag nor digest gets the tag `latest`.
    pub fn parse(input: &str) -> Result<Reference> {
        let err = |reason: String| Error::InvalidReference {
            input: input.to_string(),
            reason,
        };
        if input.is_empty() {
            return Err(err(
                "the repository name must have at least one component".into()
            ));
        }
        if input.len() == 64 && input.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(err(
                "a 64-character hexadecimal string is an image id, not a repository name".into(),
            ));
        }

        let (name_tag, digest) = match input.split_once('@') {
            Some((name_tag, digest)) => {
                let digest = digest
                    .parse::<Digest>()
                    .map_err(|e| err(format!("bad digest part {digest:?}: {e}")))?;
                (name_tag, Some(digest))
            }
            None => (input, None),
        };
        // ANCHOR_END: reference_parse
        // ANCHOR: reference_normalise

        // The tag is after the last ':' that comes after the last '/'
        // (a ':' before a '/' is a registry port).
        let (name, tag) = match name_tag.rfind(':') {
            Some(i) if !name_tag[i..].contains('/') => {
                (&name_tag[..i], Some(name_tag[i + 1..].to_string()))
            }
            _ => (name_tag, None),
        };
        if let Some(tag) = &tag {
            validate_tag(tag).map_err(|reason| err(format!("bad tag {tag:?}: {reason}")))?;
        }

        let (domain, path) = split_docker_domain(name);
        validate_domain(&domain)
            .map_err(|reason| err(format!("bad registry {domain:?}: {reason}")))?;
        if path.to_lowercase() != path {
            return Err(err(format!("repository name {path:?} must be lowercase")));
        }
        validate_path(&path)
            .map_err(|reason| err(format!("bad repository name {path:?}: {reason}")))?;
        let full_len = domain.len() + 1 + path.len();
        if full_len > NAME_TOTAL_LENGTH_MAX {
            return Err(err(format!(
                "repository name is {full_len} characters long, at most {NAME_TOTAL_LENGTH_MAX} are allowed"
            )));
        }

        let tag = match (&tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            _ => tag,
        };
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }
    // ANCHOR_END: reference_normalise

    /// A reference to `name` (parsed and normalised) with another tag.
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        validate_tag(tag).map_err(|reason| Error::InvalidReference {
            input: tag.to_string(),
            reason: format!("bad tag: {reason}"),
        })?;
        Ok(Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository with the digest `digest` and no tag.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The registry: `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path on the registry: `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, if any (`latest` when the input named neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The full repository name: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The repository name as Docker shows it: `busybox`, `foo/bar`,
    /// `localhost:5000/a/b`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// The short form Docker prints: `busybox:latest`.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        self.push_tag_and_digest(&mut s);
        s
    }

    fn push_tag_and_digest(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(&digest.to_string());
        }
    }
}

// ANCHOR: split_docker_domain
/// Splits a repository name into registry and path, applying Docker's
/// defaults: `busybox` → (`docker.io`, `library/busybox`).
///
/// The first component is a registry only if it looks like a host name: it
/// contains a `.` or a `:` (a port), is `localhost`, or has uppercase letters
/// (which a path may not have). Otherwise the whole name is a path on
/// Docker Hub.
fn split_docker_domain(name: &str) -> (String, String) {
    // exercise 2.1 parse-reference: split a name into (registry, path) with Docker's normalisation.
    // hint: only a first component with '.' or ':', or "localhost", or uppercase letters is a registry
    // hint: "index.docker.io" is "docker.io"; a one-component path on docker.io gets "library/"
    let (mut domain, mut path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == "index.docker.io" {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !path.contains('/') {
        path = format!("{OFFICIAL_REPO_PREFIX}{path}");
    }
    (domain, path)
    // end exercise
}
// ANCHOR_END: split_docker_domain

fn validate_tag(tag: &str) -> std::result::Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    match chars.next() {
        None => return Err("a tag cannot be empty".into()),
        Some(c) if !word(c) => return Err(format!("a tag cannot start with {c:?}")),
        _ => {}
    }
    if let Some(c) = chars.find(|&c| !(word(c) || c == '.' || c == '-')) {
        return Err(format!("{c:?} is not allowed in a tag"));
    }
    if tag.len() > 128 {
        return Err(format!(
            "a tag has at most 128 characters, this one {}",
            tag.len()
        ));
    }
    Ok(())
}

// ANCHOR: validate_domain
fn validate_domain(domain: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address must end with ']'")?;
        if v6.is_empty() || !v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(format!("{v6:?} is not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            p => (
                None,
                Some(p.strip_prefix(':').ok_or("expected ':PORT' after ']'")?),
            ),
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        for component in host.split('.') {
            let ok = !component.is_empty()
                && component
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !component.starts_with('-')
                && !component.ends_with('-');
            if !ok {
                return Err(format!("{component:?} is not a valid host name component"));
            }
        }
    }
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("port {port:?} is not a number"));
        }
    }
    Ok(())
}
// ANCHOR_END: validate_domain

// ANCHOR: validate_path
fn validate_path(path: &str) -> std::result::Result<(), String> {
    for component in path.split('/') {
        validate_path_component(component)
            .map_err(|reason| format!("component {component:?}: {reason}"))?;
    }
    Ok(())
}

/// `[a-z0-9]+ (([._] | "__" | "-"+) [a-z0-9]+)*`
fn validate_path_component(c: &str) -> std::result::Result<(), String> {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    if bytes.is_empty() {
        return Err("empty".into());
    }
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err("separators must sit between letters or digits".into());
        }
        if i == bytes.len() {
            return Ok(());
        }
        // a separator: '.', '_', '__', or a run of '-'
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            other => return Err(format!("{:?} is not allowed", other as char)),
        }
    }
}
// ANCHOR_END: validate_path

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Reference> {
        Reference::parse(s)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_tag_and_digest(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Reference, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// (input, full normalised form, familiar form)
    #[test]
    fn valid_references_normalise_like_docker() {
        let d = D;
        let cases: Vec<(String, String, String)> = [
            (
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            (
                "library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "docker.io/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "index.docker.io/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "docker.io/library/busybox:musl",
                "docker.io/library/busybox:musl",
                "busybox:musl",
            ),
            ("foo/bar", "docker.io/foo/bar:latest", "foo/bar:latest"),
            (
                "foo/bar/baz:v1",
                "docker.io/foo/bar/baz:v1",
                "foo/bar/baz:v1",
            ),
            (
                "localhost/app",
                "localhost/app:latest",
                "localhost/app:latest",
            ),
            (
                "localhost:5000/a/b:1",
                "localhost:5000/a/b:1",
                "localhost:5000/a/b:1",
            ),
            (
                "127.0.0.1:5000/x",
                "127.0.0.1:5000/x:latest",
                "127.0.0.1:5000/x:latest",
            ),
            ("[::1]:5000/x:t", "[::1]:5000/x:t", "[::1]:5000/x:t"),
            (
                "ghcr.io/o/r:v1.0-rc_1",
                "ghcr.io/o/r:v1.0-rc_1",
                "ghcr.io/o/r:v1.0-rc_1",
            ),
            (
                "Registry.Example.COM/a",
                "Registry.Example.COM/a:latest",
                "Registry.Example.COM/a:latest",
            ),
            ("Host/x", "Host/x:latest", "Host/x:latest"),
            (
                "a.b-c/e---f__g",
                "a.b-c/e---f__g:latest",
                "a.b-c/e---f__g:latest",
            ),
            (
                "docker.io/a__b/c.d_e",
                "docker.io/a__b/c.d_e:latest",
                "a__b/c.d_e:latest",
            ),
            ("x:_TAG", "docker.io/library/x:_TAG", "x:_TAG"),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .chain([
            (
                format!("busybox@{d}"),
                format!("docker.io/library/busybox@{d}"),
                format!("busybox@{d}"),
            ),
            (
                format!("localhost:5000/a:t@{d}"),
                format!("localhost:5000/a:t@{d}"),
                format!("localhost:5000/a:t@{d}"),
            ),
        ])
        .collect();
        for (input, full, familiar) in cases {
            let r = Reference::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
            // normalisation is idempotent
            assert_eq!(Reference::parse(&full).unwrap(), r, "{input}");
            assert_eq!(Reference::parse(&familiar).unwrap(), r, "{input}");
        }
    }

    #[test]
    fn fields() {
        let r = Reference::parse("localhost:5000/team/app:1.2").unwrap();
        assert_eq!(r.domain(), "localhost:5000");
        assert_eq!(r.path(), "team/app");
        assert_eq!(r.tag(), Some("1.2"));
        assert_eq!(r.digest(), None);
        assert_eq!(r.name(), "localhost:5000/team/app");
        let r = Reference::parse(&format!("alpine@{D}")).unwrap();
        assert_eq!(
            (r.domain(), r.path(), r.tag()),
            ("docker.io", "library/alpine", None)
        );
        assert_eq!(r.digest().unwrap().to_string(), D);
    }

    /// (input, a piece of the error that names the bad part)
    #[test]
    fn invalid_references_are_refused_naming_the_bad_part() {
        let long_tag = "t".repeat(129);
        let long_name = format!("{}/{}", "a".repeat(200), "b".repeat(60));
        let cases: Vec<(String, &str)> = [
            ("", "at least one component"),
            ("Busybox", "must be lowercase"),
            ("docker.io/Foo/bar", "must be lowercase"),
            ("busybox:", "tag cannot be empty"),
            ("busybox:-x", "cannot start with '-'"),
            ("busybox:a/b", "port \"a\""),
            ("busybox:a+b", "'+' is not allowed"),
            ("busy box", "' ' is not allowed"),
            ("a//b", "empty"),
            ("/busybox", "empty"),
            ("busybox/", "empty"),
            ("foo/-bar", "separators"),
            ("foo/bar-", "separators"),
            ("foo/a..b", "separators"),
            ("foo/a___b", "separators"),
            ("localhost:port/a", "port \"port\""),
            ("-host.com/a", "host name component"),
            ("host..com/a", "host name component"),
            ("[::1/a", "']'"),
            ("busybox@sha256:abc", "bad digest part"),
            ("busybox@md5:abc", "bad digest part"),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "image id",
            ),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), *b))
        .chain([
            (format!("busybox:{long_tag}"), "at most 128"),
            (long_name, "at most 255"),
        ])
        .collect();
        for (input, want) in cases {
            match Reference::parse(&input) {
                Ok(r) => panic!("{input:?} was accepted as {r}"),
                Err(e) => {
                    let e = e.to_string();
                    assert!(
                        e.contains(want),
                        "{input:?}: error {e:?} does not say {want:?}"
                    );
                    assert!(e.contains("invalid reference format"), "{e}");
                }
            }
        }
    }

    #[test]
    fn with_tag_and_with_digest() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            r.with_tag("1").unwrap().to_string(),
            "docker.io/library/busybox:1"
        );
        assert!(r.with_tag("a b").is_err());
        let d: Digest = D.parse().unwrap();
        assert_eq!(r.with_digest(d).familiar(), format!("busybox@{D}"));
    }
}
