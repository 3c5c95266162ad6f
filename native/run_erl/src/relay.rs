// SPDX-License-Identifier: Apache-2.0
//! The work loop: pty output to the log (and to an attached to_erl), to_erl's input to the
//! pty, stamps on quiet spells, and the child's end. Signals arrive through a signalfd in
//! the same poll, so a child that exits is never missed (OTP's run_erl can sleep through
//! its SIGCHLD until the next 15-minute ALIVE stamp).

use crate::child::{set_winsize, Pty};
use crate::ctrl::{self, Ctrl};
use crate::fifo::Fifos;
use crate::log::Log;
use crate::report::{self, Fatal};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{read, write, Pid};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long run_erl keeps the pty after its child has exited while something the child
/// started still holds it (OTP: `alarm(5)`).
const LINGER: Duration = Duration::from_secs(5);
/// Output read from the pty per wake-up before the log is synced and the FIFOs served.
const DRAIN_MAX: usize = 1 << 20;
/// An attached to_erl that falls this far behind is detached rather than letting the
/// queue grow without bound (OTP's grows until memory runs out).
const CLIENT_QUEUE_MAX: usize = 64 << 20;

/// Why the loop ended.
pub enum End {
    /// The pty reported EIO: every holder of the slave is gone (OTP: exit 1).
    Closed,
    /// The pty read returned 0 (OTP: exit 0).
    Eof,
    /// The child exited but something it started kept the pty for LINGER.
    Abandoned,
    /// run_erl was told to terminate.
    Signal(Signal),
    Fatal(Fatal),
}

pub struct Relay {
    pub pty: Pty,
    pub fifos: Fifos,
    pub log: Log,
    pub child: Pid,
    pub signals: SignalFd,
    pub alive: Duration,
    pub activity: Duration,
    rfd: Option<OwnedFd>,
    wfd: Option<OwnedFd>,
    to_client: Vec<u8>,
    to_pty: Vec<u8>,
    got_some: bool,
    child_exited: Option<Instant>,
    last_activity: Instant,
}

impl Relay {
    pub fn new(
        pty: Pty,
        fifos: Fifos,
        log: Log,
        child: Pid,
        signals: SignalFd,
        alive: Duration,
        activity: Duration,
    ) -> Result<Relay, Fatal> {
        let mut r = Relay {
            pty,
            fifos,
            log,
            child,
            signals,
            alive,
            activity,
            rfd: None,
            wfd: None,
            to_client: Vec::new(),
            to_pty: Vec::new(),
            got_some: false,
            child_exited: None,
            last_activity: Instant::now(),
        };
        r.open_rfd()?;
        Ok(r)
    }

    fn open_rfd(&mut self) -> Result<(), Fatal> {
        let w = self.fifos.w();
        // The new descriptor is opened before the old one is closed: a moment with no
        // reader on `.w' would make a to_erl opening it right then fail with ENXIO.
        let fd = open(w.as_path(), OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Fatal::errno(460, format!("Could not open FIFO '{}' for reading.", w.display()), e))?;
        self.rfd = Some(fd);
        Ok(())
    }

    fn reap(&mut self) {
        if self.child_exited.is_none() {
            if let Ok(s) = waitpid(self.child, Some(WaitPidFlag::WNOHANG)) {
                if !matches!(s, WaitStatus::StillAlive) {
                    self.child_exited = Some(Instant::now());
                }
            }
        }
    }

    pub fn run(&mut self) -> End {
        loop {
            self.reap();
            let now = Instant::now();
            let alive_at = self.last_activity + self.alive;
            let mut deadline = alive_at;
            if let Some(t) = self.log.sync_deadline() {
                deadline = deadline.min(t);
            }
            if let Some(t) = self.child_exited {
                if now >= t + LINGER {
                    return End::Abandoned;
                }
                deadline = deadline.min(t + LINGER);
            }
            let ready = match self.wait(deadline.saturating_duration_since(now)) {
                Ok(r) => r,
                Err(f) => return End::Fatal(f),
            };
            let now = Instant::now();
            if ready.none() {
                if now >= alive_at {
                    if let Err(f) = self.log.stamp(true) {
                        return End::Fatal(f);
                    }
                    self.last_activity = now;
                }
                self.log.drained();
                continue;
            }
            if ready.pty_in || ready.fifo_in {
                if now.duration_since(self.last_activity) > self.activity {
                    if let Err(f) = self.log.stamp(false) {
                        return End::Fatal(f);
                    }
                }
                self.last_activity = now;
            }
            if ready.signal {
                if let Some(sig) = self.take_signal() {
                    return End::Signal(sig);
                }
            }
            if ready.client_out {
                self.flush_client();
            }
            if ready.pty_in {
                if let Some(end) = self.drain_pty() {
                    return end;
                }
            }
            if ready.pty_out {
                if let Err(f) = self.flush_pty() {
                    return End::Fatal(f);
                }
            }
            if ready.fifo_in {
                if let Err(f) = self.client_input() {
                    return End::Fatal(f);
                }
            }
            self.log.drained();
        }
    }

    fn wait(&mut self, limit: Duration) -> Result<Ready, Fatal> {
        let ms = limit.as_micros().div_ceil(1000).min(60_000) as i32;
        let mut pty_events = PollFlags::POLLIN;
        if !self.to_pty.is_empty() {
            pty_events |= PollFlags::POLLOUT;
        }
        let mut fds = vec![
            PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.pty.master.as_fd(), pty_events),
        ];
        if let Some(r) = &self.rfd {
            fds.push(PollFd::new(r.as_fd(), PollFlags::POLLIN));
        }
        let client = match &self.wfd {
            Some(w) if !self.to_client.is_empty() => {
                fds.push(PollFd::new(w.as_fd(), PollFlags::POLLOUT));
                true
            }
            _ => false,
        };
        match poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(Fatal::errno(610, "Error in select.", e)),
        }
        let got = |i: usize, f: PollFlags| fds.get(i).and_then(|p| p.revents()).is_some_and(|r| r.intersects(f));
        let input = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
        let output = PollFlags::POLLOUT | PollFlags::POLLHUP | PollFlags::POLLERR;
        let rfd_at = 2;
        Ok(Ready {
            signal: got(0, PollFlags::POLLIN),
            pty_in: got(1, input),
            pty_out: !self.to_pty.is_empty() && got(1, PollFlags::POLLOUT),
            fifo_in: self.rfd.is_some() && got(rfd_at, input),
            client_out: client && got(fds.len() - 1, output),
        })
    }

    fn take_signal(&mut self) -> Option<Signal> {
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => self.reap(),
                Ok(sig) => return Some(sig),
                Err(_) => {}
            }
        }
        None
    }

    /// Reads the pty until it would block (or DRAIN_MAX), logging each chunk in order.
    fn drain_pty(&mut self) -> Option<End> {
        let mut buf = [0u8; 8192];
        let mut total = 0;
        while total < DRAIN_MAX {
            match read(&self.pty.master, &mut buf) {
                Ok(0) => return Some(self.ending(End::Eof)),
                Ok(n) => {
                    total += n;
                    if let Err(f) = self.log.write(&buf[..n]) {
                        return Some(End::Fatal(f));
                    }
                    if self.wfd.is_some() {
                        self.to_client.extend_from_slice(&buf[..n]);
                    }
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(Errno::EIO) => return Some(self.ending(End::Closed)),
                Err(e) => return Some(End::Fatal(Fatal::errno(650, "Error in reading from terminal", e))),
            }
        }
        if self.to_client.len() > CLIENT_QUEUE_MAX {
            report::status("to_erl does not keep up; its output queue is dropped and the pipe closed.\n");
            self.to_client.clear();
            self.wfd = None;
        } else {
            self.flush_client();
        }
        None
    }

    /// The child's last output still goes to an attached to_erl (OTP's does: it writes its
    /// queue before reading the pty again).
    fn ending(&mut self, end: End) -> End {
        self.finish_client(Duration::from_secs(1));
        end
    }

    /// Writes what to_erl has not had yet, waiting for it at most `limit`.
    pub fn finish_client(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        self.flush_client();
        while !self.to_client.is_empty() {
            let Some(w) = &self.wfd else { return };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let mut fds = [PollFd::new(w.as_fd(), PollFlags::POLLOUT)];
            let ms = PollTimeout::try_from(left.as_millis().max(1) as i32).unwrap_or(PollTimeout::MAX);
            if !matches!(poll(&mut fds, ms), Ok(n) if n > 0) {
                return;
            }
            self.flush_client();
        }
    }

    fn flush_client(&mut self) {
        let Some(w) = &self.wfd else { return };
        while !self.to_client.is_empty() {
            match write(w, &self.to_client) {
                Ok(n) => {
                    self.to_client.drain(..n);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    // to_erl is gone (EPIPE; SIGPIPE is ignored): forget what it missed.
                    self.to_client.clear();
                    self.wfd = None;
                    return;
                }
            }
        }
    }

    fn flush_pty(&mut self) -> Result<(), Fatal> {
        while !self.to_pty.is_empty() {
            match write(&self.pty.master, &self.to_pty) {
                Ok(n) => {
                    self.to_pty.drain(..n);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(()),
                Err(e) => return Err(Fatal::errno(700, "Error in writing to terminal.", e)),
            }
        }
        Ok(())
    }

    fn client_input(&mut self) -> Result<(), Fatal> {
        let mut buf = [0u8; 8192];
        let n = match self.rfd.as_ref().map(|r| read(r, &mut buf)) {
            Some(Ok(0)) => {
                // to_erl closed its end: wait for the next one, keep .r open until a
                // write to it fails.
                self.got_some = false;
                return self.open_rfd();
            }
            Some(Ok(n)) => n,
            Some(Err(Errno::EAGAIN | Errno::EINTR)) | None => return Ok(()),
            Some(Err(e)) => return Err(Fatal::errno(680, "Error in reading from FIFO.", e)),
        };
        let mut data = &buf[..n];
        if self.wfd.is_none() {
            let r = self.fifos.r();
            match open(r.as_path(), OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty()) {
                Ok(fd) => self.wfd = Some(fd),
                Err(_) => {
                    report::status(&format!("Client expected on FIFO {}, but can't open (len={n})\n", r.display()));
                    self.open_rfd()?;
                }
            }
        }
        if !self.got_some && self.wfd.is_some() {
            // OTP 25's to_erl starts with ^L, which is also passed on to the shell; OTP 28's
            // starts with ESC l, which is not meant for it.
            if data.first() == Some(&fastrel_console::HANDSHAKE) {
                self.to_client.extend_from_slice(fastrel_console::BANNER);
            } else if data.starts_with(fastrel_console::HANDSHAKE_ESC) {
                self.to_client.extend_from_slice(fastrel_console::BANNER);
                data = &data[2..];
            }
        }
        self.got_some = true;
        let (bytes, ctrls) = ctrl::strip(data);
        for c in ctrls {
            match c {
                Ctrl::Version(_) => {}
                Ctrl::Winsize { cols, rows } => {
                    if let Err(e) = set_winsize(&self.pty, cols, rows) {
                        report::error(&Fatal::errno(560, "Failed to set window size", e));
                    }
                }
                Ctrl::Unknown(b) => report::error(&Fatal::new(575, format!("Ignoring unknown ctrl command '{b}'\n"))),
                Ctrl::MissingSuffix(b) => {
                    report::error(&Fatal::new(545, format!("Missing suffix in ctrl sequence '{b}'\n")))
                }
            }
        }
        if bytes == [3] {
            let _ = kill(self.child, Signal::SIGINT);
        } else if !bytes.is_empty() {
            self.to_pty.extend_from_slice(&bytes);
            self.flush_pty()?;
        }
        self.flush_client();
        Ok(())
    }

    /// Reads what the pty still has without waiting, for a last write to the log.
    pub fn drain_rest(&mut self) {
        let _ = self.drain_pty();
    }
}

struct Ready {
    signal: bool,
    pty_in: bool,
    pty_out: bool,
    fifo_in: bool,
    client_out: bool,
}

impl Ready {
    fn none(&self) -> bool {
        !(self.signal || self.pty_in || self.pty_out || self.fifo_in || self.client_out)
    }
}
