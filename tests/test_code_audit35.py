"""Audit 35 of the code verifier: transfer time not charged to the answer, values too large to
return named as such, deep arguments as the dataset's fault, inline backticks not read as a fence,
CodeEnv's time limits checked at construction, and how aliased arguments cross into the solution."""

import json
import math
import time

import pytest

from rlvr.envs.code_env import CodeEnv
from rlvr.verifiers import code_child, code_harness
from rlvr.verifiers.code import check_function
from rlvr.verifiers.code_fences import extract_code


def test_float_lists_travel_as_binary_doubles_both_ways():
    values = [0.1, -0.0, float("inf"), float("nan"), 1e308, 5e-324]
    child_form = json.loads(code_child.to_json(values))
    assert list(child_form) == ["$floats"]  # written at C speed, not float by float
    assert child_form == code_harness.encode(values)
    for back in (code_harness.decode(child_form), code_child._untag(child_form)):
        assert type(back) is list and len(back) == len(values)
        assert all(math.copysign(1, a) == math.copysign(1, b) and (a == b or a != a and b != b)
                   for a, b in zip(values, back))
    with pytest.raises(ValueError):
        code_harness.decode({"$floats": "AAAA"})  # not a whole number of doubles


def _harness():
    return code_harness.Harness({"solution": "", "child_source": "", "timeout": 10})


def test_transfer_time_is_credited_only_as_far_as_the_bytes_explain():
    harness = _harness()
    before = harness.deadline
    sent = time.monotonic() - 5.0
    harness._credit_transfer({"took": 0.0}, 5.0, 4000, sent + 0.0)  # a child that says it took nothing
    allowance = code_harness.TRANSFER_SECONDS_PER_CALL + code_harness.TRANSFER_SECONDS_PER_BYTE * 4000
    assert 0 < harness.deadline - before < allowance + 0.5  # (+ this side's own time since the reply)
    for claim in ({}, {"took": -1.0}, {"took": 9.0}, {"took": "0"}, None):  # malformed: nothing credited
        harness = _harness()
        before = harness.deadline
        harness._credit_transfer(claim, 5.0, 10**9, time.monotonic() - 5.0)
        assert harness.deadline - before < 0.5


def test_too_large_return_value_names_the_transfer_cap(box):
    verdict = check_function("def f(n):\n    return list(range(n))\n",
                             "def check(candidate):\n    assert candidate(3_000_000) == list(range(3_000_000))\n",
                             "f", sandbox=box)
    assert verdict.details["kind"] == "failed"
    assert "returned a value too large to transfer" in verdict.reason and "16 MiB" in verdict.reason
    assert "bytes (more than" not in verdict.reason


def test_argument_nested_too_deep_is_the_datasets_fault(box):
    tests = "def check(candidate):\n    r = []\n    for _ in range(350):\n        r = [r]\n    assert candidate(r) == 350\n"
    verdict = check_function("def f(x):\n    return 0\n", tests, "f", sandbox=box)
    assert verdict.details["kind"] == "dataset_error", verdict.reason
    assert "nested more than 300 levels deep" in verdict.reason


def test_aliased_arguments_arrive_as_separate_objects(box):
    """Documented: each argument crosses as its own copy, so `candidate(x, x)` gives the solution two
    lists, and the in-place change of the first is written back into `x`."""
    solution = "def f(dst, src):\n    dst.append(1)\n    return [len(src), dst is src]\n"
    tests = "def check(candidate):\n    x = []\n    assert candidate(x, x) == [0, False]\n    assert x == [1]\n"
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_inline_triple_backticks_open_no_fence():
    text = "```python``` fences are used below.\n\n```python\ndef add(a, b):\n    return a + b\n```\n"
    assert extract_code(text) == "def add(a, b):\n    return a + b"
    assert extract_code("```py\nx = 1\n```") == "x = 1"


@pytest.mark.parametrize("settings", [{"case_timeout": float("inf")}, {"case_timeout": 1e6},
                                      {"timeout": 1e6}, {"timeout": float("nan")}, {"call_timeout": 1e6},
                                      {"call_timeout": float("inf")}])
def test_code_env_refuses_time_limits_the_verifier_refuses(settings):
    with pytest.raises(ValueError, match="seconds"):
        CodeEnv(dataset=[{"question": "q", "inputs": ["1\n"], "outputs": ["1\n"]}], **settings)
    env = CodeEnv(dataset=[{"question": "q", "inputs": ["1\n"], "outputs": ["1\n"]}])
    name = next(iter(settings))
    with pytest.raises(ValueError):
        setattr(env, name, settings[name])
