"""Registered local dataset files (red team 38): every env over one unchanged file re-parsed the
whole file before finding the tasks it shares (`make_vec(id, 64)` parsed it 64 times), and the
"exact" verifier compared a JSON list or dict gold with Python's repr of it."""

from __future__ import annotations

import json
import time

import pytest

from rlvr.envs import tasks as tasks_module
from rlvr.envs.custom import DatasetEnv
from rlvr.envs.scoring import exact_gold, json_canonical, resolve_verifier
from rlvr.envs.tasks import DatasetError, Task


@pytest.fixture
def parses(monkeypatch):
    """Counts the row parses of local json/jsonl and csv files (the real parsers still run)."""
    counts = {"json": 0, "csv": 0}

    def counted(kind, parse):
        def run(*args, **kwargs):
            counts[kind] += 1
            return parse(*args, **kwargs)
        return run

    monkeypatch.setattr(tasks_module, "read_json_rows", counted("json", tasks_module.read_json_rows))
    monkeypatch.setattr(tasks_module, "read_csv_rows", counted("csv", tasks_module.read_csv_rows))
    return counts


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


ROWS = [{"question": f"What is {i} + {i}?", "answer": str(2 * i), "topic": "sums"} for i in range(50)]


def test_a_second_env_over_an_unchanged_file_does_not_parse_it_again(tmp_path, parses):
    path = tmp_path / "sums.jsonl"
    _write_jsonl(path, ROWS)
    first = DatasetEnv(str(path), verifier="exact")
    assert parses["json"] == 1
    others = [DatasetEnv(str(path), verifier="exact") for _ in range(4)]
    assert parses["json"] == 1  # the tasks are found by the file's digest, before any parse
    assert all(env._tasks is first._tasks for env in others)  # one shared task list
    assert others[0].source.fingerprint() == first.source.fingerprint()
    assert others[0].source.fingerprint()["sha256"] == tasks_module.file_sha256(str(path))
    obs, _ = others[-1].reset(options={"index": 7})
    assert "What is 7 + 7?" in obs
    assert others[-1].step("14")[1] == 1.0


def test_a_csv_file_is_not_parsed_again_either(tmp_path, parses):
    path = tmp_path / "sums.csv"
    path.write_text("question,answer\n" + "".join(f"What is {i} + {i}?,{2 * i}\n" for i in range(20)))
    first = DatasetEnv(str(path), verifier="exact")
    second = DatasetEnv(str(path), verifier="exact")
    assert parses["csv"] == 1 and second._tasks is first._tasks


def test_a_changed_file_is_parsed_again_and_gives_its_new_tasks(tmp_path, parses):
    path = tmp_path / "sums.jsonl"
    _write_jsonl(path, ROWS)
    first = DatasetEnv(str(path), verifier="exact")
    _write_jsonl(path, [{"question": "What is 1 + 1?", "answer": "2"}])
    second = DatasetEnv(str(path), verifier="exact")
    assert parses["json"] == 2
    assert len(second.source.tasks) == 1 and len(first.source.tasks) == 50
    assert second.source.fingerprint()["sha256"] != first.source.fingerprint()["sha256"]


def test_other_columns_of_a_known_file_are_read_from_its_rows(tmp_path, parses):
    """A file whose layout is known but whose tasks for these columns are not built yet: its rows
    are parsed then (once), and the tasks are those of the other columns."""
    path = tmp_path / "sums.jsonl"
    _write_jsonl(path, ROWS)
    DatasetEnv(str(path), verifier="exact")
    by_topic = DatasetEnv(str(path), verifier="exact", answer_key="topic")
    assert parses["json"] == 2
    assert by_topic.source.tasks[3].answer == "sums"


def test_a_known_file_still_refuses_what_it_refused(tmp_path, parses):
    path = tmp_path / "sums.jsonl"
    _write_jsonl(path, ROWS)
    DatasetEnv(str(path), verifier="exact")
    with pytest.raises(DatasetError, match="no column 'solution'"):
        DatasetEnv(str(path), verifier="exact", answer_key="solution")
    assert parses["json"] == 1  # the columns are known without parsing


# ---------------------------------------------------------------------------------------------
# "exact" golds that are JSON arrays or objects


def _exact_env(tmp_path, answer, **verifier_settings):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"question": "Name the two colours mixed for green, as a JSON list", "answer": answer}) + "\n")
    return DatasetEnv(str(path), verifier="exact", verifier_settings=verifier_settings or None)


def _reward(env, completion):
    env.reset(options={"index": 0})
    return env.step(completion)[1]


def test_a_json_list_gold_matches_the_json_text_the_file_holds(tmp_path):
    env = _exact_env(tmp_path, ["blue", "yellow"])
    assert _reward(env, '["blue", "yellow"]') == 1.0  # the file's own text
    assert _reward(env, '["blue","yellow"]') == 1.0  # JSON of the same value, spaced otherwise
    assert _reward(env, 'The answer is:\n[ "blue" ,\t"yellow" ]') == 1.0
    assert _reward(env, "['blue', 'yellow']") == 0.0  # Python's repr is not JSON
    assert _reward(env, '["yellow", "blue"]') == 0.0  # an array's order counts
    assert _reward(env, '["Blue", "yellow"]') == 0.0
    assert _reward(env, "blue, yellow") == 0.0


def test_a_json_object_gold_ignores_key_order_but_not_types(tmp_path):
    env = _exact_env(tmp_path, {"a": 1, "b": [True, None, 0.5]})
    assert _reward(env, '{"b": [true, null, 0.5], "a": 1}') == 1.0
    assert _reward(env, '{"a": 1.0, "b": [true, null, 0.5]}') == 1.0  # a whole number, as exact_gold writes it
    assert _reward(env, '{"a": true, "b": [true, null, 0.5]}') == 0.0  # true is not 1
    assert _reward(env, '{"a": 1, "b": [1, null, 0.5]}') == 0.0
    assert _reward(env, "{'a': 1, 'b': [True, None, 0.5]}") == 0.0


def test_case_insensitive_exact_folds_strings_of_a_json_gold(tmp_path):
    env = _exact_env(tmp_path, ["Blue", "yellow"], case_sensitive=False)
    assert _reward(env, '["BLUE", "Yellow"]') == 1.0
    assert _reward(env, '["yellow", "blue"]') == 0.0


def test_a_container_gold_is_written_as_canonical_json():
    assert exact_gold(("a", 2.0)) == ("a", 2.0)  # a tuple is not what a JSON file holds: compared as str()
    assert json_canonical(["blue", "yellow"]) == '["blue","yellow"]'
    assert json_canonical({"b": "é", "a": False}) == '{"a":false,"b":"é"}'
    assert json_canonical(json.loads('[ 1 , {"y": 2, "x": "1"} ]')) == '[1,{"x":"1","y":2}]'


def test_a_container_gold_that_is_not_json_data_is_refused_naming_the_row():
    rows = [{"question": "q0", "answer": ["a"]}, {"question": "q1", "answer": ["a", {1, 2}]}]
    with pytest.raises(DatasetError, match=r"row 1: .*compared as JSON.*set is not JSON data"):
        DatasetEnv(rows, verifier="exact")
    assert resolve_verifier("exact").validate_gold({"k": [1, "x"]}) is None


def test_the_exact_verifiers_fingerprint_names_the_new_gold_rules():
    assert resolve_verifier("exact").fingerprint()["settings"]["gold_rules"] >= 4


# ---------------------------------------------------------------------------------------------
# review of the JSON comparison: tuples, multi-line / fenced answers, clashing keys, NaN


def _score(gold, completion, case_sensitive=True):
    return resolve_verifier("exact", case_sensitive=case_sensitive).score(Task("t", "q", gold, {}), completion)


def test_a_tuple_gold_is_still_compared_as_its_text():
    """Tuples (in-memory rows, a generator's answers) scored as `str(tuple)` before gold_rules 3 and
    still do; only a list or dict, what a JSON file holds, is compared as JSON."""
    assert _score((3, 4), "<answer>(3, 4)</answer>").correct
    assert _score(("a", "b"), "<answer>('a', 'b')</answer>").correct
    assert not _score((3, 4), "<answer>[3, 4]</answer>").correct
    assert resolve_verifier("exact").validate_gold((3, 4)) is None


def test_a_multi_line_or_fenced_json_answer_is_read_whole(tmp_path):
    env = _exact_env(tmp_path, {"a": 1, "b": 2})
    assert _reward(env, 'Result:\n{\n  "a": 1,\n  "b": 2\n}') == 1.0  # pretty-printed, no tags
    assert _reward(env, 'Result:\n```json\n{\n  "b": 2,\n  "a": 1\n}\n```\n') == 1.0
    assert _reward(env, '<answer>\n```json\n{"a": 1, "b": 2}\n```\n</answer>') == 1.0
    assert _reward(env, 'The answer is {"a": 1, "b": 2}') == 1.0  # the value that ends the text
    assert _reward(env, 'Result:\n{\n  "a": 1,\n  "b": 3\n}') == 0.0
    assert _reward(env, '{"a": 1, "b": 2}\nis my answer') == 0.0  # the text does not end with it
    assert _reward(env, '<answer>unsure</answer>\n{"a": 1, "b": 2}') == 0.0  # the tag is the answer
    fenced = _exact_env(tmp_path, ["x", "y"])
    assert _reward(fenced, '```json\n["x", "y"]\n```') == 1.0
    assert _reward(fenced, 'So:\n[\n  "x",\n  "y]\\""\n]') == 0.0  # brackets in strings are text
    assert _score(['a"]', "b"], 'So:\n[\n  "a\\"]",\n  "b"\n]').correct


def test_reading_the_json_that_ends_a_long_completion_is_one_scan():
    gold = {"k": list(range(2000))}
    completion = "[" * 200_000 + "{" * 200_000 + "\n" + json.dumps(gold, indent=2)
    start = time.perf_counter()
    assert _score(gold, completion).correct
    assert not _score(gold, "[" * 400_000 + "]" * 400_000).correct
    assert time.perf_counter() - start < 5


def test_a_gold_whose_keys_clash_once_case_is_ignored_is_refused_naming_the_row(tmp_path):
    rows = [{"question": "q0", "answer": {"x": 1}}, {"question": "q1", "answer": {"A": 1, "a": 2}}]
    with pytest.raises(DatasetError, match=r"row 1: .*keys 'A' and 'a' are one key when case is ignored"):
        DatasetEnv(rows, verifier="exact", verifier_settings={"case_sensitive": False})
    env = DatasetEnv(rows, verifier="exact")  # case-sensitive: two keys, a fine gold
    env.reset(options={"index": 1})
    assert env.step('{"a": 2, "A": 1}')[1] == 1.0
    assert not _score({"A": 1, "a": 2}, '{"a": 2}', case_sensitive=False).correct


def test_an_answer_with_a_key_twice_or_keys_that_fold_alike_is_a_mismatch():
    verdict = _score({"a": 2}, '{"a": 1, "a": 2}')
    assert not verdict.correct and "twice" in verdict.reason
    assert not _score({"a": 2}, 'Here:\n{\n "a": 1,\n "a": 2\n}').correct
    folded = _score({"a": 2}, '{"A": 1, "a": 2}', case_sensitive=False)
    assert not folded.correct and "one key when case is ignored" in folded.reason
    assert _score({"a": 2}, '{"A": 2}', case_sensitive=False).correct


def test_nan_or_infinity_in_a_json_gold_is_refused_and_in_an_answer_is_a_mismatch(tmp_path):
    path = tmp_path / "nan.jsonl"
    path.write_text('{"question": "q0", "answer": [1]}\n{"question": "q1", "answer": {"x": [Infinity]}}\n')
    with pytest.raises(DatasetError, match=r"row 1: .*compared as JSON.*(NaN|infinity)"):
        DatasetEnv(str(path), verifier="exact")
    assert resolve_verifier("exact").validate_gold([float("nan")]) is not None
    verdict = _score([float("nan")], "[NaN]")  # an in-memory gold nothing checked
    assert not verdict.correct
    answer = _score([1], '<answer>[1, NaN]</answer>')
    assert not answer.correct and "NaN" in answer.reason
