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
    assert tr.turn_rewards[1] == pytest.approx(1.0) and tr.outcome_reward == pytest.approx(1.0)
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
    FlakyEnv.failures = 2
    ok = collector.collect([0], 2, SamplingParams(), infra_retries=1)
    assert all(t.valid and t.correct for t in ok[0])
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
