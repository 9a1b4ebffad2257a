#!/usr/bin/env bash
# KV-block transfer: pull bandwidth and latency through the kv-connector transfer engine (UCX, two engines in
# one JVM) for block sizes 16 KiB-2 MiB and 1-1000 blocks, next to a plain off-heap copy of the same blocks
# (dev.lodestar.bench.kvtransfer.KvTransferBenchmark). Prints Markdown tables; JSON and logs go to
# bench/results/kv-transfer-<time>/.
#   bench/kv-transfer.sh              shm (UCX's choice without peer-failure detection: sysv/posix shared memory
#                                     here) over the full grid, then tcp (peer-failure detection on, which makes
#                                     UCX 1.13 use TCP) over 16 KiB-2 MiB x 1-100 blocks
#   bench/kv-transfer.sh --quick      64 KiB and 1 MiB, 1-100 blocks, shm only (< 1 min)
#   other arguments go to the benchmark (e.g. --block-sizes 65536 --block-counts 10,100 --mode tcp)
#   LODESTAR_SKIP_BUILD=1             use the jars already in */target
# Needs Debian's libucx0 (apt-get install -y libucx0). Peak memory: two regions of 1000 x the largest block
# (4 GiB at 2 MiB blocks).
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
. bench/lib/processes.sh
export UCX_LOG_LEVEL=${UCX_LOG_LEVEL:-error}

new_results kv-transfer
build_modules bench

run() { # name, benchmark arguments...
  local name=$1
  shift
  java "${java_opts[@]}" -cp bench/target/lodestar-bench.jar dev.lodestar.bench.kvtransfer.KvTransferBenchmark \
    --out "$results/$name.json" "$@" 2> "$results/$name.log" | tee -a "$results/summary.md"
}

echo "uptime at start: $(uptime)" | tee "$results/summary.md"
if [ "${1:-}" = --quick ]; then
  shift
  run shm --mode shm --block-sizes 65536,1048576 --block-counts 1,10,100 "$@"
elif [ $# -gt 0 ]; then
  run custom "$@"
else
  run shm --mode shm
  run tcp --mode tcp --block-counts 1,10,100 --target-bytes 67108864 --min-iterations 3
fi
echo "uptime at end: $(uptime)" | tee -a "$results/summary.md"
