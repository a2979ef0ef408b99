"""forward_backward throughput, in-process vs over gRPC, on the same model and batch.

python -m sluice_engine.bench [--port P] [--model-spec JSON] [--batch B] [--seq-len T]
[--iters N] [--torch-threads N]. Without --port it starts its own server in-process on a
free port. Prints figures and, last, one JSON line
{"inprocess_tokens_per_s", "grpc_tokens_per_s", "ratio"}.
"""

import argparse
import json
import random
import threading
import time

import grpc
import torch

from .loading import parse_model_specs
from .logs import JsonLogger
from .losses import LossKind, LossSpec
from .packing import pack_float32, pack_int32, pack_uint8
from .proto import engine_pb2, engine_pb2_grpc
from .registry import ModelRegistry
from .server import MAX_MESSAGE_BYTES, start_server
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sluice_engine.bench")
    parser.add_argument("--port", type=int, default=None, help="existing server (default: own)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model-spec", default='{"source": "tiny", "seed": 0}')
    parser.add_argument("--model", default="")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch default")
    args = parser.parse_args(argv)
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)

    registry = ModelRegistry.from_specs(parse_model_specs(args.model_spec))
    engine = registry.get(args.model)
    seqs = make_batch(len(engine.tokenizer), args.batch, args.seq_len)
    inprocess = time_inprocess(engine, seqs, args.iters)
    print(f"in-process forward_backward: {inprocess:,.0f} tokens/s", flush=True)

    running = None
    port = args.port
    if port is None:
        running = start_server(registry, host=args.host, port=0, log=JsonLogger("bench"))
        port = running.port
    try:
        via_grpc = time_grpc(f"{args.host}:{port}", args.model, seqs, args.iters)
    finally:
        if running is not None:
            running.stop(0)
    print(f"gRPC forward_backward ({args.host}:{port}): {via_grpc:,.0f} tokens/s", flush=True)
    summary = {
        "inprocess_tokens_per_s": round(inprocess, 1),
        "grpc_tokens_per_s": round(via_grpc, 1),
        "ratio": round(via_grpc / inprocess, 4),
        "batch": args.batch,
        "seq_len": args.seq_len,
        "iters": args.iters,
        "device": str(engine.device),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
