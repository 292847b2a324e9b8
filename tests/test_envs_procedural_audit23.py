"""Audit 23 of the procedural envs: fixes whose tests failed before them.

1. Countdown's chat prompt showed the example "(1 + 2) * 3" for every task, a right answer where the
   numbers hold 1, 2 and 3 and the target is 9 (generator version 3).
2. A given task's gold "1e30000000" hung the reset (and each step) for about a minute.
3. Countdown "1 = 8/8" was wrong (the left side taken as the expression) where "8/8 = 1" was right.
4. Markup around a whole answer ("$8 + 4 + 4$", "**7**", "\\(7\\)") was refused.
5. An empty `<answer></answer>` (the prompt's instruction quoted back) took the format credit and
   hid a later `\\boxed{}`.
6. Sort read "0-1-5-7" as 0 -1 -5 -7, though its tasks have no negative values.
7. `parse_number`'s space rule was ASCII-only ("1 ٢" was 12) and let "1, 234" be 1234.

Items 2-7 are answer-reading rules 4 (`rlvr.envs.answers.RULES_VERSION`).
Only names that existed before the fixes are imported, so each test fails on its own behaviour.
"""

from __future__ import annotations

import re
import time

import pytest

import rlvr
from rlvr.envs.answers import RULES_VERSION, final_answer, follows_tag_format, parse_number
from rlvr.envs.procedural import CountdownEnv, SortEnv

_EXAMPLE = re.compile(r"e\.g\. <answer>(.*)</answer>\.$")


def step(env, text, task=None, index=None):
    """(reward, reward parts, verdict) of `text` on the given task (a dict) or task `index` of `env`."""
    env.reset(options={"task": task} if task is not None else {"index": index})
    _, reward, *_, info = env.step(text)
    return reward, info["reward_parts"], info["verdict"]


def countdown(numbers, target, **settings):
    """A Countdown env and its given task "make `target` from `numbers`"."""
    return rlvr.make("Countdown-v0", **settings), {"question": "q", "answer": "?", "numbers": numbers, "target": target}


# ------------------------------------------------------------------ 1. the prompt's example is no answer


def test_the_countdown_example_that_solved_its_task_is_replaced():
    env = rlvr.make("rlvr/Countdown-v0", count=4)
    prompt, _ = env.reset(options={"index": 615})
    assert "[3, 1, 3, 2], make 9" in prompt and "(1 + 2) * 3" not in prompt
    example = _EXAMPLE.search(prompt)[1]
    assert example == "(4 + 5) * 6"
    _, reward, *_ = env.step(f"<answer>{example}</answer>")
    assert reward == 0.0
    assert env.unwrapped.fingerprint()["data"]["generator_version"] == 3


@pytest.mark.parametrize("settings", [{}, {"count": 4}, {"count": 6}, {"ops": "+"}, {"ops": "*"}, {"ops": "+*"},
                                      {"ops": "+-"}, {"ops": "+/"}, {"count": 6, "ops": "+"}])
def test_copying_the_prompts_example_never_earns_the_outcome(settings):
    env = rlvr.make("Countdown-v0", **settings)
    for index in range(400):
        prompt, _ = env.reset(options={"index": index})
        _, _, *_, info = env.step(f"<answer>{_EXAMPLE.search(prompt)[1]}</answer>")
        assert info["reward_parts"]["outcome"] == 0.0, (settings, index, prompt)


def test_with_plus_only_the_sum_example_is_replaced_where_it_makes_the_target():
    env = rlvr.make("Countdown-v0", ops="+", count=6).unwrapped
    solved = []
    for index in range(400):
        env.reset(options={"index": index})
        numbers, target = env.task.meta["numbers"], env.task.meta["target"]
        if target == 6 and {1, 2, 3} <= set(numbers):
            solved.append(index)
            assert env.task.question.endswith("e.g. <answer>(4 + 5) + 6</answer>.")
        else:
            assert env.task.question.endswith("e.g. <answer>(1 + 2) + 3</answer>.")
    assert solved  # the sweep met the case


def test_other_tasks_keep_their_prompt_byte_for_byte():
    env = rlvr.make("Countdown-v0")
    prompt, _ = env.reset(options={"index": 0})
    assert prompt == ("Using the numbers [8, 6, 5], make 13. You may use + - * / and parentheses; each number may be used "
                      "at most once, and no other numbers. Intermediate results may be negative or fractions. Put the "
                      "expression in <answer></answer> tags, e.g. <answer>(1 + 2) * 3</answer>.")


# ------------------------------------------------------------------ 2. golds are bounded


@pytest.mark.parametrize("gold", ["1e30000000", "-2.5E-30000000", "1e3_000_000"])
def test_a_gold_with_a_huge_exponent_is_refused_at_once(gold):
    env = rlvr.make("rlvr/Arithmetic-v0")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="exponent of more than 3 digits"):
        env.reset(options={"task": {"question": "What is 1?", "answer": gold}})
    assert time.perf_counter() - start < 5  # it took ~55 s


@pytest.mark.parametrize("gold, problem", [
    (10**5000 + 7, "an int of 16610 bits; a number has at most 4096 characters"),  # was Python's int-str limit
    (10**4096, "is 4097 characters long"),
], ids=["5001-digits", "4097-digits"])
def test_an_int_gold_longer_than_answers_are_read_is_refused_naming_the_rule(gold, problem):
    env = rlvr.make("rlvr/Arithmetic-v0").unwrapped
    with pytest.raises(ValueError, match=f"options\\['task'\\] answer .*{problem}"):
        env.reset(options={"task": {"question": "q", "answer": gold}})
    env.reset(options={"task": {"question": "q", "answer": -10**4094}})  # 4096 characters: still read
    assert env.step(f"<answer>{-10**4094}</answer>")[1] == 1.0


def test_a_gold_longer_than_answers_are_read_is_refused_and_plain_golds_still_work():
    env = rlvr.make("rlvr/LinearEquation-v0").unwrapped
    with pytest.raises(ValueError, match="5000 characters long"):
        env.reset(options={"task": {"question": "q", "answer": "7" * 5000}})
    with pytest.raises(ValueError, match="is not a number"):
        env.reset(options={"task": {"question": "q", "answer": "seven"}})
    for gold, answer in [("1e3", "1000"), ("-3/4", "-0.75"), ("2.5", "5/2"), ("1e-999", "1e-999")]:
        assert step(env, f"<answer>{answer}</answer>", {"question": "q", "answer": gold})[0] == 1.0, gold


# ------------------------------------------------------------------ 3. "1 = 8/8": the bare target is the number


def test_the_side_that_is_the_bare_target_is_the_target():
    env = rlvr.make("Countdown-v0")
    env.reset(options={"index": 1})
    assert (env.unwrapped.task.meta["numbers"], env.unwrapped.task.meta["target"]) == ([8, 8, 3], 1)
    for text in ["1 = 8/8", "8/8 = 1", "1 == 8 / 8", "$1$ = 8/8"]:
        reward, _, verdict = step(env, f"<answer>{text}</answer>", index=1)
        assert reward == 1.0, (text, verdict.reason)
    assert CountdownEnv(format="compact").reads_as_answer(env.unwrapped.task, "1 = 8/8")


# ------------------------------------------------------------------ 4. markup around a whole answer


@pytest.mark.parametrize("text", ["$8 + 4 + 4$", "\\(8 + 4 + 4\\)", "$$8 + 4 + 4$$", "\\[8 + 4 + 4\\]", "**8 + 4 + 4**",
                                  "`8 + 4 + 4`", "$8 + 4 + 4$.", "$8 + 4 + 4 = 16$", "$8 + 4 + 4$ = $16$",
                                  "16 = \\(8 + 4 + 4\\)", "8 + 4 + 4 = $16$"])
def test_countdown_reads_through_markup_around_the_whole_expression(text):
    env, task = countdown([8, 4, 4], 16)
    reward, _, verdict = step(env, f"<answer>{text}</answer>", task)
    assert reward == 1.0, verdict.reason


@pytest.mark.parametrize("text", ["$8$ + $4$ + 4", "$8 + 4$ + 4", "**8** + 4 + 4"])
def test_countdown_still_refuses_markup_inside_the_expression(text):
    env, task = countdown([8, 4, 4], 16)
    assert step(env, f"<answer>{text}</answer>", task)[2].details["kind"] == "unparsable"


@pytest.mark.parametrize("text, value", [("**7**", 7), ("\\(7\\)", 7), ("$7$", 7), ("\\[7\\]", 7), ("`7`", 7),
                                         ("$**7**$", 7), ("**7**.", 7), ("$-7$", -7), ("**x = 5**", 5), ("x = **5**", 5),
                                         ("\\(x = \\frac\\)", None), ("**7** or **8**", None), ("$7$ or $8$", None)])
def test_numbers_are_read_through_markup_around_them(text, value):
    assert parse_number(text, variable="x") == value


def test_number_envs_score_markup_around_the_answer_right():
    env = rlvr.make("Arithmetic-v0")
    for text in ["**12**", "\\(12\\)", "$12$"]:
        reward, parts, verdict = step(env, f"<answer>{text}</answer>", {"question": "What is 5 + 7?", "answer": "12"})
        assert reward == 1.0 and parts["format"] == 1.0, verdict.reason


# ------------------------------------------------------------------ 5. an empty tag pair is no answer


def test_an_empty_answer_tag_is_no_answer():
    quoted = "I'll put it in <answer></answer> tags.\n<answer>7</answer>"
    assert follows_tag_format(quoted) and final_answer(quoted, compact=False) == "7"
    assert final_answer("Format: <answer> </answer>\n\\boxed{7}", compact=False) == "7"
    assert final_answer("<answer>7</answer> and <answer></answer>", compact=False) == "7"
    assert not follows_tag_format("<answer></answer>") and final_answer("<answer></answer>", compact=False) == "<answer></answer>"
    env = rlvr.make("Arithmetic-v0", reward_weights={"outcome": 1, "format": 0.1})
    reward, parts, _ = step(env, quoted, {"question": "What is 3 + 4?", "answer": "7"})
    assert parts == {"outcome": 1.0, "format": 1.0, "process": 0.0} and reward == pytest.approx(1.1)


# ------------------------------------------------------------------ 6. Sort: "-" between digits separates


def test_sort_reads_a_dash_between_digits_as_a_separator_when_no_value_is_negative():
    env = SortEnv()
    task = {"question": "q", "answer": "0 1 5 7"}
    for text in ["0-1-5-7", "0 - 1 - 5 - 7", "0-1, 5-7"]:
        reward, _, verdict = step(env, f"<answer>{text}</answer>", task)
        assert reward == 1.0, (text, verdict.reason)
    assert step(env, "<answer>-0-1-5-7</answer>", task)[0] == 1.0  # -0 is 0
    assert step(env, "<answer>-1 0 5 7</answer>", task)[2].details["kind"] == "wrong_numbers"  # a minus sign


def test_sort_keeps_negative_numbers_where_the_task_has_them():
    env = SortEnv()
    task = {"question": "q", "answer": [-3, -1, 2]}
    assert step(env, "<answer>-3 -1 2</answer>", task)[0] == 1.0
    assert step(env, "<answer>-3, -1, 2</answer>", task)[0] == 1.0
    assert step(env, "<answer>3 1 2</answer>", task)[0] == 0.0


# ------------------------------------------------------------------ 7. spaces between digits of any script


@pytest.mark.parametrize("text", ["1 ٢", "١ ٢", "1\u00a02", "1 2", "1, 234", "1 ,234", "1 , 234", "12, 345.5", "1$2"])
def test_a_space_between_digits_or_beside_a_comma_between_them_leaves_no_number(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text, value", [("1,234", 1234), ("٢", 2), ("- 3", -3), ("10 / 2", 5), ("x = 1,000", 1000),
                                         ("10,", 10), ("5 .", 5)])
def test_the_space_rule_leaves_other_numbers_as_they_were(text, value):
    assert parse_number(text, variable="x") == value


def test_the_answer_rules_version_is_4():
    assert RULES_VERSION >= 4
    assert rlvr.make("Sort-v0").unwrapped.fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION
    env = rlvr.make("Arithmetic-v0")
    assert step(env, "<answer>1 ٢</answer>", {"question": "What is 5 + 7?", "answer": "12"})[0] == 0.0


def test_a_dataset_env_crediting_answer_tags_names_the_tag_rules_in_its_fingerprint():
    """The format credit of `format_reward="answer_tags"` reads the tags by the answers rules (an
    empty pair is none since rules 4), so results under two rule sets must not share a fingerprint."""
    from rlvr.envs.answers import RULES_VERSION
    from rlvr.envs.custom import DatasetEnv

    rows = [{"question": "1 + 1?", "answer": "2"}]
    tagged = DatasetEnv(rows, question_key="question", answer_key="answer", verifier="exact", format_reward="answer_tags")
    assert tagged.fingerprint()["settings"]["format_rules"] == RULES_VERSION >= 4
    tagged.reset(options={"index": 0})
    assert tagged.step("Put it in <answer></answer> tags: <answer>2</answer>")[4]["reward_parts"]["format"] == 1.0
    boxed = DatasetEnv(rows, question_key="question", answer_key="answer", verifier="exact", format_reward="boxed")
    # the boxed credit is versioned too since rules 6 (an empty box is none)
    assert boxed.fingerprint()["settings"]["format_rules"] == RULES_VERSION >= 6
    plain = DatasetEnv(rows, question_key="question", answer_key="answer", verifier="exact")
    assert "format_rules" not in plain.fingerprint()["settings"]
