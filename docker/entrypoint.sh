#!/bin/sh
# Entrypoint of the services image: the first argument names the part to run; the rest are its
# arguments (the operator passes `--runtime /etc/sluice/runtime.json` to every service).
set -eu
svc="${1:-help}"
[ "$#" -gt 0 ] && shift
case "$svc" in
  operator) exec node /app/services/operator/dist/main.js "$@" ;;
  gateway | actor | sandbox | reward | learner) exec node "/app/services/$svc/dist/main.js" "$@" ;;
  sluice) exec node /app/services/cli/dist/main.js "$@" ;;
  kubectl-sluice) exec node /app/services/operator/dist/kubectl-sluice.js "$@" ;;
  help | --help | -h)
    echo "usage: <operator|gateway|actor|sandbox|reward|learner|sluice|kubectl-sluice> [args...]"
    ;;
  *) exec "$svc" "$@" ;;
esac
