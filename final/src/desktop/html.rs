//! Server-rendered HTML: escaping, and the frame every page shares (the
//! navigation, the style sheet, the script, the error banner).
//!
//! Everything the daemon says (names, commands, log lines, messages) is
//! escaped before it goes into a page: a container named
//! `<script>…` must show as text, never run.

/// The pages of the navigation bar: path and title.
const NAV: &[(&str, &str)] = &[
    ("/", "Containers"),
    ("/images", "Images"),
    ("/volumes", "Volumes"),
    ("/networks", "Networks"),
    ("/events", "Events"),
];

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title`, the navigation with `current` marked, an error
/// banner when `error` is given, then `body` (already HTML).
pub fn page(title: &str, current: &str, error: Option<&str>, body: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} · minidock</title>\
         <link rel=\"stylesheet\" href=\"/assets/desk.css\">\
         <script src=\"/assets/desk.js\" defer></script></head><body>\
         <header><strong>minidock</strong><nav>",
        escape(title)
    ));
    for (path, name) in NAV {
        let mark = if *path == current {
            " class=\"current\""
        } else {
            ""
        };
        out.push_str(&format!("<a href=\"{path}\"{mark}>{name}</a>"));
    }
    out.push_str("</nav></header><main>");
    if let Some(error) = error {
        out.push_str(&format!(
            "<p class=\"error\" id=\"error\">{}</p>",
            escape(error)
        ));
    }
    out.push_str(&format!(
        "<h1>{}</h1>{body}</main></body></html>\n",
        escape(title)
    ));
    out
}

/// A one-button form that POSTs to `action` with the CSRF token.
pub fn button(action: &str, label: &str, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" data-action=\"{}\">{}</button></form>",
        escape(action),
        escape(csrf),
        escape(&label.to_lowercase()),
        escape(label)
    )
}

/// The style sheet, served as `/assets/desk.css`.
pub const CSS: &str = include_str!("assets/desk.css");

/// The script, served as `/assets/desk.js`.
pub const JS: &str = include_str!("assets/desk.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_daemon_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let p = page("<b>", "/", Some("<i>"), "");
        assert!(!p.contains("<b>") && !p.contains("<i>"), "{p}");
    }

    #[test]
    fn buttons_carry_the_csrf_token() {
        let b = button("/containers/abc/stop", "Stop", "s3cret");
        assert!(b.contains("name=\"csrf\" value=\"s3cret\""), "{b}");
        assert!(b.contains("action=\"/containers/abc/stop\""), "{b}");
    }
}
