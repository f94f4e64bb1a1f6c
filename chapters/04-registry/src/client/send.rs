//! Sending: one request with its authorization and redirects followed by
//! hand ([`Client::send_raw`]), and [`Repo`], the requests of one
//! repository, retried once with a fresh token on `401`.

use ureq::http;

use crate::endpoint::Endpoint;
use crate::error::{describe_error_body, RegistryError, Result};

use super::{
    challenge_of, header, origin_of, read_small, resolve_location, Client, Response, MAX_REDIRECTS,
};

impl Client {
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
    /// The scopes its tokens ask for (`repository:NAME:pull`, …).
    pub(super) scopes: Vec<String>,
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
