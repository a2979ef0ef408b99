"""DPO on (chosen, rejected) pairs (Rafailov et al. 2023, arXiv 2305.18290).

Sequences come in pairs: rows 2k (chosen, y_w) and 2k+1 (rejected, y_l) of one call. A
sequence's log-likelihood is the sum of its target logprobs over the loss mask, so the
loss sees the response tokens only, never the (shared) prompt.
"""

import torch
import torch.nn.functional as F

from .errors import ValidationError
from .losses import LossResult, LossSpec, _masked_mean


def dpo_loss(
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    mask: torch.Tensor,
    spec: LossSpec,
    total_pairs_in_step: int = 0,
    entropy: torch.Tensor | None = None,
) -> LossResult:
    """Mean DPO loss over the step's pairs (this call's pairs / total_pairs_in_step)."""
    rows = logprobs.shape[0]
    if rows % 2 != 0:
        raise ValidationError(f"sequences: DPO needs (chosen, rejected) pairs, got {rows} rows")
    maskf = mask.to(logprobs.dtype)
    # log pi(y | x) = sum_t log pi(y_t | x, y_<t) over the response tokens
    seq_logp = (logprobs * maskf).sum(dim=-1)
    seq_ref = (ref_logprobs.to(logprobs.dtype) * maskf).sum(dim=-1)
    # h = (log pi_theta(y_w) - log pi_ref(y_w)) - (log pi_theta(y_l) - log pi_ref(y_l))
    chosen, rejected = seq_logp[0::2] - seq_ref[0::2], seq_logp[1::2] - seq_ref[1::2]
    margin = chosen - rejected
    # L = -log sigma(beta * h)                                      (Rafailov 2023, eq. 7)
    per_pair = -F.logsigmoid(spec.dpo_beta * margin)
    pairs = rows // 2
    loss = per_pair.sum() / max(total_pairs_in_step or pairs, 1)
    with torch.no_grad():
        accuracy = float((margin > 0).float().mean()) if pairs else 0.0
    entropy_mean = _masked_mean(entropy.detach(), maskf) if entropy is not None else 0.0
    return LossResult(
        loss=loss,
        loss_tokens=int(mask.sum()),
        clip_fraction=0.0,
        ratio_mean=1.0,
        entropy=entropy_mean,
        pair_accuracy=accuracy,
    )
