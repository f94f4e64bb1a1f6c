//! The daemon's TCP socket: served with mutual TLS only, as
//! `dockerd --tlsverify`; a plain TCP listener is refused unless the flag
//! that names the risk is given.
//!
//! The certificates are made by the `openssl` command line in each test
//! (never by the code under test), and the real `docker` CLI is one of the
//! clients.

mod common;

use common::{docker_cli_available, stderr, stdout, Daemon};
use minidock_client::{Client, ClientError, Endpoint};
use minidock_daemon::tls::client_config;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
}

/// Runs `openssl ARGS` in `dir`; it must succeed.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("the openssl command is needed to make test certificates (apt-get install openssl): {e}")
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}",
        stderr(&out)
    );
}

/// A certificate authority in `dir`: `NAME.pem` and `NAME-key.pem`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// A certificate `NAME-cert.pem` (key `NAME-key.pem`) signed by `ca`, with
/// the extensions `ext` (openssl's extension file syntax).
fn issue(dir: &Path, ca: &str, name: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}-key.pem"),
            "-set_serial",
            &format!("{}", std::process::id() as u64 * 100 + name.len() as u64),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}-cert.pem"),
        ],
    );
}

const SERVER_EXT: &str = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
const CLIENT_EXT: &str = "extendedKeyUsage=clientAuth\n";

/// The certificates of one test: the daemon's CA `ca` (with the daemon's
/// `server` certificate, valid for 127.0.0.1 only, and a `client`
/// certificate), and another CA `rogue` with a client certificate
/// `intruder` and a daemon certificate `impostor`.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("minidock-tls-")
            .tempdir()
            .unwrap();
        let path = dir.path();
        make_ca(path, "ca");
        issue(path, "ca", "server", SERVER_EXT);
        issue(path, "ca", "client", CLIENT_EXT);
        make_ca(path, "rogue");
        issue(path, "rogue", "intruder", CLIENT_EXT);
        issue(path, "rogue", "impostor", SERVER_EXT);
        Pki { dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A directory laid out as `DOCKER_CERT_PATH`: ca.pem, cert.pem,
    /// key.pem of the good client.
    fn docker_cert_path(&self) -> PathBuf {
        let dir = self.file("docker");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(self.file("ca.pem"), dir.join("ca.pem")).unwrap();
        std::fs::copy(self.file("client-cert.pem"), dir.join("cert.pem")).unwrap();
        std::fs::copy(self.file("client-key.pem"), dir.join("key.pem")).unwrap();
        dir
    }

    /// The daemon's flags for mutual TLS with the certificate `server`.
    fn daemon_args(&self, server: &str) -> Vec<String> {
        vec![
            "-H".into(),
            "tcp://127.0.0.1:0".into(),
            "--tlsverify".into(),
            "--tlscacert".into(),
            self.file("ca.pem").display().to_string(),
            "--tlscert".into(),
            self.file(&format!("{server}-cert.pem"))
                .display()
                .to_string(),
            "--tlskey".into(),
            self.file(&format!("{server}-key.pem"))
                .display()
                .to_string(),
        ]
    }

    /// A client library client of `addr` trusting `ca`, showing `identity`.
    fn client(&self, addr: &str, ca: &str, identity: Option<&str>) -> Client {
        let cert = identity.map(|name| self.file(&format!("{name}-cert.pem")));
        let key = identity.map(|name| self.file(&format!("{name}-key.pem")));
        let config = client_config(
            &self.file(&format!("{ca}.pem")),
            cert.as_deref().zip(key.as_deref()),
        )
        .expect("a client TLS configuration");
        Client::at(Endpoint::parse(&format!("tcp://{addr}"), Some(config)).unwrap())
    }
}

/// Starts a daemon with mutual TLS on a port of 127.0.0.1 that the system
/// picks; returns it and `127.0.0.1:PORT` (from its log).
fn tls_daemon(pki: &Pki, server: &str) -> (Daemon, String) {
    let args = pki.daemon_args(server);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let daemon = Daemon::start_with_args(&args);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = daemon.log();
        let addr = log.lines().find_map(|line| {
            line.strip_prefix("minidockd: API listening on tcp://")
                .and_then(|rest| rest.strip_suffix(" (mutual TLS)"))
        });
        if let Some(addr) = addr {
            return (daemon, addr.to_string());
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not say where it listens on TCP:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `minidock -H tcp://ADDR` with the TLS flags of the good client.
fn minidock_tls(pki: &Pki, addr: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minidock"));
    cmd.env_remove("MINIDOCK_HOST")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .args(["-H", &format!("tcp://{addr}"), "--tlsverify"])
        .arg("--tlscacert")
        .arg(pki.file("ca.pem"))
        .arg("--tlscert")
        .arg(pki.file("client-cert.pem"))
        .arg("--tlskey")
        .arg(pki.file("client-key.pem"));
    cmd
}

fn assert_tls_refused(result: Result<impl std::fmt::Debug, ClientError>, what: &str) {
    match result {
        Err(err @ ClientError::Tls { .. }) => {
            let message = err.to_string();
            assert!(message.contains("--tlscacert"), "{what}: {message}");
        }
        other => panic!("{what}: expected a TLS refusal, got {other:?}"),
    }
}

#[test]
fn clients_with_a_certificate_of_the_ca_are_served() {
    let pki = Pki::new();
    let (daemon, addr) = tls_daemon(&pki, "server");
    daemon.load_busybox();

    // The client library.
    let ping = pki.client(&addr, "ca", Some("client")).ping().unwrap();
    assert_eq!(ping.body, "OK");

    // minidock, with the flags; stdin travels through TLS and its end
    // (a TLS close_notify) reaches the container as EOF.
    let out = run(minidock_tls(&pki, &addr).args(["run", "--rm", "busybox", "echo", "hi"]));
    assert!(out.status.success(), "minidock over TLS: {out:?}");
    assert_eq!(stdout(&out), "hi\n");
    let mut child = minidock_tls(&pki, &addr)
        .args(["run", "-i", "--rm", "busybox", "wc", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &[b'x'; 100_000]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "minidock run -i over TLS: {out:?}");
    assert_eq!(stdout(&out).trim(), "100000");

    // minidock with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    let cert_path = pki.docker_cert_path();
    let out = run(Command::new(env!("CARGO_BIN_EXE_minidock"))
        .env_remove("MINIDOCK_HOST")
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &cert_path)
        .args(["-H", &format!("tcp://{addr}"), "version"]));
    assert!(out.status.success(), "minidock with DOCKER_*: {out:?}");

    // The real docker CLI, with flags and with its environment variables.
    if docker_cli_available() {
        let out = run(daemon
            .docker()
            .env_remove("DOCKER_HOST")
            .args(["-H", &format!("tcp://{addr}"), "--tlsverify"])
            .arg("--tlscacert")
            .arg(pki.file("ca.pem"))
            .arg("--tlscert")
            .arg(pki.file("client-cert.pem"))
            .arg("--tlskey")
            .arg(pki.file("client-key.pem"))
            .args(["version", "--format", "{{.Server.Os}}"]));
        assert!(out.status.success(), "docker --tlsverify version: {out:?}");
        assert_eq!(stdout(&out).trim(), "linux");

        let mut child = daemon
            .docker()
            .env("DOCKER_HOST", format!("tcp://{addr}"))
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", &cert_path)
            .args(["run", "-i", "--rm", "busybox", "tr", "a-z", "A-Z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"over tls\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "docker run -i over TLS: {out:?}");
        assert_eq!(stdout(&out), "OVER TLS\n");
    }
}

#[test]
fn clients_without_a_certificate_of_the_ca_are_refused() {
    let pki = Pki::new();
    let (daemon, addr) = tls_daemon(&pki, "server");

    // No certificate at all.
    assert_tls_refused(
        pki.client(&addr, "ca", None).ping(),
        "a client without a certificate",
    );
    // A certificate of another CA.
    assert_tls_refused(
        pki.client(&addr, "ca", Some("intruder")).ping(),
        "a client with a certificate of another CA",
    );
    // Plain HTTP on the TLS port.
    let plain = Client::at(Endpoint::parse(&format!("tcp://{addr}"), None).unwrap());
    let err = plain.ping().unwrap_err().to_string();
    assert!(err.contains("speaks TLS"), "{err}");
    if docker_cli_available() {
        let out = run(daemon
            .docker()
            .env("DOCKER_HOST", format!("tcp://{addr}"))
            .args(["version", "--format", "{{.Server.Os}}"]));
        assert!(!out.status.success(), "docker without TLS: {out:?}");
        assert!(!stdout(&out).contains("linux"), "{out:?}");
        // The docker CLI with TLS but without a client certificate.
        let out = run(daemon
            .docker()
            .env_remove("DOCKER_HOST")
            .args(["-H", &format!("tcp://{addr}"), "--tlsverify"])
            .arg("--tlscacert")
            .arg(pki.file("ca.pem"))
            .args(["version", "--format", "{{.Server.Os}}"]));
        assert!(
            !out.status.success(),
            "docker --tlsverify without a certificate: {out:?}"
        );
        assert!(!stdout(&out).contains("linux"), "{out:?}");
    }
    // An independent TLS client: curl, with the CA but no certificate.
    let out = run(Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(pki.file("ca.pem"))
        .arg(format!("https://{addr}/_ping")));
    assert!(!out.status.success(), "curl without a certificate: {out:?}");
    assert_ne!(stdout(&out), "OK");

    // Each refusal is on the daemon's log, and the daemon still serves
    // the right client.
    // Written just after the refusal is sent: wait for it.
    common::eventually(Duration::from_secs(20), "the refusal on the log", || {
        daemon.log().contains("TLS handshake with 127.0.0.1:")
    });
    assert_eq!(
        pki.client(&addr, "ca", Some("client")).ping().unwrap().body,
        "OK"
    );
}

#[test]
fn a_daemon_that_cannot_prove_its_name_is_refused() {
    let pki = Pki::new();
    let (_daemon, addr) = tls_daemon(&pki, "server");
    let port = addr.rsplit_once(':').unwrap().1;

    // The certificate names 127.0.0.1, not localhost.
    let localhost = format!("localhost:{port}");
    match pki.client(&localhost, "ca", Some("client")).ping() {
        Err(err @ ClientError::Tls { .. }) => {
            assert!(err.to_string().contains("localhost"), "{err}")
        }
        other => panic!("a daemon reached as localhost: expected a TLS refusal, got {other:?}"),
    }
    let out = run(minidock_tls(&pki, &localhost).arg("version"));
    assert!(!out.status.success(), "minidock to localhost: {out:?}");
    assert!(stderr(&out).contains("TLS"), "{}", stderr(&out));
    // A client that trusts another CA does not trust this daemon.
    assert_tls_refused(
        pki.client(&addr, "rogue", Some("intruder")).ping(),
        "a client that trusts another CA",
    );
    if docker_cli_available() {
        let out = run(Command::new("docker")
            .env_remove("DOCKER_HOST")
            .env("DOCKER_CONFIG", pki.file("docker-config"))
            .args(["-H", &format!("tcp://{localhost}"), "--tlsverify"])
            .arg("--tlscacert")
            .arg(pki.file("ca.pem"))
            .arg("--tlscert")
            .arg(pki.file("client-cert.pem"))
            .arg("--tlskey")
            .arg(pki.file("client-key.pem"))
            .args(["version", "--format", "{{.Server.Os}}"]));
        assert!(!out.status.success(), "docker to localhost: {out:?}");
        assert!(!stdout(&out).contains("linux"), "{out:?}");
    }
}

#[test]
fn an_impostor_daemon_is_refused() {
    // A daemon whose certificate comes from a CA the client does not trust.
    let pki = Pki::new();
    let (_daemon, addr) = tls_daemon(&pki, "impostor");
    assert_tls_refused(
        pki.client(&addr, "ca", Some("client")).ping(),
        "a daemon with a certificate of another CA",
    );
}

#[test]
fn plain_tcp_needs_the_flag_that_names_the_risk() {
    minidock_testkit::require_root();
    let dir = tempfile::Builder::new()
        .prefix("minidock-plain-tcp-")
        .tempdir()
        .unwrap();
    let root = dir.path().join("root");
    let out = run(Command::new(env!("CARGO_BIN_EXE_minidockd"))
        .arg("--root")
        .arg(&root)
        .arg("--run")
        .arg(dir.path().join("run"))
        .args(["-H", "tcp://127.0.0.1:0"])
        .stdin(Stdio::null()));
    assert!(!out.status.success(), "plain TCP was accepted: {out:?}");
    let message = stderr(&out);
    assert!(
        message.contains("refusing to listen on tcp://127.0.0.1:0 without TLS")
            && message.contains("root")
            && message.contains("--tlsverify")
            && message.contains("--insecure-tcp-without-tls-i-know-this-is-root"),
        "{message}"
    );
    assert!(!root.exists(), "the refused daemon touched its root");

    // With the flag it serves, and says loudly what it does.
    let daemon = Daemon::start_with_args(&[
        "-H",
        "tcp://127.0.0.1:0",
        "--insecure-tcp-without-tls-i-know-this-is-root",
    ]);
    let log = daemon.log();
    let addr = log
        .lines()
        .find_map(|line| line.strip_prefix("minidockd: WARNING: API listening on tcp://"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no warning on the log:\n{log}"));
    assert!(
        log.contains("anyone who can reach this port has root"),
        "{log}"
    );
    let client = Client::at(Endpoint::parse(&format!("tcp://{addr}"), None).unwrap());
    assert_eq!(client.ping().unwrap().body, "OK");

    // The daemon's TLS flags without --tlsverify are a usage error.
    let out = run(Command::new(env!("CARGO_BIN_EXE_minidockd"))
        .args(["--tlscacert", "/nonexistent/ca.pem"])
        .stdin(Stdio::null()));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("--tlsverify"), "{}", stderr(&out));
}

/// A context keeps the TLS material: `context create --tlscacert --tlscert
/// --tlskey` copies the files into the context store, and `--context`
/// alone then reaches the mutual-TLS daemon, for minidock and for the real
/// docker CLI, which reads the same store. A context without the material
/// is refused by the handshake, with what to do.
#[test]
fn a_context_carries_the_tls_material_to_minidock_and_docker() {
    let pki = Pki::new();
    let (daemon, addr) = tls_daemon(&pki, "server");
    let config = daemon.dir.join("docker-config");
    let minidock = |args: &[&str]| {
        run(Command::new(env!("CARGO_BIN_EXE_minidock"))
            .env_remove("MINIDOCK_HOST")
            .env_remove("MINIDOCK_CONTEXT")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env("DOCKER_CONFIG", &config)
            .args(args))
    };
    let host = format!("tcp://{addr}");
    let (ca, cert, key) = (
        pki.file("ca.pem"),
        pki.file("client-cert.pem"),
        pki.file("client-key.pem"),
    );
    let out = minidock(&[
        "context",
        "create",
        "secure",
        "--host",
        &host,
        "--tlscacert",
        ca.to_str().unwrap(),
        "--tlscert",
        cert.to_str().unwrap(),
        "--tlskey",
        key.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "context create with TLS: {out:?}");
    let out = minidock(&["context", "create", "bare", "--host", &host]);
    assert!(out.status.success(), "context create without TLS: {out:?}");

    // The store holds copies: the originals can go.
    std::fs::remove_file(&key).unwrap();
    let out = minidock(&["--context", "secure", "version"]);
    assert!(out.status.success(), "minidock --context secure: {out:?}");
    assert!(stdout(&out).contains("Server"), "{}", stdout(&out));

    let out = minidock(&["--context", "bare", "version"]);
    assert!(
        !out.status.success(),
        "a context without TLS material was served"
    );
    let message = stderr(&out);
    assert!(
        message.contains("TLS") || message.contains("tls"),
        "the refusal does not say it is about TLS: {message}"
    );

    if docker_cli_available() {
        let out = run(daemon
            .docker()
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env("DOCKER_CONFIG", &config)
            .args([
                "--context",
                "secure",
                "version",
                "--format",
                "{{.Server.Os}}",
            ]));
        assert!(out.status.success(), "docker --context secure: {out:?}");
        assert_eq!(stdout(&out).trim(), "linux");
    }
}
