#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every test on the OTP at hand: Rust tests (core, heart over its pipes, run_erl/to_erl beside
# OTP's), then the Erlang suites (relnif API, escript, heart/run_erl on real nodes, plugin,
# mix, and the relnif-vs-systools differential suite, FASTREL_DIFF_CASES cases, default 2000).
#
# In an OTP root of the matrix (scripts/matrix.sh) nothing is compiled in Rust:
# FASTREL_PREBUILT names the host-built NIF and programs, FASTREL_NEXTEST_ARCHIVE the
# host-built Rust tests, and REBAR_BASE_DIR keeps this OTP's beams apart from the host's.
set -eu
cd "$(dirname "$0")/.."
# Besides what the build needs: Elixir for the mix release tests, shellcheck for the
# start script.
set -- elixir:elixir mix:elixir shellcheck:shellcheck
. scripts/prereqs.sh
otp=$(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')

echo "==> Rust tests (OTP $otp as the oracle)"
# A Rust failure does not hide the Erlang suites' results: both run, then the verdict.
rust=0
if [ -n "${FASTREL_NEXTEST_ARCHIVE:-}" ]; then
    cargo-nextest nextest run --archive-file "$FASTREL_NEXTEST_ARCHIVE" \
        --workspace-remap "$PWD" --no-fail-fast || rust=$?
elif cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --release --no-fail-fast || rust=$?
else
    echo "(cargo-nextest not installed: using cargo test; install with: cargo install cargo-nextest)"
    cargo test --workspace --release || rust=$?
fi

echo "==> build on OTP $otp (rebar3 compile, rebar3 escriptize)"
rebar3 compile
rebar3 escriptize

echo "==> Erlang tests (EUnit) on OTP $otp, differential suite with ${FASTREL_DIFF_CASES:=2000} cases"
export FASTREL_DIFF_CASES
rebar3 as test eunit
if [ "$rust" != 0 ]; then
    echo "==> the Erlang suites passed on OTP $otp, but the Rust tests failed (above)" >&2
    exit "$rust"
fi
echo "==> all tests passed on OTP $otp"
