#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Console logging throughput: a command writes N lines to its pty as fast as it can; how
# long until run_erl has logged them all and exited. OTP's run_erl opens its log O_SYNC
# (one synchronous write per chunk read from the pty); fastrel's syncs once per drain
# (RUN_ERL_SYNC=batch, the default), and is also timed with always (OTP's policy),
# interval:100 and never. The floor: the same command on a pty with nothing logged
# (script(1) writing to /dev/null). Prints the median of RUNS runs each, interleaved, and
# the ratios.
set -eu
cd "$(dirname "$0")/.."
BENCH=run_erl
# shellcheck source=bench/run_erl_common.sh
. bench/run_erl_common.sh

# One timed run: prints milliseconds, checks every line reached the log.
one() { # prog sync
    d="$SCRATCH/run"; rm -rf "$d"; mkdir -p "$d/p" "$d/l"
    t0=$(date +%s%N)
    RUN_ERL_SYNC=$2 RUN_ERL_LOG_MAXSIZE=1000000000 "$1" "$d/p/" "$d/l" "seq 1 $LINES" 2>/dev/null || true
    t1=$(date +%s%N)
    got=$(grep -c . "$d/l/erlang.log.1")
    [ "$got" -ge "$LINES" ] || { echo "bench: only $got of $LINES lines logged by $1" >&2; exit 1; }
    echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The pty alone: script(1) runs the command on a pty and copies its output to /dev/null.
floor() {
    t0=$(date +%s%N)
    script -qc "seq 1 $LINES" /dev/null > /dev/null
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}

: > "$SCRATCH/otp"; : > "$SCRATCH/batch"; : > "$SCRATCH/always"; : > "$SCRATCH/interval"; : > "$SCRATCH/never"
: > "$SCRATCH/floor"
i=0
while [ $i -lt "$RUNS" ]; do
    one "$OTP" batch >> "$SCRATCH/otp"
    one "$OURS" batch >> "$SCRATCH/batch"
    one "$OURS" always >> "$SCRATCH/always"
    one "$OURS" interval:100 >> "$SCRATCH/interval"
    one "$OURS" never >> "$SCRATCH/never"
    floor >> "$SCRATCH/floor"
    i=$((i + 1))
done
otp=$(median < "$SCRATCH/otp"); batch=$(median < "$SCRATCH/batch"); always=$(median < "$SCRATCH/always")
interval=$(median < "$SCRATCH/interval"); never=$(median < "$SCRATCH/never"); fl=$(median < "$SCRATCH/floor")
echo "run_erl: $LINES lines through the pty into the log, median of $RUNS runs (ms)"
printf "  OTP run_erl (O_SYNC)                 %8s\n" "$otp"
printf "  fastrel run_erl, RUN_ERL_SYNC=batch  %8s   %sx faster\n" "$batch" "$(awk "BEGIN {printf \"%.1f\", $otp / ($batch > 0 ? $batch : 1)}")"
printf "  fastrel run_erl, RUN_ERL_SYNC=always %8s   %sx\n" "$always" "$(awk "BEGIN {printf \"%.1f\", $otp / ($always > 0 ? $always : 1)}")"
printf "  fastrel run_erl, interval:100        %8s   %sx\n" "$interval" "$(awk "BEGIN {printf \"%.1f\", $otp / ($interval > 0 ? $interval : 1)}")"
printf "  fastrel run_erl, never               %8s   %sx\n" "$never" "$(awk "BEGIN {printf \"%.1f\", $otp / ($never > 0 ? $never : 1)}")"
printf "  floor: the pty alone (script -qc)    %8s   %sx\n" "$fl" "$(awk "BEGIN {printf \"%.1f\", $otp / ($fl > 0 ? $fl : 1)}")"
