//! Who may use the dashboard: only the person who started it.
//!
//! The daemon is root-equivalent, and a page on 127.0.0.1 can be reached by
//! every user of the machine and by every web site the browser visits (a
//! page elsewhere can send requests to `http://127.0.0.1:PORT`). So:
//!
//! - **A token.** `minidock desktop` makes 32 random bytes and prints them in
//!   the URL it opens with (`/?token=…`). Every request must carry it, either
//!   in that query or in the cookie the first request sets (the answer to
//!   the URL with the token is a redirect to the same page without it, so it
//!   does not stay in the address bar, the history or a `Referer`). Without
//!   it: 403.
//! - **The Host header** must be `127.0.0.1:PORT` or `localhost:PORT`: a web
//!   site that points its own name at 127.0.0.1 (DNS rebinding) is refused.
//! - **POSTs carry a second secret** (the CSRF token) in a hidden form field
//!   that only pages of the dashboard contain, and when the browser names the
//!   page the request comes from (`Origin`), it must be the dashboard itself.
//!   The cookie is `SameSite=Strict` too, so another site's form is refused
//!   three times over.

use std::io::Read;

/// The cookie that carries the token after the first request.
pub const COOKIE: &str = "minidock_desktop";

/// The secrets of one run of the dashboard and the port it listens on.
#[derive(Debug, Clone)]
pub struct Access {
    token: String,
    csrf: String,
    port: u16,
}

/// Why a request is refused (always a 403; the text says what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// The token a request carried, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// In the query (`?token=`): the first request, from the printed URL.
    Query,
    /// In the cookie.
    Cookie,
}

impl Access {
    /// New random secrets for a dashboard on `port`.
    pub fn new(port: u16) -> std::io::Result<Access> {
        Ok(Access {
            token: random_hex()?,
            csrf: random_hex()?,
            port,
        })
    }

    /// Fixed secrets (for unit tests).
    pub fn with_secrets(token: &str, csrf: &str, port: u16) -> Access {
        Access {
            token: token.to_string(),
            csrf: csrf.to_string(),
            port,
        }
    }

    /// The URL to open: the only way in.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?token={}", self.port, self.token)
    }

    /// The CSRF token that forms carry.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The `Set-Cookie` value that keeps the token for the next requests.
    /// `HttpOnly`: the page's scripts never see it; `SameSite=Strict`: the
    /// browser sends it only with requests from the dashboard's own pages.
    pub fn cookie(&self) -> String {
        format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", self.token)
    }

    // ANCHOR: check
    /// Checks the token and the host of a request: `host` is its `Host`
    /// header, `token_param` the `token` of its query, `cookies` its
    /// `Cookie` headers.
    pub fn check(
        &self,
        host: Option<&str>,
        token_param: Option<&str>,
        cookies: &[&str],
    ) -> Result<Proof, Refused> {
        let own = [
            format!("127.0.0.1:{}", self.port),
            format!("localhost:{}", self.port),
        ];
        if !host.is_some_and(|h| own.iter().any(|o| o.eq_ignore_ascii_case(h))) {
            return Err(Refused(
                "this dashboard answers only as 127.0.0.1 or localhost with its port",
            ));
        }
        if token_param.is_some_and(|t| same(t, &self.token)) {
            return Ok(Proof::Query);
        }
        let from_cookie = cookies
            .iter()
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && same(value, &self.token));
        if from_cookie {
            Ok(Proof::Cookie)
        } else {
            Err(Refused(
                "no valid token: open the URL that `minidock desktop` printed (it carries the token)",
            ))
        }
    }

    /// Checks what a POST adds: its form's `csrf` field, and its `Origin`
    /// when the browser sent one.
    pub fn check_post(&self, origin: Option<&str>, csrf: Option<&str>) -> Result<(), Refused> {
        if let Some(origin) = origin {
            let own = [
                format!("http://127.0.0.1:{}", self.port),
                format!("http://localhost:{}", self.port),
            ];
            if !own.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Err(Refused("the request comes from a page of another site"));
            }
        }
        if csrf.is_some_and(|c| same(c, &self.csrf)) {
            Ok(())
        } else {
            Err(Refused(
                "the form lacks the dashboard's CSRF token: reload the page and try again",
            ))
        }
    }
    // ANCHOR_END: check
}

/// Compares two secrets in time that does not depend on where they differ,
/// so that timing the answers does not reveal the token byte by byte.
fn same(given: &str, secret: &str) -> bool {
    let (a, b) = (given.as_bytes(), secret.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 bytes of the kernel's random generator, as 64 hex digits.
fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access::with_secrets("t0k3n", "c5rf", 4000)
    }

    #[test]
    fn the_token_is_needed_in_the_query_or_the_cookie() {
        let a = access();
        let host = Some("127.0.0.1:4000");
        assert_eq!(a.check(host, Some("t0k3n"), &[]), Ok(Proof::Query));
        assert_eq!(
            a.check(host, None, &["x=1; minidock_desktop=t0k3n"]),
            Ok(Proof::Cookie)
        );
        assert!(a.check(host, None, &[]).is_err());
        assert!(a.check(host, Some("t0k3m"), &[]).is_err());
        assert!(a.check(host, Some("t0k3n0"), &[]).is_err());
        assert!(a.check(host, None, &["minidock_desktop=nope"]).is_err());
    }

    #[test]
    fn another_host_name_is_refused_even_with_the_token() {
        let a = access();
        for host in [None, Some("evil.example:4000"), Some("127.0.0.1:4001")] {
            assert!(a.check(host, Some("t0k3n"), &[]).is_err(), "{host:?}");
        }
        assert!(a.check(Some("localhost:4000"), Some("t0k3n"), &[]).is_ok());
    }

    #[test]
    fn a_post_needs_the_csrf_token_and_its_own_origin() {
        let a = access();
        assert!(a.check_post(None, Some("c5rf")).is_ok());
        assert!(a
            .check_post(Some("http://127.0.0.1:4000"), Some("c5rf"))
            .is_ok());
        assert!(a
            .check_post(Some("http://evil.example"), Some("c5rf"))
            .is_err());
        assert!(a.check_post(None, None).is_err());
        assert!(a.check_post(None, Some("t0k3n")).is_err());
    }

    #[test]
    fn secrets_are_random_and_long() {
        let (a, b) = (Access::new(1).unwrap(), Access::new(1).unwrap());
        assert_eq!(a.token.len(), 64);
        assert_ne!(a.token, b.token);
        assert_ne!(a.token, a.csrf);
    }
}
