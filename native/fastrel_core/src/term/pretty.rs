// SPDX-License-Identifier: Apache-2.0
//! `io_lib:format("~tp", [Term])`, byte for byte, for the terms release files are made of.
//!
//! `systools:make_script/2` writes a `.script` with
//! `io:format(Fd, "%% ~s\n~tp.\n", ["coding: utf-8", Script])`, so reproducing that file means
//! reproducing `io_lib_pretty:print/2` (OTP 25, `stdlib/src/io_lib_pretty.erl`) with column 1,
//! line length 80, no depth or character limit, Unicode encoding, string detection on and no
//! record-printing function. This module is a port of that algorithm; the function names in
//! the layout code (`pp_tail`, `cind_tag_tuple`, ...) are those of the Erlang source so the two
//! can be read side by side, and its quirks (asymmetric width bookkeeping between `pp` and
//! `cind`, `Col` versus `Col0` in improper tails) are kept on purpose.
//!
//! How it works: a first pass (`print_length` in Erlang) turns the term into a flat, preorder
//! array of nodes that records every sub-term's single-line width in characters, rendering the
//! atomic parts (atoms, numbers, strings, binaries) once into a shared text arena. If the whole
//! term fits on the line it is written flat. Otherwise a dry run (`cind`) picks the indentation
//! mode for tagged tuples (`{Tag, ...}` with an atom tag): -1 (align after the tag), else 4,
//! else 1; then `pp` lays the term out.
//!
//! Limitations, none of which can arise for a term read from a `.rel`/`.app` file or decoded
//! from a `.boot`:
//! * Maps are printed in the order of [`Term::Map`]'s pairs, which is map-key order: that is
//!   what `~tp` prints for maps of up to 32 keys. Bigger maps are printed by Erlang in its
//!   internal hash order, which is not reproduced.
//! * [`Term::Opaque`] (pids, ports, references, funs) is printed as `#Opaque<>`, where Erlang
//!   would print e.g. `<0.80.0>` or `#Ref<...>`: the term model keeps only their raw external
//!   bytes, and they never occur in release files.
//! * [`Term::Improper`] is expected to have a non-list tail, as documented on [`Term`].
//! * Nesting is handled by recursion, so a term nested tens of thousands of levels deep could
//!   exhaust the thread's stack (Erlang processes grow theirs).

use crate::term::Term;

/// The line length `~p` uses when no field width is given.
const LINE_LENGTH: i64 = 80;

/// `~tp` at the start of a line starts in column 1.
const START_COLUMN: i64 = 1;

/// Renders `t` exactly as `io_lib:format("~tp", [T])` does at column 1.
///
/// `unicode_range` is whether `io:printable_range()` is `unicode` (the VM was started with
/// `+pc unicode`) rather than the default `latin1`: it decides which integer lists are shown
/// as strings and which UTF-8 binaries as `<<"..."/utf8>>`. `otp_major` decides which atoms
/// are reserved words and so need quotes (see [`write_atom`]).
pub fn pretty(t: &Term, unicode_range: bool, otp_major: u32) -> String {
    Measured::of(t, unicode_range, otp_major).lay_out(String::new())
}

/// A term as the printer needs it: every sub-term's width and the text of its atomic
/// parts (`print_length`), with nothing borrowed from the term, so the term can be freed
/// (or used elsewhere) while the text is laid out.
pub struct Measured {
    nodes: Vec<Node>,
    arena: String,
}

impl Measured {
    /// Measures `t`; `unicode_range` and `otp_major` as for [`pretty`].
    pub fn of(t: &Term, unicode_range: bool, otp_major: u32) -> Measured {
        use std::sync::atomic::Ordering::Relaxed;
        // Sized like the last term printed: the node array of a 34-application script grows
        // three times from a fixed start, and copying it was 3% of a make_script call.
        let mut b = Builder {
            nodes: Vec::with_capacity(NODES_HINT.load(Relaxed).clamp(1024, HINT_MAX)),
            arena: String::with_capacity(ARENA_HINT.load(Relaxed).clamp(16 * 1024, HINT_MAX)),
            unicode_range,
            otp_major,
        };
        b.build(t);
        NODES_HINT.store(b.nodes.len(), Relaxed);
        ARENA_HINT.store(b.arena.len(), Relaxed);
        Measured { nodes: b.nodes, arena: b.arena }
    }

    /// The term's `~tp` text, appended to `out`.
    fn lay_out(self, mut out: String) -> String {
        let m = self.nodes[0].len;
        // Indentation roughly doubles a big term's text.
        out.reserve(2 * self.arena.len() + 16);
        let mut p = Printer {
            out,
            nodes: self.nodes,
            arena: self.arena,
            ll: LINE_LENGTH,
            // io_lib_pretty uses the total length as CHAR_MAX when no `line_max_chars` is given.
            m,
        };
        let col = START_COLUMN;
        if m < p.ll - col && m <= p.m {
            p.write(0);
        } else {
            let tind = [-1, 4].into_iter().find(|&i| p.cind(0, col, i, 0, 0).is_ok()).unwrap_or(1);
            p.pp(0, col, tind, col - 1, 0, 0);
        }
        p.out
    }

    /// [`script_text`] of the measured term.
    pub fn script_text(self) -> String {
        let mut s = self.lay_out(String::from("%% coding: utf-8\n"));
        s.push_str(".\n");
        s
    }
}

/// The node count and text size of the last term printed, the next one's starting
/// capacity (never more than [`HINT_MAX`], so one huge term does not make every later
/// print reserve as much).
static NODES_HINT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static ARENA_HINT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const HINT_MAX: usize = 1 << 18;

/// The text `systools:make_script/2` writes to a `.script` file for the script term `t`:
/// `"%% coding: utf-8\n"`, the term as [`pretty`] prints it, then `".\n"`.
pub fn script_text(t: &Term, unicode_range: bool, otp_major: u32) -> String {
    Measured::of(t, unicode_range, otp_major).script_text()
}

/// `io_lib:write_atom/1`: the atom's name, in single quotes (with escapes) when it does not
/// read back as a bare atom or is a reserved word.
///
/// `maybe` and `else` are reserved from OTP 27 on, when the `maybe_expr` feature became
/// enabled by default; on OTP 25 and 26 they print bare.
pub fn write_atom(name: &str, otp_major: u32) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    push_atom(&mut s, name, otp_major);
    s
}

/// `float_to_list(F, [short])`, which is how `~p` prints a float: the shortest digits that
/// read back as `f`, in fixed notation (`0.001`, `123.0`) or scientific notation (`1.0e-5`,
/// `1.5e20`), whichever is shorter, fixed on a tie, and always scientific from 2^53 on
/// (where fixed notation would suggest more precision than the float has).
///
/// Infinities and NaN do not exist in Erlang; they are printed as Rust prints them.
pub fn format_float(f: f64) -> String {
    let mut s = String::with_capacity(24);
    push_float(&mut s, f);
    s
}

fn push_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    if !f.is_finite() {
        out.push_str(&f.to_string());
        return;
    }
    let (digits, e) = shortest_digits(f.abs());
    let olength = digits.len() as i32;
    let sci_exp = e + olength - 1;
    let (lower, upper) = if olength == 1 {
        (-4, 2)
    } else if sci_exp >= 10 {
        (-(olength + 2), 2)
    } else {
        (-(olength + 2), 1)
    };
    let mantissa: u64 = digits.parse().expect("at most 17 digits");
    let beyond_2_53 = (mantissa >= 1 << 53 && e == 0)
        || (mantissa > (1u64 << 52) / 5 && e == 1)
        || (mantissa > (1u64 << 51) / 25 && e == 2);
    if f < 0.0 {
        out.push('-');
    }
    if lower <= e && e <= upper && !beyond_2_53 {
        let whole = olength + e;
        if e >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', e as usize));
            out.push_str(".0");
        } else if whole > 0 {
            out.push_str(&digits[..whole as usize]);
            out.push('.');
            out.push_str(&digits[whole as usize..]);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-whole) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if olength > 1 { &digits[1..] } else { "0" });
        out.push('e');
        out.push_str(&sci_exp.to_string());
    }
}

/// The shortest digits that read back as `f` (positive, finite) and their exponent: `f` is
/// `digits * 10^e`. ERTS gets them from Ryu; Rust's `{:e}` finds the same digits, except
/// that when two candidates are exactly equally near `f` it may pick the odd one where Ryu
/// picks the even one (2^-25 is 2.98023223876953125e-8: Ryu says ...312e-8, Rust ...313e-8).
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let mut digits: String = mant.chars().filter(|&c| c != '.').collect();
    let mut e = exp.parse::<i32>().expect("{:e} exponent is an integer") - digits.len() as i32 + 1;
    if (digits.as_bytes()[digits.len() - 1] - b'0') % 2 == 1 {
        // The even neighbour must still read back as `f`: next to a power of two the lower
        // half-gap is narrower and the tie can fall outside it (2^-24: Ryu keeps ...063e-8).
        let even =
            tie_partner(f, &digits, e).map(|d| d.to_string()).filter(|d| format!("{d}e{e}").parse::<f64>() == Ok(f));
        if let Some(even) = even {
            digits = even;
            while digits.len() > 1 && digits.ends_with('0') {
                digits.pop();
                e += 1;
            }
        }
    }
    (digits, e)
}

/// If `f` lies exactly halfway between `digits * 10^e` and a neighbour one unit in the last
/// digit away, that neighbour.
fn tie_partner(f: f64, digits: &str, e: i32) -> Option<num_bigint::BigUint> {
    use num_bigint::BigUint;
    let bits = f.to_bits();
    let (exp, frac) = ((bits >> 52) as i32, bits & ((1 << 52) - 1));
    let (m, q) = if exp == 0 { (frac, -1074) } else { (frac | 1 << 52, exp - 1075) };
    // Compare 2f with (2d +- 1) * 10^e, everything scaled by 2^a * 10^b to stay integral.
    let (a, b) = ((-q).max(0), (-e).max(0));
    let pow10 = |n: i32| BigUint::from(10u32).pow(n as u32);
    let d: BigUint = digits.parse().ok()?;
    let two_f = (BigUint::from(m) << (q + a + 1) as usize) * pow10(b);
    let two_d = (&d << (a + 1) as usize) * pow10(e + b);
    let unit = pow10(e + b) << a as usize;
    if two_f > two_d && &two_f - &two_d == unit {
        Some(d + 1u32)
    } else if two_d > two_f && &two_d - &two_f == unit {
        Some(d - 1u32)
    } else {
        None
    }
}

/// `erl_scan:f_reserved_word/1` of OTP 25, plus `maybe` and `else` from OTP 27 on.
fn is_reserved(name: &str, otp_major: u32) -> bool {
    // A `match` compiles to a switch on the length and first bytes: this runs for every
    // atom printed, and most are not reserved.
    match name {
        "after" | "and" | "andalso" | "band" | "begin" | "bnot" | "bor" | "bsl" | "bsr" | "bxor" | "case" | "catch"
        | "cond" | "div" | "end" | "fun" | "if" | "let" | "not" | "of" | "or" | "orelse" | "receive" | "rem"
        | "try" | "when" | "xor" => true,
        "maybe" | "else" => otp_major >= 27,
        _ => false,
    }
}

/// A character that may start an unquoted atom: `a..z` and Latin-1 lower case `ß..ÿ` but `÷`.
fn atom_start(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{DF}'..='\u{FF}').contains(&c) && c != '\u{F7}')
}

/// `io_lib:name_char/1`.
fn name_char(c: char) -> bool {
    atom_start(c)
        || c.is_ascii_uppercase()
        || (('\u{C0}'..='\u{DE}').contains(&c) && c != '\u{D7}')
        || c.is_ascii_digit()
        || c == '_'
        || c == '@'
}

/// `io_lib:name_char/1` for ASCII bytes; false for every byte from 128 up.
static ASCII_NAME_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'@';
        c += 1;
    }
    t
};

fn push_atom(out: &mut String, name: &str, otp_major: u32) {
    // Nearly every atom in a release is plain ASCII: decide on the bytes.
    let b = name.as_bytes();
    if b.iter().all(|&c| ASCII_NAME_CHAR[c as usize]) {
        let bare = b.first().is_some_and(u8::is_ascii_lowercase) && !is_reserved(name, otp_major);
        if bare {
            out.push_str(name);
            return;
        }
    }
    let mut cs = name.chars();
    let bare = matches!(cs.next(), Some(c) if atom_start(c)) && cs.all(name_char) && !is_reserved(name, otp_major);
    if bare {
        out.push_str(name);
    } else {
        push_quoted(out, name.chars(), '\'');
    }
}

/// `io_lib:write_string/2` (the Unicode variant): characters from 160 up are written as they
/// are, other non-printing ones as named or octal escapes.
fn push_quoted(out: &mut String, chars: impl Iterator<Item = char>, q: char) {
    out.push(q);
    for c in chars {
        push_string_char(out, c, q);
    }
    out.push(q);
}

fn push_string_char(out: &mut String, c: char, q: char) {
    let esc = match c {
        _ if c == q || c == '\\' => {
            out.push('\\');
            out.push(c);
            return;
        }
        ' '..='~' | '\u{A0}'.. => {
            out.push(c);
            return;
        }
        '\n' => 'n',
        '\r' => 'r',
        '\t' => 't',
        '\u{0B}' => 'v',
        '\u{08}' => 'b',
        '\u{0C}' => 'f',
        '\u{1B}' => 'e',
        '\u{7F}' => 'd',
        _ => {
            let v = c as u32;
            out.push('\\');
            for d in [v >> 6, (v >> 3) & 7, v & 7] {
                out.push(char::from(b'0' + d as u8));
            }
            return;
        }
    };
    out.push('\\');
    out.push(esc);
}

/// `io_lib:printable_latin1_list/1` and `io_lib:printable_unicode_list/1`, per element (also
/// `printable_char/2` of io_lib_pretty, used for UTF-8 binaries: the same sets).
fn printable(c: u32, unicode_range: bool) -> bool {
    match c {
        0x20..=0x7E | 0xA0..=0xFF => true,
        0x08..=0x0D | 0x1B => true, // \b \t \n \v \f \r and \e
        _ if unicode_range => {
            (0x100..0xD800).contains(&c) || (0xE000..0xFFFE).contains(&c) || (0x1_0000..=0x10_FFFF).contains(&c)
        }
        _ => false,
    }
}

/// The character set `printable_latin1_list` accepts: what a non-UTF-8 binary must stick to.
fn printable_latin1(b: u8) -> bool {
    printable(u32::from(b), false)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Text io_lib_pretty keeps as a plain character list (`?ATM` holds): an atom, number,
    /// string, `[]`, `{}`, `#{}` or a binary written as a string. May share a line.
    Leaf,
    /// A binary written as `<<1,2,3>>` (io_lib_pretty's `{bin, S}`): not atomic, and wrapped
    /// at commas when it does not fit.
    Bin,
    /// A non-empty list that is not printed as a string; an improper one's last child is its
    /// tail.
    List { improper: bool },
    /// A non-empty tuple; tagged when it has an atom first and at least two elements.
    Tuple { tagged: bool },
    /// A non-empty map; its children are `Pair`s.
    Map,
    /// A map association `K => V`; its children are the key and the value.
    Pair,
}

/// One sub-term in preorder: its children follow it, up to `end`.
#[derive(Clone, Copy, Debug)]
struct Node {
    kind: Kind,
    /// Width of the single-line rendering, in characters.
    len: i64,
    /// Index just past this node's subtree; also where its next sibling starts.
    end: usize,
    /// Byte range of a `Leaf`'s or `Bin`'s text in the arena.
    text: (usize, usize),
}

/// `print_length/6`: builds the node array and renders atomic text into the arena.
struct Builder {
    nodes: Vec<Node>,
    arena: String,
    unicode_range: bool,
    otp_major: u32,
}

impl Builder {
    /// Adds `t` and returns its width.
    fn build(&mut self, t: &Term) -> i64 {
        match t {
            Term::Atom(a) => {
                let otp = self.otp_major;
                self.leaf(Kind::Leaf, |s| push_atom(s, a, otp))
            }
            Term::Int(i) => self.leaf(Kind::Leaf, |s| push_display(s, i)),
            Term::Big(b) => self.leaf(Kind::Leaf, |s| push_display(s, b)),
            Term::Float(f) => self.leaf(Kind::Leaf, |s| push_float(s, *f)),
            Term::Export(m, f, arity) => {
                let otp = self.otp_major;
                self.leaf(Kind::Leaf, |s| {
                    s.push_str("fun ");
                    push_atom(s, m, otp);
                    s.push(':');
                    push_atom(s, f, otp);
                    s.push('/');
                    push_display(s, arity);
                })
            }
            Term::Opaque(_) => self.leaf(Kind::Leaf, |s| s.push_str("#Opaque<>")),
            Term::List(l) if l.is_empty() => self.leaf(Kind::Leaf, |s| s.push_str("[]")),
            Term::Tuple(l) if l.is_empty() => self.leaf(Kind::Leaf, |s| s.push_str("{}")),
            Term::Map(m) if m.is_empty() => self.leaf(Kind::Leaf, |s| s.push_str("#{}")),
            Term::List(l) => match self.as_printable(l) {
                Some(chars) => self.leaf(Kind::Leaf, |s| push_quoted(s, chars, '"')),
                None => self.compound(Kind::List { improper: false }, l.iter()),
            },
            Term::Improper(l, tail) => {
                self.compound(Kind::List { improper: true }, l.iter().chain(std::iter::once(&**tail)))
            }
            Term::Tuple(l) => {
                let tagged = l.len() > 1 && matches!(l[0], Term::Atom(_));
                self.compound(Kind::Tuple { tagged }, l.iter())
            }
            Term::Map(pairs) => {
                let at = self.open(Kind::Map);
                let mut len = 3 + pairs.len() as i64 - 1;
                for (k, v) in pairs {
                    let p = self.open(Kind::Pair);
                    let plen = self.build(k) + 4 + self.build(v);
                    self.close(p, plen);
                    len += plen;
                }
                self.close(at, len)
            }
            Term::Binary(b) => self.binary(b, None),
            Term::Bits(b, bits) => match (b.split_last(), *bits) {
                (None, _) => self.binary(&[], None),
                (Some(_), 8..) => self.binary(b, None),
                // No significant bits in the last byte: it is not part of the value.
                (Some((_, init)), 0) => self.binary(init, None),
                (Some((&last, init)), n) => self.binary(init, Some((last >> (8 - n), n))),
            },
        }
    }

    /// The characters of `l` if `printable_list/1` accepts it, i.e. it is shown as a string.
    fn as_printable<'t>(&self, l: &'t [Term]) -> Option<impl Iterator<Item = char> + 't> {
        let ok = l
            .iter()
            .all(|e| matches!(e, Term::Int(c) if u32::try_from(*c).is_ok_and(|c| printable(c, self.unicode_range))));
        // Printable code points are never surrogates, so `from_u32` cannot fail.
        ok.then(|| {
            l.iter().filter_map(|e| match e {
                Term::Int(c) => char::from_u32(*c as u32),
                _ => None,
            })
        })
    }

    fn leaf(&mut self, kind: Kind, render: impl FnOnce(&mut String)) -> i64 {
        let start = self.arena.len();
        render(&mut self.arena);
        let text = &self.arena[start..];
        let len = if text.is_ascii() { text.len() } else { text.chars().count() } as i64;
        let end = self.nodes.len() + 1;
        self.nodes.push(Node { kind, len, end, text: (start, self.arena.len()) });
        len
    }

    fn open(&mut self, kind: Kind) -> usize {
        self.nodes.push(Node { kind, len: 0, end: 0, text: (0, 0) });
        self.nodes.len() - 1
    }

    fn close(&mut self, at: usize, len: i64) -> i64 {
        let end = self.nodes.len();
        let n = &mut self.nodes[at];
        n.len = len;
        n.end = end;
        len
    }

    /// A list or tuple: two brackets, the elements, and a comma between each two (the `|`
    /// before an improper tail counts as one too).
    fn compound<'t>(&mut self, kind: Kind, items: impl Iterator<Item = &'t Term>) -> i64 {
        let at = self.open(kind);
        let mut len = 1;
        for t in items {
            len += self.build(t) + 1;
        }
        self.close(at, len)
    }

    /// A binary, with `tail` = (value, bit count) of a trailing partial byte.
    ///
    /// Follows io_lib_pretty's `print_length` for bitstrings with unlimited depth: a whole
    /// binary that is valid UTF-8 and all printable is a string, `<<"...">>` if it is ASCII,
    /// `<<"..."/utf8>>` otherwise; one that is not valid UTF-8 is a string if every byte is a
    /// printable Latin-1 character; anything else is written byte by byte.
    ///
    /// Up to OTP 27 (`printable_bin/4`) the whole binary is first checked to be valid UTF-8.
    /// From OTP 28 on (`printable_bin/5` and `printable_unicode_bin/3`) the characters are
    /// decoded one by one and the first unprintable one settles it: bytes, even when invalid
    /// UTF-8 follows that would have sent the binary to the Latin-1 check. With the latin1
    /// range that is any character from 256 up (`<<213,190,253>>` begins with U+057E), with
    /// the unicode range U+FFFE and U+FFFF (`<<239,191,190,255>>`).
    fn binary(&mut self, b: &[u8], tail: Option<(u8, u8)>) -> i64 {
        if b.is_empty() && tail.is_none() {
            return self.leaf(Kind::Leaf, |s| s.push_str("<<>>"));
        }
        if tail.is_none() {
            let range = self.unicode_range;
            let utf8 = std::str::from_utf8(b);
            // OTP 28+ decodes character by character and stops at the first unprintable one,
            // so a binary whose valid UTF-8 prefix holds one is bytes even if the rest is
            // not UTF-8; before, any invalid UTF-8 went to the Latin-1 check.
            if let (Err(e), true) = (&utf8, self.otp_major >= 28) {
                let prefix = std::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or_default();
                if !prefix.chars().all(|c| printable(c as u32, range)) {
                    return self.byte_list(b, tail);
                }
            }
            match utf8 {
                Ok(text) if text.chars().all(|c| printable(c as u32, range)) => {
                    return self.leaf(Kind::Leaf, |s| {
                        s.push_str("<<");
                        push_quoted(s, text.chars(), '"');
                        s.push_str(if text.is_ascii() { ">>" } else { "/utf8>>" });
                    });
                }
                // Valid UTF-8 with an unprintable character gets no second chance as Latin-1.
                Ok(_) => {}
                Err(_) if b.iter().all(|&c| printable_latin1(c)) => {
                    return self.leaf(Kind::Leaf, |s| {
                        s.push_str("<<");
                        push_quoted(s, b.iter().map(|&c| char::from(c)), '"');
                        s.push_str(">>");
                    });
                }
                Err(_) => {}
            }
        }
        self.byte_list(b, tail)
    }

    /// A binary written byte by byte, `<<1,2,3>>`, with `tail` as in [`Builder::binary`].
    fn byte_list(&mut self, b: &[u8], tail: Option<(u8, u8)>) -> i64 {
        self.leaf(Kind::Bin, |s| {
            s.push_str("<<");
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_display(s, byte);
            }
            if let Some((value, bits)) = tail {
                if !b.is_empty() {
                    s.push(',');
                }
                push_display(s, value);
                s.push(':');
                push_display(s, bits);
            }
            s.push_str(">>");
        })
    }
}

/// Raised by the `cind` dry run when an indentation mode would push text past the middle of
/// the line (`throw(no_good)` in Erlang).
struct NoGood;

/// A run of sibling nodes: the elements of a list or tuple, or the pairs of a map.
#[derive(Clone, Copy)]
struct Seq {
    cur: usize,
    end: usize,
    /// The last node of the run is an improper list's tail.
    improper: bool,
}

impl Seq {
    fn is_empty(self) -> bool {
        self.cur >= self.end
    }
}

/// `pp`, `cind` and `write` over the node array. Columns, widths and depths are `i64` as
/// the comparisons subtract freely.
struct Printer {
    nodes: Vec<Node>,
    arena: String,
    out: String,
    ll: i64,
    m: i64,
}

impl Printer {
    fn children(&self, i: usize) -> Seq {
        let n = &self.nodes[i];
        Seq { cur: i + 1, end: n.end, improper: n.kind == Kind::List { improper: true } }
    }

    fn rest(&self, s: Seq) -> Seq {
        Seq { cur: self.nodes[s.cur].end, ..s }
    }

    /// The current node is an improper list's tail (Erlang's non-list tail of the `If` list).
    fn at_tail(&self, s: Seq) -> bool {
        s.improper && self.nodes[s.cur].end == s.end
    }

    /// `last_depth/2`: how many closing brackets directly follow: none if more elements come.
    fn last_depth(&self, rest: Seq, ld: i64) -> i64 {
        if !rest.is_empty() && !self.at_tail(rest) {
            0
        } else {
            ld + 1
        }
    }

    fn len(&self, i: usize) -> i64 {
        self.nodes[i].len
    }

    /// `?ATM`: the node is plain text.
    fn atm(&self, i: usize) -> bool {
        self.nodes[i].kind == Kind::Leaf
    }

    /// `?ATM_PAIR`: key and value are both plain text.
    fn atm_pair(&self, p: usize) -> bool {
        let k = p + 1;
        self.atm(k) && self.atm(self.nodes[k].end)
    }

    /// The guard io_lib_pretty uses everywhere for "write it on one line".
    fn fits(&self, len: i64, col: i64, ld: i64, w: i64) -> bool {
        len < self.ll - col - ld && len + w + ld <= self.m
    }

    /// The guard of `pp_tail`/`cind_tail` (and the pair variants) for keeping element `e`
    /// on the current line after a comma; atomicity is checked by the caller.
    #[allow(clippy::int_plus_one)] // written as in io_lib_pretty
    fn fits_after(&self, e: usize, col: i64, ld1: i64, w: i64) -> bool {
        let elen = 1 + self.len(e);
        if ld1 == 0 {
            elen + 1 < self.ll - col && w + elen + 1 <= self.m
        } else {
            elen < self.ll - col - ld1 && w + elen + ld1 <= self.m
        }
    }

    fn newline(&mut self, ind: i64) {
        self.out.push('\n');
        push_spaces(&mut self.out, ind);
    }

    // ---- write: everything on one line ----

    fn write(&mut self, i: usize) {
        let n = self.nodes[i];
        match n.kind {
            Kind::Leaf | Kind::Bin => self.out.push_str(&self.arena[n.text.0..n.text.1]),
            Kind::List { .. } => {
                self.out.push('[');
                self.write_seq(self.children(i), '|');
                self.out.push(']');
            }
            Kind::Tuple { .. } => {
                self.out.push('{');
                self.write_seq(self.children(i), ',');
                self.out.push('}');
            }
            Kind::Map => {
                self.out.push_str("#{");
                self.write_seq(self.children(i), ',');
                self.out.push('}');
            }
            Kind::Pair => {
                let k = i + 1;
                self.write(k);
                self.out.push_str(" => ");
                self.write(self.nodes[k].end);
            }
        }
    }

    fn write_seq(&mut self, mut s: Seq, tail_sep: char) {
        let mut first = true;
        while !s.is_empty() {
            if !first {
                self.out.push(if self.at_tail(s) { tail_sep } else { ',' });
            }
            first = false;
            self.write(s.cur);
            s = self.rest(s);
        }
    }

    // ---- pp: the layout ----

    fn pp(&mut self, i: usize, col: i64, tind: i64, ind: i64, ld: i64, w: i64) {
        let n = self.nodes[i];
        if self.fits(n.len, col, ld, w) {
            return self.write(i);
        }
        let kids = self.children(i);
        match n.kind {
            Kind::List { .. } => {
                self.out.push('[');
                self.pp_list(kids, col + 1, tind, ind + 1, ld, '|', w + 1);
                self.out.push(']');
            }
            Kind::Tuple { tagged: true } => {
                self.out.push('{');
                self.pp_tag_tuple(kids, col, tind, ind, ld, w + 1);
                self.out.push('}');
            }
            Kind::Tuple { tagged: false } => {
                self.out.push('{');
                self.pp_list(kids, col + 1, tind, ind + 1, ld, ',', w + 1);
                self.out.push('}');
            }
            Kind::Map => {
                self.out.push_str("#{");
                // W + 1, not W + 2 as in cind: kept as in io_lib_pretty.
                self.pp_map(kids, col + 2, tind, ind + 2, ld, w + 1);
                self.out.push('}');
            }
            Kind::Bin => self.pp_binary(i, col + 2, ind + 2, ld, w),
            Kind::Leaf | Kind::Pair => self.write(i),
        }
    }

    /// A tagged tuple: the rest is aligned after `{Tag,` unless the tag is longer than the
    /// indentation mode allows, in which case it goes `TInd` columns in from the brace.
    fn pp_tag_tuple(&mut self, s: Seq, col: i64, tind: i64, ind: i64, ld: i64, w: i64) {
        let tag = s.cur;
        let tlen = self.len(tag);
        let tagind = tlen + 2;
        let tcol = col + tagind;
        let rest = self.rest(s);
        self.write(tag);
        if tind > 0 && tagind > tind {
            self.pp_tail(rest, col + tind, tcol, tind, ind + tind, ld, ',', w + tlen);
        } else {
            self.out.push(',');
            self.pp_list(rest, tcol, tind, ind + tagind, ld, ',', w + tlen + 1);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_list(&mut self, s: Seq, col0: i64, tind: i64, ind: i64, ld: i64, sep: char, w: i64) {
        let rest = self.rest(s);
        let ld1 = self.last_depth(rest, ld);
        let we = self.pp_element(s.cur, col0, tind, ind, ld1, w);
        self.pp_tail(rest, col0, col0 + we, tind, ind, ld, sep, w + we);
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_tail(&mut self, mut s: Seq, col0: i64, mut col: i64, tind: i64, ind: i64, ld: i64, sep: char, mut w: i64) {
        while !s.is_empty() {
            let e = s.cur;
            if self.at_tail(s) {
                let len = self.len(e);
                self.out.push(sep);
                if len + 1 < self.ll - col - (ld + 1) && len + 1 + w + (ld + 1) <= self.m && self.atm(e) {
                    self.write(e);
                } else {
                    self.newline(ind);
                    self.pp(e, col0, tind, ind, ld + 1, 0);
                }
                return;
            }
            let rest = self.rest(s);
            let ld1 = self.last_depth(rest, ld);
            if self.fits_after(e, col, ld1, w) && self.atm(e) {
                self.out.push(',');
                self.write(e);
                let elen = 1 + self.len(e);
                col += elen;
                w += elen;
            } else {
                self.out.push(',');
                self.newline(ind);
                // A non-atomic element reports the full line width, forcing a new line next.
                let we = self.pp_element(e, col0, tind, ind, ld1, 0);
                col = col0 + we;
                w = we;
            }
            s = rest;
        }
    }

    fn pp_element(&mut self, e: usize, col: i64, tind: i64, ind: i64, ld: i64, w: i64) -> i64 {
        let len = self.len(e);
        if self.fits(len, col, ld, w) && self.atm(e) {
            self.write(e);
            len
        } else {
            self.pp(e, col, tind, ind, ld, w);
            self.ll
        }
    }

    fn pp_map(&mut self, s: Seq, col0: i64, tind: i64, ind: i64, ld: i64, w: i64) {
        let rest = self.rest(s);
        let ld1 = self.last_depth(rest, ld);
        let pw = self.pp_pair(s.cur, col0, tind, ind, ld1, w);
        // pp_pairs_tail, which starts from W = PW (not W + PW as pp_list does).
        let (mut s, mut col, mut w) = (rest, col0 + pw, pw);
        while !s.is_empty() {
            let p = s.cur;
            let rest = self.rest(s);
            let ld1 = self.last_depth(rest, ld);
            if self.fits_after(p, col, ld1, w) && self.atm_pair(p) {
                self.out.push(',');
                self.write(p);
                let elen = 1 + self.len(p);
                col += elen;
                w += elen;
            } else {
                self.out.push(',');
                self.newline(ind);
                let pw = self.pp_pair(p, col0, tind, ind, ld1, 0);
                col = col0 + pw;
                w = pw;
            }
            s = rest;
        }
    }

    /// A pair that does not fit is written `K =>` with the value on the next line, indented
    /// by the tagged-tuple indentation (4 when that is not positive).
    fn pp_pair(&mut self, p: usize, col: i64, tind: i64, ind: i64, ld: i64, w: i64) -> i64 {
        let len = self.len(p);
        if self.fits(len, col, ld, w) {
            self.write(p);
            return if self.atm_pair(p) { len } else { self.ll };
        }
        let i = map_value_indent(tind);
        let k = p + 1;
        let v = self.nodes[k].end;
        self.pp(k, col, tind, ind, ld, w);
        self.out.push_str(" =>");
        self.newline(ind + i);
        self.pp(v, col + i, tind, ind + i, ld, 0);
        self.ll
    }

    /// `pp_binary/7`: `<<` then the bytes, breaking the line before a byte that would pass
    /// the available width `n` (at least 8 columns).
    fn pp_binary(&mut self, i: usize, col: i64, ind: i64, ld: i64, w: i64) {
        let n = 8.max((self.ll - col).min(self.m - 4 - w) - ld);
        let (start, stop) = self.nodes[i].text;
        let inner = &self.arena[start + 2..stop - 2];
        let out = &mut self.out;
        out.push_str("<<");
        let mut left = n;
        let mut pieces = inner.split(',').peekable();
        while let Some(piece) = pieces.next() {
            let plen = piece.len() as i64; // digits and ':' only
            if pieces.peek().is_some() {
                let len = plen + 1;
                if left - len < 0 {
                    out.push('\n');
                    push_spaces(out, ind);
                    left = n - len;
                } else {
                    left -= len;
                }
                out.push_str(piece);
                out.push(',');
            } else {
                // The last byte, or `Value:Bits` of a bitstring's partial byte.
                if plen > left {
                    out.push('\n');
                    push_spaces(out, ind);
                }
                out.push_str(piece);
            }
        }
        out.push_str(">>");
    }

    // ---- cind: the dry run that decides the tagged-tuple indentation ----

    fn cind(&self, i: usize, col: i64, ind: i64, ld: i64, w: i64) -> Result<(), NoGood> {
        let n = &self.nodes[i];
        if self.fits(n.len, col, ld, w) {
            return Ok(());
        }
        let kids = self.children(i);
        match n.kind {
            Kind::List { .. } | Kind::Tuple { tagged: false } => self.cind_list(kids, col + 1, ind, ld, w + 1),
            Kind::Tuple { tagged: true } => self.cind_tag_tuple(kids, col, ind, ld, w + 1),
            Kind::Map => self.cind_map(kids, col + 2, ind, ld, w + 2),
            Kind::Leaf | Kind::Bin | Kind::Pair => Ok(()),
        }
    }

    fn cind_tag_tuple(&self, s: Seq, col: i64, ind: i64, ld: i64, w: i64) -> Result<(), NoGood> {
        let tlen = self.len(s.cur);
        let tagind = tlen + 2;
        let tcol = col + tagind;
        let rest = self.rest(s);
        if ind > 0 && tagind > ind {
            let col1 = col + ind;
            if self.m + col1 <= self.ll || col1 <= self.ll / 2 {
                self.cind_tail(rest, col1, tcol, ind, ld, w + tlen)
            } else {
                Err(NoGood)
            }
        } else if self.m + tcol < self.ll || tcol < self.ll / 2 {
            self.cind_list(rest, tcol, ind, ld, w + tlen + 1)
        } else {
            Err(NoGood)
        }
    }

    fn cind_map(&self, s: Seq, col0: i64, ind: i64, ld: i64, w: i64) -> Result<(), NoGood> {
        let rest = self.rest(s);
        let pw = self.cind_pair(s.cur, col0, ind, self.last_depth(rest, ld), w)?;
        let (mut s, mut col, mut w) = (rest, col0 + pw, w + pw);
        while !s.is_empty() {
            let p = s.cur;
            let rest = self.rest(s);
            let ld1 = self.last_depth(rest, ld);
            if self.fits_after(p, col, ld1, w) && self.atm_pair(p) {
                let elen = 1 + self.len(p);
                col += elen;
                w += elen;
            } else {
                let pw = self.cind_pair(p, col0, ind, ld1, 0)?;
                col = col0 + pw;
                w = pw;
            }
            s = rest;
        }
        Ok(())
    }

    fn cind_pair(&self, p: usize, col: i64, ind: i64, ld: i64, w: i64) -> Result<i64, NoGood> {
        let len = self.len(p);
        if self.fits(len, col, ld, w) {
            return Ok(if self.atm_pair(p) { len } else { self.ll });
        }
        let k = p + 1;
        self.cind(k, col, ind, ld, w)?;
        self.cind(self.nodes[k].end, col + map_value_indent(ind), ind, ld, 0)?;
        Ok(self.ll)
    }

    fn cind_list(&self, s: Seq, col0: i64, ind: i64, ld: i64, w: i64) -> Result<(), NoGood> {
        let rest = self.rest(s);
        let we = self.cind_element(s.cur, col0, ind, self.last_depth(rest, ld), w)?;
        self.cind_tail(rest, col0, col0 + we, ind, ld, w + we)
    }

    fn cind_tail(&self, mut s: Seq, col0: i64, mut col: i64, ind: i64, ld: i64, mut w: i64) -> Result<(), NoGood> {
        while !s.is_empty() {
            let e = s.cur;
            if self.at_tail(s) {
                let len = self.len(e);
                if len + 1 < self.ll - col - (ld + 1) && len + 1 + w + (ld + 1) <= self.m && self.atm(e) {
                    return Ok(());
                }
                // Col, where pp_tail uses Col0: kept as in io_lib_pretty.
                return self.cind(e, col, ind, ld + 1, 0);
            }
            let rest = self.rest(s);
            let ld1 = self.last_depth(rest, ld);
            if self.fits_after(e, col, ld1, w) && self.atm(e) {
                let elen = 1 + self.len(e);
                col += elen;
                w += elen;
            } else {
                let we = self.cind_element(e, col0, ind, ld1, 0)?;
                col = col0 + we;
                w = we;
            }
            s = rest;
        }
        Ok(())
    }

    fn cind_element(&self, e: usize, col: i64, ind: i64, ld: i64, w: i64) -> Result<i64, NoGood> {
        let len = self.len(e);
        if self.fits(len, col, ld, w) && self.atm(e) {
            Ok(len)
        } else {
            self.cind(e, col, ind, ld, w)?;
            Ok(self.ll)
        }
    }
}

fn map_value_indent(tind: i64) -> i64 {
    if tind > 0 {
        tind
    } else {
        4
    }
}

fn push_display(out: &mut String, v: impl std::fmt::Display) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "{v}");
}

fn push_spaces(out: &mut String, n: i64) {
    const SPACES: &str = "                                                                ";
    let mut n = n.max(0) as usize;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    fn a(s: &str) -> Term {
        Term::atom(s)
    }

    fn ints(v: &[i64]) -> Term {
        Term::list(v.iter().map(|&i| Term::Int(i)))
    }

    fn p(t: &Term) -> String {
        pretty(t, false, 25)
    }

    #[test]
    fn floats_match_float_to_list_short() {
        let cases: [(f64, &str); 27] = [
            // Exact ties between two shortest candidates go to the even digit, as in Ryu.
            (2.9802322387695312e-8, "2.9802322387695312e-8"),
            (1355111725005814.2, "1355111725005814.2"),
            (-1355111725005814.2, "-1355111725005814.2"),
            (5.960464477539063e-8, "5.960464477539063e-8"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1000.0, "1.0e3"),
            (1.0e-4, "0.0001"),
            (1.0e-5, "1.0e-5"),
            (1.0e20, "1.0e20"),
            (123456789.0, "123456789.0"),
            (1234567890.0, "1234567890.0"),
            (12345678900.0, "12345678900.0"),
            (9007199254740991.0, "9007199254740991.0"),
            (9007199254740992.0, "9.007199254740992e15"),
            (4503599627370497.0, "4503599627370497.0"),
            (5.0e-324, "5.0e-324"),
            (1.7976931348623157e308, "1.7976931348623157e308"),
            (-0.001234, "-0.001234"),
            (0.30000000000000004, "0.30000000000000004"),
            (1.0e15, "1.0e15"),
            (1.0e16, "1.0e16"),
            (1.5e10, "1.5e10"),
            (123400.0, "1.234e5"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(f), want, "{f:?}");
        }
    }

    #[test]
    fn atoms_are_quoted_like_io_lib() {
        let cases = [
            ("ok", "ok"),
            ("a_B9@x", "a_B9@x"),
            ("Abc", "'Abc'"),
            ("_x", "'_x'"),
            ("a b", "'a b'"),
            ("", "''"),
            ("it's", "'it\\'s'"),
            ("a\\b", "'a\\\\b'"),
            ("é", "é"),
            ("aÄ", "aÄ"),
            ("a×b", "'a×b'"),
            ("÷", "'÷'"),
            ("αβ", "'αβ'"),
            ("a\nb", "'a\\nb'"),
            ("x\u{7f}", "'x\\d'"),
            ("x\u{80}\u{9f}", "'x\\200\\237'"),
            ("x\u{0}", "'x\\000'"),
            ("receive", "'receive'"),
            ("maybe", "maybe"),
            ("else", "else"),
        ];
        for (name, want) in cases {
            assert_eq!(write_atom(name, 25), want, "{name:?}");
        }
        assert_eq!(write_atom("maybe", 27), "'maybe'");
        assert_eq!(write_atom("else", 27), "'else'");
        assert_eq!(p(&a("Abc")), "'Abc'");
    }

    #[test]
    fn strings_depend_on_the_printable_range() {
        let s = Term::string("αβ café");
        assert_eq!(pretty(&s, false, 25), "[945,946,32,99,97,102,233]");
        assert_eq!(pretty(&s, true, 25), "\"αβ café\"");
        assert_eq!(p(&Term::string("café\n\"q\"\t\\")), "\"café\\n\\\"q\\\"\\t\\\\\"");
        // 127 and 128..159 are never printable, so such lists stay lists.
        assert_eq!(pretty(&ints(&[97, 127]), true, 25), "[97,127]");
        assert_eq!(pretty(&ints(&[97, 0xD800]), true, 25), "[97,55296]");
        assert_eq!(p(&Term::nil()), "[]");
    }

    #[test]
    fn binaries_bitstrings_and_numbers() {
        assert_eq!(p(&Term::Binary(b"abc".to_vec())), "<<\"abc\">>");
        assert_eq!(p(&Term::Binary(vec![])), "<<>>");
        assert_eq!(p(&Term::Binary("é".as_bytes().to_vec())), "<<\"é\"/utf8>>");
        assert_eq!(p(&Term::Binary(vec![233])), "<<\"é\">>");
        assert_eq!(p(&Term::Binary("α".as_bytes().to_vec())), "<<206,177>>");
        assert_eq!(pretty(&Term::Binary("α".as_bytes().to_vec()), true, 25), "<<\"α\"/utf8>>");
        assert_eq!(p(&Term::Binary(vec![0, 1])), "<<0,1>>");
        // OTP 28+: an unprintable character decoded before the invalid UTF-8 makes it bytes.
        for (bytes, unicode, old, new) in [
            (&[213u8, 190, 253][..], false, "<<\"Õ¾ý\">>", "<<213,190,253>>"),
            (&[196, 160, 255], false, "<<\"Ä\u{a0}ÿ\">>", "<<196,160,255>>"),
            (&[196, 160, 255], true, "<<\"Ä\u{a0}ÿ\">>", "<<\"Ä\u{a0}ÿ\">>"),
            (&[239, 191, 190, 255], true, "<<\"ï¿¾ÿ\">>", "<<239,191,190,255>>"),
            (&[195, 169, 255], false, "<<\"Ã©ÿ\">>", "<<\"Ã©ÿ\">>"),
            (&[97, 239, 191, 190], true, "<<97,239,191,190>>", "<<97,239,191,190>>"),
        ] {
            let b = Term::Binary(bytes.to_vec());
            assert_eq!(pretty(&b, unicode, 27), old, "{bytes:?} {unicode}");
            assert_eq!(pretty(&b, unicode, 29), new, "{bytes:?} {unicode}");
        }
        assert_eq!(p(&Term::Bits(vec![1, 0b0100_0000], 3)), "<<1,2:3>>");
        assert_eq!(p(&Term::Bits(vec![0b1010_0000], 3)), "<<5:3>>");
        assert_eq!(p(&Term::Big(BigInt::from(1u128 << 64))), "18446744073709551616");
        assert_eq!(p(&Term::Int(-42)), "-42");
        assert_eq!(p(&Term::Float(-1.5)), "-1.5");
        assert_eq!(p(&Term::Opaque(vec![88])), "#Opaque<>");
    }

    #[test]
    fn flat_compounds() {
        let t = Term::tuple([a("a"), Term::Improper(vec![Term::Int(1), Term::Int(2)], Box::new(Term::Int(3)))]);
        assert_eq!(p(&t), "{a,[1,2|3]}");
        let m = Term::Map(vec![(a("k"), Term::string("v")), (Term::Int(1), Term::tuple([]))]);
        assert_eq!(p(&m), "#{k => \"v\",1 => {}}");
        assert_eq!(p(&Term::Map(vec![])), "#{}");
        assert_eq!(
            script_text(&Term::tuple([a("script"), Term::nil()]), false, 25),
            "%% coding: utf-8\n{script,[]}.\n"
        );
    }

    #[test]
    fn long_list_wraps_and_strings_force_new_lines() {
        let mut l: Vec<Term> = (1..=30).map(Term::Int).collect();
        l.push(Term::string(&"x".repeat(90)));
        let want = format!(
            "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,\n 29,30,\n \"{}\"]",
            "x".repeat(90)
        );
        assert_eq!(p(&Term::List(l)), want);
    }

    #[test]
    fn tagged_tuple_aligns_after_the_tag() {
        let mods = [
            "application",
            "application_controller",
            "application_master",
            "application_starter",
            "auth",
            "code",
            "code_server",
        ];
        let t = Term::tuple([
            a("application"),
            a("kernel"),
            Term::list([
                Term::tuple([a("description"), Term::string("ERTS  CXC 138 10")]),
                Term::tuple([a("vsn"), Term::string("8.5.3")]),
                Term::tuple([a("modules"), Term::list(mods.iter().map(|m| a(m)))]),
                Term::tuple([
                    a("env"),
                    Term::list([
                        Term::tuple([a("logger_level"), a("notice")]),
                        Term::tuple([a("shell_docs_ansi"), a("auto")]),
                    ]),
                ]),
                Term::tuple([a("maxT"), a("infinity")]),
            ]),
        ]);
        let want = r#"{application,kernel,
             [{description,"ERTS  CXC 138 10"},
              {vsn,"8.5.3"},
              {modules,[application,application_controller,application_master,
                        application_starter,auth,code,code_server]},
              {env,[{logger_level,notice},{shell_docs_ansi,auto}]},
              {maxT,infinity}]}"#;
        assert_eq!(p(&t), want);
    }

    #[test]
    fn map_values_that_do_not_fit_go_on_the_next_line() {
        let m = Term::Map(vec![
            (a("key"), Term::list([a("a"), a("b"), a("c")])),
            (a("list"), Term::List((1..=25).map(Term::Int).collect())),
            (a("name"), Term::Binary(b"a rather long binary value that will not fit on one line at all ok".to_vec())),
        ]);
        let want = r#"#{key => [a,b,c],
  list => [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25],
  name =>
      <<"a rather long binary value that will not fit on one line at all ok">>}"#;
        assert_eq!(p(&m), want);
    }

    #[test]
    fn long_binaries_wrap_at_commas() {
        let want = "<<100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,
  119,120,121,122,123,124,125,126,127,128,129,130,131,132,133,134,135,136,137,
  138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,
  157,158,159,160>>";
        assert_eq!(p(&Term::Binary((100..=160).collect())), want);
    }

    #[test]
    fn improper_tail_that_does_not_fit() {
        let t = Term::Improper(
            vec![a("aaaa"), a("bbbb")],
            Box::new(Term::tuple([a(&"c".repeat(34)), a(&"d".repeat(38)), a(&"e".repeat(22))])),
        );
        let want = format!("[aaaa,bbbb|\n {{{},{},\n     {}}}]", "c".repeat(34), "d".repeat(38), "e".repeat(22));
        assert_eq!(p(&t), want);
    }

    #[test]
    fn deep_nesting_falls_back_to_indentation_1() {
        fn deep(n: u32) -> Term {
            if n == 0 {
                return a("leaf_value_that_is_long");
            }
            Term::tuple([a(&format!("tag_number_{n}")), deep(n - 1), Term::list([a("x"), a("y")])])
        }
        let mut want = String::from("{tag_number_12,\n");
        for (i, n) in (3..=11).rev().enumerate() {
            want += &format!("{}{{tag_number_{n},\n", " ".repeat(i + 1));
        }
        want += &format!("{}{{tag_number_2,{{tag_number_1,leaf_value_that_is_long,[x,y]}},[x,y]}},\n", " ".repeat(10));
        for i in (0..10).rev() {
            want += &format!("{}[x,y]}}", " ".repeat(i + 1));
            want += if i > 0 { ",\n" } else { "" };
        }
        assert_eq!(p(&deep(12)), want);
    }

    // ---- differential test against the running VM ----

    fn oracle_decode(bytes: &[u8]) -> Term {
        crate::term::etf::decode(bytes).expect("the oracle wrote valid ETF")
    }

    /// Maps whose pairs, as written by the VM, are not in `Term::map`'s order: a problem for
    /// the term model rather than for the printer, so only reported.
    fn map_order_mismatches(t: &Term) -> usize {
        match t {
            Term::Map(pairs) => {
                let own = usize::from(Term::map(pairs.clone()) != Term::Map(pairs.clone()));
                own + pairs.iter().map(|(k, v)| map_order_mismatches(k) + map_order_mismatches(v)).sum::<usize>()
            }
            Term::List(l) | Term::Tuple(l) => l.iter().map(map_order_mismatches).sum(),
            Term::Improper(l, t) => l.iter().map(map_order_mismatches).sum::<usize>() + map_order_mismatches(t),
            _ => 0,
        }
    }

    fn first_difference(a: &str, b: &str) -> String {
        let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let from = at.saturating_sub(120);
        let lo = |s: &str| (from..=at.min(s.len())).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        let hi = |s: &str| ((at + 80).min(s.len())..=s.len()).find(|&i| s.is_char_boundary(i)).unwrap();
        format!("first difference at byte {at}\n--- erlang:\n{}\n--- pretty:\n{}", &a[lo(a)..hi(a)], &b[lo(b)..hi(b)])
    }

    /// Overridable, with the seed, through `FASTREL_PRETTY_ORACLE_CASES` and
    /// `FASTREL_PRETTY_ORACLE_SEED` for longer fuzzing runs.
    const CASES: usize = 500;

    #[test]
    fn matches_the_vm_on_random_terms_and_real_scripts() {
        if crate::term::oracle::escript_on_path().is_none() {
            return;
        }
        let escript = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pretty_oracle.escript");
        let env = |k: &str, default: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        let cases = env("FASTREL_PRETTY_ORACLE_CASES", CASES);
        let seed = env("FASTREL_PRETTY_ORACLE_SEED", 1);
        let base = std::env::temp_dir().join(format!("fastrel_pretty_oracle_{}", std::process::id()));
        let runs: Vec<(bool, std::path::PathBuf, std::process::Child)> = [false, true]
            .into_iter()
            .filter_map(|unicode| {
                let dir = base.join(if unicode { "unicode" } else { "latin1" });
                let child = std::process::Command::new("escript")
                    .arg(escript)
                    .arg(&dir)
                    .arg(cases.to_string())
                    .arg(seed.to_string())
                    .env("ERL_FLAGS", if unicode { "+pc unicode" } else { "" })
                    .spawn()
                    .ok()?;
                Some((unicode, dir, child))
            })
            .collect();
        assert_eq!(runs.len(), 2, "escript did not start");
        let mut failures = Vec::new();
        let mut checked = 0;
        let mut map_notes = 0;
        for (unicode, dir, mut child) in runs {
            assert!(child.wait().unwrap().success(), "oracle escript failed");
            let range = std::fs::read_to_string(dir.join("range.txt")).unwrap();
            assert_eq!(range, if unicode { "unicode" } else { "latin1" }, "ERL_FLAGS not honoured");
            let otp: u32 = std::fs::read_to_string(dir.join("otp.txt")).unwrap().trim().parse().unwrap();
            for i in 1..=cases {
                let etf = std::fs::read(dir.join(format!("{i}.etf"))).unwrap();
                let want = std::fs::read_to_string(dir.join(format!("{i}.txt"))).unwrap();
                let t = oracle_decode(&etf);
                map_notes += map_order_mismatches(&t);
                let got = pretty(&t, unicode, otp);
                if got != want {
                    failures.push(format!("{range} case {i}: {}", first_difference(&want, &got)));
                }
                checked += 1;
            }
            let etf = std::fs::read(dir.join("floats.etf")).unwrap();
            let want = std::fs::read_to_string(dir.join("floats.txt")).unwrap();
            let got = pretty(&oracle_decode(&etf), unicode, otp);
            if got != want {
                failures.push(format!("{range} floats: {}", first_difference(&want, &got)));
            }
            checked += 1;
            for name in ["r", "big"] {
                let boot = std::fs::read(dir.join(format!("{name}.boot"))).unwrap();
                let want = std::fs::read_to_string(dir.join(format!("{name}.script"))).unwrap();
                let t = oracle_decode(&boot);
                let started = std::time::Instant::now();
                let got = script_text(&t, unicode, otp);
                let took = started.elapsed();
                if got != want {
                    failures.push(format!("{range} {name}.script: {}", first_difference(&want, &got)));
                }
                eprintln!("{range} {name}.script: {} bytes formatted in {took:?}", got.len());
                checked += 1;
            }
        }
        if map_notes > 0 {
            eprintln!("note: {map_notes} maps decoded in an order Term::map would not produce");
        }
        assert!(
            failures.is_empty(),
            "{} of {checked} differ (oracle files kept in {}):\n{}",
            failures.len(),
            base.display(),
            failures[..failures.len().min(5)].join("\n\n")
        );
        eprintln!("{checked} renderings identical to the VM's");
        let _ = std::fs::remove_dir_all(&base);
    }
}
