#!/usr/bin/env bash
# Builds hack/cadvisor (cAdvisor's container manager as the kubelet embeds it, raw cgroup factory only), which
# `npm run bench -- process` runs beside Xander, into a cache outside the repository keyed by the cAdvisor
# version and a hash of the program's source. Nothing is written inside the repository.
#
#   hack/build-cadvisor.sh            build cadvisor-bench if it is missing, print its bin dir
#   hack/build-cadvisor.sh --print    only print the bin dir (exit 1 if cadvisor-bench is missing)
#
# Environment: XANDER_CACHE (default ~/.cache/xander), GO (default: go on PATH,
# else /usr/local/go/bin/go), BUILD_NICE (default 10).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/cadvisor" && pwd)"
# The version the kubelet of hack/build-k8s.sh (v1.34) embeds; hack/cadvisor/go.mod pins it.
CADVISOR_VERSION=$(awk '$1 == "github.com/google/cadvisor" { print $2 }' "$SRC/go.mod")
SOURCE_HASH=$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | sha256sum | cut -c1-12)

NAME=build-cadvisor
# shellcheck source=hack/lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-build.sh"
CADVISOR_BIN="$CACHE/cadvisor/$CADVISOR_VERSION-$SOURCE_HASH/bin"

print_dirs() {
  echo "CADVISOR_BIN=$CADVISOR_BIN"
}

if [[ "${1:-}" == "--print" ]]; then
  print_dirs
  [[ -x "$CADVISOR_BIN/cadvisor-bench" ]]
  exit $?
fi

find_go

if [[ -x "$CADVISOR_BIN/cadvisor-bench" ]]; then
  log "cadvisor-bench $CADVISOR_VERSION ($SOURCE_HASH) present"
  print_dirs
  exit 0
fi

export CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false" GOTOOLCHAIN=local

log "cache: $CACHE ($("$GO" version))"
log "compiling cadvisor-bench over github.com/google/cadvisor $CADVISOR_VERSION ..."
mkdir -p "$CADVISOR_BIN"
work=$(new_workdir cadvisor)
trap 'rm -rf "$work"' EXIT

# Built into the scratch dir, then moved, so a half-written binary never sits at the final path.
# go.sum is complete, so the default -mod=readonly writes nothing next to the source.
(cd "$SRC" && run_logged "$work/build.log" "$GO" build -v -trimpath -ldflags "-s -w" -o "$work/cadvisor-bench" .)
# $work is under the cache too, so this is a rename on one filesystem: atomic.
mv -f "$work/cadvisor-bench" "$CADVISOR_BIN/cadvisor-bench"
log "cadvisor-bench done: $CADVISOR_BIN/cadvisor-bench"
print_dirs
