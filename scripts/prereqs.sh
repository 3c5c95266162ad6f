#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes sure what fastrel builds and tests with is installed. As root it installs the
# missing Debian packages; otherwise it says exactly what to install and fails.
set -eu

missing_pkgs=""
need() { # need COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || missing_pkgs="$missing_pkgs $2"
}
need erl erlang-nox
need erlc erlang-nox
need rebar3 rebar3
need escript erlang-nox
# Rust links through cc, and libdeflate (the tarballs' deflate) is C built by it.
need cc gcc
# erlang-dev and erlang-src carry no command; check their files.
[ -f /usr/lib/erlang/usr/include/erl_nif.h ] || missing_pkgs="$missing_pkgs erlang-dev"
ls /usr/lib/erlang/lib/sasl-*/src/systools_make.erl >/dev/null 2>&1 || missing_pkgs="$missing_pkgs erlang-src"
for extra in "$@"; do need "${extra%%:*}" "${extra#*:}"; done
missing_pkgs=$(printf '%s\n' $missing_pkgs | sort -u | tr '\n' ' ')

if [ -n "${missing_pkgs# }" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing:$missing_pkgs"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing_pkgs >/dev/null
    else
        echo "fastrel needs these Debian packages: $missing_pkgs" >&2
        echo "install them with:  sudo apt-get install$missing_pkgs" >&2
        exit 1
    fi
fi

# With FASTREL_PREBUILT (an OTP root of the matrix, a machine without cargo) nothing is
# compiled in Rust.
[ -z "${FASTREL_PREBUILT:-}" ] || return 0 2>/dev/null || exit 0
if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "fastrel needs a Rust toolchain >= 1.91 (rustler 0.39); Debian's cargo is too old." >&2
    echo "install it with:  curl https://sh.rustup.rs -sSf | sh -s -- -y   then open a new shell" >&2
    exit 1
fi
