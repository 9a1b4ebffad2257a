#!/usr/bin/env bash
# Builds Lodestar and runs the local stack on this machine: for now a fleet of four simulated vLLM
# servers on 127.0.1.1-4:8000 (127.0.1.1 also serves the LoRA adapter food-review-1), then sends a demo
# request. Runs until Ctrl-C, which stops everything.
#
#   LODESTAR_LOG_DIR    where logs go (default: a new folder under /tmp, printed at start)
#   LODESTAR_DEMO_ONLY  1 = stop after the demo request instead of waiting for Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh

logs=${LODESTAR_LOG_DIR:-$(mktemp -d /tmp/lodestar-local.XXXXXX)}
mkdir -p "$logs"
echo "==> building (logs in $logs)"
if ! ./mvnw -B -q package -DskipTests -pl simulator -am > "$logs/build.log" 2>&1; then
  tail -n 40 "$logs/build.log" >&2
  echo "error: the build failed; full log in $logs/build.log" >&2
  exit 1
fi

servers=(127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4)
echo "==> starting ${#servers[@]} simulated vLLM servers"
java -jar simulator/target/lodestar-simulator.jar --config hack/local-stack/simulators.yaml \
  > "$logs/simulators.log" 2>&1 &
simulators=$!
stop() {
  trap - EXIT INT TERM
  echo
  echo "==> stopping"
  kill "$simulators" 2>/dev/null || true
  wait "$simulators" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

for host in "${servers[@]}"; do
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://$host:8000/health" 2>/dev/null; then continue 2; fi
    if ! kill -0 "$simulators" 2>/dev/null; then
      cat "$logs/simulators.log" >&2
      echo "error: the simulators exited; log above ($logs/simulators.log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "error: $host:8000 did not become healthy within 10 s; see $logs/simulators.log" >&2
  exit 1
done

cat <<INFO
==> running
    simulators   http://127.0.1.1:8000 ... http://127.0.1.4:8000  (model meta-llama/Llama-3.1-8B-Instruct;
                 LoRA adapter food-review-1 on 127.0.1.1)
    metrics      curl -s http://127.0.1.1:8000/metrics | grep '^vllm:'
    logs         $logs

    try:  curl -sN http://127.0.1.2:8000/v1/chat/completions -H 'Content-Type: application/json' \\
            -d '{"model":"meta-llama/Llama-3.1-8B-Instruct","stream":true,"max_tokens":20,
                 "messages":[{"role":"user","content":"What is Lodestar?"}]}'

==> demo request (streaming chat to 127.0.1.1:8000, LoRA adapter food-review-1)
INFO
curl -sS -N -D "$logs/demo-headers.txt" http://127.0.1.1:8000/v1/chat/completions \
  -H 'Content-Type: application/json' \
  -d '{"model":"food-review-1","stream":true,"stream_options":{"include_usage":true},"max_tokens":24,
       "messages":[{"role":"user","content":"Review the soup of the day in one sentence."}]}' \
  | tee "$logs/demo-response.txt"
grep -i '^x-inference-pod' "$logs/demo-headers.txt" | sed 's/^/    served by: /'

if [ "${LODESTAR_DEMO_ONLY:-0}" = 1 ]; then
  exit 0
fi
echo "==> the fleet keeps running; Ctrl-C stops it"
wait "$simulators"
