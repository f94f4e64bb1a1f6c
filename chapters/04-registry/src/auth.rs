//! Answering a challenge: Bearer tokens and Basic credentials.
//!
//! For a `Bearer` challenge the client asks the token server (the `realm`)
//! for a token that allows some *scopes*:
//!
//! ```text
//! GET https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/busybox:pull
//! Authorization: Basic dXNlcjpwYXNz        (only when we have credentials)
//!
//! 200 {"token":"eyJhbGciOi…","expires_in":300,"issued_at":"…"}
//! ```
//!
//! Without credentials the token is anonymous: enough to pull public images.
//! A scope is `repository:NAME:ACTIONS` with actions `pull` or `pull,push`.
//! Tokens are cached per (realm, service, scopes, user) until they expire,
//! so pulling five layers costs one token request, not five.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::credentials::Credentials;

/// What a token server answers. Docker's token spec says `token`; OAuth2
/// servers say `access_token`; many send both.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    /// The token, as Docker's token spec names it.
    pub token: Option<String>,
    #[serde(default)]
    /// The token, as OAuth2 names it.
    pub access_token: Option<String>,
    /// Lifetime in seconds; the spec's default is 60.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The scope that allows pulling from `repository`, or pulling and pushing.
pub fn repository_scope(repository: &str, push: bool) -> String {
    let actions = if push { "pull,push" } else { "pull" };
    format!("repository:{repository}:{actions}")
}

// ANCHOR: merge_scopes
/// One scope per resource, its actions merged: `repository:a:pull` and a
/// challenge's `repository:a:push,pull` ask for `repository:a:pull,push`
/// once. The actions are sorted, so that the same access is always the
/// same scope (the token cache's key sorts the list itself). A scope that is
/// not `TYPE:NAME:ACTIONS` is kept as it is.
pub fn merge_scopes(scopes: &[String]) -> Vec<String> {
    let mut merged: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    let mut other = Vec::new();
    for scope in scopes.iter().filter(|s| !s.is_empty()) {
        match scope.rsplit_once(':') {
            Some((resource, actions)) if resource.contains(':') => {
                merged
                    .entry(resource)
                    .or_default()
                    .extend(actions.split(','));
            }
            _ => other.push(scope.clone()),
        }
    }
    let mut all: Vec<String> = merged
        .into_iter()
        .map(|(resource, mut actions)| {
            actions.retain(|a| !a.is_empty());
            actions.sort_unstable();
            actions.dedup();
            format!("{resource}:{}", actions.join(","))
        })
        .chain(other)
        .collect();
    all.sort();
    all.dedup();
    all
}
// ANCHOR_END: merge_scopes

// ANCHOR: token_request
/// The URL of the token request: the realm with `service` and one `scope`
/// parameter per scope, percent-encoded. A realm may already carry a query.
pub fn token_url(realm: &str, service: Option<&str>, scopes: &[String]) -> String {
    // exercise 4.2 token-request: build REALM?service=…&scope=…&scope=… for the token server.
    // hint: start with '?' unless the realm already has a query, then '&' between parameters
    // hint: percent-encode values with percent_encode (':' and '/' in a scope must be encoded)
    let mut params: Vec<(&str, &str)> = Vec::new();
    if let Some(service) = service {
        params.push(("service", service));
    }
    for scope in scopes {
        params.push(("scope", scope));
    }
    let mut url = realm.to_string();
    let mut sep = if realm.contains('?') { '&' } else { '?' };
    for (key, value) in params {
        url.push(sep);
        url.push_str(key);
        url.push('=');
        url.push_str(&percent_encode(value));
        sep = '&';
    }
    url
    // end exercise
}
// ANCHOR_END: token_request

/// The token in a token server's answer, and how long it lives.
pub fn parse_token_response(body: &[u8]) -> Result<(String, Duration), String> {
    let parsed: TokenResponse =
        serde_json::from_slice(body).map_err(|e| format!("answer is not a token: {e}"))?;
    let token = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or("answer has neither `token` nor `access_token`")?;
    // Registries must accept a token for at least 60 s; a shorter or missing
    // lifetime means the default.
    let secs = parsed.expires_in.unwrap_or(60).max(60);
    Ok((token, Duration::from_secs(secs)))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ANCHOR: token_types
/// The `Authorization` value for Basic credentials.
pub fn basic_authorization(creds: &Credentials) -> String {
    format!("Basic {}", creds.basic_token())
}

/// Key of a cached token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    realm: String,
    service: Option<String>,
    scopes: Vec<String>,
    user: Option<String>,
}

/// Bearer tokens, kept until shortly before they expire.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, (String, Instant)>>,
}

/// Tokens are dropped this long before their announced expiry, so one does
/// not expire between the check and the request.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

// ANCHOR_END: token_types
// ANCHOR: token_get
impl TokenCache {
    /// A cached, still valid token for these parameters.
    pub fn get(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        user: Option<&str>,
    ) -> Option<String> {
        let key = key(realm, service, scopes, user);
        let mut tokens = self.tokens.lock().expect("token cache lock");
        match tokens.get(&key) {
            Some((token, until)) if Instant::now() < *until => Some(token.clone()),
            Some(_) => {
                tokens.remove(&key);
                None
            }
            None => None,
        }
    }

    // ANCHOR_END: token_get
    // ANCHOR: token_put
    /// Remembers a token that lives `ttl`.
    pub fn put(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        user: Option<&str>,
        token: String,
        ttl: Duration,
    ) {
        let until = Instant::now() + ttl.saturating_sub(EXPIRY_MARGIN);
        self.tokens
            .lock()
            .expect("token cache lock")
            .insert(key(realm, service, scopes, user), (token, until));
    }

    /// Forgets a token the registry refused (revoked, or too narrow).
    pub fn forget(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        user: Option<&str>,
    ) {
        self.tokens
            .lock()
            .expect("token cache lock")
            .remove(&key(realm, service, scopes, user));
    }
}

fn key(realm: &str, service: Option<&str>, scopes: &[String], user: Option<&str>) -> TokenKey {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    TokenKey {
        realm: realm.to_string(),
        service: service.map(str::to_string),
        scopes,
        user: user.map(str::to_string),
    }
}
// ANCHOR_END: token_put

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_one_repository_merge_their_actions() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // A push's own scope and the registry's challenge, in another order.
        assert_eq!(
            merge_scopes(&s(&[
                "repository:a/b:pull,push",
                "repository:a/b:push,pull"
            ])),
            s(&["repository:a/b:pull,push"])
        );
        assert_eq!(
            merge_scopes(&s(&[
                "repository:x:pull",
                "repository:a:pull",
                "repository:x:push",
                "registry:catalog:*",
                "odd",
                ""
            ])),
            s(&[
                "odd",
                "registry:catalog:*",
                "repository:a:pull",
                "repository:x:pull,push"
            ])
        );
    }

    #[test]
    fn token_url_encodes_and_appends() {
        let scopes = vec![
            repository_scope("library/busybox", false),
            repository_scope("me/app", true),
        ];
        assert_eq!(
            token_url("https://auth.docker.io/token", Some("registry.docker.io"), &scopes),
            "https://auth.docker.io/token?service=registry.docker.io\
             &scope=repository%3Alibrary%2Fbusybox%3Apull&scope=repository%3Ame%2Fapp%3Apull%2Cpush"
        );
        assert_eq!(
            token_url("http://127.0.0.1:9/t?x=1", None, &scopes[..1]),
            "http://127.0.0.1:9/t?x=1&scope=repository%3Alibrary%2Fbusybox%3Apull"
        );
        assert_eq!(
            token_url("http://h/t", Some("a b"), &[]),
            "http://h/t?service=a%20b"
        );
    }

    #[test]
    fn token_answers_in_both_spellings() {
        let (t, ttl) = parse_token_response(br#"{"token":"abc","expires_in":300}"#).unwrap();
        assert_eq!((t.as_str(), ttl.as_secs()), ("abc", 300));
        let (t, ttl) = parse_token_response(br#"{"access_token":"xyz"}"#).unwrap();
        assert_eq!((t.as_str(), ttl.as_secs()), ("xyz", 60));
        let (t, _) = parse_token_response(br#"{"token":"","access_token":"both"}"#).unwrap();
        assert_eq!(t, "both");
        assert!(parse_token_response(br#"{"expires_in":3}"#).is_err());
        assert!(parse_token_response(b"<html>").is_err());
    }

    #[test]
    fn cache_keys_on_everything_and_expires() {
        let cache = TokenCache::default();
        let s = vec!["repository:a:pull".to_string()];
        cache.put(
            "r",
            Some("s"),
            &s,
            None,
            "t1".into(),
            Duration::from_secs(300),
        );
        assert_eq!(cache.get("r", Some("s"), &s, None).as_deref(), Some("t1"));
        assert_eq!(cache.get("r", Some("s"), &s, Some("bob")), None);
        assert_eq!(cache.get("r", None, &s, None), None);
        let push = vec!["repository:a:pull,push".to_string()];
        assert_eq!(cache.get("r", Some("s"), &push, None), None);
        // A lifetime within the safety margin is already expired.
        cache.put("r", None, &s, None, "t2".into(), Duration::from_secs(5));
        assert_eq!(cache.get("r", None, &s, None), None);
        cache.forget("r", Some("s"), &s, None);
        assert_eq!(cache.get("r", Some("s"), &s, None), None);
    }
}
