"""Sampling throughput of the engine's generate loop, seeded vs unseeded rows, side by side.

python -m sluice_engine.bench_generate [--model-spec JSON] [--batch B] [--prompt-len P]
[--max-tokens T] [--rounds N]. Seeded rows draw from one CPU generator each (reproducible
rollouts); unseeded rows share one. Alternates the two per round and prints, last, one JSON line
{"seeded_tokens_per_s", "unseeded_tokens_per_s", "seeded_over_unseeded", "device", ...}.
"""

import argparse
import json
import random
import statistics
import time

import torch

from .loading import parse_model_specs
from .registry import ModelRegistry
from .sampling import SamplingConfig, generate
from .trainer import PolicyEngine


def _time(
    engine: PolicyEngine, prompts: list[list[int]], config: SamplingConfig, seeded: bool
) -> float:
    """Generated tokens per second of one generate() call (eos ignored: every row runs to max)."""
    seeds = [1000 + r for r in range(len(prompts))] if seeded else [0] * len(prompts)
    if engine.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = generate(engine.model, prompts, 1, config, frozenset(), engine.pad_token_id, seeds)
    if engine.device.type == "cuda":
        torch.cuda.synchronize()
    return sum(len(s.token_ids) for s in out) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sluice_engine.bench_generate")
    parser.add_argument("--model-spec", default='{"source": "tiny", "seed": 0}')
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--prompt-len", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    engine = ModelRegistry.from_specs(parse_model_specs(args.model_spec)).get("")
    rng = random.Random(0)
    vocab = len(engine.tokenizer)
    prompts = [[rng.randrange(vocab) for _ in range(args.prompt_len)] for _ in range(args.batch)]
    config = SamplingConfig(max_tokens=args.max_tokens, temperature=1.0)
    _time(engine, prompts[:2], SamplingConfig(max_tokens=4, temperature=1.0), True)  # warm-up
    seeded: list[float] = []
    unseeded: list[float] = []
    for r in range(args.rounds):
        seeded.append(_time(engine, prompts, config, True))
        unseeded.append(_time(engine, prompts, config, False))
        print(
            f"round {r}: seeded {seeded[-1]:,.0f} tokens/s, unseeded {unseeded[-1]:,.0f}",
            flush=True,
        )
    ratio = statistics.median(s / u for s, u in zip(seeded, unseeded, strict=True))
    summary = {
        "seeded_tokens_per_s": round(statistics.median(seeded), 1),
        "unseeded_tokens_per_s": round(statistics.median(unseeded), 1),
        "seeded_over_unseeded": round(ratio, 4),
        "batch": args.batch,
        "prompt_len": args.prompt_len,
        "max_tokens": args.max_tokens,
        "device": str(engine.device),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
