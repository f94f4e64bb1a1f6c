//! Resolving `--user` inside the container's own `/etc/passwd` and
//! `/etc/group`.
//!
//! `docker run -u nobody` means the `nobody` of the *image*, not of the host:
//! uid numbers are looked up in the container's root file system. Those files
//! come from an image, which may be hostile, so they are opened with
//! `openat2(RESOLVE_IN_ROOT)`: a symlink `etc/passwd -> /etc/shadow` resolves
//! to the container's `/etc/shadow`, never the host's.

use std::path::Path;

use crate::error::Error;
use crate::inroot::read_in_root;

// ANCHOR: passwd
/// The user a container process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    /// The user id the process runs as.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
    /// Supplementary groups: every group of `/etc/group` that lists the user.
    pub additional_gids: Vec<u32>,
    /// The home directory from `/etc/passwd` (`/` when unknown), for `HOME`.
    pub home: String,
}

/// One line of `/etc/passwd`: `name:password:uid:gid:gecos:home:shell`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// The user's name (what `--user NAME` looks up).
    pub name: String,
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The home directory.
    pub home: String,
}

/// One line of `/etc/group`: `name:password:gid:member,member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// The group's name (what `--user NAME:GROUP` and `--group-add` look up).
    pub name: String,
    /// The group id.
    pub gid: u32,
    /// The users it lists as members: each gets it as a supplementary group.
    pub members: Vec<String>,
}

/// Parses `/etc/passwd`; malformed lines and comments are skipped, as libc
/// does.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 7 || f[0].is_empty() {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}
// ANCHOR_END: passwd

/// Parses `/etc/group`.
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 4 || f[0].is_empty() {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// Largest uid/gid accepted, as runc: ids above are reserved or invalid.
const MAX_ID: u32 = i32::MAX as u32;

/// Resolves `spec` — `""`, `name`, `uid`, `name:group`, `uid:gid` (and the
/// mixed forms) — against `rootfs/etc/passwd` and `rootfs/etc/group`.
///
/// A numeric uid needs no passwd entry (the gid is then 0 unless given); a
/// name does. Errors say which file had no match, as Docker's do.
// ANCHOR: resolve_user
pub fn resolve_user(rootfs: &Path, spec: &str) -> Result<ResolvedUser, Error> {
    let passwd = read_in_root(rootfs, "etc/passwd")?
        .map(|t| parse_passwd(&t))
        .unwrap_or_default();
    let groups = read_in_root(rootfs, "etc/group")?
        .map(|t| parse_group(&t))
        .unwrap_or_default();
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let id = |s: &str| -> Result<Option<u32>, Error> {
        match s.parse::<u64>() {
            Ok(n) if n <= u64::from(MAX_ID) => Ok(Some(n as u32)),
            Ok(_) => Err(Error::User(format!(
                "{s} is out of range: uids and gids must be in range 0-{MAX_ID}"
            ))),
            Err(_) => Ok(None),
        }
    };
    let entry = match id(user_part)? {
        // ANCHOR_END: resolve_user
        // ANCHOR: resolve_user_rest
        Some(uid) => passwd
            .iter()
            .find(|e| e.uid == uid)
            .cloned()
            .unwrap_or(PasswdEntry {
                name: String::new(),
                uid,
                gid: 0,
                home: "/".into(),
            }),
        None => passwd
            .iter()
            .find(|e| e.name == user_part)
            .cloned()
            .ok_or_else(|| {
                Error::User(format!(
                    "unable to find user {user_part}: no matching entries in passwd file"
                ))
            })?,
    };
    let gid = match group_part {
        None | Some("") => entry.gid,
        Some(g) => match id(g)? {
            Some(gid) => gid,
            None => {
                groups
                    .iter()
                    .find(|e| e.name == g)
                    .ok_or_else(|| {
                        Error::User(format!(
                            "unable to find group {g}: no matching entries in group file"
                        ))
                    })?
                    .gid
            }
        },
    };
    let mut additional_gids: Vec<u32> = groups
        .iter()
        .filter(|g| !entry.name.is_empty() && g.members.contains(&entry.name) && g.gid != gid)
        .map(|g| g.gid)
        .collect();
    additional_gids.dedup();
    Ok(ResolvedUser {
        uid: entry.uid,
        gid,
        additional_gids,
        home: if entry.home.is_empty() {
            "/".into()
        } else {
            entry.home
        },
    })
}
// ANCHOR_END: resolve_user_rest

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::Mode;
    use std::fs;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        # a comment\n\
        broken line\n\
        www:x:33:33:www:/var/www:/bin/false\n\
        app:x:1000:1001::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:app\nstaff:x:50:app,www\napp:x:1001:\n";

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/passwd"), PASSWD).unwrap();
        fs::write(dir.path().join("etc/group"), GROUP).unwrap();
        dir
    }

    #[test]
    fn every_spec_form() {
        let r = rootfs();
        let cases: &[(&str, u32, u32, &[u32], &str)] = &[
            ("", 0, 0, &[], "/root"),
            ("root", 0, 0, &[], "/root"),
            ("app", 1000, 1001, &[33, 50], "/home/app"),
            ("1000", 1000, 1001, &[33, 50], "/home/app"),
            ("app:staff", 1000, 50, &[33], "/home/app"),
            ("1000:7", 1000, 7, &[33, 50], "/home/app"),
            ("www:app", 33, 1001, &[50], "/var/www"),
            ("4242", 4242, 0, &[], "/"),
            ("4242:4343", 4242, 4343, &[], "/"),
        ];
        for (spec, uid, gid, extra, home) in cases {
            let u = resolve_user(r.path(), spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(
                (u.uid, u.gid, u.additional_gids.as_slice(), u.home.as_str()),
                (*uid, *gid, *extra, *home),
                "{spec:?}"
            );
        }
    }

    #[test]
    fn unknown_names_are_errors_like_dockers() {
        let r = rootfs();
        let e = resolve_user(r.path(), "nobody").unwrap_err().to_string();
        assert!(
            e.contains("unable to find user nobody: no matching entries in passwd file"),
            "{e}"
        );
        let e = resolve_user(r.path(), "app:wheel").unwrap_err().to_string();
        assert!(
            e.contains("unable to find group wheel: no matching entries in group file"),
            "{e}"
        );
        let e = resolve_user(r.path(), "4294967295")
            .unwrap_err()
            .to_string();
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn no_passwd_file_allows_numbers_only() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(resolve_user(dir.path(), "5:6").unwrap().uid, 5);
        assert!(resolve_user(dir.path(), "root").is_err());
    }

    /// A hostile image links its passwd file to a path outside its root: the
    /// link resolves inside the root, and the host file is never read.
    #[test]
    fn symlinks_cannot_escape_the_rootfs() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("passwd");
        fs::write(&secret, "evil:x:4242:4242::/:/bin/sh\n").unwrap();
        let r = tempfile::tempdir().unwrap();
        fs::create_dir(r.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(&secret, r.path().join("etc/passwd")).unwrap();
        let dots = format!("../../../../../../..{}", secret.display());
        std::os::unix::fs::symlink(dots, r.path().join("etc/group")).unwrap();
        assert!(resolve_user(r.path(), "evil").is_err());
        assert_eq!(read_in_root(r.path(), "etc/passwd").unwrap(), None);
        assert_eq!(read_in_root(r.path(), "etc/group").unwrap(), None);
        let err = read_in_root(r.path(), "../../../../../../..").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        // the same file placed inside the root is found
        fs::create_dir_all(
            r.path()
                .join(secret.parent().unwrap().strip_prefix("/").unwrap()),
        )
        .unwrap();
        fs::copy(&secret, r.path().join(secret.strip_prefix("/").unwrap())).unwrap();
        assert_eq!(resolve_user(r.path(), "evil").unwrap().uid, 4242);
    }

    #[test]
    fn fifos_are_refused_instead_of_blocking() {
        let r = tempfile::tempdir().unwrap();
        fs::create_dir(r.path().join("etc")).unwrap();
        nix::unistd::mkfifo(
            &r.path().join("etc/passwd"),
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let e = resolve_user(r.path(), "root").unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
