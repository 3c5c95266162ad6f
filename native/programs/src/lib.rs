// SPDX-License-Identifier: Apache-2.0
//! The start script's helpers (see the binary's documentation): `vm.args` read as the VM
//! reads it, `${VAR}` rendering of `.src` files, the node's full name, and waiting for
//! a process to end.
#![deny(missing_docs)]

pub mod nodename;
pub mod render;
pub mod vmargs;
pub mod waitpid;
