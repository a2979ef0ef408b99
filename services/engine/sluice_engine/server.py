"""gRPC EngineService over a ModelRegistry, plus health, reflection and metrics."""

import math
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from .chat import Message
from .errors import ValidationError
from .logs import JsonLogger
from .losses import DEFAULT_TRUNCATED_IS_CAP, LossKind, LossSpec, Normalization
from .metrics import EngineMetrics
from .packing import pack_float32, pack_int32, unpack_float32, unpack_int32, unpack_uint8
from .proto import engine_pb2, engine_pb2_grpc
from .registry import ModelRegistry
from .reward_model_registry import RewardModelRegistry
from .reward_model_service import SERVICE_NAME as REWARD_MODEL_SERVICE_NAME
from .reward_model_service import RewardModelServicer, reward_model_pb2_grpc
from .rpc_guard import guarded_call
from .sampling import SamplingConfig
from .trainer import (
    FORMAT_CHECKPOINT,
    FORMAT_MERGED,
    FORMAT_PEFT_ADAPTER,
    OptimConfig,
    TrainingSequence,
)

SERVICE_NAME = "sluice.v1.EngineService"
MAX_MESSAGE_BYTES = 512 * 1024 * 1024

_LOSS_KINDS = {
    engine_pb2.LOSS_KIND_REINFORCE: LossKind.REINFORCE,
    engine_pb2.LOSS_KIND_PPO_CLIP: LossKind.PPO_CLIP,
    engine_pb2.LOSS_KIND_DECOUPLED_PPO: LossKind.DECOUPLED_PPO,
    engine_pb2.LOSS_KIND_TRUNCATED_IS: LossKind.TRUNCATED_IS,
    engine_pb2.LOSS_KIND_DPO: LossKind.DPO,
}
_NORMALIZATIONS = {
    engine_pb2.LOSS_NORMALIZATION_UNSPECIFIED: Normalization.TOKEN_MEAN,
    engine_pb2.LOSS_NORMALIZATION_TOKEN_MEAN: Normalization.TOKEN_MEAN,
    engine_pb2.LOSS_NORMALIZATION_SEQUENCE_MEAN: Normalization.SEQUENCE_MEAN,
    engine_pb2.LOSS_NORMALIZATION_CONSTANT: Normalization.CONSTANT,
}
# engine.proto WeightsFormat -> what PolicyEngine.save writes.
_SAVE_FORMATS = {
    engine_pb2.WEIGHTS_FORMAT_UNSPECIFIED: FORMAT_CHECKPOINT,
    engine_pb2.WEIGHTS_FORMAT_PEFT_ADAPTER: FORMAT_PEFT_ADAPTER,
    engine_pb2.WEIGHTS_FORMAT_MERGED: FORMAT_MERGED,
}

DEFAULT_CLIP_EPSILON = 0.2
DEFAULT_DPO_BETA = 0.1

R = TypeVar("R")


def loss_spec_from_proto(loss: engine_pb2.LossConfig) -> LossSpec:
    """Proto -> LossSpec. Zero epsilons mean 0.2 (low) and low (high); unspecified
    normalisation means TOKEN_MEAN; unspecified kind is rejected."""
    kind = _LOSS_KINDS.get(loss.kind)
    if kind is None:
        names = ", ".join(engine_pb2.LossKind.Name(k) for k in _LOSS_KINDS)
        raise ValidationError(f"loss.kind: must be one of {names}")
    normalization = _NORMALIZATIONS.get(loss.normalization)
    if normalization is None:
        raise ValidationError(f"loss.normalization: unknown value {loss.normalization}")
    low = loss.clip_epsilon_low or DEFAULT_CLIP_EPSILON
    high = loss.clip_epsilon_high or low
    if low < 0 or high < 0 or low >= 1:
        raise ValidationError("loss.clip_epsilon_low/high: must be >= 0 (low < 1)")
    if normalization is Normalization.CONSTANT and not loss.normalization_constant > 0:
        raise ValidationError("loss.normalization_constant: must be > 0 for CONSTANT")
    for field in ("kl_coef", "behaviour_weight_cap", "truncated_is_cap", "dpo_beta"):
        value = getattr(loss, field)
        if not (value >= 0 and math.isfinite(value)):
            raise ValidationError(f"loss.{field}: must be a finite number >= 0, got {value}")
    return LossSpec(
        kind=kind,
        normalization=normalization,
        clip_epsilon_low=float(low),
        clip_epsilon_high=float(high),
        normalization_constant=float(loss.normalization_constant or 1.0),
        kl_coef=float(loss.kl_coef),
        behaviour_weight_cap=float(loss.behaviour_weight_cap),
        truncated_is_cap=float(loss.truncated_is_cap or DEFAULT_TRUNCATED_IS_CAP),
        dpo_beta=float(loss.dpo_beta or DEFAULT_DPO_BETA),
    )


def sampling_config_from_proto(params: engine_pb2.SamplingParams) -> SamplingConfig:
    """Proto -> SamplingConfig. top_p 0 means 1; temperature 0 means greedy."""
    if params.max_tokens <= 0:
        raise ValidationError("params.max_tokens: must be > 0")
    if params.temperature < 0:
        raise ValidationError("params.temperature: must be >= 0")
    if not 0 <= params.top_p <= 1:
        raise ValidationError("params.top_p: must be in [0, 1]")
    return SamplingConfig(
        max_tokens=int(params.max_tokens),
        temperature=float(params.temperature),
        top_p=float(params.top_p) if params.top_p > 0 else 1.0,
        stop_token_ids=frozenset(int(t) for t in params.stop_token_ids),
        seed=int(params.seed),
        interruptible=bool(params.interruptible),
    )


def training_sequences_from_proto(sequences: Any) -> list[TrainingSequence]:
    """Proto -> TrainingSequence; empty optional arrays become None (the trainer checks
    which ones the loss needs)."""

    def optional(raw: bytes, field: str) -> Any:
        return unpack_float32(raw, field) if raw else None

    out = []
    for i, s in enumerate(sequences):
        out.append(
            TrainingSequence(
                token_ids=unpack_int32(s.token_ids, f"sequences[{i}].token_ids"),
                loss_mask=unpack_uint8(s.loss_mask, f"sequences[{i}].loss_mask"),
                advantages=unpack_float32(s.advantages, f"sequences[{i}].advantages"),
                old_logprobs=optional(s.old_logprobs, f"sequences[{i}].old_logprobs"),
                prox_logprobs=optional(s.prox_logprobs, f"sequences[{i}].prox_logprobs"),
                ref_logprobs=optional(s.ref_logprobs, f"sequences[{i}].ref_logprobs"),
            )
        )
    return out


class EngineServicer(engine_pb2_grpc.EngineServiceServicer):
    """Translates protos to engine calls; every error becomes a gRPC status, never a crash."""

    def __init__(self, registry: ModelRegistry, metrics: EngineMetrics, log: JsonLogger) -> None:
        self.registry = registry
        self.metrics = metrics
        self.log = log
        for engine in registry:
            metrics.policy_version.set(engine.policy_version, model=engine.name)

    def _call(self, method: str, context: grpc.ServicerContext, fn: Callable[[], R]) -> R:
        return guarded_call(method, context, fn, self.metrics, self.log)

    # ----- RPCs ----------------------------------------------------------------------

    def GetModelInfo(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            return engine_pb2.GetModelInfoResponse(
                model=engine.name,
                vocab_size=engine.vocab_size,
                policy_version=engine.policy_version,
                eos_token_ids=sorted(engine.eos_token_ids),
                device=str(engine.device),
                parameter_count=engine.parameter_count,
                optimizer_steps=engine.optimizer_steps,
            )

        return self._call("GetModelInfo", context, run)

    def Tokenize(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            return engine_pb2.TokenizeResponse(token_ids=pack_int32(engine.tokenize(request.text)))

        return self._call("Tokenize", context, run)

    def Detokenize(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            ids = unpack_int32(request.token_ids, "token_ids")
            text = engine.detokenize(ids, request.skip_special_tokens)
            return engine_pb2.DetokenizeResponse(text=text)

        return self._call("Detokenize", context, run)

    def RenderChat(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            messages = [
                Message(
                    role=m.role,
                    content=m.content,
                    tool_calls_json=m.tool_calls_json,
                    tool_call_id=m.tool_call_id,
                    name=m.name,
                )
                for m in request.messages
            ]
            rendered = engine.render_chat(
                messages, request.add_generation_prompt, request.tools_json, request.continuation
            )
            return engine_pb2.RenderChatResponse(
                token_ids=pack_int32(rendered.token_ids), text=rendered.text
            )

        return self._call("RenderChat", context, run)

    def Sample(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            if not request.prompts:
                raise ValidationError("prompts: empty batch")
            prompts = [unpack_int32(p, f"prompts[{i}]") for i, p in enumerate(request.prompts)]
            config = sampling_config_from_proto(request.params)
            if request.num_samples < 0:
                raise ValidationError("num_samples: must be >= 0 (0 means 1)")
            sequences, version = engine.sample(prompts, request.num_samples or 1, config)
            sampled = sum(len(s.token_ids) for s in sequences)
            self.metrics.tokens_sampled.inc(sampled, model=engine.name)
            return engine_pb2.SampleResponse(
                sequences=[
                    engine_pb2.SampledSequence(
                        prompt_index=s.prompt_index,
                        token_ids=pack_int32(s.token_ids),
                        logprobs=pack_float32(s.logprobs),
                        finish_reason=s.finish_reason,
                    )
                    for s in sequences
                ],
                policy_version=version,
            )

        return self._call("Sample", context, run)

    def ComputeLogprobs(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            seqs = [unpack_int32(s, f"sequences[{i}]") for i, s in enumerate(request.sequences)]
            logprobs, version = engine.compute_logprobs(seqs)
            return engine_pb2.ComputeLogprobsResponse(
                logprobs=[pack_float32(lp) for lp in logprobs], policy_version=version
            )

        return self._call("ComputeLogprobs", context, run)

    def ForwardBackward(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            spec = loss_spec_from_proto(request.loss)
            seqs = training_sequences_from_proto(request.sequences)
            result = engine.forward_backward(
                seqs,
                spec,
                total_sequences_in_step=request.total_sequences_in_step,
                total_loss_tokens_in_step=request.total_loss_tokens_in_step,
            )
            self.metrics.tokens_trained.inc(result.loss_tokens, model=engine.name)
            return engine_pb2.ForwardBackwardResponse(
                loss=result.loss,
                loss_tokens=result.loss_tokens,
                clip_fraction=result.clip_fraction,
                ratio_mean=result.ratio_mean,
                entropy=result.entropy,
                policy_version=result.policy_version,
                kl_mean=result.kl_mean,
                pair_accuracy=result.pair_accuracy,
                off_policy_capped_fraction=result.capped_fraction,
            )

        return self._call("ForwardBackward", context, run)

    def OptimStep(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            result = engine.optim_step(
                OptimConfig(
                    learning_rate=request.learning_rate,
                    weight_decay=request.weight_decay,
                    max_grad_norm=request.max_grad_norm,
                    beta1=request.beta1 or 0.9,
                    beta2=request.beta2 or 0.999,
                    next_policy_version=request.next_policy_version,
                    keep_policy_version=request.keep_policy_version,
                )
            )
            self.metrics.policy_version.set(result.policy_version, model=engine.name)
            self.metrics.optimizer_steps.inc(model=engine.name)
            self.log.info(
                "optim step",
                model=engine.name,
                policy_version=result.policy_version,
                step=result.optimizer_steps,
                grad_norm=round(result.grad_norm, 6),
            )
            return engine_pb2.OptimStepResponse(
                policy_version=result.policy_version,
                grad_norm=result.grad_norm,
                optimizer_steps=result.optimizer_steps,
            )

        return self._call("OptimStep", context, run)

    def SaveWeights(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            fmt = _SAVE_FORMATS.get(request.format)
            if fmt is None:
                raise ValidationError(f"format: unknown WeightsFormat {request.format}")
            result = engine.save(request.path, request.include_optimizer, fmt)
            self.log.info(
                "weights saved",
                model=engine.name,
                path=result.path,
                policy_version=result.policy_version,
                bytes=result.bytes,
                format=result.format,
                has_adapter=result.has_adapter,
            )
            return engine_pb2.SaveWeightsResponse(
                path=result.path,
                policy_version=result.policy_version,
                bytes=result.bytes,
                format=request.format,
                has_adapter=result.has_adapter,
            )

        return self._call("SaveWeights", context, run)

    def LoadWeights(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        def run() -> Any:
            engine = self.registry.get(request.model)
            version = engine.load(request.path, request.include_optimizer)
            self.metrics.policy_version.set(version, model=engine.name)
            self.log.info(
                "weights loaded", model=engine.name, path=request.path, policy_version=version
            )
            return engine_pb2.LoadWeightsResponse(policy_version=version)

        return self._call("LoadWeights", context, run)


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    servicer: EngineServicer
    health: health.HealthServicer

    def stop(self, grace: float | None = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def start_server(
    registry: ModelRegistry,
    host: str = "127.0.0.1",
    port: int = 0,
    metrics: EngineMetrics | None = None,
    log: JsonLogger | None = None,
    max_workers: int = 8,
) -> RunningServer:
    """Starts the gRPC server (port 0 picks a free port) and returns it with its port."""
    metrics = metrics or EngineMetrics()
    log = log or JsonLogger(experiment="")
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers), options=options)
    servicer = EngineServicer(registry, metrics, log)
    engine_pb2_grpc.add_EngineServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    # Reward models live on the default policy's device.
    reward_models = RewardModelRegistry(device=str(registry.get("").device))
    reward_model_pb2_grpc.add_RewardModelServiceServicer_to_server(
        RewardModelServicer(reward_models, metrics, log), server
    )
    for name in ("", SERVICE_NAME, REWARD_MODEL_SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (
            engine_pb2.DESCRIPTOR.services_by_name["EngineService"].full_name,
            REWARD_MODEL_SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind {host}:{port}")
    server.start()
    return RunningServer(server=server, port=bound, servicer=servicer, health=health_servicer)
