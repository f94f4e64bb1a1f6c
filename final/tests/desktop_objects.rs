//! `minidock desktop`'s object pages over plain HTTP against a real
//! daemon: images (list, detail with history and config, pull from a real
//! registry with its progress, remove and the daemon's 409), volumes and
//! networks (create, list, remove, prune), and exec of one command on a
//! container's page. Every POST without the CSRF token changes nothing.

mod common;
mod desktop_kit;

use common::Daemon;
use desktop_kit::{Answer, Desktop};
use minidock_testkit::{random_name, Registry};

/// The `<tr>` whose `attribute` is `value`.
fn row_of<'a>(page: &'a str, attribute: &str, value: &str) -> &'a str {
    let start = page
        .find(&format!("<tr {attribute}=\"{value}\""))
        .unwrap_or_else(|| panic!("no row with {attribute}={value} in:\n{page}"));
    let end = page[start..].find("</tr>").expect("the row ends") + start;
    &page[start..end]
}

/// The text of the element with `id` (up to its first closing tag).
fn element<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id} in:\n{page}"));
    let open_end = page[start..].find('>').expect("the tag ends") + start + 1;
    let close = page[open_end..].find("</").expect("the element ends") + open_end;
    &page[open_end..close]
}

/// A POST without the CSRF token: refused, and the caller checks that
/// nothing changed.
fn refused_without_csrf(desk: &Desktop, path: &str, form: &[(&str, &str)]) {
    let answer = desk.post(path, form);
    assert_eq!(answer.status, 403, "{path}: {answer:?}");
    assert!(answer.body.contains("CSRF"), "{answer:?}");
}

/// From the element with `id` to the first `end` after it (a table, a
/// list: elements with elements inside).
fn section<'a>(page: &'a str, id: &str, end: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id} in:\n{page}"));
    let stop = page[start..].find(end).expect("the element ends") + start;
    &page[start..stop]
}

fn error_banner(answer: &Answer) -> &str {
    element(&answer.body, "error")
}

#[test]
fn the_images_page_lists_tags_shows_an_image_and_refuses_to_remove_one_in_use() {
    let d = Daemon::start();
    d.load_busybox();
    let context = d.scratch().join("configured");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM busybox\nEXPOSE 8080 5353/udp\nENV GREETING=hello-desk\n\
         ENTRYPOINT [\"/bin/sh\", \"-c\"]\nCMD [\"echo from-cmd\"]\n",
    )
    .unwrap();
    d.ok(&[
        "build",
        "-q",
        "-t",
        "configured:1.0",
        context.to_str().unwrap(),
    ]);
    let desk = Desktop::start(&d.host());
    let csrf = desk.get("/").csrf();

    // The list: one row per tag, with the short id the CLI shows.
    let list = desk.get("/images");
    assert_eq!(list.status, 200, "{list:?}");
    let row = row_of(&list.body, "data-ref", "busybox:latest");
    assert!(row.contains(">busybox</a>"), "{row}");
    assert!(row.contains("<td class=\"tag\">latest</td>"), "{row}");
    let id = d.ok(&["image", "inspect", "-f", "{{.Id}}", "busybox"]);
    let short = &id.trim().trim_start_matches("sha256:")[..12];
    assert!(
        row.contains(&format!("<code>{short}</code>")),
        "{id}: {row}"
    );
    assert!(row.contains("ago"), "created: {row}");
    assert!(row_of(&list.body, "data-ref", "configured:1.0").contains(">1.0<"));
    assert!(list.body.contains("href=\"/images\" class=\"current\""));

    // An image's page: its history with created_by, its layers, its config.
    let page = desk.get("/images/busybox%3Alatest");
    assert_eq!(page.status, 200, "{page:?}");
    let history = section(&page.body, "history", "</table>");
    assert!(
        history.contains("minidock-testkit layer 0"),
        "created_by of the layer: {history}"
    );
    assert!(
        history.contains("<td class=\"num size\">") && !history.contains(">0B<"),
        "each step made a layer, and has its size: {history}"
    );
    let layers = d.ok(&[
        "image",
        "inspect",
        "-f",
        "{{len .RootFS.Layers}}",
        "busybox",
    ]);
    let layers: usize = layers.trim().parse().unwrap();
    let table = section(&page.body, "layers", "</table>");
    assert_eq!(table.matches("<code>sha256:").count(), layers, "{table}");

    let page = desk.get("/images/configured%3A1.0");
    assert_eq!(page.status, 200, "{page:?}");
    let config = section(&page.body, "config", "</dl>");
    assert!(
        config.contains("<dt>ExposedPorts</dt><dd>5353/udp, 8080/tcp</dd>"),
        "{config}"
    );
    assert!(
        config.contains("<dt>Entrypoint</dt><dd>[&quot;/bin/sh&quot;,&quot;-c&quot;]</dd>"),
        "{config}"
    );
    assert!(
        config.contains("<dt>Cmd</dt><dd>[&quot;echo from-cmd&quot;]</dd>"),
        "{config}"
    );
    assert!(
        section(&page.body, "env", "</ul>").contains("<code>GREETING=hello-desk</code>"),
        "{}",
        page.body
    );

    // A name that could lead elsewhere in the daemon's API is refused.
    let bad = desk.get("/images/..%2Fcontainers%2Fjson");
    assert_eq!(bad.status, 400, "{bad:?}");
    // An image that is not there: the daemon's 404.
    let missing = desk.get("/images/nothing-here%3A1");
    assert_eq!(missing.status, 404, "{missing:?}");
    assert!(
        error_banner(&missing).contains("No such image"),
        "{missing:?}"
    );

    // Remove an image a container uses: the daemon's 409 and its words, on
    // the list and on the image's page; the image stays.
    d.ok(&["create", "--name", "user", "busybox", "true"]);
    refused_without_csrf(&desk, "/images/busybox%3Alatest/remove", &[]);
    let answer = desk.post("/images/busybox%3Alatest/remove", &[("csrf", &csrf)]);
    assert_eq!(answer.status, 409, "{answer:?}");
    let banner = error_banner(&answer);
    assert!(
        banner.contains("unable to remove repository reference")
            && banner.contains("(must force)")
            && banner.contains("is using its referenced image"),
        "{banner}"
    );
    assert!(answer.body.contains("id=\"images\""), "back on the list");
    let answer = desk.post(
        "/images/busybox%3Alatest/remove",
        &[("csrf", &csrf), ("back", "detail")],
    );
    assert_eq!(answer.status, 409, "{answer:?}");
    assert!(answer.body.contains("id=\"history\""), "back on its page");
    assert_eq!(d.ok(&["image", "inspect", "-f", "{{.Id}}", "busybox"]), id);

    // An image no container uses: untagged and deleted.
    let answer = desk.post("/images/configured%3A1.0/remove", &[("csrf", &csrf)]);
    assert_eq!(answer.status, 200, "{answer:?}");
    let notice = element(&answer.body, "notice");
    assert!(notice.contains("Untagged: configured:1.0"), "{notice}");
    assert!(notice.contains("Deleted: sha256:"), "{notice}");
    assert_eq!(tags(&d), "busybox:latest");

    // Forced, an image a stopped container uses loses its tag and stays
    // for the container.
    let answer = desk.post(
        "/images/busybox%3Alatest/remove",
        &[("csrf", &csrf), ("force", "1")],
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let notice = element(&answer.body, "notice");
    assert_eq!(notice, "Untagged: busybox:latest", "{}", answer.body);
    assert_eq!(d.ok(&["image", "inspect", "-f", "{{.Id}}", id.trim()]), id);

    // Once the container is gone, prune deletes it.
    d.ok(&["rm", "user"]);
    let answer = desk.post("/images/prune", &[("csrf", &csrf)]);
    assert_eq!(answer.status, 200, "{answer:?}");
    let notice = element(&answer.body, "notice");
    assert!(
        notice.contains(&format!("Deleted: {}", id.trim())),
        "{notice}"
    );
    assert_eq!(tags(&d), "");
    assert!(answer.body.contains("id=\"empty\""), "{}", answer.body);
}

/// The largest file below `dir` (a registry's biggest blob: the layer).
fn largest_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut best: Option<(u64, std::path::PathBuf)> = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else if best.as_ref().is_none_or(|(size, _)| meta.len() > *size) {
                best = Some((meta.len(), entry.path()));
            }
        }
    }
    best.expect("the registry holds blobs").1
}

/// `REPOSITORY:TAG` of every image, one a line, as the CLI lists them.
fn tags(d: &Daemon) -> String {
    let listed = d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    listed.trim().to_string()
}

#[test]
fn pull_from_a_registry_shows_the_progress_and_the_outcome() {
    let d = Daemon::start();
    let registry = Registry::start();
    let repo = random_name("desk");
    let name = registry.push_busybox(&repo, "latest");
    let desk = Desktop::start(&d.host());
    let csrf = desk.get("/").csrf();

    refused_without_csrf(&desk, "/images/pull", &[("reference", &name)]);
    assert_eq!(tags(&d), "", "a refused pull pulled nothing");

    let answer = desk.post("/images/pull", &[("csrf", &csrf), ("reference", &name)]);
    assert_eq!(answer.status, 200, "{answer:?}\n{}", d.log());
    assert_eq!(
        answer.header("transfer-encoding"),
        Some("chunked"),
        "the page is streamed as the pull goes"
    );
    let lines = element(&answer.body, "pull");
    assert!(
        lines.contains("Pull complete") || lines.contains("Download complete"),
        "{lines}"
    );
    assert!(lines.contains("Digest: sha256:"), "{lines}");
    assert!(lines.contains("Status: Downloaded newer image"), "{lines}");
    assert!(
        element(&answer.body, "pull-done").contains(&format!("Pulled {name}")),
        "{}",
        answer.body
    );
    assert!(
        answer.body.trim_end().ends_with("</html>"),
        "the frame closes"
    );
    assert_eq!(tags(&d), name);
    let list = desk.get("/images");
    assert!(row_of(&list.body, "data-ref", &name).contains(">latest<"));

    // A tag the registry does not have: the daemon's 404 and its words
    // (the daemon refuses before its progress stream starts).
    let missing = format!("{}/{repo}:nope", registry.addr());
    let answer = desk.post("/images/pull", &[("csrf", &csrf), ("reference", &missing)]);
    assert_eq!(answer.status, 404, "{answer:?}");
    let banner = error_banner(&answer);
    assert!(
        banner.contains(&format!("Pull {missing}")) && banner.contains("not found"),
        "{answer:?}"
    );

    // A layer the registry lost: the page has streamed, and ends with the
    // error the daemon sent in its stream.
    d.ok(&["rmi", &name]);
    let layer = largest_file(&registry.storage_dir().join("docker/registry/v2/blobs"));
    std::fs::remove_file(&layer).unwrap();
    let answer = desk.post("/images/pull", &[("csrf", &csrf), ("reference", &name)]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        element(&answer.body, "pull").contains("Pulling fs layer"),
        "{answer:?}"
    );
    let banner = error_banner(&answer);
    assert!(banner.starts_with(&format!("Pull {name}: ")), "{banner}");
    assert!(!answer.body.contains("id=\"pull-done\""), "{answer:?}");
    assert!(
        answer.body.trim_end().ends_with("</html>"),
        "the frame closes"
    );
    assert_eq!(tags(&d), "", "{}", d.log());

    // A malformed reference never reaches the daemon.
    let answer = desk.post(
        "/images/pull",
        &[("csrf", &csrf), ("reference", "Bad/Name")],
    );
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(error_banner(&answer).contains("invalid reference format"));
}

#[test]
fn volumes_are_created_listed_removed_and_pruned() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());
    let csrf = desk.get("/").csrf();

    refused_without_csrf(&desk, "/volumes/create", &[("name", "data")]);
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");

    let answer = desk.post(
        "/volumes/create",
        &[
            ("csrf", &csrf),
            ("name", "data"),
            ("labels", "team=web\r\nkind=cache"),
        ],
    );
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.header("location"), Some("/volumes"));
    let labels = d.ok(&["volume", "inspect", "-f", "{{json .Labels}}", "data"]);
    assert_eq!(labels.trim(), r#"{"kind":"cache","team":"web"}"#);

    let page = desk.get("/volumes");
    assert_eq!(page.status, 200, "{page:?}");
    let row = row_of(&page.body, "data-name", "data");
    let mountpoint = d.ok(&["volume", "inspect", "-f", "{{.Mountpoint}}", "data"]);
    assert!(
        row.contains(&format!("<code>{}</code>", mountpoint.trim())),
        "{row}"
    );
    assert!(row.contains("<td class=\"driver\">local</td>"), "{row}");
    assert!(row.contains("kind=cache, team=web"), "{row}");

    // A name Docker does not allow: the daemon's 400.
    let answer = desk.post("/volumes/create", &[("csrf", &csrf), ("name", "a b")]);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("class=\"error\""));

    // In use: the daemon's 409; free again: removed.
    d.ok(&[
        "create",
        "--name",
        "user",
        "-v",
        "data:/data",
        "busybox",
        "true",
    ]);
    refused_without_csrf(&desk, "/volumes/data/remove", &[]);
    let answer = desk.post("/volumes/data/remove", &[("csrf", &csrf)]);
    assert_eq!(answer.status, 409, "{answer:?}");
    assert!(
        error_banner(&answer).contains("volume is in use"),
        "{answer:?}"
    );
    d.ok(&["rm", "user"]);
    let answer = desk.post("/volumes/data/remove", &[("csrf", &csrf)]);
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");

    // Prune with "named ones too": an unused named volume goes.
    d.ok(&["volume", "create", "spare"]);
    let answer = desk.post("/volumes/prune", &[("csrf", &csrf), ("all", "1")]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        element(&answer.body, "notice").contains("Deleted volumes: spare"),
        "{}",
        answer.body
    );
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
    assert!(answer.body.contains("id=\"empty\""), "{}", answer.body);
}

#[test]
fn networks_are_created_with_a_subnet_listed_removed_and_pruned() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());
    let csrf = desk.get("/").csrf();
    let subnet = d.spare_subnets()[0].clone();
    let gateway = subnet.replace(".0/24", ".1");
    assert_ne!(subnet, gateway, "a /24: {subnet}");

    refused_without_csrf(
        &desk,
        "/networks/create",
        &[("name", "front"), ("subnet", &subnet)],
    );
    let names = d.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!names.contains("front"), "{names}");

    let answer = desk.post(
        "/networks/create",
        &[("csrf", &csrf), ("name", "front"), ("subnet", &subnet)],
    );
    assert_eq!(answer.status, 303, "{answer:?}\n{}", d.log());
    let id = d.ok(&["network", "inspect", "-f", "{{.Id}}", "front"]);
    let id = id.trim();

    d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "busybox",
        "sleep",
        "300",
    ]);
    let networks = d.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web"]);
    let networks: serde_json::Value = serde_json::from_str(&networks).unwrap();
    let address = networks["front"]["IPAddress"].as_str().expect("an address");
    let page = desk.get("/networks");
    assert_eq!(page.status, 200, "{page:?}");
    let row = row_of(&page.body, "data-name", "front");
    assert!(row.contains(&format!("data-id=\"{id}\"")), "{row}");
    assert!(
        row.contains(&format!("<code>{}</code>", &id[..12])),
        "{row}"
    );
    assert!(row.contains("<td class=\"driver\">bridge</td>"), "{row}");
    assert!(row.contains(&format!(">{subnet}<")), "{row}");
    assert!(row.contains(&format!(">{gateway}<")), "{row}");
    assert!(
        row.contains(&format!("web ({address}/24)")),
        "{address}: {row}"
    );
    // The predefined bridge has no remove button.
    assert!(!row_of(&page.body, "data-name", "bridge").contains("Remove"));

    // With a container on it: the daemon's refusal; without: removed.
    refused_without_csrf(&desk, &format!("/networks/{id}/remove"), &[]);
    let answer = desk.post(&format!("/networks/{id}/remove"), &[("csrf", &csrf)]);
    assert_eq!(answer.status, 409, "{answer:?}");
    assert!(error_banner(&answer).contains("has active endpoints (web)"));
    d.ok(&["rm", "-f", "web"]);
    let answer = desk.post(&format!("/networks/{id}/remove"), &[("csrf", &csrf)]);
    assert_eq!(answer.status, 303, "{answer:?}");
    let names = d.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!names.contains("front"), "{names}");

    // A gateway without a subnet is refused before the daemon.
    let answer = desk.post(
        "/networks/create",
        &[("csrf", &csrf), ("name", "half"), ("gateway", &gateway)],
    );
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(error_banner(&answer).contains("a gateway needs a subnet"));

    // Prune: an unused network goes, the predefined ones stay.
    d.ok(&["network", "create", "idle"]);
    let answer = desk.post("/networks/prune", &[("csrf", &csrf)]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(element(&answer.body, "notice").contains("Deleted networks: idle"));
    let names = d.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        !names.contains("idle") && names.contains("bridge"),
        "{names}"
    );
}

#[test]
fn exec_runs_one_command_and_shows_its_output_and_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "-p",
        "127.0.0.1::8080",
        "busybox",
        "sleep",
        "300",
    ]);
    let id = d
        .ok(&["inspect", "-f", "{{.Id}}", "box"])
        .trim()
        .to_string();
    let published = d.ok(&["port", "box", "8080"]);
    let desk = Desktop::start(&d.host());
    let csrf = desk.get("/").csrf();
    let exec = format!("/containers/{id}/exec");

    // The containers page shows the published port and links to the exec
    // page, which has the form.
    let list = desk.get("/");
    let row = row_of(&list.body, "data-name", "box");
    let ports = format!("<td class=\"ports\">{}-&gt;8080/tcp</td>", published.trim());
    assert!(row.contains(&ports), "{ports}: {row}");
    assert!(row.contains(&format!("href=\"{exec}\"")), "{row}");
    let page = desk.get(&exec);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("<h1>Exec in box</h1>"), "{}", page.body);
    assert!(page.body.contains("id=\"exec-form\""));

    refused_without_csrf(&desk, &exec, &[("cmd", "touch /refused")]);
    let out = d.run(&["exec", "box", "test", "-e", "/refused"]);
    assert_eq!(out.status.code(), Some(1), "a refused exec ran nothing");

    // Split like a shell: stdout, stderr (marked) and the exit code.
    let answer = desk.post(
        &exec,
        &[
            ("csrf", &csrf),
            ("cmd", "sh -c 'echo to-out; echo to-err >&2; exit 3'"),
        ],
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let output = section(&answer.body, "exec-output", "</pre>");
    assert!(output.contains("to-out\n"), "{output}");
    assert!(
        output.contains("<span class=\"stderr\">to-err\n</span>"),
        "{output}"
    );
    assert_eq!(element(&answer.body, "exec-exit"), "Exit code: 3");
    assert!(
        element(&answer.body, "exec-command").contains("sh -c"),
        "{}",
        answer.body
    );

    // With `sh -c`: pipes and expansions; the output is text, never markup.
    let answer = desk.post(
        &exec,
        &[
            ("csrf", &csrf),
            ("shell", "1"),
            ("cmd", "echo \"<b>$((6 * 7))</b>\" | tr 4 x"),
        ],
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        element(&answer.body, "exec-output"),
        "&lt;b&gt;x2&lt;/b&gt;\n"
    );
    assert_eq!(element(&answer.body, "exec-exit"), "Exit code: 0");
    assert!(
        answer.body.contains("id=\"exec-shell\" checked"),
        "kept ticked"
    );

    // A command that does not exist: the exit code says so.
    let answer = desk.post(&exec, &[("csrf", &csrf), ("cmd", "no-such-program")]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(element(&answer.body, "exec-exit"), "Exit code: 127");

    // An unclosed quote is refused before the daemon.
    let answer = desk.post(&exec, &[("csrf", &csrf), ("cmd", "echo 'open")]);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(error_banner(&answer).contains("unclosed quote"));

    // A stopped container: the daemon's 409, in the banner.
    d.ok(&["stop", "-t", "0", "box"]);
    let answer = desk.post(&exec, &[("csrf", &csrf), ("cmd", "true")]);
    assert_eq!(answer.status, 409, "{answer:?}");
    assert!(
        error_banner(&answer).contains("is not running"),
        "{answer:?}"
    );
}
