"""Chat templates and token boundaries: how the text around a model's turn becomes token ids.

A multi-turn episode is one token sequence that the model continues turn after turn; training
needs it to be two things at once:

* the model's tokens exactly as it sampled them: their sampling log-probs belong to those ids,
  so a model turn is never re-tokenised from its text (a re-encoding may split the same text
  into other tokens, whose log-probs the engine never computed);
* everything else (the prompt, the end of a turn the model did not write, the env's replies) as
  the chat template renders it, masked from the loss, so that what the model reads in training is
  what it read when it sampled, and what a chat server would show it.

The two meet at token boundaries, where tokenizers are not additive: ``encode(a + b)`` need not be
``encode(a) + encode(b)``. A SentencePiece-style tokenizer starts a string with a space (``"▁"``)
that the same text in the middle of a sequence does not get; a BPE merge may join the model's last
token with the first characters of the env's reply; a template may write ``"<|im_end|>\\n"``
after a turn whose ``<|im_end|>`` the model already sampled. So a segment is encoded in the context
of the ids before it (:func:`encode_after`), a sampled turn is decoded in the context of the ids
before it (:func:`decode_after`), and only the part of the template's end-of-turn text the model
did not sample is added (:func:`end_of_turn_text`, :func:`unsampled_part`). Where no ids can make
the sequence the template's rendering, the caller flags the trajectory ``template_mismatch``
rather than altering the model's tokens. :mod:`.rollout` uses these; they are plain functions of
a Hugging Face tokenizer and the texts and ids they name.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rlvr.trainers.engine import added_vocab

__all__ = ["render", "encode", "with_string_content", "encode_segment", "encode_after", "decode_after",
           "end_of_turn_text", "after_model_turn", "unsampled_part", "splits_token", "CONTEXT_TOKENS", "DECODE_CONTEXT"]


def render(tokenizer: Any, messages: list[dict[str, Any]], *, generation_prompt: bool, tools: Any = None) -> str:
    """The chat template's text of ``messages`` (with ``tools`` when any, and the generation prompt
    when ``generation_prompt``)."""
    from rlvr.trainers.hf_chat import template_messages

    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": generation_prompt}
    if tools:
        kwargs["tools"] = tools
    # tool calls' arguments as dicts, as templates render them (messages carry JSON strings)
    return tokenizer.apply_chat_template(template_messages(messages), **kwargs)


def encode(tokenizer: Any, text: str) -> list[int]:
    """``text``'s ids as the start of a string, without the special tokens ``encode`` may add (BOS)."""
    if not text:
        return []
    return list(tokenizer.encode(text, add_special_tokens=False))


def with_string_content(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as a chat template expects them (content always a string)."""
    out = []
    for m in messages:
        m = dict(m)
        if m.get("content") is None:
            m["content"] = ""
        out.append(m)
    return out


#: how many of the last token ids at most are decoded as the context a segment is encoded after
CONTEXT_TOKENS = 256


def encode_segment(tokenizer: Any, text: str, added: Mapping[str, int] | None = None) -> list[int]:
    """``text``'s ids as the tokenizer encodes it right after a special token (a segment of a longer
    string, not the start of one).

    Not ``encode(text)``: SentencePiece-style tokenizers mark the start of a string. A
    ``Metaspace(prepend_scheme="first")`` pre-tokenizer (Llama-2 / Mistral fast tokenizers built with
    ``legacy=False``) prepends ``"▁"`` (a space) to the first segment of a string only, so ``"\\n"``
    encoded on its own is ``["▁", "\\n"]`` but ``["\\n"]`` after ``<|im_end|>``. So the text is encoded
    after one of the tokenizer's special tokens, whose id is then dropped (after checking it is there);
    a tokenizer without any special token encodes ``text`` as it is. ``added``: the tokenizer's
    :func:`~rlvr.trainers.engine.added_vocab`, when already read."""
    if not text:
        return []
    added = added_vocab(tokenizer) if added is None else added
    eos = getattr(tokenizer, "eos_token", None)
    names = [eos] if isinstance(eos, str) and eos in added else []
    names += [t for t in getattr(tokenizer, "all_special_tokens", ()) if t in added]
    for name in names:
        ids = encode(tokenizer, name + text)
        if ids and ids[0] == int(added[name]):
            return ids[1:]
    return encode(tokenizer, text)


def encode_after(tokenizer: Any, before: Sequence[int], text: str, added: Mapping[str, int]) -> tuple[list[int], bool]:
    """The ids of ``text`` as the tokenizer encodes it right after the token ids ``before`` (the
    episode so far), and whether they are exactly that.

    A segment in the middle of a sequence is not tokenised as a string on its own (see
    :func:`encode_segment`: SentencePiece-style tokenizers would start it with a space), nor always
    independently of the text before it (a BPE merge may span the boundary). So ``text`` is encoded
    in its context: ``ctx``, the decoded ids since the last special token of ``before`` (where the
    tokenizer splits its input; the last :data:`CONTEXT_TOKENS` ids at most), must encode to a
    prefix of ``ctx + text``, and the rest is ``text``'s ids. Usually ``before`` ends with a special
    token (the model's EOS) and that is all the context there is. When the canonical encoding of
    ``ctx + text`` re-tokenises the end of ``ctx`` (the model's last token and the segment's first
    characters are one token there), no ids of ``text`` can make the sequence the canonical one: the
    segment is encoded as after a special token (:func:`encode_segment`) and False is returned.
    ``added``: the tokenizer's :func:`~rlvr.trainers.engine.added_vocab` (the tokens it splits its
    input at)."""
    if not text:
        return [], True
    if not before:
        return encode(tokenizer, text), True  # the start of the string: encoded as such
    boundaries = set(added.values())
    start = max(0, len(before) - CONTEXT_TOKENS)
    for i in range(len(before) - 1, start - 1, -1):
        if int(before[i]) in boundaries:
            start = i
            break
    ctx = tokenizer.decode([int(t) for t in before[start:]], skip_special_tokens=False, clean_up_tokenization_spaces=False)
    head = encode(tokenizer, ctx)
    both = encode(tokenizer, ctx + text)
    if both[: len(head)] == head:
        return both[len(head) :], True
    return encode_segment(tokenizer, text, added), False


#: How many of the ids before a turn `decode_after` decodes it after.
DECODE_CONTEXT = 4


def decode_after(tokenizer: Any, before: Sequence[int], ids: Sequence[int]) -> str:
    """The text ``ids`` stand for right after the token ids ``before``: decoded after the last
    `DECODE_CONTEXT` of them, less their own text. Decoded alone, a SentencePiece-style tokenizer drops the space its
    first token starts with (``▁hi`` reads "hi" at the start of a string, " hi" after other text).
    When the decoding of ``before``'s tail is not a prefix of the joint one, ``ids`` alone."""
    tail = [int(t) for t in before[-DECODE_CONTEXT:]]
    ids = [int(t) for t in ids]
    if tail:
        head = tokenizer.decode(tail, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        both = tokenizer.decode(tail + ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        if both.startswith(head):
            return both[len(head) :]
    return tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


#: stands for an assistant message's content when asking a template what it writes after the content
_CONTENT_SENTINEL = "RLVR-CONTENT-SENTINEL-7Q2"


def _sentinel_turn(message: dict[str, Any]) -> dict[str, Any]:
    """The assistant `message` with `_CONTENT_SENTINEL` as its content and without tool calls
    (which the model wrote in its own tokens)."""
    return {**{k: v for k, v in message.items() if k != "tool_calls"}, "content": _CONTENT_SENTINEL}


def end_of_turn_text(tokenizer: Any, messages: list[dict[str, Any]], index: int, tools: Any = None) -> str:
    """What the chat template writes after the content of the assistant message ``messages[index]``
    (``"<|im_end|>\\n"`` for ChatML, ``"<|eot_id|>"`` for Llama-3).

    The message is rendered with a sentinel as its content (and without tool calls, which the model
    wrote in its own tokens) and the text after the sentinel is taken. Why not count the content's
    characters: templates need not copy content verbatim (Llama-3's trims it, Qwen3's rewrites
    ``<think>`` blocks)."""
    text = render(tokenizer, messages[:index] + [_sentinel_turn(messages[index])], generation_prompt=False, tools=tools)
    at = text.rfind(_CONTENT_SENTINEL)
    if at < 0:
        raise RuntimeError(
            "the chat template does not render an assistant message's content, so the end of a model turn "
            "cannot be found; multi-turn token-in/token-out needs a template that does (or chat_template=False)"
        )
    return text[at + len(_CONTENT_SENTINEL) :]


def after_model_turn(tokenizer: Any, messages: list[dict[str, Any]], index: int, marker: str, tools: Any = None) -> str:
    """What the chat template writes after the assistant message ``messages[index]`` and its
    end-of-turn ``marker`` when the rest of ``messages`` follows (the env's reply and the next
    generation prompt): the conversation is rendered with a sentinel as that message's content."""
    probe = _sentinel_turn(messages[index])
    text = render(tokenizer, [*messages[:index], probe, *messages[index + 1 :]], generation_prompt=True, tools=tools)
    at = text.find(_CONTENT_SENTINEL)
    after = text[at + len(_CONTENT_SENTINEL) :] if at >= 0 else ""
    if at < 0 or not after.startswith(marker):
        raise RuntimeError(
            "the chat template renders a model turn differently once messages follow it, and its end could "
            "not be found; multi-turn token-in/token-out needs a template that ends every assistant message "
            "with the same marker (or chat_template=False)"
        )
    return after[len(marker) :]


def unsampled_part(tokenizer: Any, marker: str, sampled_ids: Sequence[int], added: Mapping[str, int] | None = None) -> str:
    """The part of the end-of-turn ``marker`` the model did not sample itself.

    A turn that stopped on its end-of-turn token (``<|im_end|>``) already holds the start of the
    marker: only the rest (``"\\n"``) is added, never the marker twice. Matched on whole tokens: the
    marker's first ``j`` token ids must be the turn's last ``j`` sampled ids, so a literal ``"<"`` the
    model wrote is not taken for the start of ``"<|im_end|>"``."""
    marker_ids = encode_segment(tokenizer, marker, added)  # it follows the model's tokens: not a string's start
    sampled = [int(t) for t in sampled_ids]
    for j in range(min(len(marker_ids), len(sampled)), 0, -1):
        if sampled[-j:] == marker_ids[:j]:
            head = tokenizer.decode(marker_ids[:j], skip_special_tokens=False, clean_up_tokenization_spaces=False)
            if marker.startswith(head):
                return marker[len(head) :]
    return marker


def splits_token(text: str, at: int, tokens: Sequence[str]) -> bool:
    """Whether position ``at`` of ``text`` falls inside an occurrence of one of ``tokens`` (the
    tokenizer's special / added tokens): a model turn that ends with ``"<"`` has not produced the first
    character of the ``"<|im_end|>"`` that follows it in the rendered text."""
    # an occurrence that starts in [at - len + 1, at) and so ends after ``at``
    return any(text.find(t, max(0, at - len(t) + 1), at + len(t) - 1) != -1 for t in tokens)
