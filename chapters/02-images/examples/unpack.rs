//! The benchmark's driver (see `bench/unpack.sh`):
//!
//! - `unpack load STORE OCI-DIR` loads an image layout into a store and
//!   prints the manifest digest;
//! - `unpack register STORE MANIFEST` registers it again, which unpacks
//!   every layer that is not unpacked (the benchmark deletes them first).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use minidock_images::{Digest, Store};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["load", store, layout] => load(Path::new(store), Path::new(layout)),
        ["register", store, manifest] => register(Path::new(store), manifest),
        _ => {
            eprintln!("usage: unpack load STORE OCI-DIR | unpack register STORE MANIFEST");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unpack: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(store: &Path, layout: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(store)?;
    for image in store.load(layout)? {
        println!("{}", image.manifest_digest);
    }
    Ok(())
}

fn register(store: &Path, manifest: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(store)?;
    let manifest: Digest = manifest.parse()?;
    let start = Instant::now();
    let id = store.register_image(&manifest)?;
    eprintln!(
        "registered {} in {:.3}s",
        id.short(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
