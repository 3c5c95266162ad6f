// SPDX-License-Identifier: Apache-2.0
//! heart's command line, read as OTP's heart reads it: any order, unknown words ignored.
//! Arguments are bytes, as C's argv is: nothing here assumes UTF-8 or can panic on input.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Seconds without a heartbeat before the VM is declared hung (11..=65535, default 60).
    pub timeout_secs: u64,
    /// The VM's OS pid; `None` when absent or unusable (OTP would kill(-1) on `-pid -1`).
    pub pid: Option<i32>,
}

/// Parses `argv[1..]`. `never_kill` holds the pids a `-pid` must not name: heart's own and
/// its parent's (killing either means the reboot command never runs; the VM is never
/// heart's parent, erl_child_setup is). Returns the arguments and the lines OTP's heart
/// prints on stderr while parsing (`heart_beat_timeout = N`, `heart_beat_kill_pid = N`).
pub fn parse(argv: &[OsString], never_kill: &[i32]) -> (Args, Vec<String>) {
    let mut args = Args { timeout_secs: 60, pid: None };
    let mut notes = Vec::new();
    let mut i = 0;
    while let Some(word) = argv.get(i) {
        let value = argv.get(i + 1).map(|v| v.as_bytes());
        match word.as_bytes() {
            b"-ht" => {
                if let Some(v) = value.and_then(scan_i).filter(|v| *v > 10 && *v <= 65535) {
                    args.timeout_secs = v.unsigned_abs();
                    notes.push(format!("heart_beat_timeout = {v}\n"));
                    i += 1;
                }
            }
            b"-pid" => {
                if let Some(p) = value.and_then(scan_lu) {
                    notes.push(format!("heart_beat_kill_pid = {p}\n"));
                    // 0 means "no pid"; 1 and anything that does not fit a pid_t would
                    // make kill() hit init or every process: never do that.
                    args.pid = i32::try_from(p).ok().filter(|p| *p > 1 && !never_kill.contains(p));
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (args, notes)
}

/// Leading whitespace and an optional sign, as scanf skips and reads them.
fn sign(s: &[u8]) -> (bool, &[u8]) {
    let s = s.trim_ascii_start();
    match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    }
}

/// C `scanf("%i")`: optional whitespace and sign, `0x` hex, leading `0` octal, trailing
/// garbage ignored.
fn scan_i(s: &[u8]) -> Option<i64> {
    let (neg, s) = sign(s);
    let (radix, digits) = if let Some(h) = s.strip_prefix(b"0x").or_else(|| s.strip_prefix(b"0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with(b"0") {
        (8, s.get(1..).unwrap_or_default())
    } else {
        (10, s)
    };
    let end = digits.iter().take_while(|c| char::from(**c).is_digit(radix)).count();
    if end == 0 {
        return if radix == 8 { Some(0) } else { None };
    }
    let v = i64::from_str_radix(std::str::from_utf8(digits.get(..end)?).ok()?, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// C `scanf("%lu")`: decimal, optional whitespace and sign (a minus wraps, as in C).
fn scan_lu(s: &[u8]) -> Option<u64> {
    let (neg, s) = sign(s);
    let end = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let v: u64 = std::str::from_utf8(s.get(..end)?).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// C's `atoi` into an `int`: optional whitespace and sign, then digits; garbage ends the
/// number and no digits give 0. Out-of-range values saturate (C leaves them undefined).
pub fn atoi_int(s: &[u8]) -> i32 {
    let (neg, s) = sign(s);
    let magnitude = s
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, c| n.saturating_mul(10).saturating_add(i64::from(c - b'0')).min(1 << 32));
    let v = if neg { -magnitude } else { magnitude };
    v.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn p(words: &[&str]) -> Args {
        parse(&words.iter().map(OsString::from).collect::<Vec<_>>(), &[]).0
    }

    #[test]
    fn any_order_and_defaults() {
        assert_eq!(p(&["-ht", "11", "-pid", "42"]), Args { timeout_secs: 11, pid: Some(42) });
        assert_eq!(p(&["-pid", "42", "-ht", "11"]), Args { timeout_secs: 11, pid: Some(42) });
        assert_eq!(p(&[]), Args { timeout_secs: 60, pid: None });
    }

    #[test]
    fn scanf_rules_and_range() {
        assert_eq!(p(&["-ht", "0x20"]).timeout_secs, 32);
        assert_eq!(p(&["-ht", "020"]).timeout_secs, 16);
        assert_eq!(p(&["-ht", "12abc"]).timeout_secs, 12);
        assert_eq!(p(&["-ht", " 13"]).timeout_secs, 13);
        assert_eq!(p(&["-ht", "10"]).timeout_secs, 60);
        assert_eq!(p(&["-ht", "65536"]).timeout_secs, 60);
        assert_eq!(p(&["-ht", "99999999999999999999999"]).timeout_secs, 60);
        assert_eq!(p(&["-ht"]).timeout_secs, 60);
        assert_eq!(p(&["-pid", "99999999999999999999999"]).pid, None);
    }

    #[test]
    fn dangerous_pids_mean_no_pid() {
        assert_eq!(p(&["-pid", "-1"]).pid, None);
        assert_eq!(p(&["-pid", "0"]).pid, None);
        assert_eq!(p(&["-pid", "1"]).pid, None);
        assert_eq!(p(&["-pid", "x"]).pid, None);
    }

    #[test]
    fn issue_13_own_and_parent_pid_mean_no_pid() {
        let argv = |pid: &str| vec![OsString::from("-pid"), OsString::from(pid)];
        let (args, notes) = parse(&argv("4242"), &[4242, 77]);
        assert_eq!(args.pid, None);
        // OTP's line is still printed: only the kill is refused.
        assert_eq!(notes, ["heart_beat_kill_pid = 4242\n"]);
        assert_eq!(parse(&argv("77"), &[4242, 77]).0.pid, None);
        assert_eq!(parse(&argv("78"), &[4242, 77]).0.pid, Some(78));
    }

    #[test]
    fn issue_13_atoi_saturates_instead_of_overflowing() {
        assert_eq!(atoi_int(b" 30s"), 30);
        assert_eq!(atoi_int(b"-1"), -1);
        assert_eq!(atoi_int(b"abc"), 0);
        assert_eq!(atoi_int(b"99999999999999999999"), i32::MAX);
        assert_eq!(atoi_int(b"-99999999999999999999"), i32::MIN);
    }

    #[test]
    fn issue_13_arguments_are_bytes_not_utf8() {
        let argv = vec![
            OsString::from_vec(b"-x\xff".to_vec()),
            OsString::from("-ht"),
            OsString::from_vec(b"12\xff".to_vec()),
            OsString::from("-pid"),
            OsString::from_vec(b"\xff".to_vec()),
        ];
        assert_eq!(parse(&argv, &[]).0, Args { timeout_secs: 12, pid: None });
    }
}
