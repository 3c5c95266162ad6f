// SPDX-License-Identifier: Apache-2.0
//! Waits on its standard input, as heart waits on the VM's pipe, and exits at its end;
//! with libc and nothing of Rust's standard library.
#![no_std]
#![no_main]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort(3) takes nothing and does not return.
    unsafe { libc::abort() }
}

#[no_mangle]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    let mut buf = [0u8; 256];
    loop {
        // SAFETY: reads into a buffer of the length given.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return 0;
        }
    }
}
