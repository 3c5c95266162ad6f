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

/// One frame from the VM: `Ok(None)` on end of file (the VM closed the pipe).
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 2];
    if !read_full(input, &mut header)? {
        return Ok(None);
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(header))];
    if !read_full(input, &mut body)? {
        return Ok(None);
    }
    Ok(Some(body))
}

fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
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

    #[test]
    fn frames_round_trip_and_eof_mid_frame_is_eof() {
        let mut out = Vec::new();
        write_frame(&mut out, op::SET_CMD, b"echo hi");
        assert_eq!(out, b"\x00\x08\x04echo hi");
        assert_eq!(read_frame(&mut &out[..]).unwrap(), Some(b"\x04echo hi".to_vec()));
        assert_eq!(read_frame(&mut &out[..5]).unwrap(), None);
        assert_eq!(read_frame(&mut &b""[..]).unwrap(), None);
    }
}
