//! One error type for the chapter.
//!
//! A registry failure is only useful if it says *where*: which registry,
//! which repository, which manifest or blob, and what to do next. The
//! registry itself explains most failures in a JSON body
//! (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`);
//! [`ErrorBody`] turns that into one line that ends up in the message.

use std::path::PathBuf;

use minidock_images::Digest;
use serde::Deserialize;

// ANCHOR: registry_error_auth
/// Everything that can go wrong while talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry wants credentials we do not have, or refused the ones we
    /// sent (HTTP 401).
    #[error("{registry}: authentication required for {repository} ({detail}): run `minidock login {registry}`")]
    Unauthorized {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// What the registry said, in one line.
        detail: String,
    },

    /// We are known but not allowed (HTTP 403).
    #[error("{registry}: access to {repository} denied: {detail}")]
    Denied {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// What the registry said, in one line.
        detail: String,
    },

    // ANCHOR_END: registry_error_auth
    // ANCHOR: registry_error_missing
    /// The repository, manifest or blob does not exist (HTTP 404).
    #[error("{registry}/{repository}: {what} not found: {detail}")]
    NotFound {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// What was being fetched (a manifest, a blob, a token).
        what: String,
        /// What the registry said, in one line.
        detail: String,
    },

    /// Too many requests (HTTP 429). Docker Hub limits anonymous pulls.
    #[error("{registry}: rate limited while fetching {repository}{}: {detail}", retry_after.as_ref().map(|s| format!(" (retry after {s})")).unwrap_or_default())]
    RateLimited {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// The `Retry-After` header, if the registry sent one.
        retry_after: Option<String>,
        /// What the registry said, in one line.
        detail: String,
    },

    /// The registry failed (HTTP 5xx), even after retrying.
    #[error("{registry}: server error {status} for {repository}: {detail}")]
    Server {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// The HTTP status of the answer.
        status: u16,
        /// What the registry said, in one line.
        detail: String,
    },

    // ANCHOR_END: registry_error_missing
    /// Any other status we did not expect at this step of the protocol.
    #[error("{registry}: unexpected answer {status} to {method} {url}: {detail}")]
    Unexpected {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The HTTP method of the request.
        method: String,
        /// The URL asked for.
        url: String,
        /// The HTTP status of the answer.
        status: u16,
        /// What the registry said, in one line.
        detail: String,
    },

    /// The network, DNS, TLS or HTTP framing failed.
    #[error("cannot talk to {registry} ({url}): {source}")]
    Transport {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The URL asked for.
        url: String,
        #[source]
        /// The underlying error.
        source: ureq::Error,
    },

    /// Reading a response body failed half-way (a cut connection).
    #[error("{registry}: reading {what} failed: {source}")]
    Body {
        /// The registry, as `host[:port]`.
        registry: String,
        /// What was being fetched (a manifest, a blob, a token).
        what: String,
        #[source]
        /// The underlying error.
        source: std::io::Error,
    },

    /// A `WWW-Authenticate` header we cannot understand.
    #[error("{registry}: cannot parse the authentication challenge {header:?}: {reason}")]
    BadChallenge {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The header's value, as sent.
        header: String,
        /// Why it failed.
        reason: String,
    },

    /// The token server refused us or answered nonsense.
    #[error("token server {realm}: {detail}")]
    Token {
        /// The token server's URL.
        realm: String,
        /// What the registry said, in one line.
        detail: String,
    },

    /// `login` was refused: the user name or password is wrong.
    #[error("{registry}: login as {user} failed: wrong user name or password ({detail})")]
    LoginFailed {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The user name that was refused.
        user: String,
        /// What the registry said, in one line.
        detail: String,
    },

    /// The bytes of a manifest do not hash to the digest asked for or announced.
    #[error("{registry}/{repository}: manifest {reference} hashes to {actual}, but {expected} was expected: refusing it")]
    ManifestDigest {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// The tag or digest asked for.
        reference: String,
        /// The digest asked for or announced.
        expected: String,
        /// The digest the bytes hash to.
        actual: Digest,
    },

    /// A response body larger than we accept for its kind.
    #[error("{registry}/{repository}: {what} is larger than {limit} bytes: refusing it")]
    TooLarge {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// What was being fetched (a manifest, a blob, a token).
        what: String,
        /// The limit.
        limit: u64,
    },

    /// A manifest or index that does not parse, or a kind we do not support.
    #[error("{registry}/{repository}: manifest {reference}: {reason}")]
    BadManifest {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// The tag or digest asked for.
        reference: String,
        /// Why it failed.
        reason: String,
    },

    /// An index without a manifest for the platform asked for; the first
    /// words are Docker's, so scripts that look for them still work.
    #[error("no matching manifest for {wanted} in the manifest list entries: {registry}/{repository}:{reference} has {available}; pick one of them with --platform")]
    NoMatchingPlatform {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// The tag or digest asked for.
        reference: String,
        /// The platform asked for.
        wanted: String,
        /// The platforms the index has.
        available: String,
    },

    /// A blob whose body is not what its descriptor announced.
    #[error("{registry}/{repository}: blob {digest}: {reason}")]
    BadBlob {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The repository in it (`library/busybox`).
        repository: String,
        /// The blob's digest.
        digest: Digest,
        /// Why it failed.
        reason: String,
    },

    /// The content store refused something (a digest mismatch, a full disk).
    #[error("{context}: {source}")]
    Store {
        /// What the pull or push was doing.
        context: String,
        #[source]
        /// The underlying error.
        source: minidock_images::Error,
    },

    /// Redirects that go on and on.
    #[error("{registry}: more than {limit} redirects for {url}")]
    TooManyRedirects {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The URL asked for.
        url: String,
        /// The limit.
        limit: u32,
    },

    /// The credentials file (`~/.docker/config.json`) cannot be read or written.
    #[error("credentials file {path}: {reason}")]
    Credentials {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },

    /// A credential helper (`docker-credential-NAME`) is missing or failed.
    #[error("credential helper {program} ({action}): {reason}")]
    CredentialHelper {
        /// `docker-credential-NAME`.
        program: String,
        /// `get`, `store`, `erase` or `list`.
        action: String,
        /// What went wrong, or what it printed.
        reason: String,
    },

    /// A file of a registry's certificate directory (`certs.d/<host>/`)
    /// is missing its pair or is not a certificate or key.
    #[error("registry certificates {path}: {reason}")]
    Certs {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },

    /// The TLS handshake failed: an unknown CA, an expired certificate,
    /// a certificate for another host, a refused client certificate.
    #[error("cannot talk to {registry} ({url}): {reason}")]
    Tls {
        /// The registry, as `host[:port]`.
        registry: String,
        /// The URL asked for.
        url: String,
        /// Why it failed.
        reason: String,
    },

    /// Bad input from the caller (a platform string, an image name).
    #[error("{0}")]
    Invalid(String),
}

/// The chapter's result type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryError {
    // ANCHOR: is_transient
    /// Whether trying again may help: the network failed, a body was cut,
    /// or the registry had a (5xx) hiccup. Verification failures are not
    /// transient: the same bytes would fail again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RegistryError::Transport { .. }
                | RegistryError::Body { .. }
                | RegistryError::Server { .. }
        )
    }
    // ANCHOR_END: is_transient

    /// Wraps a store error with what we were doing.
    pub(crate) fn store(context: impl Into<String>) -> impl FnOnce(minidock_images::Error) -> Self {
        let context = context.into();
        move |source| RegistryError::Store { context, source }
    }
}

// ANCHOR: error_body
/// The JSON error body every distribution registry sends.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    /// The errors, most registries send one.
    pub errors: Vec<ErrorItem>,
}

/// One entry of [`ErrorBody`].
#[derive(Debug, Deserialize)]
pub struct ErrorItem {
    #[serde(default)]
    /// The error code (`MANIFEST_UNKNOWN`, `DENIED`, …).
    pub code: String,
    #[serde(default)]
    /// The human-readable message.
    pub message: String,
}

/// A one-line summary of an error body: `MANIFEST_UNKNOWN: manifest unknown`,
/// or the start of the text when it is not the registry's JSON.
pub fn describe_error_body(status: u16, body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        if !parsed.errors.is_empty() {
            return parsed
                .errors
                .iter()
                .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                    (false, false) => format!("{}: {}", e.code, e.message),
                    (false, true) => e.code.clone(),
                    _ => e.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        let short: String = text.chars().take(200).collect();
        format!("HTTP {status}: {short}")
    }
}
// ANCHOR_END: error_body

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies_become_one_line() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            describe_error_body(404, body),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        let two = br#"{"errors":[{"code":"DENIED","message":"no"},{"code":"UNAUTHORIZED","message":""}]}"#;
        assert_eq!(describe_error_body(403, two), "DENIED: no; UNAUTHORIZED");
        assert_eq!(describe_error_body(502, b""), "HTTP 502");
        assert_eq!(
            describe_error_body(500, b"<html>oops</html>"),
            "HTTP 500: <html>oops</html>"
        );
    }

    #[test]
    fn unauthorized_tells_what_to_do() {
        let e = RegistryError::Unauthorized {
            registry: "127.0.0.1:5000".into(),
            repository: "team/app".into(),
            detail: "UNAUTHORIZED: authentication required".into(),
        };
        let text = e.to_string();
        assert!(text.contains("authentication required"), "{text}");
        assert!(text.contains("minidock login 127.0.0.1:5000"), "{text}");
        assert!(text.contains("team/app"), "{text}");
    }
}
