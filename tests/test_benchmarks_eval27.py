"""Benchmarks, eval 27: what a red team found.

- with an engine, a sample lost to a sandbox outage was drawn again on the rerun (GPU time, and
  without --seed another seed) instead of having its saved completion scored again;
- a null or empty MATH-500 `unique_id` or AIME `id` silently became the row number, and a pandas
  export's float ids (`60.0`) matched no completion.
"""

from __future__ import annotations

import json

import pytest

from rlvr.benchmarks import register_benchmark
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import evaluate_engine
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import SAMPLE_ROWS, write_sample
from rlvr.sandbox import make_sandbox
from rlvr.trainers.engine import Sample
from test_benchmarks import DownSandbox  # every run a sandbox_error, as when the backend is gone

RIGHT = "```python\ndef add(a, b):\n    return a + b\n```"
WRONG = "```python\ndef add(a, b):\n    return a - b\n```"
CALL = '<tool_call>{"name": "python", "arguments": {"code": "print(6 * 7)"}}</tool_call>'


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def final_rows(out):
    """samples.jsonl as a run reads it: the last row of each (task_id, sample_index)."""
    rows = {}
    for line in (out / "samples.jsonl").read_text().splitlines():
        row = json.loads(line)
        rows[(row["task_id"], row["sample_index"])] = row
    return rows


class CountingEngine:
    """A chat-level engine (as the openai one) that records the seed of every conversation it is
    asked for (`sampling.seed + i` at position i of a call) and answers it with `reply(seed, conversation)`."""

    def __init__(self, reply):
        self.reply, self.seeds = reply, []

    def generate_chat(self, conversations, n, sampling, tools=None):
        out = []
        for i, conversation in enumerate(conversations):
            self.seeds.append(sampling.seed + i)
            out.append([Sample([], [], "stop", self.reply(sampling.seed + i, conversation)) for _ in range(n)])
        return out

    def close(self):
        pass


@pytest.fixture(scope="module")
def box():
    sandbox = make_sandbox("subprocess")
    yield sandbox
    sandbox.close()


# ------------------------------------------------------------------ an outage with an engine


def test_after_an_outage_a_single_turn_sample_is_scored_again_not_drawn_again(tmp_path, box):
    data = write_sample("humaneval", str(tmp_path / "he.jsonl"))
    out = tmp_path / "o"
    kwargs = dict(n=2, ks=[1], temperature=0.6, data=data, limit=1, engine_name="scripted", model_name="s",
                  progress=False, verbose=False)  # no seed: each run draws its own base
    reply = lambda seed, conversation: f"seed {seed}\n" + (RIGHT if seed % 2 == 0 else WRONG)  # noqa: E731
    first = evaluate_engine("humaneval", CountingEngine(reply), str(out), sandbox=DownSandbox(), **kwargs)
    assert first.exit_code == 3 and first["counts"]["excluded"] == 2
    drawn = final_rows(out)
    assert all(row["error"] for row in drawn.values())
    # the sandbox still down: the completions are scored again, still unverified, and not drawn again
    engine = CountingEngine(reply)
    assert evaluate_engine("humaneval", engine, str(out), sandbox=DownSandbox(), **kwargs).exit_code == 3
    assert engine.seeds == []
    # the sandbox back: real verdicts for the same completions, drawn with the same seeds
    engine = CountingEngine(reply)
    result = evaluate_engine("humaneval", engine, str(out), sandbox=box, **kwargs)
    assert engine.seeds == []  # the engine was not called: no generation redone
    assert result.exit_code == 0 and result["counts"]["judged"] == 2 and result["timing"]["scored_now"] == 2
    assert result["pass@1"] == 0.5  # one even seed (right), one odd (wrong): consecutive seeds
    rows = final_rows(out)
    assert rows.keys() == drawn.keys()
    for key, row in rows.items():
        before = drawn[key]
        assert row["error"] is None and row["correct"] is (row["seed"] % 2 == 0) and row["kind"]
        for field in ("completion", "seed", "finish_reason", "truncated", "num_turns", "response_tokens"):
            assert row[field] == before[field], field
        assert row["completion"].startswith(f"seed {row['seed']}\n")


def test_after_an_outage_a_multi_turn_episode_is_drawn_again_with_its_own_seed(tmp_path, box):
    # the python tool's call failed in the outage: the episode's next turn would follow its result,
    # so the episode is drawn again, with the seed its row records (not the new run's base)
    def bench(sandbox):
        register_benchmark("toolmath-eval27", "rlvr/ToolMath-v0", size=2, force=True,
                           env_kwargs={"builtin_tools": ("python",), "max_turns": 2, "sandbox": sandbox})
        return "toolmath-eval27"

    def reply(seed, conversation):
        told = any(message.get("role") == "tool" for message in conversation)
        return f"seed {seed}: " + ("so \\boxed{42}" if told else CALL)

    out = tmp_path / "o"
    kwargs = dict(temperature=0.6, engine_name="scripted", model_name="s", progress=False, verbose=False)
    first = evaluate_engine(bench(DownSandbox()), CountingEngine(reply), str(out), n=1, **kwargs)
    assert first["counts"]["excluded"] == 2
    failed = final_rows(out)
    assert all(row["error"] and row["num_turns"] == 1 for row in failed.values())
    result = evaluate_engine(bench(box), CountingEngine(reply), str(out), n=2, **kwargs)  # and one new sample per task
    assert result.exit_code == 0 and result["counts"]["judged"] == 4
    rows = final_rows(out)
    redrawn = [rows[key] for key in failed]
    assert [row["seed"] for row in redrawn] == [row["seed"] for row in failed.values()]
    assert all(row["error"] is None and row["num_turns"] == 2 for row in redrawn)
    assert all(row["completion"].startswith(f"seed {row['seed']}: ") for row in rows.values())
    # the new samples take this run's base: sample j of task t is seeded base + j * N + t (N = 2)
    base = result["settings"]["seed_base"]
    assert [rows[(t, 1)]["seed"] for t in ("0", "1")] == [base + 2, base + 3]


# ------------------------------------------------------------------ task ids


def rows_with(name, index, **changes):
    rows = [dict(r) for r in SAMPLE_ROWS[name]]
    rows[index].update(changes)
    return rows


@pytest.mark.parametrize("name,column,value", [
    ("math500", "unique_id", None), ("math500", "unique_id", ""), ("math500", "unique_id", " "),
    ("aime2024", "id", None), ("aime2024", "id", ""), ("aime2025", "id", None),
])
def test_a_null_or_empty_math500_or_aime_id_is_a_data_error_naming_the_row(tmp_path, name, column, value):
    # it became the row number: a task id no completion file uses, and possibly another row's id
    path = write_jsonl(tmp_path / f"{name}.jsonl", rows_with(name, 1, **{column: value}))
    with pytest.raises(BenchmarkDataError, match=rf"benchmark '{name}', --data .*: row 1: column '{column}' is "):
        load_benchmark(name, data=path)


def test_aime_ids_written_as_floats_are_integers_and_a_null_one_is_an_error(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([dict(r) for r in SAMPLE_ROWS["aime2024"]])
    frame["id"] = frame["id"].astype(float)  # as pandas stores an integer column that holds a null
    frame.to_parquet(tmp_path / "a.parquet")
    assert [t.id for t in load_benchmark("aime2024", data=str(tmp_path / "a.parquet")).tasks] == ["60", "61", "62"]
    frame.loc[1, "id"] = None  # was ['60.0', '1', '62.0']: completions keyed 60 were "unknown task_id"
    frame.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(BenchmarkDataError, match=r"row 1: column 'id' is null or missing"):
        load_benchmark("aime2024", data=str(tmp_path / "b.parquet"))


def test_math_data_without_an_id_column_still_numbers_the_rows(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "unique_id"} for r in SAMPLE_ROWS["math500"]]
    loaded = load_benchmark("math500", data=write_jsonl(tmp_path / "m.jsonl", rows))
    assert [t.id for t in loaded.tasks] == [str(i) for i in range(len(rows))]
