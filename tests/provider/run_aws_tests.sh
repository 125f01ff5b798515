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

# The listing and writing tests (key and secret "testing") reach the
# emulator through sigv4_proxy.py, which refuses a request signed otherwise
# than AWS checks it: the emulator itself does not check.
case $(basename "$bin") in
test_aws_list | test_aws_write)
	proxy_out=$(mktemp)
	python3 "$here/sigv4_proxy.py" "$MOTO_URL" testing >"$proxy_out" 2>&1 &
	proxy_pid=$!
	trap 'moto_stop; kill $fault_pid $proxy_pid 2>/dev/null; rm -f "$fault_out" "$proxy_out"' EXIT
	for _ in $(seq 50); do
		pport=$(head -1 "$proxy_out" 2>/dev/null)
		[ -n "$pport" ] && break
		sleep 0.1
	done
	[ -n "${pport:-}" ] || { echo "FAIL: SigV4 proxy did not start"; cat "$proxy_out"; exit 1; }
	export ELAVA_TEST_MOTO_URL="http://127.0.0.1:$pport"
	"$bin"
	rc=$?
	if grep -q REFUSED "$proxy_out"; then
		echo "FAIL: requests signed otherwise than AWS checks them:"
		grep REFUSED "$proxy_out" | cut -c1-400 | sort | uniq -c
		rc=1
	fi
	exit $rc
	;;
esac
"$bin"
