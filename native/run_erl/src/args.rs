// SPDX-License-Identifier: Apache-2.0
//! run_erl's command line, read as OTP's is: `[-daemon|-sleepy-child] pipe log_dir command [extra...]`,
//! with the flag only recognised as the first argument. Arguments are bytes, as C's argv
//! is: a pipe or log directory need not be UTF-8.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    pub daemon: bool,
    pub sleepy: bool,
    pub pipe: OsString,
    pub log_dir: OsString,
    /// The command and any extra words (these become `$0`, `$1`... of `sh -c`).
    pub command: Vec<OsString>,
}

pub const USAGE: &str = "Usage: run_erl (pipe_name|pipe_dir/) log_dir \"command [parameters ...]\"\n\
\n\
You may also set the environment variables RUN_ERL_LOG_GENERATIONS\n\
and RUN_ERL_LOG_MAXSIZE to the number of log files to use and the\n\
size of the log file when to switch to the next log file\n";

/// `None` means: print the usage and exit 1. As in OTP, fewer than three arguments is
/// checked before the flag is looked at.
pub fn parse(args: &[OsString]) -> Option<Args> {
    if args.len() < 3 {
        return None;
    }
    let (first, after) = args.split_first()?;
    let (daemon, sleepy, rest) = match first.as_bytes() {
        b"-daemon" => (true, false, after),
        b"-sleepy-child" => (false, true, after),
        _ => (false, false, args),
    };
    let [pipe, log_dir, command @ ..] = rest else {
        return None;
    };
    Some(Args { daemon, sleepy, pipe: pipe.clone(), log_dir: log_dir.clone(), command: command.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn forms() {
        assert_eq!(parse(&v(&["p/", "l", "exec erl"])).unwrap().command, v(&["exec erl"]));
        let d = parse(&v(&["-daemon", "p/", "l", "exec erl", "x"])).unwrap();
        assert!(d.daemon && d.command == v(&["exec erl", "x"]));
        // OTP lets `-daemon a b` through with no command; fastrel's -daemon refuses it later.
        assert!(parse(&v(&["-daemon", "a", "b"])).unwrap().command.is_empty());
        assert_eq!(parse(&v(&["a", "b"])), None);
        // Only the first argument is a flag.
        assert_eq!(parse(&v(&["p/", "-daemon", "c"])).unwrap().log_dir, "-daemon");
    }

    #[test]
    fn issue_13_arguments_are_bytes() {
        use std::os::unix::ffi::OsStringExt;
        let pipe = OsString::from_vec(b"/tmp/p\xff/".to_vec());
        let a = parse(&[pipe.clone(), "/tmp/l".into(), "true".into()]).unwrap();
        assert_eq!((a.pipe, a.command), (pipe, v(&["true"])));
    }
}
