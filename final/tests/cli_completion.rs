//! `minidock completion bash` loaded into a real bash: completing a
//! command line fills `COMPREPLY` with minidock's commands and flags, and
//! with the names of the daemon's containers and images where a command
//! takes one.

mod common;

use std::process::Command;

use common::Daemon;

fn script(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_minidock"))
        .args(["completion", shell])
        .output()
        .expect("minidock runs");
    assert!(out.status.success(), "completion {shell}: {out:?}");
    String::from_utf8(out.stdout).expect("the script is UTF-8")
}

/// What bash offers for the words `line` (the last one being completed),
/// through the function the script registers with `complete -F`.
fn complete_in_bash(script_path: &std::path::Path, line: &[&str]) -> Vec<String> {
    complete_in_bash_with(script_path, line, &[])
}

/// The same, with `env` added to bash's environment.
fn complete_in_bash_with(
    script_path: &std::path::Path,
    line: &[&str],
    env: &[(&str, &str)],
) -> Vec<String> {
    let words = line.join(" ");
    let program = format!(
        "source {path}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{words}'\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         function=$(complete -p minidock | sed -E 's/.*-F ([^ ]+).*/\\1/')\n\
         \"$function\" minidock '{current}' '{previous}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path = script_path.display(),
        cword = line.len() - 1,
        current = line[line.len() - 1],
        previous = line[line.len() - 2],
    );
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_minidock"))
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .env_remove("MINIDOCK_HOST")
        .env_remove("MINIDOCK_CONTEXT")
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs (it is the shell the test loads the script into)");
    assert!(out.status.success(), "bash: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minidock.bash");
    std::fs::write(&path, script("bash")).unwrap();

    let offered = complete_in_bash(&path, &["minidock", "con"]);
    assert!(offered.contains(&"container".to_string()), "{offered:?}");
    assert!(offered.contains(&"context".to_string()), "{offered:?}");
    assert!(!offered.contains(&"run".to_string()), "{offered:?}");

    let offered = complete_in_bash(&path, &["minidock", "context", "u"]);
    assert_eq!(offered, ["use"]);

    let offered = complete_in_bash(&path, &["minidock", "--con"]);
    assert_eq!(offered, ["--context"]);
}

/// Container and image names come from the daemon the command line names
/// (`-H` as typed, or `MINIDOCK_HOST`), only where a command takes one.
#[test]
fn bash_completes_container_and_image_names_from_the_daemon() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "named-one",
        "busybox",
        "sleep",
        "300",
    ]);
    d.ok(&["create", "--name", "other-one", "busybox", "true"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minidock.bash");
    std::fs::write(&path, script("bash")).unwrap();
    let host = d.host();
    let env = [("MINIDOCK_HOST", host.as_str())];

    let mut offered = complete_in_bash_with(&path, &["minidock", "stop", "''"], &env);
    offered.sort();
    assert_eq!(offered, ["named-one", "other-one"]);
    let offered = complete_in_bash_with(&path, &["minidock", "container", "logs", "na"], &env);
    assert_eq!(offered, ["named-one"]);
    let offered = complete_in_bash_with(&path, &["minidock", "exec", "-i", "oth"], &env);
    assert_eq!(offered, ["other-one"]);
    // -H on the command line wins over the environment (which names nothing).
    let offered = complete_in_bash_with(&path, &["minidock", "-H", &host, "rm", "na"], &[]);
    assert_eq!(offered, ["named-one"]);

    let offered = complete_in_bash_with(&path, &["minidock", "run", "bu"], &env);
    assert_eq!(offered, ["busybox:latest"]);
    let offered = complete_in_bash_with(&path, &["minidock", "image", "rm", "b"], &env);
    assert_eq!(offered, ["busybox:latest"]);
    // After the image, run's words are the command's: no names.
    let offered = complete_in_bash_with(&path, &["minidock", "run", "busybox", "na"], &env);
    assert!(!offered.contains(&"named-one".to_string()), "{offered:?}");
    // Flags still come from the clap definitions.
    let offered = complete_in_bash_with(&path, &["minidock", "stop", "--tim"], &env);
    assert_eq!(offered, ["--timeout"]);
    // No daemon: no names, and no error.
    let offered = complete_in_bash_with(
        &path,
        &["minidock", "stop", "na"],
        &[("MINIDOCK_HOST", "unix:///nonexistent/minidock.sock")],
    );
    assert!(offered.is_empty(), "{offered:?}");
    d.ok(&["rm", "-f", "named-one", "other-one"]);
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    let zsh = script("zsh");
    assert!(
        zsh.starts_with("#compdef minidock"),
        "{}",
        &zsh[..80.min(zsh.len())]
    );
    assert!(
        zsh.contains("'context:Manage contexts'"),
        "no context command in the zsh script"
    );
    let fish = script("fish");
    assert!(
        fish.contains("complete -c minidock"),
        "not a fish completion script"
    );
    assert!(
        fish.contains("-a \"context\""),
        "no context command in the fish script"
    );
}

/// `minidock man DIR` writes one page per command, and `man` renders them.
#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minidock"))
        .arg("man")
        .arg(dir.path())
        .output()
        .expect("minidock runs");
    assert!(out.status.success(), "man: {out:?}");
    for page in ["minidock.1", "minidock-run.1", "minidock-context.1"] {
        assert!(dir.path().join(page).exists(), "{page} was not written");
    }
    let rendered = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("minidock-context.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man runs (Debian: apt-get install man-db)");
    assert!(rendered.status.success(), "man -l: {rendered:?}");
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        text.contains("NAME") && text.contains("Manage contexts"),
        "{text}"
    );
    assert!(
        text.contains("SUBCOMMANDS") || text.contains("Create a context"),
        "{text}"
    );
}
