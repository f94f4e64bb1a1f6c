//! Docker's legacy links: `docker run --link db:database`.
//!
//! Before user-defined networks found containers by name, a container
//! *linked* to another to find it: on the default `bridge` network the
//! linking container gets a line in its `/etc/hosts` (`IP  database
//! <db's hostname> db`) and, for each port the target exposes, Docker's
//! link variables (`DATABASE_PORT_80_TCP_ADDR=…`), with the target's own
//! environment as `DATABASE_ENV_…`. Both are computed at each start, from
//! the target as it is then: it must run, and it must be on `bridge`.
//!
//! On a user-defined network dockerd keeps no link: `--link db:database`
//! only makes `database` a name of `db` for the linking container. The
//! functions here are the rules, on plain data; the daemon's container
//! service gathers the data and applies them (`engine/containers`).

use crate::error::ApiError;
use serde_json::Value;

/// One `--link`: the target container's name and the alias the linking
/// container knows it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target, by name or id (without a leading `/`).
    pub name: String,
    /// The alias (the target's name when none was given).
    pub alias: String,
}

/// Reads one `HostConfig.Links` entry as dockerd does: `NAME:ALIAS`,
/// `NAME` (the alias is the name), or the `/NAME:/PARENT/ALIAS` form
/// inspect shows (so that a container's inspected config can be sent
/// back).
pub fn parse_link(spec: &str) -> Result<Link, ApiError> {
    if spec.is_empty() {
        return Err(ApiError::BadParameter(
            "empty string specified for links".into(),
        ));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (name, alias) = match parts.as_slice() {
        [one] => (*one, *one),
        [name, alias] => (*name, *alias),
        _ => {
            return Err(ApiError::BadParameter(format!(
                "bad format for links: {spec}"
            )))
        }
    };
    let alias = if name.starts_with('/') {
        alias.rsplit('/').next().unwrap_or(alias)
    } else {
        alias
    };
    let name = name.trim_start_matches('/');
    if name.is_empty() || alias.is_empty() {
        return Err(ApiError::BadParameter(format!(
            "bad format for links: {spec}"
        )));
    }
    Ok(Link {
        name: name.to_string(),
        alias: alias.to_string(),
    })
}

/// The links of a create request's `HostConfig` (kept in its `other`
/// fields).
pub fn links_of(host_other: &std::collections::BTreeMap<String, Value>) -> Vec<String> {
    strings_of(host_other, "Links")
}

/// A list of strings of a request's `other` fields (`Links`,
/// `ExtraHosts`); none when absent or `null`.
pub fn strings_of(other: &std::collections::BTreeMap<String, Value>, key: &str) -> Vec<String> {
    other
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads every link of a request; the first bad one is the error.
pub fn parse_links(specs: &[String]) -> Result<Vec<Link>, ApiError> {
    specs.iter().map(|s| parse_link(s)).collect()
}

/// Where a container is by its `NetworkMode`, as links see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkMode {
    /// The default `bridge` network: links are Docker's legacy ones.
    DefaultBridge,
    /// A user-defined network (its name or id): a link is an alias.
    UserDefined(String),
    /// `none`: dockerd keeps the links and gives them nothing.
    Nothing,
}

/// How links work for a container of network mode `mode`; `host` and
/// `container:…` have no links (dockerd's two conflicts).
pub fn link_mode(mode: &str) -> Result<LinkMode, ApiError> {
    match mode {
        "" | "default" | "bridge" => Ok(LinkMode::DefaultBridge),
        "none" => Ok(LinkMode::Nothing),
        "host" => Err(conflict_host()),
        m if m.starts_with("container:") => Err(ApiError::BadParameter(
            "conflicting options: container type network can't be used with links. This would \
             result in undefined behavior"
                .into(),
        )),
        name => Ok(LinkMode::UserDefined(name.to_string())),
    }
}

/// dockerd's answer to a link from or to a container on the host's
/// network.
pub fn conflict_host() -> ApiError {
    ApiError::BadParameter(
        "conflicting options: host type networking can't be used with links. This would \
         result in undefined behavior"
            .into(),
    )
}

/// dockerd's answer to a link to a container that does not exist, at
/// create: a 400, not a 404, which the docker CLI would read as a missing
/// image and try to pull.
pub fn no_such_target(name: &str, why: &str) -> ApiError {
    ApiError::BadParameter(format!("could not get container for {name}: {why}"))
}

/// dockerd's answer to a start whose link target does not run.
pub fn not_running(target: &str, parent: &str, alias: &str) -> ApiError {
    ApiError::Internal(format!(
        "Cannot link to a non running container: /{target} AS /{parent}/{alias}"
    ))
}

/// dockerd's answer to a start whose link target is not on `bridge`.
pub fn not_on_bridge(target: &str) -> ApiError {
    ApiError::Internal(format!(
        "Cannot link to /{target}, as it does not belong to the default network"
    ))
}

/// The answer to `docker rm --link /web/database`: minidock keeps a link
/// for as long as the container that made it.
pub fn rm_link_refused(link: &str) -> ApiError {
    ApiError::BadParameter(format!(
        "removing a legacy link (docker rm --link /{link}) is not supported by minidock: a \
         link lasts as long as the container that made it; remove that container and create \
         it again without --link"
    ))
}

/// A link as inspect's `HostConfig.Links` shows it: `/db:/web/database`.
pub fn shown(target: &str, parent: &str, alias: &str) -> String {
    format!("/{target}:/{parent}/{alias}")
}

/// The names of the linking container's `/etc/hosts` line for a target:
/// the alias, the target's hostname, and its name unless that is the
/// alias (Docker's order).
pub fn host_names(alias: &str, hostname: &str, target: &str) -> String {
    let mut names = format!("{alias} {hostname}");
    if alias != target {
        names.push(' ');
        names.push_str(target);
    }
    names
}

/// One exposed port: its number and protocol, from a key such as
/// `80/tcp` (a bare `80` is TCP).
fn port_of(key: &str) -> Option<(u16, String)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto.to_ascii_lowercase()))
}

// ANCHOR: link_env
/// Docker's link variables for a target at `ip`, linked as
/// `/parent/alias`: `ALIAS_PORT` for the first port (TCP ones first, by
/// number), for each exposed port `ALIAS_PORT_80_TCP=tcp://IP:80` with its
/// `_ADDR`, `_PORT` and `_PROTO`, a run of consecutive ports also as
/// `_START`/`_END`, `ALIAS_NAME=/parent/alias`, and the target's
/// environment (less `HOME` and `PATH`) as `ALIAS_ENV_…`.
pub fn link_env(
    parent: &str,
    alias: &str,
    ip: &str,
    exposed: &[String],
    target_env: &[String],
) -> Vec<String> {
    let upper = alias.to_ascii_uppercase().replace('-', "_");
    let mut ports: Vec<(u16, String)> = exposed.iter().filter_map(|k| port_of(k)).collect();
    ports.sort_by(|a, b| (a.1 != "tcp", &a.1, a.0).cmp(&(b.1 != "tcp", &b.1, b.0)));
    ports.dedup();
    let mut env = Vec::new();
    if let Some((port, proto)) = ports.first() {
        env.push(format!("{upper}_PORT={proto}://{ip}:{port}"));
    }
    // A run of consecutive ports of one protocol is also given as a
    // range, said when the run ends (after the port that ends it).
    let (mut start, mut end) = (0, 0);
    for (i, (port, proto)) in ports.iter().enumerate() {
        let prefix = format!("{upper}_PORT_{port}_{}", proto.to_ascii_uppercase());
        env.push(format!("{prefix}={proto}://{ip}:{port}"));
        env.push(format!("{prefix}_ADDR={ip}"));
        env.push(format!("{prefix}_PORT={port}"));
        env.push(format!("{prefix}_PROTO={proto}"));
        let (last, last_proto) = &ports[end];
        if i > 0 && *port == last + 1 && proto == last_proto {
            end = i;
            if i + 1 < ports.len() {
                continue;
            }
        }
        if end != start {
            let ((first, p1), (last, p2)) = (&ports[start], &ports[end]);
            let run = format!("{upper}_PORT_{first}_{}", p1.to_ascii_uppercase());
            env.push(format!("{run}_START={p1}://{ip}:{first}"));
            env.push(format!("{run}_PORT_START={first}"));
            env.push(format!("{run}_END={p2}://{ip}:{last}"));
            env.push(format!("{run}_PORT_END={last}"));
        }
        (start, end) = (i, i);
    }
    env.push(format!("{upper}_NAME=/{parent}/{alias}"));
    for entry in target_env {
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        if key != "HOME" && key != "PATH" {
            env.push(format!("{upper}_ENV_{key}={value}"));
        }
    }
    env
}
// ANCHOR_END: link_env

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_read_in_every_form_dockerd_takes() {
        let l = |name: &str, alias: &str| Link {
            name: name.into(),
            alias: alias.into(),
        };
        assert_eq!(parse_link("db:database").unwrap(), l("db", "database"));
        assert_eq!(parse_link("db").unwrap(), l("db", "db"));
        assert_eq!(
            parse_link("/db:/web/database").unwrap(),
            l("db", "database")
        );
        for bad in ["", "a:b:c", ":x", "db:"] {
            assert!(parse_link(bad).is_err(), "{bad:?}");
        }
        assert_eq!(shown("db", "web", "database"), "/db:/web/database");
    }

    #[test]
    fn the_hosts_line_names_alias_hostname_and_name() {
        assert_eq!(
            host_names("database", "3f4e5a6b7c8d", "db"),
            "database 3f4e5a6b7c8d db"
        );
        assert_eq!(host_names("db", "3f4e5a6b7c8d", "db"), "db 3f4e5a6b7c8d");
    }

    #[test]
    fn modes_decide_what_a_link_is() {
        assert_eq!(link_mode("").unwrap(), LinkMode::DefaultBridge);
        assert_eq!(link_mode("bridge").unwrap(), LinkMode::DefaultBridge);
        assert_eq!(
            link_mode("app").unwrap(),
            LinkMode::UserDefined("app".into())
        );
        assert_eq!(link_mode("none").unwrap(), LinkMode::Nothing);
        assert!(link_mode("host")
            .unwrap_err()
            .to_string()
            .contains("host type"));
        assert!(link_mode("container:x").is_err());
    }

    #[test]
    fn variables_follow_dockers_link_rules() {
        let env = link_env(
            "web",
            "my-db",
            "172.17.0.2",
            &["8080/tcp".into(), "53/udp".into(), "8081".into()],
            &[
                "PATH=/bin".into(),
                "HOME=/root".into(),
                "PASSWORD=x=y".into(),
            ],
        );
        let want = [
            "MY_DB_PORT=tcp://172.17.0.2:8080",
            "MY_DB_PORT_8080_TCP=tcp://172.17.0.2:8080",
            "MY_DB_PORT_8080_TCP_ADDR=172.17.0.2",
            "MY_DB_PORT_8080_TCP_PORT=8080",
            "MY_DB_PORT_8080_TCP_PROTO=tcp",
            "MY_DB_PORT_8081_TCP=tcp://172.17.0.2:8081",
            "MY_DB_PORT_8081_TCP_ADDR=172.17.0.2",
            "MY_DB_PORT_8081_TCP_PORT=8081",
            "MY_DB_PORT_8081_TCP_PROTO=tcp",
            "MY_DB_PORT_53_UDP=udp://172.17.0.2:53",
            "MY_DB_PORT_53_UDP_ADDR=172.17.0.2",
            "MY_DB_PORT_53_UDP_PORT=53",
            "MY_DB_PORT_53_UDP_PROTO=udp",
            "MY_DB_PORT_8080_TCP_START=tcp://172.17.0.2:8080",
            "MY_DB_PORT_8080_TCP_PORT_START=8080",
            "MY_DB_PORT_8080_TCP_END=tcp://172.17.0.2:8081",
            "MY_DB_PORT_8080_TCP_PORT_END=8081",
            "MY_DB_NAME=/web/my-db",
            "MY_DB_ENV_PASSWORD=x=y",
        ];
        assert_eq!(env, want);
        // No exposed port: the name and the environment only.
        assert_eq!(
            link_env("web", "db", "172.17.0.2", &[], &[]),
            ["DB_NAME=/web/db"]
        );
    }
}
