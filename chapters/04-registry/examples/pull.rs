//! Pulls an image into a minidock store, with a progress bar per layer.
//!
//! ```text
//! cargo run -p minidock-registry --example pull -- busybox --root /tmp/store
//! cargo run -p minidock-registry --example pull -- 127.0.0.1:5000/team/app:1 --platform linux/arm64
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use minidock_images::{Digest, Reference, Store};
use minidock_registry::{Client, ClientOptions, Platform, Progress, PullOptions};

#[derive(Parser)]
#[command(about = "Pull an image from a registry into a minidock store")]
struct Args {
    /// The image: `busybox`, `localhost:5000/team/app:1`, `alpine@sha256:…`.
    reference: String,
    /// The store (default: $MINIDOCK_ROOT or /var/lib/minidock).
    #[arg(long)]
    root: Option<PathBuf>,
    /// The platform to pick from a multi-platform image (default: this host's).
    #[arg(long)]
    platform: Option<String>,
    /// A registry (host:port) that may be reached over plain HTTP.
    #[arg(long)]
    insecure_registry: Vec<String>,
    /// Layers downloaded at the same time.
    #[arg(long, default_value_t = 3)]
    max_concurrent_downloads: usize,
    /// No progress bars (for benchmarks).
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = args
        .root
        .or_else(|| std::env::var_os("MINIDOCK_ROOT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/lib/minidock"));
    let store = Store::open(&root).with_context(|| format!("open the store {}", root.display()))?;
    let reference = Reference::parse(&args.reference)?;
    let platform = match &args.platform {
        Some(p) => Some(p.parse::<Platform>().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let client = Client::new(ClientOptions {
        insecure_registries: args.insecure_registry,
        max_concurrent_downloads: args.max_concurrent_downloads,
        ..ClientOptions::default()
    });

    let bars = MultiProgress::new();
    let layers: Mutex<HashMap<Digest, ProgressBar>> = Mutex::new(HashMap::new());
    let style = ProgressStyle::with_template("{prefix} {msg:12} [{bar:30}] {bytes}/{total_bytes}")
        .expect("a valid template")
        .progress_chars("=> ");
    let quiet = args.quiet;
    let started = Instant::now();
    // Lines above the bars; if the terminal is gone, stderr will do.
    let say = |line: String| {
        if bars.is_hidden() {
            println!("{line}"); // not a terminal: no bars, plain lines
        } else if bars.println(&line).is_err() {
            eprintln!("{line}");
        }
    };
    let on_progress = |event: Progress| {
        if quiet {
            return;
        }
        let mut layers = layers.lock().expect("bars lock");
        match event {
            Progress::Resolving => {
                say(format!("{}: resolving", reference.familiar()));
            }
            Progress::LayerStart { digest, size } => {
                let bar = bars.add(ProgressBar::new(size));
                bar.set_style(style.clone());
                bar.set_prefix(digest.short().to_string());
                bar.set_message("downloading");
                layers.insert(digest, bar);
            }
            Progress::LayerProgress {
                digest, current, ..
            } => {
                if let Some(bar) = layers.get(&digest) {
                    bar.set_position(current);
                }
            }
            Progress::LayerDone { digest } => {
                if let Some(bar) = layers.get(&digest) {
                    bar.finish_with_message("verified");
                }
                if bars.is_hidden() {
                    println!("{}: pull complete", digest.short());
                }
            }
            Progress::LayerExists { digest } => {
                say(format!("{}: already exists", digest.short()));
            }
            Progress::Extracting => {
                say("extracting layers".to_string());
            }
            Progress::Done { digest } => {
                say(format!("Digest: {digest}"));
            }
        }
    };
    let pulled = client.pull(&store, &reference, &PullOptions { platform }, &on_progress)?;
    if !quiet {
        println!(
            "Status: pulled {} ({} blobs downloaded, {} already there) in {:.2?}",
            reference.familiar(),
            pulled.downloaded.len(),
            pulled.already_present.len(),
            started.elapsed()
        );
        println!("Image id: {}", pulled.image_id.digest());
    }
    Ok(())
}
