//! `network create|ls|inspect|rm|prune|connect|disconnect` and `port`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use minidock_daemon::types::*;
use serde_json::Value;

use super::list::parse_filters;
use super::Context;
use crate::cli::*;
use crate::error::{describe, Failure};
use crate::format::{shown_id, Table};
use crate::listing::{render, Format, Row};
use crate::template::Template;

/// Runs a `network` subcommand.
pub fn network(ctx: &Context, command: NetworkCommand) -> Result<i32, Failure> {
    match command {
        NetworkCommand::Create(args) => create(ctx, args),
        NetworkCommand::Ls(args) => ls(ctx, args),
        NetworkCommand::Inspect(args) => inspect(ctx, args),
        NetworkCommand::Rm(args) => rm(ctx, args),
        NetworkCommand::Prune(args) => prune(ctx, args),
        NetworkCommand::Connect(args) => connect(ctx, args),
        NetworkCommand::Disconnect(args) => disconnect(ctx, args),
    }
}

fn key_values(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect()
}

fn create(ctx: &Context, args: NetworkCreateArgs) -> Result<i32, Failure> {
    let config: Vec<IpamConfig> = match &args.subnet {
        Some(subnet) => vec![IpamConfig {
            subnet: subnet.clone(),
            gateway: args.gateway.clone().unwrap_or_default(),
            ip_range: args.ip_range.clone().unwrap_or_default(),
        }],
        None if args.gateway.is_some() || args.ip_range.is_some() => {
            return Err(Failure::usage("--gateway and --ip-range need a --subnet"))
        }
        None => Vec::new(),
    };
    let created = ctx.client.network_create(&NetworkCreateRequest {
        name: args.name,
        driver: args.driver,
        internal: args.internal,
        attachable: args.attachable,
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            options: BTreeMap::new(),
            config,
        },
        options: key_values(&args.opt),
        labels: key_values(&args.label),
    })?;
    println!("{}", created.id);
    Ok(0)
}

fn ls(ctx: &Context, args: NetworkLsArgs) -> Result<i32, Failure> {
    let filters = parse_filters(&args.filter)?;
    let networks = ctx.client.networks(&filters)?;
    if args.quiet {
        for n in &networks {
            println!("{}", shown_id(&n.id, args.no_trunc));
        }
        return Ok(0);
    }
    let row = |n: &NetworkResource| -> Row {
        let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Row::from([
            ("ID", shown_id(&n.id, args.no_trunc).to_string()),
            ("Name", n.name.clone()),
            ("Driver", n.driver.clone()),
            ("Scope", n.scope.clone()),
            ("IPv6", n.enable_ipv6.to_string()),
            ("Internal", n.internal.to_string()),
            ("Labels", labels.join(",")),
            ("CreatedAt", n.created.clone()),
        ])
    };
    let format = Format::parse(args.format.as_deref())?;
    if let Format::Default = format {
        let mut table = Table::new(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"]);
        for n in &networks {
            let r = row(n);
            table.row(vec![
                r["ID"].clone(),
                r["Name"].clone(),
                r["Driver"].clone(),
                r["Scope"].clone(),
            ]);
        }
        print!("{}", table.render());
        return Ok(0);
    }
    let headers = Row::from([
        ("ID", "NETWORK ID".to_string()),
        ("Name", "NAME".to_string()),
        ("Driver", "DRIVER".to_string()),
        ("Scope", "SCOPE".to_string()),
        ("IPv6", "IPV6".to_string()),
        ("Internal", "INTERNAL".to_string()),
        ("Labels", "LABELS".to_string()),
        ("CreatedAt", "CREATED AT".to_string()),
    ]);
    let rows: Vec<Row> = networks.iter().map(row).collect();
    print!("{}", render(&format, &headers, &rows)?);
    Ok(0)
}

fn inspect(ctx: &Context, args: NetworkInspectArgs) -> Result<i32, Failure> {
    let template = match &args.format {
        Some(text) => {
            Some(Template::parse(text).map_err(|e| Failure::new(e.to_string()).with_code(64))?)
        }
        None => None,
    };
    let mut found = Vec::new();
    let mut failed = false;
    for name in &args.networks {
        match ctx.client.network_inspect(name) {
            Ok(n) => found.push(serde_json::to_value(n).unwrap_or(Value::Null)),
            Err(e) => {
                failed = true;
                eprintln!("{}", describe(&e));
            }
        }
    }
    match template {
        Some(template) => {
            for value in &found {
                let text = template
                    .execute(value)
                    .map_err(|e| Failure::new(e.to_string()))?;
                println!("{text}");
            }
        }
        None => println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(found)).unwrap_or_default()
        ),
    }
    Ok(i32::from(failed))
}

fn rm(ctx: &Context, args: NetworkRmArgs) -> Result<i32, Failure> {
    let mut failed = false;
    for name in &args.networks {
        match ctx.client.network_remove(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                failed = true;
                eprintln!("{}", describe(&e));
            }
        }
    }
    Ok(i32::from(failed))
}

fn prune(ctx: &Context, args: PruneArgs) -> Result<i32, Failure> {
    let filters = parse_filters(&args.filter)?;
    if !args.force {
        print!(
            "WARNING! This will remove all custom networks not used by at least one container.\n\
             Are you sure you want to continue? [y/N] "
        );
        std::io::stdout().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).ok();
        if !answer.trim_start().starts_with(['y', 'Y']) {
            return Ok(0);
        }
    }
    let pruned = ctx.client.networks_prune(&filters)?;
    if !pruned.networks_deleted.is_empty() {
        println!("Deleted Networks:");
        for name in pruned.networks_deleted {
            println!("{name}");
        }
    }
    Ok(0)
}

fn connect(ctx: &Context, args: NetworkConnectArgs) -> Result<i32, Failure> {
    ctx.client.network_connect(
        &args.network,
        &NetworkConnectRequest {
            container: args.container,
            endpoint_config: Some(EndpointSettings {
                ipam_config: args.ip.map(|ip| EndpointIpamConfig { ipv4_address: ip }),
                aliases: args.alias,
                ..EndpointSettings::default()
            }),
        },
    )?;
    Ok(0)
}

fn disconnect(ctx: &Context, args: NetworkDisconnectArgs) -> Result<i32, Failure> {
    ctx.client.network_disconnect(
        &args.network,
        &NetworkDisconnectRequest {
            container: args.container,
            force: args.force,
        },
    )?;
    Ok(0)
}

/// `minidock port CONTAINER [PORT[/PROTO]]`: the published ports, as
/// `80/tcp -> 0.0.0.0:8080` (or only `0.0.0.0:8080` for one port).
pub fn port(ctx: &Context, args: PortArgs) -> Result<i32, Failure> {
    let inspect = ctx.client.container_inspect(&args.container)?;
    let wanted = args.port.as_ref().map(|p| {
        if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        }
    });
    let mut printed = false;
    for (key, bindings) in &inspect.network_settings.ports {
        if wanted.as_ref().is_some_and(|w| w != key) {
            continue;
        }
        for b in bindings.as_array().into_iter().flatten() {
            let ip = b["HostIp"].as_str().unwrap_or("");
            let port = b["HostPort"].as_str().unwrap_or("");
            printed = true;
            if wanted.is_some() {
                println!("{ip}:{port}");
            } else {
                println!("{key} -> {ip}:{port}");
            }
        }
    }
    if !printed {
        if let Some(w) = wanted {
            return Err(Failure::new(format!(
                "Error: No public port '{w}' published for {}",
                args.container
            )));
        }
    }
    Ok(0)
}

/// One `-p` value as Docker's `PortBindings` entries: container port key →
/// host bindings. `[IP:][HOST:]CONTAINER[/PROTO]`; a container range
/// (`8000-8001`) maps to an equal host range port by port, or every port
/// of it to one host range.
pub fn parse_publish(spec: &str) -> Result<Vec<(String, Value)>, Failure> {
    let bad = |why: &str| Failure::usage(format!("invalid port specification \"{spec}\": {why}"));
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) if p == "tcp" || p == "udp" => (r, p),
        Some(_) => return Err(bad("the protocol must be tcp or udp")),
        None => (spec, "tcp"),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => return Err(bad("expected [IP:][HOST_PORT:]CONTAINER_PORT")),
    };
    let range = |text: &str| -> Result<Vec<u16>, Failure> {
        let one = |t: &str| {
            t.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("not a port number"))
        };
        match text.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (one(a)?, one(b)?);
                if a > b {
                    return Err(bad("an empty range"));
                }
                Ok((a..=b).collect())
            }
            None => Ok(vec![one(text)?]),
        }
    };
    let containers = range(container)?;
    let hosts = if host.is_empty() {
        Vec::new()
    } else {
        range(host)?
    };
    let binding = |port: String| serde_json::json!({"HostIp": ip, "HostPort": port});
    Ok(containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let host_port = match hosts.len() {
                0 => String::new(),
                n if n == containers.len() => hosts[i].to_string(),
                _ => host.to_string(),
            };
            (format!("{c}/{proto}"), binding(host_port))
        })
        .collect())
}

/// Fills the network part of a create request from `run`/`create` flags.
pub fn fill_network_fields(
    opts: &ContainerOptions,
    body: &mut ContainerCreateBody,
) -> Result<(), Failure> {
    let net = &opts.net;
    let mut bindings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for spec in &net.publish {
        for (key, binding) in parse_publish(spec)? {
            bindings.entry(key).or_default().push(binding);
        }
    }
    let mut exposed: BTreeMap<String, Value> = bindings
        .keys()
        .map(|k| (k.clone(), serde_json::json!({})))
        .collect();
    for e in &net.expose {
        let key = if e.contains('/') {
            e.clone()
        } else {
            format!("{e}/tcp")
        };
        exposed.insert(key, serde_json::json!({}));
    }
    let host = &mut body.host_config.other;
    let config = &mut body.config.other;
    if !bindings.is_empty() {
        host.insert(
            "PortBindings".into(),
            serde_json::to_value(&bindings).unwrap_or_default(),
        );
    }
    if !exposed.is_empty() {
        config.insert(
            "ExposedPorts".into(),
            Value::Object(exposed.into_iter().collect()),
        );
    }
    if net.publish_all {
        host.insert("PublishAllPorts".into(), Value::Bool(true));
    }
    for (key, list) in [
        ("Dns", &net.dns),
        ("DnsSearch", &net.dns_search),
        ("DnsOptions", &net.dns_option),
        ("ExtraHosts", &net.add_host),
        ("Links", &net.link),
    ] {
        if !list.is_empty() {
            host.insert(key.into(), serde_json::to_value(list).unwrap_or_default());
        }
    }
    if let Some(domain) = &net.domainname {
        body.config.domainname = Some(domain.clone());
    }
    if net.ip.is_some() || !net.network_alias.is_empty() || net.mac_address.is_some() {
        let network = opts.network.clone().unwrap_or_else(|| "bridge".to_string());
        let endpoint = EndpointSettings {
            ipam_config: net
                .ip
                .clone()
                .map(|ip| EndpointIpamConfig { ipv4_address: ip }),
            aliases: net.network_alias.clone(),
            mac_address: net.mac_address.clone().unwrap_or_default(),
            ..EndpointSettings::default()
        };
        config.insert(
            "NetworkingConfig".into(),
            serde_json::json!({"EndpointsConfig": {network: endpoint}}),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs_read_as_docker_reads_them() {
        let one = |s| parse_publish(s).unwrap();
        assert_eq!(
            one("80"),
            vec![(
                "80/tcp".into(),
                serde_json::json!({"HostIp": "", "HostPort": ""})
            )]
        );
        assert_eq!(
            one("127.0.0.1:8080:80/udp"),
            vec![(
                "80/udp".into(),
                serde_json::json!({"HostIp": "127.0.0.1", "HostPort": "8080"})
            )]
        );
        assert_eq!(one("127.0.0.1::80")[0].1["HostPort"], "");
        let range = one("8000-8001:80-81");
        assert_eq!(
            range[1],
            (
                "81/tcp".into(),
                serde_json::json!({"HostIp": "", "HostPort": "8001"})
            )
        );
        assert_eq!(one("8000-8010:80")[0].1["HostPort"], "8000-8010");
        assert!(parse_publish("80/sctp").is_err());
        assert!(parse_publish("a:b:c:d").is_err());
    }
}
