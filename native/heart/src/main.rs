// SPDX-License-Identifier: Apache-2.0
//! The `heart` program on its own (the multi-call `fastrel_programs` runs the same code).

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(heart::main())
}
