//! The port proxy of chapter 06 on its own: what `minidockd` re-executes
//! itself as (`__minidock_proxy tcp|udp IP:PORT TAG`, the listening socket
//! as descriptor 3). The chapter's tests start proxies through it.

fn main() {
    minidock_networks::ports::dispatch();
    eprintln!(
        "minidock-proxy is started by the engine: {} tcp|udp IP:PORT TAG, with the listening socket as descriptor 3",
        minidock_networks::ports::PROXY_ARG
    );
    std::process::exit(2);
}
