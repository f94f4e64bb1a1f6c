//! Tokens expire: a pull or a push that outlives its token gets `401` from
//! the registry (the real distribution registry with `auth: token`), reads
//! the challenge, asks the token server for a new token and sends the
//! request again — and a token that is still valid is reused, not asked
//! for again on every request.
//!
//! To make "outlives" a fact rather than a guess about timing, the daemon
//! talks to the registry through the test kit's holding proxy: the first
//! blob download of the pull (the manifest upload of the push) is held
//! until the registry refuses the token the daemon was given, which the
//! test checks by asking the registry itself with that token.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Daemon;
use minidock_testkit::{
    http_get_authorized, random_name, Compression, Entry, Hold, HoldingProxy, ImageSpec, LayerSpec,
    ProxiedRequest, Registry, RegistryConfig, TokenControl, TokenRequest, TokenServer,
};

/// A token lives this long in the phases where one must expire.
const SHORT: Duration = Duration::from_secs(3);
/// And this long otherwise.
const LONG: Duration = Duration::from_secs(300);
/// How long the test waits for the registry to refuse a short token.
const EXPIRY_DEADLINE: Duration = Duration::from_secs(60);

/// Holds the first request that `matches` until the registry refuses the
/// token the token server issued last, then makes new tokens long-lived.
/// A deadline that passes is written into `failure`.
fn hold_until_token_expired(
    matches: impl Fn(&str, &str) -> bool + Send + 'static,
    registry: String,
    tokens: TokenControl,
    failure: Arc<Mutex<Option<String>>>,
) -> Hold {
    Hold {
        matches: Box::new(matches),
        until: Box::new(move || {
            let last = tokens.requests().last().and_then(|r| r.token.clone());
            let Some(token) = last else {
                *failure.lock().unwrap() = Some("no token was issued before the hold".into());
                return;
            };
            let bearer = format!("Bearer {token}");
            let deadline = Instant::now() + EXPIRY_DEADLINE;
            loop {
                match http_get_authorized(&registry, "/v2/", Some(&bearer)) {
                    Ok(r) if r.status == 401 => break,
                    _ if Instant::now() > deadline => {
                        *failure.lock().unwrap() = Some(format!(
                            "the registry still accepts the token after {EXPIRY_DEADLINE:?}"
                        ));
                        break;
                    }
                    _ => std::thread::sleep(Duration::from_millis(100)),
                }
            }
            tokens.set_ttl(LONG);
        }),
    }
}

/// The held request was refused once (401) and then served: the
/// requests to `path_part` answered, in order.
fn statuses_of(requests: &[ProxiedRequest], method: &str, path_part: &str) -> Vec<u16> {
    requests
        .iter()
        .filter(|r| r.method == method && r.path.contains(path_part))
        .map(|r| r.status)
        .collect()
}

/// Token requests since `from`, for messages and counts.
fn since(tokens: &TokenServer, from: usize) -> Vec<TokenRequest> {
    tokens.requests()[from..].to_vec()
}

#[test]
fn a_pull_and_a_push_that_outlive_their_token_get_a_new_one() {
    let user = random_name("user");
    let password = random_name("pw");
    let tokens = TokenServer::start(&[(&user, &password)], LONG);
    let registry = Registry::start_with(RegistryConfig {
        token: Some(tokens.registry_auth(Some((&user, &password)))),
        ..RegistryConfig::default()
    });
    // Two layers and a config: three blobs for one token to serve.
    let file = |name: &str| {
        LayerSpec::new(
            Compression::Gzip,
            vec![Entry::file(name, name.as_bytes().to_vec(), 0o644)],
        )
    };
    let image = ImageSpec {
        layers: vec![file("one"), file("two")],
        ..ImageSpec::default()
    };
    let layout = tempfile::tempdir().unwrap();
    image.write_oci_layout(layout.path(), "latest");
    let repo = random_name("expiry/app");
    registry.push_oci(layout.path(), "latest", &repo, "latest");

    // The first blob GET of the pull and the first manifest PUT of the
    // push are held, each until its token has expired.
    let failure = Arc::new(Mutex::new(None));
    let pull_hold = hold_until_token_expired(
        |method, path| method == "GET" && path.contains("/blobs/"),
        registry.addr(),
        tokens.control(),
        failure.clone(),
    );
    let pull_proxy = HoldingProxy::start(&registry.addr(), pull_hold);
    let d = Daemon::start();

    // The pull: its token (anonymous, pull) lives SHORT.
    tokens.set_ttl(SHORT);
    let before = tokens.requests().len();
    let name = format!("{}/{repo}", pull_proxy.addr());
    d.ok(&["pull", &name]);
    assert_eq!(*failure.lock().unwrap(), None);
    let asked = since(&tokens, before);
    let proxied = pull_proxy.requests();
    // The held download was refused with the old token and served with
    // the new one.
    let blob_gets = statuses_of(&proxied, "GET", "/blobs/");
    assert_eq!(blob_gets.first(), Some(&401), "{proxied:#?}");
    assert!(blob_gets[1..].iter().all(|s| *s == 200), "{proxied:#?}");
    assert_eq!(
        blob_gets.len(),
        4,
        "config, config again, two layers: {proxied:#?}"
    );
    // One new token served the rest of the pull: the retried config and
    // both layers.
    let long_lived: Vec<_> = asked.iter().filter(|r| r.ttl == LONG).collect();
    assert_eq!(long_lived.len(), 1, "{asked:#?}");
    assert!(
        asked.iter().all(|r| r.status == 200
            && r.user.is_none()
            && r.scopes == [format!("repository:{repo}:pull")]),
        "{asked:#?}"
    );
    d.ok(&["image", "inspect", &name]);

    // The push, through a second proxy (a new hold) to a new repository,
    // so every blob is uploaded: its token (the user's, pull and push)
    // lives SHORT.
    let push_hold = hold_until_token_expired(
        |method, path| method == "PUT" && path.contains("/manifests/"),
        registry.addr(),
        tokens.control(),
        failure.clone(),
    );
    let push_proxy = HoldingProxy::start(&registry.addr(), push_hold);
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &push_proxy.addr()],
        format!("{password}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    let pushed_repo = random_name("expiry/pushed");
    let target = format!("{}/{pushed_repo}:v1", push_proxy.addr());
    d.ok(&["tag", &name, &target]);
    tokens.set_ttl(SHORT);
    let before = tokens.requests().len();
    d.ok(&["push", &target]);
    assert_eq!(*failure.lock().unwrap(), None);
    let asked = since(&tokens, before);
    let proxied = push_proxy.requests();
    assert_eq!(
        statuses_of(&proxied, "PUT", "/manifests/"),
        [401, 201],
        "{proxied:#?}"
    );
    let long_lived: Vec<_> = asked.iter().filter(|r| r.ttl == LONG).collect();
    assert_eq!(long_lived.len(), 1, "{asked:#?}");
    assert!(
        asked.iter().all(|r| r.status == 200
            && r.user.as_deref() == Some(user.as_str())
            && r.granted
                == [(
                    pushed_repo.clone(),
                    vec!["pull".to_string(), "push".to_string()]
                )]),
        "{asked:#?}"
    );
    assert!(
        registry
            .storage_dir()
            .join(format!(
                "docker/registry/v2/repositories/{pushed_repo}/_manifests/tags/v1"
            ))
            .is_dir(),
        "the pushed tag is not in the registry's storage:\n{}",
        registry.log()
    );
}
