// SPDX-License-Identifier: Apache-2.0
//! A tar writer producing what `erl_tar` writes for `systools:make_tar`: ustar headers with
//! the file-type bits in the mode, empty user/group names, a 7-digit checksum, a name
//! split into prefix/name when it is ASCII and too long, a PAX `path` record otherwise,
//! directories only when empty, symlinks followed, entries in `readdir` order (sorted
//! when reproducible), and two zero blocks at the end.
//!
//! Unlike `erl_tar` it refuses what would make an unsafe or silently wrong tarball: an
//! entry name that is absolute or climbs above the root with `..`, a symlink met inside a
//! directory being packed that points out of it (unless `follow_outside`), and a file
//! whose size changes while it is read (a `/proc` file reports 0 bytes). Modes are packed
//! without the group and world write bits.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const BLOCK: usize = 512;

/// How entry metadata is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Normalise {
    /// Fixed mtime, owner 0/0 and sorted directory listings (two runs, same bytes).
    pub reproducible: Option<u64>,
    /// Follow symlinks found inside a packed directory that point out of it (packing
    /// their targets) instead of refusing them.
    pub follow_outside: bool,
    /// Pack a symlink (named, or found inside a packed directory) whose target is a plain
    /// name (a file beside it) as a symlink, not as a copy of its target: fastrel's programs are
    /// one executable and three such links, and `erl_tar:extract/2` accepts those.
    pub keep_links_beside: bool,
}

/// What a header says about an entry besides its name.
#[derive(Clone, Copy)]
struct Meta {
    /// With the file-type bits, as erl_tar writes it.
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: u64,
    typeflag: u8,
}

impl Meta {
    fn of(m: &fs::Metadata, size: u64, typeflag: u8) -> Meta {
        Meta {
            mode: m.mode() & !0o022,
            uid: u64::from(m.uid()),
            gid: u64::from(m.gid()),
            size,
            mtime: m.mtime().max(0) as u64,
            typeflag,
        }
    }
}

/// The target of `path` if it is a symlink to a regular file in the same directory, by a
/// plain ASCII name that fits a ustar header.
fn link_beside(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?.into_os_string().into_string().ok()?;
    let plain = !target.is_empty() && target.len() <= 100 && target.is_ascii() && !target.contains('/');
    let file = path.parent().is_some_and(|dir| fs::metadata(dir.join(&target)).is_ok_and(|m| m.is_file()));
    (plain && target != "." && target != ".." && file).then_some(target)
}

/// A tar stream over any writer.
pub struct TarWriter<W: Write> {
    out: W,
    norm: Normalise,
}

/// Why an entry could not be added: the source path and the OS error.
#[derive(Debug)]
pub struct AddError {
    /// The file or directory being added.
    pub path: String,
    /// What the OS said.
    pub error: io::Error,
    /// Set when fastrel itself refused the entry (`error` is then meaningless).
    pub refused: Option<Refusal>,
}

/// What fastrel refuses to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The entry's name in the tarball is absolute or climbs above its root.
    UnsafeName(String),
    /// A symlink inside a packed directory points out of it, to this (resolved) path.
    SymlinkOutside(String),
    /// The file's size changed between `stat` and reading it.
    SizeChanged,
}

impl AddError {
    /// A refusal of `path`.
    pub fn refused(path: &Path, why: Refusal) -> AddError {
        AddError { path: path.to_string_lossy().into_owned(), error: io::Error::other("refused"), refused: Some(why) }
    }
}

/// Whether `name` stays under the directory it is unpacked in: not absolute, and no `..`
/// climbing above where it started (what `erl_tar:extract` and `filelib:safe_relative_path`
/// accept).
pub fn safe_name(name: &str) -> bool {
    if name.starts_with('/') {
        return false;
    }
    let mut depth = 0usize;
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

fn octal(field: &mut [u8], value: u64) -> bool {
    let digits = format!("{value:o}");
    let width = field.len() - 1;
    if digits.len() > width {
        return false;
    }
    let padded = format!("{digits:0>width$}");
    field[..width].copy_from_slice(padded.as_bytes());
    true
}

/// `name` in ustar's split form (`prefix`, `name`), as erl_tar splits it, if it can be.
fn split_ustar(name: &str) -> Option<(&str, String)> {
    if name.len() <= 100 || !name.is_ascii() {
        return None;
    }
    let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
    let last = *parts.last()?;
    if last.len() >= 100 {
        return None;
    }
    let prefix = parts[..parts.len() - 1].join("/");
    (prefix.len() <= 155).then_some((last, prefix))
}

/// One PAX record, its length prefix counted in characters first and then, if the UTF-8
/// bytes differ, recounted once in bytes (erl_tar's arithmetic).
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let base = key.chars().count() + value.chars().count() + 3;
    let len = base + base.to_string().len();
    let rec = format!("{len} {key}={value}\n");
    if rec.len() == len {
        rec.into_bytes()
    } else {
        format!("{} {key}={value}\n", rec.len()).into_bytes()
    }
}

impl<W: Write> TarWriter<W> {
    /// A tar stream into `out`.
    pub fn new(out: W, norm: Normalise) -> TarWriter<W> {
        TarWriter { out, norm }
    }

    fn header(&mut self, name: &str, meta: Meta) -> io::Result<()> {
        self.header_linked(name, meta, "")
    }

    /// A symlink entry: the header alone, with the link's target.
    fn link(&mut self, name: &str, target: &str, meta: Meta) -> io::Result<()> {
        self.header_linked(name, meta, target)
    }

    fn header_linked(&mut self, name: &str, meta: Meta, linkname: &str) -> io::Result<()> {
        let Meta { mode, size, typeflag, .. } = meta;
        let (uid, gid, mtime) = match self.norm.reproducible {
            Some(t) => (0, 0, t),
            None => (meta.uid, meta.gid, meta.mtime),
        };
        let mut b = [0u8; BLOCK];
        let mut pax: Vec<(&str, String)> = Vec::new();
        if name.len() > 100 || !name.is_ascii() {
            match split_ustar(name) {
                Some((last, prefix)) => {
                    b[..last.len()].copy_from_slice(last.as_bytes());
                    b[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
                }
                None => pax.push(("path", name.to_string())),
            }
        } else {
            b[..name.len()].copy_from_slice(name.as_bytes());
        }
        octal(&mut b[100..108], u64::from(mode));
        if !octal(&mut b[108..116], uid) {
            pax.push(("uid", uid.to_string()));
        }
        if !octal(&mut b[116..124], gid) {
            pax.push(("gid", gid.to_string()));
        }
        if !octal(&mut b[124..136], size) {
            pax.push(("size", size.to_string()));
        }
        octal(&mut b[136..148], mtime);
        b[156] = typeflag;
        b[157..157 + linkname.len()].copy_from_slice(linkname.as_bytes());
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        octal(&mut b[329..337], 0);
        octal(&mut b[337..345], 0);
        let sum: u64 = b[..148].iter().chain(&b[156..]).map(|&x| u64::from(x)).sum::<u64>() + 8 * 32;
        octal(&mut b[148..156], sum);
        if !pax.is_empty() {
            pax.sort();
            let data: Vec<u8> = pax.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
            let (dir, base) = match name.rfind('/') {
                Some(i) => (&name[..i], &name[i + 1..]),
                None => ("", name),
            };
            let pax_name =
                if dir.is_empty() { format!("PaxHeaders.0/{base}") } else { format!("{dir}/PaxHeaders.0/{base}") };
            let mut ascii: String = pax_name.chars().filter(char::is_ascii).collect();
            if ascii.len() > 100 {
                ascii.truncate(99);
            }
            self.header(
                &ascii,
                Meta { mode: 0o100644, uid: 0, gid: 0, size: data.len() as u64, mtime, typeflag: b'x' },
            )?;
            self.out.write_all(&data)?;
            self.pad(data.len() as u64)?;
        }
        self.out.write_all(&b)
    }

    fn pad(&mut self, len: u64) -> io::Result<()> {
        let rest = (BLOCK - (len % BLOCK as u64) as usize) % BLOCK;
        self.out.write_all(&[0u8; BLOCK][..rest])
    }

    /// Adds a file or a directory at `to`, following symlinks: `from` itself always, those
    /// inside it only while they stay inside it (or with `follow_outside`).
    ///
    /// Depth first with an explicit stack, not recursion: a directory tree as deep as
    /// paths allow must not overflow the small stack of the dirty scheduler running the NIF.
    pub fn add(&mut self, from: &Path, to: &str) -> Result<(), AddError> {
        if !safe_name(to) {
            return Err(AddError::refused(from, Refusal::UnsafeName(to.to_string())));
        }
        let mut stack = vec![(from.to_path_buf(), to.to_string())];
        while let Some((path, name)) = stack.pop() {
            self.add_one(&path, &name, from, &mut stack)?;
        }
        Ok(())
    }

    /// Adds a file, or pushes a directory's entries on `stack` (first one on top).
    fn add_one(
        &mut self,
        from: &Path,
        to: &str,
        root: &Path,
        stack: &mut Vec<(std::path::PathBuf, String)>,
    ) -> Result<(), AddError> {
        let err = |e: io::Error| AddError { path: from.to_string_lossy().into_owned(), error: e, refused: None };
        if from != root
            && !self.norm.follow_outside
            && fs::symlink_metadata(from).is_ok_and(|m| m.file_type().is_symlink())
        {
            // A dangling link falls through to the metadata error below, as erl_tar's.
            if let (Ok(target), Ok(top)) = (fs::canonicalize(from), fs::canonicalize(root)) {
                if !target.starts_with(&top) {
                    return Err(AddError::refused(
                        from,
                        Refusal::SymlinkOutside(target.to_string_lossy().into_owned()),
                    ));
                }
            }
        }
        if self.norm.keep_links_beside {
            if let Some(target) = link_beside(from) {
                let meta = fs::symlink_metadata(from).map_err(err)?;
                return self.link(to, &target, Meta::of(&meta, 0, b'2')).map_err(err);
            }
        }
        let meta = fs::metadata(from).map_err(err)?;
        if meta.is_dir() {
            let mut names: Vec<std::ffi::OsString> =
                fs::read_dir(from).map_err(err)?.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
            if self.norm.reproducible.is_some() {
                names.sort();
            }
            if names.is_empty() {
                return self.header(&format!("{to}/"), Meta::of(&meta, 0, b'5')).map_err(err);
            }
            stack.extend(names.iter().rev().map(|n| (from.join(n), format!("{to}/{}", n.to_string_lossy()))));
            return Ok(());
        }
        if !meta.is_file() {
            use std::os::unix::fs::FileTypeExt;
            let ft = meta.file_type();
            let flag = if ft.is_char_device() {
                b'3'
            } else if ft.is_block_device() {
                b'4'
            } else {
                b'6'
            };
            return self.header(to, Meta::of(&meta, 0, flag)).map_err(err);
        }
        let mut file = fs::File::open(from).map_err(err)?;
        self.header(to, Meta::of(&meta, meta.len(), b'0')).map_err(err)?;
        // Exactly the size in the header, even if the file changes while it is read.
        let copied = io::copy(&mut (&mut file).take(meta.len()), &mut self.out).map_err(err)?;
        if copied < meta.len() {
            io::copy(&mut io::repeat(0).take(meta.len() - copied), &mut self.out).map_err(err)?;
        }
        self.pad(meta.len()).map_err(err)?;
        // The entry is complete either way (the stream stays readable), but a file that
        // shrank or grew (a /proc file says 0 bytes) is not packed as if it were right.
        let grew = file.read(&mut [0u8; 1]).map_err(err)? > 0;
        if copied < meta.len() || grew {
            return Err(AddError::refused(from, Refusal::SizeChanged));
        }
        Ok(())
    }

    /// Writes the end-of-archive blocks and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK])?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(name: &str) -> Vec<u8> {
        let mut w = TarWriter::new(Vec::new(), Normalise { reproducible: Some(0), ..Normalise::default() });
        w.header(name, Meta { mode: 0o100644, uid: 0, gid: 0, size: 0, mtime: 0, typeflag: b'0' }).unwrap();
        w.out
    }

    #[test]
    fn header_fields_are_erl_tars() {
        let h = header_of("lib/a-1/ebin/a.app");
        assert_eq!(&h[100..108], b"0100644\0");
        assert_eq!(&h[124..136], b"00000000000\0");
        assert_eq!(&h[257..265], b"ustar\x0000");
        assert_eq!(&h[265..329], &[0u8; 64][..], "no user or group names");
        assert_eq!(&h[329..345], b"0000000\x000000000\0");
        let sum: u64 = h[..148].iter().chain(&h[156..]).map(|&x| u64::from(x)).sum::<u64>() + 256;
        assert_eq!(std::str::from_utf8(&h[148..155]).unwrap(), format!("{sum:07o}"));
        assert_eq!(h[155], 0);
    }

    #[test]
    fn long_ascii_names_split_and_others_get_pax() {
        let long = format!("{}/{}", "d".repeat(60), "f".repeat(60));
        let h = header_of(&long);
        assert_eq!(h.len(), 512);
        assert_eq!(&h[..60], "f".repeat(60).as_bytes());
        assert_eq!(&h[345..405], "d".repeat(60).as_bytes());
        let h = header_of("tree/d1/ünï.txt");
        assert_eq!(h.len(), 3 * 512, "pax header, its data, then the entry");
        assert!(h.starts_with(b"tree/d1/PaxHeaders.0/n.txt\0"));
        assert_eq!(h[156], b'x');
        assert!(
            h[512..].starts_with("24 path=tree/d1/ünï.txt\n".as_bytes())
                || h[512..].starts_with("26 path=tree/d1/ünï.txt\n".as_bytes())
        );
        assert_eq!(&h[1024..1030], &[0u8; 6], "the real header has no name");
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("fastrel-tar-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("tree/sub")).unwrap();
        fs::write(dir.join("tree/sub/f"), "f").unwrap();
        fs::write(dir.join("outside"), "secret").unwrap();
        dir
    }

    fn writer(follow_outside: bool) -> TarWriter<Vec<u8>> {
        TarWriter::new(Vec::new(), Normalise { reproducible: Some(0), follow_outside, ..Normalise::default() })
    }

    #[test]
    fn names_outside_the_root_are_refused() {
        for bad in ["/etc/x", "../x", "a/../../x", "lib/a-1/../../../escape/ebin/a.app", ".."] {
            assert!(!safe_name(bad), "{bad}");
        }
        for good in ["lib/a-1/ebin/a.app", "a/../b", "./a", "a//b", "releases/1/start.boot"] {
            assert!(safe_name(good), "{good}");
        }
        let dir = scratch("names");
        let e = writer(false).add(&dir.join("outside"), "../x").unwrap_err();
        assert_eq!(e.refused, Some(Refusal::UnsafeName("../x".into())));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn symlinks_out_of_the_tree_are_refused_unless_followed() {
        let dir = scratch("links");
        std::os::unix::fs::symlink(dir.join("outside"), dir.join("tree/leak")).unwrap();
        std::os::unix::fs::symlink("sub/f", dir.join("tree/alias")).unwrap();
        let e = writer(false).add(&dir.join("tree"), "t").unwrap_err();
        let outside = fs::canonicalize(dir.join("outside")).unwrap().to_string_lossy().into_owned();
        assert_eq!(e.refused, Some(Refusal::SymlinkOutside(outside)));
        assert!(e.path.ends_with("tree/leak"));
        let mut w = writer(true);
        w.add(&dir.join("tree"), "t").unwrap();
        let bytes = w.finish().unwrap();
        assert!(bytes.windows(6).any(|x| x == b"secret"), "with follow_outside the target is packed");
        // Inside the tree: followed (packed as the file it points to), as erl_tar's dereference.
        fs::remove_file(dir.join("tree/leak")).unwrap();
        let mut w = writer(false);
        w.add(&dir.join("tree"), "t").unwrap();
        // The top path itself is what the caller named: followed even if it is a link.
        std::os::unix::fs::symlink(dir.join("outside"), dir.join("top")).unwrap();
        w.add(&dir.join("top"), "top").unwrap();
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn links_to_a_file_beside_them_can_be_kept_as_links() {
        let dir = scratch("beside");
        std::os::unix::fs::symlink("f", dir.join("tree/sub/heart")).unwrap();
        std::os::unix::fs::symlink("../sub/f", dir.join("tree/sub/far")).unwrap();
        std::os::unix::fs::symlink("nothing", dir.join("tree/sub/dangling")).unwrap();
        let pack = |keep_links_beside| {
            let mut w = TarWriter::new(
                Vec::new(),
                Normalise { reproducible: Some(0), keep_links_beside, ..Normalise::default() },
            );
            let r = w.add(&dir.join("tree"), "t");
            (r, w.finish().unwrap())
        };
        let (r, kept) = pack(true);
        // The dangling one is neither a file beside it nor readable: erl_tar's error.
        assert!(r.is_err_and(|e| e.path.ends_with("dangling")));
        fs::remove_file(dir.join("tree/sub/dangling")).unwrap();
        let (r, kept) = (pack(true).0, {
            let _ = kept;
            pack(true).1
        });
        r.unwrap();
        fs::write(dir.join("kept.tar"), &kept).unwrap();
        let listing = std::process::Command::new("tar").arg("tvf").arg(dir.join("kept.tar")).output().unwrap();
        let listing = String::from_utf8(listing.stdout).unwrap();
        assert!(listing.lines().any(|l| l.starts_with('l') && l.ends_with("t/sub/heart -> f")), "{listing}");
        assert!(listing.lines().any(|l| l.starts_with('-') && l.ends_with("t/sub/far")), "{listing}");
        let (r, followed) = pack(false);
        r.unwrap();
        fs::write(dir.join("followed.tar"), &followed).unwrap();
        let listing = std::process::Command::new("tar").arg("tvf").arg(dir.join("followed.tar")).output().unwrap();
        assert!(
            !String::from_utf8(listing.stdout).unwrap().contains(" -> "),
            "followed by default, as erl_tar's dereference"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_whose_size_is_wrong_is_refused_and_the_stream_stays_whole() {
        let mut w = writer(false);
        let e = w.add(Path::new("/proc/self/status"), "status").unwrap_err();
        assert_eq!(e.refused, Some(Refusal::SizeChanged));
        let out = w.finish().unwrap();
        assert_eq!(out.len() % BLOCK, 0);
    }

    #[test]
    fn group_and_world_write_bits_are_not_packed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("modes");
        fs::set_permissions(dir.join("tree/sub/f"), fs::Permissions::from_mode(0o777)).unwrap();
        let mut w = writer(false);
        w.add(&dir.join("tree/sub/f"), "f").unwrap();
        let out = w.finish().unwrap();
        assert_eq!(&out[100..108], b"0100755\0");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn pax_length_is_recounted_in_bytes() {
        assert_eq!(pax_record("path", "abc"), b"12 path=abc\n");
        // Counted in characters (9), then once in bytes (10): the record ends up 11 bytes
        // long, as erl_tar writes it.
        assert_eq!(pax_record("path", "ü"), "10 path=ü\n".as_bytes());
    }

    /// The names of the entries in a tar stream, in order (ustar names, or pax `path`s).
    fn names(tar: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let (mut at, mut pax) = (0, None);
        while at + 512 <= tar.len() && tar[at..at + 512] != [0; 512] {
            let h = &tar[at..at + 512];
            let field = |r: std::ops::Range<usize>| String::from_utf8_lossy(&h[r]).trim_end_matches('\0').to_string();
            let size = u64::from_str_radix(field(124..135).trim(), 8).unwrap() as usize;
            if h[156] == b'x' {
                let data = String::from_utf8_lossy(&tar[at + 512..at + 512 + size]).into_owned();
                pax = data.split_once(" path=").map(|(_, p)| p.trim_end_matches('\n').to_string());
            } else {
                let (prefix, name) = (field(345..500), field(0..100));
                out.push(pax.take().unwrap_or(if prefix.is_empty() { name } else { format!("{prefix}/{name}") }));
            }
            at += 512 + size.div_ceil(512) * 512;
        }
        out
    }

    /// A directory 1,500 levels deep, added on a thread with a dirty IO scheduler's stack
    /// (40 kilowords): depth first, in order, without recursion.
    #[test]
    fn deep_directory_trees_need_no_stack() {
        let root = std::env::temp_dir().join(format!("fastrel_tar_deep_{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let deep = root.join(["d"; 1500].join("/"));
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join("f"), b"x").unwrap();
        fs::create_dir_all(root.join("d/e")).unwrap();
        fs::write(root.join("d/a"), b"a").unwrap();
        let r = root.clone();
        let tar = std::thread::Builder::new()
            .stack_size(40 * 1024 * 8)
            .spawn(move || {
                let mut w = TarWriter::new(Vec::new(), Normalise { reproducible: Some(0), ..Normalise::default() });
                w.add(&r, "t").unwrap();
                w.finish().unwrap()
            })
            .unwrap()
            .join()
            .unwrap();
        fs::remove_dir_all(&root).unwrap();
        let names = names(&tar);
        assert_eq!(names.len(), 3, "{:?}", &names[..names.len().min(5)]);
        assert_eq!(names[0], "t/d/a");
        assert!(names[1].starts_with("t/d/d/d/") && names[1].ends_with("/d/f"), "the deep file, then");
        assert_eq!(names[2], "t/d/e/");
    }
}
