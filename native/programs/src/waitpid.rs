// SPDX-License-Identifier: Apache-2.0
//! Waiting for a process that is not our child to end (the start script's `stop` waits
//! for the VM): Linux's `pidfd_open` makes its exit an event, so the wait ends at the
//! exit itself instead of at the next tick of a polling loop; where pidfds are missing
//! (old kernels, seccomp) a 5 ms poll of `kill(pid, 0)` and the process state stands in.

use nix::libc;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How often the fallback looks.
const TICK: Duration = Duration::from_millis(5);

/// Returns true as soon as `pid` has exited (a zombie counts: it no longer runs) or does
/// not exist, false if it still runs after `limit`.
pub fn wait(pid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    if pid <= 0 {
        return true;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd >= 0 {
        // SAFETY: the descriptor was just returned to us and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = nix::poll::PollTimeout::try_from(left.as_millis().min(60_000) as i32)
                .unwrap_or(nix::poll::PollTimeout::MAX);
            let mut fds = [nix::poll::PollFd::new(fd.as_fd(), nix::poll::PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, ms) {
                Ok(n) if n > 0 => return true,
                Ok(_) if left.is_zero() => return !running(pid),
                _ => {}
            }
        }
    }
    if nix::errno::Errno::last() == nix::errno::Errno::ESRCH {
        return true;
    }
    while running(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(TICK);
    }
    true
}

/// Exists and is not a zombie (`/proc/PID/stat`'s state, where there is a `/proc`).
fn running(pid: i32) -> bool {
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err_and(|e| e == nix::errno::Errno::ESRCH) {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.iter().rposition(|&c| c == b')').and_then(|i| stat.get(i + 2));
            !matches!(state, Some(b'Z' | b'X'))
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_process_that_ends_is_waited_for_and_one_that_does_not_times_out() {
        let mut short = Command::new("sleep").arg("0.2").spawn().unwrap();
        let mut long = Command::new("sleep").arg("30").spawn().unwrap();
        // Reaped by a thread, as run_erl reaps the VM: the waiter is not the parent.
        let pid = short.id() as i32;
        let reaper = std::thread::spawn(move || short.wait());
        assert!(wait(pid, Duration::from_secs(20)));
        reaper.join().unwrap().unwrap();
        assert!(!wait(long.id() as i32, Duration::from_millis(100)));
        long.kill().unwrap();
        long.wait().unwrap();
        assert!(wait(long.id() as i32, Duration::from_secs(1)), "gone");
    }

    #[test]
    fn a_zombie_no_longer_runs() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        // Not reaped yet: a zombie once it has exited.
        assert!(wait(pid, Duration::from_secs(20)));
        assert!(!running(pid));
        child.wait().unwrap();
    }
}
