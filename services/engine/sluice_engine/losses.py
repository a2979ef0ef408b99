"""Token-level policy-gradient losses.

All tensors are [B, T] aligned with target tokens; `mask` selects the loss tokens.
References: PPO clipped surrogate (Schulman et al. 2017, arXiv 1707.06347); decoupled
clip range and token-level normalisation (DAPO, arXiv 2503.14476); constant
normalisation without length bias (Dr. GRPO, arXiv 2503.20783); decoupled PPO for
asynchronous data (AReaL, Fu et al. 2025, arXiv 2505.24298); truncated importance
sampling against the rollout engine's logprobs (Yao et al. 2025, "Your efficient RL
framework secretly brings you off-policy RL training"); k3 KL estimator (Schulman 2020,
"Approximating KL divergence"). DPO is in dpo.py.
"""

from dataclasses import dataclass
from enum import Enum

import torch

from .errors import ValidationError


class LossKind(Enum):
    REINFORCE = "reinforce"
    PPO_CLIP = "ppo_clip"
    DECOUPLED_PPO = "decoupled_ppo"
    TRUNCATED_IS = "truncated_is"
    DPO = "dpo"


# Which per-token logprob arrays each kind needs besides the current policy's.
NEEDS_BEHAVIOUR = frozenset({LossKind.PPO_CLIP, LossKind.DECOUPLED_PPO, LossKind.TRUNCATED_IS})
NEEDS_PROXIMAL = frozenset({LossKind.DECOUPLED_PPO, LossKind.TRUNCATED_IS})
DEFAULT_TRUNCATED_IS_CAP = 2.0


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
    kl_coef: float = 0.0
    behaviour_weight_cap: float = 0.0  # DECOUPLED_PPO; 0 = no cap
    truncated_is_cap: float = DEFAULT_TRUNCATED_IS_CAP  # TRUNCATED_IS
    dpo_beta: float = 0.1

    @property
    def needs_ref(self) -> bool:
        return self.kind is LossKind.DPO or self.kl_coef > 0


@dataclass(frozen=True)
class LossResult:
    loss: torch.Tensor  # scalar, differentiable
    loss_tokens: int
    clip_fraction: float
    ratio_mean: float
    entropy: float
    kl_mean: float = 0.0
    pair_accuracy: float = 0.0
    capped_fraction: float = 0.0


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> float:
    count = int(mask.sum())
    return float((values * mask).sum() / count) if count else 0.0


def k3_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi_theta || pi_ref); non-negative, unbiased."""
    log_r = ref_logprobs - logprobs
    # k3 = pi_ref/pi_theta - log(pi_ref/pi_theta) - 1                      (Schulman 2020, k3)
    return torch.exp(log_r) - log_r - 1.0


def _clipped_surrogate(
    logprobs: torch.Tensor, anchor: torch.Tensor, advantages: torch.Tensor, spec: LossSpec
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(per-token -min(rho A, clip(rho) A), rho, clipped?) with rho = pi_theta / pi_anchor."""
    # rho_t = exp(log pi_theta(a_t | s_t) - log pi_anchor(a_t | s_t))     (PPO, Schulman 2017)
    ratio = torch.exp(logprobs - anchor)
    # clip(rho_t, 1 - eps_low, 1 + eps_high): decoupled clip range      (DAPO clip-higher)
    clipped = torch.clamp(ratio, 1.0 - spec.clip_epsilon_low, 1.0 + spec.clip_epsilon_high)
    # l_t = -min(rho_t * A_t, clip(rho_t) * A_t)                          (PPO L^CLIP)
    unclipped_obj = ratio * advantages
    clipped_obj = clipped * advantages
    # A token is clipped when the clipped branch is the (strictly) active minimum.
    return -torch.minimum(unclipped_obj, clipped_obj), ratio, clipped_obj < unclipped_obj


def policy_loss(
    logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    spec: LossSpec,
    old_logprobs: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    total_loss_tokens_in_step: int = 0,
    total_sequences_in_step: int = 0,
    prox_logprobs: torch.Tensor | None = None,
    ref_logprobs: torch.Tensor | None = None,
) -> LossResult:
    """Loss of one microbatch, scaled so that summing microbatches gives the step loss.

    total_* of 0 fall back to the counts of this call. `old_logprobs` are the behaviour
    policy's (the rollout), `prox_logprobs` the proximal policy's (recomputed by the
    trainer before the step), `ref_logprobs` the reference policy's.
    """
    if spec.kind is LossKind.DPO:
        raise ValidationError("loss.kind: DPO is a pairwise loss; use dpo_loss")
    maskf = mask.to(logprobs.dtype)
    advantages = advantages.to(logprobs.dtype)
    loss_tokens = int(mask.sum())
    capped_fraction = 0.0

    if spec.kind is LossKind.REINFORCE:
        # l_t = -A_t * log pi_theta(a_t | s_t)
        per_token = -advantages * logprobs
        clip_fraction, ratio_mean = 0.0, 1.0
    elif spec.kind is LossKind.PPO_CLIP:
        if old_logprobs is None:
            raise ValidationError("old_logprobs: required for PPO_CLIP")
        per_token, ratio, clipped = _clipped_surrogate(
            logprobs, old_logprobs.to(logprobs.dtype), advantages, spec
        )
        with torch.no_grad():
            clip_fraction = _masked_mean(clipped.to(maskf.dtype), maskf)
            ratio_mean = _masked_mean(ratio, maskf)
    elif spec.kind in NEEDS_PROXIMAL:
        if old_logprobs is None or prox_logprobs is None:
            raise ValidationError(f"old_logprobs and prox_logprobs: required for {spec.kind.name}")
        prox = prox_logprobs.to(logprobs.dtype)
        surrogate, ratio, clipped = _clipped_surrogate(logprobs, prox, advantages, spec)
        with torch.no_grad():
            # w_t = pi_prox(a_t | s_t) / pi_behav(a_t | s_t): a constant weight, no gradient
            behaviour_weight = torch.exp(prox - old_logprobs.to(logprobs.dtype))
            if spec.kind is LossKind.DECOUPLED_PPO:
                cap = spec.behaviour_weight_cap
                over = behaviour_weight > cap if cap > 0 else torch.zeros_like(mask)
                # AReaL: tokens whose behaviour weight exceeds the cap leave the loss
                maskf = maskf * (~over).to(maskf.dtype)
                weight = behaviour_weight
            else:
                over = behaviour_weight > spec.truncated_is_cap
                # TIS: w_t = min(pi_prox / pi_behav, C)                           (Yao et al. 2025)
                weight = torch.clamp(behaviour_weight, max=spec.truncated_is_cap)
            capped_fraction = _masked_mean(over.to(maskf.dtype), mask.to(maskf.dtype))
            clip_fraction = _masked_mean(clipped.to(maskf.dtype), maskf)
            ratio_mean = _masked_mean(ratio, maskf)
        # l_t = w_t * -min(rho_t A_t, clip(rho_t) A_t), rho_t = pi_theta / pi_prox (AReaL eq. 5)
        per_token = weight * surrogate
    else:  # pragma: no cover - enum is exhaustive
        raise ValidationError(f"loss.kind: unsupported {spec.kind}")

    kl_mean = 0.0
    if spec.kl_coef > 0:
        if ref_logprobs is None:
            raise ValidationError("ref_logprobs: required when kl_coef > 0")
        kl = k3_kl(logprobs, ref_logprobs.to(logprobs.dtype))
        # l_t += beta_KL * k3_t                                               (GRPO, Shao 2024)
        per_token = per_token + spec.kl_coef * kl
        with torch.no_grad():
            kl_mean = _masked_mean(kl, maskf)

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
        kl_mean=kl_mean,
        capped_fraction=capped_fraction,
    )
