// SPDX-License-Identifier: Apache-2.0
//! The installed OTP as the oracle of the core's differential tests.
//!
//! These tests check the core against the real VM; a machine without one must not make
//! them pass silently. They fail when `escript` is missing unless
//! `FASTREL_SKIP_OTP_ORACLE=1` says to skip them.

use std::process::Command;

/// `Some(())` when `escript` is on `PATH`; `None` (skip) only when told to skip; panics
/// otherwise.
pub(crate) fn escript_on_path() -> Option<()> {
    let found =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("escript").is_file()));
    if found {
        return Some(());
    }
    if std::env::var("FASTREL_SKIP_OTP_ORACLE").is_ok_and(|v| v == "1") {
        eprintln!("note: escript not on PATH and FASTREL_SKIP_OTP_ORACLE=1: skipping a test against OTP");
        return None;
    }
    panic!("escript is not on PATH: this test checks against the installed OTP (install erlang-nox, or set FASTREL_SKIP_OTP_ORACLE=1 to skip)");
}

/// The installed OTP's scanner rules (see [`crate::term::reader::ScannerRules`]).
pub(crate) fn vm_scanner_rules() -> crate::term::reader::ScannerRules {
    let ok = "fun(S) -> atom_to_list(element(1, erl_scan:string(S))) end";
    let atom = "case erl_scan:string(\"maybe.\") of {ok, [{atom, _, _} | _], _} -> \"atom\"; _ -> \"reserved\" end";
    let eval = format!("F = {ok}, io:put_chars([F([34,97,34,34,98,34,46]), $ , F(\"8x.\"), $ , {atom}, $ , F([39,92,94,125,39,46])]), halt().");
    let out = Command::new("erl").args(["-noshell", "-eval", &eval]).output().expect("erl runs");
    assert!(out.status.success(), "erl failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split(' ');
    crate::term::reader::ScannerRules {
        adjacent_strings: words.next() == Some("ok"),
        name_after_number: words.next() == Some("ok"),
        maybe_else_reserved: words.next() == Some("reserved"),
        caret_strict: words.next() == Some("error"),
    }
}

/// The installed OTP's major release.
pub(crate) fn vm_otp_major() -> u32 {
    let out = Command::new("erl")
        .args(["-noshell", "-eval", "io:put_chars(erlang:system_info(otp_release)), halt()."])
        .output()
        .expect("erl runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("an OTP release number")
}
