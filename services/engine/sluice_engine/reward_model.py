"""A scalar reward model: the tiny Llama backbone (tiny.py) with a linear head on the hidden
state of a closing <|end|> token appended to every text. Classification, ranking (ONI,
arXiv 2410.23022) and regression (discriminative PRM) share it; only the loss differs."""

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from transformers import PreTrainedTokenizerFast

from .device import resolve_device
from .errors import NotFoundError, PreconditionError, ValidationError
from .reward_model_losses import (
    LossValue,
    bradley_terry_loss,
    classification_loss,
    regression_loss,
)
from .tiny import END, TinySpec, build_tiny_model, build_tokenizer

CONFIG_FILE = "reward_model.json"
WEIGHTS_FILE = "reward_model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
FORMAT = "sluice-reward-model/1"
DEFAULT_LEARNING_RATE = 1e-4  # ONI: Adam lr 1e-4
DEFAULT_MAX_TOKENS = 512
# The default RM is smaller than the tiny policy and reads at most DEFAULT_MAX_TOKENS tokens.
DEFAULT_TINY = TinySpec(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    intermediate_size=128,
    max_position_embeddings=DEFAULT_MAX_TOKENS + 1,
)
SCORE_CHUNK = 256  # texts per forward pass when scoring


class RewardModelKind(Enum):
    CLASSIFICATION = "classification"
    RANKING = "ranking"
    REGRESSION = "regression"


@dataclass(frozen=True)
class OptimizerSettings:
    learning_rate: float = DEFAULT_LEARNING_RATE
    weight_decay: float = 0.0
    max_grad_norm: float = 0.0  # 0: no clipping

    def validate(self, field: str) -> "OptimizerSettings":
        if not self.learning_rate > 0:
            raise ValidationError(f"{field}.learning_rate: must be > 0")
        if self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ValidationError(f"{field}.weight_decay/max_grad_norm: must be >= 0")
        return self


@dataclass(frozen=True)
class RewardModelConfig:
    kind: RewardModelKind
    tiny: TinySpec = DEFAULT_TINY
    seed: int = 0
    max_tokens: int = DEFAULT_MAX_TOKENS
    optimizer: OptimizerSettings = OptimizerSettings()
    device: str = "auto"

    def validate(self) -> "RewardModelConfig":
        if not 1 <= self.max_tokens < self.tiny.max_position_embeddings:
            raise ValidationError(
                f"max_tokens: must be in [1, {self.tiny.max_position_embeddings - 1}] "
                "(the model's positions, one kept for the closing token)"
            )
        self.optimizer.validate("optimizer")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "tiny": self.tiny.to_dict(),
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "optimizer": {
                "learning_rate": self.optimizer.learning_rate,
                "weight_decay": self.optimizer.weight_decay,
                "max_grad_norm": self.optimizer.max_grad_norm,
            },
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any], device: str = "auto") -> "RewardModelConfig":
        try:
            return cls(
                kind=RewardModelKind(raw["kind"]),
                tiny=TinySpec.from_dict(raw.get("tiny")),
                seed=int(raw.get("seed", 0)),
                max_tokens=int(raw.get("max_tokens", DEFAULT_MAX_TOKENS)),
                optimizer=OptimizerSettings(**raw.get("optimizer", {})),
                device=device,
            ).validate()
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"reward model config: {exc}") from exc


@dataclass(frozen=True)
class TrainResult:
    loss: float
    accuracy: float
    accuracy_count: int
    version: int
    steps: int
    grad_norm: float


@dataclass(frozen=True)
class ScoreResult:
    scores: list[float]
    probabilities: list[float]  # classification only
    version: int


class ScalarHeadModel(torch.nn.Module):
    """Backbone hidden state of the last position → one scalar."""

    def __init__(self, config: RewardModelConfig, tokenizer: PreTrainedTokenizerFast) -> None:
        super().__init__()
        causal_lm = build_tiny_model(config.tiny, tokenizer, config.seed)
        self.backbone = causal_lm.model  # LlamaModel without the LM head
        generator = torch.Generator().manual_seed(config.seed + 1)
        self.head = torch.nn.Linear(config.tiny.hidden_size, 1)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=generator) * 0.02)
            self.head.bias.zero_()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # Left padding: positions count real tokens only, so a text's score does not depend
        # on the other texts of its batch.
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        hidden = self.backbone(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids
        ).last_hidden_state
        return self.head(hidden[:, -1, :]).squeeze(-1)  # [B]


class RewardModel:
    """One named reward model; every public method holds the model's lock."""

    def __init__(self, name: str, config: RewardModelConfig) -> None:
        self.name = name
        self.config = config.validate()
        self.device = resolve_device(config.device)
        self.tokenizer = build_tokenizer()
        self._end_id = int(self.tokenizer.convert_tokens_to_ids(END))
        self._pad_id = int(self.tokenizer.pad_token_id)
        self.model = ScalarHeadModel(config, self.tokenizer).to(self.device)
        self.model.eval()
        self.version = 0
        self._optimizer: torch.optim.Adam | None = None
        self._lock = threading.Lock()

    @property
    def kind(self) -> RewardModelKind:
        return self.config.kind

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # ----- tensors -------------------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts → left-padded ids and mask; each keeps its last max_tokens tokens + <|end|>."""
        rows = []
        for text in texts:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            rows.append([*ids[-self.config.max_tokens :], self._end_id])
        width = max(len(r) for r in rows)
        ids_t = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
        mask_t = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids_t[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask_t[i, width - len(row) :] = 1
        return ids_t.to(self.device), mask_t.to(self.device)

    def _forward(self, texts: Sequence[str]) -> torch.Tensor:
        ids, mask = self.encode(texts)
        return self.model(ids, mask).float()

    def _optimizer_for(self, settings: OptimizerSettings) -> torch.optim.Adam:
        if self._optimizer is None:
            self._optimizer = torch.optim.Adam(
                self.model.parameters(),
                lr=settings.learning_rate,
                weight_decay=settings.weight_decay,
            )
        for group in self._optimizer.param_groups:
            group["lr"] = settings.learning_rate
            group["weight_decay"] = settings.weight_decay
        return self._optimizer

    # ----- API -----------------------------------------------------------------------

    def train_examples(
        self,
        texts: Sequence[str],
        labels: Sequence[float],
        optimizer: OptimizerSettings | None = None,
    ) -> TrainResult:
        """One step on (text, label) examples (classification or regression)."""
        if self.kind is RewardModelKind.RANKING:
            raise ValidationError(f"examples: model {self.name!r} is a ranking model; send pairs")
        with self._lock:
            labels_t = torch.tensor(list(labels), dtype=torch.float32, device=self.device)
            return self._step(
                lambda: (
                    classification_loss(self._forward(texts), labels_t)
                    if self.kind is RewardModelKind.CLASSIFICATION
                    else regression_loss(self._forward(texts), labels_t)
                ),
                optimizer,
            )

    def train_pairs(
        self,
        firsts: Sequence[str],
        seconds: Sequence[str],
        labels: Sequence[float],
        optimizer: OptimizerSettings | None = None,
    ) -> TrainResult:
        """One Bradley–Terry step on pairs (ranking)."""
        if self.kind is not RewardModelKind.RANKING:
            raise ValidationError(
                f"pairs: model {self.name!r} is a {self.kind.value} model; send examples"
            )
        with self._lock:
            labels_t = torch.tensor(list(labels), dtype=torch.float32, device=self.device)
            n = len(firsts)

            def loss() -> LossValue:
                # One forward pass over both sides keeps their padding identical.
                scores = self._forward([*firsts, *seconds])
                return bradley_terry_loss(scores[:n], scores[n:], labels_t)

            return self._step(loss, optimizer)

    def _step(self, compute: Any, optimizer: OptimizerSettings | None) -> TrainResult:
        settings = (optimizer or self.config.optimizer).validate("optimizer")
        opt = self._optimizer_for(settings)
        self.model.train()
        try:
            opt.zero_grad(set_to_none=True)
            value: LossValue = compute()
            if not torch.isfinite(value.loss):
                raise PreconditionError(f"reward model {self.name!r}: loss is not finite")
            value.loss.backward()
            max_norm = settings.max_grad_norm if settings.max_grad_norm > 0 else float("inf")
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm))
            opt.step()
        finally:
            self.model.eval()
        self.version += 1
        return TrainResult(
            loss=float(value.loss.detach()),
            accuracy=value.accuracy,
            accuracy_count=value.accuracy_count,
            version=self.version,
            steps=self.version,
            grad_norm=grad_norm,
        )

    def score(self, texts: Sequence[str]) -> ScoreResult:
        with self._lock, torch.no_grad():
            scores: list[float] = []
            for start in range(0, len(texts), SCORE_CHUNK):
                scores.extend(self._forward(texts[start : start + SCORE_CHUNK]).tolist())
            probabilities = (
                torch.sigmoid(torch.tensor(scores)).tolist()  # p₁ = σ(z)
                if self.kind is RewardModelKind.CLASSIFICATION
                else []
            )
            return ScoreResult(scores=scores, probabilities=probabilities, version=self.version)

    def save(self, path: str) -> tuple[str, int, int]:
        """Writes config, weights and optimizer state to directory `path`."""
        with self._lock:
            out = Path(path)
            out.mkdir(parents=True, exist_ok=True)
            state = {"format": FORMAT, "version": self.version, **self.config.to_dict()}
            (out / CONFIG_FILE).write_text(json.dumps(state, indent=2))
            safetensors.torch.save_model(self.model, str(out / WEIGHTS_FILE))
            if self._optimizer is not None:
                torch.save(self._optimizer.state_dict(), out / OPTIMIZER_FILE)
            written = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
            return str(out), self.version, written

    def load_weights(self, path: str) -> int:
        """Loads weights, optimizer state and version saved by `save` (same kind and shape)."""
        config, version = read_saved_config(path, self.config.device)
        if config.kind is not self.kind or config.tiny != self.config.tiny:
            raise PreconditionError(
                f"path: {path!r} holds a {config.kind.value} model of another shape or kind "
                f"than {self.name!r} ({self.kind.value})"
            )
        with self._lock:
            safetensors.torch.load_model(
                self.model, str(Path(path) / WEIGHTS_FILE), device=str(self.device)
            )
            optimizer_file = Path(path) / OPTIMIZER_FILE
            self._optimizer = None
            if optimizer_file.is_file():
                opt = self._optimizer_for(self.config.optimizer)
                opt.load_state_dict(torch.load(optimizer_file, map_location=self.device))
            self.version = version
            self.config = replace(self.config, max_tokens=config.max_tokens)
            return self.version

    @classmethod
    def from_saved(cls, name: str, path: str, device: str = "auto") -> "RewardModel":
        config, _ = read_saved_config(path, device)
        model = cls(name, config)
        model.load_weights(path)
        return model


def read_saved_config(path: str, device: str = "auto") -> tuple[RewardModelConfig, int]:
    file = Path(path) / CONFIG_FILE
    if not file.is_file():
        raise NotFoundError(f"path: no saved reward model at {path!r} ({CONFIG_FILE} missing)")
    try:
        raw = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise ValidationError(f"path: {file} is not JSON: {exc}") from exc
    if raw.get("format") != FORMAT:
        raise ValidationError(f"path: {file} is not a {FORMAT} file")
    return RewardModelConfig.from_dict(raw, device), int(raw.get("version", 0))
