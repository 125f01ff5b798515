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
