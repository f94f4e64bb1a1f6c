//! The tables: `ps`, `images`, `top`, `stats`.

use std::time::SystemTime;

use minidock_daemon::query::Filters;
use minidock_daemon::service::ListOptions;
use minidock_daemon::types::{ContainerStats, ContainerSummary, ImageSummary};

use super::Context;
use crate::cli::{ImagesArgs, PsArgs, StatsArgs, TopArgs};
use crate::error::Failure;
use crate::format::{
    bytes_size, ellipsis, human_size, human_size_with_precision, short_id, time_ago, Table,
};
use crate::listing::{self, Format, Row};

/// Go's `strconv.Quote`: double quotes, with `"`, `\` and control
/// characters escaped, as `docker ps` prints COMMAND.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `time.Time.String()` of unix seconds in UTC, as `{{.CreatedAt}}`
/// prints: `2026-11-28 02:31:00 +0000 UTC`.
fn go_time(unix: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    let text = minidock_daemon::time::rfc3339(time);
    format!(
        "{} +0000 UTC",
        text.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// The column titles of `ps --format 'table …'`, by field.
pub fn ps_headers() -> Row {
    [
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Ports", "PORTS"),
        ("Status", "STATUS"),
        ("Size", "SIZE"),
        ("Names", "NAMES"),
        ("Labels", "LABELS"),
        ("Mounts", "MOUNTS"),
        ("State", "STATE"),
        ("Networks", "NETWORKS"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// One container as `docker ps` shows it, by field name.
pub fn ps_row(c: &ContainerSummary, no_trunc: bool, now: SystemTime) -> Row {
    let id = if no_trunc {
        c.id.clone()
    } else {
        short_id(&c.id).to_string()
    };
    let image = if c.image.starts_with("sha256:") && !no_trunc {
        short_id(&c.image).to_string()
    } else {
        c.image.clone()
    };
    let command = if no_trunc {
        c.command.clone()
    } else {
        ellipsis(&c.command, 20)
    };
    // Docker hides the names of links (`/other/alias`): only the
    // container's own names, without the leading slash.
    let names: Vec<&str> = c
        .names
        .iter()
        .map(|n| n.strip_prefix('/').unwrap_or(n))
        .filter(|n| !n.contains('/'))
        .collect();
    let ports: Vec<String> = c
        .ports
        .iter()
        .map(|p| match p.public_port {
            Some(public) => format!(
                "{}:{public}->{}/{}",
                p.ip.as_deref().unwrap_or("0.0.0.0"),
                p.private_port,
                p.kind
            ),
            None => format!("{}/{}", p.private_port, p.kind),
        })
        .collect();
    let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mounts: Vec<&str> = c.mounts.iter().map(|m| m.source.as_str()).collect();
    Row::from([
        ("ID", id),
        ("Image", image),
        ("Command", go_quote(&command)),
        ("CreatedAt", go_time(c.created)),
        ("RunningFor", time_ago(c.created, now)),
        ("Ports", ports.join(", ")),
        ("Status", c.status.clone()),
        (
            "Size",
            c.size_rw
                .map(|s| human_size(s.max(0) as u64))
                .unwrap_or_default(),
        ),
        ("Names", names.join(",")),
        ("Labels", labels.join(",")),
        ("Mounts", mounts.join(",")),
        ("State", c.state.clone()),
        ("Networks", c.host_config.network_mode.clone()),
    ])
}

/// The `docker ps` table for these containers, as seen at `now` (with a
/// SIZE column when the sizes were asked for).
pub fn ps_table(containers: &[ContainerSummary], no_trunc: bool, now: SystemTime) -> String {
    let mut columns = vec![
        "ID",
        "Image",
        "Command",
        "RunningFor",
        "Status",
        "Ports",
        "Names",
    ];
    if containers.iter().any(|c| c.size_rw.is_some()) {
        columns.push("Size");
    }
    let headers = ps_headers();
    let titles: Vec<&str> = columns.iter().map(|c| headers[c].as_str()).collect();
    let mut table = Table::new(&titles);
    for c in containers {
        let mut row = ps_row(c, no_trunc, now);
        table.row(
            columns
                .iter()
                .map(|k| row.remove(k).unwrap_or_default())
                .collect(),
        );
    }
    table.render()
}

/// `--filter key=value`, repeated, as the API's filters.
pub fn parse_filters(given: &[String]) -> Result<Filters, Failure> {
    let mut filters = Filters::default();
    for term in given {
        let (key, value) = term.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "bad format of filter (expected name=value): {term:?}"
            ))
        })?;
        filters
            .terms
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    Ok(filters)
}

/// `minidock ps`.
pub fn ps(ctx: &Context, args: PsArgs) -> Result<i32, Failure> {
    let format = Format::parse(args.format.as_deref())?;
    let containers = ctx.client.containers(&ListOptions {
        // -n and -l imply -a, as in Docker
        all: args.all || args.last.is_some() || args.latest,
        limit: if args.latest { Some(1) } else { args.last },
        size: args.size,
        filters: parse_filters(&args.filter)?,
    })?;
    if !matches!(format, Format::Default) && !args.quiet {
        let now = SystemTime::now();
        let rows: Vec<Row> = containers
            .iter()
            .map(|c| ps_row(c, args.no_trunc, now))
            .collect();
        print!("{}", listing::render(&format, &ps_headers(), &rows)?);
    } else if args.quiet {
        for c in &containers {
            println!(
                "{}",
                if args.no_trunc {
                    &c.id
                } else {
                    short_id(&c.id)
                }
            );
        }
    } else {
        print!(
            "{}",
            ps_table(&containers, args.no_trunc, SystemTime::now())
        );
    }
    Ok(0)
}

/// `name:tag` → (`name`, `tag`); the tag is after the last `:` that comes
/// after the last `/` (a registry port is not a tag).
fn split_repo_tag(repo_tag: &str) -> (&str, &str) {
    let slash = repo_tag.rfind('/').map_or(0, |i| i + 1);
    match repo_tag[slash..].rfind(':') {
        Some(i) => (&repo_tag[..slash + i], &repo_tag[slash + i + 1..]),
        None => (repo_tag, "<none>"),
    }
}

/// The column titles of `images --format 'table …'`, by field.
pub fn images_headers() -> Row {
    [
        ("Repository", "REPOSITORY"),
        ("Tag", "TAG"),
        ("ID", "IMAGE ID"),
        ("Digest", "DIGEST"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("Size", "SIZE"),
        ("Containers", "CONTAINERS"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// The rows of `docker images`: one per tag, `<none>` for an untagged
/// image, sizes in units of 1000 with three digits; only the tags of
/// `filter` (`repo` or `repo:tag`) when given.
pub fn images_rows(
    images: &[ImageSummary],
    filter: Option<&str>,
    no_trunc: bool,
    now: SystemTime,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for image in images {
        let id = if no_trunc {
            image.id.clone()
        } else {
            short_id(&image.id).to_string()
        };
        let tags: Vec<(&str, &str)> = if image.repo_tags.is_empty() {
            vec![("<none>", "<none>")]
        } else {
            image.repo_tags.iter().map(|t| split_repo_tag(t)).collect()
        };
        for (repo, tag) in tags {
            if let Some(wanted) = filter {
                let (want_repo, want_tag) = match split_repo_tag(wanted) {
                    (r, "<none>") => (r, None),
                    (r, t) => (r, Some(t)),
                };
                if repo != want_repo || want_tag.is_some_and(|t| t != tag) {
                    continue;
                }
            }
            let digest = image
                .repo_digests
                .iter()
                .find_map(|d| d.split_once('@').map(|(_, digest)| digest.to_string()))
                .unwrap_or_else(|| "<none>".to_string());
            rows.push(Row::from([
                ("Repository", repo.to_string()),
                ("Tag", tag.to_string()),
                ("ID", id.clone()),
                ("Digest", digest),
                ("CreatedSince", time_ago(image.created, now)),
                ("CreatedAt", go_time(image.created)),
                ("Size", human_size_with_precision(image.size as f64, 3)),
                (
                    "Containers",
                    if image.containers < 0 {
                        "N/A".to_string()
                    } else {
                        image.containers.to_string()
                    },
                ),
            ]));
        }
    }
    rows
}

/// The `docker images` table.
pub fn images_table(
    images: &[ImageSummary],
    filter: Option<&str>,
    no_trunc: bool,
    now: SystemTime,
) -> String {
    let columns = ["Repository", "Tag", "ID", "CreatedSince", "Size"];
    let headers = images_headers();
    let titles: Vec<&str> = columns.iter().map(|c| headers[c].as_str()).collect();
    let mut table = Table::new(&titles);
    for mut row in images_rows(images, filter, no_trunc, now) {
        table.row(
            columns
                .iter()
                .map(|k| row.remove(k).unwrap_or_default())
                .collect(),
        );
    }
    table.render()
}

/// `minidock images`.
pub fn images(ctx: &Context, args: ImagesArgs) -> Result<i32, Failure> {
    let format = Format::parse(args.format.as_deref())?;
    let mut images = ctx
        .client
        .images_filtered(false, &parse_filters(&args.filter)?)?;
    // Newest first, as Docker lists them.
    images.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.repo_tags.cmp(&b.repo_tags))
    });
    if !matches!(format, Format::Default) && !args.quiet {
        let rows = images_rows(
            &images,
            args.reference.as_deref(),
            args.no_trunc,
            SystemTime::now(),
        );
        print!("{}", listing::render(&format, &images_headers(), &rows)?);
    } else if args.quiet {
        for image in &images {
            println!(
                "{}",
                if args.no_trunc {
                    &image.id
                } else {
                    short_id(&image.id)
                }
            );
        }
    } else {
        print!(
            "{}",
            images_table(
                &images,
                args.reference.as_deref(),
                args.no_trunc,
                SystemTime::now()
            )
        );
    }
    Ok(0)
}

/// `minidock history`: the image's layers, newest first, as `docker
/// history` prints them.
pub fn history(ctx: &Context, args: crate::cli::HistoryArgs) -> Result<i32, Failure> {
    let items = ctx.client.image_history(&args.image)?;
    let now = SystemTime::now();
    let mut table = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    for item in items {
        let id = if item.id.starts_with("sha256:") && !args.no_trunc {
            short_id(&item.id).to_string()
        } else {
            item.id.clone()
        };
        if args.quiet {
            println!("{id}");
            continue;
        }
        let created_by = if args.no_trunc {
            item.created_by.clone()
        } else {
            ellipsis(&item.created_by, 45)
        };
        table.row(vec![
            id,
            time_ago(item.created, now),
            created_by,
            human_size_with_precision(item.size as f64, 3),
            item.comment.clone(),
        ]);
    }
    if !args.quiet {
        print!("{}", table.render());
    }
    Ok(0)
}

/// `minidock top`: the daemon runs `ps` and sends the table; printed with
/// Docker's wide columns (minimum 20).
pub fn top(ctx: &Context, args: TopArgs) -> Result<i32, Failure> {
    let ps_args = (!args.ps_args.is_empty()).then(|| args.ps_args.join(" "));
    let top = ctx
        .client
        .container_top(&args.container, ps_args.as_deref())?;
    let titles: Vec<&str> = top.titles.iter().map(String::as_str).collect();
    let mut table = Table::with_settings(&titles, 20, 3);
    for process in top.processes {
        table.row(process);
    }
    print!("{}", table.render());
    Ok(0)
}

/// CPU use between the two readings of a sample, in percent of one CPU
/// times the CPUs online (Docker's `calculateCPUPercentUnix`).
pub fn cpu_percent(stats: &ContainerStats) -> f64 {
    let cpu = stats.cpu_stats.cpu_usage.total_usage as f64
        - stats.precpu_stats.cpu_usage.total_usage as f64;
    let system =
        stats.cpu_stats.system_cpu_usage as f64 - stats.precpu_stats.system_cpu_usage as f64;
    let cpus = stats.cpu_stats.online_cpus.max(1) as f64;
    if system > 0.0 && cpu > 0.0 {
        cpu / system * cpus * 100.0
    } else {
        0.0
    }
}

/// Memory in use without the page cache that can be dropped, as Docker
/// counts it (`total_inactive_file` on cgroup v1, `inactive_file` on v2).
pub fn memory_used(stats: &ContainerStats) -> u64 {
    let memory = &stats.memory_stats;
    let cache = memory
        .stats
        .get("total_inactive_file")
        .or_else(|| memory.stats.get("inactive_file"))
        .copied()
        .unwrap_or(0);
    if cache < memory.usage {
        memory.usage - cache
    } else {
        memory.usage
    }
}

/// The `docker stats --no-stream` table.
pub fn stats_table(samples: &[ContainerStats], no_trunc: bool) -> String {
    let mut table = Table::new(&[
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]);
    for s in samples {
        let used = memory_used(s);
        let limit = s.memory_stats.limit;
        let mem_percent = if limit > 0 {
            used as f64 / limit as f64 * 100.0
        } else {
            0.0
        };
        table.row(vec![
            if no_trunc {
                s.id.clone()
            } else {
                short_id(&s.id).to_string()
            },
            s.name.trim_start_matches('/').to_string(),
            format!("{:.2}%", cpu_percent(s)),
            format!("{} / {}", bytes_size(used), bytes_size(limit)),
            format!("{mem_percent:.2}%"),
            {
                let (rx, tx) = s
                    .networks
                    .iter()
                    .flatten()
                    .fold((0u64, 0u64), |(r, t), (_, v)| {
                        (
                            r + v["rx_bytes"].as_u64().unwrap_or(0),
                            t + v["tx_bytes"].as_u64().unwrap_or(0),
                        )
                    });
                format!(
                    "{} / {}",
                    human_size_with_precision(rx as f64, 3),
                    human_size_with_precision(tx as f64, 3)
                )
            },
            format!(
                "{} / {}",
                human_size_with_precision(0.0, 3),
                human_size_with_precision(0.0, 3)
            ),
            s.pids_stats.current.to_string(),
        ]);
    }
    table.render()
}

/// `minidock stats [--no-stream]`: a sample of each container, once or
/// every second.
pub fn stats(ctx: &Context, args: StatsArgs) -> Result<i32, Failure> {
    loop {
        let code = stats_once(ctx, &args)?;
        if args.no_stream {
            return Ok(code);
        }
        // Streaming: redraw the table every second, as `docker stats`
        // does, until interrupted.
        std::thread::sleep(std::time::Duration::from_secs(1));
        print!("\x1b[2J\x1b[H");
    }
}

/// One table of samples; the exit code is 1 if any container failed.
fn stats_once(ctx: &Context, args: &StatsArgs) -> Result<i32, Failure> {
    let names: Vec<String> = if args.containers.is_empty() {
        ctx.client
            .containers(&ListOptions {
                all: args.all,
                limit: None,
                size: false,
                filters: Filters::default(),
            })?
            .into_iter()
            .map(|c| c.id)
            .collect()
    } else {
        args.containers.clone()
    };
    let mut samples = Vec::new();
    let mut failed = false;
    for name in &names {
        match ctx.client.container_stats(name) {
            Ok(sample) => samples.push(sample),
            Err(e) => {
                failed = true;
                eprintln!("{}", crate::error::describe(&e));
            }
        }
    }
    print!("{}", stats_table(&samples, args.no_trunc));
    Ok(i32::from(failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidock_daemon::types::{CpuStats, CpuUsage, MemoryStats, PidsStats};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn commands_are_quoted_like_go() {
        assert_eq!(go_quote("sh"), "\"sh\"");
        assert_eq!(go_quote("sh -c \"echo\\n\""), "\"sh -c \\\"echo\\\\n\\\"\"");
        assert_eq!(go_quote("a\tb\u{1}"), "\"a\\tb\\x01\"");
    }

    #[test]
    fn ps_prints_dockers_columns() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let c = ContainerSummary {
            id: "0123456789abcdef".repeat(4),
            names: vec!["/web".into(), "/other/alias".into()],
            image: "busybox".into(),
            command: "sh -c 'echo hello world'".into(),
            created: 1_000_000 - 3,
            state: "running".into(),
            status: "Up 3 seconds".into(),
            ..ContainerSummary::default()
        };
        let text = ps_table(std::slice::from_ref(&c), false, now);
        assert_eq!(
            text,
            "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n\
             0123456789ab   busybox   \"sh -c 'echo hello w…\"   3 seconds ago   Up 3 seconds             web\n"
        );
        let full = ps_table(&[c], true, now);
        assert!(full.contains(&"0123456789abcdef".repeat(4)));
        assert!(full.contains("\"sh -c 'echo hello world'\""));
    }

    #[test]
    fn images_print_one_row_per_tag() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        let image = ImageSummary {
            id: format!("sha256:{}", "ab".repeat(32)),
            repo_tags: vec![
                "busybox:latest".into(),
                "localhost:5000/tools/busybox:1.36".into(),
            ],
            created: 10_000 - 7200,
            size: 4_261_376,
            ..ImageSummary::default()
        };
        let untagged = ImageSummary {
            id: format!("sha256:{}", "cd".repeat(32)),
            created: 10_000 - 30,
            size: 999,
            ..ImageSummary::default()
        };
        let text = images_table(&[image.clone(), untagged], None, false, now);
        assert_eq!(
            text,
            "REPOSITORY                     TAG       IMAGE ID       CREATED          SIZE\n\
             busybox                        latest    abababababab   2 hours ago      4.26MB\n\
             localhost:5000/tools/busybox   1.36      abababababab   2 hours ago      4.26MB\n\
             <none>                         <none>    cdcdcdcdcdcd   30 seconds ago   999B\n"
        );
        let only = images_table(std::slice::from_ref(&image), Some("busybox"), false, now);
        assert_eq!(only.lines().count(), 2, "{only}");
        let none = images_table(&[image], Some("busybox:1.36"), false, now);
        assert_eq!(none.lines().count(), 1, "{none}");
    }

    #[test]
    fn stats_compute_like_docker() {
        let sample = ContainerStats {
            name: "/web".into(),
            id: "0123456789abcdef".into(),
            cpu_stats: CpuStats {
                cpu_usage: CpuUsage {
                    total_usage: 300,
                    ..CpuUsage::default()
                },
                system_cpu_usage: 2_000,
                online_cpus: 2,
            },
            precpu_stats: CpuStats {
                cpu_usage: CpuUsage {
                    total_usage: 100,
                    ..CpuUsage::default()
                },
                system_cpu_usage: 1_000,
                online_cpus: 2,
            },
            memory_stats: MemoryStats {
                usage: 3 * 1024 * 1024,
                limit: 8 * 1024 * 1024,
                stats: [("total_inactive_file".to_string(), 1024 * 1024)]
                    .into_iter()
                    .collect(),
            },
            pids_stats: PidsStats {
                current: 4,
                limit: None,
            },
            ..ContainerStats::default()
        };
        assert!((cpu_percent(&sample) - 40.0).abs() < 1e-9);
        assert_eq!(memory_used(&sample), 2 * 1024 * 1024);
        let text = stats_table(&[sample], false);
        let row = text.lines().nth(1).unwrap();
        let cells: Vec<&str> = row
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "0123456789ab",
                "web",
                "40.00%",
                "2MiB / 8MiB",
                "25.00%",
                "0B / 0B",
                "0B / 0B",
                "4"
            ]
        );
    }
}
