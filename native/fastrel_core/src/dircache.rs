//! Which `.app` files a directory holds, remembered between calls.
//!
//! Finding an application means probing every directory of the search path before the one
//! that holds it: for a 34-application release some 600 failed lookups per call, most of
//! the time the files are read. Directory listings are cached by device and inode and
//! revalidated with one `stat` per directory per call: any entry added, removed or renamed
//! changes the directory's mtime. As git does for its index, a listing is only cached when
//! the directory's mtime is at least two seconds older than the listing itself, so a
//! change within the same (possibly coarse) mtime tick can never hide behind it.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

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
    mtime: (i64, i64),
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
    let mtime = (meta.mtime(), meta.mtime_nsec());
    {
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = cache.as_ref().and_then(|c| c.get(&key)) {
            if e.mtime == mtime {
                return AppNames::Listed(e.names.clone());
            }
        }
    }
    let listed_at = SystemTime::now();
    let stable = meta.modified().is_ok_and(|m| m + STABLE_AFTER <= listed_at);
    if !stable {
        return AppNames::Unknown;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return AppNames::Unknown };
    let names: HashSet<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".app"))
        .collect();
    let names = Arc::new(names);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, Entry { mtime, names: names.clone() });
    AppNames::Listed(names)
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

    #[test]
    fn old_directories_are_listed_and_revalidated() {
        let dir = std::env::temp_dir().join(format!("fastrel-dircache-old-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.app"), "x").unwrap();
        let old = std::fs::File::open(&dir).unwrap();
        old.set_modified(SystemTime::now() - Duration::from_secs(60)).unwrap();
        let AppNames::Listed(names) = app_names(dir.to_str().unwrap()) else { panic!("not listed") };
        assert!(names.contains("a.app"));
        // A new entry moves the mtime: the stale listing must not be used.
        std::fs::write(dir.join("b.app"), "x").unwrap();
        assert!(matches!(app_names(dir.to_str().unwrap()), AppNames::Unknown));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
