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

use crate::auth::{basic_authorization, parse_token_response, token_url, TokenCache};
use crate::challenge::{parse_challenge, Challenge};
use crate::credentials::{Credentials, DockerConfig};
use crate::endpoint::Endpoint;
use crate::error::{describe_error_body, RegistryError, Result};

/// A response whose body has not been read yet.
pub type Response = http::Response<ureq::Body>;

/// How many redirects one request may follow.
pub const MAX_REDIRECTS: u32 = 5;
/// The largest error body or token answer we read.
const SMALL_BODY_LIMIT: u64 = 64 * 1024;

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

    // ANCHOR: ping
    /// `GET /v2/`: is this a registry, and how does it want us to log in?
    /// A `200` means no authentication; a `401` carries the challenge.
    pub fn ping(&self, endpoint: &Endpoint) -> Result<Option<Challenge>> {
        let url = endpoint.url("/v2/");
        let resp = self.send_raw(endpoint, &Req::get(url.clone()), None)?;
        let challenge =
            match resp.status().as_u16() {
                200..=299 => None,
                401 => Some(challenge_of(endpoint, &resp)?.ok_or_else(|| {
                    RegistryError::BadChallenge {
                        registry: endpoint.domain.clone(),
                        header: String::new(),
                        reason: "401 without a WWW-Authenticate header".into(),
                    }
                })?),
                status => {
                    return Err(RegistryError::Unexpected {
                        registry: endpoint.domain.clone(),
                        method: "GET".into(),
                        url,
                        status,
                        detail: describe_error_body(status, &read_small(resp)),
                    })
                }
            };
        self.remember(endpoint, challenge.clone());
        Ok(challenge)
    }
    // ANCHOR_END: ping

    /// Keeps a registry's challenge for later requests, without its `scope`:
    /// that names what one request needed, other requests need their own.
    fn remember(&self, endpoint: &Endpoint, challenge: Option<Challenge>) {
        let general = challenge.map(|c| match c {
            Challenge::Bearer { realm, service, .. } => Challenge::Bearer {
                realm,
                service,
                scope: None,
            },
            basic => basic,
        });
        self.challenges
            .lock()
            .expect("challenge lock")
            .insert(endpoint.host.clone(), general);
    }

    /// The challenge learned from `endpoint`, pinging it the first time.
    fn challenge(&self, endpoint: &Endpoint) -> Result<Option<Challenge>> {
        let known = self
            .challenges
            .lock()
            .expect("challenge lock")
            .get(&endpoint.host)
            .cloned();
        match known {
            Some(c) => Ok(c),
            None => self.ping(endpoint),
        }
    }

    /// The `Authorization` value that answers `challenge` for `scopes`:
    /// a (cached) Bearer token or Basic credentials. `None` when we have
    /// nothing to offer (Basic without credentials).
    fn authorization(
        &self,
        endpoint: &Endpoint,
        challenge: &Challenge,
        scopes: &[String],
        fresh: bool,
    ) -> Result<Option<String>> {
        let creds = self.credentials_for(&endpoint.domain)?;
        match challenge {
            Challenge::Basic { .. } => Ok(creds.as_ref().map(basic_authorization)),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut scopes = scopes.to_vec();
                scopes.extend(scope.iter().filter(|s| !s.is_empty()).cloned());
                scopes.sort();
                scopes.dedup();
                let user = creds.as_ref().map(|c| c.username.as_str());
                let service = service.as_deref();
                if fresh {
                    self.tokens.forget(realm, service, &scopes, user);
                } else if let Some(t) = self.tokens.get(realm, service, &scopes, user) {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let (token, ttl) =
                    self.fetch_token(endpoint, realm, service, &scopes, creds.as_ref())?;
                self.tokens
                    .put(realm, service, &scopes, user, token.clone(), ttl);
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    // ANCHOR: fetch_token
    /// Asks the token server for a token; with credentials, they go along as
    /// Basic auth (to the realm the registry named, and only there).
    fn fetch_token(
        &self,
        endpoint: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        creds: Option<&Credentials>,
    ) -> Result<(String, Duration)> {
        let url = token_url(realm, service, scopes);
        let auth = creds.map(basic_authorization);
        let resp = self.send_raw(endpoint, &Req::get(url), auth.as_deref())?;
        let status = resp.status().as_u16();
        let body = read_small(resp);
        match status {
            200 => parse_token_response(&body).map_err(|detail| RegistryError::Token {
                realm: realm.to_string(),
                detail,
            }),
            401 | 403 => Err(RegistryError::Unauthorized {
                registry: endpoint.domain.clone(),
                repository: scopes.join(" "),
                detail: format!(
                    "the token server refused: {}",
                    describe_error_body(status, &body)
                ),
            }),
            _ => Err(RegistryError::Token {
                realm: realm.to_string(),
                detail: describe_error_body(status, &body),
            }),
        }
    }
    // ANCHOR_END: fetch_token

    /// Checks `creds` against the registry `domain` without saving them:
    /// a registry without auth accepts anything, Basic is tried on `/v2/`,
    /// Bearer on the token server.
    pub fn verify_login(&self, domain: &str, creds: &Credentials) -> Result<()> {
        let endpoint = self.endpoint(domain);
        let failed = |detail: String| RegistryError::LoginFailed {
            registry: domain.to_string(),
            user: creds.username.clone(),
            detail,
        };
        let authorization = match self.ping(&endpoint)? {
            None => return Ok(()),
            Some(Challenge::Basic { .. }) => basic_authorization(creds),
            Some(Challenge::Bearer { realm, service, .. }) => {
                match self.fetch_token(&endpoint, &realm, service.as_deref(), &[], Some(creds)) {
                    Ok((token, _)) => format!("Bearer {token}"),
                    Err(RegistryError::Unauthorized { detail, .. }) => return Err(failed(detail)),
                    Err(e) => return Err(e),
                }
            }
        };
        let url = endpoint.url("/v2/");
        let resp = self.send_raw(&endpoint, &Req::get(url), Some(&authorization))?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(failed(describe_error_body(status, &read_small(resp)))),
        }
    }

    /// `minidock login`: checks the credentials, then saves them in the
    /// credentials file (Docker's format, so `docker` sees them too).
    pub fn login(&self, domain: &str, creds: &Credentials) -> Result<()> {
        self.verify_login(domain, creds)?;
        let mut config = DockerConfig::load(&self.options.credentials_file)?;
        config.set(domain, creds);
        config.save()
    }

    /// `minidock logout`: forgets the saved credentials; whether there were any.
    pub fn logout(&self, domain: &str) -> Result<bool> {
        self.explicit_credentials
            .lock()
            .expect("credentials lock")
            .remove(domain);
        let mut config = DockerConfig::load(&self.options.credentials_file)?;
        let removed = config.remove(domain);
        if removed {
            config.save()?;
        }
        Ok(removed)
    }

    // ANCHOR: send_raw
    /// Sends one request and follows redirects by hand. `authorization`
    /// goes only to the origin (scheme, host and port) of the first URL:
    /// a redirect to a storage host gets no credentials.
    pub(crate) fn send_raw(
        &self,
        endpoint: &Endpoint,
        req: &Req<'_>,
        authorization: Option<&str>,
    ) -> Result<Response> {
        let origin = origin_of(&req.url);
        let mut url = req.url.clone();
        let mut method = req.method;
        let mut body = req.body;
        for _ in 0..=MAX_REDIRECTS {
            let mut builder = http::Request::builder().method(method).uri(&url);
            for (name, value) in &req.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(auth) = authorization.filter(|_| origin_of(&url) == origin) {
                builder = builder.header("Authorization", auth);
            }
            let transport = |source: ureq::Error| {
                let authority = origin_of(&url);
                let authority = authority.rsplit('/').next().unwrap_or_default();
                let authority = authority.strip_suffix(":443").unwrap_or(authority);
                match crate::tls::explain(&source, authority, self.options.certs_dir.as_deref()) {
                    Some(reason) => RegistryError::Tls {
                        registry: endpoint.domain.clone(),
                        url: url.clone(),
                        reason,
                    },
                    None => RegistryError::Transport {
                        registry: endpoint.domain.clone(),
                        url: url.clone(),
                        source,
                    },
                }
            };
            let agent = self.agent_for(&url)?;
            // GET and HEAD carry no body at all (not even `Content-Length: 0`).
            let sent = if matches!(method, "GET" | "HEAD" | "DELETE") {
                let request = builder.body(()).map_err(|e| transport(e.into()))?;
                agent.run(request)
            } else {
                let request = builder.body(body).map_err(|e| transport(e.into()))?;
                agent.run(request)
            };
            let resp = sent.map_err(transport)?;
            let status = resp.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let Some(location) = header(&resp, "location") else {
                return Ok(resp);
            };
            url = resolve_location(&url, location);
            if status == 303 {
                method = "GET";
                body = &[];
            }
        }
        Err(RegistryError::TooManyRedirects {
            registry: endpoint.domain.clone(),
            url: req.url.clone(),
            limit: MAX_REDIRECTS,
        })
    }
    // ANCHOR_END: send_raw
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

/// One request to make: method, URL, extra headers and body.
#[derive(Debug, Clone)]
pub(crate) struct Req<'a> {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl<'a> Req<'a> {
    pub fn new(method: &'static str, url: String) -> Req<'a> {
        Req {
            method,
            url,
            headers: Vec::new(),
            body: &[],
        }
    }
    pub fn get(url: String) -> Req<'a> {
        Req::new("GET", url)
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }
}

/// One repository on one registry, with the access (scopes) it needs.
pub struct Repo<'c> {
    pub(crate) client: &'c Client,
    /// Where the registry is.
    pub endpoint: Endpoint,
    /// The repository path (`library/busybox`).
    pub name: String,
    scopes: Vec<String>,
}

impl Repo<'_> {
    /// Also asks for pull access to `other` (needed to mount its blobs).
    pub fn add_pull_scope(&mut self, other: &str) {
        let scope = crate::auth::repository_scope(other, false);
        if !self.scopes.contains(&scope) {
            self.scopes.push(scope);
        }
    }

    /// `SCHEME://HOST/v2/NAME/PATH`.
    pub fn url(&self, path: &str) -> String {
        self.endpoint.url(&format!("/v2/{}/{path}", self.name))
    }

    // ANCHOR: send
    /// Sends `req` with authentication: answers the registry's known
    /// challenge up front, and on a `401` learns the new challenge, gets a
    /// fresh token and tries once more. A second `401` is returned as is.
    pub(crate) fn send(&self, req: &Req<'_>) -> Result<Response> {
        let client = self.client;
        let challenge = client.challenge(&self.endpoint)?;
        let auth = match &challenge {
            Some(c) => client.authorization(&self.endpoint, c, &self.scopes, false)?,
            None => None,
        };
        let resp = client.send_raw(&self.endpoint, req, auth.as_deref())?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let Some(new) = challenge_of(&self.endpoint, &resp)? else {
            return Ok(resp);
        };
        client.remember(&self.endpoint, Some(new.clone()));
        let retry = client.authorization(&self.endpoint, &new, &self.scopes, true)?;
        if retry.is_none() {
            return Ok(resp);
        }
        client.send_raw(&self.endpoint, req, retry.as_deref())
    }
    // ANCHOR_END: send

    /// Turns a failed answer into an error naming registry, repository and
    /// `what` was asked for (`manifest latest`, `blob sha256:…`).
    pub(crate) fn status_error(&self, req: &Req<'_>, resp: Response, what: &str) -> RegistryError {
        let status = resp.status().as_u16();
        let retry_after = header(&resp, "retry-after").map(str::to_string);
        let detail = describe_error_body(status, &read_small(resp));
        let registry = self.endpoint.domain.clone();
        let repository = self.name.clone();
        match status {
            401 => RegistryError::Unauthorized {
                registry,
                repository,
                detail,
            },
            403 => RegistryError::Denied {
                registry,
                repository,
                detail,
            },
            404 => RegistryError::NotFound {
                registry,
                repository,
                what: what.to_string(),
                detail,
            },
            429 => RegistryError::RateLimited {
                registry,
                repository,
                retry_after,
                detail,
            },
            500..=599 => RegistryError::Server {
                registry,
                repository,
                status,
                detail,
            },
            _ => RegistryError::Unexpected {
                registry,
                method: req.method.to_string(),
                url: req.url.clone(),
                status,
                detail,
            },
        }
    }
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

/// `scheme://host:port` of a URL, lowercased, with the default port spelt out.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .to_ascii_lowercase();
    let has_port = match authority.rfind(':') {
        Some(i) => !authority[i..].contains(']'),
        None => false,
    };
    if has_port {
        format!("{scheme}://{authority}")
    } else {
        let port = if scheme == "https" { 443 } else { 80 };
        format!("{scheme}://{authority}:{port}")
    }
}

// ANCHOR: resolve_location
/// Resolves a `Location` header against the URL it answered: absolute
/// URLs are taken as they are, `/path` keeps the origin, anything else is
/// relative to the directory of the current path.
pub fn resolve_location(current: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = current.split_once("://").unwrap_or(("http", current));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some(other_host) = location.strip_prefix("//") {
        return format!("{scheme}://{other_host}");
    }
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = rest[authority.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    format!("{scheme}://{authority}{dir}{location}")
}
// ANCHOR_END: resolve_location

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_shared_by_download_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Client>();
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            origin_of("http://127.0.0.1:5000/v2/"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            origin_of("https://Registry.example/v2/x?y"),
            "https://registry.example:443"
        );
        assert_eq!(origin_of("http://[::1]/v2/"), "http://[::1]:80");
        assert_eq!(origin_of("http://[::1]:5000"), "http://[::1]:5000");
        assert_ne!(
            origin_of("http://127.0.0.1:5000/a"),
            origin_of("http://127.0.0.2:5000/a")
        );
        assert_ne!(origin_of("http://h:1/"), origin_of("https://h:1/"));
    }

    #[test]
    fn locations_resolve_like_a_browser() {
        let cur = "http://127.0.0.1:5000/v2/a/b/blobs/uploads/?x=1";
        assert_eq!(
            resolve_location(cur, "https://s3.example/bucket/o?sig=1"),
            "https://s3.example/bucket/o?sig=1"
        );
        assert_eq!(
            resolve_location(cur, "/v2/a/b/blobs/uploads/uuid?_state=s"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/uuid?_state=s"
        );
        assert_eq!(
            resolve_location(cur, "uuid"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/uuid"
        );
        assert_eq!(resolve_location(cur, "//other:1/p"), "http://other:1/p");
    }
}
