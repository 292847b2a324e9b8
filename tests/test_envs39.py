"""Audit 39 (procedural answers and gold answers):

1. The "exact" verifier compares a NumPy array gold as a list (JSON), not as its text "[0 1 5 7]",
   and refuses a set, bytes or an object written with its memory address as a gold answer
   (`scoring.exact_plain_gold`, `scoring._exact_check`; `EXACT_GOLD_RULES` 5).
2. A `\\boxed{}` inside `<answer>` is read through maths delimiters or bold around it, as well as
   inside it (`answers._unboxed`; answer rules `RULES_VERSION` 12).
3. A vector env's `options["index"]` given as text, a dict or a set is refused, not split into
   characters or keys (`TextVectorEnv.reset`).

Review of the above:

4. An np.datetime64 / np.timedelta64 gold is compared as the text NumPy writes (ns precision was
   an int, s precision a datetime "2020-01-03 12:00:00", a timedelta64 an error at every step).
5. A gold of a task source set by hand (`env.source = ListSource(...)`) is converted and checked
   when it is scored (`scoring._exact_score`): an array is a list, a set a failed verification.
6. A NumPy scalar in a tuple gold, at any depth, is written as Python writes NumPy's value.
7. A vector reset's 0-d integer array index is one index, and a memoryview is refused like bytes.
"""

from __future__ import annotations

import decimal
import fractions

import numpy as np
import pytest

import rlvr
from rlvr.envs import scoring
from rlvr.envs.answers import RULES_VERSION, final_answer
from rlvr.envs.tasks import GeneratorError, ListSource, Task
from rlvr.envs.vector import make_vec


def _reward(env, completion, **reset):
    env.reset(**reset)
    _, reward, *_, info = env.step(completion)
    return reward, info


# ------------------------------------------------------------------ 1. exact golds that are not text


def _sort_gen(rng):
    vals = rng.integers(0, 10, size=4)
    return {"question": f"Sort {vals.tolist()} ascending; answer as a JSON list.", "answer": np.sort(vals)}


def test_a_numpy_array_gold_is_compared_as_a_list(registered):
    env = rlvr.make(registered("rlvr/Audit39NpSort-v0", generator=_sort_gen, verifier="exact"))
    env.reset(seed=0)
    gold = env.unwrapped.task.answer
    assert type(gold) is list and all(type(item) is int for item in gold)
    for written in (str(gold), str(gold).replace(" ", "")):
        reward, info = _reward(env, f"<answer>{written}</answer>", seed=0)
        assert reward == 1.0, info["verdict"].reason
        assert info["valid"]
    # NumPy's own text of the array is no JSON list
    assert _reward(env, "<answer>" + " ".join(map(str, gold)).join("[]") + "</answer>", seed=0)[0] == 0.0


@pytest.mark.parametrize("answer, right", [
    (np.array(7), "7"),
    (np.array([[1, 2], [3, 4]]), "[[1, 2], [3, 4]]"),
    (np.array(["a", "b"]), '["a", "b"]'),
    (np.array([0.1, 0.5], dtype=np.float32), "[0.1, 0.5]"),  # float32 items keep their own text
    ({"xs": np.arange(3)}, '{"xs": [0, 1, 2]}'),
    (np.int64(5), "5"),
])
def test_numpy_golds_of_every_shape_score_their_right_answer(registered, answer, right):
    env = rlvr.make(registered("rlvr/Audit39NpGold-v0", verifier="exact",
                               generator=lambda rng: {"question": "q", "answer": answer}))
    reward, info = _reward(env, f"<answer>{right}</answer>", seed=1)
    assert reward == 1.0, info["verdict"].reason


@pytest.mark.parametrize("answer, named, fix", [
    ({"red", "blue", "green"}, "set", "sorted list"),
    (frozenset({1, 2}), "frozenset", "sorted list"),
    (b"1", "bytes", "decode"),
    (bytearray(b"1"), "bytearray", "decode"),
    (object(), "object", "memory address"),
    ((1, {2}), "set", "sorted list"),  # a tuple is compared as its text, a set's included
])
def test_a_gold_without_a_stable_text_is_refused(registered, answer, named, fix):
    with pytest.raises(GeneratorError) as caught:
        rlvr.make(registered("rlvr/Audit39BadGold-v0", verifier="exact",
                             generator=lambda rng: {"question": "q", "answer": answer}))
    assert f"a {named} gold" in str(caught.value) and fix in str(caught.value)


def test_a_given_task_is_converted_and_checked_as_a_generated_one(registered):
    env = rlvr.make(registered("rlvr/Audit39Given-v0", verifier="exact",
                               generator=lambda rng: {"question": "q", "answer": "1"}))
    reward, info = _reward(env, "<answer>[2,3]</answer>",
                           options={"task": {"question": "Sort 3 2", "answer": np.array([2, 3])}})
    assert reward == 1.0, info["verdict"].reason
    with pytest.raises(ValueError, match="a set gold"):
        env.reset(options={"task": {"question": "Colours?", "answer": {"red", "blue"}}})


@pytest.mark.parametrize("answer, right", [
    ("blue", "blue"), (3, "3"), (2.5, "2.5"), (True, "true"), (decimal.Decimal("1.50"), "1.5"),
    (fractions.Fraction(1, 2), "1/2"), ((3, 4), "(3, 4)"), ((np.int64(3), "a"), "(3, 'a')"), (1j, "1j"),
])
def test_golds_with_a_meaningful_text_are_still_accepted(registered, answer, right):
    env = rlvr.make(registered("rlvr/Audit39GoodGold-v0", verifier="exact",
                               generator=lambda rng: {"question": "q", "answer": answer}))
    reward, info = _reward(env, f"<answer>{right}</answer>", seed=2)
    assert reward == 1.0, info["verdict"].reason


def test_the_exact_gold_rules_version_is_recorded():
    assert scoring.EXACT_GOLD_RULES >= 5
    assert scoring.resolve_verifier("exact").fingerprint()["settings"]["gold_rules"] == scoring.EXACT_GOLD_RULES


# ------------------------------------------------------------------ 2. a box inside delimiters


WRAPS = ["\\({}\\)", "\\[{}\\]", "**{}**", "${}$", "$$\\({}\\)$$", "\\(**{}**\\)"]


@pytest.mark.parametrize("wrap", WRAPS)
@pytest.mark.parametrize("env_id, task, answer", [
    ("rlvr/Arithmetic-v0", {"question": "What is 6 + 7?", "answer": "13"}, "13"),
    ("rlvr/Countdown-v0", {"question": "Using [8, 5, 3], make 13.", "numbers": [8, 5, 3], "target": 13}, "8 + 5"),
])
def test_a_box_wrapped_in_markup_inside_the_tag_is_read(env_id, task, answer, wrap):
    env = rlvr.make(env_id)
    boxed = "\\boxed{" + answer + "}"
    for text in (wrap.format(boxed), "\\boxed{" + wrap.format(answer) + "}", wrap.format("\\boxed{`" + boxed + "`}")):
        reward, info = _reward(env, f"<answer>{text}</answer>", options={"task": task})
        assert reward == 1.0, (text, info["verdict"].reason)


def test_the_exact_verifier_reads_the_box_through_markup_in_either_order(registered):
    env = rlvr.make(registered("rlvr/Audit39ExactBox-v0", verifier="exact",
                               generator=lambda rng: {"question": "q", "answer": "13"}))
    for text in ("\\(\\boxed{13}\\)", "**\\boxed{13}**", "\\boxed{\\(13\\)}", "\\[\\boxed{$13$}\\]"):
        reward, info = _reward(env, f"<answer>{text}</answer>", seed=0)
        assert reward == 1.0, (text, info["verdict"].reason)


def test_only_an_answer_that_is_one_box_is_unboxed():
    assert final_answer("<answer>\\(7 or \\boxed{8}\\)</answer>", compact=False) == "\\(7 or \\boxed{8}\\)"
    assert final_answer("<answer>$\\boxed{1}$ and $\\boxed{2}$</answer>", compact=False) == "$\\boxed{1}$ and $\\boxed{2}$"
    # "$" signs inside the box that do not enclose all of it stay
    assert final_answer("<answer>\\(\\boxed{$x$ or $y$}\\)</answer>", compact=False) == "$x$ or $y$"
    # an answer without a box is returned as written (the exact verifier compares it so)
    assert final_answer("<answer>**7**</answer>", compact=False) == "**7**"


def test_a_deep_chain_of_boxes_is_read_in_bounded_time():
    deep = "\\(" + "\\boxed{" * 5000 + "1" + "}" * 5000 + "\\)"
    # a few boxes are opened, not 5000 (each opening scans the rest of the answer)
    assert final_answer(f"<answer>{deep}</answer>", compact=False).startswith("\\boxed{\\boxed{")
    assert final_answer("<answer>\\(" + "\\boxed{" * 3 + "1" + "}" * 3 + "\\)</answer>", compact=False) == "1"


def test_the_answer_rules_version_is_bumped_and_recorded():
    assert RULES_VERSION >= 12
    for env_id in ("rlvr/Arithmetic-v0", "rlvr/Countdown-v0"):
        assert rlvr.make(env_id).unwrapped.fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION


# ------------------------------------------------------------------ 3. a vector reset's index


@pytest.mark.parametrize("index, named", [("34", "str '34'"), (b"34", "bytes"), ({"a": 1, "b": 2}, "dict"),
                                          ({3, 4}, "set"), (1.0, "float")])
def test_an_index_that_is_no_int_nor_sequence_of_ints_is_refused_whole(index, named):
    vec = make_vec("rlvr/Countdown-v0", 2)
    try:
        with pytest.raises(TypeError) as caught:
            vec.reset(options={"index": index})
        message = str(caught.value)
        assert "options['index'] must be one int or a sequence of one int per sub-env (2)" in message
        assert f"got {named}" in message
        # the env is still usable
        _, info = vec.reset(options={"index": [3, 4]})
        assert list(info["task_id"]) == ["Countdown/3", "Countdown/4"]
    finally:
        vec.close()


def test_an_index_per_sub_env_or_one_for_all_still_works():
    vec = make_vec("rlvr/Countdown-v0", 2)
    try:
        for index, ids in ((np.array([1, 2]), ["Countdown/1", "Countdown/2"]), ((5, 6), ["Countdown/5", "Countdown/6"]),
                           (7, ["Countdown/7", "Countdown/7"]), (iter([0, 1]), ["Countdown/0", "Countdown/1"])):
            _, info = vec.reset(options={"index": index})
            assert list(info["task_id"]) == ids
    finally:
        vec.close()


# ------------------------------------------------------------------ 4. NumPy dates and durations


@pytest.mark.parametrize("answer, right", [
    (np.datetime64("2020-01-03T12:00:00.000000000"), "2020-01-03T12:00:00.000000000"),  # was the int 1578052800000000000
    (np.datetime64("2020-01-03T12:00:00", "s"), "2020-01-03T12:00:00"),  # was a datetime: "2020-01-03 12:00:00"
    (np.datetime64("2020-01-03"), "2020-01-03"),
    (np.timedelta64(90, "s"), "90 seconds"),  # an np.integer: int() of it raised at every step
    (np.array(["2020-01-03"], dtype="datetime64[D]"), '["2020-01-03"]'),  # a list of dates was refused
    ({"when": np.datetime64("2020-01-03T12:00", "m")}, '{"when": "2020-01-03T12:00"}'),
])
def test_a_numpy_date_or_duration_gold_is_compared_as_numpy_writes_it(registered, answer, right):
    env = rlvr.make(registered("rlvr/Audit39NpTime-v0", verifier="exact",
                               generator=lambda rng: {"question": "When?", "answer": answer}))
    reward, info = _reward(env, f"<answer>{right}</answer>", seed=0)
    assert reward == 1.0 and info["valid"], info["verdict"].reason
    assert "int" not in type(env.unwrapped.task.answer).__name__


def test_a_numpy_duration_is_text_wherever_the_exact_verifier_writes_it():
    assert scoring.exact_gold(np.timedelta64(5, "s")) == "5 seconds"
    assert scoring.json_canonical({"d": np.timedelta64(5, "s")}) == '{"d":"5 seconds"}'
    assert scoring.exact_plain_gold(np.timedelta64(5, "ns")) == "5 nanoseconds"


# ------------------------------------------------------------------ 5. a task source set by hand


def _hand_env(registered, gold):
    env = rlvr.make(registered("rlvr/Audit39Hand-v0", verifier="exact", dataset=[{"question": "q", "answer": "x"}]))
    env.unwrapped.source = ListSource([Task("hand/0", "Sort 7 1 5 0", gold, {})], {"name": "hand"})
    return env


@pytest.mark.parametrize("gold, right, wrong", [
    (np.array([0, 1, 5, 7]), "[0, 1, 5, 7]", "[0 1 5 7]"),
    ({"xs": np.array([1, 2])}, '{"xs": [1, 2]}', '{"xs": [2, 1]}'),
    (np.datetime64("2020-01-03T12:00:00", "s"), "2020-01-03T12:00:00", "2020-01-03 12:00:00"),
    ((np.str_("red"), np.float32(0.1)), "('red', 0.1)", "(np.str_('red'), np.float32(0.1))"),
])
def test_a_hand_set_sources_gold_is_converted_when_it_is_scored(registered, gold, right, wrong):
    env = _hand_env(registered, gold)
    reward, info = _reward(env, f"<answer>{right}</answer>", options={"index": 0})
    assert reward == 1.0, info["verdict"].reason
    reward, info = _reward(env, f"<answer>{wrong}</answer>", options={"index": 0})
    assert reward == 0.0 and info["valid"] and info["verdict"].error is None


@pytest.mark.parametrize("gold, named", [({1, 2}, "a set gold"), (b"1", "a bytes gold"), ((1, frozenset({2})), "a frozenset gold"),
                                         ([1.0, float("nan")], "no JSON value")])
def test_a_hand_set_gold_that_cannot_be_compared_is_a_failed_verification(registered, gold, named):
    env = _hand_env(registered, gold)
    for answer in (str(gold), "[1, 2]"):  # never right, never a wrong answer either
        reward, info = _reward(env, f"<answer>{answer}</answer>", options={"index": 0})
        verdict = info["verdict"]
        assert reward == 0.0 and not info["valid"] and verdict.error is not None
        assert named in verdict.error and "gold answer" in verdict.error


def test_a_plain_gold_is_scored_as_it_is():
    for gold in ("13", 13, 13.0):
        task = Task("t", "q", gold, {})
        assert scoring._exact_score(True, task, "<answer>13</answer>").correct
    assert not scoring._exact_score(True, Task("t", "q", True, {}), "<answer>True</answer>").correct


# ------------------------------------------------------------------ 6. NumPy scalars in a tuple gold


@pytest.mark.parametrize("answer, right", [
    (tuple(np.array(["red", "blue"])), "('red', 'blue')"),  # was "(np.str_('red'), np.str_('blue'))"
    ((np.float32(0.1), 2), "(0.1, 2)"),  # was "(0.10000000149011612, 2)"
    (([np.int64(1)], 2), "([1], 2)"),  # a list in a tuple: was "([np.int64(1)], 2)"
    (({"a": np.int64(1)},), "({'a': 1},)"),
    ((np.array([0.1], dtype=np.float32), np.longdouble("0.5"), np.complex64(1 + 2j)), "([0.1], 0.5, (1+2j))"),
    ((np.bool_(True), np.uint8(3)), "(True, 3)"),
])
def test_numpy_scalars_in_a_tuple_gold_are_written_as_python_writes_them(registered, answer, right):
    env = rlvr.make(registered("rlvr/Audit39NpTuple-v0", verifier="exact",
                               generator=lambda rng: {"question": "q", "answer": answer}))
    reward, info = _reward(env, f"<answer>{right}</answer>", seed=0)
    assert reward == 1.0, info["verdict"].reason


# ------------------------------------------------------------------ 7. a vector reset's 0-d and memoryview index


def test_a_0d_integer_array_index_is_one_index_and_a_memoryview_is_refused():
    vec = make_vec("rlvr/Countdown-v0", 2)
    try:
        _, info = vec.reset(options={"index": np.array(3)})
        assert list(info["task_id"]) == ["Countdown/3", "Countdown/3"]
        for index, named in ((memoryview(bytes([3, 4])), "memoryview"), (np.array(1.0), "ndarray")):
            with pytest.raises(TypeError, match=f"must be one int or a sequence of one int per sub-env \\(2\\), got {named}"):
                vec.reset(options={"index": index})
    finally:
        vec.close()


def test_a_json_answer_after_think_is_read_where_the_answer_is(registered):
    """A tag drafted in `<think>` marks nothing once the text after the block answers (answer rules
    13): the JSON the answer ends with is read from that part, over its lines, not from its last line
    alone (`'2]'` was "not JSON" because the drafted tag made the answer count as tagged)."""
    env_id = registered("rlvr/JsonAfterThink39-v0", generator=lambda rng: {"question": "List one and two.", "answer": [1, 2]},
                        verifier="exact")
    env = rlvr.make(env_id)
    reward, info = _reward(env, "<think><answer>[9]</answer></think>\nThe answer is [1,\n 2]", seed=0)
    assert reward == 1.0, info["verdict"]
    reward, _ = _reward(env, "<think><answer>[1, 2]</answer></think>\nThe answer is [1,\n 3]", seed=0)
    assert reward == 0.0
    env.close()
