//! The real distribution registry (`docker-registry`, the server behind
//! Docker Hub's API) on 127.0.0.1, so minidock's pull and push talk to the
//! same server code as in production, and skopeo can seed it independently.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::http_get;
use crate::tools::{require_tool, run_output};

/// How long the registry may take to answer `/v2/`.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// bcrypt cost of the htpasswd entry: the minimum, because the registry
/// checks the hash on every request and tests make many.
const BCRYPT_COST: u32 = 4;

/// A running registry with its storage in a temp dir; stopped (by PID) and
/// removed when dropped.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    addr: String,
    dir: tempfile::TempDir,
    credentials: Option<(String, String)>,
    config: RegistryConfig,
}

/// How to configure a registry beyond the defaults (open, plain HTTP).
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// HTTP basic auth with this user and password (an htpasswd file).
    pub basic_auth: Option<(String, String)>,
    /// Serve HTTPS.
    pub tls: Option<RegistryTls>,
    /// `auth: token`: trust tokens of a token server.
    pub token: Option<TokenAuth>,
}

/// The registry's side of TLS (`http.tls` in its config).
#[derive(Debug, Clone)]
pub struct RegistryTls {
    /// The server's certificate and key (PEM).
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Ask clients for a certificate signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// The client certificate and key skopeo shows when it seeds the
    /// registry (needed with `client_ca`).
    pub seed_client: Option<(PathBuf, PathBuf)>,
}

impl RegistryTls {
    /// HTTPS with `server`'s certificate and key, asking clients for no
    /// certificate: the common case of a private registry with its own CA.
    pub fn server(server: crate::Issued) -> RegistryTls {
        RegistryTls {
            cert: server.cert,
            key: server.key,
            client_ca: None,
            seed_client: None,
        }
    }
}

/// The registry's side of token auth (`auth.token` in its config).
#[derive(Debug, Clone)]
pub struct TokenAuth {
    /// Where clients get tokens (sent in the challenge).
    pub realm: String,
    /// The `aud` tokens must carry (sent in the challenge).
    pub service: String,
    /// The `iss` tokens must carry.
    pub issuer: String,
    /// The certificates that may sign tokens (PEM bundle).
    pub root_cert_bundle: PathBuf,
    /// A user and password of the token server that skopeo pushes the
    /// test's fixtures as.
    pub seed_credentials: Option<(String, String)>,
}

impl Registry {
    /// Starts an open registry (no authentication).
    pub fn start() -> Registry {
        Registry::start_with(RegistryConfig::default())
    }

    /// Starts a registry that requires HTTP basic auth with `user` and
    /// `password` (an htpasswd file with a bcrypt hash).
    pub fn start_with_basic_auth(user: &str, password: &str) -> Registry {
        Registry::start_with(RegistryConfig {
            basic_auth: Some((user.to_string(), password.to_string())),
            ..RegistryConfig::default()
        })
    }

    /// Starts a registry configured as `config` says.
    pub fn start_with(config: RegistryConfig) -> Registry {
        Registry::launch(config)
    }

    /// `"127.0.0.1:PORT"`.
    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// The user and password, for a registry started with basic auth.
    pub fn credentials(&self) -> Option<(String, String)> {
        self.credentials.clone()
    }

    /// The server's process id (it is stopped by this id on drop).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The registry's storage root (`docker/registry/v2/…` below it).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Pushes the kit's busybox image ([`crate::busybox_image`]) as
    /// `repo:tag` and returns the name a client pulls it by,
    /// `ADDR/repo:tag`. The layout is written in the registry's own temp
    /// dir, so it goes with the registry.
    pub fn push_busybox(&self, repo: &str, tag: &str) -> String {
        let layout = self
            .dir
            .path()
            .join(format!("seed-{:x}", rand::random::<u64>()));
        crate::busybox_image().write_oci_layout(&layout, "latest");
        self.push_oci(&layout, "latest", repo, tag);
        format!("{}/{repo}:{tag}", self.addr())
    }

    /// Pushes the image tagged `tag_in_layout` in the OCI layout
    /// `layout_dir` to `ADDR/repo:tag` with skopeo, an independent client.
    pub fn push_oci(&self, layout_dir: &Path, tag_in_layout: &str, repo: &str, tag: &str) {
        self.skopeo_push(layout_dir, tag_in_layout, repo, tag, false);
    }

    /// Pushes a multi-platform image (an index in the OCI layout, see
    /// [`crate::ImageSpec::write_oci_index`]) with every platform's image:
    /// `skopeo copy --all`.
    pub fn push_oci_index(&self, layout_dir: &Path, tag_in_layout: &str, repo: &str, tag: &str) {
        self.skopeo_push(layout_dir, tag_in_layout, repo, tag, true);
    }

    fn skopeo_push(
        &self,
        layout_dir: &Path,
        tag_in_layout: &str,
        repo: &str,
        tag: &str,
        all: bool,
    ) {
        let skopeo = require_tool("skopeo", "skopeo");
        let mut cmd = Command::new(skopeo);
        // Over HTTPS too: the test's CA is not skopeo's business.
        cmd.args(["copy", "--dest-tls-verify=false"]);
        if all {
            cmd.arg("--all");
        }
        if let Some((cert, key)) = self
            .config
            .tls
            .as_ref()
            .and_then(|t| t.seed_client.as_ref())
        {
            let dir = self.dir.path().join("seed-certs");
            fs::create_dir_all(&dir).expect("mkdir seed-certs");
            fs::copy(cert, dir.join("client.cert")).expect("copy the seed certificate");
            fs::copy(key, dir.join("client.key")).expect("copy the seed key");
            cmd.arg("--dest-cert-dir").arg(dir);
        }
        if let Some((user, password)) = &self.credentials {
            cmd.arg("--dest-creds").arg(format!("{user}:{password}"));
        }
        cmd.arg(format!("oci:{}:{tag_in_layout}", layout_dir.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.addr));
        let out = run_output(&mut cmd);
        assert!(
            out.status.success(),
            "skopeo could not push {}:{tag_in_layout} to {}/{repo}:{tag} ({}):\n{}\nregistry log:\n{}",
            layout_dir.display(),
            self.addr,
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// What the registry wrote to stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn launch(config: RegistryConfig) -> Registry {
        let binary = require_tool("docker-registry", "docker-registry");
        // A free port can be taken by someone else between our probe and the
        // registry's bind: try a few ports before giving up.
        let mut last_failure = String::new();
        for _ in 0..3 {
            let mut registry = Registry::spawn(&binary, config.clone());
            match registry.wait_until_up() {
                Ok(()) => return registry,
                Err(why) => last_failure = format!("{why}\nregistry log:\n{}", registry.log()),
            }
        }
        panic!("docker-registry did not come up: {last_failure}");
    }

    /// Writes config (and htpasswd) into a fresh temp dir and starts the
    /// server on a free port.
    fn spawn(binary: &Path, config: RegistryConfig) -> Registry {
        let credentials = config.basic_auth.clone().or_else(|| {
            config
                .token
                .as_ref()
                .and_then(|t| t.seed_credentials.clone())
        });
        let dir = tempfile::Builder::new()
            .prefix("minidock-registry-")
            .tempdir()
            .expect("create the registry's temp dir");
        let htpasswd = config.basic_auth.as_ref().map(|(user, password)| {
            let hash = bcrypt::hash_with_result(password, BCRYPT_COST)
                .expect("bcrypt a password")
                .format_for_version(bcrypt::Version::TwoA);
            let path = dir.path().join("htpasswd");
            fs::write(&path, format!("{user}:{hash}\n"))
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        });
        let addr = format!("127.0.0.1:{}", free_port());
        let config_file = dir.path().join("config.yml");
        fs::write(
            &config_file,
            config_yaml(dir.path(), &addr, htpasswd.as_deref(), &config),
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", config_file.display()));
        let log_path = dir.path().join("registry.log");
        let log = fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("create {}: {e}", log_path.display()));
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Registry {
            child,
            addr,
            dir,
            credentials,
            config,
        }
    }

    /// Polls `GET /v2/` until it answers (200, or 401 when auth is on; over
    /// TLS, Go's `400` to a plain-HTTP request means the server is up).
    fn wait_until_up(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the registry") {
                return Err(format!("docker-registry exited with {status}"));
            }
            match http_get(&self.addr, "/v2/", None) {
                Ok(r) if r.status == 200 || r.status == 401 => return Ok(()),
                Ok(r) if r.status == 400 && self.config.tls.is_some() => return Ok(()),
                Ok(r) => return Err(format!("GET /v2/ answered {}", r.status)),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => {
                    return Err(format!(
                        "GET http://{}/v2/ failed for {START_TIMEOUT:?}: {e}",
                        self.addr
                    ))
                }
            }
        }
    }

    /// SIGTERM, up to 5 s to exit, then SIGKILL; always reaps the child.
    fn stop(&mut self) {
        use nix::sys::signal::{kill, Signal};
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let pid =
            nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid fits in i32"));
        // The child is ours and not reaped yet, so the pid is still its own.
        if kill(pid, Signal::SIGTERM).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if self.child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if let Err(e) = self.child.kill() {
            eprintln!("cannot kill docker-registry {}: {e}", self.child.id());
        }
        if let Err(e) = self.child.wait() {
            eprintln!("cannot reap docker-registry {}: {e}", self.child.id());
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        // The TempDir field removes the storage after this.
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn config_yaml(dir: &Path, addr: &str, htpasswd: Option<&Path>, config: &RegistryConfig) -> String {
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
         http:\n  addr: {addr}\n",
        storage = dir.join("storage").display()
    );
    if let Some(tls) = &config.tls {
        yaml.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            tls.cert.display(),
            tls.key.display()
        ));
        if let Some(ca) = &tls.client_ca {
            yaml.push_str(&format!("    clientcas:\n      - {}\n", ca.display()));
        }
    }
    if let Some(path) = htpasswd {
        yaml.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: minidock-test\n    path: {}\n",
            path.display()
        ));
    }
    if let Some(token) = &config.token {
        yaml.push_str(&format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            token.realm,
            token.service,
            token.issuer,
            token.root_cert_bundle.display()
        ));
    }
    yaml
}
