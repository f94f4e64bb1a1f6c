//! A throw-away certificate authority made with the `openssl` command line,
//! for registries over TLS, client certificates and token signing keys.
//!
//! The certificates come from OpenSSL, not from the TLS library under test,
//! so a bug in how minidock reads or checks certificates cannot be mirrored
//! by the fixture. Keys are P-256 (fast to make), stored as PKCS#8
//! (`BEGIN PRIVATE KEY`), which Go, rustls and ring all read.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{require_tool, run_ok};

/// What a certificate is for: its extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A TLS server (a registry).
    Server,
    /// A TLS client (minidock showing its certificate).
    Client,
    /// Signing tokens (a token server's key).
    Signing,
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From now for two days.
    Current,
    /// January 2020: expired long ago.
    Expired,
}

/// A certificate and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA in a temp dir: `ca.crt` and `ca.key`, and what it issued.
#[derive(Debug)]
pub struct TestCa {
    dir: tempfile::TempDir,
    /// The CA's certificate (PEM): what a client must trust.
    pub cert: PathBuf,
    key: PathBuf,
    issued: std::cell::Cell<u32>,
}

const OPENSSL_CONFIG: &str = "\
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = minidock test
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
";

impl TestCa {
    /// A new CA named `name` (its common name).
    pub fn new(name: &str) -> TestCa {
        let dir = tempfile::Builder::new()
            .prefix("minidock-ca-")
            .tempdir()
            .expect("create the CA's temp dir");
        let path = dir.path();
        write(&path.join("openssl.cnf"), OPENSSL_CONFIG);
        write(&path.join("index.txt"), "");
        write(&path.join("serial"), "1000\n");
        fs::create_dir(path.join("issued")).expect("mkdir issued");
        let cert = path.join("ca.crt");
        let key = path.join("ca.key");
        run_ok(
            openssl(path)
                .args(["req", "-x509", "-new", "-config", "openssl.cnf"])
                .args(["-extensions", "v3_ca", "-days", "2", "-nodes"])
                .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
                .args(["-keyout", "ca.key", "-out", "ca.crt"])
                .arg("-subj")
                .arg(format!("/CN={name}")),
        );
        TestCa {
            dir,
            cert,
            key,
            issued: std::cell::Cell::new(0),
        }
    }

    /// The CA's directory (for files a test wants to keep next to it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Issues a certificate for `common_name` with the subject alternative
    /// names `sans` (`DNS:localhost`, `IP:127.0.0.1`), for `usage`, valid
    /// as `validity` says. Returns its PEM files.
    pub fn issue(
        &self,
        common_name: &str,
        sans: &[&str],
        usage: Usage,
        validity: Validity,
    ) -> Issued {
        let n = self.issued.get() + 1;
        self.issued.set(n);
        let path = self.dir.path();
        let stem = format!("leaf{n}");
        let key = path.join(format!("{stem}.key"));
        let csr = path.join(format!("{stem}.csr"));
        let cert = path.join(format!("{stem}.crt"));
        let ext = path.join(format!("{stem}.ext"));
        let eku = match usage {
            Usage::Server => {
                "extendedKeyUsage = serverAuth\nkeyUsage = critical, digitalSignature\n"
            }
            Usage::Client => {
                "extendedKeyUsage = clientAuth\nkeyUsage = critical, digitalSignature\n"
            }
            Usage::Signing => "keyUsage = critical, digitalSignature\n",
        };
        let mut extensions = format!(
            "[ leaf ]\nbasicConstraints = critical, CA:FALSE\n{eku}\
             authorityKeyIdentifier = keyid\nsubjectKeyIdentifier = hash\n"
        );
        if !sans.is_empty() {
            extensions.push_str(&format!("subjectAltName = {}\n", sans.join(", ")));
        }
        write(&ext, &extensions);
        run_ok(
            openssl(path)
                .args(["req", "-new", "-config", "openssl.cnf", "-nodes"])
                .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&csr)
                .arg("-subj")
                .arg(format!("/CN={common_name}")),
        );
        let mut sign = openssl(path);
        sign.args(["ca", "-batch", "-notext", "-config", "openssl.cnf"])
            .arg("-cert")
            .arg(&self.cert)
            .arg("-keyfile")
            .arg(&self.key)
            .arg("-in")
            .arg(&csr)
            .arg("-out")
            .arg(&cert)
            .arg("-extfile")
            .arg(&ext)
            .args(["-extensions", "leaf"]);
        match validity {
            Validity::Current => sign.args(["-days", "2"]),
            Validity::Expired => sign.args([
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20200201000000Z",
            ]),
        };
        run_ok(&mut sign);
        Issued { cert, key }
    }

    /// Fills `certs_dir/<authority>/` the way a user would: the CA as
    /// `ca.crt`, and `client` as `client.cert`/`client.key`.
    pub fn install(&self, certs_dir: &Path, authority: &str, client: Option<&Issued>) -> PathBuf {
        let dir = certs_dir.join(authority);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        copy(&self.cert, &dir.join("ca.crt"));
        if let Some(client) = client {
            copy(&client.cert, &dir.join("client.cert"));
            copy(&client.key, &dir.join("client.key"));
        }
        dir
    }
}

fn openssl(dir: &Path) -> Command {
    let mut cmd = Command::new(require_tool("openssl", "openssl"));
    cmd.current_dir(dir);
    cmd
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn copy(from: &Path, to: &Path) {
    fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
}
