// SPDX-License-Identifier: Apache-2.0
//! Fuzzes the term reader: any bytes must either read or fail with an error, never
//! panic, overflow the stack or hang, and the two entry points must agree on the first
//! term whenever both succeed.
#![no_main]

use fastrel_core::{read_all_terms, read_first_term};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let first = read_first_term(data, "fuzz");
    let all = read_all_terms(data, "fuzz");
    if let (Ok(first), Ok(all)) = (&first, &all) {
        assert!(all.first() == Some(first), "read_all_terms disagrees with read_first_term");
    }
    for e in [first.err(), all.err()].into_iter().flatten() {
        let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
        assert!(e.line >= 1 && e.line as usize <= lines, "error line {} out of range", e.line);
    }
});
