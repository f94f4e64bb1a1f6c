//! `volume create/ls/inspect/rm/prune`, `system df`, and the mount flags of
//! `run`/`create` (`-v`, `--mount`, `--tmpfs`, `--volumes-from`), checked
//! here with chapter 07's parser before they travel to the daemon.

use minidock_daemon::types::{ContainerCreateBody, VolumeCreateBody};
use minidock_volumes::mountspec::{self, MountSpec, Source};
use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::inspect::pretty;
use super::list::parse_filters;
use super::prune::confirmed;
use super::{for_each, Context};
use crate::cli_volume::VolumeCommand;
use crate::error::Failure;
use crate::format::{human_size, Table};
use crate::template::Template;

/// `key=value` pairs (`--label a=b`, `-o type=tmpfs`).
fn pairs(given: &[String], what: &str) -> Result<BTreeMap<String, String>, Failure> {
    given
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None if what == "label" => Ok((p.clone(), String::new())),
            None => Err(Failure::usage(format!(
                "invalid {what} {p:?}: expected key=value"
            ))),
        })
        .collect()
}

/// Runs a `volume` command.
pub fn volume(ctx: &Context, command: VolumeCommand) -> Result<i32, Failure> {
    match command {
        VolumeCommand::Create(args) => {
            let created = ctx.client.volume_create(&VolumeCreateBody {
                name: args.name.unwrap_or_default(),
                driver: args.driver,
                driver_opts: pairs(&args.opt, "option")?,
                labels: pairs(&args.label, "label")?,
            })?;
            println!("{}", created.name);
            Ok(0)
        }
        VolumeCommand::Ls(args) => {
            let list = ctx.client.volumes(&parse_filters(&args.filter)?)?;
            for warning in &list.warnings {
                eprintln!("WARNING: {warning}");
            }
            if args.quiet {
                for v in &list.volumes {
                    println!("{}", v.name);
                }
            } else {
                let mut table = Table::new(&["DRIVER", "VOLUME NAME"]);
                for v in &list.volumes {
                    table.row(vec![v.driver.clone(), v.name.clone()]);
                }
                print!("{}", table.render());
            }
            Ok(0)
        }
        VolumeCommand::Inspect(args) => {
            let template = match &args.format {
                Some(text) => Some(
                    Template::parse(text).map_err(|e| Failure::new(e.to_string()).with_code(64))?,
                ),
                None => None,
            };
            let mut found = Vec::new();
            let code = for_each(&args.names, |name| {
                let volume = ctx.client.volume_inspect(name)?;
                found.push(serde_json::to_value(volume).unwrap_or(Value::Null));
                Ok(None)
            })?;
            match template {
                Some(template) => {
                    for value in &found {
                        let text = template
                            .execute(value)
                            .map_err(|e| Failure::new(e.to_string()))?;
                        println!("{text}");
                    }
                }
                None => println!("{}", pretty(&Value::Array(found))),
            }
            Ok(code)
        }
        VolumeCommand::Rm(args) => for_each(&args.names, |name| {
            ctx.client.volume_remove(name, args.force)?;
            Ok(Some(name.to_string()))
        }),
        VolumeCommand::Prune(args) => {
            let mut filters = parse_filters(&args.filter)?;
            let warning = if args.all {
                filters.terms.insert("all".into(), vec!["true".into()]);
                "WARNING! This will remove all local volumes not used by at least one container."
            } else {
                "WARNING! This will remove anonymous local volumes not used by at least one container."
            };
            if !args.force && !confirmed(warning)? {
                return Ok(0);
            }
            let pruned = ctx.client.volumes_prune(&filters)?;
            if let Some(names) = pruned.volumes_deleted.filter(|n| !n.is_empty()) {
                println!("Deleted Volumes:");
                for name in names {
                    println!("{name}");
                }
                println!();
            }
            println!(
                "Total reclaimed space: {}",
                human_size(pruned.space_reclaimed)
            );
            Ok(0)
        }
    }
}

/// `minidock system df`: what images, containers and volumes take.
pub fn system_df(ctx: &Context) -> Result<i32, Failure> {
    let df = ctx.client.system_df()?;
    let mut table = Table::new(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    let percent = |part: i64, whole: i64| {
        if whole > 0 {
            format!(" ({}%)", part * 100 / whole)
        } else {
            String::new()
        }
    };
    let images_size: i64 = df.layers_size;
    let unused: i64 = df
        .images
        .iter()
        .filter(|i| i.containers == 0)
        .map(|i| i.size.max(0))
        .sum();
    table.row(vec![
        "Images".into(),
        df.images.len().to_string(),
        df.images
            .iter()
            .filter(|i| i.containers > 0)
            .count()
            .to_string(),
        human_size(images_size.max(0) as u64),
        format!(
            "{}{}",
            human_size(unused.max(0) as u64),
            percent(unused, images_size)
        ),
    ]);
    let sizes: i64 = df.containers.iter().map(|c| c.size_rw.unwrap_or(0)).sum();
    let stopped: i64 = df
        .containers
        .iter()
        .filter(|c| c.state != "running")
        .map(|c| c.size_rw.unwrap_or(0))
        .sum();
    table.row(vec![
        "Containers".into(),
        df.containers.len().to_string(),
        df.containers
            .iter()
            .filter(|c| c.state == "running")
            .count()
            .to_string(),
        human_size(sizes.max(0) as u64),
        format!(
            "{}{}",
            human_size(stopped.max(0) as u64),
            percent(stopped, sizes)
        ),
    ]);
    let usage = |v: &minidock_daemon::types::Volume| v.usage_data.clone().unwrap_or_default();
    let total: i64 = df.volumes.iter().map(|v| usage(v).size.max(0)).sum();
    let idle: i64 = df
        .volumes
        .iter()
        .filter(|v| usage(v).ref_count == 0)
        .map(|v| usage(v).size.max(0))
        .sum();
    table.row(vec![
        "Local Volumes".into(),
        df.volumes.len().to_string(),
        df.volumes
            .iter()
            .filter(|v| usage(v).ref_count > 0)
            .count()
            .to_string(),
        human_size(total as u64),
        format!("{}{}", human_size(idle as u64), percent(idle, total)),
    ]);
    // As the docker CLI counts it: what is neither in use nor shared with
    // a kept image is reclaimable.
    let cache = &df.build_cache;
    let cache_size: i64 = cache.iter().map(|c| c.size.max(0)).sum();
    let cache_free: i64 = cache
        .iter()
        .filter(|c| !c.in_use && !c.shared)
        .map(|c| c.size.max(0))
        .sum();
    table.row(vec![
        "Build Cache".into(),
        cache.len().to_string(),
        cache.iter().filter(|c| c.in_use).count().to_string(),
        human_size(cache_size as u64),
        human_size(cache_free as u64),
    ]);
    print!("{}", table.render());
    Ok(0)
}

/// An API `Mount` object for a checked `--mount` flag, as the docker CLI
/// sends it.
fn api_mount(spec: &MountSpec) -> Value {
    let target = spec.destination.display().to_string();
    match &spec.source {
        Source::Volume(name) => json!({
            "Type": "volume", "Source": name.clone().unwrap_or_default(), "Target": target,
            "ReadOnly": spec.read_only, "VolumeOptions": {"NoCopy": spec.nocopy},
        }),
        Source::Bind(path) => json!({
            "Type": "bind", "Source": path.display().to_string(), "Target": target,
            "ReadOnly": spec.read_only,
        }),
        Source::Tmpfs(t) => json!({
            "Type": "tmpfs", "Target": target, "ReadOnly": spec.read_only,
            "TmpfsOptions": {"SizeBytes": t.size.unwrap_or(0), "Mode": t.mode.unwrap_or(0)},
        }),
    }
}

/// Puts the mount flags of `run`/`create` into a create body, each checked
/// first: `-v /path` becomes `Config.Volumes`, other `-v` `Binds`,
/// `--mount` `Mounts`, `--tmpfs` `Tmpfs`, `--volumes-from` `VolumesFrom`.
pub fn add_mounts(
    body: &mut ContainerCreateBody,
    volume: &[String],
    mount: &[String],
    tmpfs: &[String],
    volumes_from: &[String],
) -> Result<(), Failure> {
    let usage = |e: minidock_volumes::Error| Failure::usage(e.to_string());
    let mut binds = Vec::new();
    let mut anonymous = BTreeMap::new();
    for v in volume {
        let spec = mountspec::parse_volume(v).map_err(usage)?;
        if spec.source == Source::Volume(None) {
            anonymous.insert(v.split(':').next().unwrap_or(v).to_string(), json!({}));
        } else {
            binds.push(v.clone());
        }
    }
    let mounts = mount
        .iter()
        .map(|m| mountspec::parse_mount(m).map(|spec| api_mount(&spec)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let mut tmpfs_map = BTreeMap::new();
    for t in tmpfs {
        mountspec::parse_tmpfs(t).map_err(usage)?;
        let (dest, options) = t.split_once(':').unwrap_or((t, ""));
        tmpfs_map.insert(dest.to_string(), options.to_string());
    }
    let h = &mut body.host_config;
    h.binds = (!binds.is_empty()).then_some(binds);
    h.mounts = (!mounts.is_empty()).then_some(mounts);
    h.tmpfs = (!tmpfs_map.is_empty()).then_some(tmpfs_map);
    h.volumes_from = (!volumes_from.is_empty()).then(|| volumes_from.to_vec());
    body.config.volumes = (!anonymous.is_empty()).then_some(anonymous);
    Ok(())
}
