//! `cargo workbook try-its`: type every runnable shell block of the book, as a reader would, and
//! compare what comes out with what the book shows (see [`crate::tryit`] for the block format).
//!
//! The pages run in the order of `book/src/SUMMARY.md`, in one shell session (what one page
//! sets up, like `/tmp/rootfs`, the next may use, as it would in the reader's terminal), from
//! the workspace root, with freshly built binaries (`cargo build --workspace --bins --examples`
//! first). The session gets a mount namespace of its own with an empty tmpfs on `/tmp`: the
//! paths the book names exist only for the run and never touch the machine's `/tmp`. Whatever
//! the session leaves running when it ends (a daemon the page started and did not stop) is
//! killed with its process group.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::tryit::{self, Step};
use crate::workspace::Workspace;

/// What `try-its` runs and how long a command may take.
#[derive(Debug, Clone)]
pub struct Options {
    /// Pages to run (`01-namespaces` or `01-namespaces.md`); all runnable pages when empty.
    pub pages: Vec<String>,
    /// Seconds one command may run before the session is stopped.
    pub timeout: Duration,
    /// Skip the build (the binaries are fresh already).
    pub no_build: bool,
}

/// The marker printed between two commands: the output before it belongs to the command
/// before it. ASCII record separators never occur in the book's output.
const MARK: char = '\u{1e}';

/// The pages of the book in reading order, from SUMMARY.md's links.
fn pages_in_order(book_src: &Path) -> Result<Vec<String>> {
    let summary = book_src.join("SUMMARY.md");
    let text = std::fs::read_to_string(&summary)
        .with_context(|| format!("reading {}", summary.display()))?;
    let mut pages = Vec::new();
    for part in text.split("](").skip(1) {
        if let Some(end) = part.find(')') {
            let page = &part[..end];
            if page.ends_with(".md") && !pages.iter().any(|p| p == page) {
                pages.push(page.to_string());
            }
        }
    }
    Ok(pages)
}

/// One step with the page it comes from.
struct Planned {
    page: String,
    step: Step,
}

/// The script the session runs: a scratch `/tmp`, then each command after its marker.
fn script(root: &Path, plan: &[Planned]) -> String {
    let root = root.display().to_string().replace('\'', r"'\''");
    let mut s = String::from(
        "exec 2>&1 </dev/null\n\
         mount -t tmpfs -o mode=1777 minidock-try-its /tmp || { echo 'try-its: cannot mount a scratch /tmp'; exit 97; }\n",
    );
    s.push_str(&format!(
        "cd '{root}' || exit 97\nshopt -s expand_aliases\n"
    ));
    for (i, p) in plan.iter().enumerate() {
        s.push_str(&format!(
            "printf '\\n\\036%s\\036\\n' {i}\n{}\n",
            p.step.command
        ));
    }
    s.push_str(&format!("printf '\\n\\036%s\\036\\n' {}\n", plan.len()));
    s
}

/// Splits the session's output at the markers: the output of each step that finished.
fn split_output(output: &str) -> Vec<String> {
    // Every marker is preceded by a newline of its own; the text before the first is the
    // preamble's (normally nothing).
    let mut chunks = Vec::new();
    let mut parts = output.split(MARK);
    let _preamble = parts.next();
    // parts now alternate: index, text after the marker line.
    while let (Some(_index), Some(text)) = (parts.next(), parts.next()) {
        let text = text.strip_prefix('\n').unwrap_or(text);
        chunks.push(text.to_string());
    }
    // The chunk after marker i is step i's output; the one after the final marker is empty.
    chunks
}

/// Number of markers seen so far (how many steps have started).
fn markers(output: &str) -> usize {
    output.matches(MARK).count() / 2
}

/// Runs the session; returns its output and whether a command ran past the timeout.
fn run_session(script_path: &Path, steps: usize, timeout: Duration) -> Result<(String, bool)> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash"])
        .arg(script_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // The reader's shell has no backtraces on: an error is its one line.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .process_group(0)
        .spawn()
        .context("starting `unshare --mount bash` (util-linux)")?;
    let pgid = child.id() as i32;
    let mut stdout = child.stdout.take().context("no stdout pipe")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut bytes = Vec::new();
    let mut started = 0;
    let mut since = Instant::now();
    let mut timed_out = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                let seen = markers(&String::from_utf8_lossy(&bytes));
                if seen != started {
                    started = seen;
                    since = Instant::now();
                    if started > steps {
                        break;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if since.elapsed() > timeout {
                    timed_out = true;
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // The session is over (or stuck): stop it and whatever it left running in its group.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.wait();
    drop(rx);
    let _ = reader.join();
    Ok((String::from_utf8_lossy(&bytes).into_owned(), timed_out))
}

/// The first line of a command, for the report.
fn headline(command: &str) -> &str {
    let first = command.lines().next().unwrap_or("");
    first.strip_suffix('\\').unwrap_or(first).trim_end()
}

pub fn run(workspace: &Workspace, options: &Options) -> Result<bool> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "the Try-its are typed at a root prompt (they make namespaces and mounts): run \
             sudo -E env \"PATH=$PATH\" cargo workbook try-its"
        );
    }
    let book_src = workspace.root.join("book/src");
    let mut plan = Vec::new();
    let all = pages_in_order(&book_src)?;
    for wanted in &options.pages {
        let name = wanted.trim_end_matches(".md");
        if !all.iter().any(|p| p.trim_end_matches(".md") == name) {
            bail!(
                "no page {wanted} in book/src/SUMMARY.md (pages: {})",
                all.join(", ")
            );
        }
    }
    for page in &all {
        let name = page.trim_end_matches(".md");
        if !options.pages.is_empty()
            && !options
                .pages
                .iter()
                .any(|w| w.trim_end_matches(".md") == name)
        {
            continue;
        }
        let path = book_src.join(page);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let steps = tryit::parse(&text).with_context(|| format!("book/src/{page}"))?;
        plan.extend(steps.into_iter().map(|step| Planned {
            page: page.clone(),
            step,
        }));
    }
    if plan.is_empty() {
        println!("try-its: no runnable block (```console,runnable) in the pages asked for");
        return Ok(true);
    }
    if !options.no_build {
        println!("try-its: building the binaries and examples the book runs");
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "--quiet",
                "--locked",
                "--workspace",
                "--bins",
                "--examples",
            ])
            .current_dir(&workspace.root)
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!("cargo build --workspace --bins --examples failed: the book's commands need it");
        }
    }
    let script_path = script_location(&workspace.root);
    std::fs::write(&script_path, script(&workspace.root, &plan))
        .with_context(|| format!("writing {}", script_path.display()))?;
    let started = Instant::now();
    let parents_before = default_cgroup_parents();
    let result = run_session(&script_path, plan.len(), options.timeout);
    let _ = std::fs::remove_file(&script_path);
    for parent in default_cgroup_parents() {
        if !parents_before.contains(&parent) {
            match std::fs::remove_dir(&parent) {
                // cpu and cpuacct are often one hierarchy under two names
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => println!(
                    "try-its: left {} (a page's daemon made it): {e}",
                    parent.display()
                ),
            }
        }
    }
    let (output, timed_out) = result?;
    if output.trim_start().starts_with("try-its:") {
        bail!("{}", output.trim());
    }
    let chunks = split_output(&output);
    let mut failed = 0;
    let mut page = "";
    for (i, p) in plan.iter().enumerate() {
        if p.page != page {
            page = &p.page;
            println!("{page}");
        }
        let at = format!("{}:{}", p.page, p.step.line);
        // Step i's output is the text between marker i and marker i+1: complete only when
        // marker i+1 was printed.
        let Some(actual) = chunks.get(i).filter(|_| i + 1 < chunks.len()) else {
            let why = if timed_out {
                format!(
                    "ran longer than {} s and was stopped",
                    options.timeout.as_secs()
                )
            } else {
                "the session ended before it finished".to_string()
            };
            println!("  ✗ {at}  # {}\n      {why}", headline(&p.step.command));
            if let Some(partial) = chunks.get(i) {
                for line in tryit::normalise(partial) {
                    println!("      | {line}");
                }
            }
            failed += plan.len() - i;
            println!("  {} command(s) after it did not run", plan.len() - i - 1);
            break;
        };
        let actual = tryit::normalise(actual);
        if tryit::output_matches(&p.step.expected, &actual) {
            println!("  ✓ {at}  # {}", headline(&p.step.command));
            continue;
        }
        failed += 1;
        println!("  ✗ {at}  # {}", headline(&p.step.command));
        println!("      the book shows (-) but the command printed (+):");
        let expected = p.step.expected.join("\n") + "\n";
        let got = actual.join("\n") + "\n";
        let diff = similar::TextDiff::from_lines(&expected, &got);
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            print!("      {sign} {change}");
        }
    }
    println!(
        "try-its: {} of {} commands gave the output the book shows ({:.0} s)",
        plan.len() - failed,
        plan.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(failed == 0)
}

/// The cgroup directories named after the daemon's default cgroup parent (`minidock`): one per
/// v1 hierarchy (`/sys/fs/cgroup/memory/minidock`, …), or one in a v2 tree. A daemon the book
/// starts without `--cgroup-parent` puts its containers there, and a daemon never removes the
/// parent (dockerd neither): the session's runner does, for what the session made.
fn default_cgroup_parents() -> Vec<PathBuf> {
    let root = Path::new("/sys/fs/cgroup");
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("minidock"))
                .collect()
        })
        .unwrap_or_default();
    found.push(root.join("minidock"));
    found.retain(|p| p.is_dir());
    found.sort();
    found.dedup();
    found
}

/// Where the session's script is written: the target directory (not `/tmp`, which the session
/// replaces with its scratch tmpfs).
fn script_location(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let _ = std::fs::create_dir_all(&target);
    target.join(format!("try-its-{}.sh", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_is_split_at_the_markers_one_chunk_per_step() {
        let out = "\n\u{1e}0\u{1e}\nfirst\n\n\u{1e}1\u{1e}\nno newline\n\u{1e}2\u{1e}\n";
        assert_eq!(markers(out), 3);
        let chunks = split_output(out);
        assert_eq!(chunks, ["first\n\n", "no newline\n", ""]);
    }

    #[test]
    fn the_script_prints_a_marker_before_each_command_and_one_at_the_end() {
        let plan = vec![Planned {
            page: "p.md".into(),
            step: Step {
                line: 1,
                command: "echo hi".into(),
                expected: vec!["hi".into()],
            },
        }];
        let s = script(Path::new("/w'x"), &plan);
        assert!(s.contains("cd '/w'\\''x'"), "{s}");
        assert!(
            s.ends_with("printf '\\n\\036%s\\036\\n' 0\necho hi\nprintf '\\n\\036%s\\036\\n' 1\n"),
            "{s}"
        );
    }
}
