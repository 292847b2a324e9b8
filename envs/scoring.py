"""Verifiers as environments use them: by name ("math", "code", "exact") or as a user callable.

`resolve_verifier` turns what a user passes to `rlvr.register(..., verifier=...)` into a
`Scorer`: a function `(task, completion) -> Verdict`, a gold-answer check run at load time, and a
description for the fingerprint. A user callable `fn(gold, completion)` may return a `Verdict`,
a bool or a score in [0, 1]; it runs under a wall-clock limit (`call_within`): one that has not
returned after `verifier_settings["timeout"]` seconds (default `CALLABLE_TIMEOUT`) gives a verdict
flagged as an infrastructure failure, never a hang nor a wrong answer. So does a result that is no
verdict (a score outside [0, 1] or NaN, a Verdict holding one or a `correct` that is no bool) and
a `sys.exit()` in the callable.
"""

from __future__ import annotations

import copy
import decimal
import functools
import hashlib
import inspect
import json
import math
import numbers
import re
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rlvr.envs.deadline import CallTimeout, call_within
from rlvr.envs.errors import did_you_mean
from rlvr.envs.json_keys import repeated_key
from rlvr.envs.fingerprint import content_repr, plain_json, stable_repr
from rlvr.envs.interning import Interned
from rlvr.envs.tasks import Task
from rlvr.verifiers.math import is_number_gold
from rlvr.verifiers.verdict import Verdict

VERIFIER_NAMES = ("math", "code", "exact")

_GSM8K_MARK = "####"
#: A number written with thousands separators (`1,234,567`, `1,000.5`, `-2,500`, `1,000m`), not
#: part of a longer run of digits, commas or points.
_THOUSANDS_RE = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]|\.\d)")
#: Seconds a callable verifier may take per answer unless `verifier_settings={"timeout": s}` says.
CALLABLE_TIMEOUT = 60.0
#: Seconds waited beyond `timeout` for a callable that receives `timeout` itself: its own limit
#: should end the call (with its own verdict) before the env gives up on it.
CALLABLE_GRACE = 1.0
#: Version of how a callable verifier's result is read (`as_verdict`, `_callable_scorer`), in its
#: fingerprint as "result_rules", so results of two readings never pass for one setup. 2: a
#: returned Verdict whose score is NaN or outside [0, 1] is a failed verification (it was the
#: reward as is: 5.0, nan), and so is a `SystemExit` raised by the callable (it ended the
#: process). 3: so is a returned Verdict whose `correct` is not a bool (a NumPy bool or 1/0 counts
#: as one; None, "yes" or 2 was passed on as is). 1 (not recorded): before.
CALLABLE_RESULT_RULES = 3
#: Version of how the "exact" verifier writes a gold answer that is not text (`exact_gold`), in
#: its fingerprint's settings as "gold_rules". 2: a bool is "true" / "false", a whole float "3",
#: a float32 its shortest float32 text (they were Python's "True", "3.0", "0.10000000149011612").
#: 3: a list, tuple or dict gold is compared as JSON (`_exact_json_score`: `["blue", "yellow"]`
#: matches the file's ["blue", "yellow"]; Python's repr "['blue', 'yellow']" was what matched).
#: 4: a tuple is text again (`str`: "(3, 4)"), only a list or dict is JSON; a multi-line or fenced
#: JSON answer is read whole (3 read its last line); an answer object with a key twice or NaN /
#: Infinity is a mismatch, and a gold with NaN / Infinity, or (case ignored) keys that lower-case
#: alike, is refused.
#: 5: a NumPy array gold is a list (`np.sort(vals)` is compared as JSON "[0,1,5,7]", it was its
#: text "[0 1 5 7]") and a 0-d one its item (`exact_plain_gold`); a set, bytes or an object with no
#: text of its own (its repr naming a memory address) is refused (`_exact_check`: str of a set
#: changes with PYTHONHASHSEED, bytes b'1' was compared as "b'1'"). An np.datetime64 or
#: np.timedelta64 is its NumPy text ("2020-01-03T12:00:00", "90 seconds"; a timedelta64 was an
#: error at every step), in a list or dict too (which then is JSON, not refused); a NumPy scalar in
#: a tuple (at any depth) is written as Python writes the value NumPy's text shows ("('red', 0.1)",
#: not "(np.str_('red'), np.float32(0.1))"). `_exact_score` converts a gold it is given too (a task
#: source set by hand), and a gold that cannot be compared there is a failed verification.
#: 1 (not recorded): before.
EXACT_GOLD_RULES = 5


@dataclass(frozen=True)
class Scorer:
    """How a single-turn env scores an answer.

    Frozen: the built-in scorers are shared by every env built with the same settings (see
    `_shared_scorer`), so no env may change one under the others.
    """

    name: str
    score: Callable[[Task, str], Verdict]
    validate_gold: Callable[[Any], str | None] | None = None
    convert_gold: Callable[[Any], Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: Scores many (task, completion) pairs in one call (e.g. `verify_batch`); None: one by one.
    score_batch: Callable[[list[tuple[Task, str]]], list[Verdict]] | None = None
    #: Scorers with equal keys may share one `score_batch` call (same verifier, same settings);
    #: None: none may share this one's (see `group_key`).
    batch_key: Any = None
    #: What a user callable is made of (`callable_identity`), for the fingerprint; None otherwise.
    identity: dict[str, Any] | None = None
    #: Version of a built-in verifier's scoring rules, in the fingerprint's settings as "rules"
    #: (the math verifier's `RULES_VERSION`); None: not versioned.
    rules: int | None = None
    #: True when `score` must run in the thread that steps the env (a user callable given
    #: `timeout=None`: it may set `signal.alarm`, which works in the main thread only), so a vector
    #: env or the rollout loop calls it there, never in its thread pool (`VerifiedEnv.batch_verify`).
    in_calling_thread: bool = False
    #: Settings known only once the verifier runs, asked for when the fingerprint is taken and
    #: added to `settings` there (the code verifier's default sandbox: the backend "auto" picks).
    settings_in_use: Callable[[], dict[str, Any]] | None = None

    @property
    def group_key(self) -> Any:
        """What a vector env groups `score_batch` calls by: `batch_key`, or, without one, the
        function itself, so that no other scorer's answers are ever graded by this one."""
        return self.batch_key if self.batch_key is not None else ("own", self.score_batch)

    def fingerprint(self) -> dict[str, Any]:
        """The verifier's name and settings (with its rules version, when versioned) and, for a
        user callable, what it is made of and the version of how its result is read
        (`CALLABLE_RESULT_RULES`). Settings JSON cannot write are written the same in every process
        (`plain_json`: a set sorted, an object by type and state, never a memory address)."""
        settings = dict(self.settings)
        if self.settings_in_use is not None:
            settings.update(self.settings_in_use())
        if self.rules is not None:
            settings["rules"] = self.rules
        settings = plain_json(settings)
        if self.identity is None:
            return {"name": self.name, "settings": settings}
        return {"name": self.name, "settings": settings, "callable": copy.deepcopy(self.identity),
                "result_rules": CALLABLE_RESULT_RULES}


def as_verdict(result: Any, source: str) -> Verdict:
    """Coerce a user verifier's result (Verdict, bool, or score in [0, 1]) to a Verdict.

    A score outside [0, 1] or NaN, given bare or in a Verdict, raises ValueError naming it (the env
    then flags the step invalid, as for any verifier that fails): it would be a reward of 5.0 or nan.
    So does a Verdict whose `correct` is no bool (None, "yes", 2): the step's correctness would be
    a guess. NumPy values are read as the Python values they hold, bare or in a Verdict.
    """
    if isinstance(result, Verdict):
        # a Verdict turned NumPy values and 1/0 into a float score and a bool `correct` when it was made
        score, correct = result.score, result.correct
        if not isinstance(score, float) or not 0.0 <= score <= 1.0:
            raise ValueError(f"{source} returned a Verdict with score {score!r}; a Verdict's score must be a "
                             f"number in [0, 1] (NaN is none): fix the verifier")
        if not isinstance(correct, bool):
            raise ValueError(f"{source} returned a Verdict with correct={correct!r}; a Verdict's `correct` must "
                             f"be True or False (or a NumPy bool, or 1/0): fix the verifier")
        return result
    if isinstance(result, np.generic):  # a NumPy scalar: np.isclose(...), np.float64 from a mean...
        result = result.item()
    if isinstance(result, bool):
        return Verdict.right(f"{source}: accepted") if result else Verdict.wrong(f"{source}: rejected")
    if isinstance(result, (int, float)):
        score = float(result)
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"{source} returned score {score}; a score must be in [0, 1]")
        return Verdict(score=score, correct=score >= 1.0, reason=f"{source}: score {score:g}")
    raise TypeError(f"{source} must return a Verdict, a bool or a float in [0, 1], got {type(result).__name__}")


# ------------------------------------------------------------------ gold answers


def _without_thousands_commas(answer: str) -> str:
    """`answer` with the commas of its thousands separators removed (`1,234,567` -> `1234567`,
    `$1,000.5` -> `$1000.5`) when those are all its commas; any other comma (a list `2,3`, a
    point `(1,2)`, an interval) means it is not a plain number, and it is returned unchanged."""
    if "," not in answer or any(bracket in answer for bracket in "()[]{}"):
        return answer
    plain = _THOUSANDS_RE.sub(lambda m: m.group().replace(",", ""), answer)
    return answer if "," in plain else plain


def number_text(value: Any) -> str | None:
    """`str(value)`, or None for an int too long for Python to write in decimal (over 4,300 digits
    by default: `sys.get_int_max_str_digits`), where `str` raises."""
    try:
        return str(value)
    except ValueError:
        return None


def math_gold(value: Any) -> Any:
    """Normalise a math gold answer: GSM8K's "... #### 1,234" -> "1234" (only thousands separators
    go: "#### 2,3" stays "2,3"); MATH's \\boxed{...} -> its content; a number -> its text."""
    if is_number_gold(value):
        text = number_text(value)
        return value if text is None else text  # (`check_math_gold` refuses the one left a number)
    if not isinstance(value, str):
        return value
    if _GSM8K_MARK in value:
        return _without_thousands_commas(value.rsplit(_GSM8K_MARK, 1)[1].strip())
    if "\\boxed" in value:
        from rlvr.envs.answers import last_boxed

        boxed = last_boxed(value)
        if boxed is not None:
            return boxed
    return value.strip()


def check_math_gold(value: Any) -> str | None:
    """None when the math verifier can grade against `value`, else why not (the caller names the
    row: `build_tasks`, `GeneratorSource`). Refused: what is not text or a number, text that does
    not parse, and prose (`validate_gold`), such as a MATH solution with no `\\boxed{}` answer,
    which `math_gold` leaves whole."""
    if is_number_gold(value):
        value = number_text(value)
        if value is None:
            return ("a whole number of more than 4,300 digits, which Python will not write as text for the math "
                    "verifier: give the gold answer as a string")
    if not isinstance(value, str) or not value.strip():
        return "a math gold answer must be a non-empty string (or number)"
    from rlvr.verifiers.math import validate_gold

    try:
        validate_gold(value)
    except Exception as exc:  # GoldAnswerError (or a crash on odd input): the row is unusable
        return str(exc)
    return None


# ------------------------------------------------------------------ the named verifiers


def _check_timeout(verifier: str, timeout: Any) -> float:
    """`timeout` when it is a positive finite number of seconds, else a ValueError naming the setting.

    A timeout of 0 or less (or a string) was taken as is: every answer that needs the sympy stage
    then "timed out" and was scored wrong, silently. The math and code verifiers' limits are at
    most a day (`timelimit.MAX_SECONDS`, the sandbox's limit): past it the math verifier's waits
    fail, for the answers that reach its sympy stage only. A callable's, run in a thread, has no cap.
    """
    from rlvr.verifiers.timelimit import MAX_SECONDS

    most = math.inf if verifier == "callable" else MAX_SECONDS
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (0 < timeout < math.inf and timeout <= most):
        cap = f", at most {MAX_SECONDS:g} (a day)" if most < math.inf else ""
        raise ValueError(f"{verifier} verifier: verifier_settings['timeout'] must be a positive finite number of "
                         f"seconds{cap}, got {timeout!r}")
    return timeout


def _check_flag(verifier: str, name: str, value: Any) -> bool:
    """`value` when it is a bool, else a ValueError naming the setting ("no" is truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{verifier} verifier: verifier_settings[{name!r}] must be True or False, got {value!r}")
    return bool(value)


# The built-in scorers' functions are module-level functions bound with `functools.partial`, not
# closures: an env holding its scorer then pickles (copies to a worker process, Gymnasium's async
# vector env), as the procedural envs do.


def _math_score(timeout: float, task: Task, completion: str) -> Verdict:
    from rlvr.verifiers.math import verify

    return verify(task.answer, completion, timeout=timeout)


def _math_score_batch(timeout: float, items: list[tuple[Task, str]]) -> list[Verdict]:
    # the cheap stage runs in this thread; only answers that need sympy go to worker processes
    from rlvr.verifiers.math import verify_batch

    return verify_batch([(task.answer, completion) for task, completion in items], timeout=timeout)


def _math_scorer(timeout: float = 5.0) -> Scorer:
    """The math verifier (`rlvr.verifiers.math.verify`); its fingerprint names the time limit and the
    version of its scoring rules (`RULES_VERSION`), so that verdicts of two rule sets never mix.
    The limit is kept as a float, as the code verifier's is: `timeout=5` and `5.0` are one setup
    with one fingerprint."""
    timeout = float(_check_timeout("math", timeout))
    from rlvr.verifiers.math import RULES_VERSION

    return Scorer("math", functools.partial(_math_score, timeout), check_math_gold, math_gold, {"timeout": timeout},
                  functools.partial(_math_score_batch, timeout), ("math", timeout), rules=RULES_VERSION)


def _exact_score(case_sensitive: bool, task: Task, completion: str) -> Verdict:
    from rlvr.envs.answers import final_answer

    got = final_answer(completion, compact=False) or ""
    answer = task.answer
    if type(answer) not in _PLAIN_GOLDS:
        answer, problem = _scored_gold(answer)
        if problem is not None:
            return Verdict.failed(f"the task's gold answer cannot be compared: {problem}")
    if isinstance(answer, _JSON_CONTAINERS):
        return _exact_json_score(case_sensitive, answer, got, completion)
    want = (answer if type(answer) is str else str(exact_gold(answer))).strip()
    if (got == want) if case_sensitive else (got.lower() == want.lower()):
        return Verdict.right("exact match")
    return Verdict.wrong(f"{got[:60]!r} != {want[:60]!r}")


#: Gold types `_exact_score` compares as they are: nothing in them to convert or refuse.
_PLAIN_GOLDS = frozenset({str, int, float, bool})


def _scored_gold(answer: Any) -> tuple[Any, str | None]:
    """A task's gold as `_exact_score` compares it (`exact_plain_gold`) and why it cannot be (None
    when it can). A data set's and a generator's golds were converted and checked when the tasks
    were built, but a task source set by hand (`env.source = ListSource([Task(...)])`) was not: its
    NumPy array is compared as a list here too, and its set or bytes is a failed verification (a
    fault of the data, no wrong answer). A list or dict is checked as it is compared (`_exact_json_score`)."""
    answer = exact_plain_gold(answer)
    return answer, None if isinstance(answer, _JSON_CONTAINERS) else _unstable_text(answer)


#: Gold answers the "exact" verifier compares as JSON values (`_exact_json_score`): what a JSON
#: array or object of a data file is read as. A tuple (given in memory, or a generator's answer)
#: stays on the text path, compared as `str(tuple)` ("(3, 4)"), as before gold_rules 3.
_JSON_CONTAINERS = (list, dict)


def _exact_json_score(case_sensitive: bool, gold: Any, got: str, completion: str) -> Verdict:
    """Right when the answer is JSON text of the same value as the array or object `gold`:
    spacing, and the order of an object's keys, do not matter (`json_canonical`); the order of an
    array's items, the text of strings and each value's type do (`true` is not `1`; numbers are
    compared as `exact_gold` writes them, so `3.0` is `3`). Python's repr (`['a', 'b']`) is not JSON.

    The answer is `got` (`final_answer`) when that is JSON text; else the JSON value that ends the
    answer tag's or box's content, or, with neither, the completion (`_trailing_json`): a
    pretty-printed object spans lines and a fenced one ends in a fence, so the last line alone
    is not it. An object with a key twice, NaN / Infinity, or (with `case_sensitive=False`) keys
    that are one once lower-cased is no JSON value to compare (a mismatch, saying why)."""
    fold = not case_sensitive
    try:
        want = json_canonical(gold, fold_case=fold)
    except (TypeError, ValueError, RecursionError) as exc:  # refused by `_exact_check` when tasks are built
        return Verdict.failed(f"the task's gold answer is no JSON value to compare with ({exc})")
    try:
        value = _answer_json(got, completion)
        same = json_canonical(value, fold_case=fold) == want
    except _NotJsonAnswer as exc:
        return Verdict.wrong(f"the answer {exc}; the gold is the JSON value {want[:60]!r}")
    except (ValueError, TypeError, RecursionError) as exc:  # past Python's limits, or keys that clash
        return Verdict.wrong(f"{got[:60]!r} is no JSON value to compare ({exc}); the gold is {want[:60]!r}")
    if same:
        return Verdict.right("exact match (as JSON)")
    return Verdict.wrong(f"{got[:60]!r} != {want[:60]!r} (compared as JSON)")


class _NotJsonAnswer(ValueError):
    """The answer holds no JSON value the "exact" verifier can compare (the reason in its text)."""


def _answer_json(got: str, completion: str) -> Any:
    """The JSON value an answer gives: `got` read as JSON, else the value ending the answer tag's
    or box's content (`got`) when there is one, else the value ending `completion`'s answer part
    (`answer_part`, where `final_answer` read `got`: a tag or box drafted in `<think>`, or written
    after the chat turn, marks nothing). Raises `_NotJsonAnswer` (or `_strict_json`'s error: a
    duplicate key, NaN)."""
    from rlvr.envs.answers import answer_part, last_boxed, tagged_answers

    try:
        return _strict_json(got)
    except _NotJsonAnswer:  # JSON text, but a key twice or a NaN: not read again from the completion
        raise
    except ValueError:
        pass
    part = answer_part(completion)
    marked = bool(tagged_answers(part) or tagged_answers(part, quoted=True)) or last_boxed(part) is not None
    value = _trailing_json(got if marked else part)
    if value is None:
        raise _NotJsonAnswer(f"{got[:60]!r} is not JSON text and does not end with a JSON array or object")
    return value


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`'s object_pairs_hook: the object, refusing a key named twice (`json` keeps the
    last value, other JSON readers the first: the answer gives no one value)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _NotJsonAnswer(f"names the key {repeated_key(pairs)!r:.40} twice in one object (JSON gives no one value)")
    return data


def _no_constant(name: str) -> Any:
    """`json.loads`'s parse_constant: NaN, Infinity and -Infinity are not JSON (Python writes them)."""
    raise _NotJsonAnswer(f"holds {name}, which is not JSON")


def _strict_json(text: str) -> Any:
    """`text` read as one JSON value, refusing what `json.loads` lets through: a key twice in one
    object and NaN / Infinity. A ValueError when it is not JSON text."""
    return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)


#: The most characters `_trailing_json` scans back from the end of an answer for the start of the
#: JSON value ending it (bounded work on a long completion; a longer value is not found).
_MAX_TRAILING_JSON = 1 << 18

#: The characters `_value_start` reads: string quotes and brackets (the rest is skipped in C).
_JSON_MARKS = re.compile(r'["\[\]{}]')


def _trailing_json(text: str) -> Any:
    """The JSON array or object that ends `text` (trailing spaces allowed; when the text ends with
    a code fence, the value ending the last fenced block's content), or None. Its start is found in
    one backward pass (`_value_start`), not by trying to parse from every bracket, so a long
    completion costs one scan; a key twice or a NaN in that value raises as `_strict_json` does."""
    body = _last_fence_content(text.rstrip())
    start = _value_start(body)
    if start is None:
        return None
    try:
        return _strict_json(body[start:])
    except _NotJsonAnswer:
        raise
    except ValueError:
        return None


def _last_fence_content(text: str) -> str:
    """What the last Markdown code fence of `text` holds ("```json\\n[1]\\n```": `[1]`) when the text
    ends with that fence; else `text`. The opening is the last fence before the closing one."""
    from rlvr.envs.answers import unwrapped

    for fence in ("```", "~~~"):
        if text.endswith(fence):
            opening = text.rfind(fence, 0, len(text) - len(fence))
            if opening >= 0:
                inner = unwrapped(text[opening:])
                return text if inner == text[opening:] else inner
    return text


def _value_start(text: str) -> int | None:
    """Where the array or object ending `text` begins (the bracket matching its last one), or None
    when `text` does not end with `]` / `}` or the match lies beyond `_MAX_TRAILING_JSON`
    characters back. Brackets inside strings are skipped: scanning backward, each `"` that no
    backslash escapes opens or closes a string, as in JSON text."""
    if not text.endswith(("]", "}")):
        return None
    low = max(0, len(text) - _MAX_TRAILING_JSON)
    marks = [(m.start(), m[0]) for m in _JSON_MARKS.finditer(text, low)]
    depth, in_string = 0, False
    for pos, mark in reversed(marks):
        if mark == '"':
            if not _escaped(text, pos):
                in_string = not in_string
        elif in_string:
            continue
        elif mark in "]}":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos
    return None


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at `pos` follows an odd run of backslashes (`\\"` is a quote in a string)."""
    before = pos
    while before > 0 and text[before - 1] == "\\":
        before -= 1
    return (pos - before) % 2 == 1


def json_canonical(value: Any, *, fold_case: bool = False) -> str:
    """`value` (JSON data: text, finite numbers, bools, null, arrays and objects with text keys) as
    one canonical JSON text: no spaces, object keys sorted, numbers as `exact_gold` writes them (a
    whole float as an integer), non-ASCII characters as they are; with `fold_case`, strings and
    keys lower-cased. Two JSON texts of one value give one canonical text. A TypeError for a value
    JSON cannot hold (a set, bytes, an object key that is not text, NaN or an infinity); a
    ValueError when, with `fold_case`, two keys of one object are one once lower-cased."""
    return json.dumps(_json_data(value, fold_case), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json_data(value: Any, fold_case: bool) -> Any:
    """`json_canonical`'s plain form of `value`: numbers made plain Python ones, containers walked."""
    if isinstance(value, str):
        return value.lower() if fold_case else value
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, _NUMPY_TIMES):  # text, as `exact_plain_gold` makes it (not an np.integer's int)
        return _json_data(str(value), fold_case)
    if isinstance(value, (int, float, np.integer, np.floating, decimal.Decimal)):
        if isinstance(value, (float, np.floating, decimal.Decimal)) and not math.isfinite(value):
            raise TypeError(f"{value} is not JSON data (JSON has no NaN or infinity)")
        number = exact_gold(value)
        return int(number) if "." not in number and "e" not in number.lower() else float(number)
    if isinstance(value, (list, tuple)):
        return [_json_data(item, fold_case) for item in value]
    if isinstance(value, dict):
        return _json_object(value, fold_case)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _json_object(value: dict, fold_case: bool) -> dict[str, Any]:
    """`_json_data` of an object; with `fold_case`, a ValueError for two keys that lower-case alike
    (`{"A": 1, "a": 2}` would fold to one key and lose a value)."""
    data: dict[str, Any] = {}
    originals: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"an object key must be text, not {type(key).__name__} ({key!r:.40})")
        name = key.lower() if fold_case else key
        if name in originals:
            raise ValueError(f"the keys {originals[name]!r:.40} and {key!r:.40} are one key when case is ignored")
        originals[name] = key
        data[name] = _json_data(item, fold_case)
    return data


def _exact_check(value: Any, fold_case: bool = False) -> str | None:
    """None for a gold answer the "exact" verifier can use; a list or dict must hold only JSON data
    (no NaN or infinity), and, compared with case ignored (`fold_case`), no object's keys may
    lower-case alike."""
    if isinstance(value, _JSON_CONTAINERS):
        try:
            json_canonical(value, fold_case=fold_case)
        except (TypeError, RecursionError) as exc:
            return (f"a list or dict gold is compared as JSON, and this one holds what JSON cannot ({exc}); give "
                    f"text, or a list / dict of JSON data")
        except ValueError as exc:
            return f"a list or dict gold is compared as JSON with case_sensitive=False, and {exc}"
        return None
    unstable = _unstable_text(value)
    if unstable is not None:
        return unstable
    return None if value is not None and str(value).strip() else "the gold answer is empty"


#: Gold answers whose text is no answer: an unordered collection (`str` of a set follows its hash
#: order, which changes with PYTHONHASHSEED), bytes ("b'1'") and a dict view. Each maps to the fix.
_UNSTABLE_GOLDS = ((set, "give a sorted list (compared as JSON) or the text of the answer"),
                   (frozenset, "give a sorted list (compared as JSON) or the text of the answer"),
                   ((bytes, bytearray, memoryview), "decode it to text (e.g. value.decode())"),
                   ((type({}.keys()), type({}.values()), type({}.items())), "give a list"))


#: The memory address in the default text of an object, a function or a generator ("<object object
#: at 0x7f9e86fa6d60>"): a different text in every process.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def _unstable_text(value: Any) -> str | None:
    """Why the "exact" verifier cannot compare an answer with `value`'s text (None when it can):
    a set's or bytes' text is Python's, not an answer (`_UNSTABLE_GOLDS`), and an object that has
    no text of its own is written with its memory address (`_ADDRESS`). A tuple is compared as its
    text, so each of its items must have a stable one too."""
    if isinstance(value, tuple):
        return next((why for why in map(_unstable_text, value) if why is not None), None)
    for kinds, fix in _UNSTABLE_GOLDS:
        if isinstance(value, kinds):
            return f"a {type(value).__name__} gold has no stable answer text ({value!r:.60}); {fix}"
    if not isinstance(value, (str, numbers.Number)) and _ADDRESS.search(str(value)):
        return (f"a {type(value).__name__} gold has no text of its own (it is written as {str(value)!r:.80}, "
                f"with a memory address); give the answer's text, a number, or a list / dict of JSON data")
    return None


def exact_plain_gold(value: Any) -> Any:
    """The "exact" verifier's `convert_gold`: a NumPy array as a list (`tolist()`: a generator's
    `np.sort(vals)`, whose text "[0 1 5 7]" is no answer a model writes, is compared as JSON like a
    list; a float32 array's items stay float32, written as NumPy writes them), a 0-d array as its
    item, arrays in a list, tuple or dict too; a NumPy date or duration (`np.datetime64`,
    `np.timedelta64`, an array's items too) as the text NumPy writes ("2020-01-03T12:00:00",
    "90 seconds": Python's `item()` is a datetime written "2020-01-03 12:00:00", or, at ns
    precision, an int); in a tuple gold (compared as its Python text, where NumPy 2 writes
    "np.int64(1)" and "np.str_('a')"), every NumPy scalar, at any depth, as the Python value
    written as NumPy writes it (`_tuple_item`); another NumPy scalar that is no bool, integer,
    float, complex or text (which `exact_gold` writes itself) as its `item()` (bytes: refused).
    Anything else is returned as it is (the very object when nothing in it changes), and so is a
    gold nested too deeply to walk (`_exact_check` refuses it)."""
    try:
        return _numpy_free(value, in_tuple=False)
    except RecursionError:
        return value


#: NumPy scalars `exact_gold` writes as NumPy does, kept as they are outside a tuple (a duration
#: is an np.integer too: it is made text first, `_numpy_scalar`).
_KEPT_SCALARS = (np.bool_, np.number, np.str_)


#: A NumPy date or duration: compared as the text NumPy writes ("2020-01-03T12:00:00", "90 seconds").
_NUMPY_TIMES = (np.datetime64, np.timedelta64)


def _numpy_free(value: Any, in_tuple: bool) -> Any:
    """`exact_plain_gold` of `value`, `in_tuple` when it is in a tuple gold (at any depth: a tuple's
    text writes the repr of every item, a list's or dict's in it too)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _numpy_free(value[()], in_tuple)
        if value.dtype.kind in "mM" or (value.dtype.kind == "f" and value.dtype.itemsize < 8) or in_tuple:
            # float32 items keep their own text, dates theirs (`tolist` makes them datetimes or ints)
            return [_numpy_free(item, in_tuple) for item in value]
        return _numpy_free(value.tolist(), False)  # Python values (an object array's too, walked)
    if isinstance(value, np.generic):
        return _numpy_scalar(value, in_tuple)
    if isinstance(value, (list, tuple)):
        inner = in_tuple or isinstance(value, tuple)
        items = [_numpy_free(item, inner) for item in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        plain = {key: _numpy_free(item, in_tuple) for key, item in value.items()}
        return value if all(plain[key] is item for key, item in value.items()) else plain
    return value


def _numpy_scalar(value: np.generic, in_tuple: bool) -> Any:
    """`_numpy_free` of a NumPy scalar: a date or duration as NumPy's text, one `exact_gold`
    writes (`_KEPT_SCALARS`) as it is, or in a tuple `_tuple_item`, another as its `item()`."""
    if isinstance(value, _NUMPY_TIMES):
        return str(value)
    if isinstance(value, _KEPT_SCALARS):
        return _tuple_item(value) if in_tuple else value
    return _numpy_free(value.item(), in_tuple)


def _tuple_item(value: np.generic) -> Any:
    """A NumPy scalar in a tuple gold as the Python value whose repr is NumPy's text: a float32's
    0.1 stays 0.1 (its `item()` widens to 0.10000000149011612), a long double is a float (its
    `item()` stays an np.longdouble), a complex64 a complex written as NumPy writes it, text a `str`."""
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.floating):
        return float(str(value))
    if isinstance(value, np.complexfloating):
        return complex(str(value))
    return value.item()


def _exact_check_folded(value: Any) -> str | None:
    """`_exact_check` for `case_sensitive=False` (one function, so that envs sharing the scorer's
    settings share its tasks: `validate_gold` is part of that key)."""
    return _exact_check(value, fold_case=True)


#: Numbers from here on are written in exponent form by `exact_gold` (as JSON writers do), not as
#: a string of digits.
_EXPONENT_FROM = 1e21


def exact_gold(value: Any) -> Any:
    """A gold answer of the "exact" verifier as the text an answer is compared with (version
    `EXACT_GOLD_RULES`): text as is; a bool as JSON writes it, "true" / "false"; an integer as its
    digits; a float (NumPy's too) or Decimal holding a whole number as its digits ("3", not "3.0":
    a float column cannot say whether the data meant "3" or "3.0", and "3" is how the answer is
    written), another as its shortest text ("0.1"; an np.float32 as NumPy writes it, not as the
    float64 it widens to); anything else, a tuple too, as is (compared as `str(value)`: "(3, 4)").
    A list or dict gold never comes here: `_exact_score` compares an answer with it as JSON, nor
    does a NumPy array (`exact_plain_gold` made it a list) or a set or bytes (`_exact_check`
    refused them). An np.datetime64 or np.timedelta64 is written as NumPy writes it ("90 seconds":
    a timedelta64 is an np.integer, but no int).

    Python's `str` wrote these as Python does: a JSON `true` became "True", a parquet float64 3.0
    "3.0" and a float32 0.1 "0.10000000149011612", and a JSON list ["blue", "yellow"] Python's repr
    "['blue', 'yellow']", so the right answer scored 0. The task keeps
    the gold as the data holds it (`task.answer`); `_exact_score` compares with this text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, _NUMPY_TIMES):  # a timedelta64 is an np.integer that int() cannot take
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating, decimal.Decimal)) and math.isfinite(value):
        if value == int(value) and abs(value) < _EXPONENT_FROM:
            return str(int(value))
        if isinstance(value, decimal.Decimal):
            return str(value.normalize())
        return str(value)
    return value


def _exact_score_batch(case_sensitive: bool, items: list[tuple[Task, str]]) -> list[Verdict]:
    return [_exact_score(case_sensitive, task, completion) for task, completion in items]


def _exact_scorer(case_sensitive: bool = True) -> Scorer:
    case_sensitive = _check_flag("exact", "case_sensitive", case_sensitive)
    from rlvr.envs.answers import RULES_VERSION  # how `final_answer` reads the answer

    check = _exact_check if case_sensitive else _exact_check_folded
    return Scorer("exact", functools.partial(_exact_score, case_sensitive), check, exact_plain_gold,
                  {"case_sensitive": case_sensitive, "gold_rules": EXACT_GOLD_RULES},
                  functools.partial(_exact_score_batch, case_sensitive),
                  ("exact", case_sensitive), rules=RULES_VERSION)


def _code_score(sandbox: Any, timeout: float, task: Task, completion: str) -> Verdict:
    from rlvr.verifiers.code import check_function

    # extracted as check_function does (the block that defines the entry point, not a usage example after it)
    return check_function(completion, task.answer, task.meta.get("entry_point"), sandbox=sandbox, timeout=timeout)


def _code_check(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "the tests (answer column) must be non-empty Python code"


def _code_in_use(sandbox: Any) -> dict[str, Any]:
    # the sandbox the answers run in, as Code-v0 records it (`sandbox_settings`: its backend, default
    # limits and interpreter or image): without a sandbox object, the one `check_function` uses
    # (`default_sandbox`, "auto" resolved: started now if it was not yet, as it is for the first
    # answer); "auto" when none can start
    from rlvr.envs.python_tool import sandbox_settings
    from rlvr.verifiers.code import default_sandbox

    return sandbox_settings(default_sandbox if sandbox is None else lambda: sandbox, "auto")


def _code_scorer(sandbox: Any = None, timeout: float = 10.0) -> Scorer:
    """Unit tests in the answer column, run against the completion's code in `sandbox` (default:
    `make_sandbox("auto")`), `timeout` seconds for loading the solution and running every test."""
    _check_timeout("code", timeout)
    # the fingerprint names the backend (`in_use`, when it is taken: not when the env is built) and the time limit
    settings = {"sandbox_backend": "auto", "timeout": float(timeout)}
    from rlvr.verifiers.code import RULES_VERSION

    return Scorer("code", functools.partial(_code_score, sandbox, timeout), _code_check, None, settings,
                  rules=RULES_VERSION, settings_in_use=functools.partial(_code_in_use, sandbox))


#: The "math" and "exact" scorers already built, per settings (see `_shared_scorer`).
_SCORERS = Interned(limit=256)


def _shared_scorer(factory: Callable[..., Scorer], settings: dict[str, Any]) -> Scorer:
    """`factory(**settings)`, one per distinct settings, shared by every env that asks for it.

    These scorers hold no state (functions and their settings), so the 64 envs of a vector env can
    share one instead of each holding its own copy: fewer objects to read at every step. Settings
    are told apart by their repr (5 from 5.0: two scorers, though the math one reports both as 5.0
    and batches them together). Bad settings raise when the scorer is first made, naming the argument.
    """
    key = (factory, tuple(sorted((name, repr(value)) for name, value in settings.items())))
    return _SCORERS.get(key, lambda: factory(**settings))


def _check_settings(name: str, factory: Callable[..., Scorer], settings: dict[str, Any]) -> None:
    """A ValueError naming `verifier_settings` and the accepted names, for a setting `factory` lacks."""
    accepted = list(inspect.signature(factory).parameters)
    unknown = sorted(set(settings) - set(accepted))
    if unknown:
        raise ValueError(f"verifier_settings {unknown} are not settings of the {name!r} verifier; it accepts "
                         f"{accepted}{did_you_mean(unknown, accepted)}")


def resolve_verifier(verifier: Any, **settings: Any) -> Scorer:
    """A Scorer for a verifier name ("math", "code", "exact"), a callable fn(gold, completion), or a Scorer."""
    if isinstance(verifier, Scorer):
        return verifier
    if isinstance(verifier, str):
        factory = {"math": _math_scorer, "exact": _exact_scorer, "code": _code_scorer}.get(verifier)
        if factory is not None:
            _check_settings(verifier, factory, settings)
            if factory is _code_scorer:  # may hold a sandbox object: not shared by settings repr
                return _code_scorer(**settings)
            return _shared_scorer(factory, settings)
        raise ValueError(
            f"unknown verifier {verifier!r}; use one of {list(VERIFIER_NAMES)} or pass a callable "
            f"fn(gold, completion) -> Verdict | bool | float"
        )
    if callable(verifier):
        return _callable_scorer(verifier, settings)
    raise TypeError(
        f"verifier must be one of {list(VERIFIER_NAMES)} or a callable fn(gold, completion); got {type(verifier).__name__}"
    )


# ------------------------------------------------------------------ a user callable, under a time limit


def _callable_scorer(verifier: Callable[..., Any], settings: dict[str, Any]) -> Scorer:
    """The Scorer of a user callable `verifier(gold, completion, **settings)`, run by `call_within`.

    `settings["timeout"]` (default `CALLABLE_TIMEOUT`, a positive finite number of seconds) is the
    wall-clock limit of one call. A callable that takes a `timeout` keyword (or `**kwargs`) is
    passed it, as every setting, and is waited `CALLABLE_GRACE` seconds more, so that its own
    limit ends the call first; one that does not take it is not passed it. A call past the limit
    gives a failed verdict (`valid=False`, never a zero reward); it goes on running in a background
    thread, since a Python thread cannot be stopped.

    The limit needs the call made in a worker thread. A verifier that must run in the calling
    thread — one that sets `signal.alarm` (Math-Verify does), or uses objects bound to that thread
    (an sqlite3 connection) — is given `timeout=None`: it is then called directly, without a limit
    (and passed `timeout=None` only if it takes it, as any limit: one without a `timeout` parameter
    is called with the gold and the completion alone). Its Scorer says so (`in_calling_thread`):
    a vector env and the rollout loop then call it in the thread that steps them, one answer after
    another, not in their thread pools.

    A `SystemExit` the callable raises (`sys.exit(3)`) gives a failed verdict too (`valid=False`,
    the error says so) rather than ending the process; a `KeyboardInterrupt` propagates.
    """
    name = _callable_name(verifier)
    source = f"verifier {name}"
    passed = dict(settings)
    # `timeout` is the env's setting; the callable is passed it only if it takes it (both branches)
    if "timeout" in settings and not _takes_keyword(verifier, "timeout"):
        del passed["timeout"]
    _check_callable_arguments(verifier, name, passed)
    timeout = settings.get("timeout", CALLABLE_TIMEOUT)
    if timeout is None:  # called in the caller's thread, with no limit
        call = functools.partial(_call_directly, verifier, passed)
    else:
        try:
            timeout = float(_check_timeout("callable", timeout))
        except ValueError as exc:
            raise ValueError(f"{exc}, or None to call the verifier directly, without a limit") from None
        limit = timeout + CALLABLE_GRACE if "timeout" in passed else timeout
        call = functools.partial(_call_limited, verifier, passed, limit, source)
    # module-level functions bound with partial, not closures: the env then pickles when the
    # verifier does (a module-level function; a lambda does not, and pickle says so)
    return Scorer(name, functools.partial(_callable_score, call, source), None, None, dict(settings),
                  identity=callable_identity(verifier), in_calling_thread=timeout is None)


def _check_callable_arguments(verifier: Callable[..., Any], name: str, passed: dict[str, Any]) -> None:
    """A TypeError naming the verifier and the problem when it cannot be called as
    `verifier(gold, completion, **passed)`, as every answer is scored: one taking one argument, or
    a third required one, or not taking a setting (a misspelled `verifier_settings` key) failed
    only at the first step, and then at every step, each an infrastructure failure. A signature
    that cannot be read (some builtins) is not checked, and a wrapper's own signature is the one
    checked, not the function it wraps (a decorator may supply an argument)."""
    try:
        signature = inspect.signature(verifier, follow_wrapped=False)
    except (TypeError, ValueError):
        return
    try:
        signature.bind("gold", "completion", **passed)
    except TypeError as exc:
        settings = "".join(f", {key}=..." for key in passed)
        raise TypeError(f"verifier {name}{signature} cannot be called as {name}(gold, completion{settings}) ({exc}): a "
                        f"verifier is called with the gold answer and the completion, positionally, and each of "
                        f"verifier_settings as a keyword (but 'timeout', which it is passed only if it takes it); "
                        f"fix its parameters or verifier_settings") from None


def _call_directly(verifier: Callable[..., Any], passed: dict[str, Any], task: Task, completion: str) -> Any:
    """A callable verifier's call in the calling thread, without a limit (`_callable_scorer`)."""
    return verifier(task.answer, completion, **passed)


def _call_limited(verifier: Callable[..., Any], passed: dict[str, Any], limit: float, source: str, task: Task,
                  completion: str) -> Any:
    """A callable verifier's call in a worker thread, waited for `limit` seconds (`_callable_scorer`)."""
    try:
        return call_within(limit, verifier, task.answer, completion, **passed)
    except CallTimeout:
        raise _VerifierTimeout(
            f"{source} did not return within its time limit of {limit:g}s (it goes on in a background thread); "
            f"if it needs longer, raise the limit with verifier_settings={{'timeout': seconds}}") from None
    except ValueError as exc:
        if "main thread" in str(exc):  # signal.signal / signal.alarm outside the main thread
            raise ValueError(f"{exc} (the verifier ran in a worker thread, under its time limit; one that "
                             f"uses signals, such as Math-Verify, needs verifier_settings={{'timeout': None}}, "
                             f"which calls it directly, without a limit)") from exc
        raise


def _callable_score(call: Callable[[Task, str], Any], source: str, task: Task, completion: str) -> Verdict:
    """The Verdict of a callable verifier's `call` (`_callable_scorer`)."""
    try:
        result = call(task, completion)
    except _VerifierTimeout as exc:
        return Verdict.failed(str(exc))
    except SystemExit as exc:  # sys.exit() in a verifier is no reason to end the trainer (KeyboardInterrupt is)
        return Verdict.failed(f"{source} raised SystemExit({exc.code!r}) (sys.exit() or exit() in the verifier): "
                              f"a failed verification; return a verdict, or raise an exception, instead")
    return as_verdict(result, source)


class _VerifierTimeout(Exception):
    """A callable verifier's call ran past its limit (`_callable_scorer`)."""


def _takes_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether `fn` accepts the keyword argument `name` (by name or through `**kwargs`); True when
    its signature cannot be read (it is then called as before, with every setting)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is p.VAR_KEYWORD or (p.name == name and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
               for p in parameters)


# ------------------------------------------------------------------ what a user callable is made of


def _callable_name(fn: Any) -> str:
    """"module.qualname" of a callable; a partial is named after the function it wraps."""
    if isinstance(fn, functools.partial):
        return f"functools.partial({_callable_name(fn.func)})"
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{getattr(fn, '__module__', None) or type(fn).__module__}.{name}"


#: The identities `callable_identity` has taken, by the ids of the objects they describe (a bound
#: method: its object and function), with weak references to those objects: an entry goes when
#: one of them does, and a new object with a reused id is never given an old identity.
_IDENTITIES: dict[tuple[int, ...], tuple[tuple[weakref.ref, ...], dict[str, Any]]] = {}


def callable_identity(fn: Any, *, refresh: bool = False) -> dict[str, Any]:
    """What tells one user verifier from another in the fingerprint, beyond its name.

    Two verifiers with one name can score differently: `functools.partial(f, tol=0)` and
    `partial(f, tol=5)`, or two lambdas. So a partial records the function it wraps and its bound
    arguments (their `stable_repr`: a set sorted, no memory address), and a function (also a bound
    method's, or a callable object's `__call__`) a digest of its code: bytecode, constants, names,
    defaults and the closure's values, plus a digest of the object's attributes (a bound
    method's, a callable object's) and its class (`_class_identity`: its name and the code of its
    methods, inherited ones too, so that a subclass overriding a helper the method calls is another
    verifier). Plain values (numbers, strings, and containers of them) count
    by value, other objects by type only, and what the function reads from globals does not count.
    Bytecode differs between Python versions, so the digest can too.

    The identity of one object is taken once: the first time it is asked for (`rlvr.register`
    asks with `refresh=True`, which takes it anew), and that same identity is given for the object
    from then on, while it lives. So a stateful verifier (one that fills `self.cache` or counts its
    calls, or a closure's dict) has one digest before and after it is used: an eval env made late
    in a run has the digest of the training env made at its start. A change of configuration made
    by mutating the object (`verifier.tol = 1`) counts once the object is registered again (or a
    new object is passed).
    """
    holders = _identity_holders(fn)
    key = tuple(map(id, holders))
    held = None if refresh else _IDENTITIES.get(key)
    if held is not None and all(ref() is holder for ref, holder in zip(held[0], holders)):
        return copy.deepcopy(held[1])
    identity = _identity(fn, refresh)
    try:
        refs = tuple(weakref.ref(holder, functools.partial(_forget_identity, key)) for holder in holders)
    except TypeError:  # an object without weak references: its identity is taken each time
        return identity
    _IDENTITIES[key] = (refs, identity)
    return copy.deepcopy(identity)


def _identity_holders(fn: Any) -> tuple[Any, ...]:
    """The objects an identity of `fn` describes: a bound method's object and function, else `fn`."""
    owner, function = getattr(fn, "__self__", None), getattr(fn, "__func__", None)
    if owner is not None and function is not None and not isinstance(owner, types.ModuleType):
        return owner, function
    return (fn,)


def _forget_identity(key: tuple[int, ...], ref: weakref.ref) -> None:
    """Drop the identity kept under `key` once `ref`'s object is gone (not a newer entry's)."""
    held = _IDENTITIES.get(key)
    if held is not None and any(r is ref for r in held[0]):
        _IDENTITIES.pop(key, None)


def _identity(fn: Any, refresh: bool = False) -> dict[str, Any]:
    """`callable_identity`'s value, worked out now."""
    if isinstance(fn, functools.partial):
        return {"function": callable_identity(fn.func, refresh=refresh), "args": _stable_repr(fn.args),
                "keywords": _stable_repr(dict(sorted(fn.keywords.items())))}
    identity: dict[str, Any] = {"name": _callable_name(fn)}
    function = getattr(fn, "__func__", fn)  # a bound method: its function (and its object's state)
    if not isinstance(function, types.FunctionType):
        function = getattr(type(fn), "__call__", None)  # a callable object: its class's __call__
    if isinstance(function, types.FunctionType):
        identity["code"] = _function_digest(function)
    owner = getattr(fn, "__self__", fn if not inspect.isroutine(fn) else None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        # a bound method's (or callable object's) class: the function may call methods a subclass overrides
        identity["class"] = _class_identity(owner if isinstance(owner, type) else type(owner))
        if hasattr(owner, "__dict__"):
            identity["state"] = _digest(_stable_repr(_plain(vars(owner))))
    return identity


def _class_identity(cls: type) -> dict[str, str]:
    """A class's "module.qualname" and a digest of what its methods compute with: the classes of its
    MRO (but `object`) by name, and every member of their class dicts, a function (also one a
    staticmethod, classmethod or property wraps) by `_function_digest`, another value by `_plain`.

    So a bound method `obj.check` that calls `self.norm` tells a subclass overriding `norm` from
    its base, and a change to `norm`'s code from none. Names and code only: the same in every process.
    """
    parts = []
    for klass in cls.__mro__:
        if klass is object:
            continue
        members = [(name, _member_parts(name, value)) for name, value in vars(klass).items()]
        parts.append((f"{klass.__module__}.{klass.__qualname__}",
                      sorted((name, part) for name, part in members if part is not None)))
    return {"name": f"{cls.__module__}.{cls.__qualname__}", "code": _digest(_stable_repr(parts))}


def _member_parts(name: str, value: Any) -> Any:
    """What a class member computes with (see `_class_identity`); None for a dunder attribute that
    is not a function (`__doc__`, `__module__`, `__dict__`...)."""
    if isinstance(value, (staticmethod, classmethod)):
        return [type(value).__name__, _member_parts(name, value.__func__)]
    if isinstance(value, property):
        return ["property", *(_member_parts(name, f) for f in (value.fget, value.fset, value.fdel))]
    if isinstance(value, types.FunctionType):
        return f"function:{_function_digest(value)}"
    if name.startswith("__") and name.endswith("__"):
        return None
    return _plain(value)


def _function_digest(function: types.FunctionType, depth: int = 0) -> str:
    """16 hex digits of the SHA-256 of what a function computes with (see `callable_identity`)."""
    closure = [_plain(cell.cell_contents, depth + 1) if _cell_is_set(cell) else "<empty>"
               for cell in function.__closure__ or ()]
    parts = [_code_parts(function.__code__), _plain(function.__defaults__, depth + 1),
             _plain(function.__kwdefaults__, depth + 1), closure]
    return _digest(_stable_repr(parts))


def _code_parts(code: types.CodeType) -> tuple[Any, ...]:
    """A code object's bytecode, names and constants (nested code objects: their parts too)."""
    consts = tuple(_code_parts(c) if isinstance(c, types.CodeType) else _plain(c) for c in code.co_consts)
    return code.co_code.hex(), code.co_names, code.co_varnames, consts


def _cell_is_set(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return False
    return True


def _plain(value: Any, depth: int = 0) -> Any:
    """`value` when it is plain data (containers of plain data too, 4 levels deep; a function: its
    digest, 2 levels deep), else its type's name."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    if depth < 2 and isinstance(value, types.FunctionType):  # a helper the verifier calls
        return f"function:{_function_digest(value, depth + 1)}"
    if depth < 4 and isinstance(value, (list, tuple, frozenset, set)):
        items = [_plain(item, depth + 1) for item in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if depth < 4 and isinstance(value, dict):
        return {stable_repr(key): _plain(item, depth + 1) for key, item in value.items()}
    content = content_repr(value)  # an array or table by its content: two tables are two verifiers
    if content is not None:
        return content
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _stable_repr(value: Any) -> str:
    """`stable_repr(value)` (repr with sets sorted and no memory addresses, which differ from process
    to process); a digest once it is long."""
    text = stable_repr(value)
    return text if len(text) <= 200 else f"sha256:{_digest(text)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
