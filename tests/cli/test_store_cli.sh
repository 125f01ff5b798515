#!/usr/bin/env bash
# Integration test for `elava store stat`, `elava version` and the command
# table, on a store written by the real elava-demo. Exit 0 pass, 1 fail,
# 77 skip.
set -u

for v in ELAVA_BIN ELAVA_DEMO; do
	if [ -z "${!v:-}" ] || [ ! -x "${!v}" ]; then
		echo "skip: $v not set"; exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-store-cli-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run() { out=$("$@" 2>&1); rc=$?; }
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; output: $out"; }
expect_out() { printf '%s\n' "$out" | grep -q -- "$1" || fail "$2: no '$1' in: $out"; }

store="$tmp/store"
run "$ELAVA_DEMO" --store "$store"
expect_rc 0 "demo"
expect_out "revision 3" "demo scans"

run "$ELAVA_BIN" store stat --store "$store"
expect_rc 0 "stat"
expect_out "^revision  *3$" "stat revision"
expect_out "^resources  *7 live, 8 known$" "stat resources"
expect_out "^versions  *11$" "stat versions"
expect_out "^scans  *3$" "stat scans"

run "$ELAVA_BIN" store stat --store "$store" --json
expect_rc 0 "stat --json"
expect_out '"revision":3,' "json revision"
expect_out '"resources":7,' "json resources"
expect_out '"format_version":1,' "json format"

# the storage path from the environment, as the daemon's config will
out=$(ELAVA_STORAGE_PATH="$store" "$ELAVA_BIN" store stat 2>&1); rc=$?
expect_rc 0 "stat via ELAVA_STORAGE_PATH"
expect_out "^store  *$store$" "env path"

# stat never creates a store
run "$ELAVA_BIN" store stat --store "$tmp/nothing-here"
expect_rc 1 "stat of a missing store"
expect_out "no elava store at '$tmp/nothing-here'" "missing store message"
[ -e "$tmp/nothing-here" ] && fail "stat created a directory"

# a directory of someone else's files is not a store
mkdir "$tmp/notes" && echo hi >"$tmp/notes/todo.txt"
run "$ELAVA_BIN" store stat --store "$tmp/notes"
expect_rc 1 "stat of a plain directory"
expect_out "no elava store at" "plain directory message"

# a data.mdb that is not LMDB
mkdir "$tmp/fake" && head -c 8192 /dev/urandom >"$tmp/fake/data.mdb"
run "$ELAVA_BIN" store stat --store "$tmp/fake"
expect_rc 1 "stat of a fake data.mdb"
expect_out "not an elava store" "fake data.mdb message"

# usage errors exit 2
run "$ELAVA_BIN" store stat --bogus
expect_rc 2 "unknown flag"
expect_out "usage: elava store stat" "unknown flag usage"
run "$ELAVA_BIN" store
expect_rc 2 "missing subcommand"
run "$ELAVA_BIN" store frobnicate
expect_rc 2 "unknown subcommand"
run "$ELAVA_BIN" no-such-command
expect_rc 2 "unknown command"
expect_out "unknown command 'no-such-command'" "unknown command message"
run "$ELAVA_BIN"
expect_rc 2 "no command"

run "$ELAVA_BIN" version
expect_rc 0 "version"
expect_out "^elava [0-9]" "version output"

# the demo refuses a store that already has history
run "$ELAVA_DEMO" --store "$store"
expect_rc 1 "demo on a used store"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "store cli: all checks passed"
