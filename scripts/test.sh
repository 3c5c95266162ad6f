#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every test: Rust unit/differential tests, then the Erlang suites (relnif API, escript,
# and the relnif-vs-systools differential suite, FASTREL_DIFF_CASES cases, default 2000).
set -eu
cd "$(dirname "$0")/.."
# Besides what the build needs: Elixir for the mix release tests, shellcheck for the
# start script.
set -- elixir:elixir mix:elixir shellcheck:shellcheck
. scripts/prereqs.sh

echo "==> Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --release --no-fail-fast
else
    echo "(cargo-nextest not installed: using cargo test; install with: cargo install cargo-nextest)"
    cargo test --workspace --release
fi

echo "==> build (rebar3 compile, rebar3 escriptize)"
rebar3 compile
rebar3 escriptize

echo "==> Erlang tests (EUnit), differential suite with ${FASTREL_DIFF_CASES:=2000} cases"
export FASTREL_DIFF_CASES
rebar3 as test eunit
echo "==> all tests passed"
