//! A credential helper for tests: `docker-credential-minidock-test`, a
//! shell script that speaks Docker's helper protocol (`get`, `store`,
//! `erase`, `list`). It keeps each server's credentials in a file of its own
//! directory, and records every call, so a test sees which actions the
//! client ran for which server, and that no secret went to config.json.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use tempfile::TempDir;

/// The helper's script. `@STORE@` becomes its directory. The JSON it is
/// given by `store` is kept as it came; `list` and the server name are
/// read back from it with `sed` (the fields hold no quotes in tests).
const SCRIPT: &str = r#"#!/bin/sh
store='@STORE@'
action=$1
input=$(cat)
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
case "$action" in
  store)
    server=$(printf %s "$input" | field ServerURL)
    echo "store $server" >> "$store/calls"
    printf %s "$input" > "$store/$(hex "$server").json" ;;
  get)
    echo "get $input" >> "$store/calls"
    f="$store/$(hex "$input").json"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase)
    echo "erase $input" >> "$store/calls"
    rm -f "$store/$(hex "$input").json" ;;
  list)
    echo "list" >> "$store/calls"
    printf '{'; sep=
    for f in "$store"/*.json; do
      [ -f "$f" ] || continue
      printf '%s"%s":"%s"' "$sep" "$(field ServerURL < "$f")" "$(field Username < "$f")"
      sep=,
    done
    printf '}' ;;
  *) echo "unknown action $action" >&2; exit 1 ;;
esac
"#;

/// An installed test helper; removed on drop.
pub struct CredentialHelper {
    dir: TempDir,
}

impl CredentialHelper {
    /// The name config.json gives it (`credsStore`, `credHelpers`).
    pub const NAME: &'static str = "minidock-test";

    /// Writes the script into a new directory (`bin/`) with its store.
    pub fn install() -> CredentialHelper {
        let dir = tempfile::tempdir().expect("a directory for the credential helper");
        let bin = dir.path().join("bin");
        let store = dir.path().join("store");
        std::fs::create_dir_all(&bin).expect("create the helper's bin/");
        std::fs::create_dir_all(&store).expect("create the helper's store/");
        let script = bin.join(format!("docker-credential-{}", Self::NAME));
        let text = SCRIPT.replace("@STORE@", &store.display().to_string());
        std::fs::write(&script, text).expect("write the helper");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("make the helper executable");
        CredentialHelper { dir }
    }

    /// `PATH` with the helper's directory first.
    pub fn path_env(&self) -> OsString {
        let mut path = OsString::from(self.dir.path().join("bin"));
        if let Some(rest) = std::env::var_os("PATH") {
            path.push(":");
            path.push(rest);
        }
        path
    }

    /// Every call so far: `store SERVER`, `get SERVER`, `erase SERVER`,
    /// `list`.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.store().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// What it keeps for `server` (the JSON `store` was given).
    pub fn stored(&self, server: &str) -> Option<String> {
        let hex: String = server.bytes().map(|b| format!("{b:02x}")).collect();
        std::fs::read_to_string(self.store().join(format!("{hex}.json"))).ok()
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }
}
