#!/usr/bin/env bash
# JMH benchmarks of the EPP's scheduling path: the prefix index (lookup, insert) and one scheduling
# decision with GIE's default profile at 10/100/1000 endpoints, each over a 1M-block prefix index.
# Reports µs/op and, through -prof gc, B/op (gc.alloc.rate.norm). Results go to bench/results/jmh-<time>/.
#   bench/jmh.sh                 full run (1 fork, 3 x 2 s warm-up, 5 x 2 s measured per benchmark)
#   bench/jmh.sh --quick         smoke run (1 x 1 s warm-up, 2 x 1 s measured)
#   bench/jmh.sh [--quick] REGEX [JMH options]   e.g. bench/jmh.sh --quick 'PrefixIndex' -p endpoints=100
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
quick=()
if [ "${1:-}" = "--quick" ]; then
  quick=(-wi 1 -w 1s -i 2 -r 1s)
  shift
fi
selection=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  selection=("$1")
  shift
else
  selection=('dev\.lodestar\.bench\.epp\..*')
fi
./mvnw -B -q package -DskipTests -pl bench -am
out="bench/results/jmh-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
java -cp bench/target/lodestar-bench.jar org.openjdk.jmh.Main "${selection[@]}" -prof gc \
  -rf json -rff "$out/jmh.json" "${quick[@]}" "$@" | tee "$out/jmh.txt"
echo
echo "Summary (µs/op, B/op):"
grep -E '^(Benchmark|[A-Za-z]+Benchmark\.[a-zA-Z]+ |[A-Za-z]+Benchmark\.[a-zA-Z]+:gc\.alloc\.rate\.norm)' "$out/jmh.txt" || true
echo "Results: $out"
