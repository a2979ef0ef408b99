import torch

from sluice_engine.sampling import SamplingConfig, _nucleus_logprobs
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
