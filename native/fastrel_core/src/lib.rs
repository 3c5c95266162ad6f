// SPDX-License-Identifier: Apache-2.0
//! fastrel's core: the Erlang terms releases are made of, and the files built from them.
//!
//! Everything here is plain Rust with no tie to a running VM, so it is unit-tested and
//! fuzzed on its own; the NIF crate is only a table of contents over [`api`]. Three
//! layers, each using only those below it:
//!
//! * the term toolkit (`term`): [`Term`], a reader for Erlang term text (what
//!   `file:consult/1` reads), a byte-exact External Term Format codec ([`etf`], what
//!   `term_to_binary/1` writes), the `~tp` pretty-printer ([`pretty`]) and the map order
//!   only the VM knows ([`vm`]); it knows nothing of releases;
//! * the systools port (`systools`): [`make_script`], [`make_tar`] and [`relup`],
//!   reimplementations of `systools:make_script/2`, `make_tar/2` and `make_relup/4`, with
//!   the tar writer ([`tar`]) and parallel gzip ([`pgzip`]) beside them, on top of one
//!   small `fs` module (outputs written whole or not at all, POSIX error names);
//! * [`api`]: the NIF-facing entry points, External Term Format in and out, with one
//!   decoder (`options`) that reads what `relnif` sends into the port's typed options
//!   and refuses unknown or ill-typed keys. Failures are one [`Error`];
//!   [`Error::reason`] is the only way they become Erlang terms.
//!
//! ```
//! use fastrel_core::{read_first_term, etf};
//! let t = read_first_term(b"{release, {\"r\", \"1\"}}.", "r.rel").unwrap();
//! assert_eq!(etf::encode(&t, 25)[0], 131);
//! ```
#![deny(missing_docs)]

pub mod api;
mod fs;
mod options;
mod systools;
mod term;

pub use crate::systools::{make_script, make_tar, pgzip, relup, tar, Error, Invalid, PathMode};
pub use crate::term::reader::{
    atoms_in_source, read_all_terms, read_first_term, set_scanner_rules, ReadError, ReadErrorKind, ScannerRules,
};
pub use crate::term::{etf, map_key_cmp, pretty, term_cmp, vm, Term};
