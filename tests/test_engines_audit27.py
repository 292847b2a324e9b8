"""Engine defects found by the 27th review, each checked against the real part.

- a stop string that is an added but not special token (Qwen's ``</tool_call>``) stopped as a stop
  token: no ``stop_reason``, so ``rlvr serve`` reported none and a chat-level ToolMath rollout saw
  an unclosed call. Only special tokens stop on their ids now.
- a chat-level multi-turn episode that outgrew the model's context failed the whole call with the
  server's 400; it now ends truncated, as a token-level one does (a first prompt too long stays an error).
- vllm engine: greedy with n > 1 (refused by vLLM) asks for one sample and repeats it; an int
  ``stop_reason`` (a special-token stop string vLLM matched by id) is mapped back to the string.
- ``rlvr serve`` refused prompt + max_tokens over the context, so a chat-level episode ended
  truncated while its reply still fitted; it caps max_tokens to the room left, as vLLM's server does.
- after a context refusal the call's conversations were re-sent one at a time; the call is halved.

HTTP runs against a real ``rlvr serve`` (ChatCompletionServer) on 127.0.0.1; vLLM is not installed
here, so its checks use the stand-in outputs of tests/test_engine_vllm.py's pattern.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest
import torch

from rlvr.commands.serve import ChatCompletionServer
from rlvr.trainers.engine import SamplingParams, special_vocab
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.openai_engine import ContextLengthExceededError, OpenAIEngine, RequestRejectedError, context_exceeded
from rlvr.trainers.rollout import PromptTooLongError, RolloutCollector
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from rlvr.trainers.vllm_engine import samples_from_request_outputs, to_vllm_kwargs

TOOL_CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "12*5"}}'


class _Scripted(torch.nn.Module):
    """The tiny model, made to write a script token by token (greedy); ``script(prompt_text)`` picks
    it. A None entry is sampled freely (so it depends on the seed)."""

    def __init__(self, inner, tok, script):
        super().__init__()
        self.inner, self.tok, self.script = inner, tok, script
        self.config, self.generation_config = inner.config, inner.generation_config

    def get_input_embeddings(self):
        return self.inner.get_input_embeddings()

    def forward(self, *args, **kwargs):
        if kwargs.get("past_key_values") is None:
            self.start = kwargs["input_ids"].shape[1]
            self.ids = self.script(self.tok.decode(kwargs["input_ids"][0].tolist()))
        out = self.inner(*args, **kwargs)
        forced = self.ids[min(kwargs["attention_mask"].shape[1] - self.start, len(self.ids) - 1)]
        if forced is not None:
            out.logits = out.logits.clone()
            out.logits[:, -1, forced] += 100.0
        return out


def _qwen_like_tokenizer():
    tok = build_tiny_tokenizer("chatml")
    tok.add_tokens(["<tool_call>", "</tool_call>"])  # added, not special (Qwen2.5 / Qwen3)
    return tok


def _tool_math_model(tok, context=4096):
    """Calls the calculator first, then answers with what it said."""
    call = tok.encode(TOOL_CALL + "</tool_call>", add_special_tokens=False) + tok.encode("zzzz", add_special_tokens=False)
    right = tok.encode("\\boxed{60}", add_special_tokens=False) + [tok.eos_token_id]
    wrong = tok.encode("\\boxed{?}", add_special_tokens=False) + [tok.eos_token_id]

    def script(prompt):
        if "<|im_start|>tool" not in prompt:
            return call
        return right if "tool\n60" in prompt else wrong

    return _Scripted(build_tiny_model(tok, seed=0, max_position_embeddings=context), tok, script)


# ---- 1. an added, non-special stop token ----------------------------------------------------------


def test_an_added_token_that_is_text_stops_as_a_stop_string_with_its_stop_reason():
    """The hf engine stopped on `</tool_call>`'s id, cut it from the text and reported nothing."""
    tok = _qwen_like_tokenizer()
    assert "</tool_call>" not in special_vocab(tok) and "<|im_end|>" in special_vocab(tok)
    model = _tool_math_model(tok)
    prompt = tok.encode("<|im_start|>user\nadd<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False)
    [[s]] = HFEngine(model, tok).generate([prompt], 1, SamplingParams(temperature=0, max_new_tokens=200, stop=["</tool_call>"]))
    assert s.finish_reason == "stop" and s.meta["stop_reason"] == "</tool_call>"
    assert s.text == TOOL_CALL
    assert s.token_ids == tok.encode(TOOL_CALL + "</tool_call>", add_special_tokens=False)  # the ids sampled, stop token kept


def test_a_special_token_stop_string_is_named_but_never_put_back_into_the_text():
    """A special token given as a stop string stops on its id (as before) and is reported as the
    stop string, as the vllm engine now reports it; it is not text, so a rollout does not add it to
    the turn and `rlvr serve` does not report it for a client to add."""
    tok = build_tiny_tokenizer("chatml")
    eot = tok.convert_tokens_to_ids("<|eot_id|>")
    model = _Scripted(build_tiny_model(tok, seed=0), tok, lambda _: tok.encode("hi", add_special_tokens=False) + [eot])
    engine = HFChatEngine(model, tok)
    sampling = SamplingParams(temperature=0, max_new_tokens=20, stop=["<|eot_id|>"])
    [[s]] = engine.generate([tok.encode("x", add_special_tokens=False)], 1, sampling)
    assert s.token_ids[-1] == eot and s.text == "hi" and s.meta["stop_reason"] == "<|eot_id|>"
    collector = RolloutCollector(engine, "rlvr/Arithmetic-v0", tok)
    collector._stop_strings = sampling.stop
    assert collector._with_stop_string(s) == "hi"
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        answer = srv.chat_completion({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0,
                                      "max_tokens": 20, "stop": ["<|eot_id|>"]})
    assert answer["choices"][0]["message"]["content"] == "hi" and answer["choices"][0]["stop_reason"] is None


def test_chat_level_rollout_through_rlvr_serve_closes_a_call_ended_by_an_added_stop_token():
    """serve_tool_stop.py: with `</tool_call>` an added token, rlvr serve reported no stop_reason, the
    env saw an unclosed call and a right answer scored 0.0 (1.1 with a plain tokenizer)."""
    tok = _qwen_like_tokenizer()
    with ChatCompletionServer(HFChatEngine(_tool_math_model(tok), tok), "m", "127.0.0.1", 0) as srv:
        collector = RolloutCollector(OpenAIEngine(srv.url), "rlvr/ToolMath-v0", None, env_kwargs={"max_turns": 3})
        [[tr]] = collector.collect([0], 1, SamplingParams(temperature=0, max_new_tokens=200, stop=["</tool_call>"]))
        collector.close()
    assert tr.turn_texts[0] == TOOL_CALL + "</tool_call>"
    assert tr.messages[-2]["role"] == "tool" and tr.messages[-2]["content"] == "60"
    assert tr.correct and tr.total_reward == pytest.approx(1.1)


# ---- 2. a chat-level episode that outgrows the context --------------------------------------------


def _calculator_forever(tok, context):
    call = tok.encode(TOOL_CALL + "</tool_call>", add_special_tokens=False) + [tok.eos_token_id]
    return _Scripted(build_tiny_model(tok, seed=0, max_position_embeddings=context), tok, lambda _: call)


def test_a_chat_level_episode_that_outgrows_the_context_ends_truncated_as_a_token_level_one():
    """chat_level_context.py: the server's 400 for the third turn took the whole call down."""
    tok = build_tiny_tokenizer("chatml")
    engine = HFChatEngine(_calculator_forever(tok, 1335), tok)
    sampling = SamplingParams(temperature=0, max_new_tokens=100, seed=0)
    token_level = RolloutCollector(engine, "rlvr/ToolMath-v0", tok, env_kwargs={"max_turns": 5}).collect([0, 1], 1, sampling)
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        collector = RolloutCollector(OpenAIEngine(srv.url), "rlvr/ToolMath-v0", None, env_kwargs={"max_turns": 5})
        # two episodes in one call: the refusal of one must not end the other before its time
        chat_level = collector.collect([0, 1], 1, sampling)
    # rlvr serve caps max_tokens to the room left, as the token-level path caps each turn: same episodes
    for [tl], [tr] in zip(token_level, chat_level):
        assert tr.valid and tr.turn_texts == tl.turn_texts
        assert (tr.num_turns, tr.episode_truncated, tr.total_reward) == (tl.num_turns, tl.episode_truncated, tl.total_reward)
    [[tr]] = chat_level[:1]
    assert tr.episode_truncated and tr.num_turns == 3  # the fourth turn's prompt fills the context
    assert tr.messages[-1]["role"] == "tool"  # the env's last reply stays in the messages


def test_a_first_prompt_longer_than_the_context_stays_an_error():
    tok = build_tiny_tokenizer("chatml")
    engine = HFChatEngine(_calculator_forever(tok, 120), tok)
    sampling = SamplingParams(temperature=0, max_new_tokens=10)
    with pytest.raises(ValueError, match="shorten"):  # token level: the prompt leaves no room
        RolloutCollector(engine, "rlvr/ToolMath-v0", tok).collect([0], 1, sampling)
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        collector = RolloutCollector(OpenAIEngine(srv.url), "rlvr/ToolMath-v0", None)
        with pytest.raises(PromptTooLongError, match="context") as refused:  # the settings or data must change
            collector.collect([0], 1, sampling)
        assert refused.value.positions == [0]


@pytest.mark.parametrize("status, error, exceeded", [
    (400, {"message": "the prompt (1209 tokens) plus max_tokens (100) exceeds the model's context of 1300 tokens; "
                      "shorten 'messages' or lower 'max_tokens'", "code": None}, True),  # an rlvr serve without the code
    (400, {"message": "This model's maximum context length is 4096 tokens. However, your prompt contains 5000 input "
                      "tokens, which exceeds this limit even without any output tokens. Please reduce the length of "
                      "the input prompt. (parameter=input_tokens, value=5000)", "type": "BadRequestError"}, True),  # vLLM 0.33
    (400, {"message": "Input length (5000) exceeds model's maximum context length (4096).", "type": "BadRequestError"}, True),
    (400, {"message": "Your input is too long.", "code": "context_length_exceeded"}, True),  # OpenAI's code
    (400, {"message": "max_tokens=9000 cannot be greater than max_model_len=4096. Please request fewer output tokens."}, False),
    (400, {"message": "'top_k' is not supported"}, False),
    (404, {"message": "the model's context: no such model"}, False),
])
def test_which_rejections_say_the_prompt_exceeds_the_context(status, error, exceeded):
    assert context_exceeded(status, json.dumps({"error": error})) is exceeded


def test_rlvr_serve_names_a_context_overflow_with_openais_code():
    tok = build_tiny_tokenizer("chatml")
    with ChatCompletionServer(HFChatEngine(_calculator_forever(tok, 120), tok), "m", "127.0.0.1", 0) as srv:
        with pytest.raises(ContextLengthExceededError) as caught:
            OpenAIEngine(srv.url).generate_chat([[{"role": "user", "content": "x " * 200}]], 1, SamplingParams(max_new_tokens=5))
    assert isinstance(caught.value, RequestRejectedError) and caught.value.status == 400
    assert json.loads(caught.value.body)["error"]["code"] == "context_length_exceeded"


# ---- 3. and 4. vllm: greedy with n > 1, stop reasons that are token ids ---------------------------


@dataclass
class Logprob:
    logprob: float


@dataclass
class CompletionOutput:  # the attributes of vllm.outputs.CompletionOutput the adapter reads
    index: int
    text: str
    token_ids: list
    logprobs: list
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    outputs: list


def test_greedy_asks_vllm_for_one_sample_and_repeats_it_n_times():
    """vLLM 0.33 refuses n > 1 with temperature 0 (VLLMValidationError, not a ValueError); the hf
    engine gives n identical samples."""
    assert to_vllm_kwargs(SamplingParams(temperature=0, seed=1), 4)["n"] == 1
    assert to_vllm_kwargs(SamplingParams(temperature=0.6, seed=1), 4)["n"] == 4
    ros = [RequestOutput([CompletionOutput(0, "a", [5, 6], [{5: Logprob(-0.5)}, {6: Logprob(-0.25)}], "stop", "###")])]
    [group] = samples_from_request_outputs(ros, 3, greedy=True)
    assert len(group) == 3 and all(s.token_ids == [5, 6] and s.logprobs == [-0.5, -0.25] and s.text == "a" for s in group)
    assert all(s.meta == {"stop_reason": "###"} for s in group)
    group[1].token_ids.append(9)
    group[1].meta["x"] = 1
    assert group[0].token_ids == [5, 6] and group[2].meta == {"stop_reason": "###"}  # copies, not one object
    with pytest.raises(Exception, match="expected n=1"):
        samples_from_request_outputs([RequestOutput(ros[0].outputs * 2)], 3, greedy=True)


def test_an_int_stop_reason_is_mapped_back_to_the_stop_string_it_came_from():
    """vLLM reports the token id for a stop_token_ids stop; the adapter puts special-token stop
    strings there, so meta["stop_reason"] was an int where the docs promise the stop string."""
    kwargs = to_vllm_kwargs(SamplingParams(stop=["<|eot_id|>", "###"], stop_token_ids=[9]), 1, added={"<|eot_id|>": 7})
    assert kwargs["stop_token_ids"] == [9, 7]
    ros = [RequestOutput([
        CompletionOutput(0, "x", [4, 7], [{4: Logprob(-0.1)}, {7: Logprob(-0.2)}], "stop", 7),
        CompletionOutput(1, "y", [4, 9], [{4: Logprob(-0.1)}, {9: Logprob(-0.2)}], "stop", 9),
        CompletionOutput(2, "z", [4], [{4: Logprob(-0.1)}], "stop", "###"),
    ])]
    [[a, b, c]] = samples_from_request_outputs(ros, 3, stop_names={7: "<|eot_id|>"})
    assert a.meta == {"stop_reason": "<|eot_id|>"} and c.meta == {"stop_reason": "###"}
    assert b.meta == {"stop_reason": 9}  # an id given as such names no string: vLLM's int, as before


# ---- 5. rlvr serve caps max_tokens to the room left, as vLLM's server does ------------------------


def test_rlvr_serve_caps_max_tokens_to_the_room_left_and_refuses_only_a_prompt_that_fills_the_context():
    """vLLM 0.33's server (``get_max_tokens``) answers a prompt + max_tokens over the context with
    max_tokens lowered to the room left; rlvr serve refused it, so a chat-level episode ended
    while its reply still fitted. A max_tokens over the whole context is refused, as vLLM does."""
    tok = build_tiny_tokenizer("chatml")
    engine = HFChatEngine(_Scripted(build_tiny_model(tok, seed=0, max_position_embeddings=120), tok,
                                    lambda _: tok.encode("y", add_special_tokens=False)), tok)  # never stops
    messages = [{"role": "user", "content": "x " * 40}]
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        answer = srv.chat_completion({"model": "m", "messages": messages, "temperature": 0, "max_tokens": 100})
        prompt = answer["usage"]["prompt_tokens"]
        assert prompt + 100 > 120 and answer["usage"]["completion_tokens"] == 120 - prompt
        assert answer["choices"][0]["finish_reason"] == "length"
        with pytest.raises(RequestRejectedError, match=r"max_tokens \(121\) exceeds the model's context of 120"):
            OpenAIEngine(srv.url).generate_chat([messages], 1, SamplingParams(max_new_tokens=121))


def test_a_chat_level_episode_through_rlvr_serve_matches_the_token_level_one_near_the_context():
    """chat_room.py: the second turn has room for the answer but not for max_tokens=200; the
    token-level episode answers (reward 1.1), the chat-level one through rlvr serve was refused
    and ended truncated with reward 0."""
    tok = _qwen_like_tokenizer()
    engine = HFChatEngine(_tool_math_model(tok, context=1240), tok)
    sampling = SamplingParams(temperature=0, max_new_tokens=200, stop=["</tool_call>"])
    [[tl]] = RolloutCollector(engine, "rlvr/ToolMath-v0", tok, env_kwargs={"max_turns": 3}).collect([0], 1, sampling)
    assert len(tl.token_ids) - len(tl.turn_texts[-1]) + 200 > 1240  # the last turn had less room than max_tokens
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        collector = RolloutCollector(OpenAIEngine(srv.url), "rlvr/ToolMath-v0", None, env_kwargs={"max_turns": 3})
        [[cl]] = collector.collect([0], 1, sampling)
        collector.close()
    assert tl.num_turns == 2 and not tl.episode_truncated and tl.correct
    assert (cl.num_turns, cl.episode_truncated, cl.correct, cl.total_reward) == (2, False, True, pytest.approx(tl.total_reward))
    assert cl.turn_texts == tl.turn_texts


# ---- 6. a refused conversation is found by halving the call ----------------------------------------


def test_a_refused_conversation_is_found_by_halving_the_call_and_the_others_keep_their_samples():
    """overflow_serial.py: after a refusal every conversation of the turn was sent again alone, one
    after another (40 episodes, one too long: 40 single calls). Halving keeps the calls batched:
    at most 2 * ceil(log2(N)) + 2 calls, and each conversation keeps the seed of the whole call."""
    tok = build_tiny_tokenizer("chatml")
    calls = {e: '<tool_call>{"name": "calculator", "arguments": {"expression": "%s"}}</tool_call>' % e
             for e in ("12*5", "10**300")}
    tok.add_tokens(list(calls.values()))  # one token each: the first turn is quick to write
    long_for = []  # the question whose calculator reply (301 digits) overflows the context on turn 2

    def script(prompt):
        if "<|im_start|>tool" in prompt:
            return [None, tok.eos_token_id]  # one token sampled with the conversation's seed
        expression = "10**300" if any(q in prompt for q in long_for) else "12*5"
        return tok.encode(calls[expression], add_special_tokens=False) + [tok.eos_token_id]

    engine = HFChatEngine(_Scripted(build_tiny_model(tok, seed=0, max_position_embeddings=1250), tok, script), tok)
    tasks = [0] + [1 + i % 15 for i in range(39)]  # task 0 once
    sampling = SamplingParams(temperature=1.0, max_new_tokens=8, seed=3)
    sent = []  # the conversations of each generate_chat call
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        client = OpenAIEngine(srv.url)
        generate_chat = client.generate_chat
        client.generate_chat = lambda conversations, *a, **k: sent.append(conversations) or generate_chat(conversations, *a, **k)
        collector = RolloutCollector(client, "rlvr/ToolMath-v0", None, env_kwargs={"max_turns": 3})
        unsplit = collector.collect(tasks, 1, sampling)
        long_for.append(next(m["content"] for m in unsplit[0][0].messages if m["role"] == "user").split("\n")[0])  # task 0's question
        sent.clear()
        split = collector.collect(tasks, 1, sampling)
        collector.close()
    second_turn = [c for c in sent if all(sum(m["role"] == "assistant" for m in conv) == 1 for conv in c)]
    assert len(second_turn[0]) == 40 and len(second_turn) <= 2 * math.ceil(math.log2(40)) + 2
    assert split[0][0].episode_truncated and split[0][0].num_turns == 1 and not unsplit[0][0].episode_truncated
    assert [g[0].turn_texts for g in split[1:]] == [g[0].turn_texts for g in unsplit[1:]]
    assert len({g[0].turn_texts[1] for g in unsplit}) > 20  # the second turns depend on the seeds


def test_training_names_the_config_setting_of_a_prompt_that_does_not_fit():
    """The collector's message serves every caller; training adds the config key of the limit."""
    from rlvr.trainers.trainer import _collect

    tok = build_tiny_tokenizer("chatml")
    engine = HFChatEngine(_calculator_forever(tok, 120), tok)
    collector = RolloutCollector(engine, "rlvr/ToolMath-v0", tok, max_context_tokens=20)
    with pytest.raises(PromptTooLongError) as refused:
        _collect(collector, [0], 1, SamplingParams(temperature=0, max_new_tokens=10))
    assert "sampling.max_context_tokens" not in str(refused.value)
    assert any("sampling.max_context_tokens" in note for note in refused.value.__notes__)
