// SPDX-License-Identifier: Apache-2.0
//! Control sequences to_erl sends inside its input: `ESC _ <body> ESC \` (an APC string).
//! run_erl removes each complete one from the chunk and acts on its body; like OTP's, it
//! does not reassemble a sequence split across two reads.

/// One control sequence found in a chunk from to_erl.
#[derive(Debug, PartialEq, Eq)]
pub enum Ctrl {
    /// `version=N`: the protocol level to_erl speaks.
    Version(u32),
    /// `winsize=COLS,ROWS`: the size of to_erl's terminal.
    Winsize { cols: u16, rows: u16 },
    /// Any other body, reported as OTP does.
    Unknown(String),
    /// `ESC _` without its `ESC \` in the same chunk: the rest is forwarded as it is.
    MissingSuffix(String),
}

/// Splits `data` into the bytes meant for the pty and the control sequences it carried.
pub fn strip(data: &[u8]) -> (Vec<u8>, Vec<Ctrl>) {
    let mut out = Vec::with_capacity(data.len());
    let mut found = Vec::new();
    let mut rest = data;
    while let Some(start) = find(rest, b"\x1b_") {
        out.extend_from_slice(&rest[..start]);
        let body_and_more = &rest[start + 2..];
        match find(body_and_more, b"\x1b\\") {
            Some(end) => {
                found.push(parse(&body_and_more[..end]));
                rest = &body_and_more[end + 2..];
            }
            None => {
                found.push(Ctrl::MissingSuffix(String::from_utf8_lossy(body_and_more).into_owned()));
                out.extend_from_slice(&rest[start..]);
                return (out, found);
            }
        }
    }
    out.extend_from_slice(rest);
    (out, found)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads a leading unsigned decimal like `%u` does; returns it and what follows.
fn scan_u32(s: &str) -> Option<(u32, &str)> {
    let t = s.trim_start();
    let end = t.bytes().take_while(u8::is_ascii_digit).count();
    Some((t[..end].parse().ok()?, &t[end..]))
}

fn parse(body: &[u8]) -> Ctrl {
    let text = String::from_utf8_lossy(body).into_owned();
    if let Some((v, _)) = text.strip_prefix("version=").and_then(scan_u32) {
        return Ctrl::Version(v);
    }
    let size = text.strip_prefix("winsize=").and_then(scan_u32).and_then(|(cols, more)| {
        let (rows, _) = scan_u32(more.strip_prefix(',')?)?;
        Some(Ctrl::Winsize { cols: cols.min(u16::MAX.into()) as u16, rows: rows.min(u16::MAX.into()) as u16 })
    });
    size.unwrap_or(Ctrl::Unknown(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_removed_and_read() {
        let (out, c) = strip(b"a\x1b_version=1\x1b\\b\x1b_winsize=123,40\x1b\\c");
        assert_eq!(out, b"abc");
        assert_eq!(c, [Ctrl::Version(1), Ctrl::Winsize { cols: 123, rows: 40 }]);
    }

    #[test]
    fn unknown_bodies_are_reported_and_removed() {
        let (out, c) = strip(b"\x1b_colour=red\x1b\\x");
        assert_eq!(out, b"x");
        assert_eq!(c, [Ctrl::Unknown("colour=red".into())]);
    }

    #[test]
    fn unterminated_sequence_is_forwarded() {
        let (out, c) = strip(b"ok\x1b_winsize=1");
        assert_eq!(out, b"ok\x1b_winsize=1");
        assert_eq!(c, [Ctrl::MissingSuffix("winsize=1".into())]);
    }

    #[test]
    fn plain_input_passes_untouched() {
        assert_eq!(strip(b"io:format(\"hi~n\").\n"), (b"io:format(\"hi~n\").\n".to_vec(), vec![]));
    }
}
