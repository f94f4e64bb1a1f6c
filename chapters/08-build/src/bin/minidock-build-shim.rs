//! The helper binary of this chapter: RUN steps are containers of chapter
//! 03, whose shim and init helper are this binary started again with a
//! hidden role argument.

fn main() {
    minidock_lifecycle::reexec::dispatch();
    eprintln!(
        "minidock-build-shim: this program is started by minidock with a hidden role argument, not by hand"
    );
    std::process::exit(2);
}
