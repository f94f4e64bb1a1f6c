//! Redirects: where a `Location` leads, and whether it stays on the
//! registry's origin (the only place credentials go).

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
