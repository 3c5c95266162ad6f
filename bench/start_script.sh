#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# relx's start script vs fastrel's on the same project (example_server, `-heart` in
# vm.args, ERTS bundled): wall time of daemon (until it returns), ping, pid and stop,
# RUNS rounds, interleaved; prints the medians and ratios. Every node started is stopped
# (and its processes killed by PID at the end, should stop fail).
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
ROOT=$PWD
rebar3 compile >/dev/null
P="$ROOT/_build/bench-start-script"
. bench/example_project.sh
example_project "$P"
printf -- '-sname benchss\n-setcookie benchss\n-heart\n-env HEART_BEAT_TIMEOUT 30\n' > "$P/config/vm.args"
# The last act of the boot (init runs -eval at the end of the boot script, then reports
# {started, started}): when the node was up, against when daemon returned.
printf -- "-eval 'file:write_file(\"%s/started.t\", integer_to_list(os:system_time(nanosecond)))'\n" "$P" >> "$P/config/vm.args"
cd "$P"
export PIPE_DIR="$P/pipes/"
# An epmd of the benchmark's own, stopped at the end.
ERL_EPMD_PORT=$((20000 + $$ % 10000)); export ERL_EPMD_PORT
epmd -port "$ERL_EPMD_PORT" -daemon
rebar3 release -o relx >/dev/null 2>&1
rebar3 fastrel release >/dev/null 2>&1
RELX=$P/relx/example_server/bin/example_server
OURS=$P/_build/default/rel/example_server/bin/example_server
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
    epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
    rm -rf "$P"
}
trap cleanup EXIT
ms() { t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
round() { # script tag
    rm -f started.t
    echo "daemon $(ms "$1" daemon)" >> "$2.t"
    t_up=$(date +%s%N)
    [ -s started.t ] && echo "daemon_after_start $(( (t_up - $(cat started.t)) / 1000000 ))" >> "$2.t"
    PIDS="$PIDS $("$1" pid 2>/dev/null || true)"
    echo "ping $(ms "$1" ping)" >> "$2.t"
    echo "pid $(ms "$1" pid)" >> "$2.t"
    # When the VM is gone, by a watcher spinning on kill -0 (it costs a core for the
    # second init:stop() takes, and sees the exit within microseconds).
    vm=$("$1" pid 2>/dev/null || true)
    rm -f gone.t
    if [ -n "$vm" ]; then
        ( while kill -0 "$vm" 2>/dev/null; do :; done; date +%s%N > gone.t ) &
        watcher=$!
    fi
    echo "stop $(ms "$1" stop)" >> "$2.t"
    t_back=$(date +%s%N)
    if [ -n "$vm" ]; then
        wait "$watcher" 2>/dev/null || true
        [ -s gone.t ] && echo "stop_after_exit $(( (t_back - $(cat gone.t)) / 1000000 ))" >> "$2.t"
    fi
    sleep 1
}
: > relx.t; : > ours.t
i=0
while [ $i -lt "$RUNS" ]; do
    round "$RELX" relx
    round "$OURS" ours
    i=$((i + 1))
done
median() { awk -v c="$1" '$1 == c {print $2}' "$2" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "start script, example_server with -heart, ERTS bundled, median of $RUNS rounds (ms)"
printf '  %-15s %8s %8s %7s\n' command relx fastrel ratio
for c in daemon daemon_after_start ping pid stop stop_after_exit; do
    r=$(median $c relx.t); o=$(median $c ours.t)
    printf '  %-15s %8s %8s %6sx\n' "$c" "$r" "$o" "$(awk "BEGIN {printf \"%.1f\", $r / ($o > 0 ? $o : 1)}")"
done
