#!/usr/bin/env bash
# G-RA demo (arXiv 2508.10548): trains the tiny model on the farmable "farm" environment once
# with D-RA and once with G-RA (specs identical except reward.composition), one run after the
# other, then prints completion rate (CR) and mean total reward over training side by side and
# a last line of JSON. Usage: examples/gra-demo/run.sh [--steps N] [--out DIR] [--every K]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STEPS=""
OUT="${TMPDIR:-/tmp}/sluice-gra-demo"
EVERY=5
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --every) EVERY="$2"; shift 2 ;;
    *) echo "usage: $0 [--steps N] [--out DIR] [--every K]" >&2; exit 2 ;;
  esac
done

for kind in dra gra; do
  rm -rf "$OUT/$kind"
  mkdir -p "$OUT"
  echo "gra-demo: training with $kind -> $OUT/$kind (log: $OUT/$kind.log)" >&2
  args=(up -f "$HERE/$kind.yaml" --run-dir "$OUT/$kind")
  [ -n "$STEPS" ] && args+=(--steps "$STEPS")
  if ! "$ROOT/bin/sluice" "${args[@]}" >"$OUT/$kind.log" 2>&1; then
    echo "gra-demo: the $kind run failed; last lines of $OUT/$kind.log:" >&2
    tail -n 20 "$OUT/$kind.log" >&2
    exit 1
  fi
  tail -n 1 "$OUT/$kind.log" >&2
done

node "$HERE/report.mjs" "$OUT/dra/summary.json" "$OUT/gra/summary.json" "$EVERY"
