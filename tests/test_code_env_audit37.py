"""Audit 37 of Code-v0: an MBPP row whose asserts build objects of a class the answer must define
(MBPP/601's `Pair`) is refused at build, since its reference solution would score 0 as a valid
verdict (and an answer dodging the class would pass); and `float_tolerance` applies to call-based
(APPS `fn_name`) rows' return values, floats in lists and dicts too, as it does to stdin/stdout."""

import json

import pytest

from conftest import fence
from rlvr.envs.code_env import CodeEnv
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


def test_class_refusal_without_a_reference_solution_and_what_is_not_refused(box):
    no_code = {key: value for key, value in MBPP_601.items() if key != "code"}
    with pytest.raises(DatasetError, match="build Pair objects"):  # spelled as a class, passed back
        CodeEnv(dataset=[no_code], sandbox=box)
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
