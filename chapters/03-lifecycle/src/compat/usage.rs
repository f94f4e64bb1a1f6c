//! What a running container uses, as `docker top` and `docker stats` show
//! it: the processes in its cgroup and the cgroup's counters.

use std::fs;

use crate::cgroup::CgroupStats;
use crate::error::Result;
use crate::id::ContainerId;
use crate::runtime::Runtime;
use crate::state::TransitionError;

/// One process of `docker top`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProcess {
    /// Host pid.
    pub pid: i32,
    /// Its command line, arguments separated by spaces.
    pub cmd: String,
}

impl Runtime {
    /// `docker top`: the processes in the container's cgroup, without the
    /// engine's own helpers (an exec helper waits there for its process).
    pub fn top(&self, id: &ContainerId) -> Result<Vec<TopProcess>> {
        let record = self.reconcile(id)?;
        if !record.state.is_alive() {
            return Err(TransitionError::NotRunning {
                op: "list the processes of",
                id: id.to_string(),
            }
            .into());
        }
        let mut pids = self.cgroup(id)?.pids()?;
        pids.sort_unstable();
        Ok(pids
            .into_iter()
            .filter_map(|pid| {
                let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let role = raw.split(|b| *b == 0).nth(1).unwrap_or_default();
                if crate::reexec::is_helper_role(role) {
                    return None;
                }
                let cmd = raw
                    .split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                Some(TopProcess { pid, cmd })
            })
            .collect())
    }

    /// `docker stats` (one sample): the cgroup's counters.
    pub fn stats(&self, id: &ContainerId) -> Result<CgroupStats> {
        let record = self.reconcile(id)?;
        if !record.state.is_alive() {
            return Err(TransitionError::NotRunning {
                op: "read the stats of",
                id: id.to_string(),
            }
            .into());
        }
        Ok(self.cgroup(id)?.stats()?)
    }
}
