// SPDX-License-Identifier: Apache-2.0
//! gzip on every core, pigz-style: the input is cut into blocks compressed in parallel as
//! raw deflate, each primed with the 32 KiB before it (so the ratio stays close to a
//! single stream) and ended with a sync flush (so the pieces concatenate into one valid
//! deflate stream). One gzip member, zlib's header bytes, CRC-32 and size at the end:
//! `erl_tar`, `gzip -d` and `release_handler` read it like any other.

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::io::{self, Write};

const BLOCK: usize = 128 * 1024;
const WINDOW: usize = 32 * 1024;
/// gzip header as zlib writes it: no name, mtime 0, XFL 0, OS 3 (Unix).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// A gzip writer; call `finish` to complete the stream.
pub struct ParGz<W: Write> {
    out: W,
    level: u32,
    threads: usize,
    pending: Vec<u8>,
    dict: Vec<u8>,
    crc: Crc,
    started: bool,
}

impl<W: Write> ParGz<W> {
    /// A gzip stream into `out` at deflate `level` (0..=9), on every core.
    pub fn new(out: W, level: u32) -> ParGz<W> {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 32);
        ParGz {
            out,
            level: level.min(9),
            threads,
            pending: Vec::with_capacity(BLOCK * threads * 2),
            dict: Vec::new(),
            crc: Crc::new(),
            started: false,
        }
    }

    fn flush_batch(&mut self, last: bool) -> io::Result<()> {
        if !self.started {
            self.out.write_all(&HEADER)?;
            self.started = true;
        }
        let data = std::mem::take(&mut self.pending);
        self.crc.update(&data);
        let blocks: Vec<&[u8]> = if data.is_empty() { vec![&data[..]] } else { data.chunks(BLOCK).collect() };
        let n = blocks.len();
        let dict_for = |i: usize| -> &[u8] {
            if i == 0 {
                &self.dict
            } else {
                let prev = blocks[i - 1];
                &prev[prev.len().saturating_sub(WINDOW)..]
            }
        };
        let level = self.level;
        let mut results: Vec<io::Result<Vec<u8>>> = (0..n).map(|_| Ok(Vec::new())).collect();
        // Contiguous runs of blocks per worker; each block only reads its predecessor.
        let per = n.div_ceil(self.threads.min(n));
        std::thread::scope(|scope| {
            for (w, slots) in results.chunks_mut(per).enumerate() {
                let (blocks, dict_for) = (&blocks, &dict_for);
                scope.spawn(move || {
                    for (j, slot) in slots.iter_mut().enumerate() {
                        let i = w * per + j;
                        *slot = deflate_block(blocks[i], dict_for(i), level, last && i == n - 1);
                    }
                });
            }
        });
        for r in results {
            self.out.write_all(&r?)?;
        }
        let tail = data.len().saturating_sub(WINDOW);
        if data.len() >= WINDOW {
            self.dict = data[tail..].to_vec();
        } else {
            self.dict.extend_from_slice(&data);
            let excess = self.dict.len().saturating_sub(WINDOW);
            self.dict.drain(..excess);
        }
        self.pending = data;
        self.pending.clear();
        Ok(())
    }

    /// Compresses what is left, writes the trailer and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_batch(true)?;
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&(self.crc.amount()).to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn deflate_block(input: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut z = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        z.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(input.len() / 2 + 1024);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = z.total_in() as usize;
        let status = z.compress_vec(&input[consumed..], &mut out, flush).map_err(io::Error::other)?;
        let done_input = z.total_in() as usize == input.len();
        match status {
            Status::StreamEnd => break,
            _ if done_input && !last && out.len() < out.capacity() => break,
            _ => {}
        }
    }
    Ok(out)
}

impl<W: Write> Write for ParGz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= BLOCK * self.threads * 2 {
            self.flush_batch(false)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn round_trip(data: &[u8], level: u32) -> Vec<u8> {
        let mut gz = ParGz::new(Vec::new(), level);
        for chunk in data.chunks(7919) {
            gz.write_all(chunk).unwrap();
        }
        let bytes = gz.finish().unwrap();
        assert_eq!(&bytes[..10], &HEADER);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        bytes
    }

    #[test]
    fn streams_decode_to_their_input() {
        let text: Vec<u8> = (0..3_000_000u32).map(|i| b"abcdefghij"[(i * 7 % 13 % 10) as usize]).collect();
        round_trip(&text, 6);
        round_trip(&text, 0);
        round_trip(b"", 6);
        round_trip(b"x", 9);
    }

    #[test]
    fn priming_keeps_the_ratio_of_one_stream() {
        // Words drawn by a small LCG: compresses like source text, not like one repeated line.
        let words =
            ["release", "heart", "kernel", "stdlib", "sasl", "ebin", "priv", "boot", "{ok, Pid}", "\n", "->", "end."];
        let mut x: u64 = 42;
        let text: Vec<u8> = (0..400_000)
            .flat_map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                format!("{} ", words[(x >> 33) as usize % words.len()]).into_bytes()
            })
            .collect();
        let ours = round_trip(&text, 6).len();
        let mut one = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
        one.write_all(&text).unwrap();
        let single = one.finish().unwrap().len();
        assert!(ours as f64 <= single as f64 * 1.02 + 200.0, "{ours} vs {single}");
    }
}
