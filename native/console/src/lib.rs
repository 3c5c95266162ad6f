// SPDX-License-Identifier: Apache-2.0
//! What `run_erl` and `to_erl` share: how FIFOs in a pipe directory are named and numbered,
//! how to tell a live pipe from a stale one, the protocol's fixed bytes, and C-style time
//! text. Both programs must agree with OTP's on all of it, so it lives in one place. Also
//! what heart and run_erl share: the SIGPIPE disposition their commands start with.

#![deny(missing_docs)]

pub mod sigpipe;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Names in a pipe directory start with this; `erlang.pipe.<N>.r` and `.w` follow.
pub const PIPE_PREFIX: &str = "erlang.pipe";
/// run_erl's answer to the attach handshake (protocol v1-0).
pub const BANNER: &[u8] = b"[run_erl v1-0]\n";
/// to_erl's first byte in OTP 25: ^L. OTP 28's to_erl sends `ESC l` instead.
pub const HANDSHAKE: u8 = 0x0c;
/// The handshake of newer to_erl programs (OTP PR #8943).
pub const HANDSHAKE_ESC: &[u8] = b"\x1bl";
/// Kept in fastrel's run_erl binary, so that to_erl can tell it takes [`HANDSHAKE_ESC`]
/// (OTP's run_erl up to OTP 27 does not).
pub const RUN_ERL_MARKER: &str = "fastrel run_erl: takes ^L and ESC l as the attach handshake";

/// C's `atoi`: optional leading whitespace, an optional sign, then digits; anything else
/// ends the number, and no digits give 0. Both programs number pipes with it. It reads
/// bytes (file names and environment values need not be UTF-8) and saturates instead of
/// overflowing.
pub fn atoi(s: impl AsRef<[u8]>) -> i64 {
    let t = s.as_ref();
    let start = t.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)).count();
    let t = t.get(start..).unwrap_or_default();
    let (neg, digits) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// `base` with `suffix` appended as bytes, the way OTP's programs build names with
/// `strcat`: `l/` and `/run_erl.log` give `l//run_erl.log`, and a `base` that is not
/// UTF-8 keeps its bytes.
pub fn suffixed(base: &OsStr, suffix: &str) -> PathBuf {
    let mut bytes = base.as_bytes().to_vec();
    bytes.extend_from_slice(suffix.as_bytes());
    PathBuf::from(OsString::from_vec(bytes))
}

/// The pipe numbers found in `dir` (which ends in `/`), as OTP reads them: every entry
/// whose name starts with `erlang.pipe`, numbered by `atoi` of what follows the next
/// character. Duplicates (`.r` and `.w`) are removed; the result is sorted.
pub fn pipe_numbers(dir: impl AsRef<Path>) -> std::io::Result<Vec<i64>> {
    let mut found: Vec<i64> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let rest = name.as_bytes().strip_prefix(PIPE_PREFIX.as_bytes())?;
            Some(atoi(rest.get(1..).unwrap_or_default()))
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// `<dir>erlang.pipe.<n>`, or `<dir>erlang.pipe` for 0 (what to_erl falls back to).
pub fn pipe_base(dir: &OsStr, n: i64) -> OsString {
    let name = if n > 0 { format!("{PIPE_PREFIX}.{n}") } else { PIPE_PREFIX.to_string() };
    suffixed(dir, &name).into_os_string()
}

/// Whether some process has the FIFO at `path` open for reading: opening it for writing
/// without blocking succeeds only then (ENXIO otherwise). For `<base>.w` that reader is a
/// run_erl, so this tells a live pipe from one a killed run_erl left behind.
pub fn has_reader(path: impl AsRef<Path>) -> bool {
    writer(path).is_some()
}

/// The FIFO at `path` opened for writing, if something reads it. Keeping this descriptor
/// (rather than closing it and opening again) matters for `<base>.w`: a writer that comes
/// and goes shows run_erl an end of file, and OTP's run_erl then closes and reopens its
/// end, leaving a moment in which the pipe has no reader.
pub fn writer(path: impl AsRef<Path>) -> Option<std::os::fd::OwnedFd> {
    open(path.as_ref(), OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty()).ok()
}

/// Broken-down `now`, local or UTC.
fn broken_down(utc: bool) -> nix::libc::tm {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let t = secs as nix::libc::time_t;
    // SAFETY: tm is plain old data; the _r functions only write into it.
    let mut tm: nix::libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        if utc {
            nix::libc::gmtime_r(&t, &mut tm)
        } else {
            nix::libc::localtime_r(&t, &mut tm)
        };
    }
    tm
}

/// `strftime(format)` of now into at most 256 bytes, as run_erl's stamps are made. `None`
/// when the result does not fit or is empty (C's strftime returns 0 for both).
pub fn strftime_now(format: impl AsRef<[u8]>, utc: bool) -> Option<String> {
    let tm = broken_down(utc);
    let fmt = std::ffi::CString::new(format.as_ref()).ok()?;
    let mut buf = [0u8; 256];
    // SAFETY: buf is 256 writable bytes, fmt is NUL-terminated, tm is initialised.
    let n = unsafe { nix::libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm) };
    (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// `ctime()` of now without its newline: `Mon Nov 23 19:45:58 2026`.
pub fn ctime_now() -> String {
    strftime_now("%a %b %e %H:%M:%S %Y", false).unwrap_or_default()
}

/// Now as ISO-8601 with milliseconds, in UTC (`Z`) or local time with its offset.
pub fn iso8601_now(utc: bool) -> String {
    let ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_millis()).unwrap_or(0);
    let date = strftime_now("%Y-%m-%dT%H:%M:%S", utc).unwrap_or_default();
    let zone = if utc { "Z".to_string() } else { strftime_now("%z", false).unwrap_or_default() };
    format!("{date}.{ms:03}{zone}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_like_c() {
        assert_eq!(atoi("7.r"), 7);
        assert_eq!(atoi(" 12abc"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("r"), 0);
        assert_eq!(atoi(""), 0);
    }

    #[test]
    fn issue_13_names_are_bytes() {
        assert_eq!(atoi(b" \xff"), 0);
        assert_eq!(atoi(b"12\xff"), 12);
        assert_eq!(atoi("99999999999999999999"), i64::MAX);
        let dir = OsStr::from_bytes(b"/tmp/p\xff/");
        assert_eq!(pipe_base(dir, 3).as_bytes(), b"/tmp/p\xff/erlang.pipe.3");
        assert_eq!(suffixed(OsStr::new("l/"), "/run_erl.log"), Path::new("l//run_erl.log"));
        assert_eq!(strftime_now(b"%Y\xff", true).map(|s| s.len()), Some(7), "lossy text, no panic");
    }

    #[test]
    fn pipe_numbers_follow_otp_naming() {
        let dir = std::env::temp_dir().join(format!("fastrel-console-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["erlang.pipe.1.r", "erlang.pipe.1.w", "erlang.pipe.12.w", "erlang.pipex", "other.3"] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let d = format!("{}/", dir.display());
        assert_eq!(pipe_numbers(&d).unwrap(), vec![0, 1, 12]);
        assert_eq!(pipe_base(d.as_ref(), 12), OsString::from(format!("{d}erlang.pipe.12")));
        assert_eq!(pipe_base(d.as_ref(), 0), OsString::from(format!("{d}erlang.pipe")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn time_texts_have_their_shapes() {
        assert_eq!(ctime_now().len(), 24);
        let iso = iso8601_now(true);
        assert!(iso.ends_with('Z') && iso.len() == 24, "{iso}");
        assert_eq!(strftime_now("", true), None);
    }
}
