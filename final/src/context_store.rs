//! Named daemons: the contexts of `minidock context …`, stored the way the
//! docker CLI stores them, in the client's configuration directory
//! (`$DOCKER_CONFIG`, else `~/.docker`), where minidock already keeps the
//! credentials of `login` and the `detachKeys`:
//!
//! ```text
//! $DOCKER_CONFIG/config.json                    "currentContext": "NAME"
//! $DOCKER_CONFIG/contexts/meta/<sha256(NAME)>/meta.json
//! $DOCKER_CONFIG/contexts/tls/<sha256(NAME)>/docker/{ca,cert,key}.pem
//! ```
//!
//! The directory of a context is named after the SHA-256 of its name, so
//! any name is a valid directory name, and `meta.json` holds the name
//! itself and its endpoint: `{"Name":…,"Metadata":{"Description":…},
//! "Endpoints":{"docker":{"Host":…,"SkipTLSVerify":false}}}`. Because the
//! layout is Docker's, `docker context ls` lists the contexts minidock
//! creates and the other way round, and `context use` switches both CLIs, as
//! Docker Desktop's context switch does.
//!
//! The context named `default` is never stored: it is whatever
//! `MINIDOCK_HOST` says, else the local socket.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use minidock_registry::DockerConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Failure;

/// The context that is not stored: `MINIDOCK_HOST`, else the local socket.
pub const DEFAULT_CONTEXT: &str = "default";

/// The key of `config.json` that names the current context.
const CURRENT_KEY: &str = "currentContext";

/// The endpoint's name in `meta.json` and under `tls/`: Docker's contexts
/// can hold several (docker, kubernetes); minidock uses Docker's.
const ENDPOINT: &str = "docker";

/// A context's `meta.json`, in Docker's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextMeta {
    /// The context's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Free-form data; minidock reads and writes `Description`.
    #[serde(rename = "Metadata", default)]
    pub metadata: Metadata,
    /// The endpoints by kind; minidock uses `docker`.
    #[serde(rename = "Endpoints", default)]
    pub endpoints: std::collections::BTreeMap<String, EndpointMeta>,
}

/// A context's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// What `context ls` shows in its DESCRIPTION column.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
}

/// The daemon a context points at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointMeta {
    /// `unix:///path` or `tcp://HOST:PORT`.
    #[serde(rename = "Host", default)]
    pub host: String,
    /// Docker's switch for not checking the daemon's certificate; minidock
    /// refuses to use a context that sets it.
    #[serde(rename = "SkipTLSVerify", default)]
    pub skip_tls_verify: bool,
}

impl ContextMeta {
    /// The docker endpoint's host, if the context has one.
    pub fn host(&self) -> Option<&str> {
        self.endpoints
            .get(ENDPOINT)
            .map(|e| e.host.as_str())
            .filter(|h| !h.is_empty())
    }
}

/// The TLS files given to `context create`, copied into the store.
#[derive(Debug, Clone, Default)]
pub struct TlsSource {
    /// The CA that signed the daemon's certificate.
    pub ca: Option<PathBuf>,
    /// The client's certificate.
    pub cert: Option<PathBuf>,
    /// The client's key.
    pub key: Option<PathBuf>,
}

/// The contexts under one configuration directory.
#[derive(Debug, Clone)]
pub struct ContextStore {
    /// `$DOCKER_CONFIG`, else `~/.docker`.
    dir: PathBuf,
}

impl ContextStore {
    /// The store of the client's configuration directory.
    pub fn from_env() -> ContextStore {
        let config = DockerConfig::default_path();
        let dir = config.parent().unwrap_or(Path::new(".")).to_path_buf();
        ContextStore::at(dir)
    }

    /// The store in `dir` (the directory of `config.json`).
    pub fn at(dir: impl Into<PathBuf>) -> ContextStore {
        ContextStore { dir: dir.into() }
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// `contexts/meta/<sha256(name)>`: where `meta.json` lives.
    pub fn meta_dir(&self, name: &str) -> PathBuf {
        self.dir.join("contexts/meta").join(digest(name))
    }

    /// `contexts/tls/<sha256(name)>`: the context's TLS material.
    pub fn tls_dir(&self, name: &str) -> PathBuf {
        self.dir.join("contexts/tls").join(digest(name))
    }

    /// The directory of the docker endpoint's `ca.pem`, `cert.pem`, `key.pem`.
    pub fn endpoint_tls_dir(&self, name: &str) -> PathBuf {
        self.tls_dir(name).join(ENDPOINT)
    }

    // ANCHOR: current
    /// The current context's name: `currentContext` of `config.json`, else
    /// `default`.
    pub fn current(&self) -> Result<String, Failure> {
        let config = self.config()?;
        Ok(config
            .string(CURRENT_KEY)
            .filter(|name| !name.is_empty())
            .unwrap_or(DEFAULT_CONTEXT)
            .to_string())
    }

    /// Makes `name` the current context (`default` clears the key, as the
    /// docker CLI does), keeping every other key of `config.json`.
    pub fn set_current(&self, name: &str) -> Result<(), Failure> {
        if name != DEFAULT_CONTEXT {
            self.get(name)?;
        }
        let mut config = self.config()?;
        config.set_string(CURRENT_KEY, (name != DEFAULT_CONTEXT).then_some(name));
        config.save().map_err(|e| Failure::new(e.to_string()))
    }
    // ANCHOR_END: current

    fn config(&self) -> Result<DockerConfig, Failure> {
        DockerConfig::load(&self.config_path()).map_err(|e| Failure::new(e.to_string()))
    }

    /// The stored context `name`.
    pub fn get(&self, name: &str) -> Result<ContextMeta, Failure> {
        let path = self.meta_dir(name).join("meta.json");
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Failure::new(format!(
                    "context \"{name}\" does not exist (see 'minidock context ls')"
                )))
            }
            Err(e) => {
                return Err(Failure::new(format!(
                    "{}: cannot read: {e}",
                    path.display()
                )))
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::new(format!(
                "{}: not a context's meta.json: {e}; remove the directory or recreate the context",
                path.display()
            ))
        })
    }

    /// Every stored context, sorted by name; a `meta.json` that cannot be
    /// read is skipped (`context ls` names it in its ERROR column).
    pub fn list(&self) -> Vec<Result<ContextMeta, Failure>> {
        let Ok(entries) = fs::read_dir(self.dir.join("contexts/meta")) else {
            return Vec::new();
        };
        let mut all: Vec<Result<ContextMeta, Failure>> = entries
            .flatten()
            .map(|entry| {
                let path = entry.path().join("meta.json");
                let bytes = fs::read(&path)
                    .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| Failure::new(format!("{}: {e}", path.display())))
            })
            .collect();
        all.sort_by(|a, b| match (a, b) {
            (Ok(a), Ok(b)) => a.name.cmp(&b.name),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(a), Err(b)) => a.message.cmp(&b.message),
        });
        all
    }

    // ANCHOR: create
    /// Stores a new context: its TLS files first, then `meta.json` (written
    /// to a temporary name and renamed), so a context that exists is whole.
    pub fn create(
        &self,
        name: &str,
        host: &str,
        description: &str,
        tls: &TlsSource,
    ) -> Result<ContextMeta, Failure> {
        check_name(name)?;
        minidock_client::Endpoint::parse(host, None).map_err(Failure::usage)?;
        if self.meta_dir(name).join("meta.json").exists() {
            return Err(Failure::new(format!("context \"{name}\" already exists")));
        }
        let meta = ContextMeta {
            name: name.to_string(),
            metadata: Metadata {
                description: description.to_string(),
            },
            endpoints: [(
                ENDPOINT.to_string(),
                EndpointMeta {
                    host: host.to_string(),
                    skip_tls_verify: false,
                },
            )]
            .into(),
        };
        let result = self
            .copy_tls(name, tls)
            .and_then(|()| self.write_meta(&meta));
        if let Err(failure) = &result {
            // Nothing half-written stays: the error above is the one to
            // report, a failed cleanup of what it left is named with it.
            if let Err(e) = self.remove_dirs(name) {
                return Err(Failure::new(format!(
                    "{failure}; and cleaning up failed: {e}"
                )));
            }
        }
        result.map(|()| meta)
    }
    // ANCHOR_END: create

    fn copy_tls(&self, name: &str, tls: &TlsSource) -> Result<(), Failure> {
        let files = [
            (&tls.ca, "ca.pem"),
            (&tls.cert, "cert.pem"),
            (&tls.key, "key.pem"),
        ];
        if files.iter().all(|(from, _)| from.is_none()) {
            return Ok(());
        }
        if tls.cert.is_some() != tls.key.is_some() {
            return Err(Failure::usage(
                "--tlscert and --tlskey go together: the daemon checks the certificate, the key proves it is yours",
            ));
        }
        let dir = self.endpoint_tls_dir(name);
        make_private_dir(&dir)?;
        for (from, file) in files {
            let Some(from) = from else { continue };
            let bytes = fs::read(from)
                .map_err(|e| Failure::usage(format!("{}: cannot read: {e}", from.display())))?;
            write_private(&dir.join(file), &bytes)?;
        }
        Ok(())
    }

    fn write_meta(&self, meta: &ContextMeta) -> Result<(), Failure> {
        let dir = self.meta_dir(&meta.name);
        make_private_dir(&dir)?;
        let bytes = serde_json::to_vec(meta).expect("a context's metadata serializes");
        write_private(&dir.join("meta.json"), &bytes)
    }

    /// Removes the stored context `name` (its metadata and TLS files).
    pub fn remove(&self, name: &str) -> Result<(), Failure> {
        self.get(name)?;
        self.remove_dirs(name)
    }

    fn remove_dirs(&self, name: &str) -> Result<(), Failure> {
        for dir in [self.tls_dir(name), self.meta_dir(name)] {
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Failure::new(format!(
                        "{}: cannot remove: {e}",
                        dir.display()
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Docker's rule for context names: a letter or digit, then letters,
/// digits and `_.+-`; `default` is taken.
pub fn check_name(name: &str) -> Result<(), Failure> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c));
    if !first_ok || !rest_ok || name.len() < 2 {
        return Err(Failure::usage(format!(
            "context name {name:?} is invalid: names are made of letters, digits and _.+- , \
             start with a letter or digit and are at least two characters long"
        )));
    }
    if name == DEFAULT_CONTEXT {
        return Err(Failure::usage(
            "\"default\" is a reserved context name: it is MINIDOCK_HOST, else the local socket",
        ));
    }
    Ok(())
}

fn digest(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes()))
}

fn make_private_dir(dir: &Path) -> Result<(), Failure> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Failure::new(format!("{}: cannot create: {e}", dir.display())))
}

/// Writes `bytes` to `path` (mode 0600: keys and where they are used are
/// the owner's business) through a temporary file and a rename.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        // The error to report is the write's; the temporary file may not exist.
        fs::remove_file(&tmp).ok();
        Failure::new(format!("{}: cannot write: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, ContextStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ContextStore::at(dir.path());
        (dir, store)
    }

    #[test]
    fn contexts_are_stored_in_dockers_layout() {
        let (dir, store) = store();
        store
            .create(
                "remote",
                "tcp://10.1.2.3:2376",
                "the lab",
                &TlsSource::default(),
            )
            .unwrap();
        // sha256("remote"), as `docker context inspect` names the directory
        let meta = dir.path().join(
            "contexts/meta/b71199ebd070b36beab7317920c2c2f1d777df8d05e5527d8458fda57cb17a7a/meta.json",
        );
        assert_eq!(store.meta_dir("remote").join("meta.json"), meta);
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&meta).unwrap()).unwrap();
        assert_eq!(json["Name"], "remote");
        assert_eq!(json["Metadata"]["Description"], "the lab");
        assert_eq!(json["Endpoints"]["docker"]["Host"], "tcp://10.1.2.3:2376");
        assert_eq!(json["Endpoints"]["docker"]["SkipTLSVerify"], false);
        assert_eq!(
            store.get("remote").unwrap().host(),
            Some("tcp://10.1.2.3:2376")
        );
    }

    #[test]
    fn the_current_context_lives_in_config_json_with_the_other_keys() {
        let (dir, store) = store();
        let config = dir.path().join("config.json");
        fs::write(&config, r#"{"auths":{"localhost:5000":{"auth":"dTpw"}}}"#).unwrap();
        assert_eq!(store.current().unwrap(), "default");
        store
            .create("a1", "unix:///tmp/a.sock", "", &TlsSource::default())
            .unwrap();
        store.set_current("a1").unwrap();
        assert_eq!(store.current().unwrap(), "a1");
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
        assert_eq!(json["currentContext"], "a1");
        assert_eq!(json["auths"]["localhost:5000"]["auth"], "dTpw");
        store.set_current("default").unwrap();
        assert_eq!(store.current().unwrap(), "default");
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
        assert!(json.get("currentContext").is_none(), "{json}");
        let missing = store.set_current("nope").unwrap_err();
        assert!(
            missing.message.contains("\"nope\" does not exist"),
            "{missing}"
        );
    }

    #[test]
    fn bad_names_hosts_and_duplicates_are_refused_and_leave_nothing() {
        let (dir, store) = store();
        let none = TlsSource::default();
        for name in ["default", "-x", "a b", "x", "a/b", ""] {
            let e = store.create(name, "unix:///s", "", &none).unwrap_err();
            assert_eq!(e.code, 125, "{name}: {e}");
        }
        let e = store.create("ok", "http://x", "", &none).unwrap_err();
        assert!(e.message.contains("unix:///"), "{e}");
        store.create("ok", "unix:///s", "", &none).unwrap();
        let e = store.create("ok", "unix:///t", "", &none).unwrap_err();
        assert!(e.message.contains("already exists"), "{e}");
        let e = store
            .create(
                "tls1",
                "tcp://h:1",
                "",
                &TlsSource {
                    ca: Some(dir.path().join("missing-ca.pem")),
                    ..TlsSource::default()
                },
            )
            .unwrap_err();
        assert!(e.message.contains("missing-ca.pem"), "{e}");
        assert!(!store.tls_dir("tls1").exists());
        assert!(!store.meta_dir("tls1").exists());
        let names: Vec<String> = store.list().into_iter().map(|m| m.unwrap().name).collect();
        assert_eq!(names, ["ok"]);
        store.remove("ok").unwrap();
        assert!(store.list().is_empty());
        assert!(store.remove("ok").is_err());
    }

    #[test]
    fn tls_material_is_copied_private() {
        let (dir, store) = store();
        let ca = dir.path().join("my-ca.pem");
        fs::write(&ca, "CA").unwrap();
        store
            .create(
                "secure",
                "tcp://127.0.0.1:2376",
                "",
                &TlsSource {
                    ca: Some(ca),
                    ..TlsSource::default()
                },
            )
            .unwrap();
        let copied = store.endpoint_tls_dir("secure").join("ca.pem");
        assert_eq!(fs::read_to_string(&copied).unwrap(), "CA");
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&copied).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        store.remove("secure").unwrap();
        assert!(!store.tls_dir("secure").exists());
    }
}
