// SPDX-License-Identifier: Apache-2.0
//! Keeps `no_unwinder`'s `_Unwind_*` definitions out of the executable's dynamic symbol
//! table. The linker exports an executable's definition of a name that a shared library
//! on the link line also defines (libgcc_s, before `--as-needed` drops it); a libgcc_s
//! that glibc loads later (for `pthread_cancel` or `backtrace(3)`, which nothing here
//! calls) would then call the stubs from inside its own unwinder.

fn main() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        let map = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("src/no_unwinder.map");
        println!("cargo:rustc-link-arg-bins=-Wl,--version-script={}", map.display());
        println!("cargo:rerun-if-changed=src/no_unwinder.map");
    }
}
