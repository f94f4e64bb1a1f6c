//! The images page: every `repository:tag` with its id, age and size; an
//! image's page (its config, its layers, its history); a form that pulls
//! an image and shows the pull's progress as it comes; remove (with force)
//! and prune.
//!
//! An image is named in a URL by its reference, percent-encoded into one
//! path segment (`/images/localhost%3A5000%2Fapp%3A1.0`), or by its id for
//! an untagged one. The daemon's refusals (an image a container uses: 409)
//! are shown in the page's banner with the daemon's own words and status.

use super::forms::{csrf_field, Banner};
use super::html::{button, escape, page};
use super::web::{decode, encode, Form};
use super::Desk;
use crate::error::describe;
use crate::format::{human_size, short_id, time_ago};
use crate::progress::plain_line;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use minidock_client::JsonStream;
use minidock_daemon::query::Filters;
use minidock_daemon::server::Body;
use minidock_daemon::service::HistoryItem;
use minidock_daemon::types::{ImageDeleteItem, ImageInspect, ImageSummary, ProgressMessage};
use minidock_images::Reference;
use std::time::SystemTime;

/// The navigation entry of these pages.
const CURRENT: &str = "/images";

/// Where the streamed pull page is cut in two (the frame's head is sent
/// before the pull starts, its tail after the pull ends).
const CUT: &str = "<!--pull-->";

/// The pages under `/images`; `None` for a path that is none of them.
pub fn route(desk: &Desk, method: &Method, rest: &[&str], form: &Form) -> Option<Response<Body>> {
    let answer = match (method, rest) {
        (&Method::GET, []) => list(desk, Banner::None),
        (&Method::POST, ["pull"]) => pull(desk, form),
        (&Method::POST, ["prune"]) => prune(desk),
        (&Method::GET, [name]) => named(desk, name, |name| detail(desk, name, Banner::None)),
        (&Method::POST, [name, "remove"]) => named(desk, name, |name| remove(desk, name, form)),
        _ => return None,
    };
    Some(answer)
}

/// Decodes an image's name from its path segment and checks that it can
/// only name an image (it becomes part of the daemon's path).
fn named(desk: &Desk, segment: &str, page: impl FnOnce(&str) -> Response<Body>) -> Response<Body> {
    let name = decode(segment);
    if is_image_name(&name) {
        page(&name)
    } else {
        list(
            desk,
            Banner::bad(format!("{name:?} is not an image's name or id")),
        )
    }
}

/// Whether `name` is made of what references and ids are made of, with no
/// `..` that could lead the daemon's path elsewhere.
pub fn is_image_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && !name.starts_with(['/', '-', '.'])
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/@".contains(&b))
}

/// `GET /images`: the list, after `banner`.
pub fn list(desk: &Desk, banner: Banner) -> Response<Body> {
    let mut images = match desk.client.images(false) {
        Ok(images) => images,
        Err(e) => return desk.failed("Images", CURRENT, &e),
    };
    // Newest first, as `docker images` lists them.
    images.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.repo_tags.cmp(&b.repo_tags))
    });
    let csrf = desk.access.csrf();
    let mut body = pull_form(csrf);
    if images.is_empty() {
        body.push_str("<p class=\"muted\" id=\"empty\">No images yet: pull one.</p>");
    } else {
        body.push_str(
            "<table id=\"images\"><thead><tr><th>Repository</th><th>Tag</th><th>Image ID</th>\
             <th>Created</th><th>Size</th><th></th></tr></thead><tbody>",
        );
        let now = SystemTime::now();
        for image in &images {
            body.push_str(&rows(image, csrf, now));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(&format!(
        "<div class=\"prune\">{}</div>",
        button("/images/prune", "Prune dangling images", csrf)
    ));
    banner.page("Images", CURRENT, &body)
}

/// `busybox:latest` → (`busybox`, `latest`); `localhost:5000/app` has no tag.
pub fn split_tag(reference: &str) -> (&str, &str) {
    let slash = reference.rfind('/').map_or(0, |at| at + 1);
    match reference[slash..].rfind(':') {
        Some(colon) => (&reference[..slash + colon], &reference[slash + colon + 1..]),
        None => (reference, "<none>"),
    }
}

/// The rows of one image: one per tag, or one `<none>` row (named by id)
/// when it has none.
fn rows(image: &ImageSummary, csrf: &str, now: SystemTime) -> String {
    let tags: Vec<&str> = image
        .repo_tags
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "<none>:<none>")
        .collect();
    let named: Vec<(&str, (&str, &str))> = if tags.is_empty() {
        vec![(image.id.as_str(), ("<none>", "<none>"))]
    } else {
        tags.iter().map(|t| (*t, split_tag(t))).collect()
    };
    let mut out = String::new();
    for (name, (repository, tag)) in named {
        let link = format!("/images/{}", encode(name));
        out.push_str(&format!(
            "<tr data-ref=\"{name}\"><td class=\"repository\"><a href=\"{link}\">{repository}</a></td>\
             <td class=\"tag\">{tag}</td><td class=\"id\"><code>{id}</code></td>\
             <td class=\"created\">{created}</td><td class=\"num size\">{size}</td>\
             <td class=\"actions\">{remove}</td></tr>",
            name = escape(name),
            link = escape(&link),
            repository = escape(repository),
            tag = escape(tag),
            id = escape(short_id(&image.id)),
            created = escape(&time_ago(image.created, now)),
            size = escape(&human_size(image.size.max(0) as u64)),
            remove = button(&format!("{link}/remove"), "Remove", csrf),
        ));
    }
    out
}

/// The form that pulls an image.
fn pull_form(csrf: &str) -> String {
    format!(
        "<fieldset><legend>Pull an image</legend>\
         <form method=\"post\" action=\"/images/pull\" id=\"pull-form\">{}\
         <label>Reference <input type=\"text\" name=\"reference\" id=\"pull-reference\" \
         placeholder=\"busybox:latest\" required></label> \
         <button type=\"submit\" id=\"pull-submit\">Pull</button></form></fieldset>",
        csrf_field(csrf)
    )
}

/// `GET /images/{name}`: what the image is made of and how it starts.
pub fn detail(desk: &Desk, name: &str, banner: Banner) -> Response<Body> {
    let title = format!("Image {name}");
    let found = desk
        .client
        .image_inspect(name)
        .and_then(|inspect| Ok((inspect, desk.client.image_history(name)?)));
    let (inspect, history) = match found {
        Ok(found) => found,
        Err(e) => return desk.failed(&title, CURRENT, &e),
    };
    let mut body = String::from("<p><a href=\"/images\">← Images</a></p>");
    body.push_str(&summary(&inspect));
    body.push_str(&config(&inspect));
    body.push_str(&layers(&inspect.root_fs.layers));
    body.push_str(&history_table(&history));
    body.push_str(&format!(
        "<h2>Remove</h2><form method=\"post\" action=\"/images/{}/remove\" id=\"remove-form\">{}\
         <input type=\"hidden\" name=\"back\" value=\"detail\">\
         <label><input type=\"checkbox\" name=\"force\" value=\"1\" id=\"remove-force\"> \
         force (remove it even if containers use it)</label> \
         <button type=\"submit\" id=\"remove-submit\">Remove</button></form>",
        escape(&encode(name)),
        csrf_field(desk.access.csrf())
    ));
    banner.page(&title, CURRENT, &body)
}

/// A `<dl>` of `(term, value)` pairs, values escaped here.
fn definitions(id: &str, pairs: &[(&str, String)]) -> String {
    let mut out = format!("<dl id=\"{id}\">");
    for (term, value) in pairs {
        out.push_str(&format!("<dt>{term}</dt><dd>{}</dd>", escape(value)));
    }
    out.push_str("</dl>");
    out
}

/// Its identity: id, tags, digests, when and for what platform.
fn summary(inspect: &ImageInspect) -> String {
    definitions(
        "summary",
        &[
            ("Id", inspect.id.clone()),
            ("Tags", inspect.repo_tags.join(", ")),
            ("Digests", inspect.repo_digests.join(", ")),
            ("Created", inspect.created.clone()),
            ("Size", human_size(inspect.size.max(0) as u64)),
            (
                "Platform",
                format!("{}/{}", inspect.os, inspect.architecture),
            ),
            ("Author", inspect.author.clone()),
        ],
    )
}

/// How a container of it starts: `Cmd`, `Entrypoint`, `Env`, the exposed
/// ports, the working directory, the user, the labels.
fn config(inspect: &ImageInspect) -> String {
    let c = &inspect.config;
    let words = |w: &Option<Vec<String>>| {
        w.as_ref()
            .map(|w| serde_json::to_string(w).unwrap_or_default())
            .unwrap_or_default()
    };
    let ports = c
        .exposed_ports
        .as_ref()
        .map(|p| p.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let labels = c
        .labels
        .as_ref()
        .map(super::forms::labels_text)
        .unwrap_or_default();
    let mut out = String::from("<h2>Config</h2>");
    out.push_str(&definitions(
        "config",
        &[
            ("Cmd", words(&c.cmd)),
            ("Entrypoint", words(&c.entrypoint)),
            ("ExposedPorts", ports),
            ("WorkingDir", c.working_dir.clone()),
            ("User", c.user.clone()),
            ("Labels", labels),
        ],
    ));
    out.push_str("<h3>Env</h3><ul id=\"env\">");
    for variable in c.env.iter().flatten() {
        out.push_str(&format!("<li><code>{}</code></li>", escape(variable)));
    }
    out.push_str("</ul>");
    out
}

/// Its layers, bottom first, by diff id.
fn layers(diff_ids: &[String]) -> String {
    let mut out = String::from(
        "<h2>Layers</h2><table id=\"layers\"><thead><tr><th>#</th><th>Diff id</th></tr>\
         </thead><tbody>",
    );
    for (n, id) in diff_ids.iter().enumerate() {
        out.push_str(&format!(
            "<tr><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            n + 1,
            escape(id)
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The steps that made it, newest first, as `docker history` shows them.
fn history_table(history: &[HistoryItem]) -> String {
    let now = SystemTime::now();
    let mut out = String::from(
        "<h2>History</h2><table id=\"history\"><thead><tr><th>Created</th><th>Created by</th>\
         <th>Size</th><th>Comment</th></tr></thead><tbody>",
    );
    for item in history {
        out.push_str(&format!(
            "<tr><td class=\"created\">{}</td><td class=\"created-by\"><code>{}</code></td>\
             <td class=\"num size\">{}</td><td>{}</td></tr>",
            escape(&time_ago(item.created, now)),
            escape(&item.created_by),
            escape(&human_size(item.size.max(0) as u64)),
            escape(&item.comment),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// `POST /images/{name}/remove` (`force` when its box is ticked): what was
/// untagged and deleted, or the daemon's refusal on the page the form came
/// from.
fn remove(desk: &Desk, name: &str, form: &Form) -> Response<Body> {
    let force = form.get("force").is_some();
    match desk.client.image_remove(name, force) {
        Ok(items) => list(desk, Banner::Notice(deleted_text(&items))),
        Err(e) => {
            let banner = Banner::failed(&format!("Remove {name}"), &e);
            if form.get("back") == Some("detail") {
                detail(desk, name, banner)
            } else {
                list(desk, banner)
            }
        }
    }
}

/// `Untagged: busybox:latest; Deleted: sha256:…`, as `rmi` says it.
fn deleted_text(items: &[ImageDeleteItem]) -> String {
    let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
    if lines.is_empty() {
        "Nothing was removed".to_string()
    } else {
        lines.join("; ")
    }
}

/// `POST /images/prune`: removes the untagged images no container uses.
fn prune(desk: &Desk) -> Response<Body> {
    match desk.client.images_prune(&Filters::default()) {
        Ok(pruned) => {
            let items = pruned.images_deleted.unwrap_or_default();
            let text = format!(
                "{}; reclaimed {}",
                deleted_text(&items),
                human_size(pruned.space_reclaimed)
            );
            list(desk, Banner::Notice(text))
        }
        Err(e) => list(desk, Banner::failed("Prune images", &e)),
    }
}

// ANCHOR: pull
/// `POST /images/pull`: starts the pull with the credentials `minidock
/// login` saved for its registry, as `minidock pull` does, and answers with
/// a page that grows as the daemon reports: one line per status change,
/// then the outcome. A refusal before the stream starts (a malformed name,
/// the daemon away) is an ordinary page with the daemon's status.
fn pull(desk: &Desk, form: &Form) -> Response<Body> {
    let Some(text) = form.text("reference") else {
        return list(
            desk,
            Banner::bad("Pull: name an image, e.g. busybox:latest"),
        );
    };
    let reference = match Reference::parse(text) {
        Ok(reference) => reference,
        Err(e) => {
            let why = format!("Pull {text}: invalid reference format: {e}");
            return list(desk, Banner::bad(why));
        }
    };
    let tag = match reference.digest() {
        Some(digest) => Some(digest.to_string()),
        None => reference.tag().map(str::to_owned),
    };
    let auth = crate::commands::registry_auth(&reference);
    let pulled = desk
        .client
        .image_pull_for(&reference.name(), tag.as_deref(), None, auth.as_ref());
    match pulled {
        Ok(stream) => follow(reference.familiar(), stream),
        Err(e) => list(desk, Banner::failed(&format!("Pull {text}"), &e)),
    }
}

/// The pull's page, streamed: the frame's head at once, a line per status
/// as the daemon sends it, the outcome and the frame's tail at the end.
/// The stream is read to its end on a thread of its own even when the
/// browser leaves, so the pull is never cut half-way by a closed tab.
fn follow(name: String, stream: JsonStream<ProgressMessage>) -> Response<Body> {
    let whole = page(&format!("Pull {name}"), CURRENT, None, CUT);
    let (head, tail) = whole.split_once(CUT).unwrap_or((whole.as_str(), ""));
    let head = format!("{head}<p><a href=\"/images\">← Images</a></p><pre id=\"pull\">");
    let tail = tail.to_string();
    let (tx, body) = Body::channel(64);
    std::thread::spawn(move || {
        let send = |text: String| tx.blocking_send(Ok(Bytes::from(text))).is_ok();
        send(head);
        let outcome = stream.finish(|message| {
            if let Some(line) = plain_line(message) {
                send(format!("{}\n", escape(&line)));
            }
        });
        let end = match outcome {
            Ok(()) => format!(
                "</pre><p class=\"notice\" id=\"pull-done\">Pulled {}. \
                 <a href=\"/images/{}\">See the image</a></p>",
                escape(&name),
                escape(&encode(&name))
            ),
            Err(e) => format!(
                "</pre><p class=\"error\" id=\"error\">{}</p>",
                escape(&format!("Pull {name}: {}", describe(&e)))
            ),
        };
        send(end + &tail);
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    *response.status_mut() = StatusCode::OK;
    response
}
// ANCHOR_END: pull

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_after_the_registry_port() {
        assert_eq!(split_tag("busybox:latest"), ("busybox", "latest"));
        assert_eq!(
            split_tag("localhost:5000/app:1.0"),
            ("localhost:5000/app", "1.0")
        );
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", "<none>")
        );
    }

    #[test]
    fn only_image_names_reach_the_daemons_path() {
        for good in [
            "busybox",
            "busybox:latest",
            "127.0.0.1:5000/team/app:1.0",
            "sha256:0123abcd",
            "app@sha256:0123",
        ] {
            assert!(is_image_name(good), "{good}");
        }
        for bad in [
            "",
            "../containers/x",
            "a/../../b",
            "/etc",
            "a?b=1",
            "a b",
            "a#b",
            "-rf",
        ] {
            assert!(!is_image_name(bad), "{bad}");
        }
    }
}
