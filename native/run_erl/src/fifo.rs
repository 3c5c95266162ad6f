//! The two FIFOs of a run_erl: `<base>.r` (run_erl writes, to_erl reads) and `<base>.w`
//! (to_erl writes, run_erl reads), named and checked as OTP's run_erl does.

use crate::report::Fatal;
use fastrel_console::{has_reader, pipe_base, pipe_numbers};
use nix::errno::Errno;
use nix::sys::stat::Mode;

/// The FIFO pair this run_erl owns.
pub struct Fifos {
    pub base: String,
}

impl Fifos {
    pub fn r(&self) -> String {
        format!("{}.r", self.base)
    }
    pub fn w(&self) -> String {
        format!("{}.w", self.base)
    }

    /// Picks the name (directory form `dir/`: one past the highest number there; otherwise
    /// the argument itself) and makes both FIFOs, refusing a pipe another run_erl reads.
    pub fn create(spec: &str) -> Result<Fifos, Fatal> {
        if spec.ends_with('/') {
            let numbers = pipe_numbers(spec).map_err(|e| {
                Fatal::errno(338, format!("Can't access pipe directory '{spec}'."), errno_of(&e))
            })?;
            let mut n = numbers.last().copied().unwrap_or(0).max(0) + 1;
            loop {
                // A live pipe at H+1 only happens in a race; OTP then glues the next name
                // onto the old one, this takes the next number.
                match Self::make(pipe_base(spec, n))? {
                    Some(f) => return Ok(f),
                    None => n += 1,
                }
            }
        }
        Self::make(spec.to_string())?.ok_or_else(|| Fatal::plain(format!("Erlang already running on pipe {spec}.")))
    }

    /// Makes the pair at `base`; `None` if a run_erl already reads it.
    fn make(base: String) -> Result<Option<Fifos>, Fatal> {
        let f = Fifos { base };
        mkfifo(&f.r()).map_err(|e| Fatal::errno(357, format!("Cannot create FIFO {} for writing.", f.r()), e))?;
        if has_reader(&f.w()) {
            return Ok(None);
        }
        mkfifo(&f.w()).map_err(|e| Fatal::errno(380, format!("Cannot create FIFO {} for reading.", f.w()), e))?;
        Ok(Some(f))
    }

    /// Removes both FIFOs, so nobody attaches to a pipe with no run_erl behind it.
    pub fn unlink(&self) {
        let _ = std::fs::remove_file(self.r());
        let _ = std::fs::remove_file(self.w());
    }
}

fn mkfifo(path: &str) -> Result<(), Errno> {
    match nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}
