import json
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from devices import TEST_DEVICE
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sluice_engine.loading import parse_model_specs
from sluice_engine.logs import JsonLogger
from sluice_engine.metrics import EngineMetrics
from sluice_engine.proto import reward_model_pb2 as pb
from sluice_engine.proto import reward_model_pb2_grpc
from sluice_engine.registry import ModelRegistry
from sluice_engine.reward_model_service import MAX_BATCH
from sluice_engine.server import RunningServer, start_server

SMALL = '{"hidden_size": 32, "num_hidden_layers": 1, "intermediate_size": 64}'


@pytest.fixture(scope="module")
def metrics() -> EngineMetrics:
    return EngineMetrics()


@pytest.fixture(scope="module")
def server(metrics: EngineMetrics) -> Iterator[RunningServer]:
    registry = ModelRegistry.from_specs(
        parse_model_specs(json.dumps({"source": "tiny", "device": TEST_DEVICE}))
    )
    running = start_server(registry, port=0, log=JsonLogger("test"), metrics=metrics)
    yield running
    running.stop(0)


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


@pytest.fixture
def stub(channel: grpc.Channel) -> reward_model_pb2_grpc.RewardModelServiceStub:
    return reward_model_pb2_grpc.RewardModelServiceStub(channel)


def _code(fn: object, request: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        fn(request)  # type: ignore[operator]
    return info.value.code(), info.value.details()


def test_health_reports_the_reward_model_service(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "sluice.v1.EngineService", "sluice.v1.RewardModelService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_create_train_score_save_load_over_grpc(
    stub: reward_model_pb2_grpc.RewardModelServiceStub, metrics: EngineMetrics, tmp_path: Path
) -> None:
    created = stub.CreateRewardModel(
        pb.CreateRewardModelRequest(
            name="cls",
            kind=pb.REWARD_MODEL_KIND_CLASSIFICATION,
            tiny_json=SMALL,
            seed=3,
            optimizer=pb.RewardModelOptimizer(learning_rate=3e-3),
        )
    )
    assert created.created and created.info.version == 0 and created.info.max_tokens == 512
    again = stub.CreateRewardModel(
        pb.CreateRewardModelRequest(name="cls", kind=pb.REWARD_MODEL_KIND_CLASSIFICATION)
    )
    assert not again.created
    examples = [
        pb.LabelledText(text=f"{i} tests {'PASS' if i % 2 else 'FAIL'}", label=float(i % 2))
        for i in range(32)
    ]
    accuracies = []
    for _ in range(30):
        reply = stub.TrainRewardModel(pb.TrainRewardModelRequest(name="cls", examples=examples))
        accuracies.append(reply.accuracy)
    assert reply.version == 30 and reply.steps == 30 and reply.accuracy_count == 32
    assert accuracies[-1] > 0.9, accuracies
    start = time.perf_counter()
    scored = stub.ScoreRewardModel(
        pb.ScoreRewardModelRequest(name="cls", texts=["7 tests PASS", "8 tests FAIL"])
    )
    latency = time.perf_counter() - start
    assert scored.version == 30 and scored.kind == pb.REWARD_MODEL_KIND_CLASSIFICATION
    assert scored.probabilities[0] > 0.5 > scored.probabilities[1]
    assert latency < 5.0
    saved = stub.SaveRewardModel(pb.SaveRewardModelRequest(name="cls", path=str(tmp_path / "c")))
    assert saved.version == 30 and saved.bytes > 0
    loaded = stub.CreateRewardModel(
        pb.CreateRewardModelRequest(
            name="cls-copy", kind=pb.REWARD_MODEL_KIND_CLASSIFICATION, load_path=saved.path
        )
    )
    assert loaded.info.version == 30
    copy = stub.ScoreRewardModel(
        pb.ScoreRewardModelRequest(name="cls-copy", texts=["7 tests PASS", "8 tests FAIL"])
    )
    assert list(copy.scores) == list(scored.scores)
    assert (
        stub.LoadRewardModel(pb.LoadRewardModelRequest(name="cls", path=saved.path)).version == 30
    )
    text = metrics.render()
    assert 'sluice_engine_reward_model_train_steps_total{model="cls"} 30' in text
    assert 'sluice_engine_reward_model_accuracy{model="cls"}' in text
    assert 'sluice_engine_reward_model_loss{model="cls"}' in text
    assert 'sluice_engine_reward_model_score_latency_seconds_count{model="cls"}' in text


def test_ranking_over_grpc(stub: reward_model_pb2_grpc.RewardModelServiceStub) -> None:
    stub.CreateRewardModel(
        pb.CreateRewardModelRequest(
            name="rank", kind=pb.REWARD_MODEL_KIND_RANKING, tiny_json=SMALL, max_tokens=64
        )
    )
    pairs = [pb.TextPair(first="a", second="b", label=1.0), pb.TextPair(first="c", second="d")]
    reply = stub.TrainRewardModel(pb.TrainRewardModelRequest(name="rank", pairs=pairs))
    assert reply.version == 1 and reply.accuracy_count == 2
    scored = stub.ScoreRewardModel(pb.ScoreRewardModelRequest(name="rank", texts=["a"]))
    assert len(scored.scores) == 1 and len(scored.probabilities) == 0


def test_bad_requests_name_the_field(stub: reward_model_pb2_grpc.RewardModelServiceStub) -> None:
    invalid, not_found = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    stub.CreateRewardModel(
        pb.CreateRewardModelRequest(name="err", kind=pb.REWARD_MODEL_KIND_CLASSIFICATION)
    )
    cases = [
        (
            stub.ScoreRewardModel,
            pb.ScoreRewardModelRequest(name="nope", texts=["x"]),
            not_found,
            "name: no reward model 'nope'",
        ),
        (stub.TrainRewardModel, pb.TrainRewardModelRequest(name="nope"), not_found, "name"),
        (
            stub.TrainRewardModel,
            pb.TrainRewardModelRequest(name="err"),
            invalid,
            "examples: empty batch",
        ),
        (
            stub.ScoreRewardModel,
            pb.ScoreRewardModelRequest(name="err"),
            invalid,
            "texts: empty batch",
        ),
        (
            stub.ScoreRewardModel,
            pb.ScoreRewardModelRequest(name="err", texts=["x"] * (MAX_BATCH + 1)),
            invalid,
            f"at most {MAX_BATCH}",
        ),
        (
            stub.TrainRewardModel,
            pb.TrainRewardModelRequest(name="err", examples=[pb.LabelledText(text="x", label=2)]),
            invalid,
            "examples[0].label",
        ),
        (
            stub.TrainRewardModel,
            pb.TrainRewardModelRequest(name="err", pairs=[pb.TextPair(first="a", second="b")]),
            invalid,
            "pairs",
        ),
        (stub.CreateRewardModel, pb.CreateRewardModelRequest(name="k"), invalid, "kind"),
        (
            stub.CreateRewardModel,
            pb.CreateRewardModelRequest(name="", kind=pb.REWARD_MODEL_KIND_RANKING),
            invalid,
            "name: required",
        ),
        (
            stub.CreateRewardModel,
            pb.CreateRewardModelRequest(
                name="t", kind=pb.REWARD_MODEL_KIND_RANKING, tiny_json='{"layers": 1}'
            ),
            invalid,
            "tiny_json",
        ),
        (
            stub.CreateRewardModel,
            pb.CreateRewardModelRequest(
                name="t", kind=pb.REWARD_MODEL_KIND_RANKING, load_path="/nonexistent/rm"
            ),
            not_found,
            "path",
        ),
        (
            stub.CreateRewardModel,
            pb.CreateRewardModelRequest(name="err", kind=pb.REWARD_MODEL_KIND_RANKING),
            grpc.StatusCode.FAILED_PRECONDITION,
            "exists as classification",
        ),
        (stub.SaveRewardModel, pb.SaveRewardModelRequest(name="err"), invalid, "path: required"),
    ]
    for fn, request, code, needle in cases:
        got, message = _code(fn, request)
        assert got == code and needle in message, (request, got, message)
    # Still serving after the errors.
    assert stub.GetRewardModelInfo(pb.GetRewardModelInfoRequest(name="err")).info.name == "err"
