//! The HTTP side: one [`Client`] per program, one [`Repo`] per repository.
//!
//! Every request of the distribution API goes through [`Repo::send`], which
//! does the three things every request needs:
//!
//! 1. attach the right `Authorization` (a cached Bearer token or Basic
//!    credentials), learned from the registry's challenge;
//! 2. on `401`, read the new challenge, get a fresh token and try once more;
//! 3. follow redirects *by hand*: blob downloads are often redirected to a
//!    storage service on another host, and our credentials must not go
//!    there — `Authorization` is only sent to the registry's own origin.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use ureq::http;

use crate::auth::TokenCache;
use crate::challenge::{parse_challenge, Challenge};
use crate::credentials::{Credentials, DockerConfig};
use crate::endpoint::Endpoint;
use crate::error::{RegistryError, Result};

mod authorize;
mod redirect;
mod send;

pub use redirect::{origin_of, resolve_location};
pub use send::Repo;
pub(crate) use send::Req;

/// A response whose body has not been read yet.
pub type Response = http::Response<ureq::Body>;

/// How many redirects one request may follow.
pub const MAX_REDIRECTS: u32 = 5;
/// The largest error body or token answer we read.
const SMALL_BODY_LIMIT: u64 = 64 * 1024;

// ANCHOR: client_options
/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Registry domains (`host:port`) that may be reached over plain HTTP
    /// although they are not on the loopback interface.
    pub insecure_registries: Vec<String>,
    /// Docker's `config.json` with saved credentials.
    pub credentials_file: PathBuf,
    /// Layers downloaded at the same time (Docker's default is 3).
    pub max_concurrent_downloads: usize,
    /// Tries per blob download (the first one included).
    pub tries: u32,
    /// Pause before a retry, multiplied by the number of the try.
    pub retry_delay: Duration,
    /// Limit for connecting and for each read from the network.
    pub io_timeout: Duration,
    /// Per-registry CAs and client certificates (`certs.d/<host:port>/`,
    /// see [`crate::tls`]); `None`: none.
    pub certs_dir: Option<PathBuf>,
    /// Mirrors of Docker Hub (`http://127.0.0.1:5001`, `https://mirror.example`),
    /// tried in order before it for pulls (`registry-mirrors`).
    pub registry_mirrors: Vec<String>,
}
// ANCHOR_END: client_options

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure_registries: Vec::new(),
            credentials_file: DockerConfig::default_path(),
            max_concurrent_downloads: 3,
            tries: 3,
            retry_delay: Duration::from_millis(500),
            io_timeout: Duration::from_secs(60),
            certs_dir: Some(PathBuf::from(crate::tls::DEFAULT_CERTS_DIR)),
            registry_mirrors: Vec::new(),
        }
    }
}

// ANCHOR: client_struct
/// A registry client: the HTTP agent (with its connection pool), the
/// challenges learned per registry, cached tokens and credentials.
/// It is `Sync`: layer downloads share one client across threads.
pub struct Client {
    agent: ureq::Agent,
    /// Agents with their own TLS settings, for hosts that have a
    /// certificate directory, by `host:port`.
    tls_agents: Mutex<HashMap<String, ureq::Agent>>,
    pub(crate) options: ClientOptions,
    tokens: TokenCache,
    /// The challenge each registry host answered to `GET /v2/`
    /// (`None`: it needs no authentication).
    challenges: Mutex<HashMap<String, Option<Challenge>>>,
    /// Credentials given explicitly, by registry domain; they win over
    /// the credentials file.
    explicit_credentials: Mutex<HashMap<String, Credentials>>,
}
// ANCHOR_END: client_struct

impl Default for Client {
    fn default() -> Self {
        Client::new(ClientOptions::default())
    }
}

impl Client {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Client {
        Client {
            agent: new_agent(&options, None),
            tls_agents: Mutex::new(HashMap::new()),
            options,
            tokens: TokenCache::default(),
            challenges: Mutex::new(HashMap::new()),
            explicit_credentials: Mutex::new(HashMap::new()),
        }
    }

    /// The options this client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Uses `creds` for the registry `domain` instead of the credentials file.
    pub fn set_credentials(&self, domain: &str, creds: Credentials) {
        self.explicit_credentials
            .lock()
            .expect("credentials lock")
            .insert(domain.to_string(), creds);
    }

    /// The endpoint of a registry domain, honouring the insecure list and
    /// the certificate directories.
    pub fn endpoint(&self, domain: &str) -> Endpoint {
        Endpoint::for_domain_in(
            domain,
            &self.options.insecure_registries,
            self.options.certs_dir.as_deref(),
        )
    }

    /// The mirrors to try before the registry `domain`: Docker Hub's, for
    /// Docker Hub; none for other registries (as Docker).
    pub fn mirrors_for(&self, domain: &str) -> Vec<String> {
        if domain == crate::endpoint::DOCKER_HUB_DOMAIN {
            self.options.registry_mirrors.clone()
        } else {
            Vec::new()
        }
    }

    /// A repository on a mirror (`SCHEME://HOST[:PORT]`, any path ignored),
    /// for pulling. The mirror is addressed by its own host, so Docker
    /// Hub's credentials are not sent to it.
    pub fn mirror_repo(&self, mirror: &str, repository: &str) -> Repo<'_> {
        let (scheme, rest) = mirror.split_once("://").unwrap_or(("https", mirror));
        let host = rest.split('/').next().unwrap_or(rest).to_string();
        let scheme = if scheme.eq_ignore_ascii_case("http") {
            crate::endpoint::Scheme::Http
        } else {
            crate::endpoint::Scheme::Https
        };
        Repo {
            client: self,
            endpoint: Endpoint {
                domain: host.clone(),
                scheme,
                host,
            },
            name: repository.to_string(),
            scopes: vec![crate::auth::repository_scope(repository, false)],
        }
    }

    // ANCHOR: agent_for
    /// The agent for a URL: the shared one, or for an HTTPS host with a
    /// certificate directory, one with that directory's CAs and client
    /// certificate (made once, then kept with its connections).
    fn agent_for(&self, url: &str) -> Result<ureq::Agent> {
        let (Some(dir), Some(authority)) = (
            self.options.certs_dir.as_deref(),
            url.strip_prefix("https://")
                .and_then(|rest| rest.split(['/', '?', '#']).next()),
        ) else {
            return Ok(self.agent.clone());
        };
        let mut agents = self.tls_agents.lock().expect("agents lock");
        if let Some(agent) = agents.get(authority) {
            return Ok(agent.clone());
        }
        let Some(certs) = crate::tls::HostCerts::find(dir, authority)? else {
            return Ok(self.agent.clone());
        };
        let agent = new_agent(&self.options, Some(certs.tls_config()?));
        agents.insert(authority.to_string(), agent.clone());
        Ok(agent)
    }
    // ANCHOR_END: agent_for

    /// The credentials for a registry: explicit ones, else the file's.
    pub fn credentials_for(&self, domain: &str) -> Result<Option<Credentials>> {
        if let Some(c) = self
            .explicit_credentials
            .lock()
            .expect("credentials lock")
            .get(domain)
        {
            return Ok(Some(c.clone()));
        }
        Ok(DockerConfig::load(&self.options.credentials_file)?.get(domain))
    }

    /// A handle on one repository, asking for pull (and push) access.
    pub fn repo(&self, domain: &str, repository: &str, push: bool) -> Repo<'_> {
        let scope = crate::auth::repository_scope(repository, push);
        Repo {
            client: self,
            endpoint: self.endpoint(domain),
            name: repository.to_string(),
            scopes: vec![scope],
        }
    }
}

/// An HTTP agent with the client's settings and, for a registry with a
/// certificate directory, its TLS settings.
fn new_agent(options: &ClientOptions, tls: Option<ureq::tls::TlsConfig>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        // Statuses are protocol answers here (401 starts auth, 404 is
        // "missing blob"), not errors.
        .http_status_as_error(false)
        // We follow redirects ourselves, see `send_raw`.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("minidock/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(options.io_timeout))
        .timeout_per_read(Some(options.io_timeout))
        .timeout_per_write(Some(options.io_timeout));
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    config.build().into()
}

/// The challenge in a `401` answer, if it has one.
fn challenge_of(endpoint: &Endpoint, resp: &Response) -> Result<Option<Challenge>> {
    let Some(h) = header(resp, "www-authenticate") else {
        return Ok(None);
    };
    parse_challenge(h)
        .map(Some)
        .map_err(|reason| RegistryError::BadChallenge {
            registry: endpoint.domain.clone(),
            header: h.to_string(),
            reason,
        })
}

/// A response header as text.
pub(crate) fn header<'r>(resp: &'r Response, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads at most a small body (errors, tokens); an unreadable body is empty.
pub(crate) fn read_small(mut resp: Response) -> Vec<u8> {
    resp.body_mut()
        .with_config()
        .limit(SMALL_BODY_LIMIT)
        .read_to_vec()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_shared_by_download_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Client>();
    }
}
