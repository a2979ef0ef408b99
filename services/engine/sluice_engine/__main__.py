"""python -m sluice_engine --port P --model-spec JSON_OR_PATH [--host H] [--metrics-port M]
[--experiment NAME] [--grace S] [--workers N] [--torch-threads N]"""

import argparse
import json
import os
import signal
import sys
import threading
from types import FrameType

import torch

from .loading import parse_model_specs
from .logs import JsonLogger
from .metrics import EngineMetrics, MetricsServer
from .registry import ModelRegistry
from .server import start_server

DEFAULT_SPEC = '{"source": "tiny", "seed": 0}'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sluice_engine", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="gRPC port (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--model-spec",
        default=DEFAULT_SPEC,
        help='inline JSON or a JSON file: one spec or {"models": {name: spec}}',
    )
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="Prometheus /metrics port (0: free port)"
    )
    parser.add_argument("--experiment", default="")
    parser.add_argument("--grace", type=float, default=5.0, help="shutdown grace seconds")
    parser.add_argument(
        "--workers",
        type=int,
        default=256,
        help="gRPC threads (bounds batched Sample calls)",
    )
    parser.add_argument(
        "--torch-threads", type=int, default=0, help="torch intra-op threads (0: torch default)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = JsonLogger(experiment=args.experiment)
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    try:
        registry = ModelRegistry.from_specs(parse_model_specs(args.model_spec))
    except Exception as exc:  # noqa: BLE001 - report and exit non-zero
        log.error("model load failed", error=f"{type(exc).__name__}: {exc}")
        return 2
    metrics = EngineMetrics()
    metrics_server = None
    if args.metrics_port is not None:
        metrics_server = MetricsServer(metrics, args.host, args.metrics_port)
        metrics_server.start()
    running = start_server(
        registry, host=args.host, port=args.port, metrics=metrics, log=log, max_workers=args.workers
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("shutdown requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    models = {
        e.name: {"device": str(e.device), "parameters": e.parameter_count, "vocab": e.vocab_size}
        for e in registry
    }
    ready = {
        "msg": "ready",
        "port": running.port,
        "host": args.host,
        "metrics_port": metrics_server.port if metrics_server else None,
        "models": models,
        "policy_version": registry.get("").policy_version,
    }
    log.info(**ready)
    print(json.dumps(ready), flush=True)
    # Die with the parent (the orchestrator): if it is killed without a chance to stop
    # us, we are re-parented and must not linger as an orphan holding the port.
    parent_pid = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent_pid:
            log.warning("parent process exited; stopping", parent_pid=parent_pid)
            break
    running.stop(args.grace)
    if metrics_server:
        metrics_server.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
