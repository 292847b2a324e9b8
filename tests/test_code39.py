"""Code-v0 and the code verifier, audit 39: HumanEval body-only answers indented unlike the prompt,
a leading byte-order mark, and HumanEval tables without an `entry_point` column. Run in the
real (subprocess) sandbox."""

from __future__ import annotations

import warnings

import pytest

from conftest import fence
from rlvr.envs.code_env import CodeEnv
from rlvr.envs.tasks import DatasetError
from rlvr.verifiers.code import check_function, check_io
from rlvr.verifiers.code_extract import extract_program
from rlvr.verifiers.code_plan import prompt_definitions

PROMPT = ('from typing import List\n\n\ndef has_close(numbers: List[float], threshold: float) -> bool:\n'
          '    """ Check if any two numbers are closer than threshold.\n    >>> has_close([1.0, 2.0], 0.5)\n'
          '    False\n    """\n')
TEST = ("def check(candidate):\n    assert candidate([1.0, 2.0, 3.0], 0.5) == False\n"
        "    assert candidate([1.0, 2.8, 3.0], 0.3) == True\n")
ROW = {"task_id": "HE/0", "prompt": PROMPT, "test": TEST, "entry_point": "has_close"}
#: The body, at column 0; `_indent` puts it at any depth.
BODY = ("for i, a in enumerate(numbers):\n    for b in numbers[i + 1:]:\n        if abs(a - b) < threshold:\n"
        "            return True\nreturn False\n")


def _indent(code: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in code.splitlines(keepends=True))


def _env(box, rows=(ROW,)) -> CodeEnv:
    return CodeEnv(dataset=list(rows), sandbox=box)


def _verify(env: CodeEnv, answer: str, index: int = 0):
    verdict = env.verify(env.source.get(index), answer)
    assert verdict.error is None, verdict
    return verdict


# -- 1. body-only answers indented unlike the prompt ---------------------------------------------
@pytest.mark.parametrize("depth", ["", "  ", "    ", "        "])
def test_body_only_answer_passes_at_any_uniform_indentation(box, depth):
    env = _env(box)
    assert _verify(env, fence(_indent(BODY, depth))).correct
    assert _verify(env, _indent(BODY, depth)).correct  # raw, not fenced


def test_body_is_indented_as_the_prompts_body_is(box):
    # a prompt whose body is 2 spaces deep: the column-0 body goes 2 spaces deep, not 4
    prompt = 'def add(a, b):\n  """Add."""\n'
    env = _env(box, [{"task_id": "t", "prompt": prompt, "test": "def check(c):\n    assert c(2, 3) == 5\n",
                      "entry_point": "add"}])
    task = env.source.get(0)
    assert env.solution_of(task, fence("x = a + b\nreturn x")).startswith(prompt + "  x = a + b\n  return x")
    assert _verify(env, fence("x = a + b\nreturn x")).correct
    # a bare signature (no docstring): four spaces
    bare = _env(box, [{"task_id": "t", "prompt": "def add(a, b):\n", "test": "def check(c):\n    assert c(2, 3) == 5\n",
                       "entry_point": "add"}])
    assert _verify(bare, fence("return a + b")).correct
    assert not _verify(bare, fence("return a - b")).correct


def test_a_wrong_body_at_column_0_stays_wrong(box):
    env = _env(box)
    verdict = _verify(env, fence("return False"))
    assert not verdict.correct and verdict.score == 0.5  # it runs (re-indented), and fails test 2
    wrong = BODY.replace("< threshold", "> threshold")
    assert not _verify(env, fence(wrong)).correct
    assert not _verify(env, fence(_indent(wrong, "  "))).correct
    # broken code no indentation fixes is left as it is, and scored for its syntax
    broken = _verify(env, fence("for i in numbers\n    return True\nreturn False"))
    assert not broken.correct and broken.score == 0


def test_code_that_compiles_after_the_prompt_is_not_reindented(box):
    env = _env(box)
    task = env.source.get(0)
    # module-level code after the prompt compiles as written: left at column 0 (and wrong, as before)
    module_level = "found = any(abs(a - b) < 0.5 for a in [1.0] for b in [1.2])\n"
    assert env.solution_of(task, fence(module_level)).startswith(PROMPT + module_level.rstrip("\n"))
    assert not _verify(env, fence(module_level)).correct
    # a body indented right is taken as written
    assert env.solution_of(task, fence(_indent(BODY, "    "))).startswith(PROMPT + _indent(BODY, "    ").rstrip("\n"))


def test_whole_function_answers_are_scored_as_before(box):
    env = _env(box)
    full = "def has_close(numbers, threshold):\n" + _indent(BODY, "    ")
    assert _verify(env, fence(full)).correct
    assert _verify(env, fence(full.replace("    ", "  "))).correct  # its own 2-space indentation
    wrong = "def has_close(numbers, threshold):\n    return False\n"
    assert not _verify(env, fence(wrong)).correct
    # a function of another name, at column 0, is no body: it is not moved into has_close
    other = "def close_pair(numbers, threshold):\n" + _indent(BODY, "    ")
    assert env.solution_of(env.source.get(0), fence(other)).startswith(PROMPT + other.rstrip("\n"))
    assert not _verify(env, fence(other)).correct


# -- 2. a leading byte-order mark ----------------------------------------------------------------
SQUARE_TESTS = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-3) == 9\n"


@pytest.mark.parametrize("answer", [
    "\ufeffdef square(x):\n    return x*x\n",
    "```python\n\ufeffdef square(x):\n    return x*x\n```",
    "\ufeff```python\ndef square(x):\n    return x*x\n```",
])
def test_check_function_drops_a_leading_bom(box, answer):
    verdict = check_function(answer, SQUARE_TESTS, "square", sandbox=box)
    assert verdict.correct, verdict
    assert check_function(answer, SQUARE_TESTS, "square", sandbox=box, extract="last").correct
    wrong = answer.replace("x*x", "x+x")
    assert not check_function(wrong, SQUARE_TESTS, "square", sandbox=box).correct


def test_check_io_drops_a_leading_bom(box):
    assert check_io("\ufeffprint(int(input())*2)\n", [("2\n", "4\n")], sandbox=box).correct
    assert check_io("\ufeffprint(int(input())*2)\n", [("2\n", "4\n")], sandbox=box, extract=False).correct
    assert check_io(fence("\ufeffprint(int(input())*2)"), [("2\n", "4\n")], sandbox=box).correct
    assert not check_io("\ufeffprint(int(input())*3)\n", [("2\n", "4\n")], sandbox=box).correct


def test_only_a_leading_bom_is_dropped(box):
    assert extract_program("\ufeffprint(1)\n") == "print(1)\n"
    assert not extract_program(fence("\ufeffdef f():\n    return 1"), ["f"]).startswith("\ufeff")
    verdict = check_io("x = 1\n\ufeffprint(x)\n", [("", "1\n")], sandbox=box)  # inside the code: Python refuses it
    assert not verdict.correct and verdict.details["kind"] == "syntax"


def test_code_env_drops_a_leading_bom(box):
    env = _env(box)
    assert _verify(env, "```python\n\ufeff" + _indent(BODY, "    ") + "```").correct
    assert _verify(env, "\ufeff" + fence("def has_close(numbers, threshold):\n" + _indent(BODY, "    "))).correct
    io = _env(box, [{"task_id": 1, "question": "double", "inputs": ["2\n"], "outputs": ["4\n"]}])
    assert _verify(io, "\ufeffprint(int(input())*2)\n").correct


# -- 3. a HumanEval table without an entry_point column -------------------------------------------
DOUBLE_PROMPT = 'def double(x):\n    """Twice x."""\n'
DOUBLE_TEST = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(5) == 10\n"


def test_humaneval_table_without_entry_point_column(box):
    env = _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST},  # from the prompt's def
                     {"task_id": "b", "prompt": "# Write twice(x).\n",  # from check(twice)
                      "test": DOUBLE_TEST + "\ncheck(twice)\n"}])
    assert [task.meta["entry_point"] for task in env.source.tasks] == ["double", "twice"]
    assert _verify(env, fence("return 2 * x")).correct
    assert not _verify(env, fence("return 3 * x")).correct
    assert _verify(env, fence("def twice(x):\n    return 2 * x"), 1).correct
    assert not _verify(env, fence("def twice(x):\n    return x"), 1).correct
    # the same as a column of nulls
    nulls = _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST, "entry_point": None}])
    assert nulls.source.get(0).meta == env.source.get(0).meta


def test_a_row_whose_tests_cannot_check_is_named_without_the_column(box):
    with pytest.raises(DatasetError, match=r"row 1 \(task 'b'\): column 'test' cannot check a solution"):
        _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST},
                   {"task_id": "b", "prompt": DOUBLE_PROMPT, "test": "x = double(2)\n"}])


def test_other_layouts_with_prompt_and_test_columns_keep_their_layout(box):
    # MBPP+ has 'prompt' and a 'test' string beside 'test_list': still MBPP
    mbpp = _env(box, [{"task_id": 1, "prompt": "Double a number.", "test": "assert double(2) == 4",
                       "test_list": ["assert double(2) == 4"]}])
    assert mbpp.source.get(0).meta.get("example") == "assert double(2) == 4"
    io = _env(box, [{"task_id": 1, "prompt": "Double a number.", "test": "unused", "inputs": ["2\n"],
                     "outputs": ["4\n"]}])
    assert io.source.get(0).meta["kind"] == "io"
    with pytest.raises(DatasetError, match="cannot tell the layout"):  # no test column: no layout
        _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "entry_point": "double"}])


# -- audit 39, second round ------------------------------------------------------------------------
ADD_PROMPT = 'def add(a: int, b: int) -> int:\n    """Add a and b."""\n'
ADD_ROW = {"task_id": "t", "prompt": ADD_PROMPT, "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
           "entry_point": "add"}
PROSE_ROW = {"task_id": "a", "prompt": "Write add(a, b) returning the sum.",
             "test": "assert add(1, 2) == 3\nassert add(2, 2) == 4\n"}


@pytest.mark.parametrize("tests", [PROSE_ROW["test"], "def test_add():\n    assert add(1, 2) == 3\n"])
def test_a_row_without_the_column_whose_entry_point_cannot_be_inferred_is_refused(box, tests):
    # it was accepted with entry point None, the prose glued before every answer: all scored 0
    row = {**PROSE_ROW, "test": tests}
    with pytest.raises(DatasetError, match=r"row 1 \(task 'b'\): the table has no 'entry_point' column .*"
                                           r"add an 'entry_point' column"):
        _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST}, {**row, "task_id": "b"}])


def test_a_null_entry_point_that_cannot_be_inferred_before_prose_is_refused(box):
    with pytest.raises(DatasetError, match=r"row 0 \(task 'a'\): column 'entry_point' is null .* no answer could pass"):
        _env(box, [{**PROSE_ROW, "entry_point": None}])
    # before a prompt that is code (a comment, a bare class line) the answer can pass: kept
    comment = _env(box, [{**PROSE_ROW, "prompt": "# Write add(a, b) returning the sum.\n", "entry_point": None}])
    assert comment.source.get(0).meta["entry_point"] is None
    assert _verify(comment, fence("def add(a, b):\n    return a + b")).correct
    assert not _verify(comment, fence("def add(a, b):\n    return a - b")).correct
    _env(box, [{**PROSE_ROW, "prompt": "class Adder:\n", "entry_point": None}])


@pytest.mark.parametrize("body", ["s = a + b\nreturn s", "  s = a + b\n  return s"])
def test_a_body_indented_unlike_the_prompt_is_taken_before_a_usage_example(box, body):
    # the usage example after it was taken for the program (add returned None)
    env = _env(box, [ADD_ROW])
    answer = fence(body) + "\nExample:\n" + fence("print(add(2, 3))")
    assert extract_program(answer, ["add"], prefix=ADD_PROMPT) == body
    assert _verify(env, answer).correct
    assert not _verify(env, answer.replace("a + b", "a - b")).correct
    # a block that runs at top level as written is still an example, not a body
    assert extract_program(fence("print(add(2, 3))"), ["add"], prefix=ADD_PROMPT) == "print(add(2, 3))"


BANNER_ROW = {"task_id": "t", "prompt": 'def banner(name: str) -> str:\n    """Hello, then name! on the next line."""\n',
              "test": 'def check(candidate):\n    assert candidate("Bob") == "Hello,\\nBob!"\n', "entry_point": "banner"}


@pytest.mark.parametrize("body", [
    'text = """Hello,\n{}!"""\nreturn text.format(name)',
    '  text = """Hello,\n{}!"""\n  return text.format(name)',
    "text = f'''Hello,\n{name}!'''\nreturn text",
    "text = 'Hello,\\n\\\n' + name + '!'\nreturn text",
])
def test_reindenting_leaves_lines_inside_a_string_alone(box, body):
    # the string's second line was indented too: 'Hello,\n    Bob!'
    env = _env(box, [BANNER_ROW])
    assert _verify(env, fence(body)).correct
    assert not _verify(env, fence(body.replace("Hello,", "Hi,"))).correct


def test_a_method_stub_gets_the_methods_body_indentation(box):
    # the class body's four spaces were used: 'return' outside function
    prompt = 'class Counter:\n    def total(self, xs):\n        """Sum of xs."""\n'
    env = _env(box, [{"task_id": "t", "prompt": prompt, "entry_point": "Counter",
                      "test": "def check(candidate):\n    assert candidate is not None\n\ncheck(Counter)\n"}])
    program = str(env.solution_of(env.source.get(0), fence("return sum(xs)")))
    assert program.startswith(prompt + "        return sum(xs)")
    assert check_io(program + "\nprint(Counter().total([1, 2]))\n", [("", "3\n")], sandbox=box, extract=False).correct


def test_a_nested_unfinished_def_gets_its_own_body_indentation(box):
    prompt = 'def make_adder(n):\n    """Return a function adding n."""\n    def add(x):\n        """x + n"""\n'
    env = _env(box, [{"task_id": "t", "prompt": prompt, "entry_point": "make_adder",
                      "test": "def check(candidate):\n    assert candidate(2) is None\n"}])
    program = str(env.solution_of(env.source.get(0), fence("return x + n")))
    assert program.startswith(prompt + "        return x + n")  # in add, not in make_adder (where x is unbound)
    assert _verify(env, fence("return x + n")).correct  # make_adder itself returns None, as the tests want
    # a finished nested helper is no stub: the body goes in the outer function
    finished = 'def twice(x):\n    """2 * x."""\n    def double(y):\n        return 2 * y\n'
    env = _env(box, [{"task_id": "t", "prompt": finished, "entry_point": "twice",
                      "test": "def check(candidate):\n    assert candidate(4) == 8\n"}])
    assert _verify(env, fence("return double(x)")).correct


def test_extract_all_drops_the_bom_of_every_block(box):
    answer = fence("def helper(x):\n    return x * x") + "\n" + fence("\ufeffdef square(x):\n    return helper(x)")
    assert check_function(answer, SQUARE_TESTS, "square", sandbox=box, extract="all").correct
    wrong = answer.replace("x * x", "x + x")
    assert not check_function(wrong, SQUARE_TESTS, "square", sandbox=box, extract="all").correct
    assert check_function("\ufeff" + answer, SQUARE_TESTS, "square", sandbox=box, extract="all").correct


def test_fitting_a_body_emits_no_syntax_warning(box):
    # '"is" with a literal' printed in the trainer's process, and under -W error the body was not fitted
    env = _env(box, [ADD_ROW])
    body = fence("return a + b if a is not 1 else 1 + b")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env.solution_of(env.source.get(0), body)
    assert not [warning for warning in caught if issubclass(warning.category, SyntaxWarning)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert str(env.solution_of(env.source.get(0), body)).startswith(ADD_PROMPT + "    return a + b")
    assert _verify(env, body).correct


# -- audit 39, third round -------------------------------------------------------------------------
FULL = "def has_close(numbers, threshold):\n" + _indent(BODY, "    ")


@pytest.mark.parametrize("excerpt", ["return True", "  return True", "    return True",
                                     "if abs(a - b) < threshold:\n    return True", "return False"])
def test_a_quoted_excerpt_after_a_whole_solution_is_not_the_program(box, excerpt):
    # the excerpt qualified as a body (the last block wins) and was run as has_close's whole body
    env = _env(box)
    answer = fence(FULL) + "\n\nThe key step is:\n\n" + fence(excerpt)
    assert extract_program(answer, ["has_close"], prefix=PROMPT) == FULL.rstrip("\n")
    assert _verify(env, answer).correct
    assert not _verify(env, answer.replace("< threshold:\n", "> threshold:\n", 1)).correct
    # with no block defining the function, the body is the program, as before
    assert extract_program(fence(_indent(BODY, excerpt[:len(excerpt) - len(excerpt.lstrip())])) + "\n" + fence(excerpt),
                           ["has_close"], prefix=PROMPT) == excerpt


FIB_PROMPT = 'def fib(n: int):\n    """Return n-th Fibonacci number."""\n'
FIB_ROW = {"task_id": "HE/55", "prompt": FIB_PROMPT, "entry_point": "fib",
           "test": "def check(candidate):\n    assert candidate(10) == 55\n    assert candidate(8) == 21\n"}
FIB_BODY = "if n <= 2:\n    return 1\nreturn fib(n - 1) + fib(n - 2)"


def test_a_recursive_solution_followed_by_its_recursive_line_loads(box):
    # the excerpt was chosen, the earlier `def fib` put before it: 'return' outside function
    env = _env(box, [FIB_ROW])
    answer = fence("def fib(n: int):\n" + _indent(FIB_BODY, "    ")) + "\n\nThe recursive step:\n" + \
        fence("return fib(n - 1) + fib(n - 2)")
    assert _verify(env, answer).correct


def test_a_body_after_a_restated_stub_does_not_take_the_stub_with_it(box):
    # a block that only restates the prompt's signature and docstring gives no version of fib: the body
    # after it is the program, and the stub's `def fib` is not put before it (the body ran at top level)
    env = _env(box, [FIB_ROW])
    answer = fence(FIB_PROMPT) + "\n\nand its body:\n" + fence(FIB_BODY)
    assert extract_program(answer, ["fib"], prefix=FIB_PROMPT) == FIB_BODY
    assert _verify(env, answer).correct
    assert not _verify(env, answer.replace("return 1", "return 0")).correct


NESTED_ROW = {"task_id": "N", "entry_point": "sort_by_last_digit",
              "prompt": 'def sort_by_last_digit(xs):\n    """Sort xs by their last digit."""\n'
                        '    def key(x):\n        """The last digit of x."""\n',
              "test": "def check(candidate):\n    assert candidate([19, 21, 5]) == [21, 5, 19]\n"}


def test_a_body_finishing_a_nested_stub_and_then_the_outer_function(box):
    # only the innermost stub's indentation was tried: 'return' outside function
    env = _env(box, [NESTED_ROW])
    body = "    return x % 10\nreturn sorted(xs, key=key)"
    assert str(env.solution_of(env.source.get(0), fence(body))).startswith(
        NESTED_ROW["prompt"] + "        return x % 10\n    return sorted(xs, key=key)")
    assert _verify(env, fence(body)).correct
    assert not _verify(env, fence(body.replace("% 10", "% 7"))).correct


TWO_STUBS = ('def is_prime(n: int) -> bool:\n    """Return True if n is prime."""\n\n\n'
             'def count_primes(xs: list) -> int:\n    """Count the primes in xs (use is_prime)."""\n')
TWO_STUBS_ROW = {"task_id": "TS", "prompt": TWO_STUBS, "entry_point": "count_primes",
                 "test": "def check(candidate):\n    assert candidate([2, 3, 4, 5, 9]) == 3\n    assert candidate([1, 4]) == 0\n"}


def test_a_prompts_other_stub_is_for_the_answer_not_a_helper(box):
    # the bare is_prime stub was defined again after the answer: is_prime returned None, score 0.5
    assert prompt_definitions(TWO_STUBS, "count_primes") == ""
    env = _env(box, [TWO_STUBS_ROW])
    assert "helpers" not in env.source.get(0).meta
    full = ("def is_prime(n: int) -> bool:\n    if n < 2:\n        return False\n"
            "    return all(n % d for d in range(2, int(n ** 0.5) + 1))\n\n\n"
            "def count_primes(xs: list) -> int:\n    return sum(1 for x in xs if is_prime(x))")
    assert _verify(env, fence(full)).correct
    assert not _verify(env, fence(full.replace("n < 2", "n < 1"))).correct
    # a finished helper of the prompt is still the dataset's, defined again after the answer
    finished = TWO_STUBS.replace('"""Return True if n is prime."""', "return n in (2, 3, 5, 7)")
    assert prompt_definitions(finished, "count_primes").startswith("def is_prime(n: int) -> bool:\n    return n in")


def test_a_row_without_the_column_before_a_code_prompt_is_kept(box):
    # it was refused, while the same row with a null entry_point worked
    row = {**PROSE_ROW, "prompt": "# Write add(a, b) returning the sum.\nimport math\n"}
    env = _env(box, [row])
    assert env.source.get(0).meta["entry_point"] is None
    assert _verify(env, fence("def add(a, b):\n    return a + b")).correct
    assert not _verify(env, fence("def add(a, b):\n    return a - b")).correct


# -- audit 39, fourth round ------------------------------------------------------------------------
BELOW_ZERO_PROMPT = ('def below_zero(operations: list) -> bool:\n'
                     '    """Whether the running balance ever falls below zero."""\n')
BELOW_ZERO_ROW = {"task_id": "HE/3", "prompt": BELOW_ZERO_PROMPT, "entry_point": "below_zero",
                  "test": "def check(candidate):\n    assert candidate([1, 2, 3]) == False\n"
                          "    assert candidate([1, -2, 5]) == True\n    assert candidate([1, 2, -4, 5]) == True\n"}
#: A wrong draft: it only checks the final balance.
BELOW_ZERO_DRAFT = ("def below_zero(operations: list) -> bool:\n    balance = 0\n    for op in operations:\n"
                    "        balance += op\n    if balance < 0:\n        return True\n    return False\n")
SWAP_ROW = {"task_id": "X/1", "entry_point": "swap_sum",
            "prompt": 'def swap_sum(xs: list) -> list:\n    """xs with 1 added to each element, then reversed."""\n',
            "test": "def check(candidate):\n    assert candidate([1, 2]) == [3, 2]\n    assert candidate([5]) == [6]\n"}
ADD_ROW = {"task_id": "HE/53", "prompt": ADD_PROMPT, "entry_point": "add",
           "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(5, 7) == 12\n"}


@pytest.mark.parametrize("row, draft, fix", [
    # the `if` moved into the loop (re-nested), at the prompt's depth and at column 0
    (BELOW_ZERO_ROW, BELOW_ZERO_DRAFT, "    balance = 0\n    for op in operations:\n        balance += op\n"
                                       "        if balance < 0:\n            return True\n    return False"),
    (BELOW_ZERO_ROW, BELOW_ZERO_DRAFT, "balance = 0\nfor op in operations:\n    balance += op\n"
                                       "    if balance < 0:\n        return True\nreturn False"),
    # a wrong line deleted
    (ADD_ROW, "def add(a: int, b: int) -> int:\n    result = a + b\n    result -= 1\n    return result\n",
     "    result = a + b\n    return result"),
    # two lines swapped
    (SWAP_ROW, "def swap_sum(xs: list) -> list:\n    out = [x + 1 for x in xs]\n    return out\n    out.reverse()\n",
     "    out = [x + 1 for x in xs]\n    out.reverse()\n    return out"),
])
def test_a_corrected_body_made_of_the_drafts_lines_is_the_program(box, row, draft, fix):
    # its lines were each a line of the wrong draft, so it was taken as a quoted excerpt of it
    env = _env(box, [row])
    answer = fence(draft) + "\n\nWait, that is wrong. The body is:\n\n" + fence(fix)
    assert not _verify(env, fence(draft)).correct
    assert extract_program(answer, [row["entry_point"]], prefix=row["prompt"]) == fix
    assert _verify(env, answer).correct


@pytest.mark.parametrize("excerpt", [
    "if abs(a - b) < threshold:\n    return True  # found a close pair",
    "for b in numbers[i + 1:]:\n    ...\n    return True",
    "for i, a in enumerate(numbers):\n    pass\n    return True",
    "# inner loop\nif abs(a - b) < threshold:\n    return True",
    "return False  # no pair found",
    "    return False  # '#' in a comment",
])
def test_an_excerpt_with_a_comment_or_an_elision_is_not_the_program(box, excerpt):
    env = _env(box)
    answer = fence(FULL) + "\n\nThe key step:\n\n" + fence(excerpt)
    assert extract_program(answer, ["has_close"], prefix=PROMPT) == FULL.rstrip("\n")
    assert _verify(env, answer).correct
    assert not _verify(env, answer.replace("< threshold:\n", "> threshold:\n", 1)).correct


@pytest.mark.parametrize("excerpt", [
    "return True\nreturn False",  # not one run of the version's lines
    "if abs(a - b) < threshold:\n    return True\nreturn False",  # indented unlike the version
    "return True  # '#'\nreturn '#' + 'x'",  # a '#' in a string is no comment
    "for b in numbers[i + 1:]:\n    ...\n    return True\n...\nreturn True",  # a part not after the previous
])
def test_a_block_that_is_no_run_of_the_versions_lines_is_the_program(excerpt):
    answer = fence(FULL) + "\n\nThen:\n\n" + fence(excerpt)
    assert extract_program(answer, ["has_close"], prefix=PROMPT) == excerpt


STUB_HELPER_TEST = "def check(candidate):\n    assert candidate([2, 3, 4, 5]) == 3\n    assert candidate([1, 9]) == 0\n"
COUNT_PRIMES = ("def is_prime(n: int) -> bool:\n    if n < 2:\n        return False\n"
                "    return all(n % d for d in range(2, int(n ** 0.5) + 1))\n\n\n"
                "def count_primes(xs: list) -> int:\n    return sum(1 for x in xs if is_prime(x))")
STACK_PROMPT = ('class Stack:\n    """A LIFO stack."""\n    def __init__(self):\n        """An empty stack."""\n'
                '    def push(self, x):\n        """Push x."""\n    def pop(self):\n        """Pop the top."""\n'
                '    def empty(self) -> bool:\n        raise NotImplementedError("write it")\n\n\n'
                'def balanced(s: str) -> bool:\n    """Whether the brackets ()[] in s are balanced; use Stack."""\n')
BALANCED = ("class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n"
            "        self.items.append(x)\n    def pop(self):\n        return self.items.pop()\n"
            "    def empty(self) -> bool:\n        return not self.items\n\n\n"
            "def balanced(s: str) -> bool:\n    st = Stack()\n    pairs = {')': '(', ']': '['}\n    for c in s:\n"
            "        if c in '([':\n            st.push(c)\n        elif c in pairs:\n"
            "            if st.empty() or st.pop() != pairs[c]:\n                return False\n    return st.empty()")


def test_a_raising_stub_and_a_class_of_stubs_are_no_helpers(box):
    # they were defined again after the answer: NotImplementedError, or a Stack whose methods return None
    raising = TWO_STUBS.replace('"""Return True if n is prime."""\n', '"""Return True if n is prime."""\n'
                                '    raise NotImplementedError\n', 1)
    assert prompt_definitions(raising, "count_primes") == ""
    assert prompt_definitions(STACK_PROMPT, "balanced") == ""
    env = _env(box, [{**TWO_STUBS_ROW, "prompt": raising}])
    assert _verify(env, fence(COUNT_PRIMES)).correct
    assert not _verify(env, fence(COUNT_PRIMES.replace("n < 2", "n < 1"))).correct
    stack = _env(box, [{"task_id": "ST", "prompt": STACK_PROMPT, "entry_point": "balanced",
                        "test": "def check(candidate):\n    assert candidate('([])') == True\n"
                                "    assert candidate('(]') == False\n    assert candidate('((') == False\n"}])
    assert _verify(stack, fence(BALANCED)).correct
    assert not _verify(stack, fence(BALANCED.replace("return st.empty()", "return True"))).correct


@pytest.mark.parametrize("prompt", [
    'class ParseError(Exception):\n    """Bad input."""\n\n\n',  # a class that is only a docstring
    'class Box:\n    """A box."""\n    size = 1\n    def get(self):\n        pass\n\n\n',  # a class with an attribute
    'def helper(x):\n    raise ValueError("no")\n\n\n',  # raises something else
    'def helper(x):\n    """Twice x."""\n    return 2 * x\n\n\n',
])
def test_a_real_prompt_definition_stays_a_helper(prompt):
    helpers = prompt_definitions(prompt + ADD_PROMPT, "add")
    assert helpers and helpers.split("\n")[0] == prompt.split("\n")[0]


def test_a_pass_hook_the_answer_does_not_write_stays_the_prompts():
    # a `pass` hook is no helper now: the prompt, put before the answer, still defines it
    hook = 'def audit(x):\n    """Hook the tests use: does nothing."""\n    pass\n\n\n'
    assert prompt_definitions(hook + ADD_PROMPT, "add") == ""


def test_a_pass_hook_runs_when_the_answer_does_not_write_it(box):
    hook = 'def audit(x):\n    """Hook the tests use: does nothing."""\n    pass\n\n\n'
    env = _env(box, [{**ADD_ROW, "prompt": hook + ADD_PROMPT,
                      "test": "def check(candidate):\n    assert audit(candidate(2, 3)) is None\n"
                              "    assert candidate(2, 3) == 5\n"}])
    assert _verify(env, fence("return a + b")).correct
    assert _verify(env, fence("def add(a, b):\n    return a + b")).correct


COUNT_PROMPT = 'def count_primes(xs: list) -> int:\n    """How many of xs are prime (use is_prime)."""\n'
COUNT_ROW = {"task_id": "S/1", "prompt": COUNT_PROMPT, "entry_point": "count_primes", "test": STUB_HELPER_TEST}
IS_PRIME = COUNT_PRIMES.split("\n\n\n")[0]


@pytest.mark.parametrize("depth", ["", "  ", "    "])
@pytest.mark.parametrize("helper_first", [True, False])
def test_an_indented_body_gets_a_helper_of_another_block(box, depth, helper_first):
    # a body four spaces deep did not parse alone, so its use of is_prime went unseen: NameError
    env = _env(box, [COUNT_ROW])
    body = fence(depth + "return sum(1 for x in xs if is_prime(x))")
    answer = fence(IS_PRIME) + "\nThen the body:\n" + body if helper_first else body + "\nwith:\n" + fence(IS_PRIME)
    assert _verify(env, answer).correct
    assert not _verify(env, answer.replace("n < 2", "n < 1")).correct


def test_a_prompt_stub_raising_not_implemented_is_unfinished_everywhere(box):
    """`raise NotImplementedError` left a prompt function unwritten for the helpers' rule only: the
    entry point was not inferred from it (a table without entry_point was refused). One stub test
    (`code_plan.is_stub_statement`) serves the helpers, the inference and the body fitting."""
    prompt = PROMPT + "    raise NotImplementedError\n"
    row = {"task_id": "HE/0r", "prompt": prompt, "test": TEST}  # no entry_point column: inferred from the stub
    env = _env(box, rows=(row,))
    assert env.source.get(0).meta["entry_point"] == "has_close"
    whole = "def has_close(numbers, threshold):\n" + _indent(BODY, "    ")
    assert _verify(env, fence(whole)).correct
    assert not _verify(env, fence(whole.replace("return True", "return False"))).correct
