//! "What is happening": one container seen through the book's three ideas.
//!
//! - **Namespaces** (chapter 1): the namespaces its main process is in, read
//!   from `/proc/PID/ns/*` next to the dashboard's own (`/proc/self/ns/*`,
//!   the host's when the dashboard runs on the host): a different inode is
//!   a namespace of its own.
//! - **Layers** (chapter 2): its image's layers (diff ids, bottom first)
//!   and where they lie on the host, the upper directory that holds its
//!   changes, the merged directory that is its `/`.
//! - **cgroups** (chapter 3): the limits it was given (memory, CPU,
//!   processes), those its cgroup enforces, and what it uses now.
//!
//! Everything comes from the daemon (inspect, stats, image inspect,
//! changes) but the namespaces, which only the host's `/proc` shows: when
//! the daemon is on another machine, or the process cannot be read, the
//! page says so instead of failing.

use super::html::{escape, page};
use super::web::html;
use super::Desk;
use crate::commands::memory_used;
use crate::format::bytes_size;
use hyper::{Response, StatusCode};
use minidock_client::Endpoint;
use minidock_daemon::server::Body;
use minidock_daemon::types::{ContainerInspect, ContainerStats, HostConfig};
use std::path::Path;

/// The namespaces `/proc/PID/ns` shows, in the order chapter 1 meets them.
pub const NAMESPACES: &[&str] = &["pid", "mnt", "uts", "ipc", "net", "user", "cgroup", "time"];

/// `GET /containers/{id}/inside`.
pub fn page_of(desk: &Desk, id: &str) -> Response<Body> {
    let c = match desk.client.container_inspect(id) {
        Ok(c) => c,
        Err(e) => return desk.failed("Inside a container", "/", &e),
    };
    let name = c.name.trim_start_matches('/').to_string();
    let title = format!("Inside {name}");
    let running = c.state.running && c.state.pid > 0;
    let stats = running
        .then(|| desk.client.container_stats(&c.id).ok())
        .flatten();
    let mut body = format!(
        "<p><a href=\"/\">← Containers</a> · <a href=\"/containers/{id}/logs\">Logs</a></p>\
         <p id=\"summary\">State <strong class=\"state state-{state}\">{state}</strong> · \
         main process <strong id=\"pid\">{pid}</strong> on the host · image <code>{image}</code></p>",
        id = escape(&c.id),
        state = escape(&c.state.status),
        pid = if running {
            c.state.pid.to_string()
        } else {
            "none".into()
        },
        image = escape(&c.config.image),
    );
    body.push_str(&namespaces(desk.client.endpoint(), &c, running));
    body.push_str(&cgroups(&c.host_config, stats.as_ref(), running, &c));
    body.push_str(&layers(desk, &c));
    html(StatusCode::OK, page(&title, "/", None, &body))
}

/// The namespaces section (chapter 1).
fn namespaces(endpoint: &Endpoint, c: &ContainerInspect, running: bool) -> String {
    let mut out = String::from(
        "<h2>Namespaces</h2><p class=\"muted\">Chapter 1, “a container is an isolated \
         process”: each namespace a process is in is a kernel object with an inode number. A \
         number that differs from the host's is a namespace of the container's own.</p>",
    );
    let why_not = if let Endpoint::Tcp { addr, .. } = endpoint {
        Some(format!(
            "The daemon is at tcp://{addr}: its process ids are another machine's, so this \
             machine's /proc cannot show the container's namespaces."
        ))
    } else if !running {
        Some("The container is not running: no process, so no namespaces to show.".into())
    } else {
        None
    };
    if let Some(why) = why_not {
        out.push_str(&format!(
            "<p class=\"muted\" id=\"ns-unavailable\">{}</p>",
            escape(&why)
        ));
        return out;
    }
    let proc_dir = format!("/proc/{}", c.state.pid);
    if !in_cgroup_of(Path::new(&proc_dir), &c.id) {
        out.push_str(&format!(
            "<p class=\"error\" id=\"ns-unsure\">Process {} on this machine is not in a cgroup \
             named after the container: the daemon may see other process ids than the \
             dashboard (another PID namespace), so what follows may be another process's.</p>",
            c.state.pid
        ));
    }
    out.push_str(
        "<table id=\"namespaces\"><thead><tr><th>Namespace</th><th>Container</th>\
         <th>Host (this dashboard)</th><th></th></tr></thead><tbody>",
    );
    for kind in NAMESPACES {
        let inside = namespace_inode(Path::new(&proc_dir), kind);
        let host = namespace_inode(Path::new("/proc/self"), kind);
        let verdict = match (&inside, &host) {
            (Ok(a), Ok(b)) if a == b => "shared with the host",
            (Ok(_), Ok(_)) => "its own",
            _ => "",
        };
        let shown = |r: &std::io::Result<u64>| match r {
            Ok(inode) => inode.to_string(),
            Err(e) => format!("cannot read: {e}"),
        };
        out.push_str(&format!(
            "<tr data-ns=\"{kind}\"><td>{kind}</td><td class=\"inside\">{}</td>\
             <td class=\"host\">{}</td><td class=\"verdict\">{verdict}</td></tr>",
            escape(&shown(&inside)),
            escape(&shown(&host)),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The inode of the namespace `kind` that the process of `proc_dir` is
/// in: the link `/proc/PID/ns/pid` reads `pid:[4026531836]`.
pub fn namespace_inode(proc_dir: &Path, kind: &str) -> std::io::Result<u64> {
    let link = std::fs::read_link(proc_dir.join("ns").join(kind))?;
    let text = link.to_string_lossy();
    text.rsplit_once('[')
        .and_then(|(_, rest)| rest.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unexpected link {text:?}"),
            )
        })
}

/// Whether the process of `proc_dir` is in a cgroup whose path names the
/// container (as the runtime names them): a check that the daemon's PID is
/// this machine's.
fn in_cgroup_of(proc_dir: &Path, id: &str) -> bool {
    std::fs::read_to_string(proc_dir.join("cgroup")).is_ok_and(|text| text.contains(id))
}

/// The cgroup section (chapter 3): what was asked for, what the cgroup
/// enforces and what is used, from inspect and one stats sample.
fn cgroups(
    host: &HostConfig,
    stats: Option<&ContainerStats>,
    running: bool,
    c: &ContainerInspect,
) -> String {
    let mut out = String::from(
        "<h2>cgroup limits and usage</h2><p class=\"muted\">Chapter 3, “containers with \
         state”: the container's processes are in a cgroup of their own, which counts what they \
         use and holds them to the limits given at <code>run</code>.</p>\
         <table id=\"cgroup\"><thead><tr><th>Resource</th><th>Asked for</th>\
         <th>Enforced</th><th>Used now</th></tr></thead><tbody>",
    );
    let bytes = |n: u64| format!("<span data-bytes=\"{n}\">{}</span>", bytes_size(n));
    let none = || "<span class=\"muted\">no limit</span>".to_string();
    let unknown = || "<span class=\"muted\">—</span>".to_string();
    // memory
    let asked = match u64::try_from(host.memory) {
        Ok(n) if n > 0 => bytes(n),
        _ => none(),
    };
    let (enforced, used) = match stats {
        Some(s) => (bytes(s.memory_stats.limit), bytes(memory_used(s))),
        None => (unknown(), unknown()),
    };
    out.push_str(&format!(
        "<tr data-cgroup=\"memory\"><td>memory</td><td class=\"asked\">{asked}</td>\
         <td class=\"enforced\">{enforced}</td><td class=\"used\">{used}</td></tr>"
    ));
    // processes
    let asked = match host.pids_limit {
        Some(n) if n > 0 => n.to_string(),
        _ => none(),
    };
    let (enforced, used) = match stats {
        Some(s) => (
            s.pids_stats.limit.map_or_else(none, |n| n.to_string()),
            s.pids_stats.current.to_string(),
        ),
        None => (unknown(), unknown()),
    };
    out.push_str(&format!(
        "<tr data-cgroup=\"pids\"><td>processes</td><td class=\"asked\">{asked}</td>\
         <td class=\"enforced\">{enforced}</td><td class=\"used\">{used}</td></tr>"
    ));
    // cpu
    let asked = cpu_asked(host);
    let used = match stats {
        Some(s) => format!(
            "{:.2} s of CPU time",
            s.cpu_stats.cpu_usage.total_usage as f64 / 1e9
        ),
        None => unknown(),
    };
    // The daemon's stats do not report the CPU controller's settings.
    out.push_str(&format!(
        "<tr data-cgroup=\"cpu\"><td>CPU</td><td class=\"asked\">{}</td>\
         <td class=\"enforced\">{}</td><td class=\"used\">{used}</td></tr>",
        escape(&asked),
        unknown(),
    ));
    out.push_str("</tbody></table>");
    if !running {
        out.push_str("<p class=\"muted\">Not running: no usage to show.</p>");
    } else if let Ok(text) = std::fs::read_to_string(format!("/proc/{}/cgroup", c.state.pid)) {
        out.push_str(&format!(
            "<p>Its cgroups (<code>/proc/{}/cgroup</code>, under <code>/sys/fs/cgroup</code>):\
             </p><pre id=\"cgroup-paths\">{}</pre>",
            c.state.pid,
            escape(text.trim_end())
        ));
    }
    out
}

/// The CPU limits as words: `1.5 CPUs`, a quota per period, a weight.
fn cpu_asked(host: &HostConfig) -> String {
    let mut parts = Vec::new();
    if host.nano_cpus > 0 {
        parts.push(format!("{} CPUs", host.nano_cpus as f64 / 1e9));
    }
    if host.cpu_quota > 0 {
        let period = if host.cpu_period > 0 {
            host.cpu_period
        } else {
            100_000
        };
        parts.push(format!("{} µs every {period} µs", host.cpu_quota));
    }
    if host.cpu_shares > 0 {
        parts.push(format!("weight {}", host.cpu_shares));
    }
    if !host.cpuset_cpus.is_empty() {
        parts.push(format!("on CPUs {}", host.cpuset_cpus));
    }
    if parts.is_empty() {
        "no limit".into()
    } else {
        parts.join(", ")
    }
}

/// The layers section (chapter 2).
fn layers(desk: &Desk, c: &ContainerInspect) -> String {
    let mut out = String::from(
        "<h2>Layers and the upper directory</h2><p class=\"muted\">Chapter 2, “layered, \
         content-addressed images”: the image's layers are stacked read-only under an overlay, \
         the container's changes go to its upper directory, and the merged directory is its \
         <code>/</code>.</p>",
    );
    let data = &c.graph_driver.data;
    // LowerDir lists the layers top first; the table goes bottom first.
    let mut lower: Vec<&str> = data
        .get("LowerDir")
        .map(|l| l.split(':').filter(|d| !d.is_empty()).collect())
        .unwrap_or_default();
    lower.reverse();
    match desk.client.image_inspect(&c.image) {
        Ok(image) => {
            out.push_str(
                "<table id=\"layers\"><thead><tr><th>#</th><th>Layer (diff id)</th>\
                 <th>On the host</th></tr></thead><tbody>",
            );
            for (i, diff_id) in image.root_fs.layers.iter().enumerate() {
                out.push_str(&format!(
                    "<tr class=\"layer\"><td>{}</td><td><code>{}</code></td><td><code>{}</code>\
                     </td></tr>",
                    i + 1,
                    escape(diff_id),
                    escape(lower.get(i).copied().unwrap_or("")),
                ));
            }
            out.push_str("</tbody></table>");
        }
        Err(e) => out.push_str(&format!(
            "<p class=\"muted\">The image's layers cannot be shown: {}</p>",
            escape(&crate::error::describe(&e))
        )),
    }
    out.push_str("<dl id=\"dirs\">");
    for (key, what) in [
        ("UpperDir", "Upper directory (its changes)"),
        ("WorkDir", "Work directory (overlayfs' scratch space)"),
        ("MergedDir", "Merged directory (its /)"),
    ] {
        let dir = data.get(key).map(String::as_str).unwrap_or("not reported");
        out.push_str(&format!(
            "<dt>{what}</dt><dd><code data-dir=\"{key}\">{}</code></dd>",
            escape(dir)
        ));
    }
    out.push_str("</dl>");
    if let Ok(changes) = desk.client.container_changes(&c.id) {
        out.push_str(&format!(
            "<p id=\"changes\">The upper directory holds {} change(s) against the image \
             (<code>minidock diff</code>).</p>",
            changes.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespaces_are_readable() {
        let me = Path::new("/proc/self");
        let pid = namespace_inode(me, "pid").expect("/proc/self/ns/pid");
        assert!(pid > 0);
        assert!(namespace_inode(me, "no-such-namespace").is_err());
    }

    #[test]
    fn cpu_limits_read_as_words() {
        let mut host = HostConfig::default();
        assert_eq!(cpu_asked(&host), "no limit");
        host.nano_cpus = 1_500_000_000;
        host.cpu_shares = 512;
        assert_eq!(cpu_asked(&host), "1.5 CPUs, weight 512");
    }
}
