#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every test, as CI runs it: the whole suite (scripts/suite.sh) on this machine's OTP and
# on the newest OTP of the matrix (29, in a Debian sid root made once per machine). The
# full matrix, OTP 27 included, is scripts/matrix.sh all.
set -eu
cd "$(dirname "$0")/.."
exec scripts/matrix.sh host 29
