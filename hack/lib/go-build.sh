# Shared by the hack/build-*.sh scripts, which build real binaries from Go modules into a cache outside the
# repository. Source it after setting NAME (the script's name in log lines); it sets CACHE, NICE and GO
# (or exits when there is no Go toolchain) and defines log and run_logged.
#
# Environment: XANDER_CACHE (default ~/.cache/xander), GO (default: go on PATH, else
# /usr/local/go/bin/go), BUILD_NICE (default 10).

CACHE="${XANDER_CACHE:-$HOME/.cache/xander}"
NICE="${BUILD_NICE:-10}"
START=$SECONDS

log() {
  local s=$((SECONDS - START))
  printf '[%s %02d:%02d:%02d] %s\n' "$NAME" $((s / 3600)) $((s % 3600 / 60)) $((s % 60)) "$*"
}

find_go() {
  if [[ -n "${GO:-}" ]]; then :
  elif command -v go >/dev/null 2>&1; then GO=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else echo "$NAME: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1
  fi
}

# Runs a `go build -v`-style command with its package list going to a log file, and prints
# "N packages compiled" every 30 s so a long build shows progress.
run_logged() {
  local logfile=$1; shift
  : >"$logfile"
  nice -n "$NICE" "$@" >>"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in 1 2 3 4 5 6; do
      sleep 5
      kill -0 "$pid" 2>/dev/null || break 2
    done
    log "  $(grep -c -v -e '^go: ' -e '^#' "$logfile" || true) packages compiled ($logfile)"
  done
  if ! wait "$pid"; then
    log "FAILED: $* (last lines of $logfile follow)"
    tail -n 40 "$logfile" >&2
    return 1
  fi
}

# A scratch directory under the cache, so a build writes nothing in the repository and its result moves
# to the final path by a rename on one filesystem: a half-written binary never sits there.
new_workdir() {
  local dir
  mkdir -p "$CACHE/tmp"
  dir=$(mktemp -d "$CACHE/tmp/$1.XXXXXX")
  echo "$dir"
}
