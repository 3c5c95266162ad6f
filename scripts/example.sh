#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main job on the bundled example: build fastrel, then write example_server's boot
# script with systools and with relnif and compare them; then the release-handling chapter
# with fastrel (scripts/example_release.sh): tarball, daemon, kill -9, heart, stop.
set -eu
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
rebar3 compile
escript scripts/example.escript
sh scripts/example_release.sh
