// SPDX-License-Identifier: Apache-2.0
//! Deeply nested terms never overflow the stack of the thread running a NIF (issue 13).
//!
//! Every entry point that makes a [`Term`] from input (the text reader, the ETF decoder)
//! refuses nesting deeper than [`MAX_DEPTH`], and every walk over a `Term` is either
//! iterative or recurses as deep as the term nests, no deeper. These tests run each walk on a thread
//! whose stack is that of a dirty IO scheduler (`+sssdio`, 40 kilowords: 320 KiB), on the
//! deepest terms the entry points let through, and on 100,000-level inputs that must come
//! back as errors.
//!
//! `cargo test --release -p fastrel_core --test depth -- --ignored --nocapture stack_cost`
//! measures the stack each walk takes per level of nesting (see `MAX_DEPTH`'s docs).

use fastrel_core::etf::{self, MAX_DEPTH};
use fastrel_core::{map_key_cmp, pretty, read_all_terms, read_first_term, term_cmp, vm, Term};

/// A dirty IO scheduler's default stack: 40 kilowords (`erl +sssdio`).
const DIRTY_IO_STACK: usize = 40 * 1024 * 8;

/// Debug builds spend several times the stack per frame that release builds do (no
/// inlining, every temporary on the stack); the bound that matters is the release one.
const STACK: usize = if cfg!(debug_assertions) { 8 * DIRTY_IO_STACK } else { DIRTY_IO_STACK };

/// Runs `f` on a thread with `stack` bytes of stack; an overflow aborts the whole test
/// binary (SIGSEGV), which is the failure these tests exist to catch.
fn on_stack<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(stack).spawn(f).unwrap().join().unwrap()
}

/// The shapes of nesting: `[[[x]]]`, `{{{x}}}`, `#{k => #{k => x}}`, `[a | {[a | ...]}]`.
#[derive(Clone, Copy, Debug)]
enum Shape {
    List,
    Tuple,
    Map,
    Improper,
}

const SHAPES: [Shape; 4] = [Shape::List, Shape::Tuple, Shape::Map, Shape::Improper];

/// A term `depth` containers deep, built without recursion.
fn nested(shape: Shape, depth: usize) -> Term {
    let mut t = Term::atom("x");
    for _ in 0..depth {
        t = match shape {
            Shape::List => Term::List(vec![t]),
            Shape::Tuple => Term::Tuple(vec![Term::atom("t"), t]),
            Shape::Map => Term::Map(vec![(Term::atom("k"), t)]),
            // An improper tail that is a tuple holding the next level: two containers per
            // step, counted as two levels.
            Shape::Improper => Term::Improper(vec![Term::atom("a")], Box::new(Term::Tuple(vec![t]))),
        };
    }
    t
}

/// The same term as Erlang text.
fn nested_text(shape: Shape, depth: usize) -> String {
    let (open, close) = match shape {
        Shape::List => ("[", "]"),
        Shape::Tuple => ("{t,", "}"),
        Shape::Map => ("#{k=>", "}"),
        Shape::Improper => ("[a|{", "}]"),
    };
    format!("{}x{}.\n", open.repeat(depth), close.repeat(depth))
}

/// The depth `nested(shape, n)` reaches in containers.
fn levels(shape: Shape, n: usize) -> usize {
    match shape {
        Shape::Improper => 2 * n,
        _ => n,
    }
}

/// The largest `n` with `nested(shape, n)` within `MAX_DEPTH`.
fn deepest(shape: Shape) -> usize {
    match shape {
        Shape::Improper => MAX_DEPTH / 2,
        _ => MAX_DEPTH,
    }
}

/// Every walk over a term the NIFs make, as a name and a function. Each takes the term
/// and takes it apart without recursion when done, so that only the walk is measured.
type Walk = (&'static str, fn(Term));

fn walks() -> Vec<Walk> {
    vec![
        ("drop", drop),
        ("clone", |t| {
            let c = t.clone();
            dismantle(c);
            dismantle(t);
        }),
        ("eq", |t| {
            let c = dismantle_later(t.clone());
            assert!(t == c.0[0]);
            dismantle(t);
        }),
        ("term_cmp", |t| {
            let c = dismantle_later(t.clone());
            assert_eq!(term_cmp(&t, &c.0[0]), std::cmp::Ordering::Equal);
            assert_eq!(map_key_cmp(&t, &c.0[0]), std::cmp::Ordering::Equal);
            dismantle(t);
        }),
        ("string_p", |t| {
            let _ = t.string_p();
            dismantle(t);
        }),
        ("debug", |t| {
            assert!(!format!("{t:?}").is_empty());
            dismantle(t);
        }),
        ("encode", |t| {
            assert!(!etf::encode(&t, 25).is_empty());
            dismantle(t);
        }),
        ("pretty", |t| {
            assert!(!pretty::script_text(&t, false, 25).is_empty());
            dismantle(t);
        }),
        ("vm", |mut t| {
            let mut atoms = Vec::new();
            vm::atoms_of(&t, &mut atoms);
            let _ = vm::has_orderable_map(&t);
            vm::order_maps(&mut t, &vm::TermOrder);
            dismantle(t);
        }),
    ]
}

/// Holds terms and takes them apart without recursion when dropped.
struct DismantleLater(Vec<Term>);

fn dismantle_later(t: Term) -> DismantleLater {
    DismantleLater(vec![t])
}

impl Drop for DismantleLater {
    fn drop(&mut self) {
        std::mem::take(&mut self.0).into_iter().for_each(dismantle);
    }
}

/// Every walk, on the deepest term of each shape the entry points accept, on a thread with
/// a dirty IO scheduler's stack (scaled up in debug builds).
#[test]
fn every_walk_fits_in_a_dirty_scheduler_stack_at_max_depth() {
    for shape in SHAPES {
        // The NIFs wrap what they read in a few levels of their own (a script's
        // `{script, _, [{apply, {application, load, [{application, _, [{env, _}]}]}}]}`,
        // `{ok, Terms}`): allow for them.
        let t = nested(shape, deepest(shape) + 8);
        for (name, walk) in walks() {
            let t = t.clone();
            on_stack(STACK, move || walk(t));
            eprintln!("{shape:?} {name}: ok");
        }
        // And the round trips the NIFs make, from the deepest input they accept.
        let t = nested(shape, deepest(shape));
        on_stack(STACK, move || {
            let back = etf::decode(&etf::encode(&t, 25)).unwrap();
            assert!(back == t);
            dismantle(back);
            let text = pretty::script_text(&t, false, 25);
            let back = read_first_term(text.as_bytes(), "t.script").unwrap();
            assert!(back == t);
            dismantle(back);
            dismantle(t);
        });
    }
}

/// The entry points accept exactly `MAX_DEPTH` levels and refuse one more, whatever the
/// shape, and a 100,000-level input is an error, not a crash.
#[test]
fn entry_points_refuse_what_is_deeper_than_max_depth() {
    on_stack(STACK, || {
        for shape in SHAPES {
            let n = deepest(shape);
            let ok = nested(shape, n);
            let b = etf::encode(&ok, 25);
            assert!(etf::decode(&b).is_ok(), "{shape:?} {n}");
            assert!(read_first_term(nested_text(shape, n).as_bytes(), "d").is_ok(), "{shape:?} {n}");
            let over = n + 1;
            assert!(levels(shape, over) > MAX_DEPTH);
            let b = etf::encode(&nested(shape, over), 25);
            assert!(matches!(etf::decode(&b), Err(etf::EtfError::TooDeep { .. })), "{shape:?} {over}");
            let e = read_first_term(nested_text(shape, over).as_bytes(), "d").unwrap_err();
            assert_eq!(e.kind.to_string(), "nesting too deep", "{shape:?}");
        }
    });
}

#[test]
fn hundred_thousand_levels_are_errors() {
    const DEEP: usize = 100_000;
    for shape in SHAPES {
        // Built and dropped on the test's own (large) stack... iteratively, see below.
        let bytes = {
            let t = nested(shape, DEEP);
            let b = etf::encode(&t, 25);
            dismantle(t);
            b
        };
        let text = nested_text(shape, DEEP);
        on_stack(STACK, move || {
            assert!(matches!(etf::decode(&bytes), Err(etf::EtfError::TooDeep { .. })), "{shape:?}");
            assert!(read_first_term(text.as_bytes(), "d").is_err(), "{shape:?}");
            assert!(read_all_terms(text.as_bytes(), "d").is_err(), "{shape:?}");
        });
    }
    // The repro of issue 13, through the whole boot2script path.
    let dir = std::env::temp_dir().join(format!("fastrel_depth_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for depth in [800, MAX_DEPTH + 1, DEEP] {
        let file = dir.join(format!("d{depth}.boot"));
        let t = nested(Shape::List, depth);
        std::fs::write(&file, etf::encode(&t, 25)).unwrap();
        dismantle(t);
        let f = file.to_str().unwrap().to_string();
        let r = on_stack(STACK, move || fastrel_core::api::boot2script(&f, 25, false, &vm::TermOrder));
        let e = r.unwrap_err().reason();
        let [tag, name, why] = e.as_tuple().unwrap() else { panic!("{e:?}") };
        assert!(tag.is_atom("bad_boot"));
        assert_eq!(name.string_p().unwrap().unwrap(), file.to_str().unwrap());
        assert!(why.string_p().unwrap().unwrap().contains("nested deeper than"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Takes a term apart without recursion (a test-side helper; `Term`'s own drop is
/// recursive, which is why the entry points cap the depth).
fn dismantle(t: Term) {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::List(xs) | Term::Tuple(xs) => stack.extend(xs),
            Term::Improper(xs, tail) => {
                stack.extend(xs);
                stack.push(*tail);
            }
            Term::Map(pairs) => pairs.into_iter().for_each(|(k, v)| stack.extend([k, v])),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Measuring: the stack a walk takes, per level, by bisecting the smallest thread stack it
// runs in (each try in a child process, since an overflow aborts the process).

const PROBE_ENV: &str = "FASTREL_DEPTH_PROBE";

/// The child side of a probe: runs one walk on one depth with one stack size.
#[test]
#[ignore]
fn stack_probe_child() {
    let Ok(spec) = std::env::var(PROBE_ENV) else { return };
    let mut it = spec.split(':');
    let (name, depth, stack) =
        (it.next().unwrap().to_string(), it.next().unwrap().parse().unwrap(), it.next().unwrap().parse().unwrap());
    let t = nested(Shape::List, depth);
    let walk = walks().into_iter().find(|(n, _)| *n == name).unwrap().1;
    on_stack(stack, move || walk(t));
}

fn fits(name: &str, depth: usize, stack: usize) -> bool {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stack_probe_child", "--ignored", "--test-threads=1"])
        .env(PROBE_ENV, format!("{name}:{depth}:{stack}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn min_stack(name: &str, depth: usize) -> usize {
    let (mut lo, mut hi) = (16 * 1024, 256 * 1024 * 1024);
    while hi - lo > 1024 {
        let mid = (lo + hi) / 2;
        if fits(name, depth, mid) {
            hi = mid
        } else {
            lo = mid
        }
    }
    hi
}

#[test]
#[ignore]
fn stack_cost() {
    let (d1, d2) = (1_000, 5_000);
    for (name, _) in walks() {
        let (s1, s2) = (min_stack(name, d1), min_stack(name, d2));
        println!("{name:>9}: {:>5} bytes/level ({d1} levels: {s1} bytes, {d2}: {s2})", (s2 - s1) / (d2 - d1));
    }
}
