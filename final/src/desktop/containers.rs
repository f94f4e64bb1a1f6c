//! The containers page: every container with its state, image, ports and
//! what it uses (CPU, memory), a button per life step (start, stop,
//! restart, pause, unpause, remove), and a form that runs a new one.
//!
//! Each button is a small form that POSTs to `/containers/{id}/{action}`;
//! the answer is a redirect back to the list (Post/Redirect/Get), so a
//! reload never repeats an action, and the pages work without JavaScript.

use super::html::{button, escape, page};
use super::web::{html, redirect, Form};
use super::Desk;
use crate::commands::{cpu_percent, memory_used};
use crate::format::human_size;
use hyper::{Response, StatusCode};
use minidock_client::ClientError;
use minidock_daemon::server::Body;
use minidock_daemon::service::ListOptions;
use minidock_daemon::types::{ContainerConfig, ContainerCreateBody, ContainerSummary, Port};

/// The life steps a button can ask for, as the path's last segment.
pub const ACTIONS: &[&str] = &["start", "stop", "restart", "pause", "unpause", "remove"];

/// `GET /`: the list, with `error` in a banner when an action failed.
pub fn list(desk: &Desk, error: Option<(StatusCode, String)>) -> Response<Body> {
    let options = ListOptions {
        all: true,
        ..Default::default()
    };
    let containers = match desk.client.containers(&options) {
        Ok(list) => list,
        Err(e) => return desk.failed("Containers", "/", &e),
    };
    let mut body = run_form(desk.access.csrf());
    if containers.is_empty() {
        body.push_str("<p class=\"muted\" id=\"empty\">No containers yet.</p>");
    } else {
        body.push_str(
            "<table id=\"containers\"><thead><tr><th>Name</th><th>Image</th><th>State</th>\
             <th>Status</th><th>Ports</th><th>CPU</th><th>Memory</th><th></th></tr></thead><tbody>",
        );
        for c in &containers {
            body.push_str(&row(desk, c));
        }
        body.push_str("</tbody></table>");
    }
    let (status, message) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    html(status, page("Containers", "/", message.as_deref(), &body))
}

/// The name without Docker's leading slash.
pub fn name_of(c: &ContainerSummary) -> &str {
    c.names
        .first()
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or(&c.id)
}

/// One row: what the container is and the buttons that fit its state.
fn row(desk: &Desk, c: &ContainerSummary) -> String {
    let name = name_of(c);
    let (cpu, memory) = if c.state == "running" {
        usage(desk, &c.id)
    } else {
        (String::new(), String::new())
    };
    let mut out = String::new();
    out.push_str(&format!(
        "<tr data-name=\"{name}\" data-id=\"{id}\"><td class=\"name\">{name}</td>\
         <td class=\"image\">{image}</td><td class=\"state state-{state}\">{state_text}</td>\
         <td class=\"status\">{status}</td><td class=\"ports\">{ports}</td>\
         <td class=\"num cpu\">{cpu}</td><td class=\"num memory\">{memory}</td><td class=\"actions\">",
        name = escape(name),
        id = escape(&c.id),
        image = escape(&c.image),
        state = escape(&c.state),
        state_text = escape(&title_case(&c.state)),
        status = escape(&c.status),
        ports = escape(&ports(&c.ports)),
    ));
    let fits: &[&str] = match c.state.as_str() {
        "running" => &["stop", "restart", "pause"],
        "paused" => &["unpause"],
        "restarting" => &["stop"],
        _ => &["start", "remove"],
    };
    for action in fits {
        out.push_str(&button(
            &format!("/containers/{}/{action}", c.id),
            &title_case(action),
            desk.access.csrf(),
        ));
    }
    if c.state == "running" {
        let exec = format!("/containers/{}/exec", escape(&c.id));
        out.push_str(&format!("<a href=\"{exec}\" class=\"exec\">Exec</a> "));
    }
    out.push_str(&format!(
        "<a href=\"/containers/{id}/logs\">Logs</a> <a href=\"/containers/{id}/inside\">Inside</a>\
         </td></tr>",
        id = escape(&c.id)
    ));
    out
}

/// `running` → `Running`.
fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Ports as `docker ps` shows them: `0.0.0.0:8080->80/tcp, 443/tcp`.
fn ports(ports: &[Port]) -> String {
    ports
        .iter()
        .map(|p| match (&p.ip, p.public_port) {
            (Some(ip), Some(public)) => format!("{ip}:{public}->{}/{}", p.private_port, p.kind),
            (None, Some(public)) => format!("{public}->{}/{}", p.private_port, p.kind),
            _ => format!("{}/{}", p.private_port, p.kind),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU and memory of a running container. One sample is read per page
/// load; the CPU percentage is taken between this sample and the one the
/// previous load read (the first load has none, and shows a dash).
fn usage(desk: &Desk, id: &str) -> (String, String) {
    let Ok(mut sample) = desk.client.container_stats(id) else {
        return ("—".into(), "—".into());
    };
    let previous = desk
        .cpu
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(id.to_string(), sample.cpu_stats.clone());
    let cpu = match previous {
        Some(previous) => {
            sample.precpu_stats = previous;
            format!("{:.1}%", cpu_percent(&sample))
        }
        None => "—".into(),
    };
    (cpu, human_size(memory_used(&sample)))
}

/// The form that runs a new container (create, then start).
fn run_form(csrf: &str) -> String {
    format!(
        "<fieldset><legend>Run a container</legend>\
         <form method=\"post\" action=\"/containers/run\" id=\"run\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>Image <input type=\"text\" name=\"image\" id=\"run-image\" placeholder=\"busybox\" required></label> \
         <label>Name <input type=\"text\" name=\"name\" id=\"run-name\" placeholder=\"(optional)\"></label> \
         <label>Command <input type=\"text\" name=\"cmd\" id=\"run-cmd\" placeholder=\"(the image's)\"></label> \
         <button type=\"submit\" id=\"run-submit\">Run</button></form></fieldset>",
        escape(csrf)
    )
}

// ANCHOR: run
/// `POST /containers/run`: creates a container of `image` (named `name`,
/// running `cmd` split into words as a shell would, when given) and
/// starts it.
pub fn run(desk: &Desk, form: &Form) -> Response<Body> {
    let Some(image) = form.text("image") else {
        return list(
            desk,
            Some((StatusCode::BAD_REQUEST, "Run: name an image".into())),
        );
    };
    let cmd = match form.text("cmd").map(shlex::split) {
        None => None,
        Some(Some(words)) => Some(words),
        Some(None) => {
            let why = "Run: the command has an unclosed quote or a trailing backslash";
            return list(desk, Some((StatusCode::BAD_REQUEST, why.into())));
        }
    };
    let body = ContainerCreateBody {
        config: ContainerConfig {
            image: image.to_string(),
            cmd,
            ..Default::default()
        },
        ..Default::default()
    };
    let started = desk
        .client
        .container_create(form.text("name"), &body)
        .and_then(|created| desk.client.container_start(&created.id));
    match started {
        Ok(_) => redirect("/"),
        Err(e) => list(desk, Some(failure(&format!("Run {image}"), &e))),
    }
}
// ANCHOR_END: run

/// `POST /containers/{id}/{action}`: one life step, then back to the list.
pub fn act(desk: &Desk, id: &str, action: &str) -> Response<Body> {
    let client = &desk.client;
    let done = match action {
        "start" => client.container_start(id).map(|_| ()),
        "stop" => client.container_stop(id, None, None).map(|_| ()),
        "restart" => client.container_restart(id, None),
        "pause" => client.container_pause(id),
        "unpause" => client.container_unpause(id),
        "remove" => client.container_remove(id, false),
        _ => unreachable!("the router passes only ACTIONS"),
    };
    match done {
        Ok(()) => redirect("/"),
        Err(e) => list(desk, Some(failure(&title_case(action), &e))),
    }
}

/// The status and banner text of a failed call.
pub fn failure(what: &str, error: &ClientError) -> (StatusCode, String) {
    let status = match error {
        ClientError::Api { status, .. } => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
        }
        ClientError::Connect { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    (status, format!("{what}: {}", crate::error::describe(error)))
}
