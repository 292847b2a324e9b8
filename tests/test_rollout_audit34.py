"""Audit 34: rollouts and the trainer's env settings.

* raw-text prompts (no chat template) keep the env's system message;
* a sample ended by a non-special ``stop_token_ids`` token keeps that token's text for the env;
* the trainer sets no ``max_action_chars`` cap unless asked, warns about one ``max_new_tokens``
  can pass, and counts over-long verdicts (``overlong_action_frac``);
* ``max_turns`` above the env's own limit is an error, and the trainer's ``env.max_turns`` raises a
  multi-turn env's own limit.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import rlvr
from rlvr.trainers.config import NO_ACTION_CHAR_LIMIT, ConfigError, ConfigWarning, load_config
from rlvr.trainers.engine import Engine, Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.rollout import RolloutCollector, collect_rollouts
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from rlvr.trainers.trainer import Trainer
from rlvr.trainers.warmup import _examples

TASK = {"task": {"question": "What is 2+3?", "answer": "5"}}
CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+3"}}</tool_call>'


class ScriptEngine(Engine):
    """Samples the ids of ``script[turn]`` (then EOS) for every prompt; records the prompts it got."""

    def __init__(self, tok, script):
        self.tok, self.script, self.turn, self.prompts = tok, list(script), 0, []

    def generate(self, prompts, n, sampling):
        text = self.script[min(self.turn, len(self.script) - 1)]
        self.turn += 1
        self.prompts.append([list(p) for p in prompts])
        ids = self.tok.encode(text, add_special_tokens=False) + [self.tok.eos_token_id]
        return [[Sample(list(ids), [-0.1] * len(ids), "stop", text) for _ in range(n)] for _ in prompts]

    def load_weights(self, weights):
        pass


def _raw_tokenizer():
    tok = build_tiny_tokenizer("chatml")
    tok.chat_template = None  # a base model's tokenizer: the collector picks raw-text mode itself
    return tok


# ------------------------------------------------------------------ 1. raw-text prompts keep the system message


def test_raw_text_prompt_of_toolmath_holds_its_tool_list():
    tok = _raw_tokenizer()
    engine = ScriptEngine(tok, [CALL, "\\boxed{5}"])
    [[tr]] = collect_rollouts(engine, "rlvr/ToolMath-v0", tok, SamplingParams(max_new_tokens=200), tasks=[TASK], n=1,
                              env_kwargs={"builtin_tools": ("calculator",)})
    system = tr.messages[0]
    assert system["role"] == "system" and "calculator" in system["content"]
    prompt = tok.decode(tr.token_ids[: tr.prompt_len], skip_special_tokens=True)
    assert prompt == system["content"] + "\n\n" + tr.prompt
    assert engine.prompts[0][0] == tr.token_ids[: tr.prompt_len]  # trained on what the model was given
    assert tr.correct and tr.turn_texts == [CALL, "\\boxed{5}"]


def test_raw_text_prompt_keeps_a_math_system_prompt_and_without_one_is_the_prompt():
    tok = _raw_tokenizer()
    sampling = SamplingParams(max_new_tokens=50)
    [[tr]] = collect_rollouts(ScriptEngine(tok, ["\\boxed{5}"]), "rlvr/Math-v0", tok, sampling, tasks=[TASK], n=1,
                              env_kwargs={"system_prompt": "Answer in French."})
    assert tok.decode(tr.token_ids[: tr.prompt_len], skip_special_tokens=True) == "Answer in French.\n\n" + tr.prompt
    [[plain]] = collect_rollouts(ScriptEngine(tok, ["\\boxed{5}"]), "rlvr/Math-v0", tok, sampling, tasks=[TASK], n=1)
    assert tok.decode(plain.token_ids[: plain.prompt_len], skip_special_tokens=True) == plain.prompt


def test_warmup_prompt_is_the_rollouts_raw_prompt_with_the_system_message():
    tok = _raw_tokenizer()
    env_kwargs = {"system_prompt": "Answer with digits only."}
    collector = RolloutCollector(ScriptEngine(tok, ["5"]), "rlvr/Arithmetic-v0", tok, env_kwargs=env_kwargs)
    [[tr]] = collector.collect([{"index": 7}], 1, SamplingParams(max_new_tokens=8))
    env = rlvr.make("rlvr/Arithmetic-v0", **env_kwargs)
    [(prompt_ids, _)] = _examples(env, collector, tok, [7])
    assert prompt_ids == tr.token_ids[: tr.prompt_len]
    assert "Answer with digits only." in tok.decode(prompt_ids)
    collector.close()


# ------------------------------------------------------------------ 2. a non-special stop token id keeps its text


class ForcedHF(HFEngine):
    """The hf engine with its model's logits forced to emit ``scripts[turn]`` (then EOS)."""

    def __init__(self, model, tok, scripts):
        super().__init__(model, tok)
        self.scripts, self.turn, self.k = scripts, -1, 0

    def _generate(self, prompts, n, sampling, caps):
        self.turn += 1
        self.k = 0
        return super()._generate(prompts, n, sampling, caps)

    def _forward(self, **inputs):
        out = super()._forward(**inputs)
        script = self.scripts[min(self.turn, len(self.scripts) - 1)]
        token = script[self.k] if self.k < len(script) else self.tokenizer.eos_token_id
        self.k += 1
        forced = torch.full_like(out.logits[:, -1, :], -1e4)
        forced[:, token] = 1e4
        out.logits[:, -1, :] = forced
        return out


@pytest.fixture(scope="module")
def qwen_like():
    tok = build_tiny_tokenizer("chatml")
    tok.add_tokens(["<tool_call>", "</tool_call>"])  # as in Qwen2.5 / Qwen3: added, not special
    torch.manual_seed(0)
    return tok, build_tiny_model(tok)


def _tool_episode(tok, model, sampling):
    scripts = [tok.encode(CALL, add_special_tokens=False), tok.encode("\\boxed{5}", add_special_tokens=False)]
    [[tr]] = collect_rollouts(ForcedHF(model, tok, scripts), "rlvr/ToolMath-v0", tok, sampling, tasks=[TASK], n=1,
                              env_kwargs={"builtin_tools": ("calculator",)})
    return tr


def test_stop_token_id_of_a_non_special_token_keeps_its_text_as_a_stop_string_does(qwen_like):
    tok, model = qwen_like
    close = tok.convert_tokens_to_ids("</tool_call>")
    by_id = _tool_episode(tok, model, SamplingParams(temperature=0, max_new_tokens=100, stop_token_ids=(close,)))
    by_string = _tool_episode(tok, model, SamplingParams(temperature=0, max_new_tokens=100, stop=("</tool_call>",)))
    assert by_id.turn_texts[0] == CALL  # the env judged the closed call (before: without "</tool_call>")
    assert [m["content"] for m in by_id.messages if m["role"] == "tool"] == ["5"]
    assert not by_id.template_mismatch and by_id.correct
    assert by_id.turn_texts == by_string.turn_texts and by_id.total_reward == by_string.total_reward
    assert by_id.token_ids == by_string.token_ids


def test_eos_as_a_stop_token_id_adds_no_text(qwen_like):
    tok, model = qwen_like
    tr = _tool_episode(tok, model, SamplingParams(temperature=0, max_new_tokens=100, stop_token_ids=(tok.eos_token_id,)))
    assert tr.turn_texts == [CALL, "\\boxed{5}"] and tr.correct and not tr.template_mismatch


class VLLMLikeEngine(Engine):
    """Reports a stop token id as vLLM does: ``stop_reason`` the id, the token's text left out."""

    def __init__(self, tok):
        self.tok, self.turn = tok, 0

    def generate(self, prompts, n, sampling):
        self.turn += 1
        if self.turn == 1:
            ids = self.tok.encode(CALL, add_special_tokens=False)
            sample = Sample(ids, [-0.1] * len(ids), "stop", CALL[: -len("</tool_call>")], {"stop_reason": ids[-1]})
        else:
            ids = self.tok.encode("\\boxed{5}", add_special_tokens=False) + [self.tok.eos_token_id]
            sample = Sample(ids, [-0.1] * len(ids), "stop", "\\boxed{5}")
        return [[sample for _ in range(n)] for _ in prompts]

    def load_weights(self, weights):
        pass


def test_a_stop_token_id_vllm_reports_gets_its_text_back(qwen_like):
    tok, _ = qwen_like
    close = tok.convert_tokens_to_ids("</tool_call>")
    [[tr]] = collect_rollouts(VLLMLikeEngine(tok), "rlvr/ToolMath-v0", tok, SamplingParams(max_new_tokens=100, stop_token_ids=(close,)),
                              tasks=[TASK], n=1, env_kwargs={"builtin_tools": ("calculator",)})
    assert tr.turn_texts == [CALL, "\\boxed{5}"] and tr.correct and not tr.template_mismatch


# ------------------------------------------------------------------ 4. max_turns above the env's own limit


def test_max_turns_above_the_envs_own_limit_is_an_error_not_silently_lowered():
    tok = build_tiny_tokenizer("chatml")
    collector = RolloutCollector(ScriptEngine(tok, [CALL]), "rlvr/ToolMath-v0", tok, max_turns=8,
                                 env_kwargs={"builtin_tools": ("calculator",)})
    with pytest.raises(ValueError, match=r"max_turns=8 is more than the 4 turn\(s\) rlvr/ToolMath-v0 allows.*'max_turns': 8"):
        collector.turn_limit()
    engine = ScriptEngine(tok, [CALL])
    collector = RolloutCollector(engine, "rlvr/ToolMath-v0", tok, max_turns=8, env_kwargs={"builtin_tools": ("calculator",)})
    with pytest.raises(ValueError, match=r"max_turns=8 is more than"):
        collector.collect([TASK], 1, SamplingParams(max_new_tokens=100))
    assert engine.prompts == []  # before any generation
    with pytest.raises(ValueError, match=r"single-turn env"):
        RolloutCollector(ScriptEngine(tok, ["5"]), "rlvr/Arithmetic-v0", tok, max_turns=2).turn_limit()


def test_max_turns_within_a_raised_env_limit_runs_every_turn():
    tok = build_tiny_tokenizer("chatml")
    engine = ScriptEngine(tok, [CALL] * 5 + ["\\boxed{5}"])
    collector = RolloutCollector(engine, "rlvr/ToolMath-v0", tok, max_turns=8,
                                 env_kwargs={"builtin_tools": ("calculator",), "max_turns": 8})
    assert collector.turn_limit() == 8
    [[tr]] = collector.collect([TASK], 1, SamplingParams(max_new_tokens=100))
    assert tr.num_turns == 6 and tr.correct and not tr.episode_truncated
    collector.close()


# ------------------------------------------------------------------ 3 and 4 in the trainer


def _trainer(out, *extra):
    return Trainer(load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.jsonl=false",
        "sampling.max_new_tokens=8", "train.batch_groups=1", "train.group_size=2",
        "model.tiny_hidden_size=32", "model.tiny_layers=1", "algorithm.dynamic_sampling=false", *extra]))


def _env(trainer):
    return trainer.collector._envs(1)[0].unwrapped


def test_trainer_sets_no_action_char_cap_unless_asked_and_warns_about_a_short_one(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        tr = _trainer(tmp_path / "a")
    assert _env(tr).max_action_chars == NO_ACTION_CHAR_LIMIT
    tr.close()
    with pytest.warns(ConfigWarning, match=r"env\.kwargs\.max_action_chars=40 .*sampling\.max_new_tokens=8"):
        tr = _trainer(tmp_path / "b", "env.kwargs={max_action_chars: 40}")
    assert _env(tr).max_action_chars == 40
    tr.close()


def test_overlong_action_frac_counts_the_envs_overlong_verdicts(tmp_path):
    tr = _trainer(tmp_path, "env.kwargs={max_action_chars: 1000}")
    tok = build_tiny_tokenizer("chatml")
    long, short = "1" * 1001, "5"
    trajs = [t for text in (long, short) for group in collect_rollouts(
        ScriptEngine(tok, [text]), "rlvr/Arithmetic-v0", tok, SamplingParams(max_new_tokens=2000), tasks=[0], n=1,
        env_kwargs={"max_action_chars": 1000}) for t in group]
    assert trajs[0].verdict.details["kind"] == "overlong"
    assert tr.rollout_stats(trajs)["overlong_action_frac"] == 0.5
    tr.close()


def test_trainer_env_max_turns_raises_a_multi_turn_envs_own_limit(tmp_path):
    # (the calculator alone: with the python tool's schema too, every ToolMath prompt is longer than the
    # tiny model's context, which the trainer now refuses when it is built)
    tr = _trainer(tmp_path / "a", "env.id=rlvr/ToolMath-v0", "env.max_turns=6", "env.kwargs={builtin_tools: [calculator]}")
    assert _env(tr).max_turns == 6 and tr.collector.turn_limit() == 6
    tr.close()
    with pytest.raises(ConfigError, match=r"env\.max_turns: max_turns=6 is more than the 3"):
        _trainer(tmp_path / "c", "env.id=rlvr/ToolMath-v0", "env.max_turns=6", "env.kwargs={max_turns: 3}")
    with pytest.warns(ConfigWarning, match=r"env\.max_turns=2 does nothing: .* is a single-turn env"):
        tr = _trainer(tmp_path / "d", "env.max_turns=2")
    assert tr.collector.turn_limit() == 1
    tr.close()
