#!/usr/bin/env bash
# Every test, from a fresh machine: bootstrap (idempotent), lint, engine pytest, then the
# TypeScript unit, integration and end-to-end suites against real nats-server,
# bubblewrap, the PyTorch engine and a real kube-apiserver (the Kubernetes tools build into a
# cache outside the checkout the first time; SLUICE_SKIP_K8S_TOOLS=1 skips them and their tests).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh --with-k8s-tools
section() { printf '\n=== %s ===\n' "$*"; }

section "lint: buf, eslint, prettier, ruff"
(cd proto && ../node_modules/.bin/buf lint)
npx eslint .
npx prettier --check .
.venv/bin/ruff check services/engine
.venv/bin/ruff format --check services/engine

section "engine: pytest"
(cd services/engine && ../../.venv/bin/python -m pytest -q)

section "typescript: unit"
node scripts/run-tests.mjs unit
section "typescript: integration"
node scripts/run-tests.mjs integration
section "end to end"
node scripts/run-tests.mjs e2e
