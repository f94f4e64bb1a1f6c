//! Mirrors of Docker Hub (`--registry-mirror`, daemon.json's
//! `registry-mirrors`): a pull of a Docker Hub image tries each mirror in
//! order and falls through one that lacks the image or is down. Two local
//! registries stand in for the mirrors; nothing leaves 127.0.0.1.

mod common;

use common::Daemon;
use minidock_testkit::{random_name, Registry};

#[test]
fn a_mirror_without_the_image_falls_through_to_the_next() {
    let empty = Registry::start();
    let full = Registry::start();
    let repo = random_name("mirrored");
    full.push_busybox(&format!("library/{repo}"), "latest");
    // A port nothing listens on: a mirror that is down.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let d = Daemon::start_with_args(&[
        "--registry-mirror",
        &format!("http://{down}"),
        "--registry-mirror",
        &format!("http://{}", empty.addr()),
        "--registry-mirror",
        &format!("http://{}/", full.addr()),
    ]);

    // A Docker Hub name: served by the third mirror, tagged as Docker Hub's.
    d.ok(&["pull", &repo]);
    let names = d.ok(&["image", "inspect", "--format", "{{json .RepoTags}}", &repo]);
    assert!(names.contains(&format!("{repo}:latest")), "{names}");

    // Another registry's images never go to the mirrors.
    let elsewhere = format!("{}/library/{repo}", empty.addr());
    let out = d.run(&["pull", &elsewhere]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
}
