//! The real `docker` CLI through `minidockd` against a registry as users
//! meet them: the real distribution registry over HTTPS (its certificate
//! signed by a CA the test made, found by the daemon in its certificate
//! directory, and asking for a client certificate, which the daemon finds
//! there too) with `auth: token` and the test kit's token server.
//! `docker login` asks the daemon (`POST /auth`) to check the password with
//! the token server; pull and push send the saved credentials in
//! `X-Registry-Auth`; `docker logout` forgets them. The `minidock` CLI
//! uses what `docker login` saved.

mod common;

use common::{docker_cli_available, ok, stderr, stdout, Daemon};
use minidock_testkit::{
    random_name, Registry, RegistryConfig, RegistryTls, TestCa, TokenServer, Usage, Validity,
};
use std::io::Write;
use std::process::{Output, Stdio};
use std::time::Duration;

/// `docker login -u USER --password-stdin SERVER` with `password`.
fn docker_login(d: &Daemon, user: &str, password: &str, server: &str) -> Output {
    let mut child = d
        .docker()
        .args(["login", "-u", user, "--password-stdin", server])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start docker login");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn docker_login_pull_push_logout_over_tls_with_a_token_server() {
    if !docker_cli_available() {
        return;
    }
    let user = random_name("user");
    let password = random_name("pw");
    let tokens = TokenServer::start(&[(&user, &password)], Duration::from_secs(300));
    let ca = TestCa::new("minidock test CA");
    let server = ca.issue(
        "registry",
        &["IP:127.0.0.1"],
        Usage::Server,
        Validity::Current,
    );
    let seeder = ca.issue("seeder", &[], Usage::Client, Validity::Current);
    let registry = Registry::start_with(RegistryConfig {
        tls: Some(RegistryTls {
            cert: server.cert,
            key: server.key,
            client_ca: Some(ca.cert.clone()),
            seed_client: Some((seeder.cert, seeder.key)),
        }),
        token: Some(tokens.registry_auth(Some((&user, &password)))),
        ..RegistryConfig::default()
    });
    let repo = random_name("hub/busybox");
    let image = registry.push_busybox(&repo, "latest");
    let addr = registry.addr();

    let certs = tempfile::tempdir().unwrap();
    let daemon_cert = ca.issue("minidockd", &[], Usage::Client, Validity::Current);
    ca.install(certs.path(), &addr, Some(&daemon_cert));
    let certs_dir = certs.path().display().to_string();
    let d = Daemon::start_with_args(&["--registry-certs-dir", &certs_dir]);
    let config_json = d.dir.join("docker-config/config.json");

    // A wrong password: the token server refuses it, the daemon says so,
    // and the CLI saves nothing.
    let before = tokens.requests().len();
    let wrong = docker_login(&d, &user, "not-the-password", &addr);
    assert_ne!(wrong.status.code(), Some(0), "{wrong:?}");
    assert!(
        stderr(&wrong).contains("Error response from daemon"),
        "{}",
        stderr(&wrong)
    );
    assert!(
        tokens.requests()[before..]
            .iter()
            .any(|r| r.user.as_deref() == Some(user.as_str()) && r.status == 401),
        "{:#?}",
        tokens.requests()
    );

    // The right one: checked over TLS by the daemon, saved by the CLI.
    let right = docker_login(&d, &user, &password, &addr);
    assert_eq!(right.status.code(), Some(0), "{right:?}\n{}", d.log());
    assert!(stdout(&right).contains("Login Succeeded"), "{right:?}");
    let saved = std::fs::read_to_string(&config_json).unwrap();
    assert!(saved.contains(&addr), "{saved}");

    // Pull: the CLI sends the saved credentials, the daemon gets the
    // user's token for pulling.
    let before = tokens.requests().len();
    let pulled = ok(d.docker().args(["pull", &image]));
    assert!(pulled.contains("Digest: sha256:"), "{pulled}");
    assert!(
        pulled.contains(&format!("Status: Downloaded newer image for {image}")),
        "{pulled}"
    );
    let asked = tokens.requests()[before..].to_vec();
    assert!(
        asked
            .iter()
            .any(|r| r.user.as_deref() == Some(user.as_str())
                && r.status == 200
                && r.granted == [(repo.clone(), vec!["pull".to_string()])]),
        "{asked:#?}"
    );

    // Push under a new tag: a pull,push token for the user.
    let target = format!("{addr}/{repo}:pushed");
    ok(d.docker().args(["tag", &image, &target]));
    let before = tokens.requests().len();
    let pushed = ok(d.docker().args(["push", &target]));
    assert!(
        pushed.contains(&format!("The push refers to repository [{addr}/{repo}]")),
        "{pushed}"
    );
    assert!(pushed.contains("pushed: digest: sha256:"), "{pushed}");
    let asked = tokens.requests()[before..].to_vec();
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

    // The minidock CLI finds what `docker login` saved (the same
    // config.json) and pushes over the same TLS + token path.
    let by_minidock = format!("{addr}/{repo}:by-minidock");
    d.ok(&["tag", &image, &by_minidock]);
    d.ok(&["push", &by_minidock]);
    assert!(
        registry
            .storage_dir()
            .join(format!(
                "docker/registry/v2/repositories/{repo}/_manifests/tags/by-minidock"
            ))
            .is_dir(),
        "minidock's push is not in the registry's storage:\n{}",
        registry.log()
    );

    // Logout: the CLI forgets the credentials; a push is anonymous again
    // and the registry refuses it.
    let out = ok(d.docker().args(["logout", &addr]));
    assert!(
        out.contains(&format!("Removing login credentials for {addr}")),
        "{out}"
    );
    let saved = std::fs::read_to_string(&config_json).unwrap();
    assert!(!saved.contains(&addr), "{saved}");
    let again = format!("{addr}/{repo}:after-logout");
    ok(d.docker().args(["tag", &image, &again]));
    let refused = d.docker().args(["push", &again]).output().unwrap();
    assert_ne!(refused.status.code(), Some(0), "{refused:?}");
    let said = format!("{}{}", stdout(&refused), stderr(&refused));
    assert!(said.contains("authentication required"), "{said}");
}
