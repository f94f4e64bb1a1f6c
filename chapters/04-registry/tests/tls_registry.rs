//! HTTPS to the real distribution registry (`docker-registry`) on
//! 127.0.0.1, with a CA, server and client certificates made by OpenSSL for
//! each test: trusted through `certs.d/127.0.0.1:PORT/`, refused with a
//! clear message when the CA is unknown, the certificate expired or made
//! for another host, or when the registry wants a client certificate we do
//! not have.

use std::path::Path;

use minidock_images::{Reference, Store};
use minidock_registry::{Client, ClientOptions, PullOptions, RegistryError};
use minidock_testkit::{
    random_name, require_root, Registry, RegistryConfig, RegistryTls, TestCa, Usage, Validity,
};

/// A client whose certificate directory is `certs`.
fn client_with(tmp: &Path, certs: &Path) -> Client {
    Client::new(ClientOptions {
        credentials_file: tmp.join("docker-config.json"),
        certs_dir: Some(certs.to_path_buf()),
        tries: 1,
        ..ClientOptions::default()
    })
}

/// A registry serving `server` (issued by `ca`), seeded with busybox as
/// `REPO:1`; with `client_ca`, it demands client certificates of that CA.
fn tls_registry(
    ca: &TestCa,
    server_sans: &[&str],
    validity: Validity,
    mtls: bool,
) -> (Registry, String) {
    let server = ca.issue("registry", server_sans, Usage::Server, validity);
    let seed = mtls.then(|| ca.issue("seeder", &[], Usage::Client, Validity::Current));
    let registry = Registry::start_with(RegistryConfig {
        tls: Some(RegistryTls {
            cert: server.cert,
            key: server.key,
            client_ca: mtls.then(|| ca.cert.clone()),
            seed_client: seed.map(|s| (s.cert, s.key)),
        }),
        ..RegistryConfig::default()
    });
    let repo = random_name("tls/busybox");
    registry.push_busybox(&repo, "1");
    (registry, repo)
}

#[allow(clippy::result_large_err)] // Client::pull's own error type, passed on
fn pull(client: &Client, tmp: &Path, name: &str) -> Result<(), RegistryError> {
    let store = Store::open(&tmp.join("root")).unwrap();
    let reference = Reference::parse(name).unwrap();
    client
        .pull(&store, &reference, &PullOptions::default(), &|_| {})
        .map(|_| ())
}

/// The message of a TLS error, or a panic saying what came instead.
fn tls_reason(result: Result<(), RegistryError>) -> String {
    match result {
        Err(RegistryError::Tls { reason, url, .. }) => {
            assert!(url.starts_with("https://127.0.0.1:"), "{url}");
            reason
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn a_registry_with_a_certs_d_entry_is_pulled_from_and_pushed_to_over_https() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::new("minidock test CA");
    let (registry, repo) = tls_registry(&ca, &["IP:127.0.0.1"], Validity::Current, false);
    let certs = tmp.path().join("certs.d");
    ca.install(&certs, &registry.addr(), None);
    let client = client_with(tmp.path(), &certs);
    assert_eq!(
        client.endpoint(&registry.addr()).base_url(),
        format!("https://{}", registry.addr())
    );
    let name = format!("{}/{repo}:1", registry.addr());
    pull(&client, tmp.path(), &name).unwrap();

    // And back, under another name: blobs are mounted or uploaded over TLS.
    let store = Store::open(&tmp.path().join("root")).unwrap();
    let image = store.resolve(&name).unwrap();
    let target = Reference::parse(&format!("{}/{repo}:copy", registry.addr())).unwrap();
    client.push_image(&store, &image, &target, &|_| {}).unwrap();
    assert!(
        registry
            .storage_dir()
            .join(format!(
                "docker/registry/v2/repositories/{repo}/_manifests/tags/copy"
            ))
            .is_dir(),
        "the pushed tag is not in the registry's storage"
    );

    // The same registry without our CA: refused, and the message says
    // where the CA goes.
    let other_certs = tmp.path().join("other-certs.d");
    std::fs::create_dir_all(other_certs.join(registry.addr())).unwrap();
    let reason = tls_reason(pull(
        &client_with(tmp.path(), &other_certs),
        tmp.path(),
        &name,
    ));
    assert!(reason.contains("CA we do not trust"), "{reason}");
    let place = other_certs.join(registry.addr()).join("ca.crt");
    assert!(reason.contains(&place.display().to_string()), "{reason}");
}

#[test]
fn expired_and_wrong_host_certificates_are_refused_with_the_reason() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::new("minidock test CA");

    let (expired, repo) = tls_registry(&ca, &["IP:127.0.0.1"], Validity::Expired, false);
    let certs = tmp.path().join("certs.d");
    ca.install(&certs, &expired.addr(), None);
    let client = client_with(tmp.path(), &certs);
    let reason = tls_reason(pull(
        &client,
        tmp.path(),
        &format!("{}/{repo}:1", expired.addr()),
    ));
    assert!(reason.contains("has expired on 2020-02-01"), "{reason}");
    drop(expired);

    let (elsewhere, repo) = tls_registry(&ca, &["DNS:registry.example"], Validity::Current, false);
    ca.install(&certs, &elsewhere.addr(), None);
    let reason = tls_reason(pull(
        &client,
        tmp.path(),
        &format!("{}/{repo}:1", elsewhere.addr()),
    ));
    assert!(
        reason.contains("is for registry.example, not 127.0.0.1"),
        "{reason}"
    );
}

#[test]
fn a_registry_that_wants_a_client_certificate_gets_the_one_in_certs_d() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::new("minidock test CA");
    let (registry, repo) = tls_registry(&ca, &["IP:127.0.0.1"], Validity::Current, true);
    let name = format!("{}/{repo}:1", registry.addr());

    let certs = tmp.path().join("certs.d");
    ca.install(&certs, &registry.addr(), None);
    let reason = tls_reason(pull(&client_with(tmp.path(), &certs), tmp.path(), &name));
    assert!(reason.contains("client certificate"), "{reason}");

    let me = ca.issue("minidock", &[], Usage::Client, Validity::Current);
    ca.install(&certs, &registry.addr(), Some(&me));
    pull(&client_with(tmp.path(), &certs), tmp.path(), &name).unwrap();
}
