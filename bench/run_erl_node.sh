#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A chatty node under run_erl: how long the node itself takes to print N lines
# (io:format in a loop, timed inside the node with erlang:monotonic_time) when its
# console is fastrel's run_erl, OTP's run_erl, a pty with nothing logged (script(1) to
# /dev/null), or plain /dev/null. What a slow console costs a node is the time its
# processes wait on the io server. Both run_erls with their defaults, the log not rotated.
# Median of RUNS interleaved runs; every log is checked to hold every line.
set -eu
cd "$(dirname "$0")/.."
BENCH=run_erl_node
# shellcheck source=bench/run_erl_common.sh
. bench/run_erl_common.sh
# One log file for the whole run, for both (the default rotates at 100 kB).
export RUN_ERL_LOG_MAXSIZE=1000000000

# The node: prints the lines, writes its own time (ms) to a file, halts. It halts itself
# after 120 s whatever happens, so nothing outlives the benchmark.
cat > "$SCRATCH/chatty.erl" <<'ERL'
-module(chatty).
-export([run/1]).
run([N, Out]) ->
    spawn(fun() -> receive after 120000 -> halt(3) end end),
    T0 = erlang:monotonic_time(microsecond),
    loop(list_to_integer(atom_to_list(N))),
    T1 = erlang:monotonic_time(microsecond),
    ok = file:write_file(atom_to_list(Out), integer_to_list((T1 - T0) div 1000)),
    halt().
loop(0) -> ok;
loop(I) -> io:format("chatty line ~b~n", [I]), loop(I - 1).
ERL
erlc -o "$SCRATCH" "$SCRATCH/chatty.erl"
NODE="erl -noshell -pa $SCRATCH -s chatty run $LINES $SCRATCH/t.out"

# Runs "$@" for at most 180 s (killed by its PID after that), then appends the node's
# own time to $SCRATCH/$1.
bounded() { # name command...
    name=$1; shift
    rm -f "$SCRATCH/t.out"
    "$@" & pid=$!
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 1800 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; echo "bench: $name did not finish in 180 s" >&2; exit 1; fi
    wait "$pid" || true
    [ -s "$SCRATCH/t.out" ] || { echo "bench: the node under $name reported no time" >&2; exit 1; }
    cat "$SCRATCH/t.out" >> "$SCRATCH/$name"; echo >> "$SCRATCH/$name"
}
under_run_erl() { # name run_erl
    d="$SCRATCH/run"; rm -rf "$d"; mkdir -p "$d/p" "$d/l"
    bounded "$1" "$2" "$d/p/" "$d/l" "exec $NODE" 2>/dev/null
    got=$(grep -c "chatty line" "$d/l/erlang.log.1" || true)
    [ "$got" -ge "$LINES" ] || { echo "bench: only $got of $LINES lines logged by $2" >&2; exit 1; }
}
median() { sort -n | awk 'NF {a[++n]=$1} END {print a[int((n+1)/2)]}'; }
ratio() { awk "BEGIN {printf \"%.1f\", $1 / ($2 > 0 ? $2 : 1)}"; }

for f in otp ours pty null; do : > "$SCRATCH/$f"; done
i=0
while [ $i -lt "$RUNS" ]; do
    under_run_erl otp "$OTP"
    under_run_erl ours "$OURS"
    bounded pty script -qc "$NODE" /dev/null > /dev/null
    # shellcheck disable=SC2086 # $NODE is a command line
    bounded null $NODE > /dev/null
    i=$((i + 1))
done
otp=$(median < "$SCRATCH/otp"); ours=$(median < "$SCRATCH/ours"); pty=$(median < "$SCRATCH/pty"); null=$(median < "$SCRATCH/null")
echo "A node printing $LINES lines (io:format), its own time, median of $RUNS runs (ms)"
printf "  under OTP's run_erl              %7s   (%s)\n" "$otp" "$(tr '\n' ' ' < "$SCRATCH/otp")"
printf "  under fastrel's run_erl          %7s   (%s)  %sx faster than OTP's\n" "$ours" "$(tr '\n' ' ' < "$SCRATCH/ours")" "$(ratio "$otp" "$ours")"
printf "  on a pty, nothing logged         %7s   (%s)\n" "$pty" "$(tr '\n' ' ' < "$SCRATCH/pty")"
printf "  output to /dev/null              %7s   (%s)\n" "$null" "$(tr '\n' ' ' < "$SCRATCH/null")"
printf "  fastrel's run_erl / /dev/null    %7sx   OTP's / /dev/null %sx\n" "$(ratio "$ours" "$null")" "$(ratio "$otp" "$null")"
