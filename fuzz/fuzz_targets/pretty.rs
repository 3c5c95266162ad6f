// SPDX-License-Identifier: Apache-2.0
//! Fuzzes the `~tp` printer against the reader: a term read from any text prints (as a
//! `.script` and as `~tp`, for OTP 25 and 29, with either printable range) to text that
//! reads back to the same term.
#![no_main]

use fastrel_core::{pretty, read_first_term, term_cmp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(term) = read_first_term(data, "fuzz") else { return };
    for (unicode, otp) in [(false, 25), (true, 25), (false, 29), (true, 29)] {
        for text in [pretty::script_text(&term, unicode, otp), format!("{}.", pretty::pretty(&term, unicode, otp))] {
            let back = read_first_term(text.as_bytes(), "printed").unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            assert_eq!(term_cmp(&term, &back), std::cmp::Ordering::Equal, "{text:?}");
        }
    }
});
