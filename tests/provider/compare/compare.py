#!/usr/bin/env python3
"""Compare what Elava lists with what awscli reports, type by type.

usage: compare.py FIXTURE_DIR ELAVA_JSONL [TYPE...]

FIXTURE_DIR holds <type>.json files written by fixtures.sh:
  {"type": T, "region": R, "items": [awscli item, Tags as {key: value}]}
ELAVA_JSONL is `elava debug list --output json` (one resource per line).
Each group module (ec2.py, query.py, json_rest.py) maps a type to a check
function check(aws_items, elava_resources) -> [error strings]; common.py
has the helpers. Exit 0 when every requested type matches, 1 otherwise.
"""
import importlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
GROUPS = ["ec2", "query", "json_rest"]


def load_checks():
    checks = {}
    for g in GROUPS:
        try:
            mod = importlib.import_module(g)
        except ModuleNotFoundError:
            continue
        checks.update(getattr(mod, "TYPES", {}))
    return checks


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    fixture_dir, jsonl = sys.argv[1], sys.argv[2]
    wanted = sys.argv[3:]
    by_type = {}
    with open(jsonl) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                by_type.setdefault(r["type"], []).append(r)
    checks = load_checks()
    types = wanted or sorted(checks)
    failed = 0
    for t in types:
        path = os.path.join(fixture_dir, t + ".json")
        if t not in checks:
            print(f"FAIL {t}: no check written for this type")
            failed += 1
            continue
        if not os.path.exists(path):
            print(f"FAIL {t}: no awscli fixture {path}")
            failed += 1
            continue
        with open(path) as f:
            aws = json.load(f)
        errs = checks[t](aws["items"], by_type.get(t, []))
        if errs:
            failed += 1
            for e in errs:
                print(f"FAIL {t}: {e}")
        else:
            print(f"ok   {t}: {len(aws['items'])} resources match")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
