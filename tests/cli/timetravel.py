#!/usr/bin/env python3
"""Time travel, checked against a known history (run by test_timetravel.sh).

Twelve scans of a small account on the AWS emulator, with a known change
before each: instances started, stopped, renamed, retagged and terminated;
buckets and queues created, retagged and deleted, and a bucket and a queue
deleted and created again under the same name. After each scan the test
records what it expects the inventory to be (key -> name, status, tags).
Then every query command is asked about every point of that history and
compared with the expectation:

  resources --at N / --at TIME / --at AGE, changes --since/--until windows,
  diff A B, history, why, scans; then compact --keep 3 and what is left.

Environment: ELAVA_BIN, MOTO_URL (a fresh moto), WORK (an empty directory),
and the AWS_* variables the scan needs. Prints one "FAIL: ..." line per
failed check; exits 1 if any, 0 otherwise.
"""
import contextlib
import copy
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json_shape  # noqa: E402

ELAVA = os.environ["ELAVA_BIN"]
MOTO = os.environ["MOTO_URL"]
WORK = os.environ["WORK"]
STORE = os.path.join(WORK, "store")
ACCT = "123456789012"
REGION = "us-east-1"
TYPES = "ec2_instance,s3_bucket,sqs_queue"
AMI = "ami-12c6146b"

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}", flush=True)


class Fixture(Exception):
    pass


# ------------------------------------------------------------------ awscli
# awscli's own entry point in this process when it can be imported (an
# `aws` process costs ~0.5 s of start-up), else the `aws` command.
try:
    from awscli.clidriver import create_clidriver
except ImportError:  # pragma: no cover - depends on the machine
    create_clidriver = None
_loader = None


def aws(*args):
    global _loader
    argv = ["--endpoint-url", MOTO, "--region", REGION, "--output", "json", *args]
    if create_clidriver is not None:
        driver = create_clidriver()
        if _loader is None:
            _loader = driver.session.get_component("data_loader")
        else:
            driver.session.register_component("data_loader", _loader)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = driver.main(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 2
        out, err = out.getvalue(), err.getvalue()
    else:
        p = subprocess.run(["aws", *argv], capture_output=True, text=True)
        rc, out, err = p.returncode, p.stdout, p.stderr
    if rc:
        raise Fixture(f"aws {' '.join(args)} -> exit {rc}: {err[:800]}")
    return json.loads(out) if out.strip() else None


# ------------------------------------------------------------------- elava
def elava(*args, store=True):
    cmd = [ELAVA, *args] + (["--store", STORE] if store else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def query(kind, *args, what=None):
    """`elava <kind> ... --output json`, checked for exit 0 and its shape."""
    what = what or f"{kind} {' '.join(args)}"
    rc, out, err = elava(kind, *args, "--output", "json")
    if rc != 0:
        fail(f"{what}: exit {rc}: {err.strip()[:500]}")
        return None
    try:
        doc = json_shape.parse(out)
    except ValueError as e:
        fail(f"{what}: not one JSON document: {e}")
        return None
    for p in json_shape.validate(kind, doc):
        fail(f"{what}: shape: {p}")
    return doc


def expect_error(args, code, words, what):
    rc, out, err = elava(*args)
    if rc != code:
        fail(f"{what}: exit {rc}, expected {code}; stderr: {err.strip()[:300]}")
    for w in words:
        if w.lower() not in err.lower():
            fail(f"{what}: no '{w}' in the message: {err.strip()[:300]}")


# ------------------------------------------------------------------- model
def key(typ, rid):
    return f"aws:{ACCT}:{REGION}:{typ}:{rid}"


class Account:
    """What the test did to the account, as Elava should see it."""

    def __init__(self):
        self.inv = {}          # key -> {"name", "status", "tags"}
        self.queue_urls = {}

    # instances
    def run_instance(self, name, **tags):
        tags = {"Name": name, **tags}
        spec = "ResourceType=instance,Tags=[" + ",".join(
            f"{{Key={k},Value={v}}}" for k, v in tags.items()) + "]"
        r = aws("ec2", "run-instances", "--image-id", AMI, "--instance-type",
                "t3.micro", "--tag-specifications", spec)
        iid = r["Instances"][0]["InstanceId"]
        self.inv[key("ec2_instance", iid)] = {"name": name, "status": "running", "tags": tags}
        return iid

    def instance_tags(self, iid, add=None, remove=()):
        k = self.inv[key("ec2_instance", iid)]
        if add:
            aws("ec2", "create-tags", "--resources", iid, "--tags",
                *[f"Key={a},Value={b}" for a, b in add.items()])
            k["tags"].update(add)
        if remove:
            aws("ec2", "delete-tags", "--resources", iid, "--tags", *[f"Key={a}" for a in remove])
            for a in remove:
                k["tags"].pop(a, None)
        k["name"] = k["tags"].get("Name")

    def instance_state(self, iid, verb, state):
        aws("ec2", f"{verb}-instances", "--instance-ids", iid)
        self.inv[key("ec2_instance", iid)]["status"] = state

    # buckets
    def create_bucket(self, name, **tags):
        aws("s3api", "create-bucket", "--bucket", name)
        if tags:
            self._bucket_tagging(name, tags)
        self.inv[key("s3_bucket", name)] = {"name": name, "status": None, "tags": dict(tags)}

    def _bucket_tagging(self, name, tags):
        aws("s3api", "put-bucket-tagging", "--bucket", name, "--tagging",
            json.dumps({"TagSet": [{"Key": a, "Value": b} for a, b in tags.items()]}))

    def bucket_tags(self, name, **tags):
        self._bucket_tagging(name, tags)
        self.inv[key("s3_bucket", name)]["tags"] = dict(tags)

    def delete_bucket(self, name):
        aws("s3api", "delete-bucket", "--bucket", name)
        del self.inv[key("s3_bucket", name)]

    # queues
    def create_queue(self, name, **tags):
        args = ["sqs", "create-queue", "--queue-name", name]
        if tags:
            args += ["--tags", json.dumps(tags)]
        self.queue_urls[name] = aws(*args)["QueueUrl"]
        self.inv[key("sqs_queue", name)] = {"name": name, "status": None, "tags": dict(tags)}

    def tag_queue(self, name, **tags):
        aws("sqs", "tag-queue", "--queue-url", self.queue_urls[name], "--tags",
            json.dumps(tags))
        self.inv[key("sqs_queue", name)]["tags"].update(tags)

    def untag_queue(self, name, *keys):
        aws("sqs", "untag-queue", "--queue-url", self.queue_urls[name], "--tag-keys", *keys)
        for k in keys:
            self.inv[key("sqs_queue", name)]["tags"].pop(k, None)

    def delete_queue(self, name):
        aws("sqs", "delete-queue", "--queue-url", self.queue_urls.pop(name))
        del self.inv[key("sqs_queue", name)]


def tracked_fields(old, new):
    """{path: (old, new)} of the tracked members that differ."""
    out = {}
    for m in ("name", "status"):
        if old[m] != new[m]:
            out[m] = (old[m], new[m])
    for t in sorted(set(old["tags"]) | set(new["tags"])):
        a, b = old["tags"].get(t), new["tags"].get(t)
        if a != b:
            out[f"tags.{t}"] = (a, b)
    return out


def state_diff(a, b):
    """{key: (change, tracked fields)} from inventory a to inventory b."""
    out = {}
    for k in a.keys() - b.keys():
        out[k] = ("disappeared", {})
    for k in b.keys() - a.keys():
        out[k] = ("created", {})
    for k in a.keys() & b.keys():
        f = tracked_fields(a[k], b[k])
        if f:
            out[k] = ("modified", f)
    return out


def tracked(path):
    return path in ("name", "status") or path.startswith("tags.")


def check_event(what, e, change, fields, strict=True):
    """e (a JSON event) against the expected change and tracked fields."""
    if e.get("change") != change:
        fail(f"{what}: {e.get('key')}: change '{e.get('change')}', expected '{change}'")
        return
    got = {f["path"]: (f.get("old"), f.get("new")) for f in e.get("fields", [])}
    for p, v in fields.items():
        if got.get(p) != v:
            fail(f"{what}: {e.get('key')}: field {p} is {got.get(p, 'absent')}, expected {v}")
    if strict:
        extra = [p for p in got if tracked(p) and p not in fields]
        if extra:
            fail(f"{what}: {e.get('key')}: unexpected changed fields {extra}")


# ------------------------------------------------------------------ helpers
def parse_time(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def fmt_time(t, offset_hours=0):
    if offset_hours:
        tz = dt.timezone(dt.timedelta(hours=offset_hours))
        s = t.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return s + f"{offset_hours:+03d}:00"
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


MS = dt.timedelta(milliseconds=1)


def main():
    acct = Account()
    expected = {0: {}}    # revision -> inventory after that scan
    steps = {}             # revision -> what changed before it (for messages)

    def scan(n, note):
        time.sleep(0.05)   # distinct times around each scan, to the ms
        rc, out, err = elava("scan", "--region", REGION, "--types", TYPES, "--output", "json")
        if rc != 0:
            raise Fixture(f"scan {n} ({note}): exit {rc}: {err.strip()[:500]}")
        doc = json_shape.parse(out)
        for p in json_shape.validate("scan", doc):
            fail(f"scan {n}: shape: {p}")
        if doc.get("revision") != n:
            raise Fixture(f"scan {n} ({note}) recorded revision {doc.get('revision')}")
        expected[n] = copy.deepcopy(acct.inv)
        steps[n] = note
        time.sleep(0.05)

    # ---------------------------------------------- the scripted history
    i1 = acct.run_instance("tt-web-1", Env="dev")
    i2 = acct.run_instance("tt-web-2")
    acct.create_bucket("tt-logs", Env="dev")
    acct.create_bucket("tt-data")
    acct.create_queue("tt-orders", team="a")
    scan(1, "baseline: two instances, two buckets, a queue")

    acct.create_queue("tt-events")
    acct.instance_tags(i1, add={"Owner": "alice"})
    scan(2, "queue tt-events created; web-1 tagged Owner=alice")

    acct.instance_state(i2, "stop", "stopped")
    acct.bucket_tags("tt-data", Env="prod")
    scan(3, "web-2 stopped; tt-data tagged")

    acct.create_bucket("tt-phoenix")
    acct.instance_tags(i1, add={"Name": "tt-web-1b"})
    scan(4, "bucket tt-phoenix created; web-1 renamed")

    acct.delete_queue("tt-orders")
    acct.instance_tags(i1, add={"Owner": "bob"})
    scan(5, "queue tt-orders deleted; web-1 Owner=bob")

    acct.delete_bucket("tt-phoenix")
    acct.tag_queue("tt-events", tier="gold")
    scan(6, "bucket tt-phoenix deleted; tt-events tagged")

    acct.instance_state(i2, "start", "running")
    i3 = acct.run_instance("tt-web-3")
    scan(7, "web-2 started; web-3 created")

    acct.create_bucket("tt-phoenix", Gen="2")
    scan(8, "bucket tt-phoenix created again (same name)")

    scan(9, "nothing changed")

    acct.instance_tags(i1, remove=["Env"])
    acct.untag_queue("tt-events", "tier")
    scan(10, "web-1 lost its Env tag; tt-events untagged")

    acct.create_queue("tt-orders")
    acct.instance_state(i3, "terminate", "terminated")
    scan(11, "queue tt-orders created again (same name); web-3 terminated")

    acct.instance_state(i2, "stop", "stopped")
    acct.delete_bucket("tt-logs")
    scan(12, "web-2 stopped again; bucket tt-logs deleted")
    last = 12

    # Expected events of each revision, and each key's versions.
    events = {n: state_diff(expected[n - 1], expected[n]) for n in range(1, last + 1)}
    versions = {}  # key -> [(revision, change)]
    for n in range(1, last + 1):
        for k, (c, _) in sorted(events[n].items()):
            versions.setdefault(k, []).append((n, c))

    def last_change(k, n):
        revs = [r for r, _ in versions.get(k, []) if r <= n]
        return revs[-1] if revs else None

    # ------------------------------------------------------------- scans
    scans = query("scans") or []
    by_rev = {s.get("revision"): s for s in scans}
    if [s.get("revision") for s in scans] != list(range(last, 0, -1)):
        fail(f"scans: revisions {[s.get('revision') for s in scans]}, expected {last}..1 newest first")
    if [s.get("scan_id") for s in scans] != list(range(last, 0, -1)):
        fail(f"scans: scan ids {[s.get('scan_id') for s in scans]}, expected {last}..1")
    for n in range(1, last + 1):
        s = by_rev.get(n)
        if not s:
            continue
        cnt = {c: sum(1 for x, _ in events[n].values() if x == c)
               for c in ("created", "modified", "disappeared")}
        got = {c: s.get(c) for c in cnt}
        if got != cnt:
            fail(f"scans: revision {n} ({steps[n]}): counts {got}, expected {cnt}")
        if s.get("resource_count") != len(expected[n]):
            fail(f"scans: revision {n}: resource_count {s.get('resource_count')}, expected {len(expected[n])}")
        if s.get("baseline") is not (n == 1):
            fail(f"scans: revision {n}: baseline {s.get('baseline')}")
        if s.get("status") != "success" or s.get("error_count") != 0:
            fail(f"scans: revision {n}: status {s.get('status')}, {s.get('error_count')} errors")
    rc, out, _ = elava("scans", "--limit", "3", "--output", "json")
    if rc != 0 or [s.get("revision") for s in json.loads(out or "[]")] != [12, 11, 10]:
        fail(f"scans --limit 3: exit {rc}, {out[:200]}")
    if len(by_rev) != last:
        raise Fixture("no usable scan list: the time checks need it")
    start = {n: parse_time(by_rev[n]["start_time"]) for n in by_rev}
    end = {n: parse_time(by_rev[n]["end_time"]) for n in by_rev}
    for n in range(1, last):
        if not end[n] < start[n + 1]:
            fail(f"scans: revision {n} ends ({end[n]}) after {n + 1} starts ({start[n + 1]})")

    # ------------------------------------------------------ inventories
    def check_inventory(doc, n, what):
        if doc is None:
            return
        want = expected[n]
        got = {r.get("key"): r for r in doc}
        if len(got) != len(doc):
            fail(f"{what}: a key listed twice")
        missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
        if missing or extra:
            fail(f"{what}: missing {missing}, unexpected {extra} (revision {n}: {steps[n]})")
        for k in want.keys() & got.keys():
            r, w = got[k], want[k]
            have = {"name": r.get("name"), "status": r.get("status"), "tags": r.get("tags")}
            if have != w:
                fail(f"{what}: {k}: {have}, expected {w}")
            lc = last_change(k, n)
            if r.get("revision") != lc:
                fail(f"{what}: {k}: version of revision {r.get('revision')}, expected {lc} (its last change at or before {n})")
            elif lc in by_rev and r.get("time") != by_rev[lc]["end_time"]:
                fail(f"{what}: {k}: time {r.get('time')}, expected revision {lc}'s {by_rev[lc]['end_time']}")

    at_rev_text = {}
    for n in range(1, last + 1):
        rc, out, err = elava("resources", "--at", str(n), "--output", "json")
        at_rev_text[n] = out
        doc = query("resources", "--at", str(n))
        check_inventory(doc, n, f"resources --at {n}")
        # times: just after scan n ended, half way to the next, just before it
        if n < last:
            gap = [end[n] + MS, end[n] + (start[n + 1] - end[n]) / 2, start[n + 1] - MS]
            gap = [t for t in gap if end[n] < t < start[n + 1]]
        else:
            gap = [end[n] + MS]
        for j, t in enumerate(gap):
            for off in ((0, 2) if j == 1 else (0,)):
                arg = fmt_time(t, off)
                rc2, out2, err2 = elava("resources", "--at", arg, "--output", "json")
                if rc2 != 0 or out2 != out:
                    fail(f"resources --at {arg} (after scan {n} ended at {by_rev[n]['end_time']}): "
                         f"exit {rc2}, {'same' if out2 == out else 'differs from --at ' + str(n)}; {err2.strip()[:200]}")
        if n >= 2:
            arg = fmt_time(start[n] - MS)
            rc2, out2, _ = elava("resources", "--at", arg, "--output", "json")
            if rc2 != 0 or out2 != at_rev_text.get(n - 1):
                fail(f"resources --at {arg} (just before scan {n} started): not revision {n - 1}")
    now_doc = query("resources")
    check_inventory(now_doc, last, "resources (now)")
    # filters on a past revision
    doc = query("resources", "--at", "7", "--type", "sqs_queue")
    if doc is not None:
        want = sorted(k for k in expected[7] if ":sqs_queue:" in k)
        if sorted(r["key"] for r in doc) != want:
            fail(f"resources --at 7 --type sqs_queue: {sorted(r['key'] for r in doc)}, expected {want}")
    doc = query("resources", "--at", "3", "--tag", "Env=prod")
    if doc is not None and sorted(r["key"] for r in doc) != [key("s3_bucket", "tt-data")]:
        fail(f"resources --at 3 --tag Env=prod: {[r['key'] for r in doc]}")

    # seconds-precision time after the last scan, and ages
    after = (end[last] + dt.timedelta(seconds=1)).replace(microsecond=0)
    rc, out, err = elava("resources", "--at", after.strftime("%Y-%m-%dT%H:%M:%SZ"), "--output", "json")
    if rc != 0 or out != at_rev_text[last]:
        fail(f"resources --at {after:%Y-%m-%dT%H:%M:%SZ} (after the last scan): exit {rc}, {err.strip()[:200]}")
    for age in ("0s", "0m"):
        rc, out, err = elava("resources", "--at", age, "--output", "json")
        if rc != 0 or out != at_rev_text[last]:
            fail(f"resources --at {age}: exit {rc}, not the newest revision; {err.strip()[:200]}")
    for age in ("2h", "1h30m", "7d"):
        expect_error(["resources", "--at", age], 1, [], f"resources --at {age} (before the first scan)")
    first_minus = fmt_time(start[1] - dt.timedelta(seconds=1))
    expect_error(["resources", "--at", first_minus], 1, [], f"resources --at {first_minus} (before the first scan)")
    expect_error(["resources", "--at", str(last + 1)], 1, [str(last + 1)], "resources --at newest+1")

    # ---------------------------------------------------------- changes
    def window_events(a, b, baseline=False):
        """Expected events in (a, b] as {(revision, key): (change, fields)}."""
        out = {}
        for n in range(a + 1, b + 1):
            if n == 1 and not baseline:
                continue
            for k, v in events[n].items():
                out[(n, k)] = v
        return out

    def check_changes(doc, want, what):
        if doc is None:
            return
        got = {(e.get("revision"), e.get("key")): e for e in doc}
        if len(got) != len(doc):
            fail(f"{what}: an event listed twice")
        missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
        if missing or extra:
            fail(f"{what}: missing {missing}, unexpected {extra}")
        for rk in want.keys() & got.keys():
            e = got[rk]
            check_event(what, e, *want[rk])
            if rk[0] in by_rev and e.get("time") != by_rev[rk[0]]["end_time"]:
                fail(f"{what}: {rk}: time {e.get('time')}, expected revision {rk[0]}'s end {by_rev[rk[0]]['end_time']}")
        revs = [e.get("revision") for e in doc]
        if revs != sorted(revs):
            fail(f"{what}: not oldest first: {revs}")

    def mid(n):  # a time between scan n and scan n+1
        return fmt_time(end[n] + (start[n + 1] - end[n]) / 2)

    windows = [(None, None), (1, 4), (2, 5), (4, last), (6, 7), (8, 9), (9, None), (None, 4), (3, 11)]
    for a, b in windows:
        args = (["--since", str(a)] if a is not None else []) + (["--until", str(b)] if b is not None else [])
        doc = query("changes", *args)
        check_changes(doc, window_events(a or 0, b or last), f"changes {' '.join(args) or '(all)'}")
        if a is not None and b is not None and a < last and b < last:
            targs = ["--since", mid(a), "--until", mid(b)]
            tdoc = query("changes", *targs, what=f"changes --since <after scan {a}> --until <after scan {b}>")
            if tdoc is not None and doc is not None and tdoc != doc:
                fail(f"changes by time ({a}, {b}] differs from changes --since {a} --until {b}")
    doc = query("changes", "--until", "3", "--include-baseline")
    check_changes(doc, window_events(0, 3, baseline=True), "changes --until 3 --include-baseline")
    doc = query("changes", "--since", "2h")
    check_changes(doc, window_events(0, last), "changes --since 2h (from the beginning)")
    doc = query("changes", "--since", fmt_time(start[1] - dt.timedelta(seconds=5)), "--include-baseline")
    check_changes(doc, window_events(0, last, baseline=True), "changes --since <before the first scan> --include-baseline")
    for c in ("created", "modified", "disappeared"):
        doc = query("changes", "--change", c, "--since", "1")
        want = {rk: v for rk, v in window_events(1, last).items() if v[0] == c}
        check_changes(doc, want, f"changes --change {c}")
    doc = query("changes", "--type", "s3_bucket", "--since", "1")
    want = {rk: v for rk, v in window_events(1, last).items() if ":s3_bucket:" in rk[1]}
    check_changes(doc, want, "changes --type s3_bucket")
    expect_error(["changes", "--since", "5", "--until", "5"], 2, [], "changes --since 5 --until 5")
    expect_error(["changes", "--since", "6", "--until", "3"], 2, [], "changes --since 6 --until 3")
    expect_error(["changes", "--until", "2h"], 1, [], "changes --until 2h (before the first scan)")

    # ------------------------------------------------------------- diff
    def check_diff(a, b, doc, what):
        if doc is None:
            return
        want = state_diff(expected[a], expected[b])
        touched = {k for n in range(a + 1, b + 1) for k in events[n]}
        got = {}
        bad_rev, bad_time = [], []
        for e in doc:
            if e.get("key") in got:
                fail(f"{what}: {e.get('key')} listed twice")
            got[e.get("key")] = e
            if e.get("revision") != b:
                bad_rev.append((e.get("key"), e.get("revision")))
            if e.get("time") != by_rev[b]["end_time"]:
                bad_time.append((e.get("key"), e.get("time")))
        if bad_rev:
            fail(f"{what}: revision is not B's ({b}) for {bad_rev}")
        if bad_time:
            fail(f"{what}: time is not B's ({by_rev[b]['end_time']}) for {bad_time}")
        missing = sorted(want.keys() - got.keys())
        if missing:
            fail(f"{what}: missing {missing}")
        for k, e in got.items():
            if k in want:
                check_event(what, e, *want[k])
            elif k in touched and k in expected[a] and k in expected[b] and e.get("change") == "modified":
                # changed and changed back: only untracked attributes may differ
                check_event(what, e, "modified", {})
            else:
                fail(f"{what}: unexpected {e.get('change')} of {k}")

    pairs = [(1, last), (2, 7), (3, 8), (4, 8), (5, 11), (1, 5), (8, 9), (6, 6), (10, 12)]
    diff_text = {}
    for a, b in pairs:
        doc = query("diff", str(a), str(b))
        check_diff(a, b, doc, f"diff {a} {b}")
        _, diff_text[(a, b)], _ = elava("diff", str(a), str(b), "--output", "json")
        if doc is not None and a == b and doc != []:
            fail(f"diff {a} {b}: not empty")
    tdoc = query("diff", mid(2), mid(7), what="diff <after scan 2> <after scan 7>")
    if tdoc is not None and json.dumps(tdoc) != json.dumps(json.loads(diff_text[(2, 7)] or "null")):
        fail("diff by times differs from diff 2 7")
    expect_error(["diff", "7", "2"], 2, [], "diff 7 2")
    expect_error(["diff", "2h", "3"], 1, [], "diff 2h 3 (before the first scan)")

    # --------------------------------------------------- history and why
    follow = {
        key("ec2_instance", i1): "web-1 (retagged, renamed)",
        key("ec2_instance", i2): "web-2 (stopped, started, stopped)",
        key("ec2_instance", i3): "web-3 (created, terminated)",
        key("s3_bucket", "tt-phoenix"): "tt-phoenix (created, deleted, created)",
        key("sqs_queue", "tt-orders"): "tt-orders (deleted, created again)",
        key("s3_bucket", "tt-logs"): "tt-logs (deleted)",
        key("s3_bucket", "tt-data"): "tt-data",
    }
    history_text = {}
    for k, label in follow.items():
        rid = k.rsplit(":", 1)[1]
        doc = query("history", rid, what=f"history {rid}")
        _, history_text[k], _ = elava("history", k, "--output", "json")
        if doc is None:
            continue
        got = [(e.get("revision"), e.get("change")) for e in doc]
        if got != versions[k]:
            fail(f"history of {label}: {got}, expected {versions[k]}")
        for e in doc:
            n = e.get("revision")
            if e.get("key") != k:
                fail(f"history of {label}: an entry of {e.get('key')}")
            elif n in events and k in events[n]:
                check_event(f"history of {label}", e, *events[n][k])
        why = query("why", rid, what=f"why {rid}")
        if why is not None:
            wr = [(e.get("type"), e.get("revision")) for e in why]
            if wr != [("observed", n) for n, _ in versions[k]]:
                fail(f"why of {label}: {wr}, expected an observed entry for each of {[n for n, _ in versions[k]]}")
    phoenix = [c for _, c in versions[key("s3_bucket", "tt-phoenix")]]
    if phoenix != ["created", "disappeared", "created"]:
        fail(f"the script itself: tt-phoenix versions {phoenix}")

    rc, out, err = elava("wal", "verify")
    if rc != 0:
        fail(f"wal verify: exit {rc}: {(out + err).strip()[:300]}")

    # ---------------------------------------------------------- compact
    keep = 3
    first_kept = last - keep + 1
    changes_text = elava("changes", "--since", str(first_kept), "--output", "json")[1]
    doc = query("compact", "--keep", str(keep))
    if doc is not None:
        if doc.get("revision") != last or doc.get("compacted_revision") != first_kept:
            fail(f"compact --keep {keep}: {doc}, expected revision {last}, compacted_revision {first_kept}")
        if not doc.get("versions_removed") or not doc.get("changes_removed"):
            fail(f"compact --keep {keep}: nothing removed: {doc}")
    for n in (1, first_kept - 1):
        expect_error(["resources", "--at", str(n)], 1, ["compacted"], f"resources --at {n} after compact --keep {keep}")
    for n in range(first_kept, last + 1):
        rc, out, err = elava("resources", "--at", str(n), "--output", "json")
        if rc != 0 or out != at_rev_text[n]:
            fail(f"resources --at {n} after compacting: exit {rc}, {'same' if out == at_rev_text[n] else 'answer differs'}; {err.strip()[:200]}")
    rc, out, err = elava("changes", "--since", str(first_kept), "--output", "json")
    if rc != 0 or out != changes_text:
        fail(f"changes --since {first_kept} after compacting: exit {rc}, {'same' if out == changes_text else 'differs'}; {err.strip()[:200]}")
    for a, b in ((first_kept, last), (last - 1, last)):
        rc, out, err = elava("diff", str(a), str(b), "--output", "json")
        if (a, b) in diff_text and (rc != 0 or out != diff_text[(a, b)]):
            fail(f"diff {a} {b} after compacting: exit {rc}; {err.strip()[:200]}")
        elif (a, b) not in diff_text:
            d = query("diff", str(a), str(b))
            check_diff(a, b, d, f"diff {a} {b} after compacting")
    check_inventory(query("resources"), last, "resources (now) after compacting")
    for k, label in follow.items():
        if k not in expected[last]:
            continue
        doc = query("history", k, what=f"history {k} after compacting")
        if doc is None:
            continue
        before = json.loads(history_text[k])
        if not doc:
            fail(f"history of {label} after compacting: empty (it is live; its latest version must stay)")
            continue
        # Entries of kept revisions are as they were. The version current
        # at the compacted revision is kept, so its entry stays (revision,
        # time, kind); its fields compared it with a version that is gone,
        # so they may be left out.
        strip = lambda e: {m: e.get(m) for m in ("change", "key", "revision", "time", "type")}
        kept = [e for e in before if e["revision"] > first_kept]
        if kept and doc[-len(kept):] != kept:
            fail(f"history of {label} after compacting: entries of revisions {first_kept + 1}-{last} differ: {doc}")
        old = [e for e in before if e["revision"] <= first_kept]
        if old and old[-1]["change"] != "disappeared" and not any(strip(e) == strip(old[-1]) for e in doc):
            fail(f"history of {label} after compacting: the version current at revision {first_kept} "
                 f"(recorded at {old[-1]['revision']}) is not shown: {doc}")
        if strip(doc[-1]) != strip(before[-1]):
            fail(f"history of {label} after compacting: latest entry {doc[-1]}, expected {before[-1]}")
    scans2 = query("scans")
    if scans2 is not None and [s.get("revision") for s in scans2] != list(range(last, 0, -1)):
        fail(f"scans after compacting: {[s.get('revision') for s in scans2]}, expected all {last} (metadata is kept)")
    rc, out, err = elava("wal", "verify")
    if rc != 0:
        fail(f"wal verify after compacting: exit {rc}: {(out + err).strip()[:300]}")


if __name__ == "__main__":
    try:
        main()
    except Fixture as e:
        fail(f"fixture: {e}")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("timetravel: all checks passed")
