// SPDX-License-Identifier: Apache-2.0
//! SIGPIPE as the process found it. Rust's runtime sets SIGPIPE to ignored before `main`,
//! and an ignored signal stays ignored across exec; OTP's C programs pass on the
//! disposition they were started with (a node's heart gets SIGPIPE ignored from the VM,
//! run_erl started from a shell gets the default). To run a command as OTP's would, the
//! disposition is read before the runtime's change, by a constructor, and put back just
//! before the exec.

use nix::libc;
use std::sync::atomic::{AtomicBool, Ordering};

static IGNORED_AT_START: AtomicBool = AtomicBool::new(false);

extern "C" fn note_at_start(_argc: std::ffi::c_int, _argv: *const *const u8, _envp: *const *const u8) {
    // SAFETY: a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0 {
            IGNORED_AT_START.store(old.sa_sigaction == libc::SIG_IGN, Ordering::Relaxed);
        }
    }
}

// glibc runs `.init_array` entries before `main`, and so before Rust's runtime starts.
#[used]
#[link_section = ".init_array"]
static NOTE_AT_START: extern "C" fn(std::ffi::c_int, *const *const u8, *const *const u8) = note_at_start;

/// Whether SIGPIPE was ignored when the process started.
fn ignored_at_start() -> bool {
    IGNORED_AT_START.load(Ordering::Relaxed)
}

/// Puts SIGPIPE back as the process found it (ignored or default; a handler would not
/// survive exec anyway). For a child about to exec, or a process about to run system(3).
pub fn restore() {
    // sigaction, not signal(3): only the former is async-signal-safe, as a forked child needs.
    // SAFETY: a zeroed sigaction with SIG_IGN or SIG_DFL installs no handler code.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = if ignored_at_start() { libc::SIG_IGN } else { libc::SIG_DFL };
        libc::sigaction(libc::SIGPIPE, &action, std::ptr::null_mut());
    }
}
