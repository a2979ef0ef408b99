"""Agent-RLVR's DPO update through the trainer, laid out as the learner sends it.

The learner (services/learner/src/guided-dpo.ts) sends (guided success, failure) pairs of one
task as sequences 2k (chosen y_w, guidance stripped) and 2k+1 (rejected y_l), loss mask on the
response tokens, ref_logprobs from ComputeLogprobs at the start of the step. The loss the
trainer reports must equal the hand-computed DPO loss (Rafailov et al. 2023, eq. 7):
    L = -log sigma(beta * [(log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l))])
"""

import math

import pytest
import torch

from sluice_engine.losses import LossKind, LossSpec
from sluice_engine.trainer import PolicyEngine, TrainingSequence


def _pair_sequence(engine: PolicyEngine, response: str, ref_shift: float) -> TrainingSequence:
    prompt = engine.tokenize("<|user|>fix the bug<|end|><|assistant|>")
    ids = prompt + engine.tokenize(response + "<|end|>")
    n = len(ids) - 1
    mask = torch.zeros(n, dtype=torch.bool)
    mask[len(prompt) - 1 :] = True  # targets = the response tokens
    (lp,), _ = engine.compute_logprobs([ids])
    # A reference that differs from the policy by ref_shift per response token.
    ref = lp.clone() - ref_shift
    return TrainingSequence(ids, mask, torch.zeros(n), lp, None, ref)


def test_learner_shaped_dpo_pair_matches_hand_computed_loss(engine: PolicyEngine) -> None:
    beta = 0.5
    chosen = _pair_sequence(engine, "patched", ref_shift=0.2)
    rejected = _pair_sequence(engine, "nope", ref_shift=-0.1)
    (lp_w, lp_l), _ = engine.compute_logprobs([chosen.token_ids, rejected.token_ids])
    logp_w = float(lp_w[chosen.loss_mask].sum())
    logp_l = float(lp_l[rejected.loss_mask].sum())
    ref_w = float(chosen.ref_logprobs[chosen.loss_mask].sum())
    ref_l = float(rejected.ref_logprobs[rejected.loss_mask].sum())
    h = (logp_w - ref_w) - (logp_l - ref_l)
    # Hand value: h = 0.2 * |y_w| + 0.1 * |y_l| since pi_theta = pi_ref + shift per token.
    n_w, n_l = int(chosen.loss_mask.sum()), int(rejected.loss_mask.sum())
    assert h == pytest.approx(0.2 * n_w + 0.1 * n_l, abs=1e-4)
    expected = -math.log(1 / (1 + math.exp(-beta * h)))
    result = engine.forward_backward(
        [chosen, rejected], LossSpec(kind=LossKind.DPO, dpo_beta=beta), total_sequences_in_step=2
    )
    assert result.loss == pytest.approx(expected, rel=1e-4)
    assert result.pair_accuracy == 1.0
