// SPDX-License-Identifier: Apache-2.0
//! A release on disk for the systools port's unit tests: a scratch directory with a
//! `.rel`, applications under `lib/` and nothing else, removed when dropped.

use crate::systools::make_script::Options;
use crate::systools::make_tar::{TarOptions, VarTar};
use crate::systools::PathMode;
use crate::term::Term;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) struct Release {
    pub dir: PathBuf,
    ebins: Vec<String>,
}

impl Release {
    /// An empty scratch directory, unique to this test process and call.
    pub fn new(name: &str) -> Release {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("fastrel-fixture-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Release { dir, ebins: Vec::new() }
    }

    pub fn path(&self, rel: &str) -> String {
        self.dir.join(rel).to_string_lossy().into_owned()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// `lib/Name-Vsn/ebin/Name.app` using `deps`, with an (empty) `.beam` per module.
    pub fn app(&mut self, name: &str, vsn: &str, mods: &[&str], deps: &[&str]) -> &mut Release {
        self.app_file(name, vsn, mods, deps);
        for m in mods {
            self.write(&format!("lib/{name}-{vsn}/ebin/{m}.beam"), "beam");
        }
        self
    }

    /// `app/4` without the `.beam` files, for tests that never look at them.
    pub fn app_file(&mut self, name: &str, vsn: &str, mods: &[&str], deps: &[&str]) -> &mut Release {
        let ebin = format!("lib/{name}-{vsn}/ebin");
        self.write(
            &format!("{ebin}/{name}.app"),
            &format!(
                "{{application, {name}, [{{vsn, \"{vsn}\"}}, {{description, \"{name}\"}}, {{modules, [{}]}}, \
                 {{registered, []}}, {{applications, [{}]}}]}}.\n",
                mods.join(", "),
                deps.join(", ")
            ),
        );
        self.ebins.push(self.path(&ebin));
        self
    }

    /// `Name.rel` at the top, release version "1", erts "13.0".
    pub fn rel(&self, name: &str, apps: &[(&str, &str)]) {
        let apps: Vec<String> = apps.iter().map(|(n, v)| format!("{{{n}, \"{v}\"}}")).collect();
        self.write(
            &format!("{name}.rel"),
            &format!("{{release, {{\"{name}\", \"1\"}}, {{erts, \"13.0\"}}, [{}]}}.\n", apps.join(", ")),
        );
    }

    /// kernel, stdlib and, with `sasl`, sasl: the applications every release needs.
    pub fn base(&mut self, sasl: bool) -> &mut Release {
        self.app("kernel", "1", &["kernel_m"], &[]).app("stdlib", "1", &["stdlib_m"], &["kernel"]);
        if sasl {
            self.app("sasl", "1", &["sasl_m"], &["kernel", "stdlib"]);
        }
        self
    }

    /// `make_script`'s options for `Name.rel`, output beside it.
    pub fn options(&self, name: &str) -> Options {
        Options {
            rel_name: self.path(name),
            output: self.path(name),
            path: self.ebins.clone(),
            mode: PathMode::Root,
            variables: Vec::new(),
            no_dot_erlang: false,
            src_tests: false,
            no_warn_sasl: false,
            warnings_as_errors: false,
            check_only: false,
            extra_warnings: Vec::new(),
            otp_major: 25,
            preloaded: vec!["erlang".into(), "init".into()],
            unicode_range: false,
            cwd: self.dir.clone(),
        }
    }

    /// `make_tar`'s options for `Name.rel`, the tarball beside it.
    pub fn tar_options(&self, name: &str) -> TarOptions {
        TarOptions {
            base: self.options(name),
            tar_file: self.path(&format!("{name}.tar.gz")),
            sys_path: Vec::new(),
            dirs: Vec::new(),
            erts: None,
            erts_all: false,
            appups: false,
            var_tar: VarTar::Include,
            extra_files: Vec::new(),
            level: 1,
            reproducible: Some(0),
            follow_outside: false,
            keep_links_beside: false,
        }
    }

    /// The names in this directory, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The entry names of a `.tar.gz`, in order (ustar names, prefix joined; no pax).
pub(crate) fn tar_names(file: &Path) -> Vec<String> {
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(file).unwrap()).read_to_end(&mut tar).unwrap();
    let field = |h: &[u8]| String::from_utf8_lossy(h.split(|&b| b == 0).next().unwrap()).into_owned();
    let mut names = Vec::new();
    let mut at = 0;
    while at + 512 <= tar.len() && tar[at] != 0 {
        let h = &tar[at..at + 512];
        let (name, prefix) = (field(&h[..100]), field(&h[345..500]));
        names.push(if prefix.is_empty() { name } else { format!("{prefix}/{name}") });
        let size = u64::from_str_radix(field(&h[124..136]).trim(), 8).unwrap() as usize;
        at += 512 + size.div_ceil(512) * 512;
    }
    names
}

/// A term from its text, without the terminating dot.
pub(crate) fn term(src: &str) -> Term {
    crate::term::reader::read_first_term(format!("{src}.").as_bytes(), "test").unwrap()
}
