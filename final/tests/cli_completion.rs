//! `minidock completion bash` loaded into a real bash: completing a
//! command line fills `COMPREPLY` with minidock's commands and flags.

use std::process::Command;

fn script(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_minidock"))
        .args(["completion", shell])
        .output()
        .expect("minidock runs");
    assert!(out.status.success(), "completion {shell}: {out:?}");
    String::from_utf8(out.stdout).expect("the script is UTF-8")
}

/// What bash offers for the words `line` (the last one being completed).
fn complete_in_bash(script_path: &std::path::Path, line: &[&str]) -> Vec<String> {
    let words = line.join(" ");
    let program = format!(
        "source {path}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{words}'\n\
         COMP_POINT=${{#COMP_LINE}}\n_minidock minidock '{current}' '{previous}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path = script_path.display(),
        cword = line.len() - 1,
        current = line[line.len() - 1],
        previous = line[line.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
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
