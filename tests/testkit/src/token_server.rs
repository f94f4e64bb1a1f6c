//! A token server, as Docker Hub's `auth.docker.io`, written from the
//! distribution project's token specification ("Docker Registry v2 Bearer
//! token specification" and "Token Authentication Implementation"):
//!
//! ```text
//! GET /token?service=SERVICE&scope=repository:NAME:pull,push[&scope=…][&account=USER]
//! Authorization: Basic …            (optional: anonymous otherwise)
//!
//! 200 {"token": JWT, "access_token": JWT, "expires_in": SECONDS, "issued_at": RFC3339}
//! ```
//!
//! The JWT is signed with ES256 by a key whose certificate (issued by a
//! [`TestCa`]) travels in the `x5c` header; the registry is configured with
//! `auth: token` and that CA as its `rootcertbundle`, so it trusts tokens of
//! this server only. Its claims say who (`sub`), for which registry (`aud`,
//! the service), by whom (`iss`), until when (`exp`), and what is allowed:
//! `access: [{"type":"repository","name":NAME,"actions":[…]}]`.
//!
//! The policy is Docker Hub's for public repositories: anyone may pull, a
//! known user with the right password may also push; a wrong password is a
//! `401`. Every request is recorded, so tests can check what the client
//! asked for.
//!
//! A token's life is how long the registry accepts it. The registry allows
//! [`REGISTRY_LEEWAY`] of clock skew past a token's `exp`, so `exp` is set
//! that much before the end of its life: a token meant to live 2 s is
//! refused 2 s after it was issued, not 62 s. `expires_in` announces the
//! life; [`TokenServer::set_ttl`] changes it for the tokens to come, so a
//! test can hand out one short-lived token and then long-lived ones.
//!
//! The server is plain HTTP on 127.0.0.1, one thread, one request per
//! connection. It depends on no minidock code.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use crate::pki::{TestCa, Usage, Validity};
use crate::registry::TokenAuth;

/// The service name the registry announces and tokens are issued for.
pub const TOKEN_SERVICE: &str = "minidock-test-registry";
/// The issuer tokens name and the registry checks.
pub const TOKEN_ISSUER: &str = "minidock-test-token-server";
/// How long past `exp` the distribution registry still accepts a token
/// (its `Leeway`, for clock skew between it and the token server).
pub const REGISTRY_LEEWAY: Duration = Duration::from_secs(60);

/// One request the token server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The user of the Basic credentials; `None`: anonymous.
    pub user: Option<String>,
    /// The `service` parameter.
    pub service: Option<String>,
    /// The `scope` parameters, as sent (decoded).
    pub scopes: Vec<String>,
    /// The HTTP status answered (200, or 401 for a wrong password).
    pub status: u16,
    /// What the token allows: (repository, actions).
    pub granted: Vec<(String, Vec<String>)>,
    /// The token issued (`None` when refused).
    pub token: Option<String>,
    /// Its life, as announced in `expires_in`.
    pub ttl: Duration,
}

/// A running token server; stopped when dropped.
pub struct TokenServer {
    addr: String,
    ca: TestCa,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    ttl: Arc<RwLock<Duration>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What the serving thread needs.
struct State {
    users: Vec<(String, String)>,
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    ttl: Arc<RwLock<Duration>>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenServer {
    /// Starts a token server that knows `users` (name, password) and issues
    /// tokens valid for `ttl`.
    pub fn start(users: &[(&str, &str)], ttl: Duration) -> TokenServer {
        let ca = TestCa::new("minidock test token CA");
        let signer = ca.issue("token signer", &[], Usage::Signing, Validity::Current);
        let key_der = pem_body(&signer.key, "PRIVATE KEY");
        let cert_der = pem_body(&signer.cert, "CERTIFICATE");
        let rng = ring::rand::SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key_der, &rng)
            .unwrap_or_else(|e| panic!("ring cannot read {}: {e}", signer.key.display()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the token server");
        let addr = listener
            .local_addr()
            .expect("token server address")
            .to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let ttl = Arc::new(RwLock::new(ttl));
        let state = State {
            users: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            key,
            cert_der,
            ttl: ttl.clone(),
            requests: requests.clone(),
        };
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    if let Err(e) = serve(&state, stream) {
                        eprintln!("token server: {e}");
                    }
                }
            }
        });
        TokenServer {
            addr,
            ca,
            requests,
            ttl,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/token`: the realm of the registry's challenge.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The registry's `auth: token` settings for tokens of this server.
    /// `seed_user` is a user (and password) the test kit pushes fixtures as.
    pub fn registry_auth(&self, seed_user: Option<(&str, &str)>) -> TokenAuth {
        TokenAuth {
            realm: self.realm(),
            service: TOKEN_SERVICE.to_string(),
            issuer: TOKEN_ISSUER.to_string(),
            root_cert_bundle: self.ca.cert.clone(),
            seed_credentials: seed_user.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    /// The CA whose certificate signs tokens (the registry's rootcertbundle).
    pub fn root_cert_bundle(&self) -> PathBuf {
        self.ca.cert.clone()
    }

    /// Sets the life of the tokens issued from now on.
    pub fn set_ttl(&self, ttl: Duration) {
        self.control().set_ttl(ttl);
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.control().requests()
    }

    /// A handle that reads requests and sets token lives from any thread.
    pub fn control(&self) -> TokenControl {
        TokenControl {
            requests: self.requests.clone(),
            ttl: self.ttl.clone(),
        }
    }
}

/// What a test may do with a running token server from another thread
/// (a proxy's hold): read its requests, change the life of new tokens.
#[derive(Clone)]
pub struct TokenControl {
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    ttl: Arc<RwLock<Duration>>,
}

impl TokenControl {
    /// Sets the life of the tokens issued from now on.
    pub fn set_ttl(&self, ttl: Duration) {
        *self.ttl.write().expect("ttl lock") = ttl;
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        TcpStream::connect(&self.addr).ok();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// The DER bytes of the first `label` section of a PEM file.
fn pem_body(path: &std::path::Path, label: &str) -> Vec<u8> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("{} has no {begin}", path.display()));
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_else(|e| panic!("{}: bad base64: {e}", path.display()))
}

/// Answers one connection: one request, then close.
fn serve(state: &State, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }
    let (status, body) = answer(state, &target, authorization.as_deref());
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        if status == 200 { "OK" } else { "Unauthorized" },
        body.len()
    )?;
    stream.flush()
}

/// The status and JSON body for a request to `target`.
fn answer(state: &State, target: &str, authorization: Option<&str>) -> (u16, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    let param = |key: &str| {
        params
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let service = param("service").into_iter().next();
    let scopes = param("scope");
    let mut record = TokenRequest {
        user: None,
        service: service.clone(),
        scopes: scopes.clone(),
        status: 200,
        granted: Vec::new(),
        token: None,
        ttl: *state.ttl.read().expect("ttl lock"),
    };
    if path != "/token" {
        record.status = 404;
        state.requests.lock().expect("requests lock").push(record);
        return (404, r#"{"details":"not found"}"#.into());
    }
    // Basic credentials: a known user with the right password, or a 401.
    let mut known = false;
    if let Some(basic) = authorization.and_then(|a| a.strip_prefix("Basic ")) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .unwrap_or_default();
        let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
        record.user = Some(user.to_string());
        known = state.users.iter().any(|(u, p)| u == user && p == password);
        if !known {
            record.status = 401;
            state.requests.lock().expect("requests lock").push(record);
            return (
                401,
                r#"{"details":"incorrect username or password"}"#.into(),
            );
        }
    }
    // Anyone may pull; known users may also push. Actions not allowed are
    // left out of the token, as the spec says (not an error).
    for scope in &scopes {
        let mut parts = scope.splitn(3, ':');
        let (Some("repository"), Some(name), Some(actions)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let allowed: Vec<String> = actions
            .split(',')
            .filter(|a| *a == "pull" || (known && *a == "push"))
            .map(str::to_string)
            .collect();
        record.granted.push((name.to_string(), allowed));
    }
    let token = sign(
        state,
        record.user.as_deref().unwrap_or(""),
        service.as_deref(),
        &record.granted,
        record.ttl,
    );
    record.token = Some(token.clone());
    let expires_in = record.ttl.as_secs();
    state.requests.lock().expect("requests lock").push(record);
    let body = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
    });
    (200, body.to_string())
}

/// A JWT for `subject`, audience `service`, allowing `granted`, that the
/// registry accepts for `ttl` (see [`REGISTRY_LEEWAY`]).
fn sign(
    state: &State,
    subject: &str,
    service: Option<&str>,
    granted: &[(String, Vec<String>)],
    ttl: Duration,
) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(&state.cert_der)],
    });
    let access: Vec<serde_json::Value> = granted
        .iter()
        .map(|(name, actions)| {
            serde_json::json!({"type": "repository", "name": name, "actions": actions})
        })
        .collect();
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER,
        "sub": subject,
        "aud": service.unwrap_or(TOKEN_SERVICE),
        "exp": (now + ttl.as_secs()).saturating_sub(REGISTRY_LEEWAY.as_secs()),
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("{:x}", rand::random::<u64>()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let rng = ring::rand::SystemRandom::new();
    let signature = state
        .key
        .sign(&rng, signing_input.as_bytes())
        .expect("sign a token");
    format!("{signing_input}.{}", b64(signature.as_ref()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
