#!/usr/bin/env bash
# Builds llm-d Router's Endpoint Picker (the Go EPP, github.com/llm-d/llm-d-router/cmd/epp) at a pinned tag,
# for the side-by-side benchmarks (bench/run-llm-d-router.sh). Prints the binary's path on stdout (progress
# and Go's own errors go to stderr). Cached: once built, later runs only print the path.
#
#   LLMD_ROUTER_VERSION  tag to build (default v0.10.0)
#   LLMD_ROUTER_GIT      a git repository (bare or not) holding the tag, used when the Go module proxy does
#                        not serve it (default: https://github.com/llm-d/llm-d-router.git)
#   LODESTAR_CACHE_DIR   where binaries are kept (default ~/.cache/lodestar)
#
# Three ways, first that works:
#   1. go install github.com/llm-d/llm-d-router/cmd/epp@<tag> (the module proxy);
#   2. a throwaway module that requires <tag> (for proxies that refuse the version list with 403);
#   3. the tag's source tree from git (`git archive <tag>`) built with `go build ./cmd/epp`, its own go.mod
#      and go.sum (dependencies still come from the proxy). Same code as 1: the tag's commit.
set -euo pipefail

version=${LLMD_ROUTER_VERSION:-v0.10.0}
cache=${LODESTAR_CACHE_DIR:-$HOME/.cache/lodestar}
git_src=${LLMD_ROUTER_GIT:-https://github.com/llm-d/llm-d-router.git}
module=github.com/llm-d/llm-d-router
package=$module/cmd/epp
bin="$cache/bin/llm-d-router-epp-$version"

if [ -x "$bin" ]; then
  printf '%s\n' "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build llm-d Router's EPP (https://go.dev/dl/)." >&2
  exit 1
fi
mkdir -p "$cache/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The upstream image build: static, stripped, with the version stamped in.
ldflags="-s -w -X $module/version.BuildRef=$version"
export CGO_ENABLED=0

from_proxy() {
  GOBIN="$work/bin" go install -ldflags="$ldflags" "$package@$version" && return 0
  # `go install pkg@version` also asks the proxy for the module's version list (to report deprecation),
  # and some module proxies refuse that list (403). A throwaway module that requires the exact version
  # builds the same code without asking for the list.
  echo "go install failed (above); trying a throwaway module" >&2
  (cd "$work" && mkdir -p mod && cd mod && go mod init lodestar.local/llmd-router-build >/dev/null 2>&1 \
    && go get "$package@$version" && go build -ldflags="$ldflags" -o "$work/bin/epp" "$package")
}

from_git() {
  echo "building from the $version source tree of $git_src" >&2
  local src="$work/src" repo="$git_src"
  mkdir -p "$src"
  if [ ! -d "$repo" ]; then
    git clone -q --bare --depth 1 --branch "$version" "$repo" "$work/repo.git" || return 1
    repo="$work/repo.git"
  fi
  local commit
  commit=$(git -C "$repo" rev-parse --verify -q "$version^{commit}") || { echo "error: no tag $version in $repo" >&2; return 1; }
  git -C "$repo" archive "$commit" | tar -x -C "$src" || return 1
  (cd "$src" && go build -trimpath -ldflags="$ldflags -X $module/version.CommitSHA=$commit" -o "$work/bin/epp" ./cmd/epp)
}

echo "building llm-d Router EPP $version (first run only; several minutes on 2 cores)..." >&2
start=$(date +%s)
if ! from_proxy >&2; then
  echo "the Go module proxy did not give $package@$version (Go's error above)" >&2
  if ! from_git >&2; then
    echo "error: could not build llm-d Router EPP $version (Go's and git's errors above)" >&2
    exit 1
  fi
fi
mv "$work/bin/epp" "$bin"
echo "built $bin in $(( $(date +%s) - start )) s" >&2
printf '%s\n' "$bin"
