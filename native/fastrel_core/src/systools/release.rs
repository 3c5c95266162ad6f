// SPDX-License-Identifier: Apache-2.0
//! Reading and validating `.rel` and `.app` files the way `systools_make` does.
//!
//! Errors are built directly as the Erlang terms `systools_make` returns, because the
//! drop-in promise is about those terms: callers compare them, print them with
//! `format_error/1`, and match on them.

use crate::systools::error::parse_error_term;
use crate::systools::fasthash::FastMap;
use crate::systools::filename::{erl_dirname, erl_join};
use crate::systools::search_path::{read_file, ReadFail, SearchPath};
use crate::term::{a, s, t, Name, Term};
use std::sync::{Arc, Mutex};

/// One application entry of the `.rel` file.
#[derive(Debug, Clone)]
pub struct RelApp {
    pub name: String,
    pub vsn: String,
    pub typ: String,
}

/// A checked `.rel` file.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub vsn: String,
    pub erts_vsn: String,
    pub apps: Vec<RelApp>,
    /// `.rel` include overrides, in `.rel` order.
    pub incls: Vec<(String, Vec<String>)>,
    /// Where the `.rel` was read from.
    pub path: String,
}

/// A checked `.app` file, as `systools_make`'s `#application{}` record.
#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub vsn: String,
    pub id: String,
    pub description: String,
    pub modules: Vec<Name>,
    /// `modules` in atom order (UTF-8 byte order), as the script's `primLoad` lists have
    /// them: sorted once, with the remembered application, instead of on every call.
    pub sorted_modules: Arc<[Name]>,
    pub regs: Vec<Name>,
    pub uses: Vec<String>,
    pub optional: Vec<String>,
    pub includes: Vec<String>,
    /// `[]` or `{Mod, Args}`.
    pub mod_: Term,
    pub start_phases: Option<Term>,
    pub env: Term,
    pub max_t: Term,
    pub max_p: Term,
    /// `filename:dirname` of the path the `.app` was found at.
    pub dir: String,
    pub typ: String,
}

/// An `{'EXIT', {badarg, Where}}` standing in for the exception systools' `string_p`
/// raises on atoms and numbers; systools' own term holds a stack trace we cannot (and
/// should not) reproduce, so we name the file and the offending value instead.
pub(crate) fn badarg_exit(file: &str, what: &str, value: &Term) -> Term {
    t([a("EXIT"), t([a("badarg"), Term::list([t([a("file"), s(file)]), t([a(what), value.clone()])])])])
}

/// `names` in atom order, for [`App::sorted_modules`].
pub(crate) fn sorted_names(names: &[Name]) -> Arc<[Name]> {
    let mut v = names.to_vec();
    v.sort_unstable(); // Name's order is its UTF-8 bytes'
    v.into()
}

fn string_p(v: &Term) -> Result<Option<String>, ()> {
    v.string_p()
}

fn is_app_type(t: &str) -> bool {
    matches!(t, "permanent" | "transient" | "temporary" | "none" | "load")
}

fn a_list(v: &Term) -> Option<Vec<String>> {
    v.atom_list().map(|l| l.into_iter().map(String::from).collect())
}

/// [`a_list`] for the long lists (modules, registered names), kept as atoms.
fn name_list(v: &Term) -> Option<Vec<Name>> {
    let l = v.as_list()?;
    let mut out = Vec::with_capacity(l.len());
    for t in l {
        match t {
            Term::Atom(n) => out.push(n.clone()),
            _ => return None,
        }
    }
    Some(out)
}

/// Reads and checks `RelName.rel`, searched in `["." | Path]`. Returns the release and its
/// warnings (`[{warning, missing_sasl}]` or none).
pub fn read_release(rel_name: &str, path: &[String]) -> Result<(Release, Vec<Term>), Term> {
    let file = format!("{rel_name}.rel");
    let mut dirs = Vec::with_capacity(path.len() + 1);
    dirs.push(".".to_string());
    dirs.extend_from_slice(path);
    let (term, full) = match read_file(&file, &dirs) {
        Ok(found) => found,
        Err(ReadFail::NotFound) => return Err(t([a("not_found"), s(&file)])),
        Err(ReadFail::Read) => return Err(t([a("read"), s(&file)])),
        Err(ReadFail::Parse(line, msg)) => return Err(t([a("parse"), s(&file), parse_error_term(line, &msg)])),
    };
    let (mut rel, warnings) = check_rel(&term, &file)?;
    rel.path = full;
    Ok((rel, warnings))
}

fn check_rel(term: &Term, file: &str) -> Result<(Release, Vec<Term>), Term> {
    let bad = || a("badly_formatted_release");
    let items = term.as_tuple().ok_or_else(bad)?;
    let [tag, id, erts, apps] = items else { return Err(bad()) };
    if !tag.is_atom("release") {
        return Err(bad());
    }
    let (Some([name, vsn]), Some([erts_tag, evsn])) = (
        id.as_tuple().and_then(|x| <&[Term; 2]>::try_from(x).ok()),
        erts.as_tuple().and_then(|x| <&[Term; 2]>::try_from(x).ok()),
    ) else {
        return Err(bad());
    };
    if !erts_tag.is_atom("erts") {
        return Err(bad());
    }
    if !matches!(apps, Term::List(_) | Term::Improper(..)) {
        return Err(bad());
    }
    let name = match string_p(name) {
        Ok(Some(n)) => n,
        Ok(None) => return Err(t([a("illegal_name"), name.clone()])),
        Err(()) => return Err(badarg_exit(file, "name", name)),
    };
    let vsn_s = match string_p(vsn) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(t([a("illegal_form"), vsn.clone()])),
        Err(()) => return Err(badarg_exit(file, "vsn", vsn)),
    };
    let evsn_s = match string_p(evsn) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(t([a("illegal_form"), t([a("erts"), evsn.clone()])])),
        Err(()) => return Err(badarg_exit(file, "erts", evsn)),
    };
    // is_list/1 lets an improper list through; systools then crashes walking it.
    let Term::List(apps) = apps else { return Err(badarg_exit(file, "applications", apps)) };
    let mut illegal = Vec::new();
    let mut rel_apps = Vec::with_capacity(apps.len());
    let mut incls = Vec::new();
    for entry in apps {
        match check_rel_app(entry, file)? {
            Some((app, incl)) => {
                if let Some(i) = incl {
                    incls.push((app.name.clone(), i));
                }
                rel_apps.push(app);
            }
            None => illegal.push(entry.clone()),
        }
    }
    if !illegal.is_empty() {
        return Err(t([a("illegal_applications"), Term::List(illegal)]));
    }
    let warnings = mandatory_applications(&rel_apps)?;
    Ok((Release { name, vsn: vsn_s, erts_vsn: evsn_s, apps: rel_apps, incls, path: file.to_string() }, warnings))
}

type RelEntry = (RelApp, Option<Vec<String>>);

/// One `.rel` application entry: `Ok(None)` when it is illegal; `Err` when systools
/// would crash on it (an atom or number where a version string belongs).
fn check_rel_app(entry: &Term, file: &str) -> Result<Option<RelEntry>, Term> {
    let Some(items) = entry.as_tuple() else { return Ok(None) };
    let Some(name) = items.first().and_then(Term::as_atom) else { return Ok(None) };
    if items.len() < 2 || items.len() > 4 {
        return Ok(None);
    }
    // The guards of systools' filter decide which clause applies before string_p runs.
    let shape_ok = match items.len() {
        2 => true,
        3 => matches!(items[2], Term::List(_)) || items[2].as_atom().is_some(),
        _ => items[2].as_atom().is_some() && matches!(items[3], Term::List(_)),
    };
    if !shape_ok {
        return Ok(None);
    }
    let vsn = match string_p(&items[1]) {
        Ok(Some(v)) => Some(v),
        Ok(None) => None,
        Err(()) => return Err(badarg_exit(file, name, &items[1])),
    };
    let (typ, incl) = match items.len() {
        2 => (Some("permanent".to_string()), None),
        3 => match &items[2] {
            Term::List(_) => (Some("permanent".to_string()), Some(a_list(&items[2]))),
            ty => (ty.as_atom().filter(|x| is_app_type(x)).map(String::from), None),
        },
        _ => (items[2].as_atom().filter(|x| is_app_type(x)).map(String::from), Some(a_list(&items[3]))),
    };
    match (vsn, typ, incl) {
        (Some(vsn), Some(typ), None) => Ok(Some((RelApp { name: name.into(), vsn, typ }, None))),
        (Some(vsn), Some(typ), Some(Some(i))) => Ok(Some((RelApp { name: name.into(), vsn, typ }, Some(i)))),
        _ => Ok(None),
    }
}

fn mandatory_applications(apps: &[RelApp]) -> Result<Vec<Term>, Term> {
    let first = |n: &str| apps.iter().find(|x| x.name == n).map(|x| x.typ.clone());
    for app in ["kernel", "stdlib"] {
        match first(app) {
            None => return Err(t([a("missing_mandatory_app"), a(app)])),
            Some(ty) if ty != "permanent" => return Err(t([a("mandatory_app"), a(app), a(&ty)])),
            _ => {}
        }
    }
    Ok(if first("sasl").is_none() { vec![t([a("warning"), a("missing_sasl")])] } else { vec![] })
}

/// Finds and reads `Name.app` for one `.rel` entry (`read_application/4`).
/// `Err` holds the inner reason of `{error_reading, {Name, Reason}}`.
pub fn read_application(
    name: &str,
    vsn: &str,
    path: &SearchPath,
    incls: &[(String, Vec<String>)],
    otp_major: u32,
) -> Result<App, Term> {
    let file = format!("{name}.app");
    let mut first_error: Option<Term> = None;
    // Only the directories that may hold the file: one lookup per application, however
    // long the path (the others would answer "not found" anyway).
    for i in path.app_candidates(&file) {
        let dir = &path.dirs()[i];
        let found = match path.term_in(i, &file) {
            Some(parsed) => parsed.map(|t| (t, erl_join(dir, &file))),
            None => Err(ReadFail::NotFound),
        };
        match found {
            Ok((term, full)) => match parse_application_memo(&term, &full, vsn, incls, otp_major) {
                Parsed::Ok(app) => return Ok(*app),
                Parsed::OtherVsn(other) => {
                    if first_error.is_none() {
                        first_error = Some(t([
                            a("no_valid_version"),
                            t([t([s("should be"), s(vsn)]), t([s("found file"), s(&erl_join(dir, &file)), s(&other)])]),
                        ]));
                    }
                }
                Parsed::Err(e) => return Err(e),
            },
            Err(ReadFail::Parse(line, msg)) => {
                if first_error.is_none() {
                    first_error =
                        Some(t([a("parse_error"), t([s(&erl_join(dir, &file)), Term::Int(line as i64), s(&msg)])]));
                }
            }
            Err(ReadFail::NotFound | ReadFail::Read) => {}
        }
    }
    Err(first_error.unwrap_or_else(|| t([a("not_found"), s(&file)])))
}

/// One `parse_application` result, with everything it was computed from.
struct Memo {
    term: Arc<Term>,
    full: String,
    vsn: String,
    otp_major: u32,
    incls: Vec<(String, Vec<String>)>,
    app: App,
}

/// Bound on remembered applications; past it the memo starts afresh.
const MAX_MEMOS: usize = 4096;

static MEMOS: Mutex<Option<FastMap<usize, Memo>>> = Mutex::new(None);

/// [`parse_application`], remembered for `.app` terms the file cache keeps: checking
/// an `.app` and copying its lists into an [`App`] cost more than the rest of a warm
/// `make_script`'s reading, and an unchanged file with the same arguments gives the same
/// application. The memo holds the term, so its address names it while remembered.
fn parse_application_memo(
    term: &Arc<Term>,
    full: &str,
    vsn: &str,
    incls: &[(String, Vec<String>)],
    otp_major: u32,
) -> Parsed {
    let key = Arc::as_ptr(term) as usize;
    {
        let memos = MEMOS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = memos.as_ref().and_then(|m| m.get(&key)) {
            if Arc::ptr_eq(&m.term, term)
                && m.full == full
                && m.vsn == vsn
                && m.otp_major == otp_major
                && m.incls == incls
            {
                return Parsed::Ok(Box::new(m.app.clone()));
            }
        }
    }
    let parsed = parse_application(term, full, vsn, incls, otp_major);
    // Only a term the file cache also holds will come back under the same address.
    if let (Parsed::Ok(app), true) = (&parsed, Arc::strong_count(term) > 1) {
        let mut memos = MEMOS.lock().unwrap_or_else(|p| p.into_inner());
        let map = memos.get_or_insert_with(FastMap::default);
        if map.len() >= MAX_MEMOS {
            map.clear();
        }
        let memo = Memo {
            term: term.clone(),
            full: full.to_string(),
            vsn: vsn.to_string(),
            otp_major,
            incls: incls.to_vec(),
            app: (**app).clone(),
        };
        map.insert(key, memo);
    }
    parsed
}

enum Parsed {
    Ok(Box<App>),
    OtherVsn(String),
    Err(Term),
}

const ITEMS: [&str; 13] = [
    "vsn",
    "id",
    "description",
    "modules",
    "registered",
    "applications",
    "optional_applications",
    "included_applications",
    "mod",
    "start_phases",
    "env",
    "maxT",
    "maxP",
];

fn parse_application(term: &Term, full: &str, vsn: &str, incls: &[(String, Vec<String>)], otp_major: u32) -> Parsed {
    let (name, dict) = match term.as_tuple() {
        Some([tag, Term::Atom(name), dict @ Term::List(_)]) if tag.is_atom("application") => {
            (name, dict.as_list().unwrap_or(&[]))
        }
        _ => return Parsed::Err(t([a("badly_formatted_application"), term.clone()])),
    };
    let mut values: Vec<Term> = Vec::with_capacity(ITEMS.len());
    for key in ITEMS {
        match check_item(dict, key, full, otp_major) {
            Ok(v) => values.push(v),
            Err(reason) => return Parsed::Err(t([reason, term.clone()])),
        }
    }
    let str_of = |v: &Term| v.string_p().ok().flatten().unwrap_or_default();
    let atoms = |v: &Term| a_list(v).unwrap_or_default();
    let found_vsn = str_of(&values[0]);
    if found_vsn != vsn {
        return Parsed::OtherVsn(found_vsn);
    }
    let mut includes = atoms(&values[7]);
    if let Some((_, over)) = incls.iter().find(|(n, _)| n == name) {
        let missing: Vec<Term> = over.iter().filter(|x| !includes.contains(x)).map(|x| a(x)).collect();
        if !missing.is_empty() {
            return Parsed::Err(t([a("override_include"), Term::List(missing)]));
        }
        includes = over.clone();
    }
    let modules = name_list(&values[3]).unwrap_or_default();
    Parsed::Ok(Box::new(App {
        name: name.to_string(),
        vsn: found_vsn,
        id: str_of(&values[1]),
        description: str_of(&values[2]),
        sorted_modules: sorted_names(&modules),
        modules,
        regs: name_list(&values[4]).unwrap_or_default(),
        uses: atoms(&values[5]),
        optional: atoms(&values[6]),
        includes,
        mod_: values[8].clone(),
        start_phases: if values[9].is_atom("undefined") { None } else { Some(values[9].clone()) },
        env: values[10].clone(),
        max_t: values[11].clone(),
        max_p: values[12].clone(),
        dir: erl_dirname(full),
        typ: String::new(),
    }))
}

/// `L -- lists:usort(L)`: what is left after removing one occurrence of each name.
fn duplicate_entries<'a>(list: &[&'a str]) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    list.iter().copied().filter(|x| !seen.insert(*x)).collect()
}

fn t_list_p(v: &Term) -> bool {
    v.as_list().is_some_and(|l| l.iter().all(|e| matches!(e.as_tuple(), Some([Term::Atom(_), _]))))
}

fn check_item(dict: &[Term], key: &str, full: &str, otp_major: u32) -> Result<Term, Term> {
    let found = dict.iter().find_map(|e| match e.as_tuple() {
        Some(items) if !items.is_empty() && items[0].is_atom(key) => Some(items),
        _ => None,
    });
    let bad = || Err(t([a("bad_param"), a(key)]));
    let missing = || Err(t([a("missing_param"), a(key)]));
    let Some(items) = found else {
        return match key {
            "optional_applications" | "included_applications" | "mod" | "env" | "id" => Ok(Term::nil()),
            "start_phases" => Ok(a("undefined")),
            "maxT" | "maxP" => Ok(a("infinity")),
            _ => missing(),
        };
    };
    // keysearch finds any tuple with the key first; only 2-tuples match check_item's clauses.
    let [_, v] = items else { return missing() };
    match key {
        "mod" => match v.as_tuple() {
            Some([Term::Atom(_), _]) => Ok(v.clone()),
            _ if matches!(v, Term::List(l) if l.is_empty()) => Ok(Term::nil()),
            _ => missing(),
        },
        "vsn" | "id" | "description" => match v.string_p() {
            Ok(Some(_)) => Ok(v.clone()),
            Ok(None) => bad(),
            Err(()) => Err(badarg_exit(full, key, v)),
        },
        "applications" | "optional_applications" | "included_applications" | "registered" | "modules" => {
            match v.atom_list() {
                None => bad(),
                // sasl 4.2.1 (OTP 26, OTP-18300) rejects duplicates in these lists.
                Some(list) if otp_major >= 26 => {
                    let dups = duplicate_entries(&list);
                    if dups.is_empty() {
                        Ok(v.clone())
                    } else {
                        Err(t([a("dupl_entry"), a(key), Term::List(dups.iter().map(|x| a(x)).collect())]))
                    }
                }
                Some(_) => Ok(v.clone()),
            }
        }
        "start_phases" if v.is_atom("undefined") => Ok(v.clone()),
        "start_phases" | "env" => {
            if t_list_p(v) {
                Ok(v.clone())
            } else {
                bad()
            }
        }
        _ => match v {
            Term::Int(i) if *i > 0 => Ok(v.clone()),
            Term::Big(b) if b.sign() == num_bigint::Sign::Plus => Ok(v.clone()),
            _ if v.is_atom("infinity") => Ok(v.clone()),
            _ => bad(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::reader::read_first_term;

    #[test]
    fn duplicates_in_app_lists_are_an_error_from_otp_26() {
        let src = b"{application, d, [{vsn, \"1\"}, {description, \"d\"}, {modules, []}, {registered, [r, r]}, {applications, [kernel]}]}.";
        let term = read_first_term(src, "d.app").unwrap();
        assert!(matches!(parse_application(&term, "d.app", "1", &[], 25), Parsed::Ok(_)));
        let Parsed::Err(e) = parse_application(&term, "d.app", "1", &[], 26) else { panic!("accepted on 26") };
        assert_eq!(e.as_tuple().unwrap()[0], t([a("dupl_entry"), a("registered"), Term::list([a("r")])]));
    }
}
