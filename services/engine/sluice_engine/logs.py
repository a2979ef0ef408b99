"""Structured JSON log lines on stderr."""

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO


class JsonLogger:
    """Writes one JSON object per line: ts, level, experiment, component, msg, extras."""

    def __init__(
        self, experiment: str, component: str = "engine", stream: TextIO | None = None
    ) -> None:
        self.experiment = experiment
        self.component = component
        self._stream = stream
        self._lock = threading.Lock()

    def log(self, level: str, msg: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "experiment": self.experiment,
            "component": self.component,
            "msg": msg,
        }
        record.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(record, default=str)
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    def info(self, msg: str, **fields: Any) -> None:
        self.log("info", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.log("warn", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.log("error", msg, **fields)
