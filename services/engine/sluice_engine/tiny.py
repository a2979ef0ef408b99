"""A tiny random-init causal LM and a character-level tokenizer, built fully offline."""

from dataclasses import asdict, dataclass
from typing import Any

import torch
from tokenizers import AddedToken, Tokenizer, decoders, models
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

PAD = "<|pad|>"
EOS = "<|eos|>"
END = "<|end|>"
UNK = "<|unk|>"
ROLE_TOKENS = ("<|user|>", "<|assistant|>", "<|system|>", "<|tool|>")
TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
SPECIAL_TOKENS = (PAD, EOS, UNK, *ROLE_TOKENS, END)

# Every character is one token. Letters (both cases), digits, whitespace and punctuation.
CHARACTERS = (
    "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789"
    " \n\t"
    ":,.!?-+=()[]{}\"'/_;<>*#%&@|~`^$\\"
)

# Each message renders as <|role|>content<|end|>; assistant tool calls render as
# <tool_call>{"name": ..., "arguments": ...}</tool_call> after the content. Tools, when
# given, render as a leading system turn. add_generation_prompt appends <|assistant|>.
CHAT_TEMPLATE = (
    "{%- if tools -%}<|system|>{{ tools | tojson }}<|end|>{%- endif -%}"
    "{%- for message in messages -%}"
    "<|{{ message['role'] }}|>"
    "{%- if message['content'] is string -%}{{ message['content'] }}{%- endif -%}"
    "{%- if message.get('tool_calls') -%}{%- for tc in message['tool_calls'] -%}"
    "{%- set fn = tc['function'] if tc.get('function') else tc -%}"
    '<tool_call>{{ {"name": fn.get("name"), "arguments": fn.get("arguments")} | tojson }}'
    "</tool_call>"
    "{%- endfor -%}{%- endif -%}"
    "<|end|>"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


@dataclass(frozen=True)
class TinySpec:
    """Shape of the tiny Llama; defaults give a ~100k-parameter model."""

    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 4
    intermediate_size: int = 128
    max_position_embeddings: int = 2048

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> "TinySpec":
        raw = dict(raw or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown tiny model fields: {sorted(unknown)}")
        return cls(**{k: int(v) for k, v in raw.items()})

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Character-level tokenizer with the chat special tokens and the chat template."""
    vocab: dict[str, int] = {}
    for token in (*SPECIAL_TOKENS, TOOL_CALL_OPEN, TOOL_CALL_CLOSE):
        vocab[token] = len(vocab)
    for ch in CHARACTERS:
        vocab.setdefault(ch, len(vocab))
    # BPE without merges splits each (non-special) span into single characters.
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK))
    backend.decoder = decoders.Fuse()
    backend.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]
    )
    # Tool-call markers are matched atomically but survive skip_special_tokens.
    backend.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t in (TOOL_CALL_OPEN, TOOL_CALL_CLOSE)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=END,
        unk_token=UNK,
        additional_special_tokens=[*ROLE_TOKENS, EOS],
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(
    spec: TinySpec, tokenizer: PreTrainedTokenizerFast, seed: int
) -> LlamaForCausalLM:
    """Random-init Llama whose weights depend only on (spec, vocabulary, seed)."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        intermediate_size=spec.intermediate_size,
        max_position_embeddings=spec.max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.eval()
    return model
