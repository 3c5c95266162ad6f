// SPDX-License-Identifier: Apache-2.0
//! What the start script needs from `vm.args` before it can talk to the node: the node
//! name and its kind, the cookie, whether `-heart` is on (and its timeout, for the systemd
//! unit), and the flags that change how distribution is reached.
//!
//! The file is read the way `erlexec` reads an `-args_file` (so the answer is the VM's,
//! which the tests check against `erl` itself). An `-args_file F` inside is read in its
//! place (a relative `F` from the release root, where the start script runs the VM), and
//! `-extra` ends the VM's flags.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Files included through `-args_file` beyond this are ignored (a loop of files that
/// include each other is cut short by the `seen` check long before).
const MAX_FILES: usize = 32;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\x0c' | b'\r' | b'\t' | b'\x0b')
}

/// The arguments of one file's text, as erlexec reads them (`build_args_from_string`
/// with comments allowed, OTP 25 to 29): whitespace separates; `#` outside quotes ends
/// the argument and starts a comment up to the newline; `"..."` and `'...'` quote
/// (nothing is special inside); `\x` is `x`, whatever `x` is.
pub fn parse(text: &[u8]) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        if c == b'#' {
            i += text[i..].iter().position(|&c| c == b'\n').unwrap_or(text.len() - i);
            continue;
        }
        let mut arg = Vec::new();
        while let Some(&c) = text.get(i) {
            if is_space(c) || c == b'#' {
                break;
            }
            i += 1;
            match c {
                b'"' | b'\'' => {
                    let len = text[i..].iter().position(|&q| q == c).unwrap_or(text.len() - i);
                    arg.extend_from_slice(&text[i..i + len]);
                    i = (i + len + 1).min(text.len());
                }
                b'\\' => {
                    arg.extend(text.get(i));
                    i = (i + 1).min(text.len());
                }
                _ => arg.push(c),
            }
        }
        args.push(arg);
    }
    args
}

/// The VM's arguments from `file` with every `-args_file` read in place, up to `-extra`.
/// A file that cannot be read contributes nothing (the VM itself will say so when it
/// starts; the start script must still be able to run `stop` or `ping`).
pub fn expand(file: &Path, root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let mut stack: Vec<std::vec::IntoIter<Vec<u8>>> = Vec::new();
    let open = |path: PathBuf, seen: &mut Vec<PathBuf>| -> Option<std::vec::IntoIter<Vec<u8>>> {
        if seen.len() >= MAX_FILES || seen.contains(&path) {
            return None;
        }
        seen.push(path.clone());
        std::fs::read(&path).ok().map(|text| parse(&text).into_iter())
    };
    stack.extend(open(file.to_path_buf(), &mut seen));
    while let Some(top) = stack.last_mut() {
        let Some(arg) = top.next() else {
            stack.pop();
            continue;
        };
        match arg.as_slice() {
            b"-extra" => break,
            b"-args_file" => {
                if let Some(name) = top.next() {
                    let path = Path::new(OsStr::from_bytes(&name));
                    let path = if path.is_absolute() { path.to_path_buf() } else { root.join(path) };
                    if let Some(inner) = open(path, &mut seen) {
                        stack.push(inner);
                    }
                }
            }
            _ => out.push(arg),
        }
    }
    out
}

/// What the start script takes from the arguments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// `-sname` or `-name`, whichever comes first.
    pub name_type: Vec<u8>,
    /// Its value.
    pub name: Vec<u8>,
    /// The first `-setcookie`'s value.
    pub cookie: Vec<u8>,
    /// Whether `-heart` is given.
    pub heart: bool,
    /// `-proto_dist`, `-start_epmd` and `-epmd_module` with their values, in order.
    pub dist: Vec<Vec<u8>>,
    /// The last `-env HEART_BEAT_TIMEOUT N`'s `N` (each `-env` sets the variable again).
    pub heart_timeout: Vec<u8>,
}

/// Picks out the node's name, cookie and distribution flags.
pub fn scan(args: &[Vec<u8>]) -> Node {
    let mut node = Node::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_slice() {
            b"-sname" | b"-name" if node.name_type.is_empty() => {
                node.name_type = arg.clone();
                node.name = it.next().cloned().unwrap_or_default();
            }
            b"-setcookie" => {
                if let Some(v) = it.next().filter(|_| node.cookie.is_empty()) {
                    node.cookie = v.clone();
                }
            }
            b"-heart" => node.heart = true,
            b"-env" => {
                let (var, value) = (it.next(), it.next());
                if var.is_some_and(|v| v == b"HEART_BEAT_TIMEOUT") {
                    node.heart_timeout = value.cloned().unwrap_or_default();
                }
            }
            b"-proto_dist" | b"-start_epmd" | b"-epmd_module" => {
                node.dist.push(arg.clone());
                node.dist.extend(it.next().cloned());
            }
            _ => {}
        }
    }
    node
}

/// `value` as one word of POSIX sh: in single quotes, each `'` as `'\''`.
pub fn sh_quote(value: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &c in value {
        if c == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(c);
        }
    }
    out.push(b'\'');
    out
}

/// The assignments the start script evaluates.
pub fn assignments(node: &Node) -> Vec<u8> {
    let mut out = Vec::new();
    let mut set = |var: &str, value: &[u8]| {
        out.extend_from_slice(var.as_bytes());
        out.push(b'=');
        out.extend(sh_quote(value));
        out.push(b'\n');
    };
    set("NAME_TYPE", &node.name_type);
    set("NAME", &node.name);
    set("VM_COOKIE", &node.cookie);
    set("VM_HEART", if node.heart { b"yes" } else { b"" });
    let dist: Vec<u8> = node.dist.iter().flat_map(|d| [&b" "[..], d].concat()).collect();
    set("DIST_ARGS", &dist);
    set("VM_HEART_TIMEOUT", &node.heart_timeout);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        parse(text.as_bytes()).into_iter().map(|w| String::from_utf8(w).unwrap()).collect()
    }

    #[test]
    fn comments_end_at_the_newline_wherever_they_start() {
        assert_eq!(
            words("-sname a # -name b\n-setcookie c#d\n+K true"),
            ["-sname", "a", "-setcookie", "c", "+K", "true"]
        );
        assert_eq!(words("-setcookie \"x#y\"\n-heart"), ["-setcookie", "x#y", "-heart"]);
        assert_eq!(words("-setcookie x\\#y"), ["-setcookie", "x#y"]);
    }

    #[test]
    fn quotes_and_backslashes_make_one_argument() {
        assert_eq!(
            words("-env A 'one two'  -env B \"three  four\""),
            ["-env", "A", "one two", "-env", "B", "three  four"]
        );
        assert_eq!(words("a\\ b \"\" c\\"), ["a b", "", "c"]);
        assert_eq!(words("\t\r\n\x0b\x0c -x\t\ty  "), ["-x", "y"]);
        assert_eq!(words("'unterminated quote"), ["unterminated quote"]);
        assert!(words("# only a comment").is_empty());
    }

    #[test]
    fn the_first_name_and_cookie_win() {
        let args = parse(
            b"-name a@h -sname b -setcookie c1 -setcookie c2 -heart -proto_dist inet_tls -start_epmd false \
              -env HEART_BEAT_TIMEOUT 20 -env HEART_BEAT_TIMEOUT 30 -env HEART_COMMAND x",
        );
        let node = scan(&args);
        assert_eq!(node.name_type, b"-name");
        assert_eq!(node.name, b"a@h");
        assert_eq!(node.cookie, b"c1");
        assert!(node.heart);
        assert_eq!(node.dist, [&b"-proto_dist"[..], b"inet_tls", b"-start_epmd", b"false"]);
        assert_eq!(node.heart_timeout, b"30");
        assert_eq!(scan(&parse(b"-sname")).name, b"");
    }

    #[test]
    fn included_files_are_read_in_place_and_extra_ends_the_flags() {
        let dir = std::env::temp_dir().join(format!("fastrel-vmargs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("vm.args"), "-args_file sub/inc.args -setcookie outer\n-extra -sname late").unwrap();
        std::fs::write(dir.join("sub/inc.args"), "-sname inner -args_file sub/inc.args -args_file missing").unwrap();
        let args = expand(&dir.join("vm.args"), &dir);
        let node = scan(&args);
        assert_eq!((node.name.as_slice(), node.cookie.as_slice()), (&b"inner"[..], &b"outer"[..]));
        assert!(!args.iter().any(|a| a == b"late"));
        assert!(expand(&dir.join("absent"), &dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn assignments_survive_any_bytes() {
        let node = Node { name_type: b"-sname".to_vec(), name: b"it's".to_vec(), ..Node::default() };
        let text = String::from_utf8(assignments(&node)).unwrap();
        assert!(text.contains("NAME='it'\\''s'\n"), "{text}");
        assert!(text.contains("VM_HEART=''\n"));
    }
}
