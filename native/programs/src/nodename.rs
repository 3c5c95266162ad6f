// SPDX-License-Identifier: Apache-2.0
//! The node's full name `NAME@host`, for the start script's pipe directory, remote shell
//! and hooks. The host is the one `erl_call` adds to a bare name (the script talks to the
//! node through it): for `-sname` the host name up to its first `.`, for `-name` the
//! canonical name of the host (`hostname -f`), else the host name as it is.

use std::ffi::{CStr, CString};
use std::io;

/// `name` with its host: unchanged when it has one, else `name@host(long)`; `host` is
/// asked only then (a `-name` host may take a resolver round trip).
pub fn full_name(long: bool, name: &[u8], host: impl FnOnce(bool) -> io::Result<Vec<u8>>) -> io::Result<Vec<u8>> {
    if name.contains(&b'@') {
        return Ok(name.to_vec());
    }
    Ok([name, b"@", &host(long)?].concat())
}

/// The host name up to its first `.`, as the VM shortens it for `-sname`.
pub fn short_host(host: &[u8]) -> &[u8] {
    host.split(|&b| b == b'.').next().unwrap_or(host)
}

/// This machine's host for a long (`-name`) or short (`-sname`) node name.
pub fn host(long: bool) -> io::Result<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    let name = nix::unistd::gethostname().map_err(io::Error::from)?.into_vec();
    if long {
        Ok(canonical_name(&name).filter(|c| !c.is_empty()).unwrap_or(name))
    } else {
        Ok(short_host(&name).to_vec())
    }
}

/// The canonical name of `host` (getaddrinfo with AI_CANONNAME, as `hostname -f` asks),
/// or None when it does not resolve. nix wraps no getaddrinfo (std's lookup does not ask
/// for the canonical name), so this calls the C library through nix's re-export of libc.
fn canonical_name(host: &[u8]) -> Option<Vec<u8>> {
    use nix::libc;
    let host = CString::new(host).ok()?;
    // SAFETY: addrinfo is plain C data; all zeroes is the "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = libc::AF_UNSPEC;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C strings and pointers; on success `res` is freed below, once.
    if unsafe { libc::getaddrinfo(host.as_ptr(), std::ptr::null(), &hints, &mut res) } != 0 || res.is_null() {
        return None;
    }
    // SAFETY: `res` is the list getaddrinfo returned; ai_canonname of its first entry is
    // null or a C string owned by that list, copied before it is freed.
    let name = unsafe {
        let c = (*res).ai_canonname;
        let name = (!c.is_null()).then(|| CStr::from_ptr(c).to_bytes().to_vec());
        libc::freeaddrinfo(res);
        name
    };
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn fixed(long: bool) -> io::Result<Vec<u8>> {
        Ok(if long { b"box.example.org".to_vec() } else { b"box".to_vec() })
    }

    #[test]
    fn a_bare_name_gets_the_host_of_its_kind() {
        assert_eq!(full_name(false, b"app", fixed).unwrap(), b"app@box");
        assert_eq!(full_name(true, b"app", fixed).unwrap(), b"app@box.example.org");
    }

    #[test]
    fn a_name_with_a_host_is_kept_and_no_host_is_looked_up() {
        let never = |_| -> io::Result<Vec<u8>> { panic!("host looked up") };
        assert_eq!(full_name(true, b"app@other.net", never).unwrap(), b"app@other.net");
        assert_eq!(full_name(false, b"app@1.2.3.4", never).unwrap(), b"app@1.2.3.4");
    }

    #[test]
    fn a_failed_host_lookup_is_an_error() {
        let fail = |_| -> io::Result<Vec<u8>> { Err(io::Error::other("no host")) };
        assert!(full_name(false, b"app", fail).is_err());
    }

    #[test]
    fn the_short_host_ends_at_the_first_dot() {
        assert_eq!(short_host(b"box.example.org"), b"box");
        assert_eq!(short_host(b"box"), b"box");
        assert_eq!(short_host(b""), b"");
        assert_eq!(short_host(b".x"), b"");
    }

    /// What `hostname [FLAG]` prints, if it succeeds with some text.
    fn hostname(flag: Option<&str>) -> Option<Vec<u8>> {
        let out = Command::new("hostname").args(flag).output().expect("hostname(1) runs here");
        let text = out.stdout.strip_suffix(b"\n").unwrap_or(&out.stdout).to_vec();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    #[test]
    fn the_hosts_are_those_hostname_prints_here() {
        assert_eq!(host(false).unwrap(), hostname(Some("-s")).unwrap());
        // hostname -f fails when the name does not resolve; the start script then took
        // the plain host name, as host(true) does.
        let long = hostname(Some("-f")).or_else(|| hostname(None)).unwrap();
        assert_eq!(host(true).unwrap(), long);
    }
}
