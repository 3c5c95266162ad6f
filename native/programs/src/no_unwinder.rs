// SPDX-License-Identifier: Apache-2.0
//! The ten unwinder entry points Rust's standard library refers to, defined here so that
//! the executable needs no `libgcc_s.so.1`: loading it costs an idle heart some 100 kB of
//! RSS (`bench/sizes.sh`). Nothing unwinds in these programs (`panic = "abort"`); the
//! library calls the unwinder only to print a panic's backtrace, which comes out empty.
//! Should a future standard library refer to one more, the linker takes `libgcc_s` again:
//! more memory, nothing wrong.

#![allow(non_snake_case)]

use std::ffi::{c_int, c_void};

/// `_URC_END_OF_STACK`: the walk ends before its first frame.
const END_OF_STACK: c_int = 5;

#[no_mangle]
extern "C" fn _Unwind_Backtrace(_trace: *mut c_void, _arg: *mut c_void) -> c_int {
    END_OF_STACK
}

#[no_mangle]
extern "C" fn _Unwind_Resume(_exception: *mut c_void) -> ! {
    std::process::abort()
}

// Asked only by a personality routine or a backtrace callback, neither of which runs.
#[no_mangle]
extern "C" fn _Unwind_GetIP(_ctx: *mut c_void) -> usize {
    0
}
#[no_mangle]
extern "C" fn _Unwind_GetIPInfo(_ctx: *mut c_void, before: *mut c_int) -> usize {
    if !before.is_null() {
        // SAFETY: the caller passes a valid out-pointer, per the unwinder's ABI.
        unsafe { *before = 0 };
    }
    0
}
#[no_mangle]
extern "C" fn _Unwind_GetLanguageSpecificData(_ctx: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}
#[no_mangle]
extern "C" fn _Unwind_GetRegionStart(_ctx: *mut c_void) -> usize {
    0
}
#[no_mangle]
extern "C" fn _Unwind_GetDataRelBase(_ctx: *mut c_void) -> usize {
    0
}
#[no_mangle]
extern "C" fn _Unwind_GetTextRelBase(_ctx: *mut c_void) -> usize {
    0
}
#[no_mangle]
extern "C" fn _Unwind_SetGR(_ctx: *mut c_void, _reg: c_int, _value: usize) {}
#[no_mangle]
extern "C" fn _Unwind_SetIP(_ctx: *mut c_void, _value: usize) {}
