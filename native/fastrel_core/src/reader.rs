//! STUB: replaced by the term reader.
use crate::term::Term;
/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadErrorKind {
    /// The scanner failed (bad token), or the input ended before a terminating dot.
    #[error("{0}")]
    Scan(String),
    /// The tokens do not form a term.
    #[error("{0}")]
    Parse(String),
    /// No term at all.
    #[error("unexpected end of file")]
    Eof,
}
/// A read error with its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct ReadError {
    /// File name as given.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// What.
    pub kind: ReadErrorKind,
}
/// Reads the first dot-terminated term.
pub fn read_first_term(_src: &[u8], file: &str) -> Result<Term, ReadError> {
    Err(ReadError { file: file.into(), line: 1, kind: ReadErrorKind::Eof })
}
/// Reads all terms.
pub fn read_all_terms(_src: &[u8], file: &str) -> Result<Vec<Term>, ReadError> {
    Err(ReadError { file: file.into(), line: 1, kind: ReadErrorKind::Eof })
}
