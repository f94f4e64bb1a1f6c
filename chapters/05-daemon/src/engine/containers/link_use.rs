//! Legacy links (`--link`) in a container's life: checked at create,
//! turned into `/etc/hosts` lines and variables at each start, shown by
//! inspect. The rules are compat ([`crate::compat::links`]); this is where
//! the container service gathers what they need: the targets, whether
//! they run, and their addresses from the network service.

use super::index::{Entry, Inner};
use crate::compat::links::{self, LinkMode};
use crate::compat::types::ContainerCreateBody;
use crate::error::ApiResult;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// What a start gets from the container's links.
#[derive(Debug, Default)]
pub(super) struct LinkStart {
    /// `HostConfig.ExtraHosts` entries (`NAMES:IP`) for `/etc/hosts`.
    pub extra_hosts: Vec<String>,
    /// The link variables (see [`links::link_env`]).
    pub env: Vec<String>,
}

fn mode_of(request: &ContainerCreateBody) -> String {
    request.host_config.network_mode.clone().unwrap_or_default()
}

// ANCHOR: link_use
impl Inner {
    /// At create, as dockerd's: the links parse, the network mode allows
    /// them, and on the default bridge each target exists and is not on
    /// the host's network. On a user-defined network a link is only an
    /// alias, and its target need not exist yet.
    pub(super) fn check_links(&self, request: &ContainerCreateBody) -> ApiResult<()> {
        let specs = links::links_of(&request.host_config.other);
        if specs.is_empty() {
            return Ok(());
        }
        let parsed = links::parse_links(&specs)?;
        if let LinkMode::UserDefined(_) = links::link_mode(&mode_of(request))? {
            return Ok(());
        }
        for link in parsed {
            let target = self
                .resolve(&link.name)
                .map_err(|e| links::no_such_target(&link.name, e.message()))?;
            let target_mode = target.request.as_ref().map(mode_of).unwrap_or_default();
            if target_mode == "host" {
                return Err(links::conflict_host());
            }
        }
        Ok(())
    }

    /// Before a start: the hosts lines and variables of the container's
    /// links on the default bridge, from its targets as they are now: each
    /// must run and be on `bridge` (a removed one is dropped, as dockerd
    /// drops the link with it). On a user-defined network the network
    /// service reads the links itself: each alias is a name of its target
    /// there, for this container alone (DNS and `/etc/hosts`).
    pub(super) fn link_start(&self, entry: &Entry) -> ApiResult<LinkStart> {
        self.linked(entry, true)
    }

    /// The links' hosts lines and variables; `strict`: a target that does
    /// not run, or is not on `bridge`, is an error (else it is left out).
    fn linked(&self, entry: &Entry, strict: bool) -> ApiResult<LinkStart> {
        let mut out = LinkStart::default();
        let (Some(request), Some(networks)) = (&entry.request, &self.networks) else {
            return Ok(out);
        };
        let specs = links::links_of(&request.host_config.other);
        if specs.is_empty() || links::link_mode(&mode_of(request))? != LinkMode::DefaultBridge {
            return Ok(out);
        }
        let parent = entry.container().name.clone();
        for link in links::parse_links(&specs)? {
            let Ok(target) = self.resolve(&link.name) else {
                continue;
            };
            let container = target.container();
            let running = self
                .runtime
                .containers()
                .state(&target.id)
                .is_ok_and(|r| r.state.is_alive());
            let ip = networks
                .settings(target.id.as_str())
                .map(|s| s.ip_address)
                .filter(|ip| !ip.is_empty());
            let ip = match (running, ip) {
                (true, Some(ip)) => ip,
                _ if !strict => continue,
                (false, _) => {
                    return Err(links::not_running(&container.name, &parent, &link.alias))
                }
                (true, None) => return Err(links::not_on_bridge(&container.name)),
            };
            let names = links::host_names(&link.alias, &container.config.hostname, &container.name);
            out.extra_hosts.push(format!("{names}:{ip}"));
            let exposed: Vec<String> = target
                .request
                .as_ref()
                .and_then(|r| r.config.other.get("ExposedPorts"))
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            out.env.extend(links::link_env(
                &parent,
                &link.alias,
                &ip,
                &exposed,
                &container.config.env,
            ));
        }
        Ok(out)
    }

    /// After `entry` started: each running container that links to it on
    /// the default bridge gets its hosts line rewritten (the address may
    /// have changed), as dockerd updates the files of a target's parents.
    /// Their variables stay what they were at their own start, as in
    /// Docker.
    pub(super) fn refresh_link_parents(&self, entry: &Entry) {
        let Some(networks) = &self.networks else {
            return;
        };
        for parent in self.all() {
            let Some(request) = &parent.request else {
                continue;
            };
            let specs = links::links_of(&request.host_config.other);
            let links_here = links::parse_links(&specs)
                .unwrap_or_default()
                .iter()
                .any(|l| self.resolve(&l.name).is_ok_and(|t| t.id == entry.id));
            let running = || {
                self.runtime
                    .containers()
                    .state(&parent.id)
                    .is_ok_and(|r| r.state.is_alive())
            };
            if parent.id == entry.id || !links_here || !running() {
                continue;
            }
            let Ok(linked) = self.linked(&parent, false) else {
                continue;
            };
            let mut hosts = links::strings_of(&request.host_config.other, "ExtraHosts");
            hosts.extend(linked.extra_hosts);
            if let Err(err) = networks.update_extra_hosts(parent.id.as_str(), &hosts) {
                eprintln!(
                    "minidockd: rewriting the hosts file of {} after a restart of {}: {err}",
                    parent.id.short(),
                    entry.id.short()
                );
            }
        }
    }

    // ANCHOR_END: link_use
    /// The names links give containers, which dockerd lists among a
    /// target's `Names` in `docker ps` (`/keep/db`; the docker CLI shows
    /// them with `--no-trunc`): each target's id, and the names.
    pub(super) fn link_names(&self, entries: &[Arc<Entry>]) -> HashMap<String, Vec<String>> {
        let mut names: HashMap<String, Vec<String>> = HashMap::new();
        for parent in entries {
            let Some(request) = &parent.request else {
                continue;
            };
            let specs = links::links_of(&request.host_config.other);
            let bridge = matches!(
                links::link_mode(&mode_of(request)),
                Ok(LinkMode::DefaultBridge)
            );
            if specs.is_empty() || !bridge {
                continue;
            }
            let parent_name = parent.container().name.clone();
            for link in links::parse_links(&specs).unwrap_or_default() {
                if let Ok(target) = self.resolve(&link.name) {
                    names
                        .entry(target.id.to_string())
                        .or_default()
                        .push(format!("/{parent_name}/{}", link.alias));
                }
            }
        }
        names
    }

    /// Inspect's `HostConfig.Links`, as dockerd shows it: on the default
    /// bridge `/target:/container/alias` for each target that still
    /// exists (by its name now); elsewhere none (`null`).
    pub(super) fn shown_links(&self, entry: &Entry) -> Value {
        let Some(request) = &entry.request else {
            return Value::Null;
        };
        let specs = links::links_of(&request.host_config.other);
        let bridge = matches!(
            links::link_mode(&mode_of(request)),
            Ok(LinkMode::DefaultBridge)
        );
        if specs.is_empty() || !bridge {
            return Value::Null;
        }
        let parent = entry.container().name.clone();
        let shown: Vec<Value> = links::parse_links(&specs)
            .unwrap_or_default()
            .iter()
            .filter_map(|link| {
                let target = self.resolve(&link.name).ok()?;
                let name = target.container().name.clone();
                Some(Value::String(links::shown(&name, &parent, &link.alias)))
            })
            .collect();
        if shown.is_empty() {
            Value::Null
        } else {
            Value::Array(shown)
        }
    }
}

/// `request` with the links' hosts lines added to its `ExtraHosts` (after
/// the user's, as dockerd writes them).
pub(super) fn with_extra_hosts(
    request: &ContainerCreateBody,
    extra: &[String],
) -> ContainerCreateBody {
    let mut request = request.clone();
    let hosts = request
        .host_config
        .other
        .entry("ExtraHosts".to_string())
        .or_insert(Value::Null);
    let mut list: Vec<Value> = hosts.as_array().cloned().unwrap_or_default();
    list.extend(extra.iter().cloned().map(Value::String));
    *hosts = Value::Array(list);
    request
}
