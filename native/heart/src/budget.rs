// SPDX-License-Identifier: Apache-2.0
//! A restart budget: at most `HEART_MAX_RESTARTS` runs of the reboot command within
//! `HEART_RESTART_WINDOW` seconds (default 3600), remembered in
//! `$HEART_STATE_DIR/heart.restarts` (default: heart's working directory, the release
//! root for releases) across the restarts themselves. Past the budget heart says why
//! and does not run the command, instead of restarting a crash-looping node forever.

use std::path::PathBuf;

/// The configured budget, if any.
pub struct Budget {
    max: usize,
    window_secs: u64,
    file: PathBuf,
}

impl Budget {
    /// From the environment; `None` when `HEART_MAX_RESTARTS` is unset or invalid.
    pub fn from_env() -> Option<Budget> {
        let number = |name: &str| std::env::var_os(name)?.to_str()?.trim().parse::<u64>().ok();
        let max = usize::try_from(number("HEART_MAX_RESTARTS")?).unwrap_or(usize::MAX);
        let window_secs = number("HEART_RESTART_WINDOW").unwrap_or(3600);
        let dir = std::env::var_os("HEART_STATE_DIR").filter(|d| !d.is_empty()).unwrap_or_else(|| ".".into());
        Some(Budget { max, window_secs, file: PathBuf::from(dir).join("heart.restarts") })
    }

    /// Records a restart at `now` (Unix seconds) if the budget allows one; `Err` holds the
    /// sentence to log when it does not.
    pub fn take(&self, now: u64) -> Result<(), String> {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        let mut recent = recent_restarts(&text, now, self.window_secs);
        if recent.len() >= self.max {
            return Err(format!(
                "Restart budget spent: {} restarts within {} seconds (HEART_MAX_RESTARTS={}); not running the command. Terminating.",
                recent.len(),
                self.window_secs,
                self.max
            ));
        }
        recent.push(now);
        let body: String = recent.iter().map(|t| format!("{t}\n")).collect();
        // Through a temporary file: a crash mid-write must not wipe the history.
        let tmp = self.file.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, body).is_ok() {
            let _ = std::fs::rename(&tmp, &self.file);
        }
        Ok(())
    }
}

/// The restart times in `text` that fall within the window ending at `now`.
fn recent_restarts(text: &str, now: u64, window: u64) -> Vec<u64> {
    text.lines().filter_map(|l| l.trim().parse::<u64>().ok()).filter(|t| *t <= now && now - t < window).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_restarts_inside_the_window_count() {
        assert_eq!(recent_restarts("100\n200\nbad\n950\n", 1000, 100), vec![950]);
        assert_eq!(recent_restarts("", 1000, 100), Vec::<u64>::new());
    }

    #[test]
    fn the_budget_runs_out_and_comes_back() {
        let dir = std::env::temp_dir().join(format!("heart-budget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let b = Budget { max: 2, window_secs: 60, file: dir.join("heart.restarts") };
        assert!(b.take(1000).is_ok());
        assert!(b.take(1010).is_ok());
        assert!(b.take(1020).unwrap_err().contains("2 restarts within 60 seconds"));
        assert!(b.take(1071).is_ok(), "the first two have left the window");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
