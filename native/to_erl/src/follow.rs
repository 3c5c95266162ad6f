// SPDX-License-Identifier: Apache-2.0
//! `to_erl --follow LOG_DIR/`: streams a run_erl console read-only by following its log
//! (`erlang.log.N`) across rotations. It takes no input and no FIFO, so any number can
//! watch one node, and it works for OTP's run_erl too.
//!
//! run_erl rotates by opening the next number (N+1, or 1 after the last generation) and
//! deleting the one after it, so the successor of the file being read is always the next
//! number that exists and is newer. Several rotations between two polls are followed one
//! file at a time, and the old file is read to its end before moving on.

use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(100);
/// How much history to show first, like `tail -f` (then the last 10 lines of it).
const BACKLOG: u64 = 16 * 1024;

fn log_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("erlang.log.{n}"))
}

/// The generation numbers present, with their metadata.
fn generations(dir: &Path) -> Vec<(u64, Metadata)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let n: u64 = name.to_str()?.strip_prefix("erlang.log.")?.parse().ok()?;
            Some((n, e.metadata().ok()?))
        })
        .collect()
}

fn mtime(m: &Metadata) -> (i64, i64) {
    (m.mtime(), m.mtime_nsec())
}

/// The file run_erl writes after `current` (whose metadata is `cur`): the next number up,
/// else the lowest (the wrap), if it is another file no older than `current`.
fn successor(dir: &Path, current: u64, cur: &Metadata) -> Option<u64> {
    let gens = generations(dir);
    let newer = |n: u64| gens.iter().any(|(g, m)| *g == n && m.ino() != cur.ino() && mtime(m) >= mtime(cur));
    // Saturating: a file named erlang.log.18446744073709551615 is someone's, not a reason
    // to panic; at the top, `next` is `current` itself and so never newer.
    let next = current.saturating_add(1);
    if newer(next) {
        return Some(next);
    }
    let lowest = gens.iter().map(|(g, _)| *g).min()?;
    (lowest != current && !gens.iter().any(|(g, _)| *g == next) && newer(lowest)).then_some(lowest)
}

fn copy_to_end(file: &mut File, out: &mut impl Write, buf: &mut [u8]) -> bool {
    loop {
        match file.read(buf) {
            Ok(0) | Err(_) => return true,
            Ok(n) => {
                if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                    return false; // the reader went away
                }
            }
        }
    }
}

pub fn run(dir: &Path) -> u8 {
    let Some((mut n, _)) = generations(dir).into_iter().max_by_key(|(_, m)| mtime(m)) else {
        eprintln!("No run_erl log (erlang.log.N) in {}", dir.display());
        return 1;
    };
    let Ok(mut file) = File::open(log_path(dir, n)) else {
        return 1;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(BACKLOG);
    let _ = file.seek(SeekFrom::Start(start));
    let mut first = Vec::new();
    let _ = file.read_to_end(&mut first);
    let tail_from =
        first.iter().enumerate().rev().filter(|(_, b)| **b == b'\n').nth(10).map(|(i, _)| i + 1).unwrap_or(0);
    let mut out = std::io::stdout();
    if out.write_all(&first[tail_from..]).and_then(|_| out.flush()).is_err() {
        return 0;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !copy_to_end(&mut file, &mut out, &mut buf) {
            return 0;
        }
        let Ok(cur) = file.metadata() else { return 0 };
        match successor(dir, n, &cur) {
            Some(next) => {
                // Whatever run_erl wrote to the old file before switching: still ours to
                // read through the open descriptor.
                if !copy_to_end(&mut file, &mut out, &mut buf) {
                    return 0;
                }
                match File::open(log_path(dir, next)) {
                    Ok(f) => (file, n) = (f, next),
                    Err(_) => std::thread::sleep(POLL),
                }
            }
            None => std::thread::sleep(POLL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_13_the_highest_possible_number_has_no_successor_and_no_panic() {
        let dir = std::env::temp_dir().join(format!("to_erl_follow_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let top = log_path(&dir, u64::MAX);
        std::fs::write(&top, b"x").unwrap();
        let cur = std::fs::metadata(&top).unwrap();
        assert_eq!(successor(&dir, u64::MAX, &cur), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
