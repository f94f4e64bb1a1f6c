//! The init helper binary: a fresh, single-threaded process that sets up
//! one container and becomes it. Started by the engine, never by hand.

fn main() {
    minidock_namespaces::init::main()
}
