#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# How `rebar3 fastrel release` and `rebar3 release` (relx) grow with the number of
# applications: generated umbrella projects of 10, 50 and 200 applications under apps/
# (five modules each: an application callback, a supervisor, a gen_server and two library
# modules calling their dependencies; each application depends on up to three earlier
# ones, a DAG of depth N), released without ERTS (dev_mode off, so every application is
# copied). The project is compiled once; then both commands run as users run them
# (rebar3 start-up and its no-op compile included), interleaved. Prints wall time and
# peak RSS (/usr/bin/time's %M: the largest single process of the tree, i.e. rebar3's
# VM; not a sum, and files written are not counted) per size, medians, and the ratios.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=${SIZES:-10 50 200}
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (GNU time)" >&2; exit 1; }
rebar3 compile >/dev/null
export FASTREL_PREBUILT="$ROOT/priv" REBAR_OFFLINE=1
P="$ROOT/_build/bench-scaling"
trap 'rm -rf "$P"' EXIT

# Application I's dependencies: I-1, I/2 and I/3, those >= 1, without repeats (in $DEPS).
# Shell built-ins only, here and in generate: no process per application.
deps() {
    DEPS=""
    for d in $(($1 - 1)) $(($1 / 2)) $(($1 / 3)); do
        [ "$d" -ge 1 ] || continue
        case " $DEPS " in *" $d "*) ;; *) DEPS="$DEPS $d" ;; esac
    done
}

# An umbrella project of $1 applications a1..aN in $P.
generate() {
    rm -rf "$P"
    dirs=""; goals=""; i=1
    while [ $i -le "$1" ]; do
        dirs="$dirs $P/apps/a$i/src"; goals="$goals${goals:+, }a$i"; i=$((i + 1))
    done
    # shellcheck disable=SC2086 # one word per directory
    mkdir -p "$P/_checkouts" $dirs
    ln -s "$ROOT" "$P/_checkouts/fastrel"
    cat > "$P/rebar.config" <<CFG
{project_plugins, [fastrel]}.
{relx, [{release, {scale, "1.0.0"}, [$goals]},
        {dev_mode, false}, {include_erts, false}, {extended_start_script, true}]}.
CFG
    i=1
    while [ $i -le "$1" ]; do
        a=a$i; s="$P/apps/$a/src"
        deps $i
        apps=""; sum=""; names=""
        for d in $DEPS; do apps="$apps, a$d"; sum="$sum + a${d}_lib:value(X)"; names="$names${names:+, }a$d"; done
        printf '%s\n' "{application, $a," \
            " [{description, \"generated application $i\"}, {vsn, \"1.0.$i\"}," \
            "  {registered, [${a}_server]}, {mod, {${a}_app, []}}," \
            "  {applications, [kernel, stdlib$apps]}, {env, [{size, $i}]}]}." > "$s/$a.app.src"
        printf '%s\n' "-module(${a}_app)." "-behaviour(application)." "-export([start/2, stop/1])." \
            "start(_Type, _Args) -> ${a}_sup:start_link()." "stop(_State) -> ok." > "$s/${a}_app.erl"
        printf '%s\n' "-module(${a}_sup)." "-behaviour(supervisor)." "-export([start_link/0, init/1])." \
            "start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, [])." \
            "init([]) ->" \
            "    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}," \
            "          [#{id => ${a}_server, start => {${a}_server, start_link, []}}]}}." > "$s/${a}_sup.erl"
        printf '%s\n' "-module(${a}_server)." "-behaviour(gen_server)." \
            "-export([start_link/0, get/1, put/2])." \
            "-export([init/1, handle_call/3, handle_cast/2, handle_info/2])." \
            "start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], [])." \
            "get(K) -> gen_server:call(?MODULE, {get, K})." \
            "put(K, V) -> gen_server:call(?MODULE, {put, K, V})." \
            "init([]) -> {ok, #{size => ${a}_lib:value($i)}}." \
            "handle_call({get, K}, _From, S) -> {reply, maps:get(K, S, undefined), S};" \
            "handle_call({put, K, V}, _From, S) -> {reply, ok, S#{K => ${a}_util:normalise(V)}}." \
            "handle_cast(_Msg, S) -> {noreply, S}." \
            "handle_info(_Msg, S) -> {noreply, S}." > "$s/${a}_server.erl"
        printf '%s\n' "-module(${a}_lib)." "-export([value/1, describe/0])." \
            "value(X) -> X + 1$sum." \
            "describe() -> lists:flatten(io_lib:format(\"~p depends on ~p\", [$a, [$names]]))." > "$s/${a}_lib.erl"
        printf '%s\n' "-module(${a}_util)." "-export([normalise/1, join/2])." \
            "normalise(B) when is_binary(B) -> string:trim(B);" \
            "normalise(L) when is_list(L) -> [normalise(E) || E <- L];" \
            "normalise(A) when is_atom(A) -> atom_to_binary(A);" \
            "normalise(Other) -> Other." \
            "join(Sep, Parts) -> iolist_to_binary(lists:join(Sep, [normalise(P) || P <- Parts]))." > "$s/${a}_util.erl"
        i=$((i + 1))
    done
}

# One timed run: appends "ms kB" to $2.
timed() { # output-file command...
    out=$1; shift
    /usr/bin/time -f '%e %M' -o "$P/time.out" "$@" >/dev/null 2>&1 || { echo "bench: $* failed in $P" >&2; exit 1; }
    awk '{printf "%d %d\n", $1 * 1000, $2}' "$P/time.out" >> "$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk "BEGIN {printf \"%.1f\", $1 / ($2 > 0 ? $2 : 1)}"; }

R=$(mktemp -d "$ROOT/_build/bench-scaling-results-XXXXXX")
trap 'rm -rf "$P" "$R"' EXIT
v=$(rebar3 version 2>/dev/null | grep -o "rebar [0-9.]*")
echo "rebar3 release (relx) vs rebar3 fastrel release: generated umbrella projects, no ERTS ($v)."
echo "Medians; peak RSS of rebar3's VM; 'compile' is rebar3's no-op compile alone (part of both)."
printf "  %4s %5s %4s | %7s %7s %7s %6s | %7s %7s %7s\n" apps mods runs "relx" "fastrel" compile ratio "relx" "fastrel" compile
printf "  %4s %5s %4s | %7s %7s %7s %6s | %7s %7s %7s\n" "" "" "" ms ms ms "" MB MB MB
for n in $SIZES; do
    generate "$n"
    (cd "$P" && rebar3 compile >/dev/null 2>&1) || { echo "bench: compile of $n apps failed" >&2; exit 1; }
    runs=${RUNS:-$(if [ "$n" -ge 200 ]; then echo 3; else echo 5; fi)}
    : > "$R/relx"; : > "$R/ours"; : > "$R/compile"
    # Untimed first round: the plugin's compile check and the file cache are warm for both.
    (cd "$P" && rebar3 release -o relx >/dev/null 2>&1 && rebar3 fastrel release >/dev/null 2>&1)
    i=0
    while [ $i -lt "$runs" ]; do
        (cd "$P" && timed "$R/relx" rebar3 release -o relx)
        (cd "$P" && timed "$R/ours" rebar3 fastrel release)
        (cd "$P" && timed "$R/compile" rebar3 compile)
        i=$((i + 1))
    done
    for rel in "_build/default/rel/scale" "relx/scale"; do
        [ -f "$P/$rel/lib/a$n-1.0.$n/ebin/a${n}_server.beam" ] && [ -f "$P/$rel/releases/1.0.0/start.boot" ] ||
            { echo "bench: $P/$rel is not a complete release" >&2; exit 1; }
    done
    col() { cut -d' ' -f"$1" < "$R/$2" | median; }
    rt=$(col 1 relx); ot=$(col 1 ours); ct=$(col 1 compile)
    printf "  %4s %5s %4s | %7s %7s %7s %5sx | %7s %7s %7s\n" "$n" $((n * 5)) "$runs" "$rt" "$ot" "$ct" "$(ratio "$rt" "$ot")" \
        $(($(col 2 relx) / 1024)) $(($(col 2 ours) / 1024)) $(($(col 2 compile) / 1024))
done
