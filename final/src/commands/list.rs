//! The container table, `ps`, and what the other tables share: Go's
//! quoting and times, and `--filter`.

use std::time::SystemTime;

use minidock_daemon::query::Filters;
use minidock_daemon::service::ListOptions;
use minidock_daemon::types::ContainerSummary;

use super::Context;
use crate::cli::PsArgs;
use crate::error::Failure;
use crate::format::{ellipsis, human_size, short_id, shown_id, time_ago, Table};
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
pub(super) fn go_time(unix: i64) -> String {
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
    let id = shown_id(&c.id, no_trunc).to_string();
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
            println!("{}", shown_id(&c.id, args.no_trunc));
        }
    } else {
        print!(
            "{}",
            ps_table(&containers, args.no_trunc, SystemTime::now())
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
