//! Who uses a volume.
//!
//! A volume outlives containers, but must not vanish under one: `docker
//! volume rm` refuses (409) while any container — running or stopped —
//! mounts it, since starting that container again would need it. The
//! engine does not keep a reference count that a crash could leave wrong;
//! it asks the containers themselves, whose recorded mounts name their
//! volumes, and passes the answer in as [`Users`].
//!
//! From the same answer: `dangling=true` lists the volumes nobody uses,
//! and prune removes the unused ones — only the anonymous ones unless
//! `all` says so (Docker's rule since API 1.42: a named volume was made on
//! purpose).

use crate::error::Result;
use crate::store::VolumeInfo;
use std::collections::BTreeMap;

/// Volume name → the ids of the containers that mount it.
pub type Users = BTreeMap<String, Vec<String>>;

/// The containers that use `name`.
pub fn users_of<'a>(name: &str, users: &'a Users) -> &'a [String] {
    users.get(name).map(Vec::as_slice).unwrap_or(&[])
}

// ANCHOR: in_use
/// Refuses to remove a volume that containers use, naming them.
pub fn check_unused(name: &str, users: &Users) -> Result<()> {
    // exercise 7.5 in-use: refuse with Error::InUse when any container uses the volume.
    // hint: this module can list who uses a volume; an empty list means nobody.
    // hint: Error::InUse { name, containers } names them, so the user knows what to remove first.
    let containers = users_of(name, users);
    if containers.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::InUse {
            name: name.to_string(),
            containers: containers.to_vec(),
        })
    }
    // end exercise
}
// ANCHOR_END: in_use

/// No container uses it (`docker volume ls -f dangling=true`).
pub fn is_dangling(name: &str, users: &Users) -> bool {
    users_of(name, users).is_empty()
}

// ANCHOR: prunable
/// What a prune takes: the volumes nobody uses, and of those only the
/// anonymous ones unless `all`.
pub fn prunable<'a>(volumes: &'a [VolumeInfo], users: &Users, all: bool) -> Vec<&'a VolumeInfo> {
    // exercise 7.6 prunable: keep the volumes that are dangling and (all, or anonymous).
    // hint: this module says whether anybody uses a volume, and a volume's info whether it is anonymous (Docker's label).
    // hint: an iterator filter over `volumes`, collected into a Vec of references.
    volumes
        .iter()
        .filter(|v| is_dangling(&v.name, users) && (all || v.is_anonymous()))
        .collect()
    // end exercise
}
// ANCHOR_END: prunable

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ANONYMOUS_LABEL;

    fn volume(name: &str, anonymous: bool) -> VolumeInfo {
        VolumeInfo {
            name: name.into(),
            driver: "local".into(),
            created: 0,
            labels: if anonymous {
                BTreeMap::from([(ANONYMOUS_LABEL.to_string(), String::new())])
            } else {
                BTreeMap::new()
            },
            options: BTreeMap::new(),
            mountpoint: Default::default(),
        }
    }

    #[test]
    fn in_use_and_prune() {
        let users = Users::from([("db".to_string(), vec!["c1".to_string()])]);
        let err = check_unused("db", &users).unwrap_err();
        assert_eq!(err.to_string(), "remove db: volume is in use - [c1]");
        check_unused("other", &users).unwrap();
        let all = [
            volume("db", false),
            volume("named", false),
            volume("anon", true),
            volume("db2", true),
        ];
        let users = Users::from([("db2".to_string(), vec!["c2".to_string()])]);
        let names = |v: Vec<&VolumeInfo>| v.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(prunable(&all, &users, false)), ["anon"]);
        assert_eq!(names(prunable(&all, &users, true)), ["db", "named", "anon"]);
        assert!(is_dangling("named", &users));
        assert!(!is_dangling("db2", &users));
    }
}
