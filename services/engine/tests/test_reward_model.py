import random
from pathlib import Path

import pytest
from devices import TEST_DEVICE

from sluice_engine.errors import NotFoundError, PreconditionError, ValidationError
from sluice_engine.reward_model import (
    OptimizerSettings,
    RewardModel,
    RewardModelConfig,
    RewardModelKind,
)
from sluice_engine.reward_model_registry import RewardModelRegistry


def make(kind: RewardModelKind, seed: int = 0, lr: float = 1e-3) -> RewardModel:
    config = RewardModelConfig(
        kind, seed=seed, device=TEST_DEVICE, optimizer=OptimizerSettings(learning_rate=lr)
    )
    return RewardModel("rm", config)


def toy_examples(rng: random.Random, n: int) -> list[tuple[str, float]]:
    """Trivially separable: the label is whether the step's tests PASS or FAIL."""
    out = []
    for _ in range(n):
        positive = rng.random() < 0.5
        word = "tests PASS" if positive else "tests FAIL"
        out.append((f"step {rng.randint(0, 999)}: {word}", 1.0 if positive else 0.0))
    return out


def test_classification_training_separates_a_separable_toy_set() -> None:
    rng = random.Random(0)
    model = make(RewardModelKind.CLASSIFICATION)
    held_out = toy_examples(random.Random(99), 200)

    def held_out_accuracy() -> float:
        probs = model.score([x for x, _ in held_out]).probabilities
        return sum((p > 0.5) == (y > 0.5) for p, (_, y) in zip(probs, held_out, strict=True)) / 200

    before = held_out_accuracy()
    assert 0.3 <= before <= 0.7  # an untrained head is a coin flip
    curve = []
    for _ in range(40):
        batch = toy_examples(rng, 32)
        result = model.train_examples([x for x, _ in batch], [y for _, y in batch])
        curve.append(result.accuracy)
    assert model.version == 40
    assert held_out_accuracy() > 0.9, curve
    assert sum(curve[-5:]) / 5 > 0.9, curve


def test_ranking_training_orders_pairs() -> None:
    rng = random.Random(1)
    model = make(RewardModelKind.RANKING)
    for _ in range(40):
        batch = toy_examples(rng, 64)
        pos = [x for x, y in batch if y > 0.5]
        neg = [x for x, y in batch if y < 0.5]
        n = min(len(pos), len(neg))
        # Half the pairs put the preferred (PASS) text second: soft label 1, else 0.
        firsts = [pos[i] if i % 2 else neg[i] for i in range(n)]
        seconds = [neg[i] if i % 2 else pos[i] for i in range(n)]
        labels = [0.0 if i % 2 else 1.0 for i in range(n)]
        result = model.train_pairs(firsts, seconds, labels)
    assert result.accuracy > 0.9
    scores = model.score(["step 5: tests PASS", "step 5: tests FAIL"]).scores
    assert scores[0] > scores[1]


def test_regression_training_fits_targets() -> None:
    rng = random.Random(2)
    model = make(RewardModelKind.REGRESSION, lr=3e-3)
    first = None
    for _ in range(60):
        batch = toy_examples(rng, 32)
        result = model.train_examples([x for x, _ in batch], [2 * y - 1 for _, y in batch])
        first = first if first is not None else result.loss
    assert first is not None and result.loss < 0.25 * first


def test_scores_are_deterministic_given_the_seed_and_independent_of_the_batch() -> None:
    a, b, c = (make(RewardModelKind.REGRESSION, seed=s) for s in (7, 7, 8))
    texts = ["short", "a much longer text than the other one", ""]
    assert a.score(texts).scores == b.score(texts).scores
    assert a.score(texts).scores != c.score(texts).scores
    # Left padding must not change a text's score.
    alone = a.score(["short"]).scores[0]
    assert alone == pytest.approx(a.score(texts).scores[0], abs=1e-5)
    assert a.score(texts).probabilities == []


def test_truncation_keeps_the_last_tokens() -> None:
    model = RewardModel(
        "rm", RewardModelConfig(RewardModelKind.REGRESSION, max_tokens=8, device=TEST_DEVICE)
    )
    assert model.score(["x" * 100 + "tail end"]).scores == model.score(["tail end"]).scores


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = make(RewardModelKind.CLASSIFICATION)
    batch = toy_examples(random.Random(3), 16)
    model.train_examples([x for x, _ in batch], [y for _, y in batch])
    path, version, written = model.save(str(tmp_path / "rm"))
    assert version == 1 and written > 0
    loaded = RewardModel.from_saved("copy", path, device=TEST_DEVICE)
    assert loaded.version == 1 and loaded.kind is RewardModelKind.CLASSIFICATION
    assert loaded.score(["tests PASS"]).scores == model.score(["tests PASS"]).scores
    model.train_examples([x for x, _ in batch], [y for _, y in batch])
    assert model.load_weights(path) == 1
    assert loaded.score(["tests PASS"]).scores == model.score(["tests PASS"]).scores
    other = make(RewardModelKind.RANKING)
    with pytest.raises(PreconditionError, match="kind"):
        other.load_weights(path)
    with pytest.raises(NotFoundError, match="path"):
        model.load_weights(str(tmp_path / "missing"))


def test_wrong_example_shape_for_the_kind_is_rejected() -> None:
    with pytest.raises(ValidationError, match="pairs"):
        make(RewardModelKind.RANKING).train_examples(["a"], [1.0])
    with pytest.raises(ValidationError, match="examples"):
        make(RewardModelKind.CLASSIFICATION).train_pairs(["a"], ["b"], [0.0])
    with pytest.raises(ValidationError, match="max_tokens"):
        RewardModelConfig(RewardModelKind.REGRESSION, max_tokens=10_000).validate()


def test_registry_create_reuse_replace_and_errors() -> None:
    registry = RewardModelRegistry(device=TEST_DEVICE)
    config = RewardModelConfig(RewardModelKind.CLASSIFICATION, device=TEST_DEVICE)
    model, created = registry.create("oni", config)
    assert created
    again, created = registry.create("oni", config)
    assert again is model and not created
    with pytest.raises(PreconditionError, match="exists as classification"):
        registry.create("oni", RewardModelConfig(RewardModelKind.RANKING, device=TEST_DEVICE))
    replaced, created = registry.create(
        "oni", RewardModelConfig(RewardModelKind.RANKING, device=TEST_DEVICE), replace=True
    )
    assert created and replaced.kind is RewardModelKind.RANKING
    with pytest.raises(NotFoundError, match="name: no reward model 'nope'"):
        registry.get("nope")
    with pytest.raises(ValidationError, match="name: required"):
        registry.get("")
