#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd for the controllers' *IT tests, from their Go modules through
# the Go module proxy: hack/kube-test-env/ is a small Go module that depends on k8s.io/kubernetes (with
# replaces for its k8s.io staging modules) and on go.etcd.io/etcd/server/v3, at the versions in its
# go.mod (go.sum committed). Prints two lines on stdout (progress and errors go to stderr):
#
#   KUBE_APISERVER=<path>
#   ETCD=<path>
#
# Cached: binaries are kept as $LODESTAR_CACHE_DIR/bin/kube-apiserver-<version> and etcd-<version>;
# once built, later runs only print the paths. A cold build takes about 15 minutes on 2 cores
# (measured: etcd 2 min, kube-apiserver 15 min, on a loaded machine) and about 3 GB of Go build cache.
#
#   LODESTAR_CACHE_DIR  where binaries are kept (default ~/.cache/lodestar)
set -euo pipefail
cd "$(dirname "$0")/kube-test-env"

cache=${LODESTAR_CACHE_DIR:-$HOME/.cache/lodestar}
# The version of module $1 in go.mod (`require m v`, or `m v` inside a require block).
version_of() { sed -n "s|^\(require\)\{0,1\}[[:space:]]*$1 \(v[^ ]*\).*|\2|p" go.mod | head -n 1; }
kube_version=$(version_of k8s.io/kubernetes)
etcd_version=$(version_of go.etcd.io/etcd/server/v3)
apiserver="$cache/bin/kube-apiserver-$kube_version"
etcd="$cache/bin/etcd-$etcd_version"

print_paths() { printf 'KUBE_APISERVER=%s\nETCD=%s\n' "$apiserver" "$etcd"; }
if [ -z "$kube_version" ] || [ -z "$etcd_version" ]; then
  echo "error: could not read the kubernetes and etcd versions from hack/kube-test-env/go.mod" >&2
  exit 1
fi
if [ -x "$apiserver" ] && [ -x "$etcd" ]; then
  print_paths
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build kube-apiserver and etcd for the controllers' tests (https://go.dev/dl/)." >&2
  exit 1
fi
# go.mod's `go` line is the oldest Go that builds kubernetes. An older local Go (>= 1.21) can fetch a
# newer toolchain from the Go module proxy; go1.27.3 is the one this workplace's proxy serves.
need=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)
have=$(go env GOVERSION | sed 's/^go//')
older() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]; }
if older "$have" 1.21; then
  echo "error: Go $have is too old for kubernetes $kube_version (it needs Go $need) and cannot fetch a newer" >&2
  echo "       toolchain (Go >= 1.21 can: GOTOOLCHAIN). Install Go >= $need (https://go.dev/dl/)." >&2
  exit 1
fi
if older "$have" "$need"; then
  echo "Go $have is older than the Go $need that kubernetes $kube_version needs; using GOTOOLCHAIN=go1.27.3" >&2
  export GOTOOLCHAIN=go1.27.3
fi

mkdir -p "$cache/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Small, reproducible binaries: no paths of this machine, no symbol tables. The version variables are
# what kubernetes' own build sets (hack/lib/version.sh), so /version reports the real release.
export GOFLAGS="${GOFLAGS:-} -trimpath -mod=readonly"
minor=${kube_version#v1.}; minor=${minor%%.*}
kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$kube_version \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/component-base/version.gitTreeState=clean"

build() { # name, output, package, ldflags
  local start=$SECONDS
  echo "building $1 (first run only; kube-apiserver takes about 15 minutes on 2 cores)..." >&2
  if ! go build -ldflags="$4" -o "$work/$1" "$3" >"$work/$1.log" 2>&1; then
    cat "$work/$1.log" >&2
    echo "error: could not build $1 from hack/kube-test-env ($3); the exact error is above." >&2
    exit 1
  fi
  mv "$work/$1" "$2"
  echo "built $1 in $((SECONDS - start)) s: $2" >&2
}
[ -x "$etcd" ] || build etcd "$etcd" ./etcd "-s -w"
[ -x "$apiserver" ] || build kube-apiserver "$apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
print_paths
