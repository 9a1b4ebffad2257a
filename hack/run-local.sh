#!/usr/bin/env bash
# Builds Lodestar and runs the whole request path on this machine, without Kubernetes, Envoy or a GPU:
#   - four simulated vLLM servers on 127.0.1.1-4:8000 (127.0.1.1 also serves the LoRA adapter food-review-1),
#   - the EPP in standalone mode: pool from hack/local-stack/endpoints.yaml (file-discovery), GIE's default
#     scheduling profile (hack/local-stack/epp.yaml), objectives and rewrites from hack/local-stack/objects.yaml,
#     ext_proc on 127.0.0.1:9002 (TLS, self-signed), health on 9003, metrics on 9090,
#   - the dev gateway on 127.0.0.1:8080 (hack/local-stack/gateway.yaml),
# then sends a demo request through the gateway. Runs until Ctrl-C, which stops everything.
#
#   LODESTAR_LOG_DIR    where logs go (default: a new folder under /tmp, printed at start)
#   LODESTAR_DEMO_ONLY  1 = stop after the demo request instead of waiting for Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh

logs=${LODESTAR_LOG_DIR:-$(mktemp -d /tmp/lodestar-local.XXXXXX)}
mkdir -p "$logs"
echo "==> building simulator, EPP and gateway (logs in $logs)"
if ! ./mvnw -B -q package -DskipTests -pl simulator,epp,gateway -am > "$logs/build.log" 2>&1; then
  tail -n 40 "$logs/build.log" >&2
  echo "error: the build failed; full log in $logs/build.log" >&2
  exit 1
fi

# Quiet the JDK's notices about libraries' use of Unsafe and native access.
java_opts=(--enable-native-access=ALL-UNNAMED)
if java --sun-misc-unsafe-memory-access=allow -version >/dev/null 2>&1; then
  java_opts+=(--sun-misc-unsafe-memory-access=allow)
fi

pids=()
names=()
start() { # name, log, command...
  local name=$1 log=$2
  shift 2
  "$@" > "$log" 2>&1 &
  pids+=($!)
  names+=("$name")
}
stop() {
  trap - EXIT INT TERM
  echo
  echo "==> stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop EXIT
trap 'exit 130' INT TERM

# wait_for name pid log seconds command...: retries the command until it succeeds or the process exits.
wait_for() {
  local name=$1 pid=$2 log=$3 seconds=$4
  shift 4
  local tries=$((seconds * 10))
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log" >&2
      echo "error: the $name exited; log above ($log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "error: the $name was not ready within $seconds s; see $log" >&2
  exit 1
}

servers=(127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4)
echo "==> starting ${#servers[@]} simulated vLLM servers, the EPP and the gateway"
start simulators "$logs/simulators.log" \
  java "${java_opts[@]}" -jar simulator/target/lodestar-simulator.jar --config hack/local-stack/simulators.yaml
start EPP "$logs/epp.log" \
  java "${java_opts[@]}" -jar epp/target/lodestar-epp.jar --metrics-endpoint-auth=false \
  --config-file=hack/local-stack/epp.yaml --inference-objects-file=hack/local-stack/objects.yaml
start gateway "$logs/gateway.log" \
  java "${java_opts[@]}" -jar gateway/target/lodestar-gateway.jar --config hack/local-stack/gateway.yaml

for host in "${servers[@]}"; do
  wait_for simulators "${pids[0]}" "$logs/simulators.log" 60 curl -fsS -o /dev/null "http://$host:8000/health"
done
# Ready once it has read the pool and scraped every server's metrics.
wait_for EPP "${pids[1]}" "$logs/epp.log" 60 \
  bash -c "curl -fsS http://127.0.0.1:9090/metrics | grep -Eq '^inference_pool_ready_pods\{[^}]*\} ${#servers[@]}(\.0)?$'"
wait_for gateway "${pids[2]}" "$logs/gateway.log" 60 grep -q 'listening on' "$logs/gateway.log"

cat <<INFO
==> running
    gateway      http://127.0.0.1:8080   (OpenAI API; routes in hack/local-stack/gateway.yaml)
    EPP          ext_proc 127.0.0.1:9002 (TLS), health 9003, metrics http://127.0.0.1:9090/metrics
                 pool hack/local-stack/endpoints.yaml (followed), objects hack/local-stack/objects.yaml (followed)
    simulators   http://127.0.1.1:8000 ... http://127.0.1.4:8000  (model meta-llama/Llama-3.1-8B-Instruct,
                 alias "llama"; LoRA adapter food-review-1 on 127.0.1.1)
    logs         $logs

    try:  curl -sN http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\
            -d '{"model":"llama","stream":true,"max_tokens":20,
                 "messages":[{"role":"user","content":"What is Lodestar?"}]}'
          (x-inference-pod in the response headers, curl -i, names the server the EPP picked)

==> demo request (streaming chat through the gateway, LoRA adapter food-review-1)
INFO
curl -sS -N -D "$logs/demo-headers.txt" http://127.0.0.1:8080/v1/chat/completions \
  -H 'Content-Type: application/json' \
  -d '{"model":"food-review-1","stream":true,"stream_options":{"include_usage":true},"max_tokens":24,
       "messages":[{"role":"user","content":"Review the soup of the day in one sentence."}]}' \
  | tee "$logs/demo-response.txt"
grep -i '^x-inference-pod' "$logs/demo-headers.txt" | sed 's/^/    served by: /'

if [ "${LODESTAR_DEMO_ONLY:-0}" = 1 ]; then
  exit 0
fi
echo "==> the stack keeps running; Ctrl-C stops it"
wait -n "${pids[@]}" || true
echo "error: a process exited; logs in $logs" >&2
exit 1
