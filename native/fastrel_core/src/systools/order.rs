// SPDX-License-Identifier: Apache-2.0
//! Release-level checks and the start order, exactly as `systools_make` computes them
//! (`check_applications`, `sort_used_and_incl_appls`, `check_modules`, `sort_appls`).
//!
//! Erlang's list subtraction and "first occurrence" rules decide the order, so they are
//! reproduced literally rather than replaced by a textbook topological sort.

use crate::systools::fasthash::{FastMap, FastSet};
use crate::systools::release::{App, Release};
use crate::term::{a, s, t, Name, Term};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

fn minus(list: &mut Vec<String>, remove: &str) {
    if let Some(i) = list.iter().position(|x| x == remove) {
        list.remove(i);
    }
}

fn make_set_terms(items: Vec<Term>) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::with_capacity(items.len());
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// `duplicates/1`: stable key-sort on the first element, adjacent equal keys become pairs,
/// later pairs first. Items are `(key, payload)`; `build` makes the Erlang tuple of an item,
/// only for the few that are reported (building one per module is what dominated time).
fn duplicates<P: Copy>(mut items: Vec<(&str, P)>, build: impl Fn(&str, P) -> Term) -> Vec<Term> {
    // There are almost never any: one pass through a hash set says so, and only a list
    // that has some is sorted to report them in systools' order.
    let mut seen = FastSet::with_capacity_and_hasher(items.len(), Default::default());
    if items.iter().all(|(n, _)| seen.insert(*n)) {
        return Vec::new();
    }
    // UTF-8 byte order is code point order, i.e. Erlang atom order.
    items.sort_by(|x, y| x.0.cmp(y.0));
    let mut out = Vec::new();
    for w in items.windows(2) {
        if w[0].0 == w[1].0 {
            out.push(t([build(w[0].0, w[0].1), build(w[1].0, w[1].1)]));
        }
    }
    out.reverse();
    out
}

/// `check_applications/1` and `sort_used_and_incl_appls/2`.
pub fn check_applications(apps: &mut [App], rel: &Release) -> Result<(), Term> {
    let defined: FastSet<&str> = apps.iter().map(|x| x.name.as_str()).collect();
    let mut undefined = Vec::new();
    for app in apps.iter() {
        let mut uses = app.uses.clone();
        for o in &app.optional {
            minus(&mut uses, o);
        }
        for n in uses.iter().chain(&app.includes) {
            if !defined.contains(&n.as_str()) {
                undefined.push(a(n));
            }
        }
    }
    if !undefined.is_empty() {
        return Err(t([a("undefined_applications"), Term::List(make_set_terms(undefined))]));
    }
    let four = |n: &str, i: usize| t([a(n), a(&apps[i].name), s(&apps[i].vsn), s(&apps[i].dir)]);
    let regs = apps.iter().enumerate().flat_map(|(i, x)| x.regs.iter().map(move |r| (r.as_str(), i))).collect();
    let dups = duplicates(regs, four);
    if !dups.is_empty() {
        return Err(t([a("duplicate_register"), Term::List(dups)]));
    }
    let incs: Vec<(String, String)> =
        apps.iter().flat_map(|x| x.includes.iter().map(move |i| (i.clone(), x.name.clone()))).collect();
    let inc_items =
        apps.iter().enumerate().flat_map(|(i, x)| x.includes.iter().map(move |n| (n.as_str(), i))).collect();
    let dups = duplicates(inc_items, four);
    if !dups.is_empty() {
        return Err(t([a("duplicate_include"), Term::List(dups)]));
    }
    add_top_apps_to_uses(&incs, apps)?;
    // Each name's first position in the .rel.
    let mut first: FastMap<&str, usize> = FastMap::with_capacity_and_hasher(rel.apps.len(), Default::default());
    for (i, x) in rel.apps.iter().enumerate() {
        first.entry(x.name.as_str()).or_insert(i);
    }
    let pos = |n: &str| first.get(n).copied().unwrap_or(usize::MAX);
    for app in apps.iter_mut() {
        // lists:keysort is stable and puts `optional` (unknown) after every position.
        if app.includes.len() > 1 {
            app.includes.sort_by_key(|n| pos(n));
        }
        if app.uses.len() > 1 {
            app.uses.sort_by_key(|n| pos(n));
        }
    }
    Ok(())
}

/// Who includes each application: the first `(included, includer)` pair naming it.
fn includers(incs: &[(String, String)]) -> FastMap<&str, &str> {
    let mut by: FastMap<&str, &str> = FastMap::with_capacity_and_hasher(incs.len(), Default::default());
    for (included, includer) in incs {
        by.entry(included.as_str()).or_insert(includer.as_str());
    }
    by
}

/// The top of the inclusion tree above `app`. systools loops forever on a cycle
/// (A includes B includes A); we stop and report it.
fn find_top(app: &str, includer: &FastMap<&str, &str>) -> Result<String, Term> {
    let mut cur = app;
    let mut seen = vec![cur];
    let mut seen_set: FastSet<&str> = [cur].into_iter().collect();
    while let Some(&top) = includer.get(cur) {
        seen.push(top);
        if !seen_set.insert(top) {
            return Err(t([a("circular_included_applications"), Term::List(seen.iter().map(|x| a(x)).collect())]));
        }
        cur = top;
    }
    Ok(cur.to_string())
}

fn add_top_apps_to_uses(incs: &[(String, String)], apps: &mut [App]) -> Result<(), Term> {
    let includer = includers(incs);
    for app in apps.iter_mut() {
        let my_top = find_top(&app.name, &includer)?;
        let mut acc = app.uses.clone();
        for used in &app.uses {
            if *used == my_top {
                minus(&mut acc, &my_top);
                continue;
            }
            let Some(depend) = includer.get(used.as_str()) else { continue };
            let used_top = find_top(depend, &includer)?;
            if acc.contains(&used_top) {
                minus(&mut acc, used);
            } else if used_top != my_top {
                minus(&mut acc, used);
                acc.push(used_top);
            }
        }
        app.uses = acc;
    }
    Ok(())
}

/// The module lists last found free of duplicates, by identity. They belong to remembered
/// applications (see `release::parse_application_memo`), so a warm call checks the very
/// same lists again; holding them keeps their addresses from being reused.
static CLEAN: Mutex<Vec<Arc<[Name]>>> = Mutex::new(Vec::new());

/// `check_modules/3` without the `src_tests`/`exref` parts: duplicate module names.
pub fn check_duplicate_modules(apps: &[App]) -> Result<(), Term> {
    let same = |clean: &[Arc<[Name]>]| {
        clean.len() == apps.len() && clean.iter().zip(apps).all(|(c, x)| Arc::ptr_eq(c, &x.sorted_modules))
    };
    if same(&CLEAN.lock().unwrap_or_else(|p| p.into_inner())) {
        return Ok(());
    }
    let mods = apps.iter().enumerate().flat_map(|(i, x)| x.modules.iter().map(move |m| (m.as_str(), i))).collect();
    let dups = duplicates(mods, |m, i| t([a(m), a(&apps[i].name), s(&apps[i].dir)]));
    if dups.is_empty() {
        *CLEAN.lock().unwrap_or_else(|p| p.into_inner()) = apps.iter().map(|x| Arc::clone(&x.sorted_modules)).collect();
        Ok(())
    } else {
        Err(t([a("duplicate_modules"), Term::List(dups)]))
    }
}

/// `sort_appls/1`: the load/start order, as indices into `apps`.
///
/// systools walks a list: take the first application; if some it uses or includes are
/// still in the list, move them (first occurrence by name) in front of it, else emit it.
/// The same steps here, on a deque, with counts by name of what is in the list and of
/// what was visited, so each step costs what it moves instead of a pass over the whole
/// list: linear for a `.rel` in dependency order (as relx and fastrel write them).
pub fn sort_appls(apps: &[App]) -> Result<Vec<usize>, Term> {
    let key = |i: usize| t([a(&apps[i].name), s(&apps[i].vsn)]);
    let mut todo: VecDeque<usize> = (0..apps.len()).collect();
    let mut listed: FastMap<&str, usize> = FastMap::default();
    for x in apps {
        *listed.entry(x.name.as_str()).or_default() += 1;
    }
    let mut visited_names: FastSet<&str> = FastSet::default();
    let mut visited_ids: FastMap<(&str, &str), usize> = FastMap::default();
    let mut missing: Vec<String> = Vec::new();
    let mut circular: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(apps.len());
    // Each round either emits an app or marks one visited; the bound only guards against
    // an input we did not foresee turning this into a hang inside the VM.
    let mut budget = 1_000_000usize;
    while let Some(x) = todo.pop_front() {
        budget = budget.checked_sub(1).ok_or_else(|| a("start_order_did_not_converge"))?;
        let name = apps[x].name.as_str();
        *listed.get_mut(name).expect("counted") -= 1;
        let mut todo_list = TodoList { apps, todo: &mut todo, listed: &mut listed };
        let (uses_found, nf1) = todo_list.find_all(name, apps[x].uses.iter().rev(), &visited_names);
        let (incs_found, nf2) = todo_list.find_all(name, apps[x].includes.iter().rev(), &visited_names);
        let mut m1 = nf1;
        for o in &apps[x].optional {
            minus(&mut m1, o);
        }
        m1.extend(nf2);
        m1.extend(missing);
        missing = m1;
        let found: Vec<usize> = uses_found.into_iter().chain(incs_found).collect();
        if found.is_empty() {
            out.push(x);
        } else {
            let new_circ: Vec<usize> = found
                .iter()
                .flat_map(|&f| {
                    // One entry per matching visit, as the list comprehension yields.
                    let n = visited_ids.get(&(apps[f].name.as_str(), apps[f].vsn.as_str())).copied().unwrap_or(0);
                    std::iter::repeat_n(f, n)
                })
                .collect();
            if !new_circ.is_empty() {
                let mut c = vec![x];
                c.extend(&new_circ);
                c.extend(circular);
                circular = c;
            }
            // found ++ [x] ++ the rest.
            for &y in std::iter::once(&x).chain(found.iter().rev()) {
                todo.push_front(y);
                *listed.entry(apps[y].name.as_str()).or_default() += 1;
            }
            let mut todo_list = TodoList { apps, todo: &mut todo, listed: &mut listed };
            for nc in &new_circ {
                todo_list.take(&apps[*nc].name);
            }
        }
        visited_names.insert(name);
        *visited_ids.entry((name, apps[x].vsn.as_str())).or_default() += 1;
    }
    let circ = || Term::List(make_set_terms(circular.iter().map(|&i| key(i)).collect()));
    let miss = || Term::List(make_set_terms(missing.iter().map(|n| a(n)).collect()));
    match (missing.is_empty(), circular.is_empty()) {
        (true, true) => Ok(out),
        (false, true) => Err(t([a("undefined_applications"), miss()])),
        (true, false) => Err(t([a("circular_dependencies"), circ()])),
        (false, false) => Err(t([
            a("apps"),
            Term::list([t([a("circular_dependencies"), circ()]), t([a("undefined_applications"), miss()])]),
        ])),
    }
}

/// `sort_appls`' list, with how many times each name is in it, so that looking for a
/// name that is not there costs nothing.
struct TodoList<'a, 'b> {
    apps: &'a [App],
    todo: &'b mut VecDeque<usize>,
    listed: &'b mut FastMap<&'a str, usize>,
}

impl<'a> TodoList<'a, '_> {
    /// The position of the first application named `name`.
    fn position(&self, name: &str) -> Option<usize> {
        if self.listed.get(name).copied().unwrap_or(0) == 0 {
            return None;
        }
        self.todo.iter().position(|&i| self.apps[i].name == name)
    }

    fn remove(&mut self, p: usize) -> usize {
        let i = self.todo.remove(p).expect("in range");
        *self.listed.get_mut(self.apps[i].name.as_str()).expect("counted") -= 1;
        i
    }

    /// Removes the first application named `name`, if any.
    fn take(&mut self, name: &str) {
        if let Some(p) = self.position(name) {
            self.remove(p);
        }
    }

    /// `find_all/4`: the applications of `names` still in the list (taken out of it, in
    /// `names`' reverse order), except those that include `checking`; and the names
    /// neither in the list nor visited.
    fn find_all<'n>(
        &mut self,
        checking: &str,
        names: impl Iterator<Item = &'n String>,
        visited: &FastSet<&str>,
    ) -> (Vec<usize>, Vec<String>) {
        let mut found = Vec::new();
        let mut not_found = Vec::new();
        for name in names {
            match self.position(name) {
                Some(p) if !self.apps[self.todo[p]].includes.iter().any(|x| x == checking) => {
                    found.push(self.remove(p));
                }
                _ => {
                    if !visited.contains(name.as_str()) {
                        not_found.push(name.clone());
                    }
                }
            }
        }
        found.reverse();
        not_found.reverse();
        (found, not_found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systools::release::RelApp;

    /// An app from `(name, uses, includes)`; kernel and stdlib are left out of the
    /// vectors, as in the spec's tables.
    fn app(name: &str, uses: &[&str], includes: &[&str]) -> App {
        let v = |l: &[&str]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        App {
            name: name.into(),
            vsn: "1.0".into(),
            id: String::new(),
            description: String::new(),
            modules: vec![],
            sorted_modules: Vec::new().into(),
            regs: vec![],
            uses: v(uses),
            optional: vec![],
            includes: v(includes),
            mod_: Term::nil(),
            start_phases: None,
            env: Term::nil(),
            max_t: a("infinity"),
            max_p: a("infinity"),
            dir: format!("lib/{name}-1.0/ebin"),
            typ: "permanent".into(),
        }
    }

    /// The `inc` family of systools_SUITE: t1..t6 with `.rel` include overrides.
    fn inc_apps(overrides: &[(&str, &[&str])], order: &[&str]) -> (Vec<App>, Release) {
        let defs: Vec<App> = vec![
            app("t1", &[], &[]),
            app("t2", &["t1"], &[]),
            app("t3", &[], &["t2"]),
            app("t4", &["t3"], &[]),
            app("t5", &["t3"], &[]),
            app("t6", &[], &["t4", "t5"]),
        ];
        let mut apps: Vec<App> = order.iter().map(|n| defs.iter().find(|x| x.name == *n).unwrap().clone()).collect();
        for (n, incl) in overrides {
            let x = apps.iter_mut().find(|x| x.name == *n).unwrap();
            x.includes = incl.iter().map(|s| s.to_string()).collect();
        }
        let rel = Release {
            name: "r".into(),
            vsn: "1".into(),
            erts_vsn: "1".into(),
            apps: apps
                .iter()
                .map(|x| RelApp { name: x.name.clone(), vsn: x.vsn.clone(), typ: x.typ.clone() })
                .collect(),
            incls: vec![],
            path: "r.rel".into(),
        };
        (apps, rel)
    }

    fn load_order(mut apps: Vec<App>, rel: &Release) -> Result<Vec<String>, Term> {
        check_applications(&mut apps, rel)?;
        Ok(sort_appls(&apps)?.into_iter().map(|i| apps[i].name.clone()).collect())
    }

    /// `app` with modules, its sorted list made as the `.app` reader makes it.
    fn app_with(name: &str, mods: &[&str]) -> App {
        let modules: Vec<crate::term::Name> = mods.iter().map(|m| crate::term::Name::from(*m)).collect();
        App { sorted_modules: crate::systools::release::sorted_names(&modules), modules, ..app(name, &[], &[]) }
    }

    #[test]
    fn duplicate_modules_are_found_after_a_clean_call() {
        let clean = [app_with("a", &["m1", "m2"]), app_with("b", &["m3"])];
        assert_eq!(check_duplicate_modules(&clean), Ok(()));
        // The same lists again (the remembered answer), then other ones with a duplicate.
        assert_eq!(check_duplicate_modules(&clean), Ok(()));
        let dup = [app_with("a", &["m1", "m2"]), app_with("b", &["m2"])];
        let err = check_duplicate_modules(&dup).unwrap_err();
        assert!(format!("{err:?}").contains("duplicate_modules"), "{err:?}");
        // Clones of the clean ones share their sorted lists: still clean.
        assert_eq!(check_duplicate_modules(&clean.clone()), Ok(()));
    }

    #[test]
    fn inc_vectors_from_systools_suite() {
        let all = ["t6", "t5", "t4", "t3", "t2", "t1"];
        // (included-by edges, apps in .rel order, systools' order)
        type Case<'a> = (&'a [(&'a str, &'a [&'a str])], &'a [&'a str], &'a [&'a str]);
        let cases: Vec<Case> = vec![
            (&[], &all, &["t1", "t2", "t3", "t5", "t4", "t6"]),
            (&[("t6", &["t4"])], &all, &["t1", "t2", "t3", "t4", "t6", "t5"]),
            (&[("t3", &[])], &all, &["t3", "t5", "t4", "t6", "t1", "t2"]),
            (&[("t6", &["t4"]), ("t3", &[])], &all, &["t3", "t4", "t6", "t5", "t1", "t2"]),
            (&[("t6", &["t4"]), ("t3", &[])], &["t6", "t4", "t3", "t2", "t1"], &["t3", "t4", "t6", "t1", "t2"]),
        ];
        for (overrides, order, want) in cases {
            let (apps, rel) = inc_apps(overrides, order);
            assert_eq!(load_order(apps, &rel).unwrap(), want, "overrides {overrides:?}");
        }
    }

    #[test]
    fn missing_app_is_undefined() {
        let (apps, rel) = inc_apps(&[], &["t6", "t5", "t4", "t3", "t1"]);
        assert_eq!(load_order(apps, &rel).unwrap_err(), t([a("undefined_applications"), Term::list([a("t2")])]));
    }

    #[test]
    fn inc8_and_inc11_and_otp_3065() {
        let apps = vec![app("t8", &["t9"], &[]), app("t9", &["t10"], &[]), app("t10", &[], &["t8", "t9"])];
        let (_, mut rel) = inc_apps(&[], &[]);
        rel.apps =
            apps.iter().map(|x| RelApp { name: x.name.clone(), vsn: "1.0".into(), typ: "permanent".into() }).collect();
        assert_eq!(load_order(apps, &rel).unwrap(), ["t9", "t8", "t10"]);

        let apps = vec![app("t11", &[], &["t13"]), app("t12", &["t11"], &[]), app("t13", &[], &[])];
        rel.apps =
            apps.iter().map(|x| RelApp { name: x.name.clone(), vsn: "1.0".into(), typ: "permanent".into() }).collect();
        assert_eq!(load_order(apps, &rel).unwrap(), ["t13", "t11", "t12"]);

        let apps = vec![app("chAts", &[], &["aa12"]), app("aa12", &["chAts"], &[]), app("chTraffic", &[], &["chAts"])];
        rel.apps =
            apps.iter().map(|x| RelApp { name: x.name.clone(), vsn: "1.0".into(), typ: "permanent".into() }).collect();
        assert_eq!(load_order(apps, &rel).unwrap(), ["aa12", "chAts", "chTraffic"]);
    }

    #[test]
    fn sort_apps_follow_rel_order() {
        let mk = |order: &[&str]| {
            let mut apps = vec![app("t14", &["t18", "t20", "t19"], &["t15", "t17", "t16"])];
            for n in ["t15", "t16", "t17", "t18", "t19", "t20"] {
                apps.push(app(n, &[], &[]));
            }
            let apps: Vec<App> = order.iter().map(|n| apps.iter().find(|x| x.name == *n).unwrap().clone()).collect();
            let (_, mut rel) = inc_apps(&[], &[]);
            rel.apps = apps
                .iter()
                .map(|x| RelApp { name: x.name.clone(), vsn: "1.0".into(), typ: "permanent".into() })
                .collect();
            load_order(apps, &rel).unwrap()
        };
        assert_eq!(
            mk(&["t14", "t20", "t19", "t18", "t17", "t16", "t15"]),
            ["t20", "t19", "t18", "t17", "t16", "t15", "t14"]
        );
        assert_eq!(
            mk(&["t14", "t18", "t19", "t20", "t15", "t16", "t17"]),
            ["t18", "t19", "t20", "t15", "t16", "t17", "t14"]
        );
    }

    #[test]
    fn cyclic_includes_are_an_error_not_a_hang() {
        let apps = vec![app("a", &[], &["b"]), app("b", &[], &["a"])];
        let (_, mut rel) = inc_apps(&[], &[]);
        rel.apps =
            apps.iter().map(|x| RelApp { name: x.name.clone(), vsn: "1.0".into(), typ: "permanent".into() }).collect();
        let err = load_order(apps, &rel).unwrap_err();
        assert_eq!(err.as_tuple().unwrap()[0], a("circular_included_applications"));
    }

    #[test]
    fn circular_uses_are_reported_as_systools_does() {
        let apps = vec![app("j", &["k"], &[]), app("k", &["j"], &[])];
        let (_, mut rel) = inc_apps(&[], &[]);
        rel.apps =
            apps.iter().map(|x| RelApp { name: x.name.clone(), vsn: "1.0".into(), typ: "permanent".into() }).collect();
        let err = load_order(apps, &rel).unwrap_err();
        let pair = |n: &str| t([a(n), s("1.0")]);
        assert_eq!(err, t([a("circular_dependencies"), Term::list([pair("k"), pair("j")])]));
    }

    mod reference {
        use super::super::{make_set_terms, minus};
        use crate::systools::release::App;
        use crate::term::{a, s, t, Term};

        /// The list-walking `sort_appls` this module had before (a pass over the list per
        /// step), kept as the reference the deque version must agree with.
        pub fn sort_appls(apps: &[App]) -> Result<Vec<usize>, Term> {
            let key = |i: usize| t([a(&apps[i].name), s(&apps[i].vsn)]);
            let mut todo: Vec<usize> = (0..apps.len()).collect();
            let mut missing: Vec<String> = Vec::new();
            let mut circular: Vec<usize> = Vec::new();
            let mut visited: Vec<usize> = Vec::new();
            let mut out = Vec::with_capacity(apps.len());
            // Each round either emits an app or marks one visited; the bound only guards against
            // an input we did not foresee turning this into a hang inside the VM.
            let mut budget = 1_000_000usize;
            while let Some(&x) = todo.first() {
                budget = budget.checked_sub(1).ok_or_else(|| a("start_order_did_not_converge"))?;
                let rest = todo[1..].to_vec();
                let name = &apps[x].name;
                let is_visited = |n: &str| visited.iter().any(|&v| apps[v].name == n);
                let (uses_found, t1, nf1) = find_all(apps, name, apps[x].uses.iter().rev(), rest, &is_visited);
                let (incs_found, t2, nf2) = find_all(apps, name, apps[x].includes.iter().rev(), t1, &is_visited);
                let mut m1 = nf1;
                for o in &apps[x].optional {
                    minus(&mut m1, o);
                }
                m1.extend(nf2);
                m1.extend(missing);
                missing = m1;
                let found: Vec<usize> = uses_found.into_iter().chain(incs_found).collect();
                if found.is_empty() {
                    out.push(x);
                    todo = t2;
                } else {
                    let new_circ: Vec<usize> = found
                        .iter()
                        .flat_map(|&f| {
                            // One entry per matching visit, as the list comprehension yields.
                            let n = visited
                                .iter()
                                .filter(|&&v| apps[v].name == apps[f].name && apps[v].vsn == apps[f].vsn)
                                .count();
                            std::iter::repeat_n(f, n)
                        })
                        .collect();
                    if !new_circ.is_empty() {
                        let mut c = vec![x];
                        c.extend(&new_circ);
                        c.extend(circular);
                        circular = c;
                    }
                    let mut next = found;
                    next.push(x);
                    next.extend(t2);
                    for nc in &new_circ {
                        if let Some(i) = next.iter().position(|&y| apps[y].name == apps[*nc].name) {
                            next.remove(i);
                        }
                    }
                    todo = next;
                }
                visited.insert(0, x);
            }
            let circ = || Term::List(make_set_terms(circular.iter().map(|&i| key(i)).collect()));
            let miss = || Term::List(make_set_terms(missing.iter().map(|n| a(n)).collect()));
            match (missing.is_empty(), circular.is_empty()) {
                (true, true) => Ok(out),
                (false, true) => Err(t([a("undefined_applications"), miss()])),
                (true, false) => Err(t([a("circular_dependencies"), circ()])),
                (false, false) => Err(t([
                    a("apps"),
                    Term::list([t([a("circular_dependencies"), circ()]), t([a("undefined_applications"), miss()])]),
                ])),
            }
        }

        type Found = (Vec<usize>, Vec<usize>, Vec<String>);

        fn find_all<'a>(
            apps: &[App],
            checking: &str,
            names: impl Iterator<Item = &'a String>,
            mut list: Vec<usize>,
            is_visited: &dyn Fn(&str) -> bool,
        ) -> Found {
            let mut found = Vec::new();
            let mut not_found = Vec::new();
            for name in names {
                match list.iter().position(|&i| apps[i].name == *name) {
                    Some(p) if !apps[list[p]].includes.iter().any(|x| x == checking) => {
                        found.insert(0, list.remove(p));
                    }
                    _ => {
                        if !is_visited(name) {
                            not_found.insert(0, name.clone());
                        }
                    }
                }
            }
            (found, list, not_found)
        }
    }

    /// A small deterministic generator (no crate for it): xorshift.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn the_deque_order_is_the_list_walking_order_on_random_releases() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let mut outcomes = [0usize; 2];
        for round in 0..4000 {
            // Half the rounds use only names earlier in the pool and include nothing: these
            // mostly succeed; the others are mostly cycles and missing applications.
            let acyclic = round % 2 == 0;
            let n = 1 + rng.below(8);
            let mut apps = Vec::new();
            for _ in 0..n {
                // Duplicate names (another version) and names no app has are allowed.
                let k = rng.below(names.len());
                let mut x = app(names[k], &[], &[]);
                x.vsn = ["1", "2"][rng.below(2)].into();
                let pool = if acyclic { &names[..k.max(1)] } else { &names[..] };
                let mut pick = |most: usize| -> Vec<String> {
                    (0..rng.below(most)).map(|_| pool[rng.below(pool.len())].to_string()).collect()
                };
                x.uses = pick(4);
                x.includes = if acyclic { Vec::new() } else { pick(3) };
                x.optional = pick(2);
                apps.push(x);
            }
            let ours = sort_appls(&apps);
            assert_eq!(ours, reference::sort_appls(&apps), "{apps:?}");
            outcomes[usize::from(ours.is_ok())] += 1;
        }
        // Both kinds of outcome were compared, not only errors.
        assert!(outcomes[0] > 100 && outcomes[1] > 100, "{outcomes:?}");
    }
}
