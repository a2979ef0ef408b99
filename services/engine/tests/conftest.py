import pytest
import torch
from devices import TEST_DEVICE

from sluice_engine.loading import ModelSpec, load_model
from sluice_engine.trainer import PolicyEngine

# One intra-op thread: on a shared 2-core machine OpenMP spin-waiting dominates otherwise.
torch.set_num_threads(1)


def tiny_spec(seed: int = 0) -> ModelSpec:
    return ModelSpec.from_dict({"source": "tiny", "seed": seed, "device": TEST_DEVICE})


@pytest.fixture
def engine() -> PolicyEngine:
    return PolicyEngine("policy", load_model(tiny_spec()))


@pytest.fixture
def make_engine() -> object:
    def make(max_batch_tokens: int = 32768) -> PolicyEngine:
        return PolicyEngine("policy", load_model(tiny_spec()), max_batch_tokens=max_batch_tokens)

    return make
