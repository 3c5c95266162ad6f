// SPDX-License-Identifier: Apache-2.0
//! The options `relnif` sends, read into the systools port's typed options: one decoder
//! for `make_script`, `make_tar`, `tar_files` and `make_relup`.
//!
//! `relnif` has already checked the user's options as systools does (bad ones raise
//! there), so anything odd here is a mismatch between the two sides, not a user error:
//! an unknown key, a key of the wrong type or a value out of range is
//! [`Error::BadOptions`] naming the key, never a silent default. A key that is absent
//! takes the default `relnif` would have sent.

use crate::systools::make_script::Options;
use crate::systools::make_tar::{TarOptions, VarTar};
use crate::systools::relup::{BaseRel, RelupOptions};
use crate::systools::{Error, PathMode};
use crate::term::Term;
use std::path::PathBuf;

/// The keys of `make_script` and `make_tar` (one set: `relnif` asks `make_script` for
/// the application directories with `make_tar`'s options when `exref` is on).
const RELEASE_KEYS: [&str; 27] = [
    "rel_name",
    "output",
    "path",
    "mode",
    "variables",
    "no_dot_erlang",
    "src_tests",
    "no_warn_sasl",
    "warnings_as_errors",
    "check_only",
    "extra_warnings",
    "otp_major",
    "preloaded",
    "appups",
    "unicode_range",
    "cwd",
    "tar_file",
    "sys_path",
    "dirs",
    "erts",
    "erts_all",
    "var_tar",
    "extra_files",
    "compression_level",
    "reproducible",
    "follow_symlinks",
    "symlinks",
];

const RELUP_KEYS: [&str; 7] = ["answers", "top", "up", "dn", "path", "restart_emulator", "otp_major"];

fn bad(what: impl Into<String>) -> Error {
    Error::BadOptions(what.into())
}

/// A file name or other text: a binary (what `relnif` sends) or a string.
fn text(t: &Term) -> Option<String> {
    match t {
        Term::Binary(b) => String::from_utf8(b.clone()).ok(),
        other => other.string_p().ok().flatten(),
    }
}

/// A `[{Key, Value}]` list whose keys are all known, read by key; the first of a
/// repeated key counts, as with `proplists:get_value/2`.
struct Props<'a>(Vec<(&'a str, &'a Term)>);

impl<'a> Props<'a> {
    fn of(term: &'a Term, known: &[&str]) -> Result<Props<'a>, Error> {
        let items = term.as_list().ok_or_else(|| bad("options: not a list"))?;
        let mut props = Vec::with_capacity(items.len());
        for item in items {
            match item.as_tuple() {
                Some([Term::Atom(k), v]) if known.contains(&k.as_str()) => props.push((k.as_str(), v)),
                Some([Term::Atom(k), _]) => return Err(bad(format!("{k}: unknown option"))),
                _ => return Err(bad("options: not a {Key, Value} list")),
            }
        }
        Ok(Props(props))
    }

    fn get(&self, k: &str) -> Option<&'a Term> {
        self.0.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
    }

    /// The value of `k` through `read`, `None` when absent, an error when `read` fails.
    fn typed<T>(&self, k: &str, what: &str, read: impl FnOnce(&'a Term) -> Option<T>) -> Result<Option<T>, Error> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => read(v).map(Some).ok_or_else(|| bad(format!("{k}: not {what}"))),
        }
    }

    fn text(&self, k: &str) -> Result<Option<String>, Error> {
        self.typed(k, "a string", text)
    }

    fn required_text(&self, k: &str) -> Result<String, Error> {
        self.text(k)?.ok_or_else(|| bad(format!("{k}: missing")))
    }

    fn texts(&self, k: &str) -> Result<Vec<String>, Error> {
        Ok(self.typed(k, "a list of strings", |v| v.as_list()?.iter().map(text).collect())?.unwrap_or_default())
    }

    fn pairs(&self, k: &str) -> Result<Vec<(String, String)>, Error> {
        let pair = |p: &Term| match p.as_tuple() {
            Some([x, y]) => Some((text(x)?, text(y)?)),
            _ => None,
        };
        Ok(self
            .typed(k, "a list of {String, String}", |v| v.as_list()?.iter().map(pair).collect())?
            .unwrap_or_default())
    }

    fn flag(&self, k: &str) -> Result<Option<bool>, Error> {
        self.typed(k, "true or false", boolean)
    }

    /// One of `choices`, as its index.
    fn choice(&self, k: &str, choices: &[&str]) -> Result<Option<usize>, Error> {
        self.typed(k, &choices.join(" or "), |v| choices.iter().position(|c| v.is_atom(c)))
    }

    fn int_in(&self, k: &str, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>, Error> {
        let what = format!("an integer in {}..{}", range.start(), range.end());
        self.typed(k, &what, |v| match v {
            Term::Int(i) if range.contains(i) => Some(*i),
            _ => None,
        })
    }
}

fn boolean(v: &Term) -> Option<bool> {
    if v.is_atom("true") {
        Some(true)
    } else if v.is_atom("false") {
        Some(false)
    } else {
        None
    }
}

fn cwd(props: &Props) -> Result<PathBuf, Error> {
    Ok(match props.text("cwd")? {
        Some(c) => PathBuf::from(c),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
    })
}

fn otp_major(props: &Props) -> Result<u32, Error> {
    Ok(props.int_in("otp_major", 1..=i64::from(u32::MAX))?.map_or(25, |i| i as u32))
}

fn script_options(props: &Props) -> Result<Options, Error> {
    let otp_major = otp_major(props)?;
    let mut preloaded = match props.get("preloaded") {
        Some(_) => props.texts("preloaded")?,
        None => crate::systools::preloaded(otp_major).into_iter().map(String::from).collect(),
    };
    preloaded.sort();
    let flag = |k: &str| props.flag(k).map(|f| f.unwrap_or(false));
    let modes = [PathMode::Root, PathMode::Local, PathMode::OtpBuild];
    Ok(Options {
        rel_name: props.required_text("rel_name")?,
        output: props.required_text("output")?,
        path: props.texts("path")?,
        mode: props.choice("mode", &["root", "local", "otp_build"])?.map_or(PathMode::Root, |i| modes[i].clone()),
        variables: props.pairs("variables")?,
        no_dot_erlang: flag("no_dot_erlang")?,
        src_tests: flag("src_tests")?,
        no_warn_sasl: flag("no_warn_sasl")?,
        warnings_as_errors: flag("warnings_as_errors")?,
        check_only: flag("check_only")?,
        extra_warnings: props
            .typed("extra_warnings", "a list", |v| v.as_list().map(<[Term]>::to_vec))?
            .unwrap_or_default(),
        otp_major,
        preloaded,
        unicode_range: flag("unicode_range")?,
        cwd: cwd(props)?,
    })
}

/// `make_script`'s options from the proplist `relnif` sends.
///
/// # Errors
///
/// [`Error::BadOptions`] for an unknown key or a value of the wrong type.
pub fn script_options_from_term(term: &Term) -> Result<Options, Error> {
    script_options(&Props::of(term, &RELEASE_KEYS)?)
}

/// `make_tar`'s options from the proplist `relnif` sends (`make_script`'s and the tar ones).
///
/// # Errors
///
/// [`Error::BadOptions`] for an unknown key, a value of the wrong type or no `tar_file`.
pub fn tar_options_from_term(term: &Term) -> Result<TarOptions, Error> {
    let props = Props::of(term, &RELEASE_KEYS)?;
    let base = script_options(&props)?;
    let var_tars = [VarTar::Include, VarTar::Ownfile, VarTar::Omit];
    Ok(TarOptions {
        tar_file: props.required_text("tar_file")?,
        sys_path: props.texts("sys_path")?,
        dirs: props.texts("dirs")?,
        erts: props.text("erts")?,
        erts_all: props.flag("erts_all")?.unwrap_or(false),
        appups: props.flag("appups")?.unwrap_or(base.otp_major >= 28),
        var_tar: props.choice("var_tar", &["include", "ownfile", "omit"])?.map_or(VarTar::Include, |i| var_tars[i]),
        extra_files: props.pairs("extra_files")?,
        level: props.int_in("compression_level", 0..=9)?.map_or(6, |l| l as u32),
        reproducible: props.int_in("reproducible", 0..=i64::MAX)?.map(|t| t as u64),
        follow_outside: props.choice("follow_symlinks", &["inside", "outside"])? == Some(1),
        keep_links_beside: props.choice("symlinks", &["follow", "beside"])? == Some(1),
        base,
    })
}

/// `tar_files`' arguments: what [`tar_files_from_term`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarFilesArgs {
    /// The tarball to write.
    pub out: String,
    /// `(From, To)`: a file or directory and its name in the tarball.
    pub entries: Vec<(String, String)>,
    /// Deflate level, 0..=9.
    pub level: u32,
    /// One mtime for every entry, sorted listings, owner 0/0.
    pub reproducible: Option<u64>,
    /// Pack the targets of symlinks that point out of their directory.
    pub follow_outside: bool,
    /// Pack symlinks to a file beside them as symlinks.
    pub keep_links_beside: bool,
}

/// `tar_files`' arguments from `{Out, [{From, To}], Level, Reproducible, FollowSymlinks,
/// Symlinks}` (`Reproducible` an mtime or `false`, `FollowSymlinks` `inside` or `outside`,
/// `Symlinks` `follow` or `beside`).
///
/// # Errors
///
/// [`Error::BadOptions`] for any other shape or value.
pub fn tar_files_from_term(term: &Term) -> Result<TarFilesArgs, Error> {
    let Some([out, entries, level, repro, follow, links]) = term.as_tuple() else {
        return Err(bad("tar_files: not {Out, Entries, Level, Reproducible, FollowSymlinks, Symlinks}"));
    };
    let entry = |e: &Term| match e.as_tuple() {
        Some([f, to]) => Some((text(f)?, text(to)?)),
        _ => None,
    };
    Ok(TarFilesArgs {
        out: text(out).ok_or_else(|| bad("tar_files: the output is not a file name"))?,
        entries: entries
            .as_list()
            .and_then(|l| l.iter().map(entry).collect())
            .ok_or_else(|| bad("tar_files: entries not a list of {File, Name}"))?,
        level: match level {
            Term::Int(l) if (0..=9).contains(l) => *l as u32,
            _ => return Err(bad("tar_files: compression_level not an integer in 0..9")),
        },
        reproducible: match repro {
            Term::Int(t) if *t >= 0 => Some(*t as u64),
            _ if repro.is_atom("false") => None,
            _ => return Err(bad("tar_files: reproducible not an mtime or false")),
        },
        follow_outside: match follow.as_atom() {
            Some("outside") => true,
            Some("inside") => false,
            _ => return Err(bad("tar_files: follow_symlinks not inside or outside")),
        },
        keep_links_beside: match links.as_atom() {
            Some("beside") => true,
            Some("follow") => false,
            _ => return Err(bad("tar_files: symlinks not follow or beside")),
        },
    })
}

fn base_rels(props: &Props, k: &str) -> Result<Vec<BaseRel>, Error> {
    let items = props.get(k).and_then(Term::as_list).ok_or_else(|| bad(format!("{k}: not a list")))?;
    items
        .iter()
        .map(|x| match x.as_tuple() {
            Some([n, d]) => text(n).map(|n| BaseRel::Rel(n, d.clone())).ok_or_else(|| bad(format!("{k}: a bad name"))),
            // Where systools would crash on a base: relnif sends `bad`.
            _ if x.is_atom("bad") => Ok(BaseRel::Bad),
            _ => Err(bad(format!("{k}: not {{Name, Index}} or bad"))),
        })
        .collect()
}

/// `make_relup`'s options and the answers the caller already has, from the proplist
/// `relnif` sends.
///
/// # Errors
///
/// [`Error::BadOptions`] for an unknown key, a value of the wrong type or no `top`,
/// `up` or `dn`.
pub fn relup_options_from_term(term: &Term) -> Result<(RelupOptions, Vec<(Term, Term)>), Error> {
    let props = Props::of(term, &RELUP_KEYS)?;
    let answer = |x: &Term| match x.as_tuple() {
        Some([q, ans]) => Some((q.clone(), ans.clone())),
        _ => None,
    };
    let answers = props.typed("answers", "a list of {Query, Answer}", |v| v.as_list()?.iter().map(answer).collect())?;
    let opts = RelupOptions {
        top: props.required_text("top")?,
        up: base_rels(&props, "up")?,
        dn: base_rels(&props, "dn")?,
        path: props.texts("path")?,
        restart_emulator: props.flag("restart_emulator")?.unwrap_or(false),
        otp_major: otp_major(&props)?,
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
    };
    Ok((opts, answers.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(src: &str) -> Term {
        crate::term::reader::read_first_term(format!("{src}.").as_bytes(), "test").unwrap()
    }

    fn bad_key(r: Result<impl std::fmt::Debug, Error>) -> String {
        match r {
            Err(Error::BadOptions(what)) => what,
            other => panic!("expected bad options, got {other:?}"),
        }
    }

    /// What relnif's run_tar_checked sends (binaries for names), with `extra` first.
    fn tar_props(extra: &str) -> Term {
        term(&format!(
            "[{extra}{{rel_name, <<\"r\">>}}, {{output, <<\"r.tar.gz\">>}}, {{tar_file, <<\"r.tar.gz\">>}}, \
             {{path, [<<\"lib/a/ebin\">>]}}, {{sys_path, []}}, {{mode, root}}, \
             {{variables, [{{<<\"ROOT\">>, <<\"/r\">>}}]}}, {{dirs, [<<\"include\">>]}}, \
             {{extra_files, [{{<<\"f\">>, <<\"g\">>}}]}}, {{var_tar, omit}}, {{erts_all, false}}, \
             {{compression_level, 3}}, {{follow_symlinks, outside}}, {{unicode_range, true}}, \
             {{cwd, <<\"/w\">>}}, {{erts, <<\"/e\">>}}, {{reproducible, 7}}, {{src_tests, false}}, \
             {{no_warn_sasl, true}}, {{warnings_as_errors, false}}, {{otp_major, 26}}, \
             {{preloaded, [<<\"init\">>, <<\"erlang\">>]}}, {{appups, false}}]"
        ))
    }

    #[test]
    fn what_relnif_sends_for_make_tar_is_read_in_full() {
        let o = tar_options_from_term(&tar_props("")).unwrap();
        assert_eq!(
            (o.tar_file.as_str(), o.dirs.as_slice(), o.erts.as_deref()),
            ("r.tar.gz", &["include".to_string()][..], Some("/e"))
        );
        assert_eq!(
            (o.var_tar, o.level, o.reproducible, o.follow_outside, o.appups),
            (VarTar::Omit, 3, Some(7), true, false)
        );
        assert_eq!(o.extra_files, [("f".to_string(), "g".to_string())]);
        let b = &o.base;
        assert_eq!((b.rel_name.as_str(), b.otp_major, b.no_warn_sasl, b.unicode_range), ("r", 26, true, true));
        assert_eq!(b.preloaded, ["erlang", "init"], "sorted");
        assert_eq!(b.variables, [("ROOT".to_string(), "/r".to_string())]);
        assert_eq!(b.cwd, PathBuf::from("/w"));
    }

    #[test]
    fn make_script_takes_make_tars_options_for_exref() {
        // relnif asks make_script for the application directories with make_tar's options.
        let o = script_options_from_term(&tar_props("{check_only, true}, ")).unwrap();
        assert!(o.check_only);
        assert_eq!(o.output, "r.tar.gz");
    }

    #[test]
    fn absent_keys_take_relnifs_defaults() {
        let o = tar_options_from_term(&term("[{rel_name, \"r\"}, {output, \"r\"}, {tar_file, \"r.tar.gz\"}]")).unwrap();
        assert_eq!((o.var_tar, o.level, o.reproducible, o.follow_outside), (VarTar::Include, 6, None, false));
        assert_eq!((o.base.mode.clone(), o.base.otp_major, o.appups), (PathMode::Root, 25, false));
        assert!(!o.base.preloaded.is_empty());
    }

    #[test]
    fn unknown_and_ill_typed_keys_are_errors_not_defaults() {
        for (extra, key) in [
            ("{bogus, 1}, ", "bogus: unknown option"),
            ("{mode, remote}, ", "mode: not root or local or otp_build"),
            ("{compression_level, 10}, ", "compression_level: not an integer in 0..9"),
            ("{var_tar, \"omit\"}, ", "var_tar: not include or ownfile or omit"),
            ("{follow_symlinks, always}, ", "follow_symlinks: not inside or outside"),
            ("{otp_major, 0}, ", "otp_major: not an integer in 1..4294967295"),
            ("{src_tests, yes}, ", "src_tests: not true or false"),
            ("{path, [x]}, ", "path: not a list of strings"),
            ("{variables, [{\"V\"}]}, ", "variables: not a list of {String, String}"),
            ("{reproducible, -1}, ", "reproducible: not an integer in 0..9223372036854775807"),
        ] {
            assert_eq!(bad_key(tar_options_from_term(&tar_props(extra))), key, "{extra}");
        }
        assert_eq!(
            bad_key(script_options_from_term(&term("[{rel_name, \"r\"}, x]"))),
            "options: not a {Key, Value} list"
        );
        assert_eq!(bad_key(script_options_from_term(&term("{rel_name, \"r\"}"))), "options: not a list");
        assert_eq!(
            bad_key(script_options_from_term(&term("[{rel_name, r}, {output, \"r\"}]"))),
            "rel_name: not a string"
        );
        assert_eq!(bad_key(script_options_from_term(&term("[{output, \"r\"}]"))), "rel_name: missing");
        assert_eq!(bad_key(tar_options_from_term(&term("[{rel_name, \"r\"}, {output, \"r\"}]"))), "tar_file: missing");
    }

    #[test]
    fn tar_files_takes_exactly_relnifs_tuple() {
        let ok = tar_files_from_term(&term("{<<\"o.tar.gz\">>, [{<<\"f\">>, <<\"g\">>}], 9, false, outside, beside}"))
            .unwrap();
        let want = TarFilesArgs {
            out: "o.tar.gz".into(),
            entries: vec![("f".into(), "g".into())],
            level: 9,
            reproducible: None,
            follow_outside: true,
            keep_links_beside: true,
        };
        assert_eq!(ok, want);
        assert_eq!(tar_files_from_term(&term("{\"o\", [], 0, 5, inside, follow}")).unwrap().reproducible, Some(5));
        for bad_args in [
            "{\"o\", [], 6, false, inside}",
            "{\"o\", [], 10, false, inside, follow}",
            "{\"o\", [], 6, true, inside, follow}",
            "{\"o\", [], 6, false, always, follow}",
            "{\"o\", [], 6, false, inside, always}",
            "{\"o\", [x], 6, false, inside, follow}",
            "{o, [], 6, false, inside, follow}",
        ] {
            assert!(bad_key(tar_files_from_term(&term(bad_args))).starts_with("tar_files: "), "{bad_args}");
        }
    }

    #[test]
    fn relup_bases_are_names_or_bad() {
        let (o, answers) = relup_options_from_term(&term(
            "[{answers, [{q, true}]}, {top, <<\"r2\">>}, {up, [{<<\"r1\">>, 1}, bad]}, {dn, []}, \
             {path, [<<\"lib\">>]}, {restart_emulator, true}, {otp_major, 27}]",
        ))
        .unwrap();
        assert_eq!((o.top.as_str(), o.up.len(), o.dn.len(), o.restart_emulator, o.otp_major), ("r2", 2, 0, true, 27));
        assert!(matches!(&o.up[..], [BaseRel::Rel(n, _), BaseRel::Bad] if n == "r1"));
        assert_eq!(answers, [(term("q"), term("true"))]);
        let bad_base = "[{top, <<\"r2\">>}, {up, [42]}, {dn, []}]";
        assert_eq!(bad_key(relup_options_from_term(&term(bad_base))), "up: not {Name, Index} or bad");
        assert_eq!(bad_key(relup_options_from_term(&term("[{top, <<\"r2\">>}, {up, []}]"))), "dn: not a list");
        let unknown = "[{top, <<\"r2\">>}, {up, []}, {dn, []}, {outdir, \".\"}]";
        assert_eq!(bad_key(relup_options_from_term(&term(unknown))), "outdir: unknown option");
    }
}
