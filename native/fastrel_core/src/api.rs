// SPDX-License-Identifier: Apache-2.0
//! The calls the NIF exposes, as functions from terms to terms.
//!
//! Arguments and results cross the NIF boundary as External Term Format binaries: one
//! codec (ours, byte-exact) instead of a second hand-written mapping per call, and the NIF
//! crate stays a table of contents. Options are read by [`crate::options`]; every error
//! becomes a term through [`Error::reason`] (or [`Error::relup_term`]).

use crate::fs::write_atomic;
use crate::options::{relup_options_from_term, script_options_from_term, tar_files_from_term, tar_options_from_term};
use crate::systools::make_script;
use crate::systools::make_tar::{make_tar, tar_files_with};
use crate::systools::relup::{make_relup_files, write_relup, Oracle};
use crate::systools::tar::Normalise;
use crate::systools::{parse_error_term, Error};
use crate::term::etf;
use crate::term::reader::{atoms_in_source, read_all_terms, read_first_term, ReadErrorKind};
use crate::term::vm::{self, Vm};
use crate::term::{a, s, t, Term};
use std::path::Path;

/// The ETF arguments of a call, or [`Error::BadOptions`].
fn decode(input: &[u8]) -> Result<Term, Error> {
    etf::decode(input).map_err(|e| Error::BadOptions(e.to_string()))
}

/// `{ok, V}` or `{error, Reason}`, as ETF.
fn result_etf(r: Result<Term, Error>) -> Vec<u8> {
    let term = match r {
        Ok(v) => t([a("ok"), v]),
        Err(e) => t([a("error"), e.reason()]),
    };
    etf::encode(&term, 25)
}

/// `make_script`: ETF options in, ETF `{ok, Ws} | {checked, Ws, Dirs} | {error, Reason}` out.
pub fn make_script_etf(input: &[u8], vm: &dyn Vm) -> Vec<u8> {
    let result =
        decode(input).and_then(|term| script_options_from_term(&term)).and_then(|o| make_script::make_script(&o, vm));
    let term = match result {
        Ok(outcome) => outcome.to_term(),
        Err(e) => t([a("error"), e.reason()]),
    };
    etf::encode(&term, 25)
}

/// `systools:script2boot/1`: reads `File.script`, writes `File.boot`.
///
/// # Errors
///
/// [`Error::Open`], [`Error::Read`] or [`Error::Parse`], systools' reasons.
pub fn script2boot(file: &str, otp_major: u32, vm: &dyn Vm) -> Result<(), Error> {
    let input = format!("{file}.script");
    let bytes = std::fs::read(&input).map_err(|e| Error::open(&input, &e))?;
    let mut term = read_first_term(&bytes, &input).map_err(|e| match e.kind {
        ReadErrorKind::Parse(msg) => Error::Parse { file: input.clone(), line: e.line, msg },
        _ => Error::Read { file: input.clone() },
    })?;
    if vm::has_orderable_map(&term) {
        vm.intern_atoms(&atoms_in_source(&bytes));
        vm::order_maps(&mut term, vm);
    }
    let output = format!("{file}.boot");
    write_atomic(Path::new(&output), &etf::encode(&term, otp_major)).map_err(|e| Error::open(&output, &e))
}

/// Reads a `.boot` file back into `.script` text.
///
/// # Errors
///
/// [`Error::Open`] or [`Error::BadBoot`].
pub fn boot2script(file: &str, otp_major: u32, unicode_range: bool, vm: &dyn Vm) -> Result<String, Error> {
    let bytes = std::fs::read(file).map_err(|e| Error::open(file, &e))?;
    let mut term = etf::decode(&bytes).map_err(|e| Error::BadBoot { file: file.to_string(), msg: e.to_string() })?;
    if vm::has_orderable_map(&term) {
        let mut atoms = Vec::new();
        vm::atoms_of(&term, &mut atoms);
        vm.intern_atoms(&atoms);
        vm::order_maps(&mut term, vm);
    }
    Ok(crate::term::pretty::script_text(&term, unicode_range, otp_major))
}

/// `file:consult/1` with our reader, as ETF: `{ok, Terms}` or
/// `{error, {Line, fastrel_reader, Message}}`.
pub fn consult_etf(file: &str) -> Vec<u8> {
    let result = match std::fs::read(file) {
        Err(e) => t([a("error"), a(crate::fs::posix_name(&e))]),
        Ok(bytes) => match read_all_terms(&bytes, file) {
            Ok(terms) => t([a("ok"), Term::List(terms)]),
            Err(e) => t([a("error"), parse_error_term(e.line, &e.kind.to_string())]),
        },
    };
    etf::encode(&result, 25)
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
    result_etf(decode(input).and_then(|term| tar_options_from_term(&term)).and_then(|o| make_tar(&o)).map(Term::List))
}

/// `tar_files`: ETF `{Out, [{From, To}], Level, Reproducible, FollowSymlinks, Symlinks}` in
/// (`Reproducible` an mtime or `false`), ETF `{ok, ok} | {error, Reason}` out.
pub fn tar_files_etf(input: &[u8]) -> Vec<u8> {
    result_etf(decode(input).and_then(|term| tar_files_from_term(&term)).and_then(|x| {
        let norm = Normalise {
            reproducible: x.reproducible,
            follow_outside: x.follow_outside,
            keep_links_beside: x.keep_links_beside,
        };
        tar_files_with(&x.out, &x.entries, x.level, norm).map(|()| a("ok"))
    }))
}

/// `make_relup`: ETF options in, ETF `{ok, Relup, Warnings}`, `{error, Mod, Reason}`,
/// `{raise, Class, Reason}` or `{need, Queries}` out (see [`crate::systools::relup`]). When the
/// relup holds a map, the atoms of the files are made in `vm` in the order systools'
/// reads make them, so that the VM orders the map's keys as it would for systools.
pub fn make_relup_etf(input: &[u8], vm: &dyn Vm) -> Vec<u8> {
    let result = decode(input).and_then(|term| relup_options_from_term(&term)).and_then(|(opts, answers)| {
        let (relup, ws, files) = make_relup_files(&opts, &Oracle::new(answers))?;
        if vm::has_orderable_map(&relup) {
            for file in files {
                if let Ok(bytes) = std::fs::read(&file) {
                    vm.intern_atoms(&atoms_in_source(&bytes));
                }
            }
        }
        Ok(t([a("ok"), relup, Term::List(ws)]))
    });
    etf::encode(&result.unwrap_or_else(|e| e.relup_term()), 25)
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

fn text(t: &Term) -> Option<String> {
    match t {
        Term::Binary(b) => String::from_utf8(b.clone()).ok(),
        other => other.string_p().ok().flatten(),
    }
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
    let result = match parsed {
        // Deeper than the codec reads: relnif writes it itself.
        None => Err(unsupported("undecodable")),
        Some((_, relup, _, _)) if has_opaque(&relup) => Err(unsupported("opaque")),
        Some((file, mut relup, unicode, otp)) => {
            if vm::has_orderable_map(&relup) {
                vm::order_maps(&mut relup, vm);
            }
            write_relup(&file, &relup, unicode, otp).map(|()| a("ok")).map_err(|p| a(&p))
        }
    };
    let term = match result {
        Ok(v) => t([a("ok"), v]),
        Err(e) => t([a("error"), e]),
    };
    etf::encode(&term, 25)
}
