//! The checker reads the tree it is run in (or the one `--root` names),
//! never the one it was built from: each test builds a small workspace of
//! its own with a known file cycle and runs the built checker on it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use minidock_house::workspace;

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("minidock-house-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
}

/// A workspace of one crate, `toy`, whose files `a.rs` and `b.rs` use each
/// other: a cycle that its (empty) known-cycles list does not allow.
fn toy_workspace(root: &Path) {
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"toy\"]\n");
    write(
        root,
        "toy/Cargo.toml",
        "[package]\nname = \"minidock-toy\"\ndescription = \"a toy\"\n",
    );
    write(root, "toy/src/lib.rs", "//! Toy.\nmod a;\nmod b;\n");
    write(root, "toy/src/a.rs", "use crate::b::B;\npub struct A;\n");
    write(root, "toy/src/b.rs", "use crate::a::A;\npub struct B;\n");
    write(root, "tests/house/known-cycles.txt", "# none\n");
    write(root, "tests/house/long-files.txt", "# none\n");
    fs::create_dir_all(root.join("book/src")).unwrap();
}

fn house(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minidock-house"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run minidock-house")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_tree_of_the_current_directory_is_checked() {
    let scratch = Scratch::new("cwd");
    toy_workspace(&scratch.0);
    // From a subdirectory, as `cargo run` inside a crate would be.
    let out = house(&scratch.0.join("toy/src"), &["cycles"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "toy/src/a.rs toy/src/b.rs",
        "the toy's cycle, and nothing of the checkout the checker was built from"
    );
    let out = house(&scratch.0, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("toy/src/a.rs"), "{}", text(&out));
}

#[test]
fn root_names_the_tree_from_anywhere() {
    let scratch = Scratch::new("flag");
    toy_workspace(&scratch.0);
    let elsewhere = Scratch::new("elsewhere");
    let dir = scratch.0.to_str().unwrap();
    for args in [
        vec!["--root", dir, "cycles"],
        vec!["cycles", "--root", dir],
        vec![&*format!("--root={dir}"), "cycles"],
    ] {
        let out = house(&elsewhere.0, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "toy/src/a.rs toy/src/b.rs",
            "{args:?}"
        );
    }
    // The appendix is written into the named tree.
    let out = house(&elsewhere.0, &["appendix", "--write", "--root", dir]);
    assert!(out.status.success(), "{}", text(&out));
    let page = fs::read_to_string(scratch.0.join("book/src/appendix-house.md"))
        .expect("the appendix was written into the tree --root names");
    assert!(page.contains("minidock-toy"), "{page}");
}

#[test]
fn outside_a_workspace_it_says_what_to_do() {
    let scratch = Scratch::new("bare");
    let out = house(&scratch.0, &["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no Cargo.toml with a [workspace] section")
            && text(&out).contains("--root DIR"),
        "{}",
        text(&out)
    );
    let missing = scratch.0.join("missing");
    let out = house(&scratch.0, &["--root", missing.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a directory"), "{}", text(&out));
    let out = house(&scratch.0, &["check", "--root"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--root needs a directory"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_tests_check_the_checkout_they_run_in() {
    // `cargo test` runs this in tests/house of the checkout it was started
    // in; the root found from here holds this very crate.
    let root = workspace::root().unwrap();
    let here = std::env::current_dir().unwrap().canonicalize().unwrap();
    assert_eq!(root.join("tests/house"), here);
    assert_eq!(workspace::find_root(&here.join("src")).unwrap(), root);
}
