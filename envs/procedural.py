"""Procedural tasks that need no download: Arithmetic, Countdown, LinearEquation, Sort, ModArith.

Each task family is a generator `fn(rng, **difficulty) -> dict` plus an exact verifier of its own.
Every task has two prompt formats:

- `"chat"`: a sentence asking for the answer in `<answer>...</answer>` tags (for chat models);
  the `format` reward part credits following that.
- `"compact"`: a terse string such as `"12+7="` whose answer is the model's first non-blank line
  (`"19"`), short enough for a tiny character-level model; the `format` reward part credits a first
  line that reads as an answer of the task's kind, right or wrong (see `ProceduralEnv`).

Difficulty settings default to small values (1-2 digit numbers) so that tiny models can learn.

Generators that may draw a task their settings rule out (a negative result, no usable Countdown
target) draw again with the same random generator, so a task index always gives the same task; they
give up (`GenerationError`) only after `MAX_DRAWS` draws. `check_generates` refuses, when the env is
built, settings under which that could happen: see there.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from rlvr.envs.answers import MAX_NUMBER_CHARS, RULES_VERSION, check_gold, final_answer, follows_tag_format, parse_number, unwrapped
from rlvr.envs.base import Setting, SingleTurnEnv
from rlvr.envs.errors import did_you_mean
from rlvr.envs.expr import EXPR_RULES_VERSION, MAX_EXPRESSION_CHARS, ExprError, evaluate
from rlvr.envs.interning import Interned
from rlvr.envs.tasks import GeneratorSource, Task
from rlvr.verifiers.verdict import Verdict

FORMATS = ("chat", "compact")


class GenerationError(RuntimeError):
    """A generator found no task that meets its settings (e.g. non-negative results asked of a long
    run of subtractions). Raised, never papered over with a task that breaks the settings."""
TAG_INSTRUCTION = "Put your final answer in <answer></answer> tags."


#: Most random draws a generator makes for one task before it gives up with a GenerationError. The
#: first draws are those of earlier versions (1000 at most), so every task index that gave a task
#: then gives the same task now; an index whose first 1000 draws all failed made a reset raise
#: mid-training (Countdown with count=2, max_number=1000, ops="/": 1 reset in 400; Arithmetic with
#: ops="-", terms=5, digits=2: the 1621st reset after reset(seed=0)), and now draws on.
MAX_DRAWS = 100_000
#: The draws `check_generates` allows each of its tasks: a hundredth of MAX_DRAWS (see there).
CHECK_DRAWS = 1000

#: The largest value an integer setting may have: the generators draw with numpy's int64
#: `Generator.integers` (`high + 1` must fit), which failed on larger ones without naming the setting.
MAX_SETTING = 2**62


def _check_int(name: str, value: Any, low: int, high: int = MAX_SETTING) -> int:
    """`value` as an int when it is one in low..high, else a ValueError naming the setting."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        bound = "2**62" if high == MAX_SETTING else high
        raise ValueError(f"{name} must be an int {low}..{bound}, got {value!r}")
    return int(value)


def _check_bool(name: str, value: Any) -> bool:
    """`value` when it is True or False, else a ValueError naming the setting (`bool("false")` is True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_ops(ops: Any, allowed: str) -> str:
    if not isinstance(ops, str) or not ops or any(op not in allowed for op in ops):
        raise ValueError(f"ops must be a non-empty string of operators from {allowed!r}, got {ops!r}")
    return "".join(dict.fromkeys(ops))


def _rand_number(rng: np.random.Generator, digits: int) -> int:
    return int(rng.integers(0, 10**digits))


# ------------------------------------------------------------------ generators (pure given rng)


def arithmetic_task(rng: np.random.Generator, *, digits: int = 1, terms: int = 2, ops: str = "+", allow_negative: bool = False,
                    max_draws: int = MAX_DRAWS) -> dict:
    """`a op b op c ...` with numbers of up to `digits` digits; answer the integer value.

    Without `allow_negative`, expressions are drawn until one is >= 0, at most `max_draws` times."""
    for _ in range(max_draws):
        numbers = [_rand_number(rng, digits) for _ in range(terms)]
        chosen = [ops[int(rng.integers(len(ops)))] for _ in range(terms - 1)]
        expression = str(numbers[0]) + "".join(op + str(n) for op, n in zip(chosen, numbers[1:]))
        value, _ = evaluate(expression, "+-*")
        if allow_negative or value >= 0:
            break
    else:
        raise GenerationError(
            f"{max_draws} random {terms}-term expressions with ops {ops!r} and {digits}-digit numbers were all negative; "
            "pass allow_negative=True, fewer terms, or other ops"
        )
    spaced = expression
    for op in "+-*":
        spaced = spaced.replace(op, f" {op} ")
    return {
        "question": f"What is {spaced}? {TAG_INSTRUCTION}",
        "compact": f"{expression}=",
        "answer": str(int(value)),
    }


def _countdown_expression(rng: np.random.Generator, numbers: list[int], ops: str) -> tuple[str, Fraction] | None:
    """Combine `numbers` in a random order with random ops; None if a step is not a positive int."""
    order = [int(i) for i in rng.permutation(len(numbers))]
    items: list[tuple[str, Fraction]] = [(str(numbers[i]), Fraction(numbers[i])) for i in order]
    while len(items) > 1:
        i = int(rng.integers(len(items) - 1))
        (left_text, left), (right_text, right) = items[i], items[i + 1]
        op = ops[int(rng.integers(len(ops)))]
        if op == "+":
            value = left + right
        elif op == "-":
            value = left - right
        elif op == "*":
            value = left * right
        else:
            if right == 0:
                return None
            value = left / right
        if value.denominator != 1 or value <= 0:
            return None
        items[i : i + 2] = [(f"({left_text}{op}{right_text})", value)]
    text, value = items[0]
    return (text[1:-1] if text.startswith("(") else text), value


#: Version of `countdown_task`'s tasks, in the env's fingerprint (`data.generator_version`).
#: 2: a target equal to one of the given numbers is no longer made (the bare number was a
#: full-reward answer), so a seed can give another task than under 1; the prompt says which
#: intermediate results are allowed. 3: the chat prompt's example answer is never a right answer to
#: its task (it was "(1 + 2) * 3" for every task, full reward for target 9 from [3, 1, 3, 2]): such
#: tasks show "(4 + 5) * 6" instead (`_countdown_example`); the numbers, targets and other
#: prompts are those of version 2.
COUNTDOWN_VERSION = 3


#: Draws `countdown_task` makes looking for a target up to 1000 before it takes the smallest found.
COUNTDOWN_SEARCH = 1000


def countdown_task(rng: np.random.Generator, *, count: int = 3, max_number: int = 9, ops: str = "+-*/", use: int | None = None,
                   max_draws: int = MAX_DRAWS) -> dict:
    """Numbers 1..`max_number`; the target is made from `use` of them (default: 2..count).

    A target that is one of the given numbers is never used: that number alone would be a right
    answer. Targets up to 1000 are preferred; when the first `COUNTDOWN_SEARCH` draws make none
    that small (large numbers and only "*"), the smallest target they found is used. When they
    found none at all, the draws go on to the first usable target, at most `max_draws` in all.
    The chat prompt's example answer is never a right answer to the task (`_countdown_example`).
    """
    best: tuple[list[int], tuple[str, Fraction]] | None = None
    for draw in range(max_draws):
        if draw >= COUNTDOWN_SEARCH and best is not None:
            # the search is over, whether or not its last draw made a target: the generator before
            # MAX_DRAWS took the smallest target of its 1000 draws here, and an index keeps that task.
            # Past the search, the first target found ends the loop here, one draw later.
            break
        numbers = [int(rng.integers(1, max_number + 1)) for _ in range(count)]
        k = use if use is not None else int(rng.integers(2, count + 1))
        subset = [numbers[int(i)] for i in rng.choice(count, size=k, replace=False)]
        made = _countdown_expression(rng, subset, ops)
        if made is None or made[1] in numbers:
            continue
        if best is None or made[1] < best[1][1]:
            best = (numbers, made)
        if made[1] <= 1000:
            break
    if best is None:
        raise GenerationError(
            f"no positive whole target (other than one of the given numbers) could be made from {count} numbers "
            f"up to {max_number} with ops {ops!r} in {max_draws} tries; allow more ops, more numbers, or larger ones"
        )
    numbers, (solution, target) = best
    listed = ", ".join(map(str, numbers))
    compact_ops = "" if ops == "+-*/" else f"[{ops}]"
    example = _countdown_example(numbers, int(target), ops)
    return {
        "question": (
            f"Using the numbers [{listed}], make {int(target)}. You may use {' '.join(ops)} and parentheses; "
            f"each number may be used at most once, and no other numbers.{_intermediates(ops)} "
            f"Put the expression in <answer></answer> tags, e.g. <answer>{example}</answer>."
        ),
        "compact": f"{' '.join(map(str, numbers))}{compact_ops}>{int(target)}=",
        "answer": solution,
        "numbers": numbers,
        "target": int(target),
    }


#: The example answers of Countdown's chat prompt, filled with its operators: the first unless it
#: is a right answer to the task (`_countdown_example`).
_COUNTDOWN_EXAMPLES = ("(1 {inner} 2) {outer} 3", "(4 {inner} 5) {outer} 6")
_DIGITS = re.compile(r"\d+")


def _countdown_example(numbers: list[int], target: int, ops: str) -> str:
    """The example answer of a Countdown prompt: the first of `_COUNTDOWN_EXAMPLES` that the task's
    own verifier (`countdown_verdict`) rejects, so that copying the example never earns a reward.

    The example uses only the allowed operators (the prompt names them). The two examples have
    different values for any pair of operators, so at most one of them makes the target. Tasks the
    first does not solve keep their version 2 prompt. The verifier (a parse, ~100 µs) is asked
    only when the task has every number of the first example: else it rejects it for its numbers.
    """
    inner, outer = ("+" if "+" in ops else ops[0]), ("*" if "*" in ops else ops[-1])
    first, second = (example.format(inner=inner, outer=outer) for example in _COUNTDOWN_EXAMPLES)
    given = set(map(int, _DIGITS.findall(first))) <= set(numbers)
    return second if given and countdown_verdict(first, numbers, target, ops).correct else first


def _intermediates(ops: str) -> str:
    """The prompt's sentence on intermediate results: the verifier evaluates exactly, so with "-" a
    step may go below zero and with "/" give a fraction, as long as the whole makes the target."""
    kinds = [kind for op, kind in (("-", "negative"), ("/", "fractions")) if op in ops]
    return f" Intermediate results may be {' or '.join(kinds)}." if kinds else ""


#: Version of `linear_equation_task`'s tasks, in the env's fingerprint (`data.generator_version`).
#: 2: "x = c" (a = 1, b = 0: the prompt states the answer) is drawn again (1.2% of default tasks,
#: half of those with max_coef=1), so those seeds give other tasks than under 1; the rest are as
#: they were.
LINEAR_EQUATION_VERSION = 2


def linear_equation_task(rng: np.random.Generator, *, max_coef: int = 9, max_solution: int = 9, negative: bool = False) -> dict:
    """`a*x + b = c` with an integer solution; answer x.

    An equation that already states its answer ("x = 8": a = 1, b = 0) is drawn again with the same
    generator: copying the number would earn full reward. Every setting allows others (b may be
    1..max_coef, and max_coef >= 1), and at worst (max_coef 1) half the draws are such, so the
    redraws end at once."""
    while True:
        low = -max_solution if negative else 0
        x = int(rng.integers(low, max_solution + 1))
        a = int(rng.integers(1, max_coef + 1))
        if negative and rng.integers(2):
            a = -a
        b = int(rng.integers(-max_coef if negative else 0, max_coef + 1))
        if a != 1 or b != 0:
            break
    c = a * x + b
    lhs = ("" if a == 1 else "-" if a == -1 else str(a)) + "x"
    if b:
        lhs += f"{'+' if b > 0 else '-'}{abs(b)}"
    equation = f"{lhs}={c}"
    return {
        "question": f"Solve for x: {equation.replace('=', ' = ').replace('+', ' + ')}. {TAG_INSTRUCTION}",
        "compact": f"{equation};x=",
        "answer": str(x),
    }


#: Version of `sort_task`'s tasks, in the env's fingerprint (`data.generator_version`). 2: lists
#: already in order are drawn again (7% of default tasks were, so copying the input earned full reward).
SORT_VERSION = 2


def sort_task(rng: np.random.Generator, *, length: int = 4, max_value: int = 9) -> dict:
    """Sort `length` integers 0..`max_value` ascending; answer them space-separated.

    A list already in ascending order is drawn again, so every task is an unsorted list drawn
    uniformly (unless the settings allow no other: one value, or `max_value` 0). At worst (length 2,
    `max_value` 1) a quarter of the draws are unsorted."""
    values = [int(v) for v in rng.integers(0, max_value + 1, size=length)]
    while length > 1 and max_value > 0 and values == sorted(values):
        values = [int(v) for v in rng.integers(0, max_value + 1, size=length)]
    return {
        "question": f"Sort these numbers in ascending order: {', '.join(map(str, values))}. "
        f"Give them separated by spaces. {TAG_INSTRUCTION}",
        "compact": f"{' '.join(map(str, values))}>",
        "answer": " ".join(map(str, sorted(values))),
        "values": values,
    }


#: Version of `mod_arith_task`'s tasks, in the env's fingerprint (`data.generator_version`). 2: the
#: chat prompt says the result is a number from 0 to m-1 ("(9 - 10) mod 8" is 7, where C's and
#: Java's `%` give -1, which the prompt did not rule out); numbers and compact prompts are as in 1.
MOD_ARITH_VERSION = 2


def mod_arith_task(rng: np.random.Generator, *, max_value: int = 20, max_modulus: int = 10, ops: str = "+*") -> dict:
    """`(a op b) mod m` with 0 <= a, b <= max_value and 2 <= m <= max_modulus; answer in 0..m-1,
    which the chat prompt states (a negative difference has a negative truncated remainder too)."""
    a = int(rng.integers(0, max_value + 1))
    b = int(rng.integers(0, max_value + 1))
    m = int(rng.integers(2, max_modulus + 1))
    op = ops[int(rng.integers(len(ops)))]
    value = {"+": a + b, "-": a - b, "*": a * b}[op] % m
    return {
        "question": f"Compute ({a} {op} {b}) mod {m}. Give the result as a number from 0 to {m - 1}. {TAG_INSTRUCTION}",
        "compact": f"({a}{op}{b})%{m}=",
        "answer": str(value),
    }


# ------------------------------------------------------------------ environments


def check_generates(name: str, generator: Any, difficulty: dict[str, Any], tries: int = 20) -> None:
    """Raise ValueError, naming the settings, when `generator` cannot make tasks with `difficulty`.

    Settings can be valid one by one and still leave the generator nothing to make (every long run
    of subtractions negative, no positive target from these numbers); building the env fails then,
    instead of a reset failing later in the middle of training. `tries` tasks are generated with a
    fixed seed, once per distinct settings.

    A generator that takes `max_draws` (it draws again when a draw breaks the settings) must make
    each of these tasks within `CHECK_DRAWS` draws, a hundredth of what a reset allows it
    (`MAX_DRAWS`). So settings are refused when few draws succeed: at a rate of 1 in 1000 they pass
    with a chance of 1 in 10,000, and a reset then runs out of draws with a chance of e**-100; a
    rate low enough for a reset to run out with a chance of 1 in 10,000 (1 in 11,000 draws)
    passes with a chance below 1e-20.
    """
    limit = {"max_draws": CHECK_DRAWS} if "max_draws" in inspect.signature(generator).parameters else {}

    def probe() -> bool:
        rng = np.random.default_rng(0)
        try:
            for _ in range(tries):
                generator(rng, **difficulty, **limit)
        except GenerationError as exc:
            raise ValueError(f"{name} cannot make tasks with {difficulty}: {exc}") from None
        return True

    _GENERATES.get((generator, tuple(sorted((k, repr(v)) for k, v in difficulty.items()))), probe)


#: The (generator, settings) that `check_generates` has seen work.
_GENERATES = Interned(limit=1024)
#: The keyword arguments of `TextEnv.__init__` (besides the task source) a procedural env passes on.
_TEXT_ENV_ARGS = tuple(name for name, param in inspect.signature(SingleTurnEnv.__init__).parameters.items()
                       if name not in ("self", "source") and param.kind is param.KEYWORD_ONLY)


class ProceduralEnv(SingleTurnEnv):
    """A single-turn env over a procedural generator, with an exact verifier of its own.

    The `format` reward part credits the answer format the prompt asks for:

    - chat: 1.0 when the output holds exactly one non-empty `<answer>...</answer>` (right or
      wrong; the outcome check also reads a `\\boxed{}` or the last line, without format credit).
    - compact: 1.0 when the first non-blank line reads as an answer of the task's kind
      (`reads_as_answer`: one number; LinearEquation: also "x = 5" or "5 = x"; Countdown: an expression of
      whole numbers and the allowed operators, optionally with "= number"; Sort: integers separated
      by spaces or commas), right or wrong; 0.0 for no line or one that does not read so
      ("<answer>1</answer>", "banana", "banana = 99", "item3"). A compact prompt asks for nothing
      but the answer on the first line, so that is the format. The outcome check may be more
      lenient (Sort finds the integers in any text), as the chat one reads a `\\boxed{}` without
      format credit.

    Args:
        format: "chat" (sentence prompt, answer in `<answer>` tags) or "compact" (terse prompt
            such as "12+7=", answer = the model's first non-blank line).
        **kwargs: difficulty settings of the generator (see each env) and `TextEnv` arguments; any
            other name raises a TypeError listing the valid ones.
    """

    env_name = "Procedural"
    inline_verify = True  # exact checks in pure Python: a vector env runs them without threads
    #: The generator function and the names of its difficulty settings.
    generator = staticmethod(arithmetic_task)
    difficulty_keys: tuple[str, ...] = ()
    #: The generator's version, recorded in the fingerprint when set (see `GeneratorSource`).
    generator_version: int | None = None
    #: The variable a numeric answer may name ("x = 5"), read by `check_number` and `reads_as_answer`.
    answer_variable: str | None = None
    # recorded in the fingerprint (see `Setting`); the task generator was made with the difficulty
    format = Setting("_checked_format")
    difficulty = Setting(fixed=True)

    def __init__(self, *, format: str = "chat", **kwargs: Any) -> None:
        self._checked_format("format", format)
        self.check_setting_names(kwargs)
        difficulty = {k: kwargs.pop(k) for k in list(kwargs) if k in self.difficulty_keys}
        self.format = format
        self.difficulty = self.check_difficulty(difficulty)
        check_generates(self.env_name, type(self).generator, self.difficulty)
        source = GeneratorSource(type(self).generator, self.difficulty, name=self.env_name, version=self.generator_version)
        super().__init__(source, **kwargs)

    def _checked_format(self, name: str, value: Any) -> str:
        if value not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {value!r}")
        return value

    def check_difficulty(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Validate difficulty settings (raise ValueError naming the setting and its range)."""
        return settings

    def check_setting_names(self, kwargs: dict[str, Any]) -> None:
        """Raise a TypeError naming a keyword that is neither a difficulty setting of this env nor a
        `TextEnv` argument, with the valid ones and the closest match ("digit" -> "digits"): it
        would otherwise reach `TextEnv.__init__` as "unexpected keyword argument", naming no
        setting of the env."""
        unknown = sorted(set(kwargs) - set(self.difficulty_keys) - set(_TEXT_ENV_ARGS))
        if not unknown:
            return
        valid = [*self.difficulty_keys, "format", *_TEXT_ENV_ARGS]
        raise TypeError(f"{self.env_name} has no setting {', '.join(map(repr, unknown))}{did_you_mean(unknown, valid)}; its difficulty settings "
                        f"are {list(self.difficulty_keys)}, and it also takes {['format', *_TEXT_ENV_ARGS]}")

    @property
    def compact(self) -> bool:
        return self.format == "compact"

    def make_prompt(self, task: Task) -> str:
        return str(task.meta.get("compact", task.question)) if self.compact else task.question

    def format_score(self, task: Task, content: str) -> float:
        """1.0 for the requested format (see the class docstring): one non-empty `<answer>` tag
        (chat), a first line that reads as an answer of the task's kind, right or wrong (compact)."""
        if self.compact:
            answer = self.answer_of(content)
            return 1.0 if answer is not None and self.reads_as_answer(task, answer) else 0.0
        return 1.0 if follows_tag_format(content) else 0.0

    def reads_as_answer(self, task: Task, answer: str) -> bool:
        """True when `answer` (the model's answer, stripped) has the form of an answer to `task`,
        right or wrong: the compact `format` part. Here: one number (`parse_number`), as
        `check_number` reads it; envs whose answers are not one number override it."""
        return parse_number(answer, variable=self.answer_variable) is not None

    def settings(self) -> dict[str, Any]:
        return {"format": self.format, "difficulty": dict(self.difficulty)}

    def verifier_fingerprint(self) -> dict[str, Any]:
        """The env's own answer check, its prompt format and the version of its answer-reading
        rules (`answers.RULES_VERSION`): a resumed evaluation never mixes two rule sets."""
        return {"name": f"{self.env_name.lower()}-exact", "settings": {"format": self.format, "rules": RULES_VERSION}}

    def answer_of(self, content: str) -> str | None:
        return final_answer(content, compact=self.compact)

    def check_given_task(self, task: Task) -> Task:
        """A given task's gold must be one number (an int, or a string `Fraction` reads: "12",
        "-3/4", "2.5"), as `check_number` compares with it, within the bounds answers are read in
        (`answers.check_gold`: "1e30000000" is refused at once; reading it took a minute, at the
        reset and again at the step); envs with other golds override this."""
        answer = task.answer
        if not _is_int(answer) and not isinstance(answer, str):
            raise ValueError(f"options['task'] answer must be a number (an int or a string such as '12' or '-3/4'), "
                             f"got {type(answer).__name__} {answer!r}")
        if not isinstance(answer, str):
            if abs(int(answer)).bit_length() > MAX_NUMBER_CHARS * 10 // 3:  # str() refuses past 4300 digits
                raise ValueError(f"options['task'] answer is an int of {abs(int(answer)).bit_length()} bits; a "
                                 f"number has at most {MAX_NUMBER_CHARS} characters, so no answer could match it")
            answer = str(int(answer))
        try:
            check_gold(answer)
        except ValueError as exc:
            raise ValueError(f"options['task'] answer {answer[:40]!r} {exc}: {self.env_name} golds are numbers such "
                             "as '12' or '-3/4'") from None
        return task if answer is task.answer else replace(task, answer=answer)

    def check_number(self, task: Task, content: str) -> Verdict:
        """The verdict on an answer that is one number (`answer_variable` may be named: "x = 5")."""
        answer = self.answer_of(content)
        if answer is None:
            return Verdict.wrong("no answer found", details={"kind": "no_answer"})
        value = parse_number(answer, variable=self.answer_variable)
        if value is None:
            return Verdict.wrong(f"answer {answer[:40]!r} is not a number", details={"kind": "unparsable"})
        if value == Fraction(task.answer):
            return Verdict.right(f"{answer[:40]} equals {task.answer}")
        return Verdict.wrong(f"{answer[:40]} is not {task.answer}", details={"kind": "wrong"})


class ArithmeticEnv(ProceduralEnv):
    """`rlvr/Arithmetic-v0`: evaluate `a op b ...`.

    Difficulty: `digits` (1..12, default 1), `terms` (2..8, default 2), `ops` (subset of "+-*",
    default "+"), `allow_negative` (default False: results are >= 0).
    """

    env_name = "Arithmetic"
    generator = staticmethod(arithmetic_task)
    difficulty_keys = ("digits", "terms", "ops", "allow_negative")

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "digits": _check_int("digits", s.get("digits", 1), 1, 12),
            "terms": _check_int("terms", s.get("terms", 2), 2, 8),
            "ops": _check_ops(s.get("ops", "+"), "+-*"),
            "allow_negative": _check_bool("allow_negative", s.get("allow_negative", False)),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        return self.check_number(task, content)


class CountdownEnv(ProceduralEnv):
    """`rlvr/Countdown-v0`: reach the target from the given numbers with + - * /.

    Each given number may be used at most once; an expression using any other number is wrong.
    The expression is parsed with `ast` and evaluated exactly (never `eval`); only whole numbers,
    the allowed operators and parentheses may appear (no "#" comment hides a part of it), and
    intermediate results may be negative or fractions. The target may stand on one side of one "="
    or "==" ("6 - 1 = 5", "5 = 6 - 1"): the other side is the expression, and only its numbers
    count; an "=" with another number on either side ("6 - 1 = 99") makes the answer wrong, and one
    that is not an expression and a number ("banana = 99", "6 - 1 = 5 = 5") unparsable (no compact
    format credit: `_countdown_reading`); of two sides that both read as the target ("1 = 8/8"),
    the bare target is the number. A sentence's final period ("6 - 1.") is ignored, and so is
    markup enclosing the answer or one side ("$6 - 1$", "\\(6 - 1\\) = 5"). Typeset operators are read as theirs
    ("6 – 1" with an en dash, "2 × 3"; `rlvr.envs.expr`, whose rules version is `expr_rules` in the
    verifier fingerprint). Targets are never one
    of the given numbers (generator version 2), and the chat prompt's example answer is never a
    right answer (version 3).
    Difficulty: `count` (2..6 numbers, default 3), `max_number` (default 9), `ops` (default "+-*/").
    """

    env_name = "Countdown"
    generator = staticmethod(countdown_task)
    difficulty_keys = ("count", "max_number", "ops")
    generator_version = COUNTDOWN_VERSION
    #: the verdict checks the expression against `numbers` and `target`, never a gold answer: a
    #: given task needs none (one given is kept, unread)
    given_task_needs_answer = False

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "count": _check_int("count", s.get("count", 3), 2, 6),
            "max_number": _check_int("max_number", s.get("max_number", 9), 1, 1000),
            "ops": _check_ops(s.get("ops", "+-*/"), "+-*/"),
        }

    def check_given_task(self, task: Task) -> Task:
        """A given task needs `numbers` (a non-empty list of whole numbers) and `target` (a whole
        number) among its fields; integers written as strings (a CSV's "10") are read as integers.
        Its `answer` may be left out: the verdict never reads it.

        An answer uses each number at most once, not all of them, so a number no answer can
        write is only left out of the answers: a negative one (an expression has no unary minus:
        "-5" is 5 with a sign, which is refused) or one longer than `expr.MAX_EXPRESSION_CHARS`
        digits (a longer expression is refused unread). Refused are only tasks no answer the
        verifier reads could exist for: every number is one of those, or the given `answer` is
        an expression (digits, operators, parentheses, "=") longer than `MAX_EXPRESSION_CHARS`,
        the task's own solution unreadable. Whether the usable numbers reach the target is not
        checked, as for any given task."""
        meta = dict(task.meta)
        for key in ("numbers", "target"):
            if key not in meta:
                raise ValueError(f"options['task'] has no {key!r}; a Countdown task needs 'numbers' (a list of whole "
                                 "numbers) and 'target' (a whole number)")
        numbers = meta["numbers"]
        if isinstance(numbers, (str, bytes)) or not isinstance(numbers, (list, tuple)) or not numbers:
            raise ValueError(f"options['task'] 'numbers' must be a non-empty list of whole numbers, got {numbers!r}"[:300])
        meta["numbers"] = [_given_int("an item of 'numbers'", n) for n in numbers]
        meta["target"] = _given_int("'target'", meta["target"])
        # a number past the cap is never written out (str() refuses past 4300 digits)
        if not any(0 <= n < 10 ** MAX_EXPRESSION_CHARS for n in meta["numbers"]):
            raise ValueError(f"options['task'] 'numbers' {_shown_numbers(meta['numbers'])}: no answer can use any of them, "
                             "as a Countdown expression has no unary minus (a negative number cannot be written) and "
                             f"is read up to {MAX_EXPRESSION_CHARS} characters (expr.MAX_EXPRESSION_CHARS); give at "
                             f"least one number >= 0 of at most {MAX_EXPRESSION_CHARS} digits")
        answer = task.answer
        if isinstance(answer, str) and set(" ".join(answer.split())) <= _EXPRESSION_TEXT:
            written = len(" ".join(answer.split()).rstrip("."))
            if written > MAX_EXPRESSION_CHARS:
                raise ValueError(f"options['task'] answer is an expression of {written} characters, more than the "
                                 f"{MAX_EXPRESSION_CHARS} an answer's expression may have (expr.MAX_EXPRESSION_CHARS): "
                                 "the task's own solution could never be read")
        return replace(task, meta=meta)

    def verifier_fingerprint(self) -> dict[str, Any]:
        """`ProceduralEnv`'s, with the version of how expressions are read (`expr.EXPR_RULES_VERSION`)."""
        fingerprint = super().verifier_fingerprint()
        fingerprint["settings"]["expr_rules"] = EXPR_RULES_VERSION
        return fingerprint

    def reads_as_answer(self, task: Task, answer: str) -> bool:
        """An expression with the allowed operators, optionally with a number on one side of one
        "=" (`_countdown_reading`): what `verify` does not call "unparsable"."""
        try:
            _countdown_reading(answer, task.meta["target"], self.difficulty["ops"])
        except ExprError:
            return False
        return True

    def verify(self, task: Task, content: str) -> Verdict:
        answer = self.answer_of(content)
        if answer is None:
            return Verdict.wrong("no expression found", details={"kind": "no_answer"})
        return countdown_verdict(answer, task.meta["numbers"], task.meta["target"], self.difficulty["ops"])


def countdown_verdict(answer: str, numbers: list[int], target: int, ops: str) -> Verdict:
    """The verdict on a Countdown answer (the model's final answer, see `CountdownEnv`): right when
    it reads as an expression with `ops` (`_countdown_reading`) that uses each of `numbers` at most
    once and makes `target`. Also how `countdown_task` checks its prompt's example."""
    try:
        expression, value, used, number, written = _countdown_reading(answer, target, ops)
    except ExprError as exc:
        return Verdict.wrong(f"invalid expression: {exc}", details={"kind": "unparsable"})
    if number is not None and number != target:  # "6 - 1 = 99" is not an answer of 5
        where = "ends in" if written.startswith("=") else "starts with"
        return Verdict.wrong(f"the answer {where} {written[:40]!r}, which is not the target {target}", details={"kind": "wrong"})
    extra = Counter(used) - Counter(numbers)
    if extra:
        return Verdict.wrong(f"uses {sorted(extra)} more often than given (numbers: {numbers})", details={"kind": "bad_numbers"})
    shown = " ".join(expression.split())
    if value == target:
        return Verdict.right(f"{shown} = {target}")
    return Verdict.wrong(f"{shown} = {value}, not {target}", details={"kind": "wrong"})


_EQUALS = re.compile(r"==?")


class _CountdownReading(NamedTuple):
    """A Countdown answer read as an expression: its text, exact value and numbers used, and the
    number on the other side of its "=" (None without one) with that side as written ("= 13" or
    "13 =", for the verdict's reason)."""

    expression: str
    value: Fraction
    used: list[int]
    number: Fraction | None = None
    written: str = ""


def _countdown_reading(answer: str, target: int, ops: str) -> _CountdownReading:
    """A Countdown answer read as an expression with the allowed operators, optionally with a
    number on one side of one "=" or "==": "8 + 5", "8 + 5 = 13", "13 = 8 + 5", "8 + 5 == 99"
    (right or wrong). A sentence's final period is dropped first ("8 + 5." is 8 + 5).

    Raises ExprError, saying why, for anything else ("banana = 99", "what = ever", "8+5 = 13 = 13"):
    the verdict is "unparsable" then, and the compact `format` part 0. The number's side is not
    part of the expression ("13 = 8 + 5" uses 8 and 5). A side that is the target is the number,
    and the other side must read as the expression ("8 + 5 = 13"; "$13$ = 13" does not read);
    when both sides read as the target ("1 = 8/8", with `parse_number` reading "8/8" as 1), the
    side without a "/", the bare target, is the number. Otherwise the right side is the number if
    the left one reads as an expression ("8 + 5 = 99"), else the left one ("99 = 8 + 5").

    Maths delimiters and Markdown markup enclosing the whole answer or one side are read through
    (`unwrapped`: "$8 + 5$", "\\(8 + 5 = 13\\)", "$8 + 5$ = $13$"), as `parse_number` reads them
    around the number ("8 + 5 = $13$" was right while "$8 + 5$" was refused for its "$").
    """
    text = _unmarked(answer)
    sides = _EQUALS.split(text)
    if len(sides) == 1:
        return _CountdownReading(text, *evaluate(text, ops))
    shown = " ".join(text.split())[:60]
    if len(sides) > 2:
        raise ExprError(f"more than one '=' ({shown!r}); give one expression, optionally '= {target}'")
    left, right = sides
    # (expression, number, the number's side as written): the right side is the number before the
    # left one, and a side that is the target is the number, the other side the expression to read;
    # of two such sides, one without "/" ("1" of "1 = 8/8") is the number before one with it
    splits = [(unwrapped(left), parse_number(right), f"= {right.strip()}"),
              (unwrapped(right), parse_number(left), f"{left.strip()} =")]
    targeted = sorted((split for split in splits if split[1] == target), key=lambda split: "/" in split[2])
    problem = None
    for expression, number, written in targeted[:1] or splits:
        if number is None:
            continue
        try:
            return _CountdownReading(expression, *evaluate(expression, ops), number, written)
        except ExprError as exc:
            problem = problem or exc
    raise problem or ExprError(f"the answer ends in '= {right.strip()[:40]}', which is not the target {target} nor another "
                               f"number, and neither is {left.strip()[:40]!r}; give one expression, optionally '= {target}'")


def _unmarked(answer: str) -> str:
    """A Countdown answer without the markup that encloses it (`unwrapped`) and a sentence's final
    period, which may stand inside the markup or after it ("$8 + 5$.", "$8 + 5.$")."""
    text = unwrapped(answer)
    return unwrapped(text[:-1]) if text.endswith(".") else text


class LinearEquationEnv(ProceduralEnv):
    """`rlvr/LinearEquation-v0`: solve `a*x + b = c` for an integer x.

    Difficulty: `max_coef` (default 9), `max_solution` (default 9), `negative` (allow negative
    coefficients and solutions; default False). Answers like "5", "x = 5", "5 = x" or "10/2" are accepted.
    No task is "x = c", which states its answer (generator version 2).
    """

    env_name = "LinearEquation"
    generator = staticmethod(linear_equation_task)
    generator_version = LINEAR_EQUATION_VERSION
    difficulty_keys = ("max_coef", "max_solution", "negative")
    answer_variable = "x"

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_coef": _check_int("max_coef", s.get("max_coef", 9), 1),
            "max_solution": _check_int("max_solution", s.get("max_solution", 9), 0),
            "negative": _check_bool("negative", s.get("negative", False)),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        return self.check_number(task, content)


class SortEnv(ProceduralEnv):
    """`rlvr/Sort-v0`: sort integers ascending.

    Difficulty: `length` (1..64, default 4), `max_value` (default 9). The answer's integers (any
    separators; markup enclosing the whole answer, such as a code fence, read through: `unwrapped`)
    must equal the sorted input exactly. A "-" is a minus sign only where the task has a
    negative value (a given task's): otherwise one right after a digit separates ("0-1-5-7" is
    0 1 5 7, not 0 -1 -5 -7; see `_SEPARATED`). The whole answer is read (it is bounded by
    `max_action_chars`), so numbers after a long run of spaces count too. The compact `format` part
    is stricter than that outcome check: it credits a line of integers separated by spaces or
    commas ("2 5 6 8", "2, 5, 6, 8", a final period allowed), not integers found in other text
    ("item3", "<answer>1</answer>", "2 5 6 8 are sorted").
    """

    env_name = "Sort"
    generator = staticmethod(sort_task)
    generator_version = SORT_VERSION
    difficulty_keys = ("length", "max_value")

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "length": _check_int("length", s.get("length", 4), 1, 64),
            "max_value": _check_int("max_value", s.get("max_value", 9), 0),
        }

    def check_given_task(self, task: Task) -> Task:
        """A given task's gold is the sorted integers: a string of them separated by spaces, or a
        list of whole numbers (written out as that string); in ascending order either way.

        Only golds an answer can match are taken: no value of more than `_SORT_DIGITS` digits
        (`verify` reads no longer integer: the right answer scored 0), and the gold written out
        (in `<answer>` tags in the chat format) must fit in `max_action_chars` (a longer turn is
        scored wrong as over-long)."""
        answer = task.answer
        if isinstance(answer, (list, tuple)):
            values = [_given_int("an item of the answer", v) for v in answer]
        elif isinstance(answer, str) and answer.split() and all(_WHOLE.fullmatch(v) for v in answer.split()):
            items = answer.split()
            _check_sort_digits(len(item.lstrip("+-").lstrip("0")) for item in items)  # before int(): no 5000-digit int
            values = [int(v) for v in items]
        else:
            raise ValueError(f"options['task'] answer must be the sorted integers, as a list or a string such as "
                             f"'2 5 6 8', got {answer!r}"[:300])
        _check_sort_digits(_SORT_DIGITS + 1 if abs(v) >= 10 ** _SORT_DIGITS else 0 for v in values)
        if values != sorted(values):
            raise ValueError(f"options['task'] answer {values[:20]} is not in ascending order: the gold of a Sort task "
                             "is the sorted list")
        gold = " ".join(map(str, values))
        written = len(gold) if self.compact else len(f"<answer>{gold}</answer>")
        if written > self.max_action_chars:
            raise ValueError(f"options['task'] answer written out takes {written} characters, more than "
                             f"max_action_chars={self.max_action_chars}: the right answer would be scored as over-long")
        return replace(task, answer=gold)

    def reads_as_answer(self, task: Task, answer: str) -> bool:
        """A list of integers separated by spaces or commas (see the class docstring), markup enclosing
        all of it read through as `verify` reads it ("```1 2 5 8```", "**1 2 5 8**")."""
        return _is_integer_list(unwrapped(answer))

    def verify(self, task: Task, content: str) -> Verdict:
        answer = self.answer_of(content)
        if answer is None:
            return Verdict.wrong("no answer found", details={"kind": "no_answer"})
        # markup enclosing the whole answer is read through, as the other envs read it: a code
        # fence's language word is no part of the list ("```python3\n1 2 5 8\n```" has no 3)
        answer = unwrapped(answer)
        want = [int(v) for v in task.answer.split()]
        integers = _INTEGER if want and want[0] < 0 else _SEPARATED  # want is sorted: want[0] is its least
        got: list[int] = []
        for match in integers.finditer(answer):  # no list of every number: it stops one past the count
            if len(got) == len(want):
                return Verdict.wrong(f"more than the {len(want)} given numbers: {got[:20]} and more",
                                     details={"kind": "wrong_numbers"})
            value = _small_int(match[0])
            if value is None:
                return Verdict.wrong(f"{match[0][:24]}... is not one of the given numbers", details={"kind": "wrong_numbers"})
            got.append(value)
        if not got:
            return Verdict.wrong("no integers in the answer", details={"kind": "unparsable"})
        if got == want:
            return Verdict.right("sorted correctly")
        if sorted(got) != want:
            return Verdict.wrong(f"{got[:20]} are not the given numbers", details={"kind": "wrong_numbers"})
        return Verdict.wrong(f"{got[:20]} is not in ascending order", details={"kind": "wrong_order"})


_INTEGER = re.compile(r"-?\d+")
#: An integer of a Sort answer whose task has no negative value: a "-" right after a digit is a
#: separator ("0-1-5-7", "3-4"), not a minus sign; one elsewhere ("-1 0 5") is still a minus sign.
_SEPARATED = re.compile(r"(?<!\d)-?\d+")
#: A whole number as a given task may write it (`_given_int`).
_WHOLE = re.compile(r"[+-]?[0-9]+")


#: The characters of a Countdown answer written as an expression (with "=" and a final period):
#: a given `answer` of only these is checked to be readable (`CountdownEnv.check_given_task`).
_EXPRESSION_TEXT = frozenset("0123456789+-*/()=. ") | frozenset("×·⋅∗÷−–")


def _shown_numbers(numbers: list[int]) -> str:
    """Given numbers for an error message: the first five, one of more than 20 digits named so."""
    shown = [str(n) if abs(n) < 10**20 else f"<a {'negative ' if n < 0 else ''}number of more than 20 digits>" for n in numbers[:5]]
    return "[" + ", ".join(shown) + (", ...]" if len(numbers) > 5 else "]")


def _given_int(what: str, value: Any) -> int:
    """`value`, a whole number of a given task (an int, or a string of digits such as a CSV's "10")."""
    if _is_int(value):
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()) and len(value) < 100:
        return int(value)
    raise ValueError(f"options['task'] {what} must be a whole number, got {type(value).__name__} {value!r}"[:300])


def _is_int(value: Any) -> bool:
    """An int or a NumPy integer, not a bool (True is no number of a task)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))

#: An item of a compact Sort answer that gets format credit (`_is_integer_list`).
_LIST_INTEGER = re.compile(r"[+-]?[0-9]+")
#: More digits than any number `sort_task` gives (max_value <= 2**62 has 19).
_SORT_DIGITS = 20


def _is_integer_list(text: str) -> bool:
    """True when `text` is integers separated by whitespace or commas ("2 5 6 8", "2, 5,6 8"), with a
    final period allowed; no empty item ("2,,5", ", 2", "2,"). One pass over the text by `split`,
    without a regex that could backtrack over long runs of spaces."""
    text = text.strip()
    if text.endswith("."):
        text = text[:-1]
    parts = [part.split() for part in text.split(",")]
    return all(part and all(_LIST_INTEGER.fullmatch(item) for item in part) for part in parts)


def _check_sort_digits(lengths: Any) -> None:
    """A ValueError when one of the digit counts `lengths` is over `_SORT_DIGITS`: a Sort answer's
    longer integers are read as no given number (`_small_int`), so a gold holding one could never
    be matched."""
    longest = max(lengths, default=0)
    if longest > _SORT_DIGITS:
        raise ValueError(f"options['task'] answer holds a value of more than {_SORT_DIGITS} digits; Sort reads answers' "
                         f"integers of at most {_SORT_DIGITS} digits (_SORT_DIGITS), so no answer could match it")


def _small_int(text: str) -> int | None:
    """The value of an `_INTEGER` match, or None when it has more than `_SORT_DIGITS` digits past its
    leading zeros (not a number `sort_task` gives). Only those digits reach `int()`: it refuses a
    string of over 4300 digits, and "000...0004" (4400 characters) is 4, not an error that made the
    step an infrastructure failure (and the episode dropped from training)."""
    negative = text.startswith("-")
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > _SORT_DIGITS:
        return None
    value = int(digits) if digits else 0
    return -value if negative else value


class ModArithEnv(ProceduralEnv):
    """`rlvr/ModArith-v0`: compute `(a op b) mod m`.

    Difficulty: `max_value` (default 20), `max_modulus` (2.., default 10), `ops` (subset of
    "+-*", default "+*"). The answer is the residue in 0..m-1, which the chat prompt states
    (generator version 2): "(9 - 10) mod 8" is 7, not -1.
    """

    env_name = "ModArith"
    generator = staticmethod(mod_arith_task)
    generator_version = MOD_ARITH_VERSION
    difficulty_keys = ("max_value", "max_modulus", "ops")

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_value": _check_int("max_value", s.get("max_value", 20), 0),
            "max_modulus": _check_int("max_modulus", s.get("max_modulus", 10), 2),
            "ops": _check_ops(s.get("ops", "+*"), "+-*"),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        return self.check_number(task, content)
