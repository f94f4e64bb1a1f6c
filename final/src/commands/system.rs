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
