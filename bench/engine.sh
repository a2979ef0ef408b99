#!/usr/bin/env bash
# Engine benchmark: forward_backward tokens/s through gRPC vs the same step in-process,
# measured side by side in one run. Prints figures and a last line of JSON.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$ROOT/.venv/bin/python" -m sluice_engine.bench "$@"
