#!/usr/bin/env bash
# End-to-end test of `elava serve` with real peers: the AWS API emulator
# (moto) behind a TCP proxy this script switches (pass / hold / reset), a
# real Prometheus server scraping the daemon, promtool, and the CLI reading
# the store the daemon writes. Checked against docs/daemon.md and
# docs/configuration.md:
#   1. lifecycle (seed 004 §13): two iterations, /ready, /health, metrics
#      moved; the account changes and /metrics and the API show it, the
#      API's JSON equal to the CLI's; SIGTERM during a scan: exit 0, the
#      store reopens, no revision lost, nothing half-stored, WAL verifies;
#      a restart continues the history; SIGTERM while idle;
#   2. a real Prometheus scrapes it (up == 1, Elava's series queryable);
#      `promtool check metrics` on a scrape; tests/deploy/metric_names.txt
#      against the scrape;
#   3. health: a full disk (a 16 MiB tmpfs in a private mount namespace)
#      → degraded → healthy; the cloud unreachable → degraded, then
#      unhealthy (503) at daemon.unhealthy_after, nothing reported
#      disappeared, healthy again when it answers; the cloud unreachable
#      at start (the loop must start anyway);
#   4. signals: SIGHUP with a good and a bad file, SIGTERM during a reload
#      that waits on the cloud, double SIGINT;
#   5. configuration: `elava config check`, precedence file < env < flag
#      (the port the daemon really binds), the API token;
#   6. bad input at start: port in use, unknown region, a store of another
#      user, bad intervals.
# Nothing waits a fixed time: every wait polls for a condition (0.2 s) up
# to a generous deadline ($SERVE_DEADLINE, 90 s), so it holds under ASan.
# Exit 0 pass, 1 fail, 77 skip. Prints one "FAIL: ..." line per failure.
set -u
# SERVE_TRACE=1: trace every command with the seconds since the start.
if [ -n "${SERVE_TRACE:-}" ]; then PS4='+ ${SECONDS}s ${LINENO}: '; set -x; fi

if [ -z "${ELAVA_BIN:-}" ] || [ ! -x "$ELAVA_BIN" ]; then
	echo "skip: ELAVA_BIN not set"; exit 77
fi
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/provider/moto.sh
. "$here/../provider/moto.sh"
awscli_install || { echo "skip: no awscli"; exit 77; }
SHAPE="$here/../cli/json_shape.py"
NAMES="$here/../deploy/metric_names.txt"
PROM_TEMPLATE="$here/prometheus/prometheus.yml.in"
DEADLINE=${SERVE_DEADLINE:-90}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-serve-XXXXXX") || exit 1
chmod 755 "$tmp" # the store-of-another-user case needs a path nobody can walk
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	moto_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

moto_isolate "$tmp"
moto_start || { echo "skip: cannot start the AWS emulator"; exit 77; }
. "$here/../check.sh"

section() { echo "== $*"; }

fport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# poll DESC CMD...: run CMD every 0.2 s until it succeeds; a FAIL naming
# DESC (and return 1) if it has not within the deadline.
poll() {
	local desc=$1 end=$((SECONDS + DEADLINE))
	shift
	while :; do
		"$@" && return 0
		if [ "$SECONDS" -ge "$end" ]; then
			fail "timed out after ${DEADLINE}s waiting for: $desc"
			return 1
		fi
		sleep 0.2
	done
}


# jget FILE EXPR: print a Python expression over the JSON in FILE (d).
jget() {
	python3 -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))
    v = eval(sys.argv[2])
except Exception as e:
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" 2>/dev/null
}

# ------------------------------------------------------------ the proxy
# A TCP proxy between the daemon and moto, switched through a file: pass,
# hold (requests wait; one "held" line each on its stdout), reset (the
# connection is closed at once, as a dead endpoint would). It lets the
# cloud go away and come back while moto keeps its state.
cat >"$tmp/proxy.py" <<'EOF'
import socket, sys, threading, time
upstream, mode_file = int(sys.argv[1]), sys.argv[2]
out = threading.Lock()
def say(w):
    with out:
        sys.stdout.write(w + "\n"); sys.stdout.flush()
def mode():
    try:
        return open(mode_file).read().strip() or "pass"
    except OSError:
        return "pass"
def close(*ss):
    for s in ss:
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
        try: s.close()
        except OSError: pass
def back(up, cl):
    try:
        while True:
            d = up.recv(65536)
            if not d: break
            cl.sendall(d)
    except OSError: pass
    close(up, cl)
def alive(s):
    try:
        s.setblocking(False)
        try: return s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError: return True
        finally: s.setblocking(True)
    except OSError:
        return False
def serve(cl):
    up = None
    try:
        while True:
            d = cl.recv(65536)
            if not d: break
            m = mode()
            if m == "hold":
                say("held")
                while m == "hold":
                    time.sleep(0.05)
                    if not alive(cl):
                        close(cl, *( [up] if up else [])); return
                    m = mode()
            if m == "reset":
                say("reset"); break
            if up is None:
                up = socket.create_connection(("127.0.0.1", upstream))
                threading.Thread(target=back, args=(up, cl), daemon=True).start()
            up.sendall(d)
    except OSError: pass
    close(cl, *([up] if up else []))
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(128)
say(str(srv.getsockname()[1]))
while True:
    c, _ = srv.accept()
    if mode() == "reset":
        say("reset"); close(c); continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
MODE="$tmp/proxy.mode"
echo pass >"$MODE"
python3 -u "$tmp/proxy.py" "${MOTO_URL##*:}" "$MODE" >"$tmp/proxy.out" 2>"$tmp/proxy.err" &
pids+=($!)
proxy_port() { head -1 "$tmp/proxy.out" 2>/dev/null | grep -qE '^[0-9]+$'; }
poll "the proxy to listen" proxy_port || die "the proxy did not start: $(cat "$tmp/proxy.err")"
PROXY_URL="http://127.0.0.1:$(head -1 "$tmp/proxy.out")"
proxy() { echo "$1" >"$MODE"; }
held() { grep -c '^held' "$tmp/proxy.out"; }
# The daemon (and only the daemon) reaches the cloud through the proxy.
export AWS_ENDPOINT_URL=$PROXY_URL

# ------------------------------------------------------------ the daemon
# daemon_start NAME PORT ARGS...: `elava serve --listen 127.0.0.1 ARGS` in
# the background, its log in $tmp/NAME.log; PORT is passed as
# --metrics-port unless "-" (the port then comes from the file or the
# environment and the caller sets DPORT). Sets DPID, DLOG, DURL.
daemon_start() {
	local name=$1 port=$2
	shift 2
	DLOG="$tmp/$name.log"
	if [ "$port" = - ]; then
		"$ELAVA_BIN" serve --listen 127.0.0.1 "$@" >"$DLOG" 2>&1 &
	else
		DPORT=$port
		"$ELAVA_BIN" serve --listen 127.0.0.1 --metrics-port "$port" "$@" >"$DLOG" 2>&1 &
	fi
	DPID=$!
	pids+=("$DPID")
	DURL="http://127.0.0.1:$DPORT"
}
alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# daemon_exit [PID]: wait until it exits; its status in $drc.
daemon_exit() {
	local p=${1:-$DPID}
	drc=
	poll "process $p to exit" gone "$p" || { kill -9 "$p" 2>/dev/null; }
	wait "$p" 2>/dev/null
	drc=$?
}
# listening: /health answers at all (any status), or the daemon died.
listening() { curl -s -o /dev/null "$DURL/health" || gone "$DPID"; }
daemon_up() {
	poll "$1: the daemon to listen on $DURL" listening || return 1
	if gone "$DPID"; then
		wait "$DPID"
		fail "$1: the daemon exited ($?) at start: $(tail -5 "$DLOG")"
		return 1
	fi
}
log_has() { grep -qF -- "$1" "$DLOG"; }
expect_log() { log_has "$1" || fail "$2: no '$1' in the log: $(tail -8 "$DLOG")"; }

scrape() { curl -sf "$DURL/metrics" >"$tmp/scrape" 2>/dev/null; }
# metric SERIES: the value of one series (exact name and labels) on a
# fresh scrape, or nothing.
metric() {
	scrape || return 1
	awk -v s="$1" 'index($0, s " ") == 1 { print $NF; exit }' "$tmp/scrape"
}
# metric_sum FAMILY: the sum of a family's series (0 when it has none).
metric_sum() {
	scrape || return 1
	awk -v f="$1" 'index($0, f "{") == 1 || index($0, f " ") == 1 { s += $NF } END { print s + 0 }' "$tmp/scrape"
}
# metric_cmp SERIES OP N: the series exists and compares so (awk).
metric_cmp() {
	local v
	v=$(metric "$1") && [ -n "$v" ] && awk -v a="$v" -v b="$3" "BEGIN { exit !(a + 0 $2 b + 0) }"
}
expect_metric() { # SERIES OP N WHAT
	metric_cmp "$1" "$2" "$3" || fail "$4: $1 is '$(metric "$1")', expected $2 $3"
}

# health: GET /health into $tmp/health.json, its status code in $hcode.
health() { hcode=$(curl -s -o "$tmp/health.json" -w '%{http_code}' "$DURL/health"); }
hget() { jget "$tmp/health.json" "d[\"$1\"]"; }
health_is() { # STATUS [storage_healthy] [last_status]
	health || return 1
	[ "$(hget status)" = "$1" ] || return 1
	[ -z "${2:-}" ] || [ "$(hget storage_healthy)" = "$2" ] || return 1
	[ -z "${3:-}" ] || [ "$(hget last_status)" = "$3" ] || return 1
}
hcode_of() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
iterations_ge() { metric_cmp daemon_reconciliation_total '>=' "$1"; }
# The revisions the daemon logged ("[Scan #N] ... (revision R, ...").
logged_revisions() { sed -n 's/.*\[Scan #[0-9]*\] .*(revision \([0-9]*\),.*/\1/p' "$1" | sort -n | uniq; }

# ------------------------------------------------------------ the account
AWS_R=us-east-1
awsq() {
	local out
	out=$(aws --endpoint-url "$MOTO_URL" --region "$AWS_R" --output text "$@" 2>"$tmp/aws.err") ||
		die "fixture: aws $* -> $(head -c 800 "$tmp/aws.err")"
	printf '%s' "$out"
}
ACCT=123456789012
SCOPE="aws:$ACCT:us-east-1"
read -r I1 I2 I3 <<<"$(awsq ec2 run-instances --image-id ami-12c6146b --count 3 --instance-type t3.micro \
	--query 'Instances[].InstanceId')"
V1=$(awsq ec2 create-volume --availability-zone us-east-1a --size 8 \
	--tag-specifications 'ResourceType=volume,Tags=[{Key=Name,Value=serve-vol},{Key=Env,Value=test}]' --query VolumeId)
awsq s3api create-bucket --bucket elava-serve-bucket >/dev/null
Q1URL=$(awsq sqs create-queue --queue-name serve-q1 --query QueueUrl)
awsq sqs create-queue --queue-name serve-q2 >/dev/null
for x in "$I1" "$I2" "$I3" "$V1" "$Q1URL"; do
	if [ -z "$x" ] || [ "$x" = None ]; then die "fixture: an id is empty"; fi
done
K_I1="$SCOPE:ec2_instance:$I1" K_V1="$SCOPE:ebs_volume:$V1" K_Q1="$SCOPE:sqs_queue:serve-q1"
TYPES=ec2_instance,ebs_volume,s3_bucket,sqs_queue
SCOPE_FLAGS=(--region us-east-1 --types "$TYPES")
EC2_NOW='elava_resources_current{type="ec2_instance",region="us-east-1"}'
SQS_NOW='elava_resources_current{type="sqs_queue",region="us-east-1"}'

# ================================================== 1. the full lifecycle
section "1. lifecycle"
S1="$tmp/s1"
daemon_start life "$(fport)" --store "$S1" --interval 2s "${SCOPE_FLAGS[@]}"
daemon_up lifecycle || die "lifecycle: the daemon does not start"
poll "two iterations (daemon_reconciliation_total >= 2)" iterations_ge 2
[ "$(hcode_of "$DURL/ready")" = 200 ] || fail "/ready after two iterations: $(cat "$tmp/body")"
grep -qF '"ready":true' "$tmp/body" || fail "/ready body: $(cat "$tmp/body")"
health
[ "$hcode" = 200 ] || fail "/health: HTTP $hcode"
pycheck_file "/health after two iterations" "$tmp/health.json" <<'EOF'
want = {"status": str, "uptime_seconds": int, "last_reconciliation": str,
        "last_success": str, "reconciliation_errors": int,
        "storage_healthy": bool, "iterations": int, "last_status": str,
        "ready": bool, "reasons": list}
for k, t in want.items():
    if not isinstance(doc.get(k), t): fail(f"{k}: {doc.get(k)!r} is not {t.__name__}")
if doc.get("status") != "healthy": fail(f"status {doc.get('status')}, reasons {doc.get('reasons')}")
if doc.get("iterations", 0) < 2: fail(f"iterations {doc.get('iterations')}")
if doc.get("storage_healthy") is not True or doc.get("ready") is not True: fail("not storage_healthy/ready")
if doc.get("last_status") != "success": fail(f"last_status {doc.get('last_status')}")
if doc.get("reasons") != []: fail(f"reasons {doc.get('reasons')}")
if doc.get("reconciliation_errors") != 0: fail(f"reconciliation_errors {doc.get('reconciliation_errors')}")
EOF
expect_metric daemon_resources_current '>' 0 "metrics after two iterations"
expect_metric "$EC2_NOW" '==' 3 "three instances"
expect_metric "$SQS_NOW" '==' 2 "two queues"
expect_metric 'elava_api_calls_total{service="ec2"}' '>' 0 "EC2 calls counted"
expect_metric daemon_ready '==' 1 "daemon_ready"
expect_metric 'daemon_health_status{status="healthy"}' '==' 1 "daemon_health_status"
expect_metric elava_store_revision '>=' 2 "elava_store_revision"
expect_metric elava_wal_entries_total '>=' 2 "elava_wal_entries_total"
expect_metric daemon_reconciliation_duration_ms_count '>=' 2 "the duration histogram"
grep -q '^elava_build_info{version="[^"]*"} 1$' "$tmp/scrape" || fail "elava_build_info missing"
expect_log "[Scan #1] Found" "the first iteration's log line"
grep -qE '\[Scan #1\] Found [0-9]+ resources, 0 changes, baseline \(revision 1, success' "$DLOG" ||
	fail "the baseline's log line: $(grep -F '[Scan #1]' "$DLOG")"
expect_log "[Scan #2] Found" "the second iteration's log line"
curl -sf "$DURL/debug/vars" >"$tmp/vars.json" || fail "/debug/vars did not answer 200"
pycheck_file "/debug/vars" "$tmp/vars.json" "$S1" <<'EOF'
if doc["store"]["path"] != args[0]: fail(f"store.path {doc['store']['path']}")
if doc["iteration"]["iterations"] < 2: fail(f"iteration.iterations {doc['iteration']['iterations']}")
if doc["iteration"]["state"] not in ("running", "sleeping"): fail(f"state {doc['iteration']['state']}")
if doc["threads"] < 2 or doc["open_fds"] < 3: fail(f"threads {doc['threads']}, open_fds {doc['open_fds']}")
if doc["memory"]["rss_anon_bytes"] <= 0: fail("rss_anon_bytes")
EOF

# the account changes: an instance stopped, a volume retagged, a queue gone
awsq ec2 stop-instances --instance-ids "$I1" >/dev/null
awsq ec2 create-tags --resources "$V1" --tags Key=Env,Value=prod >/dev/null
awsq sqs delete-queue --queue-url "$Q1URL" >/dev/null
poll "elava_resources_modified_total{type=\"ec2_instance\"} >= 1" \
	metric_cmp 'elava_resources_modified_total{type="ec2_instance",region="us-east-1"}' '>=' 1
poll "elava_resources_modified_total{type=\"ebs_volume\"} >= 1" \
	metric_cmp 'elava_resources_modified_total{type="ebs_volume",region="us-east-1"}' '>=' 1
poll "elava_resources_disappeared_total{type=\"sqs_queue\"} == 1" \
	metric_cmp 'elava_resources_disappeared_total{type="sqs_queue",region="us-east-1"}' '==' 1
expect_metric "$SQS_NOW" '==' 1 "one queue left"
[ "$(metric_sum elava_resources_disappeared_total)" = 1 ] ||
	fail "only the queue disappeared: $(grep '^elava_resources_disappeared_total' "$tmp/scrape")"
expect_metric elava_change_events_stored_total '>=' 3 "change events stored"

# the API and the CLI, on the same store, while the daemon writes
curl -sf "$DURL/api/v1/changes" >"$tmp/api_changes.json" || fail "/api/v1/changes: $(cat "$tmp/api_changes.json")"
el changes --store "$S1" --output json
expect_rc 0 "elava changes while the daemon runs"
cp "$tmp/out" "$tmp/cli_changes.json"
python3 "$SHAPE" changes "$tmp/cli_changes.json" --nonempty >"$tmp/shape" 2>&1 ||
	fail "JSON shape of the CLI's changes: $(tr '\n' ';' <"$tmp/shape")"
jget "$tmp/api_changes.json" 'json.dumps(d["items"])' >"$tmp/api_changes_items.json"
python3 "$SHAPE" changes "$tmp/api_changes_items.json" --nonempty >"$tmp/shape" 2>&1 ||
	fail "JSON shape of /api/v1/changes items: $(tr '\n' ';' <"$tmp/shape")"
pycheck_file "/api/v1/changes against elava changes" "$tmp/api_changes.json" "$tmp/cli_changes.json" "$K_I1" "$K_V1" "$K_Q1" <<'EOF'
cli = load(args[0])
if set(doc) != {"items", "next"}: fail(f"envelope members {sorted(doc)}")
if doc.get("next") is not None: fail(f"next {doc.get('next')!r} for a short list")
items = doc.get("items", [])
if items != cli:
    fail(f"API items differ from the CLI's: {json.dumps(items)[:400]} vs {json.dumps(cli)[:400]}")
got = {(e["change"], e["key"]) for e in items}
for want in (("modified", args[1]), ("modified", args[2]), ("disappeared", args[3])):
    if want not in got: fail(f"{want} missing from {sorted(got)}")
if any(e["change"] == "disappeared" and e["key"] != args[3] for e in items):
    fail(f"unexpected disappearances: {[e['key'] for e in items if e['change'] == 'disappeared']}")
EOF
curl -sf "$DURL/api/v1/changes?since=1&change=disappeared" >"$tmp/api_gone.json" ||
	fail "/api/v1/changes?since=1&change=disappeared: $(cat "$tmp/api_gone.json")"
pycheck_file "/api/v1/changes?change=disappeared" "$tmp/api_gone.json" "$K_Q1" <<'EOF'
if [e["key"] for e in doc["items"]] != [args[0]]: fail(f"items {doc['items']}")
EOF
for k in "$K_I1" "$I1"; do
	curl -sf "$DURL/api/v1/resources/$k/history" >"$tmp/api_hist.json" ||
		fail "/api/v1/resources/$k/history: $(cat "$tmp/api_hist.json")"
	el history "$K_I1" --store "$S1" --output json
	expect_rc 0 "elava history $K_I1"
	cp "$tmp/out" "$tmp/cli_hist.json"
	pycheck_file "/api/v1/resources/$k/history" "$tmp/api_hist.json" "$tmp/cli_hist.json" "$K_I1" <<'EOF'
cli = load(args[0])
items = doc.get("items")
if not isinstance(items, list) or len(items) < 2:
    fail(f"expected two versions or more (created, modified): {json.dumps(doc)[:400]}")
elif items != cli:
    fail(f"differs from elava history: {json.dumps(items)[:400]} vs {json.dumps(cli)[:400]}")
elif any(v.get("key") != args[1] for v in items if "key" in v):
    fail("a version of another resource")
EOF
done
[ "$(hcode_of "$DURL/api/v1/resources/i-00000000nosuch/history")" = 404 ] ||
	fail "history of an unknown resource: not 404: $(cat "$tmp/body")"
[ "$(hcode_of "$DURL/api/v1/changes?since=yesterday-ish")" = 400 ] ||
	fail "/api/v1/changes with a bad since: not 400: $(cat "$tmp/body")"
curl -sf "$DURL/api/v1/resources" >"$tmp/api_res.json" || fail "/api/v1/resources: $(cat "$tmp/api_res.json")"
el resources --store "$S1" --output json
expect_rc 0 "elava resources while the daemon runs"
cp "$tmp/out" "$tmp/cli_res.json"
pycheck_file "/api/v1/resources against elava resources" "$tmp/api_res.json" "$tmp/cli_res.json" <<'EOF'
cli = {r["key"]: r for r in load(args[0])}
api = {r["key"]: r for r in doc.get("items", [])}
if api != cli:
    fail(f"keys only in the API {sorted(set(api) - set(cli))}, only in the CLI {sorted(set(cli) - set(api))}, "
         f"differing {[k for k in api if k in cli and api[k] != cli[k]][:3]}")
EOF
curl -sf "$DURL/api/v1/scans" >"$tmp/api_scans.json" || fail "/api/v1/scans: $(cat "$tmp/api_scans.json")"
el scans --store "$S1" --output json
cp "$tmp/out" "$tmp/cli_scans.json"
pycheck_file "/api/v1/scans against elava scans" "$tmp/api_scans.json" "$tmp/cli_scans.json" <<'EOF'
cli = {s["revision"]: s for s in load(args[0])}
items = doc.get("items", [])
if len(items) < 3: fail(f"{len(items)} scans")
for s in items:
    if s["revision"] in cli and cli[s["revision"]] != s:
        fail(f"revision {s['revision']}: {s} vs {cli[s['revision']]}")
EOF

# SIGTERM during a scan: the proxy holds the cloud's answers, so the scan
# is in flight for as long as we like.
n0=$(held)
proxy hold
held_more() { [ "$(held)" -gt "$n0" ]; }
poll "a scan to wait on the held cloud" held_more
vars_state() { curl -sf "$DURL/debug/vars" >"$tmp/vars.json" && [ "$(jget "$tmp/vars.json" 'd["iteration"]["state"]')" = "$1" ]; }
poll "/debug/vars to say running" vars_state running
kill -TERM "$DPID"
daemon_exit
proxy pass
[ "$drc" = 0 ] || fail "SIGTERM during a scan: exit $drc, expected 0: $(tail -5 "$DLOG")"
expect_log "graceful shutdown initiated" "SIGTERM during a scan"
expect_log "iteration cancelled by the shutdown; nothing was stored" "SIGTERM during a scan"
expect_log "Daemon stopped" "SIGTERM during a scan"
logged_revisions "$DLOG" >"$tmp/logged"
[ -s "$tmp/logged" ] || fail "no revision logged"
el scans --store "$S1" --output json
expect_rc 0 "the store reopens after SIGTERM (elava scans)"
cp "$tmp/out" "$tmp/scans_after.json"
pycheck_file "no revision lost" "$tmp/scans_after.json" "$tmp/logged" <<'EOF'
logged = [int(x) for x in open(args[0]).read().split()]
have = sorted(s["revision"] for s in doc)
missing = sorted(set(logged) - set(have))
if missing: fail(f"revisions the daemon logged but the store lacks: {missing}")
extra = sorted(set(have) - set(logged))
if extra: fail(f"revisions in the store the daemon never logged (half-stored?): {extra}")
if have != list(range(1, len(have) + 1)): fail(f"revisions not 1..N: {have}")
EOF
LAST_REV=$(tail -1 "$tmp/logged")
el wal verify --store "$S1"
expect_rc 0 "elava wal verify after SIGTERM"

# a restart on the same store continues its history (no new baseline),
# then SIGTERM while idle
daemon_start life2 "$(fport)" --store "$S1" --interval 1h "${SCOPE_FLAGS[@]}"
daemon_up "restart" && poll "the first iteration after the restart" iterations_ge 1
grep -qE "\[Scan #$((LAST_REV + 1))\] Found [0-9]+ resources, [0-9]+ changes? \(revision $((LAST_REV + 1)), success" "$DLOG" ||
	fail "after a restart: expected scan/revision $((LAST_REV + 1)), not a baseline: $(grep -F '[Scan #' "$DLOG")"
poll "/debug/vars to say sleeping" vars_state sleeping
kill -TERM "$DPID"
daemon_exit
[ "$drc" = 0 ] || fail "SIGTERM while idle: exit $drc: $(tail -5 "$DLOG")"
expect_log "Daemon stopped" "SIGTERM while idle"
el wal verify --store "$S1"
expect_rc 0 "elava wal verify after the restart"

# ======================================================= 2. Prometheus
section "2. Prometheus"
daemon_start prom "$(fport)" --store "$tmp/s2" --interval 2s "${SCOPE_FLAGS[@]}"
daemon_up prometheus && poll "an iteration" iterations_ge 1
curl -sf "$DURL/metrics" >"$tmp/scrape.txt" || fail "no scrape"
if command -v promtool >/dev/null; then
	# Seed 004 names the histogram daemon_reconciliation_duration_ms, which
	# promtool's linter flags ("abbreviated units"); that one finding is
	# the seed's, any other problem (a parse error above all) fails.
	promtool check metrics <"$tmp/scrape.txt" >"$tmp/promtool.out" 2>&1
	prc=$?
	grep -vE '^daemon_reconciliation_duration_ms metric names should not contain abbreviated units$' \
		"$tmp/promtool.out" >"$tmp/promtool.rest"
	if [ -s "$tmp/promtool.rest" ] || { [ "$prc" -ne 0 ] && ! [ -s "$tmp/promtool.out" ]; }; then
		fail "promtool check metrics (exit $prc): $(head -c 800 "$tmp/promtool.out")"
	elif [ "$prc" -ne 0 ]; then
		echo "note: promtool check metrics exits $prc only for the seed's name: $(cat "$tmp/promtool.out")"
	fi
else
	echo "note: no promtool; 'promtool check metrics' not run"
fi
if [ -f "$NAMES" ]; then
	while read -r name _; do
		case $name in '' | '#'*) continue ;; esac
		grep -q "^# HELP $name " "$tmp/scrape.txt" || fail "metric_names.txt lists '$name', the scrape has no such family"
	done <"$NAMES"
else
	echo "note: $NAMES absent; the metric-name list is not compared"
fi
if command -v prometheus >/dev/null; then
	PPORT=$(fport)
	PURL="http://127.0.0.1:$PPORT"
	sed "s/@TARGET@/127.0.0.1:$DPORT/" "$PROM_TEMPLATE" >"$tmp/prometheus.yml"
	prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom-data" \
		--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
	PROM_PID=$!
	pids+=("$PROM_PID")
	prom_ready() { curl -sf "$PURL/-/ready" >/dev/null || gone "$PROM_PID"; }
	poll "Prometheus to be ready" prom_ready
	gone "$PROM_PID" && fail "prometheus exited: $(tail -5 "$tmp/prometheus.log")"
	# pq QUERY: Prometheus's answer in $tmp/pq.json; true when it has a
	# sample (and, given a second argument, the first value equals it)
	pq() {
		curl -sf -G "$PURL/api/v1/query" --data-urlencode "query=$1" >"$tmp/pq.json" || return 1
		local v
		v=$(jget "$tmp/pq.json" 'd["data"]["result"][0]["value"][1]') || return 1
		[ -z "${2:-}" ] || awk -v a="$v" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'
	}
	poll "Prometheus to have daemon_reconciliation_total{job=\"elava\"}" pq 'daemon_reconciliation_total{job="elava"} >= 1'
	poll "Prometheus: up{job=\"elava\"} == 1" pq 'up{job="elava"}' 1
	poll "Prometheus: elava_resources_current for ec2_instance" \
		pq 'elava_resources_current{job="elava",type="ec2_instance",region="us-east-1"}' 3
	poll "Prometheus: a histogram bucket" pq 'daemon_reconciliation_duration_ms_bucket{job="elava",le="+Inf"} >= 1'
	pq 'scrape_samples_scraped{job="elava"}' || fail "no scrape_samples_scraped: $(cat "$tmp/pq.json")"
	kill "$PROM_PID"
	daemon_exit "$PROM_PID"
else
	fail "no /usr/bin/prometheus (scripts/deps.sh installs it)"
fi
kill -TERM "$DPID"
daemon_exit
[ "$drc" = 0 ] || fail "prometheus section: exit $drc"

# ===================================================== 3. health changes
section "3a. a full disk: degraded, then healthy"
if unshare -m true 2>/dev/null; then
	MNT="$tmp/mnt"
	mkdir -p "$MNT"
	printf 'daemon:\n  unhealthy_after: 1h\n' >"$tmp/c3.yaml"
	DPORT=$(fport)
	DLOG="$tmp/disk.log"
	# The daemon runs in its own mount namespace on a 16 MiB tmpfs; this
	# script reaches that tmpfs through /proc/PID/root.
	unshare -m sh -c 'mount -t tmpfs -o size=16m,mode=0700 elava-test "$0" && exec "$@"' "$MNT" \
		"$ELAVA_BIN" serve --listen 127.0.0.1 --metrics-port "$DPORT" --config "$tmp/c3.yaml" \
		--store "$MNT/store" --interval 2s "${SCOPE_FLAGS[@]}" >"$DLOG" 2>&1 &
	DPID=$!
	pids+=("$DPID")
	DURL="http://127.0.0.1:$DPORT"
	if daemon_up "full disk"; then
		poll "a good iteration" health_is healthy true success
		ROOT="/proc/$DPID/root$MNT"
		[ -d "$ROOT/store" ] || fail "the store is not on the tmpfs: $(ls -la "$ROOT" 2>&1)"
		dd if=/dev/zero of="$ROOT/filler" bs=64k >/dev/null 2>&1 # until ENOSPC
		poll "degraded with storage_healthy false" health_is degraded false storage_error
		[ "$hcode" = 200 ] || fail "degraded answers HTTP $hcode"
		grep -qF "could not write to the store" "$tmp/health.json" || fail "no storage reason: $(cat "$tmp/health.json")"
		expect_metric daemon_storage_write_errors_total '>' 0 "storage errors counted"
		expect_metric 'daemon_health_status{status="degraded"}' '==' 1 "daemon_health_status degraded"
		expect_log "No space left on device" "the full disk is logged"
		rm -f "$ROOT/filler"
		poll "healthy again after the disk has room" health_is healthy true success
		el scans --store "$ROOT/store" --output json
		expect_rc 0 "elava scans on the tmpfs store"
		cp "$tmp/out" "$tmp/disk_scans.json"
		logged_revisions "$DLOG" >"$tmp/logged"
		pycheck_file "full disk: no revision half-stored" "$tmp/disk_scans.json" "$tmp/logged" <<'EOF'
logged = [int(x) for x in open(args[0]).read().split()]
have = sorted(s["revision"] for s in doc)
if set(logged) - set(have): fail(f"logged but not stored: {sorted(set(logged) - set(have))}")
if have != list(range(1, len(have) + 1)): fail(f"revisions not 1..N: {have}")
EOF
		kill -TERM "$DPID"
		daemon_exit
		[ "$drc" = 0 ] || fail "full disk: exit $drc after recovery: $(tail -5 "$DLOG")"
	fi
else
	echo "note: unshare -m not permitted here; the full-disk case is not run"
fi

section "3b. the cloud goes away: degraded, unhealthy, healthy"
S3="$tmp/s3"
printf 'daemon:\n  unhealthy_after: 10s\n' >"$tmp/c3b.yaml"
daemon_start outage "$(fport)" --config "$tmp/c3b.yaml" --store "$S3" --interval 2s "${SCOPE_FLAGS[@]}"
daemon_up outage && poll "two iterations" iterations_ge 2
poll "healthy before the outage" health_is healthy true success
GONE0=$(metric_sum elava_resources_disappeared_total)
el resources --store "$S3" --output json
N0=$(jget "$tmp/out" 'len(d)')
[ "${N0:-0}" -gt 0 ] || fail "no resources before the outage"
proxy reset
not_success() { health || return 1; [ "$(hget status)" = degraded ] && [ "$(hget last_status)" != success ]; }
poll "degraded while the cloud does not answer" not_success
[ "$hcode" = 200 ] || fail "degraded answers HTTP $hcode"
pycheck_file "degraded /health" "$tmp/health.json" <<'EOF'
if not doc["reasons"]: fail("no reason given")
if doc["last_status"] not in ("failed", "partial", "timeout", "error"): fail(f"last_status {doc['last_status']}")
if doc["storage_healthy"] is not True: fail("the store is fine")
EOF
expect_metric daemon_reconciliation_errors_total '>' 0 "errors counted"
expect_metric 'elava_api_errors_total{service="ec2"}' '>' 0 "API errors counted"
unhealthy_503() { health_is unhealthy && [ "$hcode" = 503 ]; }
poll "unhealthy (503) after daemon.unhealthy_after" unhealthy_503
grep -qF "daemon.unhealthy_after" "$tmp/health.json" || fail "unhealthy without the reason: $(cat "$tmp/health.json")"
expect_metric 'daemon_health_status{status="unhealthy"}' '==' 1 "daemon_health_status unhealthy"
[ "$(metric_sum elava_resources_disappeared_total)" = "$GONE0" ] ||
	fail "resources reported disappeared while the cloud was away: $(grep '^elava_resources_disappeared_total' "$tmp/scrape")"
proxy pass
poll "healthy once the cloud answers again" health_is healthy true success
[ "$hcode" = 200 ] || fail "healthy answers HTTP $hcode"
[ "$(metric_sum elava_resources_disappeared_total)" = "$GONE0" ] ||
	fail "resources reported disappeared after the outage: $(grep '^elava_resources_disappeared_total' "$tmp/scrape")"
el changes --store "$S3" --output json
expect_rc 0 "elava changes after the outage"
pycheck_file "no disappearance recorded for the outage" "$tmp/out" <<'EOF'
gone = [e["key"] for e in doc if e["change"] == "disappeared"]
if gone: fail(f"disappeared: {gone}")
EOF
el resources --store "$S3" --output json
[ "$(jget "$tmp/out" 'len(d)')" = "$N0" ] || fail "resources after the outage: $(jget "$tmp/out" 'len(d)'), before: $N0"
kill -TERM "$DPID"
daemon_exit
[ "$drc" = 0 ] || fail "outage: exit $drc"

section "3c. the cloud does not answer at start"
proxy reset
daemon_start coldstart "$(fport)" --store "$tmp/s3c" --interval 2s "${SCOPE_FLAGS[@]}"
if daemon_up "cloud down at start"; then
	poll "not healthy while the cloud never answered" not_success
	proxy pass
	poll "healthy once the cloud answers" health_is healthy true success
	kill -TERM "$DPID"
	daemon_exit
fi
proxy pass

# ============================================================ 4. signals
section "4a. SIGHUP"
C5="$tmp/c5.yaml"
write_c5() { # TYPES...
	{
		printf 'daemon:\n  reconciliation_interval: 2s\ncloud:\n  region: us-east-1\nscan:\n  types: [%s]\n' "$1"
	} >"$C5"
}
write_c5 ec2_instance
daemon_start hup "$(fport)" --config "$C5" --store "$tmp/s5"
daemon_up sighup && poll "an iteration" iterations_ge 1
expect_metric "$EC2_NOW" '==' 3 "scan.types from the file"
metric 'elava_resources_current{type="ebs_volume",region="us-east-1"}' >/dev/null
grep -q '^elava_resources_current{type="ebs_volume"' "$tmp/scrape" && fail "ebs_volume listed though scan.types has ec2_instance only"
write_c5 "ec2_instance, ebs_volume"
kill -HUP "$DPID"
poll "the log line 'configuration reloaded'" log_has "configuration reloaded from $C5"
poll "ebs_volume listed after the reload" \
	metric_cmp 'elava_resources_current{type="ebs_volume",region="us-east-1"}' '>=' 1
# a bad file: an unknown key on line 3
printf 'daemon:\n  reconciliation_interval: 2s\n  metric_port: 9\ncloud:\n  region: us-east-1\n' >"$C5"
it0=$(metric daemon_reconciliation_total)
kill -HUP "$DPID"
poll "the log line 'configuration reload rejected'" \
	log_has "configuration reload rejected, keeping the running one: $C5:3:"
alive "$DPID" || fail "the daemon died on a bad reload"
poll "iterations go on after a rejected reload" iterations_ge $((${it0:-0} + 2))
poll "healthy after a rejected reload" health_is healthy
kill -TERM "$DPID"
daemon_exit
[ "$drc" = 0 ] || fail "sighup: exit $drc"

section "4b. SIGTERM while a reload waits on the cloud"
printf 'daemon:\n  graceful_shutdown_timeout: 5s\n' >"$tmp/c4b.yaml"
daemon_start hupterm "$(fport)" --config "$tmp/c4b.yaml" --store "$tmp/s4b" --interval 1h "${SCOPE_FLAGS[@]}"
daemon_up "reload then SIGTERM" && poll "an iteration" iterations_ge 1
n0=$(held)
proxy hold
kill -HUP "$DPID"
if poll "the reload to wait on the held cloud" held_more; then
	kill -TERM "$DPID"
	daemon_exit
	[ "$drc" = 0 ] || fail "SIGTERM during a reload that waits on the cloud: exit $drc, expected 0: $(tail -3 "$DLOG")"
else
	kill -TERM "$DPID"
	daemon_exit
fi
proxy pass

section "4c. double SIGINT"
# SIGINT while a scan waits on the held cloud, then a second one once the
# first has been taken: exit 1 at once. If the graceful stop won the race
# (the process was gone before the second signal), try again.
double_done=
for attempt in 1 2 3; do
	daemon_start sigint$attempt "$(fport)" --store "$tmp/s4c$attempt" --interval 2s "${SCOPE_FLAGS[@]}"
	daemon_up "double SIGINT" || break
	poll "an iteration" iterations_ge 1
	n0=$(held)
	proxy hold
	poll "a scan to wait on the held cloud" held_more
	kill -INT "$DPID"
	poll "the first SIGINT to be taken" log_has "graceful shutdown initiated"
	# A process that already exited (a zombie, not yet reaped) still
	# takes a kill: that attempt lost the race.
	if ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$DPID/stat" 2>/dev/null &&
		kill -INT "$DPID" 2>/dev/null; then
		daemon_exit
		proxy pass
		[ "$drc" = 1 ] || fail "double SIGINT: exit $drc, expected 1: $(tail -3 "$DLOG")"
		expect_log "second Interrupt: exiting now" "double SIGINT"
		double_done=1
		break
	fi
	daemon_exit
	proxy pass
done
[ -n "$double_done" ] || fail "double SIGINT: the daemon always stopped before the second signal"

# ====================================================== 5. configuration
section "5. configuration"
GOOD="$tmp/good.yaml"
P_FILE=$(fport)
printf 'daemon:\n  reconciliation_interval: 1h\n  metrics_port: %s\n  listen: 127.0.0.1\ncloud:\n  region: us-east-1\nscan:\n  types: [ec2_instance]\n' "$P_FILE" >"$GOOD"
el config check "$GOOD"
expect_rc 0 "config check of a good file"
expect_out "metrics_port: $P_FILE  # $GOOD:3" "config check names the file and line"
expect_out "reconciliation_interval: 1h  # $GOOD:2" "config check shows the interval"
expect_out "graceful_shutdown_timeout: 30s  # default" "config check shows the defaults"
bad_config() { # WHAT EXPECTED-TEXT LINE (file content on stdin)
	cat >"$tmp/bad.yaml"
	el config check "$tmp/bad.yaml"
	expect_rc 1 "config check: $1"
	expect_err "$tmp/bad.yaml:$3:" "config check: $1 names file:line"
	expect_err "$2" "config check: $1"
}
printf 'daemon:\n  metric_port: 2112\n' | bad_config "an unknown key" "unknown key 'daemon.metric_port'" 2
printf 'daemon:\n  listen: 127.0.0.1\n  metrics_port: 70000\n' | bad_config "a port out of range" "'70000' is not a port" 3
printf 'scan:\n  types: [ec2_instance, no_such_type]\n' | bad_config "an unknown type" "no_such_type" 2
printf 'daemon:\n  reconciliation_interval: 5 minutes\n' | bad_config "a bad duration" "reconciliation_interval" 2

P_ENV=$(fport)
P_FLAG=$(fport)
ELAVA_METRICS_PORT=$P_ENV el config check "$GOOD"
expect_rc 0 "config check with ELAVA_METRICS_PORT"
expect_out "metrics_port: $P_ENV  # env ELAVA_METRICS_PORT" "config check: the environment beats the file"
# the port the daemon really binds: file, then env over file, then flag
# over both
bound_on() { # NAME PORT [serve args...]
	local name=$1
	DPORT=$2
	shift 2
	daemon_start "$name" - --config "$GOOD" --store "$tmp/s5p" "$@"
	if daemon_up "$name"; then
		grep -qF "Metrics server listening on 127.0.0.1:$DPORT" "$DLOG" ||
			fail "$name: the log does not say port $DPORT: $(grep -F 'listening' "$DLOG")"
		kill -TERM "$DPID"
		daemon_exit
		[ "$drc" = 0 ] || fail "$name: exit $drc"
	fi
}
bound_on port-file "$P_FILE"
ELAVA_METRICS_PORT=$P_ENV bound_on port-env "$P_ENV"
ELAVA_METRICS_PORT=$P_ENV bound_on port-flag "$P_FLAG" --metrics-port "$P_FLAG"

# the API token
TOKEN_VALUE="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$TOKEN_VALUE" >"$tmp/token"
chmod 600 "$tmp/token"
printf 'daemon:\n  api_token_file: %s\n' "$tmp/token" >"$tmp/tok.yaml"
daemon_start token "$(fport)" --config "$tmp/tok.yaml" --store "$tmp/s5t" --interval 1h "${SCOPE_FLAGS[@]}"
if daemon_up token && poll "an iteration" iterations_ge 1; then
	[ "$(hcode_of "$DURL/api/v1/scans")" = 401 ] || fail "API without a token: not 401: $(cat "$tmp/body")"
	[ "$(hcode_of -H "Authorization: Bearer wrong-$TOKEN_VALUE" "$DURL/api/v1/scans")" = 401 ] ||
		fail "API with a wrong token: not 401"
	[ "$(hcode_of -H "Authorization: Bearer $TOKEN_VALUE" "$DURL/api/v1/scans")" = 200 ] ||
		fail "API with the token: not 200: $(cat "$tmp/body")"
	grep -qF '"items"' "$tmp/body" || fail "API with the token: $(head -c 300 "$tmp/body")"
	for p in /metrics /health /ready; do
		[ "$(hcode_of "$DURL$p")" = 200 ] || fail "$p needs no token: HTTP $(hcode_of "$DURL$p")"
	done
	kill -TERM "$DPID"
	daemon_exit
	grep -qF "$TOKEN_VALUE" "$DLOG" && fail "the API token is in the log"
fi

# ========================================================= 6. bad input
section "6. bad input at start"
# serve_fails WHAT EXPECTED-EXIT TEXT ARGS...: the daemon refuses to start.
serve_fails() {
	local what=$1 want=$2 text=$3
	shift 3
	run timeout 120 "$ELAVA_BIN" serve --listen 127.0.0.1 "$@"
	expect_rc "$want" "$what"
	expect_err "$text" "$what"
}
python3 -c 'import socket,sys,time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$tmp/busy.port" &
pids+=($!)
busy_ready() { [ -s "$tmp/busy.port" ]; }
poll "a listener to hold a port" busy_ready
BUSY=$(cat "$tmp/busy.port")
serve_fails "a port in use" 1 "127.0.0.1:$BUSY" --metrics-port "$BUSY" --store "$tmp/s6" --interval 1h "${SCOPE_FLAGS[@]}"
expect_err "in use" "a port in use"
serve_fails "an unknown region" 1 "xx-nowhere-1" --metrics-port "$(fport)" --store "$tmp/s6" --interval 1h \
	--region xx-nowhere-1 --types ec2_instance
for iv in 0 garbage 50ms; do
	# (timeout: a daemon that accepts the value runs until killed)
	run timeout 60 "$ELAVA_BIN" serve --listen 127.0.0.1 --metrics-port "$(fport)" --store "$tmp/s6" \
		--interval "$iv" "${SCOPE_FLAGS[@]}"
	if [ "$rc" = 124 ]; then
		fail "--interval $iv: accepted, the daemon ran (docs/configuration.md: at least 100ms): $(head -c 300 "$tmp/err")"
		continue
	fi
	if [ "$rc" != 1 ] && [ "$rc" != 2 ]; then fail "--interval $iv: exit $rc, expected 1 or 2: $(both | head -c 400)"; fi
	grep -qE -- "--interval|reconciliation_interval" "$tmp/err" || fail "--interval $iv: the message does not name it: $(head -c 400 "$tmp/err")"
	grep -qF "'$iv'" "$tmp/err" || fail "--interval $iv: the message does not quote the value: $(head -c 400 "$tmp/err")"
done
serve_fails "an unknown flag" 2 "unknown" --no-such-flag
serve_fails "a missing config file" 1 "$tmp/none.yaml" --config "$tmp/none.yaml"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	OTHER="$tmp/s6other"
	el scan --store "$OTHER" --region us-east-1 --types ec2_instance
	if [ "$rc" -eq 0 ]; then
		chown -R nobody "$OTHER"
		serve_fails "a store of another user" 1 "$OTHER" --metrics-port "$(fport)" --store "$OTHER" --interval 1h "${SCOPE_FLAGS[@]}"
	else
		fail "fixture: elava scan into $OTHER: exit $rc: $(both | head -c 400)"
	fi
else
	echo "note: not root; the store-of-another-user case is not run"
fi

if [ "$failures" -gt 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all serve checks passed"
exit 0
