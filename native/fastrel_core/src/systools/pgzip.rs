// SPDX-License-Identifier: Apache-2.0
//! gzip on every core, as one gzip member. The input is cut into fixed chunks, each
//! compressed on a pool of threads while the caller goes on producing the next ones;
//! finished pieces are written in input order, and a final empty block ends the stream.
//!
//! A chunk is looked at in 4 KiB windows: those whose bytes are as even as noise (the
//! compressed debug info in `.beam` files, compressed files in `priv/`: a third of an OTP
//! release) are stored as they are, the runs of others go to libdeflate. Deflate would
//! spend as long on noise as on text to win under 2% of it.
//!
//! libdeflate makes complete raw deflate streams (no preset dictionary, the last block
//! always final). Its output is made a part of one longer stream by walking it to its final
//! block ([`deflate_blocks`](super::deflate_blocks)), clearing that block's final bit and
//! appending an empty stored block (what zlib's sync flush writes), which also brings it to
//! a byte boundary. Chunks do not see each other's data: at 1 MiB that costs well under
//! 0.1% of size on release contents.
//!
//! The bytes depend only on the input and the level (fixed chunk and window sizes, integer
//! arithmetic, pieces in order), never on thread timing or the machine: `reproducible`
//! tarballs come out the same every time.

use super::deflate_blocks::final_block;
use flate2::Crc;
use libdeflater::{CompressionLvl, Compressor};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const CHUNK: usize = 1 << 20;
/// gzip header as zlib writes it: no name, mtime 0, XFL 0, OS 3 (Unix).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
/// An empty final block (fixed Huffman codes, just the end code).
const END: [u8; 2] = [0x03, 0x00];
const WINDOW: usize = 4096;
/// The sum of squared byte counts of a window at or below which it is stored: an order-2
/// entropy of at least 7.85 bits a byte, where Huffman codes win under 2%. Random bytes give
/// 69,616 on average, 360 the standard deviation; text and code well over 100,000.
const NOISE: u32 = 72_700;

/// One chunk, compressed: its deflate piece and its CRC-32.
type Piece = io::Result<(Vec<u8>, Crc)>;

fn is_noise(window: &[u8]) -> bool {
    if window.len() < WINDOW {
        return false;
    }
    let mut count = [0u32; 256];
    for &b in window {
        count[usize::from(b)] += 1;
    }
    count.iter().map(|&c| c * c).sum::<u32>() <= NOISE
}

/// `data` as non-final stored blocks (from a byte boundary, to one).
fn store(out: &mut Vec<u8>, data: &[u8]) {
    for block in data.chunks(65535) {
        let n = block.len() as u16;
        out.push(0);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(block);
    }
}

/// `data` deflated by libdeflate, without a final block, ending on a byte boundary.
fn deflate(z: &mut Compressor, out: &mut Vec<u8>, data: &[u8]) -> io::Result<()> {
    let at = out.len();
    out.resize(at + z.deflate_compress_bound(data.len()), 0);
    let n = z.deflate_compress(data, &mut out[at..]).map_err(|e| io::Error::other(format!("libdeflate: {e:?}")))?;
    out.truncate(at + n);
    let (start, end) =
        final_block(&out[at..]).ok_or_else(|| io::Error::other("libdeflate wrote no walkable stream"))?;
    let (start, end) = (8 * at + start, 8 * at + end);
    out[start / 8] &= !(1 << (start % 8));
    // The bits past `end` are libdeflate's zero padding; an empty stored block's 3-bit
    // header (all zeros) goes there if it fits, else in one more byte, then LEN and NLEN.
    if end % 8 != 0 {
        out[end / 8] &= (1u8 << (end % 8)) - 1;
    }
    if end % 8 == 0 || end % 8 > 5 {
        out.push(0);
    }
    out.extend_from_slice(&[0, 0, 0xff, 0xff]);
    Ok(())
}

/// `input` as a piece of a deflate stream: no final block, from a byte boundary to one.
fn deflate_piece(z: &mut Compressor, input: &[u8], level: i32) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 1024 + 64);
    if level == 0 {
        store(&mut out, input);
        return Ok(out);
    }
    let mut from = 0;
    let mut noise = false;
    for (i, w) in input.chunks(WINDOW).enumerate() {
        let this = is_noise(w);
        if this != noise && i * WINDOW > from {
            let run = &input[from..i * WINDOW];
            if noise {
                store(&mut out, run);
            } else {
                deflate(z, &mut out, run)?;
            }
            from = i * WINDOW;
        }
        noise = this;
    }
    if from < input.len() {
        if noise {
            store(&mut out, &input[from..]);
        } else {
            deflate(z, &mut out, &input[from..])?;
        }
    }
    Ok(out)
}

fn compress(z: &mut Compressor, input: &[u8], level: i32) -> Piece {
    let mut crc = Crc::new();
    crc.update(input);
    Ok((deflate_piece(z, input, level)?, crc))
}

/// Threads compressing chunks: jobs in by sequence number, pieces out in any order.
struct Pool {
    jobs: Option<Sender<(u64, Vec<u8>)>>,
    done: Receiver<(u64, Piece, Vec<u8>)>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(n: usize, level: i32) -> io::Result<Pool> {
        let (jobs, inbox) = channel::<(u64, Vec<u8>)>();
        let inbox = Arc::new(Mutex::new(inbox));
        let (outbox, done) = channel();
        let mut threads = Vec::with_capacity(n);
        for _ in 0..n {
            let (inbox, outbox) = (Arc::clone(&inbox), outbox.clone());
            let t = std::thread::Builder::new().name("fastrel-gzip".into()).spawn(move || {
                let mut z = Compressor::new(CompressionLvl::new(level).unwrap_or_default());
                loop {
                    let job = inbox.lock().map_err(drop).and_then(|rx| rx.recv().map_err(drop));
                    let Ok((seq, input)) = job else { return };
                    // A panic must not lose a piece the writer waits for.
                    let piece =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compress(&mut z, &input, level)))
                            .unwrap_or_else(|_| Err(io::Error::other("compressing a chunk panicked")));
                    if outbox.send((seq, piece, input)).is_err() {
                        return;
                    }
                }
            })?;
            threads.push(t);
        }
        Ok(Pool { jobs: Some(jobs), done, threads })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the job channel ends each thread after its current chunk.
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A gzip writer; call `finish` to complete the stream.
pub struct ParGz<W: Write> {
    out: W,
    level: i32,
    threads: usize,
    pending: Vec<u8>,
    /// Spare chunk buffers, back from the pool.
    spare: Vec<Vec<u8>>,
    pool: Option<Pool>,
    sent: u64,
    written: u64,
    /// Pieces finished before the ones in front of them.
    early: BTreeMap<u64, Piece>,
    crc: Crc,
}

impl<W: Write> ParGz<W> {
    /// A gzip stream into `out` at libdeflate `level` (0..=9), on every core. At the same
    /// level libdeflate's output is about as large as zlib's or smaller: at 6 (systools'),
    /// 1.3% smaller on an OTP release, the same on Erlang sources (level 4 would be 14%
    /// faster on the release, but 4% larger on the sources).
    pub fn new(out: W, level: u32) -> ParGz<W> {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 32);
        ParGz::with_threads(out, level, threads)
    }

    /// As [`ParGz::new`], on `threads` compressing threads (the output does not depend on it).
    pub fn with_threads(out: W, level: u32, threads: usize) -> ParGz<W> {
        ParGz {
            out,
            level: level.min(9) as i32,
            threads: threads.max(1),
            pending: Vec::with_capacity(CHUNK),
            spare: Vec::new(),
            pool: None,
            sent: 0,
            written: 0,
            early: BTreeMap::new(),
            crc: Crc::new(),
        }
    }

    fn write_piece(&mut self, piece: Piece) -> io::Result<()> {
        let (bytes, crc) = piece?;
        if self.written == 0 {
            self.out.write_all(&HEADER)?;
        }
        self.out.write_all(&bytes)?;
        self.crc.combine(&crc);
        self.written += 1;
        Ok(())
    }

    /// Writes the pieces that are next in order; with `wait`, waits for one piece first.
    fn drain(&mut self, wait: bool) -> io::Result<()> {
        let Some(pool) = &self.pool else { return Ok(()) };
        let mut got = Vec::new();
        if wait {
            got.push(pool.done.recv().map_err(|_| io::Error::other("a compressing thread died"))?);
        }
        got.extend(pool.done.try_iter());
        for (seq, piece, mut buf) in got {
            buf.clear();
            self.spare.push(buf);
            self.early.insert(seq, piece);
        }
        while let Some(piece) = self.early.remove(&self.written) {
            self.write_piece(piece)?;
        }
        Ok(())
    }

    fn send_chunk(&mut self) -> io::Result<()> {
        if self.pool.is_none() {
            self.pool = Some(Pool::new(self.threads, self.level)?);
        }
        // Enough in flight to keep every thread busy while the caller reads, bounded in memory.
        while self.sent - self.written >= 2 * self.threads as u64 + 2 {
            self.drain(true)?;
        }
        let fresh = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let chunk = std::mem::replace(&mut self.pending, fresh);
        let jobs = self.pool.as_ref().and_then(|p| p.jobs.as_ref());
        jobs.ok_or_else(|| io::Error::other("no compressing threads"))?
            .send((self.sent, chunk))
            .map_err(|_| io::Error::other("a compressing thread died"))?;
        self.sent += 1;
        self.drain(false)
    }

    /// Compresses what is left, writes the trailer and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.pool.is_some() {
            // Compressed beside the chunks still in flight.
            self.send_chunk()?;
            while self.written < self.sent {
                self.drain(true)?;
            }
        } else {
            let mut z = Compressor::new(CompressionLvl::new(self.level).unwrap_or_default());
            let piece = compress(&mut z, &self.pending, self.level);
            self.write_piece(piece)?;
        }
        let ParGz { mut out, crc, .. } = self;
        out.write_all(&END)?;
        out.write_all(&crc.sum().to_le_bytes())?;
        out.write_all(&crc.amount().to_le_bytes())?;
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Write for ParGz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let room = CHUNK - self.pending.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.pending.extend_from_slice(now);
            rest = later;
            if self.pending.len() == CHUNK {
                self.send_chunk()?;
            }
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

    /// Text-like bytes drawn by a small LCG: compresses like source, not like one repeated line.
    fn text(len: usize, seed: u64) -> Vec<u8> {
        let words =
            ["release", "heart", "kernel", "stdlib", "sasl", "ebin", "priv", "boot", "{ok, Pid}", "\n", "->", "end."];
        let mut x = seed;
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            out.extend_from_slice(words[(x >> 33) as usize % words.len()].as_bytes());
            out.push(if x >> 60 == 0 { (x >> 40) as u8 } else { b' ' });
        }
        out.truncate(len);
        out
    }

    fn gz(data: &[u8], level: u32, threads: usize, step: usize) -> Vec<u8> {
        let mut gz = ParGz::with_threads(Vec::new(), level, threads);
        for chunk in data.chunks(step.max(1)) {
            gz.write_all(chunk).unwrap();
        }
        gz.finish().unwrap()
    }

    /// Decodes `bytes` as exactly one gzip member, nothing after it.
    fn gunzip_one(bytes: &[u8]) -> Vec<u8> {
        assert_eq!(&bytes[..10], &HEADER);
        let mut rest = bytes;
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&mut rest).read_to_end(&mut back).unwrap();
        assert!(rest.is_empty(), "{} bytes after the first gzip member", rest.len());
        back
    }

    #[test]
    fn streams_decode_to_their_input_as_one_member() {
        let data = text(3 * CHUNK + 12345, 1);
        for len in [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, data.len()] {
            for level in [0, 1, 6, 9] {
                let bytes = gz(&data[..len], level, 2, 7919);
                assert_eq!(gunzip_one(&bytes), &data[..len], "len {len}, level {level}");
            }
        }
        for level in 0..=9 {
            assert_eq!(gunzip_one(&gz(&data, level, 3, 65536)), data, "level {level}");
        }
    }

    #[test]
    fn the_bytes_do_not_depend_on_threads_or_write_sizes() {
        let mut data = text(5 * CHUNK / 2, 7);
        // Incompressible stretches too: stored blocks inside pieces.
        let mut x: u32 = 9;
        data.extend((0..CHUNK + 100).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        }));
        data.extend(text(CHUNK, 8));
        let one = gz(&data, 6, 1, data.len());
        for (threads, step) in [(2, 1 << 16), (4, 511), (3, CHUNK), (8, CHUNK + 1)] {
            assert!(gz(&data, 6, threads, step) == one, "{threads} threads, writes of {step}");
        }
        assert_eq!(gunzip_one(&one), data);
    }

    #[test]
    fn gnu_gzip_reads_it() {
        let data = text(2 * CHUNK + 5, 3);
        let dir = std::env::temp_dir().join(format!("fastrel-pgzip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.gz");
        std::fs::write(&file, gz(&data, 6, 2, 4096)).unwrap();
        let out = std::process::Command::new("gzip").arg("-dc").arg(&file).output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout == data);
    }

    #[test]
    fn noise_is_stored_and_the_rest_deflated() {
        let mut x: u32 = 77;
        let mut noise = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        };
        assert!(is_noise(&(0..WINDOW).map(|_| noise()).collect::<Vec<u8>>()));
        assert!(!is_noise(&text(WINDOW, 3)));
        // Text, noise and text again in one chunk, windows not aligned to the switches.
        let mut data = text(10_000, 4);
        data.extend((0..3 * WINDOW + 123).map(|_| noise()));
        data.extend(text(50_000, 5));
        let bytes = gz(&data, 6, 1, data.len());
        assert_eq!(gunzip_one(&bytes), data);
        let after = 10_000 + 3 * WINDOW + 123;
        let alone = gz(&data[..10_000], 6, 1, 10_000).len() + gz(&data[after..], 6, 1, 50_000).len();
        // Noise in the windows at the switches is deflated, for nothing.
        assert!(bytes.len() < alone + 3 * WINDOW + 123 + 600, "{} vs {alone}", bytes.len());
        assert!(bytes.len() > alone + 2 * WINDOW, "the noise that fills whole windows is stored");
        // Noise too short for a window is deflated with the text before it; the lengths
        // vary so that libdeflate's streams end on different bits of a byte.
        for cut in 1..40 {
            let mut data = text(WINDOW + cut, 9);
            data.extend((0..WINDOW - 1).map(|_| noise()));
            assert_eq!(gunzip_one(&gz(&data, 6, 1, 1000)), data);
        }
    }

    #[test]
    fn chunks_keep_the_ratio_of_one_stream() {
        let data = text(4 * CHUNK, 42);
        let ours = gz(&data, 6, 2, 1 << 16).len();
        let mut z = Compressor::new(CompressionLvl::new(6).unwrap());
        let mut one = vec![0u8; z.deflate_compress_bound(data.len())];
        let single = z.deflate_compress(&data, &mut one).unwrap() + HEADER.len() + 8;
        assert!(ours as f64 <= single as f64 * 1.005, "{ours} vs {single}");
    }
}
