#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `rebar3 fastrel release|tar` vs `rebar3 release|tar` (relx) on the same project: the
# example server plus kernel, stdlib, sasl and a bundled ERTS. All run as users run them
# (rebar3 start-up and the no-op compile included), interleaved, RUNS times each; prints
# the medians and ratios. relx writes to relx/ so the two never share a directory.
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
: > relx_rel.t; : > ours_rel.t; : > relx.t; : > ours.t
i=0
while [ $i -lt "$RUNS" ]; do
    ms rebar3 release -o relx >> relx_rel.t
    ms rebar3 fastrel release >> ours_rel.t
    ms rebar3 tar -o relx >> relx.t
    ms rebar3 fastrel tar >> ours.t
    i=$((i + 1))
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
v=$(rebar3 version 2>/dev/null | grep -o "rebar [0-9.]*")
echo "rebar3 release|tar vs rebar3 fastrel release|tar, example_server + ERTS, median of $RUNS runs ($v)"
row() { # label relx-file ours-file
    relx=$(median < "$2"); ours=$(median < "$3")
    echo "  $1 relx:    $relx ms  ($(tr '\n' ' ' < "$2"))"
    echo "  $1 fastrel: $ours ms  ($(tr '\n' ' ' < "$3"))"
    echo "  $1 ratio:   $(awk "BEGIN {printf \"%.1f\", $relx / $ours}")x"
}
row release relx_rel.t ours_rel.t
row tar     relx.t ours.t
echo "  sizes:   relx $(stat -c %s relx/example_server/example_server-1.0.0.tar.gz) bytes, fastrel $(stat -c %s _build/default/rel/example_server/example_server-1.0.0.tar.gz) bytes"
