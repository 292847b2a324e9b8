"""Bad prompt templates, bad code-dataset rows and unversioned ids are dealt with when an env is
registered or built, never at the first reset or step (where they would stop a training run or be
scored as the model's fault)."""

from __future__ import annotations

import json
import re
import warnings

import gymnasium as gym
import pytest

import rlvr
from rlvr.envs.code_env import CodeEnv
from rlvr.envs.custom import DatasetEnv
from rlvr.envs.registry import UnknownEnvError
from rlvr.envs.tasks import DatasetError

ROWS = [{"question": "What is {x}?", "answer": "2", "topic": "frac"}]
BRACES = "write literal braces as '{{' and '}}'"


# ------------------------------------------------------------------ prompt templates


@pytest.mark.parametrize("prompt, field", [
    ("{question}\nPut the final answer in \\boxed{}.", "an empty field '{}'"),
    ("{}", "an empty field '{}'"),
    ("{0}: {question}", "the positional field '{0}'"),
    ("{question:>{}}", "an empty field '{}'"),  # nested in a format spec
])
def test_a_template_with_a_field_no_task_can_fill_is_refused_at_register_and_make(registered, prompt, field):
    # these used to pass register and make, then fail every reset with "Replacement index 0 out of range"
    with pytest.raises(ValueError, match="has " + field.replace("{", r"\{").replace("}", r"\}")) as raised:
        registered("rlvr/PromptEmptyField-v0", dataset=ROWS, prompt=prompt)
    assert BRACES in str(raised.value) and "\\boxed{{}}" in str(raised.value)
    with pytest.raises(ValueError, match="has " + field.replace("{", r"\{").replace("}", r"\}")):
        DatasetEnv(ROWS, prompt=prompt)
    with pytest.raises(ValueError, match="filled by name"):
        rlvr.make("rlvr/Math-v0", dataset=ROWS, prompt=prompt)


@pytest.mark.parametrize("prompt", ["{question}\nAnswer: {answer}", "{question} ({answer[0]})", "{question:>{answer}}"])
def test_a_template_showing_the_model_the_gold_answer_is_refused(registered, prompt):
    # "{answer}" used to be filled with the gold, so every prompt gave the answer away and rewards meant nothing
    for build in (lambda: registered("rlvr/PromptLeaksGold-v0", dataset=ROWS, prompt=prompt),
                  lambda: DatasetEnv(ROWS, prompt=prompt),
                  lambda: rlvr.make("rlvr/Math-v0", dataset=ROWS, prompt=prompt)):
        with pytest.raises(ValueError, match=r"names '\{answer\}', which shows the model the gold answer") as raised:
            build()
        assert "callable prompt=" in str(raised.value)
    env = DatasetEnv(ROWS, verifier="exact", prompt=lambda task: f"{task.question} Is it {task.answer}?")  # the way to do it on purpose
    assert env.reset(options={"index": 0})[0] == "What is {x}? Is it 2?"


@pytest.mark.parametrize("prompt, problem", [
    ("{question} {", "Single '{' encountered"),
    ("Put it in \\boxed{ and {question}", "unexpected '{' in field name"),
    ("{question} }", "Single '}' encountered"),
])
def test_an_unbalanced_brace_says_how_to_write_literal_braces(registered, prompt, problem):
    for build in (lambda: registered("rlvr/PromptUnbalanced-v0", dataset=ROWS, prompt=prompt),
                  lambda: DatasetEnv(ROWS, prompt=prompt)):
        with pytest.raises(ValueError, match="is not a valid format string") as raised:
            build()
        assert problem in str(raised.value) and BRACES in str(raised.value)


def test_indexed_and_attribute_fields_are_checked_by_their_base_name():
    # "{topic[0]}" and "{question.upper}" used to be refused: "the tasks do not have ['topic[0]']"
    env = DatasetEnv(ROWS, verifier="exact", prompt="{topic[0]}|{question[0]}|{question.__class__.__name__}")
    assert env.reset(options={"index": 0})[0] == "f|W|str"
    with pytest.raises(ValueError, match=r"refers to \['missing'\], which the tasks do not have"):
        DatasetEnv(ROWS, verifier="exact", prompt="{missing[0]} {question}")
    with pytest.raises(ValueError, match="cannot be filled from task '0'.*AttributeError"):
        DatasetEnv(ROWS, verifier="exact", prompt="{question.no_such_attribute}")


def test_the_template_escaping_literal_braces_still_works():
    env = DatasetEnv(ROWS, prompt="{question}\nPut the final answer in \\boxed{{}}.")
    assert env.reset(options={"index": 0})[0] == "What is {x}?\nPut the final answer in \\boxed{}."


def test_different_prompt_callables_give_different_fingerprints():
    # two lambdas used to be fingerprinted alike, as "callable:<lambda>"
    def fingerprint(prompt):
        return DatasetEnv(ROWS, prompt=prompt).reset(options={"index": 0})[1]["fingerprint"]

    first = fingerprint(lambda task: "A " + task.question)
    other = fingerprint(lambda task: "B " + task.question)
    again = fingerprint(lambda task: "A " + task.question)
    assert first.digest != other.digest and first.digest == again.digest
    settings = first.to_dict()["settings"]
    json.dumps(settings)  # plain data, like the rest of the fingerprint
    assert "<lambda>" in settings["prompt"]["callable"]["name"]
    assert fingerprint("{question}").to_dict()["settings"]["prompt"] == "{question}"  # templates as before


# ------------------------------------------------------------------ code dataset rows


HUMANEVAL_ROW = {"prompt": "def add(a, b):\n", "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}


@pytest.mark.parametrize("rows, problem", [
    # a null expected output became the text "None": a right program scored 0.5, valid=True
    ([{"question": "q", "inputs": ["1", "2"], "outputs": ["1", None]}], "row 0: output 1 is null"),
    ([{"question": "q", "inputs": [None], "outputs": ["1"]}], "row 0: input 0 is null"),
    ([{"question": "q", "inputs": [["1", None]], "outputs": ["1"]}], "row 0: input 0 is null"),
    # a mapping or a nested list became its Python repr ("{'n': 3}") on the program's stdin
    ([{"question": "q", "inputs": [{"n": 3}], "outputs": ["3"]}], "row 0: input 0 holds a dict (\"{'n': 3}\")"),
    ([{"question": "q", "inputs": ["1", [[1, 2]]], "outputs": ["1", "3"]}], "row 0: input 1 holds a list ('[1, 2]')"),
    ([{"question": "q", "inputs": ["1"], "outputs": [{"v": 1}]}], "row 0: output 0 holds a dict"),
    # these used to build, then flag every step invalid (an infrastructure failure to the trainer)
    ([{**HUMANEVAL_ROW, "entry_point": ""}], "row 0: column 'entry_point' must be the name of the function"),
    ([{**HUMANEVAL_ROW, "entry_point": "ad d"}], "row 0: column 'entry_point' must be the name of the function"),
    ([{**HUMANEVAL_ROW, "entry_point": "add"}, {**HUMANEVAL_ROW, "entry_point": "def"}], "row 1: column 'entry_point'"),
    ([{"text": "x", "test_list": ["assert True", "assert 1 == 1"]}], "row 0 (task '0'): column 'test_list' cannot check a solution: "
                                                                       "the tests never use the solution"),
])
def test_a_code_row_that_cannot_be_scored_is_refused_when_the_env_is_built(rows, problem):
    with pytest.raises(DatasetError, match=re.escape(problem)):
        CodeEnv(rows)


def test_usable_code_rows_still_build():
    rows = [{"question": "q", "inputs": ["1", ["2", 3], 4], "outputs": ["1", "", 4.5]}]
    assert [task.answer for task in CodeEnv(rows).source.tasks] == [[("1", "1"), ("2\n3\n", ""), ("4", "4.5")]]
    env = CodeEnv([{**HUMANEVAL_ROW, "entry_point": None}, {**HUMANEVAL_ROW, "entry_point": "add"}])
    # a null entry point is the function the prompt asks for (`_entry_point`)
    assert [task.meta["entry_point"] for task in env.source.tasks] == ["add", "add"]
    mbpp = [{"text": "x", "test_list": ["assert math.floor(add(1, 2)) == 3"], "test_imports": ["import math"]},
            {"text": "y", "test_list": ["assert sub == 3"]}]  # no call, but it uses a name the solution defines
    assert [task.meta["entry_point"] for task in CodeEnv(mbpp).source.tasks] == ["add", None]


# ------------------------------------------------------------------ ids without a version


def test_make_without_a_version_builds_the_latest_one_as_gymnasium_does(registered):
    # rlvr.make("rlvr/R") used to raise UnknownEnvError where gymnasium.make builds rlvr/R-v1
    registered("rlvr/PrUnversioned-v0", dataset=[{"question": "old", "answer": "1"}], verifier="exact")
    registered("rlvr/PrUnversioned-v1", dataset=[{"question": "new", "answer": "1"}], verifier="exact")
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        env = rlvr.make("rlvr/PrUnversioned")
        short = rlvr.make("PrUnversioned")
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        reference = gym.make("rlvr/PrUnversioned")
    assert env.spec.id == short.spec.id == reference.spec.id == "rlvr/PrUnversioned-v1"
    assert env.reset(options={"index": 0})[0] == "new"
    latest = [str(w.message) for w in theirs if "latest versioned" in str(w.message)]
    assert latest and [str(w.message) for w in ours if "latest versioned" in str(w.message)][:1] == latest


def test_an_unknown_id_without_a_version_still_gets_the_helpful_error():
    with pytest.raises(UnknownEnvError, match=r"no environment registered as 'rlvr/Maht'\. Did you mean"):
        rlvr.make("rlvr/Maht")
    with pytest.raises(UnknownEnvError, match="Register your own"):
        rlvr.make("rlvr/NoSuchTaskAtAll")


@pytest.mark.parametrize("ids, problem", [(["HumanEval/0", "HumanEval/0"], "rows 0 and 1"), (["HumanEval/0", None], "row 1")])
def test_code_task_ids_must_be_unique_and_present(ids, problem):
    # results and pass@k are grouped by task id: two rows with one id would be scored as one task
    rows = [{"task_id": task_id, "prompt": "def add(a, b):\n", "test": "def check(f):\n    assert f(1, 2) == 3\n",
             "entry_point": "add"} for task_id in ids]
    with pytest.raises(DatasetError, match=problem):
        rlvr.make("rlvr/Code-v0", dataset=rows, sandbox_backend="subprocess")
