#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The gates every change passes before the tests run: rustfmt, clippy with warnings as
# errors, shellcheck on every shell script. (Erlang warnings are errors in the test
# profile, which scripts/suite.sh compiles on every OTP of the matrix.)
set -eu
cd "$(dirname "$0")/.."
set --
. scripts/prereqs.sh
for c in fmt clippy; do
    if ! cargo "$c" --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            rustup component add rustfmt clippy
        else
            echo "gates.sh: cargo $c is missing; install it with: rustup component add rustfmt clippy" >&2
            exit 1
        fi
    fi
done
echo "==> gates: cargo fmt --check, cargo clippy -D warnings, shellcheck"
cargo fmt --all --check
cargo clippy --workspace --release --all-targets --target-dir target --quiet -- -D warnings
shellcheck -x -s sh -S warning scripts/*.sh bench/*.sh priv/templates/bin_script.sh .ci/run
