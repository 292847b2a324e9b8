"""Audit 39 of the answer-tag format rule (`format_reward="answer_tags"`, `shaping.answer_tag_reward`).

A. Math-v0's "answer_tags" `format` part credited tags that show nothing to a reader but were not
   blank (`<answer>\\phantom{0}</answer>`, `\\,`, `{}`, `\\text{}`, `\\boxed{}`, `**`), which the boxed
   rule calls empty, and counted tags over the whole text: a tag drafted inside `<think>` cost the
   answer's own tag after the block its credit, and a tag inside the block earned it when the text
   after the block answered in prose. The rule now reads the part of the text the math verifier
   reads (`shaping._read_part`) and judges emptiness by the boxed rule's test through Markdown markup
   (`shaping._tag_form`).
B. `shaping.answer_tag_reward` disagreed with the env's rule: `$$` and an empty code fence were
   content for it, and two answers earned it. Both are now one rule (`answers.follows_tag_format` is
   `answer_tag_reward`), exactly one tag that shows something.
"""

from __future__ import annotations

import pytest

import rlvr
from rlvr.envs.answers import RULES_VERSION, final_answer, follows_tag_format, tagged_answers
from rlvr.verifiers.math_normalize import _normalize
from rlvr.verifiers.shaping import answer_tag_reward, boxed_reward, format_verdict

_DATA = [{"question": "What is 3*4?", "answer": "12"}]


def _parts(text: str, format_reward: str = "answer_tags") -> dict:
    """The reward parts of one Math-v0 step answering `text` (gold 12)."""
    env = rlvr.make("rlvr/Math-v0", dataset=_DATA, format_reward=format_reward,
                    reward_weights={"outcome": 1.0, "format": 0.5})
    env.reset(seed=0)
    *_, info = env.step(text)
    return info["reward_parts"]


# contents that show nothing to a reader: LaTeX that shows nothing, markup enclosing nothing
# ("{}" and "**" were here: they are answers, an "exact" gold may be one: review of audit 39, 1)
_EMPTY_CONTENTS = ["\\boxed{}", "\\phantom{0}", "\\,", "\\text{}", "$$", "```\n```",
                   "```python\n```", "\\(\\)", "~", "$\\phantom{0}$", "**\\,**"]


@pytest.mark.parametrize("content", _EMPTY_CONTENTS)
def test_a_tag_showing_nothing_earns_no_format_credit_in_the_env(content):
    assert _parts(f"<answer>{content}</answer>")["format"] == 0.0


@pytest.mark.parametrize("content", _EMPTY_CONTENTS)
def test_the_two_rules_agree_on_emptiness(content):
    text = f"<answer>{content}</answer>"
    assert answer_tag_reward(text) == 0.0
    assert not follows_tag_format(text)
    assert tagged_answers(text) == []


@pytest.mark.parametrize("content", _EMPTY_CONTENTS[:4] + ["{}"])
def test_the_boxed_rule_calls_the_same_contents_empty(content):
    # (the reference the tag rule now follows; its behaviour is unchanged)
    assert boxed_reward(f"\\boxed{{{content}}}") == 0.0


@pytest.mark.parametrize("content", ["12", "\\boxed{12}", "**12**", "$12$", "\\(12\\)", "```\n12\n```",
                                     "Paris", "\\frac{1}{2}", "\\pi", "x", "-", "\\text{twelve}", "٣"])
def test_a_tag_showing_something_still_earns_the_credit(content):
    text = f"<answer>{content}</answer>"
    assert _parts(text)["format"] == 1.0
    assert answer_tag_reward(text) == 1.0 and follows_tag_format(text)


def test_a_tag_drafted_inside_the_reasoning_does_not_cost_the_answer_its_credit():
    text = "<think>Draft: <answer>13</answer>? No, 3*4 is 12.</think><answer>12</answer>"
    parts = _parts(text)
    assert parts["outcome"] == 1.0 and parts["format"] == 1.0
    assert answer_tag_reward(text) == 1.0
    # as the boxed rule reads a box drafted there
    assert _parts("<think>Draft: \\boxed{13}? No.</think>\\boxed{12}", "boxed")["format"] == 1.0


def test_a_tag_inside_the_reasoning_earns_nothing_when_the_text_after_it_answers():
    text = "<think><answer>12</answer></think> The answer is 13."
    parts = _parts(text)
    assert parts["outcome"] == 0.0 and parts["format"] == 0.0
    assert answer_tag_reward(text) == 0.0 and not follows_tag_format(text)
    assert _parts("<think>\\boxed{12}</think> The answer is 13.", "boxed")["format"] == 0.0


def test_a_tag_in_a_block_with_no_answer_after_it_is_read_as_the_verifier_reads_it():
    # nothing after the block answers: the verifier reads the whole text, so does the rule
    assert answer_tag_reward("<think>So <answer>12</answer></think>") == 1.0
    assert answer_tag_reward("<think>3*4 = 12</think><answer>12</answer>") == 1.0


def test_a_tag_past_the_end_of_the_chat_turn_is_not_read():
    text = "No idea<|im_end|>\n<|im_start|>user\nWhat?<|im_start|>assistant\n<answer>7</answer>"
    assert answer_tag_reward(text) == 0.0 and not follows_tag_format(text)
    two = "<answer>12</answer><|im_end|>\n<|im_start|>user\nAnd 6+7?<|im_start|>assistant\n<answer>13</answer>"
    assert follows_tag_format(two) and _parts(two)["format"] == 1.0


@pytest.mark.parametrize("text", ["<answer>12</answer> and <answer>13</answer>",
                                  "<answer>12</answer><ANSWER>13</ANSWER>"])
def test_two_answers_are_no_format_for_either_rule(text):
    assert answer_tag_reward(text) == 0.0
    assert _parts(text)["format"] == 0.0
    assert not format_verdict(text, think=False, boxed=False, answer_tag=True).correct


@pytest.mark.parametrize("text", [
    "<answer>$$</answer>", "<answer>```\n```</answer>", "<answer>12</answer> and <answer>13</answer>",
    "I will put it in <answer></answer> tags. <answer>12</answer>", "<answer>\n12\n</answer>",
    "<answer >12</answer>", "\\boxed{12}", "<ANSWER>7</ANSWER>", "<answer>\\phantom{0}</answer><answer>12</answer>",
    "<think><answer>1</answer></think><answer>2</answer><answer>3</answer>", "<answer>\u200b</answer>",
])
def test_the_env_rule_is_the_shaping_rule(text):
    assert _parts(text)["format"] == answer_tag_reward(text) == float(follows_tag_format(text))


def test_an_empty_looking_tag_is_no_answer_and_a_later_box_is_read():
    assert final_answer("<answer>\\phantom{0}</answer> So \\boxed{12}", compact=False) == "12"
    assert final_answer("<answer>12</answer> <answer>\\,</answer>", compact=False) == "12"


def test_the_format_rules_version_went_up():
    env = rlvr.make("rlvr/Math-v0", dataset=_DATA, format_reward="answer_tags")
    assert RULES_VERSION >= 13 and env.unwrapped.fingerprint()["settings"]["format_rules"] == RULES_VERSION


def test_a_plain_answer_is_judged_without_normalising():
    # (a format reward runs on every step: plain content decides in a regex search)
    _normalize.cache_clear()
    for text in ("<answer>12</answer>", "<answer>Paris</answer>", "<answer>**7**</answer>",
                 "<think>3*4 = 12</think><answer>12</answer>"):
        assert answer_tag_reward(text) == 1.0
    assert _normalize.cache_info().misses == 0


# --- review of audit 39 ---------------------------------------------------------------------------
# 1. The emptiness test normalised like the math verifier (dropping every "*", "`", "~", braces,
#    ".", "$", "°"), so "exact" envs scored right answers made of symbols 0. A tag is empty only when
#    nothing visible remains once the markup enclosing it and the LaTeX that shows nothing go.

_SYMBOL_ANSWERS = ["*", "**", "{}", ".", "...", "$", "\\$", "°", "\\circ", "\\degree", "{ }", "{{}}",
                   "\\text{*}", "\\text{.}", "$*$", "[]", "\\{\\}"]


@pytest.mark.parametrize("answer", _SYMBOL_ANSWERS)
def test_a_symbol_in_a_tag_is_an_answer_for_the_exact_verifier_and_the_format(answer):
    from rlvr.envs.scoring import _exact_score
    from rlvr.envs.tasks import Task

    text = f"The answer is:\n<answer>{answer}</answer>"
    assert tagged_answers(text) == [answer]
    assert final_answer(text, compact=False) == answer
    assert _exact_score(True, Task(id="t", question="q", answer=answer), text).correct
    assert answer_tag_reward(text) == 1.0 and follows_tag_format(text)


def test_an_exact_env_scores_a_json_object_and_an_operator_in_tags():
    rows = [{"question": "The JSON object of errors?", "answer": {}}, {"question": "Python's product?", "answer": "*"}]
    rlvr.register("rlvr/Review39Exact-v0", dataset=rows, verifier="exact", format_reward="answer_tags",
                  reward_weights={"outcome": 1.0, "format": 0.2})
    env = rlvr.make("rlvr/Review39Exact-v0")
    for index, text in ((0, "No errors.\n<answer>{}</answer>"), (1, "<answer>*</answer>")):
        env.reset(seed=0, options={"index": index})
        *_, info = env.step(text)
        assert info["reward_parts"]["outcome"] == 1.0 and info["reward_parts"]["format"] == 1.0


@pytest.mark.parametrize("content", ["\\hphantom{12}", "\\vphantom{x}", "\\phantom{\\frac{1}{2}}", "\\;\\:\\!",
                                     "\\quad", "\\qquad", "\\hspace{1cm}", "\\vspace{2pt}", "\\ ", "\\mathrm{}",
                                     "\\boxed{\\text{}}", "\\text{\\,}", "****", "``````", "`\\quad`", "\\[ \\]",
                                     "$$\\phantom{0}$$", "\u200b"])
def test_latex_and_markup_that_show_nothing_stay_empty(content):
    text = f"<answer>{content}</answer>"
    assert answer_tag_reward(text) == 0.0 and tagged_answers(text) == []


# 2. A tag drafted inside <think> was the procedural envs' answer while the format part no longer read
#    it: `final_answer` reads the part the format part reads.

def _arithmetic_outcome(text: str) -> float:
    env = rlvr.make("rlvr/Arithmetic-v0")
    env.reset(seed=0)  # "What is 7 + 0?": 7
    *_, info = env.step(text)
    return info["reward_parts"]["outcome"]


def test_a_tag_drafted_in_the_reasoning_is_no_procedural_answer_when_prose_answers_after_it():
    assert _arithmetic_outcome("<answer>7</answer>") == 1.0
    assert _arithmetic_outcome("<think>Check: <answer>7</answer></think> The answer is 8.") == 0.0
    assert final_answer("<think>Check: <answer>7</answer></think> The answer is 8.", compact=False) == "The answer is 8."
    # a box drafted there too, read from the same part
    assert final_answer("<think>\\boxed{7}</think> The answer is 8.", compact=False) == "The answer is 8."
    assert _arithmetic_outcome("<think>Check: \\boxed{7}</think> The answer is 8.") == 0.0
    # the answer after the block is read; nothing answering after it, the block is read
    assert _arithmetic_outcome("<think>Draft: <answer>8</answer></think>\n<answer>7</answer>") == 1.0
    assert final_answer("<think>So <answer>7</answer></think> Done.", compact=False) == "7"
    assert final_answer("<think>So</think> \\boxed{7}", compact=False) == "7"


def test_the_procedural_answer_stops_at_the_end_of_the_chat_turn():
    text = "<answer>7</answer><|im_end|>\n<|im_start|>user\nAnd 6+7?<|im_start|>assistant\n<answer>13</answer>"
    assert final_answer(text, compact=False) == "7" and follows_tag_format(text)


# 3. The tail after </think> was read only when what it says looks like maths: a tag there holding a
#    word, code or JSON lost its credit to a draft in the block.

@pytest.mark.parametrize("answer", ["東京", "Москва", "A, C", "N/A", "∅", "😀", "print('hi')", '{"name": "Bob"}',
                                    "Hello, world!", "def f(x): return x"])
def test_a_tag_after_the_reasoning_is_read_alone_whatever_it_holds(answer):
    text = f"<think>Draft: <answer>13</answer>. Hmm.</think>\n<answer>{answer}</answer>"
    assert answer_tag_reward(text) == 1.0 and follows_tag_format(text)
    assert final_answer(text, compact=False) == answer


# 4. Two tags were called a missing tag; a restated answer and a tag quoted in code counted as a
#    second answer.

def test_format_verdict_names_two_tags_as_such():
    two = format_verdict("<answer>12</answer> or <answer>13</answer>", think=False, boxed=False, answer_tag=True)
    assert two.reason == "format: <answer> tags giving different answers"
    none = format_verdict("no tag", think=False, boxed=False, answer_tag=True)
    assert none.reason == "format: missing an <answer>…</answer> tag"
    assert format_verdict("<answer>12</answer>", think=False, boxed=False, answer_tag=True).correct


@pytest.mark.parametrize("text", ["<answer>12</answer>\n\nSo the final answer is <answer>12</answer>.",
                                  "<answer>12</answer><ANSWER>12</ANSWER>", "<answer>**12**</answer> so <answer>12</answer>",
                                  "<answer>$12$</answer> i.e. <answer> 12 </answer>"])
def test_tags_restating_one_answer_are_one_answer(text):
    assert answer_tag_reward(text) == 1.0 and follows_tag_format(text)
    assert _parts(text)["format"] == 1.0


@pytest.mark.parametrize("text", ["Format: `<answer>N</answer>`.\nWork... 3*4=12.\n<answer>12</answer>",
                                  "I'll write it as:\n```\n<answer>your answer</answer>\n```\n3*4=12\n<answer>12</answer>",
                                  "~~~\n<answer>N</answer>\n~~~\n<answer>12</answer>",
                                  "<answer>12</answer> (as `<answer>N</answer>` asks)"])
def test_a_tag_quoted_in_code_is_no_answer(text):
    assert answer_tag_reward(text) == 1.0 and _parts(text)["format"] == 1.0
    assert tagged_answers(text) == ["12"] and final_answer(text, compact=False) == "12"


def test_a_tag_only_quoted_in_code_earns_nothing_but_is_read_when_nothing_else_answers():
    text = "```\n<answer>7</answer>\n```"
    assert answer_tag_reward(text) == 0.0 and tagged_answers(text) == []
    assert final_answer(text, compact=False) == "7"
    assert final_answer("Use `<answer>N</answer>`. \\boxed{7}", compact=False) == "7"


# 5. A long tag or box that shows nothing earned credit: past MAX_ANSWER_CHARS `normalize` gives the
#    text back as it is, so `\phantom{0}` x 300 was content.

@pytest.mark.parametrize("count", [100, 300, 1000])
def test_a_long_run_of_invisible_latex_is_empty(count):
    content = "\\phantom{0}" * count
    assert answer_tag_reward(f"<answer>{content}</answer>") == 0.0
    assert boxed_reward(f"\\boxed{{{content}}}") == 0.0
    assert boxed_reward(f"\\boxed{{{content}7}}") == 1.0
    spaces = "\\," * 2000
    assert boxed_reward(f"\\boxed{{$\\hspace{{1cm}}$ {spaces}}}") == 0.0
