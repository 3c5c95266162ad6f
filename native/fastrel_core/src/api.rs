// SPDX-License-Identifier: Apache-2.0
//! The calls the NIF exposes, as functions from terms to terms.
//!
//! Arguments and results cross the NIF boundary as External Term Format binaries: one
//! codec (ours, byte-exact) instead of a second hand-written mapping per call, and the NIF
//! crate stays a table of contents.

use crate::fs::{posix_name, write_atomic};
use crate::systools::make_script::{self, Options};
use crate::systools::release::parse_error_term;
use crate::systools::script::PathMode;
use crate::term::etf;
use crate::term::reader::{read_all_terms, read_first_term, ReadErrorKind};
use crate::term::vm::Vm;
use crate::term::{a, s, t, Term};
use std::path::{Path, PathBuf};

fn text(t: &Term) -> Option<String> {
    match t {
        Term::Binary(b) => String::from_utf8(b.clone()).ok(),
        other => other.string_p().ok().flatten(),
    }
}

fn bad_options(what: &str) -> Term {
    t([a("bad_options"), s(what)])
}

/// The `{Key, Value}` proplist `relnif` sends, read by key.
struct Props<'a>(&'a [Term]);

impl<'a> Props<'a> {
    fn of(term: &'a Term) -> Result<Props<'a>, Term> {
        term.as_list().map(Props).ok_or_else(|| bad_options("not a list"))
    }
    fn get(&self, k: &str) -> Option<&'a Term> {
        self.0.iter().find_map(|i| match i.as_tuple() {
            Some([key, v]) if key.is_atom(k) => Some(v),
            _ => None,
        })
    }
    /// A list of strings; absent is empty.
    fn strings(&self, k: &str) -> Result<Vec<String>, Term> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_list()
                .ok_or_else(|| bad_options(k))?
                .iter()
                .map(|x| text(x).ok_or_else(|| bad_options(k)))
                .collect(),
        }
    }
    /// A list of `{String, String}`; absent is empty.
    fn pairs(&self, k: &str) -> Result<Vec<(String, String)>, Term> {
        let Some(v) = self.get(k) else { return Ok(Vec::new()) };
        let bad = || bad_options(k);
        v.as_list()
            .ok_or_else(bad)?
            .iter()
            .map(|pair| match pair.as_tuple() {
                Some([x, y]) => Ok((text(x).ok_or_else(bad)?, text(y).ok_or_else(bad)?)),
                _ => Err(bad()),
            })
            .collect()
    }
}

/// Builds [`Options`] from the proplist `relnif` sends.
pub fn options_from_term(term: &Term) -> Result<Options, Term> {
    let props = Props::of(term)?;
    let get = |k: &str| props.get(k);
    let str_of = |k: &str| get(k).and_then(text).ok_or_else(|| bad_options(k));
    let flag = |k: &str| get(k).is_some_and(|v| v.is_atom("true"));
    let strings = |k: &str| props.strings(k);
    let variables = props.pairs("variables")?;
    let mode = match get("mode").and_then(Term::as_atom) {
        Some("local") => PathMode::Local,
        Some("otp_build") => PathMode::OtpBuild,
        _ => PathMode::Root,
    };
    let otp_major = match get("otp_major") {
        Some(Term::Int(i)) if *i > 0 => *i as u32,
        _ => 25,
    };
    let mut preloaded = match get("preloaded") {
        Some(_) => strings("preloaded")?,
        None => crate::systools::script::preloaded(otp_major).into_iter().map(String::from).collect(),
    };
    preloaded.sort();
    Ok(Options {
        preloaded,
        rel_name: str_of("rel_name")?,
        output: str_of("output")?,
        path: strings("path")?,
        mode,
        variables,
        no_dot_erlang: flag("no_dot_erlang"),
        src_tests: flag("src_tests"),
        no_warn_sasl: flag("no_warn_sasl"),
        warnings_as_errors: flag("warnings_as_errors"),
        check_only: flag("check_only"),
        extra_warnings: get("extra_warnings").and_then(Term::as_list).map(<[Term]>::to_vec).unwrap_or_default(),
        otp_major,
        unicode_range: flag("unicode_range"),
        cwd: match str_of("cwd") {
            Ok(c) => PathBuf::from(c),
            Err(_) => std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        },
    })
}

/// `make_script`: ETF options in, ETF `{ok, Ws} | {checked, Ws, Dirs} | {error, Reason}` out.
pub fn make_script_etf(input: &[u8], vm: &dyn Vm) -> Vec<u8> {
    let result = match etf::decode(input) {
        Err(e) => t([a("error"), bad_options(&e.to_string())]),
        Ok(term) => match options_from_term(&term).and_then(|o| make_script::make_script(&o, vm)) {
            Ok(outcome) => outcome.to_term(),
            Err(reason) => t([a("error"), reason]),
        },
    };
    etf::encode(&result, 25)
}

/// `systools:script2boot/1`: reads `File.script`, writes `File.boot`. `Err` holds the
/// systools reason (`{open, F, Posix}`, `{read, F}` or `{parse, F, {Line, Mod, Msg}}`).
pub fn script2boot(file: &str, otp_major: u32, vm: &dyn Vm) -> Result<(), Term> {
    let input = format!("{file}.script");
    let bytes = std::fs::read(&input).map_err(|e| t([a("open"), s(&input), a(posix_name(&e))]))?;
    let mut term = read_first_term(&bytes, &input).map_err(|e| match e.kind {
        ReadErrorKind::Parse(msg) => t([a("parse"), s(&input), parse_error_term(e.line, &msg)]),
        _ => t([a("read"), s(&input)]),
    })?;
    if crate::term::vm::has_orderable_map(&term) {
        vm.intern_atoms(&crate::term::reader::atoms_in_source(&bytes));
        crate::term::vm::order_maps(&mut term, vm);
    }
    let output = format!("{file}.boot");
    write_atomic(Path::new(&output), &etf::encode(&term, otp_major))
        .map_err(|e| t([a("open"), s(&output), a(posix_name(&e))]))
}

/// Reads a `.boot` file back into `.script` text.
pub fn boot2script(file: &str, otp_major: u32, unicode_range: bool, vm: &dyn Vm) -> Result<String, Term> {
    let bytes = std::fs::read(file).map_err(|e| t([a("open"), s(file), a(posix_name(&e))]))?;
    let mut term = etf::decode(&bytes).map_err(|e| t([a("bad_boot"), s(file), s(&e.to_string())]))?;
    if crate::term::vm::has_orderable_map(&term) {
        let mut atoms = Vec::new();
        crate::term::vm::atoms_of(&term, &mut atoms);
        vm.intern_atoms(&atoms);
        crate::term::vm::order_maps(&mut term, vm);
    }
    Ok(crate::term::pretty::script_text(&term, unicode_range, otp_major))
}

/// `file:consult/1` with our reader, as ETF: `{ok, Terms}` or
/// `{error, {Line, fastrel_reader, Message}}`.
pub fn consult_etf(file: &str) -> Vec<u8> {
    let result = match std::fs::read(file) {
        Err(e) => t([a("error"), a(posix_name(&e))]),
        Ok(bytes) => match read_all_terms(&bytes, file) {
            Ok(terms) => t([a("ok"), Term::List(terms)]),
            Err(e) => t([a("error"), parse_error_term(e.line, &e.kind.to_string())]),
        },
    };
    etf::encode(&result, 25)
}

fn result_etf(r: Result<Term, Term>) -> Vec<u8> {
    let term = match r {
        Ok(v) => t([a("ok"), v]),
        Err(e) => t([a("error"), e]),
    };
    etf::encode(&term, 25)
}

/// [`script2boot`] as ETF: `{ok, ok}` or `{error, Reason}`.
pub fn script2boot_etf(file: &str, otp_major: u32, vm: &dyn Vm) -> Vec<u8> {
    result_etf(script2boot(file, otp_major, vm).map(|()| a("ok")))
}

/// [`boot2script`] as ETF: `{ok, TextBinary}` or `{error, Reason}`.
pub fn boot2script_etf(file: &str, otp_major: u32, unicode_range: bool, vm: &dyn Vm) -> Vec<u8> {
    result_etf(boot2script(file, otp_major, unicode_range, vm).map(|s| Term::Binary(s.into_bytes())))
}

/// `make_tar`: ETF options in (those of `make_script` plus the tar ones), ETF
/// `{ok, Warnings} | {error, Reason}` out.
pub fn make_tar_etf(input: &[u8]) -> Vec<u8> {
    let result = match etf::decode(input) {
        Err(e) => Err(bad_options(&e.to_string())),
        Ok(term) => tar_options_from_term(&term).and_then(|o| crate::systools::make_tar::make_tar(&o)),
    };
    etf::encode(
        &match result {
            Ok(w) => t([a("ok"), Term::List(w)]),
            Err(reason) => t([a("error"), reason]),
        },
        25,
    )
}

fn tar_options_from_term(term: &Term) -> Result<crate::systools::make_tar::TarOptions, Term> {
    use crate::systools::make_tar::{TarOptions, VarTar};
    let base = options_from_term(term)?;
    let props = Props::of(term)?;
    let get = |k: &str| props.get(k);
    let strings = |k: &str| props.strings(k);
    let extra_files = props.pairs("extra_files")?;
    Ok(TarOptions {
        tar_file: get("tar_file").and_then(text).ok_or_else(|| bad_options("tar_file"))?,
        sys_path: strings("sys_path")?,
        dirs: strings("dirs")?,
        erts: get("erts").and_then(text),
        erts_all: get("erts_all").is_some_and(|v| v.is_atom("true")),
        appups: match get("appups").and_then(Term::as_atom) {
            Some(b) => b == "true",
            None => base.otp_major >= 28,
        },
        var_tar: match get("var_tar").and_then(Term::as_atom) {
            Some("ownfile") => VarTar::Ownfile,
            Some("omit") => VarTar::Omit,
            _ => VarTar::Include,
        },
        extra_files,
        level: match get("compression_level") {
            Some(Term::Int(l)) if (0..=9).contains(l) => *l as u32,
            _ => 6,
        },
        reproducible: match get("reproducible") {
            Some(Term::Int(t)) if *t >= 0 => Some(*t as u64),
            _ => None,
        },
        follow_outside: get("follow_symlinks").is_some_and(|v| v.is_atom("outside")),
        base,
    })
}

/// `tar_files`: ETF `{Out, [{From, To}], Level, Reproducible[, FollowSymlinks]}` in (`Reproducible` an
/// mtime or `false`), ETF `{ok, ok} | {error, Reason}` out.
pub fn tar_files_etf(input: &[u8]) -> Vec<u8> {
    let parsed = etf::decode(input).ok().and_then(|term| {
        let (out, entries, level, repro, follow) = match term.as_tuple()? {
            [o, e, l, r] => (o, e, l, r, false),
            [o, e, l, r, f] => (o, e, l, r, f.is_atom("outside")),
            _ => return None,
        };
        let entries = entries
            .as_list()?
            .iter()
            .map(|e| match e.as_tuple() {
                Some([f, to]) => Some((text(f)?, text(to)?)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let level = match level {
            Term::Int(l) if (0..=9).contains(l) => *l as u32,
            _ => return None,
        };
        let repro = match repro {
            Term::Int(t) if *t >= 0 => Some(*t as u64),
            _ => None,
        };
        Some((text(out)?, entries, level, repro, follow))
    });
    result_etf(match parsed {
        None => Err(bad_options("tar_files")),
        Some((out, entries, level, repro, follow)) => {
            crate::systools::make_tar::tar_files_with(&out, &entries, level, repro, follow).map(|()| a("ok"))
        }
    })
}

fn base_rels(v: Option<&Term>) -> Result<Vec<crate::systools::relup::BaseRel>, Term> {
    use crate::systools::relup::BaseRel;
    let items = v.and_then(Term::as_list).ok_or_else(|| bad_options("bases"))?;
    items
        .iter()
        .map(|x| match x.as_tuple() {
            Some([n, d]) => text(n).map(|n| BaseRel::Rel(n, d.clone())).ok_or_else(|| bad_options("bases")),
            _ => Ok(BaseRel::Bad),
        })
        .collect()
}

fn relup_options_from_term(term: &Term) -> Result<(crate::systools::relup::RelupOptions, Vec<(Term, Term)>), Term> {
    let props = Props::of(term)?;
    let answers = match props.get("answers").and_then(Term::as_list) {
        Some(l) => l
            .iter()
            .map(|x| match x.as_tuple() {
                Some([q, ans]) => Ok((q.clone(), ans.clone())),
                _ => Err(bad_options("answers")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let opts = crate::systools::relup::RelupOptions {
        top: props.get("top").and_then(text).ok_or_else(|| bad_options("top"))?,
        up: base_rels(props.get("up"))?,
        dn: base_rels(props.get("dn"))?,
        path: props.strings("path")?,
        restart_emulator: props.get("restart_emulator").is_some_and(|v| v.is_atom("true")),
        otp_major: match props.get("otp_major") {
            Some(Term::Int(i)) if *i > 0 => *i as u32,
            _ => 25,
        },
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
    };
    Ok((opts, answers))
}

/// `make_relup`: ETF options in, ETF `{ok, Relup, Warnings}`, `{error, Mod, Reason}`,
/// `{raise, Class, Reason}` or `{need, Queries}` out (see [`crate::systools::relup`]). When the
/// relup holds a map, the atoms of the files are made in `vm` in the order systools'
/// reads make them, so that the VM orders the map's keys as it would for systools.
pub fn make_relup_etf(input: &[u8], vm: &dyn Vm) -> Vec<u8> {
    let result = match etf::decode(input) {
        Err(e) => t([a("error"), a("relnif"), bad_options(&e.to_string())]),
        Ok(term) => match relup_options_from_term(&term) {
            Err(reason) => t([a("error"), a("relnif"), reason]),
            Ok((opts, answers)) => {
                match crate::systools::relup::make_relup_files(&opts, &crate::systools::relup::Oracle::new(answers)) {
                    Ok((relup, ws, files)) => {
                        if crate::term::vm::has_orderable_map(&relup) {
                            for file in files {
                                if let Ok(bytes) = std::fs::read(&file) {
                                    vm.intern_atoms(&crate::term::reader::atoms_in_source(&bytes));
                                }
                            }
                        }
                        t([a("ok"), relup, Term::List(ws)])
                    }
                    Err(e) => e.to_term(),
                }
            }
        },
    };
    etf::encode(&result, 25)
}

/// Whether `t` holds a pid, port, reference or local fun, which we do not print.
fn has_opaque(t: &Term) -> bool {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::Opaque(_) => return true,
            Term::Tuple(xs) | Term::List(xs) => stack.extend(xs),
            Term::Improper(xs, tail) => {
                stack.extend(xs);
                stack.push(tail);
            }
            Term::Map(pairs) => pairs.iter().for_each(|(k, v)| stack.extend([k, v])),
            _ => {}
        }
    }
    false
}

/// Writes a relup file: ETF `{File, Relup, UnicodeRange, OtpMajor}` in, ETF `{ok, ok}`,
/// `{error, Posix}` or `{error, {unsupported, Why}}` (a term we do not print: relnif
/// writes it) out. Maps in `Relup` are put in `vm`'s order.
pub fn write_relup_etf(input: &[u8], vm: &dyn Vm) -> Vec<u8> {
    let parsed = etf::decode(input).ok().and_then(|term| match term.as_tuple() {
        Some([f, r, u, Term::Int(otp)]) => Some((text(f)?, r.clone(), u.is_atom("true"), *otp as u32)),
        _ => None,
    });
    let unsupported = |why: &str| t([a("unsupported"), s(why)]);
    result_etf(match parsed {
        // Deeper than the codec reads: relnif writes it itself.
        None => Err(unsupported("undecodable")),
        Some((_, relup, _, _)) if has_opaque(&relup) => Err(unsupported("opaque")),
        Some((file, mut relup, unicode, otp)) => {
            if crate::term::vm::has_orderable_map(&relup) {
                crate::term::vm::order_maps(&mut relup, vm);
            }
            crate::systools::relup::write_relup(&file, &relup, unicode, otp).map(|()| a("ok")).map_err(|p| a(&p))
        }
    })
}
