# Sourced by hack/kind-*.sh. The kind path needs Docker (a running daemon), kind and kubectl; where one is
# missing the script prints "skipped: <reason>" and exits with status 3. Status 3 means NOT RUN: it is never
# a pass (CI does not call these scripts; hack/test.sh does not either).
LODESTAR_KIND_CLUSTER=${LODESTAR_KIND_CLUSTER:-lodestar}
LODESTAR_KIND_CONTEXT="kind-$LODESTAR_KIND_CLUSTER"
LODESTAR_NAMESPACE=lodestar
LODESTAR_SKIPPED=3

kind_skip() {
  echo "skipped: $*" >&2
  echo "         (exit status $LODESTAR_SKIPPED: nothing was run; this is not a pass)" >&2
  exit "$LODESTAR_SKIPPED"
}

kind_require() {
  command -v docker >/dev/null 2>&1 || kind_skip "docker is not installed (kind runs Kubernetes nodes as Docker containers)"
  local why
  if ! why=$(docker info 2>&1 >/dev/null); then
    kind_skip "no Docker daemon: $(printf '%s' "$why" | grep -v '^$' | tail -n 1)"
  fi
  command -v kind >/dev/null 2>&1 || kind_skip "kind is not installed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
  command -v kubectl >/dev/null 2>&1 || kind_skip "kubectl is not installed"
}

kind_cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "$LODESTAR_KIND_CLUSTER"
}

k() {
  kubectl --context "$LODESTAR_KIND_CONTEXT" "$@"
}
