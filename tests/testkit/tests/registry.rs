//! The registry fixture serves images that skopeo pushed, and enforces
//! basic auth when asked to.

use std::process::Command;

use minidock_testkit::{busybox_image, http_get, random_name, require_tool, run_output, Registry};
use serde_json::Value;

fn skopeo_inspect(reference: &str, creds: Option<(&str, &str)>) -> std::process::Output {
    let mut cmd = Command::new(require_tool("skopeo", "skopeo"));
    cmd.args(["inspect", "--tls-verify=false"]);
    if let Some((user, password)) = creds {
        cmd.arg("--creds").arg(format!("{user}:{password}"));
    }
    run_output(cmd.arg(reference))
}

#[test]
fn pushed_busybox_reads_back_with_the_same_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let image = busybox_image().write_oci_layout(tmp.path(), "latest");
    let registry = Registry::start();
    assert_eq!(
        http_get(&registry.addr(), "/v2/", None).unwrap().status,
        200
    );

    let repo = random_name("library/busybox-");
    registry.push_oci(tmp.path(), "latest", &repo, "1.0");
    let out = skopeo_inspect(&format!("docker://{}/{repo}:1.0", registry.addr()), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        inspect["Digest"],
        image.manifest_digest.as_str(),
        "{inspect}"
    );
    assert_eq!(inspect["Layers"], serde_json::json!(image.layer_digests));
    assert!(registry
        .storage_dir()
        .join("docker/registry/v2/repositories")
        .is_dir());
}

#[test]
fn drop_stops_the_registry_and_removes_its_storage() {
    let registry = Registry::start();
    let addr = registry.addr();
    let storage = registry.storage_dir();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", registry.pid()));
    let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap();
    assert!(String::from_utf8_lossy(&cmdline).contains("docker-registry"));
    drop(registry);
    assert!(!storage.exists(), "{} is still there", storage.display());
    assert!(!proc_dir.exists(), "the registry process was not reaped");
    assert!(
        http_get(&addr, "/v2/", None).is_err(),
        "{addr} still answers"
    );
}

#[test]
fn basic_auth_refuses_strangers_and_wrong_passwords() {
    let user = random_name("user-");
    let password = random_name("pw-");
    let registry = Registry::start_with_basic_auth(&user, &password);
    assert_eq!(
        registry.credentials(),
        Some((user.clone(), password.clone()))
    );

    let anonymous = http_get(&registry.addr(), "/v2/", None).unwrap();
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "{anonymous:?}"
    );
    let ok = http_get(&registry.addr(), "/v2/", Some((&user, &password))).unwrap();
    assert_eq!(ok.status, 200);
    let wrong = http_get(&registry.addr(), "/v2/", Some((&user, "wrong"))).unwrap();
    assert_eq!(wrong.status, 401);

    let tmp = tempfile::tempdir().unwrap();
    let image = busybox_image().write_oci_layout(tmp.path(), "latest");
    registry.push_oci(tmp.path(), "latest", "busybox", "latest");
    let reference = format!("docker://{}/busybox:latest", registry.addr());

    let out = skopeo_inspect(&reference, Some((&user, &password)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inspect["Digest"], image.manifest_digest.as_str());

    let out = skopeo_inspect(&reference, Some((&user, "wrong")));
    assert!(!out.status.success(), "wrong password accepted");
    let out = skopeo_inspect(&reference, None);
    assert!(!out.status.success(), "anonymous read accepted");
}
