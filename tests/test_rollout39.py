"""Round 39: what an episode's opening prompt shows, and a turn cut inside a character.

* raw-text prompts list ToolMath-v0's tools when a ``system_prompt=`` of one's own leaves them out
  (the listing the env's default system prompt holds);
* a chat template that ignores ``tools=`` is an error naming the fix, not tools silently lost;
* raw-text prompts keep every opening message of the env (a few-shot example), in order;
* a turn cut off inside a multi-byte UTF-8 character is flagged ``template_mismatch`` (its text
  and the template's rendering agree, U+FFFD on both sides, their ids do not).
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import rlvr
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.opening_prompt import raw_prompt, tool_listing
from rlvr.trainers.rollout import collect_rollouts
from rlvr.trainers.tiny import CHAT_TEMPLATES, build_tiny_tokenizer
from test_trainer_rollout import FeedbackEnv, TurnScriptEngine
from test_rollout_audit34 import ScriptEngine
from test_trainer_rollout_audit24 import bytelevel_bpe_tokenizer

TASK = {"task": {"question": "What is 2+3?", "answer": "5"}}
CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+3"}}</tool_call>'
TOOLS = {"builtin_tools": ("calculator",)}
# ChatML, with a system message naming the tools when it is given tools= (as Qwen's and Hermes' do)
TOOL_TEMPLATE = ("{% if tools %}{{ '<|im_start|>system\nTools: ' + (tools | map(attribute='function') "
                 "| map(attribute='name') | join(', ')) + '<|im_end|>\n' }}{% endif %}" + CHAT_TEMPLATES["chatml"])




def _opening(tok, env_kwargs, chat_template, script=(CALL, "\\boxed{5}")):
    """The trajectory of one ToolMath-v0 episode and the opening prompt the model was given, decoded."""
    engine = ScriptEngine(tok, script)
    [[tr]] = collect_rollouts(engine, "rlvr/ToolMath-v0", tok, SamplingParams(max_new_tokens=200), tasks=[TASK], n=1,
                              env_kwargs={**TOOLS, **env_kwargs}, chat_template=chat_template)
    assert engine.prompts[0][0] == tr.token_ids[: tr.prompt_len]
    return tr, tok.decode(tr.token_ids[: tr.prompt_len], skip_special_tokens=False)


# ------------------------------------------------------------------ 1. the tools reach the model


def test_the_tool_listing_is_the_envs_default_system_prompt():
    env = rlvr.make("rlvr/ToolMath-v0", **TOOLS)
    _, info = env.reset(seed=0)
    assert info["tools_in_prompt"] and tool_listing(info["tools"]) == env.unwrapped.system_prompt
    env.close()


@pytest.mark.parametrize("system_prompt", ["Be brief.", ""])
def test_raw_text_prompt_lists_the_tools_a_system_prompt_of_ones_own_leaves_out(system_prompt):
    """Raw text has no tools=: the schemas were silently dropped ('Be brief.\\n\\n' + the prompt)."""
    tok = build_tiny_tokenizer("chatml")
    listing = rlvr.make("rlvr/ToolMath-v0", **TOOLS).unwrapped.system_prompt
    tr, prompt = _opening(tok, {"system_prompt": system_prompt}, chat_template=False)
    head = f"{system_prompt}\n\n" if system_prompt else ""
    assert prompt == head + listing + "\n\n" + tr.prompt
    assert prompt.count('"name": "calculator"') == 1
    assert tr.correct and tr.turn_texts == [CALL, "\\boxed{5}"]
    _, default = _opening(tok, {}, chat_template=False)  # the default system prompt lists them: once
    assert default == listing + "\n\n" + tr.prompt
    if not system_prompt:
        assert prompt == default


def test_a_chat_template_that_ignores_tools_is_an_error_naming_the_fix():
    tok = build_tiny_tokenizer("chatml")  # its template has no tools
    with pytest.raises(ValueError, match=r"ignores tools=.*\(calculator\).*drop system_prompt=.*chat_template=False"):
        _opening(tok, {"system_prompt": "Be brief."}, chat_template=True)
    _, prompt = _opening(tok, {}, chat_template=True)  # the env's own system prompt lists them: no tools=
    assert prompt.count('"name": "calculator"') == 1
    tok.chat_template = TOOL_TEMPLATE
    _, prompt = _opening(tok, {"system_prompt": "Be brief."}, chat_template=True)
    assert "Tools: calculator" in prompt and "Be brief." in prompt


# ------------------------------------------------------------------ 2. raw text keeps every opening message


class FewShotEnv(gym.Env):
    """Opens its episodes with a worked example (few-shot) between the system message and the question."""

    max_turns = 1
    OPENING = [{"role": "system", "content": "Answer with a number."}, {"role": "user", "content": "2+2?"},
               {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"}]

    def reset(self, *, seed=None, options=None):
        return "3+3?", {"messages": [dict(m) for m in self.OPENING], "task_id": "t"}

    def step(self, action):
        messages = self.OPENING + [{"role": "assistant", "content": action}]
        return "", float(action.strip() == "6"), True, False, {"messages": messages}


def test_raw_text_prompt_keeps_a_few_shot_example():
    """It was 'Answer with a number.\\n\\n3+3?': the worked example was dropped."""
    tok = build_tiny_tokenizer("chatml")
    [[tr]] = collect_rollouts(ScriptEngine(tok, ["6"]), FewShotEnv, tok, SamplingParams(max_new_tokens=5), tasks=[0],
                              n=1, chat_template=False)
    assert tok.decode(tr.token_ids[: tr.prompt_len]) == "Answer with a number.\n\n2+2?\n\n4\n\n3+3?"
    assert tr.turn_rewards == [1.0]


def test_raw_prompt_layout_of_the_usual_openings_is_unchanged():
    system, user = {"role": "system", "content": "S"}, {"role": "user", "content": "Q"}
    assert raw_prompt([system, user], "Q") == "S\n\nQ"
    assert raw_prompt([user], "Q") == raw_prompt([], "Q") == "Q"
    assert raw_prompt([{"role": "system", "content": ""}, user], "Q") == "Q"
    assert raw_prompt([system], "Q") == "S\n\nQ"  # (the env put the prompt in no message)


# ------------------------------------------------------------------ 3. a turn cut inside a character


@pytest.mark.parametrize("cut", [True, False])
def test_a_turn_cut_inside_a_utf8_character_is_flagged(cut):
    """Cut after 2 of the 3 bytes of "✓": the text reads "ok \\ufffd", as does the template's
    rendering of the recorded message, whose ids are U+FFFD's bytes; the flag stayed False."""
    tok = bytelevel_bpe_tokenizer()
    full = tok.encode("ok ✓", add_special_tokens=False)
    assert "".join(tok.convert_ids_to_tokens(full[-3:])) == "âľĵ"  # (the character is 3 byte tokens)
    first = full[:-1] if cut else full
    text = tok.decode(first)
    assert ("\ufffd" in text) == cut
    done = tok.encode("done", add_special_tokens=False) + [tok.eos_token_id]
    engine = TurnScriptEngine(tok, [(first, "length", text), (done, "stop", "done")])
    [[tr]] = collect_rollouts(engine, lambda: FeedbackEnv(max_turns=2), tok, SamplingParams(max_new_tokens=6), tasks=[0], n=1)
    assert tr.template_mismatch == cut
    assert tr.token_ids[tr.prompt_len : tr.prompt_len + len(first)] == first  # the sampled ids, as sampled
    assert tr.messages[2]["content"] == text


def test_a_sampled_replacement_character_is_not_flagged():
    """U+FFFD written out by the model (its own 3 bytes) round-trips: the ids are the rendering's."""
    tok = bytelevel_bpe_tokenizer()
    ids = tok.encode("ok \ufffd", add_special_tokens=False) + [tok.eos_token_id]
    done = tok.encode("done", add_special_tokens=False) + [tok.eos_token_id]
    engine = TurnScriptEngine(tok, [(ids, "stop", "ok \ufffd"), (done, "stop", "done")])
    [[tr]] = collect_rollouts(engine, lambda: FeedbackEnv(max_turns=2), tok, SamplingParams(max_new_tokens=8), tasks=[0], n=1)
    assert not tr.template_mismatch


def test_the_warmup_writes_the_tool_listing_the_raw_rollouts_write():
    """The warm-up renders its prompts as the rollouts do: in raw text with a system prompt of one's
    own, the tool listing too (it trained on prompts without the tools the rollouts then showed)."""
    from rlvr.trainers.rollout import RolloutCollector
    from rlvr.trainers.warmup import _examples

    tok = build_tiny_tokenizer("chatml")
    env_kwargs = {**TOOLS, "system_prompt": "Be brief."}
    collector = RolloutCollector(ScriptEngine(tok, ["\\boxed{5}"]), "rlvr/ToolMath-v0", tok, env_kwargs=env_kwargs,
                                 chat_template=False)
    [[tr]] = collector.collect([{"index": 0}], 1, SamplingParams(max_new_tokens=20))
    env = rlvr.make("rlvr/ToolMath-v0", **env_kwargs)
    [(prompt_ids, _)] = _examples(env, collector, tok, [0])
    assert prompt_ids == tr.token_ids[: tr.prompt_len]
    assert '"name": "calculator"' in tok.decode(prompt_ids)
    collector.close()
    env.close()
