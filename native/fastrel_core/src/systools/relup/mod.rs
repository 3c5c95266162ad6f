// SPDX-License-Identifier: Apache-2.0
//! `systools:make_relup/3,4` without the VM: `systools_relup`'s part.
//!
//! For each base release (up, then down) it reads the release like `get_release`,
//! collects the appup script of every changed application (from the top version's
//! `.appup`), adds `add_application`/`remove_application` for added and removed ones, an
//! emulator restart when erts changed, and has [`rc`] translate the lot into low-level
//! instructions. The relup term and the warnings come back in systools' order (bases and
//! warnings newest first).
//!
//! Two answers depend on the running VM and are asked of an [`Oracle`] filled by the
//! caller: whether a binary regex in an appup matches a version (`re:run/3`, PCRE), and
//! the order `digraph_utils:topsort/1` gives modules whose dependencies leave it open.
//! A run that needs an answer it does not have stops with [`Error::Need`]; `relnif`
//! answers and runs again.

pub mod rc;

use crate::fs::{posix_name, write_atomic};
use crate::systools::error::parse_error_term;
use crate::systools::filename::erl_join;
use crate::systools::make_script::{self, Options, Prepared};
use crate::systools::release::{App, Release};
use crate::systools::search_path::{read_term_cached, PathFail};
use crate::systools::Error;
use crate::term::{a, s, t, Term};
use rc::Mode;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Answers the caller already has, by query term.
#[derive(Debug, Default)]
pub struct Oracle {
    answers: Vec<(Term, Term)>,
}

impl Oracle {
    /// An oracle with these `(Query, Answer)` pairs.
    pub fn new(answers: Vec<(Term, Term)>) -> Oracle {
        Oracle { answers }
    }

    fn lookup(&self, q: &Term) -> Option<&Term> {
        self.answers.iter().find(|(k, _)| k == q).map(|(_, v)| v)
    }

    /// The answer to `q`, or `Err(Need([q]))`.
    pub fn ask(&self, q: Term) -> Result<Term, Error> {
        self.lookup(&q).cloned().ok_or(Error::Need(vec![q]))
    }

    /// Answers to all of `qs`, or `Err(Need(missing))`.
    fn ask_all(&self, qs: Vec<Term>) -> Result<Vec<Term>, Error> {
        let missing: Vec<Term> = qs.iter().filter(|q| self.lookup(q).is_none()).cloned().collect();
        if !missing.is_empty() {
            return Err(Error::Need(missing));
        }
        Ok(qs.iter().filter_map(|q| self.lookup(q).cloned()).collect())
    }
}

/// One element of `UpFrom`/`DownTo`: the `.rel` stem and the description, or an element
/// systools crashes on (`function_clause`), e.g. the tail of an improper list.
#[derive(Debug, Clone)]
pub enum BaseRel {
    /// `RelName` (description `[]`) or `{RelName, Descr}`.
    Rel(String, Term),
    /// Not a release name.
    Bad,
}

/// What `make_relup` needs, already validated by `relnif`.
#[derive(Debug, Clone)]
pub struct RelupOptions {
    /// The top release's `.rel` stem.
    pub top: String,
    /// The releases upgraded from.
    pub up: Vec<BaseRel>,
    /// The releases downgraded to.
    pub dn: Vec<BaseRel>,
    /// `{path, ...}` expanded, followed by the code path.
    pub path: Vec<String>,
    /// Whether `restart_emulator` was given.
    pub restart_emulator: bool,
    /// The OTP release of the running VM.
    pub otp_major: u32,
    /// Directory relative names are resolved against.
    pub cwd: PathBuf,
}

/// A release as `get_release` returns it.
struct Rel {
    rel: Release,
    /// Applications in boot order.
    apps: Vec<App>,
    warnings: Vec<Term>,
}

impl Rel {
    fn record(&self) -> Term {
        release_record(&self.rel)
    }
}

/// `#release{}` as a tuple.
fn release_record(r: &Release) -> Term {
    Term::Tuple(vec![
        a("release"),
        s(&r.name),
        s(&r.vsn),
        s(&r.erts_vsn),
        Term::List(r.apps.iter().map(|x| Term::Tuple(vec![a(&x.name), s(&x.vsn), a(&x.typ)])).collect()),
        Term::List(r.incls.iter().map(|(n, i)| t([a(n), Term::List(i.iter().map(|x| a(x)).collect())])).collect()),
    ])
}

/// `#application{}` as a tuple.
fn app_record(x: &App) -> Term {
    fn atoms<S: AsRef<str>>(l: &[S]) -> Term {
        Term::List(l.iter().map(|n| a(n.as_ref())).collect())
    }
    Term::Tuple(vec![
        a("application"),
        a(&x.name),
        a(&x.typ),
        s(&x.vsn),
        s(&x.id),
        s(&x.description),
        atoms(&x.modules),
        atoms(&x.uses),
        atoms(&x.optional),
        atoms(&x.includes),
        atoms(&x.regs),
        x.env.clone(),
        x.max_t.clone(),
        x.max_p.clone(),
        x.mod_.clone(),
        x.start_phases.clone().unwrap_or_else(|| a("undefined")),
        s(&x.dir),
    ])
}

/// Reads releases once per call: systools reads each base twice (up and down).
struct Releases<'a> {
    opts: &'a RelupOptions,
    cache: HashMap<String, Result<std::rc::Rc<Rel>, Term>>,
    appups: HashMap<String, Result<Arc<Term>, Term>>,
    /// Every file read, in the order systools first reads it.
    files: Vec<String>,
}

impl Releases<'_> {
    fn get(&mut self, name: &str) -> Result<std::rc::Rc<Rel>, Error> {
        if !self.cache.contains_key(name) {
            let o = Options {
                rel_name: name.to_string(),
                output: String::new(),
                path: self.opts.path.clone(),
                mode: crate::systools::script::PathMode::Root,
                variables: Vec::new(),
                no_dot_erlang: false,
                src_tests: false,
                no_warn_sasl: false,
                warnings_as_errors: false,
                check_only: true,
                extra_warnings: Vec::new(),
                otp_major: self.opts.otp_major,
                preloaded: Vec::new(),
                unicode_range: false,
                cwd: self.opts.cwd.clone(),
            };
            let r = make_script::prepare(&o).map(|Prepared { rel, mut apps, sorted, warnings }| {
                let mut slots: Vec<Option<App>> = apps.drain(..).map(Some).collect();
                let apps = sorted.iter().filter_map(|&i| slots[i].take()).collect();
                std::rc::Rc::new(Rel { rel, apps, warnings })
            });
            if let Ok(rel) = &r {
                self.files.push(rel.rel.path.clone());
                for entry in &rel.rel.apps {
                    if let Some(x) = rel.apps.iter().find(|x| x.name == entry.name) {
                        self.files.push(erl_join(&x.dir, &format!("{}.app", x.name)));
                    }
                }
            }
            self.cache.insert(name.to_string(), r);
        }
        let r = self.cache[name].clone().map_err(Error::Release)?;
        if r.warnings.contains(&t([a("warning"), a("missing_sasl")])) {
            return Err(Error::MissingSasl(r.record()));
        }
        Ok(r)
    }

    /// `systools_lib:read_term/1` of an appup: `Ok(Term)` or `Err({error, Reason})`.
    fn appup(&mut self, file: &str) -> Result<Arc<Term>, Term> {
        if let Some(r) = self.appups.get(file) {
            return r.clone();
        }
        let full = if Path::new(file).is_absolute() { PathBuf::from(file) } else { self.opts.cwd.join(file) };
        let r = read_term_cached(&full).map_err(|fail| match fail {
            PathFail::Open(e) => {
                let posix = posix_name(&std::io::Error::from_raw_os_error(e));
                t([a("error"), Term::Tuple(vec![a("open"), s(file), a(posix)])])
            }
            PathFail::Parse(line, msg) => {
                let err = parse_error_term(line, &msg);
                t([a("error"), Term::Tuple(vec![a("parse"), s(file), err])])
            }
            PathFail::Read => t([a("error"), t([a("read"), s(file)])]),
        });
        self.appups.insert(file.to_string(), r.clone());
        self.files.push(file.to_string());
        r
    }
}

/// Queries met while a run goes on, so that one round of answers covers as many as
/// possible: a run goes past a missing answer, and an error met after one stands for
/// nothing (the answer may change what comes before it), so it becomes the queries.
#[derive(Default)]
struct Pending(Vec<Term>);

impl Pending {
    /// `Ok(Some(v))` for a value, `Ok(None)` when `r` needs answers (now recorded).
    fn take<T>(&mut self, r: Result<T, Error>) -> Result<Option<T>, Error> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(Error::Need(qs)) => {
                for q in qs {
                    if !self.0.contains(&q) {
                        self.0.push(q);
                    }
                }
                Ok(None)
            }
            Err(_) if !self.0.is_empty() => Err(Error::Need(std::mem::take(&mut self.0))),
            Err(e) => Err(e),
        }
    }

    /// `Err(Need)` if anything is pending.
    fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Need(self.0))
        }
    }
}

/// The relup term and the warnings, or why not.
pub fn make_relup(opts: &RelupOptions, oracle: &Oracle) -> Result<(Term, Vec<Term>), Error> {
    make_relup_files(opts, oracle).map(|(relup, ws, _)| (relup, ws))
}

/// [`make_relup`], also returning the files read, in the order systools reads them (the
/// order its reads make atoms in the VM).
pub fn make_relup_files(opts: &RelupOptions, oracle: &Oracle) -> Result<(Term, Vec<Term>, Vec<String>), Error> {
    let mut rels = Releases { opts, cache: HashMap::new(), appups: HashMap::new(), files: Vec::new() };
    let top = rels.get(&opts.top)?;
    // Newest first, as systools prepends.
    let mut ws: Vec<Term> = Vec::new();
    let mut pending = Pending::default();
    let (mut up, mut dn) = (Vec::new(), Vec::new());
    for (mode, entries) in [(Mode::Up, &opts.up), (Mode::Dn, &opts.dn)] {
        let out = if mode == Mode::Up { &mut up } else { &mut dn };
        for entry in entries {
            let BaseRel::Rel(name, descr) = entry else {
                pending.take::<()>(Err(Error::raise("error", a("function_clause"))))?;
                continue;
            };
            let Some(base) = pending.take(rels.get(name))? else {
                continue;
            };
            let script = base_script(&mut rels, mode, &top, &base, &mut ws, oracle);
            let Some(script) = pending.take(script)? else {
                continue;
            };
            out.push(Term::Tuple(vec![s(&base.rel.vsn), descr.clone(), Term::List(script)]));
        }
    }
    pending.finish()?;
    up.reverse();
    dn.reverse();
    ws.reverse();
    let relup = Term::Tuple(vec![s(&top.rel.vsn), Term::List(up), Term::List(dn)]);
    Ok((relup, ws, rels.files))
}

/// One base release's low-level script. `ws` collects warnings oldest first.
fn base_script(
    rels: &mut Releases,
    mode: Mode,
    top: &Rel,
    base: &Rel,
    ws: &mut Vec<Term>,
    oracle: &Oracle,
) -> Result<Vec<Term>, Error> {
    let mut scripts = Vec::new();
    let mut pending = Pending::default();
    for app in &top.apps {
        let Some(b) = base.rel.apps.iter().find(|x| x.name == app.name) else {
            continue;
        };
        if b.vsn == app.vsn {
            continue;
        }
        let script = appup_script(rels, mode, app, &b.vsn, ws, oracle);
        scripts.extend(pending.take(script)?);
    }
    pending.finish()?;
    let (from, to) = match mode {
        Mode::Up => (&base.rel, &top.rel),
        Mode::Dn => (&top.rel, &base.rel),
    };
    let added = to.apps.iter().filter(|x| !from.apps.iter().any(|y| y.name == x.name));
    let mut all: Vec<Term> =
        added.map(|x| Term::list([Term::Tuple(vec![a("add_application"), a(&x.name), a(&x.typ)])])).collect();
    all.extend(scripts);
    let removed = from.apps.iter().filter(|x| !to.apps.iter().any(|y| y.name == x.name));
    all.extend(removed.map(|x| Term::list([t([a("remove_application"), a(&x.name)])])));
    if top.rel.erts_vsn != base.rel.erts_vsn {
        all.insert(0, Term::list([a("restart_new_emulator")]));
        let id = |r: &Release| t([s(&r.name), s(&r.erts_vsn)]);
        ws.push(t([a("erts_vsn_changed"), t([id(&top.rel), id(&base.rel)])]));
    }
    if rels.opts.restart_emulator {
        all.push(Term::list([a("restart_emulator")]));
    }
    let expanded = rc::expand_scripts(&all)?;
    let (appls, pre) = match mode {
        Mode::Up => (&top.apps, &base.apps),
        Mode::Dn => (&base.apps, &top.apps),
    };
    let mut script = rc::translate(mode, expanded, appls, pre, oracle)?;
    if mode == Mode::Up && script.first().is_some_and(|x| x.is_atom("restart_new_emulator")) {
        let old_sasl = base.apps.iter().find(|x| x.name == "sasl").is_some_and(|x| x.vsn.as_str() < "2.2");
        if old_sasl {
            let rest = script.split_off(1);
            script = rest;
            if let Some(i) = script.iter().position(|x| x.is_atom("restart_emulator")) {
                script.remove(i);
            }
            script.push(a("restart_new_emulator"));
            ws.push(a("pre_R15_emulator_upgrade"));
        }
    }
    Ok(script)
}

/// `get_script_from_appup/5`: the script for `base_vsn` from the top version's appup.
fn appup_script(
    rels: &mut Releases,
    mode: Mode,
    app: &App,
    base_vsn: &str,
    ws: &mut Vec<Term>,
    oracle: &Oracle,
) -> Result<Term, Error> {
    let file = erl_join(&app.dir, &format!("{}.appup", app.name));
    let term = rels.appup(&file).map_err(|what| Error::FileProblem(s(&file), what))?;
    let (top_vsn, entries) = match term.as_tuple() {
        Some([v, up, dn]) => (v, if mode == Mode::Up { up } else { dn }),
        _ => return Err(Error::FileProblem(s(&file), t([a("ok"), (*term).clone()]))),
    };
    let app_vsn = s(&app.vsn);
    let mut bad_vsn = None;
    if *top_vsn != app_vsn {
        bad_vsn = Some(t([a("bad_vsn"), t([top_vsn.clone(), app_vsn.clone()])]));
    }
    let base = s(base_vsn);
    let (items, proper) = match entries {
        Term::List(l) => (l.as_slice(), true),
        Term::Improper(l, _) => (l.as_slice(), false),
        _ => return Err(Error::raise("error", a("function_clause"))),
    };
    let patterns: Vec<Term> = items
        .iter()
        .filter_map(|e| match e.as_tuple() {
            Some([Term::Binary(p), _]) => Some(Term::Tuple(vec![a("re"), base.clone(), Term::Binary(p.clone())])),
            _ => None,
        })
        .collect();
    let mut answers = oracle.ask_all(patterns)?.into_iter();
    for e in items {
        let Some([v, ru]) = e.as_tuple() else {
            continue;
        };
        let hit = match v {
            Term::Binary(_) => match answers.next() {
                Some(x) if x.is_atom("true") => true,
                Some(x) if x.is_atom("badarg") => return Err(Error::raise("error", a("badarg"))),
                _ => false,
            },
            _ => *v == base,
        };
        if hit {
            ws.extend(bad_vsn);
            return Ok(ru.clone());
        }
    }
    if !proper {
        return Err(Error::raise("error", a("function_clause")));
    }
    Err(Error::NoRelup(Box::new((s(&file), app_record(app), base))))
}

/// The text systools writes to `relup`: `"%% coding: utf-8\n~tp.\n"` (`epp:encoding_to_string(utf8)` is `"coding: utf-8"`).
pub fn relup_text(relup: &Term, unicode_range: bool, otp_major: u32) -> String {
    let body = crate::term::pretty::pretty(relup, unicode_range, otp_major);
    let mut out = String::with_capacity(body.len() + 12);
    out.push_str("%% coding: utf-8\n");
    out.push_str(&body);
    out.push_str(".\n");
    out
}

/// Writes `relup` to `file` through a temporary file; `Err` is the POSIX reason.
pub fn write_relup(file: &str, relup: &Term, unicode_range: bool, otp_major: u32) -> Result<(), String> {
    let text = relup_text(relup, unicode_range, otp_major);
    write_atomic(Path::new(file), text.as_bytes()).map_err(|e| posix_name(&e).to_string())
}

#[cfg(test)]
mod tests;
