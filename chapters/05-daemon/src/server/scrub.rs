//! Error messages name what the client knows — a container, an image
//! layer — not where the daemon keeps it on the host.
//!
//! Errors from the stores carry host paths (`/var/lib/minidock/containers/
//! <id>/state.json is corrupt`): right for the daemon's log, wrong for a
//! client, who cannot use them and should not learn the host's layout.
//! Before an error is sent, every path under the daemon's root is replaced
//! by what it is: `container <id>`, `layer <hex>`, `blob sha256:<hex>`.

use std::path::Path;

/// `message` with every path under `root` replaced by what it names.
pub(crate) fn scrub(message: &str, root: &Path) -> String {
    let mut roots = vec![root.display().to_string()];
    if let Ok(canonical) = std::fs::canonicalize(root) {
        roots.push(canonical.display().to_string());
    }
    let mut text = message.to_string();
    for root in roots.iter().filter(|r| r.len() > 1) {
        text = scrub_one(&text, root);
    }
    text
}

fn scrub_one(message: &str, root: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(root) {
        out.push_str(&rest[..i]);
        let after = &rest[i + root.len()..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ':' | ',' | ')' | '\\'))
            .unwrap_or(after.len());
        out.push_str(&describe(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// What a path relative to the root (`/containers/<id>/config.json`) is.
fn describe(path: &str) -> String {
    let short = |hex: &str| hex.chars().take(12).collect::<String>();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["containers", id, ..] if id.len() == 64 => format!("container {}", short(id)),
        ["layers", hex, ..] if !hex.is_empty() => format!("layer {}", short(hex)),
        ["blobs", algorithm, hex, ..] => format!("blob {algorithm}:{}", short(hex)),
        ["images", ..] => "the image index".to_string(),
        _ => "the daemon's store".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_become_names() {
        let root = Path::new("/nonexistent/minidock-root");
        let id = "ab".repeat(32);
        let hex = "cd".repeat(32);
        let message = format!(
            "/nonexistent/minidock-root/containers/{id}/state.json is corrupt: EOF; \
             mount failed: lowerdir=/nonexistent/minidock-root/layers/{hex}:/x, \
             read /nonexistent/minidock-root/blobs/sha256/{hex}: gone, \
             /nonexistent/minidock-root/tmp/x"
        );
        assert_eq!(
            scrub(&message, root),
            "container abababababab is corrupt: EOF; mount failed: lowerdir=layer cdcdcdcdcdcd:/x, \
             read blob sha256:cdcdcdcdcdcd: gone, the daemon's store"
        );
        assert_eq!(scrub("nothing to hide", root), "nothing to hide");
    }
}
