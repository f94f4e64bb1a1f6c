//! Credential helpers: `config.json` may say that a registry's password is
//! kept by another program rather than in the file.
//!
//! ```json
//! { "credsStore": "pass", "credHelpers": { "registry.example:5000": "ecr-login" } }
//! ```
//!
//! `credHelpers` names a helper per registry, `credsStore` one for every
//! other registry. The helper `NAME` is the program `docker-credential-NAME`
//! in `PATH`, driven as Docker's CLI drives it: one action as its argument,
//! the request on stdin, the answer on stdout.
//!
//! | action  | stdin                                   | stdout                                  |
//! |---------|-----------------------------------------|-----------------------------------------|
//! | `get`   | the server, `localhost:5000`            | `{"ServerURL","Username","Secret"}`     |
//! | `store` | `{"ServerURL","Username","Secret"}`     | nothing                                 |
//! | `erase` | the server                              | nothing                                 |
//! | `list`  | nothing                                 | `{"SERVER": "USERNAME", …}`             |
//!
//! A `get` for a server the helper does not know fails with the message
//! `credentials not found in native keychain`: that is "not logged in",
//! not an error. Registries without a helper keep their `auths` entry in
//! the file, so both ways live side by side.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::credentials::{Credentials, DockerConfig};
use crate::endpoint::auth_key_for;
use crate::error::{RegistryError, Result};

/// What a helper answers to `get` for a server it has nothing for.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// The JSON of `get`'s answer and `store`'s request.
#[derive(Serialize, Deserialize)]
struct HelperCredentials {
    #[serde(rename = "ServerURL")]
    server_url: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// A credential helper: the program `docker-credential-NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    /// `NAME`, as config.json writes it.
    pub name: String,
}

impl Helper {
    /// The program's name.
    pub fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    // ANCHOR: helper_call
    /// Runs one action; the helper's stdout, or `Err(message)` with what
    /// it printed when it failed.
    fn call(&self, action: &str, input: &[u8]) -> Result<std::result::Result<Vec<u8>, String>> {
        let program = self.program();
        let fail = |reason: String| RegistryError::CredentialHelper {
            program: program.clone(),
            action: action.to_string(),
            reason,
        };
        let mut child = Command::new(&program)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => fail(
                    "not found in PATH: install it, or remove it from credsStore/credHelpers \
                     in config.json"
                        .to_string(),
                ),
                _ => fail(format!("cannot start it: {e}")),
            })?;
        let mut stdin = child.stdin.take().expect("stdin was piped");
        // A helper that exits without reading its input is a helper that
        // failed: its exit status says so below.
        stdin.write_all(input).ok();
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| fail(format!("cannot read its answer: {e}")))?;
        if out.status.success() {
            return Ok(Ok(out.stdout));
        }
        let mut said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if said.is_empty() {
            said = String::from_utf8_lossy(&out.stderr).trim().to_string();
        }
        Ok(Err(if said.is_empty() {
            format!("it exited with {}", out.status)
        } else {
            said
        }))
    }
    // ANCHOR_END: helper_call

    // ANCHOR: helper_get_store
    /// `get`: the credentials it keeps for `server`, `None` when it keeps
    /// none.
    pub fn get(&self, server: &str) -> Result<Option<Credentials>> {
        match self.call("get", server.as_bytes())? {
            Ok(stdout) => {
                let found: HelperCredentials = serde_json::from_slice(&stdout).map_err(|e| {
                    self.error("get", format!("its answer is not the expected JSON: {e}"))
                })?;
                Ok(Some(Credentials::new(found.username, found.secret)))
            }
            Err(message) if message.contains(NOT_FOUND) => Ok(None),
            Err(message) => Err(self.error("get", message)),
        }
    }

    /// `store`: keeps `creds` for `server`.
    pub fn store(&self, server: &str, creds: &Credentials) -> Result<()> {
        let request = serde_json::to_vec(&HelperCredentials {
            server_url: server.to_string(),
            username: creds.username.clone(),
            secret: creds.password.clone(),
        })
        .expect("JSON serialises");
        self.call("store", &request)?
            .map(drop)
            .map_err(|message| self.error("store", message))
    }

    // ANCHOR_END: helper_get_store
    /// `erase`: forgets `server`.
    pub fn erase(&self, server: &str) -> Result<()> {
        self.call("erase", server.as_bytes())?
            .map(drop)
            .map_err(|message| self.error("erase", message))
    }

    /// `list`: every server it keeps credentials for, with the user name.
    pub fn list(&self) -> Result<BTreeMap<String, String>> {
        let stdout = self
            .call("list", b"")?
            .map_err(|message| self.error("list", message))?;
        serde_json::from_slice(&stdout)
            .map_err(|e| self.error("list", format!("its answer is not the expected JSON: {e}")))
    }

    fn error(&self, action: &str, reason: String) -> RegistryError {
        RegistryError::CredentialHelper {
            program: self.program(),
            action: action.to_string(),
            reason,
        }
    }
}

/// The helper config.json names for the registry `domain`: its
/// `credHelpers` entry, else `credsStore`; `None`: the file's `auths`.
pub fn helper_for(config: &DockerConfig, domain: &str) -> Option<Helper> {
    config
        .helper_name(domain)
        .map(|name| Helper { name: name.into() })
}

/// The server name a helper keys `domain` by: Docker Hub's old index URL,
/// else `HOST[:PORT]` (as `auths` does).
pub fn server_for(domain: &str) -> String {
    auth_key_for(domain)
}

// ANCHOR: lookup
/// The credentials for `domain`, from its helper or from `auths`.
pub fn lookup(config: &DockerConfig, domain: &str) -> Result<Option<Credentials>> {
    match helper_for(config, domain) {
        Some(helper) => helper.get(&server_for(domain)),
        None => Ok(config.get(domain)),
    }
}
// ANCHOR_END: lookup

/// Keeps `creds` for `domain`: with its helper, else in `auths` (and saves
/// the file).
pub fn store(config: &mut DockerConfig, domain: &str, creds: &Credentials) -> Result<()> {
    match helper_for(config, domain) {
        Some(helper) => helper.store(&server_for(domain), creds),
        None => {
            config.set(domain, creds);
            config.save()
        }
    }
}

/// Forgets `domain`'s credentials; whether there were any. A helper is
/// asked with `list` first, as `docker logout` tells "Not logged in"
/// apart from a removal.
pub fn erase(config: &mut DockerConfig, domain: &str) -> Result<bool> {
    match helper_for(config, domain) {
        Some(helper) => {
            let server = server_for(domain);
            if !helper.list()?.contains_key(&server) {
                return Ok(false);
            }
            helper.erase(&server)?;
            Ok(true)
        }
        None => {
            let removed = config.remove(domain);
            if removed {
                config.save()?;
            }
            Ok(removed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).unwrap();
        DockerConfig::load(&path).unwrap()
    }

    #[test]
    fn a_registrys_own_helper_wins_over_the_store() {
        let c = config(
            r#"{"credsStore": "pass", "credHelpers": {"registry.example:5000": "ecr-login"}}"#,
        );
        assert_eq!(
            helper_for(&c, "registry.example:5000").unwrap().program(),
            "docker-credential-ecr-login"
        );
        assert_eq!(helper_for(&c, "localhost:5000").unwrap().name, "pass");
        assert_eq!(server_for("docker.io"), "https://index.docker.io/v1/");
    }

    #[test]
    fn without_helpers_the_file_keeps_the_credentials() {
        let c = config(r#"{"auths": {"localhost:5000": {"auth": "dTpw"}}}"#);
        assert_eq!(helper_for(&c, "localhost:5000"), None);
        let found = lookup(&c, "localhost:5000").unwrap().unwrap();
        assert_eq!(
            (found.username.as_str(), found.password.as_str()),
            ("u", "p")
        );
    }

    #[test]
    fn a_missing_helper_is_named() {
        let c = config(r#"{"credsStore": "no-such-helper-here"}"#);
        let err = lookup(&c, "localhost:5000").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-no-such-helper-here"),
            "{err}"
        );
        assert!(err.contains("not found in PATH"), "{err}");
    }
}
