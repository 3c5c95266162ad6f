// SPDX-License-Identifier: Apache-2.0
//! The console log: `<log_dir>/erlang.log.<N>`, N in 1..=generations, rotated by size with
//! a hole kept after the current file so the newest is always findable (OTP's scheme, to
//! the byte: header, stamp lines, which file is appended to at start-up).
//!
//! Durability is a policy (`RUN_ERL_SYNC`) instead of OTP's `O_SYNC` on every write: the
//! default syncs once per drain of the pty, so when run_erl waits for more output,
//! everything it has read is on disk, at one `fdatasync` per burst instead of one per chunk.

use crate::config::{Config, Sync};
use crate::fifo::errno_of;
use crate::report::{self, Fatal};
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Instant;

/// The open log and where it stands.
pub struct Log {
    dir: OsString,
    cfg: Config,
    n: u32,
    file: File,
    size: u64,
    dirty: bool,
    last_sync: Instant,
    at_line_start: bool,
    write_failed: bool,
}

/// Which log to append to at start-up, given which of 1..=g exist: the one before the
/// first hole found walking down from g (OTP's `find_next_log_num`).
pub fn choose(exists: &[bool], g: u32) -> u32 {
    let present = |i: u32| i >= 1 && exists.get(i as usize).copied().unwrap_or(false);
    let mut candidate = None;
    for i in (0..=g).rev() {
        if !present(i) {
            candidate = Some(i);
        } else if candidate.is_some() {
            break;
        }
    }
    match candidate {
        Some(c) if c != 0 => {
            if c == 1 {
                g
            } else {
                c - 1
            }
        }
        _ => 1,
    }
}

impl Log {
    /// Checks the directory, picks the file and opens it for appending.
    pub fn open(dir: &OsStr, cfg: &Config) -> Result<Log, Fatal> {
        let g = cfg.generations;
        let entries = std::fs::read_dir(dir).map_err(|e| {
            let shown = Path::new(dir).display();
            Fatal::errno(790, format!("Can't access log directory '{shown}'"), errno_of(&e))
        })?;
        let mut exists = vec![false; g as usize + 1];
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name();
            if let Some(rest) = name.as_bytes().strip_prefix(b"erlang.log.") {
                let i = fastrel_console::atoi(rest);
                if let Some(seen) = usize::try_from(i).ok().filter(|i| *i >= 1).and_then(|i| exists.get_mut(i)) {
                    *seen = true;
                }
            }
        }
        let n = choose(&exists, g);
        let file = open_file(dir, cfg, n, false)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut log = Log {
            dir: dir.to_os_string(),
            cfg: cfg.clone(),
            n,
            file,
            size,
            dirty: false,
            last_sync: Instant::now(),
            at_line_start: true,
            write_failed: false,
        };
        log.header();
        Ok(log)
    }

    fn header(&mut self) {
        let text = format!("\n=====\n===== LOGGING STARTED {}\n=====\n", self.stamp_text());
        self.raw(text.as_bytes());
    }

    fn stamp_text(&self) -> String {
        fastrel_console::strftime_now(self.cfg.format.as_bytes(), self.cfg.utc)
            .unwrap_or_else(|| "(could not format time in 256 positions with current format string.)".into())
    }

    /// Logs pty output, rotating first if it would not fit.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Fatal> {
        if data.is_empty() {
            return Ok(());
        }
        let stamped;
        let data = if self.cfg.line_stamps {
            stamped = self.with_line_stamps(data);
            &stamped[..]
        } else {
            data
        };
        if self.size + data.len() as u64 > self.cfg.maxsize {
            self.rotate()?;
        }
        self.raw(data);
        Ok(())
    }

    /// `\n===== ALIVE <stamp>\n` after a quiet spell, `\n===== <stamp>\n` before output
    /// that ends one.
    pub fn stamp(&mut self, alive: bool) -> Result<(), Fatal> {
        let line = format!("\n===== {}{}\n", if alive { "ALIVE " } else { "" }, self.stamp_text());
        let saved = std::mem::replace(&mut self.cfg.line_stamps, false);
        let r = self.write(line.as_bytes());
        self.cfg.line_stamps = saved;
        self.at_line_start = true;
        r
    }

    fn with_line_stamps(&mut self, data: &[u8]) -> Vec<u8> {
        let prefix = format!("{} ", fastrel_console::iso8601_now(self.cfg.utc));
        let mut out = Vec::with_capacity(data.len() + prefix.len());
        for &b in data {
            if self.at_line_start {
                out.extend_from_slice(prefix.as_bytes());
            }
            out.push(b);
            self.at_line_start = b == b'\n';
        }
        out
    }

    fn raw(&mut self, data: &[u8]) {
        match self.file.write_all(data) {
            Ok(()) => {
                self.size += data.len() as u64;
                self.dirty = true;
                self.write_failed = false;
            }
            Err(_) if !self.write_failed => {
                self.write_failed = true;
                report::status("Error in writing to log.\n");
            }
            Err(_) => {}
        }
    }

    fn rotate(&mut self) -> Result<(), Fatal> {
        self.sync();
        self.n = next(self.n, self.cfg.generations);
        self.file = open_file(&self.dir, &self.cfg, self.n, true)?;
        self.size = 0;
        self.header();
        Ok(())
    }

    /// Forces what was written to disk, unless the policy is `never`.
    pub fn sync(&mut self) {
        if self.dirty && self.cfg.sync != Sync::Never {
            let _ = self.file.sync_data();
        }
        self.dirty = false;
        self.last_sync = Instant::now();
    }

    /// The open file's descriptor (kept across `-daemon`).
    pub fn raw_fd(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.file)
    }

    /// Called when the pty has been drained and run_erl is about to wait.
    pub fn drained(&mut self) {
        match self.cfg.sync {
            Sync::Batch => self.sync(),
            Sync::Interval(every) if self.dirty && self.last_sync.elapsed() >= every => self.sync(),
            _ => {}
        }
    }

    /// When the interval policy next wants a sync, if there is anything to sync.
    pub fn sync_deadline(&self) -> Option<Instant> {
        match self.cfg.sync {
            Sync::Interval(every) if self.dirty => Some(self.last_sync + every),
            _ => None,
        }
    }
}

/// The mode run_erl creates its logs with (before the umask): never group- or
/// world-writable, whatever the umask.
pub const LOG_MODE: u32 = 0o644;

fn next(n: u32, g: u32) -> u32 {
    if n >= g {
        1
    } else {
        n + 1
    }
}

/// OTP's `open_log`: removes the file after `n` to keep the hole, then opens `n`.
fn open_file(dir: &OsStr, cfg: &Config, n: u32, truncate: bool) -> Result<File, Fatal> {
    let name = |n: u32| fastrel_console::suffixed(dir, &format!("/erlang.log.{n}"));
    let _ = std::fs::remove_file(name(next(n, cfg.generations)));
    let path = name(n);
    let mut flags = nix::libc::O_CLOEXEC;
    if cfg.sync == Sync::Always {
        flags |= nix::libc::O_SYNC;
    }
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .truncate(false)
        // OTP's 0664 leaves the console, which can hold secrets typed at the shell,
        // group-writable under umask 002 and 000; nobody but run_erl writes it.
        .mode(LOG_MODE)
        .custom_flags(flags)
        .open(&path)
        .and_then(|f| {
            if truncate {
                f.set_len(0)?;
            }
            Ok(f)
        })
        .map_err(|e| {
            let shown = path.display();
            Fatal::errno(771, format!("Can't open log file '{shown}'."), errno_of(&e))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(present: &[u32], g: u32) -> u32 {
        let mut e = vec![false; g as usize + 1];
        present.iter().for_each(|&i| e[i as usize] = true);
        choose(&e, g)
    }

    #[test]
    fn startup_file_is_otps() {
        assert_eq!(pick(&[], 5), 1);
        assert_eq!(pick(&[1], 5), 1);
        assert_eq!(pick(&[1, 2, 3], 5), 3);
        assert_eq!(pick(&[1, 2, 4, 5], 5), 2);
        assert_eq!(pick(&[1, 3], 3), 1);
        assert_eq!(pick(&[1, 2, 3, 4, 5], 5), 1);
        assert_eq!(pick(&[5], 5), 1);
    }
}
