// SPDX-License-Identifier: Apache-2.0
//! Bit syntax: binaries built from `<<...>>` segments with `eval_bits` semantics.

use super::parser::*;
use super::*;
use num_traits::ToPrimitive;

// ---------------------------------------------------------------------------------------
// Binaries, as eval_bits builds them

/// A bitstring under construction: `bits` bits, MSB first, unused low bits zero.
#[derive(Default)]
pub(super) struct BitBuf {
    pub(super) bytes: Vec<u8>,
    pub(super) bits: u64,
}

impl BitBuf {
    /// Appends the first `nbits` bits of `data` (MSB first); `None` if the result would
    /// exceed [`MAX_BINARY_BITS`].
    pub(super) fn push(&mut self, data: &[u8], nbits: u64) -> Option<()> {
        if self.bits + nbits > MAX_BINARY_BITS {
            return None;
        }
        let full = (nbits / 8) as usize;
        let rem = (nbits % 8) as u32;
        let tail = if rem > 0 { data.get(full).map(|b| b & !(0xFFu8 >> rem)) } else { None };
        let shift = (self.bits % 8) as u32;
        let body = data.get(..full).unwrap_or(data);
        if shift == 0 {
            self.bytes.extend_from_slice(body);
            self.bytes.extend(tail);
        } else {
            for &b in body.iter().chain(tail.iter()) {
                if let Some(last) = self.bytes.last_mut() {
                    *last |= b >> shift;
                }
                self.bytes.push(b << (8 - shift));
            }
            // The partial byte may not have needed the extra byte pushed for it.
            let total = self.bits + nbits;
            self.bytes.truncate(total.div_ceil(8) as usize);
        }
        self.bits += nbits;
        Some(())
    }

    pub(super) fn into_term(self) -> Term {
        match (self.bits % 8) as u8 {
            0 => Term::Binary(self.bytes),
            n => Term::Bits(self.bytes, n),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum BitType {
    Integer,
    Float,
    Binary,
    Utf8,
    Utf16,
    Utf32,
}

/// A segment's resolved type, `erl_bits:set_bit_type/2` with its defaults applied.
struct BitSpec {
    ty: BitType,
    unit: u64,
    little: bool,
}

/// A segment's size, once evaluated.
enum Size {
    Bits(u64),
    /// `binary` without a size: the whole value.
    All,
    /// `utf*`: determined by the value.
    Implicit,
}

fn bit_spec(types: &[(String, Option<Term>)], size_given: bool) -> Option<BitSpec> {
    // Each attribute may be given repeatedly but only with one value.
    fn set<T: PartialEq>(slot: &mut Option<T>, v: T) -> Option<()> {
        match slot {
            Some(old) if *old != v => None,
            _ => {
                *slot = Some(v);
                Some(())
            }
        }
    }
    let (mut ty, mut unit, mut sign, mut little) = (None, None, None, None);
    for (name, arg) in types {
        match (name.as_str(), arg) {
            ("integer", None) => set(&mut ty, BitType::Integer)?,
            ("float", None) => set(&mut ty, BitType::Float)?,
            ("binary", None) => set(&mut ty, BitType::Binary)?,
            ("bytes", None) => {
                set(&mut ty, BitType::Binary)?;
                set(&mut unit, 8)?;
            }
            ("bitstring" | "bits", None) => {
                set(&mut ty, BitType::Binary)?;
                set(&mut unit, 1)?;
            }
            ("utf8", None) => set(&mut ty, BitType::Utf8)?,
            ("utf16", None) => set(&mut ty, BitType::Utf16)?,
            ("utf32", None) => set(&mut ty, BitType::Utf32)?,
            ("signed", None) => set(&mut sign, true)?,
            ("unsigned", None) => set(&mut sign, false)?,
            ("big", None) => set(&mut little, false)?,
            ("little", None) => set(&mut little, true)?,
            ("native", None) => set(&mut little, cfg!(target_endian = "little"))?,
            ("unit", Some(Term::Int(u @ 1..=256))) => set(&mut unit, *u as u64)?,
            _ => return None,
        }
    }
    let ty = ty.unwrap_or(BitType::Integer);
    let unit = match ty {
        // A unit only makes sense with an explicit size.
        BitType::Integer | BitType::Float if !size_given && unit.is_some() => return None,
        BitType::Utf8 | BitType::Utf16 | BitType::Utf32 if unit.is_some() => return None,
        BitType::Binary => unit.unwrap_or(8),
        _ => unit.unwrap_or(1),
    };
    Some(BitSpec { ty, unit, little: little.unwrap_or(false) })
}

fn eval_size(spec: &BitSpec, size: Option<&Term>) -> Option<Size> {
    let utf = matches!(spec.ty, BitType::Utf8 | BitType::Utf16 | BitType::Utf32);
    match size {
        None => Some(match spec.ty {
            BitType::Integer => Size::Bits(8),
            BitType::Float => Size::Bits(64),
            BitType::Binary => Size::All,
            _ => Size::Implicit,
        }),
        // erl_bits lets a literal `undefined` through as a utf segment's size.
        Some(Term::Atom(a)) if utf && a == "undefined" => Some(Size::Implicit),
        Some(_) if utf => None,
        Some(Term::Atom(a)) if spec.ty == BitType::Binary && a == "all" => Some(Size::All),
        Some(Term::Int(n)) => {
            let bits = u64::try_from(*n).ok()?.checked_mul(spec.unit)?;
            (bits <= MAX_BINARY_BITS).then_some(Size::Bits(bits))
        }
        Some(_) => None,
    }
}

/// `<<Segments>>`, or `None` if eval_bits would raise.
pub(super) fn build_binary(segs: &[Segment]) -> Option<Term> {
    let mut out = BitBuf::default();
    for seg in segs {
        if seg.value.kind == Kind::String && seg.size.is_none() && seg.types.is_empty() {
            // The common `<<"text">>`: one byte per character, truncated.
            let bytes: Vec<u8> = list_ints(&seg.value.term).iter().map(|&c| c as u8).collect();
            out.push(&bytes, 8 * bytes.len() as u64)?;
            continue;
        }
        let spec = bit_spec(&seg.types, seg.size.is_some())?;
        let size = eval_size(&spec, seg.size.as_ref())?;
        if seg.value.kind == Kind::String {
            // Each character is a segment of its own; an empty string is still checked.
            let chars = list_ints(&seg.value.term);
            if chars.is_empty() {
                put(&mut BitBuf::default(), &Term::Int(0), &spec, &size)?;
            }
            for c in chars {
                put(&mut out, &Term::Int(c), &spec, &size)?;
            }
        } else {
            put(&mut out, &seg.value.term, &spec, &size)?;
        }
    }
    Some(out.into_term())
}

fn list_ints(t: &Term) -> Vec<i64> {
    match t {
        Term::List(l) => l.iter().filter_map(|e| if let Term::Int(i) = e { Some(*i) } else { None }).collect(),
        _ => Vec::new(),
    }
}

/// One value into one segment: eval_bits' `eval_exp_field`.
fn put(out: &mut BitBuf, v: &Term, spec: &BitSpec, size: &Size) -> Option<()> {
    match spec.ty {
        BitType::Integer => {
            let Size::Bits(bits) = *size else { return None };
            let le = int_le_bytes(v, bits.div_ceil(8) as usize)?;
            put_int(out, le, bits, spec.little)?;
        }
        BitType::Float => {
            let Size::Bits(bits) = *size else { return None };
            let f = match v {
                Term::Int(i) => *i as f64,
                Term::Big(b) => b.to_f64().filter(|f| f.is_finite())?,
                Term::Float(f) => *f,
                _ => return None,
            };
            let mut be = match bits {
                64 => f.to_bits().to_be_bytes().to_vec(),
                32 => (f as f32).to_bits().to_be_bytes().to_vec(),
                16 => f16_bits(f).to_be_bytes().to_vec(),
                _ => return None,
            };
            if spec.little {
                be.reverse();
            }
            out.push(&be, bits)?;
        }
        BitType::Utf8 | BitType::Utf16 | BitType::Utf32 => {
            let c = match v {
                Term::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32)?,
                _ => return None,
            };
            let mut units: Vec<u8> = Vec::new();
            match spec.ty {
                BitType::Utf8 => units.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                BitType::Utf16 => {
                    for u in c.encode_utf16(&mut [0; 2]) {
                        units.extend(if spec.little { u.to_le_bytes() } else { u.to_be_bytes() });
                    }
                }
                _ => units.extend(if spec.little { (c as u32).to_le_bytes() } else { (c as u32).to_be_bytes() }),
            }
            out.push(&units, 8 * units.len() as u64)?;
        }
        BitType::Binary => {
            let (data, have) = match v {
                Term::Binary(b) => (b.as_slice(), 8 * b.len() as u64),
                Term::Bits(b, n) => (b.as_slice(), 8 * (b.len() as u64).saturating_sub(1) + u64::from(*n)),
                _ => return None,
            };
            let bits = match *size {
                Size::All if have % spec.unit == 0 => have,
                Size::Bits(n) if n <= have => n,
                _ => return None,
            };
            out.push(data, bits)?;
        }
    }
    Some(())
}

/// The two's-complement little-endian bytes of an integer, sign-extended or truncated
/// to `n` bytes.
fn int_le_bytes(v: &Term, n: usize) -> Option<Vec<u8>> {
    let (mut le, negative) = match v {
        Term::Int(i) => (i.to_le_bytes().to_vec(), *i < 0),
        Term::Big(b) => (b.to_signed_bytes_le(), b.sign() == num_bigint::Sign::Minus),
        _ => return None,
    };
    le.resize(n, if negative { 0xFF } else { 0 });
    Some(le)
}

/// Writes the low `bits` bits of the integer whose little-endian bytes are `le`.
fn put_int(out: &mut BitBuf, mut le: Vec<u8>, bits: u64, little: bool) -> Option<()> {
    let rem = (bits % 8) as u32;
    if little {
        // Whole bytes least significant first, then the remaining high `rem` bits as a
        // short tail: what the emulator does for `<<V:12/little>>`.
        if rem > 0 {
            if let Some(last) = le.get_mut((bits / 8) as usize) {
                *last <<= 8 - rem;
            }
        }
        out.push(&le, bits)
    } else {
        // Big endian: the value's low `bits` bits, most significant first. Shift the
        // whole number left so those bits start at the top of the first byte.
        le.reverse();
        if rem > 0 {
            let pad = 8 - rem;
            for i in 0..le.len() {
                let next = le.get(i + 1).map_or(0, |b| b >> (8 - pad));
                le[i] = (le[i] << pad) | next;
            }
        }
        out.push(&le, bits)
    }
}

/// An IEEE half-precision float from a double, rounding to nearest even; too large
/// becomes infinity (as in the emulator).
pub(super) fn f16_bits(x: f64) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 48) & 0x8000) as u16;
    let exp = ((b >> 52) & 0x7FF) as i64;
    let mant = (b & ((1u64 << 52) - 1)) | (1u64 << 52);
    let round = |m: u64, s: u32| -> u64 {
        if s >= 64 {
            return 0;
        }
        let q = m >> s;
        let r = m & ((1u64 << s) - 1);
        let half = 1u64 << (s - 1);
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    if exp == 0x7FF {
        return sign | 0x7C00 | if b & ((1u64 << 52) - 1) != 0 { 0x200 } else { 0 };
    }
    let e = exp - 1023 + 15;
    let v = if e <= 0 {
        // Subnormal (or zero): in units of 2^-24. A carry lands in the exponent field.
        round(mant, (43 - e).min(64) as u32)
    } else {
        // `round` keeps the implicit bit, which adds the 1 back to `e - 1`.
        ((e as u64 - 1) << 10) + round(mant, 42)
    };
    sign | v.min(0x7C00) as u16
}
