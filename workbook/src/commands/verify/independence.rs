//! Chapter N needs no later chapter: found from `cargo metadata`, every kind of dependency,
//! followed through the workspace's own crates (the test kit, say).

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::testrun::cargo;

/// `cargo metadata` of the workspace's own crates (their declared dependencies).
pub(super) fn workspace_metadata(root: &Path) -> Result<serde_json::Value> {
    let output = std::process::Command::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("starting `{} metadata`", cargo()))?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    serde_json::from_slice(&output.stdout).context("reading cargo metadata's JSON")
}

/// Which of the `later` crates `package` needs, each with the chain that leads to it
/// (`minidock-testkit → minidock-daemon`): every kind of dependency, followed through the
/// workspace's own crates.
pub fn later_chapters_needed(
    metadata: &serde_json::Value,
    package: &str,
    later: &[&str],
) -> Vec<String> {
    let empty = Vec::new();
    let packages = metadata["packages"].as_array().unwrap_or(&empty);
    let deps_of = |name: &str| -> Vec<String> {
        packages
            .iter()
            .filter(|p| p["name"] == name)
            .flat_map(|p| p["dependencies"].as_array().unwrap_or(&empty))
            .filter_map(|d| d["name"].as_str().map(str::to_string))
            .filter(|d| packages.iter().any(|p| p["name"] == d.as_str()))
            .collect()
    };
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::from([package.to_string()]);
    let mut queue = std::collections::VecDeque::from([(package.to_string(), Vec::<String>::new())]);
    while let Some((name, chain)) = queue.pop_front() {
        for dep in deps_of(&name) {
            if !seen.insert(dep.clone()) {
                continue;
            }
            let mut path = chain.clone();
            path.push(dep.clone());
            if later.contains(&dep.as_str()) {
                found.push(path.join(" → "));
            }
            queue.push_back((dep, path));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_chapter_is_found_directly_and_through_the_workspaces_other_crates() {
        let metadata = serde_json::json!({"packages": [
            {"name": "ch1", "dependencies": [{"name": "nix"}]},
            {"name": "ch2", "dependencies": [{"name": "ch1"}, {"name": "kit", "kind": "dev"}]},
            {"name": "kit", "dependencies": [{"name": "ch1"}, {"name": "ch3"}]},
            {"name": "ch3", "dependencies": [{"name": "ch2"}]},
        ]});
        assert!(later_chapters_needed(&metadata, "ch1", &["ch2", "ch3"]).is_empty());
        assert_eq!(
            later_chapters_needed(&metadata, "ch2", &["ch3"]),
            ["kit → ch3"]
        );
        assert!(later_chapters_needed(&metadata, "ch3", &[]).is_empty());
    }
}
