// SPDX-License-Identifier: Apache-2.0
use super::rc::{self, Mode, RcError};
use super::*;
use crate::systools::error::rc_reason;
use crate::systools::Error;
use crate::term::reader::read_first_term;

fn term(src: &str) -> Term {
    read_first_term(format!("{src}.").as_bytes(), "test").unwrap()
}

fn app(name: &str, vsn: &str, mods: &[&str]) -> App {
    let modules: Vec<crate::term::Name> = mods.iter().map(|m| crate::term::Name::from(*m)).collect();
    App {
        name: name.into(),
        vsn: vsn.into(),
        id: String::new(),
        description: String::new(),
        sorted_modules: crate::systools::release::sorted_names(&modules),
        modules,
        regs: vec![],
        uses: vec![],
        optional: vec![],
        includes: vec![],
        mod_: Term::nil(),
        start_phases: None,
        env: Term::nil(),
        max_t: Term::atom("infinity"),
        max_p: Term::atom("infinity"),
        dir: String::new(),
        typ: "permanent".into(),
    }
}

fn translate(mode: Mode, scripts: &str, oracle: &Oracle) -> Result<Term, Error> {
    let new = [app("a", "2", &["a1", "a2", "a3", "a4"]), app("b", "1", &["b1"])];
    let old = [app("a", "1", &["a1", "a2", "a3"]), app("c", "1", &["c1"])];
    let expanded = rc::expand_scripts(term(scripts).as_list().unwrap())?;
    rc::translate(mode, expanded, &new, &old, oracle).map(Term::List)
}

fn ok(mode: Mode, scripts: &str) -> Term {
    translate(mode, scripts, &Oracle::default()).unwrap()
}

fn rc_err(scripts: &str) -> Term {
    match translate(Mode::Up, scripts, &Oracle::default()) {
        Err(Error::Rc(e)) => rc_reason(&e),
        other => panic!("expected a systools_rc error, got {other:?}"),
    }
}

#[test]
fn update_chain_suspends_in_dependency_order_and_loads_in_reverse() {
    let got = ok(Mode::Up, "[[{update,a1,[a2]},{update,a2,{advanced,x}}]]");
    let want = term(
        "[{load_object_code,{a,\"2\",[a1,a2]}},point_of_no_return,{suspend,[a1,a2]},\
         {load,{a2,brutal_purge,brutal_purge}},{load,{a1,brutal_purge,brutal_purge}},\
         {code_change,up,[{a2,x}]},{resume,[a2,a1]}]",
    );
    assert_eq!(got, want);
}

#[test]
fn downgrade_splits_code_change_by_module_type() {
    let got = ok(
        Mode::Dn,
        "[[{update,a1,{advanced,d}},{update,a2,static,default,{advanced,s},brutal_purge,brutal_purge,[]}]]",
    );
    let want = term(
        "[{load_object_code,{a,\"2\",[a1]}},{load_object_code,{a,\"2\",[a2]}},point_of_no_return,\
         {suspend,[a1]},{code_change,down,[{a1,d}]},{load,{a1,brutal_purge,brutal_purge}},{resume,[a1]},\
         {suspend,[a2]},{load,{a2,brutal_purge,brutal_purge}},{code_change,down,[{a2,s}]},{resume,[a2]}]",
    );
    // Separate components: load_object_code entries of one library are merged.
    let merged = term(
        "[{load_object_code,{a,\"2\",[a1,a2]}},point_of_no_return,\
         {suspend,[a1]},{code_change,down,[{a1,d}]},{load,{a1,brutal_purge,brutal_purge}},{resume,[a1]},\
         {suspend,[a2]},{load,{a2,brutal_purge,brutal_purge}},{code_change,down,[{a2,s}]},{resume,[a2]}]",
    );
    assert_ne!(got, want);
    assert_eq!(got, merged);
}

#[test]
fn applications_are_added_and_removed() {
    let got = ok(Mode::Up, "[[{add_application,b,load}],[{remove_application,c}]]");
    let want = term(
        "[{load_object_code,{b,\"1\",[b1]}},point_of_no_return,{load,{b1,brutal_purge,brutal_purge}},\
         {apply,{application,load,[b]}},{apply,{application,stop,[c]}},\
         {remove,{c1,brutal_purge,brutal_purge}},{purge,[c1]},{apply,{application,unload,[c]}}]",
    );
    assert_eq!(got, want);
}

#[test]
fn emulator_restarts_move_to_their_places() {
    let up = ok(Mode::Up, "[[restart_new_emulator],[restart_emulator,{apply,{m,f,[]}}],[restart_emulator]]");
    assert_eq!(up, term("[restart_new_emulator,point_of_no_return,{apply,{m,f,[]}},restart_emulator]"));
    let dn = ok(Mode::Dn, "[[restart_new_emulator],[{apply,{m,f,[]}}]]");
    assert_eq!(dn, term("[point_of_no_return,{apply,{m,f,[]}},restart_emulator]"));
}

#[test]
fn an_open_order_is_asked_of_the_oracle() {
    let scripts = "[[{update,a1,[a2,a3]},{update,a2},{update,a3}]]";
    let query = match translate(Mode::Up, scripts, &Oracle::default()) {
        Err(Error::Need(q)) => q,
        other => panic!("expected a query, got {other:?}"),
    };
    assert_eq!(query, vec![term("{deps,[{a1,[a2,a3]},{a2,[]},{a3,[]}],[a1]}")]);
    let oracle = Oracle::new(vec![(query[0].clone(), term("[[a1,a3,a2]]"))]);
    let got = translate(Mode::Up, scripts, &oracle).unwrap();
    let suspend =
        got.as_list().unwrap().iter().find(|i| matches!(i.as_tuple(), Some([t, _]) if t.is_atom("suspend"))).cloned();
    assert_eq!(suspend, Some(term("{suspend,[a1,a3,a2]}")));
}

#[test]
fn a_cycle_keeps_instruction_order() {
    let got = ok(Mode::Up, "[[{update,a2,[a1]},{update,a1,[a2]}]]");
    assert!(got.as_list().unwrap().contains(&term("{suspend,[a2,a1]}")));
}

#[test]
fn conflicting_versions_reports_the_last_conflict() {
    let e = rc_err(
        "[[{load_object_code,{a,\"2\",[a1]}},{load_object_code,{a,\"3\",[a2]}},{load_object_code,{a,\"4\",[a3]}}]]",
    );
    assert_eq!(e, term("{conflicting_versions,a,\"2\",\"4\"}"));
}

#[test]
fn errors_are_systools_terms() {
    assert_eq!(
        rc_err("[[{update,a1},point_of_no_return]]"),
        term("{bad_op_before_point_of_no_return,{update,a1,soft,brutal_purge,brutal_purge,[]}}")
    );
    assert_eq!(rc_err("[[point_of_no_return,point_of_no_return]]"), term("too_many_point_of_no_return"));
    assert_eq!(rc_err("[[{suspend,[a1]}]]"), term("{suspended_not_resumed,[a1]}"));
    assert_eq!(rc_err("[[{update,a1,[a2]}]]"), term("{undef_module,a2}"));
    assert_eq!(rc_err("[[{update,a1},{load_module,a1}]]"), term("{muldef_module,a1}"));
    assert_eq!(rc_err("[[{update,zz}]]"), term("{no_such_module,zz}"));
    assert_eq!(rc_err("[[{remove_application,a}]]"), term("{removed_application_present,a}"));
    assert_eq!(rc_err("[[mnesia_backup]]"), term("{not_yet_implemented,mnesia_backup}"));
    assert_eq!(rc_err("[[{suspend,[{a1,0}]},{resume,[a1]}]]"), term("{bad_timeout,0}"));
    // A string in a script is spliced in, character by character.
    assert_eq!(rc_err("[[\"load\"]]"), term("{bad_instruction,108}"));
    assert!(matches!(translate(Mode::Up, "[oops]", &Oracle::default()), Err(Error::Raise("error", _))));
    assert!(matches!(rc_reason(&RcError::TooManyPnr), Term::Atom(_)));
}

#[test]
fn code_change_without_suspend_is_accepted() {
    let got = ok(Mode::Up, "[[{code_change,up,[{a1,x}]}]]");
    assert_eq!(got, term("[point_of_no_return,{code_change,up,[{a1,x}]}]"));
}

#[test]
fn relup_text_has_systools_header() {
    let t = term("{\"2\",[],[]}");
    assert_eq!(relup_text(&t, false, 25), "%% coding: utf-8\n{\"2\",[],[]}.\n");
}

#[test]
fn errors_become_tagged_terms() {
    let term_of = |e: Error| e.relup_term();
    assert_eq!(term_of(Error::Release(term("x"))), term("{error,systools_make,x}"));
    assert_eq!(term_of(Error::Need(vec![term("q")])), term("{need,[q]}"));
    assert_eq!(term_of(Error::raise("error", term("badarg"))), term("{raise,error,badarg}"));
    assert_eq!(term_of(Error::Rc(RcError::NoSuchModule(term("m")))), term("{error,systools_rc,{no_such_module,m}}"));
    assert_eq!(Error::BadOptions("x".into()).relup_term(), term("{error,relnif,{bad_options,\"x\"}}"));
}

#[test]
#[ignore]
fn bench_phases() {
    let dir = std::env::var("RELUP_BENCH_DIR").unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let mut path: Vec<String> = std::fs::read_dir("lib")
        .unwrap()
        .map(|e| format!("lib/{}/ebin", e.unwrap().file_name().to_string_lossy()))
        .collect();
    path.sort();
    let opts = RelupOptions {
        top: "r2".into(),
        up: vec![BaseRel::Rel("r1".into(), Term::nil())],
        dn: vec![BaseRel::Rel("r1".into(), Term::nil())],
        path,
        restart_emulator: false,
        otp_major: 25,
        cwd: std::env::current_dir().unwrap(),
    };
    let rounds: usize = std::env::var("RELUP_BENCH_ROUNDS").ok().and_then(|x| x.parse().ok()).unwrap_or(3);
    for _ in 0..rounds {
        let t0 = std::time::Instant::now();
        let (relup, _) = make_relup(&opts, &Oracle::default()).unwrap();
        let t1 = t0.elapsed();
        let text = relup_text(&relup, false, 25);
        eprintln!("make_relup {t1:?}, text {:?} ({} bytes)", t0.elapsed() - t1, text.len());
    }
}
