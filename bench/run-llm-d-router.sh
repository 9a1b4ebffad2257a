#!/usr/bin/env bash
# Runs llm-d Router's EPP (the Go Endpoint Picker) next to Lodestar's, for side-by-side benchmarks: the same
# endpoints file (file-discovery), the same scheduling profile (bench/llmd-router/epp.yaml = Lodestar's
# hack/local-stack/epp.yaml), ext_proc over plaintext gRPC. Runs in the foreground until stopped (exec).
#
#   bench/run-llm-d-router.sh <endpoints.yaml> [grpc-port] [health-port] [metrics-port]
#
# Defaults 9102 / 9103 / 9190, so it never collides with Lodestar's EPP (9002 / 9003 / 9090). Point a gateway
# pool at it with `endpointPicker: {address: 127.0.0.1:9102, tls: false}`. It prints
# `EPP starting (file discovery mode)` once configured and serves ext_proc after the first read of the file.
#
# No Kubernetes: a `dataLayer.discovery` plugin in the config makes the EPP skip ctrl.GetConfig() and the
# controller manager entirely, so no kubeconfig, cluster, InferencePool or RBAC is needed.
#
#   LLMD_ROUTER_EPP   the binary (default: built or found by hack/install-llm-d-router.sh)
#   LLMD_ROUTER_ARGS  extra flags, appended (e.g. "--v=3" for per-request logs)
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 4 ]; then
  echo "usage: $0 <endpoints.yaml> [grpc-port] [health-port] [metrics-port]" >&2
  exit 2
fi
endpoints=$1 grpc_port=${2:-9102} health_port=${3:-9103} metrics_port=${4:-9190}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -r "$endpoints" ]; then
  echo "error: cannot read $endpoints" >&2
  exit 2
fi
endpoints=$(cd "$(dirname "$endpoints")" && pwd)/$(basename "$endpoints")
# llm-d's file-discovery decodes `port` into a Go string: with an unquoted number the initial load fails
# (json: cannot unmarshal number into ... EndpointEntry.endpoints.port of type string) and v0.10.0 exits
# with status 1 right after "EPP starting (file discovery mode)" without logging why.
if grep -Eq '(^|[{,[:space:]])port:[[:space:]]*[0-9]' "$endpoints"; then
  echo "error: $endpoints has an unquoted port; llm-d Router's file-discovery needs port: \"8000\" (a string)" >&2
  exit 2
fi

epp=${LLMD_ROUTER_EPP:-$("$root/hack/install-llm-d-router.sh")}
# The config with the endpoints file's absolute path in file-discovery's `path`.
config=$(sed "s|^\([[:space:]]*path:\).*|\1 $endpoints|" "$root/bench/llmd-router/epp.yaml")

# --secure-serving=false  plaintext ext_proc (the default is TLS with a self-signed certificate)
# --tracing=false         the default exports 10% of requests to an OTLP collector at localhost:4317
# --enable-pprof=false    the default serves /debug/pprof on the metrics port (all interfaces)
# --pool-name             required although docs/discovery.md calls it optional in file-discovery mode
#                         ("either pool-name or endpoint-selector must be set")
# --pool-namespace        otherwise "default", with a warning, in file-discovery mode
# The ext_proc, health and metrics servers listen on all interfaces (no flag selects the address).
# shellcheck disable=SC2086
exec "$epp" \
  --config-text "$config" \
  --pool-name llmd-router-pool --pool-namespace lodestar-bench \
  --grpc-port "$grpc_port" --grpc-health-port "$health_port" --metrics-port "$metrics_port" \
  --secure-serving=false --tracing=false --enable-pprof=false \
  ${LLMD_ROUTER_ARGS:-}
