// SPDX-License-Identifier: Apache-2.0
//! run_erl's environment: OTP's `RUN_ERL_*` variables, read in OTP's order with OTP's
//! warnings, plus fastrel's `RUN_ERL_SYNC` and `RUN_ERL_LOG_TIMESTAMPS`.

use fastrel_console::atoi;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// When log data is forced to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// Every write synchronous (`O_SYNC`), as OTP's run_erl.
    Always,
    /// One `fdatasync` each time the pty has been drained, before waiting again.
    Batch,
    /// At most one `fdatasync` per interval while there is unsynced data.
    Interval(Duration),
    /// Left to the kernel.
    Never,
}

/// Everything run_erl reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub alive: Duration,
    pub activity: Duration,
    /// strftime's format, as bytes (it need not be UTF-8).
    pub format: OsString,
    pub utc: bool,
    pub generations: u32,
    pub maxsize: u64,
    pub disable_flowcntrl: bool,
    pub sync: Sync,
    pub line_stamps: bool,
}

/// The largest ALIVE or ACTIVITY setting, in minutes: OTP's run_erl turns them into
/// seconds in a C `int`, which holds no more (about 68 years).
pub const MAX_MINUTES: i64 = i32::MAX as i64 / 60;
/// The largest RUN_ERL_LOG_MAXSIZE: OTP's run_erl keeps it in a C `int`.
pub const MAX_LOG_SIZE: i64 = i32::MAX as i64;
/// The longest `RUN_ERL_SYNC=interval:<ms>`: an hour between syncs is already no policy.
pub const MAX_SYNC_INTERVAL_MS: u64 = 3_600_000;

/// Reads the environment. Out-of-range values are reported in `warnings` with OTP's texts
/// (ours, in OTP's form, for the maxima OTP lacks) and then clamped (OTP keeps them: an
/// ALIVE of 0 spins, one generation deletes its own log, and a number past a C `int`
/// wraps). A value that cannot work at all is an `Err`.
pub fn from_env(get: impl Fn(&str) -> Option<OsString>, warnings: &mut Vec<String>) -> Result<Config, String> {
    let mut c = Config {
        alive: Duration::from_secs(15 * 60),
        activity: Duration::from_secs(5 * 60),
        format: "%a %b %e %T %Z %Y".into(),
        utc: false,
        generations: 5,
        maxsize: 100_000,
        disable_flowcntrl: false,
        sync: Sync::Batch,
        line_stamps: false,
    };
    if let Some(raw) = get("RUN_ERL_LOG_ALIVE_MINUTES") {
        let m = minutes_in_range("RUN_ERL_LOG_ALIVE_MINUTES", &raw, warnings);
        c.alive = minutes(m);
        c.activity = minutes((m / 3).max(1));
    }
    if let Some(raw) = get("RUN_ERL_LOG_ACTIVITY_MINUTES") {
        c.activity = minutes(minutes_in_range("RUN_ERL_LOG_ACTIVITY_MINUTES", &raw, warnings));
    }
    if let Some(f) = get("RUN_ERL_LOG_ALIVE_FORMAT") {
        if f.as_bytes().len() > 256 {
            return Err("RUN_ERL_LOG_ALIVE_FORMAT can contain a maximum of 256 characters".into());
        }
        c.format = f;
    }
    c.utc = get("RUN_ERL_LOG_ALIVE_IN_UTC").is_some_and(|v| v.as_bytes() != b"0");
    if let Some(raw) = get("RUN_ERL_LOG_GENERATIONS") {
        let g = atoi(raw.as_bytes());
        if g < 2 {
            warnings.push("Minimum RUN_ERL_LOG_GENERATIONS is 2".into());
        } else if g > 1000 {
            warnings.push("Maximum RUN_ERL_LOG_GENERATIONS is 1000".into());
        }
        c.generations = g.clamp(2, 1000) as u32;
    }
    if let Some(raw) = get("RUN_ERL_LOG_MAXSIZE") {
        let s = atoi(raw.as_bytes());
        if s < 1000 {
            warnings.push("Minimum RUN_ERL_LOG_MAXSIZE is 1000".into());
        } else if s > MAX_LOG_SIZE {
            warnings.push(format!("Maximum RUN_ERL_LOG_MAXSIZE is {MAX_LOG_SIZE}"));
        }
        c.maxsize = s.clamp(1, MAX_LOG_SIZE).unsigned_abs();
    }
    c.disable_flowcntrl = get("RUN_ERL_DISABLE_FLOWCNTRL").is_some();
    if let Some(raw) = get("RUN_ERL_SYNC") {
        let raw = raw.to_string_lossy();
        c.sync = parse_sync(&raw)
            .ok_or_else(|| format!("RUN_ERL_SYNC must be always, batch, interval:<ms> or never (not '{raw}')"))?;
        if let Sync::Interval(every) = c.sync {
            if every > Duration::from_millis(MAX_SYNC_INTERVAL_MS) {
                warnings.push(format!(
                    "Maximum interval for RUN_ERL_SYNC is {MAX_SYNC_INTERVAL_MS} ms (current value is {raw})"
                ));
                c.sync = Sync::Interval(Duration::from_millis(MAX_SYNC_INTERVAL_MS));
            }
        }
    }
    c.line_stamps = get("RUN_ERL_LOG_TIMESTAMPS").is_some_and(|v| !v.is_empty() && v.as_bytes() != b"0");
    Ok(c)
}

/// An ALIVE/ACTIVITY setting brought into 1..=MAX_MINUTES, with OTP's warning below.
fn minutes_in_range(name: &str, raw: &OsStr, warnings: &mut Vec<String>) -> i64 {
    let m = atoi(raw.as_bytes());
    let raw = raw.to_string_lossy();
    if m < 1 {
        warnings.push(format!("Minimum value for {name} is 1 (current value is {raw})"));
    } else if m > MAX_MINUTES {
        warnings.push(format!("Maximum value for {name} is {MAX_MINUTES} (current value is {raw})"));
    }
    m.clamp(1, MAX_MINUTES)
}

fn minutes(m: i64) -> Duration {
    Duration::from_secs(m.clamp(0, MAX_MINUTES).unsigned_abs() * 60)
}

fn parse_sync(raw: &str) -> Option<Sync> {
    match raw {
        "always" => Some(Sync::Always),
        "batch" => Some(Sync::Batch),
        "never" => Some(Sync::Never),
        _ => {
            // Past u64 is past the maximum too: saturate, and let the caller clamp.
            let digits = raw.strip_prefix("interval:")?;
            let ms: u64 = match digits.parse() {
                Ok(ms) => ms,
                Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => u64::MAX,
                Err(_) => return None,
            };
            Some(Sync::Interval(Duration::from_millis(ms.max(1))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> (Result<Config, String>, Vec<String>) {
        let mut w = Vec::new();
        let c = from_env(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v)), &mut w);
        (c, w)
    }

    #[test]
    fn defaults_are_otps() {
        let (c, w) = read(&[]);
        let c = c.unwrap();
        assert!(w.is_empty());
        assert_eq!((c.generations, c.maxsize, c.alive.as_secs(), c.activity.as_secs()), (5, 100_000, 900, 300));
        assert_eq!(c.sync, Sync::Batch);
    }

    #[test]
    fn alive_sets_activity_and_bad_values_are_warned_then_clamped() {
        let (c, w) = read(&[
            ("RUN_ERL_LOG_ALIVE_MINUTES", "0"),
            ("RUN_ERL_LOG_GENERATIONS", "1"),
            ("RUN_ERL_LOG_MAXSIZE", "10"),
        ]);
        let c = c.unwrap();
        assert_eq!(
            w,
            [
                "Minimum value for RUN_ERL_LOG_ALIVE_MINUTES is 1 (current value is 0)",
                "Minimum RUN_ERL_LOG_GENERATIONS is 2",
                "Minimum RUN_ERL_LOG_MAXSIZE is 1000",
            ]
        );
        assert_eq!((c.alive.as_secs(), c.activity.as_secs(), c.generations, c.maxsize), (60, 60, 2, 10));
        let (c, _) = read(&[("RUN_ERL_LOG_ALIVE_MINUTES", "9")]);
        assert_eq!(c.unwrap().activity.as_secs(), 180);
    }

    #[test]
    fn issue_13_absurd_numbers_are_warned_then_clamped() {
        let huge = "99999999999999999999";
        let (c, w) = read(&[
            ("RUN_ERL_LOG_ALIVE_MINUTES", huge),
            ("RUN_ERL_LOG_GENERATIONS", huge),
            ("RUN_ERL_LOG_MAXSIZE", huge),
            ("RUN_ERL_SYNC", "interval:99999999999999999999"),
        ]);
        let c = c.unwrap();
        assert_eq!(
            w,
            [
                format!("Maximum value for RUN_ERL_LOG_ALIVE_MINUTES is 35791394 (current value is {huge})"),
                "Maximum RUN_ERL_LOG_GENERATIONS is 1000".to_string(),
                "Maximum RUN_ERL_LOG_MAXSIZE is 2147483647".to_string(),
                "Maximum interval for RUN_ERL_SYNC is 3600000 ms (current value is interval:99999999999999999999)"
                    .to_string(),
            ]
        );
        assert_eq!(c.alive, Duration::from_secs(35_791_394 * 60));
        assert_eq!(c.activity, Duration::from_secs(35_791_394 / 3 * 60));
        assert_eq!((c.generations, c.maxsize), (1000, 2_147_483_647));
        assert_eq!(c.sync, Sync::Interval(Duration::from_secs(3600)));
        // Every deadline the relay computes from them still fits an Instant.
        let now = std::time::Instant::now();
        assert!(now.checked_add(c.alive).is_some() && now.checked_add(c.activity).is_some());

        let (c, w) = read(&[("RUN_ERL_LOG_ACTIVITY_MINUTES", huge), ("RUN_ERL_LOG_ALIVE_MINUTES", "-5")]);
        assert_eq!(
            w,
            [
                "Minimum value for RUN_ERL_LOG_ALIVE_MINUTES is 1 (current value is -5)".to_string(),
                format!("Maximum value for RUN_ERL_LOG_ACTIVITY_MINUTES is 35791394 (current value is {huge})"),
            ]
        );
        let c = c.unwrap();
        assert_eq!((c.alive.as_secs(), c.activity.as_secs()), (60, 35_791_394 * 60));
    }

    #[test]
    fn issue_13_values_are_bytes() {
        use std::os::unix::ffi::OsStringExt;
        let mut w = Vec::new();
        let get = |k: &str| match k {
            "RUN_ERL_LOG_ALIVE_FORMAT" => Some(OsString::from_vec(b"%T \xe9t\xe9".to_vec())),
            "RUN_ERL_LOG_ALIVE_MINUTES" => Some(OsString::from_vec(b"0\xff".to_vec())),
            _ => None,
        };
        let c = from_env(get, &mut w).unwrap();
        assert_eq!(c.format.as_bytes(), b"%T \xe9t\xe9");
        assert_eq!(w, ["Minimum value for RUN_ERL_LOG_ALIVE_MINUTES is 1 (current value is 0\u{fffd})"]);
    }

    #[test]
    fn utc_means_set_and_not_zero() {
        assert!(read(&[("RUN_ERL_LOG_ALIVE_IN_UTC", "")]).0.unwrap().utc);
        assert!(!read(&[("RUN_ERL_LOG_ALIVE_IN_UTC", "0")]).0.unwrap().utc);
    }

    #[test]
    fn sync_policies_parse() {
        assert_eq!(
            read(&[("RUN_ERL_SYNC", "interval:250")]).0.unwrap().sync,
            Sync::Interval(Duration::from_millis(250))
        );
        assert_eq!(read(&[("RUN_ERL_SYNC", "always")]).0.unwrap().sync, Sync::Always);
        assert!(read(&[("RUN_ERL_SYNC", "sometimes")]).0.is_err());
    }
}
