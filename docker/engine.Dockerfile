# syntax=docker/dockerfile:1.7
# The PyTorch engine (python -m sluice_engine) on a CUDA base. The operator runs it next to the
# learner (and as the inference server when inference.backend is engine) with `--port`,
# `--metrics-port`, `--model-spec` ... arguments (services/cli/src/engine-launch.ts builds the same).
# Build from the repository root:  docker build -f docker/engine.Dockerfile -t ghcr.io/sluice-rl/sluice-engine:0.1.0 .
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
FROM ${CUDA_IMAGE}
# PyPI's Linux torch wheels carry their own CUDA libraries; the base supplies the driver hooks
# (NVIDIA_VISIBLE_DEVICES / NVIDIA_DRIVER_CAPABILITIES for the NVIDIA container runtime).
# PIP_EXTRA_INDEX_URL can point at https://download.pytorch.org/whl/cu128 for a matching build.
ARG PIP_EXTRA_INDEX_URL=""
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
# The engine runs from its source tree (PYTHONPATH), as tests and `sluice up` run it.
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app/engine HF_HOME=/var/cache/huggingface
WORKDIR /app/engine
COPY services/engine/requirements.txt /tmp/requirements.txt
# pytest and ruff are the repository's test tools, not the engine's.
RUN python3 -m venv /opt/venv \
 && grep -vE '^(pytest|ruff)\b' /tmp/requirements.txt > /tmp/runtime-requirements.txt \
 && pip install --no-cache-dir ${PIP_EXTRA_INDEX_URL:+--extra-index-url "$PIP_EXTRA_INDEX_URL"} -r /tmp/runtime-requirements.txt
COPY proto /app/proto
COPY services/engine/sluice_engine /app/engine/sluice_engine
# The gRPC stubs, generated as scripts/gen-proto.mjs does for the venv (never committed).
RUN out=/app/engine/sluice_engine/gen && rm -rf "$out" && mkdir -p "$out" \
 && python -m grpc_tools.protoc -I/app/proto --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
      $(cd /app/proto && ls sluice/v1/*.proto) \
 && touch "$out/__init__.py" "$out/sluice/__init__.py" "$out/sluice/v1/__init__.py" \
 && python -c "import sluice_engine.proto" \
 && mkdir -p /var/cache/huggingface /var/lib/sluice && chown 65532:65532 /var/cache/huggingface /var/lib/sluice
USER 65532:65532
ENTRYPOINT ["/usr/bin/tini", "--", "python", "-m", "sluice_engine"]
