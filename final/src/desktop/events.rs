//! The events page: what the daemon did lately (the events of the last
//! hour it remembers), newest first, and then, while the page is open,
//! each new event at the top as it happens (the page's script reads
//! `/events/stream`, see [`super::follow`]).

use super::follow::{actor_name, event_time};
use super::html::{escape, page};
use super::sse::unix_text;
use super::web::html;
use super::Desk;
use hyper::{Response, StatusCode};
use minidock_daemon::query::Filters;
use minidock_daemon::server::Body;
use minidock_daemon::types::Event;
use std::time::{Duration, SystemTime};

/// How far back the page opens with.
const RECENT: Duration = Duration::from_secs(3600);

/// `GET /events`.
pub fn page_of(desk: &Desk) -> Response<Body> {
    let title = "Events";
    // The list ends at `now` and the stream starts just after it: every
    // event is shown once.
    let now = SystemTime::now();
    let since = unix_text(now.checked_sub(RECENT).unwrap_or(SystemTime::UNIX_EPOCH));
    let recent: Result<Vec<Event>, _> = desk
        .client
        .events(&Filters::default(), Some(&since), Some(&unix_text(now)))
        .and_then(|stream| stream.collect());
    let mut events = match recent {
        Ok(events) => events,
        Err(e) => return desk.failed(title, "/events", &e),
    };
    events.reverse();
    let stream = format!(
        "/events/stream?since={}",
        unix_text(now + Duration::from_nanos(1))
    );
    let mut body = format!(
        "<p class=\"muted\">What the daemon does, newest first: the last hour's events, then each \
         new one as it happens. <span id=\"live-status\" data-stream=\"{}\">(live updates need \
         JavaScript)</span></p>\
         <table id=\"events\"><thead><tr><th>Time</th><th>Type</th><th>Action</th>\
         <th>Name</th><th>Id</th></tr></thead><tbody id=\"events-body\">",
        escape(&stream)
    );
    for event in &events {
        body.push_str(&row(event));
    }
    body.push_str("</tbody></table><script src=\"/assets/live.js\" defer></script>");
    html(StatusCode::OK, page(title, "/events", None, &body))
}

/// One event as a table row (the script builds the same from the stream).
fn row(event: &Event) -> String {
    format!(
        "<tr class=\"event\" data-action=\"{action}\"><td class=\"time\">{time}</td>\
         <td class=\"type\">{kind}</td><td class=\"action\">{action}</td>\
         <td class=\"name\">{name}</td><td class=\"id\"><code>{id}</code></td></tr>",
        time = escape(&minidock_daemon::time::rfc3339(event_time(event))),
        kind = escape(&event.kind),
        action = escape(&event.action),
        name = escape(&actor_name(event)),
        id = escape(crate::format::short_id(&event.actor.id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_escapes_what_the_daemon_says() {
        let mut event = Event {
            kind: "container".into(),
            action: "start".into(),
            ..Default::default()
        };
        event
            .actor
            .attributes
            .insert("name".into(), "<b>x</b>".into());
        let row = row(&event);
        assert!(row.contains("&lt;b&gt;x&lt;/b&gt;"), "{row}");
        assert!(row.contains("data-action=\"start\""), "{row}");
    }
}
