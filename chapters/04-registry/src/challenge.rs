//! The `WWW-Authenticate` challenge: how a registry says "who are you?".
//!
//! A registry that wants credentials answers `401 Unauthorized` with a
//! header naming the *scheme* and its parameters:
//!
//! ```text
//! WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//! WWW-Authenticate: Basic realm="Registry Realm"
//! ```
//!
//! `Basic` means: send `Authorization: Basic base64(user:password)` on every
//! request. `Bearer` means: go to the token server at `realm`, ask it for a
//! token for `service` and `scope`, and send `Authorization: Bearer TOKEN`.

/// A parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Ask the token server at `realm` for a token.
    Bearer {
        /// The token server's URL.
        realm: String,
        /// The service the token is for (the registry's name at the token server).
        service: Option<String>,
        /// The access asked for (`repository:library/busybox:pull`), when the registry says.
        scope: Option<String>,
    },
    /// Send user name and password with each request.
    Basic {
        /// The protection space the registry names, if it does.
        realm: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value. The reason of an error is a
/// short sentence for the message of a `BadChallenge` error.
pub fn parse_challenge(header: &str) -> Result<Challenge, String> {
    let header = header.trim();
    let (scheme, rest) = match header.split_once(char::is_whitespace) {
        Some((scheme, rest)) => (scheme, rest),
        None => (header, ""),
    };
    let params = parse_params(rest)?;
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Ok(Challenge::Bearer {
            realm: get("realm").ok_or("a Bearer challenge needs a realm")?,
            service: get("service"),
            scope: get("scope"),
        }),
        "basic" => Ok(Challenge::Basic {
            realm: get("realm"),
        }),
        "" => Err("the header is empty".into()),
        other => Err(format!(
            "unknown scheme {other:?} (expected Bearer or Basic)"
        )),
    }
}

// ANCHOR: parse_params
/// Parses the `key="value",key2=value2` list after the scheme. Keys are
/// case-insensitive (returned in lowercase); values may be quoted, and a
/// quoted value may contain commas and `\"`.
pub fn parse_params(input: &str) -> Result<Vec<(String, String)>, String> {
    // exercise 4.1 parse-challenge: split `realm="…",service="…"` into (key, value) pairs.
    // hint: walk the characters with a Peekable iterator; skip spaces and commas between pairs
    // hint: a key ends at '='; a value is either "quoted" (a backslash escapes the next char) or runs to the next ','
    let mut params = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(params);
        }
        let mut key = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("bad parameter name {key:?}"));
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(format!("the value of {key} has no closing quote"));
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
            value = value.trim().to_string();
        }
        params.push((key, value));
    }
    // end exercise
}
// ANCHOR_END: parse_params

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_bearer_challenge() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#;
        assert_eq!(
            parse_challenge(h).unwrap(),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            }
        );
    }

    #[test]
    fn quoted_commas_escapes_case_and_unquoted_values() {
        let h = r#"bearer Realm="http://127.0.0.1:1/token" , scope="repository:a/b:pull,push",service=reg, error="say \"hi\"""#;
        let params = parse_params(&h[7..]).unwrap();
        assert_eq!(
            params,
            vec![
                ("realm".to_string(), "http://127.0.0.1:1/token".to_string()),
                ("scope".into(), "repository:a/b:pull,push".into()),
                ("service".into(), "reg".into()),
                ("error".into(), r#"say "hi""#.into()),
            ]
        );
        match parse_challenge(h).unwrap() {
            Challenge::Bearer { scope, .. } => {
                assert_eq!(scope.as_deref(), Some("repository:a/b:pull,push"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn basic_and_errors() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#).unwrap(),
            Challenge::Basic {
                realm: Some("Registry Realm".into())
            }
        );
        assert_eq!(
            parse_challenge("Basic").unwrap(),
            Challenge::Basic { realm: None }
        );
        assert!(parse_challenge(r#"Bearer service="x""#)
            .unwrap_err()
            .contains("realm"));
        assert!(parse_challenge(r#"Negotiate abc"#)
            .unwrap_err()
            .contains("Negotiate".to_ascii_lowercase().as_str()));
        assert!(parse_challenge(r#"Bearer realm="http://x"#)
            .unwrap_err()
            .contains("closing quote"));
        assert!(parse_challenge("").is_err());
    }

    #[test]
    fn random_values_round_trip() {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            const ALPHABET: &[u8] = b"ab,= \"\\:/x";
            let value: String = (0..rng.gen_range(0..20))
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
            let h = format!(r#"Bearer realm="{quoted}",service=s"#);
            let params = parse_params(&h[7..]).unwrap();
            assert_eq!(params[0], ("realm".into(), value.clone()), "{h}");
            assert_eq!(params[1], ("service".into(), "s".into()), "{h}");
        }
    }
}
