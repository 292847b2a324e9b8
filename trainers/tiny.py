"""A tiny tokenizer and causal LM built locally, for tests and the CPU demo (no hub downloads).

The tokenizer is character-level over printable ASCII plus a few whole-word tokens (chat roles and
common answer words) and the special tokens of two chat formats, so both a ChatML/Qwen-style and a
Llama-3-style chat template can be rendered with it. The model is a randomly initialised Llama-style
decoder (a few layers, hidden size 64 by default) sized to that vocabulary.
"""

from __future__ import annotations

import string
from typing import Literal

import torch

__all__ = [
    "SPECIAL_TOKENS",
    "WORDS",
    "CHAT_TEMPLATES",
    "build_tiny_tokenizer",
    "build_tiny_model",
]

PAD, UNK = "<pad>", "<unk>"
CHATML_SPECIALS = ("<|im_start|>", "<|im_end|>")
LLAMA3_SPECIALS = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, *CHATML_SPECIALS, *LLAMA3_SPECIALS)

#: Whole-word tokens (matched before single characters; the longest word wins).
WORDS: tuple[str, ...] = (
    "assistant",
    "system",
    "user",
    "Answer",
    "answer",
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "\\boxed",
)

CHARS: tuple[str, ...] = tuple(dict.fromkeys(string.digits + string.ascii_letters + string.punctuation + " \n\t"))

CHAT_TEMPLATES: dict[str, str] = {
    # ChatML as used by Qwen: <|im_start|>role\ncontent<|im_end|>\n; an assistant's tool calls follow
    # its content as Hermes blocks, <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>
    "chatml": (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] }}"
        "{% for call in message.get('tool_calls') or [] %}"
        "{% set function = call['function'] if call['function'] is defined else call %}"
        "{{ '\n<tool_call>\n' + {'name': function['name'], 'arguments': function['arguments']} | tojson + '\n</tool_call>' }}"
        "{% endfor %}"
        "{{ '<|im_end|>' + '\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
    # Llama 3: <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
    "llama3": (
        "{{ '<|begin_of_text|>' }}"
        "{% for message in messages %}"
        "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
    ),
}

_EOS = {"chatml": "<|im_end|>", "llama3": "<|eot_id|>"}
_BOS = {"chatml": None, "llama3": "<|begin_of_text|>"}


def build_tiny_tokenizer(chat_template: Literal["chatml", "llama3"] = "chatml"):
    """A ``PreTrainedTokenizerFast`` with a char-level vocabulary, whole-word tokens and a chat template.

    ``chat_template`` picks the format ("chatml" or "llama3"), which also sets EOS (``<|im_end|>`` /
    ``<|eot_id|>``). Decoding concatenates tokens without spaces, so ``decode(encode(text)) == text``
    for any printable-ASCII text. Characters outside the vocabulary map to ``<unk>``.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    if chat_template not in CHAT_TEMPLATES:
        raise ValueError(f"unknown chat_template {chat_template!r}; choose one of {sorted(CHAT_TEMPLATES)}")
    vocab: dict[str, int] = {}
    for tok in (*SPECIAL_TOKENS, *WORDS, *CHARS):
        vocab.setdefault(tok, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    words = sorted(WORDS, key=len, reverse=True)
    pattern = "|".join(_regex_escape(w) for w in words) + r"|[\s\S]"
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    bos = _BOS[chat_template]
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        unk_token=UNK,
        eos_token=_EOS[chat_template],
        bos_token=bos,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=4096,
    )
    hf.chat_template = CHAT_TEMPLATES[chat_template]
    return hf


def _regex_escape(word: str) -> str:
    return "".join("\\" + c if not c.isalnum() else c for c in word)


def build_tiny_model(
    tokenizer,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 1024,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
):
    """A randomly initialised Llama-style ``LlamaForCausalLM`` for ``tokenizer`` (seeded, reproducible).

    Embeddings are tied to the output layer; EOS / PAD / BOS ids come from the tokenizer and are also
    written to the model's generation config.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    if hidden_size % num_heads or num_heads % num_kv_heads:
        raise ValueError(
            f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads}) and num_heads by "
            f"num_kv_heads ({num_kv_heads})"
        )
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 4 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        rms_norm_eps=1e-6,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model = model.to(dtype)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model
