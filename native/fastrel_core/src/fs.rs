// SPDX-License-Identifier: Apache-2.0
//! The core's few file-system rules: an output is written whole or not at all, and an
//! OS error is named as Erlang's `file` module names it.
//!
//! Every output goes to a temporary file beside its target and is renamed over it only
//! once complete, so a reader (or a crash) never meets half a file. Temporary names hold
//! the OS pid and a process-wide sequence number: two calls in one VM (two Erlang
//! processes writing the same release) and two VMs on one directory never share one.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary file beside a target, removed when dropped unless [`Temp::commit`] renamed
/// it over the target.
#[derive(Debug)]
pub struct Temp {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Temp {
    /// Names a new temporary file beside `target` (`.NAME.tmpPID.SEQ`, hidden, in the
    /// same directory so that the rename stays on one file system); nothing is created.
    ///
    /// # Errors
    ///
    /// `EISDIR` when `target` has no file name (`/`, `..`).
    pub fn beside(target: &Path) -> io::Result<Temp> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| io::Error::from_raw_os_error(nix::libc::EISDIR))?;
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp{}.{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
        Ok(Temp { tmp: target.with_file_name(tmp_name), target: target.to_path_buf(), committed: false })
    }

    /// Writes `data` to a new temporary file beside `target`.
    ///
    /// # Errors
    ///
    /// Creating or writing the temporary file; nothing is left behind then.
    pub fn write(target: &Path, data: &[u8]) -> io::Result<Temp> {
        let temp = Temp::beside(target)?;
        let mut f = std::fs::File::create(&temp.tmp)?;
        f.write_all(data)?;
        f.flush()?;
        Ok(temp)
    }

    /// The temporary file's name, for a writer that creates the file itself.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the temporary file over the target.
    ///
    /// # Errors
    ///
    /// The rename's; the temporary file is removed then.
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// An output ready to be put in place by [`Staged::commit`]: its bytes in a temporary file,
/// or nothing to write because the target already holds exactly these bytes.
#[derive(Debug)]
pub enum Staged {
    /// New content, renamed over the target on commit.
    New(Temp),
    /// The target's content is already the output's: commit only sets its modification
    /// time, as writing it would.
    Same(PathBuf),
}

impl Staged {
    /// Compares `data` with `target` and, unless the target (a regular file) holds the same
    /// bytes, writes them to a temporary file beside it.
    ///
    /// Replacing a file costs the disk far more than reading it: a new inode, its blocks
    /// allocated and written (ext4 starts that inside the rename), the old file's freed:
    /// 160-190 us per 70 KB `.script` on this project's ext4 disk, against ~20 us to read
    /// and compare it. Outputs are often rewritten unchanged (a release rebuilt as it was).
    ///
    /// # Errors
    ///
    /// Creating or writing the temporary file; nothing is left behind then.
    pub fn stage(target: &Path, data: &[u8]) -> io::Result<Staged> {
        if holds(target, data) {
            Ok(Staged::Same(target.to_path_buf()))
        } else {
            Temp::write(target, data).map(Staged::New)
        }
    }

    /// Puts the output in place: renames the temporary file over the target, or sets the
    /// unchanged target's modification (and change) time to now. Where that fails (a file
    /// we may not touch but could replace, or one removed since it was compared), the
    /// bytes are written and renamed into place after all. The time is set through the
    /// name, not a descriptor kept from the comparison: a file removed in between is then
    /// written again rather than left missing; one replaced in between by another writer
    /// gets the time, as if this call had committed first.
    ///
    /// # Errors
    ///
    /// The rename's, or writing the temporary file; nothing is left behind then.
    pub fn commit(self, data: &[u8]) -> io::Result<()> {
        match self {
            Staged::New(temp) => temp.commit(),
            Staged::Same(target) => {
                let now = nix::sys::time::TimeSpec::UTIME_NOW;
                let keep = nix::sys::time::TimeSpec::UTIME_OMIT;
                let flag = nix::sys::stat::UtimensatFlags::NoFollowSymlink;
                match nix::sys::stat::utimensat(nix::fcntl::AT_FDCWD, &target, &keep, &now, flag) {
                    Ok(()) => Ok(()),
                    Err(_) => Temp::write(&target, data)?.commit(),
                }
            }
        }
    }
}

/// Whether `target` is a regular file holding exactly `data`.
fn holds(target: &Path, data: &[u8]) -> bool {
    let same_size =
        std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_file() && m.len() == data.len() as u64);
    same_size && std::fs::read(target).is_ok_and(|old| old == data)
}

/// Writes `data` to `path` through a temporary file renamed into place.
///
/// # Errors
///
/// Creating, writing or renaming the temporary file; nothing is left behind then.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    Temp::write(path, data)?.commit()
}

/// The POSIX error atom Erlang's `file` module would report for `e`.
pub fn posix_name(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(1) => "eperm",
        Some(2) => "enoent",
        Some(5) => "eio",
        Some(9) => "ebadf",
        Some(12) => "enomem",
        Some(13) => "eacces",
        Some(16) => "ebusy",
        Some(17) => "eexist",
        Some(18) => "exdev",
        Some(20) => "enotdir",
        Some(21) => "eisdir",
        Some(22) => "einval",
        Some(24) => "emfile",
        Some(27) => "efbig",
        Some(28) => "enospc",
        Some(30) => "erofs",
        Some(36) => "enametoolong",
        Some(40) => "eloop",
        Some(122) => "edquot",
        _ => "eio",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fastrel-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn temporary_names_differ_between_calls_and_threads() {
        let target = Path::new("/nowhere/out.boot");
        let names: Vec<PathBuf> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4).map(|_| s.spawn(|| Temp::beside(target).unwrap().path().to_path_buf())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let pid = format!(".out.boot.tmp{}.", std::process::id());
        assert!(names
            .iter()
            .all(|n| n.parent() == Some(Path::new("/nowhere"))
                && n.file_name().unwrap().to_string_lossy().starts_with(&pid)));
    }

    #[test]
    fn write_atomic_replaces_the_target_and_leaves_no_temporary_file() {
        let dir = scratch("replace");
        let target = dir.join("f");
        std::fs::write(&target, "old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(listing(&dir), ["f"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_rename_or_an_uncommitted_temp_leaves_nothing() {
        let dir = scratch("fail");
        // A directory where the file should go: rename(2) refuses to put a file over it.
        std::fs::create_dir_all(dir.join("d/x")).unwrap();
        let e = write_atomic(&dir.join("d"), b"data").unwrap_err();
        assert_eq!(posix_name(&e), "eisdir", "{e}");
        assert_eq!(listing(&dir), ["d"]);
        drop(Temp::write(&dir.join("g"), b"data").unwrap());
        assert_eq!(listing(&dir), ["d"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An output that is already there is not written again, but its modification time
    /// moves as a write would move it; other bytes, or a target that is not a regular
    /// file, take the temporary file and the rename.
    #[test]
    fn an_unchanged_output_keeps_its_file_and_gets_a_new_modification_time() {
        use std::os::unix::fs::MetadataExt;
        let dir = scratch("staged");
        let target = dir.join("r.boot");
        std::fs::write(&target, "same").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options().write(true).open(&target).unwrap().set_modified(old).unwrap();
        let before = std::fs::metadata(&target).unwrap();
        let staged = Staged::stage(&target, b"same").unwrap();
        assert!(matches!(staged, Staged::Same(_)), "{staged:?}");
        staged.commit(b"same").unwrap();
        let after = std::fs::metadata(&target).unwrap();
        assert_eq!(after.ino(), before.ino(), "the same file");
        assert!(after.modified().unwrap() > before.modified().unwrap() + std::time::Duration::from_secs(3600));
        assert_eq!(std::fs::read(&target).unwrap(), b"same");
        assert_eq!(listing(&dir), ["r.boot"]);

        // Removed between the comparison and the commit: written again.
        let staged = Staged::stage(&target, b"same").unwrap();
        assert!(matches!(staged, Staged::Same(_)), "{staged:?}");
        std::fs::remove_file(&target).unwrap();
        staged.commit(b"same").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"same");
        assert_eq!(listing(&dir), ["r.boot"]);

        let kept = std::fs::metadata(&target).unwrap().ino();
        let staged = Staged::stage(&target, b"other").unwrap();
        assert!(matches!(staged, Staged::New(_)), "{staged:?}");
        staged.commit(b"other").unwrap();
        assert_ne!(std::fs::metadata(&target).unwrap().ino(), kept, "replaced");
        assert_eq!(std::fs::read(&target).unwrap(), b"other");
        // Same bytes behind a symlink: replaced by a regular file, as any other output is.
        std::fs::write(dir.join("real"), "other").unwrap();
        std::fs::remove_file(&target).unwrap();
        std::os::unix::fs::symlink("real", &target).unwrap();
        let staged = Staged::stage(&target, b"other").unwrap();
        assert!(matches!(staged, Staged::New(_)), "{staged:?}");
        staged.commit(b"other").unwrap();
        assert!(std::fs::symlink_metadata(&target).unwrap().file_type().is_file());
        assert_eq!(listing(&dir), ["r.boot", "real"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_target_without_a_file_name_is_refused() {
        assert_eq!(posix_name(&Temp::beside(Path::new("/")).unwrap_err()), "eisdir");
        assert_eq!(posix_name(&write_atomic(Path::new("a/.."), b"x").unwrap_err()), "eisdir");
    }

    #[test]
    fn posix_names_are_those_of_erlang_file() {
        let name = |n| posix_name(&io::Error::from_raw_os_error(n));
        assert_eq!(
            [name(2), name(13), name(21), name(28), name(9999)],
            ["enoent", "eacces", "eisdir", "enospc", "eio"]
        );
        assert_eq!(posix_name(&io::Error::other("no OS error")), "eio");
    }
}
