//! `to_erl --follow LOG_DIR/`: streams a run_erl console read-only by following its log
//! (`erlang.log.N`) across rotations. It takes no input and no FIFO, so any number can
//! watch one node, and it works for OTP's run_erl too.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const POLL: Duration = Duration::from_millis(100);
/// How much history to show first, like `tail -f` (then the last 10 lines of it).
const BACKLOG: u64 = 16 * 1024;

/// The log run_erl writes now: the most recently modified `erlang.log.<N>`.
fn newest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let n = name.to_string_lossy();
            n.strip_prefix("erlang.log.").is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max_by_key(|(t, _): &(SystemTime, PathBuf)| *t)
        .map(|(_, p)| p)
}

pub fn run(target: &str) -> u8 {
    let dir = Path::new(target);
    let Some(mut path) = newest(dir) else {
        eprintln!("No run_erl log (erlang.log.N) in {target}");
        return 1;
    };
    let Ok(mut file) = File::open(&path) else { return 1 };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(BACKLOG);
    let _ = file.seek(SeekFrom::Start(start));
    let mut first = Vec::new();
    let _ = file.read_to_end(&mut first);
    let tail_from = first.iter().enumerate().rev().filter(|(_, b)| **b == b'\n').nth(10).map(|(i, _)| i + 1).unwrap_or(0);
    let mut out = std::io::stdout();
    if out.write_all(&first[tail_from..]).and_then(|_| out.flush()).is_err() {
        return 0;
    }
    let mut pos = start + first.len() as u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Everything written to the current file so far, including after a rotation
        // started the next one.
        loop {
            match file.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    pos += n as u64;
                    if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                        return 0; // the reader went away
                    }
                }
            }
        }
        let truncated = std::fs::metadata(&path).map(|m| m.len() < pos).unwrap_or(true);
        if let Some(p) = newest(dir).filter(|p| *p != path || truncated) {
            if let Ok(f) = File::open(&p) {
                (file, path, pos) = (f, p, 0);
                continue;
            }
        }
        std::thread::sleep(POLL);
    }
}
