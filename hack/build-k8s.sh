#!/usr/bin/env bash
# Builds the real control-plane and node binaries the integration tests run against:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and a matching kubectl
# (k8s.io/kubernetes), etcd and helm, all from Go modules, into a cache outside the repository keyed by
# version. Nothing is written inside the repository.
#
#   hack/build-k8s.sh            build whatever is missing, print the bin dirs
#   hack/build-k8s.sh --print    only print the bin dirs (exit 1 if any binary is missing)
#
# Environment: XANDER_CACHE (default ~/.cache/xander), GO (default: go on PATH,
# else /usr/local/go/bin/go), BUILD_NICE (default 10).
set -euo pipefail

K8S_VERSION=v1.34.3
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.19.5

NAME=build-k8s
# shellcheck source=hack/lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-build.sh"
K8S_BIN="$CACHE/k8s/$K8S_VERSION/bin"
ETCD_BIN="$CACHE/etcd/$ETCD_VERSION/bin"
HELM_BIN="$CACHE/helm/$HELM_VERSION/bin"

find_go

print_dirs() {
  echo "K8S_BIN=$K8S_BIN"
  echo "ETCD_BIN=$ETCD_BIN"
  echo "HELM_BIN=$HELM_BIN"
}

K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

# The k8s.io/kubernetes commands not yet in the cache.
missing_kube() {
  local c
  for c in "${K8S_CMDS[@]}"; do [[ -x "$K8S_BIN/$c" ]] || echo "$c"; done
}

have_kube() {
  [[ -z "$(missing_kube)" ]]
}

have_all() {
  have_kube && [[ -x "$ETCD_BIN/etcd" && -x "$HELM_BIN/helm" ]]
}

if [[ "${1:-}" == "--print" ]]; then
  print_dirs
  have_all
  exit $?
fi

export CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false -mod=mod" GOTOOLCHAIN=local

build_etcd() {
  [[ -x "$ETCD_BIN/etcd" ]] && { log "etcd $ETCD_VERSION present"; return; }
  log "compiling etcd $ETCD_VERSION ..."
  local work; work=$(new_workdir etcd)
  mkdir -p "$ETCD_BIN"
  # go.etcd.io/etcd/server/v3 has relative replace directives in its go.mod, so
  # `go install pkg@version` refuses it; a wrapper module resolves it normally.
  (
    cd "$work"
    "$GO" mod init xander.local/build/etcd >"$work/get.log" 2>&1
    "$GO" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >>"$work/get.log" 2>&1 || {
      log "go get failed:"; tail -n 40 "$work/get.log" >&2; exit 1; }
    run_logged "$work/build.log" "$GO" build -v -trimpath -ldflags "-s -w" \
      -o "$ETCD_BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  )
  mv -f "$ETCD_BIN/etcd.tmp" "$ETCD_BIN/etcd"
  rm -rf "$work"
  log "etcd done: $ETCD_BIN/etcd"
}

build_helm() {
  [[ -x "$HELM_BIN/helm" ]] && { log "helm $HELM_VERSION present"; return; }
  log "compiling helm $HELM_VERSION ..."
  local work; work=$(new_workdir helm)
  mkdir -p "$HELM_BIN"
  # go install into a scratch GOBIN, then move, so a half-written binary never
  # sits at the final path.
  local ver=${HELM_VERSION#v}
  GOBIN="$work/bin" GOFLAGS="-buildvcs=false" run_logged "$work/build.log" \
    "$GO" install -v -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv -f "$work/bin/helm" "$HELM_BIN/helm"
  rm -rf "$work"
  log "helm done: $HELM_BIN/helm (${ver})"
}

build_kube() {
  local cmds
  mapfile -t cmds < <(missing_kube)
  if [[ ${#cmds[@]} -eq 0 ]]; then
    log "${K8S_CMDS[*]} $K8S_VERSION present"
    return
  fi
  local work; work=$(new_workdir k8s)
  mkdir -p "$K8S_BIN"
  log "resolving k8s.io/kubernetes@$K8S_VERSION ..."
  local gomod
  gomod=$(cd "$work" && "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  [[ -f "$gomod" ]] || { log "could not download k8s.io/kubernetes@$K8S_VERSION"; exit 1; }

  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
  # with ./staging paths that do not exist outside its repository. Point each of
  # them at the published release with the same minor (v1.34.3 -> v0.34.3).
  local staging_ver="v0.${K8S_VERSION#v1.}"
  local mods
  mods=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u)
  [[ -n "$mods" ]] || { log "no v0.0.0 staging modules found in $gomod"; exit 1; }
  {
    echo "module xander.local/build/k8s"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    for m in $mods; do echo "	$m => $m $staging_ver"; done
    echo ")"
  } >"$work/go.mod"
  log "  $(wc -w <<<"$mods") staging modules replaced with $staging_ver"

  local pkgs=("${cmds[@]/#/k8s.io/kubernetes/cmd/}")
  (cd "$work" && nice -n "$NICE" "$GO" get "${pkgs[@]/%/@$K8S_VERSION}" >"$work/get.log" 2>&1) || {
    log "go get failed:"; tail -n 40 "$work/get.log" >&2; exit 1; }

  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitCommit=0000000000000000000000000000000000000000"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done

  # Only the missing commands are built, so adding one to K8S_CMDS does not relink the others.
  log "compiling ${cmds[*]} $K8S_VERSION (one go build, shared packages compile once) ..."
  local out="$work/out"
  mkdir -p "$out"
  (cd "$work" && run_logged "$work/build.log" "$GO" build -v -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  local c
  for c in "${cmds[@]}"; do mv -f "$out/$c" "$K8S_BIN/$c"; done
  rm -rf "$work"
  log "kube done: $K8S_BIN"
}

log "cache: $CACHE ($("$GO" version))"
build_etcd
build_helm
build_kube
log "all binaries ready"
print_dirs
