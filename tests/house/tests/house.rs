//! The house's rules, checked on the workspace's sources as they are.

use minidock_house::{appendix, check_cycles, long_files, workspace};

#[test]
fn no_file_cycles_in_any_crate_but_the_known_ones() {
    let root = workspace::root().unwrap();
    let members = workspace::members(&root).unwrap();
    let problems = check_cycles(&root, &members).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_file_over_the_limit_without_a_reason() {
    let root = workspace::root().unwrap();
    let members = workspace::members(&root).unwrap();
    let problems = long_files::check(&root, &members).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_appendix_is_generated_from_the_sources_as_they_are() {
    let root = workspace::root().unwrap();
    let members = workspace::members(&root).unwrap();
    let fresh = appendix::generate(&root, &members).unwrap();
    let page = std::fs::read_to_string(root.join(appendix::PAGE)).unwrap_or_default();
    if page != fresh {
        let first = page
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(page.lines().count().min(fresh.lines().count()));
        panic!(
            "{} does not match the sources (first difference at line {}:\n  on the page: {:?}\n  generated:   {:?})\n\
             regenerate it with `{}` and commit it",
            appendix::PAGE,
            first + 1,
            page.lines().nth(first).unwrap_or("<end>"),
            fresh.lines().nth(first).unwrap_or("<end>"),
            appendix::COMMAND
        );
    }
}
