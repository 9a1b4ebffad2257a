#!/usr/bin/env bash
# Deletes the kind cluster of hack/kind-up.sh.
# Exit status: 0 deleted (or there was none); 3 skipped (no Docker daemon or kind: NOT a pass); else failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. hack/kind-lib.sh
kind_require
if ! kind_cluster_exists; then
  echo "no kind cluster $LODESTAR_KIND_CLUSTER"
  exit 0
fi
kind delete cluster --name "$LODESTAR_KIND_CLUSTER"
