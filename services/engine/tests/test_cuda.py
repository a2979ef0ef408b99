"""The engine on a GPU agrees with the engine on the CPU (skipped where CUDA is absent).

Run on a GPU machine with `SLUICE_TEST_DEVICE=cuda pytest tests/` so the rest of the suite
also runs on the GPU; these tests compare the two devices directly.
"""

import pytest
import torch

from sluice_engine.loading import ModelSpec, load_model
from sluice_engine.losses import LossKind, LossSpec
from sluice_engine.sampling import SamplingConfig, generate
from sluice_engine.trainer import OptimConfig, PolicyEngine, TrainingSequence

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _engine(device: str, dtype: str = "float32") -> PolicyEngine:
    spec = ModelSpec.from_dict({"source": "tiny", "seed": 5, "device": device, "dtype": dtype})
    return PolicyEngine("policy", load_model(spec))


def _batch(engine: PolicyEngine) -> list[TrainingSequence]:
    g = torch.Generator().manual_seed(0)
    seqs = []
    for length in (17, 40, 9):
        ids = torch.randint(0, engine.vocab_size, (length,), generator=g).tolist()
        mask = torch.ones(length - 1, dtype=torch.bool)
        mask[: length // 3] = False
        seqs.append(TrainingSequence(ids, mask, torch.randn(length - 1, generator=g), None))
    return seqs


def test_forward_backward_on_cuda_matches_cpu() -> None:
    cpu, gpu = _engine("cpu"), _engine("cuda")
    spec = LossSpec(kind=LossKind.REINFORCE)
    rc, rg = cpu.forward_backward(_batch(cpu), spec), gpu.forward_backward(_batch(gpu), spec)
    assert rg.loss == pytest.approx(rc.loss, rel=1e-4, abs=1e-6)
    for pc, pg in zip(cpu.model.parameters(), gpu.model.parameters(), strict=True):
        assert torch.allclose(pc.grad, pg.grad.cpu(), atol=1e-5, rtol=1e-3)


def test_logprobs_on_cuda_match_cpu() -> None:
    cpu, gpu = _engine("cpu"), _engine("cuda")
    seqs = [s.token_ids for s in _batch(cpu)]
    (lc, _), (lg, _) = cpu.compute_logprobs(seqs), gpu.compute_logprobs(seqs)
    for a, b in zip(lc, lg, strict=True):
        assert torch.allclose(a, b.cpu(), atol=1e-4)


def test_seeded_generation_on_cuda_repeats_and_ignores_batch_mates() -> None:
    engine = _engine("cuda")
    prompts = [
        engine.tokenize("<|user|>hello<|end|><|assistant|>"),
        engine.tokenize("<|user|>a<|end|>"),
    ]
    config = SamplingConfig(max_tokens=24, temperature=1.0)
    eos, pad = engine.eos_token_ids, engine.pad_token_id
    alone = generate(engine.model, [prompts[0]], 1, config, eos, pad, [42])
    again = generate(engine.model, [prompts[0]], 1, config, eos, pad, [42])
    mixed = generate(engine.model, [prompts[1], prompts[0]], 1, config, eos, pad, [7, 42])
    assert again[0].token_ids == alone[0].token_ids
    assert mixed[1].token_ids == alone[0].token_ids


def test_bf16_training_on_cuda_lowers_the_loss() -> None:
    engine = _engine("cuda", dtype="bfloat16")
    seqs = [
        TrainingSequence(s.token_ids, s.loss_mask, torch.ones_like(s.advantages), None)
        for s in _batch(engine)
    ]
    spec = LossSpec(kind=LossKind.REINFORCE)
    first = None
    for _ in range(8):
        result = engine.forward_backward(seqs, spec)
        first = result.loss if first is None else first
        assert torch.isfinite(torch.tensor(result.loss))
        engine.optim_step(OptimConfig(learning_rate=1e-2, max_grad_norm=1.0))
    (lps, _) = engine.compute_logprobs([s.token_ids for s in seqs])
    assert all(torch.isfinite(lp).all() for lp in lps)
    final = engine.forward_backward(seqs, spec).loss
    assert final < first
