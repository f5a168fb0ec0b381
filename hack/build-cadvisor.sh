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

CACHE="${XANDER_CACHE:-$HOME/.cache/xander}"
CADVISOR_BIN="$CACHE/cadvisor/$CADVISOR_VERSION-$SOURCE_HASH/bin"
NICE="${BUILD_NICE:-10}"

print_dirs() {
  echo "CADVISOR_BIN=$CADVISOR_BIN"
}

if [[ "${1:-}" == "--print" ]]; then
  print_dirs
  [[ -x "$CADVISOR_BIN/cadvisor-bench" ]]
  exit $?
fi

if [[ -n "${GO:-}" ]]; then :
elif command -v go >/dev/null 2>&1; then GO=$(command -v go)
elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
else echo "build-cadvisor: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1
fi

START=$SECONDS
log() {
  local s=$((SECONDS - START))
  printf '[build-cadvisor %02d:%02d:%02d] %s\n' $((s / 3600)) $((s % 3600 / 60)) $((s % 60)) "$*"
}

if [[ -x "$CADVISOR_BIN/cadvisor-bench" ]]; then
  log "cadvisor-bench $CADVISOR_VERSION ($SOURCE_HASH) present"
  print_dirs
  exit 0
fi

export CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false" GOTOOLCHAIN=local

log "cache: $CACHE ($("$GO" version))"
log "compiling cadvisor-bench over github.com/google/cadvisor $CADVISOR_VERSION ..."
mkdir -p "$CACHE/tmp" "$CADVISOR_BIN"
work=$(mktemp -d "$CACHE/tmp/cadvisor.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The same progress report as build-k8s.sh: the package list goes to a log, a count every 30 s.
: >"$work/build.log"
# Built into the scratch dir, then moved, so a half-written binary never sits at the final path.
# go.sum is complete, so the default -mod=readonly writes nothing next to the source.
(cd "$SRC" && nice -n "$NICE" "$GO" build -v -trimpath -ldflags "-s -w" -o "$work/cadvisor-bench" . >>"$work/build.log" 2>&1) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  for _ in 1 2 3 4 5 6; do
    sleep 5
    kill -0 "$pid" 2>/dev/null || break 2
  done
  log "  $(grep -c -v -e '^go: ' -e '^#' "$work/build.log" || true) packages compiled"
done
if ! wait "$pid"; then
  log "FAILED: go build in $SRC (last lines of its log follow)"
  tail -n 40 "$work/build.log" >&2
  exit 1
fi
# $work is under the cache too, so this is a rename on one filesystem: atomic.
mv -f "$work/cadvisor-bench" "$CADVISOR_BIN/cadvisor-bench"
log "cadvisor-bench done: $CADVISOR_BIN/cadvisor-bench"
print_dirs
