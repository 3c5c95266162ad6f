//! STUB: replaced by the ETF codec.
use crate::term::Term;
/// Encodes as term_to_binary/1 of OTP `otp_major`.
pub fn encode(_t: &Term, _otp_major: u32) -> Vec<u8> { vec![131] }
