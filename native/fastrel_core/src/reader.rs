// SPDX-License-Identifier: Apache-2.0
//! A reader for Erlang term text: what `file:consult/1` and `systools_lib:read_term/1`
//! read from `.rel`, `.app`, `.script` and `sys.config` files.
//!
//! It follows the two OTP stages it replaces. The scanner is a transcription of
//! `erl_scan` (token rules, escapes, digit separators, the exact set of characters that
//! are white space or letters, where lines advance). The parser accepts what
//! `erl_parse:parse_term/1` accepts: the term subset of the expression grammar, plus the
//! few expressions `parse_term` folds into terms — unary `-`/`+` on a number literal,
//! parenthesised expressions, adjacent string literals, `fun M:F/A` and binaries built
//! with `eval_bits` semantics.
//!
//! Like `io:request(..., {get_until, ..., erl_scan, tokens, ...})`, a form's tokens are
//! all scanned up to its terminating dot before its parse result counts, so a scan error
//! anywhere in a form beats a syntax error earlier in the same form. Scanning is lazy
//! beyond that: bytes after the first form's dot are never looked at by
//! [`read_first_term`].
//!
//! Deliberate differences from OTP, none of which can change a successfully read term:
//!
//! * A form that is complete but for its terminating dot, at the end of the input, is a
//!   [`ReadErrorKind::Scan`] error; OTP reports it from `erl_parse` as
//!   `syntax error before: ` (on the same line, that of the last token). A form with an
//!   actual syntax error is a [`ReadErrorKind::Parse`] error, dot or no dot, as in OTP.
//! * Operators other than unary `-`/`+` (`1 + 2`, `a = b`, calls, records...) are syntax
//!   errors here, where OTP parses them and then rejects them as "bad term": same
//!   outcome, possibly on a different line.
//! * Nesting deeper than [`MAX_DEPTH`] and binaries over [`MAX_BINARY_BITS`] are
//!   rejected, so that hostile input cannot exhaust the stack or memory.
//! * Two string literals with nothing between them (`"a""b"`) concatenate up to OTP 26
//!   and are a scan error (`string_concat`) from OTP 27 on; a number followed at once by
//!   a name character (`8x`, `1.5e3x`, `8.x`) is two tokens up to OTP 27 and a scan error
//!   (`illegal integer`/`float`) on OTP 29; `maybe` and `else` are reserved words from
//!   OTP 27, when `\^X` also stops taking any character. [`set_scanner_rules`] tells the reader which OTP it stands in for.

use crate::term::{map_key_cmp, Term};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

/// What the running OTP's `erl_scan` does where releases differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannerRules {
    /// `"a""b"` reads as `"ab"` (OTP 25, 26) rather than failing (OTP 27+).
    pub adjacent_strings: bool,
    /// `8x` is `8` then `x` (OTP 25 to 27) rather than an error (OTP 29).
    pub name_after_number: bool,
    /// `maybe` and `else` are reserved words (OTP 27+) rather than atoms.
    pub maybe_else_reserved: bool,
    /// `\^X` takes only `?`, `@`..`_` and `a`..`z` (OTP 27+) rather than any character.
    pub caret_strict: bool,
}

impl ScannerRules {
    /// OTP 25's scanner: what the reader does until told otherwise.
    pub const OTP25: ScannerRules = ScannerRules {
        adjacent_strings: true,
        name_after_number: true,
        maybe_else_reserved: false,
        caret_strict: false,
    };
}

static ADJACENT_STRINGS: AtomicBool = AtomicBool::new(true);
static NAME_AFTER_NUMBER: AtomicBool = AtomicBool::new(true);
static MAYBE_ELSE_RESERVED: AtomicBool = AtomicBool::new(false);
static CARET_STRICT: AtomicBool = AtomicBool::new(false);

/// Makes the reader follow the running VM's `erl_scan`. The NIF sets the rules from what
/// that VM's scanner does, once; they hold for the whole library (one VM per process).
pub fn set_scanner_rules(rules: ScannerRules) {
    ADJACENT_STRINGS.store(rules.adjacent_strings, AtomicOrdering::Relaxed);
    NAME_AFTER_NUMBER.store(rules.name_after_number, AtomicOrdering::Relaxed);
    MAYBE_ELSE_RESERVED.store(rules.maybe_else_reserved, AtomicOrdering::Relaxed);
    CARET_STRICT.store(rules.caret_strict, AtomicOrdering::Relaxed);
}

#[cfg(test)]
thread_local! {
    /// A test's own setting, so that tests checking against different OTPs' readers can
    /// run side by side in one process.
    pub(crate) static SCANNER_RULES_HERE: std::cell::Cell<Option<ScannerRules>> = const { std::cell::Cell::new(None) };
}

fn scanner_rules() -> ScannerRules {
    #[cfg(test)]
    if let Some(v) = SCANNER_RULES_HERE.with(std::cell::Cell::get) {
        return v;
    }
    ScannerRules {
        adjacent_strings: ADJACENT_STRINGS.load(AtomicOrdering::Relaxed),
        name_after_number: NAME_AFTER_NUMBER.load(AtomicOrdering::Relaxed),
        maybe_else_reserved: MAYBE_ELSE_RESERVED.load(AtomicOrdering::Relaxed),
        caret_strict: CARET_STRICT.load(AtomicOrdering::Relaxed),
    }
}
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::cmp::Ordering;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadErrorKind {
    /// The scanner failed (bad token), or the input ended before a terminating dot.
    #[error("{0}")]
    Scan(String),
    /// The tokens do not form a term.
    #[error("{0}")]
    Parse(String),
    /// No term at all.
    #[error("unexpected end of file")]
    Eof,
}

/// A read error with its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct ReadError {
    /// File name as given.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// What.
    pub kind: ReadErrorKind,
}

/// The deepest nesting of tuples, lists, maps, binaries, parentheses and unary operators
/// the reader accepts; deeper input is a [`ReadErrorKind::Parse`] error (`nesting too
/// deep`). Parsing itself is iterative; the limit, the same for every entry point, is there
/// for what walks the term afterwards (see its definition).
pub use crate::term::MAX_DEPTH;

/// The largest binary, in bits (16 MiB), the reader builds from `<<...>>` text; larger
/// ones are rejected as a bad term instead of allocating whatever `<<0:Size>>` asks for.
pub const MAX_BINARY_BITS: u64 = 1 << 27;

/// Reads the first dot-terminated term, like `systools_lib:read_term/1`.
///
/// Whatever follows the first form's dot is ignored, even if it would not scan.
/// Empty input (or only comments and white space) is [`ReadErrorKind::Eof`].
pub fn read_first_term(src: &[u8], file: &str) -> Result<Term, ReadError> {
    let mut p = Parser::new(src);
    match p.next_form() {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(ReadError { file: file.into(), line: p.sc.line, kind: ReadErrorKind::Eof }),
        Err(f) => Err(f.into_error(file)),
    }
}

/// Reads every dot-terminated term, like `file:consult/1`. An empty file gives no terms.
pub fn read_all_terms(src: &[u8], file: &str) -> Result<Vec<Term>, ReadError> {
    let mut p = Parser::new(src);
    let mut terms = Vec::new();
    loop {
        match p.next_form() {
            Ok(Some(t)) => terms.push(t),
            Ok(None) => return Ok(terms),
            Err(f) => return Err(f.into_error(file)),
        }
    }
}

/// The atoms of `src` in the order `erl_scan` makes them (the order `file:consult/1`
/// adds them to the atom table), up to the first scan error.
pub fn atoms_in_source(src: &[u8]) -> Vec<String> {
    let mut sc = Scanner::new(src);
    let mut out = Vec::new();
    while let Ok(Token { tok, .. }) = sc.next_token() {
        match tok {
            Tok::Atom(a) => out.push(a),
            Tok::Eof => break,
            _ => {}
        }
    }
    out
}

/// An error before the file name is known. `drain` marks a syntax error found before the
/// form's end: the rest of the form must still be scanned, as a scan error there wins.
#[derive(Debug)]
struct Fail {
    line: u32,
    kind: ReadErrorKind,
    drain: bool,
}

impl Fail {
    fn scan(line: u32, msg: impl Into<String>) -> Fail {
        Fail { line, kind: ReadErrorKind::Scan(msg.into()), drain: false }
    }

    fn parse(line: u32, msg: impl Into<String>) -> Fail {
        Fail { line, kind: ReadErrorKind::Parse(msg.into()), drain: false }
    }

    /// A character that may not appear where it does; for the sentinel of undecodable
    /// input the real problem is the encoding.
    fn illegal(line: u32, c: u32) -> Fail {
        Fail::scan(line, if c == BAD { "invalid UTF-8" } else { "illegal character" })
    }

    fn into_error(self, file: &str) -> ReadError {
        ReadError { file: file.into(), line: self.line, kind: self.kind }
    }
}

// ---------------------------------------------------------------------------------------
// Encoding

/// Whether the file declares itself Latin-1, by `epp:read_encoding_from_binary/1`'s
/// rules: a `coding: NAME` or `coding = NAME` inside a `%` comment on one of the first two
/// lines, NAME compared case-insensitively by its `-`-separated parts (`latin-1` and
/// `utf-8` count, `latin1` does not). epp looks at no more than the first 512 bytes and
/// gives up at the first `coding:` whose name it does not know.
fn declares_latin1(src: &[u8]) -> bool {
    // epp reads 32-byte chunks, at most 16 of them; needing more means "no declaration".
    const LIMIT: usize = 512;
    let at = |i: usize| -> Result<Option<u8>, ()> {
        if i >= LIMIT {
            Err(())
        } else {
            Ok(src.get(i).copied())
        }
    };
    // Outside epp's `com_enc` state, running out of file is the same as hitting the limit:
    // epp keeps asking for more until its chunk budget is gone.
    let byte = |i: usize| -> Option<u8> { at(i).ok().flatten() };
    let mut i = 0;
    let mut line = 0;
    'line: while line < 2 {
        // Not in a comment: look for `%`.
        loop {
            match byte(i) {
                None => return false,
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    continue 'line;
                }
                Some(b'%') => {
                    i += 1;
                    break;
                }
                Some(_) => i += 1,
            }
        }
        // In a comment: look for `coding` followed by `:` or `=`.
        loop {
            match byte(i) {
                None => return false,
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    continue 'line;
                }
                Some(b'c') => {
                    i += 1;
                    let mut word = [0u8; 5];
                    for (k, w) in word.iter_mut().enumerate() {
                        match byte(i + k) {
                            Some(b) => *w = b,
                            None => return false,
                        }
                    }
                    if &word != b"oding" {
                        continue;
                    }
                    i += 5;
                    while byte(i) == Some(b' ') {
                        i += 1;
                    }
                    match byte(i) {
                        None => return false,
                        Some(b':' | b'=') => i += 1,
                        Some(_) => continue,
                    }
                    while byte(i) == Some(b' ') {
                        i += 1;
                    }
                    if byte(i).is_none() {
                        return false;
                    }
                    let mut parts: Vec<Vec<u8>> = vec![Vec::new()];
                    loop {
                        match at(i) {
                            Err(()) => return false,
                            Ok(Some(b)) if b.is_ascii_alphanumeric() => {
                                if let Some(p) = parts.last_mut() {
                                    p.push(b.to_ascii_lowercase());
                                }
                            }
                            Ok(Some(b'-')) => parts.push(Vec::new()),
                            Ok(_) => break,
                        }
                        i += 1;
                    }
                    return parts.len() >= 2 && parts[0] == b"latin" && parts[1] == b"1";
                }
                Some(_) => i += 1,
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------------------
// Scanner

/// Stands for the first undecodable byte in UTF-8 input. It is no character erl_scan
/// accepts anywhere, so every context rejects it through its ordinary error path, and
/// the error is then reported as invalid UTF-8.
const BAD: u32 = u32::MAX;

// A word-sized tag keeps the payload word-aligned, so that tokens move as whole words:
// with the default layout they were copied at byte offsets, which defeats store-to-load
// forwarding and made scanning ~40% slower.
#[derive(Debug, Clone, PartialEq)]
#[repr(u64)]
enum Tok {
    Atom(String),
    Var(String),
    /// A string literal's characters, already as list elements.
    Str(Vec<Term>),
    Char(u32),
    /// `Term::Int` or `Term::Big`.
    Int(Term),
    Float(f64),
    Reserved(&'static str),
    /// Punctuation and operators, as erl_scan splits them.
    Punct(&'static str),
    /// Any other single character up to 255 (erl_scan makes those one-character atoms).
    Other(u32),
    Dot,
    Eof,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: u32,
}

const RESERVED: [&str; 27] = [
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond", "div",
    "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor",
];

fn reserved(name: &str) -> Option<&'static str> {
    // Cheap rejection first: most atoms are longer than any reserved word or start
    // with a letter none of them starts with.
    if name.len() > 7
        || !matches!(name.as_bytes().first(), Some(b'a'..=b'f' | b'i' | b'l' | b'n' | b'o' | b'r' | b't' | b'w' | b'x'))
    {
        return None;
    }
    RESERVED.iter().copied().find(|w| *w == name)
}

/// erl_scan's `?WHITE_SPACE`.
fn is_white(c: u32) -> bool {
    c <= 32 || (128..=160).contains(&c)
}

/// erl_scan's `?UNICODE`: what may appear in strings, quoted atoms, comments and `$c`.
fn is_unicode(c: u32) -> bool {
    c < 0xD800 || (c > 0xDFFF && c < 0xFFFE) || (c > 0xFFFF && c <= 0x10FFFF)
}

fn is_lower(c: u32) -> bool {
    (u32::from(b'a')..=u32::from(b'z')).contains(&c) || ((0xDF..=0xFF).contains(&c) && c != 0xF7)
}

fn is_upper(c: u32) -> bool {
    (u32::from(b'A')..=u32::from(b'Z')).contains(&c) || ((0xC0..=0xDE).contains(&c) && c != 0xD7)
}

fn is_name_char(c: u32) -> bool {
    is_lower(c) || is_upper(c) || (u32::from(b'0')..=u32::from(b'9')).contains(&c) || c == 0x5F || c == 0x40
}

/// ASCII letters, digits, `_` and `@`, as a table: name scanning is the scanner's
/// hottest loop.
static ASCII_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'@';
        b += 1;
    }
    t
};

#[inline]
fn is_ascii_name_byte(b: u8) -> bool {
    ASCII_NAME[usize::from(b)]
}

fn hex_val(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// The value of `\C` for a character C that is not one of the structured escapes.
fn escape_char(c: u32) -> u32 {
    match char::from_u32(c) {
        Some('n') => 10,
        Some('r') => 13,
        Some('t') => 9,
        Some('v') => 11,
        Some('b') => 8,
        Some('f') => 12,
        Some('e') => 27,
        Some('s') => 32,
        Some('d') => 127,
        _ => c,
    }
}

/// Why an escape sequence could not be read.
enum EscErr {
    /// Input ended inside it: the enclosing string or character is unterminated.
    Eof,
    /// A character that does not fit the escape.
    Illegal(u32),
}

/// Where the characters of a string or quoted atom go.
trait CharSink {
    fn push_ascii(&mut self, s: &[u8]);
    fn push_str(&mut self, s: &str);
    /// `c` is always a Unicode scalar value.
    fn push(&mut self, c: u32);
}

impl CharSink for String {
    fn push_ascii(&mut self, s: &[u8]) {
        self.extend(s.iter().map(|&b| char::from(b)));
    }
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    fn push(&mut self, c: u32) {
        self.extend(char::from_u32(c));
    }
}

/// Strings become lists of code points directly, with no intermediate `String`.
impl CharSink for Vec<Term> {
    fn push_ascii(&mut self, s: &[u8]) {
        self.extend(s.iter().map(|&b| Term::Int(i64::from(b))));
    }
    fn push_str(&mut self, s: &str) {
        self.reserve(s.len());
        self.extend(s.chars().map(|c| Term::Int(i64::from(u32::from(c)))));
    }
    fn push(&mut self, c: u32) {
        Vec::push(self, Term::Int(i64::from(c)));
    }
}

struct Scanner<'a> {
    src: &'a [u8],
    /// Bytes from here on are not decodable (UTF-8 mode); `src.len()` if all are.
    valid: usize,
    /// `src[..valid]`, validated once, in UTF-8 mode (empty in Latin-1 mode).
    text: &'a str,
    latin1: bool,
    /// `"a""b"` concatenates (OTP 25, 26) rather than failing (OTP 27+).
    adjacent_strings: bool,
    /// `8x` is two tokens (OTP 25 to 27) rather than an error (OTP 29).
    name_after_number: bool,
    /// `maybe` and `else` are reserved words (OTP 27+).
    maybe_else_reserved: bool,
    /// `\^X` takes only `?`, `@`..`_`, `a`..`z` (OTP 27+).
    caret_strict: bool,
    pos: usize,
    line: u32,
    /// Line of the last token returned: where a missing dot is reported.
    last_line: u32,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a [u8]) -> Scanner<'a> {
        let latin1 = declares_latin1(src);
        let (text, valid) = if latin1 {
            ("", src.len())
        } else {
            match std::str::from_utf8(src) {
                Ok(text) => (text, src.len()),
                Err(e) => {
                    let valid = e.valid_up_to();
                    (std::str::from_utf8(src.get(..valid).unwrap_or_default()).unwrap_or_default(), valid)
                }
            }
        };
        let ScannerRules { adjacent_strings, name_after_number, maybe_else_reserved, caret_strict } = scanner_rules();
        Scanner {
            src,
            valid,
            text,
            latin1,
            adjacent_strings,
            name_after_number,
            maybe_else_reserved,
            caret_strict,
            pos: 0,
            line: 1,
            last_line: 1,
        }
    }

    /// The character at byte `at` and its length in bytes; `None` at the end of input.
    #[inline]
    fn char_at(&self, at: usize) -> Option<(u32, usize)> {
        let b0 = *self.src.get(at)?;
        if at >= self.valid {
            return Some((BAD, 1));
        }
        if b0 < 0x80 || self.latin1 {
            return Some((u32::from(b0), 1));
        }
        // Below `valid` the input is known to be well-formed UTF-8.
        let cont = |k: usize| u32::from(self.src.get(at + k).copied().unwrap_or(0x80) & 0x3F);
        let b0 = u32::from(b0);
        Some(if b0 < 0xE0 {
            (((b0 & 0x1F) << 6) | cont(1), 2)
        } else if b0 < 0xF0 {
            (((b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
        } else {
            (((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3), 4)
        })
    }

    /// The byte at `at` if it is a decodable ASCII character, else 0 (which no
    /// lookahead in the scanner is looking for).
    #[inline]
    fn ascii(&self, at: usize) -> u8 {
        match self.src.get(at) {
            Some(&b) if b < 0x80 && at < self.valid => b,
            _ => 0,
        }
    }

    fn next_token(&mut self) -> Result<Token, Fail> {
        let tok = self.scan()?;
        if !matches!(tok.tok, Tok::Eof) {
            self.last_line = tok.line;
        }
        Ok(tok)
    }

    fn scan(&mut self) -> Result<Token, Fail> {
        loop {
            let Some(&b) = self.src.get(self.pos) else {
                return Ok(Token { tok: Tok::Eof, line: self.line });
            };
            if b < 0x80 && self.pos < self.valid {
                match b {
                    b'\n' => {
                        self.line += 1;
                        self.pos += 1;
                    }
                    0..=32 => self.pos += 1,
                    b'%' => self.skip_comment()?,
                    b'a'..=b'z' => return self.name(false),
                    b'A'..=b'Z' | b'_' => return self.name(true),
                    b'0'..=b'9' => return self.number(),
                    b'.' => return Ok(self.dot()),
                    b'"' => return self.string(),
                    b'\'' => return self.quoted_atom(),
                    b'$' => return self.char_literal(),
                    _ => return Ok(self.punct(b)),
                }
            } else {
                let Some((c, n)) = self.char_at(self.pos) else {
                    return Ok(Token { tok: Tok::Eof, line: self.line });
                };
                if is_white(c) {
                    self.pos += n;
                } else if is_lower(c) {
                    return self.name(false);
                } else if is_upper(c) {
                    return self.name(true);
                } else if c <= 0xFF {
                    let line = self.line;
                    self.pos += n;
                    return Ok(Token { tok: Tok::Other(c), line });
                } else {
                    return Err(Fail::illegal(self.line, c));
                }
            }
        }
    }

    /// Skips `%...` up to (not including) the newline. Comment text must still be valid
    /// characters.
    fn skip_comment(&mut self) -> Result<(), Fail> {
        self.pos += 1;
        while let Some(&b) = self.src.get(self.pos) {
            if b == b'\n' {
                break;
            }
            if self.pos >= self.valid {
                return Err(Fail::illegal(self.line, BAD));
            }
            // U+FFFE and U+FFFF (EF BF BE/BF) are the only decodable non-characters.
            if b == 0xEF && !self.latin1 {
                if let Some((c, _)) = self.char_at(self.pos) {
                    if !is_unicode(c) {
                        return Err(Fail::illegal(self.line, c));
                    }
                }
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// An unquoted atom, a reserved word or a variable.
    fn name(&mut self, var: bool) -> Result<Token, Fail> {
        let line = self.line;
        let start = self.pos;
        // ASCII names are the norm: take them in one sweep.
        let rest = self.src.get(start..self.valid).unwrap_or_default();
        let mut count = rest.iter().position(|&b| !is_ascii_name_byte(b)).unwrap_or(rest.len());
        self.pos += count;
        if rest.get(count).is_some_and(|&b| b >= 0x80) {
            loop {
                let b = self.ascii(self.pos);
                if is_ascii_name_byte(b) {
                    self.pos += 1;
                } else {
                    match self.char_at(self.pos) {
                        Some((c, n)) if c >= 0x80 && is_name_char(c) => self.pos += n,
                        _ => break,
                    }
                }
                count += 1;
            }
        }
        // list_to_atom/1 refuses names longer than 255 characters.
        if count > 255 {
            return Err(Fail::scan(line, if var { "illegal variable" } else { "illegal atom" }));
        }
        let s = self.text(start);
        let tok = if var {
            Tok::Var(s)
        } else if let Some(w) = reserved(&s) {
            Tok::Reserved(w)
        } else if self.maybe_else_reserved && (s == "maybe" || s == "else") {
            Tok::Reserved(if s == "maybe" { "maybe" } else { "else" })
        } else {
            Tok::Atom(s)
        };
        Ok(Token { tok, line })
    }

    /// The characters from byte `start` to `pos`, which the caller has checked.
    fn text(&self, start: usize) -> String {
        if self.latin1 {
            let bytes = self.src.get(start..self.pos).unwrap_or_default();
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            // Below `valid`, and cut at character boundaries, so this always succeeds.
            self.text.get(start..self.pos).unwrap_or_default().to_owned()
        }
    }

    /// Skips a run of digits in `base`, with digit separators: `_` counts only between
    /// two digits of the run. Sets `seps` if there was one.
    fn skip_digits(&mut self, base: u32, seps: &mut bool) {
        let is_digit = |b: u8| (b as char).is_digit(base);
        let mut any = false;
        loop {
            let b = self.ascii(self.pos);
            if is_digit(b) {
                self.pos += 1;
                any = true;
            } else if b == b'_' && any && is_digit(self.ascii(self.pos + 1)) {
                self.pos += 1;
                *seps = true;
            } else {
                return;
            }
        }
    }

    /// The ASCII text from byte `start` to `pos`, digit separators removed.
    fn digit_text(&self, start: usize, seps: bool) -> std::borrow::Cow<'a, str> {
        // Digits are ASCII, so in both modes one byte is one character.
        let bytes = self.src.get(start..self.pos).unwrap_or_default();
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        if seps {
            text.replace('_', "").into()
        } else {
            text.into()
        }
    }

    fn number(&mut self) -> Result<Token, Fail> {
        let tok = self.number_token()?;
        if !self.name_after_number {
            // erl_scan's NAMECHAR: in effect ASCII only (its Latin-1 range is empty).
            let name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'@';
            let next = self.ascii(self.pos);
            let float = matches!(tok.tok, Tok::Float(_)) || (next == b'.' && name(self.ascii(self.pos + 1)));
            if name(next) || (next == b'.' && name(self.ascii(self.pos + 1))) {
                return Err(Fail::scan(tok.line, if float { "illegal float" } else { "illegal integer" }));
            }
        }
        Ok(tok)
    }

    fn number_token(&mut self) -> Result<Token, Fail> {
        let line = self.line;
        let start = self.pos;
        let mut seps = false;
        self.skip_digits(10, &mut seps);
        match (self.ascii(self.pos), self.ascii(self.pos + 1)) {
            (b'.', d) if d.is_ascii_digit() => {
                self.pos += 1;
                self.skip_digits(10, &mut seps);
                if matches!(self.ascii(self.pos), b'e' | b'E') {
                    self.pos += 1;
                    if matches!(self.ascii(self.pos), b'+' | b'-') {
                        self.pos += 1;
                    }
                    self.skip_digits(10, &mut seps);
                }
                // list_to_float/1 rejects a missing exponent (`1.0e`) and overflow alike;
                // underflow is fine (`1.0e-400` is 0.0).
                match self.digit_text(start, seps).parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(Token { tok: Tok::Float(f), line }),
                    _ => Err(Fail::scan(line, "illegal float")),
                }
            }
            (b'#', _) => {
                let text = self.digit_text(start, seps);
                let base = text.parse::<u32>().unwrap_or(u32::MAX);
                if !(2..=36).contains(&base) {
                    return Err(Fail::scan(line, format!("illegal base {text}")));
                }
                self.pos += 1;
                let digits_start = self.pos;
                let mut seps = false;
                self.skip_digits(base, &mut seps);
                match parse_int(&self.digit_text(digits_start, seps), base) {
                    Some(t) => Ok(Token { tok: Tok::Int(t), line }),
                    None => Err(Fail::scan(line, "illegal integer")),
                }
            }
            _ => match parse_int(&self.digit_text(start, seps), 10) {
                Some(t) => Ok(Token { tok: Tok::Int(t), line }),
                None => Err(Fail::scan(line, "illegal integer")),
            },
        }
    }

    /// `.` is a full stop when followed by white space, `%` or the end of input.
    fn dot(&mut self) -> Token {
        let line = self.line;
        if self.ascii(self.pos + 1) == b'.' {
            let three = self.ascii(self.pos + 2) == b'.';
            self.pos += if three { 3 } else { 2 };
            return Token { tok: Tok::Punct(if three { "..." } else { ".." }), line };
        }
        self.pos += 1;
        match self.char_at(self.pos) {
            None => {}
            Some((0x25, _)) => {}
            Some((c, n)) if is_white(c) => {
                self.pos += n;
                if c == 0x0A {
                    self.line += 1;
                }
            }
            Some(_) => return Token { tok: Tok::Punct("."), line },
        }
        Token { tok: Tok::Dot, line }
    }

    fn punct(&mut self, b: u8) -> Token {
        let line = self.line;
        let next = self.ascii(self.pos + 1);
        // Longest match first, in erl_scan's order (so `=<<` is `=<`, `<`).
        let p: &'static str = match (b, next) {
            (b',', _) => ",",
            (b'{', _) => "{",
            (b'}', _) => "}",
            (b'[', _) => "[",
            (b']', _) => "]",
            (b'(', _) => "(",
            (b')', _) => ")",
            (b';', _) => ";",
            (b'?', b'=') => "?=",
            (b'<', b'<') => "<<",
            (b'<', b'-') => "<-",
            (b'<', b'=') => "<=",
            (b'>', b'>') => ">>",
            (b'>', b'=') => ">=",
            (b'-', b'>') => "->",
            (b'-', b'-') => "--",
            (b'+', b'+') => "++",
            (b'=', b':' | b'/') if self.ascii(self.pos + 2) == b'=' => {
                if next == b':' {
                    "=:="
                } else {
                    "=/="
                }
            }
            (b'=', b'<') => "=<",
            (b'=', b'>') => "=>",
            (b'=', b'=') => "==",
            (b'/', b'=') => "/=",
            (b'|', b'|') => "||",
            (b':', b'=') => ":=",
            (b':', b':') => "::",
            (b'=', _) => "=",
            (b':', _) => ":",
            (b'|', _) => "|",
            (b'#', _) => "#",
            (b'/', _) => "/",
            (b'?', _) => "?",
            (b'-', _) => "-",
            (b'+', _) => "+",
            (b'*', _) => "*",
            (b'<', _) => "<",
            (b'>', _) => ">",
            (b'!', _) => "!",
            (b'@', _) => "@",
            (b'\\', _) => "\\",
            (b'^', _) => "^",
            (b'`', _) => "`",
            (b'~', _) => "~",
            (b'&', _) => "&",
            _ => {
                self.pos += 1;
                return Token { tok: Tok::Other(u32::from(b)), line };
            }
        };
        self.pos += p.len();
        Token { tok: Tok::Punct(p), line }
    }

    /// The escape sequence starting at the backslash under `pos`, as erl_scan's
    /// `scan_escape`.
    fn escape(&mut self) -> Result<u32, EscErr> {
        self.pos += 1;
        let Some((c, n)) = self.char_at(self.pos) else { return Err(EscErr::Eof) };
        let is_oct = |b: u8| (b'0'..=b'7').contains(&b);
        match c {
            0x30..=0x37 => {
                let mut v = 0;
                for _ in 0..3 {
                    let b = self.ascii(self.pos);
                    if !is_oct(b) {
                        break;
                    }
                    v = v * 8 + u32::from(b - b'0');
                    self.pos += 1;
                }
                Ok(v)
            }
            0x78 => {
                // \xHH or \x{H...}
                self.pos += 1;
                match self.char_at(self.pos) {
                    None => Err(EscErr::Eof),
                    Some((0x7B, _)) => {
                        self.pos += 1;
                        let (mut v, mut digits) = (0u32, 0usize);
                        while let Some(d) = hex_val(self.ascii(self.pos)) {
                            v = v.saturating_mul(16).saturating_add(d);
                            digits += 1;
                            self.pos += 1;
                        }
                        match self.char_at(self.pos) {
                            None => Err(EscErr::Eof),
                            Some((0x7D, _)) => {
                                self.pos += 1;
                                if digits > 0 && is_unicode(v) {
                                    Ok(v)
                                } else {
                                    Err(EscErr::Illegal(0x7D))
                                }
                            }
                            Some((c, _)) => Err(EscErr::Illegal(c)),
                        }
                    }
                    Some((c, _)) => match (hex_val(self.ascii(self.pos)), hex_val(self.ascii(self.pos + 1))) {
                        (Some(h1), Some(h2)) => {
                            self.pos += 2;
                            Ok(h1 * 16 + h2)
                        }
                        _ => Err(EscErr::Illegal(c)),
                    },
                }
            }
            0x5E => {
                // \^C is control-C: any character, masked to five bits.
                self.pos += 1;
                match self.char_at(self.pos) {
                    None => Err(EscErr::Eof),
                    Some((BAD, _)) => Err(EscErr::Illegal(BAD)),
                    Some((c, n)) => {
                        if self.caret_strict {
                            // OTP 27+: \^? is DEL, \^@..\^_ and \^a..\^z control
                            // characters, anything else illegal.
                            return match c {
                                0x3F => {
                                    self.pos += n;
                                    Ok(0x7F)
                                }
                                0x40..=0x5F | 0x61..=0x7A => {
                                    self.pos += n;
                                    Ok(c & 31)
                                }
                                _ => Err(EscErr::Illegal(c)),
                            };
                        }
                        self.pos += n;
                        if c == 0x0A {
                            self.line += 1;
                            Ok(0x0A)
                        } else {
                            Ok(c & 31)
                        }
                    }
                }
            }
            0x0A => {
                self.pos += 1;
                self.line += 1;
                Ok(0x0A)
            }
            c if is_unicode(c) => {
                self.pos += n;
                Ok(escape_char(c))
            }
            c => Err(EscErr::Illegal(c)),
        }
    }

    /// The body of a string or quoted atom up to the closing `quote`, into `out`.
    /// Returns the line the literal started on.
    fn quoted<S: CharSink>(&mut self, quote: u8, out: &mut S) -> Result<u32, Fail> {
        let start = self.line;
        let what = if quote == b'"' { "string" } else { "atom" };
        let unterminated = || Fail::scan(start, format!("unterminated {what} starting on line {start}"));
        self.pos += 1;
        loop {
            // Copy runs of plain characters in one go. In UTF-8 mode the run may hold
            // multi-byte characters, except 0xEF which could start U+FFFE or U+FFFF.
            let run_start = self.pos;
            let mut ascii = true;
            while let Some(&b) = self.src.get(self.pos) {
                let plain = if b < 0x80 { b != quote && b != b'\\' && b != b'\n' } else { !self.latin1 && b != 0xEF };
                if !plain || self.pos >= self.valid {
                    break;
                }
                ascii &= b < 0x80;
                self.pos += 1;
            }
            if ascii {
                out.push_ascii(self.src.get(run_start..self.pos).unwrap_or_default());
            } else {
                // A run of whole characters below `valid` (only in UTF-8 mode).
                out.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
            }
            let Some((c, n)) = self.char_at(self.pos) else { return Err(unterminated()) };
            if c == u32::from(quote) {
                self.pos += 1;
                return Ok(start);
            }
            let v = match c {
                0x5C => match self.escape() {
                    Ok(v) => v,
                    Err(EscErr::Eof) => return Err(unterminated()),
                    Err(EscErr::Illegal(BAD)) => return Err(Fail::illegal(self.line, BAD)),
                    Err(EscErr::Illegal(_)) => return Err(Fail::scan(self.line, "bad character escape")),
                },
                0x0A => {
                    self.pos += 1;
                    self.line += 1;
                    c
                }
                c if is_unicode(c) => {
                    self.pos += n;
                    c
                }
                c => return Err(Fail::illegal(self.line, c)),
            };
            out.push(v);
        }
    }

    fn string(&mut self) -> Result<Token, Fail> {
        let mut chars = Vec::new();
        let line = self.quoted(b'"', &mut chars)?;
        if !self.adjacent_strings && self.ascii(self.pos) == b'"' {
            return Err(Fail::scan(self.line, "string_concat"));
        }
        Ok(Token { tok: Tok::Str(chars), line })
    }

    fn quoted_atom(&mut self) -> Result<Token, Fail> {
        let mut s = String::new();
        let line = self.quoted(b'\'', &mut s)?;
        if s.chars().count() > 255 {
            return Err(Fail::scan(line, "illegal atom"));
        }
        Ok(Token { tok: Tok::Atom(s), line })
    }

    fn char_literal(&mut self) -> Result<Token, Fail> {
        let line = self.line;
        self.pos += 1;
        let c = match self.char_at(self.pos) {
            None => return Err(Fail::scan(line, "unterminated character")),
            Some((0x5C, _)) => match self.escape() {
                Ok(v) => v,
                Err(EscErr::Eof) => return Err(Fail::scan(line, "unterminated character")),
                Err(EscErr::Illegal(BAD)) => return Err(Fail::illegal(line, BAD)),
                Err(EscErr::Illegal(_)) => return Err(Fail::scan(line, "bad character escape")),
            },
            Some((0x0A, _)) => {
                self.pos += 1;
                self.line += 1;
                0x0A
            }
            Some((c, n)) if is_unicode(c) => {
                self.pos += n;
                c
            }
            Some((c, _)) => return Err(Fail::illegal(line, c)),
        };
        Ok(Token { tok: Tok::Char(c), line })
    }
}

/// An integer from digits already checked for `base`; `None` when there are none.
fn parse_int(digits: &str, base: u32) -> Option<Term> {
    if digits.is_empty() {
        return None;
    }
    // 12 digits fit in an i64 in every base up to 36.
    if digits.len() <= 12 {
        return i64::from_str_radix(digits, base).ok().map(Term::Int);
    }
    BigInt::parse_bytes(digits.as_bytes(), base).map(Term::int)
}

// ---------------------------------------------------------------------------------------
// Parser

/// What a parsed expression is, as far as `erl_parse:normalise/1` cares.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// An integer, character or float literal: unary `-`/`+` may apply to it.
    Number,
    /// String literals: a binary segment treats them character by character.
    String,
    Other,
}

/// A parsed expression. `line` is its first location in erl_parse's sense: its leftmost
/// token, parentheses aside.
struct Val {
    term: Term,
    kind: Kind,
    line: u32,
}

impl Val {
    fn other(term: Term, line: u32) -> Val {
        Val { term, kind: Kind::Other, line }
    }
}

/// What may start an expression here: erl_parse's `expr` or only its `expr_max` (binary
/// segment values and sizes, where maps and unary operators need parentheses).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Full,
    Max,
}

struct Segment {
    value: Val,
    size: Option<Term>,
    types: Vec<(String, Option<Term>)>,
}

/// Partly parsed enclosing constructs, innermost last.
enum Frame {
    Paren,
    Prefix {
        neg: bool,
        line: u32,
    },
    Tuple {
        items: Vec<Term>,
        line: u32,
    },
    List {
        items: Vec<Term>,
        line: u32,
    },
    Tail {
        items: Vec<Term>,
        line: u32,
    },
    MapKey {
        pairs: Vec<(Term, Term)>,
        line: u32,
    },
    MapValue {
        pairs: Vec<(Term, Term)>,
        key: Term,
        line: u32,
    },
    /// `size_of` holds the segment value while its size is being parsed.
    Bin {
        segs: Vec<Segment>,
        line: u32,
        size_of: Option<Val>,
    },
}

struct Parser<'a> {
    sc: Scanner<'a>,
    peeked: Option<Token>,
    /// The form parses but `parse_term` would reject it ("bad term"); the error waits
    /// for the end of the form because a later syntax error takes precedence.
    bad: bool,
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8]) -> Parser<'a> {
        Parser { sc: Scanner::new(src), peeked: None, bad: false }
    }

    fn next(&mut self) -> Result<Token, Fail> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.sc.next_token(),
        }
    }

    fn peek(&mut self) -> Result<&Tok, Fail> {
        if self.peeked.is_none() {
            self.peeked = Some(self.sc.next_token()?);
        }
        match &self.peeked {
            Some(t) => Ok(&t.tok),
            None => Ok(&Tok::Eof),
        }
    }

    /// Consumes the next token if it is the punctuation `p`.
    fn eat(&mut self, p: &str) -> Result<bool, Fail> {
        let hit = matches!(self.peek()?, Tok::Punct(q) if *q == p);
        if hit {
            self.peeked = None;
        }
        Ok(hit)
    }

    fn expect(&mut self, p: &str) -> Result<(), Fail> {
        let t = self.next()?;
        match t.tok {
            Tok::Punct(q) if q == p => Ok(()),
            _ => Err(self.syntax(t)),
        }
    }

    /// The error for an unexpected token.
    fn syntax(&self, t: Token) -> Fail {
        match t.tok {
            Tok::Eof => self.missing_dot(),
            Tok::Dot => Fail::parse(t.line, "syntax error before: '.'"),
            tok => Fail {
                line: t.line,
                kind: ReadErrorKind::Parse(format!("syntax error before: {}", describe(&tok))),
                drain: true,
            },
        }
    }

    /// OTP hands a dot-less final form to erl_parse, which reports a syntax error at its
    /// end (systools: `{parse, File, _}`), so this is a parse error, not a read error.
    fn missing_dot(&self) -> Fail {
        Fail::parse(self.sc.last_line, "missing terminating dot")
    }

    /// The next form's term, `None` at the end of input.
    fn next_form(&mut self) -> Result<Option<Term>, Fail> {
        match self.form() {
            // The parser would have stopped at this error whether or not a dot follows,
            // but the scanner runs first: only a scan error can still take precedence.
            Err(f) if f.drain => loop {
                match self.next() {
                    Ok(Token { tok: Tok::Dot | Tok::Eof, .. }) => return Err(f),
                    Ok(_) => {}
                    Err(scan) => return Err(scan),
                }
            },
            r => r,
        }
    }

    fn form(&mut self) -> Result<Option<Term>, Fail> {
        self.bad = false;
        if *self.peek()? == Tok::Eof {
            return Ok(None);
        }
        let first = self.expr()?;
        // `a, b.` parses (as a clause body) and is then refused where `b` starts.
        let mut second: Option<u32> = None;
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Dot => break,
                Tok::Punct(",") => {
                    let v = self.expr()?;
                    second.get_or_insert(v.line);
                }
                _ => return Err(self.syntax(t)),
            }
        }
        if let Some(line) = second {
            return Err(Fail::parse(line, "bad term"));
        }
        if self.bad {
            return Err(Fail::parse(first.line, "bad term"));
        }
        Ok(Some(first.term))
    }

    fn too_deep(line: u32) -> Fail {
        Fail { line, kind: ReadErrorKind::Parse("nesting too deep".into()), drain: true }
    }

    /// Starts a binary segment: an optional unary operator, then an `expr_max`.
    fn bin_segment_start(&mut self, stack: &mut Vec<Frame>) -> Result<Mode, Fail> {
        // The depth check comes with the next token, in `expr`.
        if let Tok::Punct(p @ ("-" | "+")) = *self.peek()? {
            let t = self.next()?;
            stack.push(Frame::Prefix { neg: p == "-", line: t.line });
        }
        Ok(Mode::Max)
    }

    /// One expression, iteratively: descend through openers pushing frames until a
    /// complete value, then feed it to the frames until one needs more input.
    fn expr(&mut self) -> Result<Val, Fail> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut mode = Mode::Full;
        'descend: loop {
            let mut val = loop {
                let t = self.next()?;
                let line = t.line;
                if stack.len() > MAX_DEPTH {
                    return Err(Self::too_deep(line));
                }
                match t.tok {
                    Tok::Atom(a) => break Val::other(Term::Atom(a), line),
                    Tok::Int(i) => break Val { term: i, kind: Kind::Number, line },
                    Tok::Char(c) => break Val { term: Term::Int(i64::from(c)), kind: Kind::Number, line },
                    Tok::Float(f) => break Val { term: Term::Float(f), kind: Kind::Number, line },
                    Tok::Str(mut s) => {
                        while let Tok::Str(_) = self.peek()? {
                            if let Some(Token { tok: Tok::Str(more), .. }) = self.peeked.take() {
                                s.extend(more);
                            }
                        }
                        break Val { term: Term::List(s), kind: Kind::String, line };
                    }
                    Tok::Var(_) => {
                        self.bad = true;
                        break Val::other(Term::nil(), line);
                    }
                    Tok::Reserved("fun") => break self.fun_ref(line)?,
                    Tok::Punct("(") => {
                        stack.push(Frame::Paren);
                        mode = Mode::Full;
                    }
                    Tok::Punct(p @ ("-" | "+")) if mode == Mode::Full => {
                        stack.push(Frame::Prefix { neg: p == "-", line });
                    }
                    Tok::Punct("{") => {
                        if self.eat("}")? {
                            break Val::other(Term::Tuple(Vec::new()), line);
                        }
                        stack.push(Frame::Tuple { items: Vec::new(), line });
                        mode = Mode::Full;
                    }
                    Tok::Punct("[") => {
                        if self.eat("]")? {
                            break Val::other(Term::nil(), line);
                        }
                        stack.push(Frame::List { items: Vec::new(), line });
                        mode = Mode::Full;
                    }
                    Tok::Punct("#") if mode == Mode::Full => {
                        self.expect("{")?;
                        if self.eat("}")? {
                            break Val::other(Term::Map(Vec::new()), line);
                        }
                        stack.push(Frame::MapKey { pairs: Vec::new(), line });
                        mode = Mode::Full;
                    }
                    Tok::Punct("<<") => {
                        if self.eat(">>")? {
                            break Val::other(Term::Binary(Vec::new()), line);
                        }
                        stack.push(Frame::Bin { segs: Vec::new(), line, size_of: None });
                        mode = self.bin_segment_start(&mut stack)?;
                    }
                    tok => return Err(self.syntax(Token { tok, line })),
                }
            };
            loop {
                let Some(frame) = stack.pop() else { return Ok(val) };
                match frame {
                    Frame::Paren => self.expect(")")?,
                    Frame::Prefix { neg, line } => {
                        let term = if val.kind != Kind::Number {
                            // `- - 1`, `-a`, `-"s"`: valid syntax, but no term.
                            self.bad = true;
                            Term::nil()
                        } else if neg {
                            negate(val.term)
                        } else {
                            val.term
                        };
                        val = Val::other(term, line);
                    }
                    Frame::Tuple { mut items, line } => {
                        items.push(val.term);
                        let t = self.next()?;
                        match t.tok {
                            Tok::Punct(",") => {
                                stack.push(Frame::Tuple { items, line });
                                mode = Mode::Full;
                                continue 'descend;
                            }
                            Tok::Punct("}") => val = Val::other(Term::Tuple(items), line),
                            _ => return Err(self.syntax(t)),
                        }
                    }
                    Frame::List { mut items, line } => {
                        items.push(val.term);
                        let t = self.next()?;
                        match t.tok {
                            Tok::Punct(",") => stack.push(Frame::List { items, line }),
                            Tok::Punct("|") => stack.push(Frame::Tail { items, line }),
                            Tok::Punct("]") => {
                                val = Val::other(Term::List(items), line);
                                continue;
                            }
                            _ => return Err(self.syntax(t)),
                        }
                        mode = Mode::Full;
                        continue 'descend;
                    }
                    Frame::Tail { items, line } => {
                        self.expect("]")?;
                        val = Val::other(cons(items, val.term), line);
                    }
                    Frame::MapKey { pairs, line } => {
                        let t = self.next()?;
                        match t.tok {
                            Tok::Punct("=>") => {}
                            // `#{K := V}` is a pattern/update form; parse_term refuses it.
                            Tok::Punct(":=") => self.bad = true,
                            _ => return Err(self.syntax(t)),
                        }
                        stack.push(Frame::MapValue { pairs, key: val.term, line });
                        mode = Mode::Full;
                        continue 'descend;
                    }
                    Frame::MapValue { mut pairs, key, line } => {
                        pairs.push((key, val.term));
                        let t = self.next()?;
                        match t.tok {
                            Tok::Punct(",") => {
                                stack.push(Frame::MapKey { pairs, line });
                                mode = Mode::Full;
                                continue 'descend;
                            }
                            Tok::Punct("}") => val = Val::other(make_map(pairs), line),
                            _ => return Err(self.syntax(t)),
                        }
                    }
                    Frame::Bin { mut segs, line, size_of } => {
                        let (value, size) = match size_of {
                            None => {
                                if self.eat(":")? {
                                    stack.push(Frame::Bin { segs, line, size_of: Some(val) });
                                    mode = Mode::Max;
                                    continue 'descend;
                                }
                                (val, None)
                            }
                            Some(value) => (value, Some(val.term)),
                        };
                        let types = if self.eat("/")? { self.bit_types()? } else { Vec::new() };
                        segs.push(Segment { value, size, types });
                        let t = self.next()?;
                        match t.tok {
                            Tok::Punct(",") => {
                                stack.push(Frame::Bin { segs, line, size_of: None });
                                mode = self.bin_segment_start(&mut stack)?;
                                continue 'descend;
                            }
                            Tok::Punct(">>") => {
                                // Once the form is bad its values no longer matter.
                                let built = if self.bad { None } else { build_binary(&segs) };
                                self.bad |= built.is_none();
                                val = Val::other(built.unwrap_or_else(Term::nil), line);
                            }
                            _ => return Err(self.syntax(t)),
                        }
                    }
                }
            }
        }
    }

    /// `Type-Type:Unit...` after the `/` of a binary segment.
    fn bit_types(&mut self) -> Result<Vec<(String, Option<Term>)>, Fail> {
        let mut types = Vec::new();
        loop {
            let t = self.next()?;
            let Tok::Atom(name) = t.tok else { return Err(self.syntax(t)) };
            let arg = if self.eat(":")? {
                let t = self.next()?;
                match t.tok {
                    Tok::Int(n) => Some(n),
                    _ => return Err(self.syntax(t)),
                }
            } else {
                None
            };
            types.push((name, arg));
            if !self.eat("-")? {
                return Ok(types);
            }
        }
    }

    /// After `fun`: `M:F/A` is an external fun, the only fun a term can hold; `F/A`
    /// parses but is refused.
    fn fun_ref(&mut self, line: u32) -> Result<Val, Fail> {
        let t = self.next()?;
        let module = match t.tok {
            Tok::Atom(a) => Some(a),
            Tok::Var(_) if *self.peek()? == Tok::Punct(":") => None,
            tok => return Err(self.syntax(Token { tok, line: t.line })),
        };
        if module.is_some() && self.eat("/")? {
            let t = self.next()?;
            if !matches!(t.tok, Tok::Int(_)) {
                return Err(self.syntax(t));
            }
            self.bad = true;
            return Ok(Val::other(Term::nil(), line));
        }
        self.expect(":")?;
        let t = self.next()?;
        let function = match t.tok {
            Tok::Atom(a) => Some(a),
            Tok::Var(_) => None,
            tok => return Err(self.syntax(Token { tok, line: t.line })),
        };
        self.expect("/")?;
        let t = self.next()?;
        let arity = match t.tok {
            Tok::Int(Term::Int(a)) => u8::try_from(a).ok(),
            Tok::Int(_) | Tok::Var(_) => None,
            tok => return Err(self.syntax(Token { tok, line: t.line })),
        };
        match (module, function, arity) {
            (Some(m), Some(f), Some(a)) => Ok(Val::other(export_fun(&m, &f, a), line)),
            _ => {
                self.bad = true;
                Ok(Val::other(Term::nil(), line))
            }
        }
    }
}

/// How a token is named in a syntax error, roughly as erl_parse writes it.
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Atom(a) => {
            let mut cs = a.chars();
            let plain = cs.next().is_some_and(|c| is_lower(c as u32))
                && cs.all(|c| is_name_char(c as u32))
                && reserved(a).is_none();
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.escape_default())
            }
        }
        Tok::Var(v) => v.clone(),
        Tok::Str(s) => {
            let text: String =
                s.iter().filter_map(|c| if let Term::Int(c) = c { char::from_u32(*c as u32) } else { None }).collect();
            format!("\"{}\"", text.escape_default())
        }
        Tok::Char(c) => match char::from_u32(*c) {
            Some(ch) if !ch.is_control() => format!("${ch}"),
            _ => format!("${c}"),
        },
        Tok::Int(Term::Int(i)) => i.to_string(),
        Tok::Int(Term::Big(b)) => b.to_string(),
        Tok::Int(_) => String::new(),
        Tok::Float(f) => format!("{f:?}"),
        Tok::Reserved(w) | Tok::Punct(w) => format!("'{w}'"),
        Tok::Other(c) => match char::from_u32(*c) {
            Some(ch) if !ch.is_control() => format!("'{ch}'"),
            _ => format!("'\\{c:o}'"),
        },
        Tok::Dot => "'.'".into(),
        Tok::Eof => String::new(),
    }
}

fn negate(t: Term) -> Term {
    match t {
        Term::Int(i) => match i.checked_neg() {
            Some(n) => Term::Int(n),
            None => Term::int(-BigInt::from(i)),
        },
        Term::Big(b) => Term::int(-b),
        Term::Float(f) => Term::Float(-f),
        other => other,
    }
}

/// `[Items | Tail]`, flattened so that a list tail never nests.
fn cons(mut items: Vec<Term>, tail: Term) -> Term {
    match tail {
        Term::List(rest) => {
            items.extend(rest);
            Term::List(items)
        }
        Term::Improper(rest, t) => {
            items.extend(rest);
            Term::Improper(items, t)
        }
        t => Term::Improper(items, Box::new(t)),
    }
}

/// `maps:from_list/1`: sorted by key, a later duplicate key winning. A stable sort keeps
/// duplicates in source order, so the last of each run is the one to keep.
fn make_map(mut pairs: Vec<(Term, Term)>) -> Term {
    pairs.sort_by(|a, b| map_key_cmp(&a.0, &b.0));
    let mut out: Vec<(Term, Term)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match out.last_mut() {
            Some(last) if map_key_cmp(&last.0, &k) == Ordering::Equal => *last = (k, v),
            _ => out.push((k, v)),
        }
    }
    Term::Map(out)
}

/// `fun M:F/A`.
fn export_fun(module: &str, function: &str, arity: u8) -> Term {
    Term::Export(module.to_string(), function.to_string(), arity)
}

// ---------------------------------------------------------------------------------------
// Binaries, as eval_bits builds them

/// A bitstring under construction: `bits` bits, MSB first, unused low bits zero.
#[derive(Default)]
struct BitBuf {
    bytes: Vec<u8>,
    bits: u64,
}

impl BitBuf {
    /// Appends the first `nbits` bits of `data` (MSB first); `None` if the result would
    /// exceed [`MAX_BINARY_BITS`].
    fn push(&mut self, data: &[u8], nbits: u64) -> Option<()> {
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

    fn into_term(self) -> Term {
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
fn build_binary(segs: &[Segment]) -> Option<Term> {
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
fn f16_bits(x: f64) -> u16 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Term {
        read_bytes(src.as_bytes())
    }

    /// The first form of `src` as an OTP with these scanner rules reads it.
    fn read_as(rules: ScannerRules, src: &str) -> Result<Term, ReadError> {
        SCANNER_RULES_HERE.with(|c| c.set(Some(rules)));
        let got = read_first_term(src.as_bytes(), "t");
        SCANNER_RULES_HERE.with(|c| c.set(None));
        got
    }

    #[test]
    fn names_after_numbers_are_tokens_or_errors_as_the_otp_in_use() {
        let strict = |src: &str| read_as(ScannerRules { name_after_number: false, ..ScannerRules::OTP25 }, src);
        for (src, kind) in [
            ("[8x].", "illegal integer"),
            ("[1.5e3x].", "illegal float"),
            ("[16#FFg].", "illegal integer"),
            ("[8.x].", "illegal float"),
            ("[1_000@].", "illegal integer"),
            ("[1.5X].", "illegal float"),
        ] {
            assert_eq!(strict(src).unwrap_err().kind, ReadErrorKind::Scan(kind.into()), "{src}");
        }
        assert_eq!(strict("[8, 8.5, 8 , 1_0].").unwrap().as_list().unwrap().len(), 4);
        // A quote is no name character: two tokens, then erl_parse's error.
        assert!(matches!(strict("[8'a'].").unwrap_err().kind, ReadErrorKind::Parse(_)));
        assert!(matches!(fail(b"[8x]."), ReadError { kind: ReadErrorKind::Parse(_), .. }));
    }

    #[test]
    fn adjacent_strings_concatenate_or_fail_as_the_otp_in_use() {
        let strict = |src: &str| read_as(ScannerRules { adjacent_strings: false, ..ScannerRules::OTP25 }, src);
        assert_eq!(read("{\"a\"\"b\"}."), Term::tuple([Term::string("ab")]));
        let e = strict("{x,\n\"a\"\"b\"}.").unwrap_err();
        assert_eq!((e.line, e.kind), (2, ReadErrorKind::Scan("string_concat".into())));
        assert_eq!(strict("{\"a\" \"b\"}.").unwrap(), Term::tuple([Term::string("ab")]));
    }

    #[test]
    fn caret_escapes_as_the_otp_in_use() {
        assert_eq!(read("'\\^}\\^?'."), Term::atom("\u{1d}\u{1f}"));
        let strict = |src: &str| read_as(ScannerRules { caret_strict: true, ..ScannerRules::OTP25 }, src);
        assert_eq!(strict("'\\^a\\^?\\^_'.").unwrap(), Term::atom("\u{1}\u{7f}\u{1f}"));
        assert!(matches!(strict("'\\^}'.").unwrap_err().kind, ReadErrorKind::Scan(_)));
    }

    #[test]
    fn maybe_and_else_are_atoms_or_reserved_as_the_otp_in_use() {
        assert_eq!(read("[maybe, else]."), Term::list([Term::atom("maybe"), Term::atom("else")]));
        let otp27 = |src: &str| read_as(ScannerRules { maybe_else_reserved: true, ..ScannerRules::OTP25 }, src);
        assert!(matches!(otp27("[maybe, 'else'].").map_err(|e| e.kind), Err(ReadErrorKind::Parse(_))));
        assert_eq!(otp27("['maybe', 'else'].").ok(), Some(Term::list([Term::atom("maybe"), Term::atom("else")])));
    }

    fn read_bytes(src: &[u8]) -> Term {
        read_first_term(src, "t").unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(src)))
    }

    fn fail(src: &[u8]) -> ReadError {
        match read_first_term(src, "t") {
            Ok(t) => panic!("{:?} read as {t:?}", String::from_utf8_lossy(src)),
            Err(e) => e,
        }
    }

    /// Asserts the kind of error (by variant) and its line.
    fn fails(src: &str, kind: &str, line: u32) -> ReadError {
        let e = fail(src.as_bytes());
        let got = match e.kind {
            ReadErrorKind::Scan(_) => "scan",
            ReadErrorKind::Parse(_) => "parse",
            ReadErrorKind::Eof => "eof",
        };
        assert_eq!((got, e.line), (kind, line), "{src:?}: {e}");
        e
    }

    fn msg(e: &ReadError) -> String {
        e.kind.to_string()
    }

    fn a(s: &str) -> Term {
        Term::atom(s)
    }
    fn i(n: i64) -> Term {
        Term::Int(n)
    }
    fn s(x: &str) -> Term {
        Term::string(x)
    }
    fn t<const N: usize>(items: [Term; N]) -> Term {
        Term::tuple(items)
    }
    fn l<const N: usize>(items: [Term; N]) -> Term {
        Term::list(items)
    }
    fn bin(b: &[u8]) -> Term {
        Term::Binary(b.to_vec())
    }
    fn big(s: &str) -> Term {
        Term::int(s.parse::<BigInt>().unwrap())
    }

    /// Floats compared bit for bit, so that -0.0 and 0.0 differ.
    fn float_bits(src: &str) -> u64 {
        match read(src) {
            Term::Float(f) => f.to_bits(),
            other => panic!("{src}: {other:?}"),
        }
    }

    #[test]
    fn integers() {
        for (src, v) in [
            ("0.", 0),
            ("42.", 42),
            ("-12.", -12),
            ("+5.", 5),
            ("- 1.", -1),
            ("-(1).", -1),
            ("16#FF.", 255),
            ("16#ff.", 255),
            ("2#101.", 5),
            ("36#Z.", 35),
            ("36#Zz.", 1295),
            ("1_000.", 1000),
            ("16#FF_FF.", 65535),
            ("1_6#F.", 15),
            ("0016#F.", 15),
            ("-16#10.", -16),
            ("9223372036854775807.", i64::MAX),
            ("-9223372036854775808.", i64::MIN),
        ] {
            assert_eq!(read(src), i(v), "{src}");
        }
        assert_eq!(read("123456789012345678901234567890."), big("123456789012345678901234567890"));
        assert_eq!(read("9223372036854775808."), big("9223372036854775808"));
        assert!(matches!(read("9223372036854775808."), Term::Big(_)));
        assert_eq!(read("-16#FFFFFFFFFFFFFFFFFF."), big("-4722366482869645213695"));
        assert_eq!(
            read("2#1_0000000000_0000000000_0000000000_0000000000_0000000000_0000000000_000."),
            big("9223372036854775808")
        );
    }

    #[test]
    fn integer_errors() {
        assert_eq!(msg(&fails("16#.", "scan", 1)), "illegal integer");
        assert_eq!(msg(&fails("16#_F.", "scan", 1)), "illegal integer");
        assert_eq!(msg(&fails("37#1.", "scan", 1)), "illegal base 37");
        fails("1#1.", "scan", 1);
        fails("99999999999999999999#1.", "scan", 1);
        fails("2#102.", "parse", 1);
        fails("1__0.", "parse", 1);
        fails("1_.", "parse", 1);
        fails("1e5.", "parse", 1);
        fails("1.e5.", "parse", 1);
        fails("12abc.", "parse", 1);
    }

    #[test]
    fn chars() {
        for (src, v) in [
            ("$a.", 97),
            ("$\\n.", 10),
            ("$\\x{41}.", 65),
            ("$\\x41.", 65),
            ("$\\101.", 65),
            ("$\\7.", 7),
            ("$\\^A.", 1),
            ("$\\^a.", 1),
            ("$\\^@.", 0),
            ("$\\^?.", 31),
            ("$ .", 32),
            ("$%.", 37),
            ("$\\s.", 32),
            ("$\\z.", 122),
            ("$\\\\.", 92),
            ("$\\'.", 39),
            ("$'.", 39),
            ("$\".", 34),
            ("$é.", 233),
            ("$日.", 0x65E5),
            ("$\u{1F600}.", 0x1F600),
            ("-$a.", -97),
            ("+$a.", 97),
        ] {
            assert_eq!(read(src), i(v), "{src}");
        }
        // `$` followed by a newline is the newline character, and counts as a line.
        assert_eq!(read_all_terms(b"$\n.\n{x}.", "t").unwrap(), vec![i(10), t([a("x")])]);
        fails("$\n\n).", "parse", 3);
        // `\` followed by a newline, and `\^` followed by one, are newlines too.
        assert_eq!(read("$\\\n."), i(10));
        assert_eq!(read("$\\^\n."), i(10));
    }

    #[test]
    fn char_errors() {
        assert_eq!(msg(&fails("$", "scan", 1)), "unterminated character");
        fails("$\\", "scan", 1);
        fails("$\\x", "scan", 1);
        fails("$\\x{41", "scan", 1);
        fails("\n$\\^", "scan", 2);
        assert_eq!(msg(&fails("$\\x4.", "scan", 1)), "bad character escape");
        fails("$\\x{110000}.", "scan", 1);
        fails("$\\x{D800}.", "scan", 1);
        fails("$\\x{FFFE}.", "scan", 1);
        fails("$\u{FFFF}.", "scan", 1);
        assert_eq!(msg(&fail(b"$\xff.")), "invalid UTF-8");
    }

    #[test]
    fn floats() {
        for (src, v) in [
            ("1.0.", 1.0),
            ("1.0e3.", 1000.0),
            ("1.5E-5.", 1.5e-5),
            ("1.0e+5.", 1.0e5),
            ("1_0.5.", 10.5),
            ("1.5_5.", 1.55),
            ("1.0e5_0.", 1.0e50),
            ("- 2.5.", -2.5),
            ("+2.5.", 2.5),
            ("0.1.", 0.1),
            ("2.2250738585072014e-320.", f64::from_bits(4504)), // subnormal
            ("1.7976931348623157e308.", f64::MAX),
            ("1.0e-400.", 0.0),
        ] {
            assert_eq!(float_bits(src), v.to_bits(), "{src}");
        }
        assert_eq!(float_bits("-0.0."), (-0.0f64).to_bits());
        assert_eq!(float_bits("0.0."), 0.0f64.to_bits());
        assert_eq!(msg(&fails("1.0e400.", "scan", 1)), "illegal float");
        fails("{a,1.0e}.", "scan", 1);
        fails("1.0e+.", "scan", 1);
        fails("1.0e_1.", "scan", 1);
        fails("1.0 e5.", "parse", 1);
    }

    #[test]
    fn atoms() {
        for (src, v) in [
            ("abc.", "abc"),
            ("a@b_C1.", "a@b_C1"),
            ("éa.", "éa"),
            ("ß.", "ß"),
            ("aÉ.", "aÉ"),
            ("'hello world'.", "hello world"),
            ("''.", ""),
            ("'a\\'b'.", "a'b"),
            ("'a\"b'.", "a\"b"),
            ("'end'.", "end"),
            ("'X'.", "X"),
            ("'日本'.", "日本"),
            ("'\\x{10FFFF}'.", "\u{10FFFF}"),
            ("'a\nb'.", "a\nb"),
            ("'\\^a\\s\\z'.", "\u{1} z"),
            ("maybe.", "maybe"),
            ("else.", "else"),
        ] {
            assert_eq!(read(src), a(v), "{src}");
        }
        let long = "a".repeat(255);
        assert_eq!(read(&format!("{long}.")), a(&long));
        assert_eq!(read(&format!("'{long}'.")), a(&long));
        let long_u = "日".repeat(255);
        assert_eq!(read(&format!("'{long_u}'.")), a(&long_u));
        assert_eq!(msg(&fails(&format!("a{long}."), "scan", 1)), "illegal atom");
        fails(&format!("'a{long}'."), "scan", 1);
        fails(&format!("'a{long_u}'."), "scan", 1);
        fails(&format!("X{long}."), "scan", 1);
        // `÷` and `×` are not letters.
        fails("a÷.", "parse", 1);
        fails("×.", "parse", 1);
        // Anything above Latin-1 is not a name character.
        assert_eq!(msg(&fails("a☃.", "scan", 1)), "illegal character");
    }

    #[test]
    fn reserved_words_and_variables_are_not_atoms() {
        for w in RESERVED {
            let e = fails(&format!("{w}."), "parse", 1);
            assert!(msg(&e).contains(&format!("'{w}'")) || w == "fun", "{w}: {e}");
            assert_eq!(read(&format!("'{w}'.")), a(w));
        }
        assert_eq!(msg(&fails("X.", "parse", 1)), "bad term");
        fails("_Foo.", "parse", 1);
        fails("_.", "parse", 1);
        fails("Éa.", "parse", 1);
        fails("{a, [b | X]}.", "parse", 1);
        // A syntax error later in the form wins over the variable.
        assert_eq!(msg(&fails("{X,\n}.", "parse", 2)), "syntax error before: '}'");
    }

    #[test]
    fn strings() {
        assert_eq!(read(r#""abc"."#), s("abc"));
        assert_eq!(read("\"\"."), Term::nil());
        assert_eq!(read(r#""\b\d\e\f\n\r\s\t\v\\\"\'"."#), l([8, 127, 27, 12, 10, 13, 32, 9, 11, 92, 34, 39].map(i)));
        assert_eq!(read(r#""\7\77\777\1a\1234\08"."#), l([7, 63, 511, 1, 97, 83, 52, 0, 56].map(i)));
        assert_eq!(read(r#""\x41\x4a\x{1F600}\x{0000041}"."#), l([65, 74, 0x1F600, 65].map(i)));
        assert_eq!(read(r#""\^A\^z\^@\^[\^\"."#), l([1, 26, 0, 27, 28].map(i)));
        // `\^` takes the next character whatever it is, here the backslash.
        assert_eq!(read(r#""\^\n"."#), l([28, 110].map(i)));
        assert_eq!(read(r#""\z\é\ "."#), l([122, 233, 32].map(i)));
        assert_eq!(read("\"a\\\nb\"."), s("a\nb"));
        assert_eq!(read("\"a\nb\"."), s("a\nb"));
        assert_eq!(read("\"a\tb\u{0}\"."), s("a\tb\u{0}"));
        assert_eq!(read("\"日本\u{1F600}é\"."), s("日本\u{1F600}é"));
        assert_eq!(read(r#""ab" "cd"."#), s("abcd"));
        assert_eq!(read("\"a\"\n\n\"b\" % c\n \"\" \"c\" ."), s("abc"));
        assert_eq!(read(r#"{"a" "b", "c"}."#), t([s("ab"), s("c")]));
        // Lines inside strings count.
        fails("\"a\nb\"\n\n}.", "parse", 4);
    }

    #[test]
    fn string_errors() {
        let e = fails("\n\n\"abc", "scan", 3);
        assert_eq!(msg(&e), "unterminated string starting on line 3");
        assert_eq!(msg(&fails("\n'abc\n\n", "scan", 2)), "unterminated atom starting on line 2");
        fails("\"abc\\", "scan", 1);
        fails("\"\\x{41", "scan", 1);
        for bad in [r#""\x{110000}"."#, r#""\x{}"."#, r#""\x4g"."#, r#""\x{D800}"."#, r#""\xg"."#, r#""\x{41x}"."#] {
            assert_eq!(msg(&fails(bad, "scan", 1)), "bad character escape", "{bad}");
        }
        // The escape error is on the escape's line, not the string's.
        fails("\"a\n\n\\x{}\".", "scan", 3);
        assert_eq!(msg(&fails("\"a\u{FFFE}\".", "scan", 1)), "illegal character");
        assert_eq!(msg(&fail(b"\"a\xffb\".")), "invalid UTF-8");
        assert_eq!(msg(&fail(b"'a\xc3'.")), "invalid UTF-8");
    }

    #[test]
    fn tuples_lists_maps() {
        assert_eq!(read("{}."), t([]));
        assert_eq!(read("{a}."), t([a("a")]));
        assert_eq!(read("{a, {b, c}, []}."), t([a("a"), t([a("b"), a("c")]), Term::nil()]));
        assert_eq!(read("[]."), Term::nil());
        assert_eq!(read("[ ]."), Term::nil());
        assert_eq!(read("[a]."), l([a("a")]));
        assert_eq!(read("[a|b]."), Term::Improper(vec![a("a")], Box::new(a("b"))));
        assert_eq!(read("[a,b|[c]]."), l([a("a"), a("b"), a("c")]));
        assert_eq!(read("[a|[]]."), l([a("a")]));
        assert_eq!(read("[1|[2|[3]]]."), l([i(1), i(2), i(3)]));
        assert_eq!(read("[a|[b|c]]."), Term::Improper(vec![a("a"), a("b")], Box::new(a("c"))));
        assert_eq!(read("[a|\"bc\"]."), l([a("a"), i(98), i(99)]));
        assert_eq!(read("[[]|[]]."), l([Term::nil()]));
        assert_eq!(read("#{}."), Term::Map(vec![]));
        assert_eq!(read("#{a => 1}."), Term::map(vec![(a("a"), i(1))]));
        assert_eq!(read("#{a=>1, a=>2}."), Term::map(vec![(a("a"), i(2))]));
        assert_eq!(read("#{b => 1, a => 2, b => 3, a => 4}."), Term::map(vec![(a("a"), i(4)), (a("b"), i(3))]));
        assert_eq!(
            read("#{1 => a, 1.0 => b, {x} => #{[] => <<>>}}."),
            Term::map(vec![
                (i(1), a("a")),
                (Term::Float(1.0), a("b")),
                (t([a("x")]), Term::map(vec![(Term::nil(), bin(b""))]))
            ])
        );
        assert_eq!(read("#{a=>-1}."), Term::map(vec![(a("a"), i(-1))]));
        assert_eq!(read("#{<<\"k\">>=><<\"v\">>}."), Term::map(vec![(bin(b"k"), bin(b"v"))]));
        fails("[a|b|c].", "parse", 1);
        fails("[a|].", "parse", 1);
        fails("{a,}.", "parse", 1);
        fails("[,a].", "parse", 1);
        fails("#{a := 1}.", "parse", 1);
        fails("#{a}.", "parse", 1);
        fails("#{}#{a=>1}.", "parse", 1);
        fails("#a.", "parse", 1);
        fails("{a} {b}.", "parse", 1);
        fails("[a||b].", "parse", 1);
    }

    #[test]
    fn parentheses_and_unary_operators() {
        assert_eq!(read("(a)."), a("a"));
        assert_eq!(read("((((a))))."), a("a"));
        assert_eq!(read("{(a), [(b)], (<<1>>)}."), t([a("a"), l([a("b")]), bin(&[1])]));
        assert_eq!(read("(-1)."), i(-1));
        assert_eq!(read("- (1)."), i(-1));
        assert_eq!(read("-(16#10)."), i(-16));
        assert_eq!(read("-9223372036854775808."), i(i64::MIN));
        assert_eq!(read("- 9223372036854775809."), big("-9223372036854775809"));
        for bad in ["- - 1.", "-(-1).", "+-1.", "- -1.", "-a.", "-'a'.", "-\"s\".", "-{1}.", "-#{}.", "-[]."] {
            assert_eq!(msg(&fails(bad, "parse", 1)), "bad term", "{bad}");
        }
        fails("--1.", "parse", 1);
        fails("bnot 1.", "parse", 1);
        fails("1 + 2.", "parse", 1);
        fails("(a.", "parse", 1);
        fails("a).", "parse", 1);
    }

    #[test]
    fn funs() {
        assert_eq!(read("fun lists:map/2."), Term::Export("lists".into(), "map".into(), 2));
        assert_eq!(read("{fun 'a b':'日'/0}."), Term::tuple([Term::Export("a b".into(), "日".into(), 0)]));
        for bad in ["fun m:f/256.", "fun f/1.", "fun M:f/1.", "fun m:F/1.", "fun m:f/A."] {
            assert_eq!(msg(&fails(bad, "parse", 1)), "bad term", "{bad}");
        }
        fails("fun (X) -> X end.", "parse", 1);
        fails("fun m:f.", "parse", 1);
    }

    #[test]
    fn binaries() {
        let bits = |b: &[u8], n: u8| Term::Bits(b.to_vec(), n);
        for (src, v) in [
            ("<<>>.", bin(b"")),
            ("<< >>.", bin(b"")),
            ("<<\"a\">>.", bin(b"a")),
            ("<<1,2>>.", bin(&[1, 2])),
            ("<<\"é\"/utf8>>.", bin("é".as_bytes())),
            ("<<\"é\">>.", bin(&[233])),
            ("<<\"日\">>.", bin(&[0xE5])),
            ("<<\"x\"/utf16>>.", bin(&[0, 120])),
            ("<<\"日\"/utf16-little>>.", bin(&[0xE5, 0x65])),
            ("<<\"\u{1F600}\"/utf16>>.", bin(&[0xD8, 0x3D, 0xDE, 0x00])),
            ("<<$a/utf16-little, $b/utf32>>.", bin(&[97, 0, 0, 0, 0, 98])),
            ("<<$a/utf32-little>>.", bin(&[97, 0, 0, 0])),
            ("<<16#FFFE/utf8>>.", bin(&[0xEF, 0xBF, 0xBE])),
            ("<<1:16>>.", bin(&[0, 1])),
            ("<<1:16/little>>.", bin(&[1, 0])),
            ("<<\"abc\", 1>>.", bin(b"abc\x01")),
            ("<<\"abc\":16>>.", bin(&[0, 97, 0, 98, 0, 99])),
            ("<<\"ab\":16/little>>.", bin(&[97, 0, 98, 0])),
            ("<<\"abc\":8/integer-unit:1-unsigned-big>>.", bin(b"abc")),
            ("<<\"\":64/float>>.", bin(b"")),
            ("<<-1>>.", bin(&[255])),
            ("<<(-1)>>.", bin(&[255])),
            ("<<+1>>.", bin(&[1])),
            ("<<-$a>>.", bin(&[159])),
            ("<<256>>.", bin(&[0])),
            ("<<-1:16/signed-little>>.", bin(&[255, 255])),
            ("<<1:3, 2:5>>.", bin(&[34])),
            ("<<1:8/unit:8>>.", bin(&[0, 0, 0, 0, 0, 0, 0, 1])),
            ("<<1:2/unit:4>>.", bin(&[1])),
            ("<<1:0>>.", bin(b"")),
            ("<<1:8/native>>.", bin(&[1])),
            ("<<1/big-big>>.", bin(&[1])),
            ("<<1.5/float>>.", bin(&[63, 248, 0, 0, 0, 0, 0, 0])),
            ("<<1/float>>.", bin(&[63, 240, 0, 0, 0, 0, 0, 0])),
            ("<<\"a\"/float>>.", bin(&[64, 88, 64, 0, 0, 0, 0, 0])),
            ("<<1.5:32/float-little>>.", bin(&[0, 0, 192, 63])),
            ("<<1:1/float-unit:64>>.", bin(&[63, 240, 0, 0, 0, 0, 0, 0])),
            ("<<1.5:16/float>>.", bin(&[62, 0])),
            ("<<2.0:16/float-little>>.", bin(&[0, 64])),
            ("<<65504.0:16/float>>.", bin(&[123, 255])),
            ("<<65520.0:16/float>>.", bin(&[124, 0])),
            ("<<1.0e300:32/float>>.", bin(&[127, 128, 0, 0])),
            ("<<<<1,2,3>>:2/binary>>.", bin(&[1, 2])),
            ("<<<<1,2>>:all/binary>>.", bin(&[1, 2])),
            ("<<<<1,2>>:1/binary-unit:16>>.", bin(&[1, 2])),
            ("<<<<1>>:1/bytes>>.", bin(&[1])),
            ("<<<<1>>/binary, 2>>.", bin(&[1, 2])),
            ("<<<<1>>/binary, <<2>>/bytes, <<3>>/bits, <<4>>/bitstring>>.", bin(&[1, 2, 3, 4])),
            ("<<\"a\":undefined/utf8>>.", bin(b"a")),
            ("<<(1):(8)/integer>>.", bin(&[1])),
            ("<<$a:8/integer-unit:1-unsigned-big>>.", bin(b"a")),
            ("<<(1 ):8 / little - unsigned>>.", bin(&[1])),
            ("<<1:4>>.", bits(&[0x10], 4)),
            ("<<\"a\":4>>.", bits(&[0x10], 4)),
            ("<<16#ABC:12>>.", bits(&[171, 0xC0], 4)),
            ("<<16#ABC:12/little>>.", bits(&[188, 0xA0], 4)),
            ("<<16#12345:20/little>>.", bits(&[69, 35, 0x10], 4)),
            ("<<1:4/little>>.", bits(&[0x10], 4)),
            ("<<<<1:4>>/bits>>.", bits(&[0x10], 4)),
            ("<<<<1:4>>:4/bits>>.", bits(&[0x10], 4)),
            ("<<1:1, 1:1, <<255>>/binary>>.", bits(&[0xFF, 0xC0], 2)),
            ("<<1:1, \"ab\">>.", bits(&[0xB0, 0xB1, 0], 1)),
            ("<<1:1, 2.0:16/float, 1:7>>.", bin(&[0xA0, 0x00, 1])),
            (
                "<<-1:100>>.",
                bits(
                    &[0xFF; 13]
                        .iter()
                        .copied()
                        .enumerate()
                        .map(|(k, b)| if k == 12 { 0xF0 } else { b })
                        .collect::<Vec<_>>(),
                    4,
                ),
            ),
        ] {
            assert_eq!(read(src), v, "{src}");
        }
        assert_eq!(
            read("<<123456789012345678901234567890:128>>."),
            bin(&123456789012345678901234567890u128.to_be_bytes())
        );
        assert_eq!(
            read("<<-123456789012345678901234567890:128/little>>."),
            bin(&(-123456789012345678901234567890i128).to_le_bytes())
        );
        assert_eq!(read("<<16#123456789:16>>."), bin(&[0x67, 0x89]));
    }

    #[test]
    fn binary_errors() {
        for bad in [
            "<<1.0>>.",
            "<<\"ab\"/binary>>.",
            "<<[1]/binary>>.",
            "<<1/integer-unit:8>>.",
            "<<1/unit:8>>.",
            "<<1:8/foo>>.",
            "<<1:8/unit>>.",
            "<<1:8/unit:0>>.",
            "<<1:8/unit:257>>.",
            "<<1/signed-unsigned>>.",
            "<<1/bytes-bits>>.",
            "<<1/integer:3>>.",
            "<<1:(-1)>>.",
            "<<<<1:4>>/binary>>.",
            "<<<<1:4>>/bytes>>.",
            "<<\"ab\":4/utf8>>.",
            "<<1:8/bytes>>.",
            "<<1/utf8-unit:8>>.",
            "<<\"\":8/float>>.",
            "<<1:12/float>>.",
            "<<16#D800/utf8>>.",
            "<<16#110000/utf16>>.",
            "<<-1/utf8>>.",
            "<<1.0/utf8>>.",
            "<<(#{})>>.",
            "<<<<1,2>>:3/binary>>.",
            "<<X>>.",
            "<<1:X>>.",
            "<<1:all>>.",
            "<<a>>.",
            "<<{1}>>.",
            "<<1:a>>.",
            "<<1:1.0>>.",
            "<<0:4294967296>>.",
            "<<0:1/unit:256, 0:134217728>>.",
            "<<\"aaaaaaaa\":134217728>>.",
        ] {
            assert_eq!(msg(&fails(bad, "parse", 1)), "bad term", "{bad}");
        }
        let huge = format!("<<{}:64/float>>.", "9".repeat(400));
        assert_eq!(msg(&fails(&huge, "parse", 1)), "bad term");
        for syntax in [
            "<<1:-1>>.",
            "<<#{}>>.",
            "<<1:8:8>>.",
            "<<1/8>>.",
            "<<1/unit:a>>.",
            "<<- -1>>.",
            "<<1,>>.",
            "<<1>.",
            "<<1:>>.",
        ] {
            assert!(msg(&fails(syntax, "parse", 1)).starts_with("syntax error"), "{syntax}");
        }
    }

    #[test]
    fn comments_whitespace_and_dots() {
        assert_eq!(read("% c\n{a}. % c"), t([a("a")]));
        assert_eq!(read("{a}.%c"), t([a("a")]));
        assert_eq!(read("{a % c }\n}."), t([a("a")]));
        assert_eq!(read("{a}.\u{0}"), t([a("a")]));
        assert_eq!(read("{\u{a0}a\r\n}\t.\r"), t([a("a")]));
        assert_eq!(read("\u{85}a\u{a0}."), a("a"));
        // `.` not followed by white space is not a full stop.
        fails("a.b.", "parse", 1);
        assert_eq!(msg(&fails("{a}.{b}.", "parse", 1)), "syntax error before: '.'");
        // Other symbols are tokens, and so parse errors rather than scan errors.
        fails("{a,\u{7f}}.", "parse", 1);
        fails("{a,¡}.", "parse", 1);
        fails("{a,`}.", "parse", 1);
        fails("{a,...}.", "parse", 1);
        fails("{a,..}.", "parse", 1);
        fails("a;b.", "parse", 1);
        // Characters above Latin-1 outside strings, atoms and comments are illegal.
        fails("{a,☃}.", "scan", 1);
        fails("\u{feff}{a}.", "scan", 1);
        // U+FFFE is not a character erl_scan accepts even in a comment.
        fails("% \u{fffe}\n{a}.", "scan", 1);
        assert_eq!(read("% \u{fffd} 日本\n{a}."), t([a("a")]));
    }

    #[test]
    fn end_of_input() {
        for (src, line) in [("", 1), ("\n\n", 3), ("% hi\n%x", 2), ("  \n \t", 2)] {
            let e = fails(src, "eof", line);
            assert_eq!(msg(&e), "unexpected end of file");
            assert_eq!(read_all_terms(src.as_bytes(), "t").unwrap(), vec![]);
        }
        // No terminating dot: reported on the line of the last token.
        assert_eq!(msg(&fails("{a,b}", "parse", 1)), "missing terminating dot");
        fails("{a,\nb}\n\n", "parse", 2);
        fails("[\n\n\n", "parse", 1);
        fails("{a}\n%x\n", "parse", 1);
        // With a syntax error too, that error is the one reported, as in OTP.
        fails("{a}.b", "parse", 1);
        fails("{a b", "parse", 1);
        fails("{a,\n\n}", "parse", 3);
        assert!(read_all_terms(b"{a}.\n{b}", "t").is_err());
    }

    #[test]
    fn only_the_first_form_is_read() {
        assert_eq!(read("{a}. garbage '"), t([a("a")]));
        assert_eq!(read_bytes(b"{a}. \xff garbage"), t([a("a")]));
        assert_eq!(read("{a}.\n\"unterminated"), t([a("a")]));
        assert_eq!(read("{a}. {b}."), t([a("a")]));
        // The character after the dot is part of the dot, so must decode.
        assert_eq!(msg(&fail(b"{a}.\xff")), "invalid UTF-8");
        // A syntax error in the first form is the result, whatever follows.
        fails("{a b}. \"unterminated", "parse", 1);
        // But a scan error in the same form beats an earlier syntax error.
        fails("{a} {b} \"unterminated", "scan", 1);
        fails("{a} {b} 1.0e999.", "scan", 1);
        let e = fail(b"{a b} \n\n\xff.");
        assert_eq!((e.line, msg(&e).as_str()), (3, "invalid UTF-8"));
    }

    #[test]
    fn read_all() {
        let all = read_all_terms(b"{a}.\n%c\n[1]. \"s\".\n", "t").unwrap();
        assert_eq!(all, vec![t([a("a")]), l([i(1)]), s("s")]);
        let e = read_all_terms(b"{a}.\n{b,}.\n", "t").unwrap_err();
        assert_eq!((e.line, msg(&e).as_str()), (2, "syntax error before: '}'"));
        let e = read_all_terms(b"{a}. garbage '", "t").unwrap_err();
        assert!(matches!(e.kind, ReadErrorKind::Scan(_)), "{e}");
        let e = read_all_terms(b"a.\n\nb, c.", "t").unwrap_err();
        assert_eq!((e.line, msg(&e).as_str()), (3, "bad term"));
    }

    #[test]
    fn error_lines() {
        fails("{a,\n\n}.", "parse", 3);
        fails("{a,\n\n1.0e}.", "scan", 3);
        fails("\n(\n\nX).", "parse", 4);
        fails("{\n\nX}.", "parse", 1);
        fails("{'a'\n,\n\n}.", "parse", 4);
        fails("a,\n\nb.", "parse", 3);
        fails("{a,\n\n\"x\\q\n\\x{}\"}.", "scan", 4);
        let e = fails("\n{a,\n b c}.", "parse", 3);
        assert_eq!(e.to_string(), "t:3: syntax error before: c");
        assert_eq!(fail(b"[\n\n\n").to_string(), "t:1: missing terminating dot");
    }

    #[test]
    fn syntax_error_messages() {
        for (src, m) in [
            ("{a,}.", "syntax error before: '}'"),
            ("{a b}.", "syntax error before: b"),
            ("{a 'B'}.", "syntax error before: 'B'"),
            ("{a 1}.", "syntax error before: 1"),
            ("{a 1.5}.", "syntax error before: 1.5"),
            ("{a \"s\"}.", "syntax error before: \"s\""),
            ("{a $x}.", "syntax error before: $x"),
            ("{a end}.", "syntax error before: 'end'"),
            ("{a {}.", "syntax error before: '{'"),
            ("{a, {}.", "syntax error before: '.'"),
        ] {
            assert_eq!(msg(&fail(src.as_bytes())), m, "{src}");
        }
    }

    #[test]
    fn encoding_declarations() {
        let latin1 = |body: &[u8]| {
            let mut v = b"%% coding: latin-1\n".to_vec();
            v.extend_from_slice(body);
            v
        };
        assert_eq!(read_bytes(&latin1(b"'\xe9'.")), a("é"));
        assert_eq!(read_bytes(&latin1(b"\xe9a.")), a("éa"));
        assert_eq!(read_bytes(&latin1(b"\"\xe9\xff\x80\".")), l([i(233), i(255), i(128)]));
        assert_eq!(read_bytes(&latin1(b"{\xa0a}.")), t([a("a")]));
        assert_eq!(read_bytes(&latin1(b"<<\"\xe9\"/utf8>>.")), bin("é".as_bytes()));
        fails(std::str::from_utf8(&latin1(b"")).unwrap(), "eof", 2);
        assert!(matches!(fail(&latin1(b"\xc9a.")).kind, ReadErrorKind::Parse(_)));
        for header in [
            &b"%% -*- coding: latin-1 -*-\n"[..],
            b"\n%% coding: latin-1\n",
            b"x % coding: latin-1\n",
            b"%% encoding = LATIN-1-foo\n",
            b"%% coding:latin-1\n",
            b"%% cod coding latin-1 coding: latin-1\n",
            b"%coding:  Latin-1",
        ] {
            let mut v = header.to_vec();
            v.extend_from_slice(b"\n'\xe9'.");
            match read_first_term(&v, "t") {
                Ok(t) => assert_eq!(t, a("é"), "{:?}", String::from_utf8_lossy(header)),
                // `x % coding...` is latin-1 but `x 'é'` is not a term.
                Err(e) => assert!(header.starts_with(b"x") && matches!(e.kind, ReadErrorKind::Parse(_)), "{e}"),
            }
        }
        for header in [
            &b"\n\n%% coding: latin-1\n"[..],
            b"%% coding: latin1\n",
            b"%% coding: utf-8\n",
            b"%% coding: bogus coding: latin-1\n",
            b"coding: latin-1\n",
            b"%% coding latin-1\n",
        ] {
            let mut v = header.to_vec();
            v.extend_from_slice(b"'\xe9'.");
            assert_eq!(msg(&fail(&v)), "invalid UTF-8", "{:?}", String::from_utf8_lossy(header));
        }
        // epp reads no more than 512 bytes looking for the declaration.
        let mut v = format!("%{}coding: latin-1\n", " ".repeat(490)).into_bytes();
        v.extend_from_slice(b"'\xe9'.");
        assert_eq!(read_bytes(&v), a("é"));
        let mut v = format!("%{}coding: latin-1\n", " ".repeat(500)).into_bytes();
        v.extend_from_slice(b"'\xe9'.");
        assert!(read_first_term(&v, "t").is_err());
        // UTF-8 is the default.
        assert_eq!(read("'é'."), a("é"));
        assert_eq!(read("%% coding: utf-8\n'é'."), a("é"));
    }

    #[test]
    fn invalid_utf8() {
        for src in [
            &b"{a,\xff}."[..],
            b"\"\xff\".",
            b"% \xff\n{a}.",
            b"a\xff.",
            b"\xc3",
            b"'a\xed\xa0\x80'.",
            b"$\xf4\x90\x80\x80.",
        ] {
            let e = fail(src);
            assert_eq!(msg(&e), "invalid UTF-8", "{src:?}");
            assert!(matches!(e.kind, ReadErrorKind::Scan(_)));
        }
        assert_eq!(fail(b"{a,\n\n\xff}.").line, 3);
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        for open in ["[", "{", "(", "- ", "#{a=>", "<<(", "[a|", "<<-(", "<<1:("] {
            let src = format!("{} .", open.repeat(200_000));
            let e = fail(src.as_bytes());
            assert_eq!(msg(&e), "nesting too deep", "{open}: {e}");
        }
        assert_eq!(msg(&fail("[".repeat(200_000).as_bytes())), "nesting too deep");
        // The limit itself is allowed, and such terms drop, clone and compare fine.
        let nested = |n: usize| format!("{}a{}.", "[".repeat(n), "]".repeat(n));
        let term = read(&nested(MAX_DEPTH));
        assert!(term.clone() == term);
        assert_eq!(msg(&fails(&nested(MAX_DEPTH + 1), "parse", 1)), "nesting too deep");
        let key = format!("{}x{}", "{".repeat(MAX_DEPTH - 1), "}".repeat(MAX_DEPTH - 1));
        assert!(matches!(read(&format!("#{{{key} => 1, {key} => 2}}.")), Term::Map(m) if m.len() == 1));
    }

    #[test]
    fn realistic_app_file() {
        let src = r#"%% -*- erlang -*-
{application, fastrel,
 [{description, "Fast \"release\" tooling"},
  {vsn, "0.1.0"},
  {modules, [fastrel_cli, relnif]},
  {registered, []},
  {applications, [kernel, stdlib, sasl]},
  {env, [{opt, #{'key' => <<"value">>, n => -1.5e-3}}, {list, [1, 2 | [3]]}]},
  {mod, {fastrel_app, []}}
 ]}.
"#;
        let term = read(src);
        let Term::Tuple(items) = &term else { panic!() };
        assert_eq!(items[0], a("application"));
        assert_eq!(items[1], a("fastrel"));
        let props = items[2].as_list().unwrap();
        assert_eq!(props[0], t([a("description"), s("Fast \"release\" tooling")]));
        assert_eq!(
            props[5],
            t([
                a("env"),
                l([
                    t([a("opt"), Term::map(vec![(a("key"), bin(b"value")), (a("n"), Term::Float(-1.5e-3))])]),
                    t([a("list"), l([i(1), i(2), i(3)])])
                ])
            ])
        );
        assert_eq!(read_all_terms(src.as_bytes(), "x").unwrap(), vec![term]);
    }

    #[test]
    fn a_large_app_file() {
        // ~100 KB of typical .app content.
        let mut src = String::from("{application, big, [{vsn, \"1.0.0\"}, {modules, [");
        let mut k: usize = 0;
        while src.len() < 100_000 {
            src.push_str(&format!("mod_{k:05}, "));
            if k.is_multiple_of(7) {
                src.push_str(&format!("\n  {{env_{k}, \"some string value {k}\", [{k}, {k}.5, <<\"bin\">>]}}, "));
            }
            k += 1;
        }
        src.push_str("last]}]}.\n");
        // Speed is bench/'s business (make_script.escript); here, that it all reads.
        let t = read(&src);
        let items = t.as_tuple().unwrap()[2].as_list().unwrap();
        let modules = items[1].as_tuple().unwrap()[1].as_list().unwrap();
        assert_eq!(modules.len(), k + 1 + k.div_ceil(7));
        assert_eq!(modules.last(), Some(&Term::atom("last")));
    }

    #[test]
    fn f16_rounding() {
        for (x, bits) in [
            (0.0, 0x0000),
            (-0.0, 0x8000),
            (1.0, 0x3C00),
            (-2.0, 0xC000),
            (65504.0, 0x7BFF),
            (65519.99, 0x7BFF),
            (65520.0, 0x7C00),
            (1e10, 0x7C00),
            (6.103515625e-5, 0x0400),        // 2^-14, smallest normal
            (5.960464477539063e-8, 0x0001),  // 2^-24, smallest subnormal
            (2.9802322387695312e-8, 0x0000), // 2^-25 ties to even (zero)
            (2.980232238769532e-8, 0x0001),  // just above the tie
            (1.0009765625, 0x3C01),
            (1.00048828125, 0x3C00), // tie, to even
            (1.00146484375, 0x3C02), // tie, to even (up)
        ] {
            assert_eq!(f16_bits(x), bits, "{x}");
        }
    }

    #[test]
    fn bitbuf_alignment() {
        let mut b = BitBuf::default();
        b.push(&[0b1010_0000], 3).unwrap();
        b.push(&[0xFF, 0x80], 9).unwrap();
        b.push(&[0x00], 4).unwrap();
        assert_eq!((b.bytes.as_slice(), b.bits), (&[0b1011_1111, 0b1111_0000][..], 16));
    }

    // ---- differential testing against OTP -----------------------------------------------

    fn oracle_decode(bytes: &[u8]) -> Term {
        crate::etf::decode(bytes).expect("the oracle wrote valid ETF")
    }

    /// Exact structural equality: unlike `==`, floats compare by bit pattern, so a lost
    /// sign of zero or a last-bit rounding difference shows.
    fn same(a: &Term, b: &Term) -> bool {
        let all = |x: &[Term], y: &[Term]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q));
        match (a, b) {
            (Term::Float(x), Term::Float(y)) => x.to_bits() == y.to_bits(),
            (Term::List(x), Term::List(y)) | (Term::Tuple(x), Term::Tuple(y)) => all(x, y),
            (Term::Improper(x, xt), Term::Improper(y, yt)) => all(x, y) && same(xt, yt),
            // The VM's order of a map's pairs is its own (atom index since OTP 26).
            (Term::Map(x), Term::Map(y)) => {
                x.len() == y.len() && x.iter().all(|(k1, v1)| y.iter().any(|(k2, v2)| same(k1, k2) && same(v1, v2)))
            }
            _ => a == b,
        }
    }

    /// Runs the oracle escript; `None` (with a note) when there is no `escript`.
    fn oracle_cases(mode: &str, seed: u64, n: usize) -> Option<Vec<(String, Vec<u8>, Term)>> {
        crate::oracle::escript_on_path()?;
        SCANNER_RULES_HERE.with(|c| c.set(Some(crate::oracle::vm_scanner_rules())));
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reader_oracle.escript");
        let dir = std::env::temp_dir().join(format!("fastrel_reader_oracle_{mode}_{}", std::process::id()));
        let run = std::process::Command::new("escript")
            .arg(&script)
            .arg(mode)
            .arg(&dir)
            .arg(seed.to_string())
            .arg(n.to_string())
            .output();
        let out = match run {
            Err(e) => panic!("running {}: {e}", script.display()),
            Ok(out) => out,
        };
        assert!(out.status.success(), "oracle failed: {}", String::from_utf8_lossy(&out.stderr));
        let cases = (1..=n)
            .map(|i| {
                let base = dir.join(format!("case_{i:04}"));
                let text = std::fs::read(base.with_extension("txt")).unwrap();
                let expected = oracle_decode(&std::fs::read(base.with_extension("etf")).unwrap());
                (base.with_extension("txt").display().to_string(), text, expected)
            })
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        Some(cases)
    }

    fn tagged<'t>(t: &'t Term, tag: &str) -> Option<&'t [Term]> {
        t.as_tuple().filter(|items| items.first().is_some_and(|h| h.is_atom(tag)))
    }

    #[test]
    fn matches_otp_on_random_valid_terms() {
        let seed = std::env::var("FASTREL_ORACLE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20240611);
        let Some(cases) = oracle_cases("valid", seed, 500) else { return };
        let mut compared_all = 0;
        for (name, text, expected) in &cases {
            let [first, all] = expected.as_tuple().unwrap() else { panic!("{expected:?}") };
            let want = &tagged(first, "ok").unwrap_or_else(|| panic!("{name}: {first:?}"))[1];
            let got = read_first_term(text, name).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(text)));
            assert!(same(&got, want), "{name}\n{}\nread {got:?}\nOTP  {want:?}", String::from_utf8_lossy(text));
            if let Some([_, want_all]) = tagged(all, "ok") {
                let got_all = read_all_terms(text, name).unwrap_or_else(|e| panic!("{e}"));
                assert!(same(&Term::List(got_all), want_all), "{name}: read_all_terms differs");
                compared_all += 1;
            }
        }
        assert!(compared_all > cases.len() / 2, "{compared_all}");
    }

    /// Mostly-broken input: whether a file reads, and if not whether the scanner or the
    /// parser refuses it, must agree with OTP; so must the term when it does read.
    #[test]
    fn matches_otp_on_mutated_text() {
        let seed = std::env::var("FASTREL_ORACLE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(77);
        let Some(cases) = oracle_cases("errors", seed, 500) else { return };
        let (mut line_mismatch, mut operator_then_eof) = (Vec::new(), Vec::new());
        let mut outcomes = std::collections::BTreeMap::new();
        for (name, text, expected) in &cases {
            let [first, all] = expected.as_tuple().unwrap() else { panic!("{expected:?}") };
            let shown = String::from_utf8_lossy(text);
            let class = match first {
                Term::Atom(a) => a.clone(),
                Term::Tuple(t) if t.len() == 3 => format!("parse/{:?}", t[2]),
                Term::Tuple(t) => format!("{:?}", t[0]),
                _ => "?".into(),
            };
            *outcomes.entry(class).or_insert(0) += 1;
            for (want, got) in
                [(first, read_first_term(text, name).map(|t| vec![t])), (all, read_all_terms(text, name))]
            {
                let is_first = std::ptr::eq(want, first);
                match (want, &got) {
                    (Term::Atom(a), _) if a == "skip" => {}
                    (Term::Atom(a), Err(e)) if a == "read" => {
                        assert!(matches!(e.kind, ReadErrorKind::Scan(_) | ReadErrorKind::Eof), "{name}: {e}\n{shown}")
                    }
                    // file:consult crashes on some undecodable input after a term.
                    (Term::Atom(a), Err(_)) if a == "crash" => {}
                    (w, Ok(terms)) if tagged(w, "ok").is_some() => {
                        let v = &tagged(w, "ok").unwrap()[1];
                        let got = if is_first { terms[0].clone() } else { Term::List(terms.clone()) };
                        assert!(same(&got, v), "{name}\n{shown}\nread {got:?}\nOTP  {v:?}");
                    }
                    (w, Err(e)) if tagged(w, "scan").is_some() => {
                        assert!(matches!(e.kind, ReadErrorKind::Scan(_)), "{name}: {e}\n{shown}");
                    }
                    (w, Err(e)) if tagged(w, "parse").is_some() => {
                        let p = tagged(w, "parse").unwrap();
                        let line = match p[1] {
                            Term::Int(l) => l as u32,
                            _ => panic!("{w:?}"),
                        };
                        if p[2].is_atom("missing_dot") {
                            match &e.kind {
                                ReadErrorKind::Parse(m) if m == "missing terminating dot" => {
                                    assert_eq!(e.line, line, "{name}\n{shown}")
                                }
                                // erl_parse took an operator we refuse (`{a} :`) as the
                                // start of an expression, and ran out of tokens after it.
                                ReadErrorKind::Parse(m) if m.starts_with("syntax error before: ") => {
                                    operator_then_eof.push(format!("{name}: {e}"))
                                }
                                _ => panic!("{name}: {e}, OTP: missing dot\n{shown}"),
                            }
                        } else {
                            assert!(matches!(e.kind, ReadErrorKind::Parse(_)), "{name}: {e} vs {w:?}\n{shown}");
                            if e.line != line {
                                line_mismatch.push(format!("{name}: OTP line {line} {:?}, ours {e}", p[2]));
                            }
                        }
                    }
                    (w, got) => panic!("{name}: OTP {w:?}, ours {got:?}\n{shown}"),
                }
            }
        }
        println!("read_term outcomes: {outcomes:?}");
        println!("{} parse errors reported on another line than OTP's:", line_mismatch.len());
        for m in &line_mismatch {
            println!("  {m}");
        }
        println!("{} dotless forms OTP reads as operator expressions:", operator_then_eof.len());
        for m in &operator_then_eof {
            println!("  {m}");
        }
    }

    // ---- robustness ------------------------------------------------------------------

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const CORPUS: &[&str] = &[
        "{a, 'b c', \"str\\n\\x{41}\", 16#FF, 1.5e-3, $\\^A, [1, 2 | c], #{k => <<\"v\"/utf8>>}}.",
        "%% coding: latin-1\n{'\u{e9}', \"x\"}.",
        "<<1:4, 16#ABC:12/little, \"ab\":16, 1.5:16/float, <<7>>/binary, $a/utf16>>.",
        "[{kernel, [{logger_level, info}]}, {sasl, [{sasl_error_logger, false}]}].\n{x}.",
        "{release, {\"r\", \"1\"}, {erts, \"13.0\"}, [{kernel, \"8.0\"}, {stdlib, \"4.0\", load}]}.",
        "fun m:f/1. - (1). (a). \"a\" \"b\". 'end'. [a|[b|c]].",
        "{1_000, 2#1_0, 36#zZ, -9223372036854775809, 1_0.5e1_0}.",
        "% c\n\n{a,\n\n}.",
    ];

    fn check_total(input: &[u8]) {
        let first = read_first_term(input, "f");
        let all = read_all_terms(input, "f");
        // When every form reads, the first of them is what read_first_term returns.
        if let (Ok(all), Ok(first)) = (&all, &first) {
            assert_eq!(all.first(), Some(first), "{:?}", String::from_utf8_lossy(input));
        }
        for e in [first.err(), all.err()].into_iter().flatten() {
            let lines = input.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            assert!(e.line >= 1 && e.line <= lines, "{e} for {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn never_panics_on_random_input() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        // Bytes weighted towards the ones the scanner treats specially.
        let alphabet: &[u8] = b"{}[]()<<>>#=>:|,.$%\"'\\^_-+/ \n\t0123456789abcxyzXY#efEFuntil\xc3\xa9\xff\xef\xbf";
        for round in 0..200_000 {
            let len = rng.below(48);
            let input: Vec<u8> = (0..len)
                .map(|_| if round % 4 == 0 { rng.next() as u8 } else { alphabet[rng.below(alphabet.len())] })
                .collect();
            check_total(&input);
        }
    }

    #[test]
    fn never_panics_on_mutated_input() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for round in 0..40_000 {
            let mut input = CORPUS[round % CORPUS.len()].as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(input.len() + 1);
                match rng.below(4) {
                    0 => input.truncate(at),
                    1 if at < input.len() => input[at] ^= 1 << rng.below(8),
                    2 => input.insert(at, rng.next() as u8),
                    _ => {
                        let from = rng.below(input.len() + 1);
                        let chunk: Vec<u8> = input[from.min(at)..from.max(at)].to_vec();
                        input.splice(at..at, chunk);
                    }
                }
            }
            check_total(&input);
        }
    }
}
