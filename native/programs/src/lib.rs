// SPDX-License-Identifier: Apache-2.0
//! The start script's helpers (see the binary's documentation): `vm.args` read as the VM
//! reads it, `${VAR}` rendering of `.src` files, and the node's full name.
#![deny(missing_docs)]

pub mod nodename;
pub mod render;
pub mod vmargs;
