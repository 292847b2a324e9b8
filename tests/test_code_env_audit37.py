"""Audit 37 of Code-v0: an MBPP row whose asserts build objects of a class the answer must define
(MBPP/601's `Pair`) is refused at build, since its reference solution would score 0 as a valid
verdict (and an answer dodging the class would pass); and `float_tolerance` applies to call-based
(APPS `fn_name`) rows' return values, floats in lists and dicts too, as it does to stdin/stdout.

After review: the evidence is a reference that parses and defines the name as a class (no spelling
heuristic: `Split(Split(xs))` without one builds); a class subclassing a plain type (`list`, `int`,
`str`) and adding nothing to it crosses the sandbox and is not refused, while a named tuple (a class
on `namedtuple(...)` or `NamedTuple`, or a `namedtuple(...)` assignment) crosses as a bare tuple
without its field names and is refused, as is a plain-type subclass with a method or an enum with
members; setup code building the answer's objects (MBPP/927's `Node`) is refused too; a huge int
against an expected float is just not close (no OverflowError)."""

import json

import pytest

from conftest import fence
from rlvr.envs.code_env import CALL_TESTS_SETUP, CodeEnv
from rlvr.envs.tasks import DatasetError

#: MBPP/601 as the original MBPP layout has it (copied from the dataset, CRLF and tabs included).
MBPP_601 = {
    "task_id": 601,
    "text": "Write a function to find the longest chain which can be formed from the given set of pairs.",
    "code": "class Pair(object): \r\n\tdef __init__(self, a, b): \r\n\t\tself.a = a \r\n\t\tself.b = b \r\n"
            "def max_chain_length(arr, n): \r\n\tmax = 0\r\n\tmcl = [1 for i in range(n)] \r\n"
            "\tfor i in range(1, n): \r\n\t\tfor j in range(0, i): \r\n\t\t\tif (arr[i].a > arr[j].b and\r\n"
            "\t\t\t\tmcl[i] < mcl[j] + 1): \r\n\t\t\t\tmcl[i] = mcl[j] + 1\r\n\tfor i in range(n): \r\n"
            "\t\tif (max < mcl[i]): \r\n\t\t\tmax = mcl[i] \r\n\treturn max",
    "test_list": ["assert max_chain_length([Pair(5, 24), Pair(15, 25),Pair(27, 40), Pair(50, 60)], 4) == 3",
                  "assert max_chain_length([Pair(1, 2), Pair(3, 4),Pair(5, 6), Pair(7, 8)], 4) == 4",
                  "assert max_chain_length([Pair(19, 10), Pair(11, 12),Pair(13, 14), Pair(15, 16), Pair(31, 54)], 5) == 5"],
    "test_setup_code": "",
    "challenge_test_list": [],
}
MBPP_17 = {"task_id": 17, "text": "Write a function to find the perimeter of a square.",
           "code": "def square_perimeter(a):\r\n  perimeter=4*a\r\n  return perimeter",
           "test_list": ["assert square_perimeter(10)==40", "assert square_perimeter(5)==20",
                         "assert square_perimeter(4)==16"],
           "test_setup_code": "", "challenge_test_list": []}


def _score(env, answer):
    env.reset(options={"index": 0})
    _, reward, *_, info = env.step(fence(answer))
    return reward, info


def test_mbpp_row_building_answer_class_objects_is_refused_naming_row_and_class(box):
    with pytest.raises(DatasetError, match=r"row 1 \(task '601'\).*build Pair objects.*a class the answer must "
                                           r"define.*cannot leave the sandbox.*drop such rows.*i not in \{1\}"):
        CodeEnv(dataset=[MBPP_17, MBPP_601], sandbox=box)
    # dropped as the error says, the other rows build, and their reference solutions pass
    env = CodeEnv(dataset=[MBPP_17], sandbox=box)
    reward, info = _score(env, MBPP_17["code"])
    assert reward == 1.0 and info["valid"]


def test_without_a_reference_class_no_row_is_refused_for_its_spelling(box):
    """Only a reference that parses and defines the name as a class is evidence: a capitalised name
    called inside another call (`Split(Split(...))`, MBPP's own spelling) may be a function."""
    no_code = {key: value for key, value in MBPP_601.items() if key != "code"}
    CodeEnv(dataset=[no_code], sandbox=box)  # builds: nothing says Pair is a class
    split = {"task_id": 4, "text": "Split odd", "test_list": ["assert Split([1,2,3,4,5]) == [1,3,5]",
                                                             "assert Split(Split([1,3,4])) == [1,3]"]}
    diff = {"task_id": 5, "text": "Diff", "test_list": ["assert sorted(Diff([10, 15, 20], [25, 10])) == [15, 20]",
                                                       "assert Diff(Diff([1,2],[2]), [3]) == [1]"]}
    answers = ["def Split(list):\n    return [x for x in list if x % 2]\n",
               "def Diff(li1, li2):\n    return list(set(li1) - set(li2))\n"]
    env = CodeEnv(dataset=[split, diff], sandbox=box)
    for index, answer in enumerate(answers):
        env.reset(options={"index": index})
        _, reward, *_, info = env.step(fence(answer))
        assert reward == 1.0, info["verdict"].reason
    # a reference binding the name to a lambda, or one that does not parse (Python 2), is no evidence
    lam = dict(split, code="Split = lambda l: [x for x in l if x % 2]")
    py2 = dict(diff, code="def Diff(li1,li2):\r\n    print 'x'\r\n    return (list(set(li1) - set(li2)))")
    rebound = dict(split, code="class Split:\n    pass\n\ndef Split(xs):\n    return [x for x in xs if x % 2]\n")
    for row, answer in [(lam, answers[0]), (py2, answers[1]), (rebound, answers[0])]:
        assert _score(CodeEnv(dataset=[row], sandbox=box), answer)[0] == 1.0


def test_what_is_not_refused_round_trips_and_plain_types(box):
    # a second function of the answer whose plain result goes back in is scorable, as before
    round_trip = {"task_id": 1, "text": "Write encode and decode.", "code": "def encode(s): ...\ndef decode(s): ...",
                  "test_list": ["assert decode(encode('ab')) == 'ab'"]}
    env = CodeEnv(dataset=[round_trip], sandbox=box)
    reward, _ = _score(env, "def encode(s):\n    return s[::-1]\n\ndef decode(s):\n    return s[::-1]\n")
    assert reward == 1.0
    # a plain-data type the answer imports is no class of its own (it crosses the sandbox)
    fraction = {"task_id": 2, "text": "Double a fraction.",
                "test_list": ["assert double(Fraction(1, 3)) == Fraction(2, 3)"]}
    env = CodeEnv(dataset=[fraction], sandbox=box)
    reward, _ = _score(env, "from fractions import Fraction\n\ndef double(x):\n    return 2 * x\n")
    assert reward == 1.0


#: Reference classes subclassing a plain type: their instances cross the sandbox as that type.
SUBCLASS_ROWS = {
    "list": ("class Vec(list):\n    pass\n\ndef vadd(a, b):\n    return [x + y for x, y in zip(a, b)]\n",
             "assert vadd(Vec([1, 2]), Vec([3, 4])) == [4, 6]"),
    "int": ("class Money(int):\n    pass\n\ndef total(xs):\n    return sum(xs)\n",
            "assert total([Money(2), Money(3)]) == 5"),
    "str": ("class Word(str):\n    pass\n\ndef join(a, b):\n    return a + ' ' + b\n",
            "assert join(Word('a'), Word('b')) == 'a b'"),
    "OrderedDict, through a class of the reference": (
        "import collections\nclass Base(collections.OrderedDict):\n    pass\nclass Bag(Base):\n    pass\n\n"
        "def keys(d):\n    return sorted(d)\n", "assert keys(Bag(b=1, a=2)) == ['a', 'b']"),
}


@pytest.mark.parametrize("base", list(SUBCLASS_ROWS))
def test_a_reference_class_subclassing_a_plain_type_builds_and_its_reference_scores_1(box, base):
    code, test = SUBCLASS_ROWS[base]
    env = CodeEnv(dataset=[{"task_id": 1, "text": base, "code": code, "test_list": [test]}], sandbox=box)
    reward, info = _score(env, code)
    assert reward == 1.0, info["verdict"].reason


@pytest.mark.parametrize("code, test", [
    # a deque subclass does not cross (the sandbox takes a deque only exactly), nor does a class of the
    # reference whose own base is such a class
    ("from collections import deque\nclass Q(deque):\n    pass\n\ndef first(q):\n    return q[0]\n",
     "assert first(Q([1, 2])) == 1"),
    ("class A:\n    pass\nclass B(A):\n    def __init__(self, v):\n        self.v = v\n\ndef val(b):\n    return b.v\n",
     "assert val(B(3)) == 3"),
    # a named tuple crosses as a bare tuple, without the field names a reference reads (`p.x`), and a
    # plain-type subclass with a method crosses without it (`v.norm1()`): review of audit 37
    ("from collections import namedtuple\nclass Point(namedtuple('Point', 'x y')):\n    pass\n\n"
     "def dist(p, q):\n    return abs(p.x - q.x) + abs(p.y - q.y)\n", "assert dist(Point(0, 0), Point(3, 4)) == 7"),
    ("from collections import namedtuple\nPoint = namedtuple('Point', 'x y')\n\n"
     "def dist(p, q):\n    return abs(p.x - q.x) + abs(p.y - q.y)\n", "assert dist(Point(0, 0), Point(3, 4)) == 7"),
    ("import typing\nclass P(typing.NamedTuple):\n    x: int\n    y: int\n\ndef norm1(p):\n    return abs(p.x) + abs(p.y)\n",
     "assert norm1(P(-1, 2)) == 3"),
    # an enum subclass of int or str: its members are gone on the other side (without any, there
    # is nothing to build)
    ("from enum import IntEnum\nclass Level(IntEnum):\n    LOW = 1\n    HIGH = 2\n\ndef up(x):\n"
     "    return Level(x + 1).name\n", "assert up(Level(1)) == 'HIGH'"),
    ("from enum import IntEnum\nclass Level(IntEnum):\n    pass\n\ndef up(x):\n    return x\n",
     "assert up(Level(1)) == 1"),
    ("class Vec(list):\n    def norm1(self):\n        return sum(map(abs, self))\n\ndef total(vs):\n"
     "    return sum(v.norm1() for v in vs)\n", "assert total([Vec([1, -2]), Vec([3])]) == 6"),
    # the tests calling the class itself: its object cannot come back either (check_function fails it)
    ("class Money:\n    def __init__(self, x):\n        self.x = x\n    def double(self):\n        return 2 * self.x\n",
     "assert Money(3).double() == 6"),
])
def test_a_reference_class_whose_instances_do_not_cross_is_refused(box, code, test):
    with pytest.raises(DatasetError, match=r"row 0 \(task '1'\): column 'test_list' cannot be scored: its asserts build"):
        CodeEnv(dataset=[{"task_id": 1, "text": "t", "code": code, "test_list": [test]}], sandbox=box)


#: MBPP/927 as the original MBPP layout has it: its setup code builds the answer's `Node` objects.
MBPP_927 = {
    "task_id": 927, "text": "Write a function to calculate the height of the given binary tree.",
    "code": "class Node: \r\n\tdef __init__(self, data): \r\n\t\tself.data = data \r\n\t\tself.left = None\r\n"
            "\t\tself.right = None\r\ndef max_height(node): \r\n\tif node is None: \r\n\t\treturn 0 ; \r\n"
            "\telse : \r\n\t\tleft_height = max_height(node.left) \r\n\t\tright_height = max_height(node.right) \r\n"
            "\t\tif (left_height > right_height): \r\n\t\t\treturn left_height+1\r\n\t\telse: \r\n"
            "\t\t\treturn right_height+1",
    "test_list": ["assert (max_height(root)) == 3", "assert (max_height(root1)) == 5 ", "assert (max_height(root2)) == 4"],
    "test_setup_code": "root = Node(1) \r\nroot.left = Node(2) \r\nroot.right = Node(3) \r\nroot.left.left = Node(4) \r\n"
                       "root.left.right = Node(5) \r\nroot1 = Node(1);  \r\nroot1.left = Node(2);  \r\nroot1.right = Node(3);  \r\n"
                       "root1.left.left = Node(4);  \r\nroot1.right.left = Node(5);  \r\nroot1.right.right = Node(6);  \r\n"
                       "root1.right.right.right= Node(7);  \r\nroot1.right.right.right.right = Node(8)\r\nroot2 = Node(1) \r\n"
                       "root2.left = Node(2) \r\nroot2.right = Node(3) \r\nroot2.left.left = Node(4) \r\n"
                       "root2.left.right = Node(5)\r\nroot2.left.left.left = Node(6)\r\nroot2.left.left.right = Node(7)",
    "challenge_test_list": [],
}


def test_a_setup_code_building_the_answers_class_objects_is_refused(box):
    with pytest.raises(DatasetError, match=r"row 1 \(task '927'\): column 'test_setup_code' cannot be scored: its "
                                           r"setup code builds Node objects \(root = Node\(1\)\).*i not in \{1\}"):
        CodeEnv(dataset=[MBPP_17, MBPP_927], sandbox=box)


def _call_row(fn_name, inputs, outputs):
    return {"task_id": "c1", "question": fn_name,
            "input_output": json.dumps({"fn_name": fn_name, "inputs": inputs, "outputs": outputs})}


def test_float_tolerance_applies_to_call_based_return_values(program_box):
    rows = [_call_row("third", [[1], [2]], [0.333333, 0.666667])]
    answer = "def third(x):\n    return x / 3\n"
    strict = CodeEnv(dataset=rows, sandbox=program_box)
    reward, info = _score(strict, answer)
    assert reward == 0.0 and info["valid"]  # without float_tolerance: exact, as APPS compares
    tolerant = CodeEnv(dataset=rows, sandbox=program_box, float_tolerance=1e-3)
    reward, info = _score(tolerant, answer)
    assert reward == 1.0, info["verdict"].reason
    assert tolerant.fingerprint()["verifier"]["settings"]["call_float_tolerance"] is True  # verdicts changed
    assert "call_float_tolerance" not in strict.fingerprint()["verifier"]["settings"]  # these did not
    # beyond the tolerance (relative above 1, absolute below): wrong
    far = CodeEnv(dataset=rows, sandbox=program_box, float_tolerance=1e-7)
    assert _score(far, answer)[0] == 0.0


def test_float_tolerance_reaches_floats_in_lists_tuples_and_dicts_only(box):
    rows = [_call_row("stats", [[[1, 2]]], [[[0.333333, 1000.0001], {"mean": 1.5000004, "n": 2}]])]
    env = CodeEnv(dataset=rows, sandbox=box, float_tolerance=1e-6)
    nested = "def stats(xs):\n    return ((1 / 3, 1000.0), {'mean': sum(xs) / len(xs), 'n': len(xs)})\n"
    reward, info = _score(env, nested)
    assert reward == 1.0, info["verdict"].reason
    # integers stay exact (as check_io's tolerance leaves integers alone), and so do the keys
    assert _score(env, nested.replace("'n': len(xs)", "'n': len(xs) + 1e-9"))[0] == 0.0
    assert _score(env, nested.replace("'mean'", "'avg'"))[0] == 0.0
    assert _score(env, nested.replace("(1 / 3, 1000.0)", "(1 / 3, 1000.0, 0.0)"))[0] == 0.0
    assert _score(CodeEnv(dataset=rows, sandbox=box), nested)[0] == 0.0  # no tolerance: exact


def test_a_huge_int_against_an_expected_float_is_not_close_and_raises_nothing():
    namespace = {"_FLOAT_TOLERANCE": 1e-6}
    exec(CALL_TESTS_SETUP, namespace)
    assert namespace["_close"](10 ** 400, 1e300) is False  # int too large to convert to float
    assert namespace["_same"]([10 ** 400], [1e300]) is False
    assert namespace["_close"](1e300 * (1 + 1e-7), 1e300) is True


def test_a_huge_int_return_value_fails_the_case_as_a_wrong_value(box):
    env = CodeEnv(dataset=[_call_row("f", [[1]], [1e300])], sandbox=box, float_tolerance=1e-6)
    reward, info = _score(env, "def f(x):\n    return 10 ** 400\n")
    assert reward == 0.0 and info["valid"]
    assert "OverflowError" not in info["verdict"].reason and "AssertionError" in info["verdict"].reason
