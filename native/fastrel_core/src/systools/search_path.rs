// SPDX-License-Identifier: Apache-2.0
//! Where systools looks for `.rel` and `.app` files, and what it finds there, remembered
//! between calls: `file:path_open/3` over the search path of one call, with the cache
//! that makes it cheap.
//!
//! systools finds an application by probing every directory of the search path before the
//! one that holds it: for a 34-application release some 600 failed lookups per call, and
//! N²/2 for N applications each in a directory of its own. Here each directory's `.app`
//! names are listed once per call and an application is looked for only where a listing
//! has it (the same first match, in search order). Listings are cached by device and inode
//! and revalidated with one `stat` per directory per call: any entry added, removed or
//! renamed changes the directory's ctime, which unlike the mtime no one can set back (`tar
//! x`, `rsync -a` and `cp -a` restore mtimes). As git does for its index, a listing is only
//! kept for later calls when both times are at least two seconds older than the listing
//! itself, so a change within the same (possibly coarse) tick can never hide behind it.
//!
//! Parsed `.app` files are remembered the same way, by device and inode, revalidated by
//! size, mtime and ctime (which no one can set back) from the `stat` the lookup makes
//! anyway, and only once both times are two seconds older than the read.

use crate::systools::fasthash::{FastMap, FastSet};
use crate::systools::filename::erl_join;
use crate::term::reader::{read_first_term, ReadErrorKind};
use crate::term::Term;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Why a term file could not be used.
#[derive(Clone)]
pub(crate) enum ReadFail {
    /// Not found on any of the directories (or unreadable).
    NotFound,
    /// Empty, scan error or no terminating dot: systools' `{read, File}`.
    Read,
    /// A syntax error at a line: systools' `{parse, File, {Line, erl_parse, Msg}}`.
    Parse(u32, String),
}

/// The search path of one call. For `.app` files, the cached listing below answers most
/// lookups without a system call; a file that is there costs one `stat` of its full name
/// (opening the directory first would cost an `open` and a `close` more, and each
/// directory is looked into for one name only).
pub struct SearchPath {
    dirs: Vec<String>,
    apps: Vec<OnceLock<AppNames>>,
    app_dirs: OnceLock<AppDirs>,
}

/// Which directories may hold each `.app` file, from one listing of every directory: an
/// application is then looked for only where it may be, not in every directory before
/// it (for a release of N freshly copied applications that was N²/2 probes per call).
struct AppDirs {
    /// `.app` name to the directories that list it, in search order.
    listed: FastMap<String, Vec<usize>>,
    /// Directories that could not be listed: any name may be in them.
    unlisted: Vec<usize>,
}

impl SearchPath {
    /// A search path over `dirs`.
    pub fn new(dirs: &[String]) -> SearchPath {
        SearchPath {
            dirs: dirs.to_vec(),
            apps: dirs.iter().map(|_| OnceLock::new()).collect(),
            app_dirs: OnceLock::new(),
        }
    }

    /// The indices of the directories that may hold `file` (an `.app` name), in search
    /// order: those whose listing has it, and those that could not be listed.
    pub(crate) fn app_candidates(&self, file: &str) -> Vec<usize> {
        let index = self.app_dirs.get_or_init(|| {
            let mut listed: FastMap<String, Vec<usize>> = FastMap::default();
            let mut unlisted = Vec::new();
            for (i, names) in self.apps.iter().enumerate() {
                match names.get_or_init(|| app_names(&self.dirs[i])) {
                    AppNames::NotADir => {}
                    AppNames::Listed(names) => names.iter().for_each(|n| listed.entry(n.clone()).or_default().push(i)),
                    AppNames::Unknown => unlisted.push(i),
                }
            }
            AppDirs { listed, unlisted }
        });
        let listed = index.listed.get(file).map_or(&[][..], Vec::as_slice);
        let mut out: Vec<usize> = listed.iter().chain(&index.unlisted).copied().collect();
        out.sort_unstable();
        out
    }

    /// The directories, in search order.
    pub(crate) fn dirs(&self) -> &[String] {
        &self.dirs
    }

    /// The first term of `file` in the `i`th directory, if it can be read. Parsed files
    /// are remembered by identity and stamp (see [`cached_term`]), so an unchanged
    /// `.app` is not read and parsed again on the next call.
    pub(crate) fn term_in(&self, i: usize, file: &str) -> Option<Result<Arc<Term>, ReadFail>> {
        let (full, st) = self.stat_in(i, file)?;
        let stamp = FileStamp::of(&st);
        if let Some(hit) = cached_term(&stamp) {
            return Some(hit);
        }
        let parsed = parse_bytes(&read_sized(&full, &st)?, file).map(Arc::new);
        store_term(stamp, &parsed);
        Some(parsed)
    }

    /// The full name and `stat` of a regular file `file` in the `i`th directory.
    fn stat_in(&self, i: usize, file: &str) -> Option<(String, nix::sys::stat::FileStat)> {
        if file.ends_with(".app") {
            match self.apps[i].get_or_init(|| app_names(&self.dirs[i])) {
                AppNames::NotADir => return None,
                AppNames::Listed(names) if !names.contains(file) => return None,
                AppNames::Listed(_) | AppNames::Unknown => {}
            }
        }
        let dir = if self.dirs[i].is_empty() { "." } else { &self.dirs[i] };
        let full = erl_join(dir, file);
        let st = nix::sys::stat::stat(full.as_str()).ok()?;
        (st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFREG).then_some((full, st))
    }
}

fn read_sized(full: &str, st: &nix::sys::stat::FileStat) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(st.st_size.max(0) as usize + 1);
    // Through `take` so the read does not stat the file again for a size hint.
    std::fs::File::open(full).ok()?.take(u64::MAX).read_to_end(&mut buf).ok()?;
    Some(buf)
}

fn parse_bytes(bytes: &[u8], file: &str) -> Result<Term, ReadFail> {
    read_first_term(bytes, file).map_err(|e| match e.kind {
        ReadErrorKind::Parse(msg) => ReadFail::Parse(e.line, msg),
        ReadErrorKind::Scan(_) | ReadErrorKind::Eof => ReadFail::Read,
    })
}

/// Reads the first term of `file`, searched like `file:path_open(Dirs, File, [read])`.
/// Returns the term and the full name it was opened under.
pub(crate) fn read_file(file: &str, dirs: &[String]) -> Result<(Term, String), ReadFail> {
    if file.starts_with('/') {
        let bytes = std::fs::read(file).map_err(|_| ReadFail::NotFound)?;
        return parse_bytes(&bytes, file).map(|t| (t, file.to_string()));
    }
    // file:path_open/3 moves on to the next directory only when the file is not there
    // (enoent, enotdir); any other failure to open it (a directory, no permission, a
    // symlink loop) ends the search.
    for dir in dirs {
        let full = erl_join(dir, file);
        match std::fs::metadata(&full) {
            Err(e) if matches!(e.raw_os_error(), Some(nix::libc::ENOENT | nix::libc::ENOTDIR)) => continue,
            Ok(m) if m.is_file() => {
                let bytes = std::fs::read(&full).map_err(|_| ReadFail::NotFound)?;
                return parse_bytes(&bytes, file).map(|t| (t, full));
            }
            _ => return Err(ReadFail::NotFound),
        }
    }
    Err(ReadFail::NotFound)
}

/// Why a file named by its full path could not be used.
pub(crate) enum PathFail {
    /// The OS error of opening it.
    Open(i32),
    /// A syntax error at a line.
    Parse(u32, String),
    /// Empty, scan error or no terminating dot.
    Read,
}

/// Reads the first term of the file at `full` (an appup); parses are remembered across
/// calls while the file keeps its stamp, as `.app` files are.
pub(crate) fn read_term_cached(full: &Path) -> Result<Arc<Term>, PathFail> {
    let st = nix::sys::stat::stat(full).map_err(|e| PathFail::Open(e as i32))?;
    let stamp = FileStamp::of(&st);
    let from_cache = |c: ReadFail| match c {
        ReadFail::NotFound => PathFail::Read,
        ReadFail::Read => PathFail::Read,
        ReadFail::Parse(l, m) => PathFail::Parse(l, m),
    };
    if let Some(hit) = cached_term(&stamp) {
        return hit.map_err(from_cache);
    }
    let bytes = std::fs::read(full).map_err(|e| PathFail::Open(e.raw_os_error().unwrap_or(5)))?;
    let parsed = match read_first_term(&bytes, &full.to_string_lossy()) {
        Ok(term) => Ok(Arc::new(term)),
        Err(e) => Err(match e.kind {
            ReadErrorKind::Parse(msg) => ReadFail::Parse(e.line, msg),
            _ => ReadFail::Read,
        }),
    };
    store_term(stamp, &parsed);
    parsed.map_err(from_cache)
}

/// What a search-path directory can tell about the `.app` files in it.
#[derive(Clone)]
enum AppNames {
    /// Not a directory (or not there): nothing can be found in it.
    NotADir,
    /// The names of the `.app` files it holds.
    Listed(Arc<FastSet<String>>),
    /// Could not be listed: probe each name.
    Unknown,
}

struct Entry {
    times: [(i64, i64); 2],
    names: Arc<FastSet<String>>,
}

/// Bound on remembered directories; past it the cache starts afresh.
const MAX_ENTRIES: usize = 4096;
const STABLE_AFTER: Duration = Duration::from_secs(2);

static CACHE: Mutex<Option<FastMap<(u64, u64), Entry>>> = Mutex::new(None);

/// The `.app` names in `dir` (relative names resolve against the process's cwd).
fn app_names(dir: &str) -> AppNames {
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
    let Ok(entries) = std::fs::read_dir(path) else { return AppNames::Unknown };
    let names: FastSet<String> =
        entries.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.ends_with(".app")).collect();
    let names = Arc::new(names);
    // A directory changed too recently is listed for this call only: a later change
    // within the same tick could hide behind a remembered listing.
    if !stable(&times) {
        return AppNames::Listed(names);
    }
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(FastMap::default);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, Entry { times, names: names.clone() });
    AppNames::Listed(names)
}

/// Identity and change stamp of a file, from one `stat`.
#[derive(Clone, PartialEq, Eq)]
struct FileStamp {
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
    fn of(st: &nix::sys::stat::FileStat) -> FileStamp {
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
type TermCache = FastMap<(u64, u64), (FileStamp, Parsed)>;

static TERMS: Mutex<Option<TermCache>> = Mutex::new(None);

/// The remembered parse of the file with this stamp, if any.
fn cached_term(stamp: &FileStamp) -> Option<Parsed> {
    let cache = TERMS.lock().unwrap_or_else(|p| p.into_inner());
    match cache.as_ref()?.get(&(stamp.dev, stamp.ino)) {
        Some((s, parsed)) if s == stamp => Some(parsed.clone()),
        _ => None,
    }
}

/// How many parsed files are remembered: a caller about to read `n` files can tell that
/// they cannot all be remembered, and parsing on several threads would pay off.
pub(crate) fn remembered() -> usize {
    TERMS.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map_or(0, FastMap::len)
}

/// Remembers a parse, if the file has been left alone long enough to trust its stamp.
fn store_term(stamp: FileStamp, parsed: &Parsed) {
    if !stamp.stable() {
        return;
    }
    let mut cache = TERMS.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(FastMap::default);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert((stamp.dev, stamp.ino), (stamp, parsed.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a listing of `dir` is remembered across calls.
    fn remembered(dir: &Path) -> bool {
        let meta = std::fs::metadata(dir).unwrap();
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        cache.as_ref().is_some_and(|c| c.contains_key(&(meta.dev(), meta.ino())))
    }

    #[test]
    fn fresh_directories_are_listed_for_one_call_only() {
        let dir = std::env::temp_dir().join(format!("fastrel-dircache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.app"), "x").unwrap();
        assert!(matches!(app_names(dir.to_str().unwrap()), AppNames::Listed(n) if n.contains("a.app") && n.len() == 1));
        assert!(!remembered(&dir));
        assert!(matches!(app_names(dir.join("a.app").to_str().unwrap()), AppNames::NotADir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_application_is_looked_for_only_where_a_listing_has_it() {
        let base = std::env::temp_dir().join(format!("fastrel-candidates-{}", std::process::id()));
        let dirs: Vec<String> =
            ["d0", "d1", "d2", "d3", "missing"].iter().map(|d| base.join(d).to_string_lossy().into_owned()).collect();
        for d in &dirs[..4] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(base.join("d1/x.app"), "x").unwrap();
        std::fs::write(base.join("d3/x.app"), "x").unwrap();
        std::fs::write(base.join("d2/y.app"), "y").unwrap();
        let path = SearchPath::new(&dirs);
        assert_eq!(path.app_candidates("x.app"), [1, 3]);
        assert_eq!(path.app_candidates("y.app"), [2]);
        assert!(path.app_candidates("z.app").is_empty());
        std::fs::remove_dir_all(&base).unwrap();
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
        assert!(matches!(app_names(dir.to_str().unwrap()), AppNames::Listed(_)));
        assert!(!remembered(&dir));
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
