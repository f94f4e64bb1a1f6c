//! The network namespace's one interface.
//!
//! A new network namespace has a single interface, the loopback `lo`, and
//! it is *down*: `127.0.0.1` does not answer. Docker brings it up so that
//! programs talking to themselves over localhost work. Real networking
//! (a veth pair to a bridge) is chapter 6's.

use crate::error::SetupError;

// ANCHOR: loopback
/// Sets `IFF_UP` on `lo`, as `ip link set lo up` does, with the classic
/// interface ioctls on any socket: `SIOCGIFFLAGS` reads the flags,
/// `SIOCSIFFLAGS` writes them back with `IFF_UP` added.
pub fn bring_up_loopback() -> Result<(), SetupError> {
    // exercise 1.4 loopback-up: bring up `lo` in the new network namespace.
    // hint: an interface is up when its IFF_UP flag is set; the kernel reads and writes interface flags through ioctls on any socket
    // hint: open a datagram socket of the Inet family (nix::sys::socket, close-on-exec) and fill a zeroed libc::ifreq: its `ifr_name` array takes "lo" and a NUL, one c_char per byte
    // hint: read the flags with SIOCGIFFLAGS into the same ifreq (they land in the union member `ifr_ifru.ifru_flags`, a c_short), add IFF_UP to them, write them back with SIOCSIFFLAGS; both ioctls are unsafe libc calls on the socket's raw fd
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsRawFd;
    let fail = |what, e| SetupError::sys(what, Some("lo".into()), e);
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| fail("socket", e))?;
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes the flags of `req`,
    // which lives across the call.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) };
    if r < 0 {
        return Err(fail("ioctl SIOCGIFFLAGS", nix::errno::Errno::last()));
    }
    // SAFETY: the kernel filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above; SIOCSIFFLAGS only reads `req`.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) };
    if r < 0 {
        return Err(fail("ioctl SIOCSIFFLAGS", nix::errno::Errno::last()));
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: loopback

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::UdpSocket;

    /// Exercise 1.4 on its own: in a thread's fresh network namespace `lo` is down (a datagram
    /// to 127.0.0.1 cannot be sent); after bring_up_loopback one sent to itself comes back.
    #[test]
    fn bring_up_loopback_makes_127_0_0_1_answer() {
        minidock_testkit::require_root();
        let echoed =
            minidock_testkit::solo::in_new_namespaces(nix::sched::CloneFlags::CLONE_NEWNET, || {
                let before = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
                assert!(
                    before
                        .send_to(b"ping", before.local_addr().unwrap())
                        .is_err(),
                    "a new network namespace should start with lo down (unreachable)"
                );
                bring_up_loopback().expect("bring_up_loopback");
                let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
                socket
                    .send_to(b"ping", socket.local_addr().unwrap())
                    .expect("send to itself");
                let mut buf = [0u8; 8];
                let n = socket.recv(&mut buf).expect("receive its own datagram");
                buf[..n].to_vec()
            });
        assert_eq!(echoed, b"ping");
    }
}
