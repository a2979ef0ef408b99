"""Token-level policy-gradient losses.

All tensors are [B, T] aligned with target tokens; `mask` selects the loss tokens.
References: PPO clipped surrogate (Schulman et al. 2017, arXiv 1707.06347); decoupled
clip range and token-level normalisation (DAPO, arXiv 2503.14476); constant
normalisation without length bias (Dr. GRPO, arXiv 2503.20783).
"""

from dataclasses import dataclass
from enum import Enum

import torch

from .errors import ValidationError


class LossKind(Enum):
    REINFORCE = "reinforce"
    PPO_CLIP = "ppo_clip"


class Normalization(Enum):
    TOKEN_MEAN = "token_mean"
    SEQUENCE_MEAN = "sequence_mean"
    CONSTANT = "constant"


@dataclass(frozen=True)
class LossSpec:
    kind: LossKind
    normalization: Normalization = Normalization.TOKEN_MEAN
    clip_epsilon_low: float = 0.2
    clip_epsilon_high: float = 0.2
    normalization_constant: float = 1.0


@dataclass(frozen=True)
class LossResult:
    loss: torch.Tensor  # scalar, differentiable
    loss_tokens: int
    clip_fraction: float
    ratio_mean: float
    entropy: float


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> float:
    count = int(mask.sum())
    return float((values * mask).sum() / count) if count else 0.0


def policy_loss(
    logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    spec: LossSpec,
    old_logprobs: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    total_loss_tokens_in_step: int = 0,
    total_sequences_in_step: int = 0,
) -> LossResult:
    """Loss of one microbatch, scaled so that summing microbatches gives the step loss.

    total_* of 0 fall back to the counts of this call.
    """
    maskf = mask.to(logprobs.dtype)
    advantages = advantages.to(logprobs.dtype)
    loss_tokens = int(mask.sum())

    if spec.kind is LossKind.REINFORCE:
        # l_t = -A_t * log pi_theta(a_t | s_t)
        per_token = -advantages * logprobs
        clip_fraction, ratio_mean = 0.0, 1.0
    elif spec.kind is LossKind.PPO_CLIP:
        if old_logprobs is None:
            raise ValidationError("old_logprobs: required for PPO_CLIP")
        old = old_logprobs.to(logprobs.dtype)
        # rho_t = exp(log pi_theta(a_t | s_t) - log pi_old(a_t | s_t))        (PPO, Schulman 2017)
        ratio = torch.exp(logprobs - old)
        # clip(rho_t, 1 - eps_low, 1 + eps_high): decoupled clip range      (DAPO clip-higher)
        clipped = torch.clamp(ratio, 1.0 - spec.clip_epsilon_low, 1.0 + spec.clip_epsilon_high)
        # l_t = -min(rho_t * A_t, clip(rho_t) * A_t)                          (PPO L^CLIP)
        unclipped_obj = ratio * advantages
        clipped_obj = clipped * advantages
        per_token = -torch.minimum(unclipped_obj, clipped_obj)
        with torch.no_grad():
            # A token is clipped when the clipped branch is the (strictly) active minimum.
            clip_fraction = _masked_mean((clipped_obj < unclipped_obj).to(maskf.dtype), maskf)
            ratio_mean = _masked_mean(ratio, maskf)
    else:  # pragma: no cover - enum is exhaustive
        raise ValidationError(f"loss.kind: unsupported {spec.kind}")

    per_token = per_token * maskf
    if spec.normalization is Normalization.TOKEN_MEAN:
        # L = sum_{i,t} l_{i,t} / N_tokens(step)                              (DAPO token-level)
        denom = total_loss_tokens_in_step or loss_tokens
        loss = per_token.sum() / max(denom, 1)
    elif spec.normalization is Normalization.SEQUENCE_MEAN:
        # L = (1/G) sum_i (1/|o_i|) sum_t l_{i,t}                             (GRPO)
        seq_tokens = maskf.sum(dim=-1)
        seq_means = per_token.sum(dim=-1) / seq_tokens.clamp(min=1.0)
        denom = total_sequences_in_step or logprobs.shape[0]
        loss = seq_means.sum() / max(denom, 1)
    elif spec.normalization is Normalization.CONSTANT:
        if spec.normalization_constant <= 0:
            raise ValidationError("loss.normalization_constant: must be > 0 for CONSTANT")
        # L = sum_{i,t} l_{i,t} / C                                           (Dr. GRPO)
        loss = per_token.sum() / spec.normalization_constant
    else:  # pragma: no cover
        raise ValidationError(f"loss.normalization: unsupported {spec.normalization}")

    entropy_mean = _masked_mean(entropy.detach(), maskf) if entropy is not None else 0.0
    return LossResult(
        loss=loss,
        loss_tokens=loss_tokens,
        clip_fraction=clip_fraction,
        ratio_mean=ratio_mean,
        entropy=entropy_mean,
    )
