import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from devices import TEST_DEVICE
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sluice_engine.loading import parse_model_specs
from sluice_engine.logs import JsonLogger
from sluice_engine.metrics import EngineMetrics, MetricsServer
from sluice_engine.packing import pack_float32, pack_int32, pack_uint8, unpack_float32, unpack_int32
from sluice_engine.proto import engine_pb2 as pb
from sluice_engine.proto import engine_pb2_grpc
from sluice_engine.registry import ModelRegistry
from sluice_engine.server import RunningServer, start_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    registry = ModelRegistry.from_specs(
        parse_model_specs(json.dumps({"source": "tiny", "device": TEST_DEVICE}))
    )
    running = start_server(registry, port=0, log=JsonLogger("test"))
    yield running
    running.stop(0)


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


@pytest.fixture
def stub(channel: grpc.Channel) -> engine_pb2_grpc.EngineServiceStub:
    return engine_pb2_grpc.EngineServiceStub(channel)


def test_health_serving(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "sluice.v1.EngineService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_every_rpc(stub: engine_pb2_grpc.EngineServiceStub, tmp_path: Path) -> None:
    info = stub.GetModelInfo(pb.GetModelInfoRequest())
    assert info.model == "policy" and info.vocab_size > 90 and info.device.startswith(TEST_DEVICE)
    end_id = info.eos_token_ids[0]

    ids = unpack_int32(stub.Tokenize(pb.TokenizeRequest(text="hi!")).token_ids)
    assert len(ids) == 3
    text = stub.Detokenize(pb.DetokenizeRequest(token_ids=pack_int32(ids))).text
    assert text == "hi!"

    rendered = stub.RenderChat(
        pb.RenderChatRequest(
            messages=[pb.ChatMessage(role="user", content="2+2?")], add_generation_prompt=True
        )
    )
    assert rendered.text == "<|user|>2+2?<|end|><|assistant|>"
    prompt = unpack_int32(rendered.token_ids)

    sampled = stub.Sample(
        pb.SampleRequest(
            prompts=[rendered.token_ids],
            params=pb.SamplingParams(max_tokens=8, temperature=1.0, top_p=1.0, seed=5),
            num_samples=2,
        )
    )
    assert len(sampled.sequences) == 2 and sampled.policy_version == 0
    seq = sampled.sequences[0]
    completion = unpack_int32(seq.token_ids)
    sample_lp = unpack_float32(seq.logprobs)
    assert len(completion) == len(sample_lp) and seq.finish_reason in ("stop", "length")

    full = prompt + completion
    lps = stub.ComputeLogprobs(pb.ComputeLogprobsRequest(sequences=[pack_int32(full)]))
    scored = unpack_float32(lps.logprobs[0])
    assert len(scored) == len(full) - 1
    assert (scored[len(prompt) - 1 :] - sample_lp).abs().max() < 1e-4

    n = len(full) - 1
    mask = [0] * (len(prompt) - 1) + [1] * len(completion)
    fb = stub.ForwardBackward(
        pb.ForwardBackwardRequest(
            sequences=[
                pb.TrainingSequence(
                    token_ids=pack_int32(full),
                    loss_mask=pack_uint8(mask),
                    advantages=pack_float32([1.0] * n),
                    old_logprobs=pack_float32(scored),
                )
            ],
            loss=pb.LossConfig(kind=pb.LOSS_KIND_PPO_CLIP, clip_epsilon_low=0.2),
        )
    )
    assert fb.loss_tokens == len(completion) and abs(fb.ratio_mean - 1.0) < 1e-4

    step = stub.OptimStep(pb.OptimStepRequest(learning_rate=1e-3, max_grad_norm=1.0))
    assert step.policy_version == 1 and step.optimizer_steps == 1 and step.grad_norm > 0
    path = str(tmp_path / "w")
    saved = stub.SaveWeights(pb.SaveWeightsRequest(path=path, include_optimizer=True))
    assert saved.policy_version == 1 and saved.bytes > 0
    stub.OptimStep(pb.OptimStepRequest(learning_rate=1e-3))
    loaded = stub.LoadWeights(pb.LoadWeightsRequest(path=path, include_optimizer=True))
    assert loaded.policy_version == 1
    assert stub.GetModelInfo(pb.GetModelInfoRequest(model="policy")).policy_version == 1
    assert end_id in [int(i) for i in info.eos_token_ids]


def _code(fn: object, request: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        fn(request)  # type: ignore[operator]
    return info.value.code(), info.value.details()


def test_invalid_arguments(stub: engine_pb2_grpc.EngineServiceStub) -> None:
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    code, msg = _code(stub.GetModelInfo, pb.GetModelInfoRequest(model="nope"))
    assert code == invalid and "unknown model" in msg
    seq = pb.TrainingSequence(
        token_ids=pack_int32([1, 2, 3]),
        loss_mask=pack_uint8([1, 1]),
        advantages=pack_float32([1.0]),
    )
    request = pb.ForwardBackwardRequest(
        sequences=[seq, seq], loss=pb.LossConfig(kind=pb.LOSS_KIND_REINFORCE)
    )
    code, msg = _code(stub.ForwardBackward, request)
    assert code == invalid and "sequences[0].advantages" in msg
    code, msg = _code(stub.ComputeLogprobs, pb.ComputeLogprobsRequest(sequences=[b"\x01\x02"]))
    assert code == invalid and "sequences[0]" in msg and "multiple of 4" in msg
    code, _ = _code(stub.ComputeLogprobs, pb.ComputeLogprobsRequest())
    assert code == invalid
    code, msg = _code(
        stub.Sample,
        pb.SampleRequest(prompts=[pack_int32([10**6])], params=pb.SamplingParams(max_tokens=2)),
    )
    assert code == invalid and "prompts[0]" in msg
    code, _ = _code(stub.OptimStep, pb.OptimStepRequest(learning_rate=1e-3, next_policy_version=-1))
    assert code == invalid
    code, _ = _code(stub.LoadWeights, pb.LoadWeightsRequest(path="/nonexistent/x"))
    assert code == grpc.StatusCode.NOT_FOUND
    # Still serving after the errors.
    assert stub.GetModelInfo(pb.GetModelInfoRequest()).model == "policy"


def test_concurrent_sample_and_train(stub: engine_pb2_grpc.EngineServiceStub) -> None:
    prompt = pack_int32([3, 20, 21])
    seq = pb.TrainingSequence(
        token_ids=pack_int32([3, 20, 21, 22]),
        loss_mask=pack_uint8([1, 1, 1]),
        advantages=pack_float32([0.5, 0.5, 0.5]),
    )

    def sample() -> int:
        params = pb.SamplingParams(max_tokens=6, temperature=1.0, seed=1)
        return len(stub.Sample(pb.SampleRequest(prompts=[prompt], params=params)).sequences)

    def train() -> int:
        loss = pb.LossConfig(kind=pb.LOSS_KIND_REINFORCE)
        return stub.ForwardBackward(
            pb.ForwardBackwardRequest(sequences=[seq], loss=loss)
        ).loss_tokens

    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = [pool.submit(sample if i % 2 else train) for i in range(12)]
        results = [j.result() for j in jobs]
    assert results == [3 if i % 2 == 0 else 1 for i in range(12)]


def test_cli_ready_line_and_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sluice_engine",
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--experiment",
            "t",
            "--torch-threads",
            "1",
            "--model-spec",
            json.dumps({"source": "tiny", "device": TEST_DEVICE}),
        ],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["msg"] == "ready" and ready["port"] > 0
        with grpc.insecure_channel(f"127.0.0.1:{ready['port']}") as ch:
            stub = engine_pb2_grpc.EngineServiceStub(ch)
            assert stub.GetModelInfo(pb.GetModelInfoRequest()).model == "policy"
        url = f"http://127.0.0.1:{ready['metrics_port']}/metrics"
        assert 'method="GetModelInfo"' in urllib.request.urlopen(url).read().decode()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert proc.stderr is not None
        logs = [
            json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")
        ]
        assert any(r["msg"] == "ready" and r["component"] == "engine" for r in logs)
        assert logs[-1]["msg"] == "stopped" and logs[-1]["experiment"] == "t"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_metrics_endpoint(server: RunningServer) -> None:
    metrics: EngineMetrics = server.servicer.metrics
    http = MetricsServer(metrics, "127.0.0.1", 0)
    http.start()
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{http.port}/metrics").read().decode()
    finally:
        http.stop()
    assert "sluice_engine_rpc_calls_total" in body
    assert "sluice_engine_rpc_latency_seconds_bucket" in body
