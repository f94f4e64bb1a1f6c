//! The container store against temporary roots: create, update, rename,
//! remove, and what a crash halfway leaves.

use super::*;
use crate::state::{transition, Event, State};

fn container(name: &str) -> Container {
    Container {
        id: ContainerId::random(),
        name: name.into(),
        created: Timestamp::now(),
        image_id: format!("sha256:{}", "ab".repeat(32)),
        config: Config {
            image: "busybox".into(),
            cmd: vec!["sh".into()],
            ..Default::default()
        },
        host_config: HostConfig::default(),
    }
}

#[test]
fn create_load_update_remove() {
    let root = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(root.path()).unwrap();
    let c = container("web");
    store.create(&c).unwrap();
    assert_eq!(store.container(&c.id).unwrap(), c);
    assert_eq!(store.state(&c.id).unwrap().state, State::Created);
    let pid = rand::random::<u16>() as i32 + 2;
    store
        .update_state(&c.id, |r| {
            r.state = transition(
                c.id.as_str(),
                &r.state,
                Event::Start {
                    pid,
                    at: Timestamp::now(),
                },
            )?;
            Ok(())
        })
        .unwrap();
    // a fresh store on the same root sees what the first one wrote
    let again = ContainerStore::open(root.path()).unwrap();
    assert_eq!(again.state(&c.id).unwrap().state.pid(), Some(pid));
    // a refused change writes nothing
    let err = again
        .update_state(&c.id, |r| {
            r.state = transition(c.id.as_str(), &r.state, Event::Remove { force: false })?;
            Ok(())
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot remove a running container"),
        "{err}"
    );
    assert_eq!(again.state(&c.id).unwrap().state.pid(), Some(pid));
    again.remove(&c.id).unwrap();
    assert!(matches!(
        again.container(&c.id),
        Err(Error::NoSuchContainer(_))
    ));
    assert!(again.list().unwrap().is_empty());
}

#[test]
fn rename_keeps_names_unique() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(dir.path()).unwrap();
    let (a, b) = (container("alpha"), container("beta"));
    store.create(&a).unwrap();
    store.create(&b).unwrap();
    store.rename(&a.id, "gamma").unwrap();
    assert_eq!(store.container(&a.id).unwrap().name, "gamma");
    assert_eq!(store.resolve("gamma").unwrap(), a.id);
    assert!(store.resolve("alpha").is_err());
    assert!(matches!(
        store.rename(&a.id, "beta"),
        Err(Error::NameInUse { .. })
    ));
    assert!(matches!(
        store.rename(&a.id, "gamma"),
        Err(Error::SameName(_))
    ));
    // the rest of the config is untouched
    assert_eq!(
        store.container(&a.id).unwrap(),
        Container {
            name: "gamma".into(),
            ..a
        }
    );
}

#[test]
fn names_are_unique() {
    let root = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(root.path()).unwrap();
    let a = container("db");
    store.create(&a).unwrap();
    let err = store.create(&container("db")).unwrap_err().to_string();
    assert!(
        err.contains("already in use by container") && err.contains(a.id.as_str()),
        "{err}"
    );
    store.create(&container("db2")).unwrap();
    assert_eq!(store.list().unwrap().len(), 2);
}

#[test]
fn half_written_containers_are_ignored_and_cleaned() {
    let root = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(root.path()).unwrap();
    let good = container("good");
    store.create(&good).unwrap();
    let half = ContainerId::random();
    let half_dir = store.dir(&half);
    fs::create_dir(&half_dir).unwrap();
    fs::write(half_dir.join(STATE), "{\"Status\":\"cre").unwrap();
    let list = store.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].0.id, good.id);
    assert!(
        !half_dir.exists(),
        "the half-written directory must be removed"
    );
    assert!(matches!(
        store.resolve(half.as_str()),
        Err(Error::NoSuchContainer(_))
    ));
}

#[test]
fn a_failed_prepare_leaves_nothing_and_frees_the_name() {
    let root = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(root.path()).unwrap();
    let c = container("prep");
    let mut seen = None;
    let err = store
        .create_with(&c, |dir| {
            assert!(dir.join(STATE).exists(), "state.json comes before prepare");
            assert!(!dir.join(CONFIG).exists(), "config.json comes after it");
            fs::create_dir(dir.join("upper")).unwrap();
            seen = Some(dir.to_path_buf());
            Err(Error::Sys {
                op: "mount",
                errno: nix::errno::Errno::EPERM,
            })
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::Sys { op: "mount", .. }),
        "the prepare step's own error comes back: {err}"
    );
    assert!(!seen.unwrap().exists(), "the directory must be removed");
    assert!(store.list().unwrap().is_empty());
    store.create(&container("prep")).unwrap();
    // and an interrupted create's remains are found and removed
    let half = ContainerId::random();
    fs::create_dir(store.dir(&half)).unwrap();
    assert_eq!(store.remove_incomplete().unwrap(), vec![half.clone()]);
    assert!(!store.dir(&half).exists());
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn resolve_by_id_name_and_prefix() {
    let root = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(root.path()).unwrap();
    let mut a = container("alpha");
    let mut b = container("beta");
    // ids that share the prefix "ab" and differ after it
    a.id = format!("ab1{}", &a.id.as_str()[3..]).parse().unwrap();
    b.id = format!("ab2{}", &b.id.as_str()[3..]).parse().unwrap();
    store.create(&a).unwrap();
    store.create(&b).unwrap();
    assert_eq!(store.resolve(a.id.as_str()).unwrap(), a.id);
    assert_eq!(store.resolve("beta").unwrap(), b.id);
    assert_eq!(store.resolve("/beta").unwrap(), b.id);
    assert_eq!(store.resolve(a.id.short()).unwrap(), a.id);
    assert_eq!(store.resolve("ab2").unwrap(), b.id);
    assert!(matches!(store.resolve("ab"), Err(Error::Ambiguous(_))));
    assert!(matches!(
        store.resolve("gamma"),
        Err(Error::NoSuchContainer(_))
    ));
    assert!(matches!(store.resolve(""), Err(Error::NoSuchContainer(_))));
}

#[test]
fn corrupt_state_is_reported_with_its_path() {
    let root = tempfile::tempdir().unwrap();
    let store = ContainerStore::open(root.path()).unwrap();
    let c = container("x1");
    store.create(&c).unwrap();
    fs::write(store.dir(&c.id).join(STATE), "not json").unwrap();
    let err = store.state(&c.id).unwrap_err().to_string();
    assert!(err.contains("state.json is corrupt"), "{err}");
}
