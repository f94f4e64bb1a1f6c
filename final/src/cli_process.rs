//! The command line of Docker's process settings for `run` and `create`:
//! capabilities, shared namespaces, groups, `/dev/shm`, ulimits, sysctls,
//! the OOM score, `--init`, and how the container is stopped.

use clap::Args;

/// Process settings that `run` and `create` take alike.
#[derive(Debug, Clone, Args, Default)]
pub struct ProcessFlags {
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "list")]
    pub cap_add: Vec<String>,

    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "list")]
    pub cap_drop: Vec<String>,

    /// Give extended privileges to this container
    #[arg(long = "privileged")]
    pub privileged: bool,

    /// PID namespace to use (host, container:NAME)
    #[arg(long = "pid", value_name = "string")]
    pub pid: Option<String>,

    /// IPC mode to use (private, shareable, host, container:NAME)
    #[arg(long = "ipc", value_name = "string")]
    pub ipc: Option<String>,

    /// UTS namespace to use (host)
    #[arg(long = "uts", value_name = "string")]
    pub uts: Option<String>,

    /// Add additional groups to join
    #[arg(long = "group-add", value_name = "list")]
    pub group_add: Vec<String>,

    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "bytes")]
    pub shm_size: Option<String>,

    /// Ulimit options (NAME=SOFT[:HARD])
    #[arg(long = "ulimit", value_name = "ulimit")]
    pub ulimit: Vec<String>,

    /// Sysctl options (namespaced ones: net.*, kernel.shm*, kernel.msg*, …)
    #[arg(long = "sysctl", value_name = "map")]
    pub sysctl: Vec<String>,

    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", value_name = "int", allow_hyphen_values = true)]
    pub oom_score_adj: Option<i64>,

    /// Run an init inside the container that forwards signals and reaps
    /// processes
    #[arg(long = "init")]
    pub init: bool,

    /// Signal to stop the container
    #[arg(long = "stop-signal", value_name = "string")]
    pub stop_signal: Option<String>,

    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", value_name = "int", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
}
