//! `minidock context …` against two daemons at once: which one answers
//! under each combination of `-H`, `--context`, `MINIDOCK_HOST`,
//! `MINIDOCK_CONTEXT` and the current context; and the store read by the
//! real docker CLI (and the other way round).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{docker_cli_available, stderr, stdout, Daemon};

/// `minidock ARGS` with only the configuration directory `config` and the
/// variables `env` (none of the caller's `MINIDOCK_*`).
fn minidock(config: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minidock"));
    cmd.env_remove("MINIDOCK_HOST")
        .env_remove("MINIDOCK_CONTEXT")
        .env("DOCKER_CONFIG", config)
        .envs(env.iter().copied())
        .args(args);
    cmd.output().expect("minidock runs")
}

fn ok(config: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = minidock(config, env, args);
    assert!(
        out.status.success(),
        "minidock {args:?} with {env:?} failed ({}):\n{}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The root directory of the daemon that answered `info`.
fn answering_root(config: &Path, env: &[(&str, &str)], flags: &[&str]) -> String {
    let args: Vec<&str> = flags.iter().copied().chain(["info"]).collect();
    let info = ok(config, env, &args);
    info.lines()
        .find_map(|l| l.trim().strip_prefix("Docker Root Dir: "))
        .unwrap_or_else(|| panic!("no Docker Root Dir in `minidock info`:\n{info}"))
        .to_string()
}

#[test]
fn precedence_is_host_flag_context_flag_host_env_context_env_current() {
    let a = Daemon::start();
    let b = Daemon::start();
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path();
    let (root_a, root_b) = (
        a.root().display().to_string(),
        b.root().display().to_string(),
    );
    let (host_a, host_b) = (a.host(), b.host());

    ok(
        cfg,
        &[],
        &[
            "context",
            "create",
            "ctx-a",
            "--host",
            &host_a,
            "--description",
            "daemon A",
        ],
    );
    let created = minidock(cfg, &[], &["context", "create", "ctx-b", "--host", &host_b]);
    assert_eq!(stdout(&created), "ctx-b\n");
    assert!(stderr(&created).contains("Successfully created context \"ctx-b\""));
    assert_eq!(ok(cfg, &[], &["context", "show"]), "default\n");

    // the current context
    let used = ok(cfg, &[], &["context", "use", "ctx-a"]);
    assert_eq!(used, "ctx-a\n");
    assert_eq!(answering_root(cfg, &[], &[]), root_a);
    // MINIDOCK_CONTEXT beats the current context
    let ctx_b = [("MINIDOCK_CONTEXT", "ctx-b")];
    assert_eq!(answering_root(cfg, &ctx_b, &[]), root_b);
    assert_eq!(ok(cfg, &ctx_b, &["context", "show"]), "ctx-b\n");
    // MINIDOCK_HOST beats MINIDOCK_CONTEXT
    let both = [
        ("MINIDOCK_CONTEXT", "ctx-b"),
        ("MINIDOCK_HOST", host_a.as_str()),
    ];
    assert_eq!(answering_root(cfg, &both, &[]), root_a);
    assert_eq!(ok(cfg, &both, &["context", "show"]), "default\n");
    // --context beats MINIDOCK_HOST
    let host_env_a = [("MINIDOCK_HOST", host_a.as_str())];
    assert_eq!(
        answering_root(cfg, &host_env_a, &["--context", "ctx-b"]),
        root_b
    );
    assert_eq!(answering_root(cfg, &host_env_a, &["-c", "ctx-b"]), root_b);
    // -H beats --context
    assert_eq!(
        answering_root(cfg, &ctx_b, &["-H", &host_a, "-c", "ctx-b"]),
        root_a
    );
    // the context `default` is MINIDOCK_HOST
    let host_env_b = [("MINIDOCK_HOST", host_b.as_str())];
    assert_eq!(answering_root(cfg, &host_env_b, &["-c", "default"]), root_b);

    // `ls` marks the context in use and shows each endpoint
    let ls = ok(cfg, &[], &["context", "ls"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{ls}");
    assert!(
        lines[1].starts_with("default ") && !lines[1].starts_with("default *"),
        "{ls}"
    );
    assert!(
        lines[2].starts_with("ctx-a *") && lines[2].contains("daemon A"),
        "{ls}"
    );
    assert!(
        lines[2].contains(&host_a) && lines[3].contains(&host_b),
        "{ls}"
    );
    let names = ok(
        cfg,
        &[],
        &["context", "ls", "--format", "{{.Name}}={{.Current}}"],
    );
    assert_eq!(names, "default=false\nctx-a=true\nctx-b=false\n");
    let host = ok(
        cfg,
        &[],
        &["context", "inspect", "-f", "{{.Endpoints.docker.Host}}"],
    );
    assert_eq!(host.trim(), host_a);

    // the current context cannot go without -f; with it, `default` is current
    let refused = minidock(cfg, &[], &["context", "rm", "ctx-a"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("is in use, set -f"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(ok(cfg, &[], &["context", "rm", "-f", "ctx-a"]), "ctx-a\n");
    assert_eq!(ok(cfg, &[], &["context", "show"]), "default\n");
    let gone = minidock(cfg, &[], &["-c", "ctx-a", "info"]);
    assert_ne!(gone.status.code(), Some(0));
    assert!(
        stderr(&gone).contains("context \"ctx-a\" does not exist"),
        "{}",
        stderr(&gone)
    );
}

/// The store is Docker's: the docker CLI lists what minidock created and
/// minidock uses what the docker CLI created.
#[test]
fn the_docker_cli_shares_the_contexts() {
    if !docker_cli_available() {
        return;
    }
    let b = Daemon::start();
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path();
    let docker = |args: &[&str]| {
        let out = Command::new("docker")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env("DOCKER_CONFIG", cfg)
            .args(args)
            .output()
            .expect("docker runs");
        assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
        stdout(&out)
    };
    ok(
        cfg,
        &[],
        &[
            "context",
            "create",
            "made-by-minidock",
            "--host",
            "unix:///tmp/x.sock",
        ],
    );
    ok(cfg, &[], &["context", "use", "made-by-minidock"]);
    let listed = docker(&[
        "context",
        "ls",
        "--format",
        "{{.Name}} {{.DockerEndpoint}} {{.Current}}",
    ]);
    assert!(
        listed.contains("made-by-minidock unix:///tmp/x.sock true"),
        "docker context ls:\n{listed}"
    );
    docker(&[
        "context",
        "create",
        "made-by-docker",
        "--docker",
        &format!("host={}", b.host()),
    ]);
    assert_eq!(
        answering_root(cfg, &[], &["--context", "made-by-docker"]),
        b.root().display().to_string()
    );
}
