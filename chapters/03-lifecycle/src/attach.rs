// ANCHOR: attach_protocol
//! The attach protocol between a shim and its clients.
//!
//! A client connects to the shim's unix socket
//! (`$MINIDOCK_RUN/<id>/attach.sock`) and both sides exchange frames with
//! an 8-byte header, the layout Docker uses for its multiplexed streams:
//!
//! ```text
//! ┌──────┬───────┬──────────────────┬───────────────┐
//! │ kind │ 0 0 0 │ length (u32, BE) │ payload …     │
//! └──────┴───────┴──────────────────┴───────────────┘
//!  kind 0 stdin   client → shim   bytes for the container's stdin
//!       1 stdout  shim → client   bytes the container wrote
//!       2 stderr  shim → client
//!       3 resize  client → shim   rows u16 BE, cols u16 BE (TTY mode)
//!       4 close   client → shim   end of stdin
//!       5 exit    shim → client   exit code i32 BE; the last frame
//! ```

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

// ANCHOR_END: attach_protocol
// ANCHOR: attach_frame
/// One message of the attach protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Client → shim: bytes for the container's stdin.
    Stdin(Vec<u8>),
    /// Shim → client: bytes the container wrote to its stdout (everything, with a TTY).
    Stdout(Vec<u8>),
    /// Shim → client: bytes the container wrote to its stderr.
    Stderr(Vec<u8>),
    /// Client → shim: the client's terminal has this size now (sent on attach and on each SIGWINCH).
    Resize {
        /// Lines of text.
        rows: u16,
        /// Characters per line.
        cols: u16,
    },
    /// Client → shim: end of input; the shim closes the container's stdin.
    CloseStdin,
    /// Shim → client: the container ended with this exit code; the last frame.
    Exit(i32),
}

/// Largest payload accepted; anything bigger is a broken peer.
pub const MAX_FRAME: usize = 1 << 20;

impl Frame {
    fn kind(&self) -> u8 {
        match self {
            Frame::Stdin(_) => 0,
            Frame::Stdout(_) => 1,
            Frame::Stderr(_) => 2,
            Frame::Resize { .. } => 3,
            Frame::CloseStdin => 4,
            Frame::Exit(_) => 5,
        }
    }

    /// The frame as bytes: header and payload.
    pub fn encode(&self) -> Vec<u8> {
        let payload: Vec<u8> = match self {
            Frame::Stdin(b) | Frame::Stdout(b) | Frame::Stderr(b) => b.clone(),
            Frame::Resize { rows, cols } => [rows.to_be_bytes(), cols.to_be_bytes()].concat(),
            Frame::CloseStdin => Vec::new(),
            Frame::Exit(code) => code.to_be_bytes().to_vec(),
        };
        let mut out = Vec::with_capacity(8 + payload.len());
        out.extend_from_slice(&[self.kind(), 0, 0, 0]);
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }
}
// ANCHOR_END: attach_frame

// ANCHOR: attach_read
/// Writes one frame.
pub fn write_frame(w: &mut impl Write, frame: &Frame) -> io::Result<()> {
    w.write_all(&frame.encode())?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut header = [0u8; 8];
    match r.read_exact(&mut header[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut header[1..])?;
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("attach frame of {len} bytes is larger than {MAX_FRAME}"),
        ));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad {what} frame"));
    Ok(Some(match header[0] {
        0 => Frame::Stdin(payload),
        1 => Frame::Stdout(payload),
        2 => Frame::Stderr(payload),
        3 if len == 4 => Frame::Resize {
            rows: u16::from_be_bytes([payload[0], payload[1]]),
            cols: u16::from_be_bytes([payload[2], payload[3]]),
        },
        4 if len == 0 => Frame::CloseStdin,
        5 if len == 4 => Frame::Exit(i32::from_be_bytes([
            payload[0], payload[1], payload[2], payload[3],
        ])),
        3 => return Err(bad("resize")),
        4 => return Err(bad("close")),
        5 => return Err(bad("exit")),
        k => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown attach frame kind {k}"),
            ))
        }
    }))
}
// ANCHOR_END: attach_read

// ANCHOR: attach_collect
/// Connects to a shim's attach socket.
pub fn connect(socket: &Path) -> io::Result<UnixStream> {
    UnixStream::connect(socket)
}

/// What an attached client collected until the exit frame.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Collected {
    /// Everything the container wrote to stdout while the client was attached.
    pub stdout: Vec<u8>,
    /// Everything the container wrote to stderr while the client was attached.
    pub stderr: Vec<u8>,
    /// The exit code, when the shim sent it.
    pub exit_code: Option<i32>,
}

/// Reads output frames until the exit frame or the end of the stream.
pub fn collect(stream: &mut impl Read) -> io::Result<Collected> {
    let mut out = Collected::default();
    while let Some(frame) = read_frame(stream)? {
        match frame {
            Frame::Stdout(b) => out.stdout.extend(b),
            Frame::Stderr(b) => out.stderr.extend(b),
            Frame::Exit(code) => {
                out.exit_code = Some(code);
                break;
            }
            _ => {}
        }
    }
    Ok(out)
}
// ANCHOR_END: attach_collect

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let data: Vec<u8> = (0..rand::random::<u16>() % 5000)
            .map(|_| rand::random())
            .collect();
        let frames = vec![
            Frame::Stdin(data.clone()),
            Frame::Stdout(b"out".to_vec()),
            Frame::Stderr(Vec::new()),
            Frame::Resize {
                rows: 40,
                cols: 132,
            },
            Frame::CloseStdin,
            Frame::Exit(-1),
            Frame::Exit(137),
        ];
        let mut wire = Vec::new();
        for f in &frames {
            write_frame(&mut wire, f).unwrap();
        }
        let mut r = &wire[..];
        let mut back = Vec::new();
        while let Some(f) = read_frame(&mut r).unwrap() {
            back.push(f);
        }
        assert_eq!(back, frames);
    }

    #[test]
    fn header_is_dockers_layout() {
        assert_eq!(
            Frame::Stderr(b"hi".to_vec()).encode(),
            vec![2, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']
        );
    }

    #[test]
    fn broken_frames_are_errors() {
        let too_big = [1u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(read_frame(&mut &too_big[..]).is_err());
        let unknown = [9u8, 0, 0, 0, 0, 0, 0, 0];
        assert!(read_frame(&mut &unknown[..]).is_err());
        let truncated = [1u8, 0, 0, 0, 0, 0, 0, 5, b'a'];
        assert!(read_frame(&mut &truncated[..]).is_err());
        let bad_resize = [3u8, 0, 0, 0, 0, 0, 0, 1, 0];
        assert!(read_frame(&mut &bad_resize[..]).is_err());
    }

    #[test]
    fn collect_stops_at_exit() {
        let mut wire = Vec::new();
        for f in [
            Frame::Stdout(b"a".to_vec()),
            Frame::Stderr(b"b".to_vec()),
            Frame::Stdout(b"c".to_vec()),
            Frame::Exit(3),
            Frame::Stdout(b"late".to_vec()),
        ] {
            write_frame(&mut wire, &f).unwrap();
        }
        let c = collect(&mut &wire[..]).unwrap();
        assert_eq!(
            (c.stdout.as_slice(), c.stderr.as_slice(), c.exit_code),
            (&b"ac"[..], &b"b"[..], Some(3))
        );
    }
}
