//! Mutual TLS for the daemon's TCP socket, as `dockerd --tlsverify`.
//!
//! A unix socket is guarded by its mode (see [`crate::listen`]); a TCP port
//! by nothing at all: every process on the machine, and every machine that
//! can route to it, may connect. Since a request to the daemon can run a
//! container with the host's `/` mounted, a TCP socket without
//! authentication is root for all of them. So the daemon serves TCP only
//! with *mutual* TLS:
//!
//! - the daemon shows a certificate (`--tlscert`, `--tlskey`) that clients
//!   check against the CA they trust, and whose names must include the host
//!   they dialled, so nobody can pose as the daemon;
//! - the daemon asks every client for a certificate and accepts only one
//!   signed by the CA of `--tlscacert`. That CA is the access list: whoever
//!   holds a client certificate it signed has root here, as with Docker.
//!
//! The files are PEM, the ones `openssl` and Docker's documentation make:
//! `ca.pem`, `server-cert.pem`/`server-key.pem` for the daemon,
//! `cert.pem`/`key.pem` for a client. The same module builds the client's
//! side ([`client_config`]), which the `minidock-client` crate uses.
//!
//! The TLS library is rustls with its *ring* crypto provider: rustls and
//! ring are already compiled into the engine for chapter 04's registry
//! client, and a pure-Rust TLS stack needs no OpenSSL headers or C
//! toolchain beyond ring's few assembly files. Each configuration names its
//! provider instead of relying on a process-wide default, so nothing
//! depends on which crate installed one first.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

// ANCHOR: tls_files
/// The three files of `--tlsverify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `--tlscacert`: the CA whose certificates are trusted (for the
    /// daemon: the clients'; for a client: the daemon's).
    pub ca: PathBuf,
    /// `--tlscert`: this side's certificate (chain), leaf first.
    pub cert: PathBuf,
    /// `--tlskey`: this side's private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// Where the files are when no flag names them, as for Docker:
    /// `DOCKER_CERT_PATH`, else `~/.docker`.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("DOCKER_CERT_PATH")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")))
            .unwrap_or_else(|| PathBuf::from(".docker"))
    }

    /// `ca.pem`, `cert.pem` and `key.pem` in `dir`: the layout of Docker's
    /// `DOCKER_CERT_PATH` (by default `~/.docker`).
    pub fn in_dir(dir: &Path) -> TlsFiles {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}
// ANCHOR_END: tls_files

// ANCHOR: tls_error
/// What can be wrong with the TLS files.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read the {what} {path}: {source}")]
    Read {
        /// Which file (`CA certificate`, `certificate`, `private key`).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the system said (no such file, permission denied, …).
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("the {what} {path} is not usable: {reason}")]
    Invalid {
        /// Which file.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
}
// ANCHOR_END: tls_error

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn invalid(what: &'static str, path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::Invalid {
        what,
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

// ANCHOR: tls_read
/// Every certificate in a PEM file, in order.
fn read_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(what, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(what, path, format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(
            what,
            path,
            "no \"-----BEGIN CERTIFICATE-----\" section in it",
        ));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    const WHAT: &str = "private key";
    let pem = read(WHAT, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        invalid(
            WHAT,
            path,
            format!("no PEM private key in it ({e}); expected \"-----BEGIN PRIVATE KEY-----\""),
        )
    })
}

/// The trusted roots: every certificate of the CA file.
fn read_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    const WHAT: &str = "CA certificate";
    let mut roots = RootCertStore::empty();
    for cert in read_certs(WHAT, path)? {
        roots
            .add(cert)
            .map_err(|e| invalid(WHAT, path, e.to_string()))?;
    }
    Ok(roots)
}
// ANCHOR_END: tls_read

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// ANCHOR: server_config
/// The daemon's TLS configuration: its own certificate and key, and a
/// client verifier that admits only certificates signed by the CA. A client
/// without a certificate fails the handshake.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let roots = read_roots(&files.ca)?;
    let clients = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| invalid("CA certificate", &files.ca, e.to_string()))?;
    let chain = read_certs("certificate", &files.cert)?;
    let key = read_key(&files.key)?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("certificate", &files.cert, e.to_string()))?
        .with_client_cert_verifier(clients)
        .with_single_cert(chain, key)
        .map_err(|e| {
            invalid(
                "certificate",
                &files.cert,
                format!("{e} (does {} belong to it?)", files.key.display()),
            )
        })?;
    Ok(Arc::new(config))
}
// ANCHOR_END: server_config

/// A client's TLS configuration: the daemon's certificate must be signed
/// by the CA of `ca`, and the client shows `identity` (certificate and key)
/// when it has one. Without one, a daemon that verifies its clients (every
/// minidockd does) ends the handshake.
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = read_roots(ca)?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("CA certificate", ca, e.to_string()))?
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => {
            let chain = read_certs("certificate", cert)?;
            let key_der = read_key(key)?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                invalid(
                    "certificate",
                    cert,
                    format!("{e} (does {} belong to it?)", key.display()),
                )
            })?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles::in_dir(dir.path());
        let err = server_config(&files).unwrap_err().to_string();
        assert!(err.contains("cannot read the CA certificate"), "{err}");
        assert!(err.contains("ca.pem"), "{err}");
        std::fs::write(&files.ca, "not a certificate\n").unwrap();
        let err = server_config(&files).unwrap_err().to_string();
        assert!(err.contains("-----BEGIN CERTIFICATE-----"), "{err}");
        let err = client_config(&files.ca, None).unwrap_err().to_string();
        assert!(err.contains(&files.ca.display().to_string()), "{err}");
    }
}
