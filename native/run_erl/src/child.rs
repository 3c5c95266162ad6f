// SPDX-License-Identifier: Apache-2.0
//! The command's side: a fresh pty whose slave becomes the controlling terminal of
//! `/bin/sh -c <command> [extra...]` in its own session, as OTP's run_erl sets it up.

use crate::report::{self, Fatal};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::termios::{tcgetattr, tcsetattr, InputFlags, SetArg};
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, execv, fork, setsid, ForkResult, Pid};
use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// The master side of the command's terminal, non-blocking.
pub struct Pty {
    pub master: PtyMaster,
    slave: String,
}

/// Opens a pty pair's master (window size 0x0, kernel default modes).
pub fn open_pty() -> Result<Pty, Fatal> {
    let fail = |e| Fatal::errno(1020, "Could not open pty master", e);
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).map_err(fail)?;
    grantpt(&master).map_err(fail)?;
    unlockpt(&master).map_err(fail)?;
    let slave = ptsname_r(&master).map_err(fail)?;
    fcntl(&master, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(fail)?;
    Ok(Pty { master, slave })
}

/// What the child needs, prepared before the fork so the child only makes system calls.
pub struct Command {
    argv: Vec<CString>,
    shown: Vec<OsString>,
}

impl Command {
    /// `sh -c <command> [extra...]`; extra words become `$0`, `$1`... as with OTP's. The
    /// words are bytes, passed on as they are.
    pub fn new(words: &[OsString]) -> Command {
        let mut shown = vec![OsString::from("sh"), OsString::from("-c")];
        shown.extend(words.iter().cloned());
        // argv strings cannot hold a NUL; dropping one is what C's strcpy would see.
        let argv = shown
            .iter()
            .map(|s| {
                CString::new(s.as_bytes().iter().copied().filter(|b| *b != 0).collect::<Vec<u8>>()).unwrap_or_default()
            })
            .collect();
        Command { argv, shown }
    }
}

/// Starts the command on the pty's slave. `sleepy` is OTP's `-sleepy-child` (the child
/// waits a second first, to test start-up races). If the shell cannot be run, the error
/// also reaches a `-daemon` caller still waiting (report's reply pipe, closed by exec).
pub fn spawn(
    pty: &Pty,
    cmd: &Command,
    disable_flowcntrl: bool,
    sleepy: bool,
    caller_mask: &nix::sys::signal::SigSet,
) -> Result<Pid, Fatal> {
    // SAFETY: run_erl is single-threaded here; the child calls only what is async-signal
    // safe in practice for a single-threaded process and then execs or exits.
    match unsafe { fork() } {
        Err(e) => Err(Fatal::errno(1050, "Cannot fork", e)),
        Ok(ForkResult::Parent { child }) => Ok(child),
        Ok(ForkResult::Child) => {
            let _ = nix::sys::signal::sigprocmask(nix::sys::signal::SigmaskHow::SIG_SETMASK, Some(caller_mask), None);
            fastrel_console::sigpipe::restore();
            let code = child(pty, cmd, disable_flowcntrl, sleepy);
            // SAFETY: leave without running the parent's atexit handlers or destructors.
            unsafe { nix::libc::_exit(code) }
        }
    }
}

fn child(pty: &Pty, cmd: &Command, disable_flowcntrl: bool, sleepy: bool) -> i32 {
    if sleepy {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    // SAFETY: the master's fd is ours to close in the child; nothing uses it after this.
    unsafe { nix::libc::close(pty.master.as_raw_fd()) };
    let _ = setsid();
    // Without O_NOCTTY, opening the slave in a new session makes it the controlling tty.
    let slave: OwnedFd = match nix::fcntl::open(pty.slave.as_str(), OFlag::O_RDWR, nix::sys::stat::Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            report::fatal(&Fatal::errno(1075, format!("Could not open pty slave '{}'", pty.slave), e));
            return 1;
        }
    };
    if disable_flowcntrl {
        if let Err(text) = no_flow_control(slave.as_fd()) {
            report::error(&Fatal::new(1090, text));
            return 255;
        }
    }
    if dup2_stdin(&slave).and(dup2_stdout(&slave)).and(dup2_stderr(&slave)).is_err() {
        report::status("Cannot dup\n");
    }
    if slave.as_raw_fd() > 2 {
        drop(slave);
    } else {
        std::mem::forget(slave); // it is now one of stdin/stdout/stderr
    }
    report::exec_trace(&cmd.shown);
    let e = execv(c"/bin/sh", &cmd.argv).unwrap_err();
    report::error(&Fatal::errno(1110, "Could not execv", e));
    0
}

/// RUN_ERL_DISABLE_FLOWCNTRL: IXOFF, then IXON, off on the slave (two calls, as OTP).
fn no_flow_control(fd: BorrowedFd) -> Result<(), &'static str> {
    let mut t = tcgetattr(fd).map_err(|_| "Cannot get terminal's current mode")?;
    t.input_flags.remove(InputFlags::IXOFF);
    tcsetattr(fd, SetArg::TCSANOW, &t).map_err(|_| "Cannot disable terminal's flow control on input")?;
    t.input_flags.remove(InputFlags::IXON);
    tcsetattr(fd, SetArg::TCSANOW, &t).map_err(|_| "Cannot disable terminal's flow control on output")
}

/// Applies to_erl's window size to the pty.
pub fn set_winsize(pty: &Pty, cols: u16, rows: u16) -> Result<(), nix::errno::Errno> {
    let ws = nix::libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
    let r = unsafe { nix::libc::ioctl(pty.master.as_raw_fd(), nix::libc::TIOCSWINSZ, &ws) };
    nix::errno::Errno::result(r).map(drop)
}
