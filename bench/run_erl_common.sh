# SPDX-License-Identifier: Apache-2.0
# Sourced by bench/run_erl.sh and bench/run_erl_node.sh (from the project's top, after
# `set -eu`): the settings both take from the environment, the two run_erls, and a
# scratch directory on the project's disk, not /tmp: a tmpfs would make every sync free.
# BENCH names the scratch directory.
# shellcheck disable=SC2034 # LINES, RUNS and OTP are the sourcing script's
LINES=${LINES:-200000}
RUNS=${RUNS:-5}
OURS=${OURS:-priv/run_erl}
OTP=$(erl -noshell -eval 'io:format("~s/erts-~s/bin/run_erl", [code:root_dir(), erlang:system_info(version)]), halt().')
[ -x "$OURS" ] || rebar3 compile >/dev/null
OURS=$(cd "$(dirname "$OURS")" && pwd)/$(basename "$OURS")
mkdir -p _build
SCRATCH=$(mktemp -d "$PWD/_build/bench-$BENCH-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
