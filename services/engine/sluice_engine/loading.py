"""Model specs (tiny or local Hugging Face checkpoint) and loading them onto a device."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from .device import resolve_device, resolve_dtype
from .errors import ValidationError
from .lora import LoraSpec, apply_lora
from .tiny import TinySpec, build_tiny_model, build_tokenizer

DEFAULT_MODEL_NAME = "policy"


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model: {"source": "tiny", "tiny": {...}, "seed": N} or
    {"source": "hf", "path": DIR}; both accept "device" (auto|cpu|cuda) and "dtype", and
    "lora": {"r", "alpha", "dropout", "target_modules"} to train a LoRA adapter through peft
    (only the adapter's weights train; see lora.py)."""

    source: str
    tiny: TinySpec = field(default_factory=TinySpec)
    seed: int = 0
    path: str = ""
    device: str = "auto"
    dtype: str = "float32"
    lora: LoraSpec | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ModelSpec":
        if not isinstance(raw, dict):
            raise ValidationError("model spec: expected a JSON object")
        source = raw.get("source", "tiny")
        if source not in ("tiny", "hf"):
            raise ValidationError(f"model spec: unknown source {source!r} (tiny or hf)")
        if source == "hf" and not raw.get("path"):
            raise ValidationError('model spec: source "hf" needs "path" (a local directory)')
        try:
            tiny = TinySpec.from_dict(raw.get("tiny"))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"model spec: {exc}") from exc
        lora_raw = raw.get("lora")
        lora = LoraSpec.from_dict(lora_raw) if lora_raw is not None else None
        return cls(
            source=source,
            tiny=tiny,
            seed=int(raw.get("seed", 0)),
            path=str(raw.get("path", "")),
            device=str(raw.get("device", "auto")),
            dtype=str(raw.get("dtype", "float32")),
            lora=lora,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "device": self.device, "dtype": self.dtype}
        if self.source == "tiny":
            out.update(tiny=self.tiny.to_dict(), seed=self.seed)
        else:
            out["path"] = self.path
        if self.lora is not None:
            out["lora"] = self.lora.to_dict()
        return out


def parse_model_specs(text_or_path: str) -> dict[str, ModelSpec]:
    """Parses inline JSON or a JSON file. Either one spec (named by its "name" field,
    default "policy") or {"models": {name: spec, ...}}."""
    text = text_or_path.strip()
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ValidationError(f"model spec: {text!r} is neither JSON nor a file")
        text = path.read_text()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"model spec: invalid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValidationError("model spec: expected a JSON object")
    if "models" in raw:
        models = raw["models"]
        if not isinstance(models, dict) or not models:
            raise ValidationError('model spec: "models" must be a non-empty object')
        return {str(name): ModelSpec.from_dict(spec) for name, spec in models.items()}
    raw = dict(raw)
    name = str(raw.pop("name", DEFAULT_MODEL_NAME))
    return {name: ModelSpec.from_dict(raw)}


@dataclass
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    spec: ModelSpec
    device: torch.device
    # The peft wrapper when spec.lora is set; `model` is then the LoRA-injected base model
    # (same class and forward as without LoRA), `peft.base_model.model is model`.
    peft: PeftModel | None = None


def load_model(spec: ModelSpec) -> LoadedModel:
    """Builds or loads the model (never touching the network) and moves it to its device."""
    device = resolve_device(spec.device)
    dtype = resolve_dtype(spec.dtype)
    if spec.source == "tiny":
        tokenizer = build_tokenizer()
        model = build_tiny_model(spec.tiny, tokenizer, spec.seed)
    else:
        path = Path(spec.path)
        if not path.is_dir():
            raise ValidationError(f"model spec: checkpoint directory {spec.path!r} not found")
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device=device, dtype=dtype)
    peft_model = apply_lora(model, spec.lora, spec.seed) if spec.lora is not None else None
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, spec=spec, device=device, peft=peft_model)
