// SPDX-License-Identifier: Apache-2.0
//! `systools:make_tar/2` without the VM: the same front end as `make_script`, then one
//! streaming pass that reads each file once and compresses on every core.
//!
//! Entries, their order, names, modes and error terms are systools' (spec: `systools.md`
//! §6). The bytes of the `.tar.gz` differ (parallel deflate), the tar inside does not,
//! except with `reproducible` (sorted directory listings, one mtime, owner 0/0).

use crate::fs::{posix_name, Temp};
use crate::systools::error::Invalid;
use crate::systools::filename::{erl_dirname, erl_join};
use crate::systools::make_script::{self, Options, Prepared};
use crate::systools::pgzip::ParGz;
use crate::systools::release::App;
use crate::systools::tar::{safe_name, AddError, Normalise, Refusal, TarWriter};
use crate::systools::Error;
use crate::term::Term;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// What to do with the tarballs of applications under a `{variables, ...}` prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarTar {
    /// Packed into the main tarball as `Var.tar.gz` (systools' default).
    Include,
    /// Left beside it, in the current directory.
    Ownfile,
    /// Not written at all.
    Omit,
}

/// `make_tar`'s options beyond the front end's.
#[derive(Clone, Debug)]
pub struct TarOptions {
    /// The front end's options (release name, search path, variables, checks).
    pub base: Options,
    /// The tarball to write (`Name.tar.gz` or under `outdir`).
    pub tar_file: String,
    /// Where the boot file, `relup` and `sys.config` are looked for after the `.rel`'s
    /// directory and `.`: the expanded `{path, ...}` only.
    pub sys_path: Vec<String>,
    /// `{dirs, [D]}`: extra application sub-directories to pack.
    pub dirs: Vec<String>,
    /// `{erts, Dir}`: pack `Dir/erts-Vsn/bin`.
    pub erts: Option<String>,
    /// With `erts`: keep the development tools systools leaves out.
    pub erts_all: bool,
    /// Pack `ebin/App.appup` after `App.app` where there is one (sasl 4.3, OTP 28+).
    pub appups: bool,
    /// `{var_tar, ...}`.
    pub var_tar: VarTar,
    /// `{extra_files, [{From, To}]}`.
    pub extra_files: Vec<(String, String)>,
    /// Deflate level, 0..=9 (systools: 6).
    pub level: u32,
    /// Fixed mtime for every entry, sorted listings, owner 0/0.
    pub reproducible: Option<u64>,
    /// `{follow_symlinks, outside}`: pack the targets of symlinks that point out of the
    /// directory they are in (refused by default).
    pub follow_outside: bool,
    /// `{symlinks, beside}`: pack a symlink to a file beside it as a symlink (fastrel's
    /// programs), not as a copy of the file (systools' way, the default).
    pub keep_links_beside: bool,
}

const ERTS_LEFT_OUT: [&str; 5] = ["typer", "dialyzer", "ct_run", "yielding_c_fun", "erlc"];

type Tar = TarWriter<ParGz<BufWriter<File>>>;

/// Runs `make_tar`: `Ok(warnings)`.
///
/// # Errors
///
/// systools' (see [`Error::reason`]); nothing is left at `tar_file` then.
pub fn make_tar(opts: &TarOptions) -> Result<Vec<Term>, Error> {
    let prep = make_script::prepare(&opts.base).map_err(Error::Release)?;
    if opts.base.warnings_as_errors && !prep.warnings.is_empty() {
        return Err(Error::WarningsAsErrors(prep.warnings));
    }
    via_temp(&opts.tar_file, |tmp| write_tar(opts, &prep, tmp))?;
    Ok(prep.warnings)
}

/// Writes `out` through a temporary file beside it, renamed into place only when `write`
/// succeeded: nothing half-written is left as if it were good.
fn via_temp(out: &str, write: impl FnOnce(&str) -> Result<(), Error>) -> Result<(), Error> {
    let close_error = |e: std::io::Error| Error::Close { file: out.to_string(), posix: posix_name(&e) };
    let tmp = Temp::beside(Path::new(out)).map_err(close_error)?;
    write(&tmp.path().to_string_lossy())?;
    tmp.commit().map_err(close_error)
}

fn open_tar(path: &str, shown: &str, opts: &TarOptions) -> Result<Tar, Error> {
    let f = create(path).map_err(|e| tar_open_error(shown, &e))?;
    let norm = Normalise {
        reproducible: opts.reproducible,
        follow_outside: opts.follow_outside,
        keep_links_beside: opts.keep_links_beside,
    };
    Ok(TarWriter::new(ParGz::new(BufWriter::with_capacity(1 << 20, f), opts.level), norm))
}

/// A new tarball, never group- or world-writable whatever the umask.
fn create(path: &str) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o644).open(path)
}

fn tar_open_error(shown: &str, e: &std::io::Error) -> Error {
    Error::TarOpen { file: shown.to_string(), posix: posix_name(e) }
}

fn close_tar(tar: Tar, shown: &str) -> Result<(), Error> {
    let closed = tar.finish().and_then(|gz| gz.finish()).and_then(|mut w| {
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())
    });
    closed.map(drop).map_err(|e| Error::Close { file: shown.to_string(), posix: posix_name(&e) })
}

/// The variable an application falls under, with the path between prefix and `Name-Vsn`.
fn variable_of<'a>(app: &App, vars: &'a [(String, String)]) -> Option<(&'a str, Vec<String>)> {
    for (var, prefix) in vars {
        let Some(rest) = app.dir.strip_prefix(prefix.as_str()) else { continue };
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        let n = parts.len();
        let named = |p: &str| p == app.name || p == format!("{}-{}", app.name, app.vsn);
        if n >= 2 && parts[n - 1] == "ebin" && named(parts[n - 2]) {
            return Some((var, parts[..n - 2].iter().map(|p| p.to_string()).collect()));
        }
    }
    None
}

fn write_tar(opts: &TarOptions, prep: &Prepared, tmp: &str) -> Result<(), Error> {
    let mut tar = open_tar(tmp, &opts.tar_file, opts)?;
    let vars = &opts.base.variables;
    let mut errors = Vec::new();
    for &i in &prep.sorted {
        let app = &prep.apps[i];
        if variable_of(app, vars).is_none() {
            if let Err(e) = add_app(&mut tar, app, &format!("lib/{}-{}", app.name, app.vsn), opts) {
                errors.push((app.name.clone(), e));
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::AddAppl(errors));
    }
    if opts.var_tar != VarTar::Omit {
        // `Var.tar.gz` is written in the current directory: not above it, nor elsewhere.
        if let Some((var, _)) = vars.iter().find(|(v, _)| !safe_name(&format!("{v}.tar.gz"))) {
            let file = format!("{var}.tar.gz");
            return Err(Error::TarAdd(AddError::refused(Path::new(&file), Refusal::UnsafeName(file.clone()))));
        }
        for (var, _) in vars {
            let file = format!("{var}.tar.gz");
            let built = open_tar(&file, &file, opts).and_then(|mut vtar| {
                for &i in &prep.sorted {
                    let app = &prep.apps[i];
                    if let Some((v, rest)) = variable_of(app, vars) {
                        if v == var {
                            let mut root: Vec<String> = rest;
                            root.push(format!("{}-{}", app.name, app.vsn));
                            add_app(&mut vtar, app, &root.join("/"), opts)
                                .map_err(|e| Error::AddAppl(vec![(app.name.clone(), e)]))?;
                        }
                    }
                }
                close_tar(vtar, &file)
            });
            if built.is_err() {
                // A half-written variable tarball is not left behind as if it were good.
                let _ = std::fs::remove_file(&file);
            }
            built?;
            if opts.var_tar == VarTar::Include {
                let added = tar.add(Path::new(&file), &file).map_err(Error::TarAdd);
                let _ = std::fs::remove_file(&file);
                added?;
            }
        }
    }
    add_system_files(&mut tar, opts, prep)?;
    if let Some(dir) = &opts.erts {
        let bin = format!("{dir}/erts-{}/bin", prep.rel.erts_vsn);
        let mut names: Vec<String> = std::fs::read_dir(&bin)
            .map_err(|e| Error::ErtsBin { bin: bin.clone(), posix: posix_name(&e) })?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| opts.erts_all || !ERTS_LEFT_OUT.contains(&n.as_str()))
            .collect();
        if opts.reproducible.is_some() {
            names.sort();
        }
        for n in names {
            tar.add(&Path::new(&bin).join(&n), &format!("erts-{}/bin/{n}", prep.rel.erts_vsn))
                .map_err(Error::TarAdd)?;
        }
    }
    for (from, to) in &opts.extra_files {
        tar.add(Path::new(from), to).map_err(Error::TarAdd)?;
    }
    close_tar(tar, &opts.tar_file)
}

/// One application: `priv`, the `{dirs, ...}`, the `.app` (and `.appup`, with
/// `appups`), then each module's `.beam` in `.app` order. Nothing else from `ebin`.
fn add_app(tar: &mut Tar, app: &App, to: &str, opts: &TarOptions) -> Result<(), AddError> {
    let dirs = &opts.dirs;
    let app_dir = Path::new(&app.dir);
    let a_dir =
        if app_dir.file_name().is_some_and(|n| n == "ebin") { app_dir.parent().unwrap_or(app_dir) } else { app_dir };
    let privdir = a_dir.join("priv");
    if privdir.is_dir() {
        tar.add(&privdir, &format!("{to}/priv"))?;
    }
    for d in dirs {
        let extra = a_dir.join(d);
        if extra.is_dir() {
            // systools swallows errors inside these directories; fastrel's refusals stand.
            if let Err(e) = tar.add(&extra, &format!("{to}/{d}")) {
                if e.refused.is_some() {
                    return Err(e);
                }
            }
        }
    }
    tar.add(&app_dir.join(format!("{}.app", app.name)), &format!("{to}/ebin/{}.app", app.name))?;
    let appup = app_dir.join(format!("{}.appup", app.name));
    // filelib:is_regular/1: a symlink to a regular file counts.
    if opts.appups && appup.is_file() {
        tar.add(&appup, &format!("{to}/ebin/{}.appup", app.name))?;
    }
    for m in &app.modules {
        tar.add(&app_dir.join(format!("{m}.beam")), &format!("{to}/ebin/{m}.beam"))?;
    }
    Ok(())
}

/// systools' `lookup_file/2`: `filelib:is_file/1`, so a directory (or a symlink to one)
/// is found too, and then refused or packed as systools does.
fn first_in(dirs: &[String], name: &str) -> Option<String> {
    dirs.iter().map(|d| format!("{d}/{name}")).find(|p| Path::new(p).exists())
}

/// The terms of a file systools checks before packing, or its `[invalid_format]` /
/// `[{error, E}]` reason.
fn consult(path: &str, what: &'static str) -> Result<Vec<Term>, Error> {
    let invalid = |why| Error::Invalid { what, why };
    let bytes = std::fs::read(path).map_err(|e| invalid(Invalid::Unreadable(posix_name(&e))))?;
    // A syntax error is reported by the caller, which re-reads the file with file:consult
    // to give systools' own erl_parse term.
    crate::term::reader::read_all_terms(&bytes, path).map_err(|_| invalid(Invalid::Syntax(path.to_string())))
}

fn is_list(t: &Term) -> bool {
    matches!(t, Term::List(_))
}

fn add_system_files(tar: &mut Tar, opts: &TarOptions, prep: &Prepared) -> Result<(), Error> {
    let name = &opts.base.rel_name;
    let base = name.rsplit('/').next().unwrap_or(name);
    let vsn = &prep.rel.vsn;
    let rel_dir = erl_dirname(name);
    let mut sys = Vec::new();
    if rel_dir != "." {
        sys.push(rel_dir);
    }
    sys.push(".".to_string());
    sys.extend(opts.sys_path.iter().cloned());
    let rel_file = format!("{name}.rel");
    // filename:join, as systools: an empty version puts these files in releases/ itself.
    let vsn_dir = erl_join("releases", vsn);
    let in_vsn = |file: &str| erl_join(&vsn_dir, file);
    tar.add(Path::new(&rel_file), &erl_join("releases", &format!("{base}.rel"))).map_err(Error::TarAdd)?;
    tar.add(Path::new(&rel_file), &in_vsn(&format!("{base}.rel"))).map_err(Error::TarAdd)?;
    let boot = first_in(&sys, "start.boot")
        .or_else(|| first_in(&sys, &format!("{base}.boot")))
        .ok_or_else(|| Error::NoBootFile { rel_name: name.clone() })?;
    tar.add(Path::new(&boot), &in_vsn("start.boot")).map_err(Error::TarAdd)?;
    if let Some(relup) = first_in(&sys, "relup") {
        let ok = match consult(&relup, "relup")?.as_slice() {
            [Term::Tuple(x)] if x.len() == 3 => {
                x[0].string_p().ok().flatten().is_some_and(|v| !v.is_empty()) && is_list(&x[1]) && is_list(&x[2])
            }
            _ => false,
        };
        if !ok {
            return Err(Error::Invalid { what: "relup", why: Invalid::Format });
        }
        tar.add(Path::new(&relup), &in_vsn("relup")).map_err(Error::TarAdd)?;
    }
    if let Some(src) = first_in(&sys, "sys.config.src") {
        tar.add(Path::new(&src), &in_vsn("sys.config.src")).map_err(Error::TarAdd)?;
    } else if let Some(cfg) = first_in(&sys, "sys.config") {
        let ok = match consult(&cfg, "sys.config")?.as_slice() {
            [Term::List(items)] => items.iter().all(|i| match i {
                Term::Tuple(x) => x.len() == 2 && matches!(x[0], Term::Atom(_)) && is_list(&x[1]),
                other => other.string_p().ok().flatten().is_some(),
            }),
            _ => false,
        };
        if !ok {
            return Err(Error::Invalid { what: "sys.config", why: Invalid::Format });
        }
        tar.add(Path::new(&cfg), &in_vsn("sys.config")).map_err(Error::TarAdd)?;
    }
    Ok(())
}

/// Packs `entries` (`(from, to)`, files or whole directories, in order) into the gzip
/// tarball `out` (through a temporary file renamed into place): the generic form behind
/// `fastrel tar` for releases assembled by other tools (`mix release`).
///
/// # Errors
///
/// [`Error::TarOpen`], [`Error::TarAdd`] or [`Error::Close`]; nothing is left at `out` then.
pub fn tar_files(out: &str, entries: &[(String, String)], level: u32, reproducible: Option<u64>) -> Result<(), Error> {
    tar_files_with(out, entries, level, Normalise { reproducible, ..Normalise::default() })
}

/// [`tar_files`], with how symlinks are packed: `follow_outside` (`{follow_symlinks,
/// outside}`) packs the targets of symlinks that point out of the directory they are in
/// instead of refusing them, `keep_links_beside` (`{symlinks, beside}`) keeps links to a
/// file beside them as links.
///
/// # Errors
///
/// As [`tar_files`].
pub fn tar_files_with(out: &str, entries: &[(String, String)], level: u32, norm: Normalise) -> Result<(), Error> {
    via_temp(out, |tmp| {
        let f = create(tmp).map_err(|e| tar_open_error(out, &e))?;
        let mut tar = TarWriter::new(ParGz::new(BufWriter::with_capacity(1 << 20, f), level.min(9)), norm);
        for (from, to) in entries {
            tar.add(Path::new(from), to).map_err(Error::TarAdd)?;
        }
        close_tar(tar, out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::systools::fixture::{tar_names, term, Release};
    use crate::term::vm::TermOrder;
    use crate::term::{a, s, t};

    /// kernel, stdlib, sasl and `a` (with a `priv` file), its boot file written.
    fn release() -> Release {
        let mut r = Release::new("tar");
        r.base(true).app("a", "1", &["a_m", "a_n"], &["kernel"]);
        r.write("lib/a-1/priv/data", "d");
        r.rel("r", &[("kernel", "1"), ("stdlib", "1"), ("sasl", "1"), ("a", "1")]);
        make_script::make_script(&r.options("r"), &TermOrder).unwrap();
        r
    }

    #[test]
    fn applications_then_release_files_in_systools_order() {
        let r = release();
        let opts = r.tar_options("r");
        assert_eq!(make_tar(&opts).unwrap(), Vec::<Term>::new());
        let names = tar_names(Path::new(&opts.tar_file));
        let want = [
            "lib/kernel-1/ebin/kernel.app",
            "lib/kernel-1/ebin/kernel_m.beam",
            "lib/stdlib-1/ebin/stdlib.app",
            "lib/stdlib-1/ebin/stdlib_m.beam",
            "lib/sasl-1/ebin/sasl.app",
            "lib/sasl-1/ebin/sasl_m.beam",
            "lib/a-1/priv/data",
            "lib/a-1/ebin/a.app",
            "lib/a-1/ebin/a_m.beam",
            "lib/a-1/ebin/a_n.beam",
            "releases/r.rel",
            "releases/1/r.rel",
            "releases/1/start.boot",
        ];
        let names: Vec<&str> = names.iter().map(|n| n.trim_end_matches('/')).collect();
        assert_eq!(names, want);
    }

    #[test]
    fn sys_config_and_extra_files_are_packed() {
        let r = release();
        r.write("sys.config", "[{a, [{k, v}]}].");
        r.write("notes.txt", "n");
        let opts = TarOptions {
            sys_path: vec![r.path("")],
            extra_files: vec![(r.path("notes.txt"), "doc/notes.txt".into())],
            ..r.tar_options("r")
        };
        make_tar(&opts).unwrap();
        let names = tar_names(Path::new(&opts.tar_file));
        assert_eq!(names[names.len() - 2..], ["releases/1/sys.config", "doc/notes.txt"]);
    }

    #[test]
    fn a_missing_beam_fails_the_application_and_leaves_no_tarball() {
        let r = release();
        std::fs::remove_file(r.path("lib/a-1/ebin/a_n.beam")).unwrap();
        let opts = r.tar_options("r");
        let e = make_tar(&opts).unwrap_err();
        let beam = r.path("lib/a-1/ebin/a_n.beam");
        let inner = t([a("tar_error"), t([a("add"), s(&beam), t([s(&beam), a("enoent")])])]);
        assert_eq!(e.reason(), Term::list([t([a("error_add_appl"), t([a("a"), inner])])]));
        assert!(!r.listing().iter().any(|n| n.contains("tar")), "{:?}", r.listing());
    }

    #[test]
    fn no_boot_file_is_systools_error() {
        let r = release();
        std::fs::remove_file(r.path("r.boot")).unwrap();
        let opts = r.tar_options("r");
        let e = make_tar(&opts).unwrap_err();
        assert_eq!(e.reason(), t([a("tar_error"), t([a("add"), a("boot"), s(&r.path("r")), a("enoent")])]));
        assert!(!Path::new(&opts.tar_file).exists());
    }

    #[test]
    fn a_sys_config_of_the_wrong_shape_or_syntax_is_refused() {
        let r = release();
        let opts = TarOptions { sys_path: vec![r.path("")], ..r.tar_options("r") };
        r.write("sys.config", "{a, tuple}.");
        let e = make_tar(&opts).unwrap_err();
        assert!(matches!(e, Error::Invalid { what: "sys.config", why: Invalid::Format }), "{e:?}");
        assert_eq!(e.reason(), term("{tar_error, {add, \"sys.config\", [invalid_format]}}"));
        // `not` is an operator: a syntax error, which relnif re-reads for erl_parse's term.
        r.write("sys.config", "[{not, a}].");
        let e = make_tar(&opts).unwrap_err();
        let cfg = r.path("sys.config");
        assert_eq!(
            e.reason(),
            t([
                a("tar_error"),
                t([a("add"), s("sys.config"), Term::list([t([a("error"), t([a("fastrel_consult"), s(&cfg)])])])])
            ])
        );
        assert!(!Path::new(&opts.tar_file).exists());
    }

    #[test]
    fn extra_files_named_outside_the_root_are_refused() {
        let r = release();
        let opts = TarOptions { extra_files: vec![(r.path("r.rel"), "../r.rel".into())], ..r.tar_options("r") };
        let e = make_tar(&opts).unwrap_err();
        assert_eq!(
            e.reason(),
            t([a("tar_error"), t([a("add"), s(&r.path("r.rel")), t([a("unsafe_name"), s("../r.rel")])])])
        );
        assert!(!Path::new(&opts.tar_file).exists());
    }

    #[test]
    fn warnings_as_errors_writes_no_tarball() {
        let mut r = Release::new("tar-wae");
        r.base(false);
        r.rel("r", &[("kernel", "1"), ("stdlib", "1")]);
        let opts = r.tar_options("r");
        let e =
            make_tar(&TarOptions { base: Options { warnings_as_errors: true, ..opts.base.clone() }, ..opts.clone() })
                .unwrap_err();
        assert_eq!(e.reason(), term("{warnings_treated_as_errors, [missing_sasl]}"));
        assert!(!Path::new(&opts.tar_file).exists());
    }

    #[test]
    fn tar_files_refuses_an_entry_named_outside_and_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("fastrel-make-tar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("f").to_string_lossy().into_owned();
        std::fs::write(&src, "f").unwrap();
        let out = dir.join("t.tar.gz").to_string_lossy().into_owned();
        let e = tar_files(&out, &[(src.clone(), "../f".into())], 6, None).unwrap_err();
        let want = t([a("tar_error"), t([a("add"), s(&src), t([a("unsafe_name"), s("../f")])])]);
        assert_eq!(e.reason(), want);
        assert!(!Path::new(&out).exists());
        tar_files(&out, &[(src, "f".into())], 6, None).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o022, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
