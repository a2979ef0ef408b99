"""LoRA training through peft: the model spec's "lora" block wraps the policy so only the
adapter weights train, and the adapter (or the adapter merged into the base weights) can be
written in the layouts inference servers load.

- ``save_adapter`` writes the PEFT layout (``adapter_config.json`` +
  ``adapter_model.safetensors``) that vLLM's ``/v1/load_lora_adapter`` reads.
- ``merged_state_dict`` gives the base model's state dict with W + scale·B·A folded in and
  the plain Hugging Face parameter names (what ``from_pretrained`` and SGLang's
  ``/update_weights_from_disk`` load), without touching the training model.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.lora import LoraLayer
from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict
from transformers import PreTrainedModel

from .errors import NotFoundError, PreconditionError, ValidationError

ADAPTER_NAME = "default"
ADAPTER_CONFIG_FILE = "adapter_config.json"
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"
# Every linear layer except the output head (peft's shorthand); resolved to concrete module
# names in the saved adapter_config.json.
ALL_LINEAR = "all-linear"


@dataclass(frozen=True)
class LoraSpec:
    """The model spec's "lora" block: {"r", "alpha", "dropout", "target_modules"}."""

    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: tuple[str, ...] = field(default_factory=lambda: (ALL_LINEAR,))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "LoraSpec":
        if not isinstance(raw, dict):
            raise ValidationError("model spec: lora must be a JSON object")
        unknown = set(raw) - {"r", "alpha", "dropout", "target_modules"}
        if unknown:
            raise ValidationError(
                f"model spec: lora: unknown keys {sorted(unknown)} "
                "(r, alpha, dropout, target_modules)"
            )
        r = raw.get("r", cls.r)
        if not isinstance(r, int) or isinstance(r, bool) or r <= 0:
            raise ValidationError(f"model spec: lora.r must be a positive integer, got {r!r}")
        alpha = raw.get("alpha", cls.alpha)
        if not isinstance(alpha, int | float) or isinstance(alpha, bool) or alpha <= 0:
            raise ValidationError(f"model spec: lora.alpha must be > 0, got {alpha!r}")
        dropout = raw.get("dropout", cls.dropout)
        if not isinstance(dropout, int | float) or isinstance(dropout, bool):
            raise ValidationError(f"model spec: lora.dropout must be a number, got {dropout!r}")
        if dropout != 0:
            # The engine computes every logprob and loss in eval mode (the PPO ratio of a
            # step's first update must be exactly 1), so LoRA dropout would never apply.
            raise ValidationError(
                "model spec: lora.dropout must be 0: the engine trains in eval mode "
                "(deterministic logprobs for the importance ratios), where dropout is inert"
            )
        targets = raw.get("target_modules", [ALL_LINEAR])
        if isinstance(targets, str):
            targets = [targets]
        if (
            not isinstance(targets, list)
            or not targets
            or not all(isinstance(t, str) and t for t in targets)
        ):
            raise ValidationError(
                "model spec: lora.target_modules must be a non-empty list of module names "
                f'(or "{ALL_LINEAR}"), got {targets!r}'
            )
        return cls(r=r, alpha=float(alpha), dropout=float(dropout), target_modules=tuple(targets))

    def to_dict(self) -> dict[str, Any]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "dropout": self.dropout,
            "target_modules": list(self.target_modules),
        }

    def peft_config(self) -> LoraConfig:
        targets: str | list[str] = list(self.target_modules)
        if targets == [ALL_LINEAR]:
            targets = ALL_LINEAR
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=targets,
            bias="none",
            task_type="CAUSAL_LM",
        )


def apply_lora(model: PreTrainedModel, spec: LoraSpec, seed: int) -> PeftModel:
    """Wraps `model` in place: LoRA layers are injected into it, every base parameter is
    frozen and only the adapter trains. B starts at zero, so the wrapped model computes
    exactly what the base model did; A's initialisation is seeded."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            peft_model = get_peft_model(model, spec.peft_config(), adapter_name=ADAPTER_NAME)
        except ValueError as exc:
            raise ValidationError(f"model spec: lora: {exc}") from exc
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if not trainable or any("lora_" not in n for n in trainable):
        raise PreconditionError(f"lora: unexpected trainable parameters {trainable[:5]}")
    return peft_model


def save_adapter(peft_model: PeftModel, directory: Path) -> list[Path]:
    """Writes adapter_config.json + adapter_model.safetensors (PEFT's layout)."""
    directory.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(directory), safe_serialization=True)
    files = [directory / ADAPTER_CONFIG_FILE, directory / ADAPTER_WEIGHTS_FILE]
    for f in files:
        if not f.is_file():
            raise PreconditionError(f"lora: peft did not write {f}")
    return files


def load_adapter(peft_model: PeftModel, directory: Path) -> None:
    """Loads adapter weights written by save_adapter into the wrapped model."""
    import safetensors.torch

    weights = directory / ADAPTER_WEIGHTS_FILE
    if not weights.is_file():
        raise NotFoundError(f"path: {weights} not found")
    device = next(peft_model.parameters()).device
    state = safetensors.torch.load_file(str(weights), device=str(device))
    result = set_peft_model_state_dict(peft_model, state, adapter_name=ADAPTER_NAME)
    missing = [k for k in result.missing_keys if "lora_" in k]
    if missing or result.unexpected_keys:
        raise PreconditionError(
            f"path: adapter does not fit this model (missing {missing[:3]}, "
            f"unexpected {list(result.unexpected_keys)[:3]})"
        )


def adapter_state_dict(peft_model: PeftModel) -> dict[str, torch.Tensor]:
    """The adapter's tensors under PEFT's saved names (what adapter_model.safetensors holds)."""
    return get_peft_model_state_dict(peft_model, adapter_name=ADAPTER_NAME)


@torch.no_grad()
def merged_state_dict(model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The state dict of the base architecture with every LoRA delta folded into its base
    weight, under the plain names (".base_layer" dropped, adapter tensors left out). Tensors
    shared between names (tied embeddings) appear once, under their first name, as
    safetensors requires. The training model is not modified."""
    deltas: dict[str, torch.Tensor] = {}
    for name, module in model.named_modules():
        if isinstance(module, LoraLayer) and ADAPTER_NAME in module.lora_A:
            deltas[f"{name}.weight"] = module.get_delta_weight(ADAPTER_NAME)
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for key, tensor in model.state_dict().items():
        if ".lora_" in key:
            continue
        plain = key.replace(".base_layer.", ".")
        ptr = tensor.data_ptr()
        if ptr in seen:
            continue
        seen.add(ptr)
        delta = deltas.get(plain)
        value = tensor + delta.to(tensor.dtype) if delta is not None else tensor
        out[plain] = value.detach().contiguous()
    return out
