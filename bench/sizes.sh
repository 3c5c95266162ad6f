#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What fastrel's programs weigh: the one executable (heart, run_erl and to_erl are links
# to it) against OTP's three C programs, and what a release carries of them, on disk and
# in its tarball (erts-VSN/bin when ERTS is bundled, else fastrel/bin: links kept as links).
set -eu
cd "$(dirname "$0")/.."
[ -f priv/fastrel_programs ] || rebar3 compile >/dev/null
bin=$(erl -noshell -eval 'io:format("~s/erts-~s/bin", [code:root_dir(), erlang:system_info(version)]), halt().')
size() { wc -c < "$1" | tr -d ' '; }
ours=$(size priv/fastrel_programs)
otp=0
for p in heart run_erl to_erl; do otp=$((otp + $(size "$bin/$p"))); done
echo "fastrel's programs vs OTP's (bytes)"
printf "  OTP heart + run_erl + to_erl           %9s\n" "$otp"
printf "  fastrel_programs (all three, one file) %9s   %s bytes per program\n" "$ours" "$((ours / 3))"
printf "  a release carries (ERTS bundled)       %9s   (one copy, in erts-VSN/bin; until 2026-12-06 also in fastrel/bin)\n" "$ours"
printf "  shared libraries it needs              %9s\n" "$(readelf -d priv/fastrel_programs | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
gz=$(gzip -c priv/fastrel_programs | wc -c | tr -d ' ')
printf "  in a tarball, gzip'd, per directory    %9s\n" "$gz"

# A plain std program (bench/floor: it reads its stdin to the end), built with the same
# profile: Rust's runtime start-up, and the unwinder and backtrace printer a panic uses.
# fastrel_programs starts without both (native/programs/src/main.rs says why).
cargo build --release --quiet --manifest-path bench/floor/Cargo.toml --target-dir target/floor
floor=$(size target/floor/release/floor)
printf "  a plain std program (same profile)     %9s\n" "$floor"
# The same program without std (bench/floor_nostd): what leaving std would give.
cargo build --release --quiet --manifest-path bench/floor_nostd/Cargo.toml --target-dir target/floor
printf "  the same without std (libc only)       %9s\n" "$(size target/floor/release/floor_nostd)"

# Idle resident memory, each program waiting on a pipe as heart waits on the VM's:
# OTP's heart, fastrel's heart, a plain std program, the same without std.
idle_rss() { # idle_rss PROGRAM: VmRSS in kB once it blocks reading an open FIFO
    fifo=$(mktemp -u "${TMPDIR:-/tmp}/fastrel-rss.XXXXXX")
    mkfifo "$fifo"
    env -u HEART_COMMAND "$1" <"$fifo" >/dev/null 2>&1 &
    pid=$!
    exec 3>"$fifo"
    sleep 0.3
    sed -n 's/^VmRSS:[^0-9]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"
    exec 3>&-
    wait "$pid" || true
    rm -f "$fifo"
}
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
plain_exe=target/floor/release/floor nostd_exe=target/floor/release/floor_nostd
otps=; ours=; plain=; bare=
for _ in 1 2 3 4 5; do
    otps="$otps $(idle_rss "$bin/heart")"; ours="$ours $(idle_rss priv/heart)"
    plain="$plain $(idle_rss $plain_exe)"; bare="$bare $(idle_rss $nostd_exe)"
done
# shellcheck disable=SC2086 # the lists are numbers, split on purpose
o=$(median $otps) f=$(median $ours) b=$(median $plain) n=$(median $bare)
echo "idle VmRSS, kB (median of 5 interleaved rounds; each blocked reading a pipe)"
printf "  OTP heart                              %9s   (rounds:%s)\n" "$o" "$otps"
printf "  fastrel heart                          %9s   OTP's + %s; issue 14: at most + 256 (rounds:%s)\n" "$f" "$((f - o))" "$ours"
printf "  a plain std program                    %9s\n" "$b"
printf "  the same without std                   %9s\n" "$n"
