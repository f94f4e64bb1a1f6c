//! `ctr`: a daemonless container CLI on top of this chapter.
//!
//! ```text
//! cargo run -p minidock-lifecycle --example ctr -- create busybox.tar sh -c 'echo hi'
//! cargo run -p minidock-lifecycle --example ctr -- start 3f2a
//! cargo run -p minidock-lifecycle --example ctr -- logs 3f2a
//! ```
//!
//! Every invocation is a short-lived process: containers live on in their
//! shims, and their state on disk. The program re-executes itself as shim,
//! init helper and exec helper (see `minidock_lifecycle::reexec`), so it
//! needs no other binary. Run it as root.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use minidock_lifecycle::attach::{read_frame, write_frame, Frame};
use minidock_lifecycle::config::{Bind, HostConfig, UserConfig};
use minidock_lifecycle::logs::LogOptions;
use minidock_lifecycle::runtime::default_config;
use minidock_lifecycle::signal::parse_signal;
use minidock_lifecycle::state::State;
use minidock_lifecycle::time::Timestamp;
use minidock_lifecycle::{CreateOptions, ExecOptions, Runtime, WaitCondition};

#[derive(Parser)]
#[command(
    name = "ctr",
    about = "A daemonless container CLI (minidock chapter 03)"
)]
struct Cli {
    /// Engine root (images and containers) [default: $MINIDOCK_ROOT or /var/lib/minidock]
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    /// Run directory (shim sockets) [default: $MINIDOCK_RUN or /run/minidock]
    #[arg(long, global = true)]
    run_dir: Option<PathBuf>,
    /// The cgroup parent group
    #[arg(long, global = true, default_value = "minidock")]
    cgroup_parent: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args)]
struct CreateArgs {
    #[arg(long)]
    name: Option<String>,
    /// KEY=VALUE
    #[arg(short, long = "env")]
    env: Vec<String>,
    #[arg(short, long)]
    user: Option<String>,
    #[arg(short, long = "workdir")]
    workdir: Option<String>,
    #[arg(long)]
    entrypoint: Option<String>,
    #[arg(long)]
    hostname: Option<String>,
    /// Memory limit: bytes, or with k/m/g
    #[arg(short, long)]
    memory: Option<String>,
    #[arg(long)]
    cpus: Option<f64>,
    #[arg(long)]
    pids_limit: Option<u64>,
    /// /host:/container[:ro]
    #[arg(short, long = "volume")]
    volume: Vec<String>,
    #[arg(long, default_value = "none")]
    network: String,
    #[arg(long, default_value = "no")]
    restart: String,
    /// Remove the container when it exits
    #[arg(long)]
    rm: bool,
    #[arg(short, long)]
    tty: bool,
    #[arg(short, long)]
    interactive: bool,
    /// An image of the store (name or id), or an archive to load first
    /// (docker save tar, OCI layout directory or tar)
    image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    cmd: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load images from an archive
    Load {
        archive: PathBuf,
    },
    /// List images
    Images,
    /// Create a container
    Create(CreateArgs),
    /// Create, start attached, wait: exits with the container's code
    Run(CreateArgs),
    /// Start a container
    Start {
        #[arg(short, long)]
        attach: bool,
        id: String,
    },
    /// List containers
    Ps,
    /// Show a container's output
    Logs {
        #[arg(short, long)]
        follow: bool,
        #[arg(short, long)]
        timestamps: bool,
        #[arg(long)]
        tail: Option<usize>,
        #[arg(long)]
        since: Option<String>,
        id: String,
    },
    /// Stop: the stop signal, then SIGKILL after the timeout
    Stop {
        #[arg(short, long)]
        time: Option<u64>,
        id: String,
    },
    /// Send a signal
    Kill {
        #[arg(short, long, default_value = "SIGKILL")]
        signal: String,
        id: String,
    },
    Pause {
        id: String,
    },
    Unpause {
        id: String,
    },
    Restart {
        id: String,
    },
    /// Remove a container (-f kills it first)
    Rm {
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Wait for the container to stop; prints its exit code
    Wait {
        id: String,
    },
    /// Run a command in a running container
    Exec {
        #[arg(short, long)]
        user: Option<String>,
        #[arg(short, long = "workdir")]
        workdir: Option<String>,
        #[arg(short, long = "env")]
        env: Vec<String>,
        id: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        cmd: Vec<String>,
    },
    /// The processes of a container
    Top {
        id: String,
    },
    /// Resource usage of a container
    Stats {
        id: String,
    },
    /// The container's config and state as JSON
    Inspect {
        id: String,
    },
}

fn main() -> ExitCode {
    minidock_lifecycle::reexec::dispatch();
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ctr: {e:#}");
            ExitCode::from(125)
        }
    }
}

fn runtime(cli: &Cli) -> Result<Runtime> {
    let exe = std::env::current_exe().context("find this program")?;
    let mut config = default_config(&exe);
    if let Some(r) = &cli.root {
        config.root = r.clone();
    }
    if let Some(r) = &cli.run_dir {
        config.run_dir = r.clone();
    }
    config.cgroup_parent = cli.cgroup_parent.clone();
    Runtime::new(config).context("open the engine root (run as root)")
}

fn run(cli: Cli) -> Result<u8> {
    let rt = runtime(&cli)?;
    let id = |r: &str| rt.resolve(r);
    match &cli.command {
        Cmd::Load { archive } => {
            for image in rt.images().load(archive)? {
                println!("Loaded image: {}", image.id);
            }
        }
        Cmd::Images => {
            for image in rt.images().list()? {
                let tags: Vec<String> = image.references.iter().map(|r| r.to_string()).collect();
                println!("{}  {}", image.id.short(), tags.join(", "));
            }
        }
        Cmd::Create(args) => println!("{}", create(&rt, args)?),
        Cmd::Run(args) => {
            let id = create(&rt, args)?;
            let stream = rt.start_attached(&id)?;
            let code = attach_io(stream, args.interactive)?;
            return Ok(code.clamp(0, 255) as u8);
        }
        Cmd::Start { attach, id: r } => {
            let id = id(r)?;
            if *attach {
                let stream = rt.start_attached(&id)?;
                return Ok(attach_io(stream, false)?.clamp(0, 255) as u8);
            }
            rt.start(&id)?;
            println!("{}", id.short());
        }
        Cmd::Ps => {
            println!(
                "{:<12}  {:<20}  {:<8}  {:<28}  COMMAND",
                "CONTAINER ID", "NAME", "STATUS", "SINCE"
            );
            for (c, r) in rt.list()? {
                let (status, since) = match &r.state {
                    State::Exited {
                        code, finished_at, ..
                    } => (format!("exited({code})"), finished_at.to_string()),
                    State::Running { started_at, .. } | State::Paused { started_at, .. } => {
                        (r.state.name().to_string(), started_at.to_string())
                    }
                    s => (s.name().to_string(), c.created.to_string()),
                };
                println!(
                    "{:<12}  {:<20}  {:<8}  {:<28}  {}",
                    c.id.short(),
                    c.name,
                    status,
                    since,
                    c.config.args().join(" ")
                );
            }
        }
        Cmd::Logs {
            follow,
            timestamps,
            tail,
            since,
            id: r,
        } => {
            let options = LogOptions {
                follow: *follow,
                tail: *tail,
                since: since.as_deref().map(Timestamp::parse).transpose()?,
                ..Default::default()
            };
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            rt.logs(&id(r)?, &options, |e| {
                let text = e.format(*timestamps);
                match e.stream {
                    minidock_lifecycle::logs::Stream::Stdout => out.write_all(text.as_bytes()),
                    minidock_lifecycle::logs::Stream::Stderr => err.write_all(text.as_bytes()),
                }
            })?;
        }
        Cmd::Stop { time, id: r } => {
            let id = id(r)?;
            let outcome = rt.stop(&id, time.map(Duration::from_secs))?;
            println!(
                "{} {}",
                id.short(),
                match outcome {
                    None => "was not running",
                    Some(minidock_lifecycle::signal::StopOutcome::Graceful) => "stopped",
                    Some(minidock_lifecycle::signal::StopOutcome::Killed) =>
                        "killed after the timeout",
                }
            );
        }
        Cmd::Kill { signal, id: r } => rt.kill(&id(r)?, parse_signal(signal)?)?,
        Cmd::Pause { id: r } => rt.pause(&id(r)?)?,
        Cmd::Unpause { id: r } => rt.unpause(&id(r)?)?,
        Cmd::Restart { id: r } => rt.restart(&id(r)?, None)?,
        Cmd::Rm { force, id: r } => rt.remove(&id(r)?, *force)?,
        Cmd::Wait { id: r } => println!("{}", rt.wait(&id(r)?, WaitCondition::NotRunning)?.code),
        Cmd::Exec {
            user,
            workdir,
            env,
            id: r,
            cmd,
        } => {
            let process = rt.exec(
                &id(r)?,
                ExecOptions {
                    args: cmd.clone(),
                    env: env.clone(),
                    user: user.clone(),
                    working_dir: workdir.clone(),
                    tty: false,
                    stdin: false,
                },
            )?;
            let (code, out, err) = process.wait_with_output()?;
            std::io::stdout().write_all(&out)?;
            std::io::stderr().write_all(&err)?;
            return Ok(code.clamp(0, 255) as u8);
        }
        Cmd::Top { id: r } => {
            println!("{:>8}  CMD", "PID");
            for p in rt.top(&id(r)?)? {
                println!("{:>8}  {}", p.pid, p.cmd);
            }
        }
        Cmd::Stats { id: r } => {
            let s = rt.stats(&id(r)?)?;
            println!(
                "memory {} bytes (limit {}), cpu {} ns, pids {} (limit {})",
                s.memory_usage,
                s.memory_limit.map_or("none".into(), |l| l.to_string()),
                s.cpu_usage_ns,
                s.pids_current,
                s.pids_limit.map_or("none".into(), |l| l.to_string())
            );
        }
        Cmd::Inspect { id: r } => {
            let (c, s) = rt.inspect(&id(r)?)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "Container": c, "State": s }))?
            );
        }
    }
    Ok(0)
}

fn create(rt: &Runtime, a: &CreateArgs) -> Result<minidock_lifecycle::ContainerId> {
    let image = if Path::new(&a.image).exists() {
        let loaded = rt.images().load(Path::new(&a.image))?;
        let Some(first) = loaded.first() else {
            bail!("{} holds no image", a.image)
        };
        first.id.to_string()
    } else {
        a.image.clone()
    };
    let host_config = HostConfig {
        memory: a
            .memory
            .as_deref()
            .map(parse_size)
            .transpose()?
            .unwrap_or(0),
        nano_cpus: a.cpus.map_or(0, |c| (c * 1e9) as u64),
        pids_limit: a.pids_limit,
        binds: a
            .volume
            .iter()
            .map(|v| v.parse::<Bind>())
            .collect::<Result<_, _>>()?,
        restart_policy: a.restart.parse()?,
        auto_remove: a.rm,
        network_mode: a.network.parse()?,
        ..Default::default()
    };
    let config = UserConfig {
        entrypoint: a.entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                vec![]
            } else {
                vec![e.clone()]
            }
        }),
        cmd: (!a.cmd.is_empty()).then(|| a.cmd.clone()),
        env: a.env.clone(),
        working_dir: a.workdir.clone(),
        user: a.user.clone(),
        hostname: a.hostname.clone(),
        tty: a.tty,
        open_stdin: a.interactive,
        ..Default::default()
    };
    Ok(rt.create(CreateOptions {
        image,
        name: a.name.clone(),
        config,
        host_config,
    })?)
}

/// `16m` → 16 MiB.
fn parse_size(s: &str) -> Result<u64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s.as_str(), ""),
    };
    let n: u64 = num.parse().with_context(|| format!("bad size {s:?}"))?;
    let mult = match unit {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => bail!("bad size unit in {s:?}: use k, m or g"),
    };
    Ok(n * mult)
}

/// Copies the container's output to ours (and, with `stdin`, our stdin to
/// the container's) until it exits; returns its exit code.
fn attach_io(mut stream: std::os::unix::net::UnixStream, stdin: bool) -> Result<i32> {
    if stdin {
        let mut writer = stream.try_clone()?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut input = std::io::stdin();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 || write_frame(&mut writer, &Frame::Stdin(buf[..n].to_vec())).is_err() {
                    break;
                }
            }
            write_frame(&mut writer, &Frame::CloseStdin).ok();
        });
    }
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some(frame) = read_frame(&mut stream)? {
        match frame {
            Frame::Stdout(b) => {
                out.write_all(&b)?;
                out.flush()?;
            }
            Frame::Stderr(b) => err.write_all(&b)?,
            Frame::Exit(code) => return Ok(code),
            _ => {}
        }
    }
    bail!("the shim closed the attach stream without an exit code")
}
