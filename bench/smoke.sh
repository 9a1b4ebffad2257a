#!/usr/bin/env bash
# CI smoke run of the benchmarks' quick modes (hack/test.sh runs it after the tests): checks that the harnesses
# work end to end on this machine (processes start, load runs, every request is answered, results are written),
# not the numbers, which depend on the machine's load.
#   bench/epp-overhead.sh --quick --target both      Lodestar's EPP, then llm-d Router's, and the comparison
#   bench/routing-quality.sh --quick --configs round-robin,default,llm-d-router
#   bench/pd-ttft.sh --quick                          aggregated vs P/D through the sidecar (UCX)
# llm-d Router's EPP takes part when hack/install-llm-d-router.sh has built it on this machine (cached in
# ~/.cache/lodestar/bin); otherwise the runs leave it out and say so (building it needs Go and ~10 minutes).
# Uses the jars in */target (LODESTAR_SKIP_BUILD=1): run after a build. Results stay in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
export LODESTAR_SKIP_BUILD=${LODESTAR_SKIP_BUILD:-1}

llmd_bin="${LODESTAR_CACHE_DIR:-$HOME/.cache/lodestar}/bin/llm-d-router-epp-${LLMD_ROUTER_VERSION:-v0.10.0}"
overhead_target=both
routing_configs=round-robin,default,llm-d-router
if [ -n "${LLMD_ROUTER_EPP:-}" ] || [ -x "$llmd_bin" ]; then
  export LLMD_ROUTER_EPP=${LLMD_ROUTER_EPP:-$llmd_bin}
else
  echo "[smoke] llm-d Router's EPP is not built on this machine ($llmd_bin): smoke runs without it" \
       "(hack/install-llm-d-router.sh builds it)"
  overhead_target=lodestar
  routing_configs=round-robin,default
fi

failures=0
# check name log files...: the run's results folder (from its log) holds every named file, non-empty.
check() {
  local name=$1 log=$2
  shift 2
  local folder
  folder=$(sed -n 's/^==> results and logs in //p' "$log" | head -n 1)
  for file in "$@"; do
    if [ -z "$folder" ] || [ ! -s "$folder/$file" ]; then
      echo "[smoke] FAILED: $name wrote no ${folder:-<results folder>}/$file"
      return 1
    fi
  done
  echo "[smoke] ok: $name ($folder)"
}
run() { # name log command...: runs a benchmark, output to the log and to the terminal's last lines on failure.
  local name=$1 log=$2
  shift 2
  echo "[smoke] $name: $*"
  local started=$SECONDS
  if ! "$@" > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "[smoke] FAILED: $name exited non-zero after $((SECONDS - started)) s (log: $log)"
    return 1
  fi
  echo "[smoke] $name finished in $((SECONDS - started)) s"
}

mkdir -p bench/results
overhead_log=bench/results/smoke-epp-overhead.log
routing_log=bench/results/smoke-routing-quality.log
if run epp-overhead "$overhead_log" bench/epp-overhead.sh --quick --target "$overhead_target"; then
  if [ "$overhead_target" = both ]; then
    check epp-overhead "$overhead_log" lodestar/epp-overhead.json llm-d-router/epp-overhead.json comparison.md \
      decision-latency-cdf.png \
      || failures=$((failures + 1))
  else
    check epp-overhead "$overhead_log" epp-overhead.json epp-overhead.md decision-latency-cdf.png || failures=$((failures + 1))
  fi
else
  failures=$((failures + 1))
fi
if run routing-quality "$routing_log" bench/routing-quality.sh --quick --configs "$routing_configs"; then
  check routing-quality "$routing_log" routing-quality.json routing-quality.md cdf-ttft-shared-prefix.png \
    || failures=$((failures + 1))
  # Every request of the smoke run must succeed (the load is light); the report's success column says so.
  folder=$(sed -n 's/^==> results and logs in //p' "$routing_log" | head -n 1)
  if grep -E '^\| [a-z-]+ \| [0-9.]+ \| [0-9]+ \| [0-9.]+% \|' "$folder/routing-quality.md" | grep -qv '| 100.0% |'; then
    echo "[smoke] FAILED: routing-quality: a stage lost requests (success < 100% in $folder/routing-quality.md)"
    failures=$((failures + 1))
  fi
else
  failures=$((failures + 1))
fi
pd_log=bench/results/smoke-pd-ttft.log
# PdTtftBenchmark exits non-zero when a request fails, so a zero exit means every request was answered.
if run pd-ttft "$pd_log" bench/pd-ttft.sh --quick; then
  check pd-ttft "$pd_log" summary.md aggregated.json disaggregated-shm.json || failures=$((failures + 1))
else
  failures=$((failures + 1))
fi
echo "[smoke] benchmark quick modes: $failures failed"
[ "$failures" = 0 ]
