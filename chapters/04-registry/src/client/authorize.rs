//! How the client authenticates: `GET /v2/` and the challenge it answers,
//! the `Authorization` header for a request (a cached Bearer token or
//! Basic credentials), the token server, and `login`/`logout`.

use std::time::Duration;

use crate::auth::{basic_authorization, parse_token_response, token_url};
use crate::challenge::Challenge;
use crate::credentials::{Credentials, DockerConfig};
use crate::endpoint::Endpoint;
use crate::error::{describe_error_body, RegistryError, Result};

use super::{challenge_of, read_small, Client, Req};

impl Client {
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
    pub(super) fn remember(&self, endpoint: &Endpoint, challenge: Option<Challenge>) {
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

    // ANCHOR: authorization
    /// The challenge learned from `endpoint`, pinging it the first time.
    pub(super) fn challenge(&self, endpoint: &Endpoint) -> Result<Option<Challenge>> {
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
    pub(super) fn authorization(
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
                // Ours and the challenge's (space-separated), one per
                // repository.
                let mut scopes = scopes.to_vec();
                scopes.extend(
                    scope
                        .iter()
                        .flat_map(|s| s.split_whitespace().map(String::from)),
                );
                let scopes = crate::auth::merge_scopes(&scopes);
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
    // ANCHOR_END: authorization

    // ANCHOR: fetch_token
    /// Asks the token server for a token; with credentials, they go along as
    /// Basic auth (to the realm the registry named, and only there).
    pub(super) fn fetch_token(
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

    // ANCHOR: verify_login
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
    // ANCHOR_END: verify_login

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
}
