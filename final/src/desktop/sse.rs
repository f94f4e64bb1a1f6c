//! Server-sent events: how the dashboard passes on what the daemon streams
//! (a container's new log lines, the daemon's events) to a page, which
//! reads them with the browser's `EventSource`.
//!
//! A stream is answered at once with `text/event-stream`; a thread of its
//! own, the *pump*, reads the daemon's stream with the blocking client and
//! turns each line or event into a message (`event:`, `id:`, `data:`
//! lines, then an empty line).
//!
//! **How a stream ends, and why no thread is left behind:**
//!
//! - the daemon's stream ends (a followed container stopped): the pump
//!   sends an `end` message, which the page's script takes as "close"
//!   (left alone, `EventSource` would connect again), and returns;
//! - the browser goes away: hyper drops the body, at the latest when a
//!   heartbeat (a comment line every [`HEARTBEAT`]) fails to be written. A
//!   watcher task sees that and closes the daemon connection under the pump
//!   (the client's [`Closer`]), so a pump blocked on a quiet container reads
//!   the end at once, instead of waiting for a next line that may never
//!   come. A pump that is sending notices on its next message.
//!
//! A write to a connection the browser closed may still succeed once (the
//! kernel learns of the close from that write's answer), so a pump outlives
//! its browser by two heartbeats at most.

use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use minidock_client::Closer;
use minidock_daemon::server::Body;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// How often an idle stream sends a comment, so that a browser that left is
/// noticed even when the daemon has nothing to say.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// How many messages wait for a slow browser before the pump waits too.
const BACKLOG: usize = 64;

/// What a pump writes to: the body of one event-stream answer.
pub struct Feed {
    tx: mpsc::Sender<io::Result<Bytes>>,
}

impl Feed {
    /// Sends one message; `false` when the browser has gone away (the pump
    /// should stop).
    pub fn send(&self, event: Option<&str>, id: Option<&str>, data: &str) -> bool {
        let message = message(event, id, data);
        self.tx.blocking_send(Ok(Bytes::from(message))).is_ok()
    }
}

// ANCHOR: message
/// One message of an event stream. Its `data` may span lines (each becomes
/// a `data:` line, and `EventSource` joins them again with `\n`); the event
/// name and the id are kept to one line, since a line break there would end
/// the field early.
pub fn message(event: Option<&str>, id: Option<&str>, data: &str) -> String {
    let one_line = |text: &str| text.replace(['\r', '\n', '\0'], " ");
    let mut out = String::new();
    if let Some(event) = event {
        out.push_str(&format!("event: {}\n", one_line(event)));
    }
    if let Some(id) = id {
        out.push_str(&format!("id: {}\n", one_line(id)));
    }
    for line in data.replace("\r\n", "\n").split(['\r', '\n']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}
// ANCHOR_END: message

// ANCHOR: respond
/// Answers with an event stream fed by `pump` on a thread of its own;
/// `closer` closes the daemon's stream that the pump reads, when the
/// browser goes away. Called inside the runtime (it spawns the watcher).
pub fn respond(
    closer: Option<Closer>,
    pump: impl FnOnce(&Feed) + Send + 'static,
) -> Response<Body> {
    let (tx, body) = Body::channel(BACKLOG);
    let (done, pump_done) = oneshot::channel::<()>();
    let watched = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("desktop-stream".into())
        .spawn(move || {
            let feed = Feed { tx };
            // A browser that reconnects by itself waits 3 s first.
            if feed
                .tx
                .blocking_send(Ok(Bytes::from("retry: 3000\n\n")))
                .is_ok()
            {
                pump(&feed);
            }
            drop(done);
        });
    if let Err(e) = spawned {
        return super::web::answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            format!("the dashboard cannot start a stream: {e}\n"),
        );
    }
    tokio::runtime::Handle::current().spawn(watch(watched, pump_done, closer));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    response
}

/// Sends the heartbeats until the pump ends or the browser goes away; in
/// the second case, closes the daemon's stream under the pump.
async fn watch(
    tx: mpsc::Sender<io::Result<Bytes>>,
    mut pump_done: oneshot::Receiver<()>,
    closer: Option<Closer>,
) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await; // the first tick is at once
    loop {
        tokio::select! {
            // The pump returned: let go of the body, which then ends.
            _ = &mut pump_done => return,
            _ = tx.closed() => break,
            _ = beat.tick() => {
                // A full backlog is traffic enough; only a closed body counts.
                if let Err(mpsc::error::TrySendError::Closed(_)) =
                    tx.try_send(Ok(Bytes::from_static(b": alive\n\n")))
                {
                    break;
                }
            }
        }
    }
    if let Some(closer) = closer {
        closer.close();
    }
}
// ANCHOR_END: respond

/// A time as unix seconds with nanoseconds (`1700000000.000000001`): the
/// ids the streams give their messages, and the `since` the daemon takes.
pub fn unix_text(time: SystemTime) -> String {
    let d = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Where a stream starts: after the `Last-Event-ID` the browser sends when
/// it reconnects by itself (the id of the last message it got), else from
/// the page's `since` (the time the page was made), else from now.
pub fn start_of(last_event_id: Option<&str>, since: Option<&str>) -> SystemTime {
    let parse = minidock_daemon::time::parse_timestamp;
    if let Some(last) = last_event_id.and_then(parse) {
        return last + Duration::from_nanos(1);
    }
    since.and_then(parse).unwrap_or_else(SystemTime::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_and_fields_cannot_break_the_frame() {
        assert_eq!(message(None, None, "hello"), "data: hello\n\n");
        assert_eq!(
            message(Some("stderr"), Some("1.5"), "a\r\nb\rc"),
            "event: stderr\nid: 1.5\ndata: a\ndata: b\ndata: c\n\n"
        );
        // A line break in an id would end it and start a data line.
        assert_eq!(
            message(Some("x\ndata: evil"), Some("1\n2"), ""),
            "event: x data: evil\nid: 1 2\ndata: \n\n"
        );
    }

    #[test]
    fn a_reconnect_starts_just_after_the_last_message() {
        let at = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(unix_text(at), "1700000000.000000005");
        assert_eq!(
            start_of(Some("1700000000.000000005"), Some("1")),
            at + Duration::from_nanos(1)
        );
        assert_eq!(
            start_of(None, Some("1700000000.000000005")),
            at,
            "the page's since counts itself"
        );
        assert_eq!(start_of(Some("junk"), Some("1700000000.000000005")), at);
    }
}
