"""Loading task data: values exactly as the file holds them, faithful content digests, clear errors
for unreadable files and unusable rows, and checked reset options and env settings."""

from __future__ import annotations

import functools
import hashlib
import json

import numpy as np
import pytest

import rlvr
from rlvr.envs.custom import DatasetEnv, GeneratorEnv
from rlvr.envs.content_digest import content_sha256
from rlvr.envs.tasks import DatasetError, GeneratorError, GeneratorSource, load_table


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return str(path)


def golds(env):
    return [env.source.get(i).answer for i in range(env.source.size)]


def score(env, index, answer):
    env.reset(options={"index": index})
    return env.step(f"<answer>{answer}</answer>")[1]


# ---------------------------------------------------------------- 1. values as the file holds them


def test_csv_cells_are_their_text(tmp_path):
    # a type-guessing reader made 00501 a 501.0 and 3.10 a 3.1, and failed on a 21-digit integer
    path = tmp_path / "d.csv"
    path.write_text("question,answer,note\nzip?,00501,\nversion?,3.10,x\nhalf?,0.5,\nfive?,5,\n")
    env = DatasetEnv(str(path), verifier="exact")
    assert golds(env) == ["00501", "3.10", "0.5", "5"]
    assert score(env, 0, "00501") == 1.0 and score(env, 1, "3.10") == 1.0 and score(env, 1, "3.1") == 0.0
    table = load_table(str(path))
    assert table.columns == ["question", "answer", "note"] and table.num_rows == 4
    assert table.column("note") == [None, "x", None, None]  # an empty cell is a missing value
    assert table.fingerprint == {"source": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    big = tmp_path / "big.csv"
    big.write_text('question,answer\nbig?,123456789012345678901\nsci?,1e3\ncomma?,"1,000"\n')
    assert golds(DatasetEnv(str(big), verifier="exact")) == ["123456789012345678901", "1e3", "1,000"]


def test_json_numbers_keep_their_types(tmp_path):
    # a column holding 5 and 0.5 made the 5 a 5.0 (then "<answer>5</answer>" scored 0), and a big
    # integer next to a float became 1.2345678901234568e+16
    path = tmp_path / "d.jsonl"
    path.write_text('{"question": "a", "answer": 5}\n{"question": "b", "answer": 0.5}\n'
                    '{"question": "c", "answer": 12345678901234567}\n{"question": "d", "answer": 36893488147419103233}\n')
    env = DatasetEnv(str(path), verifier="exact")
    assert golds(env) == [5, 0.5, 12345678901234567, 2**65 + 1]
    assert [type(gold) for gold in golds(env)] == [int, float, int, int]
    assert score(env, 0, "5") == 1.0 and score(env, 2, "12345678901234567") == 1.0
    array = tmp_path / "d.json"  # one JSON array of rows, pretty-printed
    array.write_text(json.dumps([{"question": "a", "answer": 5}, {"question": "b", "answer": 0.5}], indent=2))
    assert golds(DatasetEnv(str(array), verifier="exact")) == [5, 0.5]


def test_local_json_tables_keep_their_shape(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes('\ufeff{"question": "π?", "answer": "π"}\n\n{"question": "x\u2028y", "extra": [1, {"k": null}]}\n'.encode())
    table = load_table(str(path))  # a byte-order mark, a blank line, U+2028 inside a string
    assert table.columns == ["question", "answer", "extra"] and table.num_rows == 2
    assert table.column("answer") == ["π", None] and table.column("extra") == [None, [1, {"k": None}]]
    assert table.column("question")[1] == "x\u2028y"
    assert table.fingerprint["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DatasetError, match=r"has no split 'test'; available splits: \['train'\] \(set split=\)"):
        load_table(str(path), split="test")


# ---------------------------------------------------------------- 2. faithful in-memory digests


def test_in_memory_digests_tell_types_and_arrays_apart():
    # json.dumps(rows, default=repr) hashed (1, 2) as [1, 2] and a numpy array by its shortened repr
    def digest(answer):
        return load_table([{"question": "q", "answer": answer}]).fingerprint["sha256"]

    assert digest((1, 2)) != digest([1, 2])
    assert len({digest(1), digest(1.0), digest(True), digest("1"), digest(np.int64(1))}) == 5
    assert digest({1: "a"}) != digest({"1": "a"})
    big = np.arange(2000)
    other = big.copy()
    other[1000] = -1
    assert digest(big) != digest(other) and digest(big) != digest(big.astype(np.int32))
    assert digest(big) != digest(big.reshape(40, 50))
    assert digest(big) == digest(np.arange(2000))  # equal content, equal digest
    assert content_sha256({"a": 1, "b": {2, 3}}) == content_sha256({"b": {3, 2}, "a": 1})  # order does not count
    # and so two envs over different arrays no longer share their tasks
    check = lambda gold, completion: bool(np.array_equal(gold, np.array(json.loads(completion))))  # noqa: E731
    first, second = DatasetEnv([{"question": "q", "answer": big}], verifier=check), DatasetEnv([{"question": "q", "answer": other}], verifier=check)
    assert first.source.get(0) is not second.source.get(0) and second.source.get(0).answer[1000] == -1
    assert DatasetEnv([{"question": "q", "answer": (1, 2)}], verifier="exact").source.get(0).answer == (1, 2)
    assert DatasetEnv([{"question": "q", "answer": [1, 2]}], verifier="exact").source.get(0).answer == [1, 2]


# ---------------------------------------------------------------- 3. unreadable files


def test_an_int_too_long_to_write_digests_and_is_refused_as_a_math_gold_by_name():
    """Python will not write an int of more than 4,300 digits in decimal: the digest of rows holding
    one raised that ValueError at build, and so did the gold's conversion to text and the error's repr."""
    huge = 10**5000
    assert content_sha256(huge) == content_sha256(10**5000)
    assert len({content_sha256(huge), content_sha256(huge + 1), content_sha256(-huge), content_sha256("1" + "0" * 5000)}) == 4
    with pytest.raises(DatasetError, match=r"row 1: .*<int too long to show>.*more than 4,300 digits.*as a string"):
        rlvr.make("rlvr/Math-v0", dataset=[{"question": "q", "answer": 7}, {"question": "q", "answer": huge}])
    env = rlvr.make("rlvr/Math-v0", dataset=[{"question": "q", "answer": "1" + "0" * 5000}])  # as text it is a gold like any
    env.reset(options={"index": 0})
    assert env.step("\\boxed{1}")[1] == 0.0


def test_unreadable_files_are_named_with_the_cause(tmp_path, monkeypatch):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "a", "answer": "1"}\n{"question": "b", "answer":\n')
    with pytest.raises(DatasetError, match=r"dataset file '.*bad\.jsonl', line 2: JSON parse error"):
        load_table(str(bad))  # was a bare DatasetGenerationError
    not_object = tmp_path / "list.jsonl"
    not_object.write_text('{"question": "a", "answer": "1"}\n[1, 2]\n')
    with pytest.raises(DatasetError, match=r"list\.jsonl', line 2: a JSON list .*not an object"):
        load_table(str(not_object))
    folder = tmp_path / "x.jsonl"
    folder.mkdir()
    with pytest.raises(DatasetError, match=r"dataset path '.*x\.jsonl' is a folder, not a file"):
        load_table(str(folder))  # was a raw IsADirectoryError
    latin = tmp_path / "latin.csv"
    latin.write_bytes("question,answer\ncaf\xe9?,1\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin\.csv' is not UTF-8 text"):
        load_table(str(latin))
    wide = tmp_path / "wide.csv"
    wide.write_text("question,answer\nq,1,2\n")
    with pytest.raises(DatasetError, match=r"wide\.csv', line 2: 3 cells, but the header names 2 columns"):
        load_table(str(wide))
    header_only = tmp_path / "h.csv"
    header_only.write_text("question,answer\n")
    with pytest.raises(DatasetError, match=r"h\.csv' has no rows \(only a header\)"):
        load_table(str(header_only))
    monkeypatch.setenv("HOME", str(tmp_path))  # "~" is expanded
    write_jsonl(tmp_path / "home.jsonl", [{"question": "q", "answer": "1"}])
    assert load_table("~/home.jsonl").fingerprint["source"] == str(tmp_path / "home.jsonl")


# ---------------------------------------------------------------- 4. a NaN gold answer is missing


def test_a_nan_gold_answer_is_missing(tmp_path):
    # it was accepted and scored as the text 'nan'
    with pytest.raises(DatasetError, match=r"row 1: column 'answer' is missing \(it holds nan\); fix the row or set answer_key="):
        DatasetEnv([{"question": "a", "answer": "1"}, {"question": "b", "answer": float("nan")}], verifier="exact")
    with pytest.raises(DatasetError, match=r"row 0: column 'answer' is missing"):
        DatasetEnv([{"question": "a", "answer": np.float32("nan")}], verifier=lambda gold, out: True)
    path = tmp_path / "nan.jsonl"
    path.write_text('{"question": "a", "answer": NaN}\n')
    with pytest.raises(DatasetError, match=r"row 0: column 'answer' is missing"):
        DatasetEnv(str(path), verifier="math")
    with pytest.raises(GeneratorError, match=r"returned 'answer' nan: give the gold answer"):
        GeneratorEnv(lambda rng: {"question": "q", "answer": float("nan")})


# ---------------------------------------------------------------- 5. task ids from id_key


def test_task_ids_from_id_key_must_be_unique_and_present():
    rows = [{"id": "X", "question": "a", "answer": "1"}, {"id": "Y", "question": "b", "answer": "2"},
            {"id": "X", "question": "c", "answer": "3"}]
    with pytest.raises(DatasetError, match=r"rows 0 and 2: column 'id' gives both the task id 'X'; task ids must be unique.*id_key="):
        DatasetEnv(rows, verifier="exact", id_key="id")
    with pytest.raises(DatasetError, match=r"rows 0 and 1: .*task id '1'"):  # 1 and "1" are one task id
        DatasetEnv([{"id": 1, "question": "a", "answer": "1"}, {"id": "1", "question": "b", "answer": "2"}], verifier="exact", id_key="id")
    for missing in (None, float("nan"), " "):
        with pytest.raises(DatasetError, match=r"row 1: column 'id' holds no task id .*id_key="):
            DatasetEnv([{"id": "A", "question": "a", "answer": "1"}, {"id": missing, "question": "b", "answer": "2"}],
                       verifier="exact", id_key="id")
    env = DatasetEnv(rows[:2], verifier="exact", id_key="id")
    assert [env.source.get(i).id for i in range(2)] == ["X", "Y"]


# ---------------------------------------------------------------- 6. reset options


@pytest.mark.parametrize("index", [True, False, 1.0, np.float64(0), "1"])
def test_a_reset_index_must_be_an_int(index):
    # True ran task 1; 1.0 was "out of range" (datasets) or "must be a non-negative int" (generators)
    dataset = DatasetEnv([{"question": "a", "answer": "1"}, {"question": "b", "answer": "2"}], verifier="exact")
    generated = GeneratorEnv(lambda rng: {"question": "q", "answer": "1"})
    for env in (dataset, generated):
        with pytest.raises(TypeError, match=rf"task index must be an int, got {type(index).__name__} "):
            env.reset(options={"index": index})
        with pytest.raises(TypeError, match="task index must be an int"):
            env.source.get(index)
    assert dataset.reset(options={"index": np.int64(1)})[1]["task_id"] == "1"
    assert dataset.reset(options={"index": np.uint8(0)})[1]["task_id"] == "0"
    assert generated.reset(options={"index": np.int32(3)})[1]["task_id"].endswith("/3")


def test_a_given_task_needs_a_gold_answer():
    # {"answer": None} skipped the gold checks and was scored against the text 'None'
    env = DatasetEnv([{"question": "a", "answer": "1"}], verifier="exact")
    with pytest.raises(ValueError, match=r"options\['task'\] has no gold answer \(None\); give the 'answer'"):
        env.reset(options={"task": {"question": "q", "answer": None}})
    with pytest.raises(ValueError, match=r"options\['task'\] has no gold answer"):
        env.reset(options={"task": {"question": "q"}})
    with pytest.raises(ValueError, match=r"options\['task'\] has no gold answer \(nan\)"):
        env.reset(options={"task": {"question": "q", "answer": float("nan")}})
    with pytest.raises(ValueError, match=r"options\['task'\] has no 'question'"):
        env.reset(options={"task": {"answer": "5"}})
    env.reset(options={"task": {"question": "q", "answer": "None"}})  # the text 'None' is an answer
    assert env.step("<answer>None</answer>")[1] == 1.0


# ---------------------------------------------------------------- 7. generator fingerprints


def test_generator_fingerprints_tell_generators_apart():
    # only the qualified name was recorded: two generators with one name, or partial(h, k=1) and
    # partial(h, k=2), had one fingerprint
    def gen(rng):
        return {"question": "2+2=", "answer": "4"}

    first = GeneratorSource(gen).fingerprint()

    def gen(rng):  # noqa: F811 - the same name, other tasks
        return {"question": "3+3=", "answer": "6"}

    assert GeneratorSource(gen).fingerprint()["generator"] == first["generator"]
    assert GeneratorSource(gen).fingerprint() != first

    def h(rng, k=1):
        return {"question": f"{k}?", "answer": str(k)}

    one, two = GeneratorSource(functools.partial(h, k=1)), GeneratorSource(functools.partial(h, k=2))
    assert one.fingerprint() != two.fingerprint()
    assert GeneratorSource(functools.partial(h, k=1)).fingerprint() == one.fingerprint()  # the same setup, the same record
    # numpy settings are recorded as their values, not as 'np.int64(4)'
    assert GeneratorSource(h, {"k": np.int64(4)}).fingerprint()["settings"] == {"k": 4}
    assert GeneratorSource(h, {"k": np.float64(0.5)}).fingerprint()["settings"] == {"k": 0.5}
    # rlvr's own generators are told apart by name and version: their digests do not depend on
    # the Python version's bytecode
    assert "callable" not in rlvr.make("Countdown-v0").unwrapped.fingerprint()["data"]


# ---------------------------------------------------------------- 8. max_action_chars


@pytest.mark.parametrize("value", [-5, 0, True, 1.5, "100"])
def test_max_action_chars_must_be_a_positive_int(value):
    with pytest.raises(ValueError, match=rf"max_action_chars must be a positive int .*got {value!r}"):
        DatasetEnv([{"question": "a", "answer": "1"}], verifier="exact", max_action_chars=value)
    assert DatasetEnv([{"question": "a", "answer": "1"}], verifier="exact", max_action_chars=np.int64(8)).max_action_chars == 8
