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

NAME=build-promtool
# shellcheck source=hack/lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-build.sh"
PROMTOOL_BIN="$CACHE/promtool/$PROMETHEUS_MODULE_VERSION/bin"

print_dirs() {
  echo "PROMTOOL_BIN=$PROMTOOL_BIN"
}

if [[ "${1:-}" == "--print" ]]; then
  print_dirs
  [[ -x "$PROMTOOL_BIN/promtool" ]]
  exit $?
fi

find_go

if [[ -x "$PROMTOOL_BIN/promtool" ]]; then
  log "promtool $PROMETHEUS_MODULE_VERSION present"
  print_dirs
  exit 0
fi

export CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false" GOTOOLCHAIN=local

log "cache: $CACHE ($("$GO" version))"
log "compiling promtool (github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION = Prometheus $PROMETHEUS_VERSION) ..."
mkdir -p "$PROMTOOL_BIN"
work=$(new_workdir promtool)
trap 'rm -rf "$work"' EXIT

# go install into a scratch GOBIN, then move, so a half-written binary never sits at the final path.
# The prometheus module has no replace directives, so `go install pkg@version` takes it as it is.
ldflags="-s -w"
for kv in "Version=$PROMETHEUS_VERSION" "Revision=unknown" "Branch=$PROMETHEUS_MODULE_VERSION" "BuildUser=xander" "BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"; do
  ldflags+=" -X github.com/prometheus/common/version.$kv"
done
GOBIN="$work/bin" run_logged "$work/build.log" "$GO" install -v -trimpath -ldflags "$ldflags" \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
# $work is under the cache too, so this is a rename on one filesystem: atomic.
mv -f "$work/bin/promtool" "$PROMTOOL_BIN/promtool"
log "promtool done: $PROMTOOL_BIN/promtool ($("$PROMTOOL_BIN/promtool" --version 2>&1 | head -n 1))"
print_dirs
