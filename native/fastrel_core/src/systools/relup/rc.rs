// SPDX-License-Identifier: Apache-2.0
//! `systools_rc`: checks appup instructions and translates the high-level ones into the
//! low-level instructions `release_handler` runs.
//!
//! The steps follow systools' pipeline: expand the short forms, merge the scripts around
//! one `point_of_no_return`, check the syntax, normalise, check loads, suspends and
//! starts, expand application instructions, order module instructions by their
//! dependencies, merge `load_object_code`, and move emulator restarts to their places.
//!
//! The one thing only the VM can answer is the order `digraph_utils:topsort/1` gives
//! modules whose relative order the dependencies leave open: it follows the hash order of
//! ETS tables. When a component's order is unique it is computed here; otherwise the
//! caller's [`Oracle`] is asked (`relnif` answers with `digraph` itself).

use super::Oracle;
use crate::systools::release::App;
use crate::systools::Error;
use crate::term::{a, t, Term};
use std::collections::HashMap;

/// Why `systools_rc` rejects a script: the `Reason` of `{error, systools_rc, Reason}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RcError {
    /// `{bad_op_before_point_of_no_return, I}`.
    #[error("instruction before point_of_no_return")]
    BadOpBeforePnr(Term),
    /// `too_many_point_of_no_return`.
    #[error("too many point_of_no_return")]
    TooManyPnr,
    /// `{no_object_code, Mod}`.
    #[error("no load_object_code for a loaded module")]
    NoObjectCode(Term),
    /// `{Tag, Mods}` for the suspend/resume and start/stop checks.
    #[error("unbalanced {0}")]
    Unbalanced(&'static str, Vec<Term>),
    /// `{no_such_application, App}`.
    #[error("no such application")]
    NoSuchApplication(Term),
    /// `{removed_application_present, App}`.
    #[error("removed application present")]
    RemovedApplicationPresent(Term),
    /// `{conflicting_versions, Lib, V1, V2}`.
    #[error("conflicting versions")]
    ConflictingVersions(Box<(Term, Term, Term)>),
    /// `{no_such_module, Mod}`.
    #[error("no such module")]
    NoSuchModule(Term),
    /// `{not_yet_implemented, mnesia_backup}`.
    #[error("not yet implemented")]
    NotYetImplemented,
    /// A syntax check failed: `{Tag, Value}` (`bad_instruction`, `bad_module`, ...).
    #[error("{0}")]
    Bad(&'static str, Term),
    /// `{undef_module, Mod}`.
    #[error("undefined module")]
    UndefModule(Term),
    /// `{muldef_module, Mod}`.
    #[error("multiply defined module")]
    MuldefModule(Term),
    /// A crash inside systools' catch (`{'EXIT', Reason}`), e.g. an improper list.
    #[error("crash")]
    Exit(Term),
}

type Rc<T> = Result<T, RcError>;

/// Up or down: which way the release changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Upgrade.
    Up,
    /// Downgrade.
    Dn,
}

fn tuple_of<'a>(i: &'a Term, tag: &str) -> Option<&'a [Term]> {
    match i.as_tuple() {
        Some(items) if items.first().is_some_and(|x| x.is_atom(tag)) => Some(items),
        _ => None,
    }
}

fn is_list(t: &Term) -> bool {
    matches!(t, Term::List(_) | Term::Improper(..))
}

fn bp() -> Term {
    a("brutal_purge")
}

fn tup(items: Vec<Term>) -> Term {
    Term::Tuple(items)
}

/// `expand_script/1` of each script. A script that is not a proper list raises
/// `function_clause` in systools (outside its catch): `Err(Raise)`.
pub fn expand_scripts(scripts: &[Term]) -> Result<Vec<Vec<Term>>, Error> {
    scripts.iter().map(expand_script).collect()
}

fn expand_script(script: &Term) -> Result<Vec<Term>, Error> {
    let Term::List(items) = script else {
        return Err(Error::raise("error", a("function_clause")));
    };
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let i2 = expand_one(i);
        match i2 {
            Term::List(l) => out.extend(l),
            Term::Improper(..) => return Err(Error::raise("error", a("badarg"))),
            other => out.push(other),
        }
    }
    Ok(out)
}

fn expand_one(i: &Term) -> Term {
    let Some(items) = i.as_tuple() else {
        return i.clone();
    };
    let Some(tag) = items.first().and_then(Term::as_atom) else {
        return i.clone();
    };
    let soft = || a("soft");
    match (tag, items.len()) {
        ("load_module", 2) => tup(vec![a("load_module"), items[1].clone(), bp(), bp(), Term::nil()]),
        ("load_module", 3) if is_list(&items[2]) => {
            tup(vec![a("load_module"), items[1].clone(), bp(), bp(), items[2].clone()])
        }
        ("update", 2) => tup(vec![a("update"), items[1].clone(), soft(), bp(), bp(), Term::nil()]),
        ("update", 3) if items[2].is_atom("supervisor") => tup(vec![
            a("update"),
            items[1].clone(),
            a("static"),
            a("default"),
            t([a("advanced"), Term::nil()]),
            bp(),
            bp(),
            Term::nil(),
        ]),
        ("update", 3) if matches!(items[2], Term::Tuple(_)) || items[2].is_atom("soft") => {
            tup(vec![a("update"), items[1].clone(), items[2].clone(), bp(), bp(), Term::nil()])
        }
        ("update", 3) if is_list(&items[2]) => {
            tup(vec![a("update"), items[1].clone(), soft(), bp(), bp(), items[2].clone()])
        }
        ("update", 4) if (matches!(items[2], Term::Tuple(_)) || items[2].is_atom("soft")) && is_list(&items[3]) => {
            tup(vec![a("update"), items[1].clone(), items[2].clone(), bp(), bp(), items[3].clone()])
        }
        ("add_application", 2) => tup(vec![a("add_application"), items[1].clone(), a("permanent")]),
        _ => i.clone(),
    }
}

/// `translate_scripts/4` after the expansion: the merged, checked, low-level script.
/// `appls` are the applications after the change, `pre_appls` those before.
pub fn translate(
    mode: Mode,
    scripts: Vec<Vec<Term>>,
    appls: &[App],
    pre_appls: &[App],
    oracle: &Oracle,
) -> Result<Vec<Term>, Error> {
    let merged = merge_scripts(scripts)?;
    check_syntax(&merged)?;
    let script: Vec<Term> = merged.into_iter().map(normalize).collect();
    let (before, after) = split_script(script)?;
    check_script(&before, &after)?;
    let after = translate_application_instrs(after, appls, pre_appls)?;
    let after: Vec<Term> = after.into_iter().map(add_module_to_load).collect();
    let (before, after) = translate_dependent_instrs(mode, before, after, appls, oracle)?;
    let before = merge_load_object_code(before)?;
    let (before, after) = sort_emulator_restart(mode, before, after);
    let mut out = before;
    out.push(a("point_of_no_return"));
    out.extend(after);
    check_syntax(&out)?;
    Ok(out)
}

fn merge_scripts(scripts: Vec<Vec<Term>>) -> Rc<Vec<Term>> {
    let mut before = Vec::new();
    let mut after = Vec::new();
    for s in scripts {
        let (b, a2) = split_script(s)?;
        before.extend(b);
        after.extend(a2);
    }
    before.push(a("point_of_no_return"));
    before.extend(after);
    Ok(before)
}

fn is_loc(i: &Term) -> bool {
    matches!(i.as_tuple(), Some([tag, _]) if tag.is_atom("load_object_code"))
}

fn split_script(script: Vec<Term>) -> Rc<(Vec<Term>, Vec<Term>)> {
    let pnr = a("point_of_no_return");
    let (mut before, after) = match script.iter().position(|i| *i == pnr) {
        None => (Vec::new(), script),
        Some(p) => {
            if script[p + 1..].contains(&pnr) {
                return Err(RcError::TooManyPnr);
            }
            let mut s = script;
            let after = s.split_off(p + 1);
            s.pop();
            (s, after)
        }
    };
    if let Some(bad) = before
        .iter()
        .find(|i| !matches!(i.as_tuple(), Some([tag, _]) if tag.is_atom("load_object_code") || tag.is_atom("apply")))
    {
        return Err(RcError::BadOpBeforePnr(bad.clone()));
    }
    let (found, rest): (Vec<Term>, Vec<Term>) = after.into_iter().partition(is_loc);
    before.extend(found);
    Ok((before, rest))
}

fn check_script(before: &[Term], after: &[Term]) -> Rc<()> {
    for i in after {
        if let Some([_, spec]) = tuple_of(i, "load") {
            if let Some([m, _, _]) = spec.as_tuple() {
                let found = before.iter().any(|b| match tuple_of(b, "load_object_code") {
                    Some([_, x]) => {
                        matches!(x.as_tuple(), Some([_, _, Term::List(ms)]) if ms.contains(m))
                    }
                    _ => false,
                });
                if !found {
                    return Err(RcError::NoObjectCode(m.clone()));
                }
            }
        }
    }
    let collect = |tag: &str| -> Vec<Term> {
        let mut out = Vec::new();
        for i in after {
            if let Some([_, x]) = tuple_of(i, tag) {
                flatten_into(x, &mut out);
            }
        }
        out
    };
    let suspended: Vec<Term> = collect("suspend")
        .into_iter()
        .map(|x| match x.as_tuple() {
            Some([m, _]) => m.clone(),
            _ => x,
        })
        .collect();
    let resumed = collect("resume");
    balance(&suspended, &resumed, "suspended_not_resumed", "resumed_not_suspended")?;
    balance(&collect("start"), &collect("stop"), "start_not_stop", "stop_not_start")
}

fn balance(x: &[Term], y: &[Term], x_tag: &'static str, y_tag: &'static str) -> Rc<()> {
    let d = difference(x, y);
    if !d.is_empty() {
        return Err(RcError::Unbalanced(x_tag, d));
    }
    let d = difference(y, x);
    if !d.is_empty() {
        return Err(RcError::Unbalanced(y_tag, d));
    }
    Ok(())
}

/// `lists:flatten/1` of one term into `out` (a non-list is itself).
fn flatten_into(x: &Term, out: &mut Vec<Term>) {
    match x {
        Term::List(l) => l.iter().for_each(|e| flatten_into(e, out)),
        other => out.push(other.clone()),
    }
}

fn difference(x: &[Term], y: &[Term]) -> Vec<Term> {
    x.iter().filter(|e| !y.contains(e)).cloned().collect()
}

/// `union/2`: the elements of `x` not in `y`, then `y`.
fn union(x: &[Term], y: Vec<Term>) -> Vec<Term> {
    let mut out: Vec<Term> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
    out.extend(y);
    out
}

fn normalize(i: Term) -> Term {
    let Term::Tuple(items) = &i else { return i };
    match (items.first().and_then(Term::as_atom), items.len()) {
        (Some("update"), 6) => {
            let mut v = vec![items[0].clone(), items[1].clone(), a("dynamic"), a("default")];
            v.extend(items[2..].iter().cloned());
            Term::Tuple(v)
        }
        (Some("update"), 7) => {
            let mut v = vec![items[0].clone(), items[1].clone(), a("dynamic")];
            v.extend(items[2..].iter().cloned());
            Term::Tuple(v)
        }
        (Some("add_module" | "delete_module"), 2) => tup(vec![items[0].clone(), items[1].clone(), Term::nil()]),
        _ => i,
    }
}

fn find_app<'a>(apps: &'a [App], name: &Term) -> Option<&'a App> {
    let n = name.as_atom()?;
    apps.iter().find(|x| x.name == n)
}

fn atoms<S: AsRef<str>>(names: &[S]) -> Vec<Term> {
    names.iter().map(|n| a(n.as_ref())).collect()
}

fn start_apply(appl: &Term, typ: &Term) -> Vec<Term> {
    let app = a("application");
    if typ.is_atom("none") {
        Vec::new()
    } else if typ.is_atom("load") {
        vec![t([a("apply"), t([app, a("load"), Term::list([appl.clone()])])])]
    } else {
        vec![t([a("apply"), t([app, a("start"), Term::list([appl.clone(), typ.clone()])])])]
    }
}

fn stop_and_remove<S: AsRef<str>>(appl: &Term, mods: &[S]) -> Vec<Term> {
    let mut out = vec![t([a("apply"), t([a("application"), a("stop"), Term::list([appl.clone()])])])];
    out.extend(mods.iter().map(|m| t([a("remove"), t([a(m.as_ref()), bp(), bp()])])));
    out.push(t([a("purge"), Term::List(atoms(mods))]));
    out
}

fn translate_application_instrs(script: Vec<Term>, appls: &[App], pre: &[App]) -> Rc<Vec<Term>> {
    let mut out = Vec::with_capacity(script.len());
    for i in script {
        if let Some([_, appl, typ]) = tuple_of(&i, "add_application") {
            let app = find_app(appls, appl).ok_or_else(|| RcError::NoSuchApplication(appl.clone()))?;
            out.extend(app.modules.iter().map(|m| t([a("add_module"), a(m), Term::nil()])));
            out.extend(start_apply(appl, typ));
        } else if let Some([_, appl]) = tuple_of(&i, "remove_application") {
            if find_app(appls, appl).is_some() {
                return Err(RcError::RemovedApplicationPresent(appl.clone()));
            }
            let rem = find_app(pre, appl).ok_or_else(|| RcError::NoSuchApplication(appl.clone()))?;
            out.extend(stop_and_remove(appl, &rem.modules));
            out.push(t([a("apply"), t([a("application"), a("unload"), Term::list([appl.clone()])])]));
        } else if let Some([_, appl]) = tuple_of(&i, "restart_application") {
            let pre_app = find_app(pre, appl).ok_or_else(|| RcError::NoSuchApplication(appl.clone()))?;
            let post = find_app(appls, appl).ok_or_else(|| RcError::NoSuchApplication(appl.clone()))?;
            out.extend(stop_and_remove(appl, &pre_app.modules));
            out.extend(post.modules.iter().map(|m| t([a("add_module"), a(m), Term::nil()])));
            out.extend(start_apply(appl, &a(&post.typ)));
        } else {
            out.push(i);
        }
    }
    Ok(out)
}

fn add_module_to_load(i: Term) -> Term {
    match tuple_of(&i, "add_module") {
        Some([_, m, ms]) => tup(vec![a("load_module"), m.clone(), bp(), bp(), ms.clone()]),
        _ => i,
    }
}

fn is_dep(i: &Term) -> bool {
    matches!(i.as_tuple(), Some(items) if items.len() > 1
        && matches!(items[0].as_atom(), Some("update" | "load_module" | "add_module" | "delete_module")))
}

/// The dependency graph of the module instructions: vertices in instruction order.
struct DepGraph {
    mods: Vec<Term>,
    instrs: Vec<Term>,
    edges: Vec<Vec<usize>>,
    /// The `{Mod, Mods}` list the oracle is asked about.
    query: Term,
}

fn dependency_graph(after: &[Term]) -> Rc<DepGraph> {
    let deps: Vec<&Term> = after.iter().filter(|i| is_dep(i)).collect();
    let mut mods: Vec<Term> = Vec::with_capacity(deps.len());
    // check_syntax has made every module an atom.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(deps.len());
    for i in &deps {
        let m = &i.as_tuple().unwrap_or(&[])[1];
        if index.insert(m.as_atom().unwrap_or(""), mods.len()).is_some() {
            return Err(RcError::MuldefModule(m.clone()));
        }
        mods.push(m.clone());
    }
    let mut edges = vec![Vec::new(); deps.len()];
    let mut query = Vec::with_capacity(deps.len());
    for (v, i) in deps.iter().enumerate() {
        let items = i.as_tuple().unwrap_or(&[]);
        let last = &items[items.len() - 1];
        let targets = match last {
            Term::List(l) => l.as_slice(),
            other => return Err(RcError::Exit(t([a("function_clause"), other.clone()]))),
        };
        for m in targets {
            let w = mods.iter().position(|x| x == m).ok_or_else(|| RcError::UndefModule(m.clone()))?;
            edges[v].push(w);
        }
        query.push(t([mods[v].clone(), last.clone()]));
    }
    Ok(DepGraph { mods, instrs: deps.into_iter().cloned().collect(), edges, query: Term::List(query) })
}

impl DepGraph {
    /// Weakly connected component of every vertex.
    fn components(&self) -> Vec<usize> {
        let n = self.mods.len();
        let mut comp: Vec<usize> = (0..n).collect();
        fn root(c: &mut [usize], mut x: usize) -> usize {
            while c[x] != x {
                c[x] = c[c[x]];
                x = c[x];
            }
            x
        }
        for v in 0..n {
            for &w in &self.edges[v] {
                let (rv, rw) = (root(&mut comp, v), root(&mut comp, w));
                if rv != rw {
                    comp[rv.max(rw)] = rv.min(rw);
                }
            }
        }
        (0..n).map(|v| root(&mut comp, v)).collect()
    }

    /// The vertices of `members` in dependency order (dependents first, each strong
    /// component in instruction order), when that order is unique.
    fn unique_order(&self, members: &[usize]) -> Option<Vec<usize>> {
        if let [v] = members {
            // Most module instructions depend on nothing: a component of one.
            return Some(vec![*v]);
        }
        let sccs = self.sccs(members);
        let mut scc_of: HashMap<usize, usize> = HashMap::with_capacity(members.len());
        for (k, s) in sccs.iter().enumerate() {
            for &v in s {
                scc_of.insert(v, k);
            }
        }
        let k = sccs.len();
        let mut succ = vec![Vec::new(); k];
        let mut indeg = vec![0usize; k];
        for &v in members {
            for &w in &self.edges[v] {
                let (x, y) = (scc_of[&v], scc_of[&w]);
                if x != y && !succ[x].contains(&y) {
                    succ[x].push(y);
                    indeg[y] += 1;
                }
            }
        }
        let mut ready: Vec<usize> = (0..k).filter(|&x| indeg[x] == 0).collect();
        let mut out = Vec::with_capacity(members.len());
        while let Some(x) = ready.pop() {
            if !ready.is_empty() {
                return None;
            }
            let mut vs = sccs[x].clone();
            vs.sort_unstable();
            out.extend(vs);
            for &y in &succ[x] {
                indeg[y] -= 1;
                if indeg[y] == 0 {
                    ready.push(y);
                }
            }
        }
        Some(out)
    }

    /// Strongly connected components of the subgraph on `members` (iterative Tarjan);
    /// `members` is a whole weakly connected component, so every edge stays inside it.
    fn sccs(&self, members: &[usize]) -> Vec<Vec<usize>> {
        let n = members.len();
        let local: HashMap<usize, usize> = members.iter().enumerate().map(|(i, &v)| (v, i)).collect();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on = vec![false; n];
        let mut stack = Vec::new();
        let mut out = Vec::new();
        let mut next = 0;
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work: Vec<(usize, usize)> = vec![(root, 0)];
            index[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on[root] = true;
            while let Some(&mut (v, ref mut ei)) = work.last_mut() {
                let edges = &self.edges[members[v]];
                if *ei < edges.len() {
                    let w = local[&edges[*ei]];
                    *ei += 1;
                    if index[w] == usize::MAX {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on[w] = true;
                        work.push((w, 0));
                    } else if on[w] {
                        low[v] = low[v].min(index[w]);
                    }
                } else {
                    work.pop();
                    if let Some(&(p, _)) = work.last() {
                        low[p] = low[p].min(low[v]);
                    }
                    if low[v] == index[v] {
                        let mut s = Vec::new();
                        while let Some(w) = stack.pop() {
                            on[w] = false;
                            s.push(members[w]);
                            if w == v {
                                break;
                            }
                        }
                        out.push(s);
                    }
                }
            }
        }
        out
    }
}

fn translate_dependent_instrs(
    mode: Mode,
    before: Vec<Term>,
    after: Vec<Term>,
    appls: &[App],
    oracle: &Oracle,
) -> Result<(Vec<Term>, Vec<Term>), Error> {
    let g = dependency_graph(&after)?;
    let comp = g.components();
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (v, &c) in comp.iter().enumerate() {
        groups.entry(c).or_default().push(v);
    }
    let orders = component_orders(&g, &comp, &groups, oracle)?;
    let libs = Libs::of(appls);
    let mut done = vec![false; g.mods.len()];
    let mut new_before = Vec::new();
    let mut new_after = Vec::new();
    let mut vertex = 0;
    for i in after {
        if !is_dep(&i) {
            new_after.push(i);
            continue;
        }
        let v = vertex;
        vertex += 1;
        if done[v] {
            continue;
        }
        let order = &orders[&comp[v]];
        for &w in order {
            done[w] = true;
        }
        let instrs: Vec<&Term> = order.iter().map(|&w| &g.instrs[w]).collect();
        let (b, a2) = dep_to_low(mode, &instrs, &libs)?;
        new_before.extend(b);
        new_after.extend(a2);
    }
    let mut before = before;
    before.extend(new_before);
    Ok((before, new_after))
}

/// The instruction order of every component: computed here when unique, otherwise
/// asked of the oracle in one query for all open ones, `{deps, [{Mod, Mods}], Roots}`
/// (one module of each open component), answered with one module list per root's
/// component, each in `get_dependent_instructions` order.
fn component_orders(
    g: &DepGraph,
    comp: &[usize],
    groups: &HashMap<usize, Vec<usize>>,
    oracle: &Oracle,
) -> Result<HashMap<usize, Vec<usize>>, Error> {
    let mut orders = HashMap::with_capacity(groups.len());
    let mut roots = Vec::new();
    for (&c, members) in groups {
        match g.unique_order(members) {
            Some(o) => {
                orders.insert(c, o);
            }
            None => roots.push(members[0]),
        }
    }
    if roots.is_empty() {
        return Ok(orders);
    }
    roots.sort_unstable();
    let root_mods = Term::List(roots.iter().map(|&v| g.mods[v].clone()).collect());
    let answer = oracle.ask(Term::Tuple(vec![a("deps"), g.query.clone(), root_mods]))?;
    let index: HashMap<&str, usize> = g.mods.iter().enumerate().filter_map(|(i, m)| Some((m.as_atom()?, i))).collect();
    for ms in answer.as_list().unwrap_or(&[]) {
        let order = ms
            .as_list()
            .unwrap_or(&[])
            .iter()
            .map(|m| m.as_atom().and_then(|n| index.get(n).copied()))
            .collect::<Option<Vec<usize>>>()
            .ok_or(Error::BadOptions("oracle".into()))?;
        let Some(&first) = order.first() else {
            continue;
        };
        orders.insert(comp[first], order);
    }
    if roots.iter().any(|&r| !orders.contains_key(&comp[r])) {
        return Err(Error::BadOptions("oracle".into()));
    }
    Ok(orders)
}

/// `get_lib/2` as a table: each module's first application.
struct Libs<'a>(HashMap<&'a str, &'a App>);

impl<'a> Libs<'a> {
    fn of(appls: &'a [App]) -> Libs<'a> {
        let mut map = HashMap::new();
        for x in appls {
            for m in &x.modules {
                map.entry(m.as_str()).or_insert(x);
            }
        }
        Libs(map)
    }

    fn get(&self, m: &Term) -> Rc<(Term, Term)> {
        m.as_atom()
            .and_then(|n| self.0.get(n))
            .map(|x| (a(&x.name), Term::string(&x.vsn)))
            .ok_or_else(|| RcError::NoSuchModule(m.clone()))
    }
}

fn dep_to_low(mode: Mode, instrs: &[&Term], libs: &Libs) -> Rc<(Vec<Term>, Vec<Term>)> {
    let mut update_mods = Vec::new();
    let mut load_remove: Vec<Vec<Term>> = Vec::new();
    for i in instrs {
        let items = i.as_tuple().unwrap_or(&[]);
        match (items[0].as_atom(), items.len()) {
            (Some("update"), 8) => {
                update_mods.push(if items[3].is_atom("default") {
                    items[1].clone()
                } else {
                    t([items[1].clone(), items[3].clone()])
                });
                load_remove.push(vec![t([
                    a("load"),
                    Term::Tuple(vec![items[1].clone(), items[5].clone(), items[6].clone()]),
                ])]);
            }
            (Some("load_module"), 5) => {
                load_remove.push(vec![t([
                    a("load"),
                    Term::Tuple(vec![items[1].clone(), items[2].clone(), items[3].clone()]),
                ])]);
            }
            (Some("delete_module"), 3) => load_remove.push(vec![
                t([a("remove"), Term::Tuple(vec![items[1].clone(), bp(), bp()])]),
                t([a("purge"), Term::list([items[1].clone()])]),
            ]),
            _ => {}
        }
    }
    let suspend =
        if update_mods.is_empty() { vec![] } else { vec![t([a("suspend"), Term::List(update_mods.clone())])] };
    let resume = if update_mods.is_empty() {
        vec![]
    } else {
        let ms = update_mods.iter().rev().map(|m| match m.as_tuple() {
            Some([x, _]) => x.clone(),
            _ => m.clone(),
        });
        vec![t([a("resume"), Term::List(ms.collect())])]
    };
    let flat: Vec<Term> = load_remove.iter().flatten().cloned().collect();
    let mut loc = Vec::new();
    for i in &flat {
        if let Some([_, spec]) = tuple_of(i, "load") {
            let m = &spec.as_tuple().unwrap_or(&[])[0];
            let (l, v) = libs.get(m)?;
            loc.push(t([a("load_object_code"), Term::Tuple(vec![l, v, Term::list([m.clone()])])]));
        }
    }
    let advanced = |ty: Option<&str>| -> Vec<Term> {
        instrs
            .iter()
            .filter_map(|i| {
                let items = i.as_tuple()?;
                if !(items[0].is_atom("update") && items.len() == 8) {
                    return None;
                }
                if let Some(ty) = ty {
                    if !items[2].is_atom(ty) {
                        return None;
                    }
                }
                match items[4].as_tuple() {
                    Some([tag, extra]) if tag.is_atom("advanced") => Some(t([items[1].clone(), extra.clone()])),
                    _ => None,
                }
            })
            .collect()
    };
    let cc = |dir: &str, mods: Vec<Term>| {
        if mods.is_empty() {
            vec![]
        } else {
            vec![Term::Tuple(vec![a("code_change"), a(dir), Term::List(mods)])]
        }
    };
    let mut after = suspend;
    match mode {
        Mode::Up => {
            after.extend(load_remove.iter().rev().flatten().cloned());
            after.extend(cc("up", advanced(None)));
        }
        Mode::Dn => {
            after.extend(cc("down", advanced(Some("dynamic"))));
            after.extend(flat);
            after.extend(cc("down", advanced(Some("static"))));
        }
    }
    after.extend(resume);
    Ok((loc, after))
}

fn merge_load_object_code(before: Vec<Term>) -> Rc<Vec<Term>> {
    let (found, rest): (Vec<Term>, Vec<Term>) = before.into_iter().partition(is_loc);
    let mut out = mlo(found)?;
    out.extend(rest);
    Ok(out)
}

fn loc_parts(i: &Term) -> (&Term, &Term, &[Term]) {
    let spec = &i.as_tuple().unwrap_or(&[])[1];
    match spec.as_tuple() {
        Some([l, v, Term::List(ms)]) => (l, v, ms),
        _ => unreachable!("checked by check_syntax"),
    }
}

/// `mlo/1`: one `load_object_code` per library, in order of first appearance, with
/// the modules of all its entries. Every entry of a library must have the version of
/// its first; systools reports the last one that does not.
fn mlo(found: Vec<Term>) -> Rc<Vec<Term>> {
    // check_syntax has made every library an atom.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_lib: HashMap<&str, usize> = HashMap::new();
    for (i, x) in found.iter().enumerate() {
        let lib = loc_parts(x).0.as_atom().unwrap_or("");
        let g = *by_lib.entry(lib).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let (lib, vsn, mods) = loc_parts(&found[g[0]]);
        if let Some(&c) = g[1..].iter().rev().find(|&&i| loc_parts(&found[i]).1 != vsn) {
            let conflict = (lib.clone(), vsn.clone(), loc_parts(&found[c]).1.clone());
            return Err(RcError::ConflictingVersions(Box::new(conflict)));
        }
        let mut ocode = Vec::new();
        for &i in g[1..].iter().rev() {
            ocode = union(loc_parts(&found[i]).2, ocode);
        }
        let ocode = union(mods, ocode);
        out.push(t([a("load_object_code"), Term::Tuple(vec![lib.clone(), vsn.clone(), Term::List(ocode)])]));
    }
    Ok(out)
}

fn sort_emulator_restart(mode: Mode, mut before: Vec<Term>, after: Vec<Term>) -> (Vec<Term>, Vec<Term>) {
    let rne = a("restart_new_emulator");
    let re = a("restart_emulator");
    let mut after1 = after;
    if after1.contains(&rne) {
        after1.retain(|x| *x != rne);
        match mode {
            Mode::Up => before.insert(0, rne),
            Mode::Dn => after1.push(re.clone()),
        }
    }
    if after1.contains(&re) {
        after1.retain(|x| *x != re);
        after1.push(re);
    }
    (before, after1)
}

fn check_syntax(script: &[Term]) -> Rc<()> {
    script.iter().try_for_each(check_op)
}

fn bad(tag: &'static str, x: &Term) -> RcError {
    RcError::Bad(tag, x.clone())
}

fn check_mod(m: &Term) -> Rc<()> {
    if m.as_atom().is_some() {
        Ok(())
    } else {
        Err(bad("bad_module", m))
    }
}

fn check_purge(p: &Term) -> Rc<()> {
    if p.is_atom("soft_purge") || p.is_atom("brutal_purge") {
        Ok(())
    } else {
        Err(bad("bad_purge_method", p))
    }
}

fn check_change(c: &Term) -> Rc<()> {
    match c {
        Term::Atom(x) if x == "soft" => Ok(()),
        Term::Tuple(x) if x.len() == 2 && x[0].is_atom("advanced") => Ok(()),
        _ => Err(bad("bad_change", c)),
    }
}

fn check_timeout(x: &Term) -> Rc<()> {
    match x {
        Term::Atom(n) if n == "default" || n == "infinity" => Ok(()),
        Term::Int(i) if *i > 0 => Ok(()),
        Term::Big(b) if b.sign() == num_bigint::Sign::Plus => Ok(()),
        _ => Err(bad("bad_timeout", x)),
    }
}

/// `check_list/1` then `lists:foreach(F, List)`: an improper list passes the first and
/// crashes the second (inside systools' catch).
fn check_each(list: &Term, f: impl Fn(&Term) -> Rc<()>) -> Rc<()> {
    match list {
        Term::List(l) => l.iter().try_for_each(f),
        Term::Improper(l, tail) => {
            l.iter().try_for_each(&f)?;
            Err(RcError::Exit(t([a("function_clause"), (**tail).clone()])))
        }
        _ => Err(bad("bad_list", list)),
    }
}

fn check_atom(tag: &'static str, x: &Term) -> Rc<()> {
    if x.as_atom().is_some() {
        Ok(())
    } else {
        Err(bad(tag, x))
    }
}

fn check_mfa(mfa: &Term) -> Option<Rc<()>> {
    let [m, f, args] = mfa.as_tuple()? else {
        return None;
    };
    Some((|| {
        check_mod(m)?;
        check_atom("bad_func", f)?;
        if is_list(args) {
            Ok(())
        } else {
            Err(bad("bad_args_list", args))
        }
    })())
}

fn check_op(i: &Term) -> Rc<()> {
    let bad_instr = || Err(bad("bad_instruction", i));
    if let Term::Atom(x) = i {
        return match x.as_str() {
            "mnesia_backup" => Err(RcError::NotYetImplemented),
            "restart" | "reboot" | "point_of_no_return" | "restart_new_emulator" | "restart_emulator" => Ok(()),
            _ => bad_instr(),
        };
    }
    let Some(items) = i.as_tuple() else {
        return bad_instr();
    };
    let Some(tag) = items.first().and_then(Term::as_atom) else {
        return bad_instr();
    };
    let mods_each = |l: &Term| check_each(l, check_mod);
    match (tag, &items[1..]) {
        ("update", [m, change, pre, post, mods]) => {
            check_mod(m)?;
            check_change(change)?;
            check_purge(pre)?;
            check_purge(post)?;
            mods_each(mods)
        }
        ("update", [m, timeout, change, pre, post, mods]) => {
            check_mod(m)?;
            check_timeout(timeout)?;
            check_change(change)?;
            check_purge(pre)?;
            check_purge(post)?;
            mods_each(mods)
        }
        ("update", [m, ty, timeout, change, pre, post, mods]) => {
            check_mod(m)?;
            if !(ty.is_atom("static") || ty.is_atom("dynamic")) {
                return Err(bad("bad_mod_type", ty));
            }
            check_timeout(timeout)?;
            check_change(change)?;
            check_purge(pre)?;
            check_purge(post)?;
            mods_each(mods)
        }
        ("load_module", [m, pre, post, mods]) => {
            check_mod(m)?;
            check_purge(pre)?;
            check_purge(post)?;
            mods_each(mods)
        }
        ("add_module" | "delete_module", [m]) => check_mod(m),
        ("add_module" | "delete_module", [m, mods]) => {
            check_mod(m)?;
            mods_each(mods)
        }
        ("remove_application" | "restart_application", [appl]) => check_atom("bad_application", appl),
        ("add_application", [appl, ty]) => {
            check_atom("bad_application", appl)?;
            match ty.as_atom() {
                Some("none" | "load" | "temporary" | "transient" | "permanent") => Ok(()),
                _ => Err(bad("bad_start_type", ty)),
            }
        }
        ("load_object_code", [spec]) => match spec.as_tuple() {
            Some([lib, vsn, mods]) => {
                check_atom("bad_lib", lib)?;
                if !is_list(vsn) {
                    return Err(bad("bad_lib_vsn", vsn));
                }
                mods_each(mods)
            }
            _ => bad_instr(),
        },
        ("load" | "remove", [spec]) => match spec.as_tuple() {
            Some([m, pre, post]) => {
                check_mod(m)?;
                check_purge(pre)?;
                check_purge(post)
            }
            _ => bad_instr(),
        },
        ("purge" | "resume" | "stop" | "start", [mods]) => mods_each(mods),
        ("suspend", [mods]) => check_each(mods, |x| match x.as_tuple() {
            Some([m, timeout]) => {
                check_mod(m)?;
                check_timeout(timeout)
            }
            _ => check_mod(x),
        }),
        ("code_change", [mods]) => check_each(mods, check_code_change),
        ("code_change", [mode, mods]) => {
            if !is_list(mods) {
                return Err(bad("bad_list", mods));
            }
            if !(mode.is_atom("up") || mode.is_atom("down")) {
                return Err(bad("bad_mode", mode));
            }
            check_each(mods, check_code_change)
        }
        ("sync_nodes", [_id, x]) => match check_mfa(x) {
            Some(r) => r,
            None => check_each(x, |n| check_atom("bad_node", n)),
        },
        ("apply", [x]) => check_mfa(x).unwrap_or_else(bad_instr),
        _ => bad_instr(),
    }
}

fn check_code_change(x: &Term) -> Rc<()> {
    match x.as_tuple() {
        Some([m, _]) => check_mod(m),
        _ => Err(bad("bad_code_change", x)),
    }
}
