#!/usr/bin/env bash
# Runs an AWS provider test ($1: the cmocka binary) against real peers
# on loopback: the AWS API emulator (moto), started here and stopped on
# exit, and the project's fault-injecting server (fault_server.py).
# Exit 0 pass, 1 fail, 77 skip (no python3 to run the peers).
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$1

command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
. "$here/moto.sh"
moto_start || { echo "FAIL: cannot start the AWS emulator"; exit 1; }

fault_out=$(mktemp)
python3 "$here/fault_server.py" >"$fault_out" 2>&1 &
fault_pid=$!
trap 'moto_stop; kill $fault_pid 2>/dev/null; rm -f "$fault_out"' EXIT
for _ in $(seq 50); do
	port=$(head -1 "$fault_out" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "${port:-}" ] || { echo "FAIL: fault server did not start"; cat "$fault_out"; exit 1; }

export ELAVA_TEST_MOTO_URL="$MOTO_URL"
export ELAVA_TEST_FAULT_URL="http://127.0.0.1:$port"
"$bin"
