"""Audit 24: env replies tokenised in context, per-episode tools for chat-level engines, and the hf
engine's prefill computing the last position's logits only.

The tokenizers are built locally with the `tokenizers` library in the shapes of real ones: a
SentencePiece-style one with ``Metaspace(prepend_scheme="first")`` (transformers' LlamaConverter
with ``legacy=False``: Llama-2 / Mistral fast tokenizers), a legacy SentencePiece one (a normalizer
that prepends "▁" to every segment), a byte-level BPE trained here (Qwen / Llama-3 style), and one
with a "\\n\\n" token under a plain-text chat template.
"""

from __future__ import annotations

import string

import pytest

from rlvr.envs.base import TextEnv, Turn
from rlvr.envs.tasks import ListSource, Task
from rlvr.trainers.engine import Engine, Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.rollout import collect_rollouts
from rlvr.trainers.tiny import CHAT_TEMPLATES, build_tiny_model, build_tiny_tokenizer

SPECIALS = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"]
CHARS = list(dict.fromkeys(string.digits + string.ascii_letters + string.punctuation + "\n\t▁"))


def _fast(tk, template=CHAT_TEMPLATES["chatml"], eos="<|im_end|>"):
    from transformers import PreTrainedTokenizerFast

    tk.add_special_tokens(SPECIALS)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", unk_token="<unk>", eos_token=eos,
                                  clean_up_tokenization_spaces=False)
    tok.chat_template = template
    return tok


def metaspace_tokenizer():
    """Char-level, pre-tokenised by Metaspace(prepend_scheme="first"): only the start of a string gets "▁"."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    tk = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(SPECIALS + CHARS)}, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated"),
    ])
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    return _fast(tk)


def legacy_sentencepiece_tokenizer():
    """Char-level with LlamaConverter's legacy normalizer: every segment between special tokens gets "▁"."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    tk = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(SPECIALS + CHARS)}, unk_token="<unk>"))
    tk.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tk.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tk.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    return _fast(tk)


def bytelevel_bpe_tokenizer():
    """A byte-level BPE trained here, pre-tokenised as Qwen2's (regex split, then bytes)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tk = Tokenizer(models.BPE())
    qwen = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
            r"|\s+(?!\S)|\s+")
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(qwen), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tk.decoder = decoders.ByteLevel()
    corpus = ["system\nsys", "user\nSay something.", "assistant\nhi", "user\nfb", "Say something to the user, hi fb."] * 20
    tk.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIALS,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return _fast(tk)


PLAIN_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\n\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
)


def newline_pair_tokenizer():
    """Char-level plus a "\\n\\n" token, under a plain-text template (no special tokens between turns)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    tk = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(SPECIALS + ["\n\n", " "] + CHARS)}, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Split(Regex(r"\n\n|[\s\S]"), behavior="isolated")
    tk.decoder = decoders.Fuse()
    return _fast(tk, PLAIN_TEMPLATE)


TOKENIZERS = {
    "metaspace-first": metaspace_tokenizer,
    "legacy-sentencepiece": legacy_sentencepiece_tokenizer,
    "bytelevel-bpe": bytelevel_bpe_tokenizer,
    "tiny-chatml": lambda: build_tiny_tokenizer("chatml"),
    "tiny-llama3": lambda: build_tiny_tokenizer("llama3"),
}


class FeedbackEnv(TextEnv):
    """Answers every model turn with the user message "fb"; truncated after two turns."""

    env_name = "Feedback"

    def __init__(self):
        super().__init__(ListSource([Task("t0", "Say something.", "x")], {"name": "feedback"}), max_turns=2,
                         system_prompt="sys")

    def respond(self, task, content, tool_calls):
        return Turn(observation="fb", messages=[{"role": "user", "content": "fb"}])


class FixedTurnEngine(Engine):
    """Samples the same exact ids (with their finish reason and text) at every turn."""

    def __init__(self, ids, finish="stop", text="hi"):
        self.ids, self.finish, self.text = list(ids), finish, text

    def generate(self, prompts, n, sampling):
        return [[Sample(list(self.ids), [-0.5] * len(self.ids), self.finish, self.text) for _ in range(n)] for _ in prompts]

    def load_weights(self, weights):
        pass


def _enc(tok, text):
    return tok.encode(text, add_special_tokens=False)


def _rendered_turn_ids(tok, content):
    """The ids the chat template's rendering has for an assistant turn `content` after the opening
    prompt, through its end-of-turn token (what a model that samples the rendering produces)."""
    opening = [{"role": "system", "content": "sys"}, {"role": "user", "content": "Say something."}]
    prompt = _enc(tok, tok.apply_chat_template(opening, tokenize=False, add_generation_prompt=True))
    full = _enc(tok, tok.apply_chat_template(opening + [{"role": "assistant", "content": content}], tokenize=False))
    assert full[: len(prompt)] == prompt
    turn = full[len(prompt) :]
    return turn[: turn.index(tok.eos_token_id) + 1]


# ---- 1. env replies are tokenised in context ----------------------------------------------------


@pytest.mark.parametrize("kind", list(TOKENIZERS))
def test_env_reply_tokens_equal_the_template_rendering_for_every_tokenizer_kind(kind):
    """With Metaspace(prepend_scheme="first") a reply encoded on its own started with a "▁" (a space)
    that the rendering does not have after <|im_end|>; the episode must be the rendering's tokens."""
    tok = TOKENIZERS[kind]()
    [[tr]] = collect_rollouts(FixedTurnEngine(_rendered_turn_ids(tok, "hi")), FeedbackEnv, tok,
                              SamplingParams(max_new_tokens=20), tasks=[0], n=1)
    assert [m["role"] for m in tr.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    expected = _enc(tok, tok.apply_chat_template(tr.messages[:5], tokenize=False))
    assert tr.token_ids == expected[: len(tr.token_ids)], (tok.convert_ids_to_tokens(tr.token_ids),
                                                          tok.convert_ids_to_tokens(expected))
    # all but the template's "\n" after the final EOS (legacy SentencePiece: "▁" + "\n")
    assert tok.decode(expected[len(tr.token_ids) :], skip_special_tokens=False).strip(" \n") == ""
    assert tr.template_mismatch is False


def test_metaspace_env_reply_has_no_leading_space_token():
    tok = metaspace_tokenizer()
    [[tr]] = collect_rollouts(FixedTurnEngine(_rendered_turn_ids(tok, "hi")), FeedbackEnv, tok,
                              SamplingParams(max_new_tokens=20), tasks=[0], n=1)
    reply = tr.token_ids[tr.turn_ends[0] + 1 : tr.turn_ends[1] + 1 - len(_rendered_turn_ids(tok, "hi"))]
    assert tok.convert_ids_to_tokens(reply)[:3] == ["\n", "<|im_start|>", "u"]
    assert "▁" not in tok.convert_ids_to_tokens(reply)


def test_raw_text_observation_is_tokenised_as_it_follows_the_model_turn():
    """Raw-text mode: "fb" after the model's EOS is ["f", "b"], not ["▁", "f", "b"] (" fb")."""
    tok = metaspace_tokenizer()
    turn = tok.convert_tokens_to_ids(["h", "i", "<|im_end|>"])
    [[tr]] = collect_rollouts(FixedTurnEngine(turn), FeedbackEnv, tok, SamplingParams(max_new_tokens=20), tasks=[0], n=1,
                              chat_template=False)
    reply = tr.token_ids[tr.turn_ends[0] + 1 : tr.turn_ends[1] + 1 - len(turn)]
    assert tok.convert_ids_to_tokens(reply) == ["f", "b"]
    whole = tok.decode(tr.token_ids, skip_special_tokens=False)
    assert whole.endswith("Say something.hi<|im_end|>fbhi<|im_end|>")
    assert tr.loss_mask[tr.turn_ends[0] + 1 : tr.turn_ends[0] + 1 + len(reply)] == [0, 0]


def test_reply_that_cannot_continue_the_model_tokens_as_rendered_is_flagged():
    """A plain-text template writes "\\n\\n" after a turn the model cut off after "hi\\n": the rendering
    has "\\n\\n" + "\\n" where the model sampled "\\n", so no reply ids can give the rendering's tokens."""
    tok = newline_pair_tokenizer()
    turn = _enc(tok, "hi\n")
    assert tok.convert_ids_to_tokens(turn) == ["h", "i", "\n"]
    [[tr]] = collect_rollouts(FixedTurnEngine(turn, "length", "hi\n"), FeedbackEnv, tok, SamplingParams(max_new_tokens=3),
                              tasks=[0], n=1)
    expected = _enc(tok, tok.apply_chat_template(tr.messages[:5], tokenize=False))
    assert tr.token_ids != expected[: len(tr.token_ids)]  # the case really cannot hold...
    assert tr.template_mismatch is True  # ...and the episode says so
    # the reply's text is still the template's: what the model sees is the conversation
    assert tok.decode(tr.token_ids, skip_special_tokens=False) == tok.decode(expected, skip_special_tokens=False)[
        : len(tok.decode(tr.token_ids, skip_special_tokens=False))]


def test_plain_template_reply_after_a_clean_boundary_is_not_flagged():
    tok = newline_pair_tokenizer()
    turn = _enc(tok, "hi")
    [[tr]] = collect_rollouts(FixedTurnEngine(turn, "length", "hi"), FeedbackEnv, tok, SamplingParams(max_new_tokens=2),
                              tasks=[0], n=1)
    expected = _enc(tok, tok.apply_chat_template(tr.messages[:5], tokenize=False))
    assert tr.token_ids == expected[: len(tr.token_ids)]
    assert tr.template_mismatch is False


# ---- 3. chat-level engines get each episode's own tools -----------------------------------------


def _schema(name):
    return {"type": "function", "function": {"name": name, "description": name, "parameters": {"type": "object", "properties": {}}}}


class PerTaskToolsEnv(TextEnv):
    """Task "a" offers tool_a, "b" tool_b, "c" no tools; one turn."""

    env_name = "PerTaskTools"

    def __init__(self):
        tasks = [Task("a", "Use tool_a.", "x"), Task("b", "Use tool_b.", "x"), Task("c", "Use nothing.", "x")]
        super().__init__(ListSource(tasks, {"name": "ptt"}), max_turns=1)

    def reset_details(self):
        return {"tools": [_schema("tool_" + self.task.id)]} if self.task.id != "c" else {}

    def respond(self, task, content, tool_calls):
        return Turn(done=True)


class ToolRecordingChatEngine:
    """A chat-level engine whose reply names the prompt it answered and the tools it was given."""

    def __init__(self):
        self.calls = []

    def generate_chat(self, conversations, n, sampling, tools=None):
        names = [t["function"]["name"] for t in tools or []]
        self.calls.append((len(conversations), names, sampling.seed))
        return [[Sample([], [], "stop", f"{c[-1]['content']}|{','.join(names)}|{j}") for j in range(n)] for c in conversations]


@pytest.mark.parametrize("n", [1, 2])
def test_chat_level_engine_gets_each_episodes_own_tools_in_order(n):
    engine = ToolRecordingChatEngine()
    groups = collect_rollouts(engine, PerTaskToolsEnv, None, SamplingParams(seed=7), tasks=[0, 1, 0, 2], n=n)
    prompts = {"a": "Use tool_a.", "b": "Use tool_b.", "c": "Use nothing."}
    tools = {"a": "tool_a", "b": "tool_b", "c": ""}
    assert [g[0].task_id for g in groups] == ["a", "b", "a", "c"]
    for group in groups:
        for j, tr in enumerate(group):
            prompt, given, sample = tr.completion.split("|")
            assert (prompt, given) == (prompts[tr.task_id], tools[tr.task_id])
            assert int(sample) == (j if n > 1 else 0)
    # one call per distinct tool list, in order of first appearance; the seeds keep conversations apart
    assert [(count, names) for count, names, _ in engine.calls] == [(2, ["tool_a"]), (1, ["tool_b"]), (1, [])]
    assert [seed for _, _, seed in engine.calls] == [7, 7 + 2 * n, 7 + 3 * n]


def test_chat_level_engine_with_one_tool_list_is_called_once():
    engine = ToolRecordingChatEngine()
    collect_rollouts(engine, PerTaskToolsEnv, None, SamplingParams(seed=3), tasks=[0, 0, 0], n=2)
    assert engine.calls == [(3, ["tool_a"], 3)]


# ---- 2. the hf engine's prefill keeps the last position's logits only ----------------------------


def test_prefill_computes_the_last_positions_logits_only():
    tok = build_tiny_tokenizer()
    model = build_tiny_model(tok)
    positions = []
    model.lm_head.register_forward_hook(lambda module, args, out: positions.append(tuple(out.shape[:2])))
    engine = HFEngine(model, tok)
    prompts = [_enc(tok, "x" * length) for length in (30, 20, 10)]
    out = engine.generate(prompts, 2, SamplingParams(max_new_tokens=3, seed=0))
    assert [len(g) for g in out] == [2, 2, 2]
    assert positions[0] == (3, 1)  # the prefill: one position per distinct prompt, not 30
    assert all(seq == 1 for _, seq in positions)


def _no_logits_to_keep_model(tok, reference):
    """A real tiny Llama whose forward has no ``logits_to_keep`` (as older or custom models), with
    the weights of ``reference``; records the keyword arguments each forward is asked with."""
    from transformers import LlamaForCausalLM

    class NoLogitsToKeep(LlamaForCausalLM):
        def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, use_cache=None):
            return super().forward(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                                   past_key_values=past_key_values, use_cache=use_cache)

    model = NoLogitsToKeep(reference.config)
    model.load_state_dict(reference.state_dict())
    model.generation_config = reference.generation_config
    asked = []
    model.register_forward_pre_hook(lambda module, args, kwargs: asked.append(sorted(kwargs)), with_kwargs=True)
    return model, asked


def test_model_without_logits_to_keep_is_asked_once_and_samples_the_same():
    tok = build_tiny_tokenizer()
    reference = build_tiny_model(tok)
    model, asked = _no_logits_to_keep_model(tok, reference)
    prompts = [_enc(tok, "1+2="), _enc(tok, "34*5=")]
    sampling = SamplingParams(max_new_tokens=5, seed=11)
    engine = HFEngine(model, tok)
    first = engine.generate(prompts, 2, sampling)
    again = engine.generate(prompts, 2, sampling)
    assert sum("logits_to_keep" in kw for kw in asked) == 1  # tried once, then remembered
    assert len(asked) > 2
    expected = HFEngine(reference, tok).generate(prompts, 2, sampling)
    for got in (first, again):
        for g, e in zip(got, expected):
            for s, t in zip(g, e):
                assert s.token_ids == t.token_ids
                assert s.logprobs == pytest.approx(t.logprobs, abs=1e-5)
