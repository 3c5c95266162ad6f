// SPDX-License-Identifier: Apache-2.0
//! The scanner: `erl_scan`'s token rules, and the encoding `epp` reads from a file's first lines.

use super::*;
use num_bigint::BigInt;

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
pub(super) const BAD: u32 = u32::MAX;

// A word-sized tag keeps the payload word-aligned, so that tokens move as whole words:
// with the default layout they were copied at byte offsets, which defeats store-to-load
// forwarding and made scanning ~40% slower.
#[derive(Debug, Clone, PartialEq)]
#[repr(u64)]
pub(super) enum Tok {
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
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: u32,
}

pub(super) const RESERVED: [&str; 27] = [
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond", "div",
    "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor",
];

pub(super) fn reserved(name: &str) -> Option<&'static str> {
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

pub(super) fn is_lower(c: u32) -> bool {
    (u32::from(b'a')..=u32::from(b'z')).contains(&c) || ((0xDF..=0xFF).contains(&c) && c != 0xF7)
}

fn is_upper(c: u32) -> bool {
    (u32::from(b'A')..=u32::from(b'Z')).contains(&c) || ((0xC0..=0xDE).contains(&c) && c != 0xD7)
}

pub(super) fn is_name_char(c: u32) -> bool {
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

pub(super) struct Scanner<'a> {
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
    pub(super) line: u32,
    /// Line of the last token returned: where a missing dot is reported.
    pub(super) last_line: u32,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(src: &'a [u8]) -> Scanner<'a> {
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

    pub(super) fn next_token(&mut self) -> Result<Token, Fail> {
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
