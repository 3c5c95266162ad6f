// SPDX-License-Identifier: Apache-2.0
//! `-daemon`, done so the caller learns whether it worked. OTP's parent exits 0 at once and
//! reports later failures only to syslog; here the original process waits on a pipe until
//! the daemon has started the command (or reports why not), then exits 0 or 1.

use crate::report::Fatal;
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::unistd::{fork, setsid, ForkResult};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

/// Detaches (fork, setsid, SIGHUP ignored, fork, stdio on /dev/null, other fds closed
/// except `keep`). Returns, in the daemon, the pipe on which to report a failure; the
/// caller's process never returns from here.
///
/// # Errors
///
/// When the reply pipe cannot be made (out of descriptors), still in the caller's process.
pub fn detach(keep: &[i32]) -> Result<OwnedFd, Fatal> {
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Fatal::errno(1170, "Cannot create the pipe to report start-up on", e))?;
    // SAFETY: single-threaded; each side continues with plain system calls.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => {
            drop(wr);
            let mut report = Vec::new();
            let _ = std::fs::File::from(rd).read_to_end(&mut report);
            let _ = std::io::stderr().write_all(&report);
            std::process::exit(if report.is_empty() { 0 } else { 1 });
        }
        Ok(ForkResult::Child) => {}
        Err(e) => {
            eprintln!("run_erl: cannot fork: {e}");
            std::process::exit(1);
        }
    }
    drop(rd);
    let _ = setsid();
    // SAFETY: ignoring a signal installs no handler code. The command inherits it, as
    // under OTP's run_erl -daemon.
    unsafe {
        let _ = signal(Signal::SIGHUP, SigHandler::SigIgn);
    }
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {}
        _ => unsafe { nix::libc::_exit(0) },
    }
    let mut keep = keep.to_vec();
    keep.push(wr.as_raw_fd());
    close_all_but(&keep);
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
    Ok(wr)
}

fn close_all_but(keep: &[i32]) {
    let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    for fd in open.into_iter().filter(|fd| *fd > 2 && !keep.contains(fd)) {
        // SAFETY: fds not in `keep` belong to nobody in this process any more.
        unsafe { nix::libc::close(fd) };
    }
}
