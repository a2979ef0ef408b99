"""forward_backward throughput, in-process vs over gRPC, on the same model and batch.

python -m sluice_engine.bench [--port P] [--model-spec JSON] [--batch B] [--seq-len T]
[--iters N] [--torch-threads N]. Without --port it starts the engine server as a
child process on a free port (a separate process, as the learner reaches it).
Prints figures and, last, one JSON line
{"inprocess_tokens_per_s", "grpc_tokens_per_s", "ratio"}.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import threading
import time

import grpc
import torch

from .loading import parse_model_specs
from .losses import LossKind, LossSpec
from .packing import pack_float32, pack_int32, pack_uint8
from .proto import engine_pb2, engine_pb2_grpc
from .registry import ModelRegistry
from .server import MAX_MESSAGE_BYTES
from .trainer import PolicyEngine, TrainingSequence


def make_batch(vocab_size: int, batch: int, seq_len: int, seed: int = 0) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(vocab_size) for _ in range(seq_len)] for _ in range(batch)]


def time_inprocess(engine: PolicyEngine, seqs: list[list[int]], iters: int) -> float:
    """Loss tokens per second of forward_backward called directly on the engine.

    Runs in a worker thread, as the gRPC server's handlers do: on a loaded machine the
    main thread's OpenMP team measured ~10x slower, which would skew the comparison."""
    result: list[float] = []
    worker = threading.Thread(target=lambda: result.append(_time_inprocess(engine, seqs, iters)))
    worker.start()
    worker.join()
    return result[0]


def _time_inprocess(engine: PolicyEngine, seqs: list[list[int]], iters: int) -> float:
    spec = LossSpec(kind=LossKind.REINFORCE)
    batch = [
        TrainingSequence(s, torch.ones(len(s) - 1, dtype=torch.bool), torch.ones(len(s) - 1), None)
        for s in seqs
    ]
    engine.forward_backward(batch, spec)  # warm-up
    tokens = 0
    start = time.perf_counter()
    for _ in range(iters):
        tokens += engine.forward_backward(batch, spec).loss_tokens
    elapsed = time.perf_counter() - start
    engine.model.zero_grad(set_to_none=True)
    return tokens / elapsed


def time_grpc(target: str, model: str, seqs: list[list[int]], iters: int) -> float:
    """Loss tokens per second of the ForwardBackward RPC, including (de)serialisation."""
    request = engine_pb2.ForwardBackwardRequest(
        model=model,
        sequences=[
            engine_pb2.TrainingSequence(
                token_ids=pack_int32(s),
                loss_mask=pack_uint8([1] * (len(s) - 1)),
                advantages=pack_float32([1.0] * (len(s) - 1)),
            )
            for s in seqs
        ],
        loss=engine_pb2.LossConfig(kind=engine_pb2.LOSS_KIND_REINFORCE),
    )
    options = [("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = engine_pb2_grpc.EngineServiceStub(channel)
        stub.ForwardBackward(request)  # warm-up
        tokens = 0
        start = time.perf_counter()
        for _ in range(iters):
            tokens += stub.ForwardBackward(request).loss_tokens
        return tokens / (time.perf_counter() - start)


def start_server_process(model_spec: str, torch_threads: int) -> tuple[subprocess.Popen, int]:
    """The engine as the learner sees it: its own process, reached over loopback gRPC."""
    cmd = [sys.executable, "-m", "sluice_engine", "--port", "0", "--model-spec", model_spec]
    if torch_threads > 0:
        cmd += ["--torch-threads", str(torch_threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        try:
            ready = json.loads(line)
        except json.JSONDecodeError:
            continue
        if ready.get("msg") == "ready":
            return proc, int(ready["port"])
    proc.kill()
    raise RuntimeError("engine server did not report ready within 300 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sluice_engine.bench")
    parser.add_argument("--port", type=int, default=None, help="existing server (default: own)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model-spec", default='{"source": "tiny", "seed": 0}')
    parser.add_argument("--model", default="")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurement rounds")
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch default")
    args = parser.parse_args(argv)
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    registry = ModelRegistry.from_specs(parse_model_specs(args.model_spec))
    engine = registry.get(args.model)
    seqs = make_batch(len(engine.tokenizer), args.batch, args.seq_len)
    server = None
    port = args.port
    if port is None:
        server, port = start_server_process(args.model_spec, args.torch_threads)
    inprocess: list[float] = []
    via_grpc: list[float] = []
    try:
        # Alternate the two paths so drift on a shared machine hits both alike.
        for r in range(args.rounds):
            inprocess.append(time_inprocess(engine, seqs, args.iters))
            via_grpc.append(time_grpc(f"{args.host}:{port}", args.model, seqs, args.iters))
            print(
                f"round {r}: in-process {inprocess[-1]:,.0f} tokens/s, "
                f"gRPC {via_grpc[-1]:,.0f} tokens/s",
                flush=True,
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    ip, gr = statistics.median(inprocess), statistics.median(via_grpc)
    # The ratio of each round's side-by-side pair, then the median: robust to drift.
    ratio = statistics.median(g / i for g, i in zip(via_grpc, inprocess, strict=True))
    print(f"gRPC/in-process ratio (median of {args.rounds} rounds): {ratio:.3f} (aim >= 0.9)")
    summary = {
        "inprocess_tokens_per_s": round(ip, 1),
        "grpc_tokens_per_s": round(gr, 1),
        "ratio": round(ratio, 4),
        "batch": args.batch,
        "seq_len": args.seq_len,
        "iters": args.iters,
        "rounds": args.rounds,
        "device": str(engine.device),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
