// SPDX-License-Identifier: Apache-2.0
//! Fuzzes the `.rel`, `.app` and `.appup` checks through the NIF's own entry points
//! (`make_script` and `make_relup`, options as `relnif` sends them): the first byte picks
//! the file of a small release pair that the rest replaces; the call must return a result
//! (any `{ok, ...}` or `{error, Reason}` term), never panic, hang or overflow.
#![no_main]

use fastrel_core::{api, etf, vm::TermOrder, Term};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

const FILES: [(&str, &str); 7] = [
    ("r.rel", "{release, {\"r\", \"1\"}, {erts, \"1\"}, [{kernel, \"1\"}, {stdlib, \"1\"}, {a, \"1\"}]}.\n"),
    ("r0.rel", "{release, {\"r\", \"0\"}, {erts, \"1\"}, [{kernel, \"1\"}, {stdlib, \"1\"}, {a, \"0\"}]}.\n"),
    ("lib/a-1/ebin/a.app", "{application, a, [{vsn, \"1\"}, {modules, [a]}, {registered, []}, {applications, [kernel, stdlib]}, {env, [{k, #{x => 1, y => [2]}}]}]}.\n"),
    ("lib/a-1/ebin/a.appup", "{\"1\", [{\"0\", [{load_module, a}]}], [{\"0\", [{load_module, a}]}]}.\n"),
    ("lib/a-0/ebin/a.app", "{application, a, [{vsn, \"0\"}, {modules, [a]}, {applications, [kernel, stdlib]}]}.\n"),
    ("lib/kernel-1/ebin/kernel.app", "{application, kernel, [{vsn, \"1\"}, {modules, [k]}, {applications, []}]}.\n"),
    ("lib/stdlib-1/ebin/stdlib.app", "{application, stdlib, [{vsn, \"1\"}, {modules, [s]}, {applications, [kernel]}]}.\n"),
];

fn bin(p: &Path) -> Term {
    Term::Binary(p.to_string_lossy().into_owned().into_bytes())
}

fn atom(a: &str) -> Term {
    Term::Atom(a.into())
}

fn kv(k: &str, v: Term) -> Term {
    Term::Tuple(vec![atom(k), v])
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, content)) = data.split_first() else { return };
    let dir = std::env::temp_dir().join(format!("fastrel-fuzz-release-{}", std::process::id()));
    let which = usize::from(which) % FILES.len();
    for (i, (name, text)) in FILES.iter().enumerate() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, if i == which { content } else { text.as_bytes() }).unwrap();
    }
    let path: Vec<Term> = ["a-1", "a-0", "kernel-1", "stdlib-1"]
        .iter()
        .map(|d| bin(&[dir.as_path(), Path::new("lib"), Path::new(d), Path::new("ebin")].iter().collect::<PathBuf>()))
        .collect();
    let script = Term::List(vec![
        kv("rel_name", bin(&dir.join("r"))),
        kv("output", bin(&dir.join("out"))),
        kv("path", Term::List(path.clone())),
        kv("otp_major", Term::Int(29)),
        kv("cwd", bin(&dir)),
    ]);
    let result = etf::decode(&api::make_script_etf(&etf::encode(&script, 29), &TermOrder)).expect("a result term");
    assert!(matches!(&result, Term::Tuple(t) if !t.is_empty()), "{result:?}");
    let base = Term::List(vec![Term::Tuple(vec![bin(&dir.join("r0")), Term::Int(1)])]);
    let relup = Term::List(vec![
        kv("top", bin(&dir.join("r"))),
        kv("up", base.clone()),
        kv("dn", base),
        kv("path", Term::List(path)),
        kv("otp_major", Term::Int(29)),
    ]);
    let result = etf::decode(&api::make_relup_etf(&etf::encode(&relup, 29), &TermOrder)).expect("a result term");
    assert!(matches!(&result, Term::Tuple(t) if !t.is_empty()), "{result:?}");
});
