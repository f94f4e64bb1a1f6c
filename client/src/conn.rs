//! Where the daemon is, and how a connection to it is opened: a unix
//! socket, or TCP with mutual TLS (see [`minidock_daemon::tls`]).
//!
//! The rest of the client speaks HTTP on a blocking [`UnixStream`], and
//! so it stays: a TCP connection is handed over as one end of a socket
//! pair, and a thread relays between the other end and the (TLS)
//! connection. The TLS stream itself cannot be split into a reading and a
//! writing half that block independently — which attach needs, with one
//! thread sending stdin while another reads output — and the relay gives
//! exactly that, with a half-close (stdin's end) passed on as TLS's
//! `close_notify`.
//!
//! With TLS 1.3 the daemon checks the client's certificate *after* the
//! client considers the handshake done, so a refusal arrives as an alert
//! on the first read. The relay keeps the error, and [`Connection::failure`]
//! hands it to whoever found the connection closed, so the user reads
//! "certificate required" rather than "connection closed".

use super::ClientError;
use std::fmt;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A daemon's address.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// `unix:///path/to.sock`.
    Unix(PathBuf),
    /// `tcp://HOST:PORT`, with TLS when `tls` is set (every minidockd that
    /// listens on TCP requires it, unless started with the flag that says
    /// it may go without).
    Tcp {
        /// `HOST:PORT`.
        addr: String,
        /// The client's TLS configuration (CA, certificate, key).
        tls: Option<Arc<rustls::ClientConfig>>,
    },
}

impl Endpoint {
    /// Parses `unix:///path` or `tcp://HOST:PORT`; `tls` is used for TCP.
    pub fn parse(
        host: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Endpoint, ClientError> {
        if let Some(path) = host.strip_prefix("unix://") {
            if path.starts_with('/') {
                return Ok(Endpoint::Unix(PathBuf::from(path)));
            }
        } else if let Some(addr) = host.strip_prefix("tcp://") {
            let addr = addr.trim_end_matches('/');
            if split_host(addr).is_some() {
                return Ok(Endpoint::Tcp {
                    addr: addr.to_string(),
                    tls,
                });
            }
        }
        Err(ClientError::BadHost(format!(
            "unsupported daemon address {host:?}: expected unix:///path/to.sock or tcp://HOST:PORT"
        )))
    }

    /// Whether connections are made with TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Endpoint::Tcp { tls: Some(_), .. })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp { addr, .. } => write!(f, "tcp://{addr}"),
        }
    }
}

/// `HOST:PORT` split; `[::1]:2376` gives `::1`.
fn split_host(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some((host, port))
}

/// An open connection, and what its relay (for TCP) saw go wrong.
pub(crate) struct Connection {
    /// The stream HTTP is spoken on.
    pub stream: UnixStream,
    relay: Option<Arc<Mutex<Option<io::Error>>>>,
    endpoint: Endpoint,
}

impl Connection {
    /// Why the relay ended the connection early, if it did: for a TLS
    /// connection, the daemon's refusal of the client's certificate.
    pub fn failure(&self) -> Option<ClientError> {
        let error = self.relay.as_ref()?.lock().ok()?.take()?;
        Some(connect_error(&self.endpoint, error))
    }
}

fn connect_error(endpoint: &Endpoint, source: io::Error) -> ClientError {
    if endpoint.is_tls() {
        ClientError::Tls {
            address: endpoint.to_string(),
            source,
        }
    } else {
        ClientError::Connect {
            address: endpoint.to_string(),
            source,
        }
    }
}

// ANCHOR: connect
/// Opens a connection to the daemon.
pub(crate) fn connect(endpoint: &Endpoint) -> Result<Connection, ClientError> {
    let (addr, tls) = match endpoint {
        Endpoint::Unix(path) => {
            let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
                address: endpoint.to_string(),
                source,
            })?;
            return Ok(Connection {
                stream,
                relay: None,
                endpoint: endpoint.clone(),
            });
        }
        Endpoint::Tcp { addr, tls } => (addr.clone(), tls.clone()),
    };
    let plain = |source| ClientError::Connect {
        address: endpoint.to_string(),
        source,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(plain)?;
    let remote: Remote = runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(&addr).await.map_err(plain)?;
        let Some(config) = tls else {
            return Ok(Remote::Plain(tcp));
        };
        let (host, _) = split_host(&addr).unwrap_or((&addr, 0));
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| ClientError::BadHost(format!("tcp://{addr}: {host:?} is {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|source| connect_error(endpoint, source))?;
        Ok::<_, ClientError>(Remote::Tls(Box::new(tls)))
    })?;
    let (stream, theirs) = UnixStream::pair().map_err(plain)?;
    theirs.set_nonblocking(true).map_err(plain)?;
    let failure = Arc::new(Mutex::new(None));
    let relay = failure.clone();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let mut local = match tokio::net::UnixStream::from_std(theirs) {
                Ok(local) => local,
                Err(e) => return keep(&relay, e),
            };
            let copied = match remote {
                Remote::Plain(mut tcp) => tokio::io::copy_bidirectional(&mut local, &mut tcp).await,
                Remote::Tls(mut tls) => tokio::io::copy_bidirectional(&mut local, &mut *tls).await,
            };
            // Kept before `local` closes: the client looks for the error
            // when it sees the connection end, not before.
            if let Err(e) = copied {
                keep(&relay, e);
            }
            drop(local);
        })
    });
    Ok(Connection {
        stream,
        relay: Some(failure),
        endpoint: endpoint.clone(),
    })
}
// ANCHOR_END: connect

/// Keeps the relay's error for [`Connection::failure`].
fn keep(slot: &Mutex<Option<io::Error>>, error: io::Error) {
    if let Ok(mut slot) = slot.lock() {
        *slot = Some(error);
    }
}

/// The daemon's side of a relayed connection.
enum Remote {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        let unix = Endpoint::parse("unix:///run/x.sock", None).unwrap();
        assert_eq!(unix.to_string(), "unix:///run/x.sock");
        let tcp = Endpoint::parse("tcp://127.0.0.1:2376", None).unwrap();
        assert_eq!(tcp.to_string(), "tcp://127.0.0.1:2376");
        assert!(!tcp.is_tls());
        assert_eq!(split_host("[::1]:2376"), Some(("::1", 2376)));
        for bad in [
            "unix://relative",
            "tcp://nohost",
            "tcp://:2376",
            "http://x:1",
        ] {
            let err = Endpoint::parse(bad, None).unwrap_err().to_string();
            assert!(err.contains("tcp://HOST:PORT"), "{bad}: {err}");
        }
    }
}
