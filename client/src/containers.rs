//! The `/containers` endpoints, client side: create, list, the life
//! requests, `cp`, wait, logs, attach, top and stats.

use super::http::{RequestBody, Response};
use super::{flag, query, timestamp, Client, ClientError, Hijacked, OutputStream, PendingWait};
use base64::Engine as _;
use minidock_daemon::query::Filters;
use minidock_daemon::service::{AttachOptions, ListOptions, LogsOptions};
use minidock_daemon::types::*;
use minidock_daemon::wait::WaitCondition;
use std::io::{Read, Write};

impl Client {
    /// `POST /containers/create`.
    pub fn container_create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> Result<ContainerCreateResponse, ClientError> {
        let q = query(&[("name", name.map(str::to_owned))]);
        // The fields the types do not name (`other`) are sent too: the
        // server reads them (ports, networking, …) even if inspect does not
        // echo them.
        let mut json = serde_json::to_value(body).map_err(|source| ClientError::Decode {
            what: "the create request",
            source,
        })?;
        if let Some(top) = json.as_object_mut() {
            for (k, v) in &body.config.other {
                top.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if let Some(host) = top.get_mut("HostConfig").and_then(|h| h.as_object_mut()) {
                for (k, v) in &body.host_config.other {
                    host.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        self.post_json(
            &format!("/containers/create{q}"),
            &json,
            "the created container",
        )
    }

    /// `GET /containers/json`.
    pub fn containers(&self, options: &ListOptions) -> Result<Vec<ContainerSummary>, ClientError> {
        let q = query(&[
            ("all", flag(options.all)),
            ("limit", options.limit.map(|l| l.to_string())),
            ("size", options.size.then(|| "1".to_string())),
            (
                "filters",
                (!options.filters.is_empty()).then(|| options.filters.to_json()),
            ),
        ]);
        self.get(&format!("/containers/json{q}"), "the container list")
    }

    /// `POST /containers/prune`: removes every container that is not
    /// running.
    pub fn containers_prune(
        &self,
        filters: &Filters,
    ) -> Result<ContainerPruneResponse, ClientError> {
        self.prune("/containers/prune", filters, "the pruned containers")
    }

    /// `POST /containers/{id}/rename?name=`.
    pub fn container_rename(&self, id: &str, name: &str) -> Result<(), ClientError> {
        let q = query(&[("name", Some(name.to_string()))]);
        self.post_empty(&format!("/containers/{id}/rename{q}"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/update`.
    pub fn container_update(
        &self,
        id: &str,
        body: &minidock_daemon::compat::update::ContainerUpdateBody,
    ) -> Result<minidock_daemon::compat::update::ContainerUpdateResponse, ClientError> {
        self.post_json(
            &format!("/containers/{id}/update"),
            body,
            "the update result",
        )
    }

    /// `GET /containers/{id}/changes`.
    pub fn container_changes(&self, id: &str) -> Result<Vec<ContainerChange>, ClientError> {
        let changes: Option<Vec<ContainerChange>> =
            self.get(&format!("/containers/{id}/changes"), "the changes")?;
        Ok(changes.unwrap_or_default())
    }

    /// The path-stat header of an archive response.
    fn path_stat(response: &Response) -> Result<ContainerPathStat, ClientError> {
        let what = "the X-Docker-Container-Path-Stat header";
        let value = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("X-Docker-Container-Path-Stat"))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let json = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|e| ClientError::Decode {
                what,
                source: serde::de::Error::custom(e),
            })?;
        serde_json::from_slice(&json).map_err(|source| ClientError::Decode { what, source })
    }

    /// `HEAD /containers/{id}/archive?path=`: what `path` is in the
    /// container; `None` when it does not exist.
    pub fn container_path_stat(
        &self,
        id: &str,
        path: &str,
    ) -> Result<Option<ContainerPathStat>, ClientError> {
        let url = format!(
            "/containers/{id}/archive{}",
            query(&[("path", Some(path.to_string()))])
        );
        let error = match self.request("HEAD", &url, &[], RequestBody::None, false) {
            Ok(response) => return Self::path_stat(&response).map(Some),
            // A HEAD answer has no body, so no message: ask again with GET,
            // whose error carries it (a success there is not read).
            Err(ClientError::Api { message, .. }) if message.is_empty() => {
                match self.request("GET", &url, &[], RequestBody::None, false) {
                    Err(e) => e,
                    Ok(_) => {
                        return Err(ClientError::Api {
                            status: 500,
                            message: format!("stat of {path} failed"),
                        })
                    }
                }
            }
            Err(e) => e,
        };
        match error {
            ClientError::Api {
                status: 404,
                message,
            } if message.starts_with("Could not find") => Ok(None),
            e => Err(e),
        }
    }

    /// `GET /containers/{id}/archive?path=`: writes `path` as a tar to
    /// `out`; returns its stat.
    pub fn container_archive_get(
        &self,
        id: &str,
        path: &str,
        out: &mut dyn Write,
    ) -> Result<ContainerPathStat, ClientError> {
        let q = query(&[("path", Some(path.to_string()))]);
        let mut response = self.request(
            "GET",
            &format!("/containers/{id}/archive{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        let stat = Self::path_stat(&response)?;
        self.copy_body(&mut response, out)?;
        Ok(stat)
    }

    /// `PUT /containers/{id}/archive?path=`: extracts the tar `archive`
    /// into the directory `path` of the container.
    pub fn container_archive_put(
        &self,
        id: &str,
        path: &str,
        archive: &mut dyn Read,
    ) -> Result<(), ClientError> {
        let q = query(&[("path", Some(path.to_string()))]);
        let body = RequestBody::Stream(archive, "application/x-tar");
        let mut response = self.request(
            "PUT",
            &format!("/containers/{id}/archive{q}"),
            &[],
            body,
            false,
        )?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(())
    }

    /// `GET /containers/{id}/json`.
    pub fn container_inspect(&self, id: &str) -> Result<ContainerInspect, ClientError> {
        self.get(&format!("/containers/{id}/json"), "the container")
    }

    /// `POST /containers/{id}/start`; `false` when it already ran.
    pub fn container_start(&self, id: &str) -> Result<bool, ClientError> {
        Ok(self.post_empty(&format!("/containers/{id}/start"))? != 304)
    }

    /// `POST /containers/{id}/stop`; `false` when it was not running.
    pub fn container_stop(
        &self,
        id: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<bool, ClientError> {
        let q = query(&[
            ("t", timeout.map(|t| t.to_string())),
            ("signal", signal.map(str::to_owned)),
        ]);
        Ok(self.post_empty(&format!("/containers/{id}/stop{q}"))? != 304)
    }

    /// `POST /containers/{id}/restart`.
    pub fn container_restart(&self, id: &str, timeout: Option<i64>) -> Result<(), ClientError> {
        let q = query(&[("t", timeout.map(|t| t.to_string()))]);
        self.post_empty(&format!("/containers/{id}/restart{q}"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/kill`.
    pub fn container_kill(&self, id: &str, signal: Option<&str>) -> Result<(), ClientError> {
        let q = query(&[("signal", signal.map(str::to_owned))]);
        self.post_empty(&format!("/containers/{id}/kill{q}"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/pause`.
    pub fn container_pause(&self, id: &str) -> Result<(), ClientError> {
        self.post_empty(&format!("/containers/{id}/pause"))
            .map(|_| ())
    }

    /// `POST /containers/{id}/unpause`.
    pub fn container_unpause(&self, id: &str) -> Result<(), ClientError> {
        self.post_empty(&format!("/containers/{id}/unpause"))
            .map(|_| ())
    }

    /// `DELETE /containers/{id}`.
    pub fn container_remove(&self, id: &str, force: bool) -> Result<(), ClientError> {
        let q = query(&[("force", flag(force))]);
        self.delete(&format!("/containers/{id}{q}"))
    }

    fn condition_name(condition: WaitCondition) -> &'static str {
        match condition {
            WaitCondition::NotRunning => "not-running",
            WaitCondition::NextExit => "next-exit",
            WaitCondition::Removed => "removed",
        }
    }

    /// `POST /containers/{id}/wait`, returning as soon as the headers arrive:
    /// the daemon now watches the container, so it can be started without
    /// missing its exit. [`PendingWait::finish`] blocks for the result.
    pub fn container_wait_begin(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<PendingWait, ClientError> {
        let q = query(&[(
            "condition",
            Some(Self::condition_name(condition).to_string()),
        )]);
        let response = self.request(
            "POST",
            &format!("/containers/{id}/wait{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        Ok(PendingWait {
            body: response.body,
        })
    }

    /// `POST /containers/{id}/wait`: blocks until the condition is met.
    pub fn container_wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<WaitResponse, ClientError> {
        self.container_wait_begin(id, condition)?.finish()
    }

    /// `GET /containers/{id}/logs`.
    pub fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
        timestamps: bool,
    ) -> Result<OutputStream, ClientError> {
        let q = query(&[
            ("stdout", flag(options.stdout)),
            ("stderr", flag(options.stderr)),
            ("follow", flag(options.follow)),
            ("timestamps", flag(timestamps)),
            ("tail", options.tail.map(|t| t.to_string())),
            ("since", options.since.map(timestamp)),
            ("until", options.until.map(timestamp)),
        ]);
        let response = self.request(
            "GET",
            &format!("/containers/{id}/logs{q}"),
            &[],
            RequestBody::None,
            false,
        )?;
        let tty = response.header("Content-Type") == Some("application/vnd.docker.raw-stream");
        Ok(OutputStream::of_body(tty, response.body))
    }

    /// `POST /containers/{id}/attach`, hijacked.
    pub fn container_attach(
        &self,
        id: &str,
        options: &AttachOptions,
    ) -> Result<Hijacked, ClientError> {
        let q = query(&[
            ("stdin", flag(options.stdin)),
            ("stdout", flag(options.stdout)),
            ("stderr", flag(options.stderr)),
            ("stream", flag(options.stream)),
            ("logs", flag(options.logs)),
            ("detachKeys", options.detach_keys.clone()),
        ]);
        let response = self.request(
            "POST",
            &format!("/containers/{id}/attach{q}"),
            &[],
            RequestBody::None,
            true,
        )?;
        Self::hijacked(response)
    }

    /// `POST /containers/{id}/resize`.
    pub fn container_resize(&self, id: &str, height: u16, width: u16) -> Result<(), ClientError> {
        self.resize(&format!("/containers/{id}/resize"), height, width)
    }

    /// `GET /containers/{id}/top`.
    pub fn container_top(
        &self,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<TopResponse, ClientError> {
        let q = query(&[("ps_args", ps_args.map(str::to_owned))]);
        self.get(&format!("/containers/{id}/top{q}"), "the process list")
    }

    /// `GET /containers/{id}/stats?stream=false&one-shot=true`: one sample.
    pub fn container_stats(&self, id: &str) -> Result<ContainerStats, ClientError> {
        self.get(
            &format!("/containers/{id}/stats?stream=0&one-shot=1"),
            "the stats",
        )
    }
}
