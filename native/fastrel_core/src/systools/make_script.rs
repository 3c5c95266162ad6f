// SPDX-License-Identifier: Apache-2.0
//! `systools:make_script/2` without the VM: read, check, order, build, write.
//!
//! The caller (the `relnif` Erlang module) validates options, expands `{path, ...}`
//! wildcards and supplies the code path, because those depend on the running VM; what is
//! left is pure file work, done here.

use crate::fs::Staged;
use crate::systools::filename::{erl_join, erl_norm};
use crate::systools::order;
use crate::systools::release::{self, App};
use crate::systools::script::{self, PathMode, ScriptConfig};
use crate::systools::search_path::SearchPath;
use crate::systools::Error;
use crate::term::vm::{self, Vm};
use crate::term::{a, s, t, Term};
use std::path::{Path, PathBuf};

/// Everything `make_script` needs, already validated.
#[derive(Debug, Clone)]
pub struct Options {
    /// The release name as given (the `.rel` file is `rel_name ++ ".rel"`).
    pub rel_name: String,
    /// Output base name: writes `output.script` and `output.boot`.
    pub output: String,
    /// The search path: expanded `{path, ...}` entries followed by the code path.
    pub path: Vec<String>,
    /// How script paths are written.
    pub mode: PathMode,
    /// `{variables, ...}` as `(Var, Prefix)`.
    pub variables: Vec<(String, String)>,
    /// Omit `{apply, {c, erlangrc, []}}`.
    pub no_dot_erlang: bool,
    /// Check that each module's `.beam` exists and its source is not newer.
    pub src_tests: bool,
    /// Drop the `missing_sasl` warning.
    pub no_warn_sasl: bool,
    /// Fail, writing nothing, when there are warnings.
    pub warnings_as_errors: bool,
    /// Stop after the checks and report the application directories (for `exref`).
    pub check_only: bool,
    /// Warnings found by the caller (`exref`), appended after ours.
    pub extra_warnings: Vec<Term>,
    /// OTP release the output is for (atom encoding, module lists, atom quoting).
    pub otp_major: u32,
    /// The running VM's preloaded modules (`erlang:pre_loaded()`), sorted.
    pub preloaded: Vec<String>,
    /// Whether `io:printable_range()` is `unicode` (decides how lists print in `.script`).
    pub unicode_range: bool,
    /// Directory relative names are resolved against (the VM's cwd).
    pub cwd: PathBuf,
}

/// What a successful call did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Files written; the warnings (`{warning, W}` terms).
    Written(Vec<Term>),
    /// `check_only`: the warnings so far and each application's name and directory.
    Checked(Vec<Term>, Vec<(String, String)>),
}

impl Outcome {
    /// The Erlang term for the caller: `{ok, Ws}` or `{checked, Ws, [{App, Dir}]}`.
    pub fn to_term(&self) -> Term {
        match self {
            Outcome::Written(w) => t([a("ok"), Term::List(w.clone())]),
            Outcome::Checked(w, dirs) => t([
                a("checked"),
                Term::List(w.clone()),
                Term::List(dirs.iter().map(|(n, d)| t([a(n), s(d)])).collect()),
            ]),
        }
    }
}

/// A release read and checked, as both `make_script` and `make_tar` need it.
pub(crate) struct Prepared {
    pub rel: release::Release,
    pub apps: Vec<App>,
    /// Indices into `apps`, in start order.
    pub sorted: Vec<usize>,
    pub warnings: Vec<Term>,
}

/// systools' shared front end (`get_release`): the `.rel`, every `.app`, the checks, the
/// start order and the warnings (`no_warn_sasl` applied).
pub(crate) fn prepare(opts: &Options) -> Result<Prepared, Term> {
    let (rel, mut warnings) = release::read_release(&opts.rel_name, &opts.path)?;
    let search = SearchPath::new(&opts.path);
    let mut apps: Vec<App> = Vec::with_capacity(rel.apps.len());
    let mut errors = Vec::new();
    let read = |entry: &release::RelApp| {
        release::read_application(&entry.name, &entry.vsn, &search, &rel.incls, opts.otp_major)
    };
    // Warm, every `.app` is a `stat` and a cache hit, and a thread start would cost more
    // than it saves; cold, the parsing is worth spreading.
    let found = if crate::systools::search_path::remembered() < rel.apps.len() {
        par_map(&rel.apps, read)
    } else {
        rel.apps.iter().map(read).collect()
    };
    for (entry, result) in rel.apps.iter().zip(found) {
        match result {
            Ok(mut app) if app.name == entry.name => {
                app.typ = entry.typ.clone();
                apps.push(app);
            }
            Ok(app) => errors.push(t([a("bad_application_name"), t([a(&entry.name), t([a(&app.name), s(&app.vsn)])])])),
            Err(reason) => errors.push(t([a("error_reading"), t([a(&entry.name), reason])])),
        }
    }
    if !errors.is_empty() {
        errors.reverse();
        return Err(Term::List(errors));
    }
    order::check_applications(&mut apps, &rel)?;
    order::check_duplicate_modules(&apps)?;
    if opts.src_tests {
        warnings.extend(src_tests(&apps)?);
    }
    warnings.extend(opts.extra_warnings.iter().cloned());
    let sorted = order::sort_appls(&apps)?;
    if opts.no_warn_sasl {
        let sasl = t([a("warning"), a("missing_sasl")]);
        if let Some(i) = warnings.iter().position(|w| *w == sasl) {
            warnings.remove(i);
        }
    }
    Ok(Prepared { rel, apps, sorted, warnings })
}

/// Runs `make_script`. Maps in the script (application environments) are put in `vm`'s
/// order.
///
/// # Errors
///
/// systools' (the `E` of `{error, systools_make, E}`, see [`Error::reason`]).
pub fn make_script(opts: &Options, vm: &dyn Vm) -> Result<Outcome, Error> {
    let Prepared { rel, apps, sorted, warnings } = prepare(opts).map_err(Error::Release)?;
    if opts.check_only {
        return Ok(Outcome::Checked(warnings, apps.iter().map(|x| (x.name.clone(), x.dir.clone())).collect()));
    }
    if opts.warnings_as_errors && !warnings.is_empty() {
        return Err(Error::WarningsAsErrors(warnings));
    }
    let ordered: Vec<&App> = sorted.iter().map(|&i| &apps[i]).collect();
    let cfg = ScriptConfig {
        mode: opts.mode.clone(),
        variables: &opts.variables,
        no_dot_erlang: opts.no_dot_erlang,
        preloaded: &opts.preloaded,
        cwd: &opts.cwd,
    };
    let mut script = script::build(&rel, &ordered, &cfg);
    if vm::has_orderable_map(&script) {
        // The atoms of the files in the order systools reads them (the .rel, then each
        // .app in .rel order), so that new atoms get the indices systools would give them.
        let files =
            std::iter::once(rel.path.clone()).chain(apps.iter().map(|x| erl_join(&x.dir, &format!("{}.app", x.name))));
        for file in files {
            if let Ok(bytes) = std::fs::read(&file) {
                vm.intern_atoms(&crate::term::reader::atoms_in_source(&bytes));
            }
        }
        vm::order_maps(&mut script, vm);
    }
    write_outputs(&opts.output, script, opts.otp_major, opts.unicode_range)?;
    Ok(Outcome::Written(warnings))
}

/// Writes `Out.script` then `Out.boot`, each through a temporary file renamed into place,
/// so a reader never sees a half-written file; a file that already holds the same bytes is
/// left as it is but for its modification time, which is set as writing it would set it
/// (see [`Staged`]). Errors are systools' `{open, File, Posix}`.
///
/// The two files are rendered and written on two threads (file creation dominates on
/// real disks), and put in place in systools' order: the `.script` as soon as it is
/// written, while the `.boot`'s thread is still at work, then the `.boot`. A failed
/// `.script` stops the `.boot` (its temporary file is dropped); a failed `.boot` leaves
/// the `.script`. The `.boot`'s thread, which has less to do, also frees the script term,
/// once the `.script`'s has measured it: freeing a script's tens of thousands of terms was
/// 5-10% of a call.
pub fn write_outputs(output: &str, script: Term, otp_major: u32, unicode_range: bool) -> Result<(), Error> {
    let script_file = format!("{output}.script");
    let boot_file = format!("{output}.boot");
    let script = std::sync::Arc::new(script);
    let for_boot = std::sync::Arc::clone(&script);
    let (hand_over, taken) = std::sync::mpsc::sync_channel::<std::sync::Arc<Term>>(1);
    // A temporary file not committed is removed when dropped, on every error path.
    let (script_done, boot_staged) = std::thread::scope(|scope| {
        let boot_path = Path::new(&boot_file);
        let boot = scope.spawn(move || {
            let bytes = crate::term::etf::encode(&for_boot, otp_major);
            let staged = Staged::stage(boot_path, &bytes);
            drop((for_boot, taken.recv()));
            staged.map(|staged| (staged, bytes))
        });
        let measured = crate::term::pretty::Measured::of(&script, unicode_range, otp_major);
        // The receiver is gone only if the other thread panicked; the term is freed here then.
        let _ = hand_over.send(script);
        let text = measured.script_text();
        let script_done =
            Staged::stage(Path::new(&script_file), text.as_bytes()).and_then(|s| s.commit(text.as_bytes()));
        let boot_staged = boot.join().unwrap_or_else(|_| Err(std::io::Error::other("boot writer panicked")));
        (script_done, boot_staged)
    });
    script_done.map_err(|e| Error::open(&script_file, &e))?;
    boot_staged.and_then(|(staged, bytes)| staged.commit(&bytes)).map_err(|e| Error::open(&boot_file, &e))
}

/// `items.iter().map(f)` on up to four threads, results in order. Small inputs stay on
/// the calling thread, where a thread start would cost more than it saves.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if threads < 2 || items.len() < 8 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|scope| {
        let work = || {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { return mine };
                mine.push((i, f(item)));
            }
        };
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            // A panicking worker re-panics here; rustler turns that into an exception.
            all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    });
    out.sort_unstable_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// A file's mtime as the local-time tuple `file:read_file_info/1` gives, which is what
/// systools compares: across a DST fall-back, local times do not follow UTC order.
fn mtime_local(p: &Path) -> Option<[i32; 6]> {
    use std::os::unix::fs::MetadataExt;
    let secs: nix::libc::time_t = std::fs::metadata(p).ok()?.mtime();
    // SAFETY: localtime_r only writes the tm we hand it; tm is plain data.
    let tm = unsafe {
        let mut tm: nix::libc::tm = std::mem::zeroed();
        if nix::libc::localtime_r(&secs, &mut tm).is_null() {
            return None;
        }
        tm
    };
    Some([tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec])
}

/// `src_tests`: every module needs a `.beam`; a missing or newer source is a warning.
fn src_tests(apps: &[App]) -> Result<Vec<Term>, Term> {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for app in apps {
        let src_dirs = source_dirs(&app.dir);
        for m in &app.modules {
            let mod_t = t([a(m), a(&app.name), s(&app.dir)]);
            let beam = erl_join(&app.dir, &format!("{m}.beam"));
            let Some(beam_time) = mtime_local(Path::new(&beam)) else {
                errors.push(t([a("error"), t([t([a("module_not_found"), a(&app.name), a(m)]), mod_t])]));
                continue;
            };
            let src = src_dirs.iter().find_map(|d| mtime_local(Path::new(&erl_join(d, &format!("{m}.erl")))));
            match src {
                None => warnings.push(t([a("warning"), t([a("source_not_found"), mod_t])])),
                Some(st) if st > beam_time => warnings.push(t([a("warning"), t([a("obj_out_of_date"), mod_t])])),
                Some(_) => {}
            }
        }
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(t([a("modules"), Term::List(errors)]))
    }
}

/// `smart_guess/2` + `add_subdirs/1`: where a module's source may live.
fn source_dirs(dir: &str) -> Vec<String> {
    let trimmed = dir.trim_end_matches('/');
    let Some(parent) = trimmed.strip_suffix("ebin").filter(|p| p.is_empty() || p.ends_with('/')) else {
        return vec![dir.to_string()];
    };
    // "ebin" alone has no parent ("src"); "/ebin" has the root ("/src").
    let base = |x: &str| if parent.is_empty() { erl_norm(x) } else { erl_join(parent, x) };
    let guesses = [base("src"), base("src/e_src")];
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for g in guesses {
        if Path::new(&g).is_dir() {
            let mut subs = Vec::new();
            walk_dirs(Path::new(&g), &g, &mut subs, 0);
            subs.sort();
            found.push(g);
            found.extend(subs);
        } else {
            missing.push(g);
        }
    }
    missing.reverse();
    found.extend(missing);
    found
}

fn walk_dirs(dir: &Path, shown: &str, out: &mut Vec<String>, depth: u32) {
    if depth > 64 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        // filelib:wildcard("**") descends into dot-directories too.
        let name = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        if p.is_dir() {
            let shown_child = format!("{shown}/{name}");
            out.push(shown_child.clone());
            walk_dirs(&p, &shown_child, out, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systools::fixture::{term, Release};
    use crate::term::vm::TermOrder;

    /// kernel, stdlib, and `a` using `b`, listed before it in the `.rel`.
    fn abc(sasl: bool) -> Release {
        let mut r = Release::new("script");
        r.base(sasl).app("a", "1", &["a_m"], &["kernel", "b"]).app("b", "2", &["b_m"], &["kernel"]);
        let mut apps = vec![("kernel", "1"), ("stdlib", "1"), ("a", "1"), ("b", "2")];
        if sasl {
            apps.push(("sasl", "1"));
        }
        r.rel("r", &apps);
        r
    }

    fn started(p: &Prepared) -> Vec<&str> {
        p.sorted.iter().map(|&i| p.apps[i].name.as_str()).collect()
    }

    #[test]
    fn applications_start_after_those_they_use() {
        let r = abc(true);
        let p = prepare(&r.options("r")).unwrap();
        assert_eq!(started(&p), ["kernel", "stdlib", "b", "a", "sasl"]);
        assert_eq!(p.rel.vsn, "1");
        assert!(p.warnings.is_empty());
        assert_eq!(p.apps.iter().find(|x| x.name == "b").unwrap().vsn, "2");
    }

    #[test]
    fn the_script_and_boot_are_written_and_hold_the_same_term() {
        let r = abc(false);
        let Outcome::Written(ws) = make_script(&r.options("r"), &TermOrder).unwrap() else { panic!("not written") };
        assert_eq!(ws, [term("{warning, missing_sasl}")]);
        let script = std::fs::read(r.path("r.script")).unwrap();
        let from_text = crate::term::reader::read_first_term(&script, "r.script").unwrap();
        let from_boot = crate::term::etf::decode(&std::fs::read(r.path("r.boot")).unwrap()).unwrap();
        assert_eq!(from_text, from_boot);
        let Term::Tuple(items) = &from_boot else { panic!("{from_boot:?}") };
        assert_eq!(items[..2], [a("script"), t([s("r"), s("1")])]);
        assert_eq!(r.listing(), ["lib", "r.boot", "r.rel", "r.script"]);
    }

    #[test]
    fn no_warn_sasl_drops_the_warning() {
        let r = abc(false);
        let opts = Options { no_warn_sasl: true, check_only: true, ..r.options("r") };
        let Outcome::Checked(ws, dirs) = make_script(&opts, &TermOrder).unwrap() else { panic!("not checked") };
        assert!(ws.is_empty());
        assert_eq!(dirs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["kernel", "stdlib", "a", "b"]);
        assert_eq!(dirs[2].1, r.path("lib/a-1/ebin"));
        assert_eq!(r.listing(), ["lib", "r.rel"], "check_only writes nothing");
    }

    #[test]
    fn warnings_as_errors_writes_nothing() {
        let r = abc(false);
        let e = make_script(&Options { warnings_as_errors: true, ..r.options("r") }, &TermOrder).unwrap_err();
        assert_eq!(e.reason(), term("{warnings_treated_as_errors, [missing_sasl]}"));
        assert_eq!(r.listing(), ["lib", "r.rel"]);
    }

    #[test]
    fn a_missing_application_is_systools_error_reading() {
        let mut r = Release::new("missing");
        r.base(true);
        r.rel("r", &[("kernel", "1"), ("stdlib", "1"), ("sasl", "1"), ("nope", "1")]);
        let e = make_script(&r.options("r"), &TermOrder).unwrap_err();
        assert_eq!(e.reason(), term("[{error_reading, {nope, {not_found, \"nope.app\"}}}]"));
    }

    #[test]
    fn a_missing_release_file_is_not_found() {
        let r = Release::new("norel");
        let e = make_script(&r.options("r"), &TermOrder).unwrap_err();
        assert_eq!(e.reason(), t([a("not_found"), s(&format!("{}.rel", r.path("r")))]));
    }

    #[test]
    fn an_output_that_cannot_be_created_is_an_open_error_and_leaves_nothing() {
        let r = abc(true);
        let output = r.path("no/such/r");
        let e = make_script(&Options { output: output.clone(), ..r.options("r") }, &TermOrder).unwrap_err();
        assert_eq!(e.reason(), t([a("open"), s(&format!("{output}.script")), a("enoent")]));
        assert_eq!(r.listing(), ["lib", "r.rel"]);
    }

    /// systools' order: a `.script` that cannot be put in place stops the `.boot`; a
    /// `.boot` that cannot be leaves the `.script` written.
    #[test]
    fn a_failed_script_stops_the_boot_and_a_failed_boot_leaves_the_script() {
        let r = abc(true);
        std::fs::create_dir_all(r.dir.join("r.script/x")).unwrap();
        let e = make_script(&r.options("r"), &TermOrder).unwrap_err();
        assert_eq!(e.reason(), t([a("open"), s(&r.path("r.script")), a("eisdir")]));
        assert_eq!(r.listing(), ["lib", "r.rel", "r.script"]);
        std::fs::remove_dir_all(r.dir.join("r.script")).unwrap();
        std::fs::create_dir_all(r.dir.join("r.boot/x")).unwrap();
        let e = make_script(&r.options("r"), &TermOrder).unwrap_err();
        assert_eq!(e.reason(), t([a("open"), s(&r.path("r.boot")), a("eisdir")]));
        assert_eq!(r.listing(), ["lib", "r.boot", "r.rel", "r.script"]);
        assert!(std::fs::read_to_string(r.dir.join("r.script")).unwrap().starts_with("%% coding: utf-8\n{script,"));
    }
}
