"""Review 34, second round (406dfa9):

1. The openai engine given the model's tokenizer stays chat-level (``chat_only``): the collector
   had made it token-level and called its ``generate``, which refuses, so the tokenizer the
   ``stop_token_ids`` refusal asks for could never be passed. ``rlvr serve`` names the id of a
   ``stop_token_ids`` stop as ``stop_reason`` (as vLLM does), so a ToolMath call stopped on a
   non-special ``</tool_call>`` id comes back closed and is scored. Checked with the real
   OpenAIEngine against a real ``rlvr serve`` (ChatCompletionServer) of the tiny model.
2. An old raw-text run whose *evaluation* env has a system message (``eval.env_kwargs``) is
   refused on resume, as one whose training env has: its held-out curve would mix two layouts.
3. A checkpoint made by a newer rlvr (``env_kwargs_rules`` or ``prompt_layout`` above this rlvr's)
   is refused; recorded ``env_kwargs`` that differ from the rebuilt ones are named.
"""

from __future__ import annotations

import pytest
import torch
from test_engines_audit27 import _qwen_like_tokenizer, _tool_math_model  # the tiny model, scripted to call the calculator
from test_rollout_review34 import _make_old, _resume, _train

from rlvr.commands.serve import ChatCompletionServer
from rlvr.trainers.config import ENV_KWARGS_RULES, NO_ACTION_CHAR_LIMIT
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.openai_engine import OpenAIEngine
from rlvr.trainers.rollout import PROMPT_LAYOUT, RolloutCollector
from rlvr.trainers.runs import ResumeError

# ------------------------------------------------------------------ 1. stop_token_ids through rlvr serve


def test_a_tool_call_stopped_on_its_token_id_comes_back_closed_through_the_openai_engine_and_rlvr_serve():
    tok = _qwen_like_tokenizer()
    close = tok.convert_tokens_to_ids("</tool_call>")
    sampling = SamplingParams(temperature=0, max_new_tokens=200, stop_token_ids=(close,))
    with ChatCompletionServer(HFChatEngine(_tool_math_model(tok), tok), "m", "127.0.0.1", 0) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0)
        collector = RolloutCollector(engine, "rlvr/ToolMath-v0", tok, env_kwargs={"max_turns": 3})
        try:
            assert not collector.token_level  # was: token-level, so engine.generate -> NotImplementedError
            [[tr]] = collector.collect([0], 1, sampling)  # (task 0 asks 12*5)
        finally:
            collector.close()
    assert tr.turn_texts[0].endswith('"12*5"}}</tool_call>')  # was: the call unclosed (no stop_reason)
    assert tr.turn_texts[-1] == "\\boxed{60}" and tr.correct


def test_rlvr_serve_names_a_stop_token_ids_stop_by_its_id_but_not_an_eos():
    tok = _qwen_like_tokenizer()
    close = tok.convert_tokens_to_ids("</tool_call>")
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0, "max_tokens": 200}
    with ChatCompletionServer(HFChatEngine(_tool_math_model(tok), tok), "m", "127.0.0.1", 0) as srv:
        [by_id] = srv.chat_completion({**body, "stop_token_ids": [close]})["choices"]
        [by_string] = srv.chat_completion({**body, "stop": ["</tool_call>"]})["choices"]
        [eos] = srv.chat_completion({**body, "stop_token_ids": [tok.eos_token_id],
                                     "messages": [{"role": "tool", "content": "60"}]})["choices"]
    assert by_id["finish_reason"] == "stop" and by_id["stop_reason"] == close  # was: None
    assert not by_id["message"]["content"].endswith("</tool_call>")  # (its text left out, as vLLM does)
    assert by_string["stop_reason"] == "</tool_call>"
    assert eos["message"]["content"] == "\\boxed{60}" and eos["finish_reason"] == "stop" and eos["stop_reason"] is None


# ------------------------------------------------------------------ 2. the evaluation env's prompt layout


def test_an_old_raw_text_run_whose_eval_env_has_a_system_message_is_refused(tmp_path):
    ex = ("env.chat_template=false", "env.kwargs={format: compact}", "eval.num_tasks=2", "eval.every=1",
          "eval.env_kwargs={system_prompt: Answer briefly.}")
    _train(tmp_path, *ex)
    _make_old(tmp_path, *ex)
    with pytest.raises(ResumeError, match=r"held-out evaluation's raw-text prompts .* \('Answer briefly.'\)"):
        _resume(tmp_path, *ex)  # was: resumed, the held-out curve mixing two prompt layouts
    tr = _resume(tmp_path, *ex, allow=True)
    try:
        assert "eval.prompt_layout" in tr._config_changes and "env.prompt_layout" not in tr._config_changes
    finally:
        tr.close()


# ------------------------------------------------------------------ 3. what checkpoints record


def _rewrite(out, **entries):
    [ckpt] = (out / "checkpoints").iterdir()
    path = ckpt / "trainer_state.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    torch.save({**state, **entries}, path)
    return state


def test_a_checkpoint_of_a_newer_rlvr_is_refused_and_other_recorded_env_settings_are_named(tmp_path, capsys):
    _train(tmp_path)
    kept = _rewrite(tmp_path)
    for entries in ({"env_kwargs_rules": ENV_KWARGS_RULES + 1}, {"prompt_layout": PROMPT_LAYOUT + 1}):
        _rewrite(tmp_path, **entries)
        [(key, value)] = entries.items()
        for allow in (False, True):  # was: run as rules 1 / as the current layout
            with pytest.raises(ResumeError, match=rf"made by a newer rlvr: its {key} is {value}"):
                _resume(tmp_path, allow=allow)
        _rewrite(tmp_path, **kept)
    _rewrite(tmp_path, env_kwargs={**kept["env_kwargs"], "max_action_chars": 5000})
    capsys.readouterr()
    _resume(tmp_path).close()  # was: the record never read
    said = capsys.readouterr()
    assert f"other settings than step_000001 recorded (max_action_chars: 5000 -> {NO_ACTION_CHAR_LIMIT})" in said.out + said.err
    _rewrite(tmp_path, **kept)
    _resume(tmp_path).close()
    said = capsys.readouterr()
    assert "other settings" not in said.out + said.err

