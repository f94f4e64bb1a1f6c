//! Chapter 1's second milestone, after exercises 1.1–1.7: PID 1 of all new namespaces, with its
//! loopback up and a directory as its root (`/proc`, `/dev`, `/sys` mounted, `pivot_root`).
//! Still root with every capability: masks, capabilities and seccomp come next.
//! `cargo run -q -p minidock-namespaces --example rootfs -- ROOTFS CMD [ARG…]` (as root)

mod milestone;

use std::process::ExitCode;

use minidock_namespaces::{namespaces, network, rootfs, Namespaces, ProcessSpec};

// ANCHOR: main
fn main() -> ExitCode {
    let usage = "rootfs ROOTFS CMD [ARG…]";
    let args = match milestone::args(usage) {
        Ok(args) if args.len() > 1 => args,
        Ok(_) => {
            eprintln!("usage: {usage}");
            return ExitCode::from(2);
        }
        Err(code) => return code,
    };
    let spec = ProcessSpec::new(&args[0], &args[1..]);
    milestone::run("rootfs", &Namespaces::default(), &args[1..], || {
        network::bring_up_loopback()?; // exercise 1.4
        namespaces::set_hostname("minidock")?; // exercise 1.3
        rootfs::enter(&spec) // exercises 1.5–1.7
    })
}
// ANCHOR_END: main
