"""One place that turns engine errors into gRPC statuses, with per-RPC metrics."""

import time
from collections.abc import Callable
from typing import TypeVar

import grpc

from .errors import NotFoundError, PreconditionError, ValidationError
from .logs import JsonLogger
from .metrics import EngineMetrics

R = TypeVar("R")


def guarded_call(
    method: str,
    context: grpc.ServicerContext,
    fn: Callable[[], R],
    metrics: EngineMetrics,
    log: JsonLogger,
) -> R:
    """Runs one RPC body; every error becomes a status (the server survives any request)."""
    start = time.perf_counter()
    metrics.rpc_calls.inc(method=method)
    code: grpc.StatusCode | None = None
    message = ""
    try:
        return fn()
    except ValidationError as exc:
        code, message = grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    except PreconditionError as exc:
        code, message = grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    except NotFoundError as exc:
        code, message = grpc.StatusCode.NOT_FOUND, str(exc)
    except Exception as exc:  # noqa: BLE001 - the server must survive any request
        code, message = grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}"
        log.error("rpc failed", method=method, error=message)
    finally:
        metrics.rpc_latency.observe(time.perf_counter() - start, method=method)
    metrics.rpc_errors.inc(method=method, code=code.name)
    context.abort(code, message)
    raise AssertionError("unreachable")  # context.abort raises
