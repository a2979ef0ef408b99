"""LoRA training through peft: only the adapter trains, and the adapter / merged weights are
written in the layouts vLLM (PEFT adapter) and SGLang / from_pretrained (HF checkpoint) load."""

import json
from pathlib import Path

import pytest
import safetensors.torch
import torch
from devices import TEST_DEVICE
from peft import PeftModel
from transformers import AutoModelForCausalLM

from sluice_engine.errors import PreconditionError, ValidationError
from sluice_engine.loading import ModelSpec, load_model
from sluice_engine.lora import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, LoraSpec
from sluice_engine.losses import LossKind, LossSpec
from sluice_engine.trainer import (
    FORMAT_MERGED,
    FORMAT_PEFT_ADAPTER,
    OptimConfig,
    PolicyEngine,
    TrainingSequence,
)

LORA = {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}


def lora_engine(lora: dict[str, object] | None = None, seed: int = 0) -> PolicyEngine:
    spec = ModelSpec.from_dict(
        {"source": "tiny", "seed": seed, "device": TEST_DEVICE, "lora": lora if lora else LORA}
    )
    return PolicyEngine("policy", load_model(spec))


def plain_engine(seed: int = 0) -> PolicyEngine:
    spec = ModelSpec.from_dict({"source": "tiny", "seed": seed, "device": TEST_DEVICE})
    return PolicyEngine("policy", load_model(spec))


def _target(engine: PolicyEngine) -> TrainingSequence:
    ids = engine.tokenize("<|user|>2+2<|end|><|assistant|>4<|end|>")
    n = len(ids) - 1
    mask = torch.zeros(n, dtype=torch.bool)
    mask[-2:] = True
    return TrainingSequence(ids, mask, torch.ones(n), None)


def _train(engine: PolicyEngine, steps: int = 3) -> None:
    seq = _target(engine)
    for _ in range(steps):
        engine.forward_backward([seq], LossSpec(kind=LossKind.REINFORCE))
        engine.optim_step(OptimConfig(learning_rate=5e-2))


def _logprobs(model: torch.nn.Module, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids], device=model.device)).logits[0, :-1].float()
    targets = torch.tensor(ids[1:], device=logits.device)[:, None]
    # On the CPU, like the engine's compute_logprobs results it is compared with.
    return torch.log_softmax(logits, -1).gather(-1, targets).squeeze(-1).cpu()


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_only_adapter_parameters_require_grad() -> None:
    engine = lora_engine()
    trainable = [n for n, p in engine.model.named_parameters() if p.requires_grad]
    frozen = [n for n, p in engine.model.named_parameters() if not p.requires_grad]
    assert trainable and all(".lora_A." in n or ".lora_B." in n for n in trainable)
    # 2 layers x (q_proj, v_proj) x (A, B)
    assert len(trainable) == 8
    assert any(n.endswith("embed_tokens.weight") for n in frozen)
    assert engine.peft is not None and engine.peft.base_model.model is engine.model


def test_wrapped_model_starts_equal_to_base_and_init_is_seeded() -> None:
    base, wrapped = plain_engine(), lora_engine()
    ids = _target(base).token_ids
    torch.testing.assert_close(_logprobs(wrapped.model, ids), _logprobs(base.model, ids))
    again = lora_engine()
    for (name, a), (_, b) in zip(
        wrapped.model.named_parameters(), again.model.named_parameters(), strict=True
    ):
        assert torch.equal(a, b), name


def test_training_step_changes_only_adapter_weights() -> None:
    engine = lora_engine()
    before = _snapshot(engine.model)
    seq = _target(engine)
    lp_before = float(engine.compute_logprobs([seq.token_ids])[0][0][seq.loss_mask].sum())
    _train(engine)
    after = _snapshot(engine.model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed, "a training step changed nothing"
    assert all(".lora_" in n for n in changed), sorted(changed)
    # B starts at zero and A is trained through it: both move after a few steps.
    assert any(".lora_B." in n for n in changed) and any(".lora_A." in n for n in changed)
    lp_after = float(engine.compute_logprobs([seq.token_ids])[0][0][seq.loss_mask].sum())
    assert lp_after > lp_before + 0.1
    # The optimizer holds only the adapter's parameters.
    optimizer = engine._optimizer
    assert optimizer is not None
    n_opt = sum(len(g["params"]) for g in optimizer.param_groups)
    assert n_opt == len([p for p in engine.model.parameters() if p.requires_grad])


def test_adapter_save_writes_peft_files_that_reload_with_peft(tmp_path: Path) -> None:
    engine = lora_engine()
    _train(engine)
    out = tmp_path / "v3"
    result = engine.save(str(out), include_optimizer=False, fmt=FORMAT_PEFT_ADAPTER)
    assert result.format == FORMAT_PEFT_ADAPTER and result.has_adapter
    assert result.policy_version == 3 and result.bytes > 0
    assert (out / ADAPTER_CONFIG_FILE).is_file() and (out / ADAPTER_WEIGHTS_FILE).is_file()
    assert not (out / "model.safetensors").exists(), "adapter format must not write the base"
    config = json.loads((out / ADAPTER_CONFIG_FILE).read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 4 and config["lora_alpha"] == 8
    assert sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    tensors = safetensors.torch.load_file(str(out / ADAPTER_WEIGHTS_FILE))
    # PEFT's saved names (no adapter name): what vLLM's LoRA loader expects.
    assert tensors and all(k.startswith("base_model.model.") for k in tensors)
    assert all(".default." not in k for k in tensors)

    # A fresh base model + the saved adapter through peft computes what the engine computes.
    base = plain_engine()
    reloaded = PeftModel.from_pretrained(base.model, str(out))
    ids = _target(engine).token_ids
    (engine_lp,), _ = engine.compute_logprobs([ids])
    torch.testing.assert_close(_logprobs(reloaded, ids), engine_lp, atol=1e-5, rtol=1e-5)


def test_checkpoint_of_lora_model_restores_weights_and_includes_adapter(tmp_path: Path) -> None:
    engine = lora_engine()
    _train(engine)
    ckpt = tmp_path / "ckpt"
    result = engine.save(str(ckpt), include_optimizer=True)
    assert result.has_adapter and (ckpt / ADAPTER_WEIGHTS_FILE).is_file()
    assert (ckpt / "model.safetensors").is_file() and (ckpt / "optimizer.pt").is_file()
    ids = _target(engine).token_ids
    (want,), _ = engine.compute_logprobs([ids])

    fresh = lora_engine()
    assert fresh.load(str(ckpt), include_optimizer=True) == 3
    (got,), _ = fresh.compute_logprobs([ids])
    torch.testing.assert_close(got, want)

    # An adapter-only directory restores the adapter too.
    adapter_dir = tmp_path / "adapter"
    engine.save(str(adapter_dir), include_optimizer=False, fmt=FORMAT_PEFT_ADAPTER)
    other = lora_engine()
    assert other.load(str(adapter_dir), include_optimizer=False) == 3
    (got2,), _ = other.compute_logprobs([ids])
    torch.testing.assert_close(got2, want)


def test_merged_save_is_a_plain_hf_checkpoint_whose_logprobs_moved(tmp_path: Path) -> None:
    engine = lora_engine()
    ids = _target(engine).token_ids
    (initial,), _ = engine.compute_logprobs([ids])
    _train(engine)
    (trained,), _ = engine.compute_logprobs([ids])
    out = tmp_path / "merged"
    result = engine.save(str(out), include_optimizer=False, fmt=FORMAT_MERGED)
    assert result.format == FORMAT_MERGED and not result.has_adapter
    assert not (out / ADAPTER_CONFIG_FILE).exists()
    keys = set(safetensors.torch.load_file(str(out / "model.safetensors")))
    assert not any("lora_" in k or "base_layer" in k for k in keys), sorted(keys)[:5]

    merged = AutoModelForCausalLM.from_pretrained(str(out), local_files_only=True)
    merged.eval()
    got = _logprobs(merged, ids)
    torch.testing.assert_close(got, trained, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, initial, atol=1e-3), "merged weights did not change"
    # Merging never modifies the training model: it still trains and saves its adapter.
    assert all(".lora_" in n for n, p in engine.model.named_parameters() if p.requires_grad)
    _train(engine, steps=1)


def test_merged_save_without_lora_matches_the_model(tmp_path: Path) -> None:
    engine = plain_engine()
    _train(engine, steps=1)
    out = tmp_path / "merged"
    result = engine.save(str(out), include_optimizer=False, fmt=FORMAT_MERGED)
    assert not result.has_adapter
    merged = AutoModelForCausalLM.from_pretrained(str(out), local_files_only=True)
    merged.eval()
    ids = _target(engine).token_ids
    (want,), _ = engine.compute_logprobs([ids])
    torch.testing.assert_close(_logprobs(merged, ids), want, atol=1e-5, rtol=1e-5)


def test_adapter_format_without_lora_is_a_precondition_error(tmp_path: Path) -> None:
    with pytest.raises(PreconditionError, match="trains no LoRA adapter"):
        plain_engine().save(str(tmp_path / "x"), include_optimizer=False, fmt=FORMAT_PEFT_ADAPTER)
    with pytest.raises(ValidationError, match="include_optimizer"):
        lora_engine().save(str(tmp_path / "y"), include_optimizer=True, fmt=FORMAT_PEFT_ADAPTER)


def test_default_targets_every_linear_layer_but_the_head() -> None:
    engine = lora_engine({"r": 2})
    trainable = [n for n, p in engine.model.named_parameters() if p.requires_grad]
    modules = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n in trainable}
    assert modules == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert not any("lm_head" in n for n in trainable)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"r": 0}, "lora.r"),
        ({"alpha": -1}, "lora.alpha"),
        ({"dropout": 0.1}, "lora.dropout must be 0"),
        ({"target_modules": []}, "lora.target_modules"),
        ({"rank": 4}, "unknown keys"),
    ],
)
def test_lora_spec_rejects_bad_values(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LoraSpec.from_dict(raw)


def test_unknown_target_module_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="lora"):
        lora_engine({"target_modules": ["no_such_proj"]})


def test_model_spec_round_trips_lora() -> None:
    spec = ModelSpec.from_dict({"source": "tiny", "lora": LORA})
    assert spec.lora == LoraSpec(r=4, alpha=8.0, dropout=0.0, target_modules=("q_proj", "v_proj"))
    assert ModelSpec.from_dict(spec.to_dict()) == spec


def test_lora_model_samples_and_the_adapter_changes_what_it_samples() -> None:
    from sluice_engine.sampling import SamplingConfig

    engine = lora_engine()
    prompt = engine.tokenize("<|user|>2+2<|end|><|assistant|>")
    config = SamplingConfig(max_tokens=4, temperature=1.0, seed=7)
    (before,), version = engine.sample([prompt], 1, config)
    assert version == 0 and len(before.token_ids) > 0
    _train(engine)
    (after,), version = engine.sample([prompt], 1, config)
    assert version == 3
    # Same seed, same prompt: only the trained adapter can change the logprobs.
    assert list(after.logprobs) != list(before.logprobs)


def test_save_weights_rpc_honours_the_format(tmp_path: Path) -> None:
    import grpc

    from sluice_engine.loading import parse_model_specs
    from sluice_engine.logs import JsonLogger
    from sluice_engine.proto import engine_pb2 as pb
    from sluice_engine.proto import engine_pb2_grpc
    from sluice_engine.registry import ModelRegistry
    from sluice_engine.server import start_server

    specs = json.dumps(
        {
            "models": {
                "policy": {"source": "tiny", "device": TEST_DEVICE, "lora": LORA},
                "plain": {"source": "tiny", "device": TEST_DEVICE},
            }
        }
    )
    running = start_server(
        ModelRegistry.from_specs(parse_model_specs(specs)), port=0, log=JsonLogger("test")
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = engine_pb2_grpc.EngineServiceStub(channel)
            adapter = stub.SaveWeights(
                pb.SaveWeightsRequest(
                    model="policy", path=str(tmp_path / "a"), format=pb.WEIGHTS_FORMAT_PEFT_ADAPTER
                )
            )
            assert adapter.format == pb.WEIGHTS_FORMAT_PEFT_ADAPTER and adapter.has_adapter
            assert (tmp_path / "a" / ADAPTER_WEIGHTS_FILE).is_file()
            merged = stub.SaveWeights(
                pb.SaveWeightsRequest(
                    model="policy", path=str(tmp_path / "m"), format=pb.WEIGHTS_FORMAT_MERGED
                )
            )
            assert merged.format == pb.WEIGHTS_FORMAT_MERGED and not merged.has_adapter
            # No format: the checkpoint, which for a LoRA model carries the adapter too.
            ckpt = stub.SaveWeights(pb.SaveWeightsRequest(model="policy", path=str(tmp_path / "c")))
            assert ckpt.has_adapter and (tmp_path / "c" / ADAPTER_CONFIG_FILE).is_file()
            with pytest.raises(grpc.RpcError) as info:
                stub.SaveWeights(
                    pb.SaveWeightsRequest(
                        model="plain",
                        path=str(tmp_path / "p"),
                        format=pb.WEIGHTS_FORMAT_PEFT_ADAPTER,
                    )
                )
            assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        running.stop(0)
