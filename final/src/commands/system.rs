//! `version` and `info`: what the client is, and what the daemon says about
//! itself, laid out as `docker version` and `docker info` do.

use minidock_daemon::types::{SystemInfo, SystemVersion};
use minidock_daemon::version::API_VERSION;

use super::Context;
use crate::error::{describe, Failure};
use crate::format::bytes_size;

/// The `Client:` section of `version`.
fn client_section() -> String {
    format!(
        "Client:\n Version:           {}\n API version:       {API_VERSION}\n OS/Arch:           linux/{}\n",
        env!("CARGO_PKG_VERSION"),
        go_arch(std::env::consts::ARCH),
    )
}

/// Rust's architecture names in Go's spelling, which Docker prints.
fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// The `Server:` section of `version`.
pub fn server_section(v: &SystemVersion) -> String {
    let name = if v.platform.name.is_empty() {
        "minidock"
    } else {
        &v.platform.name
    };
    format!(
        "Server: {name}\n Engine:\n  Version:          {}\n  API version:      {} (minimum version {})\n  Go version:       {}\n  Git commit:       {}\n  Built:            {}\n  OS/Arch:          {}/{}\n  Kernel Version:   {}\n  Experimental:     {}\n",
        v.version,
        v.api_version,
        v.min_api_version,
        v.go_version,
        v.git_commit,
        v.build_time,
        v.os,
        v.arch,
        v.kernel_version,
        v.experimental,
    )
}

/// `minidock version`: the client's part always, the daemon's when it
/// answers.
pub fn version(ctx: &Context) -> Result<i32, Failure> {
    print!("{}", client_section());
    let server = ctx
        .client
        .version()
        .map_err(|e| Failure::new(describe(&e)))?;
    println!();
    print!("{}", server_section(&server));
    Ok(0)
}

/// The `Server:` part of `docker info`.
pub fn info_text(i: &SystemInfo) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line("Server:".into());
    line(format!(" Containers: {}", i.containers));
    line(format!("  Running: {}", i.containers_running));
    line(format!("  Paused: {}", i.containers_paused));
    line(format!("  Stopped: {}", i.containers_stopped));
    line(format!(" Images: {}", i.images));
    line(format!(" Server Version: {}", i.server_version));
    line(format!(" Storage Driver: {}", i.driver));
    for [key, value] in &i.driver_status {
        line(format!("  {key}: {value}"));
    }
    line(format!(" Logging Driver: {}", i.logging_driver));
    line(format!(" Cgroup Driver: {}", i.cgroup_driver));
    line(format!(" Cgroup Version: {}", i.cgroup_version));
    line(format!(" Live Restore Enabled: {}", i.live_restore_enabled));
    line(format!(" Default Runtime: {}", i.default_runtime));
    if !i.security_options.is_empty() {
        line(" Security Options:".into());
        for option in &i.security_options {
            line(format!("  {}", option.trim_start_matches("name=")));
        }
    }
    line(format!(" Kernel Version: {}", i.kernel_version));
    line(format!(" Operating System: {}", i.operating_system));
    line(format!(" OSType: {}", i.os_type));
    line(format!(" Architecture: {}", i.architecture));
    line(format!(" CPUs: {}", i.ncpu));
    line(format!(
        " Total Memory: {}",
        bytes_size(i.mem_total.max(0) as u64)
    ));
    line(format!(" Name: {}", i.name));
    line(format!(" ID: {}", i.id));
    line(format!(" Docker Root Dir: {}", i.docker_root_dir));
    line(format!(" Debug Mode: {}", i.debug));
    line(format!(" Experimental: {}", i.experimental_build));
    // As the docker CLI: insecure registries by name, then by range.
    let registries = &i.registry_config;
    line(" Insecure Registries:".into());
    for index in registries.index_configs.values().filter(|x| !x.secure) {
        line(format!("  {}", index.name));
    }
    for cidr in &registries.insecure_registry_cidrs {
        line(format!("  {cidr}"));
    }
    if !registries.mirrors.is_empty() {
        line(" Registry Mirrors:".into());
        for mirror in &registries.mirrors {
            line(format!("  {mirror}"));
        }
    }
    out
}

/// `minidock info`.
pub fn info(ctx: &Context) -> Result<i32, Failure> {
    println!("Client:\n Version:    {}\n", env!("CARGO_PKG_VERSION"));
    let info = ctx.client.info().map_err(|e| Failure::new(describe(&e)))?;
    print!("{}", info_text(&info));
    for warning in &info.warnings {
        eprintln!("{warning}");
    }
    Ok(0)
}

/// A `--since`/`--until` value as the daemon takes it: a time as given
/// (unix seconds, RFC 3339), or a Go duration (`10m`) before now, which the
/// docker CLI turns into unix seconds the same way.
fn event_time(text: &str, now: std::time::SystemTime) -> Result<String, Failure> {
    if minidock_daemon::time::parse_timestamp(text).is_some() {
        return Ok(text.to_string());
    }
    let duration = minidock_daemon::time::parse_go_duration(text).ok_or_else(|| {
        Failure::usage(format!(
            "invalid time {text:?}: unix seconds, RFC 3339 (2026-11-28T02:31:00Z) or a duration (10m)"
        ))
    })?;
    let at = now.checked_sub(duration).unwrap_or(std::time::UNIX_EPOCH);
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ok(format!(
        "{}.{:09}",
        since_epoch.as_secs(),
        since_epoch.subsec_nanos()
    ))
}

/// One event as `docker events` prints it: time, type, action, id, and the
/// attributes in parentheses, sorted by key.
pub fn event_line(event: &minidock_daemon::types::Event) -> String {
    let time =
        std::time::UNIX_EPOCH + std::time::Duration::from_nanos(event.time_nano.max(0) as u64);
    let attributes: Vec<String> = event
        .actor
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} {} {} {} ({})",
        minidock_daemon::time::rfc3339_fixed(time),
        event.kind,
        event.action,
        event.actor.id,
        attributes.join(", ")
    )
}

/// `minidock events [--since T] [--until T] [--filter k=v] [--format T]`.
pub fn events(ctx: &Context, args: crate::cli::EventsArgs) -> Result<i32, Failure> {
    let now = std::time::SystemTime::now();
    let since = args
        .since
        .as_deref()
        .map(|t| event_time(t, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| event_time(t, now))
        .transpose()?;
    let template = match &args.format {
        Some(text) => Some(
            crate::template::Template::parse(text)
                .map_err(|e| Failure::usage(format!("template parsing error: {e}")))?,
        ),
        None => None,
    };
    let filters = super::list::parse_filters(&args.filter)?;
    let stream = ctx
        .client
        .events(&filters, since.as_deref(), until.as_deref())?;
    let stdout = std::io::stdout();
    for event in stream {
        let event = event?;
        let line = match &template {
            Some(t) => {
                let value = serde_json::to_value(&event)
                    .map_err(|e| Failure::new(format!("event as JSON: {e}")))?;
                t.execute(&value)
                    .map_err(|e| Failure::new(format!("template: {e}")))?
            }
            None => event_line(&event),
        };
        use std::io::Write;
        let mut out = stdout.lock();
        // A closed pipe (`| head`) ends the command quietly.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lists_the_counts() {
        let info = SystemInfo {
            containers: 3,
            containers_running: 1,
            containers_stopped: 2,
            mem_total: 4 * 1024 * 1024 * 1024,
            ..SystemInfo::default()
        };
        let text = info_text(&info);
        assert!(
            text.contains(" Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n"),
            "{text}"
        );
        assert!(text.contains(" Total Memory: 4GiB\n"), "{text}");
        assert_eq!(go_arch("x86_64"), "amd64");
    }
}
