"""PolicyEngine: one model's sampling, logprobs, gradient accumulation, optimizer and
checkpoints, serialised by a lock so sampling and training never interleave mid-op."""

import json
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import safetensors.torch
import torch

from .batching import SampleBatcher
from .chat import Message, Rendered, render_chat
from .dpo import dpo_loss
from .errors import NotFoundError, PreconditionError, ValidationError
from .loading import LoadedModel
from .lora import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, load_adapter, merged_state_dict
from .lora import save_adapter as write_adapter
from .losses import NEEDS_BEHAVIOUR, NEEDS_PROXIMAL, LossKind, LossResult, LossSpec, policy_loss
from .sampling import SampledSequence, SamplingConfig, generate

T = TypeVar("T")

WEIGHTS_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "sluice_engine.json"

# What _save writes (engine.proto WeightsFormat).
FORMAT_CHECKPOINT = "checkpoint"  # everything _load needs; + the PEFT adapter under LoRA
FORMAT_PEFT_ADAPTER = "peft_adapter"  # adapter_config.json + adapter_model.safetensors only
FORMAT_MERGED = "merged"  # Hugging Face checkpoint with the LoRA delta folded in
SAVE_FORMATS = (FORMAT_CHECKPOINT, FORMAT_PEFT_ADAPTER, FORMAT_MERGED)


@dataclass(frozen=True)
class TrainingSequence:
    """One sequence; per-token arrays have length len(token_ids) - 1 (targets token_ids[1:])."""

    token_ids: list[int]
    loss_mask: torch.Tensor  # bool [n-1]
    advantages: torch.Tensor  # float32 [n-1]
    old_logprobs: torch.Tensor | None  # float32 [n-1], behaviour policy
    prox_logprobs: torch.Tensor | None = None  # float32 [n-1], proximal policy
    ref_logprobs: torch.Tensor | None = None  # float32 [n-1], reference policy


@dataclass(frozen=True)
class OptimConfig:
    learning_rate: float
    weight_decay: float = 0.0
    max_grad_norm: float = 0.0  # 0: no clipping
    beta1: float = 0.9
    beta2: float = 0.999
    next_policy_version: int = 0  # 0: current + 1
    keep_policy_version: bool = False  # intermediate mini-batch update: version unchanged


@dataclass(frozen=True)
class ForwardBackwardResult:
    loss: float
    loss_tokens: int
    clip_fraction: float
    ratio_mean: float
    entropy: float
    policy_version: int
    kl_mean: float = 0.0
    pair_accuracy: float = 0.0
    capped_fraction: float = 0.0


@dataclass(frozen=True)
class OptimResult:
    policy_version: int
    grad_norm: float
    optimizer_steps: int


@dataclass(frozen=True)
class SaveResult:
    path: str
    policy_version: int
    bytes: int
    format: str = FORMAT_CHECKPOINT
    has_adapter: bool = False


class PolicyEngine:
    """All tensor work for one named model. Every public method takes the lock."""

    def __init__(
        self,
        name: str,
        loaded: LoadedModel,
        max_batch_tokens: int = 32768,
        batch_wait_s: float = 0.005,
    ) -> None:
        self.name = name
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.spec = loaded.spec
        self.device = loaded.device
        # The peft wrapper when the model trains a LoRA adapter (self.model is its base).
        self.peft = loaded.peft
        self.max_batch_tokens = max_batch_tokens
        self.policy_version = 0
        self.optimizer_steps = 0
        self._optimizer: torch.optim.AdamW | None = None
        self._lock = threading.RLock()
        # Weight updates waiting for the device; interruptible generations yield to them.
        self._updates_waiting = 0
        self._updates_lock = threading.Lock()
        # Every tensor op runs on one dedicated device thread. gRPC handlers come from a
        # large pool, and a CPU torch op on a fresh thread pays for a new OpenMP team
        # (bench/engine.sh measured it); ops serialise on the
        # model anyway, so one thread loses nothing and keeps the team (and CUDA context) warm.
        self._device_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"device-{name}")
        self._batcher = SampleBatcher(self._generate, max_wait_s=batch_wait_s)
        self.vocab_size = int(self.model.get_input_embeddings().num_embeddings)
        eos = self.tokenizer.eos_token_id
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids = {eos} if eos is not None else set()
        if isinstance(gen_eos, int):
            ids.add(gen_eos)
        elif isinstance(gen_eos, list):
            ids.update(gen_eos)
        self.eos_token_ids = frozenset(int(i) for i in ids)
        self.pad_token_id = int(self.tokenizer.pad_token_id)

    # ----- info / text -------------------------------------------------------------

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def check_ids(self, ids: list[int], field: str) -> None:
        if not ids or (min(ids) >= 0 and max(ids) < self.vocab_size):
            return
        for pos, tok in enumerate(ids):
            if tok < 0 or tok >= self.vocab_size:
                raise ValidationError(
                    f"{field}: token id {tok} at position {pos} is outside the vocabulary "
                    f"[0, {self.vocab_size})"
                )

    def tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def detokenize(self, ids: list[int], skip_special_tokens: bool) -> str:
        self.check_ids(ids, "token_ids")
        return str(self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens))

    def render_chat(
        self,
        messages: list[Message],
        add_generation_prompt: bool,
        tools_json: str,
        continuation: bool,
    ) -> Rendered:
        return render_chat(
            self.tokenizer, messages, add_generation_prompt, tools_json, continuation
        )

    # ----- sampling ----------------------------------------------------------------

    def sample(
        self, prompts: list[list[int]], num_samples: int, config: SamplingConfig
    ) -> tuple[list[SampledSequence], int]:
        if not prompts:
            raise ValidationError("prompts: empty batch")
        for i, prompt in enumerate(prompts):
            if not prompt:
                raise ValidationError(f"prompts[{i}]: empty prompt")
            self.check_ids(prompt, f"prompts[{i}]")
        for tok in config.stop_token_ids:
            if tok < 0 or tok >= self.vocab_size:
                raise ValidationError(f"params.stop_token_ids: {tok} is outside the vocabulary")
        if num_samples <= 0:
            raise ValidationError("num_samples: must be > 0")
        # Validated per request first, so one bad request never fails a merged batch.
        return self._batcher.sample(prompts, num_samples, config)

    def _generate(
        self,
        prompts: list[list[int]],
        num_samples: int,
        config: SamplingConfig,
        row_seeds: list[int] | None,
    ) -> tuple[list[SampledSequence], int]:
        return self._on_device(lambda: self._generate_now(prompts, num_samples, config, row_seeds))

    def _generate_now(
        self,
        prompts: list[list[int]],
        num_samples: int,
        config: SamplingConfig,
        row_seeds: list[int] | None,
    ) -> tuple[list[SampledSequence], int]:
        with self._lock:
            out = generate(
                self.model,
                prompts,
                num_samples,
                config,
                self.eos_token_ids,
                self.pad_token_id,
                row_seeds,
                interrupted=self._update_waiting,
            )
            return out, self.policy_version

    # ----- logprobs / training -----------------------------------------------------

    def _chunks(self, lengths: list[int], unit: int = 1) -> list[list[int]]:
        """Groups sequence indices so each padded batch stays under max_batch_tokens;
        `unit` consecutive sequences (a DPO pair) always share a chunk."""
        chunks: list[list[int]] = []
        current: list[int] = []
        width = 0
        for start in range(0, len(lengths), unit):
            members = list(range(start, min(start + unit, len(lengths))))
            new_width = max([width] + [lengths[i] for i in members])
            if current and new_width * (len(current) + len(members)) > self.max_batch_tokens:
                chunks.append(current)
                current, new_width = [], max(lengths[i] for i in members)
            current.extend(members)
            width = new_width
        if current:
            chunks.append(current)
        return chunks

    def _forward_logprobs(
        self, seqs: list[list[int]], with_entropy: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Right-padded forward; returns (target logprobs [B, W-1], entropy, valid mask)."""
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
            attention[r, : len(s)] = 1
        ids, attention = ids.to(self.device), attention.to(self.device)
        logits = self.model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
        logprobs_all = torch.log_softmax(logits, dim=-1)
        target = logprobs_all.gather(-1, ids[:, 1:, None]).squeeze(-1)
        entropy = None
        if with_entropy:
            with torch.no_grad():
                entropy = -(logprobs_all.exp() * logprobs_all).sum(dim=-1)
        return target, entropy, attention[:, 1:].bool()

    def _compute_logprobs(self, sequences: list[list[int]]) -> tuple[list[torch.Tensor], int]:
        if not sequences:
            raise ValidationError("sequences: empty batch")
        for i, s in enumerate(sequences):
            if len(s) < 1:
                raise ValidationError(f"sequences[{i}]: empty sequence")
            self.check_ids(s, f"sequences[{i}]")
        out: list[torch.Tensor] = [torch.empty(0)] * len(sequences)
        with self._lock, torch.inference_mode():
            for chunk in self._chunks([len(s) for s in sequences]):
                batch = [sequences[i] for i in chunk]
                if max(len(s) for s in batch) < 2:
                    for i in chunk:
                        out[i] = torch.empty(0)
                    continue
                target, _, _ = self._forward_logprobs(batch, with_entropy=False)
                target = target.cpu()
                for r, i in enumerate(chunk):
                    out[i] = target[r, : len(sequences[i]) - 1].clone()
            return out, self.policy_version

    def validate_training(self, seqs: list[TrainingSequence], spec: LossSpec) -> None:
        if not seqs:
            raise ValidationError("sequences: empty batch")
        if spec.kind is LossKind.DPO and len(seqs) % 2 != 0:
            raise ValidationError(
                f"sequences: DPO needs (chosen, rejected) pairs, got {len(seqs)} sequences"
            )
        required = {
            "old_logprobs": spec.kind in NEEDS_BEHAVIOUR,
            "prox_logprobs": spec.kind in NEEDS_PROXIMAL,
            "ref_logprobs": spec.needs_ref,
        }
        for i, s in enumerate(seqs):
            n = len(s.token_ids)
            if n < 2:
                raise ValidationError(f"sequences[{i}].token_ids: need at least 2 tokens, got {n}")
            self.check_ids(s.token_ids, f"sequences[{i}].token_ids")
            arrays = {
                "loss_mask": s.loss_mask,
                "advantages": s.advantages,
                "old_logprobs": s.old_logprobs,
                "prox_logprobs": s.prox_logprobs,
                "ref_logprobs": s.ref_logprobs,
            }
            for name, values in arrays.items():
                if values is None:
                    if required.get(name, False):
                        raise ValidationError(
                            f"sequences[{i}].{name}: required for {spec.kind.name}"
                            + (
                                " with kl_coef > 0"
                                if name == "ref_logprobs" and spec.kl_coef
                                else ""
                            )
                        )
                    continue
                if values.numel() != n - 1:
                    raise ValidationError(
                        f"sequences[{i}].{name}: length {values.numel()} != "
                        f"len(token_ids) - 1 = {n - 1}"
                    )

    def _forward_backward(
        self,
        seqs: list[TrainingSequence],
        spec: LossSpec,
        total_sequences_in_step: int = 0,
        total_loss_tokens_in_step: int = 0,
    ) -> ForwardBackwardResult:
        """Accumulates gradients of the (step-normalised) loss; returns call statistics."""
        self.validate_training(seqs, spec)
        if total_sequences_in_step < 0 or total_loss_tokens_in_step < 0:
            raise ValidationError("total_sequences_in_step/total_loss_tokens_in_step: negative")
        call_tokens = sum(int(s.loss_mask.sum()) for s in seqs)
        total_tokens = total_loss_tokens_in_step or call_tokens
        total_seqs = total_sequences_in_step or len(seqs)
        loss_sum = 0.0
        tokens = 0
        clip_weighted = ratio_weighted = entropy_weighted = 0.0
        kl_weighted = capped_weighted = 0.0
        pairs_right = 0.0
        pair_unit = 2 if spec.kind is LossKind.DPO else 1
        with self._lock:
            for chunk in self._chunks([len(s.token_ids) for s in seqs], unit=pair_unit):
                batch = [seqs[i] for i in chunk]
                target, entropy, valid = self._forward_logprobs(
                    [s.token_ids for s in batch], with_entropy=True
                )
                width = target.shape[1]

                def pad(values: list[torch.Tensor | None], width: int = width) -> torch.Tensor:
                    out = torch.zeros((len(values), width), dtype=torch.float32)
                    for r, v in enumerate(values):
                        if v is not None:
                            out[r, : v.numel()] = v.float()
                    return out.to(self.device)

                mask = pad([s.loss_mask for s in batch]).bool() & valid
                result: LossResult
                if spec.kind is LossKind.DPO:
                    result = dpo_loss(
                        logprobs=target,
                        ref_logprobs=pad([s.ref_logprobs for s in batch]),
                        mask=mask,
                        spec=spec,
                        total_pairs_in_step=total_seqs // 2,
                        entropy=entropy,
                    )
                    pairs_right += result.pair_accuracy * (len(batch) // 2)
                else:
                    result = policy_loss(
                        logprobs=target,
                        advantages=pad([s.advantages for s in batch]),
                        mask=mask,
                        spec=spec,
                        old_logprobs=pad([s.old_logprobs for s in batch]),
                        entropy=entropy,
                        total_loss_tokens_in_step=total_tokens,
                        total_sequences_in_step=total_seqs,
                        prox_logprobs=pad([s.prox_logprobs for s in batch]),
                        ref_logprobs=pad([s.ref_logprobs for s in batch]),
                    )
                if not torch.isfinite(result.loss):
                    raise PreconditionError("loss: non-finite value; gradients not accumulated")
                result.loss.backward()
                loss_sum += float(result.loss.detach())
                tokens += result.loss_tokens
                clip_weighted += result.clip_fraction * result.loss_tokens
                ratio_weighted += result.ratio_mean * result.loss_tokens
                entropy_weighted += result.entropy * result.loss_tokens
                kl_weighted += result.kl_mean * result.loss_tokens
                capped_weighted += result.capped_fraction * result.loss_tokens
            denom = max(tokens, 1)
            return ForwardBackwardResult(
                loss=loss_sum,
                loss_tokens=tokens,
                clip_fraction=clip_weighted / denom,
                ratio_mean=ratio_weighted / denom if tokens else 1.0,
                entropy=entropy_weighted / denom,
                policy_version=self.policy_version,
                kl_mean=kl_weighted / denom,
                pair_accuracy=pairs_right / max(len(seqs) // 2, 1) if pair_unit == 2 else 0.0,
                capped_fraction=capped_weighted / denom,
            )

    def _ensure_optimizer(self, config: OptimConfig | None = None) -> torch.optim.AdamW:
        if self._optimizer is None:
            cfg = config or OptimConfig(learning_rate=1e-3)
            self._optimizer = torch.optim.AdamW(
                [p for p in self.model.parameters() if p.requires_grad],
                lr=cfg.learning_rate,
                betas=(cfg.beta1, cfg.beta2),
                weight_decay=cfg.weight_decay,
            )
        return self._optimizer

    def _optim_step(self, config: OptimConfig) -> OptimResult:
        if not (config.learning_rate > 0 and math.isfinite(config.learning_rate)):
            raise ValidationError("learning_rate: must be > 0")
        if config.weight_decay < 0 or config.max_grad_norm < 0:
            raise ValidationError("weight_decay/max_grad_norm: must be >= 0")
        if not (0 <= config.beta1 < 1 and 0 <= config.beta2 < 1):
            raise ValidationError("beta1/beta2: must be in [0, 1)")
        with self._lock:
            target = config.next_policy_version or self.policy_version + 1
            if config.keep_policy_version:
                target = self.policy_version
            elif target <= self.policy_version:
                raise ValidationError(
                    f"next_policy_version: {target} must be greater than the current "
                    f"version {self.policy_version}"
                )
            optimizer = self._ensure_optimizer(config)
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate
                group["weight_decay"] = config.weight_decay
                group["betas"] = (config.beta1, config.beta2)
            params = [p for p in self.model.parameters() if p.grad is not None]
            max_norm = config.max_grad_norm if config.max_grad_norm > 0 else math.inf
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm)) if params else 0.0
            if not math.isfinite(grad_norm):
                optimizer.zero_grad(set_to_none=True)
                raise PreconditionError("grad_norm: non-finite; step skipped, gradients dropped")
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            self.optimizer_steps += 1
            self.policy_version = target
            return OptimResult(
                policy_version=target, grad_norm=grad_norm, optimizer_steps=self.optimizer_steps
            )

    # ----- checkpoints -------------------------------------------------------------

    def _save(self, path: str, include_optimizer: bool, fmt: str = FORMAT_CHECKPOINT) -> SaveResult:
        """checkpoint: model.safetensors, config + tokenizer (so the directory is also a
        loadable HF checkpoint when there is no LoRA), sluice_engine.json, optionally
        optimizer.pt, and under LoRA also the PEFT adapter files.
        peft_adapter: only the PEFT adapter (what vLLM's load_lora_adapter reads).
        merged: an HF checkpoint with the LoRA delta folded into the base weights."""
        if not path:
            raise ValidationError("path: must be set")
        if fmt not in SAVE_FORMATS:
            raise ValidationError(f"format: unknown {fmt!r} (one of {SAVE_FORMATS})")
        if include_optimizer and fmt != FORMAT_CHECKPOINT:
            raise ValidationError(f"include_optimizer: only with the checkpoint format, not {fmt}")
        if fmt == FORMAT_PEFT_ADAPTER and self.peft is None:
            raise PreconditionError(
                f"format {fmt}: model {self.name!r} trains no LoRA adapter "
                '(set "lora" in its model spec)'
            )
        directory = Path(path)
        with self._lock:
            directory.mkdir(parents=True, exist_ok=True)
            written: list[Path] = []
            if fmt in (FORMAT_CHECKPOINT, FORMAT_MERGED):
                weights = directory / WEIGHTS_FILE
                if fmt == FORMAT_MERGED and self.peft is not None:
                    safetensors.torch.save_file(
                        merged_state_dict(self.model), str(weights), metadata={"format": "pt"}
                    )
                else:
                    safetensors.torch.save_model(self.model, str(weights))
                written.append(weights)
                self.model.config.save_pretrained(directory)
                written.append(directory / "config.json")
                written.extend(Path(p) for p in self.tokenizer.save_pretrained(directory))
            has_adapter = self.peft is not None and fmt != FORMAT_MERGED
            if has_adapter and self.peft is not None:
                written.extend(write_adapter(self.peft, directory))
            if include_optimizer:
                optimizer = self._ensure_optimizer()
                torch.save(optimizer.state_dict(), directory / OPTIMIZER_FILE)
                written.append(directory / OPTIMIZER_FILE)
            state: dict[str, Any] = {
                "format": 1,
                "weights_format": fmt,
                "model": self.name,
                "policy_version": self.policy_version,
                "optimizer_steps": self.optimizer_steps,
                "has_optimizer": include_optimizer,
                "has_adapter": has_adapter,
                "model_spec": self.spec.to_dict(),
            }
            (directory / STATE_FILE).write_text(json.dumps(state, indent=2))
            written.append(directory / STATE_FILE)
            size = sum(p.stat().st_size for p in set(written) if p.is_file())
            return SaveResult(
                path=str(directory),
                policy_version=self.policy_version,
                bytes=size,
                format=fmt,
                has_adapter=has_adapter,
            )

    def _load(self, path: str, include_optimizer: bool) -> int:
        """Loads weights (and optionally optimizer state); drops pending gradients."""
        if not path:
            raise ValidationError("path: must be set")
        directory = Path(path)
        weights = directory / WEIGHTS_FILE
        # An adapter-only directory (format peft_adapter) restores the adapter of a LoRA model.
        adapter_only = (
            self.peft is not None
            and not weights.is_file()
            and (directory / ADAPTER_CONFIG_FILE).is_file()
            and (directory / ADAPTER_WEIGHTS_FILE).is_file()
        )
        if not weights.is_file() and not adapter_only:
            raise NotFoundError(f"path: {weights} not found")
        if include_optimizer and not (directory / OPTIMIZER_FILE).is_file():
            raise NotFoundError(f"path: {directory / OPTIMIZER_FILE} not found")
        state: dict[str, Any] = {}
        if (directory / STATE_FILE).is_file():
            state = json.loads((directory / STATE_FILE).read_text())
        with self._lock:
            if adapter_only and self.peft is not None:
                load_adapter(self.peft, directory)
            else:
                try:
                    safetensors.torch.load_model(self.model, str(weights), device=str(self.device))
                except RuntimeError as exc:
                    raise PreconditionError(f"path: weights do not fit this model: {exc}") from exc
            self.model.zero_grad(set_to_none=True)
            if include_optimizer:
                optimizer = self._ensure_optimizer()
                optimizer.load_state_dict(
                    torch.load(directory / OPTIMIZER_FILE, map_location=self.device)
                )
            self.policy_version = int(state.get("policy_version", 0))
            self.optimizer_steps = int(state.get("optimizer_steps", self.optimizer_steps))
            return self.policy_version

    # ----- device thread -----------------------------------------------------------

    def _on_device(self, fn: Callable[[], T]) -> T:
        if threading.current_thread().name.startswith(f"device-{self.name}"):
            return fn()
        return self._device_pool.submit(fn).result()

    def compute_logprobs(self, sequences: list[list[int]]) -> tuple[list[torch.Tensor], int]:
        return self._on_device(lambda: self._compute_logprobs(sequences))

    def forward_backward(
        self,
        seqs: list[TrainingSequence],
        spec: LossSpec,
        total_sequences_in_step: int = 0,
        total_loss_tokens_in_step: int = 0,
    ) -> ForwardBackwardResult:
        return self._on_device(
            lambda: self._forward_backward(
                seqs, spec, total_sequences_in_step, total_loss_tokens_in_step
            )
        )

    def optim_step(self, config: OptimConfig) -> OptimResult:
        with self._weight_update():
            return self._on_device(lambda: self._optim_step(config))

    def save(self, path: str, include_optimizer: bool, fmt: str = FORMAT_CHECKPOINT) -> SaveResult:
        return self._on_device(lambda: self._save(path, include_optimizer, fmt))

    def load(self, path: str, include_optimizer: bool) -> int:
        with self._weight_update():
            return self._on_device(lambda: self._load(path, include_optimizer))

    @contextmanager
    def _weight_update(self) -> Iterator[None]:
        """Marks a weight update as waiting, so interruptible generations stop early."""
        with self._updates_lock:
            self._updates_waiting += 1
        try:
            yield
        finally:
            with self._updates_lock:
                self._updates_waiting -= 1

    def _update_waiting(self) -> bool:
        return self._updates_waiting > 0

    def close(self) -> None:
        self._device_pool.shutdown(wait=False, cancel_futures=True)
