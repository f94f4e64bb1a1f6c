//! Showing the daemon's progress stream: a bar per layer on a terminal,
//! plain lines otherwise.
//!
//! Pull, push, load and import answer with a stream of JSON objects
//! (`{"status":"Downloading","id":"4f1c0ffee123","progressDetail":{…}}`).
//! The docker CLI draws them two ways, and so does minidock:
//!
//! - on a terminal, one line per layer that updates in place: here an
//!   `indicatif` bar per layer id, with the layer's status beside it;
//! - elsewhere (a pipe, a log file, a test), one line per status change
//!   (`4f1c0ffee123: Pull complete`), and no bars, since the intermediate
//!   `Downloading` updates would only fill the log.

use std::collections::HashMap;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use minidock_daemon::types::ProgressMessage;

/// The line a message prints when the output is not a terminal, or `None`
/// for the updates that only move a bar — the rules of Docker's
/// `jsonmessage.Display` without a terminal.
pub fn plain_line(message: &ProgressMessage) -> Option<String> {
    let moves_a_bar = message
        .progress_detail
        .as_ref()
        .is_some_and(|d| d.current.unwrap_or(0) > 0 || d.total.unwrap_or(0) > 0);
    if moves_a_bar {
        return None;
    }
    let mut line = String::new();
    if let Some(id) = message.id.as_deref().filter(|id| !id.is_empty()) {
        line.push_str(id);
        line.push_str(": ");
    }
    if let Some(stream) = &message.stream {
        line.push_str(stream.trim_end_matches('\n'));
    } else if let Some(status) = &message.status {
        line.push_str(status);
    } else {
        return None;
    }
    Some(line)
}

/// Where the progress goes.
enum Display {
    /// Plain lines to a writer.
    Lines(Box<dyn Write>),
    /// Bars on a terminal.
    Bars {
        multi: MultiProgress,
        bars: HashMap<String, ProgressBar>,
    },
}

/// Draws a progress stream, message by message.
pub struct ProgressPrinter {
    display: Display,
}

fn text_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {wide_msg}").expect("a valid indicatif template")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix}: {msg:<12} [{bar:40}] {decimal_bytes:>9}/{decimal_total_bytes}",
    )
    .expect("a valid indicatif template")
    .progress_chars("=> ")
}

impl ProgressPrinter {
    /// Plain lines to `out`.
    pub fn lines(out: Box<dyn Write>) -> ProgressPrinter {
        ProgressPrinter {
            display: Display::Lines(out),
        }
    }

    /// Bars on the terminal of stdout (`to_stderr`: of stderr).
    pub fn bars(to_stderr: bool) -> ProgressPrinter {
        let target = if to_stderr {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::stdout()
        };
        ProgressPrinter {
            display: Display::Bars {
                multi: MultiProgress::with_draw_target(target),
                bars: HashMap::new(),
            },
        }
    }

    /// Bars when the stream is a terminal, lines otherwise.
    pub fn for_stream(to_stderr: bool) -> ProgressPrinter {
        use std::io::IsTerminal;
        let terminal = if to_stderr {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        match (terminal, to_stderr) {
            (true, _) => ProgressPrinter::bars(to_stderr),
            (false, true) => ProgressPrinter::lines(Box::new(std::io::stderr())),
            (false, false) => ProgressPrinter::lines(Box::new(std::io::stdout())),
        }
    }

    /// Shows one message.
    pub fn show(&mut self, message: &ProgressMessage) {
        match &mut self.display {
            Display::Lines(out) => {
                if let Some(line) = plain_line(message) {
                    // Progress output is best effort: a closed pipe must not
                    // stop the pull itself.
                    writeln!(out, "{line}").and_then(|()| out.flush()).ok();
                }
            }
            Display::Bars { multi, bars } => {
                let id = message.id.clone().unwrap_or_default();
                let status = message.status.clone().unwrap_or_default();
                // Lines without a layer id, and the "latest: Pulling from
                // library/busybox" header, print above the bars.
                if id.is_empty() || status.starts_with("Pulling from") || message.stream.is_some() {
                    if let Some(line) = plain_line(message) {
                        // println fails only when the terminal is gone.
                        multi.println(line).ok();
                    }
                    return;
                }
                let bar = bars.entry(id.clone()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(0));
                    bar.set_style(text_style());
                    bar.set_prefix(id.clone());
                    bar
                });
                match message
                    .progress_detail
                    .as_ref()
                    .and_then(|d| d.total.map(|t| (d.current.unwrap_or(0), t)))
                {
                    Some((current, total)) if total > 0 => {
                        bar.set_style(bar_style());
                        bar.set_length(total);
                        bar.set_position(current);
                        bar.set_message(status);
                    }
                    _ => {
                        bar.set_style(text_style());
                        bar.set_message(status);
                    }
                }
            }
        }
    }

    /// Leaves the bars on the screen, finished.
    pub fn finish(self) {
        if let Display::Bars { bars, .. } = self.display {
            for bar in bars.values() {
                bar.abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidock_daemon::types::ProgressDetail;
    use std::sync::{Arc, Mutex};

    #[test]
    fn plain_lines_follow_dockers_rules() {
        let header = ProgressMessage::status("Pulling from library/busybox", Some("latest"));
        assert_eq!(
            plain_line(&header).as_deref(),
            Some("latest: Pulling from library/busybox")
        );
        let layer = ProgressMessage::status("Pull complete", Some("0123456789ab"));
        assert_eq!(
            plain_line(&layer).as_deref(),
            Some("0123456789ab: Pull complete")
        );
        let moving = ProgressMessage::progress("Downloading", "0123456789ab", 10, 100);
        assert_eq!(plain_line(&moving), None);
        let empty_detail = ProgressMessage {
            progress_detail: Some(ProgressDetail::default()),
            ..ProgressMessage::status("Pulling fs layer", Some("0123456789ab"))
        };
        assert_eq!(
            plain_line(&empty_detail).as_deref(),
            Some("0123456789ab: Pulling fs layer")
        );
        let loaded = ProgressMessage::stream("Loaded image: busybox:latest\n");
        assert_eq!(
            plain_line(&loaded).as_deref(),
            Some("Loaded image: busybox:latest")
        );
        assert_eq!(
            plain_line(&ProgressMessage::status("Digest: sha256:ab", None)).as_deref(),
            Some("Digest: sha256:ab")
        );
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_pull_prints_one_line_per_status_change() {
        let out = Shared::default();
        let mut printer = ProgressPrinter::lines(Box::new(out.clone()));
        let id = "0123456789ab";
        for m in [
            ProgressMessage::status("Pulling from library/busybox", Some("latest")),
            ProgressMessage::status("Pulling fs layer", Some(id)),
            ProgressMessage::progress("Downloading", id, 1, 3),
            ProgressMessage::progress("Downloading", id, 3, 3),
            ProgressMessage::status("Download complete", Some(id)),
            ProgressMessage::progress("Extracting", id, 3, 3),
            ProgressMessage::status("Pull complete", Some(id)),
            ProgressMessage::status("Status: Downloaded newer image for busybox:latest", None),
        ] {
            printer.show(&m);
        }
        printer.finish();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "latest: Pulling from library/busybox\n\
             0123456789ab: Pulling fs layer\n\
             0123456789ab: Download complete\n\
             0123456789ab: Pull complete\n\
             Status: Downloaded newer image for busybox:latest\n"
        );
    }

    #[test]
    fn bars_follow_the_layers_without_panicking_off_a_terminal() {
        // Hidden target: the bars still track positions.
        let mut printer = ProgressPrinter {
            display: Display::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
                bars: HashMap::new(),
            },
        };
        printer.show(&ProgressMessage::status("Pulling fs layer", Some("a")));
        printer.show(&ProgressMessage::progress("Downloading", "a", 5, 10));
        if let Display::Bars { bars, .. } = &printer.display {
            assert_eq!(bars["a"].position(), 5);
            assert_eq!(bars["a"].length(), Some(10));
            assert_eq!(bars["a"].message(), "Downloading");
        }
        printer.show(&ProgressMessage::status("Pull complete", Some("a")));
        if let Display::Bars { bars, .. } = &printer.display {
            assert_eq!(bars["a"].message(), "Pull complete");
        }
        printer.finish();
    }
}
