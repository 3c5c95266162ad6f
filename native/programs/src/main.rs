// SPDX-License-Identifier: Apache-2.0
//! heart, run_erl and to_erl as one executable, chosen by the name it is run under
//! (`argv[0]`'s last component), as busybox does; and the start script's helpers.
//!
//! Each program alone is mostly Rust's standard library (its formatting and panic
//! machinery, some 330 KB of each ~400 KB binary); one executable carries that once, so a
//! release ships one file and three links to it instead of three copies (six with a
//! bundled ERTS).
//!
//! Run under its own name it serves the start script (`bin/NAME`), for what is hard to
//! get right in POSIX sh:
//! - `fastrel_programs vmargs FILE ROOT`: sh assignments of `NAME_TYPE`, `NAME`,
//!   `VM_COOKIE`, `VM_HEART` and `DIST_ARGS` from a `vm.args`, read as `erlexec` reads it;
//! - `fastrel_programs render SRC DST`: `${VAR}` and `${VAR:-default}` rendering of
//!   `vm.args.src`/`sys.config.src`;
//! - `fastrel_programs nodename NAME_TYPE NAME`: the full node name `NAME@host` (`-name`:
//!   the host's canonical name, anything else: the short host name);
//! - `fastrel_programs waitpid PID SECONDS`: returns when process PID has ended (exit 0)
//!   or SECONDS have passed (exit 1), woken by the exit itself where pidfds exist.

use fastrel_programs::{nodename, render, vmargs, waitpid};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// A program's `main`.
type Main = fn() -> ExitCode;

/// The programs, by the name each is run as.
const PROGRAMS: [(&str, Main); 3] = [("heart", heart::main), ("run_erl", run_erl::main), ("to_erl", to_erl::main)];

const USAGE: &str = "usage: fastrel_programs vmargs FILE ROOT | render SRC DST | nodename NAME_TYPE NAME \
                     | waitpid PID SECONDS\n\
                     (or run as heart, run_erl or to_erl through a link of that name)\n";

/// Bad arguments (the start script always passes good ones).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let name = argv.first().and_then(|a| Path::new(a).file_name()).unwrap_or_default();
    if let Some((_, program)) = PROGRAMS.iter().find(|(n, _)| n.as_bytes() == name.as_bytes()) {
        return program();
    }
    let args: Vec<&OsStr> = argv.iter().skip(1).map(OsString::as_os_str).collect();
    match args.as_slice() {
        [cmd, file, root] if cmd.as_bytes() == b"vmargs" => {
            let node = vmargs::scan(&vmargs::expand(Path::new(file), Path::new(root)));
            match std::io::stdout().write_all(&vmargs::assignments(&node)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        [cmd, src, dst] if cmd.as_bytes() == b"render" => match render::render_file(Path::new(src), Path::new(dst)) {
            Ok(()) => ExitCode::SUCCESS,
            // Quietly: the start script then renders into the runtime directory instead.
            Err(_) => ExitCode::FAILURE,
        },
        [cmd, name_type, name] if cmd.as_bytes() == b"nodename" => {
            match nodename::full_name(name_type.as_bytes() == b"-name", name.as_bytes(), nodename::host) {
                Ok(node) => match std::io::stdout().write_all(&[&node[..], b"\n"].concat()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(_) => ExitCode::FAILURE,
                },
                Err(e) => {
                    eprintln!("fastrel_programs: cannot get the host name: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        [cmd, pid, secs] if cmd.as_bytes() == b"waitpid" => {
            let num = |s: &OsStr| std::str::from_utf8(s.as_bytes()).ok().and_then(|s| s.parse::<u64>().ok());
            match (num(pid).and_then(|p| i32::try_from(p).ok()), num(secs)) {
                (Some(pid), Some(secs)) if waitpid::wait(pid, Duration::from_secs(secs)) => ExitCode::SUCCESS,
                (Some(_), Some(_)) => ExitCode::FAILURE,
                _ => {
                    eprint!("{USAGE}");
                    ExitCode::from(EXIT_USAGE)
                }
            }
        }
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
