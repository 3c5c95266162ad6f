//! to_erl: a drop-in for OTP's to_erl. Attaches the terminal to a node started by run_erl
//! through its FIFOs. Beyond OTP's: a pipe directory's stale pipes (no run_erl behind
//! them) are skipped, XOFF (^S) is never passed to the node's pty (it froze the node), and
//! `--follow` / `--list` watch consoles and pipes without attaching.

mod follow;
mod peer;
mod session;

use fastrel_console::{has_reader, pipe_base, pipe_numbers, writer};
use std::process::ExitCode;

const USAGE: &str = "Usage: to_erl [-h|-F] [pipe_name|pipe_dir/]\n\
\t-h\tThis help text.\n\
\t-F\tForce connection even though pipe is locked by other to_erl process.\n\
\t--follow [log_dir/]\tStream a run_erl console log read-only (any number at once).\n\
\t--list [pipe_dir/]\tList the pipes in a directory and whether a run_erl serves each.\n";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let mut rest = &argv[1..];
    let mut force = false;
    let mut mode = "attach";
    if let Some(opt) = rest.first().filter(|a| a.starts_with('-')) {
        match opt.as_str() {
            "--follow" => mode = "follow",
            "--list" => mode = "list",
            // OTP looks at the second character only (`-Fxyz` is -F).
            _ => match opt.as_bytes().get(1) {
                Some(b'h') => {
                    eprint!("{USAGE}");
                    return ExitCode::from(1);
                }
                Some(b'F') => force = true,
                _ => {
                    eprintln!("Invalid option '{opt}'");
                    return ExitCode::from(1);
                }
            },
        }
        rest = &rest[1..];
    }
    let target = rest.first().map(String::as_str).unwrap_or("/tmp/");
    let code = match mode {
        "follow" => follow::run(target),
        "list" => list(target),
        _ => match pick_pipe(target) {
            Ok((base, probe)) => session::attach(&base, force, probe),
            Err(text) => {
                eprint!("{text}");
                1
            }
        },
    };
    ExitCode::from(code)
}

/// The pipe to attach to. In a directory, OTP's to_erl takes the highest number even when
/// its run_erl is dead; this takes the highest one a run_erl still reads, and says which
/// ones it passed over.
fn pick_pipe(target: &str) -> Result<(String, Option<std::os::fd::OwnedFd>), String> {
    if !target.ends_with('/') {
        return Ok((target.to_string(), None));
    }
    let numbers = pipe_numbers(target).map_err(|e| format!("Can't access pipe directory {target}: {}\n", strerror(&e)))?;
    let highest = numbers.last().copied().unwrap_or(0).max(0);
    let mut stale = Vec::new();
    for &n in numbers.iter().rev().filter(|n| **n > 0) {
        let base = pipe_base(target, n);
        // The probe's descriptor becomes the session's: see fastrel_console::writer.
        if let Some(fd) = writer(&format!("{base}.w")) {
            for s in stale {
                eprintln!("to_erl: skipping stale pipe {s} (no run_erl reads it)");
            }
            return Ok((base, Some(fd)));
        }
        stale.push(base);
    }
    Ok((pipe_base(target, highest), None))
}

/// `--list`: every pipe in the directory and whether a run_erl serves it.
fn list(target: &str) -> u8 {
    let dir = if target.ends_with('/') { target.to_string() } else { format!("{target}/") };
    match pipe_numbers(&dir) {
        Ok(numbers) => {
            for n in numbers.into_iter().filter(|n| *n > 0) {
                let base = pipe_base(&dir, n);
                let state = if has_reader(&format!("{base}.w")) { "live" } else { "stale" };
                println!("{base}\t{state}");
            }
            0
        }
        Err(e) => {
            eprintln!("Can't access pipe directory {dir}: {}", strerror(&e));
            1
        }
    }
}

pub fn strerror(e: &std::io::Error) -> String {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)).desc().to_string()
}
