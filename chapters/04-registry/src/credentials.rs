//! Credentials in Docker's `config.json`.
//!
//! `docker login` saves a user name and password per registry in
//! `~/.docker/config.json`:
//!
//! ```json
//! { "auths": { "localhost:5000": { "auth": "dXNlcjpwYXNz" } } }
//! ```
//!
//! where `auth` is `base64("user:pass")` — an encoding, not encryption: the
//! file is readable by its owner only (mode 0600). minidock reads and writes
//! the same file, so a `docker login` works for minidock and the other way
//! round. Other keys of the file (proxies) are kept as they are; the
//! credential helpers it names are run by the module next to this one.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{Map, Value};

use crate::endpoint::auth_key_for;
use crate::error::{RegistryError, Result};

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    /// Never prints the password (it would end up in logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"…")
            .finish()
    }
}

impl Credentials {
    /// Builds credentials.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// `base64(user:password)`: the `auth` field of `config.json` and the
    /// value after `Basic ` in an `Authorization` header.
    pub fn basic_token(&self) -> String {
        BASE64_STANDARD.encode(format!("{}:{}", self.username, self.password))
    }

    /// The inverse of [`Credentials::basic_token`].
    pub fn from_basic_token(token: &str) -> Option<Credentials> {
        let bytes = BASE64_STANDARD.decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (user, pass) = text.split_once(':')?;
        Some(Credentials::new(user, pass))
    }
}

/// Docker's `config.json`, as a JSON value so unknown keys survive a save.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
    json: Map<String, Value>,
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    pub fn default_path() -> PathBuf {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            return PathBuf::from(dir).join("config.json");
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
        PathBuf::from(home).join(".docker/config.json")
    }

    // ANCHOR: config_load
    /// Reads the file at `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<DockerConfig> {
        let err = |reason: String| RegistryError::Credentials {
            path: path.to_path_buf(),
            reason,
        };
        let json = match fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(err("expected a JSON object".into())),
                Err(e) => return Err(err(format!("not valid JSON: {e}"))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(err(format!("cannot read: {e}"))),
        };
        Ok(DockerConfig {
            path: path.to_path_buf(),
            json,
        })
    }
    // ANCHOR_END: config_load

    /// The file this configuration is read from and saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ANCHOR: config_get
    /// The credentials saved for the registry `domain`, if any. Keys are
    /// compared without scheme and path, as Docker does
    /// (`https://localhost:5000/v1/` matches `localhost:5000`).
    pub fn get(&self, domain: &str) -> Option<Credentials> {
        let wanted = normalize_key(&auth_key_for(domain));
        let auths = self.json.get("auths")?.as_object()?;
        let (_, entry) = auths.iter().find(|(k, _)| normalize_key(k) == wanted)?;
        if let Some(auth) = entry.get("auth").and_then(Value::as_str) {
            if let Some(c) = Credentials::from_basic_token(auth) {
                return Some(c);
            }
        }
        let user = entry.get("username")?.as_str()?;
        let pass = entry.get("password")?.as_str()?;
        Some(Credentials::new(user, pass))
    }

    /// The credential helper the file names for `domain`: its
    /// `credHelpers` entry, else `credsStore`.
    pub fn helper_name(&self, domain: &str) -> Option<&str> {
        let wanted = normalize_key(&auth_key_for(domain));
        let own = self
            .json
            .get("credHelpers")
            .and_then(Value::as_object)
            .and_then(|helpers| helpers.iter().find(|(k, _)| normalize_key(k) == wanted))
            .and_then(|(_, name)| name.as_str());
        own.or_else(|| self.json.get("credsStore").and_then(Value::as_str))
            .filter(|name| !name.is_empty())
    }
    // ANCHOR_END: config_get

    // ANCHOR: config_set
    /// Saves `creds` for `domain` (in memory; call [`DockerConfig::save`]).
    pub fn set(&mut self, domain: &str, creds: &Credentials) {
        let auths = self
            .json
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        let auths = auths.as_object_mut().expect("made an object above");
        let wanted = normalize_key(&auth_key_for(domain));
        auths.retain(|k, _| normalize_key(k) != wanted);
        let key = match wanted.as_str() {
            "index.docker.io" => auth_key_for("docker.io"),
            _ => wanted,
        };
        auths.insert(key, serde_json::json!({ "auth": creds.basic_token() }));
    }
    // ANCHOR_END: config_set

    /// A top-level string of the file that is not about registries (the
    /// client's `currentContext`, `detachKeys`); `None` when absent or not
    /// a string.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }

    /// Sets (or, with `None`, removes) the top-level string `key`, in
    /// memory; call [`DockerConfig::save`].
    pub fn set_string(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => {
                self.json.insert(key.to_string(), Value::from(value));
            }
            None => {
                self.json.remove(key);
            }
        }
    }

    /// Forgets the credentials of `domain`; whether there were any.
    pub fn remove(&mut self, domain: &str) -> bool {
        let wanted = normalize_key(&auth_key_for(domain));
        let Some(auths) = self.json.get_mut("auths").and_then(Value::as_object_mut) else {
            return false;
        };
        let before = auths.len();
        auths.retain(|k, _| normalize_key(k) != wanted);
        auths.len() != before
    }

    // ANCHOR: config_save
    /// Writes the file: directory 0700, file 0600, through a temporary file
    /// and a rename so a crash never leaves half a file.
    pub fn save(&self) -> Result<()> {
        let err = |what: &str, e: std::io::Error| RegistryError::Credentials {
            path: self.path.clone(),
            reason: format!("{what}: {e}"),
        };
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        minidock_images::create_private_dir(dir)
            .map_err(|e| err("cannot create its directory", e))?;
        let tmp = dir.join(format!(".config.json.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(&Value::Object(self.json.clone()))
            .expect("a JSON map serializes");
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            // The temporary file is ours; removing it is best effort cleanup
            // after the real error, which is the one reported.
            if let Err(rm) = fs::remove_file(&tmp) {
                if rm.kind() != std::io::ErrorKind::NotFound {
                    return err("cannot write (and cannot remove the temporary file)", e);
                }
            }
            err("cannot write", e)
        })
    }
    // ANCHOR_END: config_save
}

/// `https://Host:5000/v1/` → `host:5000`; Docker Hub's keys all → `index.docker.io`.
fn normalize_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" => "index.docker.io".into(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_docker_written_files_and_keeps_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
                "localhost:5000":{"username":"u2","password":"p2"}},
               "credsStore":"desktop","proxies":{"default":{}}}"#,
        )
        .unwrap();
        let mut c = DockerConfig::load(&path).unwrap();
        assert_eq!(c.get("docker.io"), Some(Credentials::new("user", "pa:ss")));
        assert_eq!(c.get("localhost:5000"), Some(Credentials::new("u2", "p2")));
        assert_eq!(c.get("localhost:5001"), None);

        c.set("http://LOCALHOST:5000/", &Credentials::new("new", "secret"));
        c.save().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["credsStore"], "desktop");
        assert_eq!(v["auths"]["localhost:5000"]["auth"], "bmV3OnNlY3JldA==");
        let mode = fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let again = DockerConfig::load(&path).unwrap();
        assert_eq!(
            again.get("localhost:5000"),
            Some(Credentials::new("new", "secret"))
        );
        let mut again = again;
        assert!(again.remove("localhost:5000"));
        assert!(!again.remove("localhost:5000"));
    }

    #[test]
    fn missing_file_is_empty_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let c = DockerConfig::load(&dir.path().join("none.json")).unwrap();
        assert_eq!(c.get("docker.io"), None);
        let bad = dir.path().join("bad.json");
        fs::write(&bad, "{nope").unwrap();
        let e = DockerConfig::load(&bad).unwrap_err().to_string();
        assert!(
            e.contains("bad.json") && e.contains("not valid JSON"),
            "{e}"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", Credentials::new("me", "hunter2"));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
