//! API versions: the `/v1.44` prefix of a path, and which versions the daemon
//! accepts.
//!
//! Every Docker client asks `/_ping` first, reads the `Api-Version` header and
//! from then on prefixes its paths with the lower of that and its own
//! version: the docker CLI 28 speaks 1.50 and falls back to our 1.44. Paths
//! without a prefix are served too (docker-py asks `/version` that way).

use crate::error::ApiError;
use std::fmt;

// ANCHOR: api_version
/// The version this daemon announces, in the `Api-Version` header and in
/// `/version`.
pub const API_VERSION: ApiVersion = ApiVersion {
    major: 1,
    minor: 44,
};

/// The oldest version it still accepts; older clients get a 400.
pub const MIN_API_VERSION: ApiVersion = ApiVersion {
    major: 1,
    minor: 24,
};

/// An API version such as `1.44`, ordered as numbers (1.9 < 1.24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    /// Always 1 so far.
    pub major: u32,
    /// The part that Docker increments with each release.
    pub minor: u32,
}

impl ApiVersion {
    /// Parses `1.44`; `None` for anything else.
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.split_once('.')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return None;
        }
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}
// ANCHOR_END: api_version

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

// ANCHOR: split_version
/// Splits an optional `/v<digits and dots>` prefix off a request path.
///
/// `/v1.44/containers/json` gives `(Some("1.44"), "/containers/json")`;
/// `/containers/json` and `/version` are returned unchanged with `None`.
/// Like Docker's router, the prefix counts only when it is a whole path
/// segment made of digits and dots.
pub fn split_version(path: &str) -> (Option<&str>, &str) {
    // exercise 5.1 route: split the `/v1.44` prefix off a path, leaving other paths alone.
    // hint: the prefix is "/v" then only digits and dots, up to the next '/' (or the end)
    // hint: "/version" and "/volumes" must stay as they are; "/v1.44" alone leaves "/"
    if let Some(rest) = path.strip_prefix("/v") {
        let end = rest.find('/').unwrap_or(rest.len());
        let candidate = &rest[..end];
        if !candidate.is_empty() && candidate.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let remainder = &rest[end..];
            let remainder = if remainder.is_empty() { "/" } else { remainder };
            return (Some(candidate), remainder);
        }
    }
    (None, path)
    // end exercise
}
// ANCHOR_END: split_version

/// Checks a requested version against the supported range, with Docker's
/// messages (the CLI shows them verbatim).
pub fn check_version(requested: &str) -> Result<ApiVersion, ApiError> {
    let Some(version) = ApiVersion::parse(requested) else {
        return Err(ApiError::BadParameter(format!(
            "invalid API version {requested:?}: expected a version such as {API_VERSION}"
        )));
    };
    if version < MIN_API_VERSION {
        return Err(ApiError::BadParameter(format!(
            "client version {requested} is too old. Minimum supported API version is \
             {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    if version > API_VERSION {
        return Err(ApiError::BadParameter(format!(
            "client version {requested} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_numbers() {
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.24").unwrap());
        assert_eq!(ApiVersion::parse("1.44"), Some(API_VERSION));
        assert_eq!(ApiVersion::parse("1."), None);
        assert_eq!(ApiVersion::parse("1.4a"), None);
        assert_eq!(ApiVersion::parse("144"), None);
    }

    #[test]
    fn check_version_uses_dockers_messages() {
        assert_eq!(check_version("1.44").unwrap(), API_VERSION);
        assert_eq!(check_version("1.24").unwrap(), MIN_API_VERSION);
        let new = check_version("1.50").unwrap_err();
        assert_eq!(
            new.message(),
            "client version 1.50 is too new. Maximum supported API version is 1.44"
        );
        let old = check_version("1.12").unwrap_err();
        assert!(old
            .message()
            .starts_with("client version 1.12 is too old. Minimum supported API version is 1.24"));
        assert!(matches!(
            check_version("1..2"),
            Err(ApiError::BadParameter(_))
        ));
    }
}
