//! Arguments built only for the command that runs.
//!
//! clap's derive builds the arguments of every command for each parse:
//! with ~50 commands, each with its flags, that was most of the client's
//! start-up before it connects (0.7 ms of ~2 ms, measured with hyperfine on
//! `minidock -H unix:///nonexistent run --rm busybox true`). [`Lazy`] wraps a
//! command's arguments (or a group's subcommands) so that clap builds them
//! with [`clap::Command::defer`]: only when that command is the one parsed,
//! or when help, completion scripts or manual pages build the whole tree.
//!
//! Why not the derive's own `#[command(defer = true)]`: it builds the
//! arguments *after* the variant's attributes, so the doc comment of the
//! arguments' struct (`` `minidock ps`. ``) would replace the variant's
//! about text (`List containers`) in `minidock ps --help`. [`Lazy`] keeps
//! the variant's.

use std::ops::{Deref, DerefMut};

use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};

/// A command's arguments (`Lazy<RunArgs>`) or subcommands
/// (`Lazy<NetworkCommand>`), built by clap only when needed.
#[derive(Debug, Clone)]
pub struct Lazy<T>(pub T);

impl<T> Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Runs `build` on `cmd`, keeping the about texts `cmd` had (the
/// variant's, as an eager build would).
fn keeping_about(cmd: Command, build: fn(Command) -> Command) -> Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let mut cmd = build(cmd);
    if let Some(about) = about {
        cmd = cmd.about(about);
    }
    // None too: an eager build also resets it when the variant's doc
    // comment has no long part.
    match long_about {
        Some(long_about) => cmd.long_about(long_about),
        None => cmd.long_about(None::<&str>),
    }
}

fn args<T: Args>(cmd: Command) -> Command {
    keeping_about(cmd, T::augment_args)
}

fn args_for_update<T: Args>(cmd: Command) -> Command {
    keeping_about(cmd, T::augment_args_for_update)
}

fn subcommands<T: Subcommand>(cmd: Command) -> Command {
    keeping_about(cmd, T::augment_subcommands)
}

fn subcommands_for_update<T: Subcommand>(cmd: Command) -> Command {
    keeping_about(cmd, T::augment_subcommands_for_update)
}

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: Command) -> Command {
        cmd.defer(args::<T>)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(args_for_update::<T>)
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: Subcommand> Subcommand for Lazy<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        cmd.defer(subcommands::<T>)
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        cmd.defer(subcommands_for_update::<T>)
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::Cli;

    /// What `minidock ARGS --help` prints.
    fn help(args: &[&str]) -> String {
        let args = ["minidock"].iter().chain(args).chain(&["--help"]);
        let e = Cli::try_parse_from(args).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp, "{e}");
        e.to_string()
    }

    use clap::Parser;

    #[test]
    fn a_command_is_built_only_when_parsed_and_keeps_its_about() {
        // Before any parse: the commands are there, their flags are not.
        let cli = Cli::command();
        let run = cli.find_subcommand("run").unwrap();
        assert_eq!(run.get_arguments().count(), 0, "run's flags were built");
        let network = cli.find_subcommand("network").unwrap();
        assert_eq!(network.get_subcommands().count(), 0);

        // Parsing builds what it enters, with the variant's about text.
        let text = help(&["ps"]);
        assert!(text.starts_with("List containers\n"), "{text}");
        assert!(text.contains("--all"), "{text}");
        let text = help(&["run"]);
        assert!(text.starts_with("Create and run a new container"), "{text}");
        assert!(text.contains("--publish"), "{text}");
        let text = help(&["network", "create"]);
        assert!(text.starts_with("Create a network"), "{text}");
        assert!(text.contains("--subnet"), "{text}");
        let text = help(&["network"]);
        assert!(text.starts_with("Manage networks"), "{text}");
        assert!(text.contains("connect"), "{text}");

        // And the whole tree, for completion and manual pages.
        let mut cli = Cli::command();
        cli.build();
        let run = cli.find_subcommand("run").unwrap();
        assert!(run.get_arguments().any(|a| a.get_long() == Some("publish")));
        assert_eq!(
            run.get_about().map(ToString::to_string).as_deref(),
            Some("Create and run a new container from an image")
        );
    }
}
