// SPDX-License-Identifier: Apache-2.0
//! heart, run_erl and to_erl as one executable, chosen by the name it is run under
//! (`argv[0]`'s last component), as busybox does; and the start script's helpers.
//!
//! Each program alone would carry its own copy of what they share from Rust's standard
//! library (formatting, I/O, allocation); one executable carries it once, so a release
//! ships one file and three links to it instead of three copies.
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
//!
//! It starts without Rust's runtime start-up (`no_main`): that start-up probes the main
//! thread's stack through glibc, which parses `/proc/self/maps` with stdio and scanf, and
//! the code it touches stays resident: some 550 kB of an idle heart's RSS, measured on a
//! plain std program (`bench/floor`) built both ways. What the programs relied on from it
//! is done here: standard descriptors 0-2 opened on `/dev/null` if closed (run_erl opens
//! its log before it detaches), SIGPIPE ignored, and standard output flushed at exit.
//! What is not: the stack-overflow message (an overflow is a plain SIGSEGV) and the main
//! thread's name in panic messages. Without the unwinder library too (`no_unwinder`),
//! heart on a real node is smaller than OTP's (`bench/heart.escript`), and the
//! executable shed the backtrace printer (454 → 225 KB).

// glibc hands `argv` to std before `main` (through `.init_array`), which `no_main` needs;
// elsewhere (musl) std learns it only in the runtime start-up this skips.
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

// Only where nothing unwinds (the `programs` profile; the test builds unwind), and where
// the unwinder is libgcc_s's.
#[cfg(all(panic = "abort", target_os = "linux", target_env = "gnu"))]
mod no_unwinder;

use fastrel_programs::{nodename, render, vmargs, waitpid};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// A program's `main`.
type Main = fn() -> u8;

/// The programs, by the name each is run as.
const PROGRAMS: [(&str, Main); 3] = [("heart", heart::main), ("run_erl", run_erl::main), ("to_erl", to_erl::main)];

const USAGE: &str = "usage: fastrel_programs vmargs FILE ROOT | render SRC DST | nodename NAME_TYPE NAME \
                     | waitpid PID SECONDS\n\
                     (or run as heart, run_erl or to_erl through a link of that name)\n";

/// Bad arguments (the start script always passes good ones).
const EXIT_USAGE: u8 = 2;

/// The C entry point, in place of Rust's runtime start-up (see the top).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[no_mangle]
pub extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use nix::libc;
    // A closed 0, 1 or 2 would be the next file opened, and writes meant for the console
    // would land in it (run_erl opens its log before it detaches onto /dev/null).
    for fd in 0..=2 {
        // SAFETY: F_GETFD only reads; /dev/null takes the lowest free descriptor, this one.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) == -1 {
                libc::abort();
            }
        }
    }
    // The runtime ignores SIGPIPE so that writes to a closed pipe fail with EPIPE; the
    // programs are written for that. The commands heart and run_erl start still get SIGPIPE
    // as this process found it (fastrel_console::sigpipe).
    // SAFETY: SIG_IGN installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = dispatch();
    // Unwritten output is lost unless flushed: C's exit() does not know Rust's buffer.
    let _ = std::io::stdout().flush();
    std::ffi::c_int::from(code)
}

/// Rust's runtime start-up, where `no_main` cannot be had.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(dispatch())
}

/// Exit statuses: each program's own, or the helpers'.
fn dispatch() -> u8 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // The last component of argv[0], by bytes: std's path parsing would be the only user of
    // two more 64 KB stretches of code, each faulted in whole (the kernel's fault-around).
    let name = argv.first().and_then(|a| a.as_bytes().rsplit(|b| *b == b'/').next()).unwrap_or_default();
    if let Some((_, program)) = PROGRAMS.iter().find(|(n, _)| n.as_bytes() == name) {
        return program();
    }
    let args: Vec<&OsStr> = argv.iter().skip(1).map(OsString::as_os_str).collect();
    match args.as_slice() {
        [cmd, file, root] if cmd.as_bytes() == b"vmargs" => {
            let node = vmargs::scan(&vmargs::expand(Path::new(file), Path::new(root)));
            match std::io::stdout().write_all(&vmargs::assignments(&node)) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
        [cmd, src, dst] if cmd.as_bytes() == b"render" => match render::render_file(Path::new(src), Path::new(dst)) {
            Ok(()) => 0,
            // Quietly: the start script then renders into the runtime directory instead.
            Err(_) => 1,
        },
        [cmd, name_type, name] if cmd.as_bytes() == b"nodename" => {
            match nodename::full_name(name_type.as_bytes() == b"-name", name.as_bytes(), nodename::host) {
                Ok(node) => match std::io::stdout().write_all(&[&node[..], b"\n"].concat()) {
                    Ok(()) => 0,
                    Err(_) => 1,
                },
                Err(e) => {
                    eprintln!("fastrel_programs: cannot get the host name: {e}");
                    1
                }
            }
        }
        [cmd, pid, secs] if cmd.as_bytes() == b"waitpid" => {
            let num = |s: &OsStr| std::str::from_utf8(s.as_bytes()).ok().and_then(|s| s.parse::<u64>().ok());
            match (num(pid).and_then(|p| i32::try_from(p).ok()), num(secs)) {
                (Some(pid), Some(secs)) if waitpid::wait(pid, Duration::from_secs(secs)) => 0,
                (Some(_), Some(_)) => 1,
                _ => {
                    eprint!("{USAGE}");
                    EXIT_USAGE
                }
            }
        }
        _ => {
            eprint!("{USAGE}");
            EXIT_USAGE
        }
    }
}
