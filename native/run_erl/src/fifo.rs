// SPDX-License-Identifier: Apache-2.0
//! The two FIFOs of a run_erl: `<base>.r` (run_erl writes, to_erl reads) and `<base>.w`
//! (to_erl writes, run_erl reads), named and checked as OTP's run_erl does. Names are
//! bytes: a pipe directory need not be UTF-8.

use crate::report::Fatal;
use fastrel_console::{has_reader, pipe_base, pipe_numbers, suffixed};
use nix::errno::Errno;
use nix::sys::stat::Mode;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The FIFO pair this run_erl owns.
pub struct Fifos {
    pub base: OsString,
}

impl Fifos {
    pub fn r(&self) -> PathBuf {
        suffixed(&self.base, ".r")
    }
    pub fn w(&self) -> PathBuf {
        suffixed(&self.base, ".w")
    }

    /// Picks the name (directory form `dir/`: one past the highest number there; otherwise
    /// the argument itself) and makes both FIFOs, refusing a pipe another run_erl reads.
    pub fn create(spec: &OsStr) -> Result<Fifos, Fatal> {
        let shown = Path::new(spec).display();
        if spec.as_bytes().ends_with(b"/") {
            let numbers = pipe_numbers(spec)
                .map_err(|e| Fatal::errno(338, format!("Can't access pipe directory '{shown}'."), errno_of(&e)))?;
            let mut n = numbers.last().copied().unwrap_or(0).max(0).saturating_add(1);
            loop {
                // A live pipe at H+1 only happens in a race; OTP then glues the next name
                // onto the old one, this takes the next number.
                match Self::make(pipe_base(spec, n))? {
                    Some(f) => return Ok(f),
                    None => n = n.saturating_add(1),
                }
            }
        }
        Self::make(spec.to_os_string())?.ok_or_else(|| Fatal::plain(format!("Erlang already running on pipe {shown}.")))
    }

    /// Makes the pair at `base`; `None` if a run_erl already reads it.
    fn make(base: OsString) -> Result<Option<Fifos>, Fatal> {
        let f = Fifos { base };
        let (r, w) = (f.r(), f.w());
        mkfifo(&r).map_err(|e| Fatal::errno(357, format!("Cannot create FIFO {} for writing.", r.display()), e))?;
        if has_reader(&w) {
            return Ok(None);
        }
        mkfifo(&w).map_err(|e| Fatal::errno(380, format!("Cannot create FIFO {} for reading.", w.display()), e))?;
        Ok(Some(f))
    }

    /// Removes both FIFOs, so nobody attaches to a pipe with no run_erl behind it.
    pub fn unlink(&self) {
        let _ = std::fs::remove_file(self.r());
        let _ = std::fs::remove_file(self.w());
    }
}

fn mkfifo(path: &Path) -> Result<(), Errno> {
    match nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}
