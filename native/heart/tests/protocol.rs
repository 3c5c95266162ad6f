// SPDX-License-Identifier: Apache-2.0
//! heart driven over its pipes, as the VM drives it, against a victim process standing in
//! for the VM. Every process started here is killed and reaped by PID.

use nix::sys::signal::{signal, SigHandler, Signal};
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Heart {
    child: Child,
}

impl Heart {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Heart {
        Heart::spawn(Heart::command(env!("CARGO_BIN_EXE_heart"), args, env))
    }

    /// `program` with piped stdio and a hermetic heart environment plus `env`.
    fn command(program: impl AsRef<OsStr>, args: &[impl AsRef<OsStr>], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for var in ["HEART_COMMAND", "HEART_NO_KILL", "HEART_KILL_SIGNAL", "ERL_CRASH_DUMP_SECONDS", "HEART_DEBUG"] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        cmd
    }

    fn spawn(mut cmd: Command) -> Heart {
        let mut h = Heart { child: cmd.spawn().expect("heart starts") };
        assert_eq!(h.read_frame(), vec![1], "startup ACK");
        h
    }

    fn send(&mut self, frame: &[u8]) {
        let mut out = (frame.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(frame);
        self.send_raw(&out);
    }

    /// Bytes as they are, framing included.
    fn send_raw(&mut self, bytes: &[u8]) {
        self.child.stdin.as_mut().unwrap().write_all(bytes).unwrap();
    }

    fn read_frame(&mut self) -> Vec<u8> {
        let out = self.child.stdout.as_mut().unwrap();
        let mut len = [0u8; 2];
        out.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        out.read_exact(&mut body).unwrap();
        body
    }

    /// Closes heart's stdin if asked, waits (bounded) for it to exit; returns status and stderr.
    fn finish(self, close: bool) -> (i32, String) {
        let (status, err) = self.finish_raw(close);
        (status, String::from_utf8_lossy(&err).into_owned())
    }

    /// `finish`, with stderr's bytes as they are.
    fn finish_raw(mut self, close: bool) -> (i32, Vec<u8>) {
        if close {
            drop(self.child.stdin.take());
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = Vec::new();
                self.child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
                return (status.code().unwrap_or(-1), err);
            }
            assert!(Instant::now() < deadline, "heart did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Heart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Victim(Child);

impl Victim {
    fn start() -> Victim {
        Victim(Command::new("sleep").arg("60").spawn().unwrap())
    }
    fn pid(&self) -> String {
        self.0.id().to_string()
    }
    /// Waits (bounded) for the victim to die; returns the signal that killed it.
    fn killed_by(&mut self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(s) = self.0.try_wait().unwrap() {
                return s.signal();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn commands_round_trip_like_heart_erl_expects() {
    let mut h = Heart::start(&["-pid", "0"], &[("HEART_COMMAND", "from env")]);
    h.send(&[6]);
    assert_eq!(h.read_frame(), b"\x07from env");
    h.send(b"\x04echo hi");
    assert_eq!(h.read_frame(), vec![1]);
    h.send(&[6]);
    assert_eq!(h.read_frame(), b"\x07echo hi");
    h.send(&[5]);
    assert_eq!(h.read_frame(), vec![1]);
    h.send(&[6]);
    assert_eq!(h.read_frame(), b"\x07from env");
    // Unknown opcodes and oversized frames are ignored, as OTP's heart does.
    h.send(&[42]);
    h.send(&[4; 3000]);
    h.send(&[2]);
    h.send(&[6]);
    assert_eq!(h.read_frame(), b"\x07from env");
    h.send(&[3]);
    let (status, err) = h.finish(false);
    // OTP prints the pid it parsed, 0 included, and nothing else on a clean shutdown.
    assert_eq!((status, err.as_str()), (0, "heart_beat_kill_pid = 0\n"));
}

#[test]
fn long_env_command_is_still_answered() {
    // OTP's heart sends nothing for a command of 2048+ bytes and heart:get_cmd/0 hangs.
    let long = "x".repeat(3000);
    let mut h = Heart::start(&[], &[("HEART_COMMAND", &long)]);
    h.send(&[6]);
    assert_eq!(h.read_frame().len(), 3001);
}

#[test]
fn closed_without_command_does_not_kill() {
    let mut victim = Victim::start();
    let h = Heart::start(&["-ht", "11", "-pid", &victim.pid()], &[]);
    let (status, err) = h.finish(true);
    assert_eq!(status, 0);
    assert!(err.starts_with("heart_beat_timeout = 11\nheart_beat_kill_pid = "), "{err}");
    assert!(err.contains(": Erlang has closed.\r\n"), "{err}");
    assert!(err.ends_with(": Would reboot. Terminating.\r\n"), "{err}");
    assert_eq!(victim.0.try_wait().unwrap(), None, "the VM must not be killed without a command");
}

#[test]
fn crash_kills_the_vm_at_once_and_runs_the_command() {
    let dir = std::env::temp_dir().join(format!("heart-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("rebooted");
    let mut victim = Victim::start();
    let mut h = Heart::start(&["-pid", &victim.pid()], &[]);
    h.send(format!("\x04echo rebooted > {}; exit 7", marker.display()).as_bytes());
    assert_eq!(h.read_frame(), vec![1]);
    let t0 = Instant::now();
    h.send(&[8]);
    assert_eq!(victim.killed_by(), Some(9));
    let (status, err) = h.finish(false);
    assert_eq!(status, 0);
    assert!(std::fs::read_to_string(&marker).unwrap().starts_with("rebooted"));
    // The raw wait status, as system(3) gives it: exit 7 -> 1792.
    assert!(err.contains("; exit 7\" -> 1792. Terminating.\r\n"), "{err}");
    assert!(err.contains("Erlang is crashing .. (waiting for crash dump file)"), "{err}");
    // OTP's heart sleeps a second after the kill; ours goes on when the VM is gone.
    assert!(t0.elapsed() < Duration::from_millis(900), "{:?}", t0.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// OTP's heart runs the command by system(3), which passes on SIGPIPE as heart got it:
/// ignored under a VM (which ignores it), the default from a shell. Rust's runtime ignores
/// SIGPIPE before `main`, and ignored signals are inherited, so heart restores it.
#[test]
fn the_command_gets_sigpipe_as_heart_got_it() {
    for ignored in [false, true] {
        let dir = std::env::temp_dir().join(format!("heart-sigpipe-{}-{ignored}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join("ignored");
        let victim = Victim::start();
        let command = format!("grep '^SigIgn:' /proc/$$/status > {}", marker.display());
        let env = [("HEART_COMMAND", command.as_str()), ("HEART_NO_KILL", "TRUE")];
        let mut cmd = Heart::command(env!("CARGO_BIN_EXE_heart"), &["-pid", &victim.pid()], &env);
        let handler = if ignored { SigHandler::SigIgn } else { SigHandler::SigDfl };
        // SAFETY: signal(2) is async-signal-safe; SIG_IGN and SIG_DFL install no code.
        unsafe { cmd.pre_exec(move || signal(Signal::SIGPIPE, handler).map(|_| ()).map_err(std::io::Error::from)) };
        let mut h = Heart::spawn(cmd);
        h.send(&[8]);
        let (_, err) = h.finish(false);
        assert!(err.contains("-> 0. Terminating."), "{err}");
        let line = std::fs::read_to_string(&marker).unwrap();
        let mask = u64::from_str_radix(line.trim_start_matches("SigIgn:").trim(), 16).unwrap();
        assert_eq!(mask & (1 << (13 - 1)) != 0, ignored, "SIGPIPE (13) in the command: {line}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn no_kill_and_sigabrt_are_honoured() {
    let mut victim = Victim::start();
    let mut h = Heart::start(&["-pid", &victim.pid()], &[("HEART_COMMAND", "true"), ("HEART_NO_KILL", "TRUE")]);
    h.send(&[8]);
    let (_, err) = h.finish(false);
    assert!(err.contains("Executed \"true\" -> 0. Terminating."), "{err}");
    assert_eq!(victim.0.try_wait().unwrap(), None);

    let mut victim = Victim::start();
    let mut h = Heart::start(&["-pid", &victim.pid()], &[("HEART_COMMAND", "true"), ("HEART_KILL_SIGNAL", "SIGABRT")]);
    h.send(&[8]);
    assert_eq!(victim.killed_by(), Some(6));
    let (_, err) = h.finish(false);
    assert!(err.contains("kill signal SIGABRT requested"), "{err}");
}

#[test]
fn missed_beats_time_out_at_the_deadline() {
    let mut victim = Victim::start();
    let mut h = Heart::start(&["-ht", "11", "-pid", &victim.pid()], &[("HEART_COMMAND", "true")]);
    let t0 = Instant::now();
    h.send(&[2]);
    let (_, err) = h.finish(false);
    let took = t0.elapsed();
    assert!(err.contains("heart-beat time-out, no activity for 11 seconds"), "{err}");
    // OTP declares it on a 5-second grid (up to ~T+6 s); ours at T.
    assert!(took >= Duration::from_secs(11) && took < Duration::from_millis(12_500), "{took:?}");
    assert!(victim.0.try_wait().unwrap().is_some(), "the hung VM is killed");
}

#[test]
fn systemd_hears_ready_then_watchdog_then_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = std::env::temp_dir().join(format!("heart-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut h = Heart::start(&[], &[("NOTIFY_SOCKET", path.to_str().unwrap()), ("WATCHDOG_USEC", "30000000")]);
    let mut buf = [0u8; 64];
    let mut next = || {
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    h.send(&[2]);
    assert_eq!(next(), "READY=1");
    h.send(&[2]);
    assert_eq!(next(), "WATCHDOG=1");
    h.send(&[3]);
    assert_eq!(next(), "STOPPING=1");
    h.finish(false);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restart_budget_stops_a_crash_loop() {
    let dir = std::env::temp_dir().join(format!("heart-budget-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("runs");
    let cmd = format!("echo run >> {}", marker.display());
    let env = [
        ("HEART_COMMAND", cmd.as_str()),
        ("HEART_MAX_RESTARTS", "1"),
        ("HEART_STATE_DIR", dir.to_str().unwrap()),
        ("HEART_LOG_FORMAT", "json"),
    ];
    let mut h = Heart::start(&[], &env);
    h.send(&[8]);
    let (_, err) = h.finish(false);
    assert!(err.contains("\"message\":\"Executed \\\"echo run >>"), "{err}");
    let mut h = Heart::start(&[], &env);
    h.send(&[8]);
    let (status, err) = h.finish(false);
    assert_eq!(status, 0);
    assert!(err.contains("Restart budget spent: 1 restarts within 3600 seconds"), "{err}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "run\n", "the command ran once");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn crash_dump_wait_ends_when_the_vm_closes_the_pipe() {
    let mut h = Heart::start(&[], &[("ERL_CRASH_DUMP_SECONDS", "30"), ("HEART_DEBUG", "")]);
    h.send(&[8]);
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    let (status, err) = h.finish(true);
    assert_eq!(status, 0);
    assert!(t0.elapsed() < Duration::from_secs(5), "waited {:?}", t0.elapsed());
    assert!(err.starts_with("heart: debug is ON!\r\n"), "{err}");
    assert!(err.contains(": Waiting for dump - timeout set to 30 seconds.\r\n"), "{err}");
    assert!(err.ends_with(": Would reboot. Terminating.\r\n"), "{err}");
}

#[test]
fn crash_dump_wait_is_bounded_by_its_timeout() {
    let mut victim = Victim::start();
    let mut h = Heart::start(&["-pid", &victim.pid()], &[("ERL_CRASH_DUMP_SECONDS", "1"), ("HEART_COMMAND", "true")]);
    let t0 = Instant::now();
    h.send(&[8]);
    assert_eq!(victim.killed_by(), Some(9));
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(4), "{waited:?}");
    h.finish(false);
}

#[test]
fn watchdog_device_is_petted_per_beat_and_disarmed_only_on_a_clean_stop() {
    // A regular file stands in for /dev/watchdog: heart opens it for writing without
    // truncating, so every write lands after the previous one and the file is the log.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("heart-watchdog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dev = dir.join("watchdog");
    let read = || std::fs::read(&dev).unwrap();

    std::fs::write(&dev, b"").unwrap();
    let mut h = Heart::start(&[], &[("HEART_WATCHDOG_PATH", dev.to_str().unwrap())]);
    assert_eq!(read(), b"", "nothing before the first beat");
    h.send(&[2]);
    h.send(&[2]);
    h.send(&[2]);
    // Frames are handled in order: once GET_CMD is answered, the beats have been.
    h.send(&[6]);
    assert_eq!(h.read_frame(), vec![7]);
    assert_eq!(read(), b"\0\0\0", "one keep-alive byte per beat");
    h.send(&[5]);
    assert_eq!(h.read_frame(), vec![1]);
    assert_eq!(read(), b"\0\0\0", "only beats pet the watchdog");
    h.send(&[3]);
    let (status, _) = h.finish(false);
    assert_eq!(status, 0);
    assert_eq!(read(), b"\0\0\0V", "SHUT_DOWN ends with the magic close");

    // The VM going away is not a clean stop: the watchdog stays armed so it can fire.
    std::fs::write(&dev, b"").unwrap();
    let mut h = Heart::start(&[], &[("HEART_WATCHDOG_PATH", dev.to_str().unwrap())]);
    h.send(&[2]);
    let (status, err) = h.finish(true);
    assert_eq!(status, 0);
    assert!(err.ends_with(": Would reboot. Terminating.\r\n"), "{err}");
    assert_eq!(read(), b"\0");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn issue_13_non_utf8_arguments_and_environment_are_bytes() {
    // OTP's heart takes any bytes; ours used to panic (exit 101) before its ACK.
    let args = [OsString::from_vec(b"-x\xff".to_vec()), OsString::from("-ht"), OsString::from_vec(b"12\xff".to_vec())];
    let mut cmd = Heart::command(env!("CARGO_BIN_EXE_heart"), &args, &[]);
    cmd.arg0(OsStr::from_bytes(b"/opt/r\xe9l/heart"));
    cmd.env("HEART_COMMAND", OsStr::from_bytes(b"true \xff"));
    let mut h = Heart::spawn(cmd);
    h.send(&[6]);
    assert_eq!(h.read_frame(), b"\x07true \xff", "the command's bytes, not U+FFFD");
    h.send(&[8]);
    let (status, err) = h.finish_raw(false);
    assert_eq!(status, 0);
    let text = String::from_utf8_lossy(&err);
    assert!(err.starts_with(b"heart_beat_timeout = 12\n/opt/r\xe9l/heart: "), "{text}");
    assert!(err.ends_with(b": Executed \"true \xff\" -> 0. Terminating.\r\n"), "{text}");
}

#[test]
fn issue_13_heart_refuses_its_own_pid() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("heart-own-pid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("rebooted");
    let command = format!("echo rebooted > {}", marker.display());
    // `exec` keeps the shell's pid, so `$$` is heart's own.
    let cmd = Heart::command(
        "/bin/sh",
        &["-c", "exec \"$0\" -pid $$", env!("CARGO_BIN_EXE_heart")],
        &[("HEART_COMMAND", &command)],
    );
    let mut h = Heart::spawn(cmd);
    h.send(&[8]);
    let (status, err) = h.finish(false);
    assert_eq!(status, 0, "heart must not kill itself: {err}");
    assert!(err.contains("Executed \"echo rebooted"), "{err}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "rebooted\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn issue_13_heart_refuses_its_parents_pid() {
    // The shell is heart's parent (no exec): heart must not kill it.
    let script = "\"$0\" -pid $$; echo \"heart exited $?\" >&2";
    let cmd = Heart::command("/bin/sh", &["-c", script, env!("CARGO_BIN_EXE_heart")], &[("HEART_COMMAND", "true")]);
    let mut h = Heart::spawn(cmd);
    h.send(&[8]);
    let (status, err) = h.finish(false);
    assert_eq!(status, 0, "the parent was killed: {err}");
    assert!(err.contains("Executed \"true\" -> 0. Terminating.\r\nheart exited 0\n"), "{err}");
}

#[test]
fn issue_13_a_half_received_frame_still_times_out() {
    // A header promising 16 bytes, one of them, then nothing on a pipe still open: the
    // node is hung. OTP 25's heart blocks in read() here forever; ours keeps its deadline.
    let mut victim = Victim::start();
    let mut h = Heart::start(&["-ht", "11", "-pid", &victim.pid()], &[("HEART_COMMAND", "true")]);
    let t0 = Instant::now();
    h.send(&[2]);
    h.send_raw(&[0x00, 0x10, 0x02]);
    let (status, err) = h.finish(false);
    let took = t0.elapsed();
    assert_eq!(status, 0);
    // A partial beat frame is not a beat: the deadline counts from the whole one.
    assert!(err.contains("heart-beat time-out, no activity for 11 seconds"), "{err}");
    assert!(took < Duration::from_millis(12_500), "{took:?}");
    assert_eq!(victim.killed_by(), Some(9), "the hung VM is killed");
    assert!(err.contains("Executed \"true\" -> 0. Terminating."), "{err}");
}
