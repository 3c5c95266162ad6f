//! heart's messages, byte for byte as OTP's: `<argv0>: <ctime>: <text>\r\n` on stderr.

use std::io::Write;

/// Writes one timestamped message to stderr.
pub fn say(prog: &str, text: &str) {
    let line = format!("{prog}: {}: {text}\r\n", ctime_now());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Writes text as is (the argument echoes OTP prints without a prefix).
pub fn raw(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// `ctime(3)` of now without its newline: `Mon Nov 23 19:43:48 2026`.
fn ctime_now() -> String {
    let now: nix::libc::time_t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as nix::libc::time_t);
    let mut buf = [0 as nix::libc::c_char; 64];
    // SAFETY: ctime_r writes at most 26 bytes into the 64-byte buffer we own.
    let p = unsafe { nix::libc::ctime_r(&now, buf.as_mut_ptr()) };
    if p.is_null() {
        return String::from("?");
    }
    // SAFETY: ctime_r returned a NUL-terminated string inside buf.
    let s = unsafe { std::ffi::CStr::from_ptr(p) };
    s.to_string_lossy().trim_end().to_string()
}
