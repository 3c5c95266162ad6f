// SPDX-License-Identifier: Apache-2.0
//! What only the running VM knows: the order of a map's keys.
//!
//! Since OTP 26 the VM orders the atom keys of a small map by the atom's index in the atom
//! table, not by name, and both `term_to_binary/1` (the `.boot`) and `~tp` (the `.script`)
//! follow it. That index depends on when each atom was made, so no table can stand in for
//! it: the NIF edge implements [`Vm`] by making the keys in the VM and reading the order
//! back. Outside a VM (unit tests, fuzzing) [`TermOrder`] keeps term order, which is what
//! OTP 25 does.

use crate::term::Term;

/// The running VM, as far as the core needs it.
pub trait Vm {
    /// Makes the atoms `names`, in this order, as reading a file with them would (atoms
    /// that exist keep their place). Called before [`Vm::map_order`], so that new atoms
    /// get the indices `file:consult/1` would have given them.
    fn intern_atoms(&self, names: &[String]);

    /// The positions of `keys` in the order the VM keeps them in a map; `None` keeps term
    /// order.
    fn map_order(&self, keys: &[Term]) -> Option<Vec<usize>>;
}

/// No VM: maps keep term order (OTP 25's order, and what the reader produces).
pub struct TermOrder;

impl Vm for TermOrder {
    fn intern_atoms(&self, _names: &[String]) {}

    fn map_order(&self, _keys: &[Term]) -> Option<Vec<usize>> {
        None
    }
}

/// Whether `t` holds a map whose order could depend on the VM (two keys or more).
pub fn has_orderable_map(t: &Term) -> bool {
    // Only containers can hold a map: a script's strings and module lists (most of its
    // terms) are passed over instead of being stacked one element at a time.
    let holds = |x: &&Term| matches!(x, Term::Map(_) | Term::Tuple(_) | Term::List(_) | Term::Improper(..));
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::Map(pairs) if pairs.len() > 1 => return true,
            Term::Map(pairs) => pairs.iter().for_each(|(k, v)| stack.extend([k, v])),
            Term::Tuple(xs) | Term::List(xs) => stack.extend(xs.iter().filter(holds)),
            Term::Improper(xs, tail) => {
                stack.extend(xs.iter().filter(holds));
                stack.push(tail);
            }
            _ => {}
        }
    }
    false
}

/// Every atom in `t`, depth first, left to right (the order a reader meets them, but for
/// the keys of maps, which the reader keeps sorted).
pub fn atoms_of(t: &Term, out: &mut Vec<String>) {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::Atom(a) => out.push(a.to_string()),
            Term::Export(m, f, _) => out.extend([m.clone(), f.clone()]),
            Term::Map(pairs) => pairs.iter().rev().for_each(|(k, v)| stack.extend([v, k])),
            Term::Tuple(xs) | Term::List(xs) => stack.extend(xs.iter().rev()),
            Term::Improper(xs, tail) => {
                stack.push(tail);
                stack.extend(xs.iter().rev());
            }
            _ => {}
        }
    }
}

/// Puts the pairs of every map in `t` in the VM's order.
pub fn order_maps(t: &mut Term, vm: &dyn Vm) {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::Map(pairs) => {
                if pairs.len() > 1 {
                    let keys: Vec<Term> = pairs.iter().map(|(k, _)| k.clone()).collect();
                    if let Some(perm) = vm.map_order(&keys).filter(|p| is_permutation(p, pairs.len())) {
                        let mut old: Vec<Option<(Term, Term)>> = std::mem::take(pairs).into_iter().map(Some).collect();
                        pairs.extend(perm.iter().filter_map(|&i| old[i].take()));
                    }
                }
                for (k, v) in pairs.iter_mut() {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Term::Tuple(xs) | Term::List(xs) => stack.extend(xs.iter_mut()),
            Term::Improper(xs, tail) => {
                stack.extend(xs.iter_mut());
                stack.push(tail);
            }
            _ => {}
        }
    }
}

fn is_permutation(p: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    p.len() == n && p.iter().all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VM that orders keys backwards and records what was interned.
    struct Backwards(std::cell::RefCell<Vec<String>>);

    impl Vm for Backwards {
        fn intern_atoms(&self, names: &[String]) {
            self.0.borrow_mut().extend_from_slice(names);
        }
        fn map_order(&self, keys: &[Term]) -> Option<Vec<usize>> {
            Some((0..keys.len()).rev().collect())
        }
    }

    fn a(s: &str) -> Term {
        Term::atom(s)
    }

    #[test]
    fn maps_at_any_depth_take_the_vm_order() {
        let inner = Term::map(vec![(a("x"), Term::Int(1)), (a("y"), Term::Int(2))]);
        let mut t = Term::tuple([Term::list([Term::map(vec![(a("a"), inner), (a("b"), Term::nil())])])]);
        order_maps(&mut t, &Backwards(Default::default()));
        let Term::Tuple(xs) = &t else { panic!() };
        let Term::List(l) = &xs[0] else { panic!() };
        let Term::Map(outer) = &l[0] else { panic!() };
        assert_eq!(outer[0].0, a("b"));
        let Term::Map(inner) = &outer[1].1 else { panic!() };
        assert_eq!(inner.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), vec![a("y"), a("x")]);
    }

    #[test]
    fn term_order_and_bad_answers_leave_maps_alone() {
        struct Bad;
        impl Vm for Bad {
            fn intern_atoms(&self, _: &[String]) {}
            fn map_order(&self, _: &[Term]) -> Option<Vec<usize>> {
                Some(vec![0, 0])
            }
        }
        let m = Term::map(vec![(a("b"), Term::Int(1)), (a("a"), Term::Int(2))]);
        for vm in [&TermOrder as &dyn Vm, &Bad] {
            let mut t = m.clone();
            order_maps(&mut t, vm);
            assert_eq!(t, m);
        }
    }

    #[test]
    fn atoms_come_in_reading_order() {
        let t = Term::tuple([a("p"), Term::list([a("q"), Term::map(vec![(a("k"), a("v"))])]), a("r")]);
        let mut out = Vec::new();
        atoms_of(&t, &mut out);
        assert_eq!(out, ["p", "q", "k", "v", "r"]);
        assert!(has_orderable_map(&Term::list([Term::map(vec![(a("k"), a("v")), (a("j"), a("v"))])])));
        assert!(!has_orderable_map(&t));
    }

    #[test]
    fn maps_are_found_at_any_depth_among_strings_and_atoms() {
        let m2 = || Term::map(vec![(a("k"), a("v")), (a("j"), a("v"))]);
        let deep = Term::list([
            Term::string("a string"),
            a("x"),
            Term::tuple([Term::Int(1), Term::list([Term::string("s"), Term::tuple([a("t"), m2()])])]),
        ]);
        assert!(has_orderable_map(&deep));
        assert!(has_orderable_map(&Term::Improper(vec![a("x"), Term::Int(1)], Box::new(m2()))));
        assert!(has_orderable_map(&Term::map(vec![(a("k"), Term::list([Term::string("s"), m2()]))])));
        let none = Term::list([Term::string("a string"), Term::tuple([a("t"), Term::map(vec![(a("k"), a("v"))])])]);
        assert!(!has_orderable_map(&none));
    }
}
