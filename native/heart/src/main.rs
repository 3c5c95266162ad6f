//! heart: a drop-in for OTP's heart port program (`erl -heart`).
//!
//! The VM starts it as `heart -pid <ospid> [-ht <secs>]` with `{packet,2}` pipes on
//! stdin/stdout, beats every few seconds, and sets the reboot command. When beats stop,
//! the pipe closes or the VM announces a crash, heart makes sure the VM is dead and runs
//! the command. Unlike OTP's, the timeout is kept on a monotonic clock with millisecond
//! precision instead of a 5-second polling grid, and the VM's death is observed, not
//! waited out.

mod args;
mod budget;
mod log;
mod notify;
mod reboot;
mod session;
mod wire;

use reboot::Reason;
use session::{Action, Event, Session};
use std::io::Read;
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use wire::op;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let prog = argv.first().cloned().unwrap_or_else(|| "heart".into());
    if std::env::var_os("HEART_DEBUG").is_some() {
        log::raw("heart: debug is ON!\r\n");
    }
    let (args, notes) = args::parse(&argv[1..]);
    notes.iter().for_each(|n| log::raw(n));
    let mut session = Session::new(std::env::var("HEART_COMMAND").ok());
    match event_loop(&args, &mut session, &prog) {
        None => ExitCode::SUCCESS, // SHUT_DOWN: exit quietly, kill nothing.
        Some(reason) => ExitCode::from(reboot::reboot(&prog, reason, args.pid, session.command())),
    }
}

/// Waits for frames and the heartbeat deadline, hands each event to the session and
/// carries out its actions. Returns the reason to reboot, or `None` on SHUT_DOWN.
fn event_loop(args: &args::Args, session: &mut Session, prog: &str) -> Option<Reason> {
    let timeout = Duration::from_secs(args.timeout_secs);
    // Unbuffered: poll() must see every byte not yet handled, so nothing may sit in a
    // userspace buffer between frames.
    // SAFETY: fd 0 stays open for the life of the process; ManuallyDrop never closes it.
    let mut stdin = std::mem::ManuallyDrop::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(0) });
    let stdin = &mut *stdin;
    let mut stdout = std::io::stdout();
    let mut notifier = notify::Notifier::from_env();
    let mut last_beat = Instant::now();
    wire::write_frame(&mut stdout, op::ACK, &[]);
    loop {
        let left = (last_beat + timeout).saturating_duration_since(Instant::now());
        let event = if left.is_zero() {
            Event::Deadline(last_beat.elapsed().as_secs())
        } else if !readable(&*stdin, left) {
            continue;
        } else {
            match wire::read_frame(stdin) {
                Ok(Some(frame)) => Event::Frame(frame),
                Ok(None) => Event::Eof,
                Err(_) => Event::ReadError,
            }
        };
        for action in session.step(event) {
            match action {
                Action::Reply(opcode, payload) => wire::write_frame(&mut stdout, opcode, &payload),
                Action::Log(text) => log::say(prog, &text),
                Action::Beat => {
                    last_beat = Instant::now();
                    notifier.beat();
                }
                Action::WaitForDump => wait_for_dump(prog, &*stdin),
                Action::Stop => {
                    notifier.stopping();
                    return None;
                }
                Action::Reboot(reason) => return Some(reason),
            }
        }
    }
}

/// Whether stdin has data (or end of file) within `limit`.
fn readable(stdin: &impl AsFd, limit: Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    let ms = PollTimeout::try_from(limit.as_millis().clamp(1, 60_000) as i32).unwrap_or(PollTimeout::MAX);
    matches!(poll(&mut fds, ms), Ok(n) if n > 0)
}

/// `ERL_CRASH_DUMP_SECONDS`: give the VM that long (negative: forever) to write its dump,
/// or until it closes the pipe.
fn wait_for_dump(prog: &str, stdin: &(impl AsFd + Read)) {
    let Ok(value) = std::env::var("ERL_CRASH_DUMP_SECONDS") else { return };
    let secs: i64 = value.trim().parse().unwrap_or(0);
    log::say(prog, &format!("Waiting for dump - timeout set to {secs} seconds."));
    if secs < 0 {
        while !readable(stdin, Duration::from_secs(60)) {}
    } else if secs > 0 {
        readable(stdin, Duration::from_secs(secs as u64));
    }
}
