#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What fastrel's programs weigh: the one executable (heart, run_erl and to_erl are links
# to it) against OTP's three C programs, and what a release carries of them, on disk and
# in its tarball (fastrel/bin, plus erts-VSN/bin when ERTS is bundled: links kept as links).
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
printf "  a release carries (ERTS bundled)       %9s   (fastrel/bin + erts-VSN/bin; was 6 binaries)\n" "$((2 * ours))"
gz=$(gzip -c priv/fastrel_programs | wc -c | tr -d ' ')
printf "  in a tarball, gzip'd, per directory    %9s\n" "$gz"
