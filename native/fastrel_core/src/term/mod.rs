// SPDX-License-Identifier: Apache-2.0
//! The term toolkit: Erlang terms as release files hold them, and every way they are read
//! and written, with no knowledge of releases.
//!
//! [`Term`] has Erlang's own equality and order ([`term_cmp`], [`map_key_cmp`]). Strings
//! are not a separate kind: `"ab"` is the list `[97,98]`, exactly as in Erlang, so that
//! equality, ordering and encoding need no special cases. Around it: [`reader`] reads term
//! text (`file:consult/1`), [`etf`] is a byte-exact External Term Format codec
//! (`term_to_binary/1`), [`pretty`] prints as `~tp` does, and [`vm`] is the one thing only
//! a running VM knows (the order of a map's atom keys). Nothing here imports the systools
//! port built on top of it.

use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::cmp::Ordering;

pub use name::Name;

pub mod etf;
pub mod name;
#[cfg(test)]
mod oracle;
pub mod pretty;
pub mod reader;
pub mod vm;

/// The deepest nesting of containers (lists, tuples, maps, an improper list's tail) a
/// [`Term`] made from input can have: the one limit of every entry point, the text reader
/// (`consult`, `.rel`, `.app`, `.script`: a `nesting too deep` parse error) and the ETF
/// decoder (`.boot`, NIF arguments: [`crate::term::etf::EtfError::TooDeep`]). Both are
/// iterative and check the depth before they descend, so a 100,000-level input is an
/// error, not a crash.
///
/// Past the entry points a term is walked recursively, once per level, by `Drop`, `Clone`,
/// `Debug`, the comparisons here ([`term_cmp`], [`map_key_cmp`], `==`), [`Term::string_p`]
/// and the `~tp` printer ([`crate::term::pretty`]); the ETF encoder and the map-ordering walks
/// of [`crate::term::vm`] are iterative. Measured in a release build (`cargo test --release -p
/// fastrel_core --test depth -- --ignored stack_cost`), per level: the printer ~415 bytes,
/// `Clone` and the comparisons ~300, `Debug` ~240, `Drop` and `string_p` ~65. The NIFs run
/// on dirty IO schedulers, whose stack is 40 kilowords (320 KiB) by default (`erl
/// +sssdio`), and a NIF adds a few levels of its own (a script's
/// `{script, _, [{apply, {application, load, [{application, _, [{env, Env}]}]}}]}`):
/// 264 levels at 415 bytes are ~110 KiB, a third of that stack, leaving room for the
/// VM's own frames and for compilers that lay out frames less tightly; it even fits in
/// the smallest stack the VM allows (`+sssdio 20`, 160 KiB). Real release files nest a
/// dozen levels at most. `tests/depth.rs` runs every walk at this depth on a thread with
/// a dirty IO scheduler's stack (eight times that in debug builds), and
/// `tests/relnif_depth_tests.erl` runs the NIFs at and past it in a VM of their own, at
/// the default stack and at `+sssdio 20`.
pub const MAX_DEPTH: usize = 256;

/// An Erlang term as it can appear in a `.rel`, `.app`, `.script` or `.boot` file.
#[derive(Debug, Clone)]
pub enum Term {
    /// An atom; the name is its characters (Erlang atoms hold up to 255 code points).
    Atom(Name),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer outside the `i64` range (never holds a value that fits in `i64`).
    Big(BigInt),
    /// A float.
    Float(f64),
    /// A proper list, `[]` included.
    List(Vec<Term>),
    /// An improper list `[A, B | Tail]` with at least one element and a tail that is not a list.
    Improper(Vec<Term>, Box<Term>),
    /// A tuple.
    Tuple(Vec<Term>),
    /// A binary.
    Binary(Vec<u8>),
    /// A bitstring whose last byte holds `bits` (1..=7) significant high bits.
    Bits(Vec<u8>, u8),
    /// A map; pairs kept sorted by key in map-key order, keys unique.
    Map(Vec<(Term, Term)>),
    /// An external fun `fun Module:Function/Arity`, the one fun `file:consult/1` reads.
    Export(String, String, u8),
    /// Pids, ports, references and local funs: they never occur in release files, but a decoded
    /// `.boot` could hold one; kept as their raw external-format bytes (tag included).
    Opaque(Vec<u8>),
}

impl Term {
    /// An atom from a name.
    pub fn atom(name: &str) -> Term {
        Term::Atom(Name::from(name))
    }

    /// A string, i.e. a list of code points.
    pub fn string(s: &str) -> Term {
        // `chars()` guesses a quarter of the length; most text here is ASCII.
        let mut l = Vec::with_capacity(s.len());
        l.extend(s.chars().map(|c| Term::Int(c as i64)));
        Term::List(l)
    }

    /// A tuple from its elements.
    pub fn tuple<I: IntoIterator<Item = Term>>(items: I) -> Term {
        Term::Tuple(items.into_iter().collect())
    }

    /// A proper list from its elements.
    pub fn list<I: IntoIterator<Item = Term>>(items: I) -> Term {
        Term::List(items.into_iter().collect())
    }

    /// `[]`.
    pub fn nil() -> Term {
        Term::List(Vec::new())
    }

    /// An integer, normalised: `Int` when it fits in `i64`, `Big` otherwise.
    pub fn int(v: BigInt) -> Term {
        match v.to_i64() {
            Some(i) => Term::Int(i),
            None => Term::Big(v),
        }
    }

    /// A map from pairs in any order; a later duplicate key replaces an earlier one.
    pub fn map(pairs: Vec<(Term, Term)>) -> Term {
        let mut out: Vec<(Term, Term)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match out.binary_search_by(|(ok, _)| map_key_cmp(ok, &k)) {
                Ok(i) => out[i].1 = v,
                Err(i) => out.insert(i, (k, v)),
            }
        }
        Term::Map(out)
    }

    /// Returns the atom's name if and only if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// Returns true if and only if this is the atom `name`.
    pub fn is_atom(&self, name: &str) -> bool {
        matches!(self, Term::Atom(a) if a == name)
    }

    /// Returns the elements if and only if this is a proper list.
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(l) => Some(l),
            _ => None,
        }
    }

    /// Returns the elements if and only if this is a tuple.
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(t) => Some(t),
            _ => None,
        }
    }

    /// The string this term spells, if it is a string in the sense of systools' `string_p`
    /// (`unicode:characters_to_list(X) =:= X`): a flat list of valid code points.
    ///
    /// Returns `Err(())` when `characters_to_list` itself would raise `badarg` (the term is
    /// not chardata: an atom, number, tuple, map, or a list holding one, or an improper
    /// tail that is not a binary), `Ok(None)` when it is chardata that is not a flat string
    /// (a binary, nested lists, an integer that is no code point: the conversion stops
    /// there with an error tuple).
    #[allow(clippy::result_unit_err)]
    pub fn string_p(&self) -> Result<Option<String>, ()> {
        match self {
            Term::List(l) => {
                let mut s = String::with_capacity(l.len());
                let mut flat = true;
                for e in l {
                    match e {
                        Term::Int(i) => match u32::try_from(*i).ok().and_then(char::from_u32) {
                            Some(c) if flat => s.push(c),
                            Some(_) => {}
                            // The conversion stops at the first non-code-point.
                            None => return Ok(None),
                        },
                        Term::Big(_) => return Ok(None),
                        Term::List(_) | Term::Improper(..) => {
                            flat = false;
                            if !chardata(e)? {
                                return Ok(None);
                            }
                        }
                        Term::Binary(_) => flat = false,
                        _ => return Err(()),
                    }
                }
                Ok(if flat { Some(s) } else { None })
            }
            Term::Improper(..) => chardata(self).map(|_| None),
            Term::Binary(_) => Ok(None),
            _ => Err(()),
        }
    }

    /// The list of atom names, if this is a proper list of atoms.
    pub fn atom_list(&self) -> Option<Vec<&str>> {
        let l = self.as_list()?;
        let mut out = Vec::with_capacity(l.len());
        for t in l {
            out.push(t.as_atom()?);
        }
        Some(out)
    }

    fn class(&self) -> u8 {
        match self {
            Term::Int(_) | Term::Big(_) | Term::Float(_) => 0,
            Term::Atom(_) => 1,
            Term::Export(..) | Term::Opaque(_) => 2,
            Term::Tuple(_) => 3,
            Term::Map(_) => 4,
            Term::List(l) if l.is_empty() => 5,
            Term::List(_) | Term::Improper(..) => 6,
            Term::Binary(_) | Term::Bits(..) => 7,
        }
    }
}

/// Erlang's term order (`<`, `==`): numbers compare by value, `1 == 1.0`.
pub fn term_cmp(a: &Term, b: &Term) -> Ordering {
    cmp(a, b, false)
}

/// The order of keys in a small (flat) map: like term order, except that an integer is
/// always less than a float (keys compare exactly, `1 =/= 1.0`).
pub fn map_key_cmp(a: &Term, b: &Term) -> Ordering {
    cmp(a, b, true)
}

/// Whether `t` converts with `unicode:characters_to_list/1`: `Err(())` where it would
/// raise `badarg`, `Ok(false)` where it stops at an integer that is no code point.
fn chardata(t: &Term) -> Result<bool, ()> {
    let (items, tail) = match t {
        Term::List(l) => (l.as_slice(), None),
        Term::Improper(l, tail) => (l.as_slice(), Some(tail.as_ref())),
        Term::Binary(_) => return Ok(true),
        _ => return Err(()),
    };
    for e in items {
        match e {
            Term::Int(i) => {
                if u32::try_from(*i).ok().and_then(char::from_u32).is_none() {
                    return Ok(false);
                }
            }
            Term::Big(_) => return Ok(false),
            Term::List(_) | Term::Improper(..) | Term::Binary(_) => {
                if !chardata(e)? {
                    return Ok(false);
                }
            }
            _ => return Err(()),
        }
    }
    match tail {
        None | Some(Term::Binary(_)) => Ok(true),
        Some(_) => Err(()),
    }
}

fn num_cmp(a: &Term, b: &Term, exact: bool) -> Ordering {
    match (a, b) {
        (Term::Int(x), Term::Int(y)) => x.cmp(y),
        (Term::Float(x), Term::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Term::Float(_), _) if exact => Ordering::Greater,
        (_, Term::Float(_)) if exact => Ordering::Less,
        (Term::Float(x), i) => float_int_cmp(*x, i),
        (i, Term::Float(y)) => float_int_cmp(*y, i).reverse(),
        (x, y) => big_of(x).cmp(&big_of(y)),
    }
}

fn big_of(t: &Term) -> BigInt {
    match t {
        Term::Int(i) => BigInt::from(*i),
        Term::Big(b) => b.clone(),
        _ => BigInt::from(0),
    }
}

fn float_int_cmp(f: f64, i: &Term) -> Ordering {
    let fi = match i {
        Term::Int(v) => *v as f64,
        Term::Big(b) => b.to_f64().unwrap_or(f64::INFINITY),
        _ => 0.0,
    };
    match f.partial_cmp(&fi) {
        Some(Ordering::Equal) => {
            // Equal as doubles: compare exactly through the integer value of the float.
            let fb = num_bigint::BigInt::from(f as i128);
            fb.cmp(&big_of(i))
        }
        Some(o) => o,
        None => Ordering::Equal,
    }
}

fn cmp_seq(a: &[Term], b: &[Term], exact: bool) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = cmp(x, y, exact);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn cmp(a: &Term, b: &Term, exact: bool) -> Ordering {
    let (ca, cb) = (a.class(), b.class());
    if ca != cb {
        return ca.cmp(&cb);
    }
    match (a, b) {
        // UTF-8 byte order is code point order, i.e. Erlang atom order.
        (Term::Atom(x), Term::Atom(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Term::Tuple(x), Term::Tuple(y)) => x.len().cmp(&y.len()).then_with(|| cmp_seq(x, y, exact)),
        (Term::Map(x), Term::Map(y)) => x.len().cmp(&y.len()).then_with(|| {
            for ((kx, _), (ky, _)) in x.iter().zip(y) {
                let o = map_key_cmp(kx, ky);
                if o != Ordering::Equal {
                    return o;
                }
            }
            for ((_, vx), (_, vy)) in x.iter().zip(y) {
                let o = cmp(vx, vy, exact);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        }),
        (Term::Binary(_) | Term::Bits(..), Term::Binary(_) | Term::Bits(..)) => bits_of(a).cmp(&bits_of(b)),
        (Term::Export(m1, f1, a1), Term::Export(m2, f2, a2)) => {
            (m1.as_bytes(), f1.as_bytes(), a1).cmp(&(m2.as_bytes(), f2.as_bytes(), a2))
        }
        (Term::Export(..), Term::Opaque(_)) => Ordering::Less,
        (Term::Opaque(_), Term::Export(..)) => Ordering::Greater,
        (Term::Opaque(x), Term::Opaque(y)) => x.cmp(y),
        _ if ca == 0 => num_cmp(a, b, exact),
        _ => {
            // Lists (proper or improper): element-wise, then the tails.
            let (xs, xt) = list_parts(a);
            let (ys, yt) = list_parts(b);
            for (x, y) in xs.iter().zip(ys) {
                let o = cmp(x, y, exact);
                if o != Ordering::Equal {
                    return o;
                }
            }
            let nil = Term::List(Vec::new());
            match xs.len().cmp(&ys.len()) {
                Ordering::Equal => match (xt, yt) {
                    (None, None) => Ordering::Equal,
                    _ => cmp(xt.unwrap_or(&nil), yt.unwrap_or(&nil), exact),
                },
                Ordering::Less => {
                    let rest = rest_of(ys, yt, xs.len());
                    cmp(xt.unwrap_or(&nil), &rest, exact)
                }
                Ordering::Greater => {
                    let rest = rest_of(xs, xt, ys.len());
                    cmp(&rest, yt.unwrap_or(&nil), exact)
                }
            }
        }
    }
}

fn rest_of(items: &[Term], tail: Option<&Term>, from: usize) -> Term {
    match tail {
        Some(t) => Term::Improper(items[from..].to_vec(), Box::new(t.clone())),
        None => Term::List(items[from..].to_vec()),
    }
}

fn list_parts(t: &Term) -> (&[Term], Option<&Term>) {
    match t {
        Term::List(l) => (l, None),
        Term::Improper(l, tail) => (l, Some(tail)),
        _ => (&[], None),
    }
}

fn bits_of(t: &Term) -> (Vec<u8>, u8) {
    match t {
        Term::Binary(b) => (b.clone(), 8),
        Term::Bits(b, n) => (b.clone(), *n),
        _ => (Vec::new(), 8),
    }
}

/// Exact equality (`=:=`): `1 =/= 1.0`.
/// `Term::atom(name)`, short for the many terms built by hand.
pub(crate) fn a(name: &str) -> Term {
    Term::atom(name)
}

/// `Term::string(text)`: a string as Erlang has it, a list of code points.
pub(crate) fn s(text: &str) -> Term {
    Term::string(text)
}

/// A tuple of `N` terms.
pub(crate) fn t<const N: usize>(items: [Term; N]) -> Term {
    Term::Tuple(items.into())
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        map_key_cmp(self, other) == Ordering::Equal
    }
}

impl Eq for Term {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matches_erlang_classes() {
        let seq = [
            Term::Int(1),
            Term::atom("a"),
            Term::tuple([Term::Int(1)]),
            Term::map(vec![]),
            Term::nil(),
            Term::list([Term::Int(1)]),
            Term::Binary(vec![]),
        ];
        for w in seq.windows(2) {
            assert_eq!(term_cmp(&w[0], &w[1]), Ordering::Less, "{:?} < {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn numbers_compare_by_value_but_map_keys_put_ints_first() {
        assert_eq!(term_cmp(&Term::Int(2), &Term::Float(1.5)), Ordering::Greater);
        assert_eq!(map_key_cmp(&Term::Int(2), &Term::Float(1.5)), Ordering::Less);
        assert_ne!(Term::Int(1), Term::Float(1.0));
    }

    #[test]
    fn string_p_follows_characters_to_list() {
        assert_eq!(Term::string("abc").string_p(), Ok(Some("abc".into())));
        assert_eq!(Term::atom("abc").string_p(), Err(()));
        assert_eq!(Term::Binary(b"x".to_vec()).string_p(), Ok(None));
        assert_eq!(Term::list([Term::Int(0xD800)]).string_p(), Ok(None));
        assert_eq!(Term::list([Term::Int(-1)]).string_p(), Ok(None));
        assert_eq!(Term::list([Term::atom("x")]).string_p(), Err(()));
        // Not chardata anywhere: characters_to_list raises.
        assert_eq!(Term::tuple([Term::atom("a")]).string_p(), Err(()));
        assert_eq!(Term::map(vec![]).string_p(), Err(()));
        assert_eq!(Term::list([Term::list([Term::atom("a")])]).string_p(), Err(()));
        assert_eq!(Term::Improper(vec![Term::Int(114)], Box::new(Term::atom("x"))).string_p(), Err(()));
        // Nested, but chardata: converts to something else, so not a string.
        assert_eq!(Term::list([Term::string("ab")]).string_p(), Ok(None));
    }

    #[test]
    fn map_keeps_last_duplicate_sorted() {
        let m = Term::map(vec![
            (Term::atom("b"), Term::Int(1)),
            (Term::atom("a"), Term::Int(2)),
            (Term::atom("b"), Term::Int(3)),
        ]);
        assert_eq!(m, Term::Map(vec![(Term::atom("a"), Term::Int(2)), (Term::atom("b"), Term::Int(3))]));
    }
}
