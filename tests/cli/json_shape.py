#!/usr/bin/env python3
"""Checks one command's `--output json` against the shapes in docs/cli.md.

    json_shape.py KIND [FILE] [--empty | --nonempty]

KIND is the command: scan, resources, history, changes, diff, scans, why
or compact. FILE (default: stdin) is the command's whole stdout, which must
be exactly one JSON document: an object for scan and compact, an array of
objects for the others. Every documented member must be there with its
JSON type; members the documentation does not list are allowed. Prints one
"json_shape: ..." line per problem and exits 1 if there is any, else 0.
--empty requires an empty array ([]), --nonempty a non-empty one.

Also imported by timetravel.py: validate(kind, doc) returns the problems.
"""
import json
import re
import sys

# RFC 3339, UTC, milliseconds (docs/cli.md, "Output").
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KEY_RE = re.compile(r"^aws:(\d{12}):([a-z0-9-]+):([a-z0-9_]+):(.+)$")
CHANGE_KINDS = ("created", "modified", "disappeared")
STATUSES = ("success", "partial", "failed")


class Checker:
    def __init__(self):
        self.problems = []

    def bad(self, where, what):
        self.problems.append(f"{where}: {what}")

    # -- scalar types --------------------------------------------------
    def typed(self, where, v, kind):
        """True if v has the JSON type `kind`; notes a problem if not."""
        ok = {
            "int": isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "bool": isinstance(v, bool),
            "string": isinstance(v, str),
            "nonempty": isinstance(v, str) and v != "",
            "object": isinstance(v, dict),
            "array": isinstance(v, list),
            "time": isinstance(v, str) and TIME_RE.match(v) is not None,
            "string|null": v is None or isinstance(v, str),
            "time|null": v is None or (isinstance(v, str) and TIME_RE.match(v) is not None),
            "any": True,
        }[kind]
        if not ok:
            self.bad(where, f"expected {kind}, got {json.dumps(v)[:80]}")
        return ok

    def members(self, where, obj, spec):
        """obj must be an object with every member of spec, of its type."""
        if not self.typed(where, obj, "object"):
            return False
        for name, kind in spec.items():
            if name not in obj:
                self.bad(where, f"member '{name}' missing")
                continue
            self.typed(f"{where}.{name}", obj[name], kind)
        return True

    def one_of(self, where, v, allowed):
        if v not in allowed:
            self.bad(where, f"{json.dumps(v)} is not one of {', '.join(allowed)}")

    def array_of(self, where, v, each):
        if not self.typed(where, v, "array"):
            return
        for i, item in enumerate(v):
            each(f"{where}[{i}]", item)

    # -- shared pieces -------------------------------------------------
    def key(self, where, key, typ=None):
        m = KEY_RE.match(key) if isinstance(key, str) else None
        if not m:
            self.bad(where, f"'{key}' is not aws:<account>:<region>:<type>:<id>")
        elif typ is not None and m.group(3) != typ:
            self.bad(where, f"key type '{m.group(3)}' differs from type '{typ}'")

    def error_item(self, where, e):
        self.members(where, e, {"error": "nonempty", "scope": "nonempty"})

    def counts(self):
        return {
            "baseline": "bool", "created": "int", "disappeared": "int",
            "duration_ms": "int", "end_time": "time", "error_count": "int",
            "errors": "array", "modified": "int", "resource_count": "int",
            "revision": "int", "scan_id": "int", "start_time": "time",
            "status": "string",
        }

    def scan_common(self, where, o):
        if not self.members(where, o, self.counts()):
            return
        self.one_of(f"{where}.status", o.get("status"), STATUSES)
        if isinstance(o.get("errors"), list):
            self.array_of(f"{where}.errors", o["errors"], self.error_item)
            if isinstance(o.get("error_count"), int) and o["error_count"] < len(o["errors"]):
                self.bad(where, "error_count is smaller than the errors listed")
        if o.get("revision") == 0:
            self.bad(f"{where}.revision", "revisions start at 1")
        st, et = o.get("start_time"), o.get("end_time")
        if isinstance(st, str) and isinstance(et, str) and TIME_RE.match(st) and TIME_RE.match(et) and et < st:
            self.bad(where, f"end_time {et} is before start_time {st}")

    # -- one per command -----------------------------------------------
    def scan(self, doc):
        spec = dict(self.counts(), types="array", unchanged="int")
        if not self.members("scan", doc, spec):
            return
        self.scan_common("scan", doc)

        def type_item(where, t):
            self.members(where, t, {"failed": "int", "listings": "int",
                                    "region": "nonempty", "resources": "int",
                                    "type": "nonempty"})
        self.array_of("scan.types", doc.get("types"), type_item)

    def resource(self, where, r):
        spec = {
            "key": "nonempty", "revision": "int", "time": "time",
            "account": "nonempty", "attributes": "object",
            "created_at": "time|null", "id": "nonempty",
            "name": "string|null", "provider": "nonempty",
            "region": "nonempty", "relationships": "array",
            "status": "string|null", "tags": "object", "type": "nonempty",
        }
        if not self.members(where, r, spec):
            return
        key = r.get("key")
        self.key(f"{where}.key", key, r.get("type"))
        if isinstance(key, str) and all(isinstance(r.get(m), str) for m in ("account", "region", "type", "id")):
            want = f"aws:{r['account']}:{r['region']}:{r['type']}:{r['id']}"
            if key != want:
                self.bad(f"{where}.key", f"'{key}' does not match its members ('{want}')")
        if isinstance(r.get("tags"), dict):
            for k, v in r["tags"].items():
                self.typed(f"{where}.tags.{k}", v, "string")

        def rel(w, x):
            if self.members(w, x, {"target": "nonempty", "type": "nonempty"}):
                self.key(f"{w}.target", x.get("target"))
        self.array_of(f"{where}.relationships", r.get("relationships"), rel)

    def change(self, where, c):
        spec = {"change": "string", "fields": "array", "key": "nonempty",
                "revision": "int", "time": "time", "type": "nonempty"}
        if not self.members(where, c, spec):
            return
        self.one_of(f"{where}.change", c.get("change"), CHANGE_KINDS)
        self.key(f"{where}.key", c.get("key"), c.get("type"))
        fields = c.get("fields")
        if not isinstance(fields, list):
            return
        if c.get("change") != "modified" and fields:
            self.bad(f"{where}.fields", f"not empty for a '{c.get('change')}' event")

        def field(w, f):
            if self.members(w, f, {"path": "nonempty", "old": "any", "new": "any"}):
                if f.get("old") == f.get("new"):
                    self.bad(w, f"old and new are equal ({json.dumps(f.get('old'))[:60]})")
        self.array_of(f"{where}.fields", fields, field)

    def scan_meta(self, where, m):
        spec = dict(self.counts(), scopes_complete="int", scopes_failed="int")
        if self.members(where, m, spec):
            self.scan_common(where, m)

    def wal_entry(self, where, e):
        spec = {"seq": "int", "ts": "time", "type": "nonempty",
                "instance": "string", "revision": "int",
                "resource": "string|null", "data": "object",
                "prev": "nonempty", "hash": "nonempty"}
        if not self.members(where, e, spec):
            return
        if e.get("type") == "observed":
            if e.get("resource") is not None:
                self.bad(f"{where}.resource", "an observed entry names no resource")
            d = e.get("data")
            dspec = {"baseline": "bool", "created": "int", "disappeared": "int",
                     "duration_ms": "int", "error_count": "int", "modified": "int",
                     "resource_count": "int", "scan_id": "int",
                     "scopes": "array", "status": "string"}
            if self.members(f"{where}.data", d, dspec):
                self.one_of(f"{where}.data.status", d.get("status"), STATUSES)

                def scope(w, s):
                    if self.members(w, s, {"resources": "int", "scope": "nonempty",
                                           "status": "string"}):
                        self.one_of(f"{w}.status", s.get("status"), ("complete", "failed"))
                self.array_of(f"{where}.data.scopes", d.get("scopes"), scope)

    def compact(self, doc):
        self.members("compact", doc, {
            "changes_removed": "int", "compacted_revision": "int",
            "keys_removed": "int", "revision": "int",
            "versions_removed": "int"})


ARRAY_ITEM = {
    "resources": "resource",
    "history": "change",
    "changes": "change",
    "diff": "change",
    "scans": "scan_meta",
    "why": "wal_entry",
}
KINDS = ("scan", "compact") + tuple(ARRAY_ITEM)


def validate(kind, doc):
    """The problems of doc as `elava <kind> --output json`."""
    c = Checker()
    if kind == "scan":
        c.scan(doc)
    elif kind == "compact":
        c.compact(doc)
    elif kind in ARRAY_ITEM:
        if not isinstance(doc, list):
            c.bad(kind, f"expected an array, got {type(doc).__name__}")
        else:
            each = getattr(c, ARRAY_ITEM[kind])
            for i, item in enumerate(doc):
                each(f"{kind}[{i}]", item)
            if kind in ("history", "changes"):
                revs = [x.get("revision") for x in doc if isinstance(x, dict)]
                if all(isinstance(r, int) for r in revs) and revs != sorted(revs):
                    c.bad(kind, f"not oldest first: revisions {revs}")
            if kind == "scans":
                revs = [x.get("revision") for x in doc if isinstance(x, dict)]
                if all(isinstance(r, int) for r in revs) and revs != sorted(revs, reverse=True):
                    c.bad(kind, f"not newest first: revisions {revs}")
            if kind == "why":
                seqs = [x.get("seq") for x in doc if isinstance(x, dict)]
                if all(isinstance(s, int) for s in seqs) and seqs != sorted(seqs):
                    c.bad(kind, f"not oldest first: seqs {seqs}")
    else:
        c.bad(kind, "unknown kind")
    return c.problems


def parse(text):
    """The one JSON document in text, or raises ValueError."""
    dec = json.JSONDecoder()
    stripped = text.lstrip()
    doc, end = dec.raw_decode(stripped)
    if stripped[end:].strip():
        raise ValueError(f"more than one JSON document (trailing: {stripped[end:end + 40]!r})")
    return doc


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = [a for a in argv[1:] if a.startswith("--")]
    if not args or args[0] not in KINDS or len(args) > 2 or \
            any(f not in ("--empty", "--nonempty") for f in flags):
        print(f"usage: json_shape.py {{{'|'.join(KINDS)}}} [FILE] [--empty|--nonempty]",
              file=sys.stderr)
        return 2
    kind = args[0]
    text = open(args[1], encoding="utf-8").read() if len(args) == 2 else sys.stdin.read()
    try:
        doc = parse(text)
    except ValueError as e:
        print(f"json_shape: {kind}: not one JSON document: {e}; output: {text[:200]!r}")
        return 1
    problems = validate(kind, doc)
    if "--empty" in flags and doc != []:
        problems.append(f"{kind}: expected [], got {len(doc) if isinstance(doc, list) else 'an object'} item(s)")
    if "--nonempty" in flags and not (isinstance(doc, list) and doc):
        problems.append(f"{kind}: expected a non-empty array")
    for p in problems:
        print(f"json_shape: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
