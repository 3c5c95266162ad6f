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

mod bits;
mod parser;
mod scanner;
#[cfg(test)]
mod tests;

use crate::term::Term;
use parser::Parser;
use scanner::{Scanner, Tok, Token, BAD};
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
