//! `docker top`: the host's `ps`, cut down to one container's processes.
//!
//! Docker runs `ps` on the host with the client's arguments (`-ef` by
//! default) and keeps the rows whose `PID` is in the container's cgroup, so
//! any `ps` format works (`docker top web -o pid,rss,comm`). minidock does
//! the same; the container's pids come from chapter 03's cgroup.

use crate::compat::types::TopResponse;
use crate::error::{ApiError, ApiResult};
use std::collections::HashSet;

/// Keeps the rows of `ps` output whose `PID` column is one of `pids`. The
/// last column (the command) may contain spaces, so a row's extra fields
/// are joined into it.
pub fn rows_of(output: &str, pids: &HashSet<i32>) -> ApiResult<TopResponse> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let pid_column = titles.iter().position(|t| t == "PID").ok_or_else(|| {
        ApiError::BadParameter(format!(
            "Couldn't find PID field in ps output (its columns: {})",
            titles.join(" ")
        ))
    })?;
    let mut processes = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let keep = fields[pid_column]
            .parse::<i32>()
            .is_ok_and(|pid| pids.contains(&pid));
        if keep {
            let last = titles.len() - 1;
            let mut row: Vec<String> = fields[..last].iter().map(|f| f.to_string()).collect();
            row.push(fields[last..].join(" "));
            processes.push(row);
        }
    }
    Ok(TopResponse { titles, processes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_kept_by_pid_and_the_command_keeps_its_spaces() {
        let ps = "UID          PID    PPID  C STIME TTY          TIME CMD\n\
                  root           1       0  0 02:00 ?        00:00:01 /sbin/init\n\
                  root        4242    4241  0 02:01 pts/0    00:00:00 sh -c sleep 1000\n\
                  root        4243    4242  0 02:01 pts/0    00:00:00 sleep 1000\n";
        let top = rows_of(ps, &HashSet::from([4242, 4243])).unwrap();
        assert_eq!(
            top.titles,
            ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        );
        assert_eq!(top.processes.len(), 2);
        assert_eq!(top.processes[0][1], "4242");
        assert_eq!(top.processes[0][7], "sh -c sleep 1000");
        let custom = rows_of(
            "  PID COMMAND\n 4243 sleep\n   1 init\n",
            &HashSet::from([4243]),
        )
        .unwrap();
        assert_eq!(custom.processes, [["4243", "sleep"]]);
        let err = rows_of("USER COMMAND\nroot x\n", &HashSet::new()).unwrap_err();
        assert!(err.to_string().contains("Couldn't find PID field"), "{err}");
    }
}
