//! The `relnif` NIF library: a table of contents over `fastrel_core::api`.
//!
//! Every call that touches files runs on a dirty IO scheduler. Arguments and results
//! travel as External Term Format binaries (see `fastrel_core::api`), so each NIF is a
//! line of glue and cannot build a malformed term.

use rustler::{Binary, Env, NewBinary};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bin<'a>(env: Env<'a>, bytes: &[u8]) -> Binary<'a> {
    let mut b = NewBinary::new(env, bytes.len());
    b.as_mut_slice().copy_from_slice(bytes);
    b.into()
}

fn utf8(b: &Binary) -> String {
    String::from_utf8_lossy(b.as_slice()).into_owned()
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_make_script<'a>(env: Env<'a>, options: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::make_script_etf(options.as_slice()))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_make_tar<'a>(env: Env<'a>, options: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::make_tar_etf(options.as_slice()))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_tar_files<'a>(env: Env<'a>, args: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::tar_files_etf(args.as_slice()))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_script2boot<'a>(env: Env<'a>, file: Binary, otp_major: u32) -> Binary<'a> {
    bin(env, &fastrel_core::api::script2boot_etf(&utf8(&file), otp_major))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_boot2script<'a>(env: Env<'a>, file: Binary, otp_major: u32, unicode: bool) -> Binary<'a> {
    bin(env, &fastrel_core::api::boot2script_etf(&utf8(&file), otp_major, unicode))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_consult<'a>(env: Env<'a>, file: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::consult_etf(&utf8(&file)))
}

/// `enif_thread_type()` as seen by a file-work NIF: 3 means a dirty IO scheduler.
#[rustler::nif(schedule = "DirtyIo")]
fn nif_scheduler_probe() -> i32 {
    // SAFETY: enif_thread_type takes no arguments and only reads the calling thread's kind.
    unsafe { rustler::sys::enif_thread_type() }
}

rustler::init!("relnif");
