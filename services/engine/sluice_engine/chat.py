"""Chat rendering with the tokenizer's template, including prefix-stable continuations."""

import json
from dataclasses import dataclass
from typing import Any

from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from .errors import PreconditionError, ValidationError


@dataclass(frozen=True)
class Message:
    role: str
    content: str = ""
    tool_calls_json: str = ""
    tool_call_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class Rendered:
    token_ids: list[int]
    text: str


def _parse_json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{field}: invalid JSON: {exc}") from exc


def to_template_message(message: Message, index: int) -> dict[str, Any]:
    """Proto message -> the OpenAI-style dict chat templates expect."""
    if not message.role:
        raise ValidationError(f"messages[{index}].role: must be set")
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls_json:
        calls = _parse_json(message.tool_calls_json, f"messages[{index}].tool_calls_json")
        if not isinstance(calls, list):
            raise ValidationError(f"messages[{index}].tool_calls_json: expected a JSON array")
        for call in calls:
            fn = call.get("function") if isinstance(call, dict) else None
            # OpenAI sends arguments as a JSON string; templates expect an object.
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                try:
                    fn["arguments"] = json.loads(fn["arguments"])
                except json.JSONDecodeError:
                    pass
        out["tool_calls"] = calls
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.name:
        out["name"] = message.name
    return out


def _render_text(
    tokenizer: PreTrainedTokenizerBase,
    messages: list[dict[str, Any]],
    add_generation_prompt: bool,
    tools: list[Any] | None,
) -> str:
    if not messages:
        return ""
    try:
        text = tokenizer.apply_chat_template(
            messages, tools=tools, add_generation_prompt=add_generation_prompt, tokenize=False
        )
    except Exception as exc:  # jinja errors surface as many types
        raise ValidationError(f"messages: chat template failed: {exc}") from exc
    return str(text)


def _encode(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def render_chat(
    tokenizer: PreTrainedTokenizerBase,
    messages: list[Message],
    add_generation_prompt: bool,
    tools_json: str = "",
    continuation: bool = False,
) -> Rendered:
    """Renders messages; with continuation, returns only what follows the prefix.

    The prefix is every message up to and including the last assistant message (the
    tokens the caller already holds from sampling). Both the full conversation and the
    prefix are rendered and tokenised; the prefix tokens must be a prefix of the full
    tokens (else FAILED_PRECONDITION) and the remainder is returned.
    """
    if not messages:
        raise ValidationError("messages: empty")
    tools = None
    if tools_json:
        tools = _parse_json(tools_json, "tools_json")
        if not isinstance(tools, list):
            raise ValidationError("tools_json: expected a JSON array")
    dicts = [to_template_message(m, i) for i, m in enumerate(messages)]
    full_text = _render_text(tokenizer, dicts, add_generation_prompt, tools)
    full_ids = _encode(tokenizer, full_text)
    if not continuation:
        return Rendered(token_ids=full_ids, text=full_text)

    last_assistant = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    if last_assistant < 0:
        return Rendered(token_ids=full_ids, text=full_text)
    prefix_text = _render_text(tokenizer, dicts[: last_assistant + 1], False, tools)
    prefix_ids = _encode(tokenizer, prefix_text)
    if not full_text.startswith(prefix_text) or full_ids[: len(prefix_ids)] != prefix_ids:
        raise PreconditionError(
            f"continuation: rendering of messages[0..{last_assistant}] is not a prefix of "
            "the full rendering"
        )
    return Rendered(token_ids=full_ids[len(prefix_ids) :], text=full_text[len(prefix_text) :])
