#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# matrix.sh [host|25|27|29|all]... — runs the whole test suite (scripts/suite.sh) on each
# OTP named: `host` (or the host's own major) on the machine's OTP, 27 and 29 in Debian
# roots made once per machine by scripts/otp_root.sh. `all` is host, 27 and 29. The Rust
# parts are built once here and carried into each root (FASTREL_PREBUILT, a nextest archive).
set -eu
cd "$(dirname "$0")/.."
repo=$PWD
[ $# -gt 0 ] || set -- all
wanted="$*"
set -- # prereqs.sh reads its arguments as extra commands to check
. scripts/prereqs.sh
host_otp=$(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')

targets=""
for a in $wanted; do
    case $a in
        all) targets="$targets host 27 29" ;;
        host | "$host_otp") targets="$targets host" ;;
        27 | 29) targets="$targets $a" ;;
        *) echo "matrix.sh: no OTP $a in the matrix (host = $host_otp, 27, 29)" >&2; exit 2 ;;
    esac
done

built=""
build_once() {
    [ -z "$built" ] || return 0
    echo "==> building the Rust parts once on the host"
    cargo build --release --quiet --workspace --target-dir target
    cargo build --profile programs --quiet -p fastrel_programs --target-dir target
    cargo nextest archive --release --workspace --target-dir target \
        --archive-file target/fastrel-tests.tar.zst >/dev/null
    built=yes
}

in_root() { # in_root OTP
    otp=$1
    root=$(scripts/otp_root.sh "$otp")
    build_once
    echo "==> OTP $otp: copying the work tree into $root$repo"
    mkdir -p "$root$repo/target/release" "$root/opt/fastrel-prebuilt"
    # The same absolute path inside the root: the Rust tests carry paths from their build.
    # What an earlier copy left (files since deleted, test litter) goes first; the copy of
    # .git leaves out other worktrees, whose refs may name objects still being written.
    find "$root$repo" -mindepth 1 -maxdepth 1 ! -name target ! -name _build -exec rm -rf {} +
    tar -C "$repo" --exclude=./target --exclude=./_build --exclude=./priv/relnif_nif.so \
        --exclude=./.git/worktrees -cf - . |
        tar -C "$root$repo" -xf -
    for p in heart run_erl to_erl fastrel_programs; do cp -f "target/release/$p" "$root$repo/target/release/$p"; done
    cp -f target/programs/fastrel_programs "$root/opt/fastrel-prebuilt/fastrel_programs"
    cp -f target/release/libfastrel_nif.so "$root/opt/fastrel-prebuilt/relnif_nif.so"
    cp -f target/fastrel-tests.tar.zst "$root/opt/fastrel-prebuilt/"
    cp -f "$(command -v cargo-nextest)" "$root/usr/local/bin/cargo-nextest"

    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    # shellcheck disable=SC2064 # the root is fixed now
    trap "umount -l '$root/dev/pts' '$root/dev' '$root/proc' 2>/dev/null || true" EXIT INT TERM
    rc=0
    chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 TERM="${TERM:-dumb}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        CI="${CI:-}" FASTREL_DIFF_CASES="${FASTREL_DIFF_CASES:-2000}" \
        FASTREL_PREBUILT=/opt/fastrel-prebuilt \
        FASTREL_NEXTEST_ARCHIVE=/opt/fastrel-prebuilt/fastrel-tests.tar.zst \
        sh -c "cd '$repo' && scripts/suite.sh" || rc=$?
    umount -l "$root/dev/pts" "$root/dev" "$root/proc" 2>/dev/null || true
    trap - EXIT INT TERM
    return $rc
}

results=""
failed=0
for t in $targets; do
    case $t in
        host) if scripts/suite.sh; then r=pass; else r=FAIL; fi; name="OTP $host_otp (host)" ;;
        *) if in_root "$t"; then r=pass; else r=FAIL; fi; name="OTP $t" ;;
    esac
    [ "$r" = pass ] || failed=1
    results="$results$name: $r
"
done
echo "==> matrix"
printf '%s' "$results"
exit $failed
