//! Netlink: how a program talks to the kernel's network stack.
//!
//! `ip link add`, `ip addr add` and `nft add rule` are thin programs: each
//! builds a *netlink message* — a 16-byte header, a fixed struct for the
//! kind of object, then a list of attributes — writes it to an
//! `AF_NETLINK` socket and reads the kernel's answer. Each attribute is a
//! little type-length-value record (`struct rtattr`/`struct nlattr`):
//!
//! ```text
//!  nlmsghdr (16)                 fixed header        attributes …
//! ┌──────┬──────┬──────┬───┬───┐┌─────────────────┐┌─────┬──────┬───────┬──┐
//! │ len  │ type │flags │seq│pid││ ifinfomsg (16)  ││ len │ type │ value │pad│ …
//! └──────┴──────┴──────┴───┴───┘└─────────────────┘└─────┴──────┴───────┴──┘
//! ```
//!
//! An attribute may hold other attributes (a *nest*): a veth's peer is an
//! attribute inside `IFLA_INFO_DATA` inside `IFLA_LINKINFO`. minidock
//! builds these bytes itself, in this module: the whole protocol is a few
//! dozen lines, and seeing the bytes is the lesson.
//!
//! A netlink socket belongs to the network namespace of the thread that
//! opened it; [`crate::netns::socket_in`] opens one inside a container's.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `NLM_F_REQUEST`: a request.
pub const F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`: answer with an acknowledgement (an error message with 0).
pub const F_ACK: u16 = 0x4;
/// `NLM_F_EXCL`: fail if the object exists.
pub const F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`: create the object.
pub const F_CREATE: u16 = 0x400;
/// `NLM_F_DUMP`: list every object.
pub const F_DUMP: u16 = 0x300;
/// `NLA_F_NESTED`: the attribute holds attributes.
const NLA_F_NESTED: u16 = 0x8000;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const HEADER_LEN: usize = 16;

/// Rounds up to the 4-byte alignment every netlink record keeps.
pub fn align(len: usize) -> usize {
    (len + 3) & !3
}

// ANCHOR: message
/// A netlink message being built: header, fixed struct, attributes.
#[derive(Debug, Clone)]
pub struct Message {
    buf: Vec<u8>,
    /// Where each open nest starts, innermost last.
    nests: Vec<usize>,
}

impl Message {
    /// A message of `kind` (`RTM_NEWLINK`, …) whose fixed header is
    /// `header` (an `ifinfomsg`, `ifaddrmsg`, … as bytes). The length and
    /// sequence number are filled in when it is sent.
    pub fn new(kind: u16, flags: u16, header: &[u8]) -> Message {
        let mut buf = vec![0u8; HEADER_LEN];
        buf[4..6].copy_from_slice(&kind.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | F_REQUEST).to_ne_bytes());
        buf.extend_from_slice(header);
        buf.resize(align(buf.len()), 0);
        Message {
            buf,
            nests: Vec::new(),
        }
    }

    /// Appends one attribute: its 4-byte header (length, type), its value,
    /// and zeroes up to the next multiple of 4.
    pub fn attr(&mut self, kind: u16, value: &[u8]) -> &mut Message {
        // exercise 6.2 netlink-attr: append one attribute (length, type, value, padding).
        // hint: the length counts the 4-byte header and the value, not the padding
        // hint: both header fields are u16 in the machine's byte order (to_ne_bytes)
        // hint: pad with zeroes until the buffer's length is a multiple of 4 (see align)
        let len = (4 + value.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(align(self.buf.len()), 0);
        self
        // end exercise
    }

    /// A string attribute: the kernel wants its terminating NUL.
    pub fn attr_str(&mut self, kind: u16, value: &str) -> &mut Message {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.attr(kind, &bytes)
    }

    /// A `u32` attribute in the machine's byte order (rtnetlink).
    pub fn attr_u32(&mut self, kind: u16, value: u32) -> &mut Message {
        self.attr(kind, &value.to_ne_bytes())
    }

    /// A `u32` attribute in network byte order (nftables).
    pub fn attr_be32(&mut self, kind: u16, value: u32) -> &mut Message {
        self.attr(kind, &value.to_be_bytes())
    }

    /// Opens a nested attribute; everything added until
    /// [`Message::end_nest`] goes inside it.
    pub fn begin_nest(&mut self, kind: u16) -> &mut Message {
        self.nests.push(self.buf.len());
        self.attr(kind | NLA_F_NESTED, &[])
    }

    /// Closes the innermost nest: its length now covers its content.
    pub fn end_nest(&mut self) -> &mut Message {
        let start = self.nests.pop().expect("end_nest without begin_nest");
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// Raw bytes inside the current position (a nested fixed struct, as a
    /// veth peer's `ifinfomsg`).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Message {
        self.buf.extend_from_slice(bytes);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// The finished bytes, with length and sequence number set.
    pub fn finish(&self, seq: u32) -> Vec<u8> {
        assert!(self.nests.is_empty(), "a nest was left open");
        let mut buf = self.buf.clone();
        let len = buf.len() as u32;
        buf[0..4].copy_from_slice(&len.to_ne_bytes());
        buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        buf
    }
}
// ANCHOR_END: message

// ANCHOR: parse_attrs
/// One message the kernel sent back.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Its type (`RTM_NEWLINK`, …).
    pub kind: u16,
    /// Everything after the 16-byte header.
    pub payload: Vec<u8>,
}

/// The attributes found in `bytes` (after a fixed header), as
/// `(type, value)` pairs, nesting flags removed.
pub fn parse_attrs(mut bytes: &[u8]) -> Vec<(u16, &[u8])> {
    let mut attrs = Vec::new();
    while bytes.len() >= 4 {
        let len = u16::from_ne_bytes([bytes[0], bytes[1]]) as usize;
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3fff;
        if len < 4 || len > bytes.len() {
            break;
        }
        attrs.push((kind, &bytes[4..len]));
        bytes = &bytes[align(len).min(bytes.len())..];
    }
    attrs
}
// ANCHOR_END: parse_attrs

/// A string attribute's value without its NUL.
pub fn attr_string(value: &[u8]) -> String {
    let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

/// A netlink socket of one protocol, in the network namespace of the
/// thread that opened it.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

/// `NETLINK_ROUTE`: links, addresses, routes.
pub const NETLINK_ROUTE: i32 = 0;
/// `NETLINK_NETFILTER`: nftables.
pub const NETLINK_NETFILTER: i32 = 12;

impl Socket {
    // ANCHOR: socket_open
    /// Opens and binds a netlink socket of `protocol`.
    pub fn open(protocol: i32) -> io::Result<Socket> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the descriptor was just created and is ours alone.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data; zero asks the kernel for a port id.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `addr` is a valid sockaddr_nl of the size given.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Socket { fd, seq: 1 })
    }
    // ANCHOR_END: socket_open

    /// Sends raw bytes (one message or a batch of them).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        // SAFETY: `bytes` is valid for reads of its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The next sequence number.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; 64 * 1024];
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    // ANCHOR: request
    /// Sends `message` and collects the kernel's answers until it
    /// acknowledges (or says it is done with a dump). A negative errno in
    /// an `NLMSG_ERROR` becomes the error.
    pub fn request(&mut self, message: &Message) -> io::Result<Vec<Reply>> {
        let seq = self.next_seq();
        self.send_raw(&message.finish(seq))?;
        self.collect(seq)
    }

    /// Reads replies to `seq` until an acknowledgement, an error or the
    /// end of a dump.
    pub fn collect(&mut self, seq: u32) -> io::Result<Vec<Reply>> {
        let mut replies = Vec::new();
        loop {
            let buf = self.recv()?;
            let mut rest = &buf[..];
            while rest.len() >= HEADER_LEN {
                let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap()) as usize;
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                let their_seq = u32::from_ne_bytes(rest[8..12].try_into().unwrap());
                if len < HEADER_LEN || len > rest.len() {
                    return Err(io::Error::other("truncated netlink message"));
                }
                let payload = &rest[HEADER_LEN..len];
                rest = &rest[align(len).min(rest.len())..];
                if their_seq != seq {
                    continue; // an answer to an earlier request
                }
                match kind {
                    NLMSG_ERROR => {
                        let code = i32::from_ne_bytes(payload[0..4].try_into().unwrap());
                        if code == 0 {
                            return Ok(replies);
                        }
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                    NLMSG_DONE => return Ok(replies),
                    _ => replies.push(Reply {
                        kind,
                        payload: payload.to_vec(),
                    }),
                }
            }
        }
    }
    // ANCHOR_END: request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nests_cover_their_content() {
        let mut m = Message::new(16, F_CREATE, &[0u8; 16]);
        m.attr_str(3, "md0");
        m.begin_nest(18).attr_str(1, "bridge").end_nest();
        let bytes = m.finish(7);
        // header 16 + ifinfomsg 16 + "md0\0" (4+4) + nest (4 + "bridge\0" 4+7 -> 12) = 56
        assert_eq!(bytes.len(), 56);
        assert_eq!(u32::from_ne_bytes(bytes[0..4].try_into().unwrap()), 56);
        assert_eq!(u32::from_ne_bytes(bytes[8..12].try_into().unwrap()), 7);
        let attrs = parse_attrs(&bytes[32..]);
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0], (3, &b"md0\0"[..]));
        assert_eq!(attrs[1].0, 18);
        let inner = parse_attrs(attrs[1].1);
        assert_eq!(attr_string(inner[0].1), "bridge");
        assert_eq!(u16::from_ne_bytes([bytes[40], bytes[41]]), 16);
    }
}
