//! Which daemon the client talks to, and how: `-H`, `--context`,
//! `MINIDOCK_HOST`, `MINIDOCK_CONTEXT` and the current context (in that
//! order, see [`resolve`]), and the docker CLI's TLS flags, turned into the
//! client library's [`Endpoint`].
//!
//! A `tcp://` daemon is reached with mutual TLS when `--tlsverify` (or
//! `DOCKER_TLS_VERIFY`) says so: the daemon's certificate must be signed by
//! the CA of `--tlscacert`, and the client shows `--tlscert`/`--tlskey`.
//! Each file defaults to its name (`ca.pem`, `cert.pem`, `key.pem`) in
//! `DOCKER_CERT_PATH`, else `~/.docker`, as for the docker CLI; a default
//! certificate that is not there is simply not shown (the daemon then says
//! no), a file named on the command line must exist.

use std::path::PathBuf;

use crate::cli::{TlsArgs, DEFAULT_HOST};
use crate::context_store::{ContextStore, DEFAULT_CONTEXT};
use crate::error::Failure;
use minidock_client::{Client, Endpoint};
use minidock_daemon::tls::{client_config, TlsFiles};

/// What chose the daemon; `context ls`/`show` mark the context it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `-H URL`.
    HostFlag(String),
    /// `--context NAME` (or `-c`).
    ContextFlag(String),
    /// `MINIDOCK_HOST`.
    HostEnv(String),
    /// `MINIDOCK_CONTEXT`.
    ContextEnv(String),
    /// `currentContext` in `config.json` (`minidock context use`).
    Current(String),
    /// Nothing said otherwise: the local socket.
    Default,
}

impl Source {
    /// The context in use: its name, or `default` when an address (or
    /// nothing) chose the daemon.
    pub fn context_name(&self) -> &str {
        match self {
            Source::ContextFlag(name) | Source::ContextEnv(name) | Source::Current(name) => name,
            _ => DEFAULT_CONTEXT,
        }
    }
}

/// The daemon to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `unix:///path` or `tcp://HOST:PORT`.
    pub host: String,
    /// The directory with the context's `ca.pem`, `cert.pem`, `key.pem`,
    /// when a stored context chose the daemon and came with TLS files.
    pub tls_dir: Option<PathBuf>,
    /// What chose it.
    pub source: Source,
}

/// The environment variables that choose a daemon; empty ones count as
/// unset, as for the docker CLI.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `MINIDOCK_HOST`.
    pub host: Option<String>,
    /// `MINIDOCK_CONTEXT`.
    pub context: Option<String>,
}

impl Env {
    /// The process's environment.
    pub fn from_process() -> Env {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        Env {
            host: var("MINIDOCK_HOST"),
            context: var("MINIDOCK_CONTEXT"),
        }
    }
}

// ANCHOR: resolve
/// What chooses the daemon, first to last: `-H`, `--context`,
/// `MINIDOCK_HOST`, `MINIDOCK_CONTEXT`, the current context, the local
/// socket. A flag beats the environment, and an address beats a name at the
/// same level, so a script's `-H` or `MINIDOCK_HOST` is never overridden by
/// a `context use` typed elsewhere.
pub fn choose(
    host_flag: Option<&str>,
    context_flag: Option<&str>,
    env: &Env,
    store: &ContextStore,
) -> Result<Source, Failure> {
    Ok(if let Some(host) = host_flag {
        Source::HostFlag(host.to_string())
    } else if let Some(name) = context_flag {
        Source::ContextFlag(name.to_string())
    } else if let Some(host) = &env.host {
        Source::HostEnv(host.clone())
    } else if let Some(name) = &env.context {
        Source::ContextEnv(name.clone())
    } else {
        match store.current()? {
            name if name == DEFAULT_CONTEXT => Source::Default,
            name => Source::Current(name),
        }
    })
}

/// The daemon that `source` names: an address as it is, a context from the
/// store. The context `default` is `MINIDOCK_HOST`, else the local socket.
pub fn target(source: Source, env: &Env, store: &ContextStore) -> Result<Target, Failure> {
    let plain = |host: &str, source| Target {
        host: host.to_string(),
        tls_dir: None,
        source,
    };
    let name = match &source {
        Source::HostFlag(host) | Source::HostEnv(host) => return Ok(plain(&host.clone(), source)),
        Source::Default => return Ok(plain(DEFAULT_HOST, source)),
        named => named.context_name().to_string(),
    };
    if name == DEFAULT_CONTEXT {
        return Ok(plain(env.host.as_deref().unwrap_or(DEFAULT_HOST), source));
    }
    let meta = store.get(&name)?;
    let Some(host) = meta.host() else {
        return Err(Failure::new(format!(
            "context \"{name}\" has no docker endpoint: recreate it with 'minidock context create {name} --host URL'"
        )));
    };
    if meta
        .endpoints
        .get("docker")
        .is_some_and(|e| e.skip_tls_verify)
    {
        return Err(Failure::usage(format!(
            "context \"{name}\" skips TLS verification (SkipTLSVerify): minidock always verifies \
             the daemon's certificate; recreate it with --tlscacert"
        )));
    }
    let tls_dir = store.endpoint_tls_dir(&name);
    Ok(Target {
        host: host.to_string(),
        tls_dir: tls_dir.join("ca.pem").exists().then_some(tls_dir),
        source,
    })
}
// ANCHOR_END: resolve

/// [`choose`], then [`target`].
pub fn resolve(
    host_flag: Option<&str>,
    context_flag: Option<&str>,
    env: &Env,
    store: &ContextStore,
) -> Result<Target, Failure> {
    target(choose(host_flag, context_flag, env, store)?, env, store)
}

/// The client for `target`: a context's own TLS files when it has them,
/// else the TLS flags `tls` as for `-H`.
pub fn client_for_target(target: &Target, tls: &TlsArgs) -> Result<Client, Failure> {
    match &target.tls_dir {
        Some(dir) if target.host.starts_with("tcp://") => {
            let files = TlsFiles::in_dir(dir);
            let identity = files
                .cert
                .exists()
                .then_some((files.cert.as_path(), files.key.as_path()));
            let config = client_config(&files.ca, identity).map_err(|e| {
                Failure::usage(format!("context \"{}\": {e}", target.source.context_name()))
            })?;
            let endpoint = Endpoint::parse(&target.host, Some(config)).map_err(Failure::usage)?;
            Ok(Client::at(endpoint))
        }
        _ => client_for(&target.host, tls),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context_store::TlsSource;

    #[test]
    fn host_flag_beats_context_flag_beats_env_beats_current() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContextStore::at(dir.path());
        let none = TlsSource::default();
        store.create("ctx-a", "unix:///a.sock", "", &none).unwrap();
        store.create("ctx-b", "unix:///b.sock", "", &none).unwrap();
        store.set_current("ctx-a").unwrap();
        let env = Env {
            host: Some("unix:///env.sock".into()),
            context: Some("ctx-b".into()),
        };
        let host = |h, c, env: &Env| resolve(h, c, env, &store).unwrap().host;
        assert_eq!(
            host(Some("unix:///flag.sock"), Some("ctx-b"), &env),
            "unix:///flag.sock"
        );
        assert_eq!(host(None, Some("ctx-b"), &env), "unix:///b.sock");
        assert_eq!(host(None, None, &env), "unix:///env.sock");
        let only_context = Env {
            host: None,
            context: Some("ctx-b".into()),
        };
        assert_eq!(host(None, None, &only_context), "unix:///b.sock");
        assert_eq!(host(None, None, &Env::default()), "unix:///a.sock");
        // `default` is MINIDOCK_HOST, else the local socket
        assert_eq!(host(None, Some("default"), &env), "unix:///env.sock");
        assert_eq!(host(None, Some("default"), &Env::default()), DEFAULT_HOST);
        store.set_current("default").unwrap();
        let target = resolve(None, None, &Env::default(), &store).unwrap();
        assert_eq!(
            (target.host.as_str(), target.source),
            (DEFAULT_HOST, Source::Default)
        );
        let e = resolve(None, Some("gone"), &Env::default(), &store).unwrap_err();
        assert!(e.message.contains("\"gone\" does not exist"), "{e}");
    }
}
