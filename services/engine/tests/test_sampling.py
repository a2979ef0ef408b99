import torch

from sluice_engine.sampling import SamplingConfig, _nucleus_logprobs, generate, row_seed
from sluice_engine.trainer import PolicyEngine


def _prompts(engine: PolicyEngine) -> list[list[int]]:
    return [
        engine.tokenize("<|user|>hello there<|end|><|assistant|>"),
        engine.tokenize("ab"),
    ]


def test_shapes_order_and_determinism(engine: PolicyEngine) -> None:
    config = SamplingConfig(max_tokens=12, temperature=1.0, top_p=1.0, seed=7)
    out, version = engine.sample(_prompts(engine), 3, config)
    assert version == 0
    assert [s.prompt_index for s in out] == [0, 0, 0, 1, 1, 1]
    for s in out:
        assert len(s.token_ids) == len(s.logprobs) <= 12
        assert s.finish_reason in ("stop", "length")
        assert all(lp <= 0 for lp in s.logprobs)
    again, _ = engine.sample(_prompts(engine), 3, config)
    assert [s.token_ids for s in out] == [s.token_ids for s in again]
    other, _ = engine.sample(_prompts(engine), 3, SamplingConfig(max_tokens=12, seed=8))
    assert [s.token_ids for s in out] != [s.token_ids for s in other]


def test_stop_tokens_end_sequences(engine: PolicyEngine) -> None:
    vocab = engine.tokenizer.get_vocab()
    stops = frozenset(i for t, i in vocab.items() if len(t) == 1)  # every character stops
    config = SamplingConfig(max_tokens=30, temperature=1.0, stop_token_ids=stops, seed=1)
    out, _ = engine.sample(_prompts(engine), 4, config)
    for s in out:
        if s.finish_reason == "stop":
            assert s.token_ids[-1] in stops | engine.eos_token_ids
            assert not any(t in stops for t in s.token_ids[:-1])
        else:
            assert len(s.token_ids) == 30
    assert any(s.finish_reason == "stop" for s in out)


def test_sampled_logprobs_match_compute_logprobs(engine: PolicyEngine) -> None:
    prompts = _prompts(engine)
    out, _ = engine.sample(prompts, 2, SamplingConfig(max_tokens=16, seed=3))
    seqs = [prompts[s.prompt_index] + s.token_ids for s in out]
    scored, _ = engine.compute_logprobs(seqs)
    for s, lp in zip(out, scored, strict=True):
        n = len(prompts[s.prompt_index])
        assert torch.allclose(lp[n - 1 :], torch.tensor(s.logprobs), atol=1e-4)


def test_greedy_is_argmax(engine: PolicyEngine) -> None:
    config = SamplingConfig(max_tokens=5, temperature=0.0, seed=0)
    a, _ = engine.sample(_prompts(engine), 2, config)
    assert a[0].token_ids == a[1].token_ids


def test_top_p_renormalises_over_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    lp = _nucleus_logprobs(logits, top_p=0.7)
    assert torch.allclose(lp.exp(), torch.tensor([[0.625, 0.375, 0.0, 0.0]]), atol=1e-6)


def test_a_seeded_row_samples_the_same_whatever_shares_its_batch(engine: PolicyEngine) -> None:
    prompts = _prompts(engine)
    config = SamplingConfig(max_tokens=10, temperature=1.0)
    eos, pad = engine.eos_token_ids, engine.pad_token_id
    alone = generate(engine.model, [prompts[0]], 1, config, eos, pad, [42])
    # Same prompt and seed as row 2 of a batch with other (seeded and unseeded) rows.
    mixed = generate(
        engine.model, [prompts[1], prompts[1], prompts[0]], 1, config, eos, pad, [7, 0, 42]
    )
    assert mixed[2].token_ids == alone[0].token_ids
    assert torch.allclose(
        torch.tensor(mixed[2].logprobs), torch.tensor(alone[0].logprobs), atol=1e-5
    )


def test_row_seeds_differ_per_row_and_zero_stays_unseeded() -> None:
    assert row_seed(0, 3) == 0
    assert row_seed(9, 0) == 9
    assert len({row_seed(9, r) for r in range(64)}) == 64


def test_inverse_cdf_follows_the_distribution(engine: PolicyEngine) -> None:
    from sluice_engine.sampling import RowGenerators, sample_next

    probs = torch.tensor([0.1, 0.6, 0.0, 0.3])
    logits = torch.log(probs).expand(4000, 4).clone()
    tokens, logprobs = sample_next(logits, SamplingConfig(max_tokens=1), RowGenerators([0] * 4000))
    counts = torch.bincount(tokens, minlength=4).float() / 4000
    assert counts[2] == 0
    assert torch.allclose(counts, probs, atol=0.03)
    assert torch.allclose(logprobs, torch.log(probs)[tokens])


def test_an_interruptible_generation_stops_when_asked(engine: PolicyEngine) -> None:
    prompts = _prompts(engine)
    eos, pad = engine.eos_token_ids, engine.pad_token_id
    calls = {"n": 0}

    def after_three_tokens() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    config = SamplingConfig(max_tokens=50, interruptible=True)
    out = generate(engine.model, prompts, 1, config, eos, pad, [5, 6], after_three_tokens)
    for s in out:
        assert s.finish_reason in ("stop", "interrupted")
        assert len(s.token_ids) <= 3
    assert any(s.finish_reason == "interrupted" and len(s.token_ids) == 3 for s in out)
    # Not interruptible: the same callable is never consulted.
    calls["n"] = 0
    plain = SamplingConfig(max_tokens=50)
    out = generate(engine.model, prompts, 1, plain, eos, pad, [5, 6], after_three_tokens)
    assert calls["n"] == 0 and all(s.finish_reason != "interrupted" for s in out)


def test_a_waiting_weight_update_interrupts_sampling(engine: PolicyEngine) -> None:
    config = SamplingConfig(max_tokens=50, seed=4, interruptible=True)
    with engine._weight_update():
        out, _ = engine.sample(_prompts(engine), 1, config)
    assert all(len(s.token_ids) == 1 or s.finish_reason == "stop" for s in out)
    assert any(s.finish_reason == "interrupted" for s in out)
    # Once the update is done, the same request runs to its end.
    out, _ = engine.sample(_prompts(engine), 1, config)
    assert all(s.finish_reason in ("stop", "length") for s in out)
