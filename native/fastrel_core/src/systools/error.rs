// SPDX-License-Identifier: Apache-2.0
//! The core's one error type, and the one place errors become systools' Erlang terms.
//!
//! The drop-in promise is about those terms: callers compare them (the differential
//! suites do, with systools' own), print them with `format_error/1` and match on them.
//! So each variant names one shape systools (or `relnif`, for what systools never sees)
//! returns, and [`Error::reason`] (with [`Error::relup_term`] for `make_relup`'s
//! `{error, Module, Reason}`) builds exactly that shape, here and nowhere else. What
//! systools puts inside some of them stays its term, built once where it is found: the
//! dozens of `.rel`/`.app` check reasons ([`Error::Release`]), an appup's `What` in
//! [`Error::FileProblem`], the instructions [`RcError`] names.

use crate::systools::relup::rc::RcError;
use crate::systools::tar::{AddError, Refusal};
use crate::term::{a, s, t, Term};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The options `relnif` sent could not be read: `{bad_options, What}`.
    #[error("bad options: {0}")]
    BadOptions(String),
    /// A reason of systools_make's release checks (`.rel`, `.app`, start order, source
    /// tests), already systools' term; from `make_relup`, `{error, systools_make, R}`.
    #[error("release check failed: {0:?}")]
    Release(Term),
    /// `warnings_as_errors` with warnings: `{warnings_treated_as_errors, [W]}`, the
    /// `{warning, W}` wrappers off.
    #[error("warnings treated as errors")]
    WarningsAsErrors(Vec<Term>),
    /// An output or input file cannot be opened or written: `{open, File, Posix}`.
    #[error("{file}: cannot open: {posix}")]
    Open {
        /// The file as named to the caller.
        file: String,
        /// Erlang's name for the OS error.
        posix: &'static str,
    },
    /// A finished output cannot be put in place: `{close, File, Posix}`.
    #[error("{file}: cannot close: {posix}")]
    Close {
        /// The file as named to the caller.
        file: String,
        /// Erlang's name for the OS error.
        posix: &'static str,
    },
    /// A script file that does not read as a term: `{read, File}`.
    #[error("{file}: no term to read")]
    Read {
        /// The file.
        file: String,
    },
    /// A script file with a syntax error: `{parse, File, {Line, fastrel_reader, Msg}}`
    /// (relnif puts erl_parse's own message in its place).
    #[error("{file}:{line}: {msg}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: u32,
        /// What the reader says.
        msg: String,
    },
    /// A `.boot` that is no External Term Format: `{bad_boot, File, Msg}`.
    #[error("{file}: not a boot file: {msg}")]
    BadBoot {
        /// The file.
        file: String,
        /// What the decoder says.
        msg: String,
    },
    /// The tarball cannot be created: `{tar_error, {open, File, {File, Posix}}}`.
    #[error("{file}: cannot create the tarball: {posix}")]
    TarOpen {
        /// The tarball as named to the caller.
        file: String,
        /// Erlang's name for the OS error.
        posix: &'static str,
    },
    /// An entry cannot be packed: `{tar_error, {add, Path, Why}}`.
    #[error("{}: cannot pack it", .0.path)]
    TarAdd(AddError),
    /// Applications that cannot be packed: `[{error_add_appl, {App, TarError}}]`.
    #[error("applications cannot be packed")]
    AddAppl(Vec<(String, AddError)>),
    /// Neither `start.boot` nor `Name.boot` found: `{tar_error, {add, boot, RelName, enoent}}`.
    #[error("{rel_name}: no boot file")]
    NoBootFile {
        /// The release name as given.
        rel_name: String,
    },
    /// A `relup` or `sys.config` systools checks before packing fails the check:
    /// `{tar_error, {add, What, [Why]}}`.
    #[error("{what}: cannot be packed")]
    Invalid {
        /// `relup` or `sys.config`.
        what: &'static str,
        /// What is wrong with it.
        why: Invalid,
    },
    /// `{erts, Dir}` without `Dir/erts-Vsn/bin`: systools' crash,
    /// `{{badmatch, {error, Posix}}, [{file, Bin}]}`.
    #[error("{bin}: {posix}")]
    ErtsBin {
        /// The directory that cannot be listed.
        bin: String,
        /// Erlang's name for the OS error.
        posix: &'static str,
    },
    /// A release of `make_relup` without sasl: `{missing_sasl, #release{}}`.
    #[error("no sasl in a release")]
    MissingSasl(Term),
    /// No appup entry for a base version: `{no_relup, File, #application{}, BaseVsn}`.
    #[error("no appup entry for a version")]
    NoRelup(Box<(Term, Term, Term)>),
    /// An appup that cannot be used: `{file_problem, {File, What}}`.
    #[error("appup cannot be used")]
    FileProblem(Term, Term),
    /// An appup script `systools_rc` rejects: `{error, systools_rc, Reason}`.
    #[error("bad appup script: {0}")]
    Rc(#[from] RcError),
    /// systools raises `Class:Reason` here (a crash `make_relup` copies rather than
    /// reports): `{raise, Class, Reason}`.
    #[error("raises {0}")]
    Raise(&'static str, Term),
    /// `make_relup` needs the VM to answer these queries first: `{need, Queries}`.
    #[error("needs answers")]
    Need(Vec<Term>),
}

/// What is wrong with a file systools checks before packing it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// It cannot be read: `{error, Posix}`.
    Unreadable(&'static str),
    /// It does not parse: `{error, {fastrel_consult, Path}}` (relnif re-reads it with
    /// `file:consult/1` for systools' own term).
    Syntax(String),
    /// It parses to the wrong shape: `invalid_format`.
    Format,
}

impl Error {
    pub(crate) fn raise(class: &'static str, reason: Term) -> Error {
        Error::Raise(class, reason)
    }

    /// An [`Error::Open`] for `file`.
    pub(crate) fn open(file: &str, e: &std::io::Error) -> Error {
        Error::Open { file: file.to_string(), posix: crate::fs::posix_name(e) }
    }

    /// The `Reason` of `{error, Reason}` as systools (or relnif) returns it. `make_relup`'s
    /// [`Error::Raise`] and [`Error::Need`] are no error reasons: they give
    /// [`Error::relup_term`].
    pub fn reason(&self) -> Term {
        match self {
            Error::BadOptions(what) => t([a("bad_options"), s(what)]),
            Error::Release(r) => r.clone(),
            Error::WarningsAsErrors(ws) => {
                let inner =
                    ws.iter().map(|w| w.as_tuple().map(|x| x[1].clone()).unwrap_or_else(|| w.clone())).collect();
                t([a("warnings_treated_as_errors"), Term::List(inner)])
            }
            Error::Open { file, posix } => t([a("open"), s(file), a(posix)]),
            Error::Close { file, posix } => t([a("close"), s(file), a(posix)]),
            Error::Read { file } => t([a("read"), s(file)]),
            Error::Parse { file, line, msg } => t([a("parse"), s(file), parse_error_term(*line, msg)]),
            Error::BadBoot { file, msg } => t([a("bad_boot"), s(file), s(msg)]),
            Error::TarOpen { file, posix } => t([a("tar_error"), t([a("open"), s(file), t([s(file), a(posix)])])]),
            Error::TarAdd(e) => add_error(e),
            Error::AddAppl(apps) => {
                Term::List(apps.iter().map(|(app, e)| t([a("error_add_appl"), t([a(app), add_error(e)])])).collect())
            }
            Error::NoBootFile { rel_name } => t([a("tar_error"), t([a("add"), a("boot"), s(rel_name), a("enoent")])]),
            Error::Invalid { what, why } => {
                let why = match why {
                    Invalid::Unreadable(posix) => t([a("error"), a(posix)]),
                    Invalid::Syntax(path) => t([a("error"), t([a("fastrel_consult"), s(path)])]),
                    Invalid::Format => a("invalid_format"),
                };
                t([a("tar_error"), t([a("add"), s(what), Term::list([why])])])
            }
            Error::ErtsBin { bin, posix } => {
                t([t([a("badmatch"), t([a("error"), a(posix)])]), Term::list([t([a("file"), s(bin)])])])
            }
            Error::MissingSasl(rel) => t([a("missing_sasl"), rel.clone()]),
            Error::NoRelup(x) => {
                let (f, app, v) = &**x;
                Term::Tuple(vec![a("no_relup"), f.clone(), app.clone(), v.clone()])
            }
            Error::FileProblem(f, what) => t([a("file_problem"), t([f.clone(), what.clone()])]),
            Error::Rc(e) => rc_reason(e),
            Error::Raise(..) | Error::Need(_) => self.relup_term(),
        }
    }

    /// What `relnif`'s `make_relup` gets: `{error, Module, Reason}`, `{raise, Class,
    /// Reason}` or `{need, Queries}`.
    pub fn relup_term(&self) -> Term {
        let err = |m: &str| t([a("error"), a(m), self.reason()]);
        match self {
            Error::Raise(c, r) => t([a("raise"), a(c), r.clone()]),
            Error::Need(qs) => t([a("need"), Term::List(qs.clone())]),
            Error::BadOptions(_) => err("relnif"),
            Error::MissingSasl(_) | Error::NoRelup(_) | Error::FileProblem(..) => err("systools_relup"),
            Error::Rc(_) => err("systools_rc"),
            _ => err("systools_make"),
        }
    }
}

/// The error term of a syntax error, `{Line, Module, Message}`. The module is
/// `fastrel_reader`; the Erlang side re-reads the file with `erl_parse` to put the exact
/// OTP message in its place, so this text only has to be helpful.
pub(crate) fn parse_error_term(line: u32, msg: &str) -> Term {
    t([Term::Int(line as i64), a("fastrel_reader"), s(msg)])
}

fn add_error(e: &AddError) -> Term {
    let p = s(&e.path);
    let why = match &e.refused {
        // fastrel's refusals (relnif:format_error/1 has their sentences).
        Some(Refusal::UnsafeName(to)) => t([a("unsafe_name"), s(to)]),
        Some(Refusal::SymlinkOutside(target)) => t([a("symlink_outside"), s(target)]),
        Some(Refusal::SizeChanged) => a("size_changed"),
        None => t([p.clone(), a(crate::fs::posix_name(&e.error))]),
    };
    t([a("tar_error"), t([a("add"), p, why])])
}

/// The `Reason` of `{error, systools_rc, Reason}`.
pub(crate) fn rc_reason(e: &RcError) -> Term {
    match e {
        RcError::BadOpBeforePnr(i) => t([a("bad_op_before_point_of_no_return"), i.clone()]),
        RcError::TooManyPnr => a("too_many_point_of_no_return"),
        RcError::NoObjectCode(m) => t([a("no_object_code"), m.clone()]),
        RcError::Unbalanced(tag, ms) => t([a(tag), Term::List(ms.clone())]),
        RcError::NoSuchApplication(x) => t([a("no_such_application"), x.clone()]),
        RcError::RemovedApplicationPresent(x) => t([a("removed_application_present"), x.clone()]),
        RcError::ConflictingVersions(x) => {
            let (l, v1, v2) = &**x;
            Term::Tuple(vec![a("conflicting_versions"), l.clone(), v1.clone(), v2.clone()])
        }
        RcError::NoSuchModule(m) => t([a("no_such_module"), m.clone()]),
        RcError::NotYetImplemented => t([a("not_yet_implemented"), a("mnesia_backup")]),
        RcError::Bad(tag, x) => t([a(tag), x.clone()]),
        RcError::UndefModule(m) => t([a("undef_module"), m.clone()]),
        RcError::MuldefModule(m) => t([a("muldef_module"), m.clone()]),
        RcError::Exit(r) => r.clone(),
    }
}
