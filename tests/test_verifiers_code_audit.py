"""Regression tests for an audit of the code verifier and `rlvr/Code-v0`.

1. A HumanEval prompt's own helpers (`encode_shift`, `poly`) are trusted: an answer that redefines
   them cannot change what the tests expect (HumanEval/32, /38, /50 scored wrong answers 1.0).
2. `float_tolerance` applies only to expected tokens written as non-integer ASCII decimals.
3. A right program whose expected output is over the sandbox's output cap is not cut off and
   scored wrong; one no program could print gives a failed verdict, not a wrong answer.
4. Code blocks nested in a Markdown list (indented fences) and CRLF answers are extracted whole.
"""

from __future__ import annotations

from rlvr.envs.code_env import CodeEnv
from rlvr.verifiers.code import MAX_CASE_OUTPUT_BYTES, check_function, check_io, compare_output
from rlvr.verifiers.code_extract import extract_code, extract_program
from rlvr.verifiers.code_plan import prompt_definitions

# -- 1. the prompt's helpers are the dataset's, not the model's ------------------------------------
SHIFT_PROMPT = '''

def encode_shift(s: str):
    """
    returns encoded string by shifting every character by 5 in the alphabet.
    """
    return "".join([chr(((ord(ch) + 5 - ord("a")) % 26) + ord("a")) for ch in s])


def decode_shift(s: str):
    """
    takes as input string encoded with encode_shift function. Returns decoded string.
    """
'''
# HumanEval/50's test, with a fixed seed so the test is deterministic
SHIFT_TEST = '''

METADATA = {}


def check(candidate):
    from random import Random
    import copy
    import string

    rng = Random(7)
    letters = string.ascii_lowercase
    for _ in range(20):
        str = ''.join(rng.choice(letters) for i in range(rng.randint(10, 20)))
        encoded_str = encode_shift(str)
        assert candidate(copy.deepcopy(encoded_str)) == str

'''
POLY_PROMPT = '''import math


def poly(xs: list, x: float):
    """Evaluates polynomial with coefficients xs at point x."""
    return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])


def find_zero(xs: list):
    """ xs are coefficients of a polynomial with an odd degree: find x such that poly(x) = 0. """
'''
POLY_TEST = '''

METADATA = {}


def check(candidate):
    import math
    import random
    rng = random.Random(42)
    import copy
    for _ in range(20):
        ncoeff = 2 * rng.randint(1, 4)
        coeffs = []
        for _ in range(ncoeff):
            coeff = rng.randint(-10, 10)
            if coeff == 0:
                coeff = 1
            coeffs.append(coeff)
        solution = candidate(copy.deepcopy(coeffs))
        assert math.fabs(poly(coeffs, solution)) < 1e-4

'''
POLY_RIGHT = '''```python
def find_zero(xs: list):
    lo, hi = -1.0, 1.0
    while poly(xs, lo) * poly(xs, hi) > 0:
        lo, hi = lo * 2.0, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if poly(xs, mid) * poly(xs, lo) > 0:
            lo = mid
        else:
            hi = mid
    return lo
```'''
RIGHT_DECODE = "    return ''.join([chr(((ord(ch) - 5 - ord('a')) % 26) + ord('a')) for ch in s])\n"


def _env(sandbox, prompt, test, entry):
    return CodeEnv([{"task_id": "HumanEval/x", "prompt": prompt, "test": test, "entry_point": entry}], sandbox=sandbox)


def test_redefining_a_prompt_helper_cannot_fake_a_pass(sandbox):
    env = _env(sandbox, SHIFT_PROMPT, SHIFT_TEST, "decode_shift")
    task = env.source.tasks[0]
    whole = "```python\ndef encode_shift(s):\n    return s\n\ndef decode_shift(s: str):\n    return s\n```"
    body = "    return s\n\ndef encode_shift(s):\n    return s\n"
    for answer in (whole, body):
        verdict = env.verify(task, answer)
        assert verdict.score == 0.0 and not verdict.correct and verdict.error is None, verdict.reason


def test_redefining_poly_cannot_fake_a_zero(sandbox):
    env = _env(sandbox, POLY_PROMPT, POLY_TEST, "find_zero")
    hack = "```python\ndef poly(xs, x):\n    return 0\n\ndef find_zero(xs):\n    return 12345\n```"
    verdict = env.verify(env.source.tasks[0], hack)
    assert verdict.score == 0.0 and verdict.error is None, verdict.reason


def test_right_answers_that_use_or_repeat_the_prompt_helpers_still_pass(sandbox):
    env = _env(sandbox, SHIFT_PROMPT, SHIFT_TEST, "decode_shift")
    task = env.source.tasks[0]
    uses_helper = "```python\ndef decode_shift(s: str):\n    for _ in range(25):\n        s = encode_shift(s)\n    return s\n```"
    repeats_helper = ("```python\ndef encode_shift(s: str):\n"
                      "    return ''.join([chr(((ord(ch) + 5 - ord('a')) % 26) + ord('a')) for ch in s])\n\n"
                      "def decode_shift(s: str):\n" + RIGHT_DECODE + "```")
    for answer in (RIGHT_DECODE, uses_helper, repeats_helper):
        verdict = env.verify(task, answer)
        assert verdict.correct, verdict.reason
    poly_env = _env(sandbox, POLY_PROMPT, POLY_TEST, "find_zero")
    assert poly_env.verify(poly_env.source.tasks[0], POLY_RIGHT).correct


def test_prompt_definitions_keep_helpers_and_their_imports_but_not_the_entry_point():
    helpers = prompt_definitions(POLY_PROMPT, "find_zero")
    assert "import math" in helpers and "def poly(" in helpers and "find_zero" not in helpers
    assert prompt_definitions(POLY_PROMPT, "find_zero", exclude=["poly"]) == ""  # imports alone: nothing
    assert prompt_definitions("from typing import List\n\n\ndef f(x: List[int]):\n    '''doc'''\n", "f") == ""
    assert prompt_definitions("Write a function f that adds one.", "f") == ""
    # a signature without a body: read up to the entry point's def line
    assert "def g(" in prompt_definitions("def g(x):\n    return x\n\n\ndef f(x):\n", "f")


def test_prompts_without_helpers_keep_their_tests_as_given(sandbox):
    test = "def check(candidate):\n    assert candidate(1) == 2\n"
    env = _env(sandbox, "def f(x):\n    \"\"\"Return x + 1.\"\"\"\n", test, "f")
    task = env.source.tasks[0]
    assert task.answer == test and "helpers" not in task.meta


# -- 2. float tolerance only for non-integer decimals ---------------------------------------------
def test_float_tolerance_never_accepts_a_wrong_integer_or_an_infinite_expectation():
    tol = 1e-6
    assert not compare_output("1000001\n", "1000000\n", float_tolerance=tol)
    assert not compare_output("1000000000000000000\n", "1000000000001000000\n", float_tolerance=tol)
    assert not compare_output("5\n", "inf\n", float_tolerance=tol)
    assert not compare_output("0\n", "1e999\n", float_tolerance=tol)
    assert not compare_output("nan\n", "NaN\n", float_tolerance=tol)


def test_float_tolerance_reads_only_ascii_decimals():
    tol = 1e-6
    assert not compare_output("1_0\n", "10.0\n", float_tolerance=tol)
    assert not compare_output("\u0661\u0660\n", "10.0\n", float_tolerance=tol)
    assert not compare_output("\u0661\u0660\n", "10\n", float_tolerance=tol)
    assert not compare_output("inf\n", "1e308\n", float_tolerance=tol)


def test_float_tolerance_still_accepts_close_decimals():
    tol = 1e-6
    assert compare_output("2\n", "2.000000\n", float_tolerance=tol)
    assert compare_output("0.3333333\n", "0.333333333\n", float_tolerance=tol)
    assert compare_output("1e-7 -0.5\n", "0.0 -.5\n", float_tolerance=tol)
    assert compare_output("150000.1\n", "1.5e5\n", float_tolerance=tol)
    assert compare_output("42 abc\n", "42 abc\n", float_tolerance=tol)


# -- 3. the output cap follows the expected output ------------------------------------------------
def test_a_right_program_with_output_over_the_sandbox_cap_passes(sandbox):
    # the fixture's sandbox caps output at 100,000 bytes; this output is about 190,000
    expected = "".join(f"{i}\n" for i in range(30000))
    program = "n = int(input())\nprint('\\n'.join(str(i) for i in range(n)))\n"
    verdict = check_io(program, [("30000\n", expected)], sandbox=sandbox)
    assert verdict.correct, verdict.reason
    flood = "import sys\nsys.stdout.write('x' * 10_000_000)\n"  # the cap still holds, just higher
    verdict = check_io(flood, [("30000\n", expected)], sandbox=sandbox)
    assert not verdict.correct and verdict.error is None and "output limit" in verdict.reason


def test_an_expected_output_no_program_may_print_is_a_failed_verdict(sandbox):
    expected = "x" * (MAX_CASE_OUTPUT_BYTES + 1)
    verdict = check_io("print('x')\n", [("", "1\n"), ("", expected)], sandbox=sandbox)
    assert verdict.error is not None and not verdict.correct
    assert verdict.details["kind"] == "dataset_error" and "case 2" in verdict.reason


# -- 4. indented and CRLF fences ------------------------------------------------------------------
def test_a_fence_nested_in_a_list_loses_its_indentation():
    answer = "Steps:\n\n1. Code:\n   ```python\n   def f(x):\n       return x + 1\n   ```\n"
    assert extract_code(answer) == "def f(x):\n    return x + 1"
    assert extract_program(answer, ["f"]) == "def f(x):\n    return x + 1"
    io = "1. Program:\n   ```python\n   n = int(input())\n   print(n + 1)\n   ```\n"
    assert extract_program(io) == "n = int(input())\nprint(n + 1)"


def test_crlf_fences_close():
    answer = "```python\r\ndef f(x):\r\n    return x + 1\r\n```\r\nDone.\r\n"
    assert extract_code(answer) == "def f(x):\n    return x + 1"
    two = "```python\r\nx = 1\r\n```\r\ntext\r\n```python\r\ny = 2\r\n```\r\n"
    assert extract_code(two, mode="all") == "x = 1\n\ny = 2"


def test_indented_and_crlf_answers_pass_end_to_end(sandbox):
    tests = ["assert f(1) == 2", "assert f(2) == 3"]
    for answer in ("1. Code:\n   ```python\n   def f(x):\n       return x + 1\n   ```\n",
                   "```python\r\ndef f(x):\r\n    return x + 1\r\n```\r\n"):
        verdict = check_function(answer, tests, sandbox=sandbox)
        assert verdict.correct, verdict.reason


def test_code_fingerprints_name_the_rules_version():
    # verdicts changed (fences, tolerance, trusted helpers): a resumed evaluation must not mix them
    import rlvr
    from rlvr.envs.scoring import resolve_verifier
    from rlvr.verifiers.code import RULES_VERSION

    assert resolve_verifier("code").fingerprint()["settings"]["rules"] == RULES_VERSION >= 3
    env = rlvr.make("rlvr/Code-v0", sandbox_backend="subprocess").unwrapped
    assert env.verifier_fingerprint()["settings"]["rules"] == RULES_VERSION
