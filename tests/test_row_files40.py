"""Dataset and completions files whose JSON objects name a key twice are refused, naming the file,
the line and the key (`json` keeps the last value silently: a row `{"answer": "5", "answer": "6"}`
was read with the gold 6); a missing local file with an upper-case extension is named as missing,
not looked up on the hub."""

from __future__ import annotations

import pytest

import rlvr
from rlvr.benchmarks.completions import CompletionsError, read_completions
from rlvr.envs.tasks import DatasetError


def test_a_jsonl_row_naming_a_key_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"question": "What is 1+1?", "answer": "2"}\n\n'
                    '{"question": "What is 2+3?", "answer": "5", "answer": "6"}\n')
    with pytest.raises(DatasetError, match=r"dup\.jsonl', line 3: the row names the key 'answer' twice"):
        rlvr.make("Math-v0", dataset=str(path))


def test_the_first_line_of_a_jsonl_file_is_named_too(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"question": "What is 2+3?", "answer": "5", "answer": "6"}\n{"question": "What is 1+1?", "answer": "2"}\n')
    with pytest.raises(DatasetError, match=r"line 1: the row names the key 'answer' twice"):
        rlvr.make("Math-v0", dataset=str(path))


@pytest.mark.parametrize("text", [
    '[{"question": "What is 1+1?", "answer": "2"}, {"question": "Q", "question": "R", "answer": "3"}]',
    '{\n  "question": "What is 2+3?",\n  "answer": "5",\n  "answer": "6"\n}\n',
    '[{"question": "What is 1+1?", "answer": "2", "meta": {"level": 1, "level": 2}}]',  # nested objects too
])
def test_a_json_file_with_an_object_naming_a_key_twice_is_refused(tmp_path, text):
    path = tmp_path / "dup.json"
    path.write_text(text)
    with pytest.raises(DatasetError, match=r"dup\.json': an object in it names the key '\w+' twice"):
        rlvr.make("Math-v0", dataset=str(path))


def test_rows_with_distinct_keys_still_load(tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text('{"question": "What is 2+3?", "answer": "5", "meta": {"a": 1, "b": 2}}\n')
    env = rlvr.make("Math-v0", dataset=str(path))
    env.reset(options={"index": 0})
    assert env.unwrapped.task.answer == "5"


def test_a_completions_line_naming_a_key_twice_is_a_bad_line(tmp_path):
    path = tmp_path / "completions.jsonl"
    rows = ['{"task_id": "0", "completion": "\\\\boxed{5}"}', '{"task_id": "1", "completion": "a", "completion": "b"}']
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(CompletionsError, match=r"line 2: the row names the key 'completion' twice"):
        read_completions(str(path), ["0", "1"])


def test_a_missing_file_with_an_upper_case_extension_is_named_as_missing(tmp_path):
    missing = str(tmp_path / "train.JSONL")
    with pytest.raises(DatasetError, match=r"does not exist; give an existing path"):
        rlvr.make("Math-v0", dataset=missing)
    relative = "data_that_is_not_here/train.Parquet"  # a relative path is no hub id either
    with pytest.raises(DatasetError, match=r"does not exist; give an existing path"):
        rlvr.make("Math-v0", dataset=relative)


def test_registering_a_relative_path_with_an_upper_case_extension_keeps_it_a_path(tmp_path, monkeypatch):
    """`register` makes a local path absolute (so the env reads the same file after a chdir) and
    leaves a hub id as it is; an upper-case extension is a local path too."""
    from rlvr.envs.registry import _dataset_path

    monkeypatch.chdir(tmp_path)
    assert _dataset_path("data/train.JSONL") == str(tmp_path / "data" / "train.JSONL")
    assert _dataset_path("openai/gsm8k") == "openai/gsm8k"
