//! The multiplexed stream: stdout and stderr over one connection.
//!
//! A container without a TTY has two output streams, but an attach, an exec
//! or a log request has one connection. Docker interleaves them as frames:
//!
//! ```text
//! byte:  0        1  2  3   4  5  6  7     8 ...
//!       [stream] [0][0][0] [length, u32 big-endian] [payload: length bytes]
//! ```
//!
//! `stream` is 0 for stdin, 1 for stdout, 2 for stderr and 3 for errors of
//! the daemon itself. With a TTY there is only one stream (the terminal
//! merges them), and the bytes flow raw, without frames.

use std::io::{self, Read};

/// The length of a frame header.
pub const HEADER_LEN: usize = 8;

// ANCHOR: stream_type
/// Which stream a frame belongs to (byte 0 of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamType {
    /// The container's input (only ever sent by clients that frame stdin).
    Stdin = 0,
    /// The container's standard output.
    Stdout = 1,
    /// The container's standard error.
    Stderr = 2,
    /// A message from the daemon, not the container.
    SysErr = 3,
}

impl StreamType {
    /// The stream for header byte 0, if it is a known one.
    pub fn from_byte(byte: u8) -> Option<StreamType> {
        match byte {
            0 => Some(StreamType::Stdin),
            1 => Some(StreamType::Stdout),
            2 => Some(StreamType::Stderr),
            3 => Some(StreamType::SysErr),
            _ => None,
        }
    }
}
// ANCHOR_END: stream_type

/// A frame header that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Byte 0 is not 0..=3.
    #[error(
        "bad frame header: unknown stream {0} (expected 0 stdin, 1 stdout, 2 stderr, 3 syserr)"
    )]
    UnknownStream(u8),
    /// Bytes 1..4 are not zero.
    #[error("bad frame header: bytes 1-3 must be zero, got {0:?}")]
    NonZeroPadding([u8; 3]),
}

// ANCHOR: encode_header
/// The 8-byte header announcing `len` bytes of `stream`.
pub fn encode_header(stream: StreamType, len: u32) -> [u8; HEADER_LEN] {
    // exercise 5.7 frame-encode: build the 8-byte header [stream, 0, 0, 0, len as u32 big-endian].
    // hint: `stream as u8` gives the stream byte
    // hint: u32::to_be_bytes gives the four length bytes in network order
    let len = len.to_be_bytes();
    [stream as u8, 0, 0, 0, len[0], len[1], len[2], len[3]]
    // end exercise
}
// ANCHOR_END: encode_header

/// One or more frames carrying `payload` (a payload longer than `u32::MAX`
/// is split, since the length field has 32 bits; an empty one is one empty
/// frame).
pub fn encode(stream: StreamType, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    if payload.is_empty() {
        out.extend_from_slice(&encode_header(stream, 0));
    }
    for chunk in payload.chunks(u32::MAX as usize) {
        let len = u32::try_from(chunk.len()).expect("chunks are at most u32::MAX long");
        out.extend_from_slice(&encode_header(stream, len));
        out.extend_from_slice(chunk);
    }
    out
}

// ANCHOR: decode_header
/// Reads a header back: the stream and the payload length.
pub fn decode_header(header: &[u8; HEADER_LEN]) -> Result<(StreamType, usize), FrameError> {
    let stream = StreamType::from_byte(header[0]).ok_or(FrameError::UnknownStream(header[0]))?;
    if header[1..4] != [0, 0, 0] {
        return Err(FrameError::NonZeroPadding([
            header[1], header[2], header[3],
        ]));
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    Ok((stream, len as usize))
}
// ANCHOR_END: decode_header

// ANCHOR: frame_decoder
/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The stream it belongs to.
    pub stream: StreamType,
    /// Its bytes.
    pub payload: Vec<u8>,
}

/// An incremental decoder for bytes that arrive in arbitrary pieces (a frame
/// may be split across reads, and one read may hold several frames).
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends bytes that were read.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buffer.len() < HEADER_LEN {
            return Ok(None);
        }
        let header: [u8; HEADER_LEN] = self.buffer[..HEADER_LEN].try_into().expect("8 bytes");
        let (stream, len) = decode_header(&header)?;
        if self.buffer.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.buffer[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buffer.drain(..HEADER_LEN + len);
        Ok(Some(Frame { stream, payload }))
    }

    /// Bytes received that do not yet make a whole frame.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}
// ANCHOR_END: frame_decoder

// ANCHOR: read_frame
/// Reads one frame from a blocking reader; `Ok(None)` at a clean end of
/// stream (between frames). An end in the middle of a frame is an error.
pub fn read_frame(reader: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        match reader.read(&mut header[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("stream ended inside a frame header ({filled} of 8 bytes)"),
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let (stream, len) =
        decode_header(&header).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut payload = vec![0u8; len];
    reader.read_exact(&mut payload)?;
    Ok(Some(Frame { stream, payload }))
}
// ANCHOR_END: read_frame

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore};

    #[test]
    fn header_layout_is_dockers() {
        assert_eq!(
            encode_header(StreamType::Stdout, 5),
            [1, 0, 0, 0, 0, 0, 0, 5]
        );
        assert_eq!(
            encode_header(StreamType::Stderr, 0x0102_0304),
            [2, 0, 0, 0, 1, 2, 3, 4]
        );
        assert_eq!(
            encode(StreamType::Stdout, b"hi\n"),
            b"\x01\0\0\0\0\0\0\x03hi\n"
        );
        assert_eq!(encode(StreamType::Stderr, b""), [2, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn random_frames_round_trip_through_split_reads() {
        let mut rng = rand::thread_rng();
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for _ in 0..50 {
            let stream = [StreamType::Stdout, StreamType::Stderr][rng.gen_range(0..2)];
            let mut payload = vec![0u8; rng.gen_range(0..300)];
            rng.fill_bytes(&mut payload);
            wire.extend(encode(stream, &payload));
            sent.push(Frame { stream, payload });
        }
        let mut decoder = FrameDecoder::new();
        let mut got = Vec::new();
        let mut rest = &wire[..];
        while !rest.is_empty() {
            let n = rng.gen_range(1..=rest.len().min(17));
            decoder.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = decoder.next_frame().unwrap() {
                got.push(frame);
            }
        }
        assert_eq!(got, sent);
        assert_eq!(decoder.pending(), 0);

        let mut reader = &wire[..];
        let mut again = Vec::new();
        while let Some(frame) = read_frame(&mut reader).unwrap() {
            again.push(frame);
        }
        assert_eq!(again, sent);
    }

    #[test]
    fn bad_headers_are_refused() {
        assert_eq!(
            decode_header(&[7, 0, 0, 0, 0, 0, 0, 1]),
            Err(FrameError::UnknownStream(7))
        );
        assert!(matches!(
            decode_header(&[1, 0, 9, 0, 0, 0, 0, 1]),
            Err(FrameError::NonZeroPadding(_))
        ));
        let mut truncated: &[u8] = &[1, 0, 0];
        assert!(read_frame(&mut truncated).is_err());
    }
}
