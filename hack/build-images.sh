#!/usr/bin/env bash
# Builds Lodestar's container images with Jib (no Docker daemon needed to build):
#   lodestar-epp:dev        EppMain; epp + controllers (when controllers/ exists) and their dependencies
#   lodestar-simulator:dev  SimulatorMain; the simulator and its dependencies
# on the base image eclipse-temurin:21-jre (override: LODESTAR_IMAGE_BASE=<image>[@sha256:...]).
#
#   hack/build-images.sh          image tarballs: images/epp/target/jib-image.tar, images/simulator/target/jib-image.tar
#                                 (load them with `docker load -i`, `kind load image-archive`, `podman load`)
#   hack/build-images.sh docker   into the local Docker daemon (jib:dockerBuild)
#   hack/build-images.sh push     to a registry (jib:build); set LODESTAR_IMAGE_REGISTRY=<registry/prefix>
# Extra arguments go to Maven (e.g. -o). Jib must pull the base image's layers from its registry (Docker Hub
# by default); where it cannot, this script says so and exits with status 4. Any other failure: status 1.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. hack/jdk.sh || exit 1

mode=tar
case "${1:-}" in
  tar|docker|push) mode=$1; shift ;;
esac

goal=jib:buildTar
extra=()
case "$mode" in
  docker)
    goal=jib:dockerBuild
    if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
      echo "error: 'docker' mode needs a running Docker daemon (docker info failed); the default mode builds tarballs without one." >&2
      exit 1
    fi ;;
  push)
    goal=jib:build
    if [ -z "${LODESTAR_IMAGE_REGISTRY:-}" ]; then
      echo "error: 'push' mode needs LODESTAR_IMAGE_REGISTRY (e.g. ghcr.io/you)." >&2
      exit 1
    fi
    ;;
esac
[ -n "${LODESTAR_IMAGE_BASE:-}" ] && extra+=("-Dlodestar.image.base=$LODESTAR_IMAGE_BASE")
[ -n "${LODESTAR_IMAGE_TAG:-}" ] && extra+=("-Dlodestar.image.tag=$LODESTAR_IMAGE_TAG")
[ -n "${LODESTAR_IMAGE_REGISTRY:-}" ] && extra+=("-Dlodestar.image.registry=$LODESTAR_IMAGE_REGISTRY/")

log=$(mktemp "${TMPDIR:-/tmp}/lodestar-build-images.XXXXXX.log")
echo "building images ($goal) on ${LODESTAR_IMAGE_BASE:-eclipse-temurin:21-jre}; Maven log: $log"
./mvnw -B --fail-at-end package -DskipTests -pl images/epp,images/simulator -am "${extra[@]}" "$@" "$goal" >"$log" 2>&1
status=$?
if [ $status -ne 0 ]; then
  grep -E '^\[ERROR\]' "$log" | head -n 15 >&2
  if grep -qiE 'base image|registry-1\.docker\.io|auth\.docker\.io|UnknownHost|Connect(ion)? (to .* )?(refused|timed out)|I/O error for image|Unauthorized|manifest unknown' "$log"; then
    echo "error: Jib could not fetch the base image ${LODESTAR_IMAGE_BASE:-eclipse-temurin:21-jre} (no access to its registry from here; the exact error is above)." >&2
    echo "       No image was built. Retry where the registry is reachable, or point LODESTAR_IMAGE_BASE at a mirror." >&2
    exit 4
  fi
  echo "error: the image build failed (exit status $status); see $log." >&2
  exit 1
fi
case "$mode" in
  tar) ls -l images/epp/target/jib-image.tar images/simulator/target/jib-image.tar ;;
  *) grep -E 'Built (image|and pushed image)' "$log" ;;
esac
echo "images built ($goal)."
