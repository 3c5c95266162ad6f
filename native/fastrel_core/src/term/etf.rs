// SPDX-License-Identifier: Apache-2.0
//! The External Term Format: a byte-exact `term_to_binary/1` and a strict `binary_to_term/1`.
//!
//! [`encode`] writes exactly the bytes `term_to_binary(T)` (no options) gives on the named
//! OTP release, so `.boot` files come out identical to the ones `systools` writes.
//! [`decode`] reads anything `binary_to_term/1` reads that can occur in a release file, and
//! keeps pids, ports, references and funs as [`Term::Opaque`] bytes.
//!
//! Both directions work with an explicit stack instead of recursion, so neither a deep
//! term nor a forged input can overflow the native stack (which matters inside a NIF,
//! where scheduler stacks are small). Decoding still refuses terms nested deeper than
//! [`MAX_DEPTH`], because the resulting [`Term`] is dropped, cloned, compared and printed
//! recursively by everything downstream.
//!
//! Known differences from the VM, all outside what release files contain:
//! * Maps with more than 32 keys are written in map-key order; the VM writes its hash
//!   order, so such maps do not come out byte-exact (see [`encode`]).
//! * [`Term::Opaque`] bytes are written back verbatim, even if the VM would re-encode
//!   something inside them (say, a node name atom) differently.
//! * [`decode`] rejects trailing bytes after the term, where `binary_to_term/1` ignores
//!   them, and accepts the pre-OTP 23 `FUN_EXT`, which the VM no longer does.

use crate::term::{map_key_cmp, Term};
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;
use std::cmp::Ordering;
use std::io::Read;

/// The version byte every external term starts with.
pub const VERSION: u8 = 131;

/// How deeply [`decode`] lets containers nest before giving up with [`EtfError::TooDeep`]:
/// the one limit of every entry point, see its definition.
pub use crate::term::MAX_DEPTH;

mod tag {
    pub const NEW_FLOAT: u8 = 70;
    pub const BIT_BINARY: u8 = 77;
    pub const COMPRESSED: u8 = 80;
    pub const NEW_PID: u8 = 88;
    pub const NEW_PORT: u8 = 89;
    pub const NEWER_REFERENCE: u8 = 90;
    pub const SMALL_INTEGER: u8 = 97;
    pub const INTEGER: u8 = 98;
    pub const FLOAT: u8 = 99;
    pub const ATOM: u8 = 100;
    pub const REFERENCE: u8 = 101;
    pub const PORT: u8 = 102;
    pub const PID: u8 = 103;
    pub const SMALL_TUPLE: u8 = 104;
    pub const LARGE_TUPLE: u8 = 105;
    pub const NIL: u8 = 106;
    pub const STRING: u8 = 107;
    pub const LIST: u8 = 108;
    pub const BINARY: u8 = 109;
    pub const SMALL_BIG: u8 = 110;
    pub const LARGE_BIG: u8 = 111;
    pub const NEW_FUN: u8 = 112;
    pub const EXPORT: u8 = 113;
    pub const NEW_REFERENCE: u8 = 114;
    pub const SMALL_ATOM: u8 = 115;
    pub const MAP: u8 = 116;
    pub const FUN: u8 = 117;
    pub const ATOM_UTF8: u8 = 118;
    pub const SMALL_ATOM_UTF8: u8 = 119;
    pub const V4_PORT: u8 = 120;
}

/// Why [`decode`] refused its input.
///
/// Offsets count bytes from the start of the input. Inside a compressed term they count in
/// the uncompressed data as if it were stored uncompressed, i.e. right after the version
/// byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EtfError {
    /// The input does not start with the version byte 131 (`None`: the input is empty).
    #[error("not an external term: version byte is {found:?}, expected 131")]
    BadVersion {
        /// The first byte, if there is one.
        found: Option<u8>,
    },
    /// The input ends in the middle of a term.
    #[error("term truncated: needed more bytes at offset {offset}")]
    Truncated {
        /// Where the read that ran out of input began.
        offset: usize,
    },
    /// A tag byte that is not part of the format (or not supported, like atom cache refs).
    #[error("unknown tag {tag} at offset {offset}")]
    UnknownTag {
        /// The tag byte.
        tag: u8,
        /// Where it is.
        offset: usize,
    },
    /// An atom that is too long or not valid UTF-8, or a non-atom where an atom must be.
    #[error("invalid atom at offset {offset}")]
    BadAtom {
        /// Where the atom (or what stands in its place) starts.
        offset: usize,
    },
    /// A float that is NaN or infinite, or an old-style float text that does not parse.
    #[error("invalid float at offset {offset}")]
    BadFloat {
        /// Where the float starts.
        offset: usize,
    },
    /// A bitstring whose bit count does not fit its length.
    #[error("invalid bitstring at offset {offset}")]
    BadBits {
        /// Where the bitstring starts.
        offset: usize,
    },
    /// A map holding the same key twice.
    #[error("duplicate key in map at offset {offset}")]
    DuplicateKey {
        /// Where the map starts.
        offset: usize,
    },
    /// A pid, port, reference or fun whose inner fields are inconsistent.
    #[error("malformed {what} at offset {offset}")]
    Malformed {
        /// Which kind of term.
        what: &'static str,
        /// Where it starts.
        offset: usize,
    },
    /// A compressed term whose zlib data is broken or does not match its declared size,
    /// or a compressed term nested inside another term.
    #[error("bad compressed term: {0}")]
    Compressed(String),
    /// Bytes left over after a complete term.
    #[error("trailing bytes after the term at offset {offset}")]
    TrailingBytes {
        /// Where the first extra byte is.
        offset: usize,
    },
    /// Containers nested deeper than [`MAX_DEPTH`].
    #[error("term nested deeper than {MAX_DEPTH} levels at offset {offset}")]
    TooDeep {
        /// Where the container that went over the limit starts.
        offset: usize,
    },
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/// Encodes `t` exactly as `term_to_binary(T)` does on OTP release `otp_major`.
///
/// Up to OTP 25 an atom whose characters all fit in Latin-1 is written as `ATOM_EXT`, any
/// other atom as UTF-8; from OTP 26 on every atom is UTF-8. Everything else is the same
/// across releases.
///
/// Map pairs are written in the order stored, which is map-key order. The VM writes a
/// map of up to 32 keys in that same order, but a larger map in the order of its internal
/// hash trie, which this does not reproduce: callers that need byte-exact output must
/// refuse maps with more than 32 keys. Terms that cannot exist in the VM (an atom over
/// 255 characters, a binary over 4 GiB) are written with their lengths clamped rather
/// than rejected, since encoding cannot fail.
pub fn encode(t: &Term, otp_major: u32) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(t, otp_major, &mut out);
    out
}

/// Like [`encode`], appending to `out` (version byte included).
pub fn encode_into(t: &Term, otp_major: u32, out: &mut Vec<u8>) {
    out.push(VERSION);
    let mut enc = Encoder { out, utf8_atoms: otp_major >= 26, stack: Vec::new() };
    enc.run(t);
}

/// What is left to write, innermost last; iterators keep the stack one entry per open
/// container instead of one per pending element.
enum Job<'a> {
    Term(&'a Term),
    Nil,
    Seq(std::slice::Iter<'a, Term>),
    Refs(std::vec::IntoIter<&'a Term>),
    Pairs(std::slice::Iter<'a, (Term, Term)>),
}

struct Encoder<'a, 'o> {
    out: &'o mut Vec<u8>,
    utf8_atoms: bool,
    stack: Vec<Job<'a>>,
}

impl<'a> Encoder<'a, '_> {
    fn run(&mut self, root: &'a Term) {
        self.stack.push(Job::Term(root));
        while let Some(job) = self.stack.pop() {
            let t = match job {
                Job::Term(t) => t,
                Job::Nil => {
                    self.out.push(tag::NIL);
                    continue;
                }
                Job::Seq(mut it) => match it.next() {
                    Some(t) => {
                        self.stack.push(Job::Seq(it));
                        t
                    }
                    None => continue,
                },
                Job::Refs(mut it) => match it.next() {
                    Some(t) => {
                        self.stack.push(Job::Refs(it));
                        t
                    }
                    None => continue,
                },
                Job::Pairs(mut it) => match it.next() {
                    Some((k, v)) => {
                        self.stack.push(Job::Pairs(it));
                        self.stack.push(Job::Term(v));
                        k
                    }
                    None => continue,
                },
            };
            self.term(t);
        }
    }

    /// Writes `t` if it is a leaf, or its header and pushes its contents.
    fn term(&mut self, t: &'a Term) {
        match t {
            Term::Atom(name) => self.atom(name),
            Term::Int(i) => self.int(*i),
            Term::Big(b) => self.big(b),
            Term::Float(f) => {
                self.out.push(tag::NEW_FLOAT);
                self.out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Term::Tuple(items) => {
                match u8::try_from(items.len()) {
                    Ok(n) => self.out.extend_from_slice(&[tag::SMALL_TUPLE, n]),
                    Err(_) => {
                        self.out.push(tag::LARGE_TUPLE);
                        self.u32_len(items.len());
                    }
                }
                self.stack.push(Job::Seq(items.iter()));
            }
            Term::List(items) => {
                if items.is_empty() {
                    self.out.push(tag::NIL);
                } else if !self.string(items.iter()) {
                    self.out.push(tag::LIST);
                    self.u32_len(items.len());
                    self.stack.push(Job::Nil);
                    self.stack.push(Job::Seq(items.iter()));
                }
            }
            Term::Improper(items, tail) => match &**tail {
                Term::List(_) | Term::Improper(..) => self.spliced_list(items, tail),
                _ if items.is_empty() => self.stack.push(Job::Term(tail)),
                _ => {
                    self.out.push(tag::LIST);
                    self.u32_len(items.len());
                    self.stack.push(Job::Term(tail));
                    self.stack.push(Job::Seq(items.iter()));
                }
            },
            Term::Binary(bytes) => {
                self.out.push(tag::BINARY);
                self.u32_len(bytes.len());
                self.out.extend_from_slice(bytes);
            }
            Term::Bits(bytes, bits) => self.bits(bytes, *bits),
            Term::Map(pairs) => {
                self.out.push(tag::MAP);
                self.u32_len(pairs.len());
                self.stack.push(Job::Pairs(pairs.iter()));
            }
            Term::Export(module, function, arity) => {
                self.out.push(tag::EXPORT);
                self.atom(module);
                self.atom(function);
                self.out.extend([tag::SMALL_INTEGER, *arity]);
            }
            Term::Opaque(bytes) => self.out.extend_from_slice(bytes),
        }
    }

    fn u32_len(&mut self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.out.extend_from_slice(&n.to_be_bytes());
    }

    fn atom(&mut self, name: &str) {
        if !self.utf8_atoms && name.is_ascii() {
            // Nearly every atom: its bytes are its Latin-1 encoding, nothing to convert
            // (this was 87% of encoding a .boot when each atom went through a Vec).
            let len = name.len().min(usize::from(u16::MAX));
            self.out.push(tag::ATOM);
            self.out.extend_from_slice(&(len as u16).to_be_bytes());
            self.out.extend_from_slice(&name.as_bytes()[..len]);
            return;
        }
        if !self.utf8_atoms && name.chars().all(|c| u32::from(c) <= 0xFF) {
            let latin1: Vec<u8> = name.chars().map(|c| c as u8).take(usize::from(u16::MAX)).collect();
            self.out.push(tag::ATOM);
            self.out.extend_from_slice(&(latin1.len() as u16).to_be_bytes());
            self.out.extend_from_slice(&latin1);
            return;
        }
        let mut len = name.len().min(usize::from(u16::MAX));
        while !name.is_char_boundary(len) {
            len -= 1;
        }
        match u8::try_from(len) {
            Ok(n) => self.out.extend_from_slice(&[tag::SMALL_ATOM_UTF8, n]),
            Err(_) => {
                self.out.push(tag::ATOM_UTF8);
                self.out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        }
        self.out.extend_from_slice(&name.as_bytes()[..len]);
    }

    fn int(&mut self, i: i64) {
        if let Ok(b) = u8::try_from(i) {
            self.out.extend_from_slice(&[tag::SMALL_INTEGER, b]);
        } else if let Ok(w) = i32::try_from(i) {
            self.out.push(tag::INTEGER);
            self.out.extend_from_slice(&w.to_be_bytes());
        } else {
            let mag = i.unsigned_abs().to_le_bytes();
            let n = 8 - mag.iter().rev().take_while(|&&b| b == 0).count();
            self.out.extend_from_slice(&[tag::SMALL_BIG, n as u8, u8::from(i < 0)]);
            self.out.extend_from_slice(&mag[..n]);
        }
    }

    fn big(&mut self, b: &BigInt) {
        // A `Big` that fits is not canonical, but the VM would hold it as a small integer.
        if let Some(i) = b.to_i64() {
            return self.int(i);
        }
        let (sign, mag) = b.to_bytes_le();
        match u8::try_from(mag.len()) {
            Ok(n) => self.out.extend_from_slice(&[tag::SMALL_BIG, n]),
            Err(_) => {
                self.out.push(tag::LARGE_BIG);
                self.u32_len(mag.len());
            }
        }
        self.out.push(u8::from(sign == Sign::Minus));
        self.out.extend_from_slice(&mag);
    }

    fn bits(&mut self, bytes: &[u8], bits: u8) {
        let Some((&last, init)) = bytes.split_last() else {
            // No last byte to hold the bits: the only such bitstring is <<>>.
            self.out.extend_from_slice(&[tag::BINARY, 0, 0, 0, 0]);
            return;
        };
        if bits == 0 || bits >= 8 {
            self.out.push(tag::BINARY);
            self.u32_len(bytes.len());
            self.out.extend_from_slice(bytes);
            return;
        }
        self.out.push(tag::BIT_BINARY);
        self.u32_len(bytes.len());
        self.out.push(bits);
        self.out.extend_from_slice(init);
        // The VM zeroes the unused low bits of the last byte.
        self.out.push(last & (0xFF << (8 - bits)));
    }

    /// Writes `items` as STRING_EXT if the VM would: 1..=65535 elements, all bytes.
    fn string<I: ExactSizeIterator<Item = &'a Term> + Clone>(&mut self, items: I) -> bool {
        let n = items.len();
        if n == 0 || n > usize::from(u16::MAX) || !items.clone().all(|t| byte_of(t).is_some()) {
            return false;
        }
        self.out.push(tag::STRING);
        self.out.extend_from_slice(&(n as u16).to_be_bytes());
        self.out.extend(items.filter_map(byte_of));
        true
    }

    /// An `Improper` whose tail is itself a list is not canonical; the VM would see one
    /// flat list, so splice the tails together and write that.
    fn spliced_list(&mut self, items: &'a [Term], tail: &'a Term) {
        let mut flat: Vec<&'a Term> = items.iter().collect();
        let mut end = Some(tail);
        while let Some(t) = end {
            match t {
                Term::List(more) => {
                    flat.extend(more);
                    end = None;
                }
                Term::Improper(more, next) => {
                    flat.extend(more);
                    end = Some(next);
                }
                _ => break,
            }
        }
        match end {
            _ if flat.is_empty() => self.stack.push(end.map_or(Job::Nil, Job::Term)),
            None if self.string(flat.iter().copied()) => {}
            _ => {
                self.out.push(tag::LIST);
                self.u32_len(flat.len());
                self.stack.push(end.map_or(Job::Nil, Job::Term));
                self.stack.push(Job::Refs(flat.into_iter()));
            }
        }
    }
}

fn byte_of(t: &Term) -> Option<u8> {
    match t {
        Term::Int(i) => u8::try_from(*i).ok(),
        Term::Big(b) => b.to_u8(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/// Decodes an external term, as `binary_to_term/1` would, with its whole input used.
///
/// Accepts every tag [`encode`] writes, plus `SMALL_ATOM_EXT`, the old `FLOAT_EXT`,
/// `COMPRESSED` (at the top only, as in the VM), and pids, ports, references, funs and
/// exports, which become [`Term::Opaque`]. Integers are normalised (a big that fits in
/// `i64` becomes `Int`), lists spliced through their tails (`[1|"ab"]` is `[1,97,98]`),
/// maps sorted into map-key order, and the unused bits of a bitstring's last byte zeroed,
/// all as the VM does; a map holding a key twice is refused, as the VM refuses it.
///
/// Never panics, never preallocates more than the input can hold (or, compressed,
/// inflate to), and refuses nesting deeper than [`MAX_DEPTH`].
pub fn decode(bytes: &[u8]) -> Result<Term, EtfError> {
    match bytes.first() {
        Some(&VERSION) => {}
        found => return Err(EtfError::BadVersion { found: found.copied() }),
    }
    if bytes.get(1) == Some(&tag::COMPRESSED) {
        let payload = decompress(bytes)?;
        // Offsets then read as if the payload had been stored right after the version byte.
        return Decoder { buf: &payload, pos: 0, base: 1 }.run();
    }
    Decoder { buf: bytes, pos: 1, base: 0 }.run()
}

/// Inflates a `COMPRESSED` term (version byte, tag, u32 size, zlib stream).
fn decompress(bytes: &[u8]) -> Result<Vec<u8>, EtfError> {
    let size = bytes.get(2..6).ok_or(EtfError::Truncated { offset: 2 })?;
    let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
    let data = &bytes[6..];
    // Deflate cannot expand data more than about 1032 times, so a larger declared size is
    // forged: refuse it before allocating anything.
    if size > data.len().saturating_mul(1032).saturating_add(64) {
        return Err(EtfError::Compressed(format!(
            "declared size {size} is impossible for {} bytes of zlib data",
            data.len()
        )));
    }
    let mut inflater = flate2::read::ZlibDecoder::new(data);
    let mut out = Vec::with_capacity(size);
    // One byte over the declared size is enough to tell that the data is too long.
    (&mut inflater).take(size as u64 + 1).read_to_end(&mut out).map_err(|e| EtfError::Compressed(e.to_string()))?;
    if out.len() != size {
        return Err(EtfError::Compressed(format!(
            "declared size {size} but the data inflates to {}{}",
            out.len(),
            if out.len() > size { " or more" } else { "" }
        )));
    }
    let used = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
    if used != data.len() {
        return Err(EtfError::TrailingBytes { offset: 6 + used });
    }
    Ok(out)
}

/// A container being decoded; its children arrive one at a time through
/// [`Decoder::accept`].
enum Frame {
    Tuple {
        items: Vec<Term>,
        left: usize,
    },
    /// At `left == 0` the next thing in the input is the tail, which [`Decoder::list_tail`]
    /// splices in while it is a list; a tail that is not a list sets `tail_pending` and
    /// arrives as the last child.
    List {
        items: Vec<Term>,
        left: usize,
        tail_pending: bool,
    },
    Map {
        pairs: Vec<(Term, Term)>,
        key: Option<Term>,
        left: usize,
        start: usize,
    },
    /// A fun's free variables: read only to find where the fun ends, then dropped, since
    /// the fun is kept as its raw bytes (which end at `end`, when the fun declares it).
    Fun {
        start: usize,
        left: usize,
        end: Option<usize>,
    },
}

enum Step {
    /// A complete term, to be handed to the enclosing frame.
    Done(Term),
    /// A container was opened or a list tail spliced in; carry on reading.
    Open,
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Added to positions in error offsets (non-zero inside a decompressed payload).
    base: usize,
}

impl<'a> Decoder<'a> {
    fn run(mut self) -> Result<Term, EtfError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let at_tail = matches!(stack.last(), Some(Frame::List { left: 0, tail_pending: false, .. }));
            let step = if at_tail { self.list_tail(&mut stack)? } else { self.item(&mut stack)? };
            let Step::Done(mut done) = step else { continue };
            // Hand the finished term up through every frame it completes.
            loop {
                let Some(frame) = stack.last_mut() else {
                    if self.pos != self.buf.len() {
                        return Err(EtfError::TrailingBytes { offset: self.at(self.pos) });
                    }
                    return Ok(done);
                };
                match self.accept(frame, done)? {
                    Some(t) => {
                        stack.pop();
                        done = t;
                    }
                    None => break,
                }
            }
        }
    }

    /// Gives `child` to `frame`; returns the frame's term once it is complete.
    fn accept(&self, frame: &mut Frame, child: Term) -> Result<Option<Term>, EtfError> {
        Ok(match frame {
            Frame::Tuple { items, left } => {
                items.push(child);
                *left -= 1;
                (*left == 0).then(|| Term::Tuple(std::mem::take(items)))
            }
            Frame::List { items, left, tail_pending } => {
                if !*tail_pending {
                    items.push(child);
                    *left -= 1;
                    None
                } else if items.is_empty() {
                    // LIST_EXT with no elements is just its tail, as in the VM.
                    Some(child)
                } else {
                    Some(Term::Improper(std::mem::take(items), Box::new(child)))
                }
            }
            Frame::Map { pairs, key, left, start } => match key.take() {
                None => {
                    *key = Some(child);
                    None
                }
                Some(k) => {
                    pairs.push((k, child));
                    *left -= 1;
                    if *left == 0 {
                        Some(self.map(std::mem::take(pairs), *start)?)
                    } else {
                        None
                    }
                }
            },
            Frame::Fun { start, left, end } => {
                *left -= 1;
                if *left == 0 {
                    Some(self.fun_end(*start, *end)?)
                } else {
                    None
                }
            }
        })
    }

    /// Reads what follows a list's last element.
    fn list_tail(&mut self, stack: &mut Vec<Frame>) -> Result<Step, EtfError> {
        let Some(Frame::List { items, left, tail_pending }) = stack.last_mut() else {
            return self.item(stack);
        };
        let start = self.pos;
        match self.buf.get(start) {
            Some(&tag::NIL) => {
                self.pos += 1;
                let items = std::mem::take(items);
                stack.pop();
                Ok(Step::Done(Term::List(items)))
            }
            Some(&tag::STRING) => {
                self.pos += 1;
                let len = usize::from(self.u16()?);
                let bytes = self.take(len)?;
                // A string is a whole proper list: it ends this one too.
                items.extend(bytes.iter().map(|&b| Term::Int(i64::from(b))));
                let items = std::mem::take(items);
                stack.pop();
                Ok(Step::Done(Term::List(items)))
            }
            Some(&tag::LIST) => {
                self.pos += 1;
                let n = self.u32()? as usize;
                items.reserve(self.cap(n, 1));
                *left = n;
                Ok(Step::Open)
            }
            _ => {
                *tail_pending = true;
                self.item(stack)
            }
        }
    }

    /// Reads one term: a leaf is returned whole, a container with contents becomes a frame.
    fn item(&mut self, stack: &mut Vec<Frame>) -> Result<Step, EtfError> {
        let start = self.pos;
        let tag = self.u8()?;
        let frame = match tag {
            tag::SMALL_INTEGER => return Ok(Step::Done(Term::Int(i64::from(self.u8()?)))),
            tag::INTEGER => return Ok(Step::Done(Term::Int(i64::from(self.u32()? as i32)))),
            tag::SMALL_BIG => {
                let n = usize::from(self.u8()?);
                return self.big(n).map(Step::Done);
            }
            tag::LARGE_BIG => {
                let n = self.u32()? as usize;
                return self.big(n).map(Step::Done);
            }
            tag::NEW_FLOAT => {
                let f = f64::from_bits(self.u64()?);
                if !f.is_finite() {
                    return Err(EtfError::BadFloat { offset: self.at(start) });
                }
                return Ok(Step::Done(Term::Float(f)));
            }
            tag::FLOAT => return self.old_float(start).map(Step::Done),
            tag::ATOM | tag::SMALL_ATOM | tag::ATOM_UTF8 | tag::SMALL_ATOM_UTF8 => {
                self.pos = start;
                return Ok(Step::Done(Term::Atom(self.atom()?.into())));
            }
            tag::NIL => return Ok(Step::Done(Term::nil())),
            tag::STRING => {
                let len = usize::from(self.u16()?);
                let bytes = self.take(len)?;
                return Ok(Step::Done(Term::List(bytes.iter().map(|&b| Term::Int(i64::from(b))).collect())));
            }
            tag::BINARY => {
                let len = self.u32()? as usize;
                return Ok(Step::Done(Term::Binary(self.take(len)?.to_vec())));
            }
            tag::BIT_BINARY => return self.bit_binary(start).map(Step::Done),
            tag::SMALL_TUPLE | tag::LARGE_TUPLE => {
                let n = if tag == tag::SMALL_TUPLE { usize::from(self.u8()?) } else { self.u32()? as usize };
                if n == 0 {
                    return Ok(Step::Done(Term::Tuple(Vec::new())));
                }
                Frame::Tuple { items: Vec::with_capacity(self.cap(n, 1)), left: n }
            }
            tag::LIST => {
                let n = self.u32()? as usize;
                Frame::List { items: Vec::with_capacity(self.cap(n, 1)), left: n, tail_pending: false }
            }
            tag::MAP => {
                let n = self.u32()? as usize;
                if n == 0 {
                    return Ok(Step::Done(Term::Map(Vec::new())));
                }
                Frame::Map { pairs: Vec::with_capacity(self.cap(n, 2)), key: None, left: n, start }
            }
            tag::NEW_PID | tag::PID => {
                self.pos = start;
                self.pid()?;
                return Ok(Step::Done(self.opaque(start)));
            }
            tag::PORT | tag::NEW_PORT | tag::V4_PORT | tag::REFERENCE => {
                self.atom()?;
                let rest = match tag {
                    tag::V4_PORT => 12,
                    tag::NEW_PORT => 8,
                    _ => 5,
                };
                self.take(rest)?;
                return Ok(Step::Done(self.opaque(start)));
            }
            tag::NEW_REFERENCE | tag::NEWER_REFERENCE => {
                let words = usize::from(self.u16()?);
                self.atom()?;
                let creation = if tag == tag::NEWER_REFERENCE { 4 } else { 1 };
                self.take(creation + 4 * words)?;
                return Ok(Step::Done(self.opaque(start)));
            }
            tag::EXPORT => {
                let module = self.atom()?;
                let function = self.atom()?;
                // Arity is a small integer in every encoder; anything else stays opaque.
                if self.peek_is(tag::SMALL_INTEGER) {
                    self.take(1)?;
                    let arity = self.u8()?;
                    return Ok(Step::Done(Term::Export(module, function, arity)));
                }
                self.small_int(start, "export")?;
                return Ok(Step::Done(self.opaque(start)));
            }
            tag::NEW_FUN => {
                let size = self.u32()? as usize;
                let end = start.checked_add(1 + size).filter(|&e| e <= self.buf.len());
                let end = end.ok_or(EtfError::Truncated { offset: self.at(start + 1) })?;
                self.take(1 + 16 + 4)?; // arity, uniq, index
                let free = self.u32()? as usize;
                self.atom()?;
                self.small_int(start, "fun")?; // old index
                self.small_int(start, "fun")?; // old uniq
                self.pid()?;
                if free == 0 {
                    return self.fun_end(start, Some(end)).map(Step::Done);
                }
                Frame::Fun { start, left: free, end: Some(end) }
            }
            tag::FUN => {
                let free = self.u32()? as usize;
                self.pid()?;
                self.atom()?;
                self.small_int(start, "fun")?; // index
                self.small_int(start, "fun")?; // uniq
                if free == 0 {
                    return self.fun_end(start, None).map(Step::Done);
                }
                Frame::Fun { start, left: free, end: None }
            }
            tag::COMPRESSED => {
                return Err(EtfError::Compressed(format!(
                    "compressed term nested inside another at offset {}",
                    self.at(start)
                )))
            }
            _ => return Err(EtfError::UnknownTag { tag, offset: self.at(start) }),
        };
        if stack.len() >= MAX_DEPTH {
            return Err(EtfError::TooDeep { offset: self.at(start) });
        }
        stack.push(frame);
        Ok(Step::Open)
    }

    fn fun_end(&self, start: usize, end: Option<usize>) -> Result<Term, EtfError> {
        if end.is_some_and(|e| e != self.pos) {
            return Err(EtfError::Malformed { what: "fun", offset: self.at(start) });
        }
        Ok(self.opaque(start))
    }

    fn opaque(&self, start: usize) -> Term {
        Term::Opaque(self.buf[start..self.pos].to_vec())
    }

    /// The pairs stay in the order they were written: the VM's own order (by atom index
    /// for atom keys since OTP 26, by hash for large maps), which `~tp` also follows, so a
    /// decoded map re-encodes and prints as the VM that wrote it would.
    fn map(&self, pairs: Vec<(Term, Term)>, start: usize) -> Result<Term, EtfError> {
        // The VM refuses duplicate keys instead of keeping one. 0.0 and -0.0 are distinct
        // keys from OTP 27 on, and a file an older VM wrote cannot hold both.
        let mut keys: Vec<&Term> = pairs.iter().map(|(k, _)| k).collect();
        keys.sort_by(|a, b| map_key_cmp(a, b).then_with(|| float_sign(a).cmp(&float_sign(b))));
        let same = |a: &Term, b: &Term| map_key_cmp(a, b) == Ordering::Equal && float_sign(a) == float_sign(b);
        if keys.windows(2).any(|w| same(w[0], w[1])) {
            return Err(EtfError::DuplicateKey { offset: self.at(start) });
        }
        Ok(Term::Map(pairs))
    }

    fn big(&mut self, n: usize) -> Result<Term, EtfError> {
        // The VM takes any non-zero sign byte as negative.
        let sign = if self.u8()? == 0 { Sign::Plus } else { Sign::Minus };
        let mag = self.take(n)?;
        Ok(Term::int(BigInt::from_bytes_le(sign, mag)))
    }

    /// FLOAT_EXT: the float as 31 bytes of `%.20e` text, NUL-padded. Written by nothing
    /// since R11 but still read by the VM; parsed here with Rust's float syntax.
    fn old_float(&mut self, start: usize) -> Result<Term, EtfError> {
        let text = self.take(31)?;
        let text = text.split(|&b| b == 0).next().unwrap_or_default();
        std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .map(Term::Float)
            .ok_or(EtfError::BadFloat { offset: self.at(start) })
    }

    fn bit_binary(&mut self, start: usize) -> Result<Term, EtfError> {
        let len = self.u32()? as usize;
        let bits = self.u8()?;
        // As in the VM: no bits exactly when no bytes, and at most a full byte.
        if (bits == 0) != (len == 0) || bits > 8 {
            return Err(EtfError::BadBits { offset: self.at(start) });
        }
        let mut bytes = self.take(len)?.to_vec();
        if bits == 8 || len == 0 {
            return Ok(Term::Binary(bytes));
        }
        if let Some(last) = bytes.last_mut() {
            *last &= 0xFF << (8 - bits);
        }
        Ok(Term::Bits(bytes, bits))
    }

    fn atom(&mut self) -> Result<String, EtfError> {
        let start = self.pos;
        let bad = EtfError::BadAtom { offset: self.at(start) };
        let (utf8, len) = match self.u8()? {
            tag::ATOM => (false, usize::from(self.u16()?)),
            tag::SMALL_ATOM => (false, usize::from(self.u8()?)),
            tag::ATOM_UTF8 => (true, usize::from(self.u16()?)),
            tag::SMALL_ATOM_UTF8 => (true, usize::from(self.u8()?)),
            _ => return Err(bad),
        };
        let bytes = self.take(len)?;
        let name: String = if utf8 {
            std::str::from_utf8(bytes).map_err(|_| bad.clone())?.to_owned()
        } else {
            bytes.iter().map(|&b| char::from(b)).collect()
        };
        // The VM's limit is 255 characters, whatever the encoding.
        if name.chars().count() > 255 {
            return Err(bad);
        }
        Ok(name)
    }

    fn pid(&mut self) -> Result<(), EtfError> {
        let start = self.pos;
        let creation = match self.u8()? {
            tag::NEW_PID => 4,
            tag::PID => 1,
            _ => return Err(EtfError::Malformed { what: "pid", offset: self.at(start) }),
        };
        self.atom()?;
        self.take(8 + creation)?;
        Ok(())
    }

    /// The index and uniq fields of funs: a small integer in either integer encoding.
    fn small_int(&mut self, fun_start: usize, what: &'static str) -> Result<(), EtfError> {
        match self.u8()? {
            tag::SMALL_INTEGER => self.take(1)?,
            tag::INTEGER => self.take(4)?,
            _ => return Err(EtfError::Malformed { what, offset: self.at(fun_start) }),
        };
        Ok(())
    }

    /// How many of `n` declared elements, each at least `min_size` bytes, to preallocate:
    /// never more than the rest of the input could hold, so a forged count costs nothing.
    fn cap(&self, n: usize, min_size: usize) -> usize {
        n.min((self.buf.len() - self.pos) / min_size).min(1 << 16)
    }

    fn at(&self, pos: usize) -> usize {
        self.base + pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], EtfError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(EtfError::Truncated { offset: self.at(self.pos) })?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, EtfError> {
        Ok(self.take(1)?[0])
    }

    fn peek_is(&self, tag: u8) -> bool {
        self.buf.get(self.pos) == Some(&tag)
    }

    fn u16(&mut self) -> Result<u16, EtfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, EtfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, EtfError> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
}

/// The sign bit of a float key (`None` for other terms): what tells 0.0 from -0.0.
fn float_sign(t: &Term) -> Option<bool> {
    match t {
        Term::Float(f) => Some(f.is_sign_negative()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn enc(t: &Term) -> Vec<u8> {
        encode(t, 25)
    }

    /// `131` followed by `body`.
    fn ext(body: &[u8]) -> Vec<u8> {
        let mut v = vec![VERSION];
        v.extend_from_slice(body);
        v
    }

    fn big(s: &str) -> Term {
        Term::int(s.parse::<BigInt>().unwrap())
    }

    fn int_list(items: impl IntoIterator<Item = i64>) -> Term {
        Term::list(items.into_iter().map(Term::Int))
    }

    /// Structural equality, iterative, with floats compared by bits: stricter than `==`
    /// (which says `0.0 == -0.0`) and independent of the term order.
    fn same(a: &Term, b: &Term) -> bool {
        let mut todo = vec![(a, b)];
        while let Some((a, b)) = todo.pop() {
            let ok = match (a, b) {
                (Term::Atom(x), Term::Atom(y)) => x == y,
                (Term::Int(x), Term::Int(y)) => x == y,
                (Term::Big(x), Term::Big(y)) => x == y,
                (Term::Float(x), Term::Float(y)) => x.to_bits() == y.to_bits(),
                (Term::Binary(x), Term::Binary(y)) => x == y,
                (Term::Bits(x, n), Term::Bits(y, m)) => x == y && n == m,
                (Term::Opaque(x), Term::Opaque(y)) => x == y,
                (Term::Export(m1, f1, a1), Term::Export(m2, f2, a2)) => (m1, f1, a1) == (m2, f2, a2),
                (Term::List(x), Term::List(y)) | (Term::Tuple(x), Term::Tuple(y)) => {
                    todo.extend(x.iter().zip(y));
                    x.len() == y.len()
                }
                (Term::Improper(x, xt), Term::Improper(y, yt)) => {
                    todo.extend(x.iter().zip(y));
                    todo.push((xt, yt));
                    x.len() == y.len()
                }
                (Term::Map(x), Term::Map(y)) => {
                    for ((xk, xv), (yk, yv)) in x.iter().zip(y) {
                        todo.push((xk, yk));
                        todo.push((xv, yv));
                    }
                    x.len() == y.len()
                }
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    #[track_caller]
    fn assert_same(a: &Term, b: &Term) {
        assert!(same(a, b), "\n  left: {a:?}\n right: {b:?}");
    }

    /// Checks that `t` encodes to `body` (after the version byte) and decodes back.
    #[track_caller]
    fn check(t: &Term, body: &[u8]) {
        assert_eq!(enc(t), ext(body), "encoding {t:?}");
        assert_same(&decode(&ext(body)).unwrap(), t);
    }

    /// Takes a deeply nested term apart without recursion, since `Term`'s drop recurses.
    fn dismantle(t: Term) {
        let mut todo = vec![t];
        while let Some(mut t) = todo.pop() {
            match &mut t {
                Term::List(v) | Term::Tuple(v) => todo.append(v),
                Term::Improper(v, tail) => {
                    todo.append(v);
                    todo.push(std::mem::replace(&mut **tail, Term::nil()));
                }
                Term::Map(pairs) => {
                    for (k, v) in pairs.drain(..) {
                        todo.push(k);
                        todo.push(v);
                    }
                }
                _ => {}
            }
        }
    }

    // --- integers ----------------------------------------------------------------------

    #[test]
    fn integers_use_the_smallest_encoding() {
        check(&Term::Int(0), &[97, 0]);
        check(&Term::Int(255), &[97, 255]);
        check(&Term::Int(256), &[98, 0, 0, 1, 0]);
        check(&Term::Int(-1), &[98, 255, 255, 255, 255]);
        check(&Term::Int(i32::MAX.into()), &[98, 0x7F, 255, 255, 255]);
        check(&Term::Int(i32::MIN.into()), &[98, 0x80, 0, 0, 0]);
        check(&Term::Int(i64::from(i32::MAX) + 1), &[110, 4, 0, 0, 0, 0, 0x80]);
        check(&Term::Int(i64::from(i32::MIN) - 1), &[110, 4, 1, 1, 0, 0, 0x80]);
        check(&Term::Int(i64::MAX), &[110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 0x7F]);
        check(&Term::Int(i64::MIN), &[110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    }

    #[test]
    fn big_integers_switch_to_large_big_past_255_bytes() {
        check(&big("9223372036854775808"), &[110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
        check(&big("-9223372036854775809"), &[110, 8, 1, 1, 0, 0, 0, 0, 0, 0, 0x80]);
        check(&big("18446744073709551616"), &[110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        // 2^2040 - 1 has 255 magnitude bytes, 2^2040 has 256.
        let top = BigInt::from(1) << 2040u32;
        let mut body = vec![110, 255, 0];
        body.extend([255; 255]);
        check(&Term::int(&top - 1), &body);
        let mut body = vec![111, 0, 0, 1, 0, 1];
        body.extend([0; 255]);
        body.push(1);
        check(&Term::int(-top), &body);
    }

    #[test]
    fn non_canonical_integers_decode_by_value() {
        assert_same(&decode(&ext(&[98, 0, 0, 0, 5])).unwrap(), &Term::Int(5));
        assert_same(&decode(&ext(&[110, 0, 0])).unwrap(), &Term::Int(0));
        assert_same(&decode(&ext(&[110, 0, 1])).unwrap(), &Term::Int(0));
        assert_same(&decode(&ext(&[110, 2, 1, 5, 0])).unwrap(), &Term::Int(-5));
        // Any non-zero sign byte means negative.
        assert_same(&decode(&ext(&[110, 1, 2, 5])).unwrap(), &Term::Int(-5));
        assert_same(&decode(&ext(&[111, 0, 0, 0, 1, 0, 7])).unwrap(), &Term::Int(7));
        // A `Big` that fits is written as the small integer it is.
        assert_eq!(enc(&Term::Big(BigInt::from(300))), ext(&[98, 0, 0, 1, 44]));
    }

    // --- floats ------------------------------------------------------------------------

    #[test]
    fn floats_are_new_float_ext() {
        check(&Term::Float(1.5), &[70, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]);
        check(&Term::Float(-0.0), &[70, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        check(
            &Term::Float(f64::MIN_POSITIVE / 4.0),
            &(f64::MIN_POSITIVE / 4.0).to_bits().to_be_bytes().iter().fold(vec![70], |mut v, b| {
                v.push(*b);
                v
            }),
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut body = vec![70];
            body.extend(bad.to_bits().to_be_bytes());
            assert_eq!(decode(&ext(&body)), Err(EtfError::BadFloat { offset: 1 }));
        }
    }

    #[test]
    fn old_float_ext_is_read() {
        let mut body = vec![99];
        body.extend(format!("{:<31}", "1.50000000000000000000e+00").bytes().map(|b| if b == b' ' { 0 } else { b }));
        assert_same(&decode(&ext(&body)).unwrap(), &Term::Float(1.5));
        let mut body = vec![99];
        body.extend([b'x'; 31]);
        assert_eq!(decode(&ext(&body)), Err(EtfError::BadFloat { offset: 1 }));
    }

    // --- atoms -------------------------------------------------------------------------

    #[test]
    fn atoms_are_latin1_up_to_otp_25_and_utf8_after() {
        let a = Term::atom("a");
        assert_eq!(encode(&a, 25), ext(&[100, 0, 1, b'a']));
        assert_eq!(encode(&a, 26), ext(&[119, 1, b'a']));
        let hello = Term::atom("héllo");
        assert_eq!(encode(&hello, 25), ext(&[100, 0, 5, b'h', 0xE9, b'l', b'l', b'o']));
        assert_eq!(encode(&hello, 26), ext(&[119, 6, b'h', 0xC3, 0xA9, b'l', b'l', b'o']));
        assert_eq!(encode(&Term::atom(""), 25), ext(&[100, 0, 0]));
        assert_eq!(encode(&Term::atom(""), 26), ext(&[119, 0]));
        // Not Latin-1: UTF-8 even on OTP 25.
        assert_eq!(encode(&Term::atom("中"), 25), ext(&[119, 3, 0xE4, 0xB8, 0xAD]));
        // Over 255 bytes of UTF-8: the long form.
        let long = "中".repeat(100);
        for otp in [25, 26] {
            let bytes = encode(&Term::atom(&long), otp);
            assert_eq!(bytes[..4], [131, 118, 1, 44]);
            assert_same(&decode(&bytes).unwrap(), &Term::atom(&long));
        }
        for otp in [24, 25, 26, 27] {
            assert_same(&decode(&encode(&hello, otp)).unwrap(), &hello);
        }
    }

    #[test]
    fn every_atom_tag_decodes_and_limits_hold() {
        let e = Term::atom("é");
        assert_same(&decode(&ext(&[115, 1, 0xE9])).unwrap(), &e);
        assert_same(&decode(&ext(&[100, 0, 1, 0xE9])).unwrap(), &e);
        assert_same(&decode(&ext(&[118, 0, 2, 0xC3, 0xA9])).unwrap(), &e);
        assert_same(&decode(&ext(&[119, 2, 0xC3, 0xA9])).unwrap(), &e);
        assert_eq!(decode(&ext(&[119, 1, 0xE9])), Err(EtfError::BadAtom { offset: 1 }));
        // 255 characters is the most an atom holds, in any encoding.
        let mut body = vec![100, 0, 255];
        body.extend([b'a'; 255]);
        assert!(decode(&ext(&body)).is_ok());
        let mut body = vec![100, 1, 0];
        body.extend([b'a'; 256]);
        assert_eq!(decode(&ext(&body)), Err(EtfError::BadAtom { offset: 1 }));
        let max = "😀".repeat(255);
        let mut body = vec![118, 3, 0xFC];
        body.extend(max.bytes());
        assert_same(&decode(&ext(&body)).unwrap(), &Term::atom(&max));
        let mut body = vec![118, 1, 0];
        body.extend([b'a'; 256]);
        assert_eq!(decode(&ext(&body)), Err(EtfError::BadAtom { offset: 1 }));
    }

    // --- tuples, lists, strings --------------------------------------------------------

    #[test]
    fn tuples_switch_to_large_past_255() {
        check(&Term::tuple([]), &[104, 0]);
        check(&Term::tuple([Term::Int(1), Term::atom("a")]), &[104, 2, 97, 1, 100, 0, 1, b'a']);
        for (n, head) in [(255usize, vec![104u8, 255]), (256, vec![105, 0, 0, 1, 0])] {
            let t = Term::Tuple(vec![Term::Int(7); n]);
            let mut body = head;
            for _ in 0..n {
                body.extend([97, 7]);
            }
            check(&t, &body);
        }
    }

    #[test]
    fn byte_lists_are_strings_up_to_65535_elements() {
        check(&Term::nil(), &[106]);
        check(&Term::string("ab"), &[107, 0, 2, b'a', b'b']);
        check(&int_list([0, 255]), &[107, 0, 2, 0, 255]);
        let bytes: Vec<u8> = (0..65535u32).map(|i| (i % 251) as u8).collect();
        let mut body = vec![107, 255, 255];
        body.extend(&bytes);
        check(&int_list(bytes.iter().map(|&b| i64::from(b))), &body);
        let mut body = vec![108, 0, 1, 0, 0];
        for i in 0..65536u32 {
            body.extend([97, (i % 251) as u8]);
        }
        body.push(106);
        check(&int_list((0..65536).map(|i| i % 251)), &body);
        assert_same(&decode(&ext(&[107, 0, 0])).unwrap(), &Term::nil());
    }

    #[test]
    fn other_lists_are_list_ext() {
        check(&int_list([-1]), &[108, 0, 0, 0, 1, 98, 255, 255, 255, 255, 106]);
        check(&int_list([1, 256]), &[108, 0, 0, 0, 2, 97, 1, 98, 0, 0, 1, 0, 106]);
        check(&Term::list([Term::atom("a")]), &[108, 0, 0, 0, 1, 100, 0, 1, b'a', 106]);
        check(&Term::list([Term::string("a")]), &[108, 0, 0, 0, 1, 107, 0, 1, b'a', 106]);
        check(&int_list([0x4E2D]), &[108, 0, 0, 0, 1, 98, 0, 0, 0x4E, 0x2D, 106]);
    }

    #[test]
    fn improper_lists_carry_their_tail() {
        let t = Term::Improper(vec![Term::Int(1)], Box::new(Term::Int(2)));
        check(&t, &[108, 0, 0, 0, 1, 97, 1, 97, 2]);
        let t = Term::Improper(vec![Term::atom("a"), Term::Int(1)], Box::new(Term::tuple([])));
        check(&t, &[108, 0, 0, 0, 2, 100, 0, 1, b'a', 97, 1, 104, 0]);
    }

    #[test]
    fn non_canonical_improper_lists_encode_as_the_vm_sees_them() {
        // [1 | [2]] is the string [1,2].
        let t = Term::Improper(vec![Term::Int(1)], Box::new(int_list([2])));
        assert_eq!(enc(&t), ext(&[107, 0, 2, 1, 2]));
        // [a | [b | c]] is [a, b | c].
        let inner = Term::Improper(vec![Term::atom("b")], Box::new(Term::atom("c")));
        let t = Term::Improper(vec![Term::atom("a")], Box::new(inner));
        assert_eq!(enc(&t), ext(&[108, 0, 0, 0, 2, 100, 0, 1, b'a', 100, 0, 1, b'b', 100, 0, 1, b'c']));
        // No elements: just the tail.
        assert_eq!(enc(&Term::Improper(vec![], Box::new(Term::Int(3)))), ext(&[97, 3]));
        assert_eq!(enc(&Term::Improper(vec![], Box::new(Term::nil()))), ext(&[106]));
    }

    #[test]
    fn list_tails_that_are_lists_are_spliced_on_decode() {
        // [1 | "\x02"] and [1 | [2 | []]] are both [1, 2].
        assert_same(&decode(&ext(&[108, 0, 0, 0, 1, 97, 1, 107, 0, 1, 2])).unwrap(), &int_list([1, 2]));
        let chained = [108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106];
        assert_same(&decode(&ext(&chained)).unwrap(), &int_list([1, 2]));
        let improper = [108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 97, 3];
        let want = Term::Improper(vec![Term::Int(1), Term::Int(2)], Box::new(Term::Int(3)));
        assert_same(&decode(&ext(&improper)).unwrap(), &want);
        // A LIST_EXT with no elements is its tail.
        assert_same(&decode(&ext(&[108, 0, 0, 0, 0, 106])).unwrap(), &Term::nil());
        assert_same(&decode(&ext(&[108, 0, 0, 0, 0, 97, 1])).unwrap(), &Term::Int(1));
        assert_same(&decode(&ext(&[108, 0, 0, 0, 0, 107, 0, 1, 9])).unwrap(), &int_list([9]));
    }

    // --- binaries and bitstrings -------------------------------------------------------

    #[test]
    fn binaries_and_bitstrings() {
        check(&Term::Binary(vec![]), &[109, 0, 0, 0, 0]);
        check(&Term::Binary(vec![1, 2]), &[109, 0, 0, 0, 2, 1, 2]);
        check(&Term::Bits(vec![1, 0xE0], 3), &[77, 0, 0, 0, 2, 3, 1, 0xE0]);
        // The unused low bits are zeroed both ways, as the VM does.
        assert_eq!(enc(&Term::Bits(vec![0xFF], 3)), ext(&[77, 0, 0, 0, 1, 3, 0xE0]));
        assert_same(&decode(&ext(&[77, 0, 0, 0, 1, 3, 0xFF])).unwrap(), &Term::Bits(vec![0xE0], 3));
        // Eight bits in the last byte is a binary, and so is no bytes at all.
        assert_same(&decode(&ext(&[77, 0, 0, 0, 1, 8, 1])).unwrap(), &Term::Binary(vec![1]));
        assert_same(&decode(&ext(&[77, 0, 0, 0, 0, 0])).unwrap(), &Term::Binary(vec![]));
        for bad in [[77, 0, 0, 0, 1, 0, 1], [77, 0, 0, 0, 1, 9, 1]] {
            assert_eq!(decode(&ext(&bad)), Err(EtfError::BadBits { offset: 1 }));
        }
        assert_eq!(decode(&ext(&[77, 0, 0, 0, 0, 3])), Err(EtfError::BadBits { offset: 1 }));
        // Terms the VM cannot hold are still written as something it reads.
        assert_eq!(enc(&Term::Bits(vec![], 3)), ext(&[109, 0, 0, 0, 0]));
        assert_eq!(enc(&Term::Bits(vec![5], 8)), ext(&[109, 0, 0, 0, 1, 5]));
    }

    // --- maps --------------------------------------------------------------------------

    #[test]
    fn maps_are_written_and_decoded_in_their_order() {
        check(&Term::Map(vec![]), &[116, 0, 0, 0, 0]);
        // #{2 => a, 1.5 => b, 1 => c, 1.0 => d} as OTP 25 writes it: integers first.
        let vm = [
            116, 0, 0, 0, 4, 97, 1, 100, 0, 1, 99, 97, 2, 100, 0, 1, 97, 70, 63, 240, 0, 0, 0, 0, 0, 0, 100, 0, 1, 100,
            70, 63, 248, 0, 0, 0, 0, 0, 0, 100, 0, 1, 98,
        ];
        let t = decode(&ext(&vm)).unwrap();
        assert_eq!(enc(&t), ext(&vm));
        let unsorted = [116, 0, 0, 0, 2, 100, 0, 1, b'b', 97, 1, 100, 0, 1, b'a', 97, 2];
        // Atom keys in atom-table order, as OTP 26+ writes them: kept.
        let want = Term::Map(vec![(Term::atom("b"), Term::Int(1)), (Term::atom("a"), Term::Int(2))]);
        assert_same(&decode(&ext(&unsorted)).unwrap(), &want);
    }

    #[test]
    fn duplicate_map_keys_are_refused() {
        let dup = [116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3];
        assert_eq!(decode(&ext(&dup)), Err(EtfError::DuplicateKey { offset: 1 }));
        // 0.0 and -0.0 are two keys from OTP 27 on (OTP 26 and older never write both).
        let mut zeros = vec![116, 0, 0, 0, 2, 70];
        zeros.extend(0.0f64.to_bits().to_be_bytes());
        zeros.extend([97, 1, 70]);
        zeros.extend((-0.0f64).to_bits().to_be_bytes());
        zeros.extend([97, 2]);
        assert!(matches!(decode(&ext(&zeros)), Ok(Term::Map(m)) if m.len() == 2));
    }

    // --- pids, ports, references, funs -------------------------------------------------

    const NODE: &[u8] = b"\x64\x00\x0dnonode@nohost";

    fn with_node(head: &[u8], rest: &[u8]) -> Vec<u8> {
        [head, NODE, rest].concat()
    }

    fn opaque_samples() -> Vec<Vec<u8>> {
        let pid = with_node(&[88], &[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut fun = vec![0u8; 16 + 4]; // uniq, index
        fun.insert(0, 1); // arity
        fun.extend([0, 0, 0, 2]); // two free variables
        fun.extend([100, 0, 1, b'm', 97, 0, 98, 0, 0, 0, 1]);
        fun.extend(&pid);
        fun.extend([104, 1, 100, 0, 1, b'x']); // {x}
        fun.extend([107, 0, 1, b'y']); // "y"
        let mut new_fun = vec![112];
        new_fun.extend((fun.len() as u32 + 4).to_be_bytes());
        new_fun.extend(&fun);
        let mut old_fun = vec![117, 0, 0, 0, 1];
        old_fun.extend(&pid);
        old_fun.extend([100, 0, 1, b'm', 97, 0, 97, 1, 97, 5]);
        vec![
            pid.clone(),
            with_node(&[103], &[0, 0, 0, 9, 0, 0, 0, 0, 0]),
            with_node(&[89], &[0, 0, 0, 0, 0, 0, 0, 0]),
            with_node(&[102], &[0, 0, 0, 9, 0]),
            with_node(&[120], &[0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]),
            with_node(&[101], &[0, 0, 0, 9, 0]),
            with_node(&[114, 0, 1], &[0, 0, 0, 0, 9]),
            with_node(&[90, 0, 3], &[0, 0, 0, 0, 0, 1, 47, 141, 124, 160, 0, 1, 196, 129, 172, 32]),
            b"\x71\x77\x05lists\x77\x03map\x62\x00\x00\x00\x02".to_vec(),
            new_fun,
            old_fun,
        ]
    }

    #[test]
    fn external_funs_are_terms_encoded_per_otp_release() {
        let otp25 = b"\x83\x71\x64\x00\x05lists\x64\x00\x03map\x61\x02".to_vec();
        let t = decode(&otp25).unwrap();
        assert_same(&t, &Term::Export("lists".into(), "map".into(), 2));
        assert_eq!(encode(&t, 25), otp25);
        assert_eq!(encode(&t, 26), b"\x83\x71\x77\x05lists\x77\x03map\x61\x02".to_vec());
    }

    #[test]
    fn pids_ports_refs_and_funs_round_trip_as_opaque_bytes() {
        for sample in opaque_samples() {
            let t = decode(&ext(&sample)).unwrap_or_else(|e| panic!("{sample:?}: {e}"));
            assert_same(&t, &Term::Opaque(sample.clone()));
            assert_eq!(enc(&t), ext(&sample));
            // Inside a container too, where the end of each must be found exactly.
            let mut body = vec![104, 3, 97, 1];
            body.extend(&sample);
            body.extend([106]);
            let t = decode(&ext(&body)).unwrap();
            assert_eq!(enc(&t), ext(&body));
            for cut in 1..sample.len() {
                assert!(matches!(decode(&ext(&sample[..cut])), Err(EtfError::Truncated { .. })), "{cut}");
            }
        }
    }

    #[test]
    fn inconsistent_funs_and_pids_are_refused() {
        let samples = opaque_samples();
        let mut new_fun = samples[9].clone();
        new_fun[4] -= 1; // size one short of the contents
        assert_eq!(decode(&ext(&new_fun)), Err(EtfError::Malformed { what: "fun", offset: 1 }));
        let mut new_fun = samples[9].clone();
        new_fun[4] += 1;
        new_fun.push(0); // size one past the contents
        assert_eq!(decode(&ext(&new_fun)), Err(EtfError::Malformed { what: "fun", offset: 1 }));
        // A pid whose node is not an atom.
        assert_eq!(
            decode(&ext(&[88, 97, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
            Err(EtfError::BadAtom { offset: 2 })
        );
        assert_eq!(
            decode(&ext(b"\x71\x64\x00\x01m\x64\x00\x01f\x64\x00\x01a")),
            Err(EtfError::Malformed { what: "export", offset: 1 })
        );
    }

    // --- compressed terms --------------------------------------------------------------

    fn compress(body: &[u8], declared: usize) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(body).unwrap();
        let mut v = vec![VERSION, 80];
        v.extend((declared as u32).to_be_bytes());
        v.extend(z.finish().unwrap());
        v
    }

    #[test]
    fn compressed_terms_decode() {
        let t = Term::list((0..500).map(|i| Term::tuple([Term::atom("k"), Term::Int(i)])));
        let plain = enc(&t);
        let body = &plain[1..];
        assert_same(&decode(&compress(body, body.len())).unwrap(), &t);
        for wrong in [body.len() - 1, body.len() + 1, 0] {
            assert!(matches!(decode(&compress(body, wrong)), Err(EtfError::Compressed(_))), "{wrong}");
        }
        // Bytes after the zlib stream, and after the term inside it.
        let mut extra = compress(body, body.len());
        extra.push(0);
        let len = extra.len();
        assert_eq!(decode(&extra), Err(EtfError::TrailingBytes { offset: len - 1 }));
        let mut padded = body.to_vec();
        padded.push(0);
        assert_eq!(decode(&compress(&padded, padded.len())), Err(EtfError::TrailingBytes { offset: plain.len() }));
        // Offsets inside count as if the term were stored uncompressed.
        assert_eq!(decode(&compress(&[104, 1, 82], 3)), Err(EtfError::UnknownTag { tag: 82, offset: 3 }));
        // Only at the top: the VM refuses a compressed term nested in another.
        let mut nested = vec![VERSION, 104, 1];
        nested.extend(&compress(body, body.len())[1..]);
        assert!(matches!(decode(&nested), Err(EtfError::Compressed(_))));
    }

    #[test]
    fn forged_compressed_sizes_and_broken_streams_are_refused() {
        let mut forged = compress(&[97, 1], 2);
        forged[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&forged), Err(EtfError::Compressed(_))));
        let mut broken = compress(&[97, 1], 2);
        let last = broken.len() - 1;
        broken[last] ^= 0xFF; // the Adler-32 checksum
        assert!(matches!(decode(&broken), Err(EtfError::Compressed(_))));
        assert_eq!(decode(&[VERSION, 80, 0, 0]), Err(EtfError::Truncated { offset: 2 }));
    }

    // --- framing errors, forged lengths, depth -----------------------------------------

    #[test]
    fn framing_errors_carry_offsets() {
        assert_eq!(decode(&[]), Err(EtfError::BadVersion { found: None }));
        assert_eq!(decode(&[130, 97, 1]), Err(EtfError::BadVersion { found: Some(130) }));
        assert_eq!(decode(&[VERSION]), Err(EtfError::Truncated { offset: 1 }));
        assert_eq!(decode(&ext(&[98, 0, 0])), Err(EtfError::Truncated { offset: 2 }));
        assert_eq!(decode(&ext(&[97, 1, 0])), Err(EtfError::TrailingBytes { offset: 3 }));
        assert_eq!(decode(&ext(&[104, 2, 97, 1, 82, 0])), Err(EtfError::UnknownTag { tag: 82, offset: 5 }));
        assert_eq!(decode(&ext(&[108, 0, 0, 0, 1, 97, 1])), Err(EtfError::Truncated { offset: 8 }));
    }

    #[test]
    fn forged_lengths_fail_fast_without_allocating() {
        let max = u32::MAX.to_be_bytes();
        for head in [[108u8], [105], [116], [109], [111], [77]] {
            let mut body = head.to_vec();
            body.extend(max);
            body.extend([0, 97, 1, 97, 1]);
            assert!(decode(&ext(&body)).is_err(), "{head:?}");
        }
    }

    fn nested_tuples(depth: usize) -> Vec<u8> {
        let mut body = vec![VERSION];
        body.extend([104, 1].repeat(depth));
        body.extend([97, 1]);
        body
    }

    #[test]
    fn nesting_is_limited_without_recursion() {
        let t = decode(&nested_tuples(MAX_DEPTH)).unwrap();
        assert_eq!(enc(&t), nested_tuples(MAX_DEPTH));
        dismantle(t);
        assert_eq!(decode(&nested_tuples(MAX_DEPTH + 1)), Err(EtfError::TooDeep { offset: 1 + 2 * MAX_DEPTH }));
        assert!(matches!(decode(&nested_tuples(1_000_000)), Err(EtfError::TooDeep { .. })));
        // Lists nest through their heads and maps through their values just the same.
        let mut body = vec![VERSION];
        body.extend([108, 0, 0, 0, 1].repeat(200_000));
        assert!(matches!(decode(&body), Err(EtfError::TooDeep { .. })));
        let mut body = vec![VERSION];
        body.extend([116, 0, 0, 0, 1, 97, 0].repeat(200_000));
        assert!(matches!(decode(&body), Err(EtfError::TooDeep { .. })));
    }

    #[test]
    fn list_tails_chained_a_million_deep_are_flat() {
        let mut body = vec![VERSION];
        body.extend([108, 0, 0, 0, 1, 97, 7].repeat(1_000_000));
        body.push(106);
        let t = decode(&body).unwrap();
        assert_eq!(t.as_list().map(<[Term]>::len), Some(1_000_000));
        let mut again = vec![VERSION, 108, 0, 0x0F, 0x42, 0x40];
        again.extend([97, 7].repeat(1_000_000));
        again.push(106);
        assert_eq!(enc(&t), again);
    }

    #[test]
    fn encoding_a_very_deep_term_does_not_recurse() {
        let depth = 200_000;
        let mut t = Term::atom("leaf");
        for i in 0..depth {
            t = match i % 4 {
                0 => Term::Tuple(vec![t]),
                1 => Term::List(vec![Term::Int(1), t]),
                2 => Term::Map(vec![(Term::Int(0), t)]),
                _ => Term::Improper(vec![t], Box::new(Term::Int(2))),
            };
        }
        let bytes = enc(&t);
        assert!(bytes.len() > depth * 5);
        dismantle(t);
        assert!(matches!(decode(&bytes), Err(EtfError::TooDeep { .. })));
    }

    // --- round trips and fuzzing -------------------------------------------------------

    /// xorshift64*: deterministic, and enough to shake out edge cases.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len())]
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }

        fn atom(&mut self) -> Term {
            let chars = ['a', 'Z', '_', 'é', 'ÿ', 'α', '中', '😀', ' '];
            let n = self.pick(&[0, 1, 3, 8, 60, 255]);
            Term::Atom((0..n).map(|_| self.pick(&chars)).collect::<String>().into())
        }

        fn int(&mut self) -> Term {
            match self.below(5) {
                0 => Term::Int(self.below(256) as i64),
                1 => Term::Int(self.next() as i32 as i64),
                2 => Term::Int(self.next() as i64),
                3 => Term::Int(self.pick(&[255, 256, -1, i32::MAX.into(), i32::MIN.into(), i64::MAX, i64::MIN])),
                _ => {
                    let sign = if self.below(2) == 0 { Sign::Plus } else { Sign::Minus };
                    let n = self.pick(&[9, 40, 255, 256, 300]);
                    Term::int(BigInt::from_bytes_le(sign, &self.bytes(n)))
                }
            }
        }

        fn float(&mut self) -> Term {
            loop {
                let f = f64::from_bits(self.next());
                if f.is_finite() {
                    return Term::Float(f);
                }
            }
        }

        fn leaf(&mut self) -> Term {
            match self.below(13) {
                0 => self.atom(),
                1 | 2 => self.int(),
                3 => self.float(),
                4 => {
                    let n = self.below(20);
                    Term::List((0..n).map(|_| Term::Int(self.below(256) as i64)).collect())
                }
                5 => {
                    Term::List((0..1 + self.below(5)).map(|_| Term::Int(self.pick(&[-1, 300, 0x10FFFF, 65]))).collect())
                }
                6 => {
                    let n = self.below(10);
                    Term::Binary(self.bytes(n))
                }
                7 => {
                    let bits = 1 + self.below(7) as u8;
                    let n = 1 + self.below(5);
                    let mut b = self.bytes(n);
                    *b.last_mut().unwrap() &= 0xFF << (8 - bits);
                    Term::Bits(b, bits)
                }
                8 => Term::nil(),
                9 => Term::tuple([]),
                10 => Term::Map(vec![]),
                11 => {
                    let samples = opaque_samples();
                    Term::Opaque(samples[self.below(samples.len())].clone())
                }
                _ => Term::atom("ok"),
            }
        }

        fn term(&mut self, depth: u32) -> Term {
            if depth == 0 {
                return self.leaf();
            }
            let n = self.below(5);
            match self.below(9) {
                0 => Term::Tuple((0..n).map(|_| self.term(depth - 1)).collect()),
                1 => Term::List((0..n).map(|_| self.term(depth - 1)).collect()),
                2 => {
                    let tail = match self.below(3) {
                        0 => self.atom(),
                        1 => self.int(),
                        _ => Term::tuple([self.leaf()]),
                    };
                    Term::Improper((0..n + 1).map(|_| self.term(depth - 1)).collect(), Box::new(tail))
                }
                3 => Term::map((0..n * 3).map(|_| (self.term(depth - 1), self.term(depth - 1))).collect()),
                4 => Term::Tuple((0..self.pick(&[255, 256])).map(|_| self.leaf()).collect()),
                _ => self.leaf(),
            }
        }
    }

    #[test]
    fn random_terms_round_trip() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3_000 {
            let t = rng.term(3);
            for otp in [25, 26] {
                let bytes = encode(&t, otp);
                let back = decode(&bytes).unwrap_or_else(|e| panic!("{t:?}: {e}"));
                assert_same(&back, &t);
                let mut appended = vec![1, 2, 3];
                encode_into(&t, otp, &mut appended);
                assert_eq!(appended[3..], bytes[..]);
            }
        }
    }

    fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
        const INTERESTING: [u8; 12] = [0, 1, 0x7F, 0x80, 0xFF, 97, 104, 106, 107, 108, 116, 131];
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(input.len() + 1);
            match rng.below(6) {
                0 if at < input.len() => input[at] ^= 1 << rng.below(8),
                1 if at < input.len() => input[at] = rng.pick(&INTERESTING),
                2 => input.insert(at, rng.next() as u8),
                3 if at < input.len() => {
                    input.remove(at);
                }
                4 => input.truncate(at.max(1)),
                _ if at < input.len() => {
                    let end = (at + 1 + rng.below(8)).min(input.len());
                    let chunk = input[at..end].to_vec();
                    let to = rng.below(input.len() + 1);
                    input.splice(to..to, chunk);
                }
                _ => input.push(rng.next() as u8),
            }
        }
    }

    #[test]
    fn never_panics_on_random_or_mutated_input() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let mut corpus: Vec<Vec<u8>> = (0..300).map(|i| encode(&rng.term(3), 25 + i % 2)).collect();
        corpus.extend(opaque_samples().iter().map(|s| ext(s)));
        for i in 0..20 {
            let body = encode(&rng.term(2), 25);
            corpus.push(compress(&body[1..], body.len() - 1 + usize::from(i == 0)));
        }
        let mut accepted = 0;
        for round in 0..200_000 {
            let input = if round % 5 == 0 {
                let n = rng.below(48);
                let mut v = rng.bytes(n);
                if rng.below(10) != 0 {
                    v.insert(0, VERSION);
                }
                v
            } else {
                let mut v = corpus[rng.below(corpus.len())].clone();
                mutate(&mut rng, &mut v);
                v
            };
            if let Ok(t) = decode(&input) {
                // Whatever decodes is canonical: it must survive a round trip unchanged.
                accepted += 1;
                let bytes = enc(&t);
                let again = decode(&bytes).unwrap_or_else(|e| panic!("{input:?} -> {t:?}: {e}"));
                assert_same(&again, &t);
                assert_eq!(enc(&again), bytes);
            }
        }
        assert!(accepted > 1_000, "only {accepted} inputs decoded: the mutations are too destructive");
    }

    // --- the real VM as oracle ---------------------------------------------------------

    #[test]
    fn matches_term_to_binary_of_the_installed_otp() {
        if crate::term::oracle::escript_on_path().is_none() {
            return;
        }
        let otp = crate::term::oracle::vm_otp_major();
        let enc = |t: &Term| encode(t, otp);
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/etf_oracle.escript");
        let dir = std::env::temp_dir().join(format!("fastrel_etf_oracle_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let n = 500;
        let status = std::process::Command::new("escript")
            .arg(&script)
            .arg(&dir)
            .args(["20240601", &n.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("running escript");
        assert!(status.success(), "{} failed", script.display());
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut compressed = 0;
        for i in 1..=n {
            let bytes = read(&format!("{i}.bin"));
            let t = decode(&bytes).unwrap_or_else(|e| panic!("{i}.bin: {e}"));
            assert!(
                enc(&t) == bytes,
                "{i}.bin re-encodes differently from term_to_binary (files kept in {})",
                dir.display()
            );
            let packed = read(&format!("{i}.cbin"));
            compressed += usize::from(packed.get(1) == Some(&80));
            let u = decode(&packed).unwrap_or_else(|e| panic!("{i}.cbin: {e}"));
            assert!(same(&t, &u), "{i}.cbin decodes to a different term");
            dismantle(t);
            dismantle(u);
        }
        assert!(compressed > n / 10, "only {compressed} of the compressed files are compressed");
        for boot in ["r.boot", "r_local.boot", "r_no_dot_erlang.boot"] {
            let bytes = read(boot);
            let t = decode(&bytes).unwrap_or_else(|e| panic!("{boot}: {e}"));
            assert!(t.as_tuple().is_some_and(|s| s.first().is_some_and(|h| h.is_atom("script"))), "{boot}");
            assert!(enc(&t) == bytes, "{boot} re-encodes differently (files kept in {})", dir.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
