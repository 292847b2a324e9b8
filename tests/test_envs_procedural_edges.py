"""Edge cases of the procedural envs: generation that never fails at reset for settings the build
check accepts, and answers read as the prompt asks (tags, boxes, "=", comments, compact lines)."""

from __future__ import annotations

import hashlib
import random
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs.answers import RULES_VERSION, final_answer, follows_tag_format, tagged_answers, unwrapped
from rlvr.envs.expr import ExprError, evaluate
from rlvr.envs.procedural import (
    CHECK_DRAWS,
    COUNTDOWN_SEARCH,
    MAX_DRAWS,
    CountdownEnv,
    GenerationError,
    arithmetic_task,
    check_generates,
    countdown_task,
)
from rlvr.envs.tasks import Task


def score(env, text, index=0):
    """(reward, reward parts, verdict) of `text` as the answer to task `index` of `env`."""
    env.reset(options={"index": index})
    _, reward, *_, info = env.step(text)
    return reward, info["reward_parts"], info["verdict"]


def countdown_13():
    """A Countdown env on the task "make 13 from [8, 6, 5]" (the default env's task 0)."""
    env = CountdownEnv()
    env.reset(options={"task": Task("t", "q", "8+5", {"numbers": [8, 6, 5], "target": 13})})
    return env


def countdown_score(answer):
    env = countdown_13()
    _, reward, *_, info = env.step(f"<answer>{answer}</answer>")
    return reward, info["verdict"]


# ------------------------------------------------------------------ 1. generation never fails at reset


@pytest.mark.parametrize("env_id, settings, index", [
    ("Countdown-v0", {"count": 3, "max_number": 1000, "ops": "/"}, 44),
    ("Countdown-v0", {"count": 3, "max_number": 1000, "ops": "/"}, 53),
    ("Arithmetic-v0", {"ops": "-", "terms": 5, "digits": 2}, 154746505162219455),  # reset #1621 after reset(seed=0)
])
def test_settings_the_build_check_accepts_make_a_task_at_every_index(env_id, settings, index):
    # these resets raised GenerationError mid-training (a vector env's autoreset crashed the step):
    # the generators gave up after 1000 draws; they now draw on, with the same random generator
    generator = countdown_task if env_id.startswith("Countdown") else arithmetic_task
    with pytest.raises(GenerationError):
        generator(np.random.default_rng(index), **settings, max_draws=1000)  # the old limit
    env = rlvr.make(env_id, **settings).unwrapped
    env.reset(options={"index": index})
    first = env.task
    env.reset(options={"index": index})
    assert env.task == first  # reproducible
    if env_id.startswith("Countdown"):
        assert first.meta["target"] not in first.meta["numbers"]
    else:
        assert int(first.answer) >= 0
    _, reward, *_ = env.step(f"<answer>{first.answer}</answer>")
    assert reward == 1.0


def _digest(generator, indices, **settings):
    """A digest of the question and answer the generator makes for each index (as the env does:
    task `i` is made with `default_rng(i)`)."""
    h = hashlib.sha256()
    for i in indices:
        task = generator(np.random.default_rng(i), **settings)
        h.update(f"{i}|{task['question']}|{task['answer']}\n".encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("generator, indices, settings, digest", [
    (arithmetic_task, range(40), {"ops": "-", "terms": 5, "digits": 2}, "ac66605a0f26ca2e"),
    (countdown_task, range(40), {}, "a70a3622b1cbefb6"),
    (countdown_task, range(2), {"count": 6, "max_number": 1000, "ops": "*"}, "24053993577926cc"),  # targets > 1000
    (countdown_task, [40, 41, 42, 43, 45], {"count": 3, "max_number": 1000, "ops": "/"}, "f8f11c9fb7f2ad4c"),
    # settings with "/" whose draws often make no target, digests of the generator before MAX_DRAWS
    # (1a64324^); at index 134 the 1000th draw made none, and the draws went on to a smaller target than
    # the old one (see test_a_countdown_search_ends_after_its_draws_whatever_the_last_one_gave)
    (countdown_task, range(130, 136), {"count": 6, "max_number": 1000, "ops": "*/"}, "1366e6b95cb50ed8"),
    (countdown_task, range(10), {"count": 5, "max_number": 1000, "ops": "*/"}, "1adf95a4a0a64dfc"),
    (countdown_task, range(20), {"count": 4, "max_number": 500, "ops": "*/"}, "904da804cc9fd5b6"),
    (countdown_task, range(30), {"count": 2, "max_number": 1000, "ops": "/"}, "4d0c4d69a125ce4b"),
    (countdown_task, range(20), {"count": 6, "max_number": 1000, "ops": "+-*/"}, "ba592d6dc272b2e1"),
    (countdown_task, range(20), {"count": 4, "max_number": 100, "ops": "-/"}, "6e6c11894e29e2a9"),
])
def test_indices_that_gave_a_task_before_give_the_same_task(generator, indices, settings, digest):
    # the first 1000 draws are those of the old generators, so no generator_version bump: digests
    # taken with the code before the fix (Countdown index 44 raised there and is left out)
    assert _digest(generator, indices, **settings) == digest
    env = rlvr.make("Countdown-v0").unwrapped
    env.reset(options={"index": 7})
    assert (env.task.question, env.task.answer) == tuple(countdown_task(np.random.default_rng(7)).get(k) for k in ("question", "answer"))
    # 2 then; 3 since the prompt's example is never a right answer (audit 23), which leaves these prompts as they were
    assert env.fingerprint()["data"]["generator_version"] == 3


def draw_with_rate(rng, *, rate, max_draws=MAX_DRAWS):
    """A generator whose draws each succeed with probability `rate`, as Arithmetic's do."""
    for _ in range(max_draws):
        if rng.random() < rate:
            return {"question": "q", "answer": "1"}
    raise GenerationError(f"{max_draws} draws failed; raise the rate")


def test_build_check_refuses_success_rates_too_low_for_the_reset_limit():
    # each check task must come within CHECK_DRAWS draws, a hundredth of a reset's MAX_DRAWS
    assert MAX_DRAWS >= 100 * CHECK_DRAWS
    check_generates("Rated", draw_with_rate, {"rate": 0.02})
    with pytest.raises(ValueError, match=r"Rated cannot make tasks with \{'rate': 0.0001\}: 1000 draws failed"):
        check_generates("Rated", draw_with_rate, {"rate": 0.0001})
    with pytest.raises(ValueError, match=r"Arithmetic cannot make tasks with .*'terms': 8.*1000 random 8-term"):
        rlvr.make("Arithmetic-v0", ops="-", terms=8)
    with pytest.raises(GenerationError, match="in 7 tries"):  # the limit of a reset is named when hit
        countdown_task(np.random.default_rng(0), count=2, max_number=1, ops="-", max_draws=7)


# ------------------------------------------------------------------ 2. Countdown refuses comments


@pytest.mark.parametrize("answer", ["8 + 5 #\n- 6", "8+5 # plus 6", "8 + 5 #"])
def test_countdown_refuses_python_comments(answer):
    # "#" hid the rest of the answer: "8 + 5 #\n- 6" scored 1.0 as 8 + 5
    reward, verdict = countdown_score(answer)
    assert reward == 0.0 and verdict.details["kind"] == "unparsable" and "'#' is not allowed" in verdict.reason
    with pytest.raises(ExprError, match="'#' is not allowed: only whole numbers"):
        evaluate(answer)


# ------------------------------------------------------------------ 3. the last complete <answer> pair


def _reference_tags(text):
    """The rule as a (quadratic) regex: a closing tag and the last opening tag before it; empty pairs
    left out (rules 4: the prompt's "<answer></answer>" quoted back is no answer)."""
    found = [m.strip() for m in re.findall(r"<answer>((?:(?!<answer>)[\s\S])*?)</answer>", text, re.IGNORECASE)]
    return [content for content in found if content]


def test_an_answer_tag_mentioned_before_the_answer_is_not_part_of_it():
    text = "I will put the result in <answer> tags.\n<answer>14</answer>"
    assert tagged_answers(text) == ["14"] and final_answer(text, compact=False) == "14" and follows_tag_format(text)
    reward, parts, verdict = score(rlvr.make("Arithmetic-v0").unwrapped, text)  # 8 + 6
    assert reward == 1.0 and parts["format"] == 1.0, verdict.reason
    assert tagged_answers("<answer>1</answer> <answer> x <ANSWER>2</Answer>") == ["1", "2"]
    rng = np.random.default_rng(0)
    pieces = ["<answer>", "</answer>", "<ANSWER>", "</Answer>", "<answer", "answer>", "x", "7", " ", "\n", "</"]
    for _ in range(3000):
        text = "".join(pieces[k] for k in rng.integers(len(pieces), size=int(rng.integers(0, 14))))
        assert tagged_answers(text) == _reference_tags(text), text


def test_tag_scan_stays_linear():
    unclosed = "<answer>" * 65536  # 512 KB
    assert tagged_answers(unclosed) == [] and tagged_answers(unclosed + "7</answer>") == ["7"]
    assert tagged_answers("<answer>1</answer>" * 20000)[-1] == "1"
    assert final_answer("<answer>" * 8192 + "\n<answer>42</answer>", compact=False) == "42"


# ------------------------------------------------------------------ 4. Sort reads the whole answer


def test_sort_reads_numbers_after_2000_characters():
    env = rlvr.make("Sort-v0").unwrapped  # task 0: 8, 6, 5, 2
    reward, _, verdict = score(env, "<answer>2 5 6 8" + " " * 2000 + "7 1</answer>")
    assert reward == 0.0 and verdict.details["kind"] == "wrong_numbers"  # was 1.0: the tail was cut off
    assert score(env, "<answer>" + " " * 3000 + "2 5 6 8</answer>")[0] == 1.0  # was "no numbers"
    big = rlvr.make("Sort-v0", max_action_chars=100_000).unwrapped
    reward, _, verdict = score(big, "<answer>2 5 6 " + "9" * 50_000 + "</answer>")  # int() refuses > 4300 digits
    assert reward == 0.0 and verdict.details["kind"] == "wrong_numbers"
    reward, _, verdict = score(big, "<answer>" + "1 " * 40_000 + "</answer>")
    assert reward == 0.0 and "more than the 4 given numbers" in verdict.reason
    assert score(env, "<answer>none</answer>")[2].details["kind"] == "unparsable"


# ------------------------------------------------------------------ 5. right answers in other forms


def test_a_tag_holding_only_a_box_answers_with_the_box():
    env = rlvr.make("Arithmetic-v0").unwrapped  # task 0: 8 + 6 = 14
    for right in ["<answer>\\boxed{14}</answer>", "<answer>$\\boxed{14}$</answer>", "<answer> \\boxed{ 14 } </answer>"]:
        assert score(env, right)[0] == 1.0, right
    for wrong in ["<answer>7 or \\boxed{14}</answer>", "<answer>\\boxed{14} or 7</answer>", "<answer>\\boxed{1}{4}</answer>"]:
        assert score(env, wrong)[0] == 0.0, wrong
    assert countdown_score("\\boxed{8 + 5}")[0] == 1.0


@pytest.mark.parametrize("answer", ["8 + 5.", "13 = 8 + 5", "8+5 == 13", "13 == 8+5", "8 + 5 = 13.", "13 = (8 + 5)."])
def test_countdown_reads_the_target_on_either_side_and_a_final_period(answer):
    reward, verdict = countdown_score(answer)
    assert reward == 1.0, verdict.reason
    assert countdown_score("8 + 5")[1].reason == "8 + 5 = 13"


@pytest.mark.parametrize("answer, kind, reason", [
    ("8 + 5 = 13 = 99", "unparsable", "more than one '='"),  # not one expression and a number
    ("8 + 5 = 13 = 13", "unparsable", "more than one '='"),
    ("8 + 5 = 99", "wrong", "ends in '= 99', which is not the target 13"),
    ("99 = 8 + 5", "wrong", "starts with '99 =', which is not the target 13"),
    ("13 = 8 + 6", "wrong", "8 + 6 = 14, not 13"),
    ("13 = 13", "bad_numbers", "uses [13]"),  # the target's side does not count, the other does
    ("13 =", "unparsable", "empty expression"),
    ("8 + 5..", "unparsable", "'.' is not allowed"),
    ("8 + 5.0", "unparsable", "whole numbers"),
])
def test_countdown_equals_opens_no_hole(answer, kind, reason):
    reward, verdict = countdown_score(answer)
    assert reward == 0.0 and verdict.details["kind"] == kind and reason in verdict.reason, verdict.reason


# ------------------------------------------------------------------ 6. no SyntaxWarning from model text


def _verdicts(texts, action):
    """`evaluate`'s value or error message for each text, under the warning filter `action`, and
    the warnings it gave."""
    outcomes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter(action)
        for text in texts:
            try:
                outcomes.append(evaluate(text))
            except ExprError as exc:
                outcomes.append(str(exc))
    return outcomes, list(caught)


def test_expressions_give_no_warning_and_one_verdict_whatever_the_warning_filter():
    # "8+5if 1 else 2" made ast.parse print a SyntaxWarning (a SyntaxError under -W error)
    texts = ["8+5if 1 else 2", "8 is 8", "(8)(5)", "'\\d'", "8+5in[1]", "0x8+5", "1_000", "8+5or 1"]
    rng = random.Random(0)
    alphabet = list("0123456789+-*/() \n") + ["if", "is", "or", "x", "_", "j", "e", ".", "#", "'", "\\"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(1500)]
    results = {action: _verdicts(texts, action) for action in ("ignore", "always", "error")}
    assert all(caught == [] for _, caught in results.values())
    assert results["ignore"][0] == results["always"][0] == results["error"][0]
    outcomes = results["always"][0]
    letter = "'i' is not allowed: only whole numbers, the operators + - * / and parentheses may appear"
    assert outcomes[:4] == [letter, letter, "Call is not allowed in an arithmetic expression",
                            "\"'\" is not allowed: only whole numbers, the operators + - * / and parentheses may appear"]


# ------------------------------------------------------------------ 7. compact format part


@pytest.mark.parametrize("env_id, text, outcome, fmt", [
    ("Arithmetic-v0", "14", 1.0, 1.0),
    ("Arithmetic-v0", "15", 0.0, 1.0),  # wrong, but an answer in the format asked for
    ("Arithmetic-v0", "<answer>1</answer>", 0.0, 0.0),  # was format 1.0: any first line counted
    ("Arithmetic-v0", "banana", 0.0, 0.0),
    ("Arithmetic-v0", "", 0.0, 0.0),
    ("Arithmetic-v0", " \n14", 1.0, 1.0),  # was "no answer found": a blank first line
    ("Arithmetic-v0", "\t \n\n 14 \nmore", 1.0, 1.0),
    ("Countdown-v0", "8+5", 1.0, 1.0),
    ("Countdown-v0", "8+6", 0.0, 1.0),
    ("Countdown-v0", "<answer>8+5</answer>", 0.0, 0.0),
    ("Sort-v0", "2 5 6 8", 1.0, 1.0),
    ("Sort-v0", "banana", 0.0, 0.0),
])
def test_compact_format_part_credits_a_first_line_that_reads_as_an_answer(env_id, text, outcome, fmt):
    env = rlvr.make(env_id, format="compact", reward_weights={"format": 0.5}).unwrapped
    reward, parts, verdict = score(env, text)
    assert (parts["outcome"], parts["format"]) == (outcome, fmt), verdict.reason
    assert env.format_score(env.task, text) == fmt


# ------------------------------------------------------------------ 8. unknown settings


@pytest.mark.parametrize("env_id, settings, message", [
    ("Arithmetic-v0", {"digit": 2}, r"Arithmetic has no setting 'digit' \(did you mean 'digits' for 'digit'\?\); "
                                    r"its difficulty settings are \['digits', 'terms', 'ops', 'allow_negative'\]"),
    ("Countdown-v0", {"use": 2}, r"Countdown has no setting 'use'; its difficulty settings are \['count', 'max_number', 'ops'\], "
                                 r"and it also takes \['format', 'max_turns', 'reward_weights'"),
    ("Sort-v0", {"lenght": 3}, r"did you mean 'length'"),
])
def test_an_unknown_setting_is_named_with_the_valid_ones(env_id, settings, message):
    # was "TextEnv.__init__() got an unexpected keyword argument 'digit'"
    with pytest.raises(TypeError, match=message):
        rlvr.make(env_id, **settings)
    with pytest.raises(TypeError, match=message):
        gym.make(f"rlvr/{env_id}", **settings)
    assert rlvr.make(env_id, max_action_chars=100, render_mode="ansi").unwrapped.max_action_chars == 100


def test_the_answer_rules_version_moved_on():
    # 3 then; 4 since the audit-23 fixes (empty tags, markup, spaces between digits, "1 = 8/8", Sort's "0-1-5-7")
    assert RULES_VERSION >= 4 and CountdownEnv().fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION


# ------------------------------------------------------------------ 9. review fixes


PROCEDURAL_IDS = ["Arithmetic-v0", "Countdown-v0", "LinearEquation-v0", "Sort-v0", "ModArith-v0"]


def test_sort_reads_leading_zeros_of_any_length_as_a_verdict():
    # the length guard counted digits past the leading zeros, but int() read them all: past 4300
    # characters it raised, the step was an infrastructure failure (valid False) and training
    # dropped the episode, a way for a policy to dodge a wrong answer's score
    env = rlvr.make("rlvr/Sort-v0").unwrapped
    env.reset(seed=3)  # 4 6 7 7
    _, reward, *_, info = env.step("<answer>" + "0" * 4400 + "4 6 7 7</answer>")
    assert info["valid"] and info["verdict"].error is None and reward == 1.0  # 000...04 is 4
    env.reset(seed=3)
    _, reward, *_, info = env.step("<answer>-" + "0" * 5000 + "4 6 7 7</answer>")
    assert info["valid"] and reward == 0.0 and info["verdict"].details["kind"] == "wrong_numbers"
    env.reset(seed=3)
    _, reward, *_, info = env.step("<answer>4 6 7 " + "0" * 5000 + "1" + "0" * 30 + "</answer>")
    assert info["valid"] and reward == 0.0 and "is not one of the given numbers" in info["verdict"].reason


@pytest.mark.parametrize("env_id", PROCEDURAL_IDS)
def test_long_numbers_in_model_text_always_get_a_verdict(env_id):
    # any model text gets right or wrong, never an error: numbers past int()'s 4300 digits included
    bodies = ["0" * 4400 + "4", "9" * 5000, "-" + "0" * 5000 + "1", "1/" + "0" * 5000 + "2", "x = " + "0" * 5000 + "8",
              "0" * 4400 + "4 6 7 7", "\u0660" * 4400 + "4", "1" + "0" * 4400, "0." + "0" * 5000 + "1", "1e999",
              "8+5 = " + "0" * 5000 + "13", "0" * 5000 + "13 = 8+5", "1," + "000," * 1500 + "000"]
    for format in ("chat", "compact"):
        env = rlvr.make(env_id, format=format, max_action_chars=100_000, reward_weights={"format": 0.1}).unwrapped
        for body in bodies:
            for text in (body, f"<answer>{body}</answer>"):
                env.reset(seed=3)
                *_, info = env.step(text)
                assert info["valid"] and info["verdict"].error is None, (format, text[:40], info["verdict"].error)


def test_a_countdown_search_ends_after_its_draws_whatever_the_last_one_gave():
    # the search stopped only on a draw that made a target: at index 134 the 1000th draw made none,
    # the draws went on and a smaller target (1924) replaced the old generator's task (2052)
    settings = {"count": 6, "max_number": 1000, "ops": "*/"}
    task = countdown_task(np.random.default_rng(134), **settings)
    assert (task["numbers"], task["target"]) == ([676, 206, 513, 4, 50, 56], 2052)  # the old task
    # the old generator is these first COUNTDOWN_SEARCH draws: an index that made a task within
    # them makes the same one with more draws allowed
    for index in (133, 134, 135):
        first = countdown_task(np.random.default_rng(index), **settings, max_draws=COUNTDOWN_SEARCH)
        assert countdown_task(np.random.default_rng(index), **settings) == first, index
    divisions = {"count": 3, "max_number": 1000, "ops": "/"}
    for index in range(40, 48):  # 44 made no task in 1000 draws: it draws on
        try:
            first = countdown_task(np.random.default_rng(index), **divisions, max_draws=COUNTDOWN_SEARCH)
        except GenerationError:
            continue
        assert countdown_task(np.random.default_rng(index), **divisions) == first, index


@pytest.mark.parametrize("env_id, text, outcome, fmt", [
    # Countdown: an expression over whole numbers, optionally with "= number" (task: 8 6 5 -> 13)
    ("Countdown-v0", "banana = 99", 0.0, 0.0),  # these three had format 1.0: an '=' made them "wrong"
    ("Countdown-v0", "what = ever", 0.0, 0.0),
    ("Countdown-v0", "8+4+7 = 19 = 19", 0.0, 0.0),
    ("Countdown-v0", "8 + 5 = banana", 0.0, 0.0),
    ("Countdown-v0", "8+5 = 8+5", 0.0, 0.0),
    ("Countdown-v0", "8+5 = 99", 0.0, 1.0),  # a wrong answer in the form asked for
    ("Countdown-v0", "99 = 8+5", 0.0, 1.0),
    ("Countdown-v0", "8+5 = 13", 1.0, 1.0),
    ("Countdown-v0", "13 = 8+5", 1.0, 1.0),
    ("Countdown-v0", "8+5.", 1.0, 1.0),
    ("Countdown-v0", "8*6", 0.0, 1.0),
    # Sort: integers separated by spaces or commas (task: 8 6 5 2)
    ("Sort-v0", "<answer>1</answer>", 0.0, 0.0),  # the docstring's example of format 0.0; was 1.0
    ("Sort-v0", "item3", 0.0, 0.0),  # was 1.0: integers were pulled out of any text
    ("Sort-v0", "2 5 6 8 are sorted", 1.0, 0.0),  # the outcome check stays lenient, the format does not
    ("Sort-v0", "2,,5 6 8", 1.0, 0.0),
    ("Sort-v0", "2, 5, 6, 8", 1.0, 1.0),
    ("Sort-v0", "2,5,6,8.", 1.0, 1.0),
    ("Sort-v0", "8 6 5 2", 0.0, 1.0),
    ("Sort-v0", "1", 0.0, 1.0),
    # numbers (LinearEquation: 6x+5=53 -> 8; ModArith: (17+13)%6 -> 0)
    ("LinearEquation-v0", "x = 8", 1.0, 1.0),
    ("LinearEquation-v0", "7", 0.0, 1.0),
    ("LinearEquation-v0", "y = 8", 0.0, 0.0),
    ("LinearEquation-v0", "x8", 0.0, 0.0),
    ("LinearEquation-v0", "8 = x", 1.0, 1.0),  # answer rules 5: was unparsable
    ("LinearEquation-v0", "$8$ = X.", 1.0, 1.0),
    ("LinearEquation-v0", "9 = x", 0.0, 1.0),
    ("LinearEquation-v0", "8 = y", 0.0, 0.0),
    ("LinearEquation-v0", "x = 8 = x", 0.0, 0.0),
    ("ModArith-v0", "0", 1.0, 1.0),
    ("ModArith-v0", "30 mod 6", 0.0, 0.0),
    ("Arithmetic-v0", "8+6", 0.0, 0.0),
])
def test_compact_format_part_credits_only_an_answer_of_the_tasks_kind(env_id, text, outcome, fmt):
    env = rlvr.make(env_id, format="compact", reward_weights={"format": 0.5}).unwrapped
    _, parts, verdict = score(env, text)
    assert (parts["outcome"], parts["format"]) == (outcome, fmt), verdict.reason
    assert env.format_score(env.task, text + "\nmore text") == fmt  # only the first line counts


#: A compact Sort answer with format credit, as a regex (quadratic on long runs of spaces, so the
#: env splits instead): integers separated by whitespace or commas, a final period allowed.
_SORT_LIST = re.compile(r"[+-]?[0-9]+(?:(?:\s*,\s*|\s+)[+-]?[0-9]+)*\s*\.?")


@pytest.mark.parametrize("env_id", PROCEDURAL_IDS)
def test_compact_format_credit_agrees_with_the_verifiers_reading(env_id):
    # a first line with format credit is one the verifier reads as an answer, and (for the envs
    # whose verifier reads only answers of the task's form: all but Sort) the converse; a Sort line
    # has credit when it is a list of integers, markup enclosing it read through (audit 37)
    rng = random.Random(env_id)
    alphabet = list("0123456789 ,.=+-*/()x") + ["8", "13", " = ", "banana", "<answer>", "\n", "$", "item"]
    env = rlvr.make(env_id, format="compact").unwrapped
    env.reset(options={"index": 0})
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        verdict, fmt = env.verify(env.task, text), env.format_score(env.task, text)
        readable = verdict.details.get("kind") not in ("no_answer", "unparsable")
        if env_id == "Sort-v0":
            line = final_answer(text, compact=True)
            assert fmt == (1.0 if line is not None and _SORT_LIST.fullmatch(unwrapped(line)) else 0.0), (text, verdict.reason)
            assert readable or fmt == 0.0, (text, verdict.reason)
        else:
            assert fmt == (1.0 if readable else 0.0), (text, verdict.reason)


# ------------------------------------------------------------------ a given task is checked at reset


def _step_given(env_id, task, answer):
    env = rlvr.make(env_id).unwrapped
    env.reset(options={"task": task})
    _, reward, _, _, info = env.step(f"<answer>{answer}</answer>")
    return reward, info


@pytest.mark.parametrize("env_id, task, answer", [
    # integers written as strings, as a CSV or a JSON export of an eval set gives them back
    ("Countdown-v0", {"question": "Using [2, 5], make 10.", "answer": "2*5", "numbers": ["2", "5"], "target": "10"}, "2*5"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": (2, " 5 "), "target": np.int64(10)}, "5*2"),
    ("Sort-v0", {"question": "Sort 5 2 8.", "answer": [2, 5, 8]}, "2 5 8"),
    ("Sort-v0", {"question": "Sort 5 2 8.", "answer": "2 5 8"}, "2, 5, 8"),
    ("Arithmetic-v0", {"question": "3+4=", "answer": 7}, "7"),
    ("LinearEquation-v0", {"question": "2x = 3", "answer": "3/2"}, "1.5"),
])
def test_a_given_task_with_its_fields_in_other_spellings_is_scored_right(env_id, task, answer):
    reward, info = _step_given(env_id, task, answer)
    assert reward == 1.0 and info["valid"], info["verdict"].reason


@pytest.mark.parametrize("env_id, task, problem", [
    ("Countdown-v0", {"question": "q", "answer": "2*5"}, "has no 'numbers'"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": [2, 5]}, "has no 'target'"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": "2 5", "target": 10}, "'numbers' must be a non-empty list"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": [], "target": 10}, "'numbers' must be a non-empty list"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": [2, 5.5], "target": 10}, "an item of 'numbers' must be a whole number, got float"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": [2, 5], "target": "ten"}, "'target' must be a whole number"),
    ("Countdown-v0", {"question": "q", "answer": "2*5", "numbers": [True, 5], "target": 10}, "must be a whole number, got bool"),
    ("Sort-v0", {"question": "q", "answer": "8 5 2"}, "is not in ascending order"),
    ("Sort-v0", {"question": "q", "answer": "2, 5"}, "must be the sorted integers"),
    ("Sort-v0", {"question": "q", "answer": ""}, "must be the sorted integers"),
    ("Arithmetic-v0", {"question": "q", "answer": "two"}, "'two' is not a number"),
    ("ModArith-v0", {"question": "q", "answer": [3]}, "must be a number"),
    ("Arithmetic-v0", {"question": "q", "answer": True}, "must be a number"),
])
def test_a_given_task_the_env_cannot_score_is_refused_at_reset_naming_the_field(env_id, task, problem):
    """Not accepted and then failed at the step as an infrastructure failure (or scored 0)."""
    env = rlvr.make(env_id).unwrapped
    with pytest.raises(ValueError, match=re.escape(problem)):
        env.reset(options={"task": task})
