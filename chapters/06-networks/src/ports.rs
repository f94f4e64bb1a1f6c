//! Published ports: `-p 8080:80` makes the container's port 80 answer on
//! the host's port 8080.
//!
//! Docker has two ways, and uses both: a DNAT rule in `PREROUTING` that
//! rewrites the destination of packets arriving from outside, and a small
//! *userland proxy* (`docker-proxy`) per port that listens on the host and
//! copies bytes to the container. The rule alone misses the most common
//! case: a connection to `127.0.0.1:8080` from the host itself never
//! passes `PREROUTING` (it is local traffic, it goes through `OUTPUT`), and
//! the kernel refuses to route a `127.*` source to another interface
//! unless `route_localnet` is switched on for it — a sysctl that widens
//! the host's exposure.
//!
//! minidock uses the proxy only. One process per published port listens
//! on the host address and forwards every TCP connection (or UDP
//! datagram) to the container's address. It works the same for
//! `127.0.0.1`, the host's other addresses, and another container going
//! through the host (hairpin), and needs no firewall rule at all. The
//! bytes do not pass through the proxy's memory: it `splice`s them from
//! one socket to the other ([`relay`]); bench/net.sh compares it with the
//! straight path.
//!
//! The daemon binds the listening socket itself — so "port is already
//! allocated" is a clear error at start, and an ephemeral port (`-p 80`)
//! is known at once — then hands it to a proxy process, its own binary
//! re-executed with [`PROXY_ARG`], in a session of its own. Like a shim,
//! the proxy outlives a daemon restart: published ports keep answering.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The hidden first argument that makes the engine's binary a port proxy.
pub const PROXY_ARG: &str = "__minidock_proxy";

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A port the container publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// TCP or UDP.
    pub proto: Proto,
    /// The container's port.
    pub container_port: u16,
    /// The host address listened on (`0.0.0.0`: all).
    pub host_ip: Ipv4Addr,
    /// The host port (chosen by the kernel when `-p` gave none).
    pub host_port: u16,
    /// The proxy process.
    #[serde(default)]
    pub proxy_pid: Option<i32>,
}

/// A request to publish, before a host port is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    /// TCP or UDP.
    pub proto: Proto,
    /// The container's port.
    pub container_port: u16,
    /// The host address.
    pub host_ip: Ipv4Addr,
    /// The host port; 0 lets the kernel choose.
    pub host_port: u16,
}

/// Parses a port key as Docker writes it: `80/tcp`, `53/udp`, `80`.
pub fn parse_port_key(key: &str) -> Result<(u16, Proto)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = match proto {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        other => {
            return Err(Error::Invalid(format!(
                "invalid protocol {other:?} in port {key:?}: use tcp or udp"
            )))
        }
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::Invalid(format!("invalid container port in {key:?}")))?;
    Ok((port, proto))
}

// ANCHOR: publish_bind
/// Binds the host side of `req` and starts its proxy towards
/// `target:container_port`. `binary` is the engine's own executable and
/// `tag` a string that identifies the container (it goes on the proxy's
/// command line, so a later daemon can recognise its proxies).
pub fn publish(binary: &Path, req: &PortRequest, target: Ipv4Addr, tag: &str) -> Result<Published> {
    let addr = SocketAddr::V4(SocketAddrV4::new(req.host_ip, req.host_port));
    let in_use = |e: std::io::Error| {
        Error::Conflict(format!(
            "driver failed programming external connectivity: Bind for {addr} failed: {e}"
        ))
    };
    let (fd, port): (OwnedFd, u16) = match req.proto {
        Proto::Tcp => {
            let l = TcpListener::bind(addr).map_err(in_use)?;
            let port = l.local_addr().map_err(in_use)?.port();
            (l.into(), port)
        }
        Proto::Udp => {
            let s = UdpSocket::bind(addr).map_err(in_use)?;
            let port = s.local_addr().map_err(in_use)?.port();
            (s.into(), port)
        }
    };
    // ANCHOR_END: publish_bind
    // ANCHOR: publish_spawn
    let raw = fd.as_raw_fd();
    let mut command = Command::new(binary);
    command
        .arg(PROXY_ARG)
        .arg(req.proto.as_str())
        .arg(format!("{target}:{}", req.container_port))
        .arg(tag)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: between fork and exec only async-signal-safe calls: dup2,
    // fcntl and setsid, no allocation.
    unsafe {
        command.pre_exec(move || {
            if raw == 3 {
                if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(raw, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::setsid();
            Ok(())
        });
    }
    let child = command
        .spawn()
        .map_err(Error::io("start the port proxy", binary))?;
    Ok(Published {
        proto: req.proto,
        container_port: req.container_port,
        host_ip: req.host_ip,
        host_port: port,
        proxy_pid: Some(child.id() as i32),
    })
}
// ANCHOR_END: publish_spawn

// ANCHOR: unpublish
/// Whether `pid` is a proxy started for `tag` (and not a process that
/// took its pid since).
pub fn is_proxy(pid: i32, tag: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(PROXY_ARG) && line.contains(tag)
        })
        .unwrap_or(false)
}

/// Stops the proxy of `published` (if it is still the one for `tag`) and
/// reaps it when it is this process's child.
pub fn unpublish(published: &Published, tag: &str) {
    let Some(pid) = published.proxy_pid else {
        return;
    };
    if !is_proxy(pid, tag) {
        return;
    }
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).ok();
    // Ours (same daemon): reap it. Adopted from an earlier daemon: init does.
    nix::sys::wait::waitpid(pid, None).ok();
}
// ANCHOR_END: unpublish

/// Runs the proxy role when this process was started as one, and never
/// returns then. Call it first in `main`, next to the shim's dispatch.
pub fn dispatch() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(PROXY_ARG) {
        return;
    }
    let code = match run_proxy(&args[2..]) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("minidock-proxy: {e}");
            1
        }
    };
    std::process::exit(code);
}

fn run_proxy(args: &[String]) -> std::io::Result<()> {
    let (proto, target) = match args {
        [proto, target, ..] => (proto.as_str(), target.as_str()),
        _ => {
            return Err(std::io::Error::other(
                "usage: __minidock_proxy tcp|udp IP:PORT TAG",
            ))
        }
    };
    let target: SocketAddr = target
        .parse()
        .map_err(|_| std::io::Error::other("bad target address"))?;
    // SAFETY: the daemon passed the listening socket as descriptor 3, for
    // this process alone.
    let fd = unsafe { OwnedFd::from_raw_fd(3) };
    match proto {
        "tcp" => proxy_tcp(TcpListener::from(fd), target),
        "udp" => proxy_udp(UdpSocket::from(fd), target),
        _ => Err(std::io::Error::other("protocol must be tcp or udp")),
    }
}

// ANCHOR: proxy_tcp
/// Accepts connections forever; each is joined to a new connection to the
/// container, with one thread per direction. When one side ends its
/// writing, the other side's writing is shut down too, so HTTP clients
/// that half-close still get their answer.
fn proxy_tcp(listener: TcpListener, target: SocketAddr) -> std::io::Result<()> {
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        std::thread::spawn(move || {
            // exercise 6.7 proxy-pipe: join the client's connection to a new one to the container.
            // hint: connect to the target; if that fails, drop the client (it sees the connection close)
            // hint: two copies, one per direction, each on its own thread or one here; try_clone gives a second handle of a stream
            // hint: `relay` below copies one direction; std::io::copy does the same, only slower
            // hint: when a copy ends, shut down the writing side of where it wrote (Shutdown::Write), so the peer sees EOF
            let Ok(upstream) = TcpStream::connect(target) else {
                return;
            };
            let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone())
            else {
                return;
            };
            let to_container = std::thread::spawn(move || {
                relay(&mut client_r, &mut upstream_w).ok();
                upstream_w.shutdown(std::net::Shutdown::Write).ok();
            });
            let (mut upstream_r, mut client_w) = (upstream, client);
            relay(&mut upstream_r, &mut client_w).ok();
            client_w.shutdown(std::net::Shutdown::Write).ok();
            to_container.join().ok();
            // end exercise
        });
    }
    Ok(())
}
// ANCHOR_END: proxy_tcp

// ANCHOR: relay
/// Copies everything `from` sends to `to` until `from` ends its writing,
/// without the bytes passing through this process: `splice` moves the
/// socket's buffered pages into a pipe and from the pipe into the other
/// socket, where a `read` and a `write` would copy each byte twice. That
/// is what brings the proxy's throughput near the straight path's
/// (bench/net.sh). A kernel that cannot splice these sockets falls back
/// to an ordinary copy through a buffer.
pub fn relay(from: &mut TcpStream, to: &mut TcpStream) -> std::io::Result<u64> {
    let Ok(pipe) = Pipe::new() else {
        return copy_buffered(from, to, 0);
    };
    let mut total = 0u64;
    loop {
        let n = match splice(from.as_raw_fd(), pipe.write.as_raw_fd(), RELAY_CHUNK) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && total == 0 => {
                return copy_buffered(from, to, total)
            }
            Err(e) => return Err(e),
        };
        let mut left = n;
        while left > 0 {
            left -= splice(pipe.read.as_raw_fd(), to.as_raw_fd(), left)?;
        }
        total += n as u64;
    }
}
// ANCHOR_END: relay

/// How much one `splice` moves at most: the pipe's size.
const RELAY_CHUNK: usize = 1 << 20;

/// A pipe between two `splice` calls, made as large as [`RELAY_CHUNK`]
/// when the kernel allows (64 KiB otherwise).
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    fn new() -> std::io::Result<Pipe> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are ours alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // A larger pipe means fewer calls; refused (a low pipe-max-size),
        // the pipe keeps its default size and still works.
        // SAFETY: plain fcntl on a descriptor we own.
        unsafe {
            libc::fcntl(
                write.as_raw_fd(),
                libc::F_SETPIPE_SZ,
                RELAY_CHUNK as libc::c_int,
            )
        };
        Ok(Pipe { read, write })
    }
}

/// One `splice` of at most `len` bytes from `from` to `to`, one of them a
/// pipe; an interrupted call is repeated. 0 means `from` ended.
fn splice(from: i32, to: i32, len: usize) -> std::io::Result<usize> {
    loop {
        // SAFETY: both descriptors are open for the duration of the call;
        // null offsets mean "the current position" (sockets and pipes
        // have none).
        let n = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                len,
                libc::SPLICE_F_MOVE,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The copy through a buffer, for a kernel that does not splice sockets.
fn copy_buffered(from: &mut TcpStream, to: &mut TcpStream, done: u64) -> std::io::Result<u64> {
    Ok(done + std::io::copy(from, to)?)
}

/// Relays datagrams: each client address gets its own socket towards the
/// container, and a thread that sends the answers back.
fn proxy_udp(socket: UdpSocket, target: SocketAddr) -> std::io::Result<()> {
    let mut clients: std::collections::HashMap<SocketAddr, UdpSocket> = Default::default();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = socket.recv_from(&mut buf)?;
        let upstream = match clients.get(&from) {
            Some(u) => u,
            None => {
                let u = UdpSocket::bind("0.0.0.0:0")?;
                u.connect(target)?;
                let back = u.try_clone()?;
                let reply = socket.try_clone()?;
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 65536];
                    while let Ok(n) = back.recv(&mut buf) {
                        if reply.send_to(&buf[..n], from).is_err() {
                            break;
                        }
                    }
                });
                clients.entry(from).or_insert(u)
            }
        };
        upstream.send(&buf[..n]).ok();
    }
}

/// Reads a little from a TCP port, for tests and checks: connects, sends
/// `request`, returns everything until the peer closes.
pub fn fetch(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    s.write_all(request)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(out)
}
