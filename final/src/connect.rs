//! Which daemon the client talks to, and how: `-H` (or `MINIDOCK_HOST`)
//! and the docker CLI's TLS flags, turned into the client library's
//! [`Endpoint`].
//!
//! A `tcp://` daemon is reached with mutual TLS when `--tlsverify` (or
//! `DOCKER_TLS_VERIFY`) says so: the daemon's certificate must be signed by
//! the CA of `--tlscacert`, and the client shows `--tlscert`/`--tlskey`.
//! Each file defaults to its name (`ca.pem`, `cert.pem`, `key.pem`) in
//! `DOCKER_CERT_PATH`, else `~/.docker`, as for the docker CLI; a default
//! certificate that is not there is simply not shown (the daemon then says
//! no), a file named on the command line must exist.

use crate::cli::TlsArgs;
use crate::error::Failure;
use minidock_client::{Client, Endpoint};
use minidock_daemon::tls::{client_config, TlsFiles};

// ANCHOR: client_for
/// The client for `host` with the TLS flags `tls`.
pub fn client_for(host: &str, tls: &TlsArgs) -> Result<Client, Failure> {
    let tcp = host.starts_with("tcp://");
    if tcp && tls.tls && !tls.tlsverify {
        return Err(Failure::usage(
            "--tls without --tlsverify would trust any daemon that answers: minidock always \
             verifies the daemon's certificate; pass --tlsverify (with --tlscacert, or ca.pem in \
             DOCKER_CERT_PATH)",
        ));
    }
    let config = if tcp && tls.tlsverify {
        let defaults = TlsFiles::in_dir(&TlsFiles::default_dir());
        let ca = tls.tlscacert.clone().unwrap_or(defaults.ca);
        let cert = tls.tlscert.clone().unwrap_or(defaults.cert);
        let key = tls.tlskey.clone().unwrap_or(defaults.key);
        let named = tls.tlscert.is_some() || tls.tlskey.is_some();
        let identity = (named || cert.exists()).then_some((cert.as_path(), key.as_path()));
        Some(client_config(&ca, identity).map_err(Failure::usage)?)
    } else {
        None
    };
    let endpoint = Endpoint::parse(host, config).map_err(Failure::usage)?;
    Ok(Client::at(endpoint))
}
// ANCHOR_END: client_for
