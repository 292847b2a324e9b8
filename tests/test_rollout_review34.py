"""Review 34 of the rollout fixes (c7c6e7b): runs made before them resume, and what changed is
recorded where it changes a run.

* a checkpoint written before the trainer set its envs' settings (no ``max_action_chars`` cap,
  ``env.max_turns`` given to multi-turn envs) resumes with an unchanged config and keeps the
  settings it was trained with; ``--allow-config-change`` takes the new ones;
* ``env.max_turns`` above 1 on a single-turn env is a warning, not an error;
* raw-text prompts that now hold the env's system message are a change a resume (trainer) or a
  rerun in an eval folder refuses, only where the prompts did change;
* an eval folder made with ``--max-turns N`` on a single-turn env can be resumed, and a
  ``--max-turns`` the env would not honour is refused before anything is written;
* the openai engine keeps a stop token's id (vLLM's ``stop_reason``), and the collector gives the
  env that token's text back (or refuses ``stop_token_ids`` it cannot decode);
* a short ``max_action_chars`` of the evaluation's env is warned about too.

"Old" checkpoints are made here from a new one, by rewriting its ``trainer_state.pt`` as rlvr
before c7c6e7b wrote it: without the records this fix adds (``env_kwargs_rules``, ``env_kwargs``,
``prompt_layout``) and with the env fingerprint of an env built from ``env.kwargs`` as they are
(what the old trainer computed). Old eval folders are made by writing run.json as the old
``rlvr eval`` did (the same identity, without ``prompt_layout``).
"""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from rlvr.benchmarks.identity import RUN, SAMPLES, RunMismatchError, check_prompt_layout, check_run, prompt_layout_identity
from rlvr.envs.registry import make
from rlvr.trainers.config import NO_ACTION_CHAR_LIMIT, Config, ConfigWarning, load_config
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.openai_engine import _sample_from_choice
from rlvr.trainers.rollout import PROMPT_LAYOUT, RolloutCollector, collect_rollouts
from rlvr.trainers.runs import ResumeError
from rlvr.trainers.tiny import build_tiny_tokenizer
from rlvr.trainers.trainer import Trainer

TASK = {"task": {"question": "What is 2+3?", "answer": "5"}}
CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+3"}}</tool_call>'
DEFAULT_CAP = 16384  # the envs' own max_action_chars


def _cfg(out, *extra):
    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.jsonl=false",
        "log.save_every=1", "sampling.max_new_tokens=4", "train.batch_groups=1", "train.group_size=2",
        "train.total_steps=1", "model.tiny_hidden_size=16", "model.tiny_layers=1", "algorithm.dynamic_sampling=false",
        *extra])


def _train(out, *extra):
    tr = Trainer(_cfg(out, *extra))
    try:
        tr.train()
    finally:
        tr.close()


def _make_old(out, *extra):
    """Rewrite the run's checkpoint as rlvr before c7c6e7b wrote it (see the module's notes)."""
    [ckpt] = (out / "checkpoints").iterdir()
    path = ckpt / "trainer_state.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("env_kwargs_rules", "env_kwargs", "prompt_layout"):
        state.pop(key, None)
    cfg = _cfg(out, *extra)
    fp = make(cfg.env.id, **cfg.env.kwargs).unwrapped.fingerprint()  # the old trainer's: env.kwargs as they are
    state["env_fingerprint"] = {"digest": fp.digest, "record": fp.to_dict()}
    torch.save(state, path)


def _resume(out, *extra, allow=False):
    return Trainer(_cfg(out, "train.total_steps=2", *extra), resume=True, allow_config_change=allow)


def _env(collector):
    return collector._envs(1)[0].unwrapped


# ------------------------------------------------------------------ 1. old checkpoints keep their env settings


def test_an_old_checkpoint_resumes_unchanged_with_its_old_env_settings(tmp_path, capsys):
    _train(tmp_path)
    tr = _resume(tmp_path)  # a new checkpoint: its recorded settings, the no-cap default
    assert tr.env_kwargs["max_action_chars"] == NO_ACTION_CHAR_LIMIT
    tr.close()
    state = torch.load(next((tmp_path / "checkpoints").iterdir()) / "trainer_state.pt", weights_only=True)
    assert state["env_kwargs_rules"] == 1 and state["prompt_layout"] == PROMPT_LAYOUT
    assert state["env_kwargs"]["max_action_chars"] == NO_ACTION_CHAR_LIMIT
    _make_old(tmp_path)
    capsys.readouterr()
    tr = _resume(tmp_path)  # was: ResumeError "the env fingerprint changed ... max_action_chars: 16384 -> 1000000000"
    try:
        assert tr.env_rules == 0 and "max_action_chars" not in tr.env_kwargs
        assert _env(tr.collector).max_action_chars == DEFAULT_CAP
        tr.train()  # its checkpoints go on recording the old settings
    finally:
        tr.close()
    ckpt = max((tmp_path / "checkpoints").iterdir())  # step_2's
    state = torch.load(ckpt / "trainer_state.pt", map_location="cpu", weights_only=True)
    assert state["env_kwargs_rules"] == 0 and "max_action_chars" not in state["env_kwargs"]


def test_an_old_checkpoint_says_it_keeps_its_settings_and_allow_config_change_takes_the_new_ones(tmp_path, capsys):
    _train(tmp_path)
    _make_old(tmp_path)
    capsys.readouterr()
    _resume(tmp_path).close()
    said = capsys.readouterr()
    assert "keeps its env settings" in said.out + said.err and "--allow-config-change" in said.out + said.err
    tr = _resume(tmp_path, allow=True)
    try:
        assert tr.env_kwargs["max_action_chars"] == NO_ACTION_CHAR_LIMIT and tr._config_changes.get("env.fingerprint")
    finally:
        tr.close()


# ------------------------------------------------------------------ 2. env.max_turns on a single-turn env


def test_an_old_run_with_env_max_turns_on_a_single_turn_env_resumes(tmp_path):
    with pytest.warns(ConfigWarning, match=r"env\.max_turns=2 does nothing: rlvr/Arithmetic-v0 is a single-turn env"):
        _train(tmp_path, "env.max_turns=2")
    _make_old(tmp_path, "env.max_turns=2")
    tr = _resume(tmp_path, "env.max_turns=2")  # was: ConfigError "single-turn env ... leave max_turns unset"
    try:
        assert tr.collector.max_turns == 1 and tr.collector.turn_limit() == 1
    finally:
        tr.close()


def test_an_old_run_keeps_env_max_turns_lowered_to_a_multi_turn_envs_own_limit(tmp_path):
    # raw text (the tiny chat template ignores tools=, which is refused) with the calculator alone: a
    # tool listing the tiny model's context holds
    short = "env.kwargs={max_turns: 3, system_prompt: '', builtin_tools: [calculator]}", "env.chat_template=false"
    with pytest.raises(Exception, match=r"max_turns=5 is more than the 3"):  # a new run: an error
        Trainer(_cfg(tmp_path / "new", "env.id=rlvr/ToolMath-v0", "env.max_turns=5", *short))
    _train(tmp_path, "env.id=rlvr/ToolMath-v0", "env.max_turns=3", *short)
    _make_old(tmp_path, "env.id=rlvr/ToolMath-v0", "env.max_turns=3", *short)
    state_path = next((tmp_path / "checkpoints").iterdir()) / "trainer_state.pt"
    state = torch.load(state_path, map_location="cpu", weights_only=True)
    state["config"]["env"]["max_turns"] = 5
    torch.save(state, state_path)  # the run an old rlvr started with env.max_turns 5 on an env of 3 turns
    tr = _resume(tmp_path, "env.id=rlvr/ToolMath-v0", "env.max_turns=5", *short)
    try:
        assert tr.collector.turn_limit() == 3 and _env(tr.collector).max_turns == 3
    finally:
        tr.close()


# ------------------------------------------------------------------ 3. the raw-text prompt layout


def test_an_old_raw_text_run_with_a_system_prompt_is_refused_and_others_resume(tmp_path):
    raw = ("env.chat_template=false", "env.kwargs={format: compact, system_prompt: Answer briefly.}")
    _train(tmp_path / "sys", *raw)
    _make_old(tmp_path / "sys", *raw)
    with pytest.raises(ResumeError, match=r"raw-text prompts .* system message \('Answer briefly.'\)"):
        _resume(tmp_path / "sys", *raw)
    _resume(tmp_path / "sys", *raw, allow=True).close()
    chat = ("env.chat_template=true", "env.kwargs={system_prompt: Answer briefly.}")  # chat template: prompts as before
    _train(tmp_path / "chat", *chat)
    _make_old(tmp_path / "chat", *chat)
    _resume(tmp_path / "chat", *chat).close()


def _old_folder(out, identity):
    """An eval folder as the older rlvr eval left it: run.json (no prompt_layout) and a sample."""
    check_run(str(out), identity, {})
    (out / SAMPLES).write_text(json.dumps({"task_id": "t0", "sample": 0, "completion": "x"}) + "\n")


def test_an_old_eval_folder_in_raw_text_mode_with_a_system_message_is_refused(tmp_path):
    env = make("rlvr/Arithmetic-v0", system_prompt="Answer briefly.").unwrapped
    assert prompt_layout_identity(env) == {"prompt_layout": PROMPT_LAYOUT}
    assert prompt_layout_identity(make("rlvr/Arithmetic-v0").unwrapped) == {}
    _old_folder(tmp_path, {"model": "m"})
    check_run(str(tmp_path), {"model": "m", **prompt_layout_identity(env)}, {})  # the identity matches otherwise
    assert "prompt_layout" not in json.loads((tmp_path / RUN).read_text())  # the folder stays marked as old
    with pytest.raises(RunMismatchError, match=r"left out the env's system message"):
        check_prompt_layout(str(tmp_path), env, raw_text=True)
    check_prompt_layout(str(tmp_path), env, raw_text=False)  # chat template: the prompts did not change
    check_prompt_layout(str(tmp_path), make("rlvr/Arithmetic-v0").unwrapped, raw_text=True)  # no system message
    fresh = tmp_path / "fresh"
    check_run(str(fresh), {"model": "m", **prompt_layout_identity(env)}, {})
    (fresh / SAMPLES).write_text("{}\n")
    check_prompt_layout(str(fresh), env, raw_text=True)


# ------------------------------------------------------------------ 4. --max-turns on a single-turn env


def test_an_eval_folder_with_max_turns_on_a_single_turn_env_matches_any_max_turns(tmp_path):
    _old_folder(tmp_path, {"model": "m", "max_turns": 2})
    check_run(str(tmp_path), {"model": "m", "max_turns": None}, {}, single_turn=True)
    assert json.loads((tmp_path / RUN).read_text())["max_turns"] is None
    other = tmp_path / "multi"
    _old_folder(other, {"model": "m", "max_turns": 2})
    with pytest.raises(RunMismatchError, match=r"max_turns: 2 -> None"):  # a multi-turn env: they differ
        check_run(str(other), {"model": "m", "max_turns": None}, {})


def test_eval_refuses_max_turns_on_a_single_turn_env_before_writing_run_json(tmp_path):
    from rlvr.benchmarks.evaluate import prepare_engine_run

    data = tmp_path / "gsm.jsonl"
    data.write_text(json.dumps({"question": "What is 2+3?", "answer": "2+3=5\n#### 5"}) + "\n")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"--max-turns: max_turns=2, but .* is a single-turn env"):
        prepare_engine_run("gsm8k", str(out), engine_name="hf", model_name="tiny", data=str(data), max_turns=2,
                           progress=False, verbose=False)
    assert not (out / RUN).exists()


# ------------------------------------------------------------------ 5. stop token ids on a chat-level engine


def _vllm_like_answer(stop_id):
    """A vLLM server's answers with stop_token_ids, for test_engine_openai_audit32's HTTP server: the
    first turn ends on the stop token (finish_reason "stop", stop_reason its id), its text without
    the token's; once the tool has replied, the answer."""
    def answer(body):
        if any(m.get("role") == "tool" for m in body["messages"]):
            choice = {"finish_reason": "stop", "stop_reason": None, "message": {"role": "assistant", "content": "\\boxed{5}"}}
        else:
            choice = {"finish_reason": "stop", "stop_reason": stop_id,
                      "message": {"role": "assistant", "content": CALL[: -len("</tool_call>")]}}
        return 200, {"choices": [{"index": j, **choice} for j in range(body.get("n", 1))]}
    return answer


def test_openai_engine_keeps_a_stop_token_id_and_the_env_gets_its_text(tmp_path):
    """The real openai engine (a client of a real HTTP server answering as vLLM does): given the
    model's tokenizer it stays chat-level (its `generate` refuses), and the tokenizer decodes the
    stop token's id the server names, so the env sees the call closed."""
    from test_engine_openai_audit32 import Server

    from rlvr.trainers.openai_engine import OpenAIEngine

    tok = build_tiny_tokenizer("chatml")
    tok.add_tokens(["<tool_call>", "</tool_call>"])  # as in Qwen: added, not special
    close = tok.convert_tokens_to_ids("</tool_call>")
    sample = _sample_from_choice({"finish_reason": "stop", "stop_reason": close, "message": {"content": "a"}}, 0, None)
    assert sample.meta["stop_reason"] == close
    sampling = SamplingParams(max_new_tokens=100, stop_token_ids=(close,))
    with Server(_vllm_like_answer(close)) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0)
        [[tr]] = collect_rollouts(engine, "rlvr/ToolMath-v0", tok, sampling, tasks=[TASK], n=1,
                                  env_kwargs={"builtin_tools": ("calculator",)})
        assert tr.turn_texts == [CALL, "\\boxed{5}"] and tr.correct
        collector = RolloutCollector(engine, "rlvr/ToolMath-v0", None, env_kwargs={"builtin_tools": ("calculator",)})
        with pytest.raises(ValueError, match=r"stop_token_ids=\[\d+\] with a chat-level engine and no tokenizer"):
            collector.collect([TASK], 1, sampling)
        collector.close()


# ------------------------------------------------------------------ 6. the evaluation's action cap


def test_a_short_max_action_chars_of_the_evaluation_is_warned_about():
    cfg = Config()
    cfg.eval.num_tasks, cfg.eval.env_kwargs = 2, {"max_action_chars": 100}
    with pytest.warns(ConfigWarning, match=r"eval\.env_kwargs\.max_action_chars=100 may cut turns"):
        cfg.validate()
    cfg.eval.env_kwargs = {"max_action_chars": 10**9}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        cfg.validate()
