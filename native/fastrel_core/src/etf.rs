//! STUB: replaced by the ETF codec.
use crate::term::Term;
/// Encodes as term_to_binary/1 of OTP `otp_major`.
pub fn encode(_t: &Term, _otp_major: u32) -> Vec<u8> { vec![131] }
/// Decode error.
#[derive(Debug, thiserror::Error)]
#[error("bad etf")]
pub struct EtfError;
/// Decodes.
pub fn decode(_b: &[u8]) -> Result<Term, EtfError> { Err(EtfError) }
