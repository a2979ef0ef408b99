#!/usr/bin/env bash
# Builds the Kubernetes test tools from the Go module proxy into a cache outside the repository,
# one directory per tool and version, so a second run (and every CI run after the first on a
# machine) costs seconds:
#   $SLUICE_K8S_CACHE (default ${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}/k8s)/
#     kubernetes-<v>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#     etcd-<v>/bin/etcd      kwok-<v>/bin/kwok      helm-<v>/bin/helm
# Versions: scripts/k8s-tools.versions. There is no Docker and no internet here, only the
# registries; k8s.io/kubernetes is not meant to be a dependency (its go.mod replaces its staging
# modules with ./staging paths), so a throwaway wrapper module repeats those replaces with the
# published k8s.io/* v0.X.Y versions. etcd is built in the same module: the version Kubernetes
# itself is tested with, and the build shares the compile cache.
# Usage: scripts/k8s-tools.sh [--print-env]   (--print-env: prints tool=bin-dir lines, builds nothing)
# Cold build: ~26 CPU-minutes (measured 49 min wall on 2 busy shared cores); cached: under a second.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[k8s-tools] %s\n' "$*" >&2; }
ver() { sed -n "s/^$1=//p" "$ROOT/scripts/k8s-tools.versions"; }
K8S="$(ver kubernetes)" ETCD="$(ver etcd)" KWOK="$(ver kwok)" HELM="$(ver helm)"
CACHE="${SLUICE_K8S_CACHE:-${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}/k8s}"
export GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0

# A Go new enough for these modules (go 1.26 in kwok's and helm's go.mod). Debian's golang-go is
# too old, so without one the toolchain comes from the Go module proxy (golang.org/toolchain, the
# same zip `GOTOOLCHAIN=auto` fetches), cached like the tools.
ensure_go() {
  local want; want="$(ver go)"
  if command -v go >/dev/null; then
    local have; have="$(go env GOVERSION 2>/dev/null || true)"
    # go >= 1.21 switches to the toolchain a go.mod asks for by itself (GOTOOLCHAIN=auto).
    if [ -n "$have" ] && [ "$(printf '%s\n' go1.21 "$have" | sort -V | head -1)" = go1.21 ]; then return 0; fi
  fi
  local dir="$CACHE/go-$want" arch
  arch="$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')"
  if [ ! -x "$dir/bin/go" ]; then
    log "fetching Go $want from the module proxy"
    local tmp; tmp="$(mktemp -d)"
    curl -fsSL "${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-$want.linux-$arch.zip" -o "$tmp/go.zip"
    python3 -m zipfile -e "$tmp/go.zip" "$tmp/x"
    rm -rf "$dir" && mv "$tmp/x/golang.org/toolchain@v0.0.1-$want.linux-$arch" "$dir" && rm -rf "$tmp"
    # Module zips carry no file modes.
    chmod -R +x "$dir/bin" "$dir/pkg/tool"
  fi
  export PATH="$dir/bin:$PATH" GOTOOLCHAIN=local
}

if [ "${1:-}" = "--print-env" ]; then
  printf 'kubernetes=%s\netcd=%s\nkwok=%s\nhelm=%s\n' "$CACHE/kubernetes-$K8S/bin" "$CACHE/etcd-$ETCD/bin" \
    "$CACHE/kwok-$KWOK/bin" "$CACHE/helm-$HELM/bin"
  exit 0
fi

# have DIR BIN... : every binary present (a build that died half way leaves none: we move the
# finished directory into place at the end).
have() { local d="$1"; shift; for b in "$@"; do [ -x "$d/bin/$b" ] || return 1; done; }
timed() { local t0=$SECONDS; "$@"; log "$1 ${2:-}: $((SECONDS - t0)) s"; }

# The wrapper module for k8s.io/kubernetes and etcd.
wrapper() {
  local dir="$CACHE/.wrapper-$K8S-etcd-$ETCD"
  if [ ! -f "$dir/go.sum" ]; then
    mkdir -p "$dir"
    local mod
    mod="$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
    local staging="v0.${K8S#v1.}"
    {
      printf 'module sluice.dev/k8s-tools\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S"
      sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$mod"
      printf ')\n'
    } > "$dir/go.mod.tmp"
    mv "$dir/go.mod.tmp" "$dir/go.mod"
    # Pins etcd; the builds below add go.sum entries as they go (-mod=mod): a `go mod tidy` would
    # resolve the test dependencies of all of Kubernetes for nothing.
    (cd "$dir" && go get "go.etcd.io/etcd/server/v3@$ETCD" 2>&1 | grep -v '^go: downloading' >&2 || true)
    touch "$dir/go.sum"
  fi
  echo "$dir"
}

ldflags_k8s() {
  local minor="${K8S#v1.}"; minor="${minor%%.*}"
  local x
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "-s -w$x"
}

build_kubernetes() {
  local out="$CACHE/kubernetes-$K8S"
  have "$out" kube-apiserver kube-controller-manager kube-scheduler kubectl && return 0
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S (cold: tens of minutes on 2 cores)"
  local w; w="$(wrapper)"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin"
  (cd "$w" && go build -mod=mod -ldflags "$(ldflags_k8s)" -o "$out.tmp/bin/" k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_etcd() {
  local out="$CACHE/etcd-$ETCD"
  have "$out" etcd && return 0
  log "building etcd $ETCD"
  local w; w="$(wrapper)"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin"
  (cd "$w" && go build -mod=mod -ldflags "-s -w" -o "$out.tmp/bin/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$out" && mv "$out.tmp" "$out"
}

# go install of a module's command (these go.mods have no replace directives).
build_install() {
  local name="$1" pkg="$2" version="$3" ldflags="${4:-}"
  local out="$CACHE/$name-$version"
  have "$out" "$name" && return 0
  log "building $name $version"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin"
  GOBIN="$out.tmp/bin" go install -ldflags "-s -w $ldflags" "$pkg@$version"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

mkdir -p "$CACHE"
ensure_go
# One build at a time (two bootstraps on one machine would race on the .tmp directories).
exec 9>"$CACHE/.lock"
flock -w 3600 9 || { log "another k8s-tools build holds $CACHE/.lock"; exit 1; }
timed build_etcd
timed build_kubernetes
timed build_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK" "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK#v}"
timed build_install helm helm.sh/helm/v3/cmd/helm "$HELM" "-X helm.sh/helm/v3/internal/version.version=$HELM"
log "tools ready under $CACHE"
