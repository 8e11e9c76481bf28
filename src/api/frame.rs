//! Frames on the socket: `u32 LE length | u16 LE kind | u32 LE request id | payload`, where the
//! length counts kind, id and payload. Oversized or truncated frames are errors for that one
//! connection only. The decoder is incremental (bytes in, whole frames out) and fuzzed.

use std::io::{self, Read, Write};

/// Header bytes after the length: kind and request id.
pub const HEADER: usize = 6;
/// The largest frame either side accepts (a page of contacts, a job's output).
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// Frame kinds outside the request numbers.
pub mod kind {
    /// Client → server, first frame: [`super::super::Hello`]-style JSON.
    pub const HELLO: u16 = 0xFF00;
    /// Server → client: the handshake was accepted.
    pub const WELCOME: u16 = 0xFF01;
    /// Server → client: the handshake was refused (reason in the payload).
    pub const REFUSED: u16 = 0xFF02;
    /// Server → client: the answer to request `id` (its type follows the request's kind).
    pub const REPLY: u16 = 0xFF10;
    /// Server → client: request `id` failed (a store error as JSON).
    pub const ERROR: u16 = 0xFF11;
    /// Server → client: request `id` was of a kind this server does not know.
    pub const UNSUPPORTED: u16 = 0xFF12;
    /// Server → client: a pushed event (id 0).
    pub const EVENT: u16 = 0xFF20;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u16,
    pub id: u32,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {0} bytes is over the limit of {MAX_FRAME}")]
    TooLarge(usize),
    #[error("frame of {0} bytes is shorter than its header")]
    TooShort(usize),
}

impl Frame {
    pub fn new(kind: u16, id: u32, payload: Vec<u8>) -> Frame {
        Frame { kind, id, payload }
    }

    /// The frame as bytes on the wire.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let len = HEADER + self.payload.len();
        if len > MAX_FRAME {
            return Err(FrameError::TooLarge(len));
        }
        let mut out = Vec::with_capacity(4 + len);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&self.kind.to_le_bytes());
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let bytes = self
            .encode()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        w.write_all(&bytes)?;
        w.flush()
    }

    /// Reads one whole frame (blocking). `Ok(None)` at a clean end of stream.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let len = u32::from_le_bytes(len) as usize;
        check_len(len).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        Ok(Some(split(body)))
    }
}

fn check_len(len: usize) -> Result<(), FrameError> {
    if len > MAX_FRAME {
        Err(FrameError::TooLarge(len))
    } else if len < HEADER {
        Err(FrameError::TooShort(len))
    } else {
        Ok(())
    }
}

fn split(mut body: Vec<u8>) -> Frame {
    let kind = u16::from_le_bytes([body[0], body[1]]);
    let id = u32::from_le_bytes([body[2], body[3], body[4], body[5]]);
    body.drain(..HEADER);
    Frame {
        kind,
        id,
        payload: body,
    }
}

/// An incremental decoder: feed it whatever bytes arrived, take the frames that are whole.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if one has arrived; an error means the stream is unusable.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        check_len(len)?;
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(split(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_the_decoder_byte_by_byte() {
        let frames = [
            Frame::new(1, 7, b"{}".to_vec()),
            Frame::new(kind::EVENT, 0, vec![]),
            Frame::new(0xABCD, u32::MAX, vec![0xFF; 1000]),
        ];
        let bytes: Vec<u8> = frames.iter().flat_map(|f| f.encode().unwrap()).collect();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in bytes {
            d.feed(&[b]);
            while let Some(f) = d.next_frame().unwrap() {
                out.push(f);
            }
        }
        assert_eq!(out, frames);
    }

    #[test]
    fn oversized_and_short_lengths_are_refused_before_any_allocation() {
        let mut d = Decoder::new();
        d.feed(&u32::MAX.to_le_bytes());
        assert!(matches!(d.next_frame(), Err(FrameError::TooLarge(_))));
        let mut d = Decoder::new();
        d.feed(&3u32.to_le_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::TooShort(3)));
        let mut r: &[u8] = &[0xFF, 0xFF, 0xFF, 0x7F];
        assert!(Frame::read_from(&mut r).is_err());
    }

    #[test]
    fn a_truncated_stream_is_an_error_not_a_frame() {
        let bytes = Frame::new(1, 1, b"hello".to_vec()).encode().unwrap();
        let mut r: &[u8] = &bytes[..bytes.len() - 1];
        assert!(Frame::read_from(&mut r).is_err());
        let mut r: &[u8] = &[];
        assert!(Frame::read_from(&mut r).unwrap().is_none());
    }
}
