#!/usr/bin/env bash
# End-to-end on the kind cluster of hack/kind-up.sh, through Envoy exactly as a client would go: Envoy's
# ext_proc filter asks the EPP, the EPP picks a simulator pod, Envoy's ORIGINAL_DST cluster sends the request
# there. Checks: completions and chat completions reach a pool pod; the InferenceModelRewrite alias and an
# InferenceObjective header are served; requests spread over the pool; the EPP's /metrics sees all 3 pods.
# Exit status: 0 every check passed; 1 a check failed (or the cluster is not up); 3 skipped (no Docker
# daemon, kind or kubectl): NOT a pass.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. hack/kind-lib.sh
kind_require
command -v curl >/dev/null 2>&1 || kind_skip "curl is not installed"
kind_cluster_exists || { echo "error: no kind cluster $LODESTAR_KIND_CLUSTER; run hack/kind-up.sh first." >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

forward() { # service, local port, remote port
  k -n "$LODESTAR_NAMESPACE" port-forward "svc/$1" "$2:$3" >"$work/forward-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0
    sleep 0.2
  done
  echo "error: port-forward to svc/$1 did not come up:" >&2
  cat "$work/forward-$1.log" >&2
  exit 1
}
forward envoy 18081 8081
forward vllm-qwen3-32b-epp 19090 9090

failures=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then echo "PASS $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

# POST through Envoy; prints the pod that served it (x-inference-pod), fails on a non-200 answer.
post() { # path, body, extra curl args...
  local path=$1 body=$2; shift 2
  local status
  status=$(curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 30 \
    -H 'content-type: application/json' "$@" -d "$body" "http://127.0.0.1:18081$path")
  if [ "$status" != 200 ]; then
    echo "  $path -> HTTP $status: $(head -c 300 "$work/body")" >&2
    return 1
  fi
  local pod
  pod=$(tr -d '\r' <"$work/headers" | sed -n 's/^x-inference-pod: //Ip' | head -n 1)
  case "$pod" in
    vllm-qwen3-32b-*) echo "$pod" ;;
    *) echo "  $path: served by '$pod', not a pod of the pool" >&2; return 1 ;;
  esac
}

completion() { post /v1/completions '{"model":"Qwen/Qwen3-32B","prompt":"Write as if you were a critic: San Francisco","max_tokens":20,"temperature":0}' >/dev/null; }
chat() { post /v1/chat/completions '{"model":"Qwen/Qwen3-32B","messages":[{"role":"user","content":"Hello"}],"max_tokens":10}' >/dev/null; }
rewrite() { post /v1/completions '{"model":"food-review","prompt":"The pasta was","max_tokens":10}' >/dev/null; }
objective() { post /v1/completions '{"model":"Qwen/Qwen3-32B","prompt":"hi","max_tokens":5}' -H 'x-gateway-inference-objective: food-review' >/dev/null; }
spread() {
  local i pods=()
  for i in $(seq 1 24); do
    pods+=("$(post /v1/completions "{\"model\":\"Qwen/Qwen3-32B\",\"prompt\":\"question $i $RANDOM: why is the sky blue\",\"max_tokens\":5}")") || return 1
  done
  local distinct
  distinct=$(printf '%s\n' "${pods[@]}" | sort -u | wc -l)
  echo "  24 requests on $distinct pods: $(printf '%s\n' "${pods[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  [ "$distinct" -ge 2 ]
}
ready_pods() {
  local value
  value=$(curl -s --max-time 5 http://127.0.0.1:19090/metrics | sed -n 's/^inference_pool_ready_pods{[^}]*} \([0-9.]*\).*/\1/p' | head -n 1)
  echo "  inference_pool_ready_pods = ${value:-absent}"
  [ "${value%.*}" = 3 ]
}

check "completion through Envoy and the EPP" completion
check "chat completion" chat
check "InferenceModelRewrite alias food-review" rewrite
check "InferenceObjective header" objective
check "requests spread over the pool" spread
check "EPP metrics: 3 ready pods" ready_pods

if [ "$failures" -gt 0 ]; then
  echo "kind e2e: $failures check(s) failed"
  k -n "$LODESTAR_NAMESPACE" logs deployment/vllm-qwen3-32b-epp --tail=40 >&2
  exit 1
fi
echo "kind e2e: all checks passed"
