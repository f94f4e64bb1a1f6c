//! The files a container reads to find names: `/etc/hosts`,
//! `/etc/resolv.conf`, `/etc/hostname`.
//!
//! Docker writes these three per container, outside the image, and
//! bind-mounts them over the image's own: the image stays untouched, and
//! the engine may rewrite them while the container runs (a peer joined the
//! network). They are rewritten *in place* — truncated and written, never
//! replaced by a rename — because a bind mount holds the file's inode: a
//! new file at the same path would not be seen inside.

use crate::error::{Error, Result};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;

/// One line of `/etc/hosts`: an address and its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// The address.
    pub ip: String,
    /// Its names, the canonical one first.
    pub names: Vec<String>,
}

// ANCHOR: hosts
/// The text of a container's `/etc/hosts`: localhost, then the container
/// itself under its hostname, then `extra` (`--add-host`, peers).
pub fn hosts_file(own: Option<(Ipv4Addr, &[String])>, extra: &[HostEntry]) -> String {
    // exercise 6.5 hosts-file: write Docker's /etc/hosts: localhost lines, the container's own line, then the extra entries.
    // hint: Docker's file starts with "127.0.0.1\tlocalhost" and the IPv6 localhost lines (::1, fe00::0, ff00::0, ff02::1, ff02::2)
    // hint: one line per address: the address, a tab, the names separated by spaces
    // hint: the container's own address comes after localhost, then every extra entry in order
    let mut text = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    let mut line = |ip: &str, names: &[String]| {
        text.push_str(ip);
        text.push('\t');
        text.push_str(&names.join(" "));
        text.push('\n');
    };
    if let Some((ip, names)) = own {
        line(&ip.to_string(), names);
    }
    for entry in extra {
        line(&entry.ip, &entry.names);
    }
    text
    // end exercise
}
// ANCHOR_END: hosts

/// Parses `--add-host NAME:IP` (Docker also takes `NAME=IP`); `host-gateway`
/// stands for `gateway`.
pub fn parse_extra_host(spec: &str, gateway: Option<Ipv4Addr>) -> Result<HostEntry> {
    let (name, ip) = spec
        .split_once('=')
        .or_else(|| spec.split_once(':'))
        .ok_or_else(|| Error::Invalid(format!("invalid extra host {spec:?}: expected NAME:IP")))?;
    let ip = match (ip, gateway) {
        ("host-gateway", Some(g)) => g.to_string(),
        ("host-gateway", None) => {
            return Err(Error::Invalid(format!(
                "extra host {spec:?}: host-gateway needs a bridge network"
            )))
        }
        (ip, _) => {
            ip.parse::<std::net::IpAddr>().map_err(|_| {
                Error::Invalid(format!("invalid IP address in extra host {spec:?}"))
            })?;
            ip.to_string()
        }
    };
    if name.is_empty() {
        return Err(Error::Invalid(format!("extra host {spec:?} has no name")));
    }
    Ok(HostEntry {
        ip,
        names: vec![name.to_string()],
    })
}

// ANCHOR: resolv_conf
/// The text of `/etc/resolv.conf`: `--dns` servers (else the host's),
/// `--dns-search`, `--dns-option`. The host's own file is the fallback,
/// less any `127.*` server: inside the container that would be the
/// container itself.
pub fn resolv_conf(
    host_file: &str,
    servers: &[String],
    search: &[String],
    options: &[String],
) -> String {
    let mut text = String::new();
    let host_servers: Vec<&str> = host_file
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .filter(|s| !s.starts_with("127.") && *s != "::1")
        .collect();
    if servers.is_empty() {
        for s in host_servers {
            text.push_str(&format!("nameserver {s}\n"));
        }
    } else {
        for s in servers {
            text.push_str(&format!("nameserver {s}\n"));
        }
    }
    let host_line = |key: &str| {
        host_file
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .map(|l| l.trim().to_string())
    };
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    } else if let Some(line) = host_line("search") {
        text.push_str(&line);
        text.push('\n');
    }
    if !options.is_empty() {
        text.push_str(&format!("options {}\n", options.join(" ")));
    }
    text
}
// ANCHOR_END: resolv_conf

// ANCHOR: write_in_place
/// Writes `text` into `path` in place (see the module's note), creating
/// it if needed, mode 0644.
pub fn write_in_place(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)
        .map_err(Error::io("write", path))?;
    file.write_all(text.as_bytes())
        .map_err(Error::io("write", path))
}
// ANCHOR_END: write_in_place
