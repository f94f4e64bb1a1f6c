//! One module per family of commands; each command turns its flags into
//! calls of the daemon's client library and prints the answers.
//!
//! A command returns the process exit code (`Ok(0)`, or a container's
//! code) or a [`Failure`] with Docker's message and code.

pub mod build;
mod completion;
mod containers;
mod context;
mod copy;
mod exec;
mod health;
mod images;
mod inspect;
mod list;
mod list_images;
mod network;
mod process;
mod prune;
mod run;
mod stats;
mod streams;
mod system;
mod update;
mod volumes;

use crate::cli::{Cli, Command, Lazy};
use crate::error::Failure;
use minidock_client::Client;

pub use crate::cli_volume::VolumeCommand;
pub use images::registry_auth;
pub use run::container_create_body;
pub use stats::{cpu_percent, memory_used};

/// What every command needs: the client of the daemon.
pub struct Context {
    /// The client of the daemon.
    pub client: Client,
}

/// Runs the parsed command line: the commands that need no daemon
/// first, then the others with the client of the daemon that `-H`,
/// `--context`, the environment or the current context chose.
pub fn dispatch(cli: Cli) -> Result<i32, Failure> {
    use crate::connect;
    let command = match cli.command {
        Command::Context(Lazy(command)) => {
            let chooser = context::Chooser {
                host_flag: cli.host.as_deref(),
                context_flag: cli.context.as_deref(),
            };
            return context::context(&chooser, command);
        }
        Command::Completion(Lazy(args)) => return completion::completion(args.shell),
        Command::Man(Lazy(args)) => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&args.dir)
                .map_err(|e| Failure::new(format!("{}: cannot create: {e}", args.dir.display())))?;
            clap_mangen::generate_to(Cli::command(), &args.dir).map_err(|e| {
                Failure::new(format!(
                    "{}: cannot write the manual pages: {e}",
                    args.dir.display()
                ))
            })?;
            return Ok(0);
        }
        command => command,
    };
    let store = crate::context_store::ContextStore::from_env();
    let env = connect::Env::from_process();
    let target = connect::resolve(cli.host.as_deref(), cli.context.as_deref(), &env, &store)?;
    let ctx = Context {
        client: connect::client_for_target(&target, &cli.tls)?,
    };
    run_command(&ctx, command)
}

fn run_command(ctx: &Context, command: Command) -> Result<i32, Failure> {
    match command {
        Command::Run(Lazy(args)) => run::run(ctx, args),
        Command::Network(Lazy(command)) => network::network(ctx, command),
        Command::Port(Lazy(args)) => network::port(ctx, args),
        Command::Create(Lazy(args)) => run::create(ctx, args),
        Command::Exec(Lazy(args)) => exec::exec(ctx, args),
        Command::Start(Lazy(args)) => containers::start(ctx, args),
        Command::Stop(Lazy(args)) => containers::stop(ctx, args),
        Command::Kill(Lazy(args)) => containers::kill(ctx, args),
        Command::Restart(Lazy(args)) => containers::restart(ctx, args),
        Command::Pause(Lazy(args)) => containers::pause(ctx, args),
        Command::Unpause(Lazy(args)) => containers::unpause(ctx, args),
        Command::Rm(Lazy(args)) => containers::rm(ctx, args),
        Command::Wait(Lazy(args)) => containers::wait(ctx, args),
        Command::Logs(Lazy(args)) => containers::logs(ctx, args),
        Command::Top(Lazy(args)) => stats::top(ctx, args),
        Command::Stats(Lazy(args)) => stats::stats(ctx, args),
        Command::Ps(Lazy(args)) => list::ps(ctx, args),
        Command::Inspect(Lazy(args)) => inspect::inspect(ctx, args),
        Command::Images(Lazy(args)) => list_images::images(ctx, args),
        Command::Pull(Lazy(args)) => images::pull(ctx, args),
        Command::Push(Lazy(args)) => images::push(ctx, args),
        Command::Rmi(Lazy(args)) => images::rmi(ctx, args),
        Command::Tag(Lazy(args)) => images::tag(ctx, args),
        Command::Load(Lazy(args)) => images::load(ctx, args),
        Command::Save(Lazy(args)) => images::save(ctx, args),
        Command::Import(Lazy(args)) => images::import(ctx, args),
        Command::Build(Lazy(args)) => build::build(ctx, args),
        Command::Commit(Lazy(args)) => build::commit(ctx, args),
        Command::Export(Lazy(args)) => build::export(ctx, args),
        Command::Login(Lazy(args)) => images::login(ctx, args),
        Command::Logout(Lazy(args)) => images::logout(args),
        Command::Container(Lazy(command)) => match command.into_command() {
            Ok(command) => run_command(ctx, command),
            Err(prune) => prune::containers(ctx, prune),
        },
        Command::Image(Lazy(command)) => match command.into_command() {
            Ok(command) => run_command(ctx, command),
            Err(prune) => prune::images(ctx, prune),
        },
        Command::System(Lazy(crate::cli::SystemCommand::Prune(args))) => prune::system(ctx, args),
        Command::System(Lazy(crate::cli::SystemCommand::Df)) => volumes::system_df(ctx),
        Command::Volume(Lazy(command)) => volumes::volume(ctx, command),
        Command::Attach(Lazy(args)) => containers::attach(ctx, args),
        Command::Rename(Lazy(args)) => {
            ctx.client.container_rename(&args.container, &args.name)?;
            Ok(0)
        }
        Command::Cp(Lazy(args)) => copy::cp(ctx, args),
        Command::Update(Lazy(args)) => update::update(ctx, args),
        Command::Diff(Lazy(args)) => {
            for change in ctx.client.container_changes(&args.container)? {
                let letter = match change.kind {
                    0 => 'C',
                    1 => 'A',
                    _ => 'D',
                };
                println!("{letter} {}", change.path);
            }
            Ok(0)
        }
        Command::History(Lazy(args)) => list_images::history(ctx, args),
        Command::Events(Lazy(args)) => system::events(ctx, args),
        Command::Version => system::version(ctx),
        Command::Info => system::info(ctx),
        Command::Desktop(Lazy(args)) => crate::desktop::desktop(ctx.client.clone(), args),
        Command::Context(Lazy(_)) | Command::Completion(Lazy(_)) | Command::Man(Lazy(_)) => {
            unreachable!("dispatch runs the commands that need no daemon itself")
        }
    }
}

/// Runs `action` on each name, printing what it returns on success and
/// the error otherwise, like the docker CLI's multi-container commands; the
/// exit code is 1 if any failed.
fn for_each(
    names: &[String],
    mut action: impl FnMut(&str) -> Result<Option<String>, Failure>,
) -> Result<i32, Failure> {
    let mut failed = false;
    for name in names {
        match action(name) {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => {}
            Err(failure) => {
                failed = true;
                if !failure.message.is_empty() {
                    eprintln!("{failure}");
                }
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
