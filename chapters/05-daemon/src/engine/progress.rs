//! From chapter 04's progress events to Docker's JSON progress messages.
//!
//! The registry client reports from its download threads; the daemon's
//! progress sink lives on the request's thread. So the pull runs on a scoped
//! thread, its events come back over a channel, and this thread turns each
//! into the messages the docker CLI prints:
//!
//! ```text
//! {"status":"Pulling from library/busybox","id":"latest"}
//! {"status":"Pulling fs layer","id":"a3ed95caeb02"}
//! {"status":"Downloading","progressDetail":{"current":1024,"total":2048},"progress":"[====>  ]","id":"a3ed95caeb02"}
//! {"status":"Download complete","id":"a3ed95caeb02"}
//! {"status":"Pull complete","id":"a3ed95caeb02"}
//! {"status":"Digest: sha256:…"}
//! {"status":"Status: Downloaded newer image for busybox:latest"}
//! ```

use crate::compat::types::ProgressMessage;
use crate::service::Progress as Sink;
use minidock_images::{Digest, Reference};
use minidock_registry::Progress;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Mutex;

/// Translates one pull's (or push's) events.
pub struct PullReporter {
    familiar: String,
    path: String,
    tag: String,
    push: bool,
    /// Layers that transferred, in order, for the final "Pull complete".
    transferred: Vec<String>,
    /// Bytes last reported per layer, to report every 2 % and not every read.
    reported: HashMap<String, u64>,
    /// "Pulling from" is said once the manifest is there: a pull that fails
    /// to resolve must fail before its first message, with a real status.
    announced: bool,
}

/// The 12 hex characters Docker shows for a layer.
fn short(digest: &Digest) -> String {
    digest.hex().chars().take(12).collect()
}

impl PullReporter {
    /// A reporter for a pull of `reference`.
    pub fn new(reference: &Reference) -> PullReporter {
        PullReporter {
            familiar: reference.familiar(),
            path: reference.path().to_string(),
            tag: reference
                .tag()
                .map(str::to_owned)
                .or_else(|| reference.digest().map(|d| d.to_string()))
                .unwrap_or_default(),
            push: false,
            transferred: Vec::new(),
            reported: HashMap::new(),
            announced: false,
        }
    }

    /// A reporter for a push of `reference`.
    pub fn for_push(reference: &Reference) -> PullReporter {
        PullReporter {
            push: true,
            ..PullReporter::new(reference)
        }
    }

    /// The messages for one event.
    pub fn translate(&mut self, event: Progress) -> Vec<ProgressMessage> {
        if self.push || self.announced || matches!(event, Progress::Resolving) {
            return self.translate_event(event);
        }
        self.announced = true;
        let mut out = vec![ProgressMessage::status(
            format!("Pulling from {}", self.path),
            Some(&self.tag),
        )];
        out.extend(self.translate_event(event));
        out
    }

    // ANCHOR: translate_event
    fn translate_event(&mut self, event: Progress) -> Vec<ProgressMessage> {
        let msg = |status: &str, id: Option<&str>| ProgressMessage::status(status, id);
        match event {
            Progress::Resolving => vec![],
            Progress::LayerStart { digest, .. } => {
                let what = if self.push {
                    "Preparing"
                } else {
                    "Pulling fs layer"
                };
                vec![msg(what, Some(&short(&digest)))]
            }
            Progress::LayerProgress {
                digest,
                current,
                total,
            } => {
                let id = short(&digest);
                let last = self.reported.get(&id).copied();
                let step = (total / 50).max(1);
                if last.is_some_and(|l| current < total && current - l.min(current) < step) {
                    return vec![];
                }
                self.reported.insert(id.clone(), current);
                let what = if self.push { "Pushing" } else { "Downloading" };
                vec![ProgressMessage::progress(what, &id, current, total)]
            }
            Progress::LayerDone { digest } => {
                let id = short(&digest);
                self.transferred.push(id.clone());
                let what = if self.push {
                    "Pushed"
                } else {
                    "Download complete"
                };
                vec![msg(what, Some(&id))]
            }
            // ANCHOR_END: translate_event
            Progress::LayerExists { digest } => {
                let what = if self.push {
                    "Layer already exists"
                } else {
                    "Already exists"
                };
                vec![msg(what, Some(&short(&digest)))]
            }
            Progress::Extracting => vec![],
            Progress::Done { digest } => {
                let mut out: Vec<ProgressMessage> = if self.push {
                    vec![]
                } else {
                    self.transferred
                        .iter()
                        .map(|id| msg("Pull complete", Some(id)))
                        .collect()
                };
                if self.push {
                    out.push(msg(&format!("{}: digest: {digest}", self.tag), None));
                } else {
                    out.push(msg(&format!("Digest: {digest}"), None));
                    let status = if self.transferred.is_empty() {
                        format!("Status: Image is up to date for {}", self.familiar)
                    } else {
                        format!("Status: Downloaded newer image for {}", self.familiar)
                    };
                    out.push(msg(&status, None));
                }
                out
            }
        }
    }

    // ANCHOR: progress_run
    /// Runs `job` (a pull or push taking chapter 04's callback) on a scoped
    /// thread, feeding the translated messages to `sink` on this thread.
    pub fn run<T: Send>(
        mut self,
        sink: Sink,
        job: impl FnOnce(&(dyn Fn(Progress) + Send + Sync)) -> T + Send,
    ) -> T {
        let (tx, rx) = mpsc::channel::<Progress>();
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let tx = Mutex::new(tx);
                let report = move |event: Progress| {
                    if let Ok(tx) = tx.lock() {
                        tx.send(event).ok();
                    }
                };
                job(&report)
            });
            for event in rx {
                for message in self.translate(event) {
                    sink(message);
                }
            }
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}
// ANCHOR_END: progress_run

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_reads_like_dockers() {
        let reference = Reference::parse("busybox").unwrap();
        let mut r = PullReporter::new(&reference);
        let layer: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        let mut all = Vec::new();
        for event in [
            Progress::Resolving,
            Progress::LayerStart {
                digest: layer.clone(),
                size: 100,
            },
            Progress::LayerProgress {
                digest: layer.clone(),
                current: 50,
                total: 100,
            },
            Progress::LayerProgress {
                digest: layer.clone(),
                current: 100,
                total: 100,
            },
            Progress::LayerDone {
                digest: layer.clone(),
            },
            Progress::Extracting,
            Progress::Done {
                digest: layer.clone(),
            },
        ] {
            all.extend(r.translate(event));
        }
        let statuses: Vec<String> = all.iter().map(|m| m.status.clone().unwrap()).collect();
        assert_eq!(
            statuses,
            [
                "Pulling from library/busybox",
                "Pulling fs layer",
                "Downloading",
                "Downloading",
                "Download complete",
                "Pull complete",
                &format!("Digest: {layer}"),
                "Status: Downloaded newer image for busybox:latest",
            ]
        );
        assert_eq!(all[0].id.as_deref(), Some("latest"));
        assert_eq!(all[1].id.as_deref(), Some("abababababab"));
        assert_eq!(all[2].progress_detail.as_ref().unwrap().current, Some(50));
    }
}
