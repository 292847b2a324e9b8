"""Audit 35 of the code verifier: transfer time not charged to the answer, values too large to
return named as such, deep arguments as the dataset's fault, inline backticks not read as a fence,
CodeEnv's time limits checked at construction, and how aliased arguments cross into the solution.
Second review: containers of floats (a returned generator, deque or dict view) came back malformed,
float-list arguments travelled as base64 in a marshal request, and a solution that lied about its
own time could buy transfer credit by padding its replies. Third review: the credit is measured on
the harness's own side (padding bought it by the byte), float-list arguments whose change could not
come back are the dataset's fault (the change was dropped silently), check_function refuses a run
its sandbox cannot hold as check_functions does, and check_io lets a wrapper sandbox map languages."""

import json
import marshal
import math
import time
from collections import deque

import pytest

from rlvr.envs.code_env import CodeEnv
from rlvr.verifiers import code_child, code_harness
from rlvr.verifiers.code import check_function
from rlvr.verifiers.code_fences import extract_code


def test_float_lists_travel_as_binary_doubles_both_ways():
    values = [0.1, -0.0, float("inf"), float("nan"), 1e308, 5e-324]
    child_form = json.loads(code_child.to_json(values))
    assert list(child_form) == ["$floats"]  # written at C speed, not float by float
    assert child_form == code_harness.encode(values)
    for back in (code_harness.decode(child_form), code_child._untag(child_form)):
        assert type(back) is list and len(back) == len(values)
        assert all(math.copysign(1, a) == math.copysign(1, b) and (a == b or a != a and b != b)
                   for a, b in zip(values, back))
    with pytest.raises(ValueError):
        code_harness.decode({"$floats": "AAAA"})  # not a whole number of doubles


def _harness():
    return code_harness.Harness({"solution": "", "child_source": "", "timeout": 10})


def test_transfer_time_is_credited_only_as_far_as_this_sides_own_work_explains():
    harness = _harness()
    before = harness.deadline
    sent = time.monotonic() - 5.0
    # a child that says it took nothing, in a call of 5 s of which this side's own work was 10 ms:
    # the credit is at most the allowance that work explains
    harness._credit_transfer(0.0, sent, sent + 0.01, 0.01)
    allowance = code_harness.TRANSFER_SECONDS_PER_CALL + code_harness.TRANSFER_FACTOR * 0.01
    assert harness.deadline - before == pytest.approx(allowance)
    for took in (None, -1.0, 9.0, "0", True):  # malformed, or beyond the wait: nothing credited
        harness = _harness()
        before = harness.deadline
        sent = time.monotonic() - 5.0
        harness._credit_transfer(took, sent, sent + 5.0, 10.0)
        assert harness.deadline == before


def test_too_large_return_value_names_the_transfer_cap(box):
    verdict = check_function("def f(n):\n    return list(range(n))\n",
                             "def check(candidate):\n    assert candidate(3_000_000) == list(range(3_000_000))\n",
                             "f", sandbox=box)
    assert verdict.details["kind"] == "failed"
    assert "returned a value too large to transfer" in verdict.reason and "16 MiB" in verdict.reason
    assert "bytes (more than" not in verdict.reason


def test_argument_nested_too_deep_is_the_datasets_fault(box):
    tests = "def check(candidate):\n    r = []\n    for _ in range(350):\n        r = [r]\n    assert candidate(r) == 350\n"
    verdict = check_function("def f(x):\n    return 0\n", tests, "f", sandbox=box)
    assert verdict.details["kind"] == "dataset_error", verdict.reason
    assert "nested more than 300 levels deep" in verdict.reason


def test_aliased_arguments_arrive_as_separate_objects(box):
    """Documented: each argument crosses as its own copy, so `candidate(x, x)` gives the solution two
    lists, and the in-place change of the first is written back into `x`."""
    solution = "def f(dst, src):\n    dst.append(1)\n    return [len(src), dst is src]\n"
    tests = "def check(candidate):\n    x = []\n    assert candidate(x, x) == [0, False]\n    assert x == [1]\n"
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_inline_triple_backticks_open_no_fence():
    text = "```python``` fences are used below.\n\n```python\ndef add(a, b):\n    return a + b\n```\n"
    assert extract_code(text) == "def add(a, b):\n    return a + b"
    assert extract_code("```py\nx = 1\n```") == "x = 1"


@pytest.mark.parametrize("settings", [{"case_timeout": float("inf")}, {"case_timeout": 1e6},
                                      {"timeout": 1e6}, {"timeout": float("nan")}, {"call_timeout": 1e6},
                                      {"call_timeout": float("inf")}])
def test_code_env_refuses_time_limits_the_verifier_refuses(settings):
    with pytest.raises(ValueError, match="seconds"):
        CodeEnv(dataset=[{"question": "q", "inputs": ["1\n"], "outputs": ["1\n"]}], **settings)
    env = CodeEnv(dataset=[{"question": "q", "inputs": ["1\n"], "outputs": ["1\n"]}])
    name = next(iter(settings))
    with pytest.raises(ValueError):
        setattr(env, name, settings[name])


# -- second review ---------------------------------------------------------------------------------
#: Makers of values whose tagged body is a list of floats only (called anew: iterators get used up),
#: with the floats they hold.
FLOAT_CONTAINERS = [
    (lambda: deque([1.5, -0.0]), [1.5, -0.0]),
    (lambda: iter([0.25, 2.5]), [0.25, 2.5]),
    (lambda: (x / 2 for x in (1, 3)), [0.5, 1.5]),
    (lambda: map(float, [1, 2]), [1.0, 2.0]),
    (lambda: {1.5: 2.5}.keys(), [1.5]),
    (lambda: {"a": 1.5, "b": float("inf")}.values(), [1.5, float("inf")]),
]


@pytest.mark.parametrize("make, floats", FLOAT_CONTAINERS)
def test_float_bodies_of_tagged_containers_agree_both_ways(make, floats):
    """A deque, iterator or dict view of floats is written item by item by both codecs (the child
    wrote a "$floats" body there, which the harness refused as "malformed $deque")."""
    child_form = json.loads(code_child.to_json(make()))
    assert child_form == code_harness.encode(make())
    by_harness = code_harness.decode(child_form)  # a return value: child -> harness
    request = marshal.loads(marshal.dumps(code_harness.encode(make(), binary=True)))
    by_child = code_child._untag(request)  # an argument: harness -> child
    for back in (by_harness, by_child):
        assert type(back) is type(code_harness.decode(code_harness.encode(make())))
        assert [repr(item) for item in back] == [repr(item) for item in floats]


def test_float_containers_returned_and_changed_in_place(box):
    solution = ("def f(x):\n    if isinstance(x, dict):\n        return x.values()\n"
                "    if isinstance(x, list):\n        return (v * 2 for v in x)\n"
                "    x.append(3.5)\n    return len(x)\n")
    tests = ("from collections import deque\n\ndef check(candidate):\n"
             "    assert list(candidate([1.0, 2.5])) == [2.0, 5.0]\n"
             "    assert list(candidate({'a': 1.5})) == [1.5]\n"
             "    q = deque([1.5])\n    assert candidate(q) == 2 and list(q) == [1.5, 3.5]\n")
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_float_list_arguments_travel_as_raw_doubles_in_the_request(box):
    """The request is marshal: a float list's doubles go as bytes, 8 a float (base64 took 10.7). A
    list's state must also be able to come back (base64 in a reply): 1.5 million floats fit."""
    values = [i * 0.1 for i in range(1000)]
    body = code_harness.encode(values, binary=True)["$floats"]
    assert type(body) is bytes and len(body) == 8000
    assert code_child._untag({"$floats": body}) == values
    assert len(code_harness.request_frame({"args": [code_harness.encode(values, binary=True)]})) < 8100
    tests = "def check(candidate):\n    xs = [i * 0.1 for i in range(1_500_000)]\n    xs.sort(reverse=True)\n    candidate(xs)\n    assert xs == sorted(xs)\n"
    verdict = check_function("def f(xs):\n    xs.sort()\n", tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


BUSY = ("def busy(seconds):\n    import time\n    start = time.perf_counter()\n"
        "    while time.perf_counter() - start < seconds:\n        pass\n")
#: A solution that takes code_child's globals, reports that its calls took no time and adds to each
#: reply (`pad`): it must not pass where the honest solution times out.
LIAR = BUSY + """
JUNK = "[" + ",".join(["0"] * 500_000) + "]"
import sys
_g = sys._getframe(1).f_globals
_g["_clock"] = lambda: 0.0
_send = _g["_reply"]
_g["_reply"] = lambda fd, parts: _send(fd, PAD(list(parts)))
def f(x):
    busy(0.1)
    return x + 1
"""
CHEAT_TESTS = "def check(candidate):\n" + "".join(f"    assert candidate({i}) == {i + 1}\n" for i in range(8))


@pytest.mark.parametrize("pad", [
    "lambda parts: parts + [('pad', '\"' + 'x' * 2_000_000 + '\"')]",  # a key nothing reads
    "lambda parts: parts + [('raised', '[\"ValueError\",\"' + 'x' * 2_000_000 + '\"]')]",  # a 2nd outcome
    "lambda parts: parts",  # only the lie about its own time
    # third review: padding that is well-formed JSON, which bought 100 ns of credit a byte
    "lambda parts: parts[:-1] + [(parts[-1][0], parts[-1][1] + ' ' * 2_000_000)]",  # spaces
    "lambda parts: parts[:-1] + [(parts[-1][0], parts[-1][1] + '\\n' * 2_000_000)]",  # newlines
    "lambda parts: [('took', '\"' + 'x' * 2_000_000 + '\"')] + parts",  # a key given twice
    "lambda parts: parts + [('changed', '[[0,' + JUNK + ']]')]",  # a state for an int argument
])
def test_a_solution_misreporting_its_time_gains_no_more_than_the_allowance(box, pad):
    honest = check_function(BUSY + "def f(x):\n    busy(0.1)\n    return x + 1\n", CHEAT_TESTS, "f",
                            sandbox=box, timeout=0.5)
    assert not honest.correct and "time limit" in honest.reason, honest.reason
    liar = check_function(f"PAD = {pad}\n" + LIAR, CHEAT_TESTS, "f", sandbox=box, timeout=0.5)
    assert not liar.correct, liar.reason


def test_a_solution_returning_junk_its_tests_ignore_gains_no_more_than_the_allowance(box):
    """An in-place sort whose tests never read the return value: 2 MB of junk returned (a well-formed
    reply) bought 100 ns of credit a byte; the credit now follows this side's own work, which a
    string of junk costs little."""
    body = "def f(xs):\n    busy(0.1)\n    xs.sort()\n"
    tests = "def check(candidate):\n" + "".join(
        f"    xs = [3, 1, {i}]\n    candidate(xs)\n    assert xs == sorted([3, 1, {i}])\n" for i in range(8))
    honest = check_function(BUSY + body, tests, "f", sandbox=box, timeout=0.5)
    assert not honest.correct and "time limit" in honest.reason, honest.reason
    liar = BUSY + ("import sys\nsys._getframe(1).f_globals['_clock'] = lambda: 0.0\nJUNK = 'x' * 2_000_000\n"
                   + body + "    return JUNK\n")
    verdict = check_function(liar, tests, "f", sandbox=box, timeout=0.5)
    assert not verdict.correct, verdict.reason


def test_parse_reply_refuses_keys_given_twice_and_loose_whitespace():
    assert code_harness.parse_reply(b'{"op":"reply","id":1,"value":{"$tuple":[1," a b"]},"took":0.0}') == {
        "op": "reply", "id": 1, "value": (("$tuple", [1, " a b"]),), "took": 0.0}
    assert code_harness.decode((("$tuple", [1, " a b"]),)) == (1, " a b")
    for bad in (b'{"op":"reply","took":"xx","id":1,"value":1,"took":0.0}', b'{"op":"reply",\n"id":1}',
                b'{"op":"reply","id":1,"value":1,"took":0.0}\t', b'[1]'):
        with pytest.raises(ValueError):
            code_harness.parse_reply(bad)
    with pytest.raises(ValueError):  # a tagged value given twice: one of them would be padding
        code_harness.decode(code_harness.parse_reply(b'{"value":{"$tuple":[0],"$tuple":[1]}}')["value"])


def test_a_float_list_whose_change_could_not_come_back_is_the_datasets_fault(box):
    """1.7 million floats fit a request (8 bytes a float) but not a reply (10.7): an in-place sort's
    change was dropped silently and the right answer failed as wrong. When the change cannot come
    back and the list as sent could not have either, it is the dataset's fault; a read-only answer
    on the same list, and a tuple of them, which no call changes, still pass (fourth review: such a
    list was refused before the call, so a right read-only answer could not pass)."""
    make = "XS = [i * 0.5 for i in range(1_700_000, 0, -1)]\n"
    tests = make + "def check(candidate):\n    xs = list(XS)\n    candidate(xs)\n    assert xs == sorted(XS)\n"
    verdict = check_function("def f(xs):\n    xs.sort()\n", tests, "f", sandbox=box)
    assert verdict.details["kind"] == "dataset_error", verdict.reason
    assert "as a reply carries it" in verdict.reason
    tests = make + "def check(candidate):\n    assert candidate(list(XS)) == 850_000.0\n"
    verdict = check_function("def f(xs):\n    return max(xs)\n", tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason
    tests = make + "def check(candidate):\n    assert candidate(tuple(XS)) == 1_700_000\n"
    verdict = check_function("def f(xs):\n    return len(xs)\n", tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_a_large_int_list_never_changed_is_sent_and_a_test_expecting_a_raise_sees_the_answers(box):
    """1.6 million ints of 10 digits: 17.6 MB as a reply carries them, so the call was refused before
    it was sent as the dataset's fault, and inside a test's `except Exception` the refusal (a
    TypeError) was caught and the right answer failed. The call is sent now."""
    make = "XS = [10**9 + 7 * i for i in range(1_600_000)]\n"
    tests = make + ("XS[7] = -1\ndef check(candidate):\n    try:\n        candidate(XS)\n    except Exception:\n"
                    "        pass\n    else:\n        raise AssertionError('must reject negatives')\n")
    right = "def f(xs):\n    if min(xs) < 0:\n        raise ValueError('negative')\n    return max(xs)\n"
    verdict = check_function(right, tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason
    verdict = check_function("def f(xs):\n    return max(xs)\n", tests, "f", sandbox=box)
    assert verdict.details["kind"] == "failed", verdict.reason


def test_an_argument_sorted_in_place_and_returned_comes_back_once(box):
    """`xs.sort(); return xs` on 800,000 floats: the return value and the changed list each fit a
    reply, only both together did not, and the right answer failed as having grown its argument.
    The changed argument that is the returned object now travels as a reference to the value."""
    tests = ("import random\nrandom.seed(1)\nXS = [random.random() for _ in range(800_000)]\nS = sorted(XS)\n"
             "def check(candidate):\n    xs = list(XS)\n    ys = candidate(xs)\n    assert ys == S\n"
             "    assert xs == S\n")
    verdict = check_function("def f(xs):\n    xs.sort()\n    return xs\n", tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


#: A solution that sends `STATE` as the state of its changed argument 0, whatever it did.
SAME_TAMPER = """
import sys
_g = sys._getframe(1).f_globals
_send = _g["_reply"]
def _tamper(fd, parts):
    parts = [p for p in parts if p[0] != "changed"]
    _send(fd, parts + [("changed", "[[0," + STATE + "]]")] if parts[0][1] == '"reply"' else parts)
_g["_reply"] = _tamper
"""


@pytest.mark.parametrize("state, body, ok", [
    ('{"$same":"value"}', "    xs.append(2.5)\n    return xs\n", True),  # what the child sends
    ('{"$same":"value"}', "    xs.append(2.5)\n    raise ValueError('x')\n", False),  # no value to refer to
    ('{"$same":"value"}', "    xs.append(2.5)\n    return 3\n", False),  # a value of another kind
    ('{"$same":"value","$list":[]}', "    xs.append(2.5)\n    return xs\n", False),
    ('{"$same":"value","$same":"value"}', "    xs.append(2.5)\n    return xs\n", False),
    ('{"$same":"changed"}', "    xs.append(2.5)\n    return xs\n", False),
    ('{"$same":["value"]}', "    xs.append(2.5)\n    return xs\n", False),
])
def test_a_changed_state_refers_to_the_return_value_in_exactly_one_form(box, state, body, ok):
    tests = ("def check(candidate):\n    xs = [1.5]\n    try:\n        candidate(xs)\n    except ValueError:\n"
             "        pass\n    assert xs == [1.5, 2.5]\n")
    verdict = check_function(f"STATE = {state!r}\n" + SAME_TAMPER + "def f(xs):\n" + body, tests, "f", sandbox=box)
    assert verdict.correct is ok, verdict.reason
    if not ok:
        assert "malformed" in verdict.reason, verdict.reason


@pytest.mark.parametrize("solution", [
    "def f(xs):\n    xs.extend([0.5] * 1_000_000)\n    return [0.25] * 1_000_000\n",  # with its return value
    "def f(xs):\n    xs.extend([0.5] * 2_000_000)\n    raise ValueError('x')\n",  # beside an exception
])
def test_a_changed_argument_too_large_to_come_back_fails_the_answer_with_a_reason(box, solution):
    """It was left out silently: the tests saw the argument as it was, and failed on that."""
    tests = ("def check(candidate):\n    xs = [1.5]\n    try:\n        candidate(xs)\n    except ValueError:\n"
             "        pass\n    assert len(xs) > 1\n")
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.details["kind"] == "failed", verdict.reason
    assert "changed its argument 1 in place into more than can be transferred back" in verdict.reason


def test_a_reply_with_unknown_keys_or_two_outcomes_is_malformed():
    good = {"op": "reply", "id": 3, "value": 1, "took": 0.0, "changed": []}
    assert code_harness._well_formed(good, 3)
    for bad in ({**good, "pad": "x"}, {**good, "raised": ["ValueError", "x"]}, {**good, "id": 2},
                {**good, "op": "x" * 10}, {"op": "reply", "id": 3, "took": 0.0},
                {"op": "reply", "id": 3, "unsupported": "x", "changed": []}, [good],
                {**good, "changed_unsent": [0, 5]}):
        assert not code_harness._well_formed(bad, 3), bad
