// SPDX-License-Identifier: Apache-2.0
//! heart's messages, byte for byte as OTP's: `<argv0>: <ctime>: <text>\r\n` on stderr.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

/// Writes one timestamped message to stderr, in the format `HEART_LOG_FORMAT` asks for:
/// OTP's by default, `iso8601` for an ISO-8601 UTC time in its place, or `json` for one
/// JSON object per line (for log shippers). `prog` and `text` are bytes (argv[0], the
/// reboot command) and are written as they are, except in JSON, which must be UTF-8.
pub fn say(prog: &OsStr, text: impl AsRef<[u8]>) {
    let text = text.as_ref();
    let plain = |time: String| [prog.as_bytes(), b": ", time.as_bytes(), b": ", text, b"\r\n"].concat();
    let line = match std::env::var_os("HEART_LOG_FORMAT").as_ref().and_then(|f| f.to_str()) {
        Some("iso8601") => plain(iso8601_now()),
        Some("json") => format!(
            "{{\"time\":\"{}\",\"program\":{},\"message\":{}}}\n",
            iso8601_now(),
            json_string(&prog.to_string_lossy()),
            json_string(&String::from_utf8_lossy(text))
        )
        .into_bytes(),
        _ => plain(ctime_now()),
    };
    let _ = std::io::stderr().write_all(&line);
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Now in UTC as `2026-11-23T19:43:48.123Z`.
fn iso8601_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as nix::libc::time_t;
    // SAFETY: gmtime_r only writes the tm we hand it.
    let tm = unsafe {
        let mut tm: nix::libc::tm = std::mem::zeroed();
        nix::libc::gmtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_what_they_must() {
        assert_eq!(json_string("Executed \"a\\b\" -> 0\n"), "\"Executed \\\"a\\\\b\\\" -> 0\\u000a\"");
    }

    #[test]
    fn iso8601_has_the_expected_shape() {
        let t = iso8601_now();
        assert_eq!((t.len(), &t[4..5], &t[10..11], &t[23..]), (24, "-", "T", "Z"));
    }
}
