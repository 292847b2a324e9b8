"""Audit 30 of the code verifier: a wrong answer must not turn its failure into a dataset error by
returning what a later test cannot send back to it.

The harness calls a test that ends on an argument the solution cannot receive (more than a
message may carry, or no plain data) the dataset's fault. It checked only that the test had not
called the solution yet, but the tests' namespace keeps what earlier tests bound: with
`a = candidate(3)` in one test and `candidate(a)` in the next, an answer returning a list of
3,600,000 zeros (7 MiB of JSON, 18 MB marshalled) had its zero reported as "fix or drop it in the
dataset" (not scored; a training run re-draws it and then stops). Now such a refusal is the
dataset's only when no call was made in the run yet, or the test read nothing an earlier call can
have shaped; else it is the answer's failed test (code RULES_VERSION 10).
"""

from __future__ import annotations

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.verifiers.code import RULES_VERSION, check_function
from rlvr.verifiers.code_harness import SolutionFunction, _independent_of_answers


@pytest.fixture(scope="module", params=["subprocess", "bwrap"])
def box(request):
    """Both isolated-process backends (bwrap skips where absent), shared by this module's tests,
    with room for the harness to marshal an 18 MB call (under the shared 256 MiB, marshal itself
    fails on it, and the test fails whatever the rule)."""
    return get_sandbox(request.param, **{**TEST_LIMITS, "memory_mb": 1024})


# -- 1. what an answer returned, sent back by a later test ----------------------------------------
BACK = ("def check(candidate):\n    a = candidate(3)\n    assert len(a) == 3\n"
        "    assert candidate(a) == 6\n")
RIGHT = "def f(x):\n    return [1, 2, 3] if isinstance(x, int) else sum(x)\n"
#: Returns a list too large (marshalled) to be sent back to it: the red team's wrong answer.
WRONG = "def f(x):\n    return [0] * 3_600_000 if isinstance(x, int) else 0\n"


def _wrong_fails_and_right_passes(box, tests, setup="", wrong=WRONG, right=RIGHT):
    """The wrong answer's refusal is its failed test (scored, not a dataset error); the right one passes."""
    verdict = check_function(wrong, tests, "f", sandbox=box, timeout=20, setup_code=setup)
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason
    assert not verdict.correct and verdict.score < 1 and "fix or drop it in the dataset" not in verdict.reason
    honest = check_function(right, tests, "f", sandbox=box, timeout=20, setup_code=setup)
    assert honest.correct, honest.reason

STEERED = [
    # the red team's case: a returned list too large (marshalled) to pass back
    pytest.param(BACK, WRONG, RIGHT,
                 id="returned-list-too-large"),
    # a small return that makes the next test build a too-large argument
    pytest.param("def check(candidate):\n    n = candidate(3)\n    assert n > 0\n    assert candidate('x' * n) == 3\n",
                 "def f(x):\n    return 17 << 20 if isinstance(x, int) else 0\n",
                 "def f(x):\n    return x if isinstance(x, int) else len(x)\n", id="returned-size"),
    # a returned value that steers the next test to an argument that is no plain data
    pytest.param("def check(candidate):\n    a = candidate(3)\n    assert a is not None\n"
                 "    assert candidate(a or len) == 6\n",
                 "def f(x):\n    return [] if isinstance(x, int) else 0\n", RIGHT, id="steered-to-no-plain-data"),
    # an argument the answer grew in place (written back into the tests' list), sent again
    pytest.param("def check(candidate):\n    xs = [3, 1, 2]\n    candidate(xs)\n    assert xs == [1, 2, 3]\n"
                 "    assert candidate(xs) is None\n",
                 "def f(xs):\n    xs[:] = [0] * 3_600_000\n",
                 "def f(xs):\n    xs.sort()\n", id="grown-in-place"),
]


@pytest.mark.parametrize("tests, wrong, right", STEERED)
def test_an_unsendable_argument_an_earlier_answer_made_is_the_answers_failure(box, tests, wrong, right):
    _wrong_fails_and_right_passes(box, tests, wrong=wrong, right=right)


def test_a_value_the_setup_got_from_the_solution_counts_too(box):
    """The setup's calls are the run's too: a value it got stays in the namespace for every test,
    the first one included."""
    _wrong_fails_and_right_passes(box, ["assert f(A) == 6"], "A = f(3)")


# -- 2. what stays the dataset's fault --------------------------------------------------------------
@pytest.mark.parametrize("tests", [
    # the first call of the run passes what no answer can receive
    "def check(candidate):\n    assert candidate('a' * (17 << 20)) == 17 << 20\n    assert candidate('ab') == 2\n",
    "def check(candidate):\n    assert candidate(len) == 0\n    assert candidate('ab') == 2\n",
    # a later test that builds the argument from its own code only (literals, builtins, modules)
    "def check(candidate):\n    assert candidate('ab') == 2\n    s = 'a' * (17 << 20)\n    assert candidate(s) == 17 << 20\n",
    "import math\ndef check(candidate):\n    assert candidate('ab') == 2\n    assert candidate(math.floor) == 0\n",
])
def test_an_unsendable_argument_no_answer_made_stays_a_dataset_error(box, tests):
    verdict = check_function("def f(s):\n    return len(s)\n", tests, "f", sandbox=box, timeout=20)
    assert verdict.details["kind"] == "dataset_error" and verdict.error is not None, verdict.reason
    assert "fix or drop it in the dataset" in verdict.reason


def test_an_unsendable_value_kept_from_an_earlier_test_is_the_answers_failure(box):
    """Conservative by design: a test that reads a name an earlier test bound after a call of the
    solution cannot be told apart from one that sends back what the answer chose, so the refusal is
    a failed test, even when that value happens to be a literal. (Checking a dataset with its
    reference solution shows it.) Bound before the run's first call, the same str is the tests' own
    (review of rules 10: this test had pinned that case as the answer's failure too)."""
    after = ["assert f('ab') == 2", "S = 'a' * (17 << 20)\nassert f('abc') == 3", "assert f(S) == 17 << 20"]
    verdict = check_function("def f(s):\n    return len(s)\n", after, "f", sandbox=box, timeout=20)
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason
    assert verdict.score == pytest.approx(2 / 3)
    before = ["S = 'a' * (17 << 20)\nassert f('ab') == 2", "assert f(S) == 17 << 20"]
    verdict = check_function("def f(s):\n    return len(s)\n", before, "f", sandbox=box, timeout=20)
    assert verdict.details["kind"] == "dataset_error", verdict.reason
    assert RULES_VERSION >= 10


# -- 3. the rule itself ----------------------------------------------------------------------------
def _start(**names):
    import math

    return {"__name__": "__main__", "candidate": SolutionFunction(None, "f"), "math": math, **names}


@pytest.mark.parametrize("source", [
    "s = 'a' * (17 << 20)\nassert candidate(s) == 1",
    "assert candidate([i for i in range(10)], key=lambda x: -x) == 1",
    "assert candidate(math.floor) == 0",
    "import collections as c\nassert candidate(c.deque()) == 0",
    "def g(n):\n    return [n] * 5\ntry:\n    candidate(g(2))\nexcept ValueError as e:\n    pass",
])
def test_a_unit_made_of_its_own_code_is_independent_of_answers(source):
    assert _independent_of_answers(source, _start())


@pytest.mark.parametrize("source", [
    "assert candidate(a) == 6",  # a name an earlier unit bound
    "assert candidate('x' * n) == 3",
    "assert candidate(helper(3)) == 6",  # a function of the tests' (it reads the namespace)
    "assert candidate(globals()['a']) == 6",  # builtins that read the namespace or files
    "assert candidate(eval('a')) == 6",
    "assert candidate(open('/tmp/x').read()) == 6",
    "assert candidate(open('/tmp/x').read()) == 6\nopen = None",  # read before the unit rebinds it
    "assert candidate((lambda: 0).__globals__['a']) == 6",  # underscore attributes
    "assert candidate(candidate._harness) == 6",
    "assert candidate(undefined_name) == 6",
    "assert candidate(",  # does not parse: in doubt
])
def test_a_unit_reading_what_an_earlier_call_could_shape_is_not(source):
    assert not _independent_of_answers(source, _start(a=[0], n=5, helper=lambda n: n))


# -- 4. review of rules 10: names resolved by scope, and state outside the namespace ---------------
APPLY = "def apply(f, xs):\n    return [f(x) for x in xs]\n"


@pytest.mark.parametrize("tests, setup", [
    # a lambda's parameter named like a list an earlier statement bound is the lambda's own
    pytest.param("def check(candidate):\n    xs = [1, 2]\n    assert candidate(None, []) == []\n"
                 "    assert candidate(lambda xs: xs * 2, [1, 2]) == [2, 4]\n", "", id="lambda-parameter"),
    # a comprehension's variable likewise
    pytest.param("def check(candidate):\n    v = [1]\n    assert candidate(None, []) == []\n"
                 "    assert candidate([lambda x: x for v in range(2)][0], [1, 2]) == [1, 2]\n", "", id="comprehension"),
    # a helper of the setup's, bound before any call and unchanged since
    pytest.param(["assert apply(None, []) == []", "assert apply(double, [1, 2]) == [2, 4]"],
                 "K = 2\ndef double(v):\n    return K * v\n", id="setup-helper"),
    # one an earlier test defined before the run's first call
    pytest.param(["def double(v):\n    return 2 * v\nassert apply(None, []) == []",
                  "assert apply(double, [1, 2]) == [2, 4]"], "", id="earlier-test-helper"),
    # an instance of a class of the setup's, made by the test itself
    pytest.param(["assert apply(None, []) == []", "assert apply(Twice(), [1, 2]) == [2, 4]"],
                 "class Twice:\n    def __call__(self, v):\n        return 2 * v\n", id="setup-class"),
])
def test_an_honest_higher_order_test_stays_a_dataset_error(box, tests, setup):
    """Functions the tests made themselves are no plain data: a correct `apply` is not failed for them."""
    verdict = check_function(APPLY, tests, "apply", sandbox=box, timeout=20, setup_code=setup)
    assert verdict.details["kind"] == "dataset_error", verdict.reason
    assert "fix or drop it in the dataset" in verdict.reason



@pytest.mark.parametrize("tests, setup", [
    # a setup helper that reads a global an earlier test set from a call
    pytest.param(["A = f(3)\nassert len(A) == 3", "assert f(get()) == 6"], "def get():\n    return A\n", id="helper-reads-answer"),
    # a helper the tests rebound after the first call
    pytest.param(["assert f([1]) == 1\nget = (lambda: f(3))\nB = get()\nassert len(B) == 3\nget = lambda: B",
                  "assert f(get()) == 6"], "", id="helper-bound-after-call"),
    # state outside the namespace: a module attribute, sys.argv changed in place, a frame, builtins
    pytest.param(["import math\nmath.a = f(3)\nassert len(math.a) == 3", "assert f(math.a) == 6"], "", id="module-attribute"),
    pytest.param(["import sys\nsys.argv[:] = f(3)\nassert len(sys.argv) == 3", "assert f(sys.argv) == 6"], "", id="sys-argv"),
    pytest.param(["a = f(3)\nassert len(a) == 3",
                  "import inspect\nassert f(inspect.currentframe().f_globals['a']) == 6"], "", id="inspect-frame"),
    pytest.param(["a = f(3)\nassert len(a) == 3",
                  "g = (x for x in ())\nassert f(g.gi_frame.f_globals['a']) == 6"], "", id="generator-frame"),
    pytest.param(["import builtins\nbuiltins.data = f(3)\nassert len(data) == 3",
                  "g = lambda data: data\nassert f(data) == 6"], "", id="builtins-attribute"),
    pytest.param(["from math import *\nimport math\nmath.b = f(3)\nassert len(math.b) == 3",
                  "from math import b\nassert f(b) == 6"], "", id="from-import"),
])
def test_an_answer_reaching_the_argument_outside_plain_names_is_the_answers_failure(box, tests, setup):
    _wrong_fails_and_right_passes(box, tests, setup)


def test_the_garbage_collectors_objects_are_not_the_tests_own(box):
    tests = ["a = f(3)\nassert len(a) == 3",
             "import gc\nassert f(max((o for o in gc.get_objects() if type(o) is list), key=len)) == 6"]
    verdict = check_function(WRONG, tests, "f", sandbox=box, timeout=20)
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason


def _namespace(setup):
    """A tests' namespace after `setup`, and what it held at the run's first call (then)."""
    import builtins

    from rlvr.verifiers.code_harness import FirstCall

    namespace = {"__name__": "__main__", "__builtins__": builtins, "candidate": SolutionFunction(None, "f")}
    exec(setup, namespace)
    return namespace, FirstCall(namespace)


@pytest.mark.parametrize("setup, later, source, independent", [
    ("def g(v):\n    return v\n", "", "candidate(g)", True),
    ("def g(v):\n    return v\n", "g = len", "candidate(g)", False),  # rebound after the first call
    ("def g(v, k=2):\n    return v * k\n", "g.__defaults__ = ([0],)", "candidate(g)", False),
    ("def g(v):\n    return v\n", "g.__code__ = (lambda v: a).__code__\na = [0]", "candidate(g)", False),
    ("class C:\n    n = 2\n", "C.n = 3", "candidate(C())", False),  # a class attribute set since
    ("class C:\n    n = 2\n", "", "candidate(C())", True),
    ("xs = [1]", "", "candidate(lambda: 0, xs)", False),  # a list: maybe changed in place since
    ("xs = [1]", "", "candidate(lambda xs: xs, [1])", True),
    ("xs = [1]", "", "match 3:\n    case xs:\n        candidate(lambda: 0)", True),
    ("xs = [1]", "", "xs = [2]\ncandidate(lambda: 0, xs)", True),  # rebound before any mention
    ("xs = [1]", "", "candidate(lambda: 0, xs)\nxs = [2]", False),
    ("import math", "", "candidate(math.floor, math.pi)", True),
    ("import math", "math.pi = 3", "candidate(math.floor, math.pi)", False),
    ("", "", "import sys\ncandidate(sys.maxsize)", False),
    ("", "", "g = (x for x in ())\ncandidate('{0.gi_frame.f_globals[a]}'.format(g))", False),
    ("", "", "import operator\ncandidate(operator.attrgetter('gi_frame')((x for x in ())))", False),
])
def test_what_the_rule_takes_for_the_tests_own(setup, later, source, independent):
    import math

    namespace, first = _namespace(setup)
    pi = math.pi
    try:
        exec(later, namespace)
        start = dict(namespace)
        assert _independent_of_answers(source, start, first, namespace) is independent
    finally:
        math.pi = pi


# -- 5. review 3 of rules 10: attributes set on functions and classes ------------------------------
@pytest.mark.parametrize("tests, setup", [
    # an attribute set on a setup helper after the first call (the function's own __dict__)
    pytest.param(["helper.data = f(3)\nassert len(helper.data) == 3", "assert f(helper.data) == 6"],
                 "def helper():\n    return 0\n", id="helper-attribute"),
    # a helper returning its own attribute
    pytest.param(["helper.data = f(3)\nassert len(helper.data) == 3", "assert f(helper()) == 6"],
                 "def helper():\n    return helper.data\n", id="helper-reads-own-attribute"),
    # attributes set on a library function, class, a class's function and a metaclass
    pytest.param(["import json\njson.dumps.data = f(3)\nassert len(json.dumps.data) == 3",
                  "import json\nassert f(json.dumps.data) == 6"], "", id="library-function-attribute"),
    pytest.param(["import json\njson.JSONDecoder.data = f(3)\nassert len(json.JSONDecoder.data) == 3",
                  "import json\nassert f(json.JSONDecoder.data) == 6"], "", id="library-class-attribute"),
    pytest.param(["import json\njson.JSONDecoder.decode.data = f(3)\nassert len(json.JSONDecoder.decode.data) == 3",
                  "import json\nassert f(json.JSONDecoder.decode.data) == 6"], "", id="library-method-attribute"),
    pytest.param(["import abc\nabc.ABCMeta.data = f(3)\nassert len(abc.ABCMeta.data) == 3",
                  "import collections.abc\nassert f(collections.abc.Sized.data) == 6"], "", id="library-metaclass-attribute"),
    # a class of the setup's inheriting it from a library base class
    pytest.param(["import json\njson.JSONDecoder.data = f(3)\nassert len(json.JSONDecoder.data) == 3",
                  "assert f(C.data) == 6"], "import json\nclass C(json.JSONDecoder):\n    pass\n", id="library-base-attribute"),
])
def test_an_attribute_set_on_a_function_or_class_from_a_call_is_the_answers_failure(box, tests, setup):
    _wrong_fails_and_right_passes(box, tests, setup)


@pytest.mark.parametrize("tests, setup", [
    pytest.param(["assert apply(None, []) == []", "import json\nassert apply(json.dumps, [1, 2]) == ['1', '2']"],
                 "", id="library-function"),
    pytest.param(["assert apply(None, []) == []", "assert apply(str.upper, ['a']) == ['A']"], "", id="builtin-method"),
    pytest.param(["assert apply(None, []) == []", "import math\nassert apply(math.sqrt, [4]) == [2.0]"],
                 "", id="builtin-function"),
    pytest.param(["assert apply(None, []) == []", "assert apply(double, [1, 2]) == [2, 4]"],
                 "import functools\ndef wrap(g):\n    @functools.wraps(g)\n    def inner(v):\n        return g(v)\n"
                 "    return inner\n@wrap\ndef double(v):\n    return 2 * v\n", id="wrapped-setup-helper"),
])
def test_honest_library_and_wrapped_functions_stay_a_dataset_error(box, tests, setup):
    verdict = check_function(APPLY, tests, "apply", sandbox=box, timeout=20, setup_code=setup)
    assert verdict.details["kind"] == "dataset_error", verdict.reason


@pytest.mark.parametrize("setup, later, source, independent", [
    ("def g(v):\n    return v\n", "", "candidate(g.data)", True),  # (an AttributeError, not sent)
    ("def g(v):\n    return v\n", "g.data = [0]", "candidate(g.data)", False),
    ("def g(v):\n    return v\n", "g.data = 3", "candidate(g)", False),
    ("def g(v):\n    return v\ng.data = 3\n", "", "candidate(g.data)", True),  # set before the first call
    ("import json", "", "candidate(json.dumps, json.JSONDecoder.decode)", True),
])
def test_what_the_rule_takes_of_function_attributes(setup, later, source, independent):
    namespace, first = _namespace(setup)
    exec(later, namespace)
    assert _independent_of_answers(source, dict(namespace), first, namespace) is independent
