// SPDX-License-Identifier: Apache-2.0
//! run_erl: a drop-in for OTP's run_erl. Runs a command (normally `exec erl ...`) on a pty,
//! logs its console to rotating `erlang.log.N` files and lets `to_erl` attach through the
//! FIFOs `erlang.pipe.N.r/.w`. Differences from OTP's are fixes: `-daemon` reports start-up
//! failures and exits non-zero, a child's exit is never missed, FIFOs are removed on every
//! way out, and the log is made durable per burst instead of per write (`RUN_ERL_SYNC`).

mod args;
mod child;
mod config;
mod ctrl;
mod daemon;
mod fifo;
mod log;
mod relay;
mod report;

use nix::sys::signal::{raise, signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use relay::{End, Relay};
use report::Fatal;
use std::ffi::{OsStr, OsString};
use std::os::fd::AsRawFd;

/// The program, as `run_erl` runs it: arguments and environment from the process, the exit
/// status returned.
pub fn main() -> u8 {
    // Kept in the binary for to_erl to find (see fastrel_console::RUN_ERL_MARKER).
    std::hint::black_box(fastrel_console::RUN_ERL_MARKER);
    // Bytes, as OTP's run_erl takes them: a directory need not be UTF-8.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let (prog, rest) = argv.split_first().map_or((OsStr::new("run_erl"), &[][..]), |(p, r)| (p.as_os_str(), r));
    let Some(args) = args::parse(rest) else {
        eprint!("{}", args::USAGE);
        return 1;
    };
    match run(prog, args) {
        Ok(code) => code,
        Err(f) => {
            report::fatal(&f);
            1
        }
    }
}

fn run(prog: &OsStr, args: args::Args) -> Result<u8, Fatal> {
    report::set_status_file(&args.log_dir);
    let mut warnings = Vec::new();
    let cfg = config::from_env(|k| std::env::var_os(k), &mut warnings).map_err(|t| Fatal::new(250, t))?;
    warnings.iter().for_each(|w| report::error(&Fatal::new(240, w.clone())));
    if args.daemon && args.command.is_empty() {
        return Err(Fatal::new(230, "No command given to run (run_erl -daemon pipe_dir/ log_dir \"command\")."));
    }
    // Everything that can fail is set up before detaching, so -daemon can still say so.
    let fifos = fifo::Fifos::create(&args.pipe)?;
    let ready = (|| {
        let log = log::Log::open(&args.log_dir, &cfg)?;
        let pty = child::open_pty()?;
        Ok::<_, Fatal>((log, pty))
    })();
    let (log, pty) = ready.inspect_err(|_| fifos.unlink())?;
    let command = child::Command::new(&args.command);
    let reply = if args.daemon {
        let fd = daemon::detach(&[pty.master.as_raw_fd(), log.raw_fd()]).inspect_err(|_| fifos.unlink())?;
        report::detach(prog);
        report::set_reply(fd.as_raw_fd());
        Some(fd)
    } else {
        None
    };
    // The signals run_erl answers are blocked before the fork: a SIGTERM that came once
    // the command runs but before the signalfd existed killed run_erl with its FIFOs left
    // behind. The child gets the caller's mask back before it execs.
    let mut mask = SigSet::empty();
    [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT].iter().for_each(|s| mask.add(*s));
    if !args.daemon {
        mask.add(Signal::SIGHUP);
    }
    let mut caller_mask = SigSet::empty();
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut caller_mask));
    let pid = child::spawn(&pty, &command, cfg.disable_flowcntrl, args.sleepy, &caller_mask)
        .inspect_err(|_| fifos.unlink())?;
    // The shell is running (or has reported that it could not run): the caller may go.
    std::mem::forget(reply);
    report::end_reply();

    // SAFETY: ignoring SIGPIPE installs no handler; a gone to_erl shows up as EPIPE.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigIgn);
    }
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Fatal::errno(600, "Cannot watch signals", e))?;
    let mut relay = Relay::new(pty, fifos, log, pid, signals, cfg.alive, cfg.activity)?;
    let end = relay.run();
    if matches!(end, End::Signal(_) | End::Abandoned) {
        relay.drain_rest();
        relay.finish_client(std::time::Duration::from_millis(200));
    }
    relay.log.sync();
    relay.fifos.unlink();
    match end {
        End::Eof => Ok(0),
        End::Closed => {
            report::error(&Fatal::new(645, "Erlang closed the connection."));
            Ok(1)
        }
        End::Abandoned => {
            // Only in run_erl.log: OTP's run_erl says nothing on stderr here, and callers
            // (OTP's run_erl_SUITE among them) read that as a failure.
            report::status("The command exited but a process it started still holds the terminal; leaving it.\n");
            Ok(1)
        }
        End::Signal(sig) => {
            // Die of the same signal, as OTP's run_erl would have, now that the log is
            // complete and the FIFOs are gone.
            drop(relay);
            // SAFETY: restoring the default action installs no handler.
            unsafe {
                let _ = signal(sig, SigHandler::SigDfl);
            }
            let mut one = SigSet::empty();
            one.add(sig);
            let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&one), None);
            let _ = raise(sig);
            Ok(128 + sig as u8)
        }
        End::Fatal(f) => Err(f),
    }
}
