// SPDX-License-Identifier: Apache-2.0
//! Fuzzes the External Term Format decoder: any bytes decode or fail with an error, never
//! panic; whatever decodes encodes back to bytes that decode to the same term (for every
//! OTP the encoder knows: atoms as Latin-1 up to 25, UTF-8 from 26), and prints as `~tp`
//! does without panicking.
#![no_main]

use fastrel_core::{etf, pretty, term_cmp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(term) = etf::decode(data) else { return };
    for otp in [25, 26, 29] {
        let again = etf::decode(&etf::encode(&term, otp)).expect("an encoded term decodes");
        assert_eq!(term_cmp(&term, &again), std::cmp::Ordering::Equal, "ETF round trip on OTP {otp}");
    }
    let _ = pretty::pretty(&term, true, 29);
    let _ = pretty::script_text(&term, false, 25);
});
