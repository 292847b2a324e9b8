"""Rollouts, token in / token out: the episode's token sequence is what the chat template renders.

The conformance tests drive the real ToolMath-v0 env (calculator tool, multi-turn) with an engine that
"samples" scripted texts as exact token ids, so the expected sequence is known; the hf-engine tests
drive the tiny model on Arithmetic-v0 for real.
"""

from __future__ import annotations

import pytest
import torch

import rlvr
from rlvr.envs.base import SingleTurnEnv
from rlvr.envs.tasks import ListSource, Task
from rlvr.trainers.engine import Engine, Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.rollout import (
    RolloutCollector,
    RolloutInfrastructureError,
    Trajectory,
    collect_rollouts,
)
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from rlvr.verifiers.verdict import Verdict

CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "12*5"}}</tool_call>'


class ScriptedEngine(Engine):
    """Samples the next scripted text of each episode as exact ids (EOS appended unless truncated)."""

    def __init__(self, tokenizer, script, truncate_turns=()):
        self.tok, self.script, self.truncate_turns = tokenizer, script, set(truncate_turns)
        self.calls = []

    def generate(self, prompts, n, sampling):
        out = []
        for p in prompts:
            turn = self.tok.decode(p, skip_special_tokens=False).count("assistant") - 1
            text = self.script[turn]
            group = []
            for _ in range(n):
                ids = self.tok.encode(text, add_special_tokens=False)
                truncated = turn in self.truncate_turns
                if not truncated:
                    ids = ids + [self.tok.eos_token_id]
                group.append(Sample(ids, [-0.25] * len(ids), "length" if truncated else "stop", text))
            out.append(group)
        self.calls.append((len(prompts), n))
        return out

    def load_weights(self, weights):
        pass


@pytest.mark.parametrize("template", ["chatml", "llama3"])
@pytest.mark.parametrize("truncate_first", [False, True])
def test_multi_turn_tokens_equal_template_rendering(template, truncate_first):
    tok = build_tiny_tokenizer(template)
    engine = ScriptedEngine(tok, [CALL, "It is \\boxed{60}"], truncate_turns={0} if truncate_first else ())
    groups = collect_rollouts(
        engine, "rlvr/ToolMath-v0", tok, SamplingParams(max_new_tokens=200), tasks=[{"index": 0}], n=2,
        env_kwargs={"builtin_tools": ("calculator",)},
    )
    assert len(groups) == 1 and len(groups[0]) == 2
    tr = groups[0][0]
    assert isinstance(tr, Trajectory) and tr.valid and tr.correct and tr.num_turns == 2
    roles = [m["role"] for m in tr.messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert "60" in tr.messages[3]["content"]  # the calculator really ran
    rendered = tok.apply_chat_template(tr.messages, tokenize=False, add_generation_prompt=False)
    expected = tok.encode(rendered, add_special_tokens=False)
    ids = tr.token_ids
    # the episode is the template's rendering, up to what the template adds after the last EOS
    assert ids == expected[: len(ids)]
    assert tok.decode(expected[len(ids):]) == ("\n" if template == "chatml" else "")
    # the prompt is rendered with the generation prompt; masks and log-probs line up
    first = tok.apply_chat_template(tr.messages[:2], tokenize=False, add_generation_prompt=True)
    assert ids[: tr.prompt_len] == tok.encode(first, add_special_tokens=False)
    assert len(tr.loss_mask) == len(ids) == len(tr.logprobs)
    sampled = [t for t, m in zip(ids, tr.loss_mask) if m]
    eos = [tok.eos_token_id]
    want = tok.encode(CALL, add_special_tokens=False) + ([] if truncate_first else eos)
    want += tok.encode("It is \\boxed{60}", add_special_tokens=False) + eos
    assert sampled == want
    assert all(lp == -0.25 for lp, m in zip(tr.logprobs, tr.loss_mask) if m)
    assert all(lp == 0.0 for lp, m in zip(tr.logprobs, tr.loss_mask) if not m)
    # turn ends point at the last sampled token of each turn; rewards per turn
    assert len(tr.turn_ends) == 2 and tr.turn_ends[1] == len(ids) - 1
    assert tr.loss_mask[tr.turn_ends[0]] == 1 and tr.loss_mask[tr.turn_ends[0] + 1] == 0
    # the tool turn's process credit (weight 0.1) is paid with the answer
    assert tr.turn_rewards == [0.0, pytest.approx(1.1)] and tr.outcome_reward == pytest.approx(1.0)
    assert tr.total_reward == pytest.approx(sum(tr.turn_rewards))
    assert tr.truncated is False  # the last turn finished
    # the first turn shares one prompt for the group (n=2), later turns go one episode at a time
    assert engine.calls == [(1, 2), (2, 1)]


def test_compact_prompts_are_raw_text_and_hf_engine_ids_are_kept():
    tok = build_tiny_tokenizer()
    model = build_tiny_model(tok, seed=1)
    engine = HFEngine(model, tok)
    groups = collect_rollouts(
        engine, "rlvr/Arithmetic-v0", tok, SamplingParams(temperature=1.0, max_new_tokens=6, seed=3),
        num_tasks=3, start_index=10, n=4, env_kwargs={"format": "compact", "digits": 2},
    )
    assert [len(g) for g in groups] == [4, 4, 4]
    env = rlvr.make("rlvr/Arithmetic-v0", format="compact", digits=2)
    for g, group in enumerate(groups):
        prompt, info = env.reset(options={"index": 10 + g})
        for tr in group:
            assert tr.task_id == info["task_id"] and tr.prompt == prompt and tr.group == g
            assert tr.token_ids[: tr.prompt_len] == tok.encode(prompt, add_special_tokens=False)
            assert tr.loss_mask == [0] * tr.prompt_len + [1] * (len(tr.token_ids) - tr.prompt_len)
            assert tr.response_length <= 6 and tr.truncated == (tr.finish_reasons[-1] == "length")
            assert tr.valid and tr.total_reward in (0.0, 1.0)
    # the logged log-probs are the model's own (temperature 1): a full forward pass agrees
    tr = groups[0][0]
    with torch.no_grad():
        logits = model(torch.tensor([tr.token_ids])).logits[0, :-1]
    lp = torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(tr.token_ids[1:])[:, None]).squeeze(-1)
    mask = torch.tensor(tr.loss_mask[1:], dtype=torch.bool)
    assert torch.allclose(lp[mask], torch.tensor(tr.logprobs[1:])[mask], atol=1e-4)


class FlakyEnv(SingleTurnEnv):
    """Verification fails (infrastructure) for the first `failures` episodes, then works."""

    failures = 0

    def __init__(self):
        super().__init__(ListSource([Task("t0", "1+1=", "2")], {"name": "flaky"}))

    def verify(self, task, content):
        if FlakyEnv.failures > 0:
            FlakyEnv.failures -= 1
            return Verdict.failed("sandbox unreachable")
        return Verdict.right("ok") if content.strip() == "2" else Verdict.wrong("no")


def test_infrastructure_failures_are_retried_then_raise():
    tok = build_tiny_tokenizer()
    engine = ScriptedEngine(tok, ["2"])
    collector = RolloutCollector(engine, FlakyEnv, tok, chat_template=False)
    FlakyEnv.failures = 1
    raw = collector.collect([0], 2, SamplingParams(), infra_retries=None)
    assert [t.valid for t in raw[0]] == [False, True] and raw[0][0].error
    assert raw[0][0].total_reward == 0.0 and raw[0][0].correct is False
    assert collector.infra_retried_groups == 0  # infra_retries=None re-runs nothing
    FlakyEnv.failures = 2
    ok = collector.collect([0], 2, SamplingParams(), infra_retries=1)
    assert all(t.valid and t.correct for t in ok[0])
    assert collector.infra_retried_groups == 1  # counted, so the trainer can log it per step
    FlakyEnv.failures = 100
    with pytest.raises(RolloutInfrastructureError, match="infrastructure"):
        collector.collect([0], 2, SamplingParams(), infra_retries=2)


class ChatEngine:
    """A chat-level engine (like an OpenAI-compatible server): messages in, text out, no ids."""

    def generate_chat(self, conversations, n, sampling, tools=None):
        return [[Sample([], [], "stop", "60") for _ in range(n)] for _ in conversations]


def test_chat_level_engine_gives_text_and_rewards_only():
    groups = collect_rollouts(ChatEngine(), "rlvr/Math-v0", None, SamplingParams(), num_tasks=2, n=3)
    assert len(groups) == 2
    tr = groups[0][0]
    assert tr.token_ids == [] and tr.loss_mask == [] and tr.completion == "60"
    assert tr.messages[-1] == {"role": "assistant", "content": "60"}
    assert tr.correct and tr.total_reward == pytest.approx(1.0)
    assert tr.to_dict()["verdict"]["correct"] is True
    with pytest.raises(TypeError, match="generate"):
        RolloutCollector(object(), "rlvr/Math-v0", None)


class SlowVerifierEnv(SingleTurnEnv):
    """A verifier that waits (as a sandbox run does) and records which threads ran it, and when."""

    runs: list = []

    def __init__(self):
        super().__init__(ListSource([Task("t0", "What is 2?", "2")], {"name": "slow"}))

    def verify(self, task, content):
        import threading
        import time

        start = time.perf_counter()
        time.sleep(0.3)
        SlowVerifierEnv.runs.append((threading.get_ident(), start, time.perf_counter()))
        return Verdict.right("ok") if content.strip() == task.answer else Verdict.wrong("no")


def test_envs_that_wait_are_stepped_concurrently():
    """A group's episodes overlap in time: 8 verifications of 0.3 s each, stepped together."""
    tok = build_tiny_tokenizer()
    collector = RolloutCollector(ScriptedEngine(tok, ["2"]), SlowVerifierEnv, tok, chat_template=False)
    SlowVerifierEnv.runs = []
    groups = collector.collect([0], 8, SamplingParams())
    collector.close()
    assert all(t.correct and t.total_reward == 1.0 for t in groups[0])
    runs = SlowVerifierEnv.runs
    assert len(runs) == 8 and len({thread for thread, _, _ in runs}) > 1
    overlapping = max(sum(1 for _, s, e in runs if s <= t < e) for _, t, _ in runs)
    assert overlapping >= 4, f"at most {overlapping} of 8 verifications ran at once"


class VariedWordingEnv(SingleTurnEnv):
    """Words its one task differently at each reset (as randomised phrasings or few-shot picks do)."""

    def __init__(self):
        super().__init__(ListSource([Task("t0", "2+2=", "4")], {"name": "varied"}))

    def make_prompt(self, task):
        return ["Q: ", "Question: ", "Compute "][int(self.np_random.integers(3))] + task.question

    def verify(self, task, content):
        return Verdict.right("ok") if content.strip() == "4" else Verdict.wrong("no")


class PromptRecordingEngine(ScriptedEngine):
    """Answers "4" and remembers, per sample, the prompt it was sampled from."""

    def generate(self, prompts, n, sampling):
        out = super().generate(prompts, n, sampling)
        for p, group in zip(prompts, out):
            for sample in group:
                sample.meta = {"prompt": list(p)}
        return out


def test_each_episode_is_sampled_from_its_own_prompt():
    """A group shares one engine call only when its episodes' prompts are equal."""
    tok = build_tiny_tokenizer()
    engine = PromptRecordingEngine(tok, ["4"])
    collector = RolloutCollector(engine, VariedWordingEnv, tok, chat_template=False)
    seen = []
    record = collector._record_sample
    collector._record_sample = lambda ep, sample: (seen.append(sample.meta["prompt"]), record(ep, sample))[1]
    groups = collector.collect([{"index": 0}], 6, SamplingParams(max_new_tokens=2))
    collector.close()
    prompts = [t.token_ids[: t.prompt_len] for t in groups[0]]
    assert len({tuple(p) for p in prompts}) > 1  # the wordings differ
    assert seen == prompts and engine.calls == [(6, 1)]
    # equal prompts (Math-v0-like envs) still go out once per group
    engine = PromptRecordingEngine(tok, ["2"])
    collector = RolloutCollector(engine, SlowVerifierEnv, tok, chat_template=False)
    collector.collect([0], 4, SamplingParams())
    collector.close()
    assert engine.calls == [(1, 4)]


# ---- the end of a model turn when the template renders it differently (D1) ------------------------

from rlvr.envs.base import TextEnv, Turn  # noqa: E402

# the official Llama-3 chat template: it trims message content
LLAMA3_OFFICIAL = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


class FeedbackEnv(TextEnv):
    """Multi-turn: answers every model turn with a feedback message, truncates after ``max_turns``."""

    env_name = "Feedback"

    def __init__(self, max_turns=2, feedback="feedback"):
        super().__init__(ListSource([Task("t0", "Say something.", "x")], {"name": "feedback"}), max_turns=max_turns,
                         system_prompt="sys")
        self.feedback = feedback

    def respond(self, task, content, tool_calls):
        return Turn(observation=self.feedback, messages=[{"role": "user", "content": self.feedback}])


class TurnScriptEngine(Engine):
    """Returns scripted ``(ids, finish_reason, text)`` per model turn (as exact ids) and records the
    prompts and generation limits it was asked for."""

    def __init__(self, tok, turns):
        self.tok, self.turns, self.prompts, self.caps = tok, turns, [], []

    def generate(self, prompts, n, sampling):
        out = []
        for p in prompts:
            self.prompts.append(list(p))
            self.caps.append(sampling.max_new_tokens)
            ids, finish, text = self.turns[min(len(self.prompts) - 1, len(self.turns) - 1)]
            out.append([Sample(list(ids), [-0.5] * len(ids), finish, text) for _ in range(n)])
        return out

    def load_weights(self, weights):
        pass


def _one_episode(tok, engine, env_factory, **kwargs):
    [[tr]] = collect_rollouts(engine, env_factory, tok, SamplingParams(max_new_tokens=50), tasks=[0], n=1, **kwargs)
    return tr


def _two_turns(base, template, first_text, last_text):
    """A FeedbackEnv episode of two scripted model turns (each its text's ids + EOS) under a chat
    template: (tokenizer, engine, trajectory, first turn's ids, last turn's ids)."""
    tok = build_tiny_tokenizer(base)
    tok.chat_template = template
    first, last = (tok.encode(text, add_special_tokens=False) + [tok.eos_token_id] for text in (first_text, last_text))
    engine = TurnScriptEngine(tok, [(first, "stop", first_text), (last, "stop", last_text)])
    return tok, engine, _one_episode(tok, engine, lambda: FeedbackEnv(max_turns=2)), first, last


def test_trimming_template_gets_its_end_of_turn_marker_not_a_broken_one():
    """Llama-3's template trims "7\\n" to "7": the model's own tokens are kept, its sampled <|eot_id|>
    closes the turn, and the env's reply follows as whole tokens (not '|','e','o','t'... nor a 2nd marker)."""
    tok, engine, tr, first, last = _two_turns("llama3", LLAMA3_OFFICIAL, "7\n", "done")
    msgs = tr.messages[:3]  # system, user, the model's first turn
    upto = tok.apply_chat_template(msgs, tokenize=False)
    after = tok.apply_chat_template(msgs + [{"role": "user", "content": "feedback"}], tokenize=False, add_generation_prompt=True)
    expected = tr.token_ids[: tr.prompt_len] + first + tok.encode(after[len(upto):], add_special_tokens=False) + last
    assert tr.token_ids == expected
    assert tr.loss_mask == [0] * tr.prompt_len + [1] * len(first) + [0] * (len(expected) - tr.prompt_len - len(first) - len(last)) + [1] * len(last)
    assert engine.prompts[1] == expected[: -len(last)]  # what the model saw at its second turn
    assert tr.template_mismatch is True and tr.to_dict()["template_mismatch"] is True  # kept to the episode's end


@pytest.mark.parametrize("case", ["special token mid-text + EOS", "stop string cut", "literal '<' then stop string"])
def test_mismatched_turn_gets_only_the_marker_part_the_model_did_not_sample(case):
    """ChatML: a sampled <|im_end|> is followed by "\\n" only (never a second <|im_end|>); a turn without
    it gets the whole marker, also when its last token is a "<" that only looks like the marker's start."""
    tok = build_tiny_tokenizer("chatml")
    eos = tok.eos_token_id
    enc = lambda s: tok.encode(s, add_special_tokens=False)  # noqa: E731
    first, text, marker = {
        "special token mid-text + EOS": (enc("a") + [tok.convert_tokens_to_ids("<|im_start|>")] + enc("b") + [eos], "ab", "\n"),
        "stop string cut": (enc("ab"), "a", "<|im_end|>\n"),
        "literal '<' then stop string": (enc("a<"), "a", "<|im_end|>\n"),
    }[case]
    engine = TurnScriptEngine(tok, [(first, "stop", text), (enc("z") + [eos], "stop", "z")])
    tr = _one_episode(tok, engine, lambda: FeedbackEnv(max_turns=2))
    reply = tok.decode(tr.token_ids[tr.turn_ends[0] + 1 :], skip_special_tokens=False)
    assert reply.startswith(marker + "<|im_start|>user\nfeedback<|im_end|>\n<|im_start|>assistant\n")
    assert tr.token_ids[tr.turn_ends[0] + 1 : tr.turn_ends[0] + 1 + len(enc(marker))] == enc(marker)
    assert tr.template_mismatch is True


def test_matching_turns_are_not_flagged():
    tok = build_tiny_tokenizer("chatml")
    eos = tok.eos_token_id
    turn = (tok.encode("hi", add_special_tokens=False) + [eos], "stop", "hi")
    tr = _one_episode(tok, TurnScriptEngine(tok, [turn, turn]), lambda: FeedbackEnv(max_turns=2))
    assert tr.template_mismatch is False and tr.num_turns == 2


# ---- the episode stays within the model's context (D2) --------------------------------------------


class CountingEngine(Engine):
    """Wraps an engine and records the longest prompt + sample it produced, and its calls."""

    def __init__(self, inner):
        self.inner, self.calls, self.longest = inner, 0, 0
        self.context_length = inner.context_length

    def generate(self, prompts, n, sampling):
        return self._seen(prompts, self.inner.generate(prompts, n, sampling))

    def generate_capped(self, prompts, n, sampling, max_new_tokens):
        return self._seen(prompts, self.inner.generate_capped(prompts, n, sampling, max_new_tokens))

    def _seen(self, prompts, out):
        self.calls += 1
        self.longest = max([self.longest] + [len(p) + len(s.token_ids) for p, g in zip(prompts, out) for s in g])
        return out

    def load_weights(self, weights):
        pass


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_multi_turn_episodes_stay_within_the_model_context(arch):
    """A 64-position model, 4 turns of up to 40 tokens: every episode ends within 64 tokens, truncated
    (the env never gave its verdict), and absolute positions (GPT-2) no longer crash the rollout."""
    tok = build_tiny_tokenizer("chatml")
    torch.manual_seed(0)
    if arch == "llama":
        model = build_tiny_model(tok, max_position_embeddings=64)
    else:
        from transformers import GPT2Config, GPT2LMHeadModel

        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                                           bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id))
    engine = CountingEngine(HFEngine(model, tok))
    assert engine.context_length == 64
    groups = collect_rollouts(engine, lambda: FeedbackEnv(max_turns=4), tok, SamplingParams(max_new_tokens=40, seed=0),
                              tasks=[0], n=3)
    assert engine.longest <= 64
    for tr in groups[0]:
        assert tr.prompt_len < len(tr.token_ids) <= 64 and len(tr.loss_mask) == len(tr.logprobs) == len(tr.token_ids)
        assert tr.valid and tr.episode_truncated  # out of context before the env's 4 turns
        assert tr.num_turns < 4 or tr.finish_reasons[-1] == "length"


def test_context_limit_caps_each_turn_and_ends_the_episode_without_calling_the_engine():
    """max_context_tokens: a turn gets at most the room left; when the env's reply leaves no room the
    episode ends truncated (the reply left out) and the engine is not asked again."""
    tok = build_tiny_tokenizer("chatml")
    eos = tok.eos_token_id
    turn = (tok.encode("hi", add_special_tokens=False) + [eos], "stop", "hi")
    probe = _one_episode(tok, TurnScriptEngine(tok, [turn] * 5), lambda: FeedbackEnv(max_turns=5))
    after_one = probe.turn_ends[1] - 2  # prompt + turn 1 + the env's reply: the second turn's prompt
    limit = after_one + 2  # room for 2 tokens at turn 2: "hi" is cut there, no room for a third turn
    engine = TurnScriptEngine(tok, [turn, (tok.encode("hi", add_special_tokens=False), "length", "hi"), turn])
    tr = _one_episode(tok, engine, lambda: FeedbackEnv(max_turns=5), max_context_tokens=limit)
    assert engine.caps == [limit - probe.prompt_len, 2]  # each turn capped at the room left; no third call
    assert tr.token_ids == probe.token_ids[: after_one] + tok.encode("hi", add_special_tokens=False)
    assert len(tr.token_ids) <= limit and tr.num_turns == 2
    assert tr.episode_truncated and tr.truncated and tr.valid
    assert tr.turn_rewards == [0.0, 0.0]  # truncated, not scored as a wrong final answer


def test_prompt_that_fills_the_context_is_a_clear_error():
    tok = build_tiny_tokenizer("chatml")
    engine = TurnScriptEngine(tok, [([tok.eos_token_id], "stop", "")])
    with pytest.raises(ValueError, match=r"the prompt is \d+ tokens.*max_context_tokens=10"):
        _one_episode(tok, engine, lambda: FeedbackEnv(), max_context_tokens=10)
    assert engine.prompts == []  # the engine was never called
    model = build_tiny_model(tok, max_position_embeddings=64)
    with pytest.raises(ValueError, match=r"max_context_tokens \(100\) exceeds the engine's context of 64"):
        RolloutCollector(HFEngine(model, tok), lambda: FeedbackEnv(), tok, max_context_tokens=100)
    with pytest.raises(ValueError, match="fills the model's context of 64"):
        HFEngine(model, tok).generate([[5] * 64], 1, SamplingParams())


def test_hf_engine_caps_each_prompt_in_one_batch():
    tok = build_tiny_tokenizer()
    model = build_tiny_model(tok, max_position_embeddings=64)
    engine = HFEngine(model, tok)
    # a model that never stops: no EOS, so every row runs to its own limit
    engine.eos_token_ids = frozenset()
    sampling = SamplingParams(max_new_tokens=8, seed=0)
    out = engine.generate_capped([[5, 6], [7], [5] * 60], 2, sampling, [3, 100, 8])
    assert [[len(s.token_ids) for s in g] for g in out] == [[3, 3], [8, 8], [4, 4]]  # 60 + 4 = the context
    assert all(s.finish_reason == "length" and len(s.logprobs) == len(s.token_ids) for g in out for s in g)
    assert [len(s.token_ids) for s in engine.generate([[5] * 60], 1, sampling)[0]] == [4]


def test_engines_without_generate_capped_get_one_call_per_limit():
    from rlvr.trainers.engine import generate_by_limit

    seen = []

    class Plain:  # generate only (a duck-typed engine)
        def generate(self, prompts, n, sampling):
            seen.append((len(prompts), sampling.max_new_tokens, sampling.seed))
            return [[Sample([1] * sampling.max_new_tokens, [0.0] * sampling.max_new_tokens, "length", "")] * n for _ in prompts]

    out = generate_by_limit(Plain(), [[1], [2], [3]], 2, SamplingParams(max_new_tokens=5, seed=7), [9, 2, 5])
    assert [[len(s.token_ids) for s in g] for g in out] == [[5, 5], [2, 2], [5, 5]]
    assert seen == [(2, 5, 7), (1, 2, 7 + 1_000_003)]


def test_trainer_passes_the_context_setting_to_its_collector(tmp_path):
    from rlvr.trainers.config import ConfigError, load_config
    from rlvr.trainers.trainer import Trainer

    base = [f"log.output_dir={tmp_path}", "log.progress=false", "log.tensorboard=false", "model.tiny_hidden_size=32",
            "model.tiny_layers=1"]
    assert Trainer(load_config(None, base)).collector.max_context_tokens == 1024  # the tiny model's positions
    assert Trainer(load_config(None, base + ["sampling.max_context_tokens=300"])).collector.max_context_tokens == 300
    with pytest.raises(ConfigError, match="sampling.max_context_tokens"):
        load_config(None, base + ["sampling.max_context_tokens=1"])


# ---- an env reply the model would never see (D3) --------------------------------------------------


class ObservationOnlyEnv(FeedbackEnv):
    """Replies with text but adds no message to the chat history."""

    def respond(self, task, content, tool_calls):
        return Turn(observation="SECRET FEEDBACK")


def test_env_reply_without_messages_is_an_error_in_chat_mode():
    tok = build_tiny_tokenizer("chatml")
    turn = (tok.encode("a", add_special_tokens=False) + [tok.eos_token_id], "stop", "a")
    with pytest.raises(ValueError, match=r"env ObservationOnlyEnv replied 'SECRET FEEDBACK' but added no message"):
        _one_episode(tok, TurnScriptEngine(tok, [turn] * 2), ObservationOnlyEnv)
    with pytest.raises(ValueError, match=r"added no message"):  # also on the collector's last turn
        _one_episode(tok, TurnScriptEngine(tok, [turn] * 2), ObservationOnlyEnv, max_turns=1)
    # raw text shows the observation itself
    tr = _one_episode(tok, TurnScriptEngine(tok, [turn] * 2), ObservationOnlyEnv, chat_template=False)
    assert "SECRET FEEDBACK" in tok.decode(tr.token_ids)


# ---- what the env is given, templates that re-render a turn, turn seeds ------------------------------


class SeedRecordingEngine(TurnScriptEngine):
    def __init__(self, tok, turns):
        super().__init__(tok, turns)
        self.seeds = []

    def generate(self, prompts, n, sampling):
        self.seeds.append(sampling.seed)
        return super().generate(prompts, n, sampling)


def test_a_stop_string_the_turn_ended_on_reaches_the_env():
    """Engines leave a matched stop string out of `text`, but the model sampled it (its ids are
    trained on): with stop=["</tool_call>"] the env must see a closed tool call, run it, and give
    the turn its process reward, not "a <tool_call> tag is not closed"."""
    tok = build_tiny_tokenizer("chatml")
    eos = tok.eos_token_id
    call_ids = tok.encode(CALL, add_special_tokens=False)
    answer = tok.encode("So \\boxed{60}", add_special_tokens=False) + [eos]
    engine = TurnScriptEngine(tok, [(call_ids, "stop", CALL[: -len("</tool_call>")]), (answer, "stop", "So \\boxed{60}")])
    sampling = SamplingParams(max_new_tokens=50, stop=("</tool_call>",))
    [[tr]] = collect_rollouts(engine, "rlvr/ToolMath-v0", tok, sampling, tasks=[0], n=1,
                              env_kwargs={"builtin_tools": ("calculator",)})
    assert tr.turn_texts[0] == CALL
    tool_replies = [m["content"] for m in tr.messages if m["role"] == "tool"]
    assert tool_replies == ["60"], tr.messages
    # the call parsed and ran: its process credit (0.1) is paid with the answer
    assert tr.turn_rewards == [0.0, pytest.approx(1.1)]
    # a stop string that is a special token is not text: it stays out
    engine = TurnScriptEngine(tok, [(answer, "stop", "So \\boxed{60}")])
    [[tr]] = collect_rollouts(engine, "rlvr/ToolMath-v0", tok, SamplingParams(max_new_tokens=50, stop=("<|im_end|>",)),
                              tasks=[0], n=1, env_kwargs={"builtin_tools": ("calculator",)})
    assert tr.turn_texts == ["So \\boxed{60}"]


# Qwen3-like: an assistant message without a think block gets an empty one only while it is the last
# message, so the conversation is not rendered as a prefix of its continuation
THINK_ON_LAST_TURN = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if loop.last %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{{- message.content + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def test_a_template_that_re_renders_the_model_turn_keeps_the_model_tokens():
    """Qwen3's template renders a think-less assistant turn otherwise once a reply follows it: the
    episode goes on (no error), with the model's own tokens, the env's reply as the template writes it
    after that turn, and the trajectory flagged."""
    tok, engine, tr, first, last = _two_turns("chatml", THINK_ON_LAST_TURN, "hi", "ok")
    assert tr.num_turns == 2 and tr.template_mismatch is True
    start = tr.turn_ends[0] + 1
    reply = tr.token_ids[start : len(tr.token_ids) - len(last)]
    assert tok.decode(reply, skip_special_tokens=False) == "\n<|im_start|>user\nfeedback<|im_end|>\n<|im_start|>assistant\n"
    assert tr.token_ids[start - len(first) : start] == first and tr.loss_mask[start : start + len(reply)] == [0] * len(reply)
    assert engine.prompts[1] == tr.token_ids[: len(tr.token_ids) - len(last)]


def test_later_turns_are_seeded_apart_from_every_first_turn():
    """Engines seed the prompts of a call seed + i: a later turn seeded seed + turn would replay the
    random stream of another episode's first turn."""
    from rlvr.trainers.rollout import turn_seed

    seeds = {turn_seed(s, t) for s in (0, 7, 12345) for t in (1, 2, 3)}
    assert len(seeds) == 9 and all(not 0 <= x - s < 10_000 for x in seeds for s in (0, 7, 12345))
    assert turn_seed(7, 2) == turn_seed(7, 2)
    tok = build_tiny_tokenizer("chatml")
    turn = (tok.encode("hi", add_special_tokens=False) + [tok.eos_token_id], "stop", "hi")
    engine = SeedRecordingEngine(tok, [turn, turn])
    collect_rollouts(engine, lambda: FeedbackEnv(max_turns=2), tok, SamplingParams(max_new_tokens=50, seed=7), tasks=[0], n=1)
    assert engine.seeds == [7, turn_seed(7, 1)]


def test_turn_limit_is_the_collectors_or_the_envs_own():
    tok = build_tiny_tokenizer("chatml")
    engine = TurnScriptEngine(tok, [])
    assert RolloutCollector(engine, lambda: FeedbackEnv(max_turns=3), tok).turn_limit() == 3
    assert RolloutCollector(engine, lambda: FeedbackEnv(max_turns=3), tok, max_turns=2).turn_limit() == 2
    with pytest.raises(ValueError, match="more than the 3"):  # never silently lowered to the env's 3
        RolloutCollector(engine, lambda: FeedbackEnv(max_turns=3), tok, max_turns=5).turn_limit()


class StopReasonEngine(TurnScriptEngine):
    """Reports the stop string each sample ended on in ``meta["stop_reason"]``, as vLLM does."""

    def generate(self, prompts, n, sampling):
        groups = super().generate(prompts, n, sampling)
        for group in groups:
            for sample in group:
                sample.meta["stop_reason"] = "</answer>"
        return groups


def test_the_stop_string_the_engine_reports_is_the_one_put_back():
    """vLLM's text is decoded after the prompt (" ok" with SentencePiece's leading space), which a
    plain decode of the ids does not reproduce: the engine's own stop_reason says what matched."""
    tok = build_tiny_tokenizer("chatml")
    ids = tok.encode("ok</answer>", add_special_tokens=False)
    engine = StopReasonEngine(tok, [(ids, "stop", " ok")])
    sampling = SamplingParams(max_new_tokens=50, stop=("</answer>",))
    [[tr]] = collect_rollouts(engine, lambda: FeedbackEnv(max_turns=1), tok, sampling, tasks=[0], n=1)
    assert tr.turn_texts == [" ok</answer>"]


def test_collector_turn_limit_truncates_without_the_env_reply():
    """max_turns below the env's own: after the collector's last turn the env's reply is not
    tokenised (no model turn reads it; it would only add masked tokens to training), but it stays
    in the messages; the episode is truncated, not scored."""
    tok = build_tiny_tokenizer("chatml")
    eos = tok.eos_token_id
    turn = (tok.encode("hi", add_special_tokens=False) + [eos], "stop", "hi")
    full = _one_episode(tok, TurnScriptEngine(tok, [turn] * 3), lambda: FeedbackEnv(max_turns=3))
    engine = TurnScriptEngine(tok, [turn] * 3)
    tr = _one_episode(tok, engine, lambda: FeedbackEnv(max_turns=3), max_turns=2)
    assert len(engine.prompts) == 2 and tr.num_turns == 2
    assert tr.token_ids == full.token_ids[: tr.turn_ends[1] + 1]  # ends with the model's second turn
    assert tr.turn_ends[1] == len(tr.token_ids) - 1 and tr.loss_mask[-1] == 1
    assert len(tr.loss_mask) == len(tr.logprobs) == len(tr.token_ids)
    assert tr.episode_truncated and tr.valid
    assert tr.messages[-1] == {"role": "user", "content": "feedback"}  # the env's reply, kept as a message
