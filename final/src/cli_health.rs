//! The command line of a container's health check for `run` and `create`,
//! as the docker CLI spells it. (`--health-start-interval` is left out: its
//! width would push every help line of `run` onto two; the API and the
//! docker CLI set `StartInterval`.)

use clap::Args;

/// Health check flags that `run` and `create` take alike.
#[derive(Debug, Clone, Args, Default)]
pub struct HealthFlags {
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "string")]
    pub cmd: Option<String>,

    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval", value_name = "time")]
    pub interval: Option<String>,

    /// Consecutive failures needed to report unhealthy
    #[arg(
        long = "health-retries",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub retries: Option<i64>,

    /// Start period for the container to initialize before starting
    /// health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-period", value_name = "time")]
    pub start_period: Option<String>,

    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout", value_name = "time")]
    pub timeout: Option<String>,

    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
}
