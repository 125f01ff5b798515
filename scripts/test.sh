#!/usr/bin/env bash
# Build Elava and run every test: the unit and integration suites (warnings
# as errors), the same suites under ASan + UBSan, the fuzz targets under
# libFuzzer for a bounded number of runs, and a smoke run of both
# benchmarks. Installs what it needs first. Exit status 0 only if all pass.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || exit 1

passed=0
failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

# meson test prints "Ok: N" and "Fail: N"; add them to the totals.
run_suite() {
  local dir=$1 log
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs --num-processes 2 2>&1 | tee "$log"
  local ok fl
  ok=$(awk '/^Ok:/ {print $2}' "$log"); fl=$(awk '/^Fail:/ {print $2}' "$log")
  to=$(awk '/^Timeout:/ {print $2}' "$log")
  passed=$((passed + ${ok:-0})); failed=$((failed + ${fl:-0} + ${to:-0}))
  [ -z "$ok" ] && fail "meson test in $dir did not run"
  rm -f "$log"
}

setup() { # dir, extra meson args...
  local dir=$1; shift
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

echo "== formatting (.clang-format)"
if git ls-files 'src/*.[ch]' 'tests/*.c' 'bench/*.[ch]' 'examples/*.c' |
     xargs clang-format --dry-run --Werror 2>&1 | head -20 | grep .; then
  fail "code is not clang-formatted (run: clang-format -i on the files above)"
else
  pass
fi

echo "== build (warnings are errors) and test"
if setup build -Dwerror=true && ninja -C build; then
  run_suite build
else
  fail "build"
fi

echo "== the same suites under AddressSanitizer + UndefinedBehaviorSanitizer"
if setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
     -Db_lundef=false -Dbuildtype=debug && ninja -C build-asan; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_suite build-asan
else
  fail "sanitizer build"
fi

echo "== fuzz targets under libFuzzer (bounded runs)"
if command -v clang >/dev/null; then
  if CC=clang setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
       -Db_lundef=false -Dbuildtype=debugoptimized \
       -Dc_args=-fsanitize=fuzzer-no-link && ninja -C build-fuzz; then
    for f in build-fuzz/tests/fuzz/fuzz_*; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      name=${f##*/fuzz_}
      corpus=$(mktemp -d)
      cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
      # UBSan only prints unless told to stop: a finding must fail the run.
      if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
           "$f" -runs="${FUZZ_RUNS:-200000}" -max_len=65536 -seed=1 \
           "$corpus" >"$corpus.log" 2>&1; then
        pass; echo "fuzz $name: ok"
      else
        tail -30 "$corpus.log"; fail "fuzz $name"
      fi
      rm -rf "$corpus" "$corpus.log"
    done
  else
    fail "fuzz build"
  fi
else
  fail "clang not found: fuzz targets not built"
fi

echo "== benchmarks run and print their fields (figures are not judged here)"
out=$(build/elava-bench store --resources 2000 --churn-pct 1 --scans 3 --json 2>/dev/null)
for k in ingest_per_s scan_commit_ms_p50 scan_commit_ms_max unchanged_scan_bytes \
         at_revision_ms history_us_p50 compact_ms db_bytes raw_lmdb_put_per_s; do
  case "$out" in *"\"$k\":"*) ;; *) fail "bench store lacks $k: $out"; continue ;; esac
done
[ -n "$out" ] && pass
out=$(build/elava-bench wal --entries 20000 --json 2>/dev/null)
for k in append_per_s append_fsync_us_p50 verify_mb_per_s; do
  case "$out" in *"\"$k\":"*) ;; *) fail "bench wal lacks $k: $out" ;; esac
done
[ -n "$out" ] && pass
out=$(build/elava-bench list --instances 2000 --per-page 1000 --awscli-instances 0 --json)
for k in list_s download_s null_parse_s bytes awscli_s peak_rss_mb list_vs_floor; do
  case "$out" in *"\"$k\":"*) ;; *) fail "bench list lacks $k: $out" ;; esac
done
case "$out" in *'"instances":2000,'*) pass ;; *) fail "bench list: $out" ;; esac
out=$(build/elava-bench scan --resources 2000 --json)
for k in first_scan_s second_scan_s second_scan_cpu_s cpu_share server_cpu_s \
         peak_rss_anon_mb peak_rss_mb api_calls api_calls_min churn_introduced \
         changes_detected changes_match; do
  case "$out" in *"\"$k\":"*) ;; *) fail "bench scan lacks $k: $out" ;; esac
done
case "$out" in *'"resources":2000,'*) pass ;; *) fail "bench scan: $out" ;; esac
# The second scan must report exactly the churn the server introduced.
case "$out" in *'"changes_match":true'*) pass ;; *) fail "bench scan changes: $out" ;; esac
# The real `elava serve` against the fake AWS: first iteration, wrk on
# /metrics and /health (at 5 ms and 0 ms a page), 20 iterations with churn.
out=$(build/elava-bench serve --resources 2000 --iterations 20 --load-seconds 2 --page-ms 5 --json)
for k in first_iteration_s rss_anon_after_first_mb peak_rss_anon_mb rss_file_mb \
         metrics_rps metrics_p99_ms health_rps health_p99_ms iteration_s_idle \
         iteration_s_loaded iteration_change_pct metrics_rps_0ms health_p99_ms_0ms \
         iteration_change_pct_0ms rss_anon_after_10_mb rss_anon_after_20_mb \
         rss_growth_pct changes_stored elapsed_s; do
  case "$out" in *"\"$k\":"*) ;; *) fail "bench serve lacks $k: $out" ;; esac
done
case "$out" in *'"resources":2000,'*) pass ;; *) fail "bench serve: $out" ;; esac
# Every change the server made was stored by the daemon; it stopped cleanly.
case "$out" in *'"changes_match":true'*) pass ;; *) fail "bench serve changes: $out" ;; esac
case "$out" in *'"first_exit_status":0,'*'"flat_exit_status":0'*) pass ;;
  *) fail "bench serve: the daemon did not exit 0 on SIGTERM: $out" ;; esac

echo
echo "elava tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
