//! A build's FROM pulls a missing base image with the daemon's registry
//! settings, as the daemon's own pulls do: here a registry over HTTPS
//! whose CA is only in the daemon's certificate directory
//! (`--registry-certs-dir`, Docker's `/etc/docker/certs.d`).

mod common;

use common::{stderr, Daemon};
use minidock_testkit::{
    random_name, Registry, RegistryConfig, RegistryTls, TestCa, Usage, Validity,
};

#[test]
fn from_pulls_the_base_image_with_the_daemons_registry_certificates() {
    let ca = TestCa::new("minidock build test CA");
    let server = ca.issue(
        "registry",
        &["IP:127.0.0.1"],
        Usage::Server,
        Validity::Current,
    );
    let registry = Registry::start_with(RegistryConfig {
        tls: Some(RegistryTls::server(server)),
        ..RegistryConfig::default()
    });
    let base = registry.push_busybox(&random_name("base/busybox"), "latest");

    let certs = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_args(&["--registry-certs-dir", certs.path().to_str().unwrap()]);
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {base}\nLABEL built=yes\n"),
    )
    .unwrap();
    let path = ctx.path().to_str().unwrap();

    // A directory for the registry in the daemon's certificate directory,
    // but not its CA yet: the build's pull looks there and is refused,
    // naming where the CA belongs.
    std::fs::create_dir(certs.path().join(registry.addr())).unwrap();
    let out = d.run(&["build", "-t", "from-tls:1", path]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let err = stderr(&out);
    let wanted = certs.path().join(registry.addr()).join("ca.crt");
    assert!(
        err.contains(&wanted.display().to_string()),
        "{err}\n{}",
        d.log()
    );

    // With the CA in the daemon's directory (not the default one): pulled.
    ca.install(certs.path(), &registry.addr(), None);
    let out = d.ok(&["build", "-t", "from-tls:1", path]);
    assert!(out.contains("Successfully tagged from-tls:1"), "{out}");
    let label = d.ok(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"built\"}}",
        "from-tls:1",
    ]);
    assert_eq!(label.trim(), "yes");
    d.ok(&["image", "inspect", &base]);
}
