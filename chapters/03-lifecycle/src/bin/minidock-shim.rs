//! The helper binary of chapter 03: started with a hidden first argument,
//! it is a container's shim, chapter 01's init helper, or the exec helper
//! (see `minidock_lifecycle::reexec`). Engines may instead call
//! `minidock_lifecycle::reexec::dispatch()` first thing in their own `main`
//! and point the runtime at their own binary.

fn main() {
    minidock_lifecycle::reexec::dispatch();
    eprintln!(
        "minidock-shim: this program is started by minidock with a hidden role argument, not by hand"
    );
    std::process::exit(2);
}
