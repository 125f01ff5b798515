#!/usr/bin/env bash
# The provider's end-to-end check of every resource type: on the AWS API
# emulator (moto, started here and installed when missing), fixtures.sh
# creates resources of all 37 types with awscli and dumps what awscli
# reports; `elava debug list` lists the account; compare/compare.py checks
# every type field by field — through sigv4_proxy.py, which checks every
# request's signature with botocore's signer as AWS would (the emulator
# does not). Then fixtures_mutate.sh changes tags, stops an
# instance and deletes some resources, and the listing is checked again.
# Exit 0 pass, 1 fail, 77 skip.
set -u

if [ -z "${ELAVA_BIN:-}" ] || [ ! -x "$ELAVA_BIN" ]; then
	echo "skip: ELAVA_BIN not set"; exit 77
fi
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/moto.sh"
awscli_install || { echo "FAIL: no awscli and cannot install it"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-types-XXXXXX") || exit 1
proxy_pid=
trap 'moto_stop; [ -n "$proxy_pid" ] && kill $proxy_pid; rm -rf "$tmp"' EXIT
moto_start || { echo "FAIL: cannot start the AWS emulator"; exit 1; }
python3 "$here/sigv4_proxy.py" "$MOTO_URL" test >"$tmp/proxy.out" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do
	proxy_port=$(head -1 "$tmp/proxy.out" 2>/dev/null)
	[ -n "$proxy_port" ] && break
	sleep 0.1
done
[ -n "${proxy_port:-}" ] || { echo "FAIL: SigV4 proxy did not start"; cat "$tmp/proxy.out"; exit 1; }
export MOTO_URL AWS_ENDPOINT_URL=$MOTO_URL AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
failures=0
ntypes=$("$ELAVA_BIN" debug types | wc -l)

# One state: list the account and compare every type with awscli's view.
check_state() { # name fixture-dir
	local name=$1 fx=$2
	AWS_ENDPOINT_URL=http://127.0.0.1:$proxy_port \
		"$ELAVA_BIN" debug list --region us-east-1 --output json \
		>"$tmp/$name.jsonl" 2>"$tmp/$name.err"
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL: $name: elava debug list exit $rc"; cat "$tmp/$name.err"
		failures=$((failures + 1)); return
	fi
	# a status for every listing, every one complete
	local complete
	complete=$(grep -c ': complete (' "$tmp/$name.err")
	[ "$complete" -ge "$ntypes" ] ||
		{ echo "FAIL: $name: $complete complete listings for $ntypes types"; failures=$((failures + 1)); }
	python3 "$here/compare/compare.py" "$fx" "$tmp/$name.jsonl" ||
		failures=$((failures + 1))
}

FIXTURE_OUT="$tmp/fx1" bash "$here/fixtures.sh" || { echo "FAIL: fixtures.sh"; exit 1; }
check_state first "$tmp/fx1"
FIXTURE_OUT="$tmp/fx2" bash "$here/fixtures_mutate.sh" || { echo "FAIL: fixtures_mutate.sh"; exit 1; }
check_state second "$tmp/fx2"

# The second listing saw the changes: an instance stopped, resources gone.
python3 - "$tmp/first.jsonl" "$tmp/second.jsonl" <<'PY' || failures=$((failures + 1))
import json, sys
def load(p):
    return {(r["type"], r["id"]): r for r in map(json.loads, open(p)) }
a, b = load(sys.argv[1]), load(sys.argv[2])
gone = sorted(k for k in a if k not in b)
types_gone = {t for t, _ in gone}
want = {"ebs_volume", "security_group", "s3_bucket", "sqs_queue", "iam_user"}
errs = []
if not want <= types_gone:
    errs.append(f"deleted types not gone from the listing: {sorted(want - types_gone)}")
stopped = [k for k, r in b.items() if k[0] == "ec2_instance" and r.get("status") == "stopped"]
if not stopped:
    errs.append("no stopped instance in the second listing")
retagged = [k for k, r in b.items() if r.get("tags", {}).get("Owner") == "elava"]
if len(retagged) < 30:
    errs.append(f"only {len(retagged)} resources carry the new Owner tag")
for e in errs:
    print("FAIL:", e)
print(f"changes seen: {len(gone)} gone, {len(stopped)} stopped, {len(retagged)} retagged")
sys.exit(1 if errs else 0)
PY

# Every request Elava made was signed as AWS checks it.
if grep -q REFUSED "$tmp/proxy.out"; then
	echo "FAIL: requests with a bad signature:"; grep REFUSED "$tmp/proxy.out" | sort | uniq -c | head -20
	failures=$((failures + 1))
fi
echo "$(($(wc -l <"$tmp/first.jsonl") + $(wc -l <"$tmp/second.jsonl"))) records listed through the SigV4 check"

if [ "$failures" -gt 0 ]; then
	echo "$failures failure(s)"; exit 1
fi
echo "types: every type matches awscli, before and after the changes"
