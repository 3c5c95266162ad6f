// SPDX-License-Identifier: Apache-2.0
//! run_erl and to_erl as programs: commands on a pty, the logs they leave, the FIFO
//! protocol, `-daemon`'s answers, and each defect of OTP's that these fix (OTP's own
//! binaries are run beside ours where the difference is the point). Every process a test
//! starts is killed by PID, every wait is bounded.

use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A scratch directory with `p/` (pipes) and `l/` (logs); removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fastrel-console-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("p")).unwrap();
        std::fs::create_dir_all(dir.join("l")).unwrap();
        Scratch(dir)
    }
    fn pipes(&self) -> String {
        format!("{}/p/", self.0.display())
    }
    fn logs(&self) -> String {
        format!("{}/l", self.0.display())
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn log(&self, n: u32) -> String {
        String::from_utf8_lossy(&std::fs::read(self.0.join(format!("l/erlang.log.{n}"))).unwrap_or_default())
            .into_owned()
    }
    fn fifos(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.0.join("p"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }
    /// The PID a command wrote into `name` (`echo $$ > name`), waited for.
    fn pid_in(&self, name: &str) -> Pid {
        let path = self.path(name);
        assert!(
            wait_for(Duration::from_secs(10), || std::fs::read_to_string(&path).is_ok_and(|s| s.ends_with('\n'))),
            "{name} written"
        );
        Pid::from_raw(std::fs::read_to_string(&path).unwrap().trim().parse().unwrap())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Processes to kill by PID when the test ends, however it ends.
#[derive(Default)]
struct Reaper(Vec<Pid>, Vec<Child>);

impl Reaper {
    fn pid(&mut self, p: Pid) -> Pid {
        self.0.push(p);
        p
    }
    fn child(&mut self, c: Child) -> &mut Child {
        self.1.push(c);
        self.1.last_mut().unwrap()
    }
    fn last(&mut self) -> &mut Child {
        self.1.last_mut().unwrap()
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = kill(*p, Signal::SIGKILL);
        }
        for c in &mut self.1 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

fn ours(name: &str) -> PathBuf {
    let run_erl = PathBuf::from(env!("CARGO_BIN_EXE_run_erl"));
    let p = run_erl.with_file_name(name);
    if !p.exists() {
        // Cargo builds only this package's binaries for its tests; build to_erl into the
        // same target directory and profile (cargo's lock serialises concurrent tests).
        let profile_dir = run_erl.parent().unwrap();
        let target = profile_dir.parent().unwrap();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", name, "--target-dir"]).arg(target);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        assert!(build.status().unwrap().success(), "cargo build -p {name}");
    }
    assert!(p.exists(), "{} not built", p.display());
    p
}

/// OTP's program of that name, from the `erl` on PATH.
fn otps(name: &str) -> PathBuf {
    let out = Command::new("erl")
        .args(["-noshell", "-eval", "io:format(\"~s\", [code:root_dir()]), halt()."])
        .output()
        .expect("erl runs");
    let root = String::from_utf8(out.stdout).unwrap();
    let erts = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("erts-"))
        .expect("an erts dir");
    erts.path().join("bin").join(name)
}

fn command(prog: &Path, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(prog);
    for (k, _) in std::env::vars() {
        if k.starts_with("RUN_ERL_") {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().copied());
    c
}

fn run_erl(s: &Scratch, cmd: &str, env: &[(&str, &str)]) -> Command {
    let mut c = command(&ours("run_erl"), env);
    c.args([s.pipes(), s.logs(), cmd.to_string()])
        .current_dir(&s.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Waits (bounded) for a child to exit.
fn exited(c: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let mut status = None;
    wait_for(limit, || {
        status = c.try_wait().unwrap();
        status.is_some()
    });
    status
}

fn stderr_of(c: &mut Child) -> String {
    let mut s = String::new();
    c.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

/// Numbers printed one per line, in a log (header and `\r` aside).
fn numbers(log: &str) -> Vec<u64> {
    log.lines().filter_map(|l| l.trim_end_matches('\r').parse().ok()).collect()
}

/// A client speaking the FIFO protocol by hand.
struct Client {
    r: OwnedFd,
    w: OwnedFd,
}

impl Client {
    fn attach(base: &str) -> Client {
        let r = open(format!("{base}.r").as_str(), OFlag::O_RDONLY | OFlag::O_NONBLOCK, Mode::empty()).unwrap();
        let w = open(format!("{base}.w").as_str(), OFlag::O_WRONLY | OFlag::O_NONBLOCK, Mode::empty()).unwrap();
        Client { r, w }
    }
    fn send(&self, bytes: &[u8]) {
        assert_eq!(nix::unistd::write(&self.w, bytes).unwrap(), bytes.len());
    }
    /// Reads until `needle` has been seen (or the time is up); returns all that came.
    fn read_until(&self, needle: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        let mut got = Vec::new();
        while !String::from_utf8_lossy(&got).contains(needle) && Instant::now() < end {
            let mut fds = [PollFd::new(self.r.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(100u16));
            let mut buf = [0u8; 4096];
            if let Ok(n) = nix::unistd::read(&self.r, &mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }
}

#[test]
fn output_is_logged_and_the_fifos_go_when_the_command_ends() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let c = r.child(run_erl(&s, "echo hello; echo bye", &[]).spawn().unwrap());
    let status = exited(c, Duration::from_secs(10)).expect("run_erl exits");
    // OTP's run_erl exits 1 through the EIO path when the command ends.
    assert_eq!(status.code(), Some(1));
    assert!(stderr_of(c).contains("Erlang closed the connection."));
    let log = s.log(1);
    assert!(log.starts_with("\n=====\n===== LOGGING STARTED "), "{log:?}");
    assert!(log.ends_with("=====\nhello\r\nbye\r\n"), "{log:?}");
    assert!(s.fifos().is_empty(), "FIFOs left: {:?}", s.fifos());
    let status_file = std::fs::read_to_string(s.path("l/run_erl.log")).unwrap();
    assert!(
        status_file.contains("Args before exec of shell:") && status_file.contains("argv[2] = echo hello; echo bye"),
        "{status_file}"
    );
}

#[test]
fn hundred_thousand_lines_arrive_complete_and_in_order() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let c = r.child(run_erl(&s, "seq 1 100000", &[("RUN_ERL_LOG_MAXSIZE", "100000000")]).spawn().unwrap());
    exited(c, Duration::from_secs(60)).expect("run_erl exits");
    assert_eq!(numbers(&s.log(1)), (1..=100_000).collect::<Vec<u64>>());
}

#[test]
fn rotation_keeps_a_hole_and_loses_nothing_that_stays() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let env = [("RUN_ERL_LOG_MAXSIZE", "1000"), ("RUN_ERL_LOG_GENERATIONS", "3")];
    let c = r.child(run_erl(&s, "seq 1 3000", &env).spawn().unwrap());
    exited(c, Duration::from_secs(30)).expect("run_erl exits");
    let present: Vec<u32> = (1..=3).filter(|n| s.path(&format!("l/erlang.log.{n}")).exists()).collect();
    assert_eq!(present.len(), 2, "one hole among 3 generations: {present:?}");
    // The newest is the one before the hole.
    let newest = (1..=3).find(|n| present.contains(n) && !present.contains(&(n % 3 + 1))).unwrap();
    let older = *present.iter().find(|n| **n != newest).unwrap();
    // A chunk is never split, so a line may straddle the two files: join them first.
    let body = |n: u32| s.log(n).splitn(3, "=====\n").nth(2).unwrap_or_default().to_string();
    let joined = body(older) + &body(newest);
    let kept: Vec<u64> = numbers(&joined).into_iter().skip(1).collect();
    assert_eq!(kept.last(), Some(&3000));
    assert!(kept.len() > 100);
    assert!(kept.windows(2).all(|w| w[1] == w[0] + 1), "contiguous up to the end");
    for n in present {
        let text = s.log(n);
        assert!(text.starts_with("\n=====\n===== LOGGING STARTED "));
        assert!(text.len() <= 1000 + 8192 + 100, "file {n} is {} bytes", text.len());
    }
}

#[test]
fn second_run_erl_takes_the_next_number_and_a_named_pipe_in_use_is_refused() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    r.child(run_erl(&s, "echo $$ > a; exec sleep 60", &[]).spawn().unwrap());
    r.pid(s.pid_in("a"));
    let mut b = run_erl(&s, "echo $$ > b; exec sleep 60", &[]);
    r.child(b.spawn().unwrap());
    r.pid(s.pid_in("b"));
    assert_eq!(s.fifos(), ["erlang.pipe.1.r", "erlang.pipe.1.w", "erlang.pipe.2.r", "erlang.pipe.2.w"]);
    let base = format!("{}erlang.pipe.1", s.pipes());
    let out = command(&ours("run_erl"), &[]).args([&base, &s.logs(), "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("Erlang already running on pipe {base}.\n"));
}

#[test]
fn daemon_says_why_it_cannot_start_and_exits_non_zero() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let daemon = |pipe: &str, log: &str, cmd: Option<&str>| {
        let mut c = command(&ours("run_erl"), &[]);
        c.args(["-daemon", pipe, log]).args(cmd);
        c.output().unwrap()
    };
    let missing_logs = daemon(&s.pipes(), &format!("{}/nope", s.0.display()), Some("true"));
    assert_eq!(missing_logs.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing_logs.stderr).contains("Can't access log directory"));
    assert!(s.fifos().is_empty(), "nothing left behind: {:?}", s.fifos());
    let missing_pipes = daemon(&format!("{}/nope/", s.0.display()), &s.logs(), Some("true"));
    assert_eq!(missing_pipes.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing_pipes.stderr).contains("Can't access pipe directory"));
    let no_command = daemon(&s.pipes(), &s.logs(), None);
    assert_eq!(no_command.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_command.stderr).contains("No command given"));
    r.child(run_erl(&s, "echo $$ > a; exec sleep 60", &[]).spawn().unwrap());
    r.pid(s.pid_in("a"));
    let in_use = daemon(&format!("{}erlang.pipe.1", s.pipes()), &s.logs(), Some("true"));
    assert_eq!(in_use.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&in_use.stderr).contains("Erlang already running on pipe"));
    // OTP's -daemon answers 0 to all of these.
    let otp = command(&otps("run_erl"), &[])
        .args(["-daemon", &s.pipes(), &format!("{}/nope", s.0.display()), "true"])
        .output()
        .unwrap();
    assert_eq!(otp.status.code(), Some(0));
}

#[test]
fn daemon_answers_once_the_command_runs_with_sighup_ignored() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let cmd = format!(
        "echo $PPID > {0}/daemon; grep SigIgn /proc/self/status > {0}/sigign; echo $$ > {0}/child; exec sleep 60",
        s.0.display()
    );
    let started = Instant::now();
    let out = command(&ours("run_erl"), &[]).args(["-daemon", &s.pipes(), &s.logs(), &cmd]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(5));
    let daemon = r.pid(s.pid_in("daemon"));
    let child = r.pid(s.pid_in("child"));
    let sigign = std::fs::read_to_string(s.path("sigign")).unwrap();
    let mask = u64::from_str_radix(sigign.split_whitespace().nth(1).unwrap(), 16).unwrap();
    assert_eq!(mask & 1, 1, "SIGHUP ignored in the command, as under OTP's -daemon: {sigign}");
    assert_eq!(s.fifos(), ["erlang.pipe.1.r", "erlang.pipe.1.w"]);
    kill(child, Signal::SIGKILL).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || s.fifos().is_empty() && kill(daemon, None).is_err()),
        "daemon gone with its FIFOs"
    );
}

/// The command starts with SIGPIPE as run_erl was started with it, as under OTP's (whose
/// parent ignores SIGPIPE only after the fork); Rust's runtime ignores SIGPIPE before `main`.
#[test]
fn the_command_gets_sigpipe_as_run_erl_got_it() {
    use std::os::unix::process::CommandExt;
    let sigign = |prog: &Path, ignored: bool| -> u64 {
        let s = Scratch::new();
        let mut r = Reaper::default();
        let cmd = format!("echo $PPID > {0}/daemon; echo $$ > {0}/child; grep SigIgn /proc/self/status > {0}/sigign.tmp; mv {0}/sigign.tmp {0}/sigign; exec sleep 60", s.0.display());
        let mut c = command(prog, &[]);
        c.args(["-daemon", &s.pipes(), &s.logs(), &cmd]);
        let handler = if ignored { nix::sys::signal::SigHandler::SigIgn } else { nix::sys::signal::SigHandler::SigDfl };
        // SAFETY: signal(2) is async-signal-safe; SIG_IGN and SIG_DFL install no code.
        unsafe {
            c.pre_exec(move || {
                nix::sys::signal::signal(Signal::SIGPIPE, handler).map(|_| ()).map_err(std::io::Error::from)
            })
        };
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        r.pid(s.pid_in("daemon"));
        r.pid(s.pid_in("child"));
        assert!(wait_for(Duration::from_secs(10), || s.path("sigign").exists()), "the command ran");
        let line = std::fs::read_to_string(s.path("sigign")).unwrap();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    const PIPE: u64 = 1 << (13 - 1);
    for ignored in [false, true] {
        let theirs = sigign(&otps("run_erl"), ignored);
        let mine = sigign(&ours("run_erl"), ignored);
        assert_eq!(theirs & PIPE != 0, ignored, "OTP's run_erl, started with SIGPIPE ignored: {ignored}");
        assert_eq!(mine, theirs, "SigIgn of the command, run_erl started with SIGPIPE ignored: {ignored}");
    }
}

#[test]
fn a_grandchild_holding_the_pty_does_not_keep_run_erl_alive() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let cmd = format!("(trap '' HUP; exec sleep 60) & echo $! > {}/gc; exit 1", s.0.display());
    r.child(run_erl(&s, &cmd, &[]).spawn().unwrap());
    r.pid(s.pid_in("gc"));
    let status = exited(r.last(), Duration::from_secs(20)).expect("run_erl ends about 5 s after its child");
    assert_eq!(status.code(), Some(1));
    assert!(s.fifos().is_empty());
}

#[test]
fn handshake_banner_window_size_and_break() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    r.child(run_erl(&s, "echo $$ > sh; exec sh -i", &[]).spawn().unwrap());
    r.pid(s.pid_in("sh"));
    let client = Client::attach(&format!("{}erlang.pipe.1", s.pipes()));
    client.send(b"\x0c");
    assert!(client.read_until("[run_erl v1-0]\n", Duration::from_secs(5)).starts_with("[run_erl v1-0]\n"));
    client.send(b"\x1b_version=1\x1b\\\x1b_winsize=123,40\x1b\\");
    // ^L was passed on to the shell, as OTP's run_erl does: ^U drops it from the line.
    client.send(b"\x15stty size\n");
    let got = client.read_until("40 123", Duration::from_secs(5));
    assert!(got.contains("40 123"), "{got:?}");
    // The sequences never reach the shell.
    assert!(!s.log(1).contains("winsize"));
}

#[test]
fn a_lone_ctrl_c_from_the_client_interrupts_the_command() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let c = r.child(
        run_erl(&s, "trap 'echo caught-int; exit 0' INT; echo ready; while :; do sleep 0.1; done", &[])
            .spawn()
            .unwrap(),
    );
    assert!(wait_for(Duration::from_secs(10), || s.log(1).contains("ready")));
    let client = Client::attach(&format!("{}erlang.pipe.1", s.pipes()));
    client.send(b"\x0c");
    client.read_until("]\n", Duration::from_secs(5));
    client.send(b"\x03");
    exited(c, Duration::from_secs(10)).expect("the command ends on SIGINT");
    assert!(s.log(1).contains("caught-int"));
}

#[test]
fn sigterm_leaves_no_fifos_and_run_erl_dies_of_it() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    r.child(run_erl(&s, "echo $$ > a; exec sleep 60", &[]).spawn().unwrap());
    r.pid(s.pid_in("a"));
    kill(Pid::from_raw(r.last().id() as i32), Signal::SIGTERM).unwrap();
    let status = exited(r.last(), Duration::from_secs(10)).expect("run_erl ends");
    assert_eq!(status.signal(), Some(15));
    assert!(s.fifos().is_empty(), "{:?}", s.fifos());
}

#[test]
fn line_timestamps_prefix_every_logged_line() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let c = r.child(
        run_erl(&s, "echo a; echo b", &[("RUN_ERL_LOG_TIMESTAMPS", "1"), ("RUN_ERL_LOG_ALIVE_IN_UTC", "1")])
            .spawn()
            .unwrap(),
    );
    exited(c, Duration::from_secs(10)).expect("run_erl exits");
    let lines: Vec<String> = s.log(1).lines().skip(4).map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (l, want) in lines.iter().zip(["a", "b"]) {
        let (stamp, text) = l.split_once(' ').unwrap();
        assert_eq!(text, want); // lines() has taken the \r\n
        assert!(stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T', "{stamp}");
    }
}

#[test]
fn every_sync_policy_logs_everything() {
    for policy in ["always", "batch", "interval:50", "never"] {
        let s = Scratch::new();
        let mut r = Reaper::default();
        let c = r.child(
            run_erl(&s, "seq 1 5000", &[("RUN_ERL_SYNC", policy), ("RUN_ERL_LOG_MAXSIZE", "1000000")]).spawn().unwrap(),
        );
        exited(c, Duration::from_secs(30)).expect("run_erl exits");
        assert_eq!(numbers(&s.log(1)), (1..=5000).collect::<Vec<u64>>(), "{policy}");
    }
    let s = Scratch::new();
    let out = run_erl(&s, "true", &[("RUN_ERL_SYNC", "sometimes")]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUN_ERL_SYNC must be"));
}

/// to_erl with stdin fed from `input` (then held open `hold`); returns (status, stdout, stderr).
fn to_erl(prog: &Path, args: &[&str], input: &[u8], hold: Duration) -> (ExitStatus, String, String) {
    let mut c = Command::new(prog)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let _ = stdin.write_all(input);
    std::thread::sleep(hold);
    let _ = stdin.write_all(b"\x04");
    drop(stdin);
    let status = exited(&mut c, Duration::from_secs(10));
    if status.is_none() {
        let _ = c.kill();
    }
    let out = c.wait_with_output().unwrap();
    (out.status, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn to_erl_skips_stale_pipes_and_lists_them() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    r.child(run_erl(&s, "echo $$ > a; exec cat", &[]).spawn().unwrap());
    r.pid(s.pid_in("a"));
    for end in ["r", "w"] {
        nix::unistd::mkfifo(&s.path(&format!("p/erlang.pipe.7.{end}")), Mode::from_bits_truncate(0o600)).unwrap();
    }
    let list = Command::new(ours("to_erl")).args(["--list", &s.pipes()]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        format!("{0}erlang.pipe.1\tlive\n{0}erlang.pipe.7\tstale\n", s.pipes())
    );
    let (status, out, err) = to_erl(&ours("to_erl"), &[&s.pipes()], b"hello-there\n", Duration::from_millis(700));
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("skipping stale pipe {}erlang.pipe.7", s.pipes())), "{err}");
    assert!(err.contains(&format!("Attaching to {}erlang.pipe.1 (^D to exit)", s.pipes())), "{err}");
    assert!(out.contains("hello-there"), "{out:?}");
    // OTP's to_erl takes the highest number, dead or not.
    let (status, _, err) = to_erl(&otps("to_erl"), &[&s.pipes()], b"", Duration::ZERO);
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("No running Erlang on pipe") && err.contains("erlang.pipe.7"), "{err}");
}

#[test]
fn xoff_typed_into_to_erl_does_not_freeze_otps_pty() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let mut c = command(&otps("run_erl"), &[]);
    c.args([s.pipes(), s.logs(), "echo $$ > a; exec cat".into()])
        .current_dir(&s.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    r.child(c.spawn().unwrap());
    r.pid(s.pid_in("a"));
    let (_, out, err) = to_erl(&ours("to_erl"), &[&s.pipes()], b"\x13still-flowing\n", Duration::from_millis(700));
    assert!(out.contains("still-flowing"), "out {out:?} err {err:?}");
}

#[test]
fn follow_streams_the_console_across_rotations_to_several_readers() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let to_erl = ours("to_erl");
    let env = [("RUN_ERL_LOG_MAXSIZE", "1000"), ("RUN_ERL_LOG_GENERATIONS", "3")];
    // The lines wait for `go`, written once both followers run: they must see them all.
    let cmd = format!("echo $$ > {0}/a; echo first; while [ ! -f {0}/go ]; do sleep 0.05; done; for i in $(seq 1 120); do echo line-$i-padding-padding-padding; sleep 0.01; done; echo last-line; exec sleep 60", s.0.display());
    r.child(run_erl(&s, &cmd, &env).spawn().unwrap());
    r.pid(s.pid_in("a"));
    assert!(wait_for(Duration::from_secs(10), || s.log(1).contains("first")));
    let follow =
        || Command::new(&to_erl).args(["--follow", &format!("{}/", s.logs())]).stdout(Stdio::piped()).spawn().unwrap();
    let (a, b) = (follow(), follow());
    let mut outs = Vec::new();
    for f in [a, b] {
        let pid = Pid::from_raw(f.id() as i32);
        r.pid(pid);
        outs.push(f);
    }
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(s.path("go"), b"").unwrap();
    assert!(wait_for(Duration::from_secs(30), || (1..=3).any(|n| s.log(n).contains("last-line"))));
    std::thread::sleep(Duration::from_millis(500)); // a follower polls every 100 ms
    for mut f in outs {
        let _ = f.kill();
        let out = f.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let seen: Vec<u32> =
            text.lines().filter_map(|l| l.strip_prefix("line-")?.split('-').next()?.parse().ok()).collect();
        assert_eq!(seen, (1..=120).collect::<Vec<u32>>(), "every line once, in order, across rotations");
        assert!(text.contains("last-line"));
    }
}

#[test]
fn an_attached_to_erl_gets_the_last_output_before_run_erl_exits() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let to_erl = ours("to_erl");
    r.child(
        run_erl(&s, "sleep 1; seq 1 20000; echo LAST-LINE", &[("RUN_ERL_LOG_MAXSIZE", "100000000")]).spawn().unwrap(),
    );
    assert!(wait_for(Duration::from_secs(5), || s.fifos().len() == 2));
    let mut c = Command::new(&to_erl)
        .arg(s.pipes())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = c.stdin.take(); // held open: the session ends when run_erl does
                                // Read as it comes, or to_erl blocks on a full pipe.
    let reader = |mut h: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = h.read_to_end(&mut v);
            v
        })
    };
    let (out, err) = (reader(Box::new(c.stdout.take().unwrap())), reader(Box::new(c.stderr.take().unwrap())));
    let status = exited(&mut c, Duration::from_secs(20));
    drop(stdin);
    if status.is_none() {
        let _ = c.kill();
    }
    let _ = c.wait();
    let text = String::from_utf8_lossy(&out.join().unwrap()).into_owned();
    assert!(text.contains("20000\r\nLAST-LINE"), "tail: {:?}", &text[text.len().saturating_sub(200)..]);
    assert!(String::from_utf8_lossy(&err.join().unwrap()).contains("[End]"));
}

#[test]
fn issue_13_absurd_numeric_settings_are_clamped_not_a_panic() {
    let s = Scratch::new();
    let mut r = Reaper::default();
    let huge = "99999999999999999999";
    let env = [
        ("RUN_ERL_LOG_ALIVE_MINUTES", huge),
        ("RUN_ERL_LOG_ACTIVITY_MINUTES", huge),
        ("RUN_ERL_LOG_MAXSIZE", huge),
        ("RUN_ERL_LOG_GENERATIONS", huge),
        ("RUN_ERL_SYNC", "interval:18446744073709551615"),
    ];
    let c = r.child(run_erl(&s, "echo hello", &env).spawn().unwrap());
    let status = exited(c, Duration::from_secs(10)).expect("run_erl exits");
    let err = stderr_of(c);
    assert_eq!(status.code(), Some(1), "the command's end, not a panic (101): {err}");
    assert!(
        err.contains(&format!("Maximum value for RUN_ERL_LOG_ALIVE_MINUTES is 35791394 (current value is {huge})")),
        "{err}"
    );
    assert!(err.contains("Maximum RUN_ERL_LOG_MAXSIZE is 2147483647"), "{err}");
    assert!(err.contains("Erlang closed the connection."), "{err}");
    assert!(s.log(1).ends_with("=====\nhello\r\n"), "{:?}", s.log(1));
}

#[test]
fn issue_13_logs_are_never_group_or_world_writable() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let mut r = Reaper::default();
    // umask 000, and enough output to rotate into erlang.log.2.
    let mut c = command(Path::new("/bin/sh"), &[("RUN_ERL_LOG_MAXSIZE", "1000")]);
    let cmd = "seq 1 400";
    c.args(["-c", "umask 000; exec \"$0\" \"$@\"", ours("run_erl").to_str().unwrap(), &s.pipes(), &s.logs(), cmd]);
    c.current_dir(&s.0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let c = r.child(c.spawn().unwrap());
    assert!(exited(c, Duration::from_secs(10)).is_some(), "run_erl exits");
    for name in ["l/erlang.log.1", "l/erlang.log.2", "l/run_erl.log"] {
        let mode =
            std::fs::metadata(s.path(name)).unwrap_or_else(|e| panic!("{name}: {e}")).permissions().mode() & 0o777;
        // OTP's: 0664 for the logs, 0666 for run_erl.log.
        assert_eq!(mode, 0o644, "{name} is {mode:o}");
    }
}

#[test]
fn issue_13_non_utf8_directories_and_commands_are_bytes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    // OTP's programs take any bytes (`run_erl $'/tmp/p\xff/' /tmp/l true`); ours used to
    // panic (exit 101) on them.
    let s = Scratch::new();
    let mut r = Reaper::default();
    let bytes = |p: &Path, tail: &[u8]| [p.as_os_str().as_bytes(), tail].concat();
    let pipes = bytes(&s.0, b"/p\xff/");
    let logs = bytes(&s.0, b"/l\xff");
    std::fs::create_dir(OsStr::from_bytes(&pipes)).unwrap();
    std::fs::create_dir(OsStr::from_bytes(&logs)).unwrap();
    let mut c = command(&ours("run_erl"), &[]);
    c.arg(OsStr::from_bytes(&pipes)).arg(OsStr::from_bytes(&logs));
    c.arg(OsStr::from_bytes(b"echo $$ > a; echo caf\xe9; exec cat"));
    c.current_dir(&s.0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = r.child(c.spawn().unwrap());
    let status = exited(child, Duration::from_millis(300));
    assert!(status.is_none(), "run_erl exited: {status:?} {}", stderr_of(r.last()));
    let pid = r.pid(s.pid_in("a"));

    // to_erl finds and lists the pipe in the same directory.
    let list = Command::new(ours("to_erl")).arg("--list").arg(OsStr::from_bytes(&pipes)).output().unwrap();
    assert_eq!(list.status.code(), Some(0), "{}", String::from_utf8_lossy(&list.stderr));
    assert_eq!(list.stdout, [&pipes[..], b"erlang.pipe.1\tlive\n"].concat());
    let mut attach = Command::new(ours("to_erl"));
    attach.arg(OsStr::from_bytes(&pipes)).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut to_erl = attach.spawn().unwrap();
    let mut keys = to_erl.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    keys.write_all(b"typed-through\n").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    keys.write_all(b"\x04").unwrap();
    drop(keys);
    let status = exited(&mut to_erl, Duration::from_secs(10));
    let mut err = Vec::new();
    to_erl.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", String::from_utf8_lossy(&err));
    assert!(
        err.starts_with(&[&b"Attaching to "[..], &pipes, b"erlang.pipe.1 (^D to exit)"].concat()),
        "{}",
        String::from_utf8_lossy(&err)
    );

    let _ = kill(pid, Signal::SIGKILL);
    assert!(exited(r.last(), Duration::from_secs(10)).is_some(), "run_erl exits");
    let log = std::fs::read(OsStr::from_bytes(&[&logs[..], b"/erlang.log.1"].concat())).unwrap();
    assert!(log.windows(5).any(|w| w == b"caf\xe9\r"), "{}", String::from_utf8_lossy(&log));
    assert!(log.windows(13).any(|w| w == b"typed-through"), "{}", String::from_utf8_lossy(&log));
    let trace = std::fs::read(OsStr::from_bytes(&[&logs[..], b"/run_erl.log"].concat())).unwrap();
    assert!(trace.windows(12).any(|w| w == b"echo caf\xe9; e"), "{}", String::from_utf8_lossy(&trace));
    assert_eq!(std::fs::read_dir(OsStr::from_bytes(&pipes)).unwrap().count(), 0, "FIFOs removed");
}

#[test]
fn issue_13_to_erl_takes_non_utf8_arguments() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    // Each of these used to panic (exit 101) in to_erl's argument parsing.
    let check = |args: &[&[u8]], want: &[u8]| {
        let out = Command::new(ours("to_erl")).args(args.iter().map(|a| OsStr::from_bytes(a))).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(out.stderr, want, "{err}");
    };
    let no_dir = b"Can't access pipe directory /nonexistent\xff/: No such file or directory\n";
    check(&[b"/nonexistent\xff/"], no_dir);
    check(&[b"--list", b"/nonexistent\xff"], no_dir);
    check(&[b"-\xff"], b"Invalid option '-\xff'\n");
    check(&[b"--follow", b"/nonexistent\xff/"], "No run_erl log (erlang.log.N) in /nonexistent\u{fffd}/\n".as_bytes());
}
