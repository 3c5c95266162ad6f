// SPDX-License-Identifier: Apache-2.0
//! Which `.app` files a directory holds, and what they parse to, remembered between calls.
//!
//! Finding an application means probing every directory of the search path before the one
//! that holds it: for a 34-application release some 600 failed lookups per call, most of
//! the time the files are read. Directory listings are cached by device and inode and
//! revalidated with one `stat` per directory per call: any entry added, removed or renamed
//! changes the directory's ctime, which unlike the mtime no one can set back (`tar x`,
//! `rsync -a` and `cp -a` restore mtimes). As git does for its index, a listing is only
//! cached when both times are at least two seconds older than the listing itself, so a
//! change within the same (possibly coarse) tick can never hide behind it.
//!
//! Parsed `.app` files are remembered the same way, by device and inode, revalidated by
//! size, mtime and ctime (which no one can set back) from the `stat` the lookup makes
//! anyway, and only once both times are two seconds older than the read.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::release::ReadFail;
use crate::term::Term;

/// What a search-path directory can tell about the `.app` files in it.
#[derive(Clone)]
pub(crate) enum AppNames {
    /// Not a directory (or not there): nothing can be found in it.
    NotADir,
    /// The names of the `.app` files it holds.
    Listed(Arc<HashSet<String>>),
    /// Changed too recently to trust a listing: probe each name.
    Unknown,
}

struct Entry {
    times: [(i64, i64); 2],
    names: Arc<HashSet<String>>,
}

/// Bound on remembered directories; past it the cache starts afresh.
const MAX_ENTRIES: usize = 4096;
const STABLE_AFTER: Duration = Duration::from_secs(2);

static CACHE: Mutex<Option<HashMap<(u64, u64), Entry>>> = Mutex::new(None);

/// The `.app` names in `dir` (relative names resolve against the process's cwd).
pub(crate) fn app_names(dir: &str) -> AppNames {
    let path = if dir.is_empty() { "." } else { dir };
    let Ok(meta) = std::fs::metadata(path) else { return AppNames::NotADir };
    if !meta.is_dir() {
        return AppNames::NotADir;
    }
    let key = (meta.dev(), meta.ino());
    let times = [(meta.mtime(), meta.mtime_nsec()), (meta.ctime(), meta.ctime_nsec())];
    {
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = cache.as_ref().and_then(|c| c.get(&key)) {
            if e.times == times {
                return AppNames::Listed(e.names.clone());
            }
        }
    }
    if !stable(&times) {
        return AppNames::Unknown;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return AppNames::Unknown };
    let names: HashSet<String> =
        entries.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.ends_with(".app")).collect();
    let names = Arc::new(names);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, Entry { times, names: names.clone() });
    AppNames::Listed(names)
}

/// Identity and change stamp of a file, from one `stat`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    // The stat fields' types differ between platforms (st_dev is 32 bits on some): the
    // casts are the identity only here.
    #[allow(clippy::unnecessary_cast)]
    pub(crate) fn of(st: &nix::sys::stat::FileStat) -> FileStamp {
        FileStamp {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: st.st_size as i64,
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as i64),
        }
    }

    /// Returns true if and only if both times are old enough for a read to be trusted.
    fn stable(&self) -> bool {
        stable(&[self.mtime, self.ctime])
    }
}

/// Returns true if and only if every `(secs, nsecs)` time is at least [`STABLE_AFTER`] old.
fn stable(times: &[(i64, i64)]) -> bool {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let limit = now - STABLE_AFTER.as_secs() as i64;
    times.iter().all(|(secs, _)| *secs < limit)
}

type Parsed = Result<Arc<Term>, ReadFail>;

/// Keyed by (device, inode).
type TermCache = HashMap<(u64, u64), (FileStamp, Parsed)>;

static TERMS: Mutex<Option<TermCache>> = Mutex::new(None);

/// The remembered parse of the file with this stamp, if any.
pub(crate) fn cached_term(stamp: &FileStamp) -> Option<Parsed> {
    let cache = TERMS.lock().unwrap_or_else(|p| p.into_inner());
    match cache.as_ref()?.get(&(stamp.dev, stamp.ino)) {
        Some((s, parsed)) if s == stamp => Some(parsed.clone()),
        _ => None,
    }
}

/// Remembers a parse, if the file has been left alone long enough to trust its stamp.
pub(crate) fn store_term(stamp: FileStamp, parsed: &Parsed) {
    if !stamp.stable() {
        return;
    }
    let mut cache = TERMS.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert((stamp.dev, stamp.ino), (stamp, parsed.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_directories_are_probed_not_listed() {
        let dir = std::env::temp_dir().join(format!("fastrel-dircache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.app"), "x").unwrap();
        assert!(matches!(app_names(dir.to_str().unwrap()), AppNames::Unknown));
        assert!(matches!(app_names(dir.join("a.app").to_str().unwrap()), AppNames::NotADir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn stamp(ino: u64, size: i64, secs_ago: i64) -> FileStamp {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
        FileStamp { dev: u64::MAX, ino, size, mtime: (now - secs_ago, 0), ctime: (now - secs_ago, 0) }
    }

    #[test]
    fn parses_are_reused_only_for_the_same_stable_stamp() {
        let parsed: Parsed = Ok(Arc::new(Term::atom("x")));
        store_term(stamp(1, 10, 60), &parsed);
        assert!(cached_term(&stamp(1, 10, 60)).is_some());
        // Same file, other size or times: a changed file is read again.
        assert!(cached_term(&stamp(1, 11, 60)).is_none());
        assert!(cached_term(&stamp(1, 10, 59)).is_none());
        // A file changed within the last two seconds is never remembered.
        store_term(stamp(2, 10, 0), &parsed);
        assert!(cached_term(&stamp(2, 10, 0)).is_none());
    }

    #[test]
    fn a_restored_mtime_does_not_make_a_directory_trusted() {
        // tar x, rsync -a and cp -a set mtimes back; the ctime still says "just changed".
        let dir = std::env::temp_dir().join(format!("fastrel-dircache-old-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.app"), "x").unwrap();
        std::fs::File::open(&dir).unwrap().set_modified(SystemTime::now() - Duration::from_secs(60)).unwrap();
        assert!(matches!(app_names(dir.to_str().unwrap()), AppNames::Unknown));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn settled_directories_are_listed() {
        // The crate's own sources were checked out well before the tests run.
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        match app_names(src) {
            AppNames::Listed(names) => assert!(names.is_empty()),
            AppNames::Unknown => eprintln!("note: {src} changed in the last 2 s; listing not cached"),
            AppNames::NotADir => panic!("{src} is a directory"),
        }
    }
}
