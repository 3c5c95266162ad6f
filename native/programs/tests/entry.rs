// SPDX-License-Identifier: Apache-2.0
//! The executable's own entry point (`no_main` on glibc): what Rust's runtime start-up did
//! and the programs rely on is still done, checked through links named as the programs,
//! as a release runs them.

use nix::sys::signal::{kill, signal, SigHandler, Signal};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory holding `NAME` as a link to the executable; removed at the end.
struct Linked(PathBuf);

impl Linked {
    fn new(name: &str, tag: &str) -> Linked {
        let dir = std::env::temp_dir().join(format!("fastrel-entry-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fastrel_programs"), dir.join(name)).unwrap();
        Linked(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Linked {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
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

/// run_erl opens its log before `-daemon` puts /dev/null on 0-2: started with 0 closed,
/// the log must not be the descriptor that gets replaced.
#[test]
fn run_erl_started_with_stdin_closed_still_logs() {
    let d = Linked::new("run_erl", "closed");
    for sub in ["p", "l"] {
        std::fs::create_dir_all(d.path(sub)).unwrap();
    }
    let child_pid = d.path("child");
    let cmd = format!("echo started-here; echo $$ > {0}.tmp; mv {0}.tmp {0}; exec sleep 30", child_pid.display());
    let mut c = Command::new(d.path("run_erl"));
    c.args(["-daemon", &format!("{}/", d.path("p").display()), &format!("{}/", d.path("l").display()), &cmd]);
    // SAFETY: close(2) is async-signal-safe.
    unsafe { c.pre_exec(|| if nix::libc::close(0) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }) };
    let out = c.stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(wait_for(Duration::from_secs(10), || child_pid.exists()), "the command ran");
    let pid = Pid::from_raw(std::fs::read_to_string(&child_pid).unwrap().trim().parse().unwrap());
    let log = d.path("l/erlang.log.1");
    let logged =
        wait_for(Duration::from_secs(10), || std::fs::read_to_string(&log).is_ok_and(|s| s.contains("started-here")));
    let _ = kill(pid, Signal::SIGKILL);
    assert!(logged, "the command's output is in {}: {:?}", log.display(), std::fs::read_to_string(&log));
    // run_erl ends with its command: its FIFOs go.
    assert!(wait_for(Duration::from_secs(10), || std::fs::read_dir(d.path("p")).unwrap().next().is_none()));
}

/// heart's command gets SIGPIPE as heart got it (fastrel_console::sigpipe's constructor
/// runs before this entry point too).
#[test]
fn heart_passes_on_sigpipe_as_it_got_it() {
    for ignored in [false, true] {
        let d = Linked::new("heart", if ignored { "ign" } else { "dfl" });
        let marker = d.path("sigign");
        let mut victim = Command::new("sleep").arg("60").spawn().unwrap();
        let mut c = Command::new(d.path("heart"));
        c.args(["-pid", &victim.id().to_string()])
            .env("HEART_COMMAND", format!("grep '^SigIgn:' /proc/$$/status > {}", marker.display()))
            .env("HEART_NO_KILL", "TRUE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let handler = if ignored { SigHandler::SigIgn } else { SigHandler::SigDfl };
        // SAFETY: signal(2) with SIG_IGN or SIG_DFL installs no code.
        unsafe { c.pre_exec(move || signal(Signal::SIGPIPE, handler).map(|_| ()).map_err(std::io::Error::from)) };
        let mut heart = c.spawn().unwrap();
        let mut ack = [0u8; 3];
        heart.stdout.as_mut().unwrap().read_exact(&mut ack).unwrap();
        assert_eq!(ack, [0, 1, 1], "heart's start-up ACK");
        // PREPARING_CRASH: heart runs its command at once.
        heart.stdin.as_mut().unwrap().write_all(&[0, 1, 8]).unwrap();
        let exited = wait_for(Duration::from_secs(20), || heart.try_wait().unwrap().is_some());
        let _ = heart.kill();
        let _ = heart.wait();
        let _ = victim.kill();
        let _ = victim.wait();
        assert!(exited, "heart ran its command and exited");
        let line = std::fs::read_to_string(&marker).unwrap();
        let mask = u64::from_str_radix(line.trim_start_matches("SigIgn:").trim(), 16).unwrap();
        assert_eq!(
            mask & (1 << (13 - 1)) != 0,
            ignored,
            "SIGPIPE in the command, heart started with it ignored: {ignored}"
        );
    }
}

#[test]
fn a_helper_s_output_is_flushed_at_exit() {
    let d = Linked::new("fastrel_programs", "flush");
    let vm_args = d.path("vm.args");
    std::fs::write(&vm_args, "-sname flushed\n-setcookie c\n").unwrap();
    let out =
        Command::new(d.path("fastrel_programs")).arg("vmargs").arg(&vm_args).arg(Path::new("/")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("flushed"), "{text}");
}
