import json
from pathlib import Path

import torch
from devices import TEST_DEVICE

from sluice_engine.loading import ModelSpec, load_model, parse_model_specs
from sluice_engine.tiny import TinySpec, build_tiny_model, build_tokenizer


def test_tokenizer_is_char_level_with_atomic_specials() -> None:
    tok = build_tokenizer()
    ids = tok("<|user|>hi 1+2<|end|>", add_special_tokens=False)["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<|user|>", "h", "i", " ", "1", "+", "2", "<|end|>"]
    assert tok.decode(ids) == "<|user|>hi 1+2<|end|>"
    assert tok.decode(ids, skip_special_tokens=True) == "hi 1+2"
    assert tok.eos_token == "<|end|>" and tok.pad_token == "<|pad|>"
    calls = tok("<tool_call>{}</tool_call>", add_special_tokens=False)["input_ids"]
    assert len(calls) == 4


def test_chat_template() -> None:
    tok = build_tokenizer()
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}],
        },
        {"role": "tool", "content": "2"},
    ]
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        '<|user|>hi<|end|><|assistant|><tool_call>{"name": "f", "arguments": {"x": 1}}'
        "</tool_call><|end|><|tool|>2<|end|><|assistant|>"
    )


def test_seeded_init_is_deterministic() -> None:
    tok = build_tokenizer()
    a = build_tiny_model(TinySpec(), tok, seed=1)
    b = build_tiny_model(TinySpec(), tok, seed=1)
    c = build_tiny_model(TinySpec(), tok, seed=2)
    wa, wb, wc = (m.model.embed_tokens.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_save_pretrained_roundtrip_same_logits(tmp_path: Path) -> None:
    loaded = load_model(ModelSpec.from_dict({"source": "tiny", "seed": 3, "device": TEST_DEVICE}))
    loaded.model.save_pretrained(tmp_path)
    loaded.tokenizer.save_pretrained(tmp_path)
    specs = parse_model_specs(
        json.dumps({"source": "hf", "path": str(tmp_path), "device": TEST_DEVICE})
    )
    back = load_model(specs["policy"])
    text = "<|user|>what is 2+2?<|end|><|assistant|>"
    ids = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert back.tokenizer(text, add_special_tokens=False)["input_ids"] == ids
    with torch.no_grad():
        x = torch.tensor([ids], device=loaded.device)
        assert torch.allclose(loaded.model(x).logits, back.model(x).logits, atol=1e-6)
    assert (
        back.tokenizer.apply_chat_template(
            [{"role": "user", "content": "a"}], tokenize=False, add_generation_prompt=True
        )
        == "<|user|>a<|end|><|assistant|>"
    )


def test_multi_model_spec() -> None:
    specs = parse_model_specs('{"models": {"policy": {"source": "tiny"}, "ref": {"seed": 4}}}')
    assert set(specs) == {"policy", "ref"} and specs["ref"].seed == 4
