"""Decoupled PPO, truncated IS, k3 KL and DPO against hand-computed values."""

import math

import pytest
import torch

from sluice_engine.dpo import dpo_loss
from sluice_engine.errors import ValidationError
from sluice_engine.losses import LossKind, LossSpec, k3_kl, policy_loss

ONE = torch.ones(1, 2, dtype=torch.bool)


def test_decoupled_ppo_clips_against_proximal_and_weights_by_behaviour() -> None:
    lp = torch.tensor([[0.0, 0.0]])
    prox = torch.tensor([[-0.1, 0.5]])  # rho = e^0.1 = 1.105 (inside), e^-0.5 = 0.607 (below)
    behav = torch.tensor([[-0.3, 0.0]])  # w = e^0.2 = 1.221, e^0.5 = 1.649
    adv = torch.tensor([[1.0, 1.0]])
    spec = LossSpec(kind=LossKind.DECOUPLED_PPO, clip_epsilon_low=0.2, clip_epsilon_high=0.2)
    r = policy_loss(lp, adv, ONE, spec, old_logprobs=behav, prox_logprobs=prox)
    w0, w1 = math.exp(0.2), math.exp(0.5)
    rho0, rho1 = math.exp(0.1), math.exp(-0.5)
    # token 0: min(1.105, 1.105) = 1.105; token 1 (A > 0): min(0.607, 0.8) = 0.607
    expected = -(w0 * rho0 + w1 * rho1) / 2
    assert r.loss.item() == pytest.approx(expected, rel=1e-6)
    assert r.ratio_mean == pytest.approx((rho0 + rho1) / 2, rel=1e-6)
    assert r.capped_fraction == 0.0


def test_decoupled_ppo_masks_tokens_over_the_behaviour_cap() -> None:
    lp = torch.tensor([[0.0, 0.0]])
    prox = torch.tensor([[0.0, 0.0]])
    behav = torch.tensor([[0.0, -3.0]])  # weights 1 and e^3 = 20.1
    adv = torch.tensor([[1.0, 1.0]])
    spec = LossSpec(kind=LossKind.DECOUPLED_PPO, behaviour_weight_cap=5.0)
    r = policy_loss(lp, adv, ONE, spec, old_logprobs=behav, prox_logprobs=prox)
    # token 1 leaves the loss; the token-mean denominator still counts both loss tokens
    assert r.loss.item() == pytest.approx(-1.0 / 2)
    assert r.capped_fraction == pytest.approx(0.5)


def test_truncated_is_clamps_the_weight_at_c() -> None:
    lp = torch.tensor([[0.0, 0.0]])
    prox = torch.tensor([[0.0, 0.0]])
    behav = torch.tensor([[-0.5, -3.0]])  # weights 1.649 and 20.1 -> min(., 2) = 1.649, 2
    adv = torch.tensor([[2.0, -1.0]])
    spec = LossSpec(kind=LossKind.TRUNCATED_IS, truncated_is_cap=2.0)
    r = policy_loss(lp, adv, ONE, spec, old_logprobs=behav, prox_logprobs=prox)
    expected = -(math.exp(0.5) * 2.0 + 2.0 * -1.0) / 2
    assert r.loss.item() == pytest.approx(expected, rel=1e-6)
    assert r.capped_fraction == pytest.approx(0.5)


def test_with_proximal_equal_to_behaviour_both_reduce_to_ppo_clip() -> None:
    lp = torch.tensor([[-0.2, -1.0]])
    old = torch.tensor([[-0.5, -0.9]])
    adv = torch.tensor([[1.0, -0.5]])
    ppo = policy_loss(lp, adv, ONE, LossSpec(kind=LossKind.PPO_CLIP), old_logprobs=old)
    for kind in (LossKind.DECOUPLED_PPO, LossKind.TRUNCATED_IS):
        r = policy_loss(lp, adv, ONE, LossSpec(kind=kind), old_logprobs=old, prox_logprobs=old)
        assert r.loss.item() == pytest.approx(ppo.loss.item(), rel=1e-6)


def test_the_behaviour_weight_carries_no_gradient() -> None:
    lp = torch.tensor([[0.0, 0.0]], requires_grad=True)
    prox = torch.tensor([[0.0, 0.0]])
    behav = torch.tensor([[-1.0, 0.0]])
    adv = torch.tensor([[1.0, 1.0]])
    spec = LossSpec(kind=LossKind.DECOUPLED_PPO, clip_epsilon_low=0.2, clip_epsilon_high=0.2)
    policy_loss(lp, adv, ONE, spec, old_logprobs=behav, prox_logprobs=prox).loss.backward()
    # d/dlp of -(w * e^lp) / 2 at lp = 0 is -w / 2 (rho = 1 is inside the clip range)
    assert torch.allclose(lp.grad, torch.tensor([[-math.e / 2, -0.5]]))


def test_k3_is_hand_computed_and_non_negative() -> None:
    lp = torch.tensor([[-1.0, -2.0]])
    ref = torch.tensor([[-1.5, -2.0]])
    # log r = ref - lp = -0.5: e^-0.5 + 0.5 - 1 = 0.10653; log r = 0: 0
    assert torch.allclose(k3_kl(lp, ref), torch.tensor([[math.exp(-0.5) - 0.5, 0.0]]))
    assert bool((k3_kl(torch.randn(4, 5), torch.randn(4, 5)) >= 0).all())


def test_kl_penalty_adds_beta_times_k3() -> None:
    lp = torch.tensor([[-1.0, -2.0]])
    ref = torch.tensor([[-1.5, -2.0]])
    adv = torch.tensor([[1.0, 1.0]])
    spec = LossSpec(kind=LossKind.REINFORCE, kl_coef=0.1)
    r = policy_loss(lp, adv, ONE, spec, ref_logprobs=ref)
    k3 = math.exp(-0.5) - 0.5
    assert r.loss.item() == pytest.approx((1.0 + 2.0 + 0.1 * k3) / 2, rel=1e-6)
    assert r.kl_mean == pytest.approx(k3 / 2, rel=1e-6)
    with pytest.raises(ValidationError, match="ref_logprobs"):
        policy_loss(lp, adv, ONE, spec)


def test_dpo_hand_computed() -> None:
    # rows: chosen, rejected; response tokens are the masked ones
    lp = torch.tensor([[-9.0, -1.0, -2.0], [-9.0, -1.5, -2.5]])
    ref = torch.tensor([[-9.0, -1.2, -2.2], [-9.0, -1.4, -2.4]])
    mask = torch.tensor([[False, True, True], [False, True, True]])
    spec = LossSpec(kind=LossKind.DPO, dpo_beta=0.1)
    r = dpo_loss(lp, ref, mask, spec)
    # chosen: (-3) - (-3.4) = 0.4; rejected: (-4) - (-3.8) = -0.2; h = 0.6
    expected = -math.log(1 / (1 + math.exp(-0.1 * 0.6)))
    assert r.loss.item() == pytest.approx(expected, rel=1e-6)
    assert r.pair_accuracy == 1.0
    with pytest.raises(ValidationError, match="pairs"):
        dpo_loss(lp[:1], ref[:1], mask[:1], spec)


def test_dpo_pairs_are_averaged_over_the_step() -> None:
    lp = torch.zeros(4, 2)
    ref = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    mask = torch.ones(4, 2, dtype=torch.bool)
    spec = LossSpec(kind=LossKind.DPO, dpo_beta=1.0)
    r = dpo_loss(lp, ref, mask, spec, total_pairs_in_step=4)
    # pair 0: h = 0 -> log 2; pair 1: h = (0 - 1) - 0 = -1 -> -log sigma(-1)
    expected = (math.log(2) - math.log(1 / (1 + math.e))) / 4
    assert r.loss.item() == pytest.approx(expected, rel=1e-6)
    assert r.pair_accuracy == 0.0


def test_missing_arrays_are_named() -> None:
    spec = LossSpec(kind=LossKind.DECOUPLED_PPO)
    with pytest.raises(ValidationError, match="prox_logprobs"):
        policy_loss(torch.zeros(1, 2), torch.ones(1, 2), ONE, spec, old_logprobs=torch.zeros(1, 2))
    with pytest.raises(ValidationError, match="dpo_loss"):
        policy_loss(torch.zeros(1, 2), torch.ones(1, 2), ONE, LossSpec(kind=LossKind.DPO))
