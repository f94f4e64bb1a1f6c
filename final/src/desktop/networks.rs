//! The networks page: every network with its id, driver, subnet, gateway
//! and the containers on it (with their addresses); a form that creates a
//! bridge network, with a subnet of your choice or one from the daemon's
//! pools; remove; prune.
//!
//! A network is named in a URL by its id (hex digits).

use super::forms::{csrf_field, Banner};
use super::html::{button, escape};
use super::web::{redirect, Form};
use super::Desk;
use crate::format::short_id;
use hyper::{Method, Response};
use minidock_daemon::query::Filters;
use minidock_daemon::server::Body;
use minidock_daemon::types::{Ipam, IpamConfig, NetworkCreateRequest, NetworkResource};

/// The navigation entry of this page.
const CURRENT: &str = "/networks";

/// The networks every daemon has, which cannot be removed.
const PREDEFINED: &[&str] = &["bridge", "host", "none"];

/// The pages under `/networks`; `None` for a path that is none of them.
pub fn route(desk: &Desk, method: &Method, rest: &[&str], form: &Form) -> Option<Response<Body>> {
    let answer = match (method, rest) {
        (&Method::GET, []) => list(desk, Banner::None),
        (&Method::POST, ["create"]) => create(desk, form),
        (&Method::POST, ["prune"]) => prune(desk),
        (&Method::POST, [id, "remove"]) if super::is_id(id) => remove(desk, id),
        _ => return None,
    };
    Some(answer)
}

/// `GET /networks`: the list, after `banner`.
pub fn list(desk: &Desk, banner: Banner) -> Response<Body> {
    let mut networks = match desk.client.networks(&Filters::default()) {
        Ok(networks) => networks,
        Err(e) => return desk.failed("Networks", CURRENT, &e),
    };
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    let csrf = desk.access.csrf();
    let mut body = create_form(csrf);
    body.push_str(
        "<table id=\"networks\"><thead><tr><th>Name</th><th>Network ID</th><th>Driver</th>\
         <th>Subnet</th><th>Gateway</th><th>Containers</th><th></th></tr></thead><tbody>",
    );
    for network in &networks {
        body.push_str(&row(network, csrf));
    }
    body.push_str("</tbody></table>");
    body.push_str(&format!(
        "<div class=\"prune\">{}</div>",
        button("/networks/prune", "Prune unused networks", csrf)
    ));
    banner.page("Networks", CURRENT, &body)
}

/// One network's row.
fn row(n: &NetworkResource, csrf: &str) -> String {
    let subnets: Vec<&str> = n.ipam.config.iter().map(|c| c.subnet.as_str()).collect();
    let gateways: Vec<&str> = n
        .ipam
        .config
        .iter()
        .map(|c| c.gateway.as_str())
        .filter(|g| !g.is_empty())
        .collect();
    let mut containers: Vec<String> = n
        .containers
        .values()
        .map(|c| match c.ipv4_address.as_str() {
            "" => c.name.clone(),
            address => format!("{} ({address})", c.name),
        })
        .collect();
    containers.sort();
    let remove = if PREDEFINED.contains(&n.name.as_str()) {
        String::new()
    } else {
        button(&format!("/networks/{}/remove", n.id), "Remove", csrf)
    };
    format!(
        "<tr data-name=\"{name}\" data-id=\"{id}\"><td class=\"name\">{name}</td>\
         <td class=\"id\"><code>{short}</code></td><td class=\"driver\">{driver}</td>\
         <td class=\"subnet\">{subnet}</td><td class=\"gateway\">{gateway}</td>\
         <td class=\"containers\">{containers}</td><td class=\"actions\">{remove}</td></tr>",
        name = escape(&n.name),
        id = escape(&n.id),
        short = escape(short_id(&n.id)),
        driver = escape(&n.driver),
        subnet = escape(&subnets.join(", ")),
        gateway = escape(&gateways.join(", ")),
        containers = escape(&containers.join(", ")),
    )
}

/// The form that creates a bridge network.
fn create_form(csrf: &str) -> String {
    format!(
        "<fieldset><legend>Create a network</legend>\
         <form method=\"post\" action=\"/networks/create\" id=\"network-create\">{}\
         <label>Name <input type=\"text\" name=\"name\" id=\"network-name\" required></label> \
         <label>Subnet <input type=\"text\" name=\"subnet\" id=\"network-subnet\" \
         placeholder=\"(from the pools)\"></label> \
         <label>Gateway <input type=\"text\" name=\"gateway\" id=\"network-gateway\" \
         placeholder=\"(the subnet's first)\"></label> \
         <label><input type=\"checkbox\" name=\"internal\" value=\"1\"> internal \
         (no way out)</label> \
         <button type=\"submit\" id=\"network-submit\">Create</button></form></fieldset>",
        csrf_field(csrf)
    )
}

/// `POST /networks/create`: a bridge network `name`, on `subnet` (with
/// `gateway`) when given, as `network create --subnet --gateway` does.
fn create(desk: &Desk, form: &Form) -> Response<Body> {
    let Some(name) = form.text("name") else {
        return list(desk, Banner::bad("Create a network: give it a name"));
    };
    let what = format!("Create network {name}");
    let config = match (form.text("subnet"), form.text("gateway")) {
        (Some(subnet), gateway) => vec![IpamConfig {
            subnet: subnet.to_string(),
            gateway: gateway.unwrap_or_default().to_string(),
            ip_range: String::new(),
        }],
        (None, Some(_)) => {
            return list(
                desk,
                Banner::bad(format!("{what}: a gateway needs a subnet")),
            );
        }
        (None, None) => Vec::new(),
    };
    let request = NetworkCreateRequest {
        name: name.to_string(),
        driver: "bridge".into(),
        internal: form.get("internal").is_some(),
        ipam: Ipam {
            driver: "default".into(),
            config,
            ..Default::default()
        },
        ..Default::default()
    };
    match desk.client.network_create(&request) {
        Ok(_) => redirect(CURRENT),
        Err(e) => list(desk, Banner::failed(&what, &e)),
    }
}

/// `POST /networks/{id}/remove`; a network with containers on it is the
/// daemon's refusal, shown as it says it.
fn remove(desk: &Desk, id: &str) -> Response<Body> {
    match desk.client.network_remove(id) {
        Ok(()) => redirect(CURRENT),
        Err(e) => list(
            desk,
            Banner::failed(&format!("Remove network {}", short_id(id)), &e),
        ),
    }
}

/// `POST /networks/prune`: the networks no container uses.
fn prune(desk: &Desk) -> Response<Body> {
    match desk.client.networks_prune(&Filters::default()) {
        Ok(pruned) => {
            let text = if pruned.networks_deleted.is_empty() {
                "No network was unused".to_string()
            } else {
                format!("Deleted networks: {}", pruned.networks_deleted.join(", "))
            };
            list(desk, Banner::Notice(text))
        }
        Err(e) => list(desk, Banner::failed("Prune networks", &e)),
    }
}
