#!/usr/bin/env bash
# The engine on a GPU machine (device tool): versions, the engine's pytest suite on CUDA, and the
# forward_backward (in-process vs gRPC) and generate (seeded vs unseeded) benchmarks on a
# mid-size model. Wheels for the pinned packages the image lacks travel in .whl/ (see README).
# Usage there: bash bench/gpu/engine-gpu-check.sh   (writes logs under $OUT when set)
set -uo pipefail
out=${OUT:-/tmp/engine-gpu}
mkdir -p "$out"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD/services/engine PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, grpc, google.protobuf as pb, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'grpc', grpc.__version__, 'protobuf', pb.__version__, 'peft', peft.__version__, torch.cuda.get_device_name())"
cd services/engine || exit 1
echo "== pytest on cuda"
SLUICE_TEST_DEVICE=cuda timeout 240 python3 -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$out/pytest-cuda.log" | tail -25
spec='{"source":"tiny","seed":0,"device":"cuda","tiny":{"hidden_size":1024,"num_hidden_layers":8,"num_attention_heads":16,"num_key_value_heads":16,"intermediate_size":4096}}'
echo "== forward_backward, 8x1024 hidden, batch 16 x 1024 tokens"
timeout 150 python3 -m sluice_engine.bench --model-spec "$spec" --batch 16 --seq-len 1024 --iters 10 --rounds 3 2>&1 | tee "$out/bench-forward-backward.log" | tail -5
echo "== generate, batch 64, prompt 128, 256 new tokens"
timeout 150 python3 -m sluice_engine.bench_generate --model-spec "$spec" --batch 64 --prompt-len 128 --max-tokens 256 --rounds 3 2>&1 | tee "$out/bench-generate.log" | tail -5
