//! What the object pages (images, volumes, networks, exec) share: the
//! hidden CSRF field of their forms, the banner an action leaves above a
//! page, and the `KEY=value` lists that labels are written as.

use super::containers::failure;
use super::html::{escape, page};
use super::web::html;
use hyper::{Response, StatusCode};
use minidock_client::ClientError;
use minidock_daemon::server::Body;
use std::collections::BTreeMap;

/// The hidden field that every form of the dashboard carries, without
/// which its POST is refused (see [`super::access`]).
pub fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    )
}

/// What a page says above its content after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Banner {
    /// Nothing: a plain visit.
    None,
    /// What an action did (`Deleted: …`), in a green box; status 200.
    Notice(String),
    /// Why an action failed, with the status that fits (the daemon's own,
    /// so a 409 of the daemon is a 409 of the page).
    Error(StatusCode, String),
}

impl Banner {
    /// The banner of a failed call to the daemon: `what` and the daemon's
    /// message, with its status.
    pub fn failed(what: &str, error: &ClientError) -> Banner {
        let (status, message) = failure(what, error);
        Banner::Error(status, message)
    }

    /// A refused form (a missing or malformed field): 400 and why.
    pub fn bad(why: impl Into<String>) -> Banner {
        Banner::Error(StatusCode::BAD_REQUEST, why.into())
    }

    /// The whole page: the frame with `title`, the navigation with
    /// `current` marked, this banner, then `body` (already HTML).
    pub fn page(self, title: &str, current: &str, body: &str) -> Response<Body> {
        match self {
            Banner::None => html(StatusCode::OK, page(title, current, None, body)),
            Banner::Notice(text) => {
                let body = format!(
                    "<p class=\"notice\" id=\"notice\">{}</p>{body}",
                    escape(&text)
                );
                html(StatusCode::OK, page(title, current, None, &body))
            }
            Banner::Error(status, message) => {
                html(status, page(title, current, Some(&message), body))
            }
        }
    }
}

/// `KEY=value` pairs, one a line (a textarea of labels); a line without
/// `=` is a key with an empty value, as `--label KEY` is; blank lines are
/// skipped.
pub fn key_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Labels as a page shows them: `a=1, b=2`.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_pair_a_line() {
        let labels = key_values("a=1\r\n\n  b = two words \nflag\n");
        assert_eq!(labels["a"], "1");
        assert_eq!(labels["b"], "two words");
        assert_eq!(labels["flag"], "");
        assert_eq!(labels.len(), 3);
        assert_eq!(labels_text(&labels), "a=1, b=two words, flag=");
    }

    #[test]
    fn the_csrf_field_is_escaped() {
        assert_eq!(
            csrf_field("a\"b"),
            "<input type=\"hidden\" name=\"csrf\" value=\"a&quot;b\">"
        );
    }
}
