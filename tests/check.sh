# Sourced by the end-to-end tests: run a command into $tmp/out and
# $tmp/err, check its exit status and output, count failures. The caller
# sets tmp (a directory) and ELAVA_BIN, and ends with
#   [ "$failures" -eq 0 ] && echo ok || { echo "$failures failure(s)"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; echo "$((failures + 1)) failure(s) (stopped early)"; exit 1; }
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
el() { run "$ELAVA_BIN" "$@"; }
both() { cat "$tmp/out" "$tmp/err"; }
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; output: $(both | head -c 800)"; }
expect_out() { grep -qF -- "$1" "$tmp/out" || fail "$2: no '$1' on stdout: $(head -c 800 "$tmp/out")"; }
expect_err() { grep -qiF -- "$1" "$tmp/err" || fail "$2: no '$1' on stderr: $(head -c 800 "$tmp/err")"; }
no_out() { ! grep -qF -- "$1" "$tmp/out" || fail "$2: '$1' on stdout: $(head -c 800 "$tmp/out")"; }

# pycheck_file WHAT FILE [ARGS...] <<'EOF' ... EOF: Python code run with
# `doc` (the JSON in FILE), `args`, `fail(msg)`, `load(path)` and `ev(e)`;
# each fail is one FAIL line. pycheck WHAT [ARGS...] checks $tmp/out.
pycheck_file() {
	local what=$1 file=$2
	shift 2
	[ -f "$tmp/check.py" ] || cat >"$tmp/check.py" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except ValueError as e:
    print(f"not JSON: {e}: {open(sys.argv[1]).read()[:300]!r}")
    sys.exit(1)
args = sys.argv[2:]
bad = []
def fail(m):
    bad.append(str(m))
def load(path):
    return json.load(open(path))
def ev(e):  # an event as (change, key) for messages and sets
    return (e.get("change"), e.get("key"))
exec(sys.stdin.read())
for m in bad:
    print(m)
sys.exit(1 if bad else 0)
PY
	python3 "$tmp/check.py" "$file" "$@" >"$tmp/py" 2>&1 && return 0
	while IFS= read -r line; do fail "$what: $line"; done <"$tmp/py"
	return 1
}
pycheck() {
	local what=$1
	shift
	pycheck_file "$what" "$tmp/out" "$@"
}
