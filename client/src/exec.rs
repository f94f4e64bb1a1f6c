//! The `/exec` endpoints, client side: create, start (attached or
//! detached), inspect, resize.

use super::http::{RequestBody, Response};
use super::{Client, ClientError, Hijacked};
use minidock_daemon::types::*;

impl Client {
    /// `POST /containers/{id}/exec`: the exec id.
    pub fn exec_create(&self, id: &str, config: &ExecConfig) -> Result<String, ClientError> {
        let created: IdResponse =
            self.post_json(&format!("/containers/{id}/exec"), config, "the exec id")?;
        Ok(created.id)
    }

    /// `POST /exec/{id}/start`, hijacked.
    pub fn exec_start(&self, exec_id: &str, tty: bool) -> Result<Hijacked, ClientError> {
        let config = ExecStartConfig { detach: false, tty };
        Self::hijacked(self.send_exec_start(exec_id, &config, true)?)
    }

    /// `POST /exec/{id}/start` with `Detach`: starts and returns at once.
    pub fn exec_start_detached(&self, exec_id: &str) -> Result<(), ClientError> {
        let config = ExecStartConfig {
            detach: true,
            tty: false,
        };
        let mut response = self.send_exec_start(exec_id, &config, false)?;
        std::io::copy(&mut response.body, &mut std::io::sink()).ok();
        Ok(())
    }

    /// `POST /exec/{id}/start` with `config`; `upgrade` asks for the
    /// connection to be hijacked for the exec's streams.
    fn send_exec_start(
        &self,
        exec_id: &str,
        config: &ExecStartConfig,
        upgrade: bool,
    ) -> Result<Response, ClientError> {
        let body = serde_json::to_vec(config).unwrap_or_default();
        self.request(
            "POST",
            &format!("/exec/{exec_id}/start"),
            &[],
            RequestBody::Json(body),
            upgrade,
        )
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect, ClientError> {
        self.get(&format!("/exec/{exec_id}/json"), "the exec instance")
    }

    /// `POST /exec/{id}/resize`.
    pub fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> Result<(), ClientError> {
        self.resize(&format!("/exec/{exec_id}/resize"), height, width)
    }
}
