// SPDX-License-Identifier: Apache-2.0
//! heart, run_erl and to_erl as one executable, chosen by the name it is run under
//! (`argv[0]`'s last component), as busybox does.
//!
//! Each program alone is mostly Rust's standard library (its formatting and panic
//! machinery, some 330 KB of each ~400 KB binary); one executable carries that once, so a
//! release ships one file and three links to it instead of three full copies (two sets
//! with a bundled ERTS). `fastrel_programs heart ...` also works, for a caller that
//! cannot name the link.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// The programs, by the name each is run as.
const PROGRAMS: [(&str, fn() -> ExitCode); 3] = [("heart", heart::main), ("run_erl", run_erl::main), ("to_erl", to_erl::main)];

fn main() -> ExitCode {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&argv0).file_name().unwrap_or(OsStr::new(""));
    match PROGRAMS.iter().find(|(n, _)| n.as_bytes() == name.as_bytes()) {
        Some((_, program)) => program(),
        None => {
            eprintln!("fastrel_programs: run me as heart, run_erl or to_erl (a link named so)");
            ExitCode::from(2)
        }
    }
}
