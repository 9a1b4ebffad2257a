#!/usr/bin/env bash
# Builds llm-d-inference-sim, the public Go vLLM simulator, at a pinned tag from the Go module proxy,
# for the interop tests. Prints the binary's path on stdout (progress goes to stderr). Cached: once
# built, later runs only print the path.
#
#   LLMD_INFERENCE_SIM_VERSION  tag to build (default v0.10.2)
#   LODESTAR_CACHE_DIR          where binaries are kept (default ~/.cache/lodestar)
set -euo pipefail

version=${LLMD_INFERENCE_SIM_VERSION:-v0.10.2}
cache=${LODESTAR_CACHE_DIR:-$HOME/.cache/lodestar}
package=github.com/llm-d/llm-d-inference-sim/cmd/llm-d-inference-sim
bin="$cache/bin/llm-d-inference-sim-$version"

if [ -x "$bin" ]; then
  printf '%s\n' "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build llm-d-inference-sim for the interop tests (https://go.dev/dl/)." >&2
  exit 1
fi
mkdir -p "$cache/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building llm-d-inference-sim $version (first run only; a few minutes on 2 cores)..." >&2
if ! GOBIN="$work/bin" go install "$package@$version" >&2; then
  # `go install pkg@version` also asks the proxy for the module's version list (to report deprecation),
  # and some module proxies refuse that list (403). A throwaway module that requires the exact version
  # builds the same code without asking for the list.
  echo "go install failed; building through a throwaway module instead" >&2
  (cd "$work" && go mod init lodestar.local/llmd-sim-build >/dev/null 2>&1 \
    && go get "$package@$version" >&2 \
    && go build -o "$work/bin/llm-d-inference-sim" "$package" >&2)
fi
mv "$work/bin/llm-d-inference-sim" "$bin"
printf '%s\n' "$bin"
