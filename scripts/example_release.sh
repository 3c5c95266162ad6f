#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The release-handling chapter on the example, with fastrel: `rebar3 fastrel tar` builds
# the tarball from a rebar3 project, the tarball is unpacked as on a server, the node is
# started detached (fastrel's run_erl) with -heart (fastrel's heart), killed with -9,
# comes back, and is stopped. Called by scripts/example.sh after `rebar3 compile`.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W="$ROOT/_build/example_release"
rm -rf "$W"; mkdir -p "$W/project/_checkouts" "$W/project/src" "$W/project/config" "$W/server"
ln -s "$ROOT" "$W/project/_checkouts/fastrel"
cp "$ROOT"/examples/example_server/src/* "$W/project/src/"
cat > "$W/project/rebar.config" <<'CFG'
{project_plugins, [fastrel]}.
{relx, [{release, {example_server, "1.0.0"}, [example_server, sasl]},
        {include_erts, true}]}.
CFG
printf -- '-sname example_server_demo\n-setcookie example_server_demo\n-heart\n-env HEART_BEAT_TIMEOUT 10\n' \
    > "$W/project/config/vm.args"
export FASTREL_PREBUILT="$ROOT/priv" REBAR_OFFLINE=1 PIPE_DIR="$W/pipes/"
# An epmd of the demo's own, stopped at the end (a node would otherwise leave one running).
ERL_EPMD_PORT=$((20000 + $$ % 10000)); export ERL_EPMD_PORT
epmd -port "$ERL_EPMD_PORT" -daemon
BIN="$W/server/bin/example_server"
PIDS=""
# On any way out: stop the node properly (so heart does not start it again), make sure of
# it by PID, stop the demo's epmd.
# shellcheck disable=SC2154 # p is the trap's own loop variable
trap '{ [ -x "$BIN" ] && "$BIN" stop >/dev/null 2>&1; } || true; for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done; epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true' EXIT

echo "==> rebar3 fastrel tar (the example as a rebar3 project)"
(cd "$W/project" && rebar3 fastrel tar) | grep -E "Tarball|Release"
TAR="$W/project/_build/default/rel/example_server/example_server-1.0.0.tar.gz"
echo "==> unpacked as on a server: $W/server"
tar -xzf "$TAR" -C "$W/server"

echo "==> bin/example_server daemon"
"$BIN" daemon
VM=$("$BIN" pid); PIDS="$PIDS $VM"
echo "    ping: $("$BIN" ping), VM pid $VM, run_erl $(readlink "/proc/$(ps -o ppid= -p "$VM" | tr -d ' ')/exe")"
echo "    counter: $("$BIN" eval 'example_server:increment(), example_server:value().')"
echo "==> kill -9 $VM (heart restarts it through HEART_COMMAND)"
kill -9 "$VM"
i=0
while :; do
    if NEW=$("$BIN" pid 2>/dev/null) && [ "$NEW" != "$VM" ]; then break; fi
    i=$((i + 1)); [ $i -lt 300 ] || { echo "the node did not come back" >&2; exit 1; }
    sleep 0.1
done
PIDS="$PIDS $NEW"
# heart logs the command's result once the command (bin/example_server daemon) returns.
i=0
until grep -qh "heart: .*Executed" "$W/server/log/erlang.log."* 2>/dev/null || [ $i -ge 100 ]; do
    i=$((i + 1)); sleep 0.1
done
echo "    back as VM pid $NEW, counter: $("$BIN" eval 'example_server:value().') (a fresh start); the old console log says:"
grep -h "heart: .*Executed" "$W/server/log/erlang.log."* | tail -1 | sed 's/^/      /'
echo "==> bin/example_server stop"
"$BIN" stop
echo "    ping: $("$BIN" ping 2>&1 || true)"
