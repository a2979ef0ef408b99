# syntax=docker/dockerfile:1.7
# One image for every TypeScript part of Sluice: operator, gateway, actor, sandbox, reward, learner
# and the `sluice` / `kubectl-sluice` CLIs. The first argument picks the entrypoint
# (docker/entrypoint.sh), e.g. `operator`, or `gateway --runtime /etc/sluice/runtime.json`.
# Build from the repository root:  docker build -f docker/services.Dockerfile -t ghcr.io/sluice-rl/sluice:0.1.0 .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so `npm ci` is cached until a lockfile or package.json changes.
COPY package.json package-lock.json ./
COPY services/common/package.json services/common/
COPY services/sandbox/package.json services/sandbox/
COPY services/gateway/package.json services/gateway/
COPY services/actor/package.json services/actor/
COPY services/reward/package.json services/reward/
COPY services/learner/package.json services/learner/
COPY services/cli/package.json services/cli/
COPY services/operator/package.json services/operator/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.base.json tsconfig.json buf.gen.yaml ./
COPY proto proto
COPY scripts/gen-proto.mjs scripts/
COPY services services
# No engine venv in this stage: gen-proto makes only the TypeScript stubs.
RUN node scripts/gen-proto.mjs && npx tsc -b \
 && npm prune --omit=dev --no-audit --no-fund \
 && find services -mindepth 2 -maxdepth 2 -name src -type d -prune -exec rm -rf {} + \
 && find services -name '*.tsbuildinfo' -delete && rm -rf services/engine

FROM ${NODE_IMAGE}
# git + patch: task workspaces and grading; bubblewrap + util-linux (prlimit, setpriv): the local
# sandbox backend (the Kubernetes backend runs sandboxes as pods instead); tini reaps children and
# forwards SIGTERM so services stop within their grace period.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates git patch bubblewrap util-linux tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production SLUICE_CACHE_DIR=/var/cache/sluice
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
# Services load .proto files at run time (gRPC reflection), from the repository layout.
COPY --from=build /app/proto proto
COPY --from=build /app/services services
COPY tasks tasks
COPY docker/entrypoint.sh /usr/local/bin/sluice-entrypoint
RUN mkdir -p /var/cache/sluice /var/lib/sluice && chown 65532:65532 /var/cache/sluice /var/lib/sluice
# Non-root; the chart adds runAsNonRoot, a read-only root filesystem and drops all capabilities.
USER 65532:65532
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/sluice-entrypoint"]
CMD ["help"]
