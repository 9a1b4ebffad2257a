#!/usr/bin/env bash
# Simulator timing fidelity: 8 simulated servers in one process, 64 concurrent streaming requests each;
# compares client-measured mean TTFT and inter-token latency with the latency model and reports the
# simulator's CPU use. Results (JSON + Markdown) go to bench/results/simulator-timing-<time>/.
#   bench/simulator-timing.sh            full run (10 s warm-up + 60 s)
#   bench/simulator-timing.sh --quick    smoke run (5 s + 15 s)
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
./mvnw -B -q package -DskipTests -pl bench -am
exec java -Xss512k -cp "bench/target/lodestar-bench.jar" dev.lodestar.bench.SimulatorTimingBenchmark "$@"
