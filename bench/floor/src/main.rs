// SPDX-License-Identifier: Apache-2.0
//! Waits on its standard input, as heart waits on the VM's pipe, and exits at its end.

use std::io::Read;

fn main() {
    let mut buf = [0u8; 256];
    while std::io::stdin().read(&mut buf).is_ok_and(|n| n > 0) {}
}
