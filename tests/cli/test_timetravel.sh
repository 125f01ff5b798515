#!/usr/bin/env bash
# Time travel against a known history: twelve scans of a small account on
# the AWS emulator (moto, started here on a free loopback port), a known
# change before each, and every query command (resources --at REV|TIME|AGE,
# changes windows, diff pairs, history, why, scans, compact --keep) checked
# against what the test expects after each scan. The scenario and the
# checks are in timetravel.py. Exit 0 pass, 1 fail, 77 skip.
set -u

if [ -z "${ELAVA_BIN:-}" ] || [ ! -x "$ELAVA_BIN" ]; then
	echo "skip: ELAVA_BIN not set"; exit 77
fi
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/provider/moto.sh
. "$here/../provider/moto.sh"
awscli_install || { echo "skip: no awscli"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-timetravel-XXXXXX") || exit 1
trap 'moto_stop; rm -rf "$tmp"' EXIT

moto_isolate "$tmp"

moto_start || { echo "skip: cannot start the AWS emulator"; exit 77; }
export AWS_ENDPOINT_URL=$MOTO_URL MOTO_URL WORK="$tmp"

python3 "$here/timetravel.py"
