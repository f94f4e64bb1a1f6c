// minidock desktop: the live parts of the logs and events pages. Each
// follows a stream of server-sent events (EventSource sends the page's
// cookie, so the token check applies as to every request). Text from the
// daemon only ever goes into text nodes, never into markup.
"use strict";

// Follows `url`; `onMessage(kind, data)` for each message ("message" or
// "stderr"), `onEnd(data)` when the server says the stream is over.
// Reconnects by itself after a network error, starting after the last
// message it got (the browser sends its id back); after a refusal (the
// daemon away, a 503) `again` decides whether to try later.
function follow(url, onMessage, onEnd, status, again) {
  let lastId = "";
  let source = null;
  const open = (from) => {
    source = new EventSource(from);
    source.onopen = () => { status.textContent = "live"; };
    const each = (e) => {
      if (e.lastEventId) { lastId = e.lastEventId; }
      onMessage(e.type, e.data);
    };
    source.addEventListener("message", each);
    source.addEventListener("stderr", each);
    source.addEventListener("end", (e) => {
      source.close();
      onEnd(e.data);
      if (again) { later(); }
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        status.textContent = "disconnected";
        if (again) { later(); }
      } else {
        status.textContent = "reconnecting…";
      }
    };
  };
  const later = () => {
    setTimeout(() => {
      const base = url.split("?")[0];
      // `since` is inclusive: start one nanosecond after the last id.
      open(lastId ? base + "?after=" + encodeURIComponent(lastId) : url);
    }, 3000);
  };
  open(url);
}

function followLogs(pre) {
  const status = document.getElementById("live-status");
  follow(pre.dataset.stream, (kind, data) => {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (kind === "stderr") {
      const span = document.createElement("span");
      span.className = "stderr";
      span.textContent = data + "\n";
      pre.appendChild(span);
    } else {
      pre.appendChild(document.createTextNode(data + "\n"));
    }
    if (atBottom) { pre.scrollTop = pre.scrollHeight; }
  }, (why) => { status.textContent = "ended: " + why; }, status, false);
}

function followEvents(status) {
  const body = document.getElementById("events-body");
  follow(status.dataset.stream, (kind, data) => {
    const e = JSON.parse(data);
    const row = document.createElement("tr");
    row.className = "event";
    row.dataset.action = e.action;
    for (const [cls, text] of [["time", e.time], ["type", e.type], ["action", e.action],
                               ["name", e.name], ["id", (e.id || "").replace("sha256:", "").slice(0, 12)]]) {
      const cell = document.createElement("td");
      cell.className = cls;
      cell.textContent = text;
      row.appendChild(cell);
    }
    body.insertBefore(row, body.firstChild);
  }, (why) => { status.textContent = why + ": reconnecting…"; }, status, true);
}

document.addEventListener("DOMContentLoaded", () => {
  const logs = document.getElementById("logs");
  if (logs && logs.dataset.stream) { followLogs(logs); }
  const events = document.getElementById("live-status");
  if (events && events.dataset.stream && document.getElementById("events-body")) {
    followEvents(events);
  }
});
