//! TLS to a registry: whose certificate we trust, and which one we show.
//!
//! A registry on the network is reached over HTTPS, and its certificate must
//! be signed by a CA we trust, be valid today and name the host we dialled.
//! Public registries are signed by a public CA (Mozilla's list, compiled in).
//! A company's registry is often signed by the company's own CA; Docker's
//! answer, which minidock follows, is one directory per registry:
//!
//! ```text
//! /etc/minidock/certs.d/            (Docker: /etc/docker/certs.d/)
//!   registry.example:5000/          the registry's host:port, as in image names
//!     ca.crt                        every *.crt: a CA trusted for this registry
//!     client.cert  client.key       a *.cert with its *.key: our certificate,
//!                                   shown when the registry asks (mutual TLS)
//! ```
//!
//! A CA listed there is trusted for that registry only, on top of the
//! system's CAs (`/etc/ssl/certs/ca-certificates.crt`), never for others.
//!
//! **A directory there also means HTTPS.** Registries on the loopback
//! interface are plain HTTP by default (see [`crate::endpoint`]); a
//! `certs.d/127.0.0.1:5000/` directory says "this one speaks TLS, with these
//! certificates", so the client uses HTTPS for it. Without that rule, a
//! registry on `localhost` could never be tested or used with TLS.
//!
//! The same lookup serves every HTTPS URL the client opens, by its
//! `host:port`: the registry, its token server (the realm of a challenge),
//! and the storage a blob download is redirected to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::error::{RegistryError, Result};

/// Where the per-registry certificates live unless configured otherwise.
pub const DEFAULT_CERTS_DIR: &str = "/etc/minidock/certs.d";
/// Debian's bundle of the system's trusted CAs (ca-certificates).
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

// ANCHOR: host_certs
/// What `certs.d/<host:port>/` holds for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCerts {
    /// The directory itself.
    pub dir: PathBuf,
    /// Every `*.crt`: the CAs trusted for this registry.
    pub cas: Vec<PathBuf>,
    /// A `NAME.cert` and its `NAME.key`: the certificate we show.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl HostCerts {
    /// The directory of `authority` (`host:port` as written in a URL) under
    /// `root`, if there is one. An authority that could leave `root`
    /// (`..`, a `/`) has none.
    pub fn dir_of(root: &Path, authority: &str) -> Option<PathBuf> {
        let safe = !authority.is_empty()
            && !authority.starts_with('.')
            && authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        let dir = root.join(authority.to_ascii_lowercase());
        (safe && dir.is_dir()).then_some(dir)
    }

    /// Reads the directory of `authority` under `root`: `None` when it has
    /// none. A `.cert` without its `.key` (or the other way round) is an
    /// error, as for Docker: half a client identity is a mistake to report.
    pub fn find(root: &Path, authority: &str) -> Result<Option<HostCerts>> {
        let Some(dir) = HostCerts::dir_of(root, authority) else {
            return Ok(None);
        };
        let unreadable = |e: std::io::Error| RegistryError::Certs {
            path: dir.clone(),
            reason: format!("cannot list it: {e}"),
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(unreadable)?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()
            .map_err(unreadable)?;
        names.sort();
        let mut cas = Vec::new();
        let mut client = None;
        for name in &names {
            if name.ends_with(".crt") {
                cas.push(dir.join(name));
            } else if let Some(stem) = name.strip_suffix(".cert") {
                let key = format!("{stem}.key");
                if !names.contains(&key) {
                    return Err(RegistryError::Certs {
                        path: dir.join(name),
                        reason: format!("client certificate without its key {key}"),
                    });
                }
                client.get_or_insert((dir.join(name), dir.join(key)));
            } else if let Some(stem) = name.strip_suffix(".key") {
                if !names.contains(&format!("{stem}.cert")) {
                    return Err(RegistryError::Certs {
                        path: dir.join(name),
                        reason: format!("key without its client certificate {stem}.cert"),
                    });
                }
            }
        }
        Ok(Some(HostCerts { dir, cas, client }))
    }
    // ANCHOR_END: host_certs

    // ANCHOR: tls_config
    /// The TLS settings for this registry: the system's CAs and ours as
    /// roots, our client certificate if there is one. Every file is read
    /// and checked here, so a broken file is reported by name rather than
    /// as a failed handshake.
    pub fn tls_config(&self) -> Result<TlsConfig> {
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        if let Ok(pem) = std::fs::read(SYSTEM_ROOTS) {
            // The system bundle is the distribution's; a certificate in it
            // that does not parse is its problem, not a reason to fail.
            roots.extend(
                CertificateDer::pem_slice_iter(&pem)
                    .flatten()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned()),
            );
        }
        for ca in &self.cas {
            let certs = read_certs(ca)?;
            let mut check = rustls::RootCertStore::empty();
            for cert in &certs {
                check.add(cert.clone()).map_err(|e| RegistryError::Certs {
                    path: ca.clone(),
                    reason: format!("not a usable CA certificate: {e}"),
                })?;
            }
            roots.extend(
                certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned()),
            );
        }
        let mut builder = TlsConfig::builder().root_certs(RootCerts::from(roots));
        if let Some((cert, key)) = &self.client {
            builder = builder.client_cert(Some(client_cert(cert, key)?));
        }
        Ok(builder.build())
    }
    // ANCHOR_END: tls_config
}

/// The certificates of a PEM file; none is an error.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |reason: String| RegistryError::Certs {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no \"-----BEGIN CERTIFICATE-----\" in it".into()));
    }
    Ok(certs)
}

/// Our certificate chain and key, checked to belong together (rustls
/// compares the key with the certificate's public key).
fn client_cert(cert: &Path, key: &Path) -> Result<ClientCert> {
    let chain = read_certs(cert)?;
    let pem = std::fs::read(key).map_err(|e| RegistryError::Certs {
        path: key.to_path_buf(),
        reason: format!("cannot read it: {e}"),
    })?;
    let key_der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| RegistryError::Certs {
        path: key.to_path_buf(),
        reason: format!("no PEM private key in it: {e}"),
    })?;
    let check = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .and_then(|b| {
        b.with_root_certificates(rustls::RootCertStore::empty())
            .with_client_auth_cert(chain.clone(), key_der.clone_key())
    });
    if let Err(e) = check {
        return Err(RegistryError::Certs {
            path: key.to_path_buf(),
            reason: format!("does not belong to {}: {e}", cert.display()),
        });
    }
    let chain: Vec<Certificate<'static>> = chain
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    let key = PrivateKey::from_pem(&pem).map_err(|e| RegistryError::Certs {
        path: key.to_path_buf(),
        reason: format!("unsupported key: {e}"),
    })?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

// ANCHOR: explain
/// Says in words why a TLS handshake with `authority` failed, and what to
/// do; `None` when `err` is not a TLS failure. `certs_dir` is where the
/// registry's CA would go.
pub fn explain(err: &ureq::Error, authority: &str, certs_dir: Option<&Path>) -> Option<String> {
    use rustls::{AlertDescription, CertificateError, Error as Tls};
    let ureq::Error::Io(io) = err else {
        return None;
    };
    let tls = io.get_ref()?.downcast_ref::<Tls>()?;
    let place = certs_dir
        .map(|d| d.join(authority).join("ca.crt").display().to_string())
        .unwrap_or_else(|| format!("certs.d/{authority}/ca.crt"));
    Some(match tls {
        Tls::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => format!(
                "the certificate of {authority} is signed by a CA we do not trust; if it is \
                 your registry's own CA, put that CA's certificate in {place}"
            ),
            CertificateError::ExpiredContext { not_after, .. } => format!(
                "the certificate of {authority} has expired on {}; the registry must renew \
                 it (or this machine's clock is wrong)",
                date(not_after.as_secs())
            ),
            CertificateError::Expired => format!(
                "the certificate of {authority} has expired; the registry must renew it (or \
                 this machine's clock is wrong)"
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "the certificate of {authority} is not valid yet ({cert:?}); check this \
                     machine's clock"
                )
            }
            CertificateError::NotValidForName => format!(
                "the certificate of {authority} is for another host name: use the name the \
                 certificate was made for"
            ),
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "the certificate of {authority} is for {}, not {}: use the name the \
                 certificate was made for",
                presented
                    .iter()
                    .map(|name| unquote(name))
                    .collect::<Vec<_>>()
                    .join(", "),
                authority_host(authority)
            ),
            other => format!("the certificate of {authority} was refused: {other:?}"),
        },
        Tls::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::HandshakeFailure
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA,
        ) => format!(
            "{authority} refused our client certificate (or we sent none): put a \
             client.cert and client.key signed by its CA next to {place}"
        ),
        Tls::InvalidMessage(_) => format!(
            "{authority} does not speak TLS; if it is a plain HTTP registry, list it in \
             insecure-registries (and remove its certs.d directory)"
        ),
        other => format!("TLS with {authority} failed: {other}"),
    })
}
// ANCHOR_END: explain

/// `DnsName("a.example")` (how rustls shows a name) as `a.example`.
fn unquote(name: &str) -> &str {
    match (name.find('"'), name.rfind('"')) {
        (Some(a), Some(b)) if a < b => &name[a + 1..b],
        _ => name,
    }
}

/// The host of `host:port` (or `[v6]:port`).
fn authority_host(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// A Unix time as a `YYYY-MM-DD` date (UTC), by the civil-from-days
/// algorithm: enough for a message, without a date crate.
fn date(secs: u64) -> String {
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_names_read_as_people_write_them() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_580_515_200), "2020-02-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(unquote("DnsName(\"a.example\")"), "a.example");
        assert_eq!(authority_host("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(authority_host("[::1]:5000"), "::1");
        assert_eq!(authority_host("reg.example"), "reg.example");
    }

    #[test]
    fn authorities_that_could_leave_the_directory_have_none() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("reg.example:5000")).unwrap();
        assert!(HostCerts::dir_of(root.path(), "reg.example:5000").is_some());
        assert!(HostCerts::dir_of(root.path(), "REG.example:5000").is_some());
        for bad in ["", ".", "..", "../etc", "a/b", "reg.example:5000/.."] {
            assert_eq!(HostCerts::dir_of(root.path(), bad), None, "{bad}");
        }
    }

    #[test]
    fn a_cert_without_its_key_is_reported_by_name() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("reg.example");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("client.cert"), "x").unwrap();
        let err = HostCerts::find(root.path(), "reg.example").unwrap_err();
        assert!(err.to_string().contains("client.key"), "{err}");
        std::fs::remove_file(dir.join("client.cert")).unwrap();
        std::fs::write(dir.join("me.key"), "x").unwrap();
        let err = HostCerts::find(root.path(), "reg.example").unwrap_err();
        assert!(err.to_string().contains("me.cert"), "{err}");
    }

    #[test]
    fn cas_and_the_client_pair_are_found() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("127.0.0.1:5000");
        std::fs::create_dir(&dir).unwrap();
        for f in ["ca.crt", "extra.crt", "client.cert", "client.key", "README"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let found = HostCerts::find(root.path(), "127.0.0.1:5000")
            .unwrap()
            .unwrap();
        assert_eq!(found.cas, vec![dir.join("ca.crt"), dir.join("extra.crt")]);
        assert_eq!(
            found.client,
            Some((dir.join("client.cert"), dir.join("client.key")))
        );
        assert_eq!(HostCerts::find(root.path(), "other:1").unwrap(), None);
    }

    #[test]
    fn a_file_that_is_not_a_certificate_is_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("reg.example");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("ca.crt"), "not a certificate").unwrap();
        let err = HostCerts::find(root.path(), "reg.example")
            .unwrap()
            .unwrap()
            .tls_config()
            .unwrap_err();
        assert!(err.to_string().contains("ca.crt"), "{err}");
        assert!(err.to_string().contains("BEGIN CERTIFICATE"), "{err}");
    }
}
