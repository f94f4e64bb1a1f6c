//! Exec of one command in a running container, from a form: the command
//! split into words as a shell would (or given to `sh -c` when its box is
//! ticked), run as `minidock exec` runs it (an exec instance, started
//! attached, its output read to the end, then its exit code from the exec's
//! inspect), and shown with its output — stderr marked — and its exit code.
//!
//! The page waits for the command at most [`WAIT`]; a command that runs
//! longer is left running (its output is still read, and dropped) and the
//! page shows what it wrote so far.

use super::forms::{csrf_field, Banner};
use super::html::escape;
use super::web::Form;
use super::Desk;
use hyper::{Method, Response};
use minidock_client::{ClientError, Hijacked};
use minidock_daemon::frames::StreamType;
use minidock_daemon::server::Body;
use minidock_daemon::types::ExecConfig;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long the page waits for the command to end.
pub const WAIT: Duration = Duration::from_secs(60);

/// How much output the page shows (the rest is read and dropped).
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// How long the exit code may take to appear after the output ended.
const EXIT_WAIT: Duration = Duration::from_secs(10);

/// The navigation entry of this page (a container's page).
const CURRENT: &str = "/";

/// `/containers/{id}/exec`: the form (GET) or a run of it (POST).
pub fn route(desk: &Desk, method: &Method, id: &str, form: &Form) -> Option<Response<Body>> {
    match *method {
        Method::GET => Some(page_of(desk, id, Banner::None, &Form::default(), None)),
        Method::POST => Some(run(desk, id, form)),
        _ => None,
    }
}

/// What a run of the command gave.
#[derive(Debug, Default)]
pub struct Ran {
    /// The words that ran.
    pub command: Vec<String>,
    /// The output in the order it came: runs of one stream's bytes.
    pub output: Vec<(StreamType, Vec<u8>)>,
    /// Whether output beyond [`MAX_OUTPUT`] was dropped.
    pub truncated: bool,
    /// Whether the output ended within [`WAIT`].
    pub finished: bool,
    /// The exit code, once the daemon knows it.
    pub exit_code: Option<i64>,
}

/// The exec form of container `id`, to put on any page of it: the command
/// as last given (`form`'s `cmd` and `shell`).
pub fn form_html(csrf: &str, id: &str, form: &Form) -> String {
    let checked = if form.get("shell").is_some() {
        " checked"
    } else {
        ""
    };
    format!(
        "<fieldset><legend>Run a command in it</legend>\
         <form method=\"post\" action=\"/containers/{id}/exec\" id=\"exec-form\">{csrf}\
         <label>Command <input type=\"text\" name=\"cmd\" id=\"exec-cmd\" size=\"60\" \
         value=\"{cmd}\" placeholder=\"ls -l /\" required></label> \
         <label><input type=\"checkbox\" name=\"shell\" value=\"1\" id=\"exec-shell\"{checked}> \
         with <code>sh -c</code></label> \
         <button type=\"submit\" id=\"exec-submit\">Run</button></form></fieldset>",
        id = escape(id),
        csrf = csrf_field(csrf),
        cmd = escape(form.get("cmd").unwrap_or_default()),
    )
}

/// The exec page of container `id`: the form, and what the last run gave.
fn page_of(
    desk: &Desk,
    id: &str,
    banner: Banner,
    form: &Form,
    ran: Option<&Ran>,
) -> Response<Body> {
    let name = match desk.client.container_inspect(id) {
        Ok(c) => c.name.trim_start_matches('/').to_string(),
        Err(e) => return desk.failed("Exec", CURRENT, &e),
    };
    let title = format!("Exec in {name}");
    let mut body = format!(
        "<p><a href=\"/\">← Containers</a> · <a href=\"/containers/{id}/logs\">Logs</a></p>",
        id = escape(id)
    );
    body.push_str(&form_html(desk.access.csrf(), id, form));
    if let Some(ran) = ran {
        body.push_str(&result_html(ran));
    }
    banner.page(&title, CURRENT, &body)
}

/// The output and the exit code of a run.
fn result_html(ran: &Ran) -> String {
    let command = shlex::try_join(ran.command.iter().map(String::as_str))
        .unwrap_or_else(|_| ran.command.join(" "));
    let mut out = format!(
        "<h2>Output of <code id=\"exec-command\">{}</code></h2><pre id=\"exec-output\">",
        escape(&command)
    );
    for (stream, bytes) in &ran.output {
        let text = escape(&String::from_utf8_lossy(bytes));
        if *stream == StreamType::Stderr {
            out.push_str(&format!("<span class=\"stderr\">{text}</span>"));
        } else {
            out.push_str(&text);
        }
    }
    out.push_str("</pre>");
    if ran.truncated {
        out.push_str(&format!(
            "<p class=\"muted\">Only the first {} KiB of the output are shown.</p>",
            MAX_OUTPUT / 1024
        ));
    }
    let exit = match (ran.finished, ran.exit_code) {
        (true, Some(code)) => format!("Exit code: {code}"),
        (true, None) => "It ended; the daemon gave no exit code".to_string(),
        (false, _) => format!(
            "Still running after {} s: it goes on in the container, and this page shows what \
             it wrote so far",
            WAIT.as_secs()
        ),
    };
    out.push_str(&format!("<p id=\"exec-exit\">{}</p>", escape(&exit)));
    out
}

// ANCHOR: exec
/// `POST /containers/{id}/exec`: runs the form's command and shows what it
/// gave; a container that is not running is the daemon's 409, in the
/// banner.
fn run(desk: &Desk, id: &str, form: &Form) -> Response<Body> {
    let failed = |banner| page_of(desk, id, banner, form, None);
    let Some(text) = form.text("cmd") else {
        return failed(Banner::bad("Exec: give a command"));
    };
    let command = if form.get("shell").is_some() {
        vec!["sh".to_string(), "-c".to_string(), text.to_string()]
    } else {
        match shlex::split(text) {
            Some(words) if !words.is_empty() => words,
            _ => {
                return failed(Banner::bad(
                    "Exec: the command has an unclosed quote or a trailing backslash",
                ))
            }
        }
    };
    let config = ExecConfig {
        attach_stdout: true,
        attach_stderr: true,
        cmd: command.clone(),
        ..Default::default()
    };
    let client = &desk.client;
    let started = client
        .exec_create(id, &config)
        .and_then(|exec_id| Ok((client.exec_start(&exec_id, false)?, exec_id)));
    let (hijacked, exec_id) = match started {
        Ok(started) => started,
        Err(e) => return failed(Banner::failed("Exec", &e)),
    };
    let mut ran = collect(hijacked, WAIT);
    ran.command = command;
    if ran.finished {
        match exit_code(desk, &exec_id) {
            Ok(code) => ran.exit_code = code,
            Err(e) => return page_of(desk, id, Banner::failed("Exec", &e), form, Some(&ran)),
        }
    }
    page_of(desk, id, Banner::None, form, Some(&ran))
}
// ANCHOR_END: exec

/// Reads the exec's output on a thread of its own until it ends or `wait`
/// passes; after that the thread reads on and drops what comes, so a
/// command that writes much never blocks on a full pipe.
fn collect(hijacked: Hijacked, wait: Duration) -> Ran {
    let Hijacked { mut output, stdin } = hijacked;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Held until the output ends, so the connection stays whole.
        let _stdin = stdin;
        let mut listening = true;
        loop {
            let chunk = output.next_chunk();
            let end = !matches!(chunk, Ok(Some(_)));
            if listening {
                listening = tx.send(chunk).is_ok();
            }
            if end {
                break;
            }
        }
    });
    let deadline = Instant::now() + wait;
    let mut ran = Ran::default();
    let mut size = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(Some((stream, bytes)))) => {
                let room = MAX_OUTPUT - size;
                if bytes.len() > room {
                    ran.truncated = true;
                }
                let bytes = &bytes[..bytes.len().min(room)];
                size += bytes.len();
                match ran.output.last_mut() {
                    Some((last, run)) if *last == stream => run.extend_from_slice(bytes),
                    _ if bytes.is_empty() => {}
                    _ => ran.output.push((stream, bytes.to_vec())),
                }
            }
            Ok(Ok(None)) | Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                ran.finished = true;
                return ran;
            }
            Err(RecvTimeoutError::Timeout) => return ran,
        }
    }
}

/// The exit code of a finished exec. The output ends when the process
/// closes it, which can be a moment before the daemon has reaped it, so a
/// still-running answer is asked again (for at most [`EXIT_WAIT`]).
fn exit_code(desk: &Desk, exec_id: &str) -> Result<Option<i64>, ClientError> {
    let deadline = Instant::now() + EXIT_WAIT;
    loop {
        let inspect = desk.client.exec_inspect(exec_id)?;
        if !inspect.running || Instant::now() >= deadline {
            return Ok(inspect.exit_code);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_marks_stderr_escapes_everything_and_says_how_it_ended() {
        let mut ran = Ran {
            command: vec!["sh".into(), "-c".into(), "echo <x>".into()],
            output: vec![
                (StreamType::Stdout, b"<x>\n".to_vec()),
                (StreamType::Stderr, b"oops & more\n".to_vec()),
            ],
            truncated: false,
            finished: true,
            exit_code: Some(2),
        };
        let html = result_html(&ran);
        assert!(html.contains("sh -c &#39;echo &lt;x&gt;&#39;"), "{html}");
        assert!(
            html.contains("&lt;x&gt;\n<span class=\"stderr\">oops &amp; more\n</span></pre>"),
            "{html}"
        );
        assert!(
            html.contains("<p id=\"exec-exit\">Exit code: 2</p>"),
            "{html}"
        );
        ran.finished = false;
        ran.truncated = true;
        let html = result_html(&ran);
        assert!(html.contains("Still running after 60 s"), "{html}");
        assert!(html.contains("Only the first 1024 KiB"), "{html}");
    }

    #[test]
    fn the_form_keeps_the_last_command() {
        let form = Form::parse("cmd=echo+%22hi%22&shell=1");
        let html = form_html("s3cret", "abc", &form);
        assert!(html.contains("value=\"echo &quot;hi&quot;\""), "{html}");
        assert!(html.contains("id=\"exec-shell\" checked"), "{html}");
        assert!(html.contains("action=\"/containers/abc/exec\""), "{html}");
        assert!(html.contains("name=\"csrf\" value=\"s3cret\""), "{html}");
    }
}
