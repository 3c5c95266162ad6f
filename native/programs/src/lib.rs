// SPDX-License-Identifier: Apache-2.0
//! The start script's helpers (see the binary's documentation): `vm.args` read as the VM
//! reads it, and `${VAR}` rendering of `.src` files.
#![deny(missing_docs)]

pub mod render;
pub mod vmargs;
