//! The `minidock` CLI against the real distribution registry over HTTPS,
//! with basic auth, its certificate signed by a CA the test made: the
//! daemon finds the CA in its certificate directory (`--registry-certs-dir`,
//! Docker's `/etc/docker/certs.d`).

mod common;

use common::{stderr, Daemon};
use minidock_testkit::{
    random_name, Registry, RegistryConfig, RegistryTls, TestCa, Usage, Validity,
};

#[test]
fn login_pull_and_push_over_https_with_the_registrys_own_ca() {
    let ca = TestCa::new("minidock test CA");
    let server = ca.issue(
        "registry",
        &["IP:127.0.0.1"],
        Usage::Server,
        Validity::Current,
    );
    let user = random_name("user");
    let password = random_name("pw");
    let registry = Registry::start_with(RegistryConfig {
        basic_auth: Some((user.clone(), password.clone())),
        tls: Some(RegistryTls::server(server)),
        ..RegistryConfig::default()
    });
    let repo = random_name("secure/busybox");
    registry.push_busybox(&repo, "latest");
    let name = format!("{}/{repo}", registry.addr());

    let certs = tempfile::tempdir().unwrap();
    let certs_dir = certs.path().display().to_string();
    let d = Daemon::start_with_args(&["--registry-certs-dir", &certs_dir]);

    // A directory for the registry, but not its CA: HTTPS, and refused
    // with the place where the CA belongs.
    std::fs::create_dir(certs.path().join(registry.addr())).unwrap();
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &registry.addr()],
        format!("{password}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("CA we do not trust"), "{err}");
    assert!(
        err.contains(&format!("{certs_dir}/{}/ca.crt", registry.addr())),
        "{err}"
    );

    // With the CA: login (checked by the daemon over TLS), pull, push.
    ca.install(certs.path(), &registry.addr(), None);
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &registry.addr()],
        format!("{password}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    d.ok(&["pull", &name]);
    let copy = format!("{name}:copy");
    d.ok(&["tag", &name, &copy]);
    d.ok(&["push", &copy]);
    assert!(
        registry
            .storage_dir()
            .join(format!(
                "docker/registry/v2/repositories/{repo}/_manifests/tags/copy"
            ))
            .is_dir(),
        "the pushed tag is not in the registry's storage:\n{}",
        registry.log()
    );
}
