"""A small Prometheus text-exposition registry and its /metrics HTTP endpoint."""

import bisect
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LabelKey = tuple[tuple[str, str], ...]

DEFAULT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _labels(key: LabelKey, extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = key + extra
    if not items:
        return ""
    escaped = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in items
    )
    return "{" + ",".join(escaped) + "}"


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{_labels(k)} {v:g}" for k, v in items]


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._values: dict[LabelKey, float] = {}

    def set(self, value: float, **labels: str) -> None:
        with self._lock:
            self._values[tuple(sorted(labels.items()))] = value

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{_labels(k)} {v:g}" for k, v in items]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, buckets: tuple[float, ...] = DEFAULT_BUCKETS
    ) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[LabelKey, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts, totals = self._series.setdefault(key, ([0] * len(self.buckets), [0.0, 0.0]))
            index = bisect.bisect_left(self.buckets, value)
            if index < len(counts):
                counts[index] += 1
            totals[0] += value
            totals[1] += 1

    def render(self) -> list[str]:
        lines = self.header()
        with self._lock:
            items = sorted((k, (list(c), list(t))) for k, (c, t) in self._series.items())
        for key, (counts, (total, count)) in items:
            cumulative = 0
            for bound, c in zip(self.buckets, counts, strict=True):
                cumulative += c
                le = _labels(key, (("le", f"{bound:g}"),))
                lines.append(f"{self.name}_bucket{le} {cumulative}")
            lines.append(f"{self.name}_bucket{_labels(key, (('le', '+Inf'),))} {count:g}")
            lines.append(f"{self.name}_sum{_labels(key)} {total:g}")
            lines.append(f"{self.name}_count{_labels(key)} {count:g}")
        return lines


class EngineMetrics:
    """The engine's metric set; one instance per server (no module-level state)."""

    def __init__(self) -> None:
        self.rpc_calls = Counter("sluice_engine_rpc_calls_total", "RPCs handled, by method.")
        self.rpc_errors = Counter(
            "sluice_engine_rpc_errors_total", "RPCs that failed, by method and status code."
        )
        self.rpc_latency = Histogram(
            "sluice_engine_rpc_latency_seconds", "RPC handling latency, by method."
        )
        self.tokens_sampled = Counter("sluice_engine_tokens_sampled_total", "Tokens sampled.")
        self.tokens_trained = Counter(
            "sluice_engine_tokens_trained_total", "Loss tokens passed through forward_backward."
        )
        self.policy_version = Gauge("sluice_engine_policy_version", "Current policy version.")
        self.optimizer_steps = Counter("sluice_engine_optimizer_steps_total", "Optimizer steps.")
        self.rm_train_steps = Counter(
            "sluice_engine_reward_model_train_steps_total", "Reward-model optimizer steps."
        )
        self.rm_loss = Gauge(
            "sluice_engine_reward_model_loss", "Reward-model loss of the last training batch."
        )
        self.rm_accuracy = Gauge(
            "sluice_engine_reward_model_accuracy",
            "Reward-model accuracy on the last training batch (before its step).",
        )
        self.rm_version = Gauge("sluice_engine_reward_model_version", "Reward-model version.")
        self.rm_texts_scored = Counter(
            "sluice_engine_reward_model_texts_scored_total", "Texts scored by reward models."
        )
        self.rm_score_latency = Histogram(
            "sluice_engine_reward_model_score_latency_seconds",
            "Reward-model scoring latency per request, by model.",
        )

    def render(self) -> str:
        metrics: list[_Metric] = [
            self.rpc_calls,
            self.rpc_errors,
            self.rpc_latency,
            self.tokens_sampled,
            self.tokens_trained,
            self.policy_version,
            self.optimizer_steps,
            self.rm_train_steps,
            self.rm_loss,
            self.rm_accuracy,
            self.rm_version,
            self.rm_texts_scored,
            self.rm_score_latency,
        ]
        lines: list[str] = []
        for metric in metrics:
            lines.extend(metric.render())  # type: ignore[attr-defined]
        return "\n".join(lines) + "\n"


class MetricsServer:
    """Serves GET /metrics from a daemon thread."""

    def __init__(self, metrics: EngineMetrics, host: str, port: int) -> None:
        render = metrics.render

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if self.path.split("?")[0] not in ("/metrics", "/"):
                    self.send_error(404)
                    return
                body = render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
