"""A HumanEval-layout prompt whose bare signature has decorators above it (`@lru_cache`): a
whole-function answer must be read after the prompt's part before the decorators, not after an
unfinished decorated `def` (which never parses, so a right answer was scored wrong)."""

from __future__ import annotations

import pytest

import rlvr
from rlvr.verifiers.code_plan import prompt_head

FIB_TEST = "def check(candidate):\n    assert candidate(10) == 55\n    assert candidate(30) == 832040\n"
PROMPT = "import functools\n\n@functools.lru_cache(maxsize=None)\n@(lambda f: f)\ndef fib(n):\n"  # two decorators


def _score(env, completion):
    env.reset(seed=0, options={"index": 0})
    _, reward, _, _, info = env.step(completion)
    return reward, info["verdict"]


def test_prompt_head_drops_the_decorators_of_a_bare_signature():
    assert prompt_head("import functools\n\n@functools.cache\ndef fib(n):\n", "fib") == "import functools\n\n"
    assert prompt_head(PROMPT, "fib") == "import functools\n\n"
    # decorators of another definition, or not right above the def, are not the entry point's
    other = "@functools.cache\ndef helper(n):\n    return n\n\nX = 1\ndef fib(n):\n"
    assert prompt_head(other, "fib") == "@functools.cache\ndef helper(n):\n    return n\n\nX = 1\n"


@pytest.mark.parametrize("answer", [
    "@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
    "    return n if n < 2 else fib(n - 1) + fib(n - 2)",  # a body-only continuation, as before
])
def test_decorated_bare_signature_takes_a_whole_function(box, answer):
    rows = [{"task_id": "fib", "prompt": "import functools\n\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n",
             "test": FIB_TEST, "entry_point": "fib"}]
    env = rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box).unwrapped
    reward, verdict = _score(env, "```python\n" + answer + "\n```")
    assert verdict.correct and reward == 1.0, verdict.reason


def test_rules_version_says_verdicts_changed(box):
    from rlvr.verifiers.code import RULES_VERSION

    assert RULES_VERSION >= 4  # a right answer to a decorated bare signature was scored wrong under 3
    rows = [{"task_id": "fib", "prompt": PROMPT, "test": FIB_TEST, "entry_point": "fib"}]
    assert rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box).unwrapped.fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION
