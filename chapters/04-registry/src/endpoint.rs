//! Where a registry lives: from the domain of a reference to a base URL.
//!
//! A reference names a registry by *domain* (`docker.io`, `ghcr.io`,
//! `localhost:5000`); the HTTP API lives at `SCHEME://HOST/v2/`. Two rules
//! turn one into the other:
//!
//! - Docker Hub's domain `docker.io` is not where its API is: that is
//!   `registry-1.docker.io` (and its credentials are stored under the old
//!   index address `https://index.docker.io/v1/`).
//! - Registries on the loopback interface speak plain HTTP (as Docker allows
//!   by default); every other registry is HTTPS unless the user marked it
//!   insecure, because an image fetched over plain HTTP from the network
//!   could have been swapped on the way — only digests would notice.
//! - A registry with a certificate directory (`certs.d/<host:port>/`, see
//!   [`crate::tls`]) is HTTPS even on the loopback interface: the directory
//!   says it speaks TLS, and with which certificates.

use std::net::IpAddr;
use std::path::Path;

/// Docker Hub's domain in references.
pub const DOCKER_HUB_DOMAIN: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// The key of Docker Hub in `config.json` `auths`.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP: only for loopback registries or those the user marked insecure.
    Http,
    /// HTTPS, the default.
    Https,
}

impl Scheme {
    /// The scheme as it appears in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

// ANCHOR: endpoint
/// A registry's API endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The domain as written in references (`docker.io`): used in messages
    /// and as the key for credentials.
    pub domain: String,
    /// `http` for loopback and insecure registries, `https` otherwise.
    pub scheme: Scheme,
    /// Host and port the API is served from (`registry-1.docker.io`).
    pub host: String,
}

impl Endpoint {
    /// The endpoint of the registry named `domain` in a reference.
    /// `insecure` lists domains the user allows over plain HTTP.
    pub fn for_domain(domain: &str, insecure: &[String]) -> Endpoint {
        let host = if domain == DOCKER_HUB_DOMAIN || domain == "index.docker.io" {
            DOCKER_HUB_API_HOST.to_string()
        } else {
            domain.to_string()
        };
        let plain = is_loopback(domain) || insecure.iter().any(|d| d == domain);
        Endpoint {
            domain: domain.to_string(),
            scheme: if plain { Scheme::Http } else { Scheme::Https },
            host,
        }
    }
    // ANCHOR_END: endpoint

    // ANCHOR: for_domain_in
    /// [`Endpoint::for_domain`], then HTTPS whatever the address when
    /// `certs_dir` has a directory for the registry's host.
    pub fn for_domain_in(domain: &str, insecure: &[String], certs_dir: Option<&Path>) -> Endpoint {
        let mut endpoint = Endpoint::for_domain(domain, insecure);
        if certs_dir.is_some_and(|dir| crate::tls::HostCerts::dir_of(dir, &endpoint.host).is_some())
        {
            endpoint.scheme = Scheme::Https;
        }
        endpoint
    }
    // ANCHOR_END: for_domain_in

    /// `SCHEME://HOST` without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.host)
    }

    /// The URL of an API path (`/v2/...`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The key under which `config.json` stores this registry's credentials.
    pub fn auth_key(&self) -> String {
        auth_key_for(&self.domain)
    }
}

/// The `config.json` key for a registry domain: Docker Hub keeps its old
/// index URL, every other registry its domain.
pub fn auth_key_for(domain: &str) -> String {
    if domain == DOCKER_HUB_DOMAIN || domain == "index.docker.io" || domain == DOCKER_HUB_API_HOST {
        DOCKER_HUB_AUTH_KEY.to_string()
    } else {
        domain.to_string()
    }
}

// ANCHOR: loopback
/// Whether a domain (`host[:port]`, `[v6]:port`) names the loopback interface.
pub fn is_loopback(domain: &str) -> bool {
    let host = host_of(domain);
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host part of `host[:port]`, without IPv6 brackets.
fn host_of(domain: &str) -> &str {
    if let Some(rest) = domain.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    if domain.matches(':').count() > 1 {
        return domain; // a bare IPv6 address such as ::1
    }
    domain.split(':').next().unwrap_or(domain)
}
// ANCHOR_END: loopback

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_served_elsewhere_and_keyed_by_its_old_index() {
        let e = Endpoint::for_domain("docker.io", &[]);
        assert_eq!(e.base_url(), "https://registry-1.docker.io");
        assert_eq!(e.auth_key(), "https://index.docker.io/v1/");
        assert_eq!(
            e.url("/v2/library/busybox/manifests/latest"),
            "https://registry-1.docker.io/v2/library/busybox/manifests/latest"
        );
    }

    #[test]
    fn loopback_is_plain_http_the_rest_https_unless_insecure() {
        for (domain, scheme) in [
            ("localhost", Scheme::Http),
            ("localhost:5000", Scheme::Http),
            ("127.0.0.1:5000", Scheme::Http),
            ("127.1.2.3", Scheme::Http),
            ("[::1]:5000", Scheme::Http),
            ("::1", Scheme::Http),
            ("ghcr.io", Scheme::Https),
            ("10.0.0.5:5000", Scheme::Https),
            ("localhost.example.com", Scheme::Https),
        ] {
            assert_eq!(Endpoint::for_domain(domain, &[]).scheme, scheme, "{domain}");
        }
        let certs = tempfile::tempdir().unwrap();
        std::fs::create_dir(certs.path().join("127.0.0.1:5000")).unwrap();
        std::fs::create_dir(certs.path().join("10.0.0.5:5000")).unwrap();
        let tls = |d: &str| Endpoint::for_domain_in(d, &[], Some(certs.path())).scheme;
        assert_eq!(
            tls("127.0.0.1:5000"),
            Scheme::Https,
            "a certs.d entry means TLS"
        );
        assert_eq!(tls("127.0.0.1:5001"), Scheme::Http);
        let insecure = vec!["10.0.0.5:5000".to_string()];
        assert_eq!(
            Endpoint::for_domain_in("10.0.0.5:5000", &insecure, Some(certs.path())).scheme,
            Scheme::Https
        );
        let e = Endpoint::for_domain("10.0.0.5:5000", &insecure);
        assert_eq!(e.base_url(), "http://10.0.0.5:5000");
        assert_eq!(e.auth_key(), "10.0.0.5:5000");
    }
}
