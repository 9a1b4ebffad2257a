#!/usr/bin/env bash
# Runs every test of Lodestar: unit tests (*Test, Surefire) and integration and interop tests
# (*IT, Failsafe), including the interop run against llm-d-inference-sim, which it builds first, and the
# end-to-end tests of test/e2e (*E2E, Failsafe: simulators, EPP and dev gateway as processes).
# Extra arguments go to Maven (e.g. `hack/test.sh -pl simulator`).
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

./mvnw -B verify "$@"
status=$?
hack/test-summary.sh
exit $status
