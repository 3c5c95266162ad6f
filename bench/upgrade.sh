#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Hot upgrade, relx vs fastrel, on the same project (example_server + sasl, ERTS bundled,
# -sname/-setcookie in vm.args): version 1 built with `rebar3 tar` / `rebar3 fastrel tar`,
# deployed by extracting the tarball and started with `bin/NAME daemon`; version 2 (the
# counter's state becomes a map, code_change/3 both ways, hand-written appup
# `{update, example_server, {advanced, []}}`). Each round, interleaved, for both sides:
# build version 2 (relup + tar), copy its tarball into the deployed releases/, then
# `bin/NAME upgrade 2.0.0`, `downgrade 1.0.0` and `uninstall 2.0.0` (so that the next
# round's upgrade unpacks the tarball again, as the first does). After every command the
# node is checked (same VM, release status, code and state shape); a failed upgrade or
# downgrade fails the benchmark. Prints the medians of RUNS rounds and the ratios.
# relx's side is a copy of the project (only the node name differs) so that both nodes run
# at once; the VMs and their run_erl are killed by PID at the end, and the private epmd.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
ROOT=$PWD
rebar3 compile >/dev/null
P="$ROOT/_build/bench-upgrade"
# shellcheck source=bench/example_project.sh disable=SC1091 # followed with shellcheck -x
. bench/example_project.sh
PIDS=""
EPMD=""
cleanup() {
    for s in relx fastrel; do
        if [ -x "$P/$s/deploy/bin/example_server" ]; then
            timeout 30 "$P/$s/deploy/bin/example_server" stop >/dev/null 2>&1 || true
        fi
    done
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
    [ -z "$EPMD" ] || epmd -port "$EPMD" -kill >/dev/null 2>&1 || true
    rm -rf "$P"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
rm -rf "$P"
for s in relx fastrel; do
    example_project "$P/$s"
    printf -- '-sname benchup_%s\n-setcookie benchup\n' "$s" > "$P/$s/config/vm.args"
done
# An epmd of the benchmark's own on a port nobody listens on, stopped at the end.
port=$((30000 + $$ % 10000))
while epmd -port "$port" -names >/dev/null 2>&1; do port=$((port + 1)); done
ERL_EPMD_PORT=$port; export ERL_EPMD_PORT
epmd -port "$port" -daemon
EPMD=$port

fail() { echo "upgrade bench: $*" >&2; exit 1; }
in_dir() { (d=$1; shift; cd "$d" && "$@"); }
node() { # node SIDE ARGS...: the deployed bin/example_server of SIDE
    side=$1; shift
    PIPE_DIR="$P/$side/pipes/" "$P/$side/deploy/bin/example_server" "$@"
}
tool() { # tool SIDE STEP: relx's `rebar3 STEP` or `rebar3 fastrel STEP` in SIDE's project
    if [ "$1" = relx ]; then
        case $2 in
            # relx (rebar3 3.19) wants the new version: without -v, "Option --relvsn is missing".
            relup) in_dir "$P/relx" rebar3 relup -n example_server -v 2.0.0 ;;
            *) in_dir "$P/relx" rebar3 "$2" ;;
        esac
    else
        in_dir "$P/fastrel" rebar3 fastrel "$2"
    fi
}
out() { printf '%s' "$P/$1/_build/default/rel/example_server"; }
# ms LOG CMD...: the wall time of CMD in ms (its output in LOG); fails when CMD fails.
ms() {
    log=$1; shift
    t0=$(date +%s%N)
    if "$@" > "$log" 2>&1; then rc=0; else rc=$?; fi
    t1=$(date +%s%N)
    [ "$rc" = 0 ] || { echo "upgrade bench: '$*' exited with $rc:" >&2; cat "$log" >&2; return 1; }
    echo $(( (t1 - t0) / 1000000 ))
}
# check SIDE WHAT EXPR: EXPR, evaluated on SIDE's node, must answer the VM's OS pid (the
# one started in the first place: the upgrade is hot).
check() {
    got=$(node "$1" eval "$3 list_to_integer(os:getpid()).") || true
    [ "$got" = "$(cat "$P/$1/vm.pid")" ] || fail "$1: $2 failed; the node says: $got"
}
WR='release_handler:which_releases()'

# Version 1: built, packed, deployed from the tarball, started.
for s in relx fastrel; do
    tool $s tar > "$P/$s/build1.log" 2>&1 || { cat "$P/$s/build1.log" >&2; fail "$s: version 1 did not build"; }
    mkdir -p "$P/$s/deploy"
    tar -xzf "$(out $s)/example_server-1.0.0.tar.gz" -C "$P/$s/deploy"
    node $s daemon >/dev/null
    vm=$(node $s pid)
    PIDS="$PIDS $vm $(ps -o ppid= -p "$vm" | tr -d ' ')"
    echo "$vm" > "$P/$s/vm.pid"
    check $s "version 1" "{_, _, _, permanent} = lists:keyfind(\"1.0.0\", 2, $WR), 1 = example_server:increment(),"
done

# Version 2: new code and state shape, code_change/3, the appup written by hand.
for s in relx fastrel; do
    d=$P/$s
    sed -i 's/{vsn, "1.0.0"}/{vsn, "2.0.0"}/' "$d/src/example_server.app.src"
    sed -i 's/"1.0.0"/"2.0.0"/' "$d/rebar.config"
    cat > "$d/src/example_server.erl" <<'ERL'
-module(example_server).
-behaviour(gen_server).
-export([start_link/0, increment/0, value/0, vsn/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
increment() -> gen_server:call(?MODULE, increment).
value() -> gen_server:call(?MODULE, value).
vsn() -> 2.

init([]) -> {ok, #{count => application:get_env(example_server, start_value, 0), ticks => 0}}.
handle_call(increment, _From, #{count := C, ticks := T} = S) -> {reply, C + 1, S#{count := C + 1, ticks := T + 1}};
handle_call(value, _From, #{count := C} = S) -> {reply, C, S}.
handle_cast(_Msg, S) -> {noreply, S}.

code_change({down, _}, #{count := C}, _Extra) -> {ok, C};
code_change(_OldVsn, C, _Extra) when is_integer(C) -> {ok, #{count => C, ticks => 0}};
code_change(_OldVsn, S, _Extra) -> {ok, S}.
ERL
    mkdir -p "$d/ebin"
    cat > "$d/ebin/example_server.appup" <<'APPUP'
{"2.0.0",
 [{"1.0.0", [{update, example_server, {advanced, []}}]}],
 [{"1.0.0", [{update, example_server, {advanced, []}}]}]}.
APPUP
done

# The steps of a round, each on one SIDE ($1), its times appended to SIDE.t.
build() {
    touch "$P/$1/src/example_server.erl"   # every round compiles the changed module, as the first does
    r=$(ms "$P/$1/relup.log" tool "$1" relup)
    t=$(ms "$P/$1/tar.log" tool "$1" tar)
    printf 'relup %s\ntar %s\nbuild %s\n' "$r" "$t" $((r + t)) >> "$P/$1.t"
    cp "$(out "$1")/example_server-2.0.0.tar.gz" "$P/$1/deploy/releases/"
}
upgrade() {
    t=$(ms "$P/$1/upgrade.log" node "$1" upgrade 2.0.0)
    echo "upgrade $t" >> "$P/$1.t"
    check "$1" "upgrade 2.0.0" "{_, _, _, permanent} = lists:keyfind(\"2.0.0\", 2, $WR), 2 = example_server:vsn(), true = is_map(sys:get_state(example_server)), 2 = example_server:increment(), {_, _, _, old} = lists:keyfind(\"1.0.0\", 2, $WR),"
}
downgrade() {
    t=$(ms "$P/$1/downgrade.log" node "$1" downgrade 1.0.0)
    echo "downgrade $t" >> "$P/$1.t"
    check "$1" "downgrade 1.0.0" "{_, _, _, permanent} = lists:keyfind(\"1.0.0\", 2, $WR), false = erlang:function_exported(example_server, vsn, 0), 2 = sys:get_state(example_server), 1 = sys:replace_state(example_server, fun(_) -> 1 end),"
}
uninstall() {
    t=$(ms "$P/$1/uninstall.log" node "$1" uninstall 2.0.0)
    echo "uninstall $t" >> "$P/$1.t"
    check "$1" "uninstall 2.0.0" "false = lists:keyfind(\"2.0.0\", 2, $WR),"
}

: > "$P/relx.t"; : > "$P/fastrel.t"
i=0
while [ $i -lt "$RUNS" ]; do
    # Who goes first alternates from round to round (the 2 cores are shared).
    if [ $((i % 2)) = 0 ]; then order="relx fastrel"; else order="fastrel relx"; fi
    for step in build upgrade downgrade uninstall; do
        for s in $order; do "$step" "$s"; done
    done
    i=$((i + 1))
done

median() { awk -v c="$1" '$1 == c {print $2}' "$2" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
v=$(rebar3 version 2>/dev/null | grep -o "rebar [0-9.]*")
echo "hot upgrade 1.0.0 <-> 2.0.0 of example_server (code_change/3, hand-written appup), sasl, ERTS bundled;"
echo "both sides checked after every command; median of $RUNS interleaved rounds (ms, $v)"
printf '  %-26s %8s %8s %7s\n' command relx fastrel ratio
for c in relup tar build upgrade downgrade uninstall; do
    case $c in
        relup) label="relup (rebar3 [fastrel])" ;;
        tar) label="tar (rebar3 [fastrel])" ;;
        build) label="relup + tar" ;;
        upgrade) label="bin/NAME upgrade 2.0.0" ;;
        downgrade) label="bin/NAME downgrade 1.0.0" ;;
        uninstall) label="bin/NAME uninstall 2.0.0" ;;
    esac
    r=$(median $c "$P/relx.t"); o=$(median $c "$P/fastrel.t")
    printf '  %-26s %8s %8s %6sx\n' "$label" "$r" "$o" "$(awk "BEGIN {printf \"%.1f\", $r / ($o > 0 ? $o : 1)}")"
done
echo "  every round, relx | fastrel:"
for c in build upgrade downgrade uninstall; do
    printf '    %-10s %s| %s\n' "$c" "$(awk -v c=$c '$1 == c {printf "%s ", $2}' "$P/relx.t")" \
        "$(awk -v c=$c '$1 == c {printf "%s ", $2}' "$P/fastrel.t")"
done
