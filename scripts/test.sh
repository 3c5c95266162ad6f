#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every test, as CI runs it: the whole suite (scripts/suite.sh) on this machine's OTP.
# FASTREL_TEST_OTPS adds OTPs of the matrix (e.g. "29"); scripts/matrix.sh all runs
# every one (host, 27, 29) in Debian roots made once per machine.
set -eu
cd "$(dirname "$0")/.."
# shellcheck disable=SC2086 # a list of OTP majors
exec scripts/matrix.sh host ${FASTREL_TEST_OTPS:-}
