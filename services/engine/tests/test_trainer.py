from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from sluice_engine.errors import NotFoundError, ValidationError
from sluice_engine.losses import LossKind, LossSpec
from sluice_engine.trainer import OptimConfig, PolicyEngine, TrainingSequence


def _target(engine: PolicyEngine) -> TrainingSequence:
    ids = engine.tokenize("<|user|>2+2<|end|><|assistant|>4<|end|>")
    n = len(ids) - 1
    mask = torch.zeros(n, dtype=torch.bool)
    mask[-2:] = True  # "4" and <|end|>
    return TrainingSequence(ids, mask, torch.ones(n), None)


def _target_logprob(engine: PolicyEngine, seq: TrainingSequence) -> float:
    (lp,), _ = engine.compute_logprobs([seq.token_ids])
    return float(lp[seq.loss_mask].sum())


def test_reinforce_raises_target_logprob(engine: PolicyEngine) -> None:
    seq = _target(engine)
    before = _target_logprob(engine, seq)
    spec = LossSpec(kind=LossKind.REINFORCE)
    for step in range(5):
        # Two microbatches accumulate into one step.
        engine.forward_backward([seq], spec, total_sequences_in_step=2)
        result = engine.forward_backward([seq], spec, total_sequences_in_step=2)
        assert result.loss_tokens == 2 and result.policy_version == step
        engine.optim_step(OptimConfig(learning_rate=1e-2, max_grad_norm=1.0))
    assert engine.policy_version == 5 and engine.optimizer_steps == 5
    assert _target_logprob(engine, seq) > before + 1.0


def test_ppo_first_step_ratio_is_one(engine: PolicyEngine) -> None:
    seq = _target(engine)
    (old,), _ = engine.compute_logprobs([seq.token_ids])
    ppo = TrainingSequence(seq.token_ids, seq.loss_mask, seq.advantages, old)
    result = engine.forward_backward([ppo], LossSpec(kind=LossKind.PPO_CLIP))
    assert result.ratio_mean == pytest.approx(1.0, abs=1e-5)
    assert result.clip_fraction == 0.0 and result.entropy > 0


def test_microbatch_chunking_matches_single_batch(make_engine: Callable[..., PolicyEngine]) -> None:
    a, b = make_engine(), make_engine(max_batch_tokens=8)
    seqs = [
        _target(a),
        TrainingSequence([5, 6, 7], torch.ones(2, dtype=torch.bool), -torch.ones(2), None),
    ]
    spec = LossSpec(kind=LossKind.REINFORCE)
    ra, rb = a.forward_backward(seqs, spec), b.forward_backward(seqs, spec)
    assert ra.loss == pytest.approx(rb.loss, rel=1e-5)
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.allclose(pa.grad, pb.grad, atol=1e-6)


def test_version_rules(engine: PolicyEngine) -> None:
    assert (
        engine.optim_step(OptimConfig(learning_rate=1e-3, next_policy_version=3)).policy_version
        == 3
    )
    with pytest.raises(ValidationError, match="next_policy_version"):
        engine.optim_step(OptimConfig(learning_rate=1e-3, next_policy_version=3))
    assert engine.optim_step(OptimConfig(learning_rate=1e-3)).policy_version == 4


def test_an_intermediate_update_changes_weights_and_keeps_the_version(engine: PolicyEngine) -> None:
    before = [p.detach().clone() for p in engine.model.parameters()]
    engine.forward_backward([_target(engine)], LossSpec(kind=LossKind.REINFORCE))
    result = engine.optim_step(OptimConfig(learning_rate=1e-2, keep_policy_version=True))
    assert result.policy_version == 0 and engine.policy_version == 0
    assert result.optimizer_steps == 1
    assert any(
        not torch.equal(a, b) for a, b in zip(before, engine.model.parameters(), strict=True)
    )
    assert engine.optim_step(OptimConfig(learning_rate=1e-3)).policy_version == 1


def test_validation_names_field_and_index(engine: PolicyEngine) -> None:
    good = _target(engine)
    bad = TrainingSequence(good.token_ids, good.loss_mask[:-1], good.advantages, None)
    with pytest.raises(ValidationError, match=r"sequences\[1\].loss_mask"):
        engine.forward_backward([good, bad], LossSpec(kind=LossKind.REINFORCE))
    with pytest.raises(ValidationError, match=r"sequences\[0\].old_logprobs"):
        engine.forward_backward([good], LossSpec(kind=LossKind.PPO_CLIP))
    with pytest.raises(ValidationError, match="outside the vocabulary"):
        engine.compute_logprobs([[1, 99999]])


def test_save_load_roundtrip_preserves_version(
    engine: PolicyEngine, tmp_path: Path, make_engine: Callable[..., PolicyEngine]
) -> None:
    seq = _target(engine)
    engine.forward_backward([seq], LossSpec(kind=LossKind.REINFORCE))
    engine.optim_step(OptimConfig(learning_rate=1e-2, next_policy_version=7))
    saved = engine.save(str(tmp_path / "ckpt"), include_optimizer=True)
    assert saved.policy_version == 7 and saved.bytes > 0
    expected = _target_logprob(engine, seq)

    fresh = make_engine()
    assert _target_logprob(fresh, seq) != pytest.approx(expected)
    assert fresh.load(saved.path, include_optimizer=True) == 7
    assert fresh.policy_version == 7 and fresh.optimizer_steps == 1
    assert _target_logprob(fresh, seq) == pytest.approx(expected, abs=1e-5)
    # Both continue identically (optimizer state restored).
    for e in (engine, fresh):
        e.forward_backward([seq], LossSpec(kind=LossKind.REINFORCE))
        e.optim_step(OptimConfig(learning_rate=1e-2))
    assert _target_logprob(fresh, seq) == pytest.approx(_target_logprob(engine, seq), abs=1e-5)
    with pytest.raises(NotFoundError):
        fresh.load(str(tmp_path / "missing"), include_optimizer=False)
