//! The volumes page: every volume with its driver, where its data lies on
//! the host and its labels; a form that creates one; remove; prune.
//!
//! A volume is named in a URL by its name, which Docker's rules already
//! keep to letters, digits and `_.-` (the router checks it again).

use super::forms::{csrf_field, key_values, labels_text, Banner};
use super::html::{button, escape};
use super::web::{redirect, Form};
use super::Desk;
use crate::format::human_size;
use hyper::{Method, Response};
use minidock_daemon::query::Filters;
use minidock_daemon::server::Body;
use minidock_daemon::types::{Volume, VolumeCreateBody};

/// The navigation entry of this page.
const CURRENT: &str = "/volumes";

/// The pages under `/volumes`; `None` for a path that is none of them.
pub fn route(desk: &Desk, method: &Method, rest: &[&str], form: &Form) -> Option<Response<Body>> {
    let answer = match (method, rest) {
        (&Method::GET, []) => list(desk, Banner::None),
        (&Method::POST, ["create"]) => create(desk, form),
        (&Method::POST, ["prune"]) => prune(desk, form),
        (&Method::POST, [name, "remove"]) if super::is_id(name) => remove(desk, name),
        _ => return None,
    };
    Some(answer)
}

/// `GET /volumes`: the list, after `banner`.
pub fn list(desk: &Desk, banner: Banner) -> Response<Body> {
    let listed = match desk.client.volumes(&Filters::default()) {
        Ok(listed) => listed,
        Err(e) => return desk.failed("Volumes", CURRENT, &e),
    };
    let csrf = desk.access.csrf();
    let mut body = create_form(csrf);
    for warning in &listed.warnings {
        body.push_str(&format!(
            "<p class=\"error warning\">{}</p>",
            escape(warning)
        ));
    }
    let mut volumes = listed.volumes;
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    if volumes.is_empty() {
        body.push_str("<p class=\"muted\" id=\"empty\">No volumes.</p>");
    } else {
        body.push_str(
            "<table id=\"volumes\"><thead><tr><th>Name</th><th>Driver</th><th>Mountpoint</th>\
             <th>Labels</th><th>Created</th><th></th></tr></thead><tbody>",
        );
        for volume in &volumes {
            body.push_str(&row(volume, csrf));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(&prune_form(csrf));
    banner.page("Volumes", CURRENT, &body)
}

/// One volume's row.
fn row(v: &Volume, csrf: &str) -> String {
    format!(
        "<tr data-name=\"{name}\"><td class=\"name\">{name}</td><td class=\"driver\">{driver}</td>\
         <td class=\"mountpoint\"><code>{mountpoint}</code></td><td class=\"labels\">{labels}</td>\
         <td class=\"created\">{created}</td><td class=\"actions\">{remove}</td></tr>",
        name = escape(&v.name),
        driver = escape(&v.driver),
        mountpoint = escape(&v.mountpoint),
        labels = escape(&labels_text(&v.labels)),
        created = escape(&v.created_at),
        remove = button(&format!("/volumes/{}/remove", v.name), "Remove", csrf),
    )
}

/// The form that creates a volume.
fn create_form(csrf: &str) -> String {
    format!(
        "<fieldset><legend>Create a volume</legend>\
         <form method=\"post\" action=\"/volumes/create\" id=\"volume-create\">{}\
         <label>Name <input type=\"text\" name=\"name\" id=\"volume-name\" \
         placeholder=\"(a random one)\"></label> \
         <label>Labels <textarea name=\"labels\" id=\"volume-labels\" rows=\"2\" \
         placeholder=\"KEY=value, one a line\"></textarea></label> \
         <button type=\"submit\" id=\"volume-submit\">Create</button></form></fieldset>",
        csrf_field(csrf)
    )
}

/// The prune button, with the choice `volume prune --all` gives.
fn prune_form(csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/volumes/prune\" id=\"volume-prune\">{}\
         <button type=\"submit\">Prune unused volumes</button> \
         <label><input type=\"checkbox\" name=\"all\" value=\"1\"> named ones too \
         (else only anonymous ones)</label></form>",
        csrf_field(csrf)
    )
}

/// `POST /volumes/create`: a `local` volume named `name` (or a random
/// name) with `labels`.
fn create(desk: &Desk, form: &Form) -> Response<Body> {
    let body = VolumeCreateBody {
        name: form.text("name").unwrap_or_default().to_string(),
        driver: String::new(),
        driver_opts: Default::default(),
        labels: key_values(form.get("labels").unwrap_or_default()),
    };
    match desk.client.volume_create(&body) {
        Ok(_) => redirect(CURRENT),
        Err(e) => {
            let what = match form.text("name") {
                Some(name) => format!("Create volume {name}"),
                None => "Create a volume".to_string(),
            };
            list(desk, Banner::failed(&what, &e))
        }
    }
}

/// `POST /volumes/{name}/remove`; a volume in use is the daemon's 409.
fn remove(desk: &Desk, name: &str) -> Response<Body> {
    match desk.client.volume_remove(name, false) {
        Ok(()) => redirect(CURRENT),
        Err(e) => list(desk, Banner::failed(&format!("Remove volume {name}"), &e)),
    }
}

/// `POST /volumes/prune`: the unused anonymous volumes, or every unused
/// one when `all` is ticked; the page says which went and what it freed.
fn prune(desk: &Desk, form: &Form) -> Response<Body> {
    let mut filters = Filters::default();
    if form.get("all").is_some() {
        filters.terms.insert("all".into(), vec!["true".into()]);
    }
    match desk.client.volumes_prune(&filters) {
        Ok(pruned) => {
            let names = pruned.volumes_deleted.unwrap_or_default();
            let deleted = if names.is_empty() {
                "No volume was unused".to_string()
            } else {
                format!("Deleted volumes: {}", names.join(", "))
            };
            let text = format!(
                "{deleted}; reclaimed {}",
                human_size(pruned.space_reclaimed)
            );
            list(desk, Banner::Notice(text))
        }
        Err(e) => list(desk, Banner::failed("Prune volumes", &e)),
    }
}
