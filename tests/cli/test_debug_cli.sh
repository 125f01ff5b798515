#!/usr/bin/env bash
# Integration test for `elava debug list|types`: the AWS provider run alone
# against the AWS API emulator (moto, started here), its output formats,
# its exit codes (0 complete, 3 some listing failed, 1 nothing listed,
# 2 usage) and its messages. Exit 0 pass, 1 fail, 77 skip.
set -u

if [ -z "${ELAVA_BIN:-}" ] || [ ! -x "$ELAVA_BIN" ]; then
	echo "skip: ELAVA_BIN not set"; exit 77
fi
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../provider/moto.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-debug-cli-XXXXXX") || exit 1
trap 'moto_stop; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; out=$(cat "$tmp/out" "$tmp/err"); }
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; output: $out"; }
expect_out() { printf '%s\n' "$out" | grep -q -- "$1" || fail "$2: no '$1' in: $out"; }

# usage errors: exit 2 with the usage line
run "$ELAVA_BIN" debug
expect_rc 2 "no subcommand"
expect_out "usage: elava debug list" "usage shown"
run "$ELAVA_BIN" debug list --bogus
expect_rc 2 "unknown flag"
expect_out "unknown or incomplete option '--bogus'" "unknown flag message"
run "$ELAVA_BIN" debug list --concurrency 0
expect_rc 2 "bad concurrency"
run "$ELAVA_BIN" debug list --output yaml
expect_rc 2 "bad output"
expect_out "json or table, not 'yaml'" "bad output message"

# the types
run "$ELAVA_BIN" debug types
expect_rc 0 "types"
expect_out "^ec2_instance$" "types lists ec2_instance"

# no credentials anywhere in the chain: exit 1, a clear message
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE \
	HOME=/nonexistent AWS_EC2_METADATA_DISABLED=true \
	"$ELAVA_BIN" debug list --type ec2_instance
expect_rc 1 "no credentials"
expect_out "no AWS credentials" "no credentials message"

moto_start || { echo "FAIL: cannot start the AWS emulator"; exit 1; }
export AWS_ENDPOINT_URL=$MOTO_URL AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
curl -sf --aws-sigv4 "aws:amz:us-east-1:ec2" --user test:test "$MOTO_URL/" \
	-d 'Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=2&MaxCount=2&InstanceType=t3.nano&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=cli-web' \
	>/dev/null || fail "RunInstances in the emulator"

# JSON Lines: one record per instance, the listing's status on stderr
run "$ELAVA_BIN" debug list --type ec2_instance --region us-east-1 --output json
expect_rc 0 "list json"
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "list json: expected 2 lines: $(cat "$tmp/out")"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert r["type"] == "ec2_instance" and r["name"] == "cli-web", r
    assert r["region"] == "us-east-1" and r["account"] == "123456789012", r
' "$tmp/out" || fail "list json: records are not what was created"
expect_out "listing aws:123456789012:us-east-1:ec2_instance: complete (2 resources, 1 pages)" "listing status"

# the table
run "$ELAVA_BIN" debug list --type ec2_instance --region us-east-1 --output table
expect_rc 0 "list table"
expect_out "^ec2_instance *us-east-1 *i-[0-9a-f]* *cli-web *running" "table row"

# an unknown type: refused before listing
run "$ELAVA_BIN" debug list --types ec2_instance,no_such_type
expect_rc 1 "unknown type"
expect_out "unknown resource type 'no_such_type'" "unknown type message"

# EC2 unreachable (its own endpoint variable), STS fine: every EC2 listing
# fails with the network error, nothing is reported complete, exit 3
run env AWS_ENDPOINT_URL_EC2=http://127.0.0.1:9 "$ELAVA_BIN" debug list \
	--type ec2_instance --region us-east-1 --region eu-west-1
expect_rc 3 "unreachable service"
expect_out "listing aws:123456789012:eu-west-1:ec2_instance: failed: ec2 DescribeInstances in eu-west-1" "failed listing named"
expect_out "0 listings complete, 2 failed" "failed summary"
[ -s "$tmp/out" ] && fail "a failed listing printed records"

if [ "$failures" -gt 0 ]; then
	echo "$failures failure(s)"; exit 1
fi
echo "debug-cli: all checks passed"
