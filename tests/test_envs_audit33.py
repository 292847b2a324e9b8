"""Audit 33 of the envs.

1. NumPy arrays (and pandas objects, tensors, other summarised reprs) are fingerprinted by their
   content, not by their summarised repr ("[0, 1, 2, ..., 4999]");
2. a given task no answer could be scored right for is refused at reset (Sort values over 20
   digits, a Countdown expression over 256 characters, negative Countdown numbers);
3. `rlvr.register(id, dataset=None)` raises instead of registering nothing;
4. the calculator reads the typeset minus, en dash and dots, and names a character it cannot read;
5. `rlvr.make` refuses `max_episode_steps` for single-turn envs, as `register` does.
"""

from __future__ import annotations

import functools
import itertools
import subprocess
import sys

import numpy as np
import pytest

import rlvr
from rlvr.envs.calculator import check_calculator_expression, make_calculator
from rlvr.envs.fingerprint import stable_repr
from rlvr.envs.tools import ToolError, TurnBudget

_ids = itertools.count()


def _new_id(name: str) -> str:
    return f"rlvr/Audit33{name}{next(_ids)}-v0"


def _tables() -> tuple[np.ndarray, np.ndarray]:
    a = np.arange(5000)
    b = a.copy()
    b[1000:4000] = -7  # 3000 of 5000 entries differ; numpy's repr of both is "[0, 1, 2, ..., 4998, 4999]"
    return a, b


# ------------------------------------------------------------------ 1. fingerprints of summarised values


def test_stable_repr_writes_numpy_arrays_by_content():
    a, b = _tables()
    assert repr(a) == repr(b)  # the summarised repr the fingerprint used to record
    assert stable_repr(a) != stable_repr(b)
    assert stable_repr(a) == stable_repr(a.copy())
    # a view in another memory order is the same content as its C-ordered copy
    grid = np.arange(12).reshape(3, 4)
    assert stable_repr(grid.T) == stable_repr(np.ascontiguousarray(grid.T))
    # dtype and shape count; floats are not rounded to repr's 8 digits
    assert stable_repr(np.arange(4)) != stable_repr(np.arange(4).reshape(2, 2))
    assert stable_repr(np.arange(4)) != stable_repr(np.arange(4, dtype=np.int32))
    assert stable_repr(np.array([0.1])) != stable_repr(np.array([0.1 + 1e-12]))
    # an array of objects by its items (its bytes are addresses)
    assert stable_repr(np.array(["x", None], dtype=object)) == stable_repr(np.array(["x", None], dtype=object))
    assert stable_repr(np.array(["x", None], dtype=object)) != stable_repr(np.array(["y", None], dtype=object))


def _pick(rng, table):
    i = int(rng.integers(len(table)))
    return {"question": f"What is entry {i} of the table?", "answer": str(int(table[i]))}


def test_generators_bound_to_different_tables_have_different_fingerprints():
    a, b = _tables()
    env_id = _new_id("Pick")
    digests = []
    for table in (a, b, a.copy()):
        rlvr.register(env_id, generator=functools.partial(_pick, table=table), verifier="exact", force=True)
        digests.append(rlvr.make(env_id).unwrapped.fingerprint().digest)
    assert digests[0] != digests[1]
    assert digests[0] == digests[2]  # the same content: the same setup


class _Lookup:
    """A verifier object holding a table (its state is recorded in the fingerprint)."""

    def __init__(self, table):
        self.table = table

    def __call__(self, gold, completion):
        return completion.strip() == gold


def test_verifier_objects_holding_different_tables_have_different_fingerprints():
    a, b = _tables()
    env_id = _new_id("Lookup")
    states = []
    for table in (a, b, a.copy()):
        rlvr.register(env_id, generator=functools.partial(_pick, table=a), verifier=_Lookup(table), force=True)
        states.append(rlvr.make(env_id).unwrapped.fingerprint()["verifier"]["callable"]["state"])
    assert states[0] != states[1]  # (both were "<numpy.ndarray>" before: one digest for two tables)
    assert states[0] == states[2]


def test_pandas_objects_are_written_by_content():
    pandas = pytest.importorskip("pandas")
    a, b = _tables()
    assert stable_repr(pandas.DataFrame({"v": a})) != stable_repr(pandas.DataFrame({"v": b}))
    assert stable_repr(pandas.DataFrame({"v": a})) == stable_repr(pandas.DataFrame({"v": a.copy()}))
    assert stable_repr(pandas.DataFrame({"v": a})) != stable_repr(pandas.DataFrame({"w": a}))  # column names count
    assert stable_repr(pandas.Series(a)) != stable_repr(pandas.Series(b))


def test_fingerprinting_an_array_does_not_import_pandas():
    code = ("import sys, numpy as np; from rlvr.envs.fingerprint import stable_repr; "
            "stable_repr(np.arange(5000)); print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


class _Summarised:
    """An object whose own repr summarises its data, as large-container reprs do."""

    def __init__(self, data):
        self.data = data

    def __repr__(self):
        return f"Summarised([{self.data[0]}, ..., {self.data[-1]}])"


def test_an_object_with_a_summarised_repr_is_told_apart_by_its_state():
    assert repr(_Summarised([0, 1, 9])) == repr(_Summarised([0, 5, 9]))
    assert stable_repr(_Summarised([0, 1, 9])) != stable_repr(_Summarised([0, 5, 9]))
    assert stable_repr(_Summarised([0, 1, 9])) == stable_repr(_Summarised([0, 1, 9]))


# ------------------------------------------------------------------ 2. given tasks no answer can match


def _sort_task(values):
    return {"question": f"Sort these numbers: {' '.join(map(str, values))}.", "answer": sorted(values)}


def test_sort_refuses_given_values_longer_than_it_reads():
    env = rlvr.make("rlvr/Sort-v0", disable_env_checker=True)  # its checker trips on a step after a failed reset
    big = [3 * 10**25, 10**25, 2 * 10**25]
    with pytest.raises(ValueError, match=r"more than 20 digits.*_SORT_DIGITS"):
        env.reset(options={"task": _sort_task(big)})
    with pytest.raises(ValueError, match=r"more than 20 digits"):  # the string form too
        env.reset(options={"task": {"question": "Sort them.", "answer": " ".join(map(str, sorted(big)))}})
    # 20 digits are read: such a task is taken and its right answer scores 1
    values = [10**19 + 5, 10**19 + 1, -(10**19)]
    env.reset(options={"task": _sort_task(values)})
    _, reward, *_ = env.step("<answer>" + " ".join(map(str, sorted(values))) + "</answer>")
    assert reward == 1.0


def test_sort_refuses_a_gold_longer_than_max_action_chars():
    env = rlvr.make("rlvr/Sort-v0", max_action_chars=40)
    with pytest.raises(ValueError, match=r"max_action_chars=40"):
        env.reset(options={"task": _sort_task(list(range(20)))})
    env.reset(options={"task": _sort_task([3, 1, 2])})  # "<answer>1 2 3</answer>" fits


def test_countdown_refuses_numbers_that_no_readable_expression_can_use():
    env = rlvr.make("rlvr/Countdown-v0", disable_env_checker=True)
    n = 10**90 + 7
    with pytest.raises(ValueError, match=r"take 275 characters, more than the 256"):
        env.reset(options={"task": {"question": "Make the target.", "numbers": [n, n, n], "target": 3 * n}})
    with pytest.raises(ValueError, match=r"negative numbers \[-5\].*no unary minus"):
        env.reset(options={"task": {"question": "Make the target.", "numbers": [-5, 3], "target": -2}})
    # long numbers that fit are taken, and the right answer scores 1
    m = 10**60 + 1
    env.reset(options={"task": {"question": "Make the target.", "numbers": [m, m, m], "target": 3 * m}})
    _, reward, *_ = env.step(f"<answer>{m}+{m}+{m}</answer>")
    assert reward == 1.0


# ------------------------------------------------------------------ 3. register(dataset=None)


def _gen(rng):
    return {"question": "1+1", "answer": "2"}


def test_register_refuses_an_explicit_none_dataset_or_generator():
    env_id = _new_id("None")
    with pytest.raises(ValueError, match=r"dataset= is None"):
        rlvr.register(env_id, dataset=None, verifier="math", reward_weights={"outcome": 1.0})
    with pytest.raises(ValueError, match=r"generator= is None"):
        rlvr.register(env_id, generator=None, verifier="exact")
    assert env_id not in rlvr.registered_ids()
    # the decorator form (neither given) and dataset=None beside a generator still register
    assert rlvr.register(env_id, verifier="exact")(_gen) is _gen
    assert rlvr.make(env_id).reset(seed=0)[0] == "1+1"
    other = _new_id("Gen")
    assert rlvr.register(other, dataset=None, generator=_gen) == other


# ------------------------------------------------------------------ 4. calculator typeset operators


@pytest.mark.parametrize("expression, value", [("12 − 3", "9"), ("12 – 3", "9"), ("12 · 3", "36"), ("12 ⋅ 3", "36"),
                                               ("12 × 3", "36"), ("12 ÷ 3", "4"), ("12 ∗ 3", "36")])
def test_calculator_reads_the_typeset_operators_rlvr_reads(expression, value):
    assert make_calculator().limited(TurnBudget(10), expression) == value


def test_calculator_names_a_character_it_cannot_read():
    with pytest.raises(ToolError, match=r"the character '≤' \(U\+2264\) is not read"):
        check_calculator_expression("3 ≤ 4")


# ------------------------------------------------------------------ 5. make(max_episode_steps) on single-turn envs


@pytest.mark.parametrize("env_id, limit", [("rlvr/Countdown-v0", 1), ("rlvr/Arithmetic-v0", 5), ("rlvr/Math-v0", 1)])
def test_make_refuses_a_step_limit_on_a_single_turn_env(env_id, limit):
    with pytest.raises(ValueError, match=rf"max_episode_steps={limit}, but .* end after one step"):
        rlvr.make(env_id, max_episode_steps=limit)


def test_make_keeps_a_step_limit_on_a_multi_turn_env():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), max_episode_steps=2)
    assert env.spec.max_episode_steps == 2
    env.close()
