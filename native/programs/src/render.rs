// SPDX-License-Identifier: Apache-2.0
//! `vm.args.src` and `sys.config.src` rendering, relx's way: every `${VAR}` becomes the
//! variable's value (empty when unset) and every `${VAR:-default}` the value or, when it
//! is unset or empty, the default. A reference never spans lines, and the output always
//! ends with a newline (relx renders line by line).

use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// `text` with its references replaced, values looked up with `env`.
pub fn render(text: &[u8], env: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let lines: Vec<&[u8]> = text.strip_suffix(b"\n").unwrap_or(text).split(|&c| c == b'\n').collect();
    if text.is_empty() {
        return out;
    }
    for line in lines {
        let mut rest = line;
        while let Some(start) = rest.windows(2).position(|w| w == b"${") {
            let Some(len) = rest[start + 2..].iter().position(|&c| c == b'}') else { break };
            let token = &rest[start + 2..start + 2 + len];
            out.extend_from_slice(&rest[..start]);
            match token.windows(2).position(|w| w == b":-") {
                Some(p) => match env(&token[..p]).filter(|v| !v.is_empty()) {
                    Some(v) => out.extend(v),
                    None => out.extend_from_slice(&token[p + 2..]),
                },
                None => out.extend(env(token).unwrap_or_default()),
            }
            rest = &rest[start + 2 + len + 1..];
        }
        out.extend_from_slice(rest);
        out.push(b'\n');
    }
    out
}

/// Renders `src` into `dst` from the process environment, through a temporary file
/// renamed into place (a VM starting meanwhile never reads half a file).
pub fn render_file(src: &Path, dst: &Path) -> std::io::Result<()> {
    let text = std::fs::read(src)?;
    let env = |name: &[u8]| std::env::var_os(std::ffi::OsStr::from_bytes(name)).map(|v| v.into_vec());
    let rendered = render(&text, env);
    let mut tmp_name = dst.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dst.with_file_name(tmp_name);
    let written =
        std::fs::File::create(&tmp).and_then(|mut f| f.write_all(&rendered)).and_then(|()| std::fs::rename(&tmp, dst));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        let env = |k: &[u8]| match k {
            b"NODE" => Some(b"n1".to_vec()),
            b"EMPTY" => Some(Vec::new()),
            _ => None,
        };
        String::from_utf8(render(text.as_bytes(), env)).unwrap()
    }

    #[test]
    fn references_are_replaced_as_relx_does() {
        assert_eq!(r("-sname ${NODE}\n-setcookie ${COOKIE:-secret}\n"), "-sname n1\n-setcookie secret\n");
        assert_eq!(r("${EMPTY:-d} ${EMPTY}|${UNSET}|${NODE:-x}"), "d ||n1\n");
        // An unclosed reference, or one that would span lines, stays as it is.
        assert_eq!(r("${NODE\n}"), "${NODE\n}\n");
        assert_eq!(r("a ${B:-c:-d} $NODE {NODE}"), "a c:-d $NODE {NODE}\n");
        assert_eq!(r(""), "");
        assert_eq!(r("\n\n"), "\n\n");
    }

    #[test]
    fn a_file_is_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("fastrel-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("vm.args.src"), "-sname ${FASTREL_RENDER_TEST_UNSET:-x}").unwrap();
        render_file(&dir.join("vm.args.src"), &dir.join("vm.args")).unwrap();
        assert_eq!(std::fs::read(dir.join("vm.args")).unwrap(), b"-sname x\n");
        assert!(render_file(&dir.join("vm.args.src"), &dir.join("no/such/dir/vm.args")).is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "no temporary file left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
