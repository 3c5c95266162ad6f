// SPDX-License-Identifier: Apache-2.0
//! The systools port: `systools:make_script/2`, `make_tar/2` and `make_relup/4` without
//! the VM, built on the term toolkit ([`crate::term`]).
//!
//! Walking down: [`filename`] is Erlang's `filename` module (the exact names that end up
//! in scripts, errors and tar entries); [`search_path`] finds and reads `.rel` and `.app`
//! files as `file:path_open/3` does and owns the cache that keeps that cheap; [`release`]
//! checks them as `systools_make` does; [`order`] sorts the applications into start order;
//! [`script`] builds the boot script; [`make_script`] and [`make_tar`] are the two entry
//! points over that shared front end ([`tar`] and [`pgzip`] write the tarball); [`relup`]
//! is `systools_relup` and `systools_rc`. Every entry point fails with one [`Error`],
//! which [`error`] alone turns into systools' own terms, because callers compare them,
//! print them with `format_error/1` and match on them.

mod deflate_blocks;
mod error;
mod fasthash;
mod filename;
#[cfg(test)]
mod fixture;
pub mod make_script;
pub mod make_tar;
mod order;
pub mod pgzip;
mod release;
pub mod relup;
#[cfg(test)]
mod scaling_tests;
mod script;
mod search_path;
pub mod tar;

pub(crate) use error::parse_error_term;
pub use error::{Error, Invalid};
pub(crate) use script::preloaded;
pub use script::PathMode;
