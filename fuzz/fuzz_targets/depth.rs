// SPDX-License-Identifier: Apache-2.0
//! Fuzzes deep nesting (issue 13): a pattern of lists, tuples, maps and improper tails,
//! repeated up to 200,000 levels deep, as term text and as ETF. On a thread with a dirty
//! IO scheduler's stack (320 KiB, where the NIFs run), the reader and the decoder must
//! accept it exactly when it is at most `MAX_DEPTH` deep and refuse it otherwise, and
//! whatever they accept must go through every walk the NIFs make (print, encode, decode,
//! compare, clone, drop) without overflowing.
#![no_main]

use fastrel_core::etf::{self, MAX_DEPTH};
use fastrel_core::{pretty, read_first_term, term_cmp};
use libfuzzer_sys::fuzz_target;

const DIRTY_IO_STACK: usize = 40 * 1024 * 8;

/// One level: its text opener and closer, its ETF opener (ETF needs no closers here),
/// and how many containers it adds.
fn level(b: u8) -> (&'static str, &'static str, &'static [u8], usize) {
    match b % 4 {
        0 => ("[", "]", &[108, 0, 0, 0, 1], 1),
        1 => ("{t,", "}", &[104, 2, 100, 0, 1, b't'], 1),
        2 => ("#{k=>", "}", &[116, 0, 0, 0, 1, 100, 0, 1, b'k'], 1),
        // `[a | {Next}]`: an improper list whose tail is a 1-tuple.
        _ => ("[a|{", "}]", &[108, 0, 0, 0, 1, 100, 0, 1, b'a', 104, 1], 2),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&[hi, lo], pattern)) = data.split_first_chunk::<2>() else { return };
    if pattern.is_empty() {
        return;
    }
    // Up to 65,535 repeats, at most 200,000 levels in all.
    let reps = usize::from(u16::from_be_bytes([hi, lo])).clamp(1, (200_000 / pattern.len()).max(1));
    let levels: Vec<u8> = std::iter::repeat_n(pattern, reps).flatten().copied().collect();
    let (mut open, mut close, mut etf_bytes, mut depth) = (String::new(), Vec::new(), vec![etf::VERSION], 0);
    for &b in &levels {
        let (o, c, e, d) = level(b);
        open.push_str(o);
        close.push(c);
        etf_bytes.extend_from_slice(e);
        depth += d;
    }
    etf_bytes.extend_from_slice(&[100, 0, 1, b'x']);
    // A proper list's tail, NIL, follows its element: innermost first. (The improper
    // ones wrote their tail, the tuple, before the element.)
    etf_bytes.extend(levels.iter().rev().filter(|&&b| b % 4 == 0).map(|_| 106));
    close.reverse();
    let close = close.concat();
    let text = format!("{open}x{close}.");
    std::thread::Builder::new()
        .stack_size(DIRTY_IO_STACK)
        .spawn(move || {
            let from_text = read_first_term(text.as_bytes(), "fuzz");
            let from_etf = etf::decode(&etf_bytes);
            assert_eq!(from_text.is_ok(), depth <= MAX_DEPTH, "reader at depth {depth}");
            assert_eq!(from_etf.is_ok(), depth <= MAX_DEPTH, "decoder at depth {depth}: {from_etf:?}");
            if let (Ok(a), Ok(b)) = (from_text, from_etf) {
                assert!(a == b);
                assert_eq!(term_cmp(&a, &b.clone()), std::cmp::Ordering::Equal);
                let printed = pretty::script_text(&a, false, 25);
                let back = read_first_term(printed.as_bytes(), "fuzz").unwrap();
                assert!(back == a);
                assert!(etf::decode(&etf::encode(&a, 25)).unwrap() == b);
            }
        })
        .unwrap()
        .join()
        .unwrap();
});
