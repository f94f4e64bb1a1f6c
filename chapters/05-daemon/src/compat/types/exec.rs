//! Exec instances: create, start, inspect.

use super::nullable;
use serde::{Deserialize, Serialize};

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecConfig {
    /// Attach stdin on start.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdin: bool,
    /// Attach stdout on start.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdout: bool,
    /// Attach stderr on start.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// Give the process a terminal.
    #[serde(default, deserialize_with = "nullable")]
    pub tty: bool,
    /// Extra `KEY=value` pairs.
    pub env: Option<Vec<String>>,
    /// The command (required).
    #[serde(default, deserialize_with = "nullable")]
    pub cmd: Vec<String>,
    /// The user to run as.
    pub user: Option<String>,
    /// The working directory.
    pub working_dir: Option<String>,
    /// Run with all capabilities (refused here).
    #[serde(default, deserialize_with = "nullable")]
    pub privileged: bool,
    /// The keys that detach from the exec's terminal (Docker's notation,
    /// see [`crate::detach`]); the default sequence when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detach_keys: Option<String>,
}

/// The answer to exec create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdResponse {
    /// The new id.
    pub id: String,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecStartConfig {
    /// Start and return at once, without streams.
    #[serde(default, deserialize_with = "nullable")]
    pub detach: bool,
    /// Must match the exec's `Tty`.
    #[serde(default, deserialize_with = "nullable")]
    pub tty: bool,
}

/// `ProcessConfig` of exec inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProcessConfig {
    /// The program.
    pub entrypoint: String,
    /// Its arguments.
    pub arguments: Vec<String>,
    /// With a terminal.
    pub tty: bool,
    /// Privileged.
    pub privileged: bool,
    /// The user.
    pub user: String,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    /// The exec id.
    #[serde(rename = "ID")]
    pub id: String,
    /// The container it runs in.
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// Still running.
    pub running: bool,
    /// `null` until it exits.
    pub exit_code: Option<i64>,
    /// Its pid on the host (0 when not running).
    pub pid: i64,
    /// Stdin attached.
    pub open_stdin: bool,
    /// Stdout attached.
    pub open_stdout: bool,
    /// Stderr attached.
    pub open_stderr: bool,
    /// What runs.
    pub process_config: ExecProcessConfig,
}
