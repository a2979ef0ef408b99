"""Losses and accuracies of scalar reward models.

Classification and ranking follow ONI (Zheng et al., "Online Intrinsic Rewards for
Decision Making Agents from Large Language Model Feedback", arXiv 2410.23022); regression
(MSE) is the discriminative PRM route. Every function takes [B] tensors and returns a mean.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name

# Ranking labels within this distance of 0.5 are ties: they count in the loss, not accuracy.
TIE_EPSILON = 1e-6


@dataclass(frozen=True)
class LossValue:
    loss: torch.Tensor  # scalar, differentiable
    accuracy: float  # over `accuracy_count` items; 0 when none count
    accuracy_count: int


def classification_loss(logits_B: torch.Tensor, labels_B: torch.Tensor) -> LossValue:
    """Binary cross-entropy on the scalar logit. ONI trains a 2-way softmax classifier f_φ;
    softmax(l₀, l₁)₁ = σ(l₁ − l₀), so one logit z = l₁ − l₀ is the same model class."""
    labels_B = labels_B.to(logits_B.dtype)
    # L = −[y log σ(z) + (1 − y) log(1 − σ(z))]             (ONI classification, 2410.23022)
    loss = F.binary_cross_entropy_with_logits(logits_B, labels_B)
    with torch.no_grad():
        # r_int = 1[p₁ > τ], τ = 0.5  ⇔  z > 0; a label counts as positive when y > 0.5.
        correct = (logits_B > 0) == (labels_B > 0.5)
    return LossValue(loss, float(correct.float().mean()), int(labels_B.numel()))


def bradley_terry_loss(
    first_B: torch.Tensor, second_B: torch.Tensor, soft_labels_B: torch.Tensor
) -> LossValue:
    """ONI's ranking loss with soft labels ỹ (FIRST → 0, SECOND → 1, TIE → 0.5).
    With ỹ = 0 it is the Bradley–Terry loss −log σ(r(x⁺) − r(x⁻)), x⁺ the first text."""
    y = soft_labels_B.to(first_B.dtype)
    # log softmax(r₁, r₂) = (log σ(r₁ − r₂), log σ(r₂ − r₁))
    log_p_first = F.logsigmoid(first_B - second_B)
    log_p_second = F.logsigmoid(second_B - first_B)
    # L = −[(1−ỹ) log softmax(r₁,r₂)₀ + ỹ log softmax(r₁,r₂)₁]   (ONI ranking, 2410.23022)
    loss = -((1 - y) * log_p_first + y * log_p_second).mean()
    with torch.no_grad():
        decided = (y - 0.5).abs() > TIE_EPSILON
        count = int(decided.sum())
        correct = ((second_B > first_B) == (y > 0.5)) & decided
        accuracy = float(correct.sum()) / count if count else 0.0
    return LossValue(loss, accuracy, count)


def regression_loss(
    scores_B: torch.Tensor, targets_B: torch.Tensor, tolerance: float = 0.5
) -> LossValue:
    """Mean squared error; accuracy is the share of scores within `tolerance` of the target."""
    targets_B = targets_B.to(scores_B.dtype)
    # L = (1/B) Σ_i (r_φ(x_i) − y_i)²
    loss = F.mse_loss(scores_B, targets_B)
    with torch.no_grad():
        correct = (scores_B - targets_B).abs() < tolerance
    return LossValue(loss, float(correct.float().mean()), int(targets_B.numel()))
