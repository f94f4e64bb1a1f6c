//! `minidock desktop`'s live parts against a real daemon, over plain
//! HTTP: a container's new log lines and the daemon's events as
//! server-sent events (and what becomes of a stream whose browser leaves),
//! and the "inside" view of a container (its namespaces next to the
//! host's, its cgroup limits, its layers).

mod common;
mod desktop_kit;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{eventually, Daemon};
use desktop_kit::Desktop;

/// How long a test waits for anything.
const DEADLINE: Duration = Duration::from_secs(30);

/// One server-sent event.
#[derive(Debug, Default, Clone)]
struct Message {
    event: String,
    id: String,
    data: String,
}

/// An open event stream, read as a browser's `EventSource` would.
struct Stream {
    reader: BufReader<TcpStream>,
    /// Decoded body text not yet parsed into messages.
    text: String,
    ended: bool,
    /// Every message read so far (for failure messages).
    log: Vec<Message>,
}

impl Stream {
    /// GETs `path` with the token's cookie and checks the answer is an
    /// event stream.
    fn open(desk: &Desktop, path: &str) -> Stream {
        let mut tcp = TcpStream::connect(&desk.authority).expect("connect to the dashboard");
        write!(
            tcp,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
            desk.authority,
            desk.cookie()
        )
        .expect("send the request");
        let mut reader = BufReader::new(tcp);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.get_mut().set_read_timeout(Some(DEADLINE)).unwrap();
            reader.read_line(&mut line).expect("read the answer's head");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push(line.trim_end().to_ascii_lowercase());
        }
        assert!(head[0].contains(" 200 "), "{path}: {head:?}");
        assert!(
            head.iter()
                .any(|h| h.starts_with("content-type: text/event-stream")),
            "{head:?}"
        );
        assert!(
            head.iter().any(|h| h == "transfer-encoding: chunked"),
            "{head:?}"
        );
        Stream {
            reader,
            text: String::new(),
            ended: false,
            log: Vec::new(),
        }
    }

    /// The next message, waiting until `deadline`; `None` when the stream
    /// ended.
    fn next(&mut self, deadline: Instant) -> Option<Message> {
        loop {
            if let Some(at) = self.text.find("\n\n") {
                let block: String = self.text.drain(..at + 2).collect();
                let mut message = Message::default();
                let mut data = Vec::new();
                for line in block.lines() {
                    match line.split_once(": ").unwrap_or((line, "")) {
                        ("event", v) => message.event = v.to_string(),
                        ("id", v) => message.id = v.to_string(),
                        ("data", v) => data.push(v),
                        _ => {} // comments (heartbeats), retry
                    }
                }
                if data.is_empty() {
                    continue;
                }
                message.data = data.join("\n");
                if message.event.is_empty() {
                    message.event = "message".into();
                }
                self.log.push(message.clone());
                return Some(message);
            }
            if self.ended {
                return None;
            }
            self.read_chunk(deadline);
        }
    }

    /// Reads one chunk of the chunked body into `text`.
    fn read_chunk(&mut self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out; the stream so far: {:?}",
            self.text
        );
        self.reader.get_mut().set_read_timeout(Some(left)).unwrap();
        let mut size = String::new();
        match self.reader.read_line(&mut size) {
            Ok(0) => {
                self.ended = true;
                return;
            }
            Ok(_) => {}
            Err(e) => panic!(
                "reading the stream: {e}; so far: {:?}; read before: {:?}",
                self.text, self.log
            ),
        }
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            self.ended = true;
            return;
        }
        let mut chunk = vec![0; size + 2];
        self.reader.read_exact(&mut chunk).expect("a whole chunk");
        self.text.push_str(&String::from_utf8_lossy(&chunk[..size]));
    }

    /// Messages until one passes `wanted` (returned with those before it).
    fn until(&mut self, what: &str, wanted: impl Fn(&Message) -> bool) -> Vec<Message> {
        let deadline = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            let Some(message) = self.next(deadline) else {
                panic!("the stream ended before {what}; it sent {seen:?}");
            };
            let done = wanted(&message);
            seen.push(message);
            if done {
                return seen;
            }
        }
    }
}

/// `secs.nanos` of now, as the pages give `since`.
fn now_text() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// The dashboard process serving `host` (a child of this test process).
fn dashboard_pid(host: &str) -> u32 {
    let me = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split(' ').nth(1));
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        if ppid == Some(me.as_str())
            && args.contains(&host.as_bytes())
            && args.contains(&b"desktop".as_slice())
        {
            return pid;
        }
    }
    panic!("no minidock desktop child of this test for {host}");
}

/// How many stream pumps (threads named `desktop-stream`) a process has.
fn pumps(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|comm| comm.trim() == "desktop-stream")
        })
        .count()
}

#[test]
fn live_logs_send_the_lines_written_after_the_stream_opened() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());
    // It writes one line, then waits for a file that the test makes once
    // the stream is open, then writes another.
    let script = "echo before; while [ ! -e /tmp/go ]; do sleep 0.2; done; echo later; \
                  echo oops >&2; exec sleep 600";
    let id = d
        .ok(&[
            "run", "-d", "--name", "talker", "busybox", "sh", "-c", script,
        ])
        .trim()
        .to_string();
    eventually(DEADLINE, "the first line in the logs", || {
        d.ok(&["logs", "talker"]).contains("before")
    });

    // Without the token: refused like every page.
    let refused = desk
        .request("GET", &format!("/containers/{id}/logs/stream"))
        .send();
    assert_eq!(refused.status, 403, "{refused:?}");

    // The logs page points its script at the stream, from the page's time.
    let page = desk.get(&format!("/containers/{id}/logs"));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("before"), "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "data-stream=\"/containers/{id}/logs/stream?since="
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("/assets/live.js"), "{}", page.body);
    let script = desk.get("/assets/live.js");
    assert_eq!(script.status, 200);
    assert!(script.body.contains("EventSource"), "{}", script.body);

    let mut stream = Stream::open(
        &desk,
        &format!("/containers/{id}/logs/stream?since={}", now_text()),
    );
    d.ok(&["exec", "talker", "touch", "/tmp/go"]);
    stream.until("the line `later`", |m| m.data == "later");
    // stdout and stderr are read from two pipes: `oops` may come first.
    let seen = if stream.log.iter().any(|m| m.data == "oops") {
        stream.log.clone()
    } else {
        stream.until("the stderr line", |m| m.data == "oops");
        stream.log.clone()
    };
    assert!(
        seen.iter().all(|m| m.data != "before"),
        "a line from before the stream's start: {seen:?}"
    );
    let line = |data: &str| seen.iter().find(|m| m.data == data).unwrap().clone();
    let later = line("later");
    assert_eq!(later.event, "message", "{later:?}");
    assert!(
        later
            .id
            .split_once('.')
            .is_some_and(|(s, n)| s.len() >= 10 && n.len() == 9),
        "each line's id is its time: {later:?}"
    );
    assert_eq!(line("oops").event, "stderr", "{seen:?}");

    // The container stops: the stream says so and ends.
    d.ok(&["stop", "-t", "1", "talker"]);
    let end = stream.until("the end message", |m| m.event == "end");
    assert!(end.last().unwrap().data.contains("stopped"), "{end:?}");
    assert!(
        stream.next(Instant::now() + DEADLINE).is_none(),
        "the stream ends"
    );
}

#[test]
fn a_stream_whose_browser_left_lets_go_of_the_daemon() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());
    let pid = dashboard_pid(&d.host());
    let id = d
        .ok(&["run", "-d", "--name", "quiet", "busybox", "sleep", "600"])
        .trim()
        .to_string();
    assert_eq!(pumps(pid), 0);
    let stream = Stream::open(&desk, &format!("/containers/{id}/logs/stream"));
    eventually(DEADLINE, "a pump for the stream", || pumps(pid) == 1);
    // The container says nothing: only closing the daemon's connection
    // under the pump (within two heartbeats, 10 s) ends it.
    drop(stream);
    eventually(DEADLINE, "the pump to end after the browser left", || {
        pumps(pid) == 0
    });
    // The same for the events stream.
    let stream = Stream::open(&desk, "/events/stream");
    eventually(DEADLINE, "a pump for the events", || pumps(pid) == 1);
    drop(stream);
    eventually(DEADLINE, "the events pump to end", || pumps(pid) == 0);
}

#[test]
fn the_events_feed_shows_a_start_that_happens_while_it_is_open() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());
    for path in ["/events", "/events/stream"] {
        let refused = desk.request("GET", path).send();
        assert_eq!(refused.status, 403, "{path}: {refused:?}");
    }
    let page = desk.get("/events");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains("data-stream=\"/events/stream?since="),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("data-action=\"start\""),
        "{}",
        page.body
    );

    let mut stream = Stream::open(&desk, &format!("/events/stream?since={}", now_text()));
    d.ok(&["run", "-d", "--name", "newcomer", "busybox", "sleep", "600"]);
    let seen = stream.until("the start of newcomer", |m| {
        let event: serde_json::Value = serde_json::from_str(&m.data).expect("JSON data");
        event["action"] == "start" && event["name"] == "newcomer"
    });
    let start: serde_json::Value = serde_json::from_str(&seen.last().unwrap().data).unwrap();
    assert_eq!(start["type"], "container", "{start}");
    assert!(
        start["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{start}"
    );
    assert!(!seen.last().unwrap().id.is_empty(), "{seen:?}");
    // create came first.
    assert!(
        seen.iter().any(|m| m.data.contains("\"create\"")),
        "{seen:?}"
    );

    // A page loaded now lists it, newest first: start above create.
    let page = desk.get("/events");
    let start_at = page
        .body
        .find("data-action=\"start\"")
        .expect("a start row");
    let create_at = page
        .body
        .find("data-action=\"create\"")
        .expect("a create row");
    assert!(start_at < create_at, "newest first: {}", page.body);
    assert!(page.body.contains(">newcomer<"), "{}", page.body);
}

/// The container's and the host's inode in the namespace row `kind`.
fn namespace_row(page: &str, kind: &str) -> (String, String) {
    let start = page
        .find(&format!("<tr data-ns=\"{kind}\">"))
        .unwrap_or_else(|| panic!("no {kind} row in:\n{page}"));
    let row = &page[start..start + page[start..].find("</tr>").unwrap()];
    let cell = |class: &str| {
        let marker = format!("<td class=\"{class}\">");
        let at = row.find(&marker).expect("the cell") + marker.len();
        row[at..].split('<').next().unwrap().to_string()
    };
    (cell("inside"), cell("host"))
}

/// The inode of a namespace link, read here (the oracle).
fn inode(link: &str) -> String {
    let target = std::fs::read_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    let text = target.to_string_lossy().to_string();
    text.split_once('[')
        .unwrap()
        .1
        .trim_end_matches(']')
        .to_string()
}

#[test]
fn the_inside_view_shows_namespaces_limits_and_layers() {
    let d = Daemon::start();
    d.load_busybox();
    let desk = Desktop::start(&d.host());
    d.ok(&[
        "run", "-d", "--name", "boxed", "--memory", "64m", "busybox", "sleep", "600",
    ]);
    let pid = d
        .ok(&["inspect", "-f", "{{.State.Pid}}", "boxed"])
        .trim()
        .to_string();

    let refused = desk.request("GET", "/containers/boxed/inside").send();
    assert_eq!(refused.status, 403, "{refused:?}");

    let page = desk.get("/containers/boxed/inside");
    assert_eq!(page.status, 200, "{page:?}");
    let body = &page.body;

    // Namespaces: the container's PID namespace is its own; the page's
    // numbers are those /proc shows the test.
    let (inside, host) = namespace_row(body, "pid");
    assert_eq!(inside, inode(&format!("/proc/{pid}/ns/pid")), "{body}");
    assert_eq!(host, inode("/proc/self/ns/pid"), "{body}");
    assert_ne!(inside, host, "a PID namespace of its own: {body}");
    let (inside, host) = namespace_row(body, "mnt");
    assert_ne!(inside, host, "{body}");
    assert!(body.contains("its own"), "{body}");

    // cgroup: the memory limit asked for and the one in force.
    let memory_start = body
        .find("<tr data-cgroup=\"memory\">")
        .expect("a memory row");
    let memory = &body[memory_start..memory_start + body[memory_start..].find("</tr>").unwrap()];
    assert!(
        memory.contains("<td class=\"asked\"><span data-bytes=\"67108864\">64MiB</span>"),
        "{memory}"
    );
    assert!(
        memory.contains("<td class=\"enforced\"><span data-bytes=\"67108864\">"),
        "{memory}"
    );
    assert!(body.contains("<tr data-cgroup=\"pids\">"), "{body}");

    // Layers: busybox's one layer, and the upper directory on the host.
    let layers = d.ok(&[
        "image",
        "inspect",
        "-f",
        "{{json .RootFS.Layers}}",
        "busybox",
    ]);
    let layers: Vec<String> = serde_json::from_str(layers.trim()).unwrap();
    assert!(!layers.is_empty());
    for layer in &layers {
        assert!(
            body.contains(&format!("<code>{layer}</code>")),
            "{layer}: {body}"
        );
        // Next to it, where chapter 02's store unpacked it (LowerDir).
        let hex = layer.strip_prefix("sha256:").unwrap();
        let dir = d.root().join("layers").join(hex);
        assert!(dir.is_dir(), "{}", dir.display());
        assert!(
            body.contains(&format!("<code>{}</code>", dir.display())),
            "{}: {body}",
            dir.display()
        );
    }
    let upper = d.ok(&["inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", "boxed"]);
    let upper = upper.trim();
    assert!(upper.starts_with(d.root().to_str().unwrap()), "{upper}");
    assert!(Path::new(upper).is_dir(), "{upper}");
    assert!(
        body.contains(&format!("<code data-dir=\"UpperDir\">{upper}</code>")),
        "{body}"
    );
    for chapter in ["Chapter 1", "Chapter 2", "Chapter 3"] {
        assert!(body.contains(chapter), "{chapter}: {body}");
    }

    // Stopped: no process, and the page says so instead of failing.
    d.ok(&["stop", "-t", "1", "boxed"]);
    let page = desk.get("/containers/boxed/inside");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("id=\"ns-unavailable\""), "{}", page.body);
}
