//! The little HTTP the dashboard needs on top of hyper: form and query
//! decoding, and the answers it sends (a page, a redirect, a refusal, a
//! stream of server-sent events), each with the headers that keep the
//! page to itself.

use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use hyper::{Response, StatusCode};
use minidock_daemon::server::Body;
use std::collections::BTreeMap;

/// Decoded `application/x-www-form-urlencoded` pairs (a query or a form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(pub BTreeMap<String, String>);

impl Form {
    /// Parses `a=1&b=x%20y` (`+` is a space); a malformed escape is kept
    /// as it was.
    pub fn parse(text: &str) -> Form {
        let pairs = text
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect();
        Form(pairs)
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A field's value with spaces trimmed, `None` when empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Percent-decoding, with `+` as a space (a form's or a path segment's
/// escapes).
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of one hex digit.
fn hex(digit: Option<&u8>) -> Option<u8> {
    (*digit? as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes a value for a URL's path or query.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Adds the headers every answer carries: nothing cached, no `Referer`
/// sent to other sites, never shown inside another site's frame, and
/// scripts and styles only from the dashboard itself.
pub fn guarded(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends
    // `Origin: null` with the dashboard's own form POSTs, which the CSRF
    // check must refuse.
    headers.insert("Referrer-Policy", HeaderValue::from_static("same-origin"));
    headers.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
    headers.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "Content-Security-Policy",
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; \
             form-action 'self'",
        ),
    );
    response
}

/// An answer with `status`, `content_type` and `body`.
pub fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An HTML page.
pub fn html(status: StatusCode, page: String) -> Response<Body> {
    answer(status, "text/html; charset=utf-8", page)
}

/// `303 See Other` to `location` (after a POST, so that a reload does not
/// send the form again).
pub fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `403 Forbidden` with why, as plain text.
pub fn forbidden(why: &str) -> Response<Body> {
    answer(
        StatusCode::FORBIDDEN,
        "text/plain; charset=utf-8",
        format!("403 Forbidden: {why}\n"),
    )
}

/// `404 Not Found`.
pub fn not_found(path: &str) -> Response<Body> {
    answer(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        format!("404 Not Found: the dashboard has no page {path}\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_escapes_and_plus() {
        let form = Form::parse("image=busybox%3Alatest&cmd=sleep+30&empty=&bad=%zz&end=%4");
        assert_eq!(form.get("image"), Some("busybox:latest"));
        assert_eq!(form.get("cmd"), Some("sleep 30"));
        assert_eq!(form.text("empty"), None);
        assert_eq!(form.get("bad"), Some("%zz"));
        assert_eq!(form.get("end"), Some("%4"));
        assert_eq!(form.get("missing"), None);
    }

    #[test]
    fn encode_is_the_inverse_of_decode() {
        let text = "a b/c?d=é&";
        assert_eq!(
            Form::parse(&format!("x={}", encode(text))).get("x"),
            Some(text)
        );
    }
}
