//! Detach keys: `ctrl-p ctrl-q` (or `--detach-keys`, or `detachKeys` in the
//! client's `config.json`) leaves a container's terminal with the container
//! still running — through the real docker CLI and minidock's own, each on a
//! real pseudo-terminal, and through the raw API.
//!
//! Measured against dockerd 28 with the docker CLI 28.2.2: `docker attach`
//! then ctrl-p ctrl-q prints `read escape sequence` and exits 1; `docker run
//! -it` then ctrl-p ctrl-q exits 0; the container keeps running either way.

mod common;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{docker_cli_available, Daemon};
use nix::pty::{openpty, Winsize};

const TIMEOUT: Duration = Duration::from_secs(60);
const CTRL_P_CTRL_Q: &str = "\x10\x11";

/// A program on a new pseudo-terminal; the test is the user at its keyboard.
struct Terminal {
    master: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
    child: Child,
    _slave: OwnedFd,
}

impl Terminal {
    fn spawn(mut cmd: Command) -> Terminal {
        let size = Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty slave"));
        let child = cmd
            .stdin(io(&pty.slave))
            .stdout(io(&pty.slave))
            .stderr(io(&pty.slave))
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        let master = std::fs::File::from(pty.master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup the pty master");
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Terminal {
            master,
            seen,
            child,
            _slave: pty.slave,
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    fn type_text(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).expect("type");
    }

    /// Waits until the screen after `from` shows `wanted`; returns where it ends.
    fn expect(&self, from: usize, wanted: &str) -> usize {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            {
                let seen = self.seen.lock().unwrap();
                let text = String::from_utf8_lossy(&seen[from.min(seen.len())..]).into_owned();
                if let Some(at) = text.find(wanted) {
                    return from + at + wanted.len();
                }
            }
            assert!(
                Instant::now() < deadline,
                "did not see {wanted:?}; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the client") {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the client did not exit after the detach keys; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            if let Err(e) = self.child.kill() {
                eprintln!("cleanup: kill client {}: {e}", self.child.id());
            }
            self.child.wait().ok();
        }
    }
}

fn running(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.State.Running}}", name])
        .trim()
        .to_string()
}

/// Types a command into the attached shell and waits for its answer, so
/// we know the input reaches the container (and `n` is never on screen
/// before the shell computes it).
fn prove_attached(term: &mut Terminal, n: u32) -> usize {
    let at = term.screen().len();
    term.type_text(&format!("echo got-$(({n}+1))\r"));
    term.expect(at, &format!("got-{}", n + 1))
}

#[test]
fn docker_attach_and_run_it_detach_on_ctrl_p_ctrl_q() {
    if !docker_cli_available() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-dit", "--name", "shell", "busybox", "sh"]);

    // `docker attach`, then the default keys.
    let mut attach = d.docker();
    attach.args(["attach", "shell"]);
    let mut term = Terminal::spawn(attach);
    prove_attached(&mut term, rand::random::<u16>() as u32);
    term.type_text(CTRL_P_CTRL_Q);
    assert_eq!(term.wait_exit(), 1, "{}", term.screen());
    // The client has exited, but its last words may still be on their way
    // from the pseudo-terminal to the reader thread: wait for them.
    term.expect(0, "read escape sequence");
    assert_eq!(running(&d, "shell"), "true", "detaching must not stop it");

    // Again with other keys; the shell is the same one, its stdin still open.
    let mut attach = d.docker();
    attach.args(["attach", "--detach-keys", "ctrl-a,x", "shell"]);
    let mut term = Terminal::spawn(attach);
    prove_attached(&mut term, 41);
    term.type_text("\x01x");
    assert_eq!(term.wait_exit(), 1, "{}", term.screen());
    assert_eq!(running(&d, "shell"), "true");

    // `docker run -it`, detached from at once: exit 0, the container runs.
    let mut run = d.docker();
    run.args(["run", "-it", "--name", "second", "busybox", "sh"]);
    let mut term = Terminal::spawn(run);
    prove_attached(&mut term, 7);
    term.type_text(CTRL_P_CTRL_Q);
    assert_eq!(term.wait_exit(), 0, "{}", term.screen());
    assert_eq!(running(&d, "second"), "true");

    // `docker exec -it`: the exec's shell is left, the container untouched.
    let mut exec = d.docker();
    exec.args(["exec", "-it", "shell", "sh"]);
    let mut term = Terminal::spawn(exec);
    prove_attached(&mut term, 99);
    term.type_text(CTRL_P_CTRL_Q);
    term.wait_exit();
    assert_eq!(running(&d, "shell"), "true");
}

#[test]
fn minidock_detaches_with_its_flag_and_the_config_file() {
    let d = Daemon::start();
    d.load_busybox();
    // `run -it --detach-keys`: exit 0, the container runs.
    let mut run = d.minidock_std();
    run.args(["run", "-it", "--detach-keys", "ctrl-a,d", "--name", "box"])
        .args(["busybox", "sh"]);
    let mut term = Terminal::spawn(run);
    prove_attached(&mut term, 1);
    // A lone ctrl-a is input, held back only until the next key.
    term.type_text("\x01");
    term.type_text("\x01d");
    assert_eq!(term.wait_exit(), 0, "{}", term.screen());
    assert_eq!(running(&d, "box"), "true");

    // `detachKeys` from the client's config.json.
    let config = d.dir.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.json"), r#"{"detachKeys":"ctrl-e,e"}"#).unwrap();
    let mut attach = d.minidock_std();
    attach.args(["attach", "box"]);
    let mut term = Terminal::spawn(attach);
    prove_attached(&mut term, 2);
    term.type_text(CTRL_P_CTRL_Q); // not the configured keys: plain input
    term.type_text("\x05e");
    assert_eq!(term.wait_exit(), 1, "{}", term.screen());
    term.expect(0, "read escape sequence");
    assert_eq!(running(&d, "box"), "true");

    // `exec -it` with the default keys (the flag overrides the file).
    let mut exec = d.minidock_std();
    exec.args(["exec", "-it", "--detach-keys", "ctrl-p,ctrl-q", "box", "sh"]);
    let mut term = Terminal::spawn(exec);
    prove_attached(&mut term, 3);
    term.type_text(CTRL_P_CTRL_Q);
    assert_eq!(term.wait_exit(), 1, "{}", term.screen());
    assert_eq!(running(&d, "box"), "true");

    // The shell is still the one we typed into: attach and leave it by `exit`.
    std::fs::remove_file(config.join("config.json")).unwrap();
    let mut attach = d.minidock_std();
    attach.args(["attach", "box"]);
    let mut term = Terminal::spawn(attach);
    prove_attached(&mut term, 4);
    term.type_text("exit 3\r");
    assert_eq!(term.wait_exit(), 3, "{}", term.screen());

    // A bad sequence is a usage error naming it.
    let out = d.run(&["run", "--detach-keys", "ctrl-1", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        common::stderr(&out).contains("Invalid detach keys (ctrl-1)"),
        "{}",
        common::stderr(&out)
    );
}

/// The daemon itself watches a terminal's input: a raw API client (no
/// docker CLI between) that sends the keys gets its connection closed, and
/// the container keeps running; bad keys are a 400.
#[test]
fn the_daemon_detaches_a_raw_attach() {
    use std::os::unix::net::UnixStream;
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-dit", "--name", "raw", "busybox", "sh"]);

    let request = |query: &str| {
        let mut s = UnixStream::connect(&d.socket).expect("connect");
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        write!(
            s,
            "POST /v1.44/containers/raw/attach?stream=1&stdin=1&stdout=1&stderr=1{query} HTTP/1.1\r\n\
             Host: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        s
    };
    let read_until = |s: &mut UnixStream, wanted: &str| -> String {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(wanted) {
            let n = s.read(&mut buf).expect("read the attach stream");
            assert!(
                n > 0,
                "closed before {wanted:?}: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    };

    let mut bad = request("&detachKeys=ctrl-%3F");
    let answer = read_until(&mut bad, "\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    let mut s = request("&detachKeys=ctrl-b,b");
    let answer = read_until(&mut s, "\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    s.write_all(b"echo raw-$((20+1))\n").unwrap();
    read_until(&mut s, "raw-21");
    // The keys in two writes, with input before them in the first.
    s.write_all(b"\x02").unwrap();
    s.write_all(b"b").unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)
        .expect("the daemon closes the connection on the detach keys");
    assert_eq!(running(&d, "raw"), "true");
    // Nothing of the keys reached the shell: its next line runs as typed
    // (with `^Bb` in front it would be `sh: \x02becho: not found`).
    let mut s = request("");
    read_until(&mut s, "\r\n\r\n");
    s.write_all(b"echo clean-$((1+1))\n").unwrap();
    let text = read_until(&mut s, "clean-2");
    assert!(!text.contains("not found"), "{text:?}");
}
