#!/usr/bin/env bash
# Runs every test of Lodestar: unit tests (*Test, Surefire) and integration and interop tests
# (*IT, Failsafe), including the interop run against llm-d-inference-sim and the controllers' tests
# against a real kube-apiserver and etcd, all three of which it builds first (cached), and the
# end-to-end tests of test/e2e (*E2E, Failsafe: simulators, EPP and dev gateway as processes), and the
# UCX tests (kv-transfer's engine, the simulator's P/D roles; Debian's libucx0), then a smoke run of the
# benchmarks' quick modes (bench/smoke.sh: the harnesses work, numbers not judged).
# Extra arguments go to Maven (e.g. `hack/test.sh -pl simulator`) and skip the benchmark smoke run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. hack/jdk.sh || exit 1

if ! LLMD_INFERENCE_SIM=$(hack/install-llm-d-inference-sim.sh); then
  echo "error: could not build llm-d-inference-sim, which the interop tests need (see above)." >&2
  exit 1
fi
export LLMD_INFERENCE_SIM
# test/e2e's InteropE2E fails (instead of skipping) without LLMD_INFERENCE_SIM when this is set.
export LODESTAR_REQUIRE_INTEROP=1

# controllers/ runs its *IT tests against a real kube-apiserver and etcd, built from their Go modules
# (hack/kube-test-env) and cached; the script prints KUBE_APISERVER=... and ETCD=... lines.
if ! kube_env=$(hack/install-kube-test-env.sh); then
  echo "error: could not build kube-apiserver and etcd, which the controllers' tests need (see above)." >&2
  exit 1
fi
while IFS='=' read -r name value; do
  case $name in KUBE_APISERVER|ETCD) export "$name=$value" ;; esac
done <<<"$kube_env"
# The controllers' *IT tests fail (instead of skipping) without KUBE_APISERVER and ETCD when this is set.
export LODESTAR_REQUIRE_KUBE=1

# The UCX tests (kv-transfer's engine, the simulator's P/D roles) need Debian's libucx0, which .ci/run
# installs; they fail (instead of skipping) without it when this is set. UCX_LOG_LEVEL=error hides UCX 1.13's warning that jucx
# 1.14 expects API 1.15 (harmless: dependencies.md §5).
export LODESTAR_REQUIRE_UCX=1
export UCX_LOG_LEVEL=${UCX_LOG_LEVEL:-error}

./mvnw -B verify "$@"
status=$?
if [ "$status" = 0 ] && [ $# = 0 ]; then
  bench/smoke.sh || status=1
fi
hack/test-summary.sh
exit $status
