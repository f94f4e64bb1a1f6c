//! A container leaves its networks: when it stops (`release`: the
//! addresses go back, the plan stays for its next start) and when it is
//! removed (`teardown`).

use crate::error::{Error, Result};
use crate::netns;
use crate::ports;
use std::fs;

use super::{write_json, Driver, Network, Sandbox};

impl Driver {
    // ANCHOR: teardown
    /// Unwires a container; nothing to do is no error.
    pub fn teardown(&self, container_id: &str) -> Result<()> {
        let _guard = self.guard();
        match self.sandbox(container_id) {
            Some(s) => {
                self.teardown_locked(&s)?;
                // A sandbox released at its stop was on no network: no
                // one's `/etc/hosts` or DNS records named it any more.
                if s.endpoints.is_empty() {
                    return Ok(());
                }
                self.refresh_hosts(None)
            }
            None => Ok(()),
        }
    }

    pub(super) fn teardown_locked(&self, sandbox: &Sandbox) -> Result<()> {
        self.unwire(sandbox)?;
        let path = self.sandbox_path(&sandbox.container_id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &path)(e)),
        }
    }
    // ANCHOR_END: teardown

    // ANCHOR: release
    /// A container stopped (or its start failed): its ports, links,
    /// namespace and addresses go back, and its sandbox remembers only
    /// which networks to join at the next start, with what it asked for
    /// there. Returns the networks it left. Nothing to do is no error.
    pub fn release(&self, container_id: &str) -> Result<Vec<Network>> {
        let _guard = self.guard();
        let Some(sandbox) = self.sandbox(container_id) else {
            return Ok(Vec::new());
        };
        let wired = !sandbox.endpoints.is_empty()
            || !sandbox.plan.is_empty()
            || netns::is_pinned(&sandbox.netns);
        if sandbox.released || !wired {
            return Ok(Vec::new());
        }
        self.release_locked(&sandbox)
    }

    pub(super) fn release_locked(&self, sandbox: &Sandbox) -> Result<Vec<Network>> {
        let container_id = &sandbox.container_id;
        let mut left = Vec::new();
        for endpoint in &sandbox.endpoints {
            if let Ok(network) = self.find(&endpoint.network) {
                left.push(network);
            }
        }
        let pending = if sandbox.plan.is_empty() {
            let mut pending: Vec<_> = sandbox
                .endpoints
                .iter()
                .map(|endpoint| {
                    let mut asked = endpoint.request.clone();
                    asked.aliases.clone_from(&endpoint.aliases);
                    (endpoint.network.clone(), asked)
                })
                .collect();
            pending.extend(sandbox.pending.iter().cloned());
            pending
        } else {
            // A setup cut short: what it was to join.
            sandbox.plan.clone()
        };
        // Recorded once the wiring is gone: a crash in between leaves the
        // old record, and `reconcile` releases it again (every step of
        // `unwire` is done when there is nothing left to do).
        let released = Sandbox {
            container_id: sandbox.container_id.clone(),
            name: sandbox.name.clone(),
            hostname: sandbox.hostname.clone(),
            pending,
            released: true,
            ..Sandbox::default()
        };
        self.unwire(sandbox)?;
        write_json(&self.sandbox_path(container_id), &released)?;
        self.refresh_hosts(None)?;
        Ok(left)
    }
    // ANCHOR_END: release

    // ANCHOR: unwire
    /// Takes a sandbox's wiring away (ports, links, namespace, addresses,
    /// files), leaving its record.
    pub(super) fn unwire(&self, sandbox: &Sandbox) -> Result<()> {
        let tag = sandbox.netns.display().to_string();
        for port in &sandbox.ports {
            ports::unpublish(port, &tag);
        }
        // The veths go with the namespace: once it is unpinned and its
        // processes are gone, the kernel deletes every interface inside,
        // and a veth's host end with its peer. That takes tens of
        // milliseconds of the kernel's time (it waits for readers of the
        // old interfaces to finish), so it is not waited for here, where
        // `run --rm` waits: the reaper checks a moment later and deletes
        // whatever is still there.
        self.reaper
            .defer(sandbox.endpoints.iter().map(|e| e.veth.clone()).collect());
        if !sandbox.netns.as_os_str().is_empty() {
            netns::remove(&sandbox.netns)?;
        }
        for network in self.networks()? {
            if let Some(mut pool) = network.pool.clone() {
                if pool.allocated.values().any(|o| *o == sandbox.container_id) {
                    pool.release(&sandbox.container_id);
                    let mut network = network.clone();
                    network.pool = Some(pool);
                    write_json(&self.network_path(&network.id), &network)?;
                }
            }
        }
        let dir = self.files_dir(&sandbox.container_id);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(Error::io("remove", &dir))?;
        }
        Ok(())
    }
    // ANCHOR_END: unwire
}
