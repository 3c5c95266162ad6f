// SPDX-License-Identifier: Apache-2.0
//! Where the last block of a raw deflate stream starts and where the stream ends, in bits:
//! what it takes to turn libdeflate's always-final output into a piece of a longer stream
//! (clear the final bit, append an empty stored block). libdeflate does not say where its
//! blocks are, so the stream is walked: headers and Huffman codes decoded, nothing written.

/// LSB-first bit reader that reads zeros past the end.
#[derive(Clone, Copy)]
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load into `buf`.
    next: usize,
    buf: u64,
    /// Valid bits in `buf`.
    n: u32,
}

impl Bits<'_> {
    /// Bits consumed so far (past the end of `data` when the stream is truncated).
    fn pos(&self) -> usize {
        self.next * 8 - self.n as usize
    }

    #[inline(always)]
    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.next..self.next + 8) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            self.buf |= w << self.n;
            self.next += (63 - self.n as usize) / 8;
            self.n |= 56;
        } else {
            while self.n <= 56 {
                let b = self.data.get(self.next).copied().unwrap_or(0);
                self.buf |= u64::from(b) << self.n;
                self.next += 1;
                self.n += 8;
            }
        }
    }

    /// The next `k` (at most 32) bits, not consumed.
    #[inline(always)]
    fn peek(&mut self, k: u32) -> u32 {
        if self.n < k {
            self.refill();
        }
        (self.buf & ((1u64 << k) - 1)) as u32
    }

    #[inline(always)]
    fn drop_bits(&mut self, k: u32) {
        self.buf >>= k;
        self.n -= k;
    }

    #[inline(always)]
    fn take(&mut self, k: u32) -> u32 {
        let v = self.peek(k);
        self.drop_bits(k);
        v
    }
}

/// Bits of a code looked up in one step; longer codes (rare) are decoded bit by bit.
const FAST: u32 = 10;

/// A canonical Huffman decoder: a table indexed by the next `FAST` bits, each entry
/// `symbol << 8 | bits` (0: the code is longer, or there is none), where `bits` counts the
/// code and the extra bits after it, which are skipped with it; and the counts and sorted
/// symbols for the codes the table does not hold.
struct Huffman {
    table: [u32; 1 << FAST],
    count: [u16; 16],
    symbols: Vec<u16>,
    extra: fn(u16) -> u32,
}

/// Extra bits after a length code (257..=285).
fn length_extra(sym: u16) -> u32 {
    LEN_EXTRA.get(usize::from(sym).wrapping_sub(257)).map_or(0, |&x| u32::from(x))
}

/// Extra bits after a distance code (30 and 31 are refused when decoded).
fn distance_extra(d: u16) -> u32 {
    if (4..30).contains(&d) {
        u32::from(d / 2 - 1)
    } else {
        0
    }
}

fn no_extra(_: u16) -> u32 {
    0
}

impl Huffman {
    fn new(lengths: &[u8], extra: fn(u16) -> u32) -> Option<Huffman> {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut offs = [0u16; 16];
        let mut next = [0u16; 16];
        let mut code = 0u16;
        for l in 1..16 {
            offs[l] = offs[l - 1] + count[l - 1];
            code = (code + count[l - 1]) << 1;
            next[l] = code;
        }
        let mut symbols = vec![0u16; lengths.len()];
        let mut table = [0u32; 1 << FAST];
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            symbols[usize::from(offs[l as usize])] = sym as u16;
            offs[l as usize] += 1;
            let c = next[l as usize];
            next[l as usize] += 1;
            if u32::from(c) >= 1 << l {
                return None; // over-subscribed
            }
            if l <= FAST {
                let rev = (c.reverse_bits() >> (16 - l)) as usize;
                let entry = (sym as u32) << 8 | (l + extra(sym as u16));
                for slot in table.iter_mut().skip(rev).step_by(1 << l) {
                    *slot = entry;
                }
            }
        }
        Some(Huffman { table, count, symbols, extra })
    }

    /// One symbol, its extra bits skipped; the caller has made sure 28 bits are buffered.
    #[inline(always)]
    fn decode(&self, r: &mut Bits) -> Option<u16> {
        let e = self.table[(r.buf & ((1 << FAST) - 1)) as usize];
        if e != 0 {
            r.drop_bits(e & 255);
            return Some((e >> 8) as u16);
        }
        // Canonical decoding, one bit at a time (codes are read most significant bit first).
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= (r.buf >> (len - 1)) as i32 & 1;
            let count = i32::from(self.count[len]);
            if code - first < count {
                let sym = *self.symbols.get((index + code - first) as usize)?;
                r.drop_bits(len as u32 + (self.extra)(sym));
                return Some(sym);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

const LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const CL_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Skips the compressed data of a Huffman block up to and including its end-of-block code.
fn skip_codes(bits: &mut Bits, lit: &Huffman, dist: Option<&Huffman>) -> Option<()> {
    // A copy in registers: the reader behind `bits` would be stored back at every symbol.
    let mut local = *bits;
    let r = &mut local;
    let done = skip_codes_in(r, lit, dist);
    *bits = local;
    done
}

#[inline(always)]
fn skip_codes_in(r: &mut Bits, lit: &Huffman, dist: Option<&Huffman>) -> Option<()> {
    loop {
        // 48 bits: a length code and its extra bits (20), a distance code and its (28).
        if r.n < 48 {
            // Zeros read past the end could decode forever.
            if r.next > r.data.len() + 8 {
                return None;
            }
            r.refill();
        }
        let sym = lit.decode(r)?;
        if sym < 256 {
            continue;
        }
        match sym {
            256 => return Some(()),
            257..=285 => {
                if dist?.decode(r)? >= 30 {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

fn dynamic_tables(r: &mut Bits) -> Option<(Huffman, Option<Huffman>)> {
    let hlit = r.take(5) as usize + 257;
    let hdist = r.take(5) as usize + 1;
    let hclen = r.take(4) as usize + 4;
    let mut cl = [0u8; 19];
    for &i in &CL_ORDER[..hclen] {
        cl[i] = r.take(3) as u8;
    }
    let cl = Huffman::new(&cl, no_extra)?;
    let mut lengths = vec![0u8; hlit + hdist];
    let mut i = 0;
    while i < lengths.len() {
        if r.n < 32 {
            r.refill();
        }
        let sym = cl.decode(r)?;
        let (value, times) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (*lengths.get(i.checked_sub(1)?)?, 3 + r.take(2) as usize),
            17 => (0, 3 + r.take(3) as usize),
            18 => (0, 11 + r.take(7) as usize),
            _ => return None,
        };
        lengths.get_mut(i..i + times)?.fill(value);
        i += times;
    }
    let lit = Huffman::new(&lengths[..hlit], length_extra)?;
    let dist = &lengths[hlit..];
    // No distance codes at all is valid when the block has only literals.
    let dist = if dist.iter().all(|&l| l == 0) { None } else { Some(Huffman::new(dist, distance_extra)?) };
    Some((lit, dist))
}

/// `(start, end)`: the bit offset of the final block's header (its BFINAL bit) and the bit
/// offset just past the final block, for a complete raw deflate stream; `None` if `stream`
/// is not one.
pub fn final_block(stream: &[u8]) -> Option<(usize, usize)> {
    let mut r = Bits { data: stream, next: 0, buf: 0, n: 0 };
    let fixed = {
        let mut l = [8u8; 288];
        l[144..256].fill(9);
        l[256..280].fill(7);
        (Huffman::new(&l, length_extra)?, Huffman::new(&[5u8; 30], distance_extra)?)
    };
    loop {
        let start = r.pos();
        if start >= stream.len() * 8 {
            return None;
        }
        let last = r.take(1) == 1;
        match r.take(2) {
            0 => {
                let skip = r.n % 8;
                r.drop_bits(skip);
                let len = r.take(16);
                if len != !r.take(16) & 0xffff {
                    return None;
                }
                // Past the bit buffer: move the byte cursor.
                let at = r.pos() / 8 + len as usize;
                r = Bits { data: stream, next: at, buf: 0, n: 0 };
            }
            1 => skip_codes(&mut r, &fixed.0, Some(&fixed.1))?,
            2 => {
                let (lit, dist) = dynamic_tables(&mut r)?;
                skip_codes(&mut r, &lit, dist.as_ref())?;
            }
            _ => return None,
        }
        let end = r.pos();
        if end > stream.len() * 8 {
            return None;
        }
        if last {
            return Some((start, end));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_stored_streams_are_walked() {
        // An empty fixed block, final: 0b011 then the 7-bit end code.
        assert_eq!(final_block(&[0x03, 0x00]), Some((0, 10)));
        // A non-final empty stored block, then that.
        assert_eq!(final_block(&[0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00]), Some((40, 50)));
        assert_eq!(final_block(&[0x00, 0x00, 0x00, 0xff, 0xfe]), None);
        assert_eq!(final_block(&[]), None);
    }

    /// libdeflate's streams at every level, of text, noise and runs: the walk ends exactly
    /// where the stream does, and the final block is the one with the final bit.
    #[test]
    fn libdeflate_streams_are_walked_to_their_end() {
        let mut x: u64 = 5;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u8
        };
        let noise: Vec<u8> = (0..300_000).map(|_| next()).collect();
        let text: Vec<u8> = (0..700_000).map(|_| b"abcdefghijklmnop  \n"[usize::from(next() % 19)]).collect();
        let runs: Vec<u8> = (0..200_000u32).map(|i| (i / 1000) as u8).collect();
        let mixed: Vec<u8> = [&text[..100_000], &noise[..], &runs[..], &text[..]].concat();
        for data in [&b""[..], b"a", &noise, &text, &runs, &mixed] {
            for level in 0..=12 {
                let mut z = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
                let mut out = vec![0u8; z.deflate_compress_bound(data.len())];
                let n = z.deflate_compress(data, &mut out).unwrap();
                let (start, end) = final_block(&out[..n]).unwrap();
                assert_eq!(end.div_ceil(8), n, "level {level}, {} bytes", data.len());
                assert_eq!(out[start / 8] >> (start % 8) & 1, 1, "final bit at {start}");
                assert!(final_block(&out[..n - 1]).is_none() || n == 1, "a truncated stream is refused");
            }
        }
    }

    /// Garbage, and libdeflate's streams with bytes flipped, are walked to an answer: no
    /// panic, no endless loop on zeros read past the end.
    #[test]
    fn damaged_streams_end_the_walk() {
        let mut x: u64 = 11;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        let text: Vec<u8> = (0..50_000).map(|i| b"the quick brown fox "[i % 20]).collect();
        let mut z = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(6).unwrap());
        let mut good = vec![0u8; z.deflate_compress_bound(text.len())];
        let n = z.deflate_compress(&text, &mut good).unwrap();
        good.truncate(n);
        for round in 0..3000 {
            let mut data = if round % 2 == 0 {
                (0..next() % 2000).map(|_| next() as u8).collect::<Vec<u8>>()
            } else {
                good.clone()
            };
            for _ in 0..1 + next() % 4 {
                if !data.is_empty() {
                    let at = next() as usize % data.len();
                    data[at] ^= 1 << (next() % 8);
                }
            }
            if let Some((start, end)) = final_block(&data) {
                assert!(start < end && end <= data.len() * 8);
            }
        }
    }
}
