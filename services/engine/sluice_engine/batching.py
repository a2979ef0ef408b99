"""Coalesces concurrent Sample calls into one batched generation (dynamic batching).

Agents call the gateway one turn at a time, so the engine sees many small concurrent
Sample requests. Generating them one by one serialises on the model lock; a tiny model
on CPU (and any model on a GPU) costs about the same for a batch of 32 rows as for one.
The first caller for a given sampling configuration becomes the batch leader: it waits
up to `max_wait_s` for others with the same configuration, then runs them all as one
`generate` call and hands each caller its own rows. A seeded request keeps its rows'
seeds inside the merged batch (see sampling.py), so merging never changes what it samples.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .sampling import SampledSequence, SamplingConfig, row_seed

# (prompts, num_samples, config, row seeds or None for config.seed's) -> (rows, version)
SampleFn = Callable[
    [list[list[int]], int, SamplingConfig, list[int] | None], tuple[list[SampledSequence], int]
]


@dataclass
class _Pending:
    prompts: list[list[int]]
    num_samples: int
    seed: int
    done: threading.Event = field(default_factory=threading.Event)
    result: tuple[list[SampledSequence], int] | None = None
    error: BaseException | None = None


@dataclass
class _Queue:
    items: list[_Pending] = field(default_factory=list)
    leader_active: bool = False


class SampleBatcher:
    def __init__(self, sample: SampleFn, max_wait_s: float = 0.005, max_rows: int = 256) -> None:
        self._sample = sample
        self._max_wait_s = max_wait_s
        self._max_rows = max_rows
        self._lock = threading.Lock()
        self._queues: dict[SamplingConfig, _Queue] = {}
        self.batches_run = 0
        self.requests_merged = 0

    def sample(
        self, prompts: list[list[int]], num_samples: int, config: SamplingConfig
    ) -> tuple[list[SampledSequence], int]:
        if self._max_wait_s <= 0:
            return self._sample(prompts, num_samples, config, None)
        key = replace(config, seed=0)
        item = _Pending(prompts, num_samples, config.seed)
        with self._lock:
            queue = self._queues.setdefault(key, _Queue())
            queue.items.append(item)
            lead = not queue.leader_active
            if lead:
                queue.leader_active = True
        if lead:
            self._lead(key)
        # Followers wait for their leader; a leader has already filled its own result.
        item.done.wait()
        if item.error is not None:
            raise item.error
        assert item.result is not None
        return item.result

    def _rows(self, items: list[_Pending]) -> int:
        return sum(len(i.prompts) * i.num_samples for i in items)

    def _lead(self, key: SamplingConfig) -> None:
        deadline = time.monotonic() + self._max_wait_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._rows(self._queues[key].items) >= self._max_rows:
                    break
            time.sleep(self._max_wait_s / 4)
        with self._lock:
            queue = self._queues[key]
            batch, queue.items = queue.items, []
            queue.leader_active = False
        self._run(batch, key)

    def _run(self, batch: list[_Pending], config: SamplingConfig) -> None:
        # Flatten: every item's prompts repeated num_samples times, one sample per row.
        flat: list[list[int]] = []
        seeds: list[int] = []
        for item in batch:
            for prompt in item.prompts:
                flat.extend([prompt] * item.num_samples)
            # The seeds the item's rows would get if it ran alone.
            seeds.extend(
                row_seed(item.seed, r) for r in range(len(item.prompts) * item.num_samples)
            )
        try:
            sequences, version = self._sample(flat, 1, config, seeds)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for item in batch:
                item.error = exc
                item.done.set()
            return
        self.batches_run += 1
        self.requests_merged += len(batch)
        offset = 0
        for item in batch:
            rows = len(item.prompts) * item.num_samples
            mine = sequences[offset : offset + rows]
            offset += rows
            item.result = (
                [replace(s, prompt_index=r // item.num_samples) for r, s in enumerate(mine)],
                version,
            )
            item.done.set()
