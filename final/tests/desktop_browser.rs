//! `minidock desktop` in a real browser: headless chromium, driven through
//! chromedriver, runs a container from the page's form, sees it running,
//! reads its logs, stops and removes it with the page's buttons; a page
//! without the token is refused as the browser sees it; the page survives
//! a restart of the daemon under it. On the way it takes the screenshots
//! of the book's "The dashboard" section (renewed in the book by every
//! test.sh run, see `book_image`).

mod browser_kit;
mod common;
mod desktop_kit;

use std::path::PathBuf;

use browser_kit::Browser;
use common::Daemon;
use desktop_kit::Desktop;

/// The command the page runs: it logs a line, and leaves at once on
/// SIGTERM (a shell without a trap is PID 1 and ignores it, so `stop`
/// would wait its ten seconds for the SIGKILL).
const COMMAND: &str =
    "sh -c 'trap \"exit 0\" TERM; echo hello-from-browser; echo \"I am $(hostname), PID $$\"; \
     while true; do sleep 1; done'";

/// Where the screenshots go: the book's images directory when
/// `MINIDOCK_SCREENSHOTS=book` (test.sh sets it, so every CI run renews the
/// pictures of the book's "The dashboard" section), else a directory of
/// this test run's own, so that a plain `cargo test` leaves the checkout
/// as it was (the pictures are still taken and checked to be PNGs).
fn book_image(name: &str) -> PathBuf {
    let dir = if std::env::var_os("MINIDOCK_SCREENSHOTS").is_some_and(|v| v == "book") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book/src/images")
    } else {
        std::env::temp_dir().join(format!("minidock-screenshots-{}", std::process::id()))
    };
    dir.join(name)
}

/// The CSS selector of the row of container `name`.
fn row(name: &str) -> String {
    format!("#containers tr[data-name=\"{name}\"]")
}

/// The state the row of `name` shows (`Running`, `Exited`), if it is there.
fn state_of(browser: &Browser, name: &str) -> Option<String> {
    browser
        .text_of(&format!("{} .state", row(name)))
        .map(|s| s.trim().to_string())
}

#[test]
fn the_dashboard_works_in_a_real_browser() {
    let browser = Browser::start();
    let d = Daemon::start();
    d.load_busybox();
    // A container that ran and exited, so the page lists one of each.
    d.ok(&["run", "--name", "hello", "busybox", "echo", "hello"]);
    let desk = Desktop::start(&d.host());
    let base = format!("http://{}", desk.authority);

    // Without the token (or with a wrong one) the browser gets a 403 and
    // the reason, and no page of the dashboard.
    for url in [format!("{base}/"), format!("{base}/?token=0123")] {
        browser.goto(&url);
        assert_eq!(browser.status(), 403, "{url}: {}", browser.text());
        let text = browser.text();
        assert!(
            text.contains("403 Forbidden") && text.contains("token"),
            "{url}: {text}"
        );
        assert!(!browser.has("#run"), "{url} shows no form");
    }

    // The printed URL: the containers page, the token gone from the address bar.
    browser.goto(&desk.url);
    browser.wait_for("the containers page", || browser.has("#run").then_some(()));
    assert_eq!(browser.status(), 200);
    assert_eq!(
        browser.url(),
        format!("{base}/"),
        "the token left the address bar"
    );
    browser.wait_for("the exited container", || {
        (state_of(&browser, "hello")? == "Exited").then_some(())
    });

    // Run a container from the form.
    browser.type_into("#run-image", "busybox");
    browser.type_into("#run-name", "web");
    browser.type_into("#run-cmd", COMMAND);
    browser.click("#run-submit");
    browser.wait_for("web Running on the page", || {
        (state_of(&browser, "web")? == "Running").then_some(())
    });
    let status = d.ok(&["inspect", "-f", "{{.State.Status}}", "web"]);
    assert_eq!(status.trim(), "running");
    // The memory column fills in for a running container; a second load
    // gives the CPU column its first percentage.
    browser.wait_for("web's CPU and memory", || {
        browser.refresh();
        let cpu = browser.text_of(&format!("{} .cpu", row("web")))?;
        let memory = browser.text_of(&format!("{} .memory", row("web")))?;
        (cpu.contains('%') && memory.ends_with('B')).then_some(())
    });
    browser.screenshot("body", &book_image("desktop-containers.png"));

    // Its logs, from the row's link.
    browser.click(&format!("{} a[href$=\"/logs\"]", row("web")));
    browser.wait_for("the line in the logs page", || {
        browser
            .text_of("#logs")?
            .contains("hello-from-browser")
            .then_some(())
    });
    browser.wait_for("the second line", || {
        browser.text_of("#logs")?.contains("I am ").then_some(())
    });
    browser.screenshot("body", &book_image("desktop-logs.png"));

    // What is happening inside it: its namespaces beside the host's.
    browser.goto(&format!("{base}/"));
    browser.click(&format!("{} a[href$=\"/inside\"]", row("web")));
    browser.wait_for("the inside view's namespaces", || {
        browser
            .text_of("#namespaces")?
            .contains("its own")
            .then_some(())
    });
    browser.screenshot("body", &book_image("desktop-inside.png"));

    // Stop, then remove, with the row's buttons.
    browser.goto(&format!("{base}/"));
    browser.click(&format!("{} button[data-action=\"stop\"]", row("web")));
    browser.wait_for("web Exited on the page", || {
        (state_of(&browser, "web")? == "Exited").then_some(())
    });
    browser.click(&format!("{} button[data-action=\"remove\"]", row("web")));
    browser.wait_for("web gone from the page", || {
        (browser.has("#run") && !browser.has(&row("web"))).then_some(())
    });
    assert!(
        !d.run(&["inspect", "web"]).status.success(),
        "the daemon has no web any more"
    );

    // The daemon goes away under the page: a reload says so; it comes
    // back on the same socket and state: a reload shows the page again.
    let (dir, leaks) = d.kill9();
    browser.refresh();
    browser.wait_for("the page saying the daemon is away", || {
        browser
            .text_of("#error")?
            .contains("Cannot connect to the minidock daemon")
            .then_some(())
    });
    assert_eq!(browser.status(), 503);
    let mut d = Daemon::start_in(&dir);
    d.adopt_leak_check(leaks);
    browser.refresh();
    browser.wait_for("the page back after the restart", || {
        (browser.has("#run") && !browser.has("#error")).then_some(())
    });
    assert_eq!(browser.status(), 200);
    assert_eq!(state_of(&browser, "hello").as_deref(), Some("Exited"));

    // The cookie was the only key: without it, 403 again.
    browser.delete_cookies();
    browser.refresh();
    assert_eq!(browser.status(), 403, "{}", browser.text());

    // The dashboard goes before the daemon, whose leak check would find it.
    drop(desk);
    if std::env::var_os("MINIDOCK_SCREENSHOTS").is_none_or(|v| v != "book") {
        let dir = book_image("x");
        std::fs::remove_dir_all(dir.parent().expect("a directory")).ok();
    }
}
