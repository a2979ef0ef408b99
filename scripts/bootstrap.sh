#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: system packages, npm packages, the
# engine's Python venv, generated contracts and the TypeScript build. Each step is
# skipped when its inputs have not changed, so running it again costs seconds.
# --with-k8s-tools (scripts/test.sh passes it) also builds the Kubernetes test tools
# (kube-apiserver, etcd, kwok, helm...) into a cache outside the checkout: ~26 CPU-minutes the
# first time (15-50 min on two cores, depending on load), under a second after. `sluice up`
# does not need them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMPS="$ROOT/.sluice/stamps"
mkdir -p "$STAMPS"
log() { printf '[bootstrap] %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# 1. Debian packages (nats-server for JetStream, bubblewrap for sandboxes; git, patch, prlimit
#    and setpriv (util-linux) for task workspaces, grading and sandbox limits).
missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v patch >/dev/null 2>&1 || missing+=(patch)
command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# 2. npm packages.
npm_hash="$(hash_of package-lock.json)"
if [ ! -d node_modules ] || [ "$(cat "$STAMPS/npm" 2>/dev/null)" != "$npm_hash" ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > "$STAMPS/npm"
fi

# 3. Python venv for the engine.
PY="${SLUICE_BOOTSTRAP_PYTHON:-python3}"
py_hash="$(hash_of services/engine/requirements.txt services/engine/pyproject.toml)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$STAMPS/venv" 2>/dev/null)" != "$py_hash" ]; then
  log "creating the engine venv (.venv)"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r services/engine/requirements.txt
  .venv/bin/pip install -q --no-deps -e services/engine
  echo "$py_hash" > "$STAMPS/venv"
fi

# 4. Contracts and TypeScript build (incremental).
log "generating contracts and building"
node scripts/gen-proto.mjs >/dev/null
npx tsc -b

# 5. Kubernetes test tools, only when asked (tests; a local `sluice up` never needs them).
if [ "${1:-}" = "--with-k8s-tools" ] || [ "${SLUICE_K8S_TOOLS:-0}" = "1" ]; then
  if [ "${SLUICE_SKIP_K8S_TOOLS:-0}" = "1" ]; then
    log "SLUICE_SKIP_K8S_TOOLS=1: not building the Kubernetes test tools (their tests skip)"
  else
    command -v curl >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq curl >/dev/null
    bash scripts/k8s-tools.sh
  fi
fi
