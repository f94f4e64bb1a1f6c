//! Runs a command in a container made from an image file:
//! `cargo run -p minidock-images --example run -- IMAGE.tar|OCI-DIR [CMD…]`
//! (as root). Without CMD, the image's entrypoint and command run.
//!
//! It loads the image into a temporary store, mounts an overlay root file
//! system from its layers, runs the command in it with chapter 01, and
//! unmounts and removes everything at the end.

use std::path::Path;
use std::process::ExitCode;

use minidock_images::{Image, Rootfs, Store};
use minidock_namespaces::{init, InitHelper, ProcessSpec, REEXEC_ARG};

// ANCHOR: main
fn main() -> ExitCode {
    // Started as our own init helper: become it before anything else runs.
    if std::env::args().nth(1).as_deref() == Some(REEXEC_ARG) {
        init::main(); // never returns
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((image_file, command)) = args.split_first() else {
        eprintln!("usage: run IMAGE.tar|OCI-DIR [CMD [ARG…]]");
        return ExitCode::from(2);
    };
    match run(Path::new(image_file), command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("run: {e}");
            ExitCode::from(125)
        }
    }
}

fn run(image_file: &Path, command: &[String]) -> Result<i32, Box<dyn std::error::Error>> {
    let work = tempfile::Builder::new().prefix("minidock-run-").tempdir()?;
    let store = Store::open(&work.path().join("store"))?;
    let loaded = store.load(image_file)?;
    let first = loaded.first().ok_or("the archive holds no image")?;
    let image = store.resolve(&first.id.to_string())?;
    let layers = image.layers.len();
    let plural = if layers == 1 { "" } else { "s" };
    eprintln!("image {} ({layers} layer{plural})", image.id.short());

    let rootfs = Rootfs::mount(&store, &image, &work.path().join("container"))?;
    let spec = process_spec(&image, rootfs.path(), command);
    let result = spec.and_then(|spec| Ok(spec.spawn(&InitHelper::reexec())?.wait()?));
    // Unmount whatever happened, then report the first error.
    rootfs.unmount()?;
    result
}

/// What to run, from the command line or else the image's config.
fn process_spec(
    image: &Image,
    rootfs: &Path,
    command: &[String],
) -> Result<ProcessSpec, Box<dyn std::error::Error>> {
    let config = image.config.config().clone().unwrap_or_default();
    let argv: Vec<String> = if command.is_empty() {
        let mut argv = config.entrypoint().clone().unwrap_or_default();
        argv.extend(config.cmd().clone().unwrap_or_default());
        argv
    } else {
        command.to_vec()
    };
    if argv.is_empty() {
        return Err("no command given and the image has none".into());
    }
    let mut spec = ProcessSpec::new(rootfs, argv).hostname("minidock");
    for var in config.env().clone().unwrap_or_default() {
        if let Some((key, value)) = var.split_once('=') {
            spec = spec.env(key, value);
        }
    }
    if let Some(dir) = config.working_dir().as_deref().filter(|d| !d.is_empty()) {
        spec = spec.cwd(dir);
    }
    Ok(spec)
}
// ANCHOR_END: main
