#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `rebar3 fastrel tar` vs `rebar3 tar` (relx) on the same project: the example server plus
# kernel, stdlib, sasl and a bundled ERTS. Both run as users run them (rebar3 start-up and
# the no-op compile included), interleaved, RUNS times each; prints the medians and ratio.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
ROOT=$PWD
rebar3 compile >/dev/null
P="$ROOT/_build/bench-rebar3-tar"
. bench/example_project.sh
example_project "$P"
trap 'rm -rf "$P"' EXIT
cd "$P"
rebar3 fastrel tar >/dev/null 2>&1; rebar3 tar -o relx >/dev/null 2>&1   # warm: plugin compiled, caches filled
ms() { t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
: > relx.t; : > ours.t
i=0
while [ $i -lt "$RUNS" ]; do
    ms rebar3 tar -o relx >> relx.t
    ms rebar3 fastrel tar >> ours.t
    i=$((i + 1))
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
relx=$(median < relx.t); ours=$(median < ours.t)
v=$(rebar3 version 2>/dev/null | grep -o "rebar [0-9.]*")
echo "rebar3 tar vs rebar3 fastrel tar, example_server + ERTS, median of $RUNS runs ($v)"
echo "  relx:    $relx ms  ($(tr '\n' ' ' < relx.t))"
echo "  fastrel: $ours ms  ($(tr '\n' ' ' < ours.t))"
echo "  ratio:   $(awk "BEGIN {printf \"%.1f\", $relx / $ours}")x"
echo "  sizes:   relx $(stat -c %s relx/example_server/example_server-1.0.0.tar.gz) bytes, fastrel $(stat -c %s _build/default/rel/example_server/example_server-1.0.0.tar.gz) bytes"
