//! run_erl's environment: OTP's `RUN_ERL_*` variables, read in OTP's order with OTP's
//! warnings, plus fastrel's `RUN_ERL_SYNC` and `RUN_ERL_LOG_TIMESTAMPS`.

use fastrel_console::atoi;
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
    pub format: String,
    pub utc: bool,
    pub generations: u32,
    pub maxsize: u64,
    pub disable_flowcntrl: bool,
    pub sync: Sync,
    pub line_stamps: bool,
}

/// Reads the environment. Out-of-range values are reported in `warnings` with OTP's texts
/// and then clamped (OTP keeps them: an ALIVE of 0 spins, one generation deletes its own
/// log). A value that cannot work at all is an `Err`.
pub fn from_env(get: impl Fn(&str) -> Option<String>, warnings: &mut Vec<String>) -> Result<Config, String> {
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
        let mut m = atoi(&raw);
        if m < 1 {
            warnings.push(format!("Minimum value for RUN_ERL_LOG_ALIVE_MINUTES is 1 (current value is {raw})"));
            m = 1;
        }
        c.alive = minutes(m);
        c.activity = minutes((m / 3).max(1));
    }
    if let Some(raw) = get("RUN_ERL_LOG_ACTIVITY_MINUTES") {
        let mut m = atoi(&raw);
        if m < 1 {
            warnings.push(format!("Minimum value for RUN_ERL_LOG_ACTIVITY_MINUTES is 1 (current value is {raw})"));
            m = 1;
        }
        c.activity = minutes(m);
    }
    if let Some(f) = get("RUN_ERL_LOG_ALIVE_FORMAT") {
        if f.len() > 256 {
            return Err("RUN_ERL_LOG_ALIVE_FORMAT can contain a maximum of 256 characters".into());
        }
        c.format = f;
    }
    c.utc = get("RUN_ERL_LOG_ALIVE_IN_UTC").is_some_and(|v| v != "0");
    if let Some(raw) = get("RUN_ERL_LOG_GENERATIONS") {
        let g = atoi(&raw);
        if g < 2 {
            warnings.push("Minimum RUN_ERL_LOG_GENERATIONS is 2".into());
        } else if g > 1000 {
            warnings.push("Maximum RUN_ERL_LOG_GENERATIONS is 1000".into());
        }
        c.generations = g.clamp(2, 1000) as u32;
    }
    if let Some(raw) = get("RUN_ERL_LOG_MAXSIZE") {
        let s = atoi(&raw);
        if s < 1000 {
            warnings.push("Minimum RUN_ERL_LOG_MAXSIZE is 1000".into());
        }
        c.maxsize = s.max(1) as u64;
    }
    c.disable_flowcntrl = get("RUN_ERL_DISABLE_FLOWCNTRL").is_some();
    if let Some(raw) = get("RUN_ERL_SYNC") {
        c.sync = parse_sync(&raw)
            .ok_or_else(|| format!("RUN_ERL_SYNC must be always, batch, interval:<ms> or never (not '{raw}')"))?;
    }
    c.line_stamps = get("RUN_ERL_LOG_TIMESTAMPS").is_some_and(|v| !v.is_empty() && v != "0");
    Ok(c)
}

fn minutes(m: i64) -> Duration {
    Duration::from_secs(m.max(0) as u64 * 60)
}

fn parse_sync(raw: &str) -> Option<Sync> {
    match raw {
        "always" => Some(Sync::Always),
        "batch" => Some(Sync::Batch),
        "never" => Some(Sync::Never),
        _ => {
            let ms: u64 = raw.strip_prefix("interval:")?.parse().ok()?;
            Some(Sync::Interval(Duration::from_millis(ms.max(1))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> (Result<Config, String>, Vec<String>) {
        let mut w = Vec::new();
        let c = from_env(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()), &mut w);
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
        let (c, w) = read(&[("RUN_ERL_LOG_ALIVE_MINUTES", "0"), ("RUN_ERL_LOG_GENERATIONS", "1"), ("RUN_ERL_LOG_MAXSIZE", "10")]);
        let c = c.unwrap();
        assert_eq!(w, [
            "Minimum value for RUN_ERL_LOG_ALIVE_MINUTES is 1 (current value is 0)",
            "Minimum RUN_ERL_LOG_GENERATIONS is 2",
            "Minimum RUN_ERL_LOG_MAXSIZE is 1000",
        ]);
        assert_eq!((c.alive.as_secs(), c.activity.as_secs(), c.generations, c.maxsize), (60, 60, 2, 10));
        let (c, _) = read(&[("RUN_ERL_LOG_ALIVE_MINUTES", "9")]);
        assert_eq!(c.unwrap().activity.as_secs(), 180);
    }

    #[test]
    fn utc_means_set_and_not_zero() {
        assert!(read(&[("RUN_ERL_LOG_ALIVE_IN_UTC", "")]).0.unwrap().utc);
        assert!(!read(&[("RUN_ERL_LOG_ALIVE_IN_UTC", "0")]).0.unwrap().utc);
    }

    #[test]
    fn sync_policies_parse() {
        assert_eq!(read(&[("RUN_ERL_SYNC", "interval:250")]).0.unwrap().sync, Sync::Interval(Duration::from_millis(250)));
        assert_eq!(read(&[("RUN_ERL_SYNC", "always")]).0.unwrap().sync, Sync::Always);
        assert!(read(&[("RUN_ERL_SYNC", "sometimes")]).0.is_err());
    }
}
