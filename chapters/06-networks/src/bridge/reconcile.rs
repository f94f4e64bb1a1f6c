//! What the driver does at the daemon's start: finish or undo what a
//! crash left, from the records and the kernel's own state.

use crate::error::Result;
use crate::ports::{self, Published};
use crate::{links, nat, netns};
use std::fs;
use std::net::Ipv4Addr;

use super::{host_socket, write_json, Driver};

impl Driver {
    // ANCHOR: sweep_proxies
    /// Stops the port proxies of this daemon's namespaces that no sandbox
    /// records: a daemon killed between a proxy's start and its record
    /// left them.
    pub(super) fn sweep_proxies(&self) {
        let known: Vec<i32> = self
            .sandboxes()
            .iter()
            .flat_map(|s| s.ports.iter().filter_map(|p| p.proxy_pid))
            .collect();
        let ours = format!("{}/", self.config.run.display());
        let Ok(entries) = fs::read_dir("/proc") else {
            return;
        };
        for pid in entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| !known.contains(pid))
        {
            if ports::is_proxy(pid, &ours) {
                let orphan = Published {
                    proto: ports::Proto::Tcp,
                    container_port: 0,
                    host_ip: Ipv4Addr::UNSPECIFIED,
                    host_port: 0,
                    proxy_pid: Some(pid),
                };
                ports::unpublish(&orphan, &ours);
            }
        }
    }
    // ANCHOR_END: sweep_proxies

    // ANCHOR: sweep_tagged
    /// Deletes the links and tables that carry this daemon's tag but that
    /// no record names: a network whose file went while its bridge or
    /// table stayed (a crash between the two, an older engine), a veth
    /// the reaper had not yet seen to when the daemon died.
    pub(super) fn sweep_tagged(&self) -> Result<()> {
        let tag = self.tag();
        let networks = self.networks()?;
        let sandboxes = self.sandboxes();
        let known_links: Vec<&str> = networks
            .iter()
            .map(|n| n.bridge.as_str())
            .chain(
                sandboxes
                    .iter()
                    .flat_map(|s| s.endpoints.iter().map(|e| e.veth.as_str())),
            )
            .collect();
        let mut host = host_socket()?;
        for link in links::tagged(&mut host, &tag)? {
            if !known_links.contains(&link.as_str()) {
                eprintln!("minidockd: deleting link {link}: no network or container has it");
                links::delete(&mut host, &link)?;
            }
        }
        let known_tables: Vec<String> = networks
            .iter()
            .filter(|n| n.driver == "bridge")
            .map(|n| nat::table_name(&n.id))
            .collect();
        for (table, comment) in nat::tables_with_comments()? {
            if comment == tag && !known_tables.contains(&table) {
                eprintln!("minidockd: deleting nftables table {table}: no network has it");
                nat::remove(&table)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: sweep_tagged

    // ANCHOR: reconcile
    /// At daemon start: unwires every sandbox whose container is gone,
    /// releases those of containers that stopped while no daemon watched
    /// (`running` lists those that run), and frees addresses held by
    /// nobody (a crash between the two writes).
    pub fn reconcile(&self, existing: &[String], running: &[String]) -> Result<()> {
        let stopped: Vec<String> = self
            .sandboxes()
            .into_iter()
            .filter(|s| existing.contains(&s.container_id) && !running.contains(&s.container_id))
            .filter(|s| !s.endpoints.is_empty() || !s.plan.is_empty() || netns::is_pinned(&s.netns))
            .map(|s| s.container_id)
            .collect();
        for id in stopped {
            self.release(&id)?;
        }
        let _guard = self.guard();
        for sandbox in self.sandboxes() {
            if !existing.contains(&sandbox.container_id) {
                self.teardown_locked(&sandbox)?;
            }
        }
        let wired: Vec<String> = self
            .sandboxes()
            .into_iter()
            .map(|s| s.container_id)
            .collect();
        self.sweep_proxies();
        self.sweep_tagged()?;
        for mut network in self.networks()? {
            if let Some(pool) = network.pool.as_mut() {
                let before = pool.allocated.len();
                pool.allocated.retain(|_, owner| wired.contains(owner));
                if pool.allocated.len() != before {
                    write_json(&self.network_path(&network.id), &network)?;
                }
            }
        }
        self.refresh_hosts(None)
    }
    // ANCHOR_END: reconcile
}
