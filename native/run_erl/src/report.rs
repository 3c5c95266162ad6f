// SPDX-License-Identifier: Apache-2.0
//! Where run_erl's messages go. In the foreground, errors go to stderr in OTP's layout
//! (`run_erl:<line> [<pid>] <ctime>` then the text); once detached, to syslog as OTP's do.
//! Fatal errors are also appended to `<log_dir>/run_erl.log`, so a daemon that could not
//! start leaves its reason where the operator looks first.

use nix::errno::Errno;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::OnceLock;

static DETACHED: AtomicBool = AtomicBool::new(false);
static STATUS_FILE: OnceLock<std::path::PathBuf> = OnceLock::new();
/// While a detaching run_erl's caller still waits: where to tell it what went wrong.
static REPLY: AtomicI32 = AtomicI32::new(-1);

/// A reason to give up, with the errno behind it if there is one.
#[derive(Debug)]
pub struct Fatal {
    pub line: u32,
    pub text: String,
    pub errno: Option<Errno>,
    /// Printed as it is, without OTP's location prefix (`Erlang already running ...`).
    pub plain: bool,
}

impl Fatal {
    pub fn new(line: u32, text: impl Into<String>) -> Fatal {
        Fatal { line, text: text.into(), errno: None, plain: false }
    }
    pub fn plain(text: impl Into<String>) -> Fatal {
        Fatal { line: 0, text: text.into(), errno: None, plain: true }
    }
    pub fn errno(line: u32, text: impl Into<String>, errno: Errno) -> Fatal {
        Fatal { line, text: text.into(), errno: Some(errno), plain: false }
    }
    /// The message without the location prefix, as syslog and run_erl.log get it.
    pub fn message(&self) -> String {
        match self.errno {
            Some(e) => format!("errno={} '{}'\n{}\n", e as i32, e.desc(), self.text),
            None => format!("{}\n", self.text),
        }
    }
}

/// Remembers `<log_dir>/run_erl.log` (OTP joins with a plain `/`).
pub fn set_status_file(log_dir: &OsStr) {
    let _ = STATUS_FILE.set(fastrel_console::suffixed(log_dir, "/run_erl.log"));
}

/// From now on errors go to syslog: stdio is /dev/null.
pub fn detach(prog: &OsStr) {
    let base = prog.as_bytes().rsplit(|b| *b == b'/').next().unwrap_or(b"run_erl");
    let ident = std::ffi::CString::new(base).unwrap_or_else(|_| c"run_erl".into());
    // openlog keeps the pointer: leak the string for the life of the process.
    let ident: &'static std::ffi::CStr = Box::leak(ident.into_boxed_c_str());
    // SAFETY: ident lives forever; the flags are plain constants.
    unsafe {
        nix::libc::openlog(
            ident.as_ptr(),
            nix::libc::LOG_PID | nix::libc::LOG_CONS | nix::libc::LOG_NOWAIT,
            nix::libc::LOG_USER,
        )
    };
    DETACHED.store(true, Ordering::SeqCst);
}

/// Errors also go to `fd` until `end_reply`: the caller of `-daemon` is waiting there.
pub fn set_reply(fd: i32) {
    REPLY.store(fd, Ordering::SeqCst);
}

/// The caller has its answer (the command runs): stop replying, let it exit 0.
pub fn end_reply() {
    let fd = REPLY.swap(-1, Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: the reply fd was handed over to this module and is closed once.
        unsafe { nix::libc::close(fd) };
    }
}

fn stderr_text(f: &Fatal) -> String {
    if f.plain {
        return f.message();
    }
    format!("run_erl:{} [{}] {}\n{}", f.line, std::process::id(), fastrel_console::ctime_now(), f.message())
}

/// Reports an error (fatal or not).
pub fn error(f: &Fatal) {
    let msg = f.message();
    let reply = REPLY.load(Ordering::SeqCst);
    if reply >= 0 {
        // SAFETY: the fd stays open until end_reply.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(reply) };
        let _ = nix::unistd::write(fd, stderr_text(f).as_bytes());
    }
    if DETACHED.load(Ordering::SeqCst) {
        if let Ok(c) = std::ffi::CString::new(msg.trim_end()) {
            // SAFETY: "%s" with one NUL-terminated argument.
            unsafe { nix::libc::syslog(nix::libc::LOG_ERR, c"%s".as_ptr(), c.as_ptr()) };
        }
    } else {
        let _ = std::io::stderr().write_all(stderr_text(f).as_bytes());
    }
}

/// Reports a fatal error everywhere it belongs, run_erl.log included.
pub fn fatal(f: &Fatal) {
    error(f);
    status(&f.message());
}

/// Appends one entry to run_erl.log (OTP reopens it truncating, losing the exec trace).
pub fn status(text: &str) {
    let Some(path) = STATUS_FILE.get() else {
        return;
    };
    let entry = format!("run_erl [{}] {}\n{}", std::process::id(), fastrel_console::ctime_now(), text);
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).mode(crate::log::LOG_MODE).open(path) {
        let _ = f.write_all(entry.as_bytes());
    }
}

/// The exec trace the child leaves in run_erl.log just before it runs the shell; this
/// starts the file afresh, as OTP's does.
pub fn exec_trace(argv: &[OsString]) {
    let Some(path) = STATUS_FILE.get() else {
        return;
    };
    // The arguments' own bytes, as OTP's fprintf("%s") writes them.
    let mut text = Vec::new();
    let head = format!("run_erl [{}] {}\n", std::process::id(), fastrel_console::ctime_now());
    text.extend_from_slice(head.as_bytes());
    text.extend_from_slice(b"Args before exec of shell:\n");
    for (i, a) in argv.iter().enumerate() {
        text.extend_from_slice(head.as_bytes());
        text.extend_from_slice(format!("argv[{i}] = ").as_bytes());
        text.extend_from_slice(a.as_bytes());
        text.push(b'\n');
    }
    // Not fs::write: its 0666 makes run_erl.log world-writable under umask 000 (OTP's
    // fopen does the same).
    let file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(crate::log::LOG_MODE).open(path);
    if let Ok(mut f) = file {
        let _ = f.write_all(&text);
    }
}
