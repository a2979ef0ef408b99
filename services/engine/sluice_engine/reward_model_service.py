"""gRPC RewardModelService over a RewardModelRegistry."""

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from .errors import ValidationError
from .logs import JsonLogger
from .metrics import EngineMetrics
from .proto import reward_model_pb2 as pb
from .proto import reward_model_pb2_grpc as reward_model_pb2_grpc
from .reward_model import (
    DEFAULT_LEARNING_RATE,
    DEFAULT_MAX_TOKENS,
    DEFAULT_TINY,
    OptimizerSettings,
    RewardModel,
    RewardModelConfig,
    RewardModelKind,
)
from .reward_model_registry import RewardModelRegistry
from .rpc_guard import guarded_call
from .tiny import TinySpec

SERVICE_NAME = "sluice.v1.RewardModelService"
MAX_BATCH = 4096  # examples, pairs or texts per request
MAX_TEXT_CHARS = 1_000_000

R = TypeVar("R")

_KINDS = {
    pb.REWARD_MODEL_KIND_CLASSIFICATION: RewardModelKind.CLASSIFICATION,
    pb.REWARD_MODEL_KIND_RANKING: RewardModelKind.RANKING,
    pb.REWARD_MODEL_KIND_REGRESSION: RewardModelKind.REGRESSION,
}
_KIND_PROTOS = {v: k for k, v in _KINDS.items()}


def kind_from_proto(kind: int) -> RewardModelKind:
    out = _KINDS.get(kind)
    if out is None:
        raise ValidationError("kind: must be CLASSIFICATION, RANKING or REGRESSION")
    return out


def optimizer_from_proto(opt: Any, field: str) -> OptimizerSettings:
    return OptimizerSettings(
        learning_rate=float(opt.learning_rate or DEFAULT_LEARNING_RATE),
        weight_decay=float(opt.weight_decay),
        max_grad_norm=float(opt.max_grad_norm),
    ).validate(field)


def config_from_proto(request: Any, device: str) -> RewardModelConfig:
    tiny = DEFAULT_TINY
    if request.tiny_json:
        try:
            tiny = TinySpec.from_dict(json.loads(request.tiny_json))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise ValidationError(f"tiny_json: {exc}") from exc
    if request.max_tokens < 0:
        raise ValidationError("max_tokens: must be >= 0 (0 means 512)")
    return RewardModelConfig(
        kind=kind_from_proto(request.kind),
        tiny=tiny,
        seed=int(request.seed),
        max_tokens=int(
            request.max_tokens or min(DEFAULT_MAX_TOKENS, tiny.max_position_embeddings - 1)
        ),
        optimizer=optimizer_from_proto(request.optimizer, "optimizer"),
        device=device,
    ).validate()


def check_batch(n: int, field: str) -> None:
    if n == 0:
        raise ValidationError(f"{field}: empty batch")
    if n > MAX_BATCH:
        raise ValidationError(f"{field}: {n} items, at most {MAX_BATCH} per request")


def check_texts(texts: list[str], field: str) -> None:
    for i, text in enumerate(texts):
        if len(text) > MAX_TEXT_CHARS:
            raise ValidationError(f"{field}[{i}]: longer than {MAX_TEXT_CHARS} characters")


def info_proto(model: RewardModel) -> Any:
    return pb.RewardModelInfo(
        name=model.name,
        kind=_KIND_PROTOS[model.kind],
        version=model.version,
        parameter_count=model.parameter_count,
        max_tokens=model.config.max_tokens,
        device=str(model.device),
    )


class RewardModelServicer(reward_model_pb2_grpc.RewardModelServiceServicer):
    """Translates protos to reward-model calls; every error becomes a gRPC status."""

    def __init__(
        self, registry: RewardModelRegistry, metrics: EngineMetrics, log: JsonLogger
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.log = log

    def _call(self, method: str, context: grpc.ServicerContext, fn: Callable[[], R]) -> R:
        return guarded_call(method, context, fn, self.metrics, self.log)

    def CreateRewardModel(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            config = config_from_proto(request, self.registry.device)
            model, created = self.registry.create(
                request.name, config, request.load_path, request.replace
            )
            if created:
                self.metrics.rm_version.set(model.version, model=model.name)
                self.log.info(
                    "reward model created",
                    model=model.name,
                    kind=model.kind.value,
                    parameters=model.parameter_count,
                    version=model.version,
                    load_path=request.load_path or None,
                )
            return pb.CreateRewardModelResponse(info=info_proto(model), created=created)

        return self._call("CreateRewardModel", context, run)

    def TrainRewardModel(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            model = self.registry.get(request.name)
            optimizer = (
                optimizer_from_proto(request.optimizer, "optimizer")
                if request.HasField("optimizer")
                else None
            )
            if model.kind is RewardModelKind.RANKING:
                if request.examples:
                    raise ValidationError("examples: a ranking model trains on pairs")
                check_batch(len(request.pairs), "pairs")
                firsts = [p.first for p in request.pairs]
                seconds = [p.second for p in request.pairs]
                labels = [p.label for p in request.pairs]
                check_texts(firsts, "pairs.first")
                check_texts(seconds, "pairs.second")
                for i, y in enumerate(labels):
                    if not 0 <= y <= 1:
                        raise ValidationError(f"pairs[{i}].label: soft label must be in [0, 1]")
                result = model.train_pairs(firsts, seconds, labels, optimizer)
            else:
                if request.pairs:
                    raise ValidationError(f"pairs: a {model.kind.value} model trains on examples")
                check_batch(len(request.examples), "examples")
                texts = [e.text for e in request.examples]
                labels = [e.label for e in request.examples]
                check_texts(texts, "examples.text")
                for i, y in enumerate(labels):
                    if y != y or y in (float("inf"), float("-inf")):
                        raise ValidationError(f"examples[{i}].label: not finite")
                    if model.kind is RewardModelKind.CLASSIFICATION and not 0 <= y <= 1:
                        raise ValidationError(f"examples[{i}].label: must be in [0, 1]")
                result = model.train_examples(texts, labels, optimizer)
            self.metrics.rm_train_steps.inc(model=model.name)
            self.metrics.rm_loss.set(result.loss, model=model.name)
            self.metrics.rm_accuracy.set(result.accuracy, model=model.name)
            self.metrics.rm_version.set(result.version, model=model.name)
            return pb.TrainRewardModelResponse(
                loss=result.loss,
                accuracy=result.accuracy,
                accuracy_count=result.accuracy_count,
                version=result.version,
                steps=result.steps,
                grad_norm=result.grad_norm,
            )

        return self._call("TrainRewardModel", context, run)

    def ScoreRewardModel(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            model = self.registry.get(request.name)
            texts = list(request.texts)
            check_batch(len(texts), "texts")
            check_texts(texts, "texts")
            start = time.perf_counter()
            result = model.score(texts)
            self.metrics.rm_score_latency.observe(time.perf_counter() - start, model=model.name)
            self.metrics.rm_texts_scored.inc(len(texts), model=model.name)
            return pb.ScoreRewardModelResponse(
                scores=result.scores,
                probabilities=result.probabilities,
                version=result.version,
                kind=_KIND_PROTOS[model.kind],
            )

        return self._call("ScoreRewardModel", context, run)

    def GetRewardModelInfo(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._call(
            "GetRewardModelInfo",
            context,
            lambda: pb.GetRewardModelInfoResponse(info=info_proto(self.registry.get(request.name))),
        )

    def SaveRewardModel(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            model = self.registry.get(request.name)
            if not request.path:
                raise ValidationError("path: required")
            path, version, written = model.save(request.path)
            self.log.info("reward model saved", model=model.name, path=path, version=version)
            return pb.SaveRewardModelResponse(path=path, version=version, bytes=written)

        return self._call("SaveRewardModel", context, run)

    def LoadRewardModel(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            model = self.registry.get(request.name)
            if not request.path:
                raise ValidationError("path: required")
            version = model.load_weights(request.path)
            self.metrics.rm_version.set(version, model=model.name)
            self.log.info(
                "reward model loaded", model=model.name, path=request.path, version=version
            )
            return pb.LoadRewardModelResponse(version=version)

        return self._call("LoadRewardModel", context, run)
