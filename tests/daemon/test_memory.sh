#!/usr/bin/env bash
# The daemon's private memory stays flat over many iterations: `elava
# serve` against the AWS emulator with a 100 ms interval and a small
# account that changes as it runs; RssAnon (from /debug/vars) after the
# 600th iteration must be within 5% (plus 256 KiB of rounding) of after the
# 60th. Skipped under AddressSanitizer, whose quarantine holds freed memory
# on purpose. The benchmark (elava-bench serve) measures 1,000 iterations of
# a larger account.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../provider/moto.sh"

ELAVA=${ELAVA_BIN:?ELAVA_BIN must point at the elava binary}
if ldd "$ELAVA" 2>/dev/null | grep -q libasan; then
	echo "skipped: a sanitizer build keeps freed memory in quarantine"
	exit 77
fi
FIRST=${MEMORY_FIRST:-60}
LAST=${MEMORY_LAST:-600}

tmp=$(mktemp -d)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill -9 "$daemon" 2>/dev/null
	moto_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/serve.log" ] && tail -20 "$tmp/serve.log" >&2
	exit 1
}

moto_isolate "$tmp"
moto_start || fail "the AWS emulator did not start"
export AWS_ENDPOINT_URL=$MOTO_URL
aws() { command aws --endpoint-url "$MOTO_URL" --region us-east-1 "$@"; }
awscli_install || fail "no awscli"
instance=$(aws ec2 run-instances --image-id ami-12c6146b --count 20 \
	--instance-type t3.micro --query 'Instances[0].InstanceId' \
	--output text) || fail "run-instances"
aws sqs create-queue --queue-name mem-1 >/dev/null || fail "create-queue"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A timeout well above an iteration's time: every iteration is stored.
# meson's MALLOC_PERTURB_ writes over freed memory, which keeps pages of
# the allocator's free lists resident: not what a user runs.
env -u MALLOC_PERTURB_ ELAVA_RECONCILIATION_TIMEOUT=60s "$ELAVA" serve --store "$tmp/store" --interval 100ms --listen 127.0.0.1 \
	--metrics-port "$port" --region us-east-1 \
	--types ec2_instance,sqs_queue,ebs_volume --log-level warn \
	>"$tmp/serve.log" 2>&1 &
daemon=$!

# /debug/vars → "iterations rss_anon_bytes"
vars() {
	curl -sf "http://127.0.0.1:$port/debug/vars" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(v["iteration"]["iterations"], v["memory"]["rss_anon_bytes"])' 2>/dev/null
}

# Wait for iteration n, retagging an instance every 50 iterations so
# revisions carry changes, not only unchanged scans.
rss_at() {
	local n=$1 it=0 rss=0 next_change=50 deadline=$((SECONDS + 900))
	while [ "$SECONDS" -lt "$deadline" ]; do
		kill -0 "$daemon" 2>/dev/null || fail "the daemon exited"
		read -r it rss < <(vars) || { sleep 0.2; continue; }
		if [ "$it" -ge "$next_change" ]; then
			aws ec2 create-tags --resources "$instance" \
				--tags "Key=Round,Value=$it" >/dev/null
			next_change=$((it + 50))
		fi
		if [ "$it" -ge "$n" ]; then
			echo "$rss"
			return 0
		fi
		sleep 0.5
	done
	fail "iteration $n not reached (at $it)"
}

rss_first=$(rss_at "$FIRST") || exit 1
rss_last=$(rss_at "$LAST") || exit 1
echo "RssAnon after $FIRST iterations: $rss_first bytes; after $LAST: $rss_last bytes"
limit=$((rss_first + rss_first / 20 + 262144))
[ "$rss_last" -le "$limit" ] ||
	fail "private memory grew from $rss_first to $rss_last bytes (limit $limit)"
grep -q "error" "$tmp/serve.log" && fail "the daemon logged errors"
echo "ok: memory flat over $LAST iterations"
