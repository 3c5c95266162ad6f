//! STUB: replaced by the pretty printer.
use crate::term::Term;
/// `io_lib:format("~tp", [T])` at column 1.
pub fn pretty(_t: &Term, _unicode_range: bool, _otp_major: u32) -> String { String::new() }
