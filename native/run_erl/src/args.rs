//! run_erl's command line, read as OTP's is: `[-daemon|-sleepy-child] pipe log_dir command [extra...]`,
//! with the flag only recognised as the first argument.

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    pub daemon: bool,
    pub sleepy: bool,
    pub pipe: String,
    pub log_dir: String,
    /// The command and any extra words (these become `$0`, `$1`... of `sh -c`).
    pub command: Vec<String>,
}

pub const USAGE: &str = "Usage: run_erl (pipe_name|pipe_dir/) log_dir \"command [parameters ...]\"\n\
\n\
You may also set the environment variables RUN_ERL_LOG_GENERATIONS\n\
and RUN_ERL_LOG_MAXSIZE to the number of log files to use and the\n\
size of the log file when to switch to the next log file\n";

/// `None` means: print the usage and exit 1. As in OTP, fewer than three arguments is
/// checked before the flag is looked at.
pub fn parse(args: &[String]) -> Option<Args> {
    if args.len() < 3 {
        return None;
    }
    let (daemon, sleepy, rest) = match args[0].as_str() {
        "-daemon" => (true, false, &args[1..]),
        "-sleepy-child" => (false, true, &args[1..]),
        _ => (false, false, args),
    };
    Some(Args { daemon, sleepy, pipe: rest[0].clone(), log_dir: rest[1].clone(), command: rest[2..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
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
}
