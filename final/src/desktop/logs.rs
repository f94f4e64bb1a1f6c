//! A container's logs: the last lines at once, then, while the page is
//! open, each new line as it is written (a stream of server-sent events,
//! [`super::follow`], that the page's script appends).

use super::html::{escape, page};
use super::web::html;
use super::Desk;
use hyper::{Response, StatusCode};
use minidock_client::ClientError;
use minidock_daemon::server::Body;
use minidock_daemon::service::LogsOptions;

/// How many of the last lines the page opens with.
pub const TAIL: usize = 500;

/// `GET /containers/{id}/logs`.
pub fn page_of(desk: &Desk, id: &str) -> Response<Body> {
    let title = format!("Logs of {}", short(id));
    // Taken before the lines are read: the live stream starts here, so no
    // line falls between the two (one may show twice).
    let since = super::sse::unix_text(std::time::SystemTime::now());
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: Some(TAIL),
        ..Default::default()
    };
    match read_all(desk, id, &options) {
        Ok(text) => {
            let body = format!(
                "<p><a href=\"/\">← Containers</a> · <a href=\"/containers/{id}/inside\">Inside</a> \
                 · <span id=\"live-status\">(new lines need JavaScript)</span></p>\
                 <pre id=\"logs\" data-stream=\"/containers/{id}/logs/stream?since={since}\">{}</pre>\
                 <script src=\"/assets/live.js\" defer></script>",
                escape(&text),
                id = escape(id),
            );
            html(StatusCode::OK, page(&title, "/", None, &body))
        }
        Err(e) => desk.failed(&title, "/", &e),
    }
}

/// The logs as one text, stdout and stderr in the order they came.
fn read_all(desk: &Desk, id: &str, options: &LogsOptions) -> Result<String, ClientError> {
    let mut stream = desk.client.container_logs(id, options, false)?;
    let mut all = Vec::new();
    while let Some((_, chunk)) = stream.next_chunk()? {
        all.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&all).into_owned())
}

/// The first 12 characters of an id.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
