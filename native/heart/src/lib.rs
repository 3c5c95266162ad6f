// SPDX-License-Identifier: Apache-2.0
//! heart: a drop-in for OTP's heart port program (`erl -heart`).
//!
//! The VM starts it as `heart -pid <ospid> [-ht <secs>]` with `{packet,2}` pipes on
//! stdin/stdout, beats every few seconds, and sets the reboot command. When beats stop,
//! the pipe closes or the VM announces a crash, heart makes sure the VM is dead and runs
//! the command. Unlike OTP's, the timeout is kept on a monotonic clock with millisecond
//! precision instead of a 5-second polling grid, and the VM's death is observed, not
//! waited out. The deadline also runs while a frame is half-received (OTP's heart blocks
//! in read() there, so a VM hung mid-frame is never rebooted), and heart refuses to take
//! its own pid or its parent's as the VM's.

mod args;
mod budget;
mod log;
mod notify;
mod reboot;
mod session;
mod wire;

use reboot::Reason;
use session::{Action, Event, Session};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::{Duration, Instant};
use wire::{op, Progress};

/// The program, as `heart` runs it: arguments and environment from the process, the exit
/// status returned.
pub fn main() -> u8 {
    // Bytes, as OTP's heart takes them: a non-UTF-8 argument or command is not an error.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let (prog, rest) = argv.split_first().map_or((OsStr::new("heart"), &[][..]), |(p, r)| (p.as_os_str(), r));
    if std::env::var_os("HEART_DEBUG").is_some() {
        log::raw("heart: debug is ON!\r\n");
    }
    // Killing itself or its parent would leave nobody to run the command.
    let never_kill = [std::process::id() as i32, nix::unistd::getppid().as_raw()];
    let (args, notes) = args::parse(rest, &never_kill);
    notes.iter().for_each(|n| log::raw(n));
    let mut session = Session::new(std::env::var_os("HEART_COMMAND").map(OsString::into_vec));
    match event_loop(&args, &mut session, prog) {
        None => 0, // SHUT_DOWN: exit quietly, kill nothing.
        Some(reason) => reboot::reboot(prog, reason, args.pid, session.command()),
    }
}

/// Waits for frames and the heartbeat deadline, hands each event to the session and
/// carries out its actions. Returns the reason to reboot, or `None` on SHUT_DOWN.
fn event_loop(args: &args::Args, session: &mut Session, prog: &OsStr) -> Option<Reason> {
    let timeout = Duration::from_secs(args.timeout_secs);
    // Unbuffered: poll() must see every byte not yet handled, so nothing may sit in a
    // userspace buffer between frames.
    // SAFETY: fd 0 stays open for the life of the process; ManuallyDrop never closes it.
    let mut stdin = std::mem::ManuallyDrop::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(0) });
    let stdin = &mut *stdin;
    let mut stdout = std::io::stdout();
    let mut notifier = notify::Notifier::from_env();
    let mut frames = wire::FrameReader::default();
    let mut last_beat = Instant::now();
    wire::write_frame(&mut stdout, op::ACK, &[]);
    loop {
        let left = (last_beat + timeout).saturating_duration_since(Instant::now());
        let event = if left.is_zero() {
            Event::Deadline(last_beat.elapsed().as_secs())
        } else if !readable(&*stdin, left) {
            continue;
        } else {
            // One read per wake-up, so a frame that stops half-way still meets the
            // deadline: a partial frame is not a beat.
            match frames.step(stdin) {
                Ok(Progress::Frame(frame)) => Event::Frame(frame),
                Ok(Progress::Partial) => continue,
                Ok(Progress::Eof) => Event::Eof,
                Err(_) => Event::ReadError,
            }
        };
        for action in session.step(event) {
            match action {
                Action::Reply(opcode, payload) => wire::write_frame(&mut stdout, opcode, &payload),
                Action::Log(text) => log::say(prog, text),
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
/// or until it closes the pipe. Read as C's `atoi` into an `int`, as OTP's heart does, so
/// an absurd value is a long wait, not an overflow.
fn wait_for_dump(prog: &OsStr, stdin: &(impl AsFd + Read)) {
    let Some(value) = std::env::var_os("ERL_CRASH_DUMP_SECONDS") else {
        return;
    };
    let secs = args::atoi_int(value.as_bytes());
    log::say(prog, format!("Waiting for dump - timeout set to {secs} seconds."));
    if secs == 0 {
        return;
    }
    let deadline = u64::try_from(secs).ok().and_then(|s| Instant::now().checked_add(Duration::from_secs(s)));
    loop {
        let left = deadline.map_or(Duration::from_secs(60), |d| d.saturating_duration_since(Instant::now()));
        if left.is_zero() || readable(stdin, left) {
            return;
        }
    }
}
