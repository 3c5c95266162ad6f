//! STUB: replaced by the pretty printer.
/// script text
pub fn script_text(_t: &Term, _u: bool, _o: u32) -> String { String::new() }
use crate::term::Term;
/// `io_lib:format("~tp", [T])` at column 1.
pub fn pretty(_t: &Term, _unicode_range: bool, _otp_major: u32) -> String { String::new() }
