//! What pull, push and login need of chapter 04's registry client: the
//! reference a request names, the credentials it brought, and a client
//! that holds only those.

use super::StoreImages;
use crate::error::{ApiError, ApiResult};
use crate::locks::read;
use crate::service::RegistryAuth;
use minidock_images::Reference;
use minidock_registry::Credentials;

/// The registry a `POST /auth` names: the docker CLI sends
/// `https://index.docker.io/v1/` for Docker Hub and `HOST[:PORT]` (sometimes
/// with a scheme) for the others.
pub(super) fn login_domain(serveraddress: &str) -> String {
    let host = serveraddress
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    match host {
        "" | "index.docker.io" | "registry-1.docker.io" => {
            minidock_images::DEFAULT_DOMAIN.to_string()
        }
        other => other.to_string(),
    }
}

/// A reference as a client wrote it, or a 400.
pub(super) fn parse_reference(text: &str) -> ApiResult<Reference> {
    Reference::parse(text).map_err(|e| ApiError::BadParameter(e.to_string()))
}

// ANCHOR: request_registry
/// `fromImage` and `tag` as one reference (`tag` may be a digest).
pub fn pull_reference(image: &str, tag: Option<&str>) -> ApiResult<Reference> {
    let reference = parse_reference(image)?;
    match tag {
        None => Ok(reference),
        Some(tag) if tag.contains(':') => {
            let digest = tag
                .parse()
                .map_err(|e| ApiError::BadParameter(format!("invalid digest {tag:?}: {e}")))?;
            Ok(reference.with_digest(digest))
        }
        Some(tag) => reference
            .with_tag(tag)
            .map_err(|e| ApiError::BadParameter(e.to_string())),
    }
}

/// The credentials a request brought: an identity token, or a user name
/// and password.
pub(super) fn credentials(auth: Option<&RegistryAuth>) -> Option<Credentials> {
    let auth = auth?;
    if !auth.identitytoken.is_empty() {
        return Some(Credentials::new("<token>", auth.identitytoken.clone()));
    }
    (!auth.username.is_empty())
        .then(|| Credentials::new(auth.username.clone(), auth.password.clone()))
}

impl StoreImages {
    /// A registry client with the current settings. The daemon keeps no
    /// credentials file: credentials come with each request.
    pub(super) fn registry_client(&self) -> minidock_registry::Client {
        let options = read(&self.registry).clone();
        minidock_registry::Client::new(minidock_registry::ClientOptions {
            credentials_file: self.tmp.join("no-credentials.json"),
            ..options
        })
    }

    /// A registry client for one pull or push, holding only the
    /// credentials that request brought. A client shared across requests
    /// would remember them: a later pull without credentials — after a
    /// `logout`, or by another user of the daemon — would still be
    /// authorised, and two pulls with different credentials would race.
    pub(super) fn registry_for(
        &self,
        domain: &str,
        auth: Option<&RegistryAuth>,
    ) -> minidock_registry::Client {
        let registry = self.registry_client();
        if let Some(creds) = credentials(auth) {
            registry.set_credentials(domain, creds);
        }
        registry
    }
}
// ANCHOR_END: request_registry

#[cfg(test)]
mod tests {
    use super::login_domain;

    #[test]
    fn login_domains_are_read_as_the_docker_cli_sends_them() {
        assert_eq!(login_domain("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(login_domain(""), "docker.io");
        assert_eq!(login_domain("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(login_domain("http://localhost:5000/v2/"), "localhost:5000");
        assert_eq!(login_domain("registry.example:443"), "registry.example:443");
    }
}
