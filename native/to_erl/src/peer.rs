// SPDX-License-Identifier: Apache-2.0
//! Which handshake the run_erl behind a pipe takes.
//!
//! OTP's run_erl up to OTP 27 takes `^L` as the attach handshake; from OTP 28 (erts 16) it
//! takes `ESC l` and passes `^L` on to the shell, so the window size never reaches the
//! node. fastrel's run_erl takes both. The FIFO itself does not say who reads it, so we
//! find the process holding it open and look at its program.

use fastrel_console::{HANDSHAKE, HANDSHAKE_ESC, RUN_ERL_MARKER};
use std::path::{Path, PathBuf};

/// The first erts major whose run_erl wants `ESC l` (OTP 28).
const FIRST_ESC_L_ERTS: u32 = 16;

/// The bytes to open a session with on the pipe whose `.w` FIFO is `w`: `ESC l` for
/// fastrel's run_erl and OTP 28+'s, `^L` for older ones and when the reader cannot be
/// found (another user's process, another PID namespace).
pub fn handshake_for(w: &Path) -> &'static [u8] {
    let esc_l = reader_programs(w).into_iter().find_map(|exe| takes_esc_l(&exe));
    if esc_l == Some(true) {
        HANDSHAKE_ESC
    } else {
        std::slice::from_ref(&HANDSHAKE)
    }
}

/// The programs named `run_erl` of the processes that have `w` open (not, say, another
/// to_erl attached with -F, or a child that inherited the descriptor).
fn reader_programs(w: &Path) -> Vec<PathBuf> {
    let Ok(target) = std::fs::canonicalize(w) else {
        return Vec::new();
    };
    let me = std::process::id().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for p in procs.flatten() {
        let name = p.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && *n != me) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        if fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == target)) {
            if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) {
                if exe.file_name().is_some_and(|n| n == "run_erl") {
                    found.push(exe);
                }
            }
        }
    }
    found
}

/// `Some(true)` if the run_erl at `exe` takes `ESC l`, `Some(false)` if it takes `^L`,
/// `None` if `exe` is not a run_erl we can tell.
fn takes_esc_l(exe: &Path) -> Option<bool> {
    let bytes = std::fs::read(exe).ok()?;
    let marker = RUN_ERL_MARKER.as_bytes();
    if bytes.windows(marker.len()).any(|w| w == marker) {
        return Some(true);
    }
    erts_major(exe).map(|m| m >= FIRST_ESC_L_ERTS)
}

/// The erts major version OTP's run_erl at `exe` belongs to: from its own directory
/// (`.../erts-17.1.1/bin/run_erl`), or, for the copy in `ROOT/bin`, from the release it
/// starts (`ROOT/releases/start_erl.data`) or the only `ROOT/erts-*`.
fn erts_major(exe: &Path) -> Option<u32> {
    let major = |dir: &str| dir.strip_prefix("erts-")?.split('.').next()?.parse::<u32>().ok();
    let bin = exe.parent()?;
    if let Some(m) = bin.parent().and_then(Path::file_name).and_then(|n| n.to_str()).and_then(major) {
        return Some(m);
    }
    let root = bin.parent()?;
    if let Ok(data) = std::fs::read_to_string(root.join("releases/start_erl.data")) {
        if let Some(m) = data.split_whitespace().next().and_then(|v| major(&format!("erts-{v}"))) {
            return Some(m);
        }
    }
    let mut majors: Vec<u32> =
        std::fs::read_dir(root).ok()?.flatten().filter_map(|e| e.file_name().to_str().and_then(major)).collect();
    majors.sort_unstable();
    majors.dedup();
    match majors.as_slice() {
        [m] => Some(*m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erts_major_from_the_path_or_the_root() {
        let dir = std::env::temp_dir().join(format!("to_erl_peer_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("erts-17.1.1/bin")).unwrap();
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        assert_eq!(erts_major(&dir.join("erts-17.1.1/bin/run_erl")), Some(17));
        assert_eq!(erts_major(&dir.join("bin/run_erl")), Some(17));
        std::fs::create_dir_all(dir.join("erts-15.2/bin")).unwrap();
        assert_eq!(erts_major(&dir.join("bin/run_erl")), None);
        std::fs::create_dir_all(dir.join("releases")).unwrap();
        std::fs::write(dir.join("releases/start_erl.data"), "15.2 1.0\n").unwrap();
        assert_eq!(erts_major(&dir.join("bin/run_erl")), Some(15));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unknown_reader_gets_ctrl_l() {
        assert_eq!(handshake_for(Path::new("/nonexistent/erlang.pipe.1.w")), &[HANDSHAKE]);
    }
}
