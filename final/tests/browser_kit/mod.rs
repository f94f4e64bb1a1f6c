//! A real browser for the dashboard's tests: Debian's headless `chromium`,
//! driven through `chromedriver` with the W3C WebDriver protocol.
//!
//! The client is a few dozen lines of JSON over HTTP/1.1 on 127.0.0.1: the
//! tests need eight commands (new session, navigate, refresh, find, click,
//! type, run a script, screenshot), each one request and one JSON answer.
//! A WebDriver crate would bring a second HTTP stack, TLS features and a
//! moving API for those eight calls.
//!
//! Everything the browser starts is this test's own: chromedriver runs
//! with a log file, and chromium with a profile (`--user-data-dir`) and a
//! `HOME`, in a fresh temporary directory. On drop (a panic included) the
//! session is closed, chromedriver is stopped by its PID, and any process
//! whose command line still names that directory (a renderer, the crash
//! handler) is killed by its PID before the directory goes.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

/// How long a condition on the page may take to come true.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The key W3C WebDriver names an element reference with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What a missing browser says.
const INSTALL: &str = "apt-get install chromium chromium-driver";

/// A headless chromium with one WebDriver session.
pub struct Browser {
    driver: Option<Child>,
    /// `127.0.0.1:PORT` of chromedriver.
    address: String,
    session: Option<String>,
    dir: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port of 127.0.0.1 and opens a session
    /// of headless chromium with a fresh profile. Fails, naming the
    /// packages, when either program is missing.
    pub fn start() -> Browser {
        let chromium = find_program(&["/usr/bin/chromium", "chromium"]).unwrap_or_else(|| {
            panic!("chromium is not installed; the browser tests need it: {INSTALL}")
        });
        let chromedriver =
            find_program(&["/usr/bin/chromedriver", "chromedriver"]).unwrap_or_else(|| {
                panic!("chromedriver is not installed; the browser tests need it: {INSTALL}")
            });
        let dir = tempfile::Builder::new()
            .prefix("minidock-browser-")
            .tempdir()
            .expect("create a temp dir for the browser")
            .keep();
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            // The crash handler and caches of chromium go under the temp dir too.
            .env("HOME", &dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e} ({INSTALL})", chromedriver.display()));
        let mut browser = Browser {
            driver: Some(driver),
            address: format!("127.0.0.1:{port}"),
            session: None,
            dir,
        };
        browser.wait_ready();
        let profile = browser.dir.join("profile");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1200,720", "--hide-scrollbars",
                    "--force-device-scale-factor=1", "--lang=en-US",
                ],
            },
        }}});
        let answer = browser
            .call("POST", "/session", Some(capabilities))
            .unwrap_or_else(|e| panic!("a chromium session: {e}\n{}", browser.driver_log()));
        let id = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {answer}"))
            .to_string();
        browser.session = Some(id);
        browser
    }

    /// Waits until chromedriver answers `/status` as ready.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(status) = self.call("GET", "/status", None) {
                if status["ready"] == json!(true) {
                    return;
                }
            }
            if let Some(Ok(Some(exit))) = self.driver.as_mut().map(Child::try_wait) {
                panic!(
                    "chromedriver exited ({exit}) before answering:\n{}",
                    self.driver_log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {} within {DEADLINE:?}:\n{}",
                self.address,
                self.driver_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What chromedriver logged so far.
    pub fn driver_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default()
    }

    /// One WebDriver command: `body` as JSON (POST) or none; returns the
    /// answer's `value`, or the WebDriver error as text.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = match (method, body) {
            (_, Some(body)) => body.to_string(),
            ("POST", None) => "{}".to_string(),
            _ => String::new(),
        };
        let mut stream = TcpStream::connect(&self.address).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(|e| e.to_string())?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json; \
             charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.address,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|_| stream.write_all(body.as_bytes()))
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let raw = read_answer(&mut stream).map_err(|e| format!("{method} {path}: {e}"))?;
        let (status, json) = parse_answer(&raw).map_err(|e| format!("{method} {path}: {e}"))?;
        let value = json.get("value").cloned().unwrap_or(Value::Null);
        if status == 200 {
            Ok(value)
        } else {
            Err(format!(
                "{method} {path}: {status} {}: {}",
                value["error"].as_str().unwrap_or("?"),
                value["message"].as_str().unwrap_or("")
            ))
        }
    }

    /// A command of this session (`/session/ID` + `path`), which must work.
    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let id = self.session.as_deref().expect("a session");
        self.call(method, &format!("/session/{id}{path}"), body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A command of this session that may fail (an element not there yet).
    fn try_session_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let id = self.session.as_deref().expect("a session");
        self.call(method, &format!("/session/{id}{path}"), body)
    }

    /// Opens `url` (and waits for the page to load, as WebDriver does).
    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Reloads the page.
    pub fn refresh(&self) {
        self.session_call("POST", "/refresh", None);
    }

    /// The URL the browser shows.
    pub fn url(&self) -> String {
        self.session_call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Forgets every cookie of the page's site.
    pub fn delete_cookies(&self) {
        self.session_call("DELETE", "/cookie", None);
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page
    /// and returns what it returns.
    pub fn script(&self, script: &str, args: Value) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// The HTTP status of the page shown (Navigation Timing's
    /// `responseStatus`: what the browser itself received).
    pub fn status(&self) -> u64 {
        let status = self.script(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return n ? n.responseStatus : null;",
            json!([]),
        );
        status
            .as_u64()
            .unwrap_or_else(|| panic!("no navigation status: {status}"))
    }

    /// The text the page shows (`document.body.innerText`).
    pub fn text(&self) -> String {
        self.script(
            "return document.body ? document.body.innerText : '';",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The text of the first element matching `css`, if there is one.
    pub fn text_of(&self, css: &str) -> Option<String> {
        self.script(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            json!([css]),
        )
        .as_str()
        .map(str::to_string)
    }

    /// Whether an element matches `css`.
    pub fn has(&self, css: &str) -> bool {
        self.script(
            "return !!document.querySelector(arguments[0]);",
            json!([css]),
        ) == json!(true)
    }

    /// The reference of the first element matching `css`.
    fn find(&self, css: &str) -> Result<String, String> {
        let found = self.try_session_call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        found[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element reference in {found}"))
    }

    /// Clicks the element matching `css`, waiting for it to be there (a
    /// page that redraws itself can replace it between find and click:
    /// then it is found again).
    pub fn click(&self, css: &str) {
        self.retry(&format!("a click on {css}"), || {
            let element = self.find(css)?;
            self.try_session_call("POST", &format!("/element/{element}/click"), None)
        });
    }

    /// Types `text` into the field matching `css` (after clearing it).
    pub fn type_into(&self, css: &str, text: &str) {
        self.retry(&format!("typing into {css}"), || {
            let element = self.find(css)?;
            self.try_session_call("POST", &format!("/element/{element}/clear"), None)?;
            self.try_session_call(
                "POST",
                &format!("/element/{element}/value"),
                Some(json!({ "text": text })),
            )
        });
    }

    /// Tries `step` until it works, or panics after [`DEADLINE`] with
    /// `what` and its last error.
    fn retry<T>(&self, what: &str, mut step: impl FnMut() -> Result<T, String>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match step() {
                Ok(value) => return value,
                Err(e) if Instant::now() >= deadline => panic!(
                    "{what} failed for {DEADLINE:?}: {e}; the page ({}) shows:\n{}",
                    self.url(),
                    self.text()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Polls `check` until it gives a value, or panics after [`DEADLINE`]
    /// with `what` and the page's text.
    pub fn wait_for<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(value) = check() {
                return value;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {DEADLINE:?} waiting for {what}; the page ({}) shows:\n{}",
                    self.url(),
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG of the element matching `css` (`body`: the whole page,
    /// as tall as its content) to `path` (its directory is made).
    pub fn screenshot(&self, css: &str, path: &Path) {
        let data = self.retry(&format!("a screenshot of {css}"), || {
            let element = self.find(css)?;
            self.try_session_call("GET", &format!("/element/{element}/screenshot"), None)
        });
        let png = base64_decode(data.as_str().expect("a base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the screenshot's directory");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            // Closing the session quits chromium.
            if let Err(e) = self.call("DELETE", &format!("/session/{id}"), None) {
                eprintln!("cleanup: closing the browser session: {e}");
            }
        }
        if let Some(mut driver) = self.driver.take() {
            let pid = Pid::from_raw(driver.id() as i32);
            kill(pid, Signal::SIGTERM).ok();
            let deadline = Instant::now() + Duration::from_secs(10);
            while driver.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    eprintln!("cleanup: chromedriver {pid} ignored SIGTERM; sending SIGKILL");
                    driver.kill().ok();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            driver.wait().ok();
        }
        for pid in processes_naming(&self.dir) {
            eprintln!("cleanup: killing browser process {pid}, still running");
            kill(Pid::from_raw(pid), Signal::SIGKILL).ok();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The first of `candidates` that is a file (a path) or on `PATH` (a name).
fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().find_map(|c| {
        if c.contains('/') {
            Path::new(c).is_file().then(|| PathBuf::from(c))
        } else {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(c))
                    .find(|p| p.is_file())
            })
        }
    })
}

/// A port of 127.0.0.1 that nobody listened on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// PIDs of processes whose command line contains `dir`.
fn processes_naming(dir: &Path) -> Vec<i32> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Reads one HTTP answer: up to the end of its `Content-Length` body (a
/// server may keep the connection open whatever the request asked), or
/// to the end of the stream when it names no length (chunked, or closed).
fn read_answer(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
            let length = head.lines().find_map(|l| {
                l.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            if let Some(length) = length {
                if raw.len() >= at + 4 + length {
                    raw.truncate(at + 4 + length);
                    return Ok(raw);
                }
            }
        }
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

/// The status and JSON body of an HTTP answer.
fn parse_answer(raw: &[u8]) -> Result<(u16, Value), String> {
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP head in the answer")?;
    let head = String::from_utf8_lossy(&raw[..at]);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(&raw[at + 4..])
    } else {
        raw[at + 4..].to_vec()
    };
    let json = serde_json::from_slice(&body)
        .map_err(|e| format!("{e} in {}", String::from_utf8_lossy(&body)))?;
    Ok((status, json))
}

/// The body of a chunked answer.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        let rest = &body[end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
    }
    out
}

/// Standard base64 (what WebDriver's screenshots are in), padding optional.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {:?}", c as char),
        }
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..group.len() - 1]);
    }
    out
}

#[test]
fn base64_decodes_with_and_without_padding() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGVsbG8"), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("aGV5"), b"hey");
}
