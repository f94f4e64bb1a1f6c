//! The `minidock` CLI against the real distribution registry configured
//! with `auth: token`, as Docker Hub is: every request without a token gets
//! `401` and a challenge naming the test kit's token server; the daemon gets
//! a token there (anonymous for pulls, with the saved credentials for
//! pushes) and tries again.

mod common;

use std::time::Duration;

use common::{stderr, Daemon};
use minidock_testkit::{random_name, Registry, RegistryConfig, TokenServer, TOKEN_SERVICE};

#[test]
fn anonymous_pull_and_a_logged_in_push_through_the_token_server() {
    let user = random_name("user");
    let password = random_name("pw");
    let tokens = TokenServer::start(&[(&user, &password)], Duration::from_secs(300));
    let registry = Registry::start_with(RegistryConfig {
        token: Some(tokens.registry_auth(Some((&user, &password)))),
        ..RegistryConfig::default()
    });
    let repo = random_name("hub/busybox");
    registry.push_busybox(&repo, "latest");
    let seeded = tokens.requests().len();
    let name = format!("{}/{repo}", registry.addr());
    let d = Daemon::start();

    // Pull without credentials: an anonymous token for pull, from the
    // realm and for the service of the registry's challenge.
    d.ok(&["pull", &name]);
    let asked = tokens.requests()[seeded..].to_vec();
    let pull_scope = format!("repository:{repo}:pull");
    assert!(
        asked.iter().any(|r| r.user.is_none()
            && r.status == 200
            && r.service.as_deref() == Some(TOKEN_SERVICE)
            && r.scopes == [pull_scope.clone()]
            && r.granted == [(repo.clone(), vec!["pull".to_string()])]),
        "{asked:#?}"
    );
    // One token for the whole pull (manifest, config, layers): cached.
    assert_eq!(asked.len(), 1, "{asked:#?}");

    // Push without credentials: the anonymous token allows no push, the
    // registry says 401 again, and the message says to log in.
    let target = format!("{name}:pushed");
    d.ok(&["tag", &name, &target]);
    let out = d.run(&["push", &target]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("authentication required"), "{err}");
    assert!(err.contains("minidock login"), "{err}");

    // A wrong password is refused by the token server, through /auth.
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &registry.addr()],
        b"wrong\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        tokens
            .requests()
            .iter()
            .any(|r| r.user.as_deref() == Some(user.as_str()) && r.status == 401),
        "{:#?}",
        tokens.requests()
    );

    // Logged in: the push gets a pull,push token for the user.
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &registry.addr()],
        format!("{password}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    let before_push = tokens.requests().len();
    d.ok(&["push", &target]);
    let asked = tokens.requests()[before_push..].to_vec();
    assert!(
        asked
            .iter()
            .any(|r| r.user.as_deref() == Some(user.as_str())
                && r.status == 200
                && r.granted == [(repo.clone(), vec!["pull".to_string(), "push".to_string()])]),
        "{asked:#?}"
    );
    assert!(
        registry
            .storage_dir()
            .join(format!(
                "docker/registry/v2/repositories/{repo}/_manifests/tags/pushed"
            ))
            .is_dir(),
        "the pushed tag is not in the registry's storage:\n{}",
        registry.log()
    );
}
