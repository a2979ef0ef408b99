import math

import pytest
import torch

from sluice_engine.errors import ValidationError
from sluice_engine.losses import LossKind, LossSpec, Normalization, policy_loss

LP = torch.tensor([[-1.0, -2.0, -0.5], [-0.3, -1.5, 0.0]])
OLD = torch.tensor([[-1.2, -1.0, -0.5], [-0.3, -2.0, 0.0]])
ADV = torch.tensor([[1.0, 1.0, 1.0], [-2.0, -2.0, 0.0]])
MASK = torch.tensor([[True, True, False], [True, True, False]])


def reference(spec: LossSpec, total_tokens: int, total_seqs: int) -> float:
    """An obvious python loop over sequences and tokens."""
    total = 0.0
    for i in range(LP.shape[0]):
        seq_sum, seq_n = 0.0, 0
        for t in range(LP.shape[1]):
            if not MASK[i, t]:
                continue
            lp, old, a = float(LP[i, t]), float(OLD[i, t]), float(ADV[i, t])
            if spec.kind is LossKind.REINFORCE:
                term = -a * lp
            else:
                rho = math.exp(lp - old)
                clipped = min(max(rho, 1 - spec.clip_epsilon_low), 1 + spec.clip_epsilon_high)
                term = -min(rho * a, clipped * a)
            seq_sum += term
            seq_n += 1
        if spec.normalization is Normalization.SEQUENCE_MEAN:
            total += seq_sum / seq_n / total_seqs
        elif spec.normalization is Normalization.TOKEN_MEAN:
            total += seq_sum / total_tokens
        else:
            total += seq_sum / spec.normalization_constant
    return total


def test_reinforce_token_mean_hand_computed() -> None:
    spec = LossSpec(kind=LossKind.REINFORCE)
    result = policy_loss(LP, ADV, MASK, spec)
    # -(1*-1 + 1*-2 + -2*-0.3 + -2*-1.5) / 4 = -(-3 + 0.6 + 3) / 4 = -0.15
    assert result.loss.item() == pytest.approx(-0.15)
    assert result.loss_tokens == 4 and result.ratio_mean == 1.0 and result.clip_fraction == 0.0


def test_ppo_clip_hand_computed() -> None:
    spec = LossSpec(kind=LossKind.PPO_CLIP, clip_epsilon_low=0.2, clip_epsilon_high=0.28)
    result = policy_loss(LP, ADV, MASK, spec, old_logprobs=OLD, total_loss_tokens_in_step=8)
    r = [math.exp(0.2), math.exp(-1.0), 1.0, math.exp(0.5)]
    # A>0: min(r, clip(r)); token0 r=1.221 -> 1.28? no, 1.221 < 1.28 so unclipped.
    # token1 r=0.368, A=1: min(0.368, 0.8) = 0.368. token2 r=1, A=-2: -2.
    # token3 r=1.649, A=-2: min(-3.297, -2.56) = -3.297 (unclipped branch is the min).
    expected = -(r[0] * 1 + r[1] * 1 + r[2] * -2 + r[3] * -2) / 8
    assert result.loss.item() == pytest.approx(expected, rel=1e-6)
    assert result.clip_fraction == 0.0
    assert result.ratio_mean == pytest.approx(sum(r) / 4, rel=1e-6)


def test_ppo_clip_fraction_counts_active_clips() -> None:
    lp = torch.tensor([[0.0, 0.0]])
    old = torch.tensor([[-1.0, 1.0]])  # ratios e and 1/e
    adv = torch.tensor([[1.0, -1.0]])  # both clipped branches active
    spec = LossSpec(kind=LossKind.PPO_CLIP, clip_epsilon_low=0.2, clip_epsilon_high=0.2)
    result = policy_loss(lp, adv, torch.ones(1, 2, dtype=torch.bool), spec, old_logprobs=old)
    assert result.clip_fraction == 1.0
    assert result.loss.item() == pytest.approx(-(1.2 * 1 + 0.8 * -1) / 2)


@pytest.mark.parametrize("kind", [LossKind.REINFORCE, LossKind.PPO_CLIP])
@pytest.mark.parametrize(
    "norm", [Normalization.TOKEN_MEAN, Normalization.SEQUENCE_MEAN, Normalization.CONSTANT]
)
def test_matches_python_loop(kind: LossKind, norm: Normalization) -> None:
    spec = LossSpec(
        kind=kind,
        normalization=norm,
        clip_epsilon_low=0.1,
        clip_epsilon_high=0.3,
        normalization_constant=7.0,
    )
    result = policy_loss(
        LP,
        ADV,
        MASK,
        spec,
        old_logprobs=OLD,
        total_loss_tokens_in_step=10,
        total_sequences_in_step=5,
    )
    assert result.loss.item() == pytest.approx(reference(spec, 10, 5), rel=1e-6)


def test_gradient_of_reinforce_is_minus_advantage_over_tokens() -> None:
    lp = LP.clone().requires_grad_(True)
    spec = LossSpec(kind=LossKind.REINFORCE)
    policy_loss(lp, ADV, MASK, spec).loss.backward()
    assert torch.allclose(lp.grad, -ADV * MASK / 4)


def test_entropy_mean_and_errors() -> None:
    spec = LossSpec(kind=LossKind.REINFORCE)
    ent = torch.tensor([[1.0, 3.0, 100.0], [2.0, 2.0, 100.0]])
    assert policy_loss(LP, ADV, MASK, spec, entropy=ent).entropy == pytest.approx(2.0)
    with pytest.raises(ValidationError):
        policy_loss(LP, ADV, MASK, LossSpec(kind=LossKind.PPO_CLIP))
    with pytest.raises(ValidationError):
        bad = LossSpec(LossKind.REINFORCE, Normalization.CONSTANT, normalization_constant=0)
        policy_loss(LP, ADV, MASK, bad)
