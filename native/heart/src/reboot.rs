// SPDX-License-Identifier: Apache-2.0
//! What heart does when the VM is gone or hung: make sure the old VM is dead, then run
//! the reboot command.
//!
//! OTP's heart polls with `kill(pid, 0)` and `sleep(1)`, so a restart waits at least a
//! second after the kill, and a zombie VM looks alive. Here the VM is watched through a
//! pidfd (Linux 5.3+, with a 10 ms polling fallback), so the command starts within
//! milliseconds of the VM's death while keeping OTP's 5-second grace for a VM that is
//! still closing down cleanly.

use crate::log::say;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::ffi::{CString, OsStr};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Why the main loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No heartbeat within the timeout.
    Timeout,
    /// The VM closed the pipe.
    Closed,
    /// Reading from the VM failed.
    Error,
    /// The VM is writing a crash dump.
    Crashing,
}

const GRACE: Duration = Duration::from_secs(5);

/// Kills the old VM if needed and runs `command` (`None`: no command configured).
/// Returns heart's exit status (always 0, as OTP's).
pub fn reboot(prog: &OsStr, reason: Reason, pid: Option<i32>, command: Option<Vec<u8>>) -> u8 {
    let Some(command) = command else {
        say(prog, "Would reboot. Terminating.");
        return 0;
    };
    if std::env::var_os("HEART_NO_KILL").as_deref() != Some(OsStr::new("TRUE")) {
        if let Some(pid) = pid {
            kill_old_erlang(prog, reason, pid);
        }
    }
    if let Some(budget) = crate::budget::Budget::from_env() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Err(why) = budget.take(now) {
            say(prog, why);
            return 0;
        }
    }
    // system(3), as OTP's heart (std's process spawning added ~40 KB to
    // fastrel_programs for this one call); OTP prints its raw wait status, not the exit code. A C
    // string ends at its first NUL.
    let c = CString::new(command.split(|&b| b == 0).next().unwrap_or_default()).unwrap_or_default();
    // The command gets SIGPIPE as heart got it (ignored, under a VM), as OTP's heart
    // passes it on. Heart only logs and exits after this.
    fastrel_console::sigpipe::restore();
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    let raw = unsafe { nix::libc::system(c.as_ptr()) };
    // The command's own bytes, as OTP's printf("%s") gives them.
    say(prog, [&b"Executed \""[..], &command, format!("\" -> {raw}. Terminating.").as_bytes()].concat());
    0
}

fn kill_old_erlang(prog: &OsStr, reason: Reason, pid: i32) {
    let watch = Watch::new(pid);
    if reason == Reason::Closed {
        say(prog, "Wait 5 seconds for Erlang to terminate nicely");
        if watch.wait_exit(GRACE) {
            return;
        }
        say(prog, "Erlang still alive, kill it");
    }
    let sig = if std::env::var_os("HEART_KILL_SIGNAL").as_deref() == Some(OsStr::new("SIGABRT")) {
        say(prog, "kill signal SIGABRT requested");
        Signal::SIGABRT
    } else {
        Signal::SIGKILL
    };
    if kill(Pid::from_raw(pid), sig).is_err() && !watch.gone() {
        say(prog, "Unable to kill old process, kill failed (tried multiple times).");
        return;
    }
    if !watch.wait_exit(GRACE) {
        say(prog, "Unable to kill old process, kill failed (tried multiple times).");
    }
}

/// Watches one process for its exit.
struct Watch {
    pid: i32,
    pidfd: Option<OwnedFd>,
}

impl Watch {
    fn new(pid: i32) -> Watch {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
        // SAFETY: a non-negative result is a descriptor nobody else owns.
        let pidfd = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) });
        Watch { pid, pidfd }
    }

    /// Returns true if and only if the process no longer exists (or is a zombie, with a pidfd).
    fn gone(&self) -> bool {
        self.wait_exit(Duration::ZERO)
    }

    /// Waits up to `limit` for the process to exit; true if it did.
    fn wait_exit(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match &self.pidfd {
                Some(fd) => {
                    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
                    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                    let ms = PollTimeout::try_from(left.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::ZERO);
                    match poll(&mut fds, ms) {
                        Ok(n) if n > 0 => return true,
                        Ok(_) if left.is_zero() => return false,
                        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                        Err(_) => return !alive(self.pid),
                    }
                }
                None => {
                    if !alive(self.pid) {
                        return true;
                    }
                    if left.is_zero() {
                        return false;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(10)));
                }
            }
        }
    }
}

fn alive(pid: i32) -> bool {
    !matches!(kill(Pid::from_raw(pid), None), Err(nix::errno::Errno::ESRCH))
}
