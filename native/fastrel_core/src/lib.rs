// SPDX-License-Identifier: Apache-2.0
//! fastrel's core: the Erlang terms releases are made of, and the files built from them.
//!
//! Everything here is plain Rust with no tie to a running VM, so it is unit-tested and
//! fuzzed on its own; the NIF crate is only a table of contents over it. The pieces:
//! a reader for Erlang term text (what `file:consult/1` reads), a byte-exact External Term
//! Format codec (what `term_to_binary/1` writes), the `~tp` pretty-printer, and
//! `make_script` and `make_tar`, reimplementations of `systools:make_script/2` and
//! `systools:make_tar/2` (the tar writer and parallel gzip are in `tar` and `pgzip`), and
//! `relup`, `systools:make_relup/4` (`systools_relup` and `systools_rc`).
//!
//! ```
//! use fastrel_core::{read_first_term, etf};
//! let t = read_first_term(b"{release, {\"r\", \"1\"}}.", "r.rel").unwrap();
//! assert_eq!(etf::encode(&t, 25)[0], 131);
//! ```
#![deny(missing_docs)]

pub mod api;
mod dircache;
pub mod etf;
pub mod make_script;
pub mod make_tar;
#[cfg(test)]
mod oracle;
mod order;
pub mod pgzip;
pub mod pretty;
mod reader;
mod release;
pub mod relup;
mod script;
pub mod tar;
mod term;
pub mod vm;

pub use reader::{
    atoms_in_source, read_all_terms, read_first_term, set_scanner_rules, ReadError, ReadErrorKind, ScannerRules,
};
pub use script::PathMode;
pub use term::{map_key_cmp, term_cmp, Term};
