"""Batched autoregressive sampling with a KV cache.

Logprob convention: each reported logprob is the log-probability of the sampled token
under the distribution it was actually drawn from, i.e. log_softmax(logits / T) restricted
to the top-p nucleus and renormalised over it. At temperature 1 and top_p 1 this equals
the model's log_softmax(logits), which is what compute_logprobs returns. Greedy decoding
(temperature 0) draws from a point mass, so for it the reported value is the model's
unscaled log_softmax(logits) of the chosen token instead of a meaningless 0.

Seeds are per row (vLLM's per-request `seed`): a seeded row draws its uniforms from its own
generator and picks its token by inverse CDF, so what a seeded request samples depends only
on its prompt, its seed and the weights, never on which other requests share its batch.
Unseeded rows share one generator seeded from OS entropy.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache, PreTrainedModel

from .errors import ValidationError


@dataclass(frozen=True)
class SamplingConfig:
    """Validated sampling parameters (proto zero values already replaced by defaults)."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop_token_ids: frozenset[int] = field(default_factory=frozenset)
    seed: int = 0
    interruptible: bool = False


@dataclass(frozen=True)
class SampledSequence:
    prompt_index: int
    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str  # "stop" | "length" | "interrupted"


_SEED_MASK = (1 << 63) - 1


def row_seed(seed: int, row: int) -> int:
    """Seed of row `row` of a request seeded with `seed` (0: unseeded). Row 0 keeps the seed."""
    if seed == 0:
        return 0
    mixed = (seed ^ (row * 0x9E3779B97F4A7C15)) & _SEED_MASK  # golden-ratio mix per row
    return mixed or 1


class RowGenerators:
    """One CPU generator per seeded row, one shared OS-seeded generator for the rest."""

    def __init__(self, seeds: list[int]) -> None:
        self._shared = torch.Generator()
        self._shared.seed()
        self._seeded: list[tuple[int, torch.Generator]] = []
        for r, seed in enumerate(seeds):
            if seed != 0:
                g = torch.Generator()
                g.manual_seed(seed)
                self._seeded.append((r, g))
        self._rows = len(seeds)

    def uniforms(self) -> torch.Tensor:
        """One U[0, 1) draw per row, on the CPU."""
        u = torch.rand(self._rows, generator=self._shared)
        for r, g in self._seeded:
            u[r] = torch.rand((), generator=g)
        return u


def _nucleus_logprobs(scaled_logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """log_softmax over the top-p nucleus (renormalised); tokens outside get -inf."""
    logprobs = torch.log_softmax(scaled_logits, dim=-1)
    if top_p >= 1.0:
        return logprobs
    sorted_lp, order = torch.sort(logprobs, dim=-1, descending=True)
    cumulative = sorted_lp.exp().cumsum(dim=-1)
    # Keep a token if the mass strictly before it is < top_p (always keeps the top token).
    remove_sorted = (cumulative - sorted_lp.exp()) >= top_p
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    masked = scaled_logits.masked_fill(remove, float("-inf"))
    return torch.log_softmax(masked, dim=-1)


def sample_next(
    logits: torch.Tensor, config: SamplingConfig, generators: RowGenerators
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draws one token per row of logits [B, V]; returns (tokens [B], logprobs [B])."""
    logits = logits.float()
    if config.temperature <= 0.0:
        tokens = logits.argmax(dim=-1)
        logprobs = torch.log_softmax(logits, dim=-1)
        return tokens, logprobs.gather(-1, tokens[:, None]).squeeze(-1)
    logprobs = _nucleus_logprobs(logits / config.temperature, config.top_p)
    cdf = logprobs.exp().cumsum(dim=-1)
    # Inverse CDF: the first token whose cumulative mass exceeds u · total (tokens with zero
    # mass never are the first to exceed it).
    u = generators.uniforms().to(cdf.device)[:, None] * cdf[:, -1:]
    tokens = torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp(max=cdf.shape[-1] - 1)
    chosen = logprobs.gather(-1, tokens[:, None]).squeeze(-1)
    # Rounding can put u past the last token with mass; fall back to the most likely token.
    fallback = torch.isinf(chosen)
    if bool(fallback.any()):
        tokens = torch.where(fallback, logprobs.argmax(dim=-1), tokens)
        chosen = logprobs.gather(-1, tokens[:, None]).squeeze(-1)
    return tokens, chosen


@torch.inference_mode()
def generate(
    model: PreTrainedModel,
    prompts: list[list[int]],
    num_samples: int,
    config: SamplingConfig,
    eos_token_ids: frozenset[int],
    pad_token_id: int,
    row_seeds: list[int] | None = None,
    interrupted: Callable[[], bool] | None = None,
) -> list[SampledSequence]:
    """Samples num_samples continuations of every prompt in one left-padded batch.

    Output order: for each prompt in order, its num_samples samples. `row_seeds` (one per
    output row, 0 for unseeded) defaults to `row_seed(config.seed, row)`. With
    `config.interruptible`, `interrupted()` is polled after every decode step; when it turns
    true the unfinished rows end with finish_reason "interrupted".
    """
    if not prompts:
        raise ValidationError("prompts: empty batch")
    if config.max_tokens <= 0:
        raise ValidationError("params.max_tokens: must be > 0")
    device = next(model.parameters()).device
    rows = [(i, p) for i, p in enumerate(prompts) for _ in range(num_samples)]
    batch = len(rows)
    width = max(len(p) for _, p in rows)
    input_ids = torch.full((batch, width), pad_token_id, dtype=torch.long)
    attention = torch.zeros((batch, width), dtype=torch.long)
    for r, (_, prompt) in enumerate(rows):
        input_ids[r, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        attention[r, width - len(prompt) :] = 1
    input_ids, attention = input_ids.to(device), attention.to(device)
    positions = (attention.cumsum(dim=-1) - 1).clamp(min=0)
    stops = eos_token_ids | config.stop_token_ids
    stop_tensor = torch.tensor(sorted(stops), dtype=torch.long, device=device)
    seeds = row_seeds if row_seeds is not None else [row_seed(config.seed, r) for r in range(batch)]
    if len(seeds) != batch:
        raise ValidationError(f"row_seeds: {len(seeds)} seeds for {batch} rows")
    generators = RowGenerators(seeds)

    cache = DynamicCache()
    out = model(
        input_ids=input_ids,
        attention_mask=attention,
        position_ids=positions,
        past_key_values=cache,
        use_cache=True,
        logits_to_keep=1,
    )
    next_positions = positions[:, -1:] + 1
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    stopped = torch.zeros(batch, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    tokens_steps: list[torch.Tensor] = []
    logprob_steps: list[torch.Tensor] = []
    was_interrupted = False
    for step in range(config.max_tokens):
        tokens, logprobs = sample_next(out.logits[:, -1, :], config, generators)
        tokens = tokens.masked_fill(finished, pad_token_id)
        tokens_steps.append(tokens)
        logprob_steps.append(logprobs)
        lengths += (~finished).long()
        hit_stop = torch.isin(tokens, stop_tensor) & ~finished
        stopped |= hit_stop
        finished |= hit_stop
        if bool(finished.all()):
            break
        if (
            config.interruptible
            and interrupted is not None
            and step + 1 < config.max_tokens
            and interrupted()
        ):
            was_interrupted = True
            break
        attention = torch.cat([attention, (~finished).long()[:, None]], dim=-1)
        out = model(
            input_ids=tokens[:, None],
            attention_mask=attention,
            position_ids=next_positions,
            past_key_values=out.past_key_values,
            use_cache=True,
        )
        next_positions = next_positions + 1

    all_tokens = torch.stack(tokens_steps, dim=1).cpu()
    all_logprobs = torch.stack(logprob_steps, dim=1).float().cpu()
    lengths_list = lengths.cpu().tolist()
    stopped_list = stopped.cpu().tolist()
    results = []
    for r, (prompt_index, _) in enumerate(rows):
        n = lengths_list[r]
        results.append(
            SampledSequence(
                prompt_index=prompt_index,
                token_ids=all_tokens[r, :n].tolist(),
                logprobs=all_logprobs[r, :n].tolist(),
                finish_reason=(
                    "stop"
                    if stopped_list[r]
                    else ("interrupted" if was_interrupted and n < config.max_tokens else "length")
                ),
            )
        )
    return results
