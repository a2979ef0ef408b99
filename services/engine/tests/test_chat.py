import pytest

from sluice_engine.chat import Message, render_chat
from sluice_engine.errors import ValidationError
from sluice_engine.tiny import build_tokenizer


def test_continuation_returns_only_new_turns() -> None:
    tok = build_tokenizer()
    history = [
        Message("user", "hi"),
        Message("assistant", "", '[{"function": {"name": "f", "arguments": "{\\"a\\": 1}"}}]'),
    ]
    full = render_chat(tok, [*history, Message("tool", "42")], add_generation_prompt=True)
    prefix = render_chat(tok, history, add_generation_prompt=False)
    cont = render_chat(
        tok, [*history, Message("tool", "42")], add_generation_prompt=True, continuation=True
    )
    assert cont.text == "<|tool|>42<|end|><|assistant|>"
    assert prefix.token_ids + cont.token_ids == full.token_ids
    assert '"arguments": {"a": 1}' in prefix.text


def test_bad_tool_json_is_invalid() -> None:
    with pytest.raises(ValidationError, match=r"messages\[0\].tool_calls_json"):
        render_chat(build_tokenizer(), [Message("assistant", "", "{nope")], False)
