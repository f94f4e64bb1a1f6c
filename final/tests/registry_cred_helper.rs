//! Credential helpers: with `credsStore` or `credHelpers` in config.json,
//! `login`, `logout`, `pull` and `push` keep and find the password through
//! `docker-credential-NAME` (the test kit's helper script), never in the
//! file; a registry without a helper keeps its plain `auths` entry.

mod common;

use common::{stderr, stdout, Daemon};
use minidock_testkit::{random_name, CredentialHelper, Registry};
use serde_json::json;

#[test]
fn login_push_pull_and_logout_go_through_the_helper() {
    let helper = CredentialHelper::install();
    let user = random_name("user");
    let password = random_name("pw");
    let kept = Registry::start_with_basic_auth(&user, &password);
    let plain_user = random_name("plain");
    let plain_password = random_name("pw");
    let plain = Registry::start_with_basic_auth(&plain_user, &plain_password);
    let d = Daemon::start();
    d.load_busybox();
    let config = d.dir.join("docker-config/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    // The helper for one registry; the other keeps its credentials in the
    // file, as `docker login` wrote them.
    let basic = |u: &str, p: &str| minidock_registry::Credentials::new(u, p).basic_token();
    std::fs::write(
        &config,
        json!({
            "credHelpers": {kept.addr(): CredentialHelper::NAME},
            "auths": {plain.addr(): {"auth": basic(&plain_user, &plain_password)}},
        })
        .to_string(),
    )
    .unwrap();
    let run = |args: &[&str], input: Option<&str>| {
        let mut cmd = d.minidock();
        cmd.env("PATH", helper.path_env()).args(args);
        if let Some(input) = input {
            cmd.write_stdin(input.to_string());
        }
        cmd.output().unwrap()
    };

    let out = run(
        &["login", "-u", &user, "--password-stdin", &kept.addr()],
        Some(&format!("{password}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(helper.calls(), [format!("store {}", kept.addr())]);
    let stored = helper.stored(&kept.addr()).expect("the helper keeps them");
    assert!(stored.contains(&password), "{stored}");
    let file = std::fs::read_to_string(&config).unwrap();
    assert!(!file.contains(&basic(&user, &password)), "{file}");

    // Push and pull find them with `get`.
    let name = format!("{}/{}", kept.addr(), random_name("helped"));
    assert_eq!(run(&["tag", "busybox", &name], None).status.code(), Some(0));
    let out = run(&["push", &name], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(helper.calls().contains(&format!("get {}", kept.addr())));
    assert_eq!(run(&["rmi", &name], None).status.code(), Some(0));
    let gets = helper.calls().len();
    let out = run(&["pull", &name], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(helper.calls()[gets..], [format!("get {}", kept.addr())]);

    // The registry without a helper: its plain `auths` entry, no helper call.
    let other = format!("{}/{}", plain.addr(), random_name("plain"));
    assert_eq!(
        run(&["tag", "busybox", &other], None).status.code(),
        Some(0)
    );
    let calls = helper.calls().len();
    let out = run(&["push", &other], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(helper.calls().len(), calls);

    // Logout: `list` says it is there, `erase` forgets it.
    let out = run(&["logout", &kept.addr()], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains("Removing login credentials"));
    assert_eq!(
        helper.calls()[calls..],
        ["list".to_string(), format!("erase {}", kept.addr())]
    );
    assert_eq!(helper.stored(&kept.addr()), None);
    let out = run(&["logout", &kept.addr()], None);
    assert!(stdout(&out).contains("Not logged in"), "{out:?}");
    // Without credentials, the registry refuses the pull.
    assert_eq!(run(&["rmi", &name], None).status.code(), Some(0));
    let out = run(&["pull", &name], None);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn a_store_for_every_registry_and_a_missing_helper_named() {
    let helper = CredentialHelper::install();
    let user = random_name("user");
    let password = random_name("pw");
    let registry = Registry::start_with_basic_auth(&user, &password);
    let repo = random_name("stored");
    registry.push_busybox(&repo, "latest");
    let d = Daemon::start();
    let config = d.dir.join("docker-config/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        json!({"credsStore": CredentialHelper::NAME}).to_string(),
    )
    .unwrap();
    let login = d
        .minidock()
        .env("PATH", helper.path_env())
        .args(["login", "-u", &user, "--password-stdin", &registry.addr()])
        .write_stdin(format!("{password}\n"))
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(0), "{login:?}");
    let pull = d
        .minidock()
        .env("PATH", helper.path_env())
        .args(["pull", &format!("{}/{repo}", registry.addr())])
        .output()
        .unwrap();
    assert_eq!(pull.status.code(), Some(0), "{}", stderr(&pull));
    assert_eq!(
        helper.calls(),
        [
            format!("store {}", registry.addr()),
            format!("get {}", registry.addr())
        ]
    );

    // A helper that is not installed: said by name, nothing saved.
    std::fs::write(&config, json!({"credsStore": "not-installed"}).to_string()).unwrap();
    let login = d
        .minidock()
        .args(["login", "-u", &user, "--password-stdin", &registry.addr()])
        .write_stdin(format!("{password}\n"))
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(1), "{login:?}");
    let err = stderr(&login);
    assert!(
        err.contains("docker-credential-not-installed") && err.contains("not found in PATH"),
        "{err}"
    );
    assert!(!std::fs::read_to_string(&config).unwrap().contains(&user));
}
