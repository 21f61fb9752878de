#!/usr/bin/env bash
# Runs the test suite several times in a row while every core is kept busy by another process, to show that no
# verdict depends on the machine's speed (issue 8). Prints one line per run, `run I/N: P passed, F failed (Ss)`,
# and exits non-zero when any run failed or timed out. Everything is bounded: each run by RUN_TIMEOUT seconds,
# the busy loops by their own deadline, and they are stopped (by pid) when the script ends.
#
#   scripts/suite-under-load.sh                 3 runs of the whole suite
#   scripts/suite-under-load.sh 5               5 runs
#   scripts/suite-under-load.sh 5 server/pipeline/topology.test.ts   5 runs of the given files (vitest filters)
#
# Environment: RUN_TIMEOUT (seconds per run, default 1800), BUSY_LOOPS (default: one per core).
# Full logs go to test-results/under-load-I.log.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
shift || true
run_timeout=${RUN_TIMEOUT:-1800}
busy_loops=${BUSY_LOOPS:-$(nproc)}
mkdir -p test-results

# What `npm test` does before the tests, done once: the Debian packages, then the page the browser tests serve
# (built under the same lock the other builds on this machine take, so two builds never overlap).
bash scripts/test-deps.sh
flock /tmp/zpg-build.lock npx --no-install vite build --logLevel warn

busy_pids=()
stop_busy_loops() {
  for pid in "${busy_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_busy_loops EXIT
busy_deadline_ms=$(( (runs * run_timeout + 60) * 1000 ))
for _ in $(seq "$busy_loops"); do
  node -e "const end = Date.now() + $busy_deadline_ms; while (Date.now() < end) {}" &
  busy_pids+=($!)
done
echo "$busy_loops busy loop(s) running (pids ${busy_pids[*]}); $runs run(s), each bounded by ${run_timeout}s"

failed_runs=0
for i in $(seq "$runs"); do
  log=test-results/under-load-$i.log
  started=$SECONDS
  status=0
  SKIP_CLIENT_BUILD=1 CI=true NO_COLOR=1 timeout "$run_timeout" npx --no-install vitest run "$@" </dev/null >"$log" 2>&1 \
    || status=$?
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
  if [ "$status" -eq 124 ]; then summary="timed out after ${run_timeout}s"; fi
  [ -n "$summary" ] || summary="no summary line (exit $status), see $log"
  echo "run $i/$runs: $summary ($((SECONDS - started))s)"
  if [ "$status" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    grep -E '^ *(FAIL|×) ' "$log" | head -n 20 || true
  fi
done
echo "$failed_runs of $runs run(s) failed"
[ "$failed_runs" -eq 0 ]
