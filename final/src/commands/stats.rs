//! The process tables: `top` and `stats`.

use minidock_daemon::query::Filters;
use minidock_daemon::service::ListOptions;
use minidock_daemon::types::ContainerStats;

use super::Context;
use crate::cli::{StatsArgs, TopArgs};
use crate::error::Failure;
use crate::format::{bytes_size, human_size_with_precision, shown_id, Table};

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
            shown_id(&s.id, no_trunc).to_string(),
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
