"""Procedural tasks that need no download: Arithmetic, Countdown, LinearEquation, Sort, ModArith.

Each task family is a generator `fn(rng, **difficulty) -> dict` plus an exact verifier of its own.
Every task has two prompt formats:

- `"chat"`: a sentence asking for the answer in `<answer>...</answer>` tags (for chat models);
  the `format` reward part credits following that.
- `"compact"`: a terse string such as `"12+7="` whose answer is the model's first line (`"19"`),
  short enough for a tiny character-level model.

Difficulty settings default to small values (1-2 digit numbers) so that tiny models can learn.
"""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction
from typing import Any

import numpy as np

from rlvr.envs.answers import RULES_VERSION, final_answer, follows_tag_format, parse_number
from rlvr.envs.base import SingleTurnEnv
from rlvr.envs.expr import ExprError, evaluate
from rlvr.envs.interning import Interned
from rlvr.envs.tasks import GeneratorSource, Task
from rlvr.verifiers.verdict import Verdict

FORMATS = ("chat", "compact")


class GenerationError(RuntimeError):
    """A generator found no task that meets its settings (e.g. non-negative results asked of a long
    run of subtractions). Raised, never papered over with a task that breaks the settings."""
TAG_INSTRUCTION = "Put your final answer in <answer></answer> tags."


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


def arithmetic_task(rng: np.random.Generator, *, digits: int = 1, terms: int = 2, ops: str = "+", allow_negative: bool = False) -> dict:
    """`a op b op c ...` with numbers of up to `digits` digits; answer the integer value."""
    for _ in range(1000):
        numbers = [_rand_number(rng, digits) for _ in range(terms)]
        chosen = [ops[int(rng.integers(len(ops)))] for _ in range(terms - 1)]
        expression = str(numbers[0]) + "".join(op + str(n) for op, n in zip(chosen, numbers[1:]))
        value, _ = evaluate(expression, "+-*")
        if allow_negative or value >= 0:
            break
    else:
        raise GenerationError(
            f"1000 random {terms}-term expressions with ops {ops!r} and {digits}-digit numbers were all negative; "
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
#: intermediate results are allowed.
COUNTDOWN_VERSION = 2


def countdown_task(rng: np.random.Generator, *, count: int = 3, max_number: int = 9, ops: str = "+-*/", use: int | None = None) -> dict:
    """Numbers 1..`max_number`; the target is made from `use` of them (default: 2..count).

    A target that is one of the given numbers is never used: that number alone would be a right
    answer. Targets up to 1000 are preferred; when the settings make none that small (large
    numbers and only "*"), the smallest target found is used.
    """
    best: tuple[list[int], tuple[str, Fraction]] | None = None
    for _ in range(1000):
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
            f"up to {max_number} with ops {ops!r} in 1000 tries; allow more ops, more numbers, or larger ones"
        )
    numbers, (solution, target) = best
    listed = ", ".join(map(str, numbers))
    # the prompt names the operators the verifier allows, and its example uses only those
    inner, outer = ("+" if "+" in ops else ops[0]), ("*" if "*" in ops else ops[-1])
    compact_ops = "" if ops == "+-*/" else f"[{ops}]"
    return {
        "question": (
            f"Using the numbers [{listed}], make {int(target)}. You may use {' '.join(ops)} and parentheses; "
            f"each number may be used at most once, and no other numbers.{_intermediates(ops)} "
            f"Put the expression in <answer></answer> tags, e.g. <answer>(1 {inner} 2) {outer} 3</answer>."
        ),
        "compact": f"{' '.join(map(str, numbers))}{compact_ops}>{int(target)}=",
        "answer": solution,
        "numbers": numbers,
        "target": int(target),
    }


def _intermediates(ops: str) -> str:
    """The prompt's sentence on intermediate results: the verifier evaluates exactly, so with "-" a
    step may go below zero and with "/" give a fraction, as long as the whole makes the target."""
    kinds = [kind for op, kind in (("-", "negative"), ("/", "fractions")) if op in ops]
    return f" Intermediate results may be {' or '.join(kinds)}." if kinds else ""


def linear_equation_task(rng: np.random.Generator, *, max_coef: int = 9, max_solution: int = 9, negative: bool = False) -> dict:
    """`a*x + b = c` with an integer solution; answer x."""
    low = -max_solution if negative else 0
    x = int(rng.integers(low, max_solution + 1))
    a = int(rng.integers(1, max_coef + 1))
    if negative and rng.integers(2):
        a = -a
    b = int(rng.integers(-max_coef if negative else 0, max_coef + 1))
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


def sort_task(rng: np.random.Generator, *, length: int = 4, max_value: int = 9) -> dict:
    """Sort `length` integers 0..`max_value` ascending; answer them space-separated."""
    values = [int(v) for v in rng.integers(0, max_value + 1, size=length)]
    return {
        "question": f"Sort these numbers in ascending order: {', '.join(map(str, values))}. "
        f"Give them separated by spaces. {TAG_INSTRUCTION}",
        "compact": f"{' '.join(map(str, values))}>",
        "answer": " ".join(map(str, sorted(values))),
        "values": values,
    }


def mod_arith_task(rng: np.random.Generator, *, max_value: int = 20, max_modulus: int = 10, ops: str = "+*") -> dict:
    """`(a op b) mod m` with 0 <= a, b <= max_value and 2 <= m <= max_modulus; answer in 0..m-1."""
    a = int(rng.integers(0, max_value + 1))
    b = int(rng.integers(0, max_value + 1))
    m = int(rng.integers(2, max_modulus + 1))
    op = ops[int(rng.integers(len(ops)))]
    value = {"+": a + b, "-": a - b, "*": a * b}[op] % m
    return {
        "question": f"Compute ({a} {op} {b}) mod {m}. {TAG_INSTRUCTION}",
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
    """
    def probe() -> bool:
        rng = np.random.default_rng(0)
        try:
            for _ in range(tries):
                generator(rng, **difficulty)
        except GenerationError as exc:
            raise ValueError(f"{name} cannot make tasks with {difficulty}: {exc}") from None
        return True

    _GENERATES.get((generator, tuple(sorted((k, repr(v)) for k, v in difficulty.items()))), probe)


#: The (generator, settings) that `check_generates` has seen work.
_GENERATES = Interned(limit=1024)


class ProceduralEnv(SingleTurnEnv):
    """A single-turn env over a procedural generator, with an exact verifier of its own.

    Args:
        format: "chat" (sentence prompt, answer in `<answer>` tags) or "compact" (terse prompt
            such as "12+7=", answer = the model's first line).
        **kwargs: difficulty settings of the generator (see each env) and `TextEnv` arguments.
    """

    env_name = "Procedural"
    inline_verify = True  # exact checks in pure Python: a vector env runs them without threads
    #: The generator function and the names of its difficulty settings.
    generator = staticmethod(arithmetic_task)
    difficulty_keys: tuple[str, ...] = ()
    #: The generator's version, recorded in the fingerprint when set (see `GeneratorSource`).
    generator_version: int | None = None

    def __init__(self, *, format: str = "chat", **kwargs: Any) -> None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
        difficulty = {k: kwargs.pop(k) for k in list(kwargs) if k in self.difficulty_keys}
        self.format = format
        self.difficulty = self.check_difficulty(difficulty)
        check_generates(self.env_name, type(self).generator, self.difficulty)
        source = GeneratorSource(type(self).generator, self.difficulty, name=self.env_name, version=self.generator_version)
        super().__init__(source, **kwargs)

    def check_difficulty(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Validate difficulty settings (raise ValueError naming the setting and its range)."""
        return settings

    @property
    def compact(self) -> bool:
        return self.format == "compact"

    def make_prompt(self, task: Task) -> str:
        return str(task.meta.get("compact", task.question)) if self.compact else task.question

    def format_score(self, task: Task, content: str) -> float:
        if self.compact:
            return 1.0 if final_answer(content, compact=True) is not None else 0.0
        return 1.0 if follows_tag_format(content) else 0.0

    def settings(self) -> dict[str, Any]:
        return {"format": self.format, "difficulty": dict(self.difficulty)}

    def verifier_fingerprint(self) -> dict[str, Any]:
        """The env's own answer check, its prompt format and the version of its answer-reading
        rules (`answers.RULES_VERSION`): a resumed evaluation never mixes two rule sets."""
        return {"name": f"{self.env_name.lower()}-exact", "settings": {"format": self.format, "rules": RULES_VERSION}}

    def answer_of(self, content: str) -> str | None:
        return final_answer(content, compact=self.compact)

    def check_number(self, task: Task, content: str, variable: str | None = None) -> Verdict:
        answer = self.answer_of(content)
        if answer is None:
            return Verdict.wrong("no answer found", details={"kind": "no_answer"})
        value = parse_number(answer, variable=variable)
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
    The expression is parsed with `ast` and evaluated exactly (never `eval`); intermediate results
    may be negative or fractions. It may end in "= <target>" ("6 - 1 = 5"); any other value there
    makes the answer wrong. Targets are never one of the given numbers (generator version 2).
    Difficulty: `count` (2..6 numbers, default 3), `max_number` (default 9), `ops` (default "+-*/").
    """

    env_name = "Countdown"
    generator = staticmethod(countdown_task)
    difficulty_keys = ("count", "max_number", "ops")
    generator_version = COUNTDOWN_VERSION

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "count": _check_int("count", s.get("count", 3), 2, 6),
            "max_number": _check_int("max_number", s.get("max_number", 9), 1, 1000),
            "ops": _check_ops(s.get("ops", "+-*/"), "+-*/"),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        answer = self.answer_of(content)
        if answer is None:
            return Verdict.wrong("no expression found", details={"kind": "no_answer"})
        expression, _, claim = answer.partition("=")
        try:
            value, used = evaluate(expression, self.difficulty["ops"])
        except ExprError as exc:
            return Verdict.wrong(f"invalid expression: {exc}", details={"kind": "unparsable"})
        available = Counter(task.meta["numbers"])
        extra = Counter(used) - available
        if extra:
            bad = sorted(extra)
            return Verdict.wrong(
                f"uses {bad} more often than given (numbers: {task.meta['numbers']})",
                details={"kind": "bad_numbers"},
            )
        target = task.meta["target"]
        if "=" in answer and parse_number(claim) != target:  # "6 - 1 = 99" is not an answer of 5
            return Verdict.wrong(f"the answer ends in '= {claim.strip()[:40]}', which is not the target {target}",
                                 details={"kind": "wrong"})
        shown = " ".join(expression.split())
        if value == target:
            return Verdict.right(f"{shown} = {target}")
        return Verdict.wrong(f"{shown} = {value}, not {target}", details={"kind": "wrong"})


class LinearEquationEnv(ProceduralEnv):
    """`rlvr/LinearEquation-v0`: solve `a*x + b = c` for an integer x.

    Difficulty: `max_coef` (default 9), `max_solution` (default 9), `negative` (allow negative
    coefficients and solutions; default False). Answers like "5", "x = 5" or "10/2" are accepted.
    """

    env_name = "LinearEquation"
    generator = staticmethod(linear_equation_task)
    difficulty_keys = ("max_coef", "max_solution", "negative")

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_coef": _check_int("max_coef", s.get("max_coef", 9), 1),
            "max_solution": _check_int("max_solution", s.get("max_solution", 9), 0),
            "negative": _check_bool("negative", s.get("negative", False)),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        return self.check_number(task, content, variable="x")


class SortEnv(ProceduralEnv):
    """`rlvr/Sort-v0`: sort integers ascending.

    Difficulty: `length` (1..64, default 4), `max_value` (default 9). The answer's integers (any
    separators) must equal the sorted input exactly.
    """

    env_name = "Sort"
    generator = staticmethod(sort_task)
    difficulty_keys = ("length", "max_value")

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "length": _check_int("length", s.get("length", 4), 1, 64),
            "max_value": _check_int("max_value", s.get("max_value", 9), 0),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        answer = self.answer_of(content)
        if answer is None:
            return Verdict.wrong("no answer found", details={"kind": "no_answer"})
        got = [int(v) for v in re.findall(r"-?\d+", answer[:2000])]
        want = [int(v) for v in task.answer.split()]
        if got == want:
            return Verdict.right("sorted correctly")
        if sorted(got) != want:
            return Verdict.wrong(f"{got[:20]} are not the given numbers", details={"kind": "wrong_numbers"})
        return Verdict.wrong(f"{got[:20]} is not in ascending order", details={"kind": "wrong_order"})


class ModArithEnv(ProceduralEnv):
    """`rlvr/ModArith-v0`: compute `(a op b) mod m`.

    Difficulty: `max_value` (default 20), `max_modulus` (2.., default 10), `ops` (subset of
    "+-*", default "+*").
    """

    env_name = "ModArith"
    generator = staticmethod(mod_arith_task)
    difficulty_keys = ("max_value", "max_modulus", "ops")

    def check_difficulty(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_value": _check_int("max_value", s.get("max_value", 20), 0),
            "max_modulus": _check_int("max_modulus", s.get("max_modulus", 10), 2),
            "ops": _check_ops(s.get("ops", "+*"), "+-*"),
        }

    def verify(self, task: Task, content: str) -> Verdict:
        return self.check_number(task, content)
