// SPDX-License-Identifier: Apache-2.0
//! `fastrel_programs vmargs` against the VM itself: random `vm.args` files (quotes of
//! both kinds, backslashes, comments after and between arguments, every kind of
//! whitespace) are read by `erl -args_file` and by the helper, and each flag's values
//! must come out the same. The helper prints only what the start script needs, so the
//! files name the node and cookie too, besides flags only `init:get_arguments/0` shows.

use std::path::Path;
use std::process::Command;

/// xorshift64*: a fixed seed per run, printed, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const CHARS: &[u8] = b"abcxyz019_.@ #\"'\\\t\n\r";

/// A value that `init` keeps as a value (no leading `-` or `+`), ASCII.
fn value(rng: &mut Rng) -> Vec<u8> {
    (0..rng.below(7)).map(|_| CHARS[rng.below(CHARS.len())]).collect()
}

/// `v` written as file text: pieces bare (specials escaped), in `"..."` or in `'...'`.
fn written(rng: &mut Rng, v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in v.chunks(1 + rng.below(3)) {
        match rng.below(3) {
            0 if !piece.contains(&b'"') => out.extend([&b"\""[..], piece, b"\""].concat()),
            1 if !piece.contains(&b'\'') => out.extend([&b"'"[..], piece, b"'"].concat()),
            _ => {
                for &c in piece {
                    if b" #\"'\\\t\n\r".contains(&c) {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    if out.is_empty() {
        out.extend_from_slice(b"''");
    }
    out
}

fn gap(rng: &mut Rng) -> Vec<u8> {
    let mut g = [b" ", &b"\t"[..], b"\n", b"  \r\n", b"\x0b", b"\x0c"][rng.below(6)].to_vec();
    if rng.below(4) == 0 {
        g.extend_from_slice(b" # a comment with \"quotes' and \\ in it\n");
    }
    g
}

fn erl_arguments(file: &Path) -> String {
    let eval = "[io:format(\"~s ~s~n\", [K, lists:join(\",\", [binary:encode_hex(list_to_binary(V)) || V <- Vs])]) \
                || {K, Vs} <- init:get_arguments(), lists:prefix(\"zz\", atom_to_list(K))], halt().";
    // The files name the node (`-sname`): without these two flags the VM would start an
    // `epmd -daemon` on the default port that outlives the test.
    let out = Command::new("erl")
        .args(["-noshell", "-start_epmd", "false", "-dist_listen", "false", "-args_file"])
        .arg(file)
        .arg("-eval")
        .arg(eval)
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        Ok(o) => panic!("erl -args_file {} failed: {}", file.display(), String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            if std::env::var("FASTREL_SKIP_OTP_ORACLE").is_ok_and(|v| v == "1") {
                return String::new();
            }
            panic!("erl is not on PATH ({e}): this test checks against the installed OTP (install erlang-nox)")
        }
    }
}

fn hex(v: &[u8]) -> String {
    v.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn vm_args_are_read_as_the_vm_reads_them() {
    let seed = std::env::var("FASTREL_VMARGS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_f00d);
    eprintln!("seed {seed} (FASTREL_VMARGS_SEED)");
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("fastrel-vmargs-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for round in 0..12 {
        let (mut text, mut expected) = (Vec::new(), String::new());
        let name = format!("node{round}");
        let cookie = value(&mut rng).into_iter().filter(|c| c.is_ascii_alphanumeric()).collect::<Vec<u8>>();
        let cookie = if cookie.is_empty() { b"c".to_vec() } else { cookie };
        for k in 0..25 {
            let vals: Vec<Vec<u8>> = (0..rng.below(3)).map(|_| value(&mut rng)).collect();
            text.extend(format!("-zz{k}").bytes());
            for v in &vals {
                text.extend(gap(&mut rng));
                text.extend(written(&mut rng, v));
            }
            text.extend(gap(&mut rng));
            let shown: Vec<String> = vals.iter().map(|v| hex(v)).collect();
            expected.push_str(&format!("zz{k} {}\n", shown.join(",")));
        }
        text.extend(format!("-sname {name} -setcookie {}\n", String::from_utf8_lossy(&cookie)).bytes());
        let file = dir.join(format!("vm{round}.args"));
        std::fs::write(&file, &text).unwrap();
        let vm = erl_arguments(&file);
        if vm.is_empty() {
            return; // No erl, and told to skip.
        }
        let file_text = String::from_utf8_lossy(&text);
        assert_eq!(vm, expected, "erl and the generator disagree on {file_text:?} (seed {seed})");
        let ours_args = fastrel_programs::vmargs::parse(&text);
        // Each flag's values, as init groups them: a `-zz` flag, then what follows it.
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for a in &ours_args {
            match a.strip_prefix(b"-") {
                Some(flag) => groups.push((String::from_utf8_lossy(flag).into_owned(), Vec::new())),
                None => groups.last_mut().expect("a value before any flag").1.push(hex(a)),
            }
        }
        let grouped: String = groups
            .iter()
            .filter(|(f, _)| f.starts_with("zz"))
            .map(|(f, vs)| format!("{f} {}\n", vs.join(",")))
            .collect();
        assert_eq!(grouped, vm, "fastrel and erl disagree on {file_text:?} (seed {seed})");
        let ours =
            Command::new(env!("CARGO_BIN_EXE_fastrel_programs")).arg("vmargs").arg(&file).arg(&dir).output().unwrap();
        let ours = String::from_utf8(ours.stdout).unwrap();
        let cookie = String::from_utf8(cookie).unwrap();
        assert!(
            ours.contains(&format!("NAME_TYPE='-sname'\nNAME='{name}'\nVM_COOKIE='{cookie}'\n")),
            "{ours}\nfor {file_text:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
