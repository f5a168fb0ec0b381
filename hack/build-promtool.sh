#!/usr/bin/env bash
# Builds promtool, which checks and unit-tests the chart's PrometheusRule and lints the agent's
# /metrics exposition (test/integration/prometheus-rules.test.ts), from Go modules into a cache
# outside the repository keyed by version. Nothing is written inside the repository.
#
#   hack/build-promtool.sh            build promtool if it is missing, print its bin dir
#   hack/build-promtool.sh --print    only print the bin dir (exit 1 if promtool is missing)
#
# Environment: XANDER_CACHE (default ~/.cache/xander), GO (default: go on PATH,
# else /usr/local/go/bin/go), BUILD_NICE (default 10).
set -euo pipefail

# Prometheus 3.x publishes its Go module as v0.<major><minor>.<patch>: v0.316.0 is Prometheus 3.16.0.
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0

CACHE="${XANDER_CACHE:-$HOME/.cache/xander}"
PROMTOOL_BIN="$CACHE/promtool/$PROMETHEUS_MODULE_VERSION/bin"
NICE="${BUILD_NICE:-10}"

print_dirs() {
  echo "PROMTOOL_BIN=$PROMTOOL_BIN"
}

if [[ "${1:-}" == "--print" ]]; then
  print_dirs
  [[ -x "$PROMTOOL_BIN/promtool" ]]
  exit $?
fi

if [[ -n "${GO:-}" ]]; then :
elif command -v go >/dev/null 2>&1; then GO=$(command -v go)
elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
else echo "build-promtool: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1
fi

START=$SECONDS
log() {
  local s=$((SECONDS - START))
  printf '[build-promtool %02d:%02d:%02d] %s\n' $((s / 3600)) $((s % 3600 / 60)) $((s % 60)) "$*"
}

if [[ -x "$PROMTOOL_BIN/promtool" ]]; then
  log "promtool $PROMETHEUS_MODULE_VERSION present"
  print_dirs
  exit 0
fi

export CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false" GOTOOLCHAIN=local

log "cache: $CACHE ($("$GO" version))"
log "compiling promtool (github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION = Prometheus $PROMETHEUS_VERSION) ..."
mkdir -p "$CACHE/tmp" "$PROMTOOL_BIN"
work=$(mktemp -d "$CACHE/tmp/promtool.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The same progress report as build-k8s.sh: the package list goes to a log, a count every 30 s.
: >"$work/build.log"
# go install into a scratch GOBIN, then move, so a half-written binary never sits at the final path.
# The prometheus module has no replace directives, so `go install pkg@version` takes it as it is.
ldflags="-s -w"
for kv in "Version=$PROMETHEUS_VERSION" "Revision=unknown" "Branch=$PROMETHEUS_MODULE_VERSION" "BuildUser=xander" "BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"; do
  ldflags+=" -X github.com/prometheus/common/version.$kv"
done
GOBIN="$work/bin" nice -n "$NICE" "$GO" install -v -trimpath -ldflags "$ldflags" \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" >>"$work/build.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  for _ in 1 2 3 4 5 6; do
    sleep 5
    kill -0 "$pid" 2>/dev/null || break 2
  done
  log "  $(grep -c -v -e '^go: ' -e '^#' "$work/build.log" || true) packages compiled"
done
if ! wait "$pid"; then
  log "FAILED: go install github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION (last lines of its log follow)"
  tail -n 40 "$work/build.log" >&2
  exit 1
fi
# $work is under the cache too, so this is a rename on one filesystem: atomic.
mv -f "$work/bin/promtool" "$PROMTOOL_BIN/promtool"
log "promtool done: $PROMTOOL_BIN/promtool ($("$PROMTOOL_BIN/promtool" --version 2>&1 | head -n 1))"
print_dirs
