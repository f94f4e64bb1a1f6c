//! The live streams: a container's new log lines
//! (`/containers/{id}/logs/stream`) and the daemon's events
//! (`/events/stream`), each a daemon stream followed through the client
//! library and passed on as server-sent events (see [`super::sse`]).
//!
//! Every message carries the time of what it passes on as its id, so a
//! browser that reconnects (sending the id back as `Last-Event-ID`) starts
//! just after the last one it got: nothing twice, nothing lost. The pages
//! give the first `since`: the time they were made, taken before they read
//! what they show.

use super::sse::{self, Feed};
use super::web::{self, Form};
use super::Desk;
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use minidock_client::{ClientError, JsonStream, OutputStream};
use minidock_daemon::frames::StreamType;
use minidock_daemon::query::Filters;
use minidock_daemon::server::Body;
use minidock_daemon::service::LogsOptions;
use minidock_daemon::types::Event;
use std::sync::Arc;
use std::time::SystemTime;

/// The script of the pages that follow a stream, served as
/// `/assets/live.js`.
pub const LIVE_JS: &str = include_str!("assets/live.js");

/// The streams' routes: `Some` answer for a stream's path, `None` for
/// every other request (the pages). Called after the access checks; the
/// daemon's stream is opened on the blocking pool, and a failure to open
/// it is a plain HTTP error, which makes `EventSource` give up.
pub async fn route(desk: &Arc<Desk>, parts: &Parts) -> Option<Response<Body>> {
    if parts.method != Method::GET {
        return None;
    }
    let path = parts.uri.path();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(String::from)
        .collect();
    let query = Form::parse(parts.uri.query().unwrap_or(""));
    // The browser's own reconnection sends `Last-Event-ID`; the page's
    // script, when it opens a new stream, `after`.
    let last_id = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.get("after"));
    let start = sse::start_of(last_id, query.get("since"));
    let desk = desk.clone();
    let open: Box<dyn FnOnce() -> Opened + Send> = match segments.as_slice() {
        [c, id, l, s] if c == "containers" && l == "logs" && s == "stream" && super::is_id(id) => {
            let id = id.clone();
            Box::new(move || logs(&desk, &id, start))
        }
        [e, s] if e == "events" && s == "stream" => Box::new(move || events(&desk, start)),
        _ => return None,
    };
    let opened = tokio::task::spawn_blocking(open).await;
    Some(match opened {
        Ok(Opened::Stream(closer, pump)) => sse::respond(closer, pump),
        Ok(Opened::Failed(answer)) => answer,
        Err(panic) => web::answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("the stream failed: {panic}\n"),
        ),
    })
}

/// A daemon stream, opened: what closes it and the pump that reads it; or
/// the answer that says why it could not be opened.
enum Opened {
    Stream(
        Option<minidock_client::Closer>,
        Box<dyn FnOnce(&Feed) + Send>,
    ),
    Failed(Response<Body>),
}

/// A failed call to the daemon as a plain answer with the status that fits.
fn failed(what: &str, error: &ClientError) -> Opened {
    let (status, message) = super::containers::failure(what, error);
    Opened::Failed(web::answer(
        status,
        "text/plain; charset=utf-8",
        format!("{message}\n"),
    ))
}

// ANCHOR: logs_stream
/// `GET /containers/{id}/logs/stream`: the lines written from `start` on,
/// as they come, until the container stops (then an `end` message).
/// stdout lines are plain messages, stderr lines `stderr` ones.
fn logs(desk: &Desk, id: &str, start: SystemTime) -> Opened {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        follow: true,
        since: Some(start),
        ..Default::default()
    };
    match desk.client.container_logs(id, &options, true) {
        Ok(mut stream) => Opened::Stream(
            stream.closer(),
            Box::new(move |feed: &Feed| pump_logs(stream, feed)),
        ),
        Err(e) => failed("Logs", &e),
    }
}

/// Reads the followed logs and sends them line by line, each with the
/// time the daemon stamped on it as its id.
fn pump_logs(mut stream: OutputStream, feed: &Feed) {
    // Bytes of an unfinished line, per stream (stdout, stderr).
    let mut partial: [Vec<u8>; 2] = Default::default();
    let why = loop {
        match stream.next_chunk() {
            Ok(Some((kind, bytes))) => {
                let which = usize::from(kind == StreamType::Stderr);
                partial[which].extend_from_slice(&bytes);
                while let Some(at) = partial[which].iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = partial[which].drain(..=at).collect();
                    if !send_line(feed, which, &line[..at]) {
                        return;
                    }
                }
            }
            Ok(None) => break "the container stopped",
            Err(_) => break "the daemon's stream broke off",
        }
    };
    for (which, rest) in partial.iter().enumerate() {
        if !rest.is_empty() && !send_line(feed, which, rest) {
            return;
        }
    }
    feed.send(Some("end"), None, why);
}

/// One log line (`TIMESTAMP text`, as the daemon sends it with
/// timestamps) as a message whose id is the timestamp.
fn send_line(feed: &Feed, which: usize, line: &[u8]) -> bool {
    let line = String::from_utf8_lossy(line);
    let event = (which == 1).then_some("stderr");
    let stamped = line
        .split_once(' ')
        .and_then(|(stamp, text)| Some((minidock_daemon::time::parse_timestamp(stamp)?, text)));
    match stamped {
        Some((at, text)) => feed.send(event, Some(&sse::unix_text(at)), text),
        None => feed.send(event, None, &line),
    }
}
// ANCHOR_END: logs_stream

/// `GET /events/stream`: the daemon's events from `start` on (those it
/// remembers first), as they happen; each a JSON object
/// ([`event_json`]) whose id is its time.
fn events(desk: &Desk, start: SystemTime) -> Opened {
    let since = sse::unix_text(start);
    match desk.client.events(&Filters::default(), Some(&since), None) {
        Ok(mut stream) => Opened::Stream(
            stream.closer(),
            Box::new(move |feed: &Feed| pump_events(stream, feed)),
        ),
        Err(e) => failed("Events", &e),
    }
}

/// Sends each event as it comes.
fn pump_events(stream: JsonStream<Event>, feed: &Feed) {
    for event in stream {
        let Ok(event) = event else { break };
        let id = sse::unix_text(event_time(&event));
        if !feed.send(None, Some(&id), &event_json(&event).to_string()) {
            return;
        }
    }
    feed.send(Some("end"), None, "the daemon's event stream ended");
}

/// When an event happened.
pub fn event_time(event: &Event) -> SystemTime {
    let nanos = u64::try_from(event.time_nano).unwrap_or(0);
    SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(nanos)
}

/// What the events page shows of an event: its type, action, the name of
/// what it happened to (its id when it has none) and its time (RFC 3339).
pub fn event_json(event: &Event) -> serde_json::Value {
    serde_json::json!({
        "type": event.kind,
        "action": event.action,
        "name": actor_name(event),
        "id": event.actor.id,
        "time": minidock_daemon::time::rfc3339(event_time(event)),
    })
}

/// The name of what an event happened to: its `name` attribute, else its
/// short id.
pub fn actor_name(event: &Event) -> String {
    match event.actor.attributes.get("name") {
        Some(name) => name.clone(),
        None => crate::format::short_id(&event.actor.id).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidock_daemon::types::EventActor;

    #[test]
    fn events_show_their_actor_by_name_or_short_id() {
        let mut event = Event {
            kind: "container".into(),
            action: "start".into(),
            actor: EventActor {
                id: "0123456789abcdef0123".into(),
                ..Default::default()
            },
            time_nano: 1_700_000_000_000_000_001,
            ..Default::default()
        };
        assert_eq!(actor_name(&event), "0123456789ab");
        event.actor.attributes.insert("name".into(), "<web>".into());
        let json = event_json(&event);
        assert_eq!(json["name"], "<web>");
        assert_eq!(json["action"], "start");
        assert_eq!(sse::unix_text(event_time(&event)), "1700000000.000000001");
    }
}
