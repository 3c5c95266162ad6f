// SPDX-License-Identifier: Apache-2.0
//! How `make_script`'s work grows with the number of applications: releases of N
//! generated applications (five modules each, each using up to three earlier ones, a DAG
//! of depth N), listed in dependency order or in reverse (then the start order has the
//! most to move). `cargo test -p fastrel_core --release scaling -- --ignored --nocapture`
//! prints the times; the test that always runs checks the order of a large release.

use super::fixture::Release;
use super::make_script::{make_script, prepare, Outcome};
use super::order;
use crate::term::vm::TermOrder;
use std::time::Instant;

/// Application `i`'s dependencies among the generated ones: i-1, i/2 and i/3.
fn deps(i: usize) -> Vec<usize> {
    let mut d: Vec<usize> = [i - 1, i / 2, i / 3].into_iter().filter(|&d| d >= 1).collect();
    d.sort_unstable();
    d.dedup();
    d
}

fn generated(n: usize, reversed: bool) -> Release {
    let mut r = Release::new("scaling");
    r.base(true);
    for i in 1..=n {
        let mods: Vec<String> = (0..5).map(|m| format!("a{i}_m{m}")).collect();
        let uses: Vec<String> = ["kernel".to_string(), "stdlib".to_string()]
            .into_iter()
            .chain(deps(i).iter().map(|d| format!("a{d}")))
            .collect();
        let mods: Vec<&str> = mods.iter().map(String::as_str).collect();
        let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
        r.app_file(&format!("a{i}"), "1", &mods, &uses);
    }
    let mut names: Vec<String> = (1..=n).map(|i| format!("a{i}")).collect();
    if reversed {
        names.reverse();
    }
    let mut entries = vec![("kernel", "1"), ("stdlib", "1"), ("sasl", "1")];
    entries.extend(names.iter().map(|x| (x.as_str(), "1")));
    r.rel("r", &entries);
    r
}

#[test]
fn a_large_release_listed_backwards_starts_each_application_after_those_it_uses() {
    let n = 1000;
    let r = generated(n, true);
    let p = prepare(&r.options("r")).unwrap();
    let started: Vec<&str> = p.sorted.iter().map(|&i| p.apps[i].name.as_str()).collect();
    assert_eq!(started.len(), n + 3);
    assert_eq!(started[..3], ["kernel", "stdlib", "sasl"]);
    let at = |name: &str| started.iter().position(|x| *x == name).unwrap();
    for i in 1..=n {
        for d in deps(i) {
            assert!(at(&format!("a{d}")) < at(&format!("a{i}")), "a{d} must start before a{i}");
        }
    }
}

#[test]
#[ignore = "prints timings; run by hand (see the module doc)"]
fn scaling_report() {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    for reversed in [false, true] {
        for n in [250, 500, 1000, 2000, 4000] {
            let r = generated(n, reversed);
            let t0 = Instant::now();
            let p = prepare(&r.options("r")).unwrap();
            let prepared = ms(t0);
            assert_eq!(p.sorted.len(), n + 3);
            // The ordering phases alone, best of three.
            let mut checks = f64::MAX;
            let mut sort = f64::MAX;
            for _ in 0..3 {
                let mut apps = p.apps.clone();
                let t = Instant::now();
                order::check_applications(&mut apps, &p.rel).unwrap();
                order::check_duplicate_modules(&apps).unwrap();
                checks = checks.min(ms(t));
                let t = Instant::now();
                order::sort_appls(&apps).unwrap();
                sort = sort.min(ms(t));
            }
            let t1 = Instant::now();
            let Outcome::Written(_) = make_script(&r.options("r"), &TermOrder).unwrap() else { panic!("not written") };
            let written = ms(t1);
            eprintln!(
                "{n:5} apps, {:10} order: prepare {prepared:7.1} ms (checks {checks:6.1}, sort_appls {sort:6.1}); \
                 make_script {written:7.1} ms",
                if reversed { "reverse" } else { "dependency" },
            );
        }
    }
}
