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
mod wire;

use reboot::Reason;
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
    let mut stdout = std::io::stdout();
    wire::write_frame(&mut stdout, op::ACK, &[]);
    let mut state = State { command: Vec::new(), last_beat: Instant::now(), notifier: notify::Notifier::from_env() };
    let reason = match run(&args, &mut state, &prog) {
        Ok(()) => return ExitCode::SUCCESS, // SHUT_DOWN: exit quietly, kill nothing.
        Err(reason) => reason,
    };
    let command = if state.command.is_empty() { std::env::var("HEART_COMMAND").ok() } else { Some(String::from_utf8_lossy(&state.command).into_owned()) };
    ExitCode::from(reboot::reboot(&prog, reason, args.pid, command))
}

struct State {
    /// The command set with `heart:set_cmd/1`; empty means `HEART_COMMAND`.
    command: Vec<u8>,
    last_beat: Instant,
    /// systemd and watchdog-device keep-alives, petted on each heartbeat.
    notifier: notify::Notifier,
}

/// The main loop: `Ok` on SHUT_DOWN, `Err(reason)` when the VM must be rebooted.
fn run(args: &args::Args, state: &mut State, prog: &str) -> Result<(), Reason> {
    let timeout = Duration::from_secs(args.timeout_secs);
    // Unbuffered: poll() must see every byte not yet handled, so nothing may sit in a
    // userspace buffer between frames.
    // SAFETY: fd 0 stays open for the life of the process; ManuallyDrop never closes it.
    let mut stdin = std::mem::ManuallyDrop::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(0) });
    let stdin = &mut *stdin;
    let mut stdout = std::io::stdout();
    loop {
        let left = (state.last_beat + timeout).saturating_duration_since(Instant::now());
        if left.is_zero() {
            let secs = state.last_beat.elapsed().as_secs();
            log::say(prog, &format!("heart-beat time-out, no activity for {secs} seconds"));
            return Err(Reason::Timeout);
        }
        if !readable(&*stdin, left) {
            continue;
        }
        let frame = match wire::read_frame(stdin) {
            Ok(Some(f)) => f,
            Ok(None) => {
                log::say(prog, "Erlang has closed.");
                return Err(Reason::Closed);
            }
            Err(_) => {
                log::say(prog, "error in read_message.");
                return Err(Reason::Error);
            }
        };
        if frame.is_empty() || frame.len() > wire::MAX_FRAME {
            continue;
        }
        let payload = &frame[1..];
        match frame[0] {
            op::BEAT => {
                state.last_beat = Instant::now();
                state.notifier.beat();
            }
            op::SHUT_DOWN => {
                state.notifier.stopping();
                return Ok(());
            }
            op::SET_CMD => {
                // Like OTP's, the command ends at an embedded NUL.
                state.command = payload.split(|b| *b == 0).next().unwrap_or(&[]).to_vec();
                wire::write_frame(&mut stdout, op::ACK, &[]);
            }
            op::CLEAR_CMD => {
                state.command.clear();
                wire::write_frame(&mut stdout, op::ACK, &[]);
            }
            op::GET_CMD => {
                // OTP sends nothing for a command of 2048 bytes or more, leaving heart:get_cmd/0
                // blocked; every length fits a {packet,2} reply, so always answer.
                let env = std::env::var("HEART_COMMAND").unwrap_or_default();
                let cmd = if state.command.is_empty() { env.as_bytes() } else { &state.command };
                let cmd = cmd.split(|b| *b == 0).next().unwrap_or(&[]);
                wire::write_frame(&mut stdout, op::HEART_CMD, cmd);
            }
            op::PREPARING_CRASH => {
                log::say(prog, "Erlang is crashing .. (waiting for crash dump file)");
                wait_for_dump(prog, &*stdin);
                return Err(Reason::Crashing);
            }
            _ => {}
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
