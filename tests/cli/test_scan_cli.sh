#!/usr/bin/env bash
# End-to-end test of `elava scan` and the query commands against the AWS
# API emulator (moto, started here on a free loopback port), checked
# against docs/cli.md:
#   1. change kinds: a baseline, then an instance stopped, a volume
#      retagged, a bucket and a security group deleted, a queue created, a
#      subnet and a VPC tagged; what changes/history/resources --at/diff/
#      why/wal verify say about it;
#   2. the completeness gate: SQS unreachable during a scan (exit 3, its
#      queues kept), while EC2's changes are recorded;
#   3. noise control: scan.ignore in a config file;
#   4. every command's JSON checked by json_shape.py, empty cases included;
#   5. output format: 80 columns without a terminal, colour only on a
#      terminal (script(1) gives one) and never with NO_COLOR, no progress
#      line when piped;
#   6. bad input: a clear message, the documented exit code, nothing stored.
# Exit 0 pass, 1 fail, 77 skip. Prints one "FAIL: ..." line per failure.
set -u

if [ -z "${ELAVA_BIN:-}" ] || [ ! -x "$ELAVA_BIN" ]; then
	echo "skip: ELAVA_BIN not set"; exit 77
fi
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/provider/moto.sh
. "$here/../provider/moto.sh"
awscli_install || { echo "skip: no awscli"; exit 77; }
SHAPE="$here/json_shape.py"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-scan-cli-XXXXXX") || exit 1
cleanup() { moto_stop; rm -rf "$tmp"; }
trap cleanup EXIT

moto_isolate "$tmp"

moto_start || { echo "skip: cannot start the AWS emulator"; exit 77; }
export AWS_ENDPOINT_URL=$MOTO_URL
. "$here/../check.sh"
ACCT=123456789012
SCOPE="aws:$ACCT:us-east-1"


# shape KIND [--empty|--nonempty]: $tmp/out is KIND's documented JSON.
shape() {
	python3 "$SHAPE" "$1" "$tmp/out" "${@:2}" >"$tmp/shape" 2>&1 ||
		fail "JSON shape of '$1': $(tr '\n' ';' <"$tmp/shape" | head -c 800)"
}
# Table output (stdout is a file here, COLUMNS unset): every line of stdout
# at most 80 characters; no ESC and no progress ('\r') on stdout or stderr.
narrow() {
	python3 - "$1" "$tmp/out" "$tmp/err" <<'EOF' >"$tmp/py" 2>&1 || while IFS= read -r l; do fail "$l"; done <"$tmp/py"
import sys
what = sys.argv[1]
bad = False
for path, name in ((sys.argv[2], "stdout"), (sys.argv[3], "stderr")):
    text = open(path, "rb").read().decode("utf-8", "replace")
    if "\x1b" in text:
        print(f"{what}: an ESC byte on {name} without a terminal")
        bad = True
    if "\r" in text:
        print(f"{what}: a carriage return on {name} (a progress line?) without a terminal")
        bad = True
    for n, line in enumerate(text.split("\n"), 1):
        # stderr carries log lines and messages; the width rule is for
        # what stdout shows
        if name == "stdout" and len(line) > 80:
            print(f"{what}: {name} line {n} is {len(line)} columns: {line!r}")
            bad = True
sys.exit(1 if bad else 0)
EOF
}
# The number of revisions a store holds (read-only), or "none".
revisions() {
	if [ -d "$1" ]; then
		"$ELAVA_BIN" store stat --store "$1" --json 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])' 2>/dev/null || echo "unreadable"
	else
		echo none
	fi
}

# awscli against the emulator; a failure here is a broken fixture: stop.
AWS_R=us-east-1
awsq() {
	local out
	out=$(aws --endpoint-url "$MOTO_URL" --region "$AWS_R" --output text "$@" 2>"$tmp/aws.err") ||
		die "fixture: aws $* -> $(head -c 800 "$tmp/aws.err")"
	printf '%s' "$out"
}
tagspec() { # resource-type k=v...
	local t=$1 tags="" kv
	shift
	for kv in "$@"; do tags="$tags{Key=${kv%%=*},Value=${kv#*=}},"; done
	echo "ResourceType=$t,Tags=[${tags%,}]"
}

ST="$tmp/store"
TYPES=ec2_instance,ebs_volume,s3_bucket,sqs_queue,security_group,subnet,vpc
scan() { el scan --store "$ST" --region us-east-1 --types "$TYPES" "$@"; }
q() { el "$@" --store "$ST"; }

# ------------------------------------------------------------ the account
AMI=ami-12c6146b
VPC=$(awsq ec2 create-vpc --cidr-block 10.40.0.0/16 --tag-specifications "$(tagspec vpc Name=cli-vpc)" --query Vpc.VpcId)
SUB=$(awsq ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.40.1.0/24 --availability-zone us-east-1a \
	--tag-specifications "$(tagspec subnet Name=cli-subnet)" --query Subnet.SubnetId)
SG=$(awsq ec2 create-security-group --group-name cli-sg-gone --description "deleted by the test" \
	--vpc-id "$VPC" --query GroupId)
I1=$(awsq ec2 run-instances --image-id "$AMI" --instance-type t3.micro --subnet-id "$SUB" \
	--tag-specifications "$(tagspec instance Name=cli-web-1)" --query 'Instances[0].InstanceId')
I2=$(awsq ec2 run-instances --image-id "$AMI" --instance-type t3.micro --subnet-id "$SUB" \
	--tag-specifications "$(tagspec instance Name=cli-web-2)" --query 'Instances[0].InstanceId')
V1=$(awsq ec2 create-volume --availability-zone us-east-1a --size 8 \
	--tag-specifications "$(tagspec volume Name=cli-vol-1 Env=test Owner=ops)" --query VolumeId)
V2=$(awsq ec2 create-volume --availability-zone us-east-1a --size 4 \
	--tag-specifications "$(tagspec volume Name=cli-vol-2)" --query VolumeId)
awsq s3api create-bucket --bucket cli-bucket-gone >/dev/null
awsq s3api create-bucket --bucket cli-bucket-keep >/dev/null
awsq sqs create-queue --queue-name cli-queue-1 >/dev/null
LONGQ=cli-queue-with-a-long-name-that-cannot-fit-in-any-narrow-table-column-1
awsq sqs create-queue --queue-name "$LONGQ" >/dev/null
for x in "$VPC" "$SUB" "$SG" "$I1" "$I2" "$V1" "$V2"; do
	if [ -z "$x" ] || [ "$x" = None ]; then die "fixture: an id is empty"; fi
done
K_I1="$SCOPE:ec2_instance:$I1" K_I2="$SCOPE:ec2_instance:$I2"
K_V1="$SCOPE:ebs_volume:$V1" K_V2="$SCOPE:ebs_volume:$V2"
K_SUB="$SCOPE:subnet:$SUB" K_VPC="$SCOPE:vpc:$VPC" K_SG="$SCOPE:security_group:$SG"
K_BGONE="$SCOPE:s3_bucket:cli-bucket-gone" K_BKEEP="$SCOPE:s3_bucket:cli-bucket-keep"
K_Q1="$SCOPE:sqs_queue:cli-queue-1" K_QNEW="$SCOPE:sqs_queue:cli-queue-new"
K_QLONG="$SCOPE:sqs_queue:$LONGQ"

# ============================================ 1. baseline, then changes
[ -e "$ST" ] && die "the store exists before the first scan"
scan
expect_rc 0 "baseline scan"
expect_out "Baseline" "baseline summary"
narrow "baseline scan summary"
[ "$(stat -c %a "$ST" 2>/dev/null)" = 700 ] || fail "store directory mode $(stat -c %a "$ST" 2>&1), expected 700"
bad_modes=$(find "$ST" -type f ! -perm 600 2>/dev/null)
[ -z "$bad_modes" ] || fail "store files not 0600: $bad_modes"

q scans --output json
expect_rc 0 "scans after the baseline"
shape scans --nonempty
pycheck "scans after the baseline" <<'EOF'
if len(doc) != 1:
    fail(f"{len(doc)} scans, expected 1")
else:
    s = doc[0]
    if s.get("baseline") is not True: fail(f"baseline is {s.get('baseline')}, expected true")
    if s.get("revision") != 1 or s.get("scan_id") != 1: fail(f"revision/scan_id {s.get('revision')}/{s.get('scan_id')}, expected 1/1")
    if s.get("status") != "success": fail(f"status {s.get('status')}")
    if s.get("created") != s.get("resource_count"): fail(f"a baseline creates everything: created {s.get('created')} != resource_count {s.get('resource_count')}")
    if s.get("error_count") != 0 or s.get("errors") != []: fail("errors in a complete scan")
EOF

q changes --output json
expect_rc 0 "changes after the baseline"
shape changes --empty
expect_err "--include-baseline" "changes says the baseline is hidden"

q resources --output json
expect_rc 0 "resources after the baseline"
shape resources --nonempty
pycheck "resources after the baseline" "$K_I1" "$K_V1" "$K_SUB" "$K_VPC" "$K_SG" "$K_BGONE" "$K_BKEEP" "$K_Q1" "$K_QLONG" "$K_I2" "$K_V2" <<'EOF'
keys = {r["key"] for r in doc}
for k in args:
    if k not in keys: fail(f"{k} missing")
for r in doc:
    if r.get("revision") != 1: fail(f"{r['key']}: revision {r.get('revision')}, expected 1")
EOF

# the mutations: one per change kind, on several types
LONGV=$(printf 'a-long-tag-value-%.0s' $(seq 8))
awsq ec2 stop-instances --instance-ids "$I1" >/dev/null
awsq ec2 create-tags --resources "$V1" --tags Key=Env,Value=prod >/dev/null
awsq ec2 delete-tags --resources "$V1" --tags Key=Owner >/dev/null
awsq s3api delete-bucket --bucket cli-bucket-gone >/dev/null
awsq sqs create-queue --queue-name cli-queue-new >/dev/null
awsq ec2 delete-security-group --group-id "$SG" >/dev/null
awsq ec2 create-tags --resources "$SUB" --tags Key=Team,Value=core >/dev/null
awsq ec2 create-tags --resources "$VPC" --tags "Key=Description,Value=$LONGV" >/dev/null

scan
expect_rc 0 "second scan"
cp "$tmp/out" "$tmp/summary2"
expect_out "Changes since revision 1: 1 created, 4 modified, 2 disappeared" "second scan summary counts"
narrow "second scan summary"
for id in "$I1" "$V1" cli-bucket-gone cli-queue-new "$SG" "$SUB" "$VPC"; do
	expect_out "$id" "second scan summary lists $id"
done

q changes --output json
expect_rc 0 "changes"
shape changes --nonempty
cp "$tmp/out" "$tmp/changes2.json"
pycheck "changes after the mutations" "$K_I1" "$K_V1" "$K_BGONE" "$K_QNEW" "$K_SG" "$K_SUB" "$K_VPC" "$LONGV" <<'EOF'
ki1, kv1, kbucket, kq, ksg, ksub, kvpc, longv = args
want = {("modified", ki1), ("modified", kv1), ("disappeared", kbucket),
        ("created", kq), ("disappeared", ksg), ("modified", ksub),
        ("modified", kvpc)}
got = [ev(e) for e in doc]
if len(got) != len(set(got)): fail(f"duplicate events: {got}")
if set(got) != want:
    fail(f"events {sorted(set(got))}, expected {sorted(want)}")
types = {"ec2_instance": ki1, "ebs_volume": kv1, "s3_bucket": kbucket,
         "sqs_queue": kq, "security_group": ksg, "subnet": ksub, "vpc": kvpc}
for e in doc:
    if e.get("revision") != 2: fail(f"{ev(e)}: revision {e.get('revision')}, expected 2")
    if types.get(e.get("type")) != e.get("key"): fail(f"{ev(e)}: type {e.get('type')}")
    if e.get("change") != "modified" and e.get("fields") != []:
        fail(f"{ev(e)}: fields {e.get('fields')}, expected []")
def fields(key):
    for e in doc:
        if e.get("key") == key:
            return {f["path"]: (f.get("old"), f.get("new")) for f in e.get("fields", [])}
    return {}
f = fields(ki1)
if f.get("status") != ("running", "stopped"):
    fail(f"instance: status change {f.get('status')}, expected running -> stopped; fields {f}")
if any(not p.startswith(("status", "attributes.")) for p in f):
    fail(f"instance: unexpected paths {sorted(f)}")
f = fields(kv1)
if f != {"tags.Env": ("test", "prod"), "tags.Owner": ("ops", None)}:
    fail(f"volume: fields {f}, expected tags.Env test->prod and tags.Owner ops->null")
f = fields(ksub)
if f != {"tags.Team": (None, "core")}:
    fail(f"subnet: fields {f}, expected tags.Team null->core")
f = fields(kvpc)
if f != {"tags.Description": (None, longv)}:
    fail(f"vpc: fields {f}, expected tags.Description null->the long value")
EOF

q changes
expect_rc 0 "changes table"
narrow "changes table"
for id in "$I1" "$V1" cli-bucket-gone "$SG"; do expect_out "$id" "changes table lists $id"; done

q changes --include-baseline --output json
expect_rc 0 "changes --include-baseline"
shape changes --nonempty
pycheck "changes --include-baseline" "$tmp/changes2.json" "$K_I1" "$K_BGONE" "$K_SG" <<'EOF'
later = json.load(open(args[0]))
base = [e for e in doc if e.get("revision") == 1]
rest = [e for e in doc if e.get("revision") != 1]
if not base: fail("no baseline events")
if any(e.get("change") != "created" for e in base): fail("a baseline event that is not 'created'")
keys = {e.get("key") for e in base}
for k in args[1:]:
    if k not in keys: fail(f"baseline creation of {k} missing")
if rest != later: fail("the events after the baseline differ from plain 'changes'")
if doc[:len(base)] != base: fail("baseline events are not first (oldest first)")
EOF

q changes --change disappeared --output json
expect_rc 0 "changes --change disappeared"
shape changes --nonempty
pycheck "changes --change disappeared" "$K_BGONE" "$K_SG" <<'EOF'
if sorted(e["key"] for e in doc) != sorted(args): fail(f"got {[ev(e) for e in doc]}")
EOF
q changes --type ec2_instance --output json
expect_rc 0 "changes --type"
pycheck "changes --type ec2_instance" "$K_I1" <<'EOF'
if [e["key"] for e in doc] != args: fail(f"got {[ev(e) for e in doc]}")
EOF
q changes --type key_pair --output json
expect_rc 0 "changes --type key_pair"
shape changes --empty

# history by bare id and by key
q history "$I1" --output json
expect_rc 0 "history by id"
shape history --nonempty
cp "$tmp/out" "$tmp/hist_id.json"
pycheck "history of the stopped instance" "$K_I1" <<'EOF'
got = [(e.get("revision"), e.get("change")) for e in doc]
if got != [(1, "created"), (2, "modified")]: fail(f"versions {got}, expected created@1, modified@2")
if any(e.get("key") != args[0] for e in doc): fail("an entry of another resource")
if len(doc) == 2 and not any(f.get("path") == "status" and f.get("new") == "stopped" for f in doc[1]["fields"]):
    fail(f"no status -> stopped in {doc[1]['fields']}")
EOF
q history "$K_I1" --output json
expect_rc 0 "history by key"
cmp -s "$tmp/out" "$tmp/hist_id.json" || fail "history by key differs from history by id"
q history "$I1"
expect_rc 0 "history table"
narrow "history table"
python3 - "$tmp/out" <<'EOF' || fail "history table: 'created' then 'modified' with 'status': $(head -c 800 "$tmp/out")"
import sys
t = open(sys.argv[1]).read()
c, m = t.find("created"), t.find("modified")
sys.exit(0 if 0 <= c < m and "status" in t[m:] and "stopped" in t[m:] else 1)
EOF
q history "$VPC"
expect_rc 0 "history of the VPC (a long value)"
narrow "history table with a long tag value"
expect_out "tags.Description" "history of the VPC names the field"

# resources now and then
q resources --at 1 --output json
expect_rc 0 "resources --at 1"
shape resources --nonempty
pycheck "resources --at 1" "$K_BGONE" "$K_SG" "$K_I1" "$K_QNEW" <<'EOF'
by = {r["key"]: r for r in doc}
for k in args[:2]:
    if k not in by: fail(f"{k} (deleted since) missing at revision 1")
if by.get(args[2], {}).get("status") != "running": fail(f"instance status at 1: {by.get(args[2], {}).get('status')}")
if args[3] in by: fail("the queue created later is listed at revision 1")
if any(r.get("revision") != 1 for r in doc): fail("a version not from revision 1")
EOF
q resources --output json
expect_rc 0 "resources now"
shape resources --nonempty
pycheck "resources now" "$K_BGONE" "$K_SG" "$K_I1" "$K_QNEW" "$K_BKEEP" "$K_V1" <<'EOF'
by = {r["key"]: r for r in doc}
for k in args[:2]:
    if k in by: fail(f"{k} is deleted but still listed now")
i = by.get(args[2], {})
if i.get("status") != "stopped" or i.get("revision") != 2: fail(f"instance now: status {i.get('status')} revision {i.get('revision')}, expected stopped @2")
if args[3] not in by or by[args[3]].get("revision") != 2: fail("the new queue is not listed (revision 2)")
if by.get(args[4], {}).get("revision") != 1: fail("the unchanged bucket's version is not from revision 1")
if by.get(args[5], {}).get("tags") != {"Name": "cli-vol-1", "Env": "prod"}: fail(f"volume tags now: {by.get(args[5], {}).get('tags')}")
EOF
q resources --tag Team=core --output json
expect_rc 0 "resources --tag K=V"
pycheck "resources --tag Team=core" "$K_SUB" <<'EOF'
if [r["key"] for r in doc] != args: fail(f"got {[r['key'] for r in doc]}")
EOF
q resources --tag Team --type subnet --region us-east-1 --account "$ACCT" --output json
expect_rc 0 "resources with every filter"
pycheck "resources --tag Team --type subnet --region --account" "$K_SUB" <<'EOF'
if [r["key"] for r in doc] != args: fail(f"got {[r['key'] for r in doc]}")
EOF
q resources --region us-west-2 --output json
expect_rc 0 "resources in an empty region"
shape resources --empty
q resources --type sqs_queue
expect_rc 0 "resources table"
narrow "resources table (a long queue name)"
q resources --at 1
expect_rc 0 "resources --at 1 table"
narrow "resources --at 1 table"
expect_out "cli-bucket-gone" "resources --at 1 table lists the deleted bucket"

# diff 1 2 = the changes of revision 2
q diff 1 2 --output json
expect_rc 0 "diff 1 2"
shape diff --nonempty
pycheck "diff 1 2 against changes" "$tmp/changes2.json" <<'EOF'
ch = json.load(open(args[0]))
norm = lambda l: sorted(json.dumps({k: e.get(k) for k in ("change", "key", "type", "revision", "time", "fields")}, sort_keys=True) for e in l)
if norm(doc) != norm(ch):
    fail(f"diff {sorted(ev(e) for e in doc)} != changes {sorted(ev(e) for e in ch)}")
EOF
q diff 1 2
expect_rc 0 "diff table"
narrow "diff table"
expect_out "7 differences between revision 1 and 2" "diff table count line"
q diff 2 2 --output json
expect_rc 0 "diff 2 2"
shape diff --empty

# why: the two observed entries
q why "$I1" --output json
expect_rc 0 "why"
shape why --nonempty
pycheck "why of the stopped instance" <<'EOF'
got = [(e.get("type"), e.get("revision"), e.get("resource")) for e in doc]
if got != [("observed", 1, None), ("observed", 2, None)]:
    fail(f"entries {got}, expected observed@1 and observed@2")
if [e.get("data", {}).get("scan_id") for e in doc] != [1, 2][:len(doc)]:
    fail("data.scan_id is not the scan of the revision")
EOF
q why "$I1"
expect_rc 0 "why table"
narrow "why table"
q why "$VPC"
expect_rc 0 "why table (VPC)"
narrow "why table (VPC)"

q wal verify
expect_rc 0 "wal verify after two scans"

q scans
expect_rc 0 "scans table"
narrow "scans table"

# a scan that finds nothing new, in JSON
scan --output json
expect_rc 0 "no-change scan (json)"
shape scan
pycheck "no-change scan" <<'EOF'
for k in ("created", "modified", "disappeared", "error_count"):
    if doc.get(k) != 0: fail(f"{k} is {doc.get(k)}, expected 0")
if doc.get("baseline") is not False or doc.get("status") != "success" or doc.get("revision") != 3:
    fail(f"baseline/status/revision: {doc.get('baseline')}/{doc.get('status')}/{doc.get('revision')}")
if doc.get("unchanged") != doc.get("resource_count"): fail("unchanged != resource_count with no changes")
t = {(x.get("type"), x.get("region")) for x in doc.get("types", [])}
for ty in ("ec2_instance", "ebs_volume", "sqs_queue", "security_group", "subnet", "vpc", "s3_bucket"):
    if (ty, "us-east-1") not in t: fail(f"types has no ({ty}, us-east-1)")
EOF
q changes --since 2 --output json
expect_rc 0 "changes --since 2 (none)"
shape changes --empty
q changes --since 2
expect_rc 0 "changes table, none"
expect_out "No changes." "changes table with nothing"
q diff 2 3 --output json
expect_rc 0 "diff over a revision without changes"
shape diff --empty
q diff 2 3
expect_rc 0 "diff table over a revision without changes"
expect_out "0 differences between revision 2 and 3" "diff table with nothing"

# ================================================ 2. completeness gate
awsq ec2 terminate-instances --instance-ids "$I2" >/dev/null
awsq ec2 delete-volume --volume-id "$V2" >/dev/null
AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1 scan
expect_rc 3 "scan with SQS unreachable"
narrow "partial scan summary"
expect_out "$SCOPE:sqs_queue" "partial summary names the failed scope"
expect_out "ListQueues" "partial summary says why"
q scans --limit 1 --output json
expect_rc 0 "scans --limit 1"
shape scans --nonempty
pycheck "the partial scan's metadata" "$SCOPE:sqs_queue" <<'EOF'
if len(doc) != 1: fail(f"--limit 1 gave {len(doc)} scans")
s = doc[0]
if s.get("status") != "partial": fail(f"status {s.get('status')}, expected partial")
if not isinstance(s.get("error_count"), int) or s["error_count"] < 1: fail(f"error_count {s.get('error_count')}")
if args[0] not in [e.get("scope") for e in s.get("errors", [])]: fail(f"errors {s.get('errors')} do not name {args[0]}")
if s.get("revision") != 4: fail(f"revision {s.get('revision')}, expected 4")
if not s.get("scopes_failed"): fail("scopes_failed is 0")
EOF
q changes --since 3 --output json
expect_rc 0 "changes of the partial scan"
shape changes --nonempty
pycheck "changes of the partial scan" "$K_V2" "$K_I2" <<'EOF'
if any(e.get("type") == "sqs_queue" for e in doc): fail(f"SQS events though its listing failed: {[ev(e) for e in doc if e.get('type') == 'sqs_queue']}")
got = {ev(e) for e in doc}
if ("disappeared", args[0]) not in got: fail(f"the deleted volume is not reported disappeared: {sorted(got)}")
inst = [e for e in doc if e.get("key") == args[1]]
if not inst: fail(f"the terminated instance is not reported: {sorted(got)}")
elif not any(f.get("path") == "status" and f.get("new") in ("terminated", "shutting-down") for f in inst[0].get("fields", [])) and inst[0].get("change") != "disappeared":
    fail(f"the terminated instance: {inst[0]}")
EOF
q resources --type sqs_queue --output json
expect_rc 0 "queues after the partial scan"
pycheck "queues kept by the partial scan" "$K_Q1" "$K_QNEW" "$K_QLONG" <<'EOF'
if sorted(r["key"] for r in doc) != sorted(args): fail(f"queues {sorted(r['key'] for r in doc)}")
EOF
scan
expect_rc 0 "scan after SQS is back"
q changes --since 4 --output json
expect_rc 0 "changes after SQS is back"
shape changes --empty
# a window that ends before a revision with changes
q changes --since 1 --until 2 --output json
expect_rc 0 "changes --since 1 --until 2 (revision 4 has changes)"
cmp -s "$tmp/out" "$tmp/changes2.json" || fail "changes --since 1 --until 2 differs from the changes of revision 2: $(head -c 600 "$tmp/out")"
q changes --until 3
expect_rc 0 "changes --until 3 table (revision 4 has changes)"

# ====================================================== 3. noise control
printf 'scan: {ignore: {ec2_instance: [tags.LastSeen]}}\n' >"$tmp/noise.yaml"
nscan() { el scan --store "$ST" --region us-east-1 --types ec2_instance --config "$tmp/noise.yaml"; }
awsq ec2 create-tags --resources "$I1" --tags Key=LastSeen,Value=2026-01-01T00:00:00Z >/dev/null
nscan
expect_rc 0 "scan, only an ignored tag changed"
expect_out "No changes since revision 5" "summary says no changes (ignored tag)"
narrow "no-change scan summary"
awsq ec2 create-tags --resources "$I1" --tags Key=LastSeen,Value=2026-01-02T00:00:00Z >/dev/null
nscan
expect_rc 0 "scan, the ignored tag changed again"
expect_out "No changes since revision 6" "summary says no changes (ignored tag again)"
q changes --since 5 --output json
expect_rc 0 "changes after ignored changes"
shape changes --empty
awsq ec2 create-tags --resources "$I1" --tags Key=LastSeen,Value=2026-01-03T00:00:00Z Key=Owner,Value=dev >/dev/null
nscan
expect_rc 0 "scan, another tag changed"
expect_out "Changes since revision 7: 0 created, 1 modified, 0 disappeared" "summary of a real change"
q changes --since 7 --output json
expect_rc 0 "changes after a real change"
pycheck "a real change next to an ignored one" "$K_I1" <<'EOF'
if [ev(e) for e in doc] != [("modified", args[0])]: fail(f"events {[ev(e) for e in doc]}")
elif [f.get("path") for f in doc[0]["fields"]] != ["tags.Owner"]:
    fail(f"fields {doc[0]['fields']}, expected only tags.Owner (tags.LastSeen is ignored)")
EOF
# the narrow scans (--types ec2_instance) left every other type alone
q resources --output json
pycheck "other types after --types ec2_instance scans" "$K_V1" "$K_SUB" "$K_Q1" "$K_BKEEP" <<'EOF'
keys = {r["key"] for r in doc}
for k in args:
    if k not in keys: fail(f"{k} vanished after scans of another type")
EOF

# ===================================================== 5. colour and ttys
if command -v script >/dev/null; then
	pty() { # CMD...: run under a pseudo-terminal, output in $tmp/pty
		local cmd
		cmd=$(printf '%q ' "$@")
		TERM=xterm script -qec "$cmd" /dev/null >"$tmp/pty" 2>&1 </dev/null
	}
	has_esc() { grep -q $'\x1b\[' "$tmp/pty"; }
	for c in "scans" "changes --since 1" "resources" "history $I1"; do
		# shellcheck disable=SC2086 # c is a command line
		pty "$ELAVA_BIN" $c --store "$ST"
		has_esc || fail "$c on a terminal: no colour: $(head -c 600 "$tmp/pty" | cat -v)"
		# shellcheck disable=SC2086
		pty env NO_COLOR=1 "$ELAVA_BIN" $c --store "$ST"
		! has_esc || fail "$c on a terminal with NO_COLOR=1: colour: $(head -c 600 "$tmp/pty" | cat -v)"
		# shellcheck disable=SC2086
		pty env TERM=dumb "$ELAVA_BIN" $c --store "$ST"
		! has_esc || fail "$c on a terminal with TERM=dumb: colour: $(head -c 600 "$tmp/pty" | cat -v)"
	done
	# a scan on a terminal shows its progress on stderr
	pty "$ELAVA_BIN" scan --store "$ST" --region us-east-1 --types sqs_queue
	grep -q "scanning:" "$tmp/pty" || fail "scan on a terminal: no progress line: $(head -c 600 "$tmp/pty" | cat -v)"
	has_esc || fail "scan on a terminal: no colour"
	pty env NO_COLOR=1 "$ELAVA_BIN" scan --store "$ST" --region us-east-1 --types sqs_queue
	grep -a $'\x1b\[[0-9;]*m' "$tmp/pty" >/dev/null &&
		fail "scan on a terminal with NO_COLOR=1: colour: $(head -c 600 "$tmp/pty" | cat -v)"
else
	echo "note: no script(1): the terminal colour checks are skipped"
fi

# ============================================================ 6. bad input
before=$(revisions "$ST")

el scan --store "$tmp/never1" --types ec2_nope
expect_rc 2 "unknown type"
expect_err "ec2_nope" "unknown type named"
[ -e "$tmp/never1" ] && fail "unknown type: a store was created"
el scan --store "$ST" --types ec2_instance,ec2_nope --region us-east-1
expect_rc 2 "unknown type, existing store"

el scan --store "$ST" --region xx-nowhere-1 --types ec2_instance
expect_rc 1 "unknown region"
expect_err "unknown region" "unknown region message"
[ "$(revisions "$ST")" = "$before" ] || fail "unknown region: the store went from revision $before to $(revisions "$ST")"
# where there was no store, none may be created: the scope is checked
# before the store is opened
fresh_store() { # DIR WHAT
	local n
	n=$(revisions "$1")
	[ "$n" = none ] || fail "$2: a store ($n revisions) was created at $1"
	[ -e "$1" ] && fail "$2: $1 was created"
}
el scan --store "$tmp/never2" --region xx-nowhere-1 --types ec2_instance
expect_rc 1 "unknown region, new store"
expect_err "unknown region" "unknown region message (new store)"
fresh_store "$tmp/never2" "unknown region"
el scan --store "$tmp/never2b" --region us-east-1 --region xx-nowhere-1 --types ec2_instance
expect_rc 1 "unknown second region, new store"
expect_err "unknown region 'xx-nowhere-1'" "unknown second region message"
fresh_store "$tmp/never2b" "unknown second region"
before=$(revisions "$ST") # the checks below do not repeat a failure above

mkdir -p "$tmp/emptyhome"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE \
	-u AWS_CONFIG_FILE -u AWS_SHARED_CREDENTIALS_FILE HOME="$tmp/emptyhome" \
	AWS_EC2_METADATA_DISABLED=true "$ELAVA_BIN" scan --store "$tmp/never3" --region us-east-1 --types ec2_instance
expect_rc 1 "no credentials"
expect_err "credentials" "no credentials message"
[ -e "$tmp/never3" ] && fail "no credentials: a store was created"

run env AWS_ENDPOINT_URL=http://127.0.0.1:1 "$ELAVA_BIN" scan --store "$tmp/never4" --region us-east-1 --types ec2_instance
expect_rc 1 "unreachable endpoint"
expect_err "connect" "unreachable endpoint message"
[ -e "$tmp/never4" ] && fail "unreachable endpoint: a store was created"
[ "$(revisions "$ST")" = "$before" ] || fail "bad scans changed the store: revision $before -> $(revisions "$ST")"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	OWN="$tmp/owned"
	el scan --store "$OWN" --region us-east-1 --types sqs_queue
	expect_rc 0 "scan into the store to give away"
	own_before=$(revisions "$OWN")
	chown -R nobody "$OWN"
	el scan --store "$OWN" --region us-east-1 --types sqs_queue
	expect_rc 1 "scan into another user's store"
	expect_err "belongs to uid" "another user's store message"
	[ "$(revisions "$OWN")" = "$own_before" ] || fail "another user's store: revision $own_before -> $(revisions "$OWN")"
	stray=$(find "$OWN" ! -user nobody)
	[ -z "$stray" ] || fail "another user's store: files not owned by its owner: $stray"
	el scans --store "$OWN" --output json
	expect_rc 0 "reading another user's store"
	chown -R "$(id -u):$(id -g)" "$OWN"
else
	echo "note: not root: the other-user store check is skipped"
fi

q resources --at 2001-06-01T00:00:00Z
expect_rc 1 "--at before the first scan"
expect_err "2001" "--at before the first scan message"
q diff 2001-06-01T00:00:00Z 2
expect_rc 1 "diff from before the first scan"
q changes --until 2001-06-01T00:00:00Z
expect_rc 1 "--until before the first scan"
q changes --since 2001-06-01T00:00:00Z --until 2 --output json
expect_rc 0 "--since before the first scan (from the beginning)"
shape changes
q resources --at 999
expect_rc 1 "--at beyond the newest"
expect_err "999" "--at beyond the newest message"
q resources --at 0
expect_rc 1 "--at 0"
q resources --at yesterday
expect_rc 1 "--at yesterday"
expect_err "yesterday" "--at yesterday message names it"
expect_err "revision" "--at yesterday: the accepted forms (revision)"
expect_err "2h" "--at yesterday: the accepted forms (age)"
expect_err "T10:00:00Z" "--at yesterday: the accepted forms (time)"
q diff 3 1
expect_rc 2 "diff 3 1"
q diff 1
expect_rc 2 "diff with one point"
q history no-such-id
expect_rc 1 "history of an unknown id"
expect_err "no-such-id" "unknown id named"
q why no-such-id
expect_rc 1 "why of an unknown id"
q changes --change renamed
expect_rc 2 "changes --change renamed"
q resources --output yaml
expect_rc 2 "--output yaml"
el scan --store "$tmp/never5" --bogus
expect_rc 2 "scan --bogus"
[ -e "$tmp/never5" ] && fail "scan --bogus: a store was created"

# an id in two regions
KP="$tmp/two-regions"
AWS_R=us-west-2 awsq sqs create-queue --queue-name cli-dup >/dev/null
awsq sqs create-queue --queue-name cli-dup >/dev/null
el scan --store "$KP" --region us-east-1 --region us-west-2 --types sqs_queue
expect_rc 0 "scan of two regions"
for c in history why; do
	el "$c" cli-dup --store "$KP"
	expect_rc 1 "$c of an id in two regions"
	expect_err "$SCOPE:sqs_queue:cli-dup" "$c lists the us-east-1 key"
	expect_err "aws:$ACCT:us-west-2:sqs_queue:cli-dup" "$c lists the us-west-2 key"
done
el history "aws:$ACCT:us-west-2:sqs_queue:cli-dup" --store "$KP" --output json
expect_rc 0 "history by the whole key"
shape history --nonempty

# query commands where there is no store
mkdir "$tmp/empty-dir"
for where in "$tmp/no-such-dir" "$tmp/empty-dir"; do
	for c in "resources" "history $I1" "changes" "diff 1 2" "scans" "why $I1" "compact --keep 1"; do
		# shellcheck disable=SC2086 # c is a command line
		el $c --store "$where"
		expect_rc 1 "$c with no store at $where"
		expect_err "run 'elava scan' first" "$c with no store: message"
	done
done
[ -e "$tmp/no-such-dir" ] && fail "a query command created $tmp/no-such-dir"
[ -z "$(ls -A "$tmp/empty-dir")" ] || fail "a query command wrote into an empty directory: $(ls -A "$tmp/empty-dir")"
run env ELAVA_STORAGE_PATH="$tmp/no-such-dir2" "$ELAVA_BIN" scans
expect_rc 1 "scans with ELAVA_STORAGE_PATH and no store"
[ -e "$tmp/no-such-dir2" ] && fail "scans created the store named by ELAVA_STORAGE_PATH"

q compact
expect_rc 2 "compact with neither --keep nor --older-than"
q compact --keep 2 --older-than 30d
expect_rc 2 "compact with both"
q compact --keep 0
expect_rc 2 "compact --keep 0"

# config files
printf 'scan: {ignore: {ec2_instance: ["bad[path"]}}\n' >"$tmp/bad1.yaml"
printf '# a comment\nscan:\n  ignore:\n    ec2_instance:\n      - tags.Name\n      - "bad[path"\n' >"$tmp/bad2.yaml"
printf 'scan:\n  ignore:\n    ec2_nope: [tags.Name]\n' >"$tmp/bad3.yaml"
for c in "bad1.yaml:1:" "bad2.yaml:6:" "bad3.yaml:3:"; do
	f=${c%%:*}
	el scan --store "$tmp/never6" --region us-east-1 --types ec2_instance --config "$tmp/$f"
	expect_rc 1 "config $f"
	expect_err "$tmp/$c" "config $f: message with file:line"
	[ -e "$tmp/never6" ] && fail "config $f: a store was created"
done
grep -q "ec2_nope" "$tmp/err" || fail "unknown type under scan.ignore is not named: $(cat "$tmp/err")"
[ "$(revisions "$ST")" = "$before" ] || fail "bad input changed the store: revision $before -> $(revisions "$ST")"

# ================================================= compact, and the WAL
cur=$(revisions "$ST")
q compact --older-than 3650d --output json
expect_rc 0 "compact --older-than 10 years"
shape compact
pycheck "compact with nothing old enough" "$cur" <<'EOF'
if doc.get("revision") != int(args[0]) or doc.get("versions_removed") != 0: fail(f"{doc}")
EOF
q compact --keep 2 --output json
expect_rc 0 "compact --keep 2"
shape compact
pycheck "compact --keep 2" "$cur" <<'EOF'
cur = int(args[0])
if doc.get("revision") != cur: fail(f"revision {doc.get('revision')}, expected {cur}")
if doc.get("compacted_revision") != cur - 1: fail(f"compacted_revision {doc.get('compacted_revision')}, expected {cur - 1}")
if not doc.get("versions_removed"): fail("no versions removed")
EOF
q resources --at 1
expect_rc 1 "resources --at 1 after compacting"
expect_err "compacted" "resources --at 1 after compacting: message"
q resources --at "$cur" --output json
expect_rc 0 "resources now after compacting"
shape resources --nonempty
q wal verify
expect_rc 0 "wal verify at the end"

if [ "$failures" -gt 0 ]; then
	echo "$failures failure(s)"; exit 1
fi
echo "scan-cli: all checks passed"
