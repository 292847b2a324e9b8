"""Regression tests for an acceptance audit of `rlvr/Code-v0`: credit for answers that earn none.

1. The built-in sample `sample/is_prime` had an assert that a function returning None half passed
   (`assert not candidate(1) and ...`), so an empty answer or `pass` scored 0.5. Every built-in
   sample's asserts now fail for a non-answer (None, 0, "", [], True, False, the argument itself),
   and the right solutions still score 1.
2. An answer that holds no code (empty, comments, `pass`, prose) was run (after the HumanEval
   prompt, whose docstring-only function returns None). It now scores 0 without running, kind
   "no_code"; a body-only continuation such as `    return a + b` is code, and is still run.
3. `partial_credit=False` makes the outcome all or nothing (1 only when every test passes), on
   the env-by-env and the vector env path; the verdict keeps the verifier's fraction as
   details["partial_score"], and the setting is validated and in the fingerprint.
"""

from __future__ import annotations

import pytest

import rlvr
from conftest import fence
from rlvr.envs.code_env import holds_no_code
from rlvr.envs.samples import CODE_SAMPLES
from rlvr.envs.vector import make_vec
from rlvr.verifiers.verdict import Verdict

#: A right solution of each built-in sample.
REFERENCES = {
    "add": "def add(a, b):\n    return a + b",
    "reverse_words": "def reverse_words(s):\n    return ' '.join(reversed(s.split()))",
    "is_prime": "def is_prime(n):\n    if n < 2:\n        return False\n    return all(n % d for d in range(2, int(n ** 0.5) + 1))",
    "count_vowels": "def count_vowels(s):\n    return sum(c in 'aeiouAEIOU' for c in s)",
    "running_max": ("def running_max(xs):\n    out = []\n    for x in xs:\n"
                    "        out.append(x if not out else max(out[-1], x))\n    return out"),
}
#: What a function that does not solve its task returns (the argument itself is added per sample).
NON_ANSWERS = ["None", "0", "''", "[]", "True", "False"]
#: add(1, 2) passes 1 of the 3 asserts of sample/add (`0 if a == -b else 1`).
THIRD_ADD = "```python\ndef add(a, b):\n    return 0 if a == -b else 1\n```"
RIGHT_ADD = "```python\n" + REFERENCES["add"] + "\n```"


def step(env, completion: str, index: int = 0):
    env.reset(seed=0, options={"index": index})
    _, reward, _, _, info = env.step(completion)
    return reward, info


# -- 1. the built-in samples give no credit for a non-answer ----------------------------------------
def test_the_audit_repro_an_empty_answer_to_is_prime_scores_zero(box):
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    assert [row["entry_point"] for row in CODE_SAMPLES][2] == "is_prime"
    for answer in ["", fence("def is_prime(n):\n    return None")]:
        reward, info = step(env, answer, 2)
        assert reward == 0.0 and info["valid"], info["verdict"].reason


@pytest.mark.parametrize("index", range(len(CODE_SAMPLES)), ids=[row["task_id"] for row in CODE_SAMPLES])
def test_no_builtin_sample_gives_credit_for_a_non_answer(box, index):
    row = CODE_SAMPLES[index]
    entry = row["entry_point"]
    args = row["prompt"].split("(", 1)[1].split(")", 1)[0]
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    answers = ["", "pass", "```python\npass\n```", "    return None"]
    answers += [fence(f"def {entry}({args}):\n    return {value}") for value in [*NON_ANSWERS, args.split(",")[0]]]
    scored = {answer: step(env, answer, index) for answer in answers}
    assert {answer: reward for answer, (reward, _) in scored.items() if reward} == {}
    assert all(info["valid"] for _, info in scored.values())


@pytest.mark.parametrize("index", range(len(CODE_SAMPLES)), ids=[row["task_id"] for row in CODE_SAMPLES])
def test_every_builtin_sample_gives_full_credit_for_a_right_answer(box, index):
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    reference = REFERENCES[CODE_SAMPLES[index]["entry_point"]]
    for answer in [fence(reference), reference.split("\n", 1)[1]]:  # a whole function, and the body alone
        reward, info = step(env, answer, index)
        assert reward == 1.0, info["verdict"].reason


# -- 2. an answer with no code is not run ---------------------------------------------------------
@pytest.mark.parametrize("answer", ["", "  \n\t", "pass", "    pass", "# TODO", "    ...", '"""I would loop."""',
                                    "```python\npass\n```", "```python\n# nothing yet\n```", "I don't know.",
                                    "no code here, sorry", "```\nI give up\n```"])
def test_an_answer_with_no_code_scores_zero_without_running(box, answer):
    env = rlvr.make("rlvr/Code-v0", sandbox=box, reward_weights={"outcome": 1.0, "format": 0.0})
    reward, info = step(env, answer, 2)  # is_prime: the prompt's own function returns None
    verdict = info["verdict"]
    assert reward == 0.0 and info["valid"] and not verdict.correct
    assert verdict.details["kind"] == "no_code" and "no code" in verdict.reason
    assert "backend" not in verdict.details  # nothing ran (a run's verdict names its sandbox backend)


@pytest.mark.parametrize("answer, kind, reward", [
    ("    return a + b", "passed", 1.0),  # HumanEval body-only continuation: code, run
    ("    return a + b\n", "passed", 1.0),
    ("    total = a + b\n    return total", "passed", 1.0),
    ("    return None", "failed", 0.0),  # code that runs, and fails the tests
    ("def add(a, b) return a+b", "syntax", 0.0),  # broken code is still code
    ("Here it is:\n```java\nint add(int a, int b) { return a + b; }\n```", "syntax", 0.0),  # not Python
])
def test_code_is_still_run(box, answer, kind, reward):
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    got, info = step(env, answer, 0)
    assert (got, info["verdict"].details["kind"]) == (reward, kind), info["verdict"].reason


def test_no_code_in_mbpp_and_stdin_stdout_tasks(box):
    mbpp = rlvr.make("rlvr/Code-v0", sandbox=box, dataset=[
        {"task_id": 1, "text": "Return the double of x.", "test_list": ["assert double(2) == 4", "assert double(0) == 0"]}])
    io = rlvr.make("rlvr/Code-v0", sandbox=box, dataset=[{"question": "Double n.", "inputs": ["3\n"], "outputs": ["6\n"]}])
    for env in (mbpp, io):
        for answer in ["pass", "Sorry, I cannot.", "```python\n'''todo'''\n```"]:
            reward, info = step(env, answer)
            assert reward == 0.0 and info["verdict"].details["kind"] == "no_code", (answer, info["verdict"].reason)
    assert step(mbpp, fence("def double(x):\n    return 2 * x"))[0] == 1.0
    assert step(io, fence("print(2 * int(input()))"))[0] == 1.0


def test_holds_no_code_reads_bodies_and_prose():
    prompt = 'def add(a, b):\n    """Sum."""\n'
    for code in ["", "pass", "    pass\n    ...", "# only a comment", "'a string'", "I don't know.", "It is easy: add them."]:
        assert holds_no_code(code, prompt + code), code
    for code in ["    return a + b", "return a + b", "import math", "x = 1", "print(1)", "def add(a, b) return a+b",
                 "for x in xs: y", "    if a:\n        return b\n    return a", "@cache\ndef f(): pass",
                 "```java\nint f() {}\n```"]:
        assert not holds_no_code(code, prompt + code), code


# -- 3. all or nothing: partial_credit=False ------------------------------------------------------
def test_partial_credit_is_the_default(box):
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    reward, info = step(env, THIRD_ADD)
    assert reward == pytest.approx(1 / 3) and "partial_credit" not in info["fingerprint"]["settings"]
    assert "partial_score" not in info["verdict"].details


def test_all_or_nothing_outcome_keeps_the_fraction_in_the_verdict(box):
    env = rlvr.make("rlvr/Code-v0", sandbox=box, partial_credit=False)
    reward, info = step(env, THIRD_ADD)
    verdict = info["verdict"]
    assert reward == 0.0 and info["reward_parts"]["outcome"] == 0.0 and info["valid"]
    assert verdict.score == 0.0 and not verdict.correct
    assert verdict.details["partial_score"] == pytest.approx(1 / 3) and verdict.details["passed"] == 1
    assert "1 of 3 passed" in verdict.reason and "partial_credit=False" in verdict.reason
    reward, info = step(env, RIGHT_ADD)
    assert reward == 1.0 and info["verdict"].correct and info["verdict"].details["partial_score"] == 1.0
    reward, info = step(env, "")
    assert reward == 0.0 and info["verdict"].details["kind"] == "no_code"


def test_all_or_nothing_leaves_a_failed_verification_alone(box):
    env = rlvr.make("rlvr/Code-v0", sandbox=box, partial_credit=False).unwrapped
    failed = Verdict.failed("sandbox error: down")
    assert env.credit(failed) is failed
    partial = Verdict.wrong("test 1 of 2 failed; 1 of 2 passed", score=0.5)
    assert rlvr.make("rlvr/Code-v0", sandbox=box).unwrapped.credit(partial) is partial  # partial credit: as it is
    assert env.credit(partial).score == 0.0 and env.credit(partial).details["partial_score"] == 0.5


def test_partial_credit_is_in_the_fingerprint(box):
    default = rlvr.make("rlvr/Code-v0", sandbox=box).unwrapped.fingerprint()
    strict = rlvr.make("rlvr/Code-v0", sandbox=box, partial_credit=False).unwrapped.fingerprint()
    assert strict["settings"]["partial_credit"] is False and "partial_credit" not in default["settings"]
    assert strict.digest != default.digest
    assert rlvr.make("rlvr/Code-v0", sandbox=box, partial_credit=True).unwrapped.fingerprint().digest == default.digest


@pytest.mark.parametrize("value", ["false", 0, 1, None, 0.5])
def test_partial_credit_must_be_a_bool(box, value):
    with pytest.raises(ValueError, match="partial_credit must be True .* or False .*got"):
        rlvr.make("rlvr/Code-v0", sandbox=box, partial_credit=value)


@pytest.mark.parametrize("partial_credit, want", [(True, [1 / 3, 1.0, 1 / 3, 1.0]), (False, [0.0, 1.0, 0.0, 1.0])])
def test_all_or_nothing_in_a_vector_env(box, partial_credit, want):
    vec = make_vec("rlvr/Code-v0", 4, sandbox=box, partial_credit=partial_credit)
    try:
        vec.reset(options={"index": [0, 0, 0, 0]})
        _, rewards, terminated, _, info = vec.step([THIRD_ADD, RIGHT_ADD, THIRD_ADD, "    return a + b"])
        assert list(rewards) == pytest.approx(want) and terminated.all() and info["valid"].all()
        assert list(info["reward_parts"]["outcome"]) == pytest.approx(want)
        fractions = [verdict.details.get("partial_score") for verdict in info["verdict"]]
        assert fractions == ([None] * 4 if partial_credit else pytest.approx([1 / 3, 1.0, 1 / 3, 1.0]))
        settings = [fingerprint["settings"].get("partial_credit") for fingerprint in info["fingerprint"]]
        assert settings == [None if partial_credit else False] * 4
    finally:
        vec.close()


@pytest.mark.parametrize("partial_credit", [True, False])
def test_batched_scoring_agrees_with_the_env(box, partial_credit):
    """`rlvr eval`'s batched code scorer gives the verdicts stepping the env gives, partial credit
    or not (it applied no `credit`, so all-or-nothing evals still scored fractions)."""
    from rlvr.benchmarks.scoring import score_completions, score_with_env

    env = rlvr.make("rlvr/Code-v0", sandbox=box, partial_credit=partial_credit).unwrapped
    tasks = [env.source.tasks[0]] * 3
    texts = [THIRD_ADD, RIGHT_ADD, ""]
    batched = score_completions(env, "code", tasks, texts)
    stepped = [score_with_env(env, task, text) for task, text in zip(tasks, texts)]
    def seen(v):  # all but the run's wall time
        return v.score, v.correct, {k: x for k, x in v.details.items() if k != "wall_time"}, v.reason

    assert list(map(seen, batched)) == list(map(seen, stepped))


def test_a_constant_completing_the_prompts_last_line_is_code(box):
    """A prompt that ends mid-line (`    return `): the answer `42` completes a passing program; it
    is not a statement that does nothing (it was scored no_code)."""
    rows = [{"task_id": "mid", "prompt": 'def answer():\n    """The answer."""\n    return ', "entry_point": "answer",
             "test": "def check(candidate):\n    assert candidate() == 42\n"}]
    env = rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box)
    reward, info = step(env, "42")
    assert reward == 1.0, info["verdict"].reason


@pytest.mark.parametrize("answer", [
    "    return a + b\n```",  # a body, then a closing fence whose opening was left out
    "def add(a, b):\n    return a + b\n```",
    "Here is the code:\ndef add(a, b):\n    return a + b\n```",
    "```python\ndef add(a, b):\n    return a - b\n```\nFixed:\ndef add(a, b):\n    return a + b\n```",
])
def test_a_lone_closing_fence_closes_the_code_before_it(box, answer):
    """It was read as the opening of an empty last block: the answer then held "no code"."""
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    reward, info = step(env, answer)
    assert reward == 1.0, info["verdict"].reason


def test_prose_before_a_stray_fence_is_no_code_and_no_format_credit(box):
    """Prose then a lone ``` was taken for a code block: the format reward paid for a non-answer."""
    env = rlvr.make("rlvr/Code-v0", sandbox=box, reward_weights={"format": 0.1}).unwrapped
    for answer in ["I don't know how to solve this.\n```", "Sure!\n\n```"]:
        assert env.format_score(env.source.tasks[0], answer) == 0.0
        reward, info = step(env, answer)
        assert reward == 0.0 and info["verdict"].details["kind"] == "no_code"


@pytest.mark.parametrize("answer", ["Sure, here is the body:\n    return a + b\n```",
                                    "Here is the completion:\n\n    return a + b\n```"])
def test_a_body_after_prose_and_before_a_stray_fence_is_the_answer(box, answer):
    env = rlvr.make("rlvr/Code-v0", sandbox=box)
    reward, info = step(env, answer)
    assert reward == 1.0, info["verdict"].reason


def test_a_prompt_without_its_final_newline_is_not_a_mid_line_prompt(box):
    """Only a prompt that stops mid-statement is finished by the answer: one that merely lacks its
    final newline (stripped) still gives a non-answer no credit, and takes a body on its own line."""
    prompt = 'def is_none(x):\n    """Return None."""'
    rows = [{"task_id": "t", "prompt": prompt, "entry_point": "is_none", "test": "def check(candidate):\n    assert candidate(1) is None\n"}]
    env = rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box)
    for answer in ["", "pass", "I can't solve this."]:
        reward, info = step(env, answer)
        assert reward == 0.0 and info["verdict"].details["kind"] == "no_code", answer
    rows = [{"task_id": "t", "prompt": 'def add(a, b):\n    """Add."""', "entry_point": "add",
             "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}]
    reward, info = step(rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box), "    return a + b")
    assert reward == 1.0, info["verdict"].reason
