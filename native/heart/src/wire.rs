// SPDX-License-Identifier: Apache-2.0
//! The `{packet,2}` frames between the VM and heart.

use std::io::{self, Read, Write};

/// Opcodes of heart's protocol (kernel's heart.erl and the VM's C code).
pub mod op {
    pub const ACK: u8 = 1;
    pub const BEAT: u8 = 2;
    pub const SHUT_DOWN: u8 = 3;
    pub const SET_CMD: u8 = 4;
    pub const CLEAR_CMD: u8 = 5;
    pub const GET_CMD: u8 = 6;
    pub const HEART_CMD: u8 = 7;
    pub const PREPARING_CRASH: u8 = 8;
}

/// Longest frame OTP's heart acts on; longer ones are read and ignored, as OTP does.
pub const MAX_FRAME: usize = 2048;

/// What one read brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// A whole frame (opcode and payload).
    Frame(Vec<u8>),
    /// Part of a frame; more is to come.
    Partial,
    /// The VM closed the pipe (part-way through a frame or not).
    Eof,
}

/// A frame being received one `read()` at a time, so that the caller keeps its deadline
/// between reads: a VM that stops part-way through a frame is as hung as one that stops
/// beating. (OTP's heart blocks in `read()` until the frame is complete and never times
/// out there.)
#[derive(Debug, Default)]
pub struct FrameReader {
    header: [u8; 2],
    header_len: usize,
    body: Vec<u8>,
    body_len: usize,
}

impl FrameReader {
    /// Makes one `read()` towards the current frame. It never reads past the frame's end,
    /// so nothing of a later frame sits in a userspace buffer where poll() cannot see it.
    pub fn step(&mut self, input: &mut impl Read) -> io::Result<Progress> {
        let in_header = self.header_len < self.header.len();
        let buf = if in_header { self.header.get_mut(self.header_len..) } else { self.body.get_mut(self.body_len..) };
        let n = match input.read(buf.unwrap_or_default()) {
            Ok(0) => return Ok(Progress::Eof),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Progress::Partial),
            Err(e) => return Err(e),
        };
        if in_header {
            self.header_len += n;
            if self.header_len == self.header.len() {
                self.body = vec![0u8; usize::from(u16::from_be_bytes(self.header))];
                self.body_len = 0;
            }
        } else {
            self.body_len += n;
        }
        if self.header_len == self.header.len() && self.body_len == self.body.len() {
            self.header_len = 0;
            self.body_len = 0;
            return Ok(Progress::Frame(std::mem::take(&mut self.body)));
        }
        Ok(Progress::Partial)
    }
}

/// Sends one frame: opcode and payload.
pub fn write_frame(out: &mut impl Write, opcode: u8, payload: &[u8]) {
    // {packet,2} carries at most 65535 bytes including the opcode.
    let payload = &payload[..payload.len().min(65534)];
    let mut frame = Vec::with_capacity(3 + payload.len());
    frame.extend_from_slice(&((payload.len() + 1) as u16).to_be_bytes());
    frame.push(opcode);
    frame.extend_from_slice(payload);
    let _ = out.write_all(&frame);
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes in the chunk sizes given, then end of file.
    struct Chunks(Vec<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(chunk) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    fn all(input: &mut impl Read) -> Vec<Progress> {
        let mut r = FrameReader::default();
        let mut out = Vec::new();
        loop {
            let p = r.step(input).unwrap();
            let eof = p == Progress::Eof;
            out.push(p);
            if eof {
                return out;
            }
        }
    }

    #[test]
    fn frames_round_trip_and_eof_mid_frame_is_eof() {
        let mut out = Vec::new();
        write_frame(&mut out, op::SET_CMD, b"echo hi");
        assert_eq!(out, b"\x00\x08\x04echo hi");
        let got = all(&mut &out[..]);
        assert!(got.contains(&Progress::Frame(b"\x04echo hi".to_vec())), "{got:?}");
        assert!(!all(&mut &out[..5]).iter().any(|p| matches!(p, Progress::Frame(_))));
        assert_eq!(all(&mut &b""[..]), [Progress::Eof]);
    }

    #[test]
    fn issue_13_a_frame_arrives_in_pieces_one_read_each_and_never_past_its_end() {
        // Header split, body split, an empty frame, then a beat: each read is one step.
        let mut input =
            Chunks(vec![vec![0], vec![16, 4], b"echo".to_vec(), b" 0123456789\x00\x00\x00\x01\x02".to_vec()]);
        let mut r = FrameReader::default();
        let mut steps = Vec::new();
        for _ in 0..6 {
            steps.push(r.step(&mut input).unwrap());
        }
        assert_eq!(steps[..4], [Progress::Partial, Progress::Partial, Progress::Partial, Progress::Partial]);
        assert_eq!(steps[4], Progress::Frame(b"\x04echo 0123456789".to_vec()));
        assert_eq!(steps[5], Progress::Frame(vec![]));
        assert_eq!(input.0, [b"\x00\x01\x02".to_vec()], "nothing of the next frame was read");
        assert_eq!(r.step(&mut input).unwrap(), Progress::Partial);
        assert_eq!(r.step(&mut input).unwrap(), Progress::Frame(vec![2]));
        assert_eq!(r.step(&mut input).unwrap(), Progress::Eof);
    }
}
