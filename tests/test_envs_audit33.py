"""Audit 33 of the envs.

1. NumPy arrays (and pandas objects, tensors, array-likes with summarised reprs) are
   fingerprinted by their content, not by their summarised repr ("[0, 1, 2, ..., 4999]"), the
   same in every process: structured arrays field by field, long doubles by value (never padding
   bytes), masked entries and NaN payloads not counted; other objects with a summarised repr are
   their repr (their state may be a cache or a huge corpus);
2. a given task no answer could be scored right for is refused at reset (Sort values over 20
   digits; Countdown numbers none of which an answer can write, or a given solution longer than
   256 characters), while a Countdown task solvable without some of its numbers is taken;
3. `rlvr.register(id, dataset=None)` raises instead of registering nothing;
4. the calculator reads the typeset minus, en dash, dots and vulgar fractions (rules 3), refuses
   the dashes Countdown refuses, and names a character it cannot read as it was typed;
5. `rlvr.make` refuses `max_episode_steps` for single-turn envs, as `register` does, naming the
   registration when the limit is the registered one.
"""

from __future__ import annotations

import functools
import itertools
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs.calculator import CALCULATOR_RULES, check_calculator_expression, make_calculator
from rlvr.envs.expr import ExprError, evaluate
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
    """An object whose own repr summarises its data and that fills a cache as tasks are drawn."""

    def __init__(self, data):
        self.data = data
        self.seen = {}

    def __repr__(self):
        return f"Summarised([{self.data[0]}, ..., {self.data[-1]}])"

    def pick(self, i):
        item = self.data[i % len(self.data)]
        self.seen[item] = self.seen.get(item, 0) + 1
        return item


def test_an_object_with_a_summarised_repr_is_written_by_its_repr_not_its_state():
    # its attributes may be a cache the generator fills (the digest changed after a reset) or a
    # corpus too large to digest for every env: such an object is its repr, as before audit 33
    vocab = _Summarised([0, 1, 9])
    before = stable_repr(vocab)
    vocab.pick(1)
    assert stable_repr(vocab) == before == "Summarised([0, ..., 9])"


def _pick_word(rng, vocab):
    word = vocab.pick(int(rng.integers(100)))
    return {"question": f"Repeat {word}", "answer": str(word)}


def test_a_generator_filling_a_cache_on_its_setting_keeps_its_fingerprint():
    env_id = _new_id("Cache")
    rlvr.register(env_id, generator=_pick_word, generator_settings={"vocab": _Summarised(list(range(50)))}, force=True)
    first = rlvr.make(env_id)
    digest = first.unwrapped.fingerprint().digest
    first.reset(seed=0)
    assert rlvr.make(env_id).unwrapped.fingerprint().digest == digest


class _ArrayLike:
    """An array of another library: its repr summarises, `__array__` gives its content."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __repr__(self):
        return "ArrayLike([...])"

    def __array__(self, dtype=None, copy=None):
        return self.data


def test_an_array_like_with_a_summarised_repr_is_written_by_its_content():
    a, b = _tables()
    assert stable_repr(_ArrayLike(a)) != stable_repr(_ArrayLike(b))
    assert stable_repr(_ArrayLike(a)) == stable_repr(_ArrayLike(a.copy()))


def _filled(dtype, fill, values):
    """An array of `dtype` whose every byte is first `fill`, then given `values`: padding bytes
    keep `fill`, as uninitialised memory keeps whatever was there."""
    array = np.empty(len(values), dtype=dtype)
    array.view(np.uint8)[...] = fill
    if dtype.names:
        for name in dtype.names:
            array[name] = [value[dtype.names.index(name)] for value in values]
    else:  # by a ufunc, which writes only the value's bytes (an assignment also writes stack bytes)
        np.positive(np.array(values, dtype=dtype), out=array)
    return array


def test_structured_arrays_are_written_by_their_fields_not_their_padding():
    aligned = np.dtype([("a", "i1"), ("b", "f8")], align=True)  # 7 bytes of padding after "a"
    zeros, ones = _filled(aligned, 0, [(1, 2.0), (3, 4.0)]), _filled(aligned, 255, [(1, 2.0), (3, 4.0)])
    assert (zeros == ones).all() and zeros.tobytes() != ones.tobytes()
    assert stable_repr(zeros) == stable_repr(ones)
    assert stable_repr(zeros) != stable_repr(_filled(aligned, 0, [(1, 2.0), (3, 5.0)]))
    # a field-subset view is its fields: the hidden "a" does not count, and it is the packed array
    other_a = _filled(aligned, 0, [(7, 2.0), (8, 4.0)])
    assert stable_repr(zeros[["b"]]) == stable_repr(other_a[["b"]])
    assert stable_repr(zeros[["b"]]) == stable_repr(np.array([(2.0,), (4.0,)], dtype=[("b", "f8")]))
    # field names count
    assert stable_repr(np.array([(2.0,)], dtype=[("b", "f8")])) != stable_repr(np.array([(2.0,)], dtype=[("c", "f8")]))


def test_long_double_arrays_are_written_by_their_values_not_their_padding():
    values = [1.5, 2.5, -0.0]
    zeros, ones = _filled(np.dtype(np.longdouble), 0, values), _filled(np.dtype(np.longdouble), 255, values)
    assert (zeros == ones).all()
    assert stable_repr(zeros) == stable_repr(ones)  # x87's float128 has 6 unused bytes per item
    assert stable_repr(zeros) != stable_repr(_filled(np.dtype(np.longdouble), 0, [1.5, 2.5, 0.0]))
    complex_zeros = _filled(np.dtype(np.clongdouble), 0, [1 + 2j])
    assert stable_repr(complex_zeros) == stable_repr(_filled(np.dtype(np.clongdouble), 255, [1 + 2j]))


def test_structured_and_long_double_digests_are_the_same_in_another_process():
    code = ("import numpy as np; from rlvr.envs.fingerprint import stable_repr; "
            "d = np.dtype([('a', 'i1'), ('b', 'f8'), ('c', np.longdouble)], align=True); "
            "x = np.empty(3, dtype=d); x.view(np.uint8)[...] = {fill}; x['a'] = [1, 2, 3]; x['b'] = 0.5; x['c'] = 2.25; "
            "print(stable_repr(x))")
    outs = [subprocess.run([sys.executable, "-c", code.format(fill=fill)], capture_output=True, text=True, check=True,
                           timeout=60, env={**__import__("os").environ, "PYTHONHASHSEED": str(fill)}).stdout
            for fill in (0, 255)]
    assert outs[0] == outs[1] and "sha256=" in outs[0]


def test_masked_arrays_ignore_the_data_under_their_mask():
    one = np.ma.array([1, 2, 3], mask=[0, 1, 0])
    other = np.ma.array([1, 99, 3], mask=[0, 1, 0])
    assert stable_repr(one) == stable_repr(other)
    assert stable_repr(one) != stable_repr(np.ma.array([1, 2, 3], mask=[0, 0, 0]))  # the mask counts
    assert stable_repr(one) != stable_repr(np.ma.array([1, 2, 4], mask=[0, 1, 0]))  # visible data counts


def test_nan_payloads_and_byte_order_do_not_count_but_the_sign_of_zero_does():
    payload = np.array([np.nan, 1.0])
    payload.view(np.uint64)[0] = 0xFFF8000000000001  # a negative NaN with a payload
    assert np.isnan(payload[0])
    assert stable_repr(payload) == stable_repr(np.array([np.nan, 1.0]))
    assert stable_repr(np.array([complex(payload[0], 1)])) == stable_repr(np.array([complex(np.nan, 1)]))
    assert stable_repr(np.arange(5, dtype=">i8")) == stable_repr(np.arange(5, dtype="<i8"))
    assert stable_repr(np.array([-0.0])) != stable_repr(np.array([0.0]))


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


def _countdown(env, numbers, target, **fields):
    return env.reset(options={"task": {"question": "Make the target.", "numbers": numbers, "target": target, **fields}})


@pytest.mark.parametrize("numbers, target, answer", [
    ([3, 5, 10**300], 8, "3 + 5"),                # a number too long to write is left out
    ([3, 5] + [123456789] * 28, 8, "3 + 5"),      # all thirty written out take 307 characters
    ([-5, 3, 4], 7, "3 + 4"),                     # a negative number is left out
])
def test_countdown_takes_a_task_solvable_without_its_unusable_numbers(numbers, target, answer):
    env = rlvr.make("rlvr/Countdown-v0", disable_env_checker=True)
    _countdown(env, numbers, target)
    _, reward, *_ = env.step(f"<answer>{answer}</answer>")
    assert reward == 1.0


def test_countdown_refuses_a_task_no_readable_answer_could_exist_for():
    env = rlvr.make("rlvr/Countdown-v0", disable_env_checker=True)
    for numbers in ([-5, -3], [10**300], [-1, 10**256]):
        with pytest.raises(ValueError, match=r"no answer can use any of them.*no unary minus.*256 characters"):
            _countdown(env, numbers, 3)
    n = 10**90 + 7
    # its own solution written out is longer than an answer is read
    with pytest.raises(ValueError, match=r"answer is an expression of 275 characters, more than the 256"):
        _countdown(env, [n, n, n], 3 * n, answer=f"{n}+{n}+{n}")
    _countdown(env, [n, n, n], 3 * n, answer="the sum of all three, too long to write")  # prose: kept unread
    # long numbers that fit are taken, and the right answer scores 1
    m = 10**60 + 1
    _countdown(env, [m, m, m], 3 * m, answer=f"{m}+{m}+{m} = {3 * m}")
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
    # the character as typed, not its NFKC form (U+2011, the non-breaking hyphen, is U+2010 there)
    with pytest.raises(ToolError, match=r"the character '\u2011' \(U\+2011\) is not read"):
        check_calculator_expression("3 \u2011 1")


def test_calculator_rules_are_bumped_for_the_typeset_operators():
    assert CALCULATOR_RULES >= 3
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",))
    assert env.unwrapped.fingerprint()["settings"]["calculator_rules"] == CALCULATOR_RULES
    env.close()


@pytest.mark.parametrize("expression, value", [("½ + 1", "3/2"), ("2/½", "4"), ("⅔**2", "4/9"), ("1⁄4 + 1", "5/4"),
                                               ("2 * ¾", "3/2")])
def test_calculator_reads_a_vulgar_fraction_as_its_value(expression, value):
    assert make_calculator().limited(TurnBudget(10), expression).split(" ≈")[0] == value


def test_calculator_refuses_a_mixed_number():
    with pytest.raises(ToolError, match=r"'1½' cannot be read: write a mixed number with \+ \(1 \+ 1/2\)"):
        check_calculator_expression("1½ + 1")  # NFKC alone would read 11/2


@pytest.mark.parametrize("dash", ["\u2010", "\u2012", "\u2014"])
def test_calculator_refuses_the_dashes_countdown_refuses(dash):
    with pytest.raises(ExprError, match="is not allowed"):
        evaluate(f"5 {dash} 2")
    with pytest.raises(ToolError, match=rf"the character '{dash}' \(U\+{ord(dash):04X}\) is not read"):
        check_calculator_expression(f"5 {dash} 2")
    assert evaluate("5 \u2013 2")[0] == 3 and check_calculator_expression("5 \u2013 2") == "5 - 2"  # the en dash is minus


# ------------------------------------------------------------------ 5. make(max_episode_steps) on single-turn envs


@pytest.mark.parametrize("env_id, limit", [("rlvr/Countdown-v0", 1), ("rlvr/Arithmetic-v0", 5), ("rlvr/Math-v0", 1)])
def test_make_refuses_a_step_limit_on_a_single_turn_env(env_id, limit):
    with pytest.raises(ValueError, match=rf"max_episode_steps={limit}, but .* end after one step"):
        rlvr.make(env_id, max_episode_steps=limit)


@pytest.mark.parametrize("limit", [1, 5])
def test_make_refuses_a_registered_step_limit_on_a_single_turn_env_naming_the_registration(limit):
    env_id = _new_id("Limited")
    gym.register(env_id, entry_point="rlvr.envs.procedural:CountdownEnv", max_episode_steps=limit)
    try:
        with pytest.raises(ValueError, match=rf"is registered with max_episode_steps={limit}, but .*re-register it without"):
            rlvr.make(env_id)
        with pytest.raises(ValueError, match=r"max_episode_steps=2, but .*; drop it"):  # the caller's own argument
            rlvr.make(env_id, max_episode_steps=2)
    finally:
        del gym.registry[env_id]


def test_make_keeps_a_step_limit_on_a_multi_turn_env():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), max_episode_steps=2)
    assert env.spec.max_episode_steps == 2
    env.close()
