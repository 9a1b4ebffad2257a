#!/usr/bin/env bash
# A kind cluster running Lodestar as config/manifests describe it: creates cluster "lodestar" (if absent),
# builds the EPP and simulator images with Jib (hack/build-images.sh, tarballs) and loads them into the nodes,
# installs the CRDs (config/crd) and applies config/manifests (namespace lodestar: EPP, 3 simulators,
# InferencePool and objects, Envoy), then waits for the rollouts.
#   LODESTAR_KIND_OVERLAY=ha   applies config/manifests/ha instead (3 EPP replicas, leader election)
# Exit status: 0 up; 3 skipped (no Docker daemon, kind or kubectl: NOT a pass); anything else: failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. hack/kind-lib.sh
kind_require

manifests=config/manifests${LODESTAR_KIND_OVERLAY:+/$LODESTAR_KIND_OVERLAY}
[ -f config/crd/kustomization.yaml ] || { echo "error: config/crd/kustomization.yaml is missing (the CRDs)." >&2; exit 1; }
[ -f "$manifests/kustomization.yaml" ] || { echo "error: $manifests/kustomization.yaml is missing." >&2; exit 1; }
if [ ! -f controllers/pom.xml ]; then
  echo "error: controllers/ is not in this tree, so the EPP image has no Kubernetes pool source and" >&2
  echo "       --pool-name would stop it at start. Build from a tree that has controllers/." >&2
  exit 1
fi

if kind_cluster_exists; then
  echo "kind cluster $LODESTAR_KIND_CLUSTER exists; reusing it"
else
  kind create cluster --name "$LODESTAR_KIND_CLUSTER" --wait 180s || exit 1
fi

hack/build-images.sh || exit $?
for image in epp simulator; do
  kind load image-archive "images/$image/target/jib-image.tar" --name "$LODESTAR_KIND_CLUSTER" || exit 1
done

k apply -k config/crd || exit 1
kubectl kustomize config/crd | k wait --for=condition=Established --timeout=60s -f - || exit 1
k apply -k "$manifests" || exit 1
for deployment in vllm-qwen3-32b vllm-qwen3-32b-epp envoy; do
  if ! k -n "$LODESTAR_NAMESPACE" rollout status "deployment/$deployment" --timeout=300s; then
    k -n "$LODESTAR_NAMESPACE" get pods -o wide >&2
    k -n "$LODESTAR_NAMESPACE" logs "deployment/$deployment" --all-containers --tail=50 >&2
    echo "error: deployment $deployment did not become ready." >&2
    exit 1
  fi
done
echo "up: kind cluster $LODESTAR_KIND_CLUSTER, namespace $LODESTAR_NAMESPACE ($manifests). Next: hack/kind-e2e.sh"
