#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every test, as CI runs it: the gates (scripts/gates.sh: rustfmt, clippy, shellcheck),
# then the whole suite (scripts/suite.sh) on this machine's OTP and
# on the newest OTP of the matrix (29, in a Debian root made once per machine by
# scripts/otp_root.sh). FASTREL_TEST_OTPS names the other OTPs instead ("" for the host's
# alone, "27 29" for both); scripts/matrix.sh all runs every one (host, 27, 29).
set -eu
cd "$(dirname "$0")/.."
scripts/gates.sh
# shellcheck disable=SC2086 # a list of OTP majors
exec scripts/matrix.sh host ${FASTREL_TEST_OTPS-29}
