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
gz=$(gzip -c priv/fastrel_programs | wc -c | tr -d ' ')
printf "  in a tarball, gzip'd, per directory    %9s\n" "$gz"

# The floor: the smallest program Rust's standard library allows (bench/floor: it reads
# its stdin to the end), built as fastrel_programs is. What fastrel's programs weigh
# beyond it is theirs; the floor itself is std's panic, backtrace and formatting code,
# which only a rebuilt standard library (nightly build-std) sheds.
cargo build --release --quiet --manifest-path bench/floor/Cargo.toml --target-dir target/floor
floor=$(size target/floor/release/floor)
printf "  Rust's floor (std, same profile)       %9s   fastrel_programs is the floor + %s\n" "$floor" "$((ours - floor))"
# The same program without std (bench/floor_nostd): what leaving std would give.
cargo build --release --quiet --manifest-path bench/floor_nostd/Cargo.toml --target-dir target/floor
nostd=$(size target/floor/release/floor_nostd)
printf "  the same without std (libc only)       %9s\n" "$nostd"

# Idle resident memory, each program waiting on a pipe as heart waits on the VM's:
# OTP's heart, fastrel's heart, the floor. Medians of 3 interleaved rounds.
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
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
nostd=target/floor/release/floor_nostd
o1=$(idle_rss "$bin/heart"); f1=$(idle_rss priv/heart); b1=$(idle_rss target/floor/release/floor); n1=$(idle_rss $nostd)
o2=$(idle_rss "$bin/heart"); f2=$(idle_rss priv/heart); b2=$(idle_rss target/floor/release/floor); n2=$(idle_rss $nostd)
o3=$(idle_rss "$bin/heart"); f3=$(idle_rss priv/heart); b3=$(idle_rss target/floor/release/floor); n3=$(idle_rss $nostd)
echo "idle VmRSS, kB (median of 3; each blocked reading a pipe)"
printf "  OTP heart                              %9s\n" "$(median3 "$o1" "$o2" "$o3")"
printf "  fastrel heart                          %9s\n" "$(median3 "$f1" "$f2" "$f3")"
printf "  Rust's floor                           %9s\n" "$(median3 "$b1" "$b2" "$b3")"
printf "  the same without std                   %9s\n" "$(median3 "$n1" "$n2" "$n3")"
