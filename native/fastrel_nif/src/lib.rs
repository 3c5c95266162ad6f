// SPDX-License-Identifier: Apache-2.0
//! The `relnif` NIF library: a table of contents over `fastrel_core::api`.
//!
//! Every call that touches files runs on a dirty IO scheduler. Arguments and results
//! travel as External Term Format binaries (see `fastrel_core::api`), so each NIF is a
//! line of glue and cannot build a malformed term.

use fastrel_core::{etf, vm::Vm, Term as CoreTerm};
use rustler::types::map::MapIterator;
use rustler::{Binary, Encoder, Env, NewBinary, Term};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bin<'a>(env: Env<'a>, bytes: &[u8]) -> Binary<'a> {
    let mut b = NewBinary::new(env, bytes.len());
    b.as_mut_slice().copy_from_slice(bytes);
    b.into()
}

/// The calling VM, for what only it knows: atoms are made in it, maps built in it and
/// their key order read back.
struct CallingVm<'a>(Env<'a>);

impl<'a> CallingVm<'a> {
    fn term(&self, t: &CoreTerm) -> Option<Term<'a>> {
        // 26: UTF-8 atoms, which every VM we load in reads.
        self.0.binary_to_term(&etf::encode(t, 26)).map(|(t, _)| t)
    }
}

impl Vm for CallingVm<'_> {
    fn intern_atoms(&self, names: &[String]) {
        // binary_to_term makes a list's atoms in order; an atom too long to exist fails
        // the whole list, so such a list is made one atom at a time.
        let atoms = |ns: &[String]| CoreTerm::List(ns.iter().map(|n| CoreTerm::atom(n)).collect());
        if self.term(&atoms(names)).is_none() {
            for n in names {
                let _ = self.term(&atoms(std::slice::from_ref(n)));
            }
        }
    }

    fn map_order(&self, keys: &[CoreTerm]) -> Option<Vec<usize>> {
        let ks = keys.iter().map(|k| self.term(k)).collect::<Option<Vec<_>>>()?;
        let positions: Vec<Term> = (0..keys.len()).map(|i| i.encode(self.0)).collect();
        let map = Term::map_from_arrays(self.0, &ks, &positions).ok()?;
        MapIterator::new(map)?.map(|(_, v)| v.decode::<usize>().ok()).collect()
    }
}

fn utf8(b: &Binary) -> String {
    String::from_utf8_lossy(b.as_slice()).into_owned()
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_make_script<'a>(env: Env<'a>, options: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::make_script_etf(options.as_slice(), &CallingVm(env)))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_make_tar<'a>(env: Env<'a>, options: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::make_tar_etf(options.as_slice()))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_make_relup<'a>(env: Env<'a>, options: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::make_relup_etf(options.as_slice(), &CallingVm(env)))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_write_relup<'a>(env: Env<'a>, args: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::write_relup_etf(args.as_slice(), &CallingVm(env)))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_tar_files<'a>(env: Env<'a>, args: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::tar_files_etf(args.as_slice()))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_script2boot<'a>(env: Env<'a>, file: Binary, otp_major: u32) -> Binary<'a> {
    bin(env, &fastrel_core::api::script2boot_etf(&utf8(&file), otp_major, &CallingVm(env)))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_boot2script<'a>(env: Env<'a>, file: Binary, otp_major: u32, unicode: bool) -> Binary<'a> {
    bin(env, &fastrel_core::api::boot2script_etf(&utf8(&file), otp_major, unicode, &CallingVm(env)))
}

#[rustler::nif(schedule = "DirtyIo")]
fn nif_consult<'a>(env: Env<'a>, file: Binary) -> Binary<'a> {
    bin(env, &fastrel_core::api::consult_etf(&utf8(&file)))
}

/// What the calling VM's scanner does with `"a""b"` (concatenates up to OTP 26, fails
/// from 27), `8x` (two tokens up to OTP 27, fails on 29) and `maybe` (an atom up to 26,
/// reserved from 27): set once by `relnif`.
#[rustler::nif]
fn nif_set_scanner_rules(
    adjacent_strings: bool,
    name_after_number: bool,
    maybe_else_reserved: bool,
    caret_strict: bool,
) -> rustler::Atom {
    let rules = fastrel_core::ScannerRules { adjacent_strings, name_after_number, maybe_else_reserved, caret_strict };
    fastrel_core::set_scanner_rules(rules);
    rustler::types::atom::ok()
}

/// `enif_thread_type()` as seen by a file-work NIF: 3 means a dirty IO scheduler.
#[rustler::nif(schedule = "DirtyIo")]
fn nif_scheduler_probe() -> i32 {
    // SAFETY: enif_thread_type takes no arguments and only reads the calling thread's kind.
    unsafe { rustler::sys::enif_thread_type() }
}

/// On Linux mimalloc commits its first arena (1 GiB, reserved at the first allocation)
/// up front and advises huge pages for it, so each page touched brings in 2 MiB: some
/// 20-30 MB more peak RSS in the VM for a 200-application make_script, for nothing
/// measurable in time. Committing on demand has to be chosen before that first
/// allocation, which rustler's init makes before any load callback: so at `dlopen`,
/// from the library's initialisers (an option set before mimalloc reads its
/// environment is kept).
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
mod commit_on_demand {
    // mimalloc's own option setter; the crate declares it only behind a feature we do
    // not need, the symbol is in the C library either way.
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }

    /// `mi_option_arena_eager_commit` in mimalloc 3's `mi_option_e`.
    const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

    extern "C" fn set() {
        // SAFETY: stores one integer in mimalloc's option table; allocates nothing.
        unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
    }

    #[used]
    #[link_section = ".init_array"]
    static SET: extern "C" fn() = set;
}

rustler::init!("relnif");
