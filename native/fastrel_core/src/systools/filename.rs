// SPDX-License-Identifier: Apache-2.0
//! Erlang's `filename` module on Unix, as far as systools uses it: the exact names it
//! builds (`./x.app`, no trailing slash, `.` components dropped) end up in scripts,
//! error terms and tar entries, so `Path::join` will not do.

use std::path::Path;

/// `filename:join(A, B)` on Unix: joins, drops `.` components (but a leading `./`),
/// collapses repeated slashes and strips a trailing one.
pub fn erl_join(first: &str, second: &str) -> String {
    if second.starts_with('/') {
        return erl_norm(second);
    }
    let mut out = String::with_capacity(first.len() + second.len() + 1);
    push_norm(&mut out, first);
    if !out.is_empty() && !second.is_empty() {
        if out.ends_with("/.") {
            out.pop();
        } else if !out.ends_with('/') {
            out.push('/');
        }
    } else if out.is_empty() && !second.is_empty() {
        out.push('/');
    }
    push_norm(&mut out, second);
    finish_norm(out)
}

/// `filename:join([A])`: normalisation of one name.
pub fn erl_norm(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_norm(&mut out, name);
    finish_norm(out)
}

fn push_norm(out: &mut String, name: &str) {
    // Most names are already normal: copy them whole.
    if !needs_norm(out.as_bytes(), name.as_bytes()) {
        out.push_str(name);
        return;
    }
    for c in name.chars() {
        if c == '/' {
            if out.ends_with("/.") {
                out.pop();
                continue;
            }
            if out.ends_with('/') {
                continue;
            }
        }
        out.push(c);
    }
}

/// Returns true if and only if appending `name` to `before` through the loop of
/// [`push_norm`] would drop a character: some `/` of `name` follows a `/` or a `/.`. Up to
/// the first such `/` the loop copies, so looking at the input is exact; `/` and `.` are
/// ASCII and never inside a multi-byte UTF-8 sequence, so bytes will do.
fn needs_norm(before: &[u8], name: &[u8]) -> bool {
    let mut p1 = before.last().copied().unwrap_or(0);
    let mut p2 = if before.len() >= 2 { before[before.len() - 2] } else { 0 };
    for &b in name {
        if b == b'/' && (p1 == b'/' || (p1 == b'.' && p2 == b'/')) {
            return true;
        }
        (p2, p1) = (p1, b);
    }
    false
}

fn finish_norm(mut out: String) -> String {
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

/// `filename:dirname/1` on Unix.
pub fn erl_dirname(name: &str) -> String {
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return if name.starts_with('/') { "/".into() } else { ".".into() };
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let dir = trimmed[..i].trim_end_matches('/');
            if dir.is_empty() {
                "/".into()
            } else {
                dir.to_string()
            }
        }
    }
}

/// `filename:absname/1` against `cwd`.
pub fn erl_absname(name: &str, cwd: &Path) -> String {
    if name.starts_with('/') {
        erl_norm(name)
    } else {
        erl_join(&cwd.to_string_lossy(), name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copying_shortcut_changes_nothing() {
        // Every name of up to six characters from `a`, `/` and `.`, after every such
        // prefix of up to two: the shortcut must give what the character loop gives.
        fn slow(out: &mut String, name: &str) {
            for c in name.chars() {
                if c == '/' && (out.ends_with("/.") || out.ends_with('/')) {
                    if out.ends_with('.') {
                        out.pop();
                    }
                    continue;
                }
                out.push(c);
            }
        }
        fn all(n: usize) -> Vec<String> {
            let mut v = vec![String::new()];
            for _ in 0..n {
                let next: Vec<String> = v.iter().flat_map(|s| ['a', '/', '.'].map(|c| format!("{s}{c}"))).collect();
                v.extend(next.into_iter().filter(|s| s.len() <= n));
            }
            v.sort();
            v.dedup();
            v
        }
        for before in all(2) {
            for name in all(6) {
                let (mut fast, mut reference) = (before.clone(), before.clone());
                push_norm(&mut fast, &name);
                slow(&mut reference, &name);
                assert_eq!(fast, reference, "{before:?} + {name:?}");
            }
        }
    }

    #[test]
    fn join_matches_filename_join() {
        assert_eq!(erl_join(".", "x.app"), "./x.app");
        assert_eq!(erl_join("./a/", "x"), "./a/x");
        assert_eq!(erl_join("a/./b", "x"), "a/b/x");
        assert_eq!(erl_join("a//b/", "x"), "a/b/x");
        assert_eq!(erl_join("a", "/abs"), "/abs");
        assert_eq!(erl_join("/", "x"), "/x");
        assert_eq!(erl_norm("/a/b/"), "/a/b");
    }

    #[test]
    fn dirname_matches_filename_dirname() {
        assert_eq!(erl_dirname("x.app"), ".");
        assert_eq!(erl_dirname("./x.app"), ".");
        assert_eq!(erl_dirname("/x.app"), "/");
        assert_eq!(erl_dirname("lib/a-1/ebin/a.app"), "lib/a-1/ebin");
    }
}
