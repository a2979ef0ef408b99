"""Dynamic batching of concurrent Sample calls."""

import threading

import pytest

from sluice_engine.batching import SampleBatcher
from sluice_engine.sampling import SampledSequence, SamplingConfig, row_seed


class RecordingSample:
    def __init__(self) -> None:
        self.calls: list[list[list[int]]] = []
        self.seeds: list[list[int] | None] = []
        self.lock = threading.Lock()

    def __call__(
        self,
        prompts: list[list[int]],
        num_samples: int,
        config: SamplingConfig,
        row_seeds: list[int] | None,
    ) -> tuple[list[SampledSequence], int]:
        with self.lock:
            self.calls.append(prompts)
            self.seeds.append(row_seeds)
        # Echo the prompt's first token so callers can check they got their own rows.
        rows = [p for p in prompts for _ in range(num_samples)]
        return [SampledSequence(0, [p[0]], [-0.5], "length") for p in rows], 7


def run_concurrently(
    batcher: SampleBatcher,
    requests: list[tuple[list[list[int]], int]],
    seeds: list[int] | None = None,
) -> list:
    results: list = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def worker(i: int) -> None:
        barrier.wait()
        seed = seeds[i] if seeds else 0
        config = SamplingConfig(max_tokens=2, seed=seed)
        results[i] = batcher.sample(requests[i][0], requests[i][1], config)

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


def test_seeded_requests_merge_and_keep_their_row_seeds() -> None:
    fake = RecordingSample()
    batcher = SampleBatcher(fake, max_wait_s=0.05)
    requests = [([[i + 1]], 2) for i in range(6)]
    seeds = [0, 11, 12, 0, 13, 14]
    results = run_concurrently(batcher, requests, seeds)
    assert len(fake.calls) < len(requests)
    by_first_token: dict[int, int] = {}
    for prompts, row_seeds in zip(fake.calls, fake.seeds, strict=True):
        assert row_seeds is not None and len(row_seeds) == len(prompts)
        for prompt, seed in zip(prompts, row_seeds, strict=True):
            by_first_token.setdefault(prompt[0], seed)
    for i, (sequences, _) in enumerate(results):
        assert [s.token_ids[0] for s in sequences] == [i + 1, i + 1]
        assert by_first_token[i + 1] == row_seed(seeds[i], 0)


def test_a_failed_batch_fails_every_caller_in_it() -> None:
    def broken(prompts: list[list[int]], n: int, c: SamplingConfig, s: list[int] | None) -> tuple:
        raise RuntimeError("device lost")

    batcher = SampleBatcher(broken, max_wait_s=0.01)
    with pytest.raises(RuntimeError, match="device lost"):
        batcher.sample([[1]], 1, SamplingConfig(max_tokens=2))
