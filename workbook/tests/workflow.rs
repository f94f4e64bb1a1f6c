//! The workbook end to end, on a small workspace of its own: a git repository with one chapter
//! crate (`chapters/01-demo`, no dependencies, so it builds in a moment) whose exercises are
//! guarded by its tests. Every command runs the real binary, which runs the real cargo.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

const LIB: &str = r#"//! A demo chapter.

pub fn add(a: i32, b: i32) -> i32 {
    // exercise 1.1 add: add two numbers.
    // hint: Rust has an operator for that
    // hint: a + b
    a + b
    // end exercise
}

pub fn greeting(name: &str) -> String {
    let greeting = "hello";
    // exercise 1.2 greet: greet someone by name.
    // hint: format! builds strings
    format!("{greeting}, {name}")
    // end exercise
}
"#;

const TESTS: &str = r#"
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_numbers() {
        assert_eq!(add(2, 3), 5);
    }

    #[test]
    fn says_hello() {
        assert_eq!(greeting("ann"), "hello, ann");
    }
}
"#;

/// An exercise no test looks at.
const UNGUARDED: &str = r#"
pub fn double(x: i32) -> i32 {
    // exercise 1.3 double: double a number.
    x * 2
    // end exercise
}
"#;

const BOOK: &str = "# Demo\n\n<a id=\"ex-1.1\"></a>\nExercise 1.1 add.\n\n<a id=\"ex-1.2\"></a>\nExercise 1.2.\n\n<a id=\"ex-1.3\"></a>\n";

struct Demo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    target: PathBuf,
}

impl Demo {
    fn lib(&self) -> PathBuf {
        self.root.join("chapters/01-demo/src/lib.rs")
    }

    fn read_lib(&self) -> String {
        std::fs::read_to_string(self.lib()).unwrap()
    }

    fn workbook(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("minidock-workbook")
            .unwrap()
            .arg("--workspace-root")
            .arg(&self.root)
            .args(args)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS")
            .assert()
    }
}

fn git(root: &Path, args: &[&str]) {
    let status = StdCommand::new("git")
        .args([
            "-c",
            "user.name=Workbook Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?} failed");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A committed workspace with the demo chapter; `lib` is the chapter's src/lib.rs.
fn demo(lib: &str) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let target = dir.path().join("target");
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"chapters/01-demo\"]\n",
    );
    write(
        &root.join("chapters/01-demo/Cargo.toml"),
        "[package]\nname = \"demo-chapter\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
    );
    write(&root.join("chapters/01-demo/src/lib.rs"), lib);
    write(&root.join("book/src/01-demo.md"), BOOK);
    write(&root.join(".gitignore"), "/target/\nCargo.lock\n");
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "reference"]);
    Demo {
        _dir: dir,
        root,
        target,
    }
}

/// What a maintainer does once per chapter: `verify --record-guards`, then commit the record.
fn record_guards(demo: &Demo) {
    let out = stdout(
        &demo
            .workbook(&["verify", "--chapter", "1", "--record-guards"])
            .success(),
    );
    assert!(
        out.contains("written to workbook/guards/01-demo.json"),
        "{out}"
    );
    git(&demo.root, &["add", "-A"]);
    git(&demo.root, &["commit", "-q", "-m", "guards"]);
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn a_learner_goes_from_start_to_all_green() {
    let reference = format!("{LIB}{TESTS}");
    let demo = demo(&reference);
    record_guards(&demo);

    let list = demo.workbook(&["list"]).success();
    let out = stdout(&list);
    assert!(
        out.contains("chapter 1: demo  (demo-chapter, not started; 2 exercises)"),
        "{out}"
    );
    assert!(
        out.contains("next: cargo workbook start 1  (chapter 1: demo)"),
        "{out}"
    );
    assert!(
        out.contains("1.1 add") && out.contains("reference"),
        "{out}"
    );

    // start: bodies become todo!(), markers stay, hints go (hint reads them from the recorded
    // commit), the commit is recorded.
    demo.workbook(&["start", "1"]).success();
    let started = demo.read_lib();
    assert!(
        started.contains("    todo!(\"exercise 1.1 add: add two numbers.\")\n    // end exercise"),
        "{started}"
    );
    assert!(
        started.contains("    todo!(\"exercise 1.2 greet: greet someone by name.\")"),
        "{started}"
    );
    assert!(
        !started.contains("// hint:") && !started.contains("    a + b\n"),
        "{started}"
    );
    let state = std::fs::read_to_string(demo.root.join(".workbook/state.json")).unwrap();
    let head = StdCommand::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&demo.root)
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap();
    assert!(state.contains(head.trim()), "{state}");
    let out = stdout(&demo.workbook(&["list"]).success());
    assert!(out.contains("todo"), "{out}");
    assert!(out.contains("0 of 2 written, 2 todo"), "{out}");
    assert!(
        out.contains("progress: [....................] 0 of 2 exercises"),
        "{out}"
    );
    assert!(
        out.contains("next: exercise 1.1 add: add two numbers."),
        "{out}"
    );
    assert!(out.contains("check  cargo workbook check 1"), "{out}");

    // check: both ✗, the first one explained with its hint and book section.
    let check = demo.workbook(&["check", "1"]).failure();
    let out = stdout(&check);
    assert!(out.contains("✗ 1.1 add    todo"), "{out}");
    assert!(out.contains("✗ 1.2 greet  todo"), "{out}");
    assert!(
        out.contains("next: exercise 1.1 add: add two numbers."),
        "{out}"
    );
    assert!(
        out.contains("hint   Rust has an operator for that"),
        "{out}"
    );
    assert!(out.contains("read   book/src/01-demo.md#ex-1.1"), "{out}");
    assert!(out.contains("test   tests::adds_numbers failed"), "{out}");
    assert!(
        out.contains("means  exercise 1.1 add is still todo!()"),
        "{out}"
    );
    assert!(
        out.contains("0 of 2 exercises done; tests: 0 passed, 2 failed"),
        "{out}"
    );

    // Graduated hints.
    let out = stdout(&demo.workbook(&["hint", "1.1"]).success());
    assert!(
        out.contains("hint 1/2: Rust has an operator for that") && !out.contains("hint 2/2"),
        "{out}"
    );
    let out = stdout(&demo.workbook(&["hint", "add"]).success());
    assert!(out.contains("hint 2/2: a + b"), "{out}");
    let out = stdout(&demo.workbook(&["hint", "1.1", "--level", "1"]).success());
    assert!(
        out.contains("hint 1/2") && !out.contains("hint 2/2"),
        "{out}"
    );

    // A wrong answer: the failing test is pinned on the exercise by its name.
    write(
        &demo.lib(),
        &started.replace(
            "    todo!(\"exercise 1.1 add: add two numbers.\")\n",
            "    a - b\n",
        ),
    );
    let out = stdout(&demo.workbook(&["check", "1"]).failure());
    assert!(
        out.contains("✗ 1.1 add    fails: tests::adds_numbers"),
        "{out}"
    );
    assert!(out.contains("`left` is what the code produced"), "{out}");
    let out = stdout(&demo.workbook(&["list"]).success());
    assert!(out.contains("learner-modified"), "{out}");
    let out = stdout(&demo.workbook(&["diff", "1"]).success());
    assert!(out.contains("-    a + b\n+    a - b\n"), "{out}");
    assert!(out.contains("1.2 greet: still todo!()"), "{out}");

    // solution for one exercise: the reference comes back, the learner's version is kept.
    demo.workbook(&["solution", "1.1"]).success();
    assert!(demo.read_lib().contains("    a + b\n    // end exercise"));
    let saved: Vec<_> = std::fs::read_dir(demo.root.join(".workbook/replaced"))
        .unwrap()
        .collect();
    assert_eq!(saved.len(), 1);
    let out = stdout(&demo.workbook(&["check", "1"]).failure());
    assert!(out.contains("✓ 1.1 add"), "{out}");
    assert!(out.contains("✗ 1.2 greet  todo"), "{out}");
    assert!(
        out.contains("1 of 2 exercises done; tests: 1 passed, 1 failed"),
        "{out}"
    );

    // solution for the chapter: back to the reference, byte for byte, and all ✓.
    demo.workbook(&["solution", "1"]).success();
    assert_eq!(demo.read_lib(), reference);
    let out = stdout(&demo.workbook(&["check", "1"]).success());
    assert!(
        out.contains("✓ 1.1 add") && out.contains("✓ 1.2 greet"),
        "{out}"
    );
    assert!(
        out.contains("2 of 2 exercises done; tests: 2 passed, 0 failed"),
        "{out}"
    );

    // And the maintainers' check passes on the reference.
    let verify = demo.workbook(&["verify"]).success();
    let out = stdout(&verify);
    assert!(
        out.contains("verify: all 2 exercises are linked and guarded"),
        "{out}"
    );
    assert!(out.contains("tests::adds_numbers"), "{out}");
    assert_eq!(demo.read_lib(), reference);
    assert!(!demo.root.join(".workbook/verify-backup").exists());
}

#[test]
fn verify_names_an_exercise_no_test_guards() {
    let reference = format!("{LIB}{UNGUARDED}{TESTS}");
    let demo = demo(&reference);
    let verify = demo.workbook(&["verify"]).failure();
    let out = stdout(&verify);
    assert!(out.contains("✓ 1.1 add removed: 1 test(s) fail"), "{out}");
    assert!(out.contains("✓ 1.2 greet removed: 1 test(s) fail"), "{out}");
    assert!(
        out.contains("✗ 1.3 double removed: unguarded: every test still passes without it"),
        "{out}"
    );
    assert!(
        out.contains("verify: 1 of 3 exercises have a problem"),
        "{out}"
    );
    // Every file is as it was, and no backup is left.
    assert_eq!(demo.read_lib(), reference);
    assert!(!demo.root.join(".workbook/verify-backup").exists());
}

#[test]
fn verify_reports_an_exercise_missing_from_the_book() {
    let demo = demo(&format!("{LIB}{TESTS}"));
    write(
        &demo.root.join("book/src/01-demo.md"),
        "# Demo\n\nOnly ex-1.1 is here.\n",
    );
    let out = stdout(&demo.workbook(&["verify", "--chapter", "1"]).failure());
    let table_row = out
        .lines()
        .find(|l| l.starts_with("1.2 greet "))
        .unwrap_or_else(|| panic!("no table row for 1.2: {out}"));
    assert!(table_row.contains("✗"), "{table_row}");
    assert!(
        out.contains("verify: 1 of 2 exercises have a problem"),
        "{out}"
    );
}

#[test]
fn start_refuses_a_dirty_tree() {
    let demo = demo(&format!("{LIB}{TESTS}"));
    let edited = format!("{}// my own notes\n", demo.read_lib());
    write(&demo.lib(), &edited);
    let start = demo.workbook(&["start", "1"]).failure();
    let err = stderr(&start);
    assert!(err.contains("uncommitted changes"), "{err}");
    assert!(err.contains("chapters/01-demo/src/lib.rs"), "{err}");
    assert_eq!(demo.read_lib(), edited);
    assert!(!demo.root.join(".workbook/state.json").exists());
}

#[test]
fn broken_markers_are_reported_with_file_and_line() {
    let broken = LIB.replace(
        "    // end exercise\n}\n\npub fn greeting",
        "}\n\npub fn greeting",
    );
    let demo = demo(&broken);
    let err = stderr(&demo.workbook(&["list"]).failure());
    assert!(
        err.contains("chapters/01-demo/src/lib.rs:12: exercise 1.2 greet starts inside exercise 1.1 add (line 4)"),
        "{err}"
    );
}

#[test]
fn ctrl_c_during_verify_puts_the_file_back() {
    // A test that takes a while, so that verify is surely in the middle of a run.
    let slow = "\n#[test]\nfn takes_a_while() {\n    std::thread::sleep(std::time::Duration::from_secs(3));\n}\n";
    let reference = format!("{LIB}{TESTS}{slow}");
    let demo = demo(&reference);
    let backup = demo.root.join(".workbook/verify-backup");

    // Its own process group, so the SIGINT below reaches verify, cargo and the tests together,
    // as Ctrl-C in a terminal does.
    use std::os::unix::process::CommandExt;
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("minidock-workbook"))
        .arg("--workspace-root")
        .arg(&demo.root)
        .arg("verify")
        .env("CARGO_TARGET_DIR", &demo.target)
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    // Wait until an exercise is swapped out (backup written, file changed) and its tests run.
    while !(backup.exists() && demo.read_lib() != reference) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "verify never started swapping an exercise"
        );
        assert!(child.try_wait().unwrap().is_none(), "verify ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();

    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(demo.read_lib(), reference);
    assert!(!backup.exists());
}

/// mdBook's preprocessor protocol, as `mdbook build` drives it: the book shows each exercise
/// as `start` leaves it, with the reference behind a reveal; `check-book` finds an answer
/// that can be read outside a reveal on a rendered page.
#[test]
fn the_book_shows_the_todo_and_check_book_finds_a_printed_answer() {
    let demo = demo(&format!("{LIB}{TESTS}"));
    let supports = demo.workbook(&["mdbook-preprocessor", "supports", "html"]);
    supports.success();

    let page = format!("# Demo\n\n```rust\n{LIB}```\n\nThe end.\n");
    let input = serde_json::json!([
        {"root": demo.root.join("book"), "config": {}, "renderer": "html", "mdbook_version": "0.4.40"},
        {"sections": [{"Chapter": {"name": "Demo", "content": page, "number": [1],
            "sub_items": [], "path": "01-demo.md", "source_path": "01-demo.md",
            "parent_names": []}}], "__non_exhaustive": null}
    ]);
    let out = Command::cargo_bin("minidock-workbook")
        .unwrap()
        .arg("mdbook-preprocessor")
        .write_stdin(input.to_string())
        .assert()
        .success();
    let book: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let content = book["sections"][0]["Chapter"]["content"].as_str().unwrap();
    assert!(
        content.contains("    todo!(\"exercise 1.1 add: add two numbers.\")\n    // end exercise"),
        "{content}"
    );
    assert!(
        content.contains("<details class=\"workbook-reference\" id=\"ref-1.1\">"),
        "{content}"
    );
    assert!(
        content.contains("<script type=\"text/plain\" class=\"workbook-reference-code\" data-lang=\"rust\">\nformat!(\"{greeting}, {name}\")\n</script>\n\n</details>"),
        "{content}"
    );
    let outside: String = content
        .split("<details")
        .map(|part| {
            part.split_once("</details>")
                .map_or(part, |(_, after)| after)
        })
        .collect();
    assert!(!outside.contains("    a + b\n"), "{outside}");

    // A rendered book: one page hides the answers, the other prints 1.2's.
    let rendered = demo.root.join("book/book");
    write(
        &rendered.join("index.html"),
        "<pre><code class=\"language-rust\">todo!(&quot;exercise 1.1 add&quot;)</code></pre>\
         <details class=\"workbook-reference\" id=\"ref-1.1\"><summary>s</summary>\
         <pre><code class=\"language-rust\">a + b</code></pre></details>",
    );
    demo.workbook(&["check-book"]).success();
    write(
        &rendered.join("print.html"),
        "<pre><code class=\"language-rust\">    format!(&quot;{greeting}, {name}&quot;)\n</code></pre>",
    );
    let out = stdout(&demo.workbook(&["check-book"]).failure());
    assert!(
        out.contains(
            "✗ print.html: the reference of exercise 1.2 greet can be read outside a reveal"
        ),
        "{out}"
    );
    assert!(out.contains("1 leak(s)"), "{out}");
}

/// 1.2's only test calls 1.1 first, as a container test needs PID 1 before it can look at the
/// hostname.
const CHAINED: &str = r#"
pub fn setup() -> i32 {
    // exercise 1.1 setup: return one.
    // hint: the number after zero
    1
    // end exercise
}

pub fn shout(name: &str) -> String {
    // exercise 1.2 shout: the name in capitals.
    // hint: str has a method for that
    name.to_uppercase()
    // end exercise
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_returns_one() {
        assert_eq!(setup(), 1);
    }

    #[test]
    fn shouts_after_setup() {
        assert_eq!(setup(), 1);
        assert_eq!(shout("ann"), "ANN");
    }
}
"#;

/// The false ✓ of old: with 1.1 still todo!(), a no-op 1.2 was ✓ because the only test that
/// checks it stops at 1.1 and names 1.1. Now it is "blocked by 1.1", and ✓ once 1.1 is written
/// and the test really ran it.
#[test]
fn an_exercise_no_test_reached_is_blocked_not_done() {
    let demo = demo(CHAINED);
    record_guards(&demo);
    let record = std::fs::read_to_string(demo.root.join("workbook/guards/01-demo.json")).unwrap();
    assert!(
        record.contains("\"1.2 shout\": [\n      \"tests::shouts_after_setup\""),
        "{record}"
    );
    demo.workbook(&["start", "1"]).success();
    let started = demo.read_lib();
    let no_op = started.replace(
        "    todo!(\"exercise 1.2 shout: the name in capitals.\")\n",
        "    name.to_string()\n",
    );
    write(&demo.lib(), &no_op);
    let out = stdout(&demo.workbook(&["check", "1"]).failure());
    assert!(out.contains("✗ 1.1 setup  todo"), "{out}");
    assert!(
        out.contains("· 1.2 shout  blocked by 1.1: its tests stop there before they reach it"),
        "{out}"
    );
    assert!(!out.contains("✓ 1.2"), "{out}");
    assert!(out.contains("0 of 2 exercises done"), "{out}");

    // 1.1 written: the test now reaches the no-op and fails on it.
    write(
        &demo.lib(),
        &no_op.replace(
            "    todo!(\"exercise 1.1 setup: return one.\")\n",
            "    1\n",
        ),
    );
    let out = stdout(&demo.workbook(&["check", "1"]).failure());
    assert!(out.contains("✓ 1.1 setup"), "{out}");
    assert!(
        out.contains("✗ 1.2 shout  fails: tests::shouts_after_setup"),
        "{out}"
    );
}

/// A syntax error inside 1.2 while 1.1 is still todo!(): rustc's error is in 1.2's lines, so
/// "next" is 1.2 with the error, not 1.1 and its hint.
#[test]
fn a_compile_error_is_pinned_on_the_exercise_that_holds_it() {
    let demo = demo(&format!("{LIB}{TESTS}"));
    demo.workbook(&["start", "1"]).success();
    let broken = demo.read_lib().replace(
        "    todo!(\"exercise 1.2 greet: greet someone by name.\")\n",
        "    format!(\"{greeting}, {name}\") name\n",
    );
    write(&demo.lib(), &broken);
    let out = stdout(&demo.workbook(&["check", "1"]).failure());
    assert!(out.contains("✗ 1.1 add    todo"), "{out}");
    assert!(out.contains("✗ 1.2 greet  does not compile"), "{out}");
    assert!(
        out.contains("next: exercise 1.2 greet: greet someone by name."),
        "{out}"
    );
    assert!(out.contains("hint   format! builds strings"), "{out}");
    assert!(out.contains("why    it does not compile:"), "{out}");
    assert!(!out.contains("next: exercise 1.1"), "{out}");
}

/// An import only the reference body uses is a warning once `start` has removed the body, and
/// the warning names the call to make: verify refuses it, naming file, line and import.
#[test]
fn verify_refuses_an_import_that_start_would_leave_unused() {
    let lib = LIB
        .replace(
            "//! A demo chapter.\n",
            "//! A demo chapter.\n\nuse std::ops::Add;\n",
        )
        .replace("    a + b\n", "    a.add(b)\n");
    let demo = demo(&format!("{lib}{TESTS}"));
    let out = stdout(&demo.workbook(&["verify", "--skip-guards"]).failure());
    assert!(
        out.contains("✗ after start: 1 warning(s) that give an answer away"),
        "{out}"
    );
    assert!(
        out.contains("chapters/01-demo/src/lib.rs:3:5: warning: unused import: `std::ops::Add`"),
        "{out}"
    );
    // The same with the import inside the body: start takes it away with the answer.
    let lib = LIB.replace("    a + b\n", "    use std::ops::Add;\n    a.add(b)\n");
    let demo2 = self::demo(&format!("{lib}{TESTS}"));
    let out = stdout(&demo2.workbook(&["verify", "--skip-guards"]).success());
    assert!(
        out.contains("✓ after start: compiles without warnings that give an answer away"),
        "{out}"
    );
}

/// `mdbook`, found on PATH (test.sh installs it, pinned to 0.4, before the tests run). A test
/// that needs it fails, naming the fix, when it is missing.
fn mdbook() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("mdbook"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "mdbook is not on PATH: this test renders a real book. Install it with \
             cargo install mdbook --locked --version '^0.4' (test.sh does)"
        )
    })
}

/// Builds the demo's book with the real mdBook; `preprocessor` adds the workbook's.
fn mdbook_build(demo: &Demo, preprocessor: bool) -> PathBuf {
    let mut toml = String::from(
        "[book]\ntitle = \"Demo\"\nsrc = \"src\"\n\n[build]\ncreate-missing = false\n",
    );
    if preprocessor {
        let bin = assert_cmd::cargo::cargo_bin("minidock-workbook");
        toml.push_str(&format!(
            "\n[preprocessor.workbook]\ncommand = \"{} mdbook-preprocessor\"\nafter = [\"links\"]\n",
            bin.display()
        ));
    }
    write(&demo.root.join("book/book.toml"), &toml);
    let rendered = demo.root.join("book/book");
    let _ = std::fs::remove_dir_all(&rendered);
    let out = StdCommand::new(mdbook())
        .arg("build")
        .arg(demo.root.join("book"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mdbook build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    rendered
}

/// The whole path the real book takes: `{{#include}}` of the chapter's source, mdBook's own
/// HTML (escaping, `print.html`, one page per chapter), then `check-book` on what came out.
/// Without the workbook's preprocessor the same book prints both answers, and check-book
/// names each one on each page; with it, the pages show the todo!() and the answers sit in
/// reveals only.
#[test]
fn check_book_reads_the_html_mdbook_renders() {
    // Hints that do not spell the code (the book's never do): a search finds the hints.
    let lib = LIB.replace("// hint: a + b", "// hint: the one from school");
    let demo = demo(&format!("{lib}{TESTS}"));
    write(
        &demo.root.join("book/src/SUMMARY.md"),
        "# Summary\n\n- [Demo](01-demo.md)\n",
    );
    write(
        &demo.root.join("book/src/01-demo.md"),
        "# Demo\n\n<a id=\"ex-1.1\"></a><a id=\"ex-1.2\"></a>\n\n```rust\n{{#include ../../chapters/01-demo/src/lib.rs}}\n```\n",
    );

    let rendered = mdbook_build(&demo, false);
    let out = stdout(&demo.workbook(&["check-book"]).failure());
    for leak in [
        "✗ 01-demo.html: the reference of exercise 1.1 add can be read outside a reveal",
        "✗ 01-demo.html: the reference of exercise 1.2 greet can be read outside a reveal",
        "✗ print.html: the reference of exercise 1.1 add can be read outside a reveal",
        "✗ searchindex.js: the reference of exercise 1.1 add can be read outside a reveal",
        "✗ searchindex.js: the reference of exercise 1.2 greet can be read outside a reveal",
    ] {
        assert!(out.contains(leak), "{out}");
    }
    assert!(
        out.contains("0 of 2 exercises shown as todo!() with the reference behind a reveal"),
        "{out}"
    );

    let rendered_again = mdbook_build(&demo, true);
    assert_eq!(rendered, rendered_again);
    let page = std::fs::read_to_string(rendered.join("01-demo.html")).unwrap();
    assert!(
        page.contains("todo!(&quot;exercise 1.1 add: add two numbers.&quot;)")
            || page.contains("todo!(\"exercise 1.1 add: add two numbers.\")"),
        "{page}"
    );
    assert!(
        page.contains("<details class=\"workbook-reference\" id=\"ref-1.2\">"),
        "{page}"
    );
    let out = stdout(&demo.workbook(&["check-book"]).success());
    assert!(
        out.contains(
            "2 of 2 exercises shown as todo!() with the reference behind a reveal, 0 leak(s)"
        ),
        "{out}"
    );
}
