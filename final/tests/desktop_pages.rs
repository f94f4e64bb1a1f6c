//! `minidock desktop` over plain HTTP: the token guards every request, a
//! POST needs the CSRF token, and the containers page lists and drives real
//! containers of a real daemon.

mod common;
mod desktop_kit;

use std::time::Duration;

use common::{eventually, Daemon};
use desktop_kit::Desktop;

fn status(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.State.Status}}", name])
        .trim()
        .to_string()
}

#[test]
fn every_request_needs_the_token_and_the_host_of_the_dashboard() {
    let d = Daemon::start();
    let desk = Desktop::start(&d.host());
    assert!(
        desk.authority.starts_with("127.0.0.1:"),
        "the dashboard listens on 127.0.0.1 only: {}",
        desk.url
    );
    assert_eq!(desk.token.len(), 64, "{}", desk.url);

    // No token, a wrong one, a cookie with a wrong one: 403, for pages and assets alike.
    for path in ["/", "/assets/desk.js", "/containers/x/logs", "/?token=0000"] {
        let answer = desk.request("GET", path).send();
        assert_eq!(answer.status, 403, "{path}: {answer:?}");
        assert!(answer.body.contains("token"), "{answer:?}");
    }
    let answer = desk
        .request("GET", "/")
        .header("Cookie", "minidock_desktop=00")
        .send();
    assert_eq!(answer.status, 403, "{answer:?}");

    // The right token under another host name (DNS rebinding): 403.
    let answer = desk
        .request("GET", "/")
        .header("Host", "rebind.example")
        .header("Cookie", &desk.cookie())
        .send();
    assert_eq!(answer.status, 403, "{answer:?}");

    // The printed URL: a redirect to the page without the token, which
    // goes into a strict, script-proof cookie.
    let answer = desk
        .request("GET", &format!("/?token={}", desk.token))
        .send();
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.header("location"), Some("/"));
    let cookie = answer.header("set-cookie").expect("a cookie");
    assert!(cookie.starts_with(&desk.cookie()), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let page = desk.get("/");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("No containers yet"), "{}", page.body);
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page
        .header("content-security-policy")
        .is_some_and(|csp| csp.contains("script-src 'self'")));
}

#[test]
fn the_containers_page_runs_stops_and_removes_a_container() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());

    let page = desk.get("/");
    let csrf = page.csrf();

    // A POST without the CSRF token, or from another site, changes nothing.
    let refused = desk.post(
        "/containers/run",
        &[("image", "busybox"), ("name", "web"), ("cmd", "sleep 300")],
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    let refused = desk
        .request("POST", "/containers/run")
        .header("Cookie", &desk.cookie())
        .header("Origin", "http://evil.example")
        .form(&[("csrf", &csrf), ("image", "busybox"), ("name", "web")])
        .send();
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(d.ok(&["ps", "-aq"]), "", "a refused POST created nothing");

    // Run from the form: created and started.
    let ran = desk.post(
        "/containers/run",
        &[
            ("csrf", &csrf),
            ("image", "busybox"),
            ("name", "web"),
            ("cmd", "sh -c 'echo hello-from-web; exec sleep 300'"),
        ],
    );
    assert_eq!(ran.status, 303, "{ran:?}");
    assert_eq!(status(&d, "web"), "running");

    // The list shows it running, with its image and a memory figure.
    let page = desk.get("/");
    assert_eq!(page.status, 200);
    let row = row_of(&page.body, "web");
    assert!(row.contains("state-running"), "{row}");
    assert!(row.contains(">Running<"), "{row}");
    assert!(row.contains(">busybox<"), "{row}");
    assert!(row.contains("B</td>"), "memory is shown: {row}");
    let id = d
        .ok(&["inspect", "-f", "{{.Id}}", "web"])
        .trim()
        .to_string();

    // A name that is HTML is shown as text.
    let ran = desk.post(
        "/containers/run",
        &[
            ("csrf", &csrf),
            ("image", "busybox"),
            ("name", "x<b>y"),
            ("cmd", "true"),
        ],
    );
    // Docker's names do not allow '<': the daemon refuses, the page says why.
    assert_eq!(ran.status, 400, "{ran:?}");
    assert!(ran.body.contains("class=\"error\""), "{}", ran.body);
    assert!(!ran.body.contains("x<b>y"), "escaped: {}", ran.body);

    // Logs. The run returned once the container started: its `echo` may
    // still be on its way to the log, so the page is read until it shows.
    eventually(Duration::from_secs(30), "the echo on the logs page", || {
        let logs = desk.get(&format!("/containers/{id}/logs"));
        assert_eq!(logs.status, 200, "{logs:?}");
        logs.body.contains("hello-from-web")
    });

    // Pause, unpause, stop, remove, each from its button.
    for (action, state) in [
        ("pause", "paused"),
        ("unpause", "running"),
        ("stop", "exited"),
    ] {
        let answer = desk.post(&format!("/containers/{id}/{action}"), &[("csrf", &csrf)]);
        assert_eq!(answer.status, 303, "{action}: {answer:?}");
        eventually(Duration::from_secs(30), state, || {
            status(&d, "web") == state
        });
    }
    let page = desk.get("/");
    let row = row_of(&page.body, "web");
    assert!(row.contains("state-exited"), "{row}");
    let answer = desk.post(&format!("/containers/{id}/remove"), &[("csrf", &csrf)]);
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(d.ok(&["ps", "-aq"]), "");

    // Acting on a container that is gone: the daemon's 404, in the banner.
    let answer = desk.post(&format!("/containers/{id}/start"), &[("csrf", &csrf)]);
    assert_eq!(answer.status, 404, "{answer:?}");
    assert!(answer.body.contains("No such container"), "{}", answer.body);
}

/// The `<tr>` of the container `name`.
fn row_of<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!("<tr data-name=\"{name}\""))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{page}"));
    let end = page[start..].find("</tr>").expect("the row ends") + start;
    &page[start..end]
}
