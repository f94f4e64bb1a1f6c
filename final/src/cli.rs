//! The command line: Docker's commands, flags and help texts, as clap
//! derive definitions.
//!
//! The shapes follow the docker CLI so that muscle memory works: short flags
//! combine (`-it`, `-dit`), `run` and `exec` stop parsing their own flags at
//! the image or container (everything after belongs to the command that runs
//! inside), and `-h` of `run`/`create` is `--hostname`, as in Docker, so help
//! is `--help` only there.

pub use crate::cli_prune::PruneArgs;
use clap::{ArgAction, Args, Parser, Subcommand};

pub use crate::cli_lazy::Lazy;

pub use crate::cli_health::*;
pub use crate::cli_limits::*;
pub use crate::cli_network::*;
pub use crate::cli_process::*;

/// Where the client looks for the daemon when neither `-H`, a context nor
/// `MINIDOCK_HOST` says otherwise (see [`crate::connect::choose`]).
pub const DEFAULT_HOST: &str = "unix:///run/minidock/minidock.sock";

/// `minidock`: the command line of a mini-Docker.
#[derive(Debug, Parser)]
#[command(
    name = "minidock",
    version,
    about = "A self-sufficient runtime for containers, in miniature",
    override_usage = "minidock [OPTIONS] COMMAND",
    subcommand_value_name = "COMMAND",
    after_help = "Run 'minidock COMMAND --help' for more information on a command.",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Daemon socket to connect to (default: MINIDOCK_HOST, else the current
    /// context, else unix:///run/minidock/minidock.sock)
    #[arg(short = 'H', long = "host", value_name = "URL")]
    pub host: Option<String>,

    /// Name of the context to use (overrides MINIDOCK_HOST, MINIDOCK_CONTEXT
    /// and the one set with "minidock context use")
    #[arg(short = 'c', long = "context", value_name = "string")]
    pub context: Option<String>,

    /// TLS to a tcp:// daemon.
    #[command(flatten)]
    pub tls: TlsArgs,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The docker CLI's TLS flags. A `tcp://` daemon is reached with mutual
/// TLS: the daemon's certificate is checked against `--tlscacert`, and the
/// client shows `--tlscert`/`--tlskey`. The files default to `ca.pem`,
/// `cert.pem` and `key.pem` in `DOCKER_CERT_PATH` (or `~/.docker`).
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// Use TLS; implied by --tlsverify
    #[arg(long)]
    pub tls: bool,
    /// Use TLS and verify the remote
    #[arg(long, env = "DOCKER_TLS_VERIFY", value_parser = clap::builder::FalseyValueParser::new())]
    pub tlsverify: bool,
    /// Trust certs signed only by this CA
    #[arg(long, value_name = "string")]
    pub tlscacert: Option<std::path::PathBuf>,
    /// Path to TLS certificate file
    #[arg(long, value_name = "string")]
    pub tlscert: Option<std::path::PathBuf>,
    /// Path to TLS key file
    #[arg(long, value_name = "string")]
    pub tlskey: Option<std::path::PathBuf>,
}

/// Every command, in the order `minidock --help` lists them. Each one's
/// arguments are [`Lazy`]: built only when that command is parsed.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and run a new container from an image
    #[command(
        override_usage = "minidock run [OPTIONS] IMAGE [COMMAND] [ARG...]",
        disable_help_flag = true
    )]
    Run(Lazy<RunArgs>),
    /// Execute a command in a running container
    #[command(override_usage = "minidock exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
    Exec(Lazy<ExecArgs>),
    /// List containers
    #[command(override_usage = "minidock ps [OPTIONS]")]
    Ps(Lazy<PsArgs>),
    /// Download an image from a registry
    #[command(override_usage = "minidock pull [OPTIONS] NAME[:TAG|@DIGEST]")]
    Pull(Lazy<PullArgs>),
    /// Upload an image to a registry
    #[command(override_usage = "minidock push [OPTIONS] NAME[:TAG]")]
    Push(Lazy<PushArgs>),
    /// List images
    #[command(override_usage = "minidock images [OPTIONS] [REPOSITORY[:TAG]]")]
    Images(Lazy<ImagesArgs>),
    /// Authenticate to a registry
    #[command(override_usage = "minidock login [OPTIONS] [SERVER]")]
    Login(Lazy<LoginArgs>),
    /// Log out from a registry
    #[command(override_usage = "minidock logout [SERVER]")]
    Logout(Lazy<LogoutArgs>),
    /// Show the minidock version information
    #[command(override_usage = "minidock version")]
    Version,
    /// Display system-wide information
    #[command(override_usage = "minidock info")]
    Info,
    /// Create a new container
    #[command(
        override_usage = "minidock create [OPTIONS] IMAGE [COMMAND] [ARG...]",
        disable_help_flag = true
    )]
    Create(Lazy<CreateArgs>),
    /// Start one or more stopped containers
    #[command(override_usage = "minidock start [OPTIONS] CONTAINER [CONTAINER...]")]
    Start(Lazy<StartArgs>),
    /// Stop one or more running containers
    #[command(override_usage = "minidock stop [OPTIONS] CONTAINER [CONTAINER...]")]
    Stop(Lazy<StopArgs>),
    /// Kill one or more running containers
    #[command(override_usage = "minidock kill [OPTIONS] CONTAINER [CONTAINER...]")]
    Kill(Lazy<KillArgs>),
    /// Restart one or more containers
    #[command(override_usage = "minidock restart [OPTIONS] CONTAINER [CONTAINER...]")]
    Restart(Lazy<RestartArgs>),
    /// Pause all processes within one or more containers
    #[command(override_usage = "minidock pause CONTAINER [CONTAINER...]")]
    Pause(Lazy<ContainersArgs>),
    /// Unpause all processes within one or more containers
    #[command(override_usage = "minidock unpause CONTAINER [CONTAINER...]")]
    Unpause(Lazy<ContainersArgs>),
    /// Remove one or more containers
    #[command(override_usage = "minidock rm [OPTIONS] CONTAINER [CONTAINER...]")]
    Rm(Lazy<RmArgs>),
    /// Fetch the logs of a container
    #[command(override_usage = "minidock logs [OPTIONS] CONTAINER")]
    Logs(Lazy<LogsArgs>),
    /// Return low-level information on minidock objects
    #[command(override_usage = "minidock inspect [OPTIONS] NAME|ID [NAME|ID...]")]
    Inspect(Lazy<InspectArgs>),
    /// Block until one or more containers stop, then print their exit codes
    #[command(override_usage = "minidock wait CONTAINER [CONTAINER...]")]
    Wait(Lazy<ContainersArgs>),
    /// Display the running processes of a container
    #[command(override_usage = "minidock top CONTAINER [ps OPTIONS]")]
    Top(Lazy<TopArgs>),
    /// Display a live stream of container(s) resource usage statistics
    #[command(override_usage = "minidock stats [OPTIONS] [CONTAINER...]")]
    Stats(Lazy<StatsArgs>),
    /// Remove one or more images
    #[command(override_usage = "minidock rmi [OPTIONS] IMAGE [IMAGE...]")]
    Rmi(Lazy<RmiArgs>),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(override_usage = "minidock tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")]
    Tag(Lazy<TagArgs>),
    /// Load an image from a tar archive or STDIN
    #[command(override_usage = "minidock load [OPTIONS]")]
    Load(Lazy<LoadArgs>),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(override_usage = "minidock save [OPTIONS] IMAGE [IMAGE...]")]
    Save(Lazy<SaveArgs>),
    /// Import the contents from a tarball to create a filesystem image
    #[command(override_usage = "minidock import [OPTIONS] file|- [REPOSITORY[:TAG]]")]
    Import(Lazy<ImportArgs>),
    /// Build an image from a Dockerfile
    #[command(override_usage = "minidock build [OPTIONS] PATH | -")]
    Build(Lazy<crate::cli_build::BuildArgs>),
    /// Create a new image from a container's changes
    #[command(override_usage = "minidock commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]")]
    Commit(Lazy<crate::cli_build::CommitArgs>),
    /// Export a container's filesystem as a tar archive
    #[command(override_usage = "minidock export [OPTIONS] CONTAINER")]
    Export(Lazy<crate::cli_build::ExportArgs>),
    /// Attach local standard input, output, and error streams to a running container
    #[command(override_usage = "minidock attach [OPTIONS] CONTAINER")]
    Attach(Lazy<AttachArgs>),
    /// Rename a container
    #[command(override_usage = "minidock rename CONTAINER NEW_NAME")]
    Rename(Lazy<RenameArgs>),
    /// Update configuration of one or more containers
    #[command(override_usage = "minidock update [OPTIONS] CONTAINER [CONTAINER...]")]
    Update(Lazy<UpdateArgs>),
    /// Inspect changes to files or directories on a container's filesystem
    #[command(override_usage = "minidock diff CONTAINER")]
    Diff(Lazy<DiffArgs>),
    /// Show the history of an image
    #[command(override_usage = "minidock history [OPTIONS] IMAGE")]
    History(Lazy<HistoryArgs>),
    /// Copy files/folders between a container and the local filesystem
    #[command(
        override_usage = "minidock cp CONTAINER:SRC_PATH DEST_PATH|-\n       minidock cp SRC_PATH|- CONTAINER:DEST_PATH"
    )]
    Cp(Lazy<CpArgs>),
    /// Get real time events from the server
    #[command(override_usage = "minidock events [OPTIONS]")]
    Events(Lazy<EventsArgs>),
    /// Manage containers
    #[command(subcommand, override_usage = "minidock container COMMAND")]
    Container(Lazy<ContainerCommand>),
    /// Manage images
    #[command(subcommand, override_usage = "minidock image COMMAND")]
    Image(Lazy<ImageCommand>),
    /// Manage minidock
    #[command(subcommand, override_usage = "minidock system COMMAND")]
    System(Lazy<SystemCommand>),
    /// Manage volumes
    #[command(subcommand, override_usage = "minidock volume COMMAND")]
    Volume(Lazy<crate::cli_volume::VolumeCommand>),
    /// Manage networks
    #[command(subcommand, override_usage = "minidock network COMMAND")]
    Network(Lazy<NetworkCommand>),
    /// List port mappings or a specific mapping for the container
    #[command(override_usage = "minidock port CONTAINER [PRIVATE_PORT[/PROTO]]")]
    Port(Lazy<PortArgs>),
    /// Open the dashboard: a web page of containers, images and events on 127.0.0.1
    #[command(override_usage = "minidock desktop [OPTIONS]")]
    Desktop(Lazy<crate::cli_desktop::DesktopArgs>),
    /// Manage contexts
    #[command(subcommand, override_usage = "minidock context COMMAND")]
    Context(Lazy<crate::cli_context::ContextCommand>),
    /// Generate the shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(override_usage = "minidock completion SHELL")]
    Completion(Lazy<CompletionArgs>),
    /// Write the manual pages (minidock.1, minidock-run.1, …) into a directory
    #[command(override_usage = "minidock man DIR")]
    Man(Lazy<ManArgs>),
}

/// `minidock man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Where to write the pages (e.g. /usr/local/share/man/man1)
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,
}

/// `minidock completion`.
#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// The shell whose script to print (e.g. `source <(minidock completion bash)`)
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `minidock logout`.
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// The registry (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

/// `minidock attach`.
#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,

    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `minidock rename`.
#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,

    /// Its new name
    #[arg(value_name = "NEW_NAME")]
    pub name: String,
}

/// `minidock diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `minidock history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Only show image IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

/// `minidock cp`.
#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// CONTAINER:SRC_PATH, a local path, or - (a tar on stdin)
    #[arg(value_name = "SRC")]
    pub source: String,

    /// CONTAINER:DEST_PATH, a local path, or - (a tar on stdout)
    #[arg(value_name = "DEST")]
    pub destination: String,
}

/// `minidock events`.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp
    #[arg(long = "since", value_name = "string")]
    pub since: Option<String>,

    /// Stream events until this timestamp
    #[arg(long = "until", value_name = "string")]
    pub until: Option<String>,

    /// Filter output based on conditions provided (type, event, container,
    /// image, label)
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,

    /// Format output using a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
}

/// `minidock container …`: Docker's management commands, the same
/// commands as the top-level ones (`container ls` is `ps`), plus `prune`.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Remove all stopped containers
    #[command(override_usage = "minidock container prune [OPTIONS]")]
    Prune(PruneArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Create and run a new container from an image
    #[command(disable_help_flag = true)]
    Run(RunArgs),
    /// Create a new container
    #[command(disable_help_flag = true)]
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Restart one or more containers
    Restart(RestartArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Pause all processes within one or more containers
    Pause(ContainersArgs),
    /// Unpause all processes within one or more containers
    Unpause(ContainersArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Display detailed information on one or more containers
    Inspect(InspectArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(ContainersArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
}

impl ContainerCommand {
    /// The top-level command this one is, or the arguments of `prune`,
    /// which has none.
    pub fn into_command(self) -> Result<Command, PruneArgs> {
        use ContainerCommand as C;
        Ok(match self {
            C::Prune(args) => return Err(args),
            C::Ls(a) => Command::Ps(Lazy(a)),
            C::Run(a) => Command::Run(Lazy(a)),
            C::Create(a) => Command::Create(Lazy(a)),
            C::Start(a) => Command::Start(Lazy(a)),
            C::Stop(a) => Command::Stop(Lazy(a)),
            C::Restart(a) => Command::Restart(Lazy(a)),
            C::Kill(a) => Command::Kill(Lazy(a)),
            C::Pause(a) => Command::Pause(Lazy(a)),
            C::Unpause(a) => Command::Unpause(Lazy(a)),
            C::Rm(a) => Command::Rm(Lazy(a)),
            C::Logs(a) => Command::Logs(Lazy(a)),
            C::Inspect(a) => Command::Inspect(Lazy(a)),
            C::Exec(a) => Command::Exec(Lazy(a)),
            C::Attach(a) => Command::Attach(Lazy(a)),
            C::Wait(a) => Command::Wait(Lazy(a)),
            C::Top(a) => Command::Top(Lazy(a)),
            C::Stats(a) => Command::Stats(Lazy(a)),
            C::Cp(a) => Command::Cp(Lazy(a)),
            C::Diff(a) => Command::Diff(Lazy(a)),
            C::Rename(a) => Command::Rename(Lazy(a)),
            C::Update(a) => Command::Update(Lazy(a)),
        })
    }
}

/// `minidock image …`: the image commands under Docker's management
/// names (`image ls` is `images`, `image rm` is `rmi`), plus `prune`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Remove unused images
    #[command(override_usage = "minidock image prune [OPTIONS]")]
    Prune(ImagePruneArgs),
    /// List images
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(RmiArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
}

impl ImageCommand {
    /// The top-level command this one is, or the arguments of `prune`.
    pub fn into_command(self) -> Result<Command, ImagePruneArgs> {
        use ImageCommand as I;
        Ok(match self {
            I::Prune(args) => return Err(args),
            I::Ls(a) => Command::Images(Lazy(a)),
            I::Rm(a) => Command::Rmi(Lazy(a)),
            I::Pull(a) => Command::Pull(Lazy(a)),
            I::Push(a) => Command::Push(Lazy(a)),
            I::Tag(a) => Command::Tag(Lazy(a)),
            I::Inspect(a) => Command::Inspect(Lazy(a)),
            I::History(a) => Command::History(Lazy(a)),
            I::Load(a) => Command::Load(Lazy(a)),
            I::Save(a) => Command::Save(Lazy(a)),
            I::Import(a) => Command::Import(Lazy(a)),
        })
    }
}

/// `minidock system …`.
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Remove unused data: stopped containers, then unused images
    #[command(override_usage = "minidock system prune [OPTIONS]")]
    Prune(ImagePruneArgs),
    /// Show minidock disk usage
    #[command(override_usage = "minidock system df")]
    Df,
}

/// `minidock image prune` and `minidock system prune`.
#[derive(Debug, Clone, Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,

    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

/// The flags `run` and `create` share: what the container is.
#[derive(Debug, Clone, Args, Default)]
pub struct ContainerOptions {
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,

    /// Assign a name to the container
    #[arg(long = "name", value_name = "string")]
    pub name: Option<String>,

    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,

    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,

    /// Set meta data on a container (key=value)
    #[arg(short = 'l', long = "label", value_name = "list")]
    pub label: Vec<String>,

    /// Bind mount a volume (name:/path[:ro], /host/path:/path[:ro], /path)
    #[arg(short = 'v', long = "volume", value_name = "list")]
    pub volume: Vec<String>,

    /// Attach a filesystem mount to the container (type=volume|bind|tmpfs,…)
    #[arg(long = "mount", value_name = "mount")]
    pub mount: Vec<String>,

    /// Mount a tmpfs directory (/path[:size=64m,mode=1777])
    #[arg(long = "tmpfs", value_name = "list")]
    pub tmpfs: Vec<String>,

    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "list")]
    pub volumes_from: Vec<String>,

    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "string")]
    pub workdir: Option<String>,

    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user", value_name = "string")]
    pub user: Option<String>,

    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long = "entrypoint", value_name = "string")]
    pub entrypoint: Option<String>,

    /// Container host name
    #[arg(short = 'h', long = "hostname", value_name = "string")]
    pub hostname: Option<String>,

    /// Memory limit (e.g. 512m, 1g)
    #[arg(short = 'm', long = "memory", value_name = "bytes")]
    pub memory: Option<String>,

    /// Number of CPUs
    #[arg(long = "cpus", value_name = "decimal")]
    pub cpus: Option<String>,

    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,

    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,

    /// CPU and memory limits beyond these (see cli_limits.rs)
    #[command(flatten)]
    pub limits: LimitOptions,

    /// Restart policy to apply when a container exits (no, always,
    /// on-failure[:max-retries], unless-stopped)
    #[arg(long = "restart", value_name = "string", default_value = "no")]
    pub restart: String,

    /// Connect a container to a network (bridge, NAME, host, none, container:NAME)
    #[arg(long = "network", alias = "net", value_name = "network")]
    pub network: Option<String>,

    /// Ports, addresses, names (see cli_network.rs)
    #[command(flatten)]
    pub net: NetworkOptions,

    /// Automatically remove the container and its associated anonymous
    /// volumes when it exits
    #[arg(long = "rm")]
    pub rm: bool,

    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,

    /// Security Options (seccomp=unconfined, no-new-privileges)
    #[arg(long = "security-opt", value_name = "list")]
    pub security_opt: Vec<String>,

    /// Logging driver for the container (json-file, none)
    #[arg(long = "log-driver", value_name = "string")]
    pub log_driver: Option<String>,

    /// Log driver options (max-size=10m, max-file=3, compress=true)
    #[arg(long = "log-opt", value_name = "list")]
    pub log_opt: Vec<String>,

    /// Capabilities, namespaces, ulimits, sysctls, init, stop (see
    /// cli_process.rs)
    #[command(flatten)]
    pub process: ProcessFlags,

    /// The health check (see cli_health.rs)
    #[command(flatten)]
    pub health: HealthFlags,

    /// Print help
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,

    /// The image to start from
    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,

    /// The command and its arguments (default: the image's)
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// `minidock run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,

    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// What to run, and how.
    #[command(flatten)]
    pub container: ContainerOptions,
}

/// `minidock create`.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// What to create.
    #[command(flatten)]
    pub container: ContainerOptions,
}

/// `minidock exec`.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,

    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,

    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,

    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "string")]
    pub workdir: Option<String>,

    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user", value_name = "string")]
    pub user: Option<String>,

    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,

    /// The command and its arguments
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// `minidock ps`.
#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Only display container IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Filter output based on conditions provided (status, name, id, label,
    /// ancestor, exited)
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,

    /// Format output using a Go template, or "table TEMPLATE"
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,

    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "int")]
    pub last: Option<usize>,

    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long = "latest")]
    pub latest: bool,

    /// Display total file sizes
    #[arg(short = 's', long = "size")]
    pub size: bool,
}

/// `minidock pull`.
#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Set platform if server is multi-platform capable
    #[arg(long = "platform", value_name = "string")]
    pub platform: Option<String>,

    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// The image
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub name: String,
}

/// `minidock push`.
#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// The image
    #[arg(value_name = "NAME[:TAG]")]
    pub name: String,
}

/// `minidock images`.
#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Only show image IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Filter output based on conditions provided (dangling, label,
    /// reference)
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,

    /// Format output using a Go template, or "table TEMPLATE"
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,

    /// Only images of this repository (and tag)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `minidock login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short = 'u', long = "username", value_name = "string")]
    pub username: Option<String>,

    /// Password
    #[arg(short = 'p', long = "password", value_name = "string")]
    pub password: Option<String>,

    /// Take the password from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,

    /// The registry (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

/// `minidock start`.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long = "attach")]
    pub attach: bool,

    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// Attach container's STDIN
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

    /// The containers
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `minidock stop`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal", value_name = "string")]
    pub signal: Option<String>,

    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub timeout: Option<i64>,

    /// The containers
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `minidock kill`.
#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal", value_name = "string")]
    pub signal: Option<String>,

    /// The containers
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `minidock restart`.
#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub timeout: Option<i64>,

    /// The containers
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// Commands that take only container names: `pause`, `unpause`, `wait`.
#[derive(Debug, Clone, Args)]
pub struct ContainersArgs {
    /// The containers
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `minidock rm`.
#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long = "force")]
    pub force: bool,

    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,

    /// The containers
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `minidock logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,

    /// Show timestamps
    #[arg(short = 't', long = "timestamps")]
    pub timestamps: bool,

    /// Number of lines to show from the end of the logs
    #[arg(
        short = 'n',
        long = "tail",
        value_name = "string",
        default_value = "all"
    )]
    pub tail: String,

    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `minidock inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a Go template, e.g. '{{.State.Status}}' or
    /// '{{json .Config}}'
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,

    /// The containers or images
    #[arg(value_name = "NAME|ID", required = true)]
    pub names: Vec<String>,
}

/// `minidock top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,

    /// Options for ps (default -ef)
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_args: Vec<String>,
}

/// `minidock stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream")]
    pub no_stream: bool,

    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// The containers (default: all running ones)
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// `minidock rmi`.
#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long = "force")]
    pub force: bool,

    /// The images
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `minidock tag`.
#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    /// The existing image
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,

    /// The new name
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// `minidock load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long = "input", value_name = "string")]
    pub input: Option<String>,

    /// Suppress the load output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

/// `minidock save`.
#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output", value_name = "string")]
    pub output: Option<String>,

    /// The images
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `minidock import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list")]
    pub changes: Vec<String>,

    /// Set commit message for imported image
    #[arg(short = 'm', long = "message", value_name = "string")]
    pub message: Option<String>,

    /// A tar of a root file system, or `-` for stdin
    #[arg(value_name = "file|-")]
    pub file: String,

    /// The name to give the image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("minidock").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?} does not parse: {e}"))
    }

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_stops_parsing_its_flags_at_the_image() {
        let cli = parse(&["run", "-it", "--rm", "busybox", "ls", "-l", "--rm", "-d"]);
        let Command::Run(Lazy(run)) = cli.command else {
            panic!("not run")
        };
        assert!(run.container.interactive && run.container.tty && run.container.rm);
        assert!(!run.detach);
        assert_eq!(run.container.image, "busybox");
        assert_eq!(run.container.command, ["ls", "-l", "--rm", "-d"]);
    }

    #[test]
    fn run_takes_dockers_short_flags() {
        let cli = parse(&[
            "run",
            "-dit",
            "-h",
            "box",
            "-m",
            "64m",
            "-e",
            "A=1",
            "-e",
            "B=2",
            "-v",
            "/a:/b:ro",
            "-w",
            "/tmp",
            "-u",
            "1:2",
            "--pids-limit",
            "-1",
            "busybox",
        ]);
        let Command::Run(Lazy(run)) = cli.command else {
            panic!("not run")
        };
        let c = run.container;
        assert!(run.detach && c.interactive && c.tty);
        assert_eq!(c.hostname.as_deref(), Some("box"));
        assert_eq!(c.memory.as_deref(), Some("64m"));
        assert_eq!(c.env, ["A=1", "B=2"]);
        assert_eq!(c.volume, ["/a:/b:ro"]);
        assert_eq!(c.pids_limit, Some(-1));
        assert!(c.command.is_empty());
    }

    #[test]
    fn exec_keeps_the_commands_flags() {
        let cli = parse(&["exec", "-it", "box", "sh", "-c", "echo -n hi"]);
        let Command::Exec(Lazy(exec)) = cli.command else {
            panic!("not exec")
        };
        assert!(exec.interactive && exec.tty);
        assert_eq!(exec.command, ["sh", "-c", "echo -n hi"]);
    }

    #[test]
    fn unknown_flags_and_missing_images_are_errors() {
        for args in [
            &["run"][..],
            &["run", "--bogus", "busybox"],
            &["exec", "box"],
            &["run", "--publish"],
        ] {
            let full = std::iter::once("minidock").chain(args.iter().copied());
            assert!(Cli::try_parse_from(full).is_err(), "{args:?} parsed");
        }
    }

    #[test]
    fn host_and_context_are_flags() {
        // MINIDOCK_HOST is read by `connect::choose`, after `--context`.
        assert_eq!(parse(&["ps"]).host, None);
        assert_eq!(
            parse(&["-H", "unix:///x.sock", "ps"]).host.as_deref(),
            Some("unix:///x.sock")
        );
        assert_eq!(parse(&["-c", "lab", "ps"]).context.as_deref(), Some("lab"));
        assert_eq!(
            parse(&["--context", "lab", "ps"]).context.as_deref(),
            Some("lab")
        );
    }
}
