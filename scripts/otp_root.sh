#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# otp_root.sh OTP — makes (once per machine) a Debian root whose OTP is that major release,
# from Debian's own package registry, and prints its path. The matrix runs the test suite
# inside it; the Rust parts are built on the host and carried in.
#
#   27 -> Debian trixie (OTP 27.3, rebar3 3.24, Elixir 1.18)
#   29 -> Debian sid    (OTP 29.x, rebar3 3.28, Elixir 1.20)
#
# Roots live under FASTREL_ROOTS (default /var/lib/fastrel/roots). A root is complete
# when its .fastrel-ready stamp exists; an interrupted one is made again from scratch.
set -eu

otp=${1:?usage: otp_root.sh 27|29}
case $otp in
    27) suite=trixie ;;
    29) suite=sid ;;
    *) echo "otp_root.sh: no Debian suite known for OTP $otp (27 or 29)" >&2; exit 2 ;;
esac
roots=${FASTREL_ROOTS:-/var/lib/fastrel/roots}
root=$roots/otp$otp
# What the test suite uses inside the root besides OTP itself.
pkgs="erlang-nox erlang-dev erlang-src rebar3 elixir git shellcheck procps ca-certificates xz-utils"

if [ -f "$root/.fastrel-ready" ]; then
    echo "$root"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "otp_root.sh: making an OTP $otp root needs root (debootstrap, mounts); run as root:" >&2
    echo "  sudo apt-get install debootstrap && sudo $0 $otp" >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# An earlier attempt may have left mounts, and a partial tree unless debootstrap finished.
for m in dev/pts dev proc; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m"; fi
done
if [ ! -f "$root/.fastrel-base" ]; then
    rm -rf "$root"
    mkdir -p "$roots"
    echo "==> debootstrap $suite (OTP $otp) into $root" >&2
    debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian >&2
    touch "$root/.fastrel-base"
fi

cp /etc/hosts "$root/etc/hosts"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
printf 'deb http://deb.debian.org/debian %s main\ndeb-src http://deb.debian.org/debian %s main\n' \
    "$suite" "$suite" >"$root/etc/apt/sources.list"
# The registry serves snapshots whose Release files may be past their Valid-Until date.
echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99fastrel"
# Services must not start inside the root.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
trap 'umount -l "$root/dev/pts" "$root/dev" "$root/proc" 2>/dev/null || true' EXIT
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
in_root apt-get update -qq >&2
# sid's rebar3 can pull GUI dependencies that do not resolve at first: -f repairs that.
# shellcheck disable=SC2086
in_root apt-get install -y -qq --no-install-recommends $pkgs >&2 ||
    in_root apt-get -f install -y -qq --no-install-recommends >&2
# shellcheck disable=SC2086
in_root apt-get install -y -qq --no-install-recommends $pkgs >&2
in_root apt-get clean
in_root erl -noshell -eval 'io:format(standard_error, "==> OTP ~s in ~s~n", [erlang:system_info(otp_release), code:root_dir()]), halt().' >&2
touch "$root/.fastrel-ready"
echo "$root"
