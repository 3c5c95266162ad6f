// SPDX-License-Identifier: Apache-2.0
//! heart's protocol as a pure state machine: an event in, actions out. The event loop in
//! `main.rs` does the waiting, reading and writing; everything heart decides is here and
//! unit-tested without processes.

use crate::reboot::Reason;
use crate::wire::{op, MAX_FRAME};

/// Something that happened on the pipe from the VM, or to the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// One `{packet,2}` frame (opcode and payload).
    Frame(Vec<u8>),
    /// The VM closed the pipe.
    Eof,
    /// Reading the pipe failed.
    ReadError,
    /// The heartbeat deadline passed; seconds since the last beat.
    Deadline(u64),
}

/// What heart must do about it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a frame to the VM.
    Reply(u8, Vec<u8>),
    /// Log a message (timestamped).
    Log(String),
    /// A heartbeat: restart the timer, pet the keep-alives.
    Beat,
    /// Give the VM time to write its crash dump (`ERL_CRASH_DUMP_SECONDS`).
    WaitForDump,
    /// Leave quietly (SHUT_DOWN): no kill, no command.
    Stop,
    /// Make sure the VM is dead and run the reboot command.
    Reboot(Reason),
}

/// The reboot command as heart.erl set it, and the one from the environment. Both are
/// bytes: a command is a file name's cousin and need not be UTF-8.
pub struct Session {
    command: Vec<u8>,
    env_command: Option<Vec<u8>>,
}

impl Session {
    /// A session whose fallback command is `HEART_COMMAND` (`None`: unset).
    pub fn new(env_command: Option<Vec<u8>>) -> Session {
        Session { command: Vec::new(), env_command }
    }

    /// The command a reboot runs: the one set with `heart:set_cmd/1`, else `HEART_COMMAND`.
    pub fn command(&self) -> Option<Vec<u8>> {
        if self.command.is_empty() {
            self.env_command.clone()
        } else {
            Some(self.command.clone())
        }
    }

    /// Handles one event.
    pub fn step(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Eof => vec![Action::Log("Erlang has closed.".into()), Action::Reboot(Reason::Closed)],
            Event::ReadError => vec![Action::Log("error in read_message.".into()), Action::Reboot(Reason::Error)],
            Event::Deadline(secs) => vec![
                Action::Log(format!("heart-beat time-out, no activity for {secs} seconds")),
                Action::Reboot(Reason::Timeout),
            ],
            // Empty frames and frames longer than OTP's buffer are ignored, as OTP does.
            Event::Frame(f) if f.is_empty() || f.len() > MAX_FRAME => vec![],
            Event::Frame(f) => match f.split_first() {
                Some((opcode, payload)) => self.frame(*opcode, payload),
                None => vec![],
            },
        }
    }

    fn frame(&mut self, opcode: u8, payload: &[u8]) -> Vec<Action> {
        // Like OTP's, commands end at an embedded NUL.
        let until_nul = |b: &[u8]| b.split(|c| *c == 0).next().unwrap_or(&[]).to_vec();
        match opcode {
            op::BEAT => vec![Action::Beat],
            op::SHUT_DOWN => vec![Action::Stop],
            op::SET_CMD => {
                self.command = until_nul(payload);
                vec![Action::Reply(op::ACK, vec![])]
            }
            op::CLEAR_CMD => {
                self.command.clear();
                vec![Action::Reply(op::ACK, vec![])]
            }
            // OTP sends nothing for a command of 2048 bytes or more, leaving heart:get_cmd/0
            // blocked; every length fits a {packet,2} reply, so always answer.
            op::GET_CMD => {
                let cmd = self.command().map(|c| until_nul(&c)).unwrap_or_default();
                vec![Action::Reply(op::HEART_CMD, cmd)]
            }
            op::PREPARING_CRASH => vec![
                Action::Log("Erlang is crashing .. (waiting for crash dump file)".into()),
                Action::WaitForDump,
                Action::Reboot(Reason::Crashing),
            ],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Event {
        Event::Frame(bytes.to_vec())
    }

    #[test]
    fn set_get_clear_follow_heart_erl() {
        let mut s = Session::new(Some(b"env cmd".to_vec()));
        assert_eq!(s.step(frame(&[6])), vec![Action::Reply(7, b"env cmd".to_vec())]);
        assert_eq!(s.step(frame(b"\x04echo hi\0ignored")), vec![Action::Reply(1, vec![])]);
        assert_eq!(s.step(frame(&[6])), vec![Action::Reply(7, b"echo hi".to_vec())]);
        assert_eq!(s.command().as_deref(), Some(&b"echo hi"[..]));
        assert_eq!(s.step(frame(&[5])), vec![Action::Reply(1, vec![])]);
        assert_eq!(s.command().as_deref(), Some(&b"env cmd"[..]));
        // An empty SET_CMD is a clear.
        s.step(frame(b"\x04x"));
        s.step(frame(&[4]));
        assert_eq!(s.command().as_deref(), Some(&b"env cmd"[..]));
    }

    #[test]
    fn issue_13_commands_keep_their_bytes() {
        let mut s = Session::new(Some(b"/opt/r\xe9l/bin/start".to_vec()));
        assert_eq!(s.step(frame(&[6])), vec![Action::Reply(7, b"/opt/r\xe9l/bin/start".to_vec())]);
        s.step(frame(b"\x04/tmp/p\xff/restart"));
        assert_eq!(s.command().as_deref(), Some(&b"/tmp/p\xff/restart"[..]), "not U+FFFD");
    }

    #[test]
    fn no_command_anywhere_is_none_and_answers_empty() {
        let mut s = Session::new(None);
        assert_eq!(s.command(), None);
        assert_eq!(s.step(frame(&[6])), vec![Action::Reply(7, vec![])]);
    }

    #[test]
    fn ignored_frames() {
        let mut s = Session::new(None);
        for f in [vec![], vec![0], vec![9], vec![255, 1, 2], vec![1], vec![7, 1], vec![4; 2049]] {
            assert_eq!(s.step(Event::Frame(f.clone())), vec![], "{f:?}");
        }
        assert_eq!(s.command(), None, "an oversized SET_CMD changes nothing");
    }

    #[test]
    fn endings() {
        let mut s = Session::new(None);
        assert_eq!(s.step(frame(&[2, 9, 9])), vec![Action::Beat], "extra beat payload is tolerated");
        assert_eq!(s.step(frame(&[3])), vec![Action::Stop]);
        assert_eq!(s.step(Event::Eof).last(), Some(&Action::Reboot(Reason::Closed)));
        assert_eq!(s.step(Event::ReadError).last(), Some(&Action::Reboot(Reason::Error)));
        assert_eq!(
            s.step(Event::Deadline(11)),
            vec![
                Action::Log("heart-beat time-out, no activity for 11 seconds".into()),
                Action::Reboot(Reason::Timeout)
            ]
        );
        assert_eq!(s.step(frame(&[8]))[1..], [Action::WaitForDump, Action::Reboot(Reason::Crashing)]);
    }
}
