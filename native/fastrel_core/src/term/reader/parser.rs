// SPDX-License-Identifier: Apache-2.0
//! The parser: the term subset of `erl_parse`'s grammar, as `erl_parse:parse_term/1` folds it.

use super::bits::*;
use super::scanner::*;
use super::*;
use crate::term::map_key_cmp;
use num_bigint::BigInt;
use std::cmp::Ordering;

// ---------------------------------------------------------------------------------------
// Parser

/// What a parsed expression is, as far as `erl_parse:normalise/1` cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// An integer, character or float literal: unary `-`/`+` may apply to it.
    Number,
    /// String literals: a binary segment treats them character by character.
    String,
    Other,
}

/// A parsed expression. `line` is its first location in erl_parse's sense: its leftmost
/// token, parentheses aside.
pub(super) struct Val {
    pub(super) term: Term,
    pub(super) kind: Kind,
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

pub(super) struct Segment {
    pub(super) value: Val,
    pub(super) size: Option<Term>,
    pub(super) types: Vec<(String, Option<Term>)>,
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

pub(super) struct Parser<'a> {
    pub(super) sc: Scanner<'a>,
    peeked: Option<Token>,
    /// The form parses but `parse_term` would reject it ("bad term"); the error waits
    /// for the end of the form because a later syntax error takes precedence.
    bad: bool,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a [u8]) -> Parser<'a> {
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
    pub(super) fn next_form(&mut self) -> Result<Option<Term>, Fail> {
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
                    Tok::Atom(a) => break Val::other(Term::Atom(a.into()), line),
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
