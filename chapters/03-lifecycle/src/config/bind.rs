//! Bind mounts as `-v /host:/ctr[:ro]` writes them: parsed, checked (no
//! `..`, nothing over the container's root) and written back the same way.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A tmpfs mount: chapter 01's description, kept in the host config.
pub use minidock_namespaces::TmpfsMount;

// ANCHOR: bind_struct
/// A bind mount of a host path into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bind {
    /// Absolute host path.
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub destination: PathBuf,
    /// Mounted read-only in the container (`:ro`).
    pub read_only: bool,
    /// `rslave`, `shared`, …: whether the host's later mounts under the
    /// source reach the container (chapter 01's [`Propagation`]). Written
    /// after the mode (`/a:/b:ro,rslave`) only when it is not the default,
    /// so a `config.json` from before it existed still loads.
    pub propagation: Propagation,
}

pub use minidock_namespaces::Propagation;

impl FromStr for Bind {
    type Err = Error;

    // ANCHOR_END: bind_struct
    // ANCHOR: bind_from_str
    /// Parses `/host:/ctr`, `/host:/ctr:ro` or `/host:/ctr:rw`, the mode
    /// optionally followed by a propagation (`/host:/ctr:ro,rslave`,
    /// `/host:/ctr:rslave`). Both paths must be absolute and free of `..`,
    /// and the destination may not be `/`: a bind is resolved inside the
    /// container's root when it is mounted, and `..` has no business there.
    fn from_str(spec: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidBind {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, destination, mode) = match parts.as_slice() {
            [s, d] => (*s, *d, "rw"),
            [s, d, m] => (*s, *d, *m),
            _ => return Err(bad("expected /host/path:/container/path[:ro|rw]")),
        };
        let mut read_only = false;
        let mut propagation = Propagation::default();
        for option in mode.split(',') {
            match option {
                "ro" => read_only = true,
                "rw" => read_only = false,
                other => {
                    propagation = other.parse().map_err(|_| {
                        bad("mode must be ro or rw, optionally with a propagation (ro,rslave)")
                    })?
                }
            }
        }
        if !source.starts_with('/') {
            return Err(bad(
                "the host path must be absolute (named volumes are not supported)",
            ));
        }
        if !destination.starts_with('/') {
            return Err(bad("the container path must be absolute"));
        }
        for p in [source, destination] {
            if Path::new(p).components().any(|c| c == Component::ParentDir) {
                return Err(bad("paths may not contain '..'"));
            }
        }
        if Path::new(destination)
            .components()
            .all(|c| c == Component::RootDir)
        {
            return Err(bad("cannot bind over the container's root '/'"));
        }
        Ok(Bind {
            source: PathBuf::from(source),
            destination: PathBuf::from(destination),
            read_only,
            propagation,
        })
    }
}
// ANCHOR_END: bind_from_str

impl TryFrom<String> for Bind {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<Bind> for String {
    fn from(b: Bind) -> String {
        b.to_string()
    }
}

impl fmt::Display for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            self.source.display(),
            self.destination.display()
        )?;
        let propagation = self.propagation != Propagation::default();
        match (self.read_only, propagation) {
            (false, false) => Ok(()),
            (true, false) => write!(f, ":ro"),
            (false, true) => write!(f, ":{}", self.propagation),
            (true, true) => write!(f, ":ro,{}", self.propagation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_are_validated() {
        let b: Bind = "/srv/data:/data:ro".parse().unwrap();
        assert_eq!(b.source, PathBuf::from("/srv/data"));
        assert_eq!(b.destination, PathBuf::from("/data"));
        assert!(b.read_only);
        assert_eq!(b.to_string(), "/srv/data:/data:ro");
        assert!(!"/a:/b".parse::<Bind>().unwrap().read_only);
        assert!(!"/a:/b:rw".parse::<Bind>().unwrap().read_only);
        // A propagation is kept, and written only when it is not rprivate:
        // what older config.json files hold still reads the same.
        let slave: Bind = "/a:/b:ro,rslave".parse().unwrap();
        assert!(slave.read_only);
        assert_eq!(slave.propagation, Propagation::Rslave);
        assert_eq!(slave.to_string(), "/a:/b:ro,rslave");
        let shared: Bind = "/a:/b:shared".parse().unwrap();
        assert_eq!(shared.to_string(), "/a:/b:shared");
        assert_eq!(
            "/a:/b:rprivate".parse::<Bind>().unwrap().to_string(),
            "/a:/b"
        );
        let json: Bind = serde_json::from_str("\"/a:/b:ro\"").unwrap();
        assert_eq!(json.propagation, Propagation::Rprivate);
        for bad in [
            "",
            "/a",
            "data:/data",
            "/a:b",
            "/a:/b:rx",
            "/a:/../../etc",
            "/../etc:/x",
            "/a:/",
            "/a:/b:ro:x",
            "/a:/b:ro,rshare",
        ] {
            let err = bad.parse::<Bind>().unwrap_err().to_string();
            assert!(err.starts_with("invalid bind"), "{bad:?}: {err}");
        }
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, "\"/srv/data:/data:ro\"");
        assert!(serde_json::from_str::<Bind>("\"/a:/../x\"").is_err());
    }
}
