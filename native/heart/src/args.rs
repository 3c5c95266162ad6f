//! heart's command line, read as OTP's heart reads it: any order, unknown words ignored.

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Seconds without a heartbeat before the VM is declared hung (11..=65535, default 60).
    pub timeout_secs: u64,
    /// The VM's OS pid; `None` when absent or unusable (OTP would kill(-1) on `-pid -1`).
    pub pid: Option<i32>,
}

/// Parses `argv[1..]`. Returns the arguments and the lines OTP's heart prints on stderr
/// while parsing (`heart_beat_timeout = N`, `heart_beat_kill_pid = N`).
pub fn parse(argv: &[String]) -> (Args, Vec<String>) {
    let mut args = Args { timeout_secs: 60, pid: None };
    let mut notes = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "-ht" => {
                if let Some(v) = argv.get(i + 1).and_then(|s| scan_i(s)).filter(|v| *v > 10 && *v <= 65535) {
                    args.timeout_secs = v as u64;
                    notes.push(format!("heart_beat_timeout = {v}\n"));
                    i += 1;
                }
            }
            "-pid" => {
                if let Some(p) = argv.get(i + 1).and_then(|s| scan_lu(s)) {
                    notes.push(format!("heart_beat_kill_pid = {p}\n"));
                    // 0 means "no pid"; 1 and anything that does not fit a pid_t would
                    // make kill() hit init or every process: never do that.
                    args.pid = i32::try_from(p).ok().filter(|p| *p > 1);
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
fn sign(s: &str) -> (bool, &str) {
    let s = s.trim_start();
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// C `scanf("%i")`: optional whitespace and sign, `0x` hex, leading `0` octal, trailing
/// garbage ignored.
fn scan_i(s: &str) -> Option<i64> {
    let (neg, s) = sign(s);
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let end = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
    if end == 0 {
        return if radix == 8 { Some(0) } else { None };
    }
    let v = i64::from_str_radix(&digits[..end], radix).ok()?;
    Some(if neg { -v } else { v })
}

/// C `scanf("%lu")`: decimal, optional whitespace and sign (a minus wraps, as in C).
fn scan_lu(s: &str) -> Option<u64> {
    let (neg, s) = sign(s);
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let v: u64 = s[..end].parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(words: &[&str]) -> Args {
        parse(&words.iter().map(|s| s.to_string()).collect::<Vec<_>>()).0
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
        assert_eq!(p(&["-ht", "10"]).timeout_secs, 60);
        assert_eq!(p(&["-ht", "65536"]).timeout_secs, 60);
        assert_eq!(p(&["-ht"]).timeout_secs, 60);
    }

    #[test]
    fn dangerous_pids_mean_no_pid() {
        assert_eq!(p(&["-pid", "-1"]).pid, None);
        assert_eq!(p(&["-pid", "0"]).pid, None);
        assert_eq!(p(&["-pid", "1"]).pid, None);
        assert_eq!(p(&["-pid", "x"]).pid, None);
    }
}
