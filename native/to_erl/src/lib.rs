// SPDX-License-Identifier: Apache-2.0
//! to_erl: a drop-in for OTP's to_erl. Attaches the terminal to a node started by run_erl
//! through its FIFOs. Beyond OTP's: a pipe directory's stale pipes (no run_erl behind
//! them) are skipped, XOFF (^S) is never passed to the node's pty (it froze the node), and
//! `--follow` / `--list` watch consoles and pipes without attaching.

mod follow;
mod peer;
mod session;

use fastrel_console::{has_reader, pipe_base, pipe_numbers, suffixed, writer};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const USAGE: &str = "Usage: to_erl [-h|-F] [pipe_name|pipe_dir/]\n\
\t-h\tThis help text.\n\
\t-F\tForce connection even though pipe is locked by other to_erl process.\n\
\t--follow [log_dir/]\tStream a run_erl console log read-only (any number at once).\n\
\t--list [pipe_dir/]\tList the pipes in a directory and whether a run_erl serves each.\n";

/// The program, as `to_erl` runs it: arguments and environment from the process, the exit
/// status returned.
pub fn main() -> u8 {
    // Bytes, as OTP's to_erl takes them: a pipe directory need not be UTF-8.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let mut rest = argv.get(1..).unwrap_or_default();
    let mut force = false;
    let mut mode = "attach";
    if let Some((opt, after)) = rest.split_first().filter(|(a, _)| a.as_bytes().starts_with(b"-")) {
        match opt.as_bytes() {
            b"--follow" => mode = "follow",
            b"--list" => mode = "list",
            // OTP looks at the second character only (`-Fxyz` is -F).
            bytes => match bytes.get(1) {
                Some(b'h') => {
                    eprint!("{USAGE}");
                    return 1;
                }
                Some(b'F') => force = true,
                _ => {
                    say([&b"Invalid option '"[..], bytes, b"'\n"].concat());
                    return 1;
                }
            },
        }
        rest = after;
    }
    let target = rest.first().map_or(OsStr::new("/tmp/"), OsString::as_os_str);
    let code = match mode {
        "follow" => follow::run(Path::new(target)),
        "list" => list(target),
        _ => match pick_pipe(target) {
            Ok((base, probe)) => session::attach(&base, force, probe),
            Err(text) => {
                say(text);
                1
            }
        },
    };
    code
}

/// The pipe to attach to. In a directory, OTP's to_erl takes the highest number even when
/// its run_erl is dead; this takes the highest one a run_erl still reads, and says which
/// ones it passed over.
fn pick_pipe(target: &OsStr) -> Result<(OsString, Option<std::os::fd::OwnedFd>), Vec<u8>> {
    if !target.as_bytes().ends_with(b"/") {
        return Ok((target.to_os_string(), None));
    }
    let numbers = pipe_numbers(target).map_err(|e| {
        [&b"Can't access pipe directory "[..], target.as_bytes(), b": ", strerror(&e).as_bytes(), b"\n"].concat()
    })?;
    let highest = numbers.last().copied().unwrap_or(0).max(0);
    let mut stale: Vec<OsString> = Vec::new();
    for &n in numbers.iter().rev().filter(|n| **n > 0) {
        let base = pipe_base(target, n);
        // The probe's descriptor becomes the session's: see fastrel_console::writer.
        if let Some(fd) = writer(suffixed(&base, ".w")) {
            for s in stale {
                say([&b"to_erl: skipping stale pipe "[..], s.as_bytes(), b" (no run_erl reads it)\n"].concat());
            }
            return Ok((base, Some(fd)));
        }
        stale.push(base);
    }
    Ok((pipe_base(target, highest), None))
}

/// `--list`: every pipe in the directory and whether a run_erl serves it.
fn list(target: &OsStr) -> u8 {
    let dir =
        if target.as_bytes().ends_with(b"/") { target.to_os_string() } else { suffixed(target, "/").into_os_string() };
    match pipe_numbers(&dir) {
        Ok(numbers) => {
            let mut out = std::io::stdout().lock();
            for n in numbers.into_iter().filter(|n| *n > 0) {
                let base = pipe_base(&dir, n);
                let state = if has_reader(suffixed(&base, ".w")) { "live" } else { "stale" };
                let _ = out.write_all(&[base.as_bytes(), b"\t", state.as_bytes(), b"\n"].concat());
            }
            0
        }
        Err(e) => {
            say([&b"Can't access pipe directory "[..], dir.as_bytes(), b": ", strerror(&e).as_bytes(), b"\n"].concat());
            1
        }
    }
}

/// Writes to stderr as it is: paths in messages keep their bytes, as OTP's printf gives them.
fn say(bytes: impl AsRef<[u8]>) {
    let _ = std::io::stderr().write_all(bytes.as_ref());
}

pub fn strerror(e: &std::io::Error) -> String {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)).desc().to_string()
}
