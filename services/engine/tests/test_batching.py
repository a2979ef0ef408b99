"""Dynamic batching of concurrent Sample calls."""

import threading

import pytest

from sluice_engine.batching import SampleBatcher
from sluice_engine.sampling import SampledSequence, SamplingConfig


class RecordingSample:
    def __init__(self) -> None:
        self.calls: list[list[list[int]]] = []
        self.lock = threading.Lock()

    def __call__(
        self, prompts: list[list[int]], num_samples: int, config: SamplingConfig
    ) -> tuple[list[SampledSequence], int]:
        assert num_samples == 1 or len(self.calls) >= 0
        with self.lock:
            self.calls.append(prompts)
        # Echo the prompt's first token so callers can check they got their own rows.
        rows = [p for p in prompts for _ in range(num_samples)]
        return [SampledSequence(0, [p[0]], [-0.5], "length") for p in rows], 7


def run_concurrently(batcher: SampleBatcher, requests: list[tuple[list[list[int]], int]]) -> list:
    results: list = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = batcher.sample(requests[i][0], requests[i][1], SamplingConfig(max_tokens=2))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results


def test_concurrent_requests_are_merged_and_each_caller_gets_its_own_rows() -> None:
    fake = RecordingSample()
    batcher = SampleBatcher(fake, max_wait_s=0.05)
    requests = [([[i + 1], [i + 100]], 2) for i in range(8)]
    results = run_concurrently(batcher, requests)
    assert len(fake.calls) < len(requests)
    for i, (sequences, version) in enumerate(results):
        assert version == 7
        assert [s.token_ids[0] for s in sequences] == [i + 1, i + 1, i + 100, i + 100]
        assert [s.prompt_index for s in sequences] == [0, 0, 1, 1]


def test_seeded_requests_are_never_merged() -> None:
    fake = RecordingSample()
    batcher = SampleBatcher(fake, max_wait_s=0.05)
    batcher.sample([[1]], 1, SamplingConfig(max_tokens=2, seed=3))
    batcher.sample([[2]], 1, SamplingConfig(max_tokens=2, seed=3))
    assert fake.calls == [[[1]], [[2]]]


def test_a_failed_batch_fails_every_caller_in_it() -> None:
    def broken(prompts: list[list[int]], n: int, c: SamplingConfig) -> tuple:
        raise RuntimeError("device lost")

    batcher = SampleBatcher(broken, max_wait_s=0.01)
    with pytest.raises(RuntimeError, match="device lost"):
        batcher.sample([[1]], 1, SamplingConfig(max_tokens=2))
