// SPDX-License-Identifier: Apache-2.0
//! One attach: the handshake with run_erl, the terminal in raw mode, and the loop that
//! copies keystrokes to `.w` and the console from `.r` — OTP 25's protocol and messages.

use fastrel_console::BANNER;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::stat::Mode;
use nix::sys::termios::{self, InputFlags, LocalFlags, OutputFlags, SetArg, SpecialCharacterIndices as CC};
use nix::unistd::{read, write};
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

const XOFF: u8 = 0x13;

fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// Writes to stderr as it is: a pipe's name keeps its bytes, as OTP's printf gives them.
fn say(text: impl AsRef<[u8]>) {
    let _ = std::io::stderr().write_all(text.as_ref());
}

fn no_erlang(base: &[u8], e: Errno) {
    say([&b"No running Erlang on pipe "[..], base, b": ", e.desc().as_bytes(), b"\n"].concat());
}

/// Attaches to the run_erl at `base` (writing to `probe`, the `.w` descriptor the pipe
/// choice already opened, if any). Returns the exit status: 1 if the attach fails,
/// 0 once attached, however the session ends (as OTP's).
pub fn attach(base: &OsStr, force: bool, probe: Option<OwnedFd>) -> u8 {
    let r = fastrel_console::suffixed(base, ".r");
    let w = fastrel_console::suffixed(base, ".w");
    let base = base.as_bytes();
    if fastrel_console::has_reader(&r) {
        say([&b"Another to_erl process already attached to pipe "[..], base, b".\n"].concat());
        if !force {
            return 1;
        }
        say("But we proceed anyway by force (-F).\n");
    }
    let open_fifo = |path: &std::path::Path, flags: OFlag| {
        open(path, flags | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| no_erlang(base, e))
    };
    let Ok(rfd) = open_fifo(r.as_path(), OFlag::O_RDONLY) else {
        return 1;
    };
    // A run_erl that has just seen a writer come and go (our own liveness probe, say)
    // reopens its end of `.w'; OTP's leaves a moment with no reader. Retry briefly.
    let mut tries = 0;
    let wfd = if let Some(fd) = probe {
        fd
    } else {
        loop {
            match open(w.as_path(), OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty()) {
                Ok(fd) => break fd,
                Err(Errno::ENXIO) if tries < 25 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => {
                    no_erlang(base, e);
                    return 1;
                }
            }
        }
    };
    say([&b"Attaching to "[..], base, b" (^D to exit)\n\n"].concat());
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGWINCH);
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None);
    let Ok(signals) = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC) else {
        return 1;
    };
    let saved = termios::tcgetattr(stdin()).ok();
    if let Some(t) = &saved {
        let _ = termios::tcsetattr(stdin(), SetArg::TCSADRAIN, &raw(t));
    }
    if write(&wfd, crate::peer::handshake_for(&w)).is_err() {
        say("Error in writing ^L to FIFO.\n");
    }
    Session { rfd, wfd, signals, protocol: None }.run();
    if let Some(t) = &saved {
        let _ = termios::tcsetattr(stdin(), SetArg::TCSADRAIN, t);
    }
    0
}

/// OTP 25's raw mode: no input translation or flow control, tabs expanded, no ONLCR (so
/// to_erl's own messages end in `\n\r`), no signals or echo, reads return at once.
fn raw(t: &termios::Termios) -> termios::Termios {
    let mut t = t.clone();
    t.input_flags = InputFlags::BRKINT | InputFlags::IGNPAR;
    t.output_flags = OutputFlags::OPOST | OutputFlags::TAB3;
    t.local_flags = LocalFlags::empty();
    t.control_chars[CC::VMIN as usize] = 0;
    t.control_chars[CC::VTIME as usize] = 0;
    t.control_chars[CC::VINTR as usize] = 3;
    t
}

struct Session {
    rfd: OwnedFd,
    wfd: OwnedFd,
    signals: SignalFd,
    /// Set by the first output from run_erl: the level both sides speak.
    protocol: Option<u32>,
}

impl Session {
    fn run(&mut self) {
        let mut buf = [0u8; 8192];
        loop {
            let mut fds = [
                PollFd::new(stdin(), PollFlags::POLLIN),
                PollFd::new(self.rfd.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return say("Error in select.\n"),
            }
            let ready = |i: usize| fds[i].revents().is_some_and(|r| !r.is_empty());
            let (keys, console, sig) = (ready(0), ready(1), ready(2));
            if sig && !self.signal() {
                return;
            }
            if keys {
                match read(stdin(), &mut buf) {
                    Ok(0) => return say("[EOF]\n\r"),
                    Ok(n) if buf[..n].contains(&4) => return say("[Quit]\n\r"),
                    Ok(n) => {
                        let keys: Vec<u8> = buf[..n].iter().copied().filter(|&b| b != XOFF).collect();
                        if !keys.is_empty() && !self.send(&keys) {
                            return say("Error in writing to FIFO.\n");
                        }
                    }
                    Err(Errno::EAGAIN | Errno::EINTR) => {}
                    Err(_) => return say("Error in reading from stdin.\n"),
                }
            }
            if console {
                match read(&self.rfd, &mut buf) {
                    Ok(0) => return say("[End]\n\r"),
                    Ok(n) => {
                        if !self.output(&buf[..n]) {
                            return;
                        }
                    }
                    Err(Errno::EAGAIN | Errno::EINTR) => {}
                    Err(_) => return say("Error in reading from FIFO.\n"),
                }
            }
        }
    }

    /// Handles pending signals; false to leave the session.
    fn signal(&mut self) -> bool {
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGINT) => {
                    say("[Break]\n\r");
                    if !self.send(&[3]) {
                        say("Error in writing to FIFO.\n");
                        return false;
                    }
                }
                Ok(Signal::SIGWINCH) if self.protocol.unwrap_or(0) >= 1 => self.send_winsize(),
                _ => {}
            }
        }
        true
    }

    /// Writes all of `data` to `.w`, waiting (boundedly) while the FIFO is full.
    fn send(&self, mut data: &[u8]) -> bool {
        while !data.is_empty() {
            match write(&self.wfd, data) {
                Ok(n) => data = &data[n..],
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    let mut fds = [PollFd::new(self.wfd.as_fd(), PollFlags::POLLOUT)];
                    if !matches!(poll(&mut fds, PollTimeout::from(10_000u16)), Ok(n) if n > 0) {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        true
    }

    /// The size of our terminal, if stdin is one (nothing is sent otherwise, so the
    /// node keeps its 80x24 default).
    fn send_winsize(&self) {
        let mut ws: nix::libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ writes one winsize.
        if unsafe { nix::libc::ioctl(0, nix::libc::TIOCGWINSZ, &mut ws) } == 0 {
            self.send(format!("\x1b_winsize={},{}\x1b\\", ws.ws_col, ws.ws_row).as_bytes());
        }
    }

    /// Console output; the first chunk carries run_erl's banner. False to leave.
    fn output(&mut self, data: &[u8]) -> bool {
        let mut data = data;
        if self.protocol.is_none() {
            let (hi, lo, rest) = banner(data).unwrap_or((0, 0, data));
            if lo > 1 || hi < 0 {
                say(format!("Incompatible versions: to_erl=v1-0 run_erl=v{hi}-{lo}\n"));
                return false;
            }
            let level = hi.clamp(0, 1) as u32;
            if rest.len() != data.len() && !self.send(format!("\x1b_version={level}\x1b\\").as_bytes()) {
                say("Failed to send version handshake\n");
                return false;
            }
            if hi != 1 {
                say(format!("run_erl has different version, using common protocol level {level}\n"));
            }
            self.protocol = Some(level);
            data = rest;
            if level >= 1 {
                self.send_winsize();
            }
        }
        let mut out = std::io::stdout().lock();
        if out.write_all(data).and_then(|_| out.flush()).is_err() {
            say("Error in writing to terminal.\n");
            return false;
        }
        true
    }
}

/// `[run_erl v<hi>-<lo>]\n` at the start of the first chunk: the version and the rest.
fn banner(data: &[u8]) -> Option<(i64, i64, &[u8])> {
    let end = data.windows(2).position(|w| w == b"]\n")?;
    let head = std::str::from_utf8(data.strip_prefix(&BANNER[..10])?.get(..end - 10)?).ok()?;
    let (hi, lo) = head.split_once('-')?;
    Some((hi.trim().parse().ok()?, fastrel_console::atoi(lo), &data[end + 2..]))
}

#[cfg(test)]
mod tests {
    use super::banner;

    #[test]
    fn banner_is_read_and_removed() {
        assert_eq!(banner(b"[run_erl v1-0]\nprompt> "), Some((1, 0, &b"prompt> "[..])));
        assert_eq!(banner(b"[run_erl v2-3]\n"), Some((2, 3, &b""[..])));
        assert_eq!(banner(b"hello]\n"), None);
    }
}
