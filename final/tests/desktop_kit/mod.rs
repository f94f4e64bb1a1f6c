//! What the dashboard's tests share: `minidock desktop` started against a
//! test daemon (and stopped by its PID on drop), and a plain HTTP/1.1
//! client that shows exactly what the server answered (no redirects
//! followed, no cookies kept unless the test passes them).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A running `minidock desktop`.
pub struct Desktop {
    child: Child,
    /// The URL it printed, with the token.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub authority: String,
    /// The token in the URL.
    pub token: String,
}

impl Desktop {
    /// Starts `minidock -H HOST desktop` and waits (up to 30 s) for the URL
    /// it prints.
    pub fn start(host: &str) -> Desktop {
        let mut child = Command::new(env!("CARGO_BIN_EXE_minidock"))
            .env_remove("MINIDOCK_HOST")
            .args(["-H", host, "desktop"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start minidock desktop");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("http://") {
                    tx.send(line[at..].trim().to_string()).ok();
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).ok();
                child.wait().ok();
                panic!("minidock desktop printed no URL within 30 s");
            }
        };
        let rest = url.strip_prefix("http://").expect("an http URL");
        let (authority, query) = rest.split_once("/?token=").expect("URL with /?token=");
        Desktop {
            child,
            authority: authority.to_string(),
            token: query.to_string(),
            url,
        }
    }

    /// A request to the dashboard.
    pub fn request(&self, method: &str, path: &str) -> Request {
        Request {
            authority: self.authority.clone(),
            method: method.to_string(),
            path: path.to_string(),
            headers: vec![("Host".into(), self.authority.clone())],
            body: Vec::new(),
        }
    }

    /// The cookie header value that carries the token.
    pub fn cookie(&self) -> String {
        format!("minidock_desktop={}", self.token)
    }

    /// A GET with the token's cookie.
    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path)
            .header("Cookie", &self.cookie())
            .send()
    }

    /// A POST of `form` (pairs, escaped here) with the token's cookie.
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.request("POST", path)
            .header("Cookie", &self.cookie())
            .form(form)
            .send()
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).ok();
        }
        self.child.wait().ok();
    }
}

/// An HTTP request being built.
pub struct Request {
    authority: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// Adds (or replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a form body.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Request {
        let encode = |s: &str| {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        self.body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes();
        self.header("Content-Type", "application/x-www-form-urlencoded")
    }

    /// Sends it on a new connection and reads the whole answer.
    pub fn send(self) -> Answer {
        let mut stream = TcpStream::connect(&self.authority).expect("connect to the dashboard");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("set a read timeout");
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        stream.write_all(head.as_bytes()).expect("send the request");
        stream.write_all(&self.body).expect("send the body");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read the answer");
        Answer::parse(&raw)
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP head");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the page's hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let at = self
            .body
            .find(marker)
            .expect("the page has a form with a csrf field")
            + marker.len();
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
