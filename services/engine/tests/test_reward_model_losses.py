import math

import pytest
import torch

from sluice_engine.reward_model_losses import (
    bradley_terry_loss,
    classification_loss,
    regression_loss,
)


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_classification_bce_matches_hand_computed_value() -> None:
    # z = (2, -1, 0), y = (1, 0, 1): L = -[log σ(2) + log(1 - σ(-1)) + log σ(0)] / 3
    expected = -(math.log(sigmoid(2)) + math.log(1 - sigmoid(-1)) + math.log(0.5)) / 3
    value = classification_loss(t(2, -1, 0), t(1, 0, 1))
    assert value.loss.item() == pytest.approx(expected, rel=1e-6)
    # z > 0 ⇔ p₁ > τ = 0.5: the third (z = 0) is not positive, so 2 of 3 are right.
    assert value.accuracy == pytest.approx(2 / 3) and value.accuracy_count == 3


def test_bradley_terry_hard_label_is_minus_log_sigmoid_of_the_margin() -> None:
    # ỹ = 0 (FIRST preferred): L = -log σ(r₁ - r₂) = -log σ(1.5)
    value = bradley_terry_loss(t(1.0), t(-0.5), t(0.0))
    assert value.loss.item() == pytest.approx(-math.log(sigmoid(1.5)), rel=1e-6)
    assert value.accuracy == 1.0 and value.accuracy_count == 1
    # ỹ = 1 (SECOND preferred) on the same scores: -log σ(-1.5), and the order is wrong.
    value = bradley_terry_loss(t(1.0), t(-0.5), t(1.0))
    assert value.loss.item() == pytest.approx(-math.log(sigmoid(-1.5)), rel=1e-6)
    assert value.accuracy == 0.0


def test_bradley_terry_soft_label_tie_and_mean() -> None:
    # TIE (ỹ = 0.5) on r = (2, 0): L = -[0.5 log σ(2) + 0.5 log σ(-2)]; ties skip accuracy.
    tie = -(0.5 * math.log(sigmoid(2)) + 0.5 * math.log(sigmoid(-2)))
    hard = -math.log(sigmoid(-3))  # r = (0, 3), ỹ = 0
    value = bradley_terry_loss(t(2.0, 0.0), t(0.0, 3.0), t(0.5, 0.0))
    assert value.loss.item() == pytest.approx((tie + hard) / 2, rel=1e-6)
    assert value.accuracy_count == 1 and value.accuracy == 0.0
    # As the TS reference (services/reward/src/oni/ranking-loss.ts): r = (1, 2), ỹ = 0.25.
    ref = -(0.75 * math.log(sigmoid(-1)) + 0.25 * math.log(sigmoid(1)))
    assert bradley_terry_loss(t(1.0), t(2.0), t(0.25)).loss.item() == pytest.approx(ref, rel=1e-6)


def test_regression_mse_and_tolerance_accuracy() -> None:
    value = regression_loss(t(0.0, 1.0, 3.0), t(0.25, 1.0, 1.0))
    assert value.loss.item() == pytest.approx((0.0625 + 0 + 4) / 3, rel=1e-6)
    assert value.accuracy == pytest.approx(2 / 3)


def test_losses_are_differentiable() -> None:
    scores = t(0.3, -0.2).requires_grad_()
    bradley_terry_loss(scores[:1], scores[1:], t(0.0)).loss.backward()
    assert scores.grad is not None and scores.grad[0] < 0 < scores.grad[1]
