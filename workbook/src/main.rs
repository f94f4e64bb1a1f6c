//! `cargo workbook`: the learner's tool for the minidock book.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use minidock_workbook::commands::{
    book, check, diff, doctor, hint, list, solution, start, try_its, verify, watch,
};
use minidock_workbook::{signals, workspace};

/// The workbook of the minidock book: turn a chapter's reference code into exercises, check
/// your progress, get hints and solutions.
#[derive(Debug, Parser)]
#[command(
    name = "cargo workbook",
    bin_name = "cargo workbook",
    version,
    long_about = "The workbook of the minidock book.\n\n\
        Each chapter crate (chapters/NN-topic/) marks exercises in its reference code:\n\n    \
        // exercise 1.7 pivot-root: make the rootfs the new root with pivot_root.\n    \
        // hint: …\n    \
        …reference code…\n    \
        // end exercise\n\n\
        `start` replaces each body with todo!(), you write it again, and `check` runs the \
        chapter's tests to tell you how far you are.",
    after_help = "A chapter, start to finish:\n  \
        cargo workbook doctor          is this machine ready?\n  \
        cargo workbook start 1         chapter 1's exercises become todo!()\n  \
        cargo workbook check 1         run the tests (as root for chapters that need it)\n  \
        cargo workbook watch 1         the same, again each time you save\n  \
        cargo workbook hint 1.1        stuck? one more hint each time\n  \
        cargo workbook diff 1          your code beside the reference\n  \
        cargo workbook solution 1.1    give up on one: the reference comes back\n\n\
        Tests that make namespaces and mounts need root; run them with:\n  \
        sudo -E env \"PATH=$PATH\" cargo workbook check 1"
)]
struct Cli {
    /// The minidock checkout to work on (default: the Cargo workspace around the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    workspace_root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that this machine has what the chapters need (root, kernel, namespaces, cgroups, tools).
    #[command(
        long_about = "Check that this machine has what the chapters need: root, a kernel of 5.6 or newer, \
            every namespace kind, overlayfs, cgroups with the cpu, memory and pids controllers, \
            a static /bin/busybox, docker-registry, skopeo, umoci, git, and (optionally) mdbook.\n\n\
            Each missing piece comes with the command that fixes it. Exits with 1 when something \
            required is missing."
    )]
    Doctor,

    /// List the chapters and their exercises, each marked reference, todo or learner-modified.
    #[command(
        long_about = "List the chapters and their exercises (ids like `1.7 pivot-root`) with their status:\n  \
            reference         the body is the reference code\n  \
            todo              the body is todo!(): yours to write\n  \
            learner-modified  the body is your own (it differs from the reference)"
    )]
    List,

    /// Turn chapter N into exercises: each exercise body becomes todo!().
    #[command(
        long_about = "Turn chapter N into exercises: each exercise body in chapters/NN-*/src becomes \
            todo!(\"exercise N.M name: task\"), keeping the header; the hints leave the file \
            (`cargo workbook hint` gives them one at a time, from the recorded commit).\n\n\
            Refuses while the git tree has uncommitted changes, and records the current commit in \
            .workbook/state.json as the chapter's reference, so `solution` and `diff` can always \
            find the original code."
    )]
    Start {
        /// The chapter number (1 for chapters/01-namespaces).
        chapter: u32,
        /// Start a chapter that was started before again (your bodies become todo!() again).
        #[arg(long)]
        force: bool,
    },

    /// Run a chapter's tests and show which exercises pass (✓) and which do not (✗).
    #[command(
        long_about = "Run `cargo test -p <chapter crate>` and show a dashboard: each exercise ✓ or ✗, then \
            the first one to work on with its hint, the book section to read, and the failing \
            test's message in plain words.\n\n\
            ✓ means a test that checks the exercise ran and passed: one of its guard tests (the \
            tests `verify` saw fail without it, recorded in workbook/guards/). An exercise is ✗ \
            while its body is todo!(), when a failing test points at it (its id in the message, \
            a location inside it, or its name in the test's name), or when it does not compile. \
            It is `blocked by 1.2` when its tests stop at an earlier exercise, and `untested` \
            when none of them ran.\n\n\
            When the crate does not compile, the exercise holding the compiler error comes first.\n\n\
            Without N: the chapters you started, or all chapters with exercises if none. \
            Exits with 0 when every exercise is ✓ and every test passes."
    )]
    Check {
        /// The chapter to check.
        chapter: Option<u32>,
        /// Passed to the tests as --test-threads.
        #[arg(long, value_name = "N")]
        test_threads: Option<usize>,
        /// Show cargo's output as it runs.
        #[arg(short, long)]
        verbose: bool,
    },

    /// Check chapter N again each time one of its files is saved (Ctrl-C stops).
    Watch {
        /// The chapter to watch.
        chapter: u32,
        /// Passed to the tests as --test-threads.
        #[arg(long, value_name = "N")]
        test_threads: Option<usize>,
    },

    /// Show the hints of an exercise, one more each time.
    #[command(
        long_about = "Show the hints of an exercise, least specific first. Each call shows one more \
            (the count is kept in .workbook/state.json); --level K shows the first K."
    )]
    Hint {
        /// The exercise: `1.7`, `pivot-root` or `1.7-pivot-root`.
        id: String,
        /// Show the first K hints.
        #[arg(long, value_name = "K")]
        level: Option<usize>,
    },

    /// Put the reference code back for one exercise (ID) or a whole chapter (N).
    #[command(
        long_about = "Put the reference code back, for one exercise (`1.7`, `pivot-root`) or every \
            exercise of a chapter (`1`), from the commit `start` recorded (HEAD for a chapter not \
            started). A body you wrote is saved in .workbook/replaced/ first."
    )]
    Solution {
        /// An exercise id (`1.7`, `pivot-root`) or a chapter number (`1`).
        target: String,
    },

    /// Show your code beside the reference for each exercise of chapter N (unified diff).
    Diff {
        /// The chapter number.
        chapter: u32,
    },

    /// For maintainers and CI: prove every exercise is linked from the book and guarded by a test.
    #[command(long_about = "For maintainers and CI. Checks that:\n  \
            1. every exercise id is unique and linked from the book (ex-N.M or the id in book/src/*.md);\n  \
            2. the reference code passes every test of each chapter with exercises;\n  \
            3. with every exercise of a chapter todo!(), as `start` leaves it, the chapter \
            compiles without warnings that give an answer away (unused imports, dead code; \
            unused variables are allowed);\n  \
            4. for each exercise alone, replacing its body with todo!() still compiles and makes \
            at least one test of its chapter fail (with --record-guards, those tests are written \
            to workbook/guards/<chapter>.json, the record `check` gives ✓ by).\n\n\
            Steps 3 and 4 edit source files and restore them byte for byte, also on errors and Ctrl-C; \
            each original is kept in .workbook/verify-backup/ meanwhile. If a crash leaves a backup \
            behind, verify refuses to start until `verify --restore` puts it back.\n\n\
            Prints a table; exits with 1 if any exercise fails a check.")]
    Verify {
        /// Only this chapter.
        #[arg(long, value_name = "N")]
        chapter: Option<u32>,
        /// Put back the files an interrupted run left in .workbook/verify-backup/, then stop.
        #[arg(long)]
        restore: bool,
        /// Passed to the tests as --test-threads.
        #[arg(long, value_name = "N")]
        test_threads: Option<usize>,
        /// Show cargo's output as it runs.
        #[arg(short, long)]
        verbose: bool,
        /// Seconds one exercise's test run may take; a run that hangs longer is stopped and
        /// counts as failing (the exercise broke something the tests wait for).
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        timeout: u64,
        /// Write the tests that guard each exercise to workbook/guards/<chapter>.json, which
        /// `check` needs to show ✓ (commit the file with the chapter).
        #[arg(long)]
        record_guards: bool,
        /// Skip step 4, the test run per exercise (the slow part).
        #[arg(long, conflicts_with = "record_guards")]
        skip_guards: bool,
    },

    /// For the book build: mdBook's preprocessor that shows each exercise as todo!() with the
    /// reference behind a reveal (book/book.toml runs it).
    #[command(hide = true)]
    MdbookPreprocessor {
        /// `supports RENDERER` when mdBook asks; nothing when it hands over the book.
        args: Vec<String>,
    },

    /// For maintainers and CI: prove the rendered book prints no exercise's answer outside a
    /// reveal.
    #[command(
        long_about = "For maintainers and CI: reads every HTML page of the rendered book \
            (default book/book, after `mdbook build book`) and fails when the reference body of \
            an exercise can be read outside its reveal."
    )]
    CheckBook {
        /// The rendered book.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },

    /// For maintainers and CI: type every runnable shell block of the book and compare the
    /// output with the book's.
    #[command(
        long_about = "For maintainers and CI: runs every ```console,runnable block of \
            book/src (in SUMMARY.md order, one root shell session, from the workspace root, \
            with a scratch tmpfs on /tmp in a mount namespace of its own) after building the \
            workspace's binaries and examples, and compares each command's output with the \
            lines the book shows below it.\n\n\
            In the book's output, `[..]` matches any text within a line and a line `...` any \
            number of lines (ids, times, sizes); a command shown without output must print \
            nothing. Exits with 1 when a command's output differs."
    )]
    TryIts {
        /// Only these pages (`01-namespaces`), still in the book's order.
        pages: Vec<String>,
        /// Seconds one command may take before the session is stopped.
        #[arg(long, value_name = "SECONDS", default_value_t = 180)]
        timeout: u64,
        /// Do not build first (the binaries are fresh).
        #[arg(long)]
        no_build: bool,
    },
}

fn run(cli: Cli) -> Result<bool> {
    if let Command::Doctor = cli.command {
        return doctor::run();
    }
    if let Command::MdbookPreprocessor { args } = &cli.command {
        // Needs no workspace: it works on the Markdown mdBook hands over.
        return book::preprocessor(args);
    }
    let root = match cli.workspace_root {
        Some(dir) => workspace::find_root(&std::fs::canonicalize(&dir).unwrap_or(dir))?,
        None => workspace::find_root(&std::env::current_dir()?)?,
    };
    if let Command::Verify { restore: true, .. } = cli.command {
        // Restoring must work even when a half-edited file no longer parses.
        let empty = workspace::Workspace {
            root,
            chapters: Vec::new(),
        };
        return verify::run(
            &empty,
            &verify::Options {
                restore: true,
                ..verify::Options::default()
            },
        );
    }
    let workspace = workspace::Workspace::load(&root)?;
    match cli.command {
        Command::Doctor | Command::MdbookPreprocessor { .. } => unreachable!("handled above"),
        Command::CheckBook { dir } => {
            let dir = dir.unwrap_or_else(|| workspace.root.join("book/book"));
            book::check(&workspace, &dir)
        }
        Command::TryIts {
            pages,
            timeout,
            no_build,
        } => try_its::run(
            &workspace,
            &try_its::Options {
                pages,
                timeout: std::time::Duration::from_secs(timeout),
                no_build,
            },
        ),
        Command::List => list::run(&workspace),
        Command::Start { chapter, force } => start::run(&workspace, chapter, force),
        Command::Check {
            chapter,
            test_threads,
            verbose,
        } => check::run(
            &workspace,
            &check::Options {
                chapter,
                test_threads,
                verbose,
            },
        ),
        Command::Watch {
            chapter,
            test_threads,
        } => watch::run(
            &workspace.root,
            chapter,
            &check::Options {
                chapter: Some(chapter),
                test_threads,
                verbose: false,
            },
        ),
        Command::Hint { id, level } => hint::run(&workspace, &id, level),
        Command::Solution { target } => solution::run(&workspace, &target),
        Command::Diff { chapter } => diff::run(&workspace, chapter),
        Command::Verify {
            chapter,
            restore,
            test_threads,
            verbose,
            timeout,
            record_guards,
            skip_guards,
        } => verify::run(
            &workspace,
            &verify::Options {
                chapter,
                restore,
                test_threads,
                verbose,
                timeout_secs: Some(timeout),
                record_guards,
                skip_guards,
            },
        ),
    }
}

/// Lets `cargo workbook list | head` end quietly, as other Unix tools do, instead of
/// panicking on a closed pipe. Not for `verify`: it must live to put the sources back, and
/// there a failed print panics, which restores them on the way out.
fn die_quietly_on_closed_pipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installs the default disposition, no handler code runs; nothing else in this
    // process depends on SIGPIPE being ignored (the workbook writes no sockets).
    if let Err(e) = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) } {
        eprintln!("could not restore the default SIGPIPE handling: {e}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Verify { .. }) {
        die_quietly_on_closed_pipe();
    }
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            if signals::interrupted() {
                eprintln!("interrupted: files that verify changed were put back (unless an error above says otherwise)");
                return ExitCode::from(130);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
