#!/usr/bin/env bash
# Integration test for `elava wal verify` and `elava wal tail` on a real WAL
# written by tests/wal/wal_gen. Exit 0 pass, 1 fail, 77 skip.
set -u

if [ -z "${ELAVA_BIN:-}" ] || [ ! -x "$ELAVA_BIN" ]; then
	echo "skip: ELAVA_BIN not set"; exit 77
fi
if [ -z "${WAL_GEN:-}" ] || [ ! -x "$WAL_GEN" ]; then
	echo "skip: WAL_GEN not set"; exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/elava-wal-cli-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run CMD...: sets $out (stdout+stderr) and $rc
run() {
	out=$("$@" 2>&1)
	rc=$?
}

expect_rc() { # expected, what
	[ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; output: $out"
}

expect_out() { # pattern, what
	printf '%s\n' "$out" | grep -q -- "$1" || fail "$2: no '$1' in: $out"
}

wal="$tmp/wal"
"$WAL_GEN" "$wal" 50 || { echo "FAIL: wal_gen"; exit 1; }

# verify: success prints entries, segments, seq range and head hash
run "$ELAVA_BIN" wal verify --dir "$wal"
expect_rc 0 "verify"
expect_out "entries: *50" "verify entries"
expect_out "segments: *1 " "verify segments"
expect_out "seq: *1\.\.50" "verify seq range"
expect_out "head: *seq 50 hash [0-9a-f]\{64\}" "verify head"
run "$ELAVA_BIN" wal verify --dir="$wal"
expect_rc 0 "verify --dir="

# tail -n 3: the last three entries, oldest first
run "$ELAVA_BIN" wal tail -n 3 --dir "$wal"
expect_rc 0 "tail"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] || fail "tail -n 3 printed: $out"
[ "$(printf '%s\n' "$out" | cut -d' ' -f1 | tr '\n' ' ')" = "48 49 50 " ] ||
	fail "tail -n 3 seqs: $out"
expect_out "^50 .* decided aws:123456789012:us-east-1:ec2_instance:i-0049 rev=13 by=wal-gen {\"n\":49," "tail line format"
run "$ELAVA_BIN" wal tail -n 2 --json --dir "$wal"
expect_rc 0 "tail --json"
expect_out '^{"seq":50,"ts":"' "tail --json line"
expect_out ',"hash":"[0-9a-f]\{64\}"}$' "tail --json hash"

# --store DIR finds <store>/wal; ELAVA_STORAGE_PATH is the default
"$WAL_GEN" "$tmp/store/wal" 7 || fail "wal_gen store"
run "$ELAVA_BIN" wal verify --store "$tmp/store"
expect_rc 0 "verify --store"
expect_out "entries: *7" "verify --store entries"
run env ELAVA_STORAGE_PATH="$tmp/store" "$ELAVA_BIN" wal tail -n 1
expect_rc 0 "tail default dir"
expect_out "^7 " "tail default dir seq"

# rotation: many segments still verify and tail across them
"$WAL_GEN" "$tmp/rot" 200 2048 || fail "wal_gen rotating"
run "$ELAVA_BIN" wal verify --dir "$tmp/rot"
expect_rc 0 "verify rotated"
expect_out "entries: *200" "verify rotated entries"
run "$ELAVA_BIN" wal tail -n 30 --dir "$tmp/rot"
[ "$(printf '%s\n' "$out" | head -1 | cut -d' ' -f1)" = "171" ] ||
	fail "tail across segments: $out"

# usage errors exit 2 and print the usage
run "$ELAVA_BIN" wal verify --bogus
expect_rc 2 "unknown flag"
expect_out "unknown option '--bogus'" "unknown flag message"
expect_out "usage: elava wal" "unknown flag usage"
run "$ELAVA_BIN" wal tail -n
expect_rc 2 "-n without value"
run "$ELAVA_BIN" wal tail -n abc --dir "$wal"
expect_rc 2 "-n not a number"
run "$ELAVA_BIN" wal frobnicate
expect_rc 2 "unknown subcommand"
run "$ELAVA_BIN" wal --help
expect_rc 0 "--help"

# a missing directory: exit 1, says what and where
run "$ELAVA_BIN" wal verify --dir "$tmp/nope"
expect_rc 1 "missing dir"
expect_out "cannot open WAL directory '$tmp/nope'" "missing dir message"
run "$ELAVA_BIN" wal tail --dir "$tmp/nope"
expect_rc 1 "tail missing dir"

# an empty directory is a valid, empty log
mkdir "$tmp/empty"
run "$ELAVA_BIN" wal verify --dir "$tmp/empty"
expect_rc 0 "verify empty"
expect_out "entries: *0" "verify empty entries"

# a line edited by hand: exit 1, first bad seq, file:line and why
seg="$wal/wal-00000000000000000001.jsonl"
sed -i '17s/"n":16,/"n":99,/' "$seg"
run "$ELAVA_BIN" wal verify --dir "$wal"
expect_rc 1 "verify edited"
expect_out "first bad seq 17 at $seg:17: hash mismatch" "verify edited message"
expect_out "verified 16 entries before the break" "verify edited count"

# a deleted line
"$WAL_GEN" "$tmp/del" 20 || fail "wal_gen del"
sed -i '5d' "$tmp/del/wal-00000000000000000001.jsonl"
run "$ELAVA_BIN" wal verify --dir "$tmp/del"
expect_rc 1 "verify deleted line"
expect_out "first bad seq 5 at .*:5: seq 5 expected, found seq 6" "deleted line message"

# a torn tail is not damage: verify says it will be trimmed
"$WAL_GEN" "$tmp/torn" 20 || fail "wal_gen torn"
printf '{"seq":21,"ts":"20' >> "$tmp/torn/wal-00000000000000000001.jsonl"
run "$ELAVA_BIN" wal verify --dir "$tmp/torn"
expect_rc 0 "verify torn tail"
expect_out "torn: *18 bytes" "verify torn message"
run "$ELAVA_BIN" wal tail -n 1 --dir "$tmp/torn"
expect_out "^20 " "tail ignores torn line"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "ok"
exit 0
