"""Tools a multi-turn environment offers the model, and the `@tool` decorator for your own.

A `Tool` is a Python function plus its schema in OpenAI function format (what chat templates
render into the prompt). `@tool` builds the schema from the function's signature, type hints and
docstring::

    @tool
    def lookup(word: str) -> str:
        \"\"\"Look a word up in the dictionary.

        Args:
            word: the word to look up.
        \"\"\"
        return DICTIONARY.get(word, "not found")

    env = rlvr.make("rlvr/ToolMath-v0", tools=[lookup])

A tool returns text (shown to the model). Raising `ToolError` (or any exception, `SystemExit`
and `GeneratorExit` included) makes the call a failed one: the model sees the message and the
turn's process reward is 0. Raising `ToolInfraError` says the tool's infrastructure failed, not
the call: the env ends the episode as invalid. The built-in tools are `python` (runs code in the
sandbox, returns stdout/stderr) and `calculator` (evaluates an expression with sympy, in a
time-limited worker process); they raise `ToolInfraError` whenever the sandbox or the calculator's
worker pool fails. Long text is cut with `truncate_output` (ToolMath-v0 cuts every tool's text, its
own tools' and yours, results and errors alike, to `max_tool_output_chars`; the python tool cuts
its own so that the status and the end of stderr survive, `format_exec_result`).

Time limits (`Tool.run`). Every call runs under a limit and is charged to its turn's
`TurnBudget`, the time all the calls of one turn may run together:

- `python` and `calculator` keep to their limits themselves (the sandbox kills the program, the
  calculator's worker process is killed) and are charged the time they ran;
- your tools run in a thread of their own, and the caller stops waiting at the limit: a thread
  cannot be killed, so a tool past its limit keeps running in the background until it returns
  (make such tools stop by themselves, e.g. with a timeout of their own on network calls). Since
  they run in another thread, objects tied to the thread that made them (an `sqlite3` connection
  made with the default `check_same_thread=True`) do not work in them; context variables are
  carried over.

The calculator's workers are shared by every env of the process (one per CPU). Waiting for a free
one is not the model's doing — the other episodes' calls hold them — so it is not charged to the
turn's running time but bounded on its own (`TurnBudget.wait_left`). A call that got no worker
within it is not run and raises `ToolBusy`: the model reads that the calculator was busy and may
call again, and the call counts neither for nor against the turn (scoring it as the model's timeout
would make one episode's reward depend on the others' calls; as an infrastructure failure, every
episode of a batch could be dropped because one policy sample was slow). Only a pool that is broken
— workers that cannot start, or all of them taken with no calculator call under way to hold them,
or none freed for longer than any call may run — is an infrastructure failure (`ToolInfraError`).
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import re
import threading
import time
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from rlvr.envs.deadline import CallTimeout, call_within

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
_ARTICLES = {"integer": "an", "array": "an", "object": "an"}

#: What the env puts before the text of a failed call ("error: ..."); the python tool leaves room
#: for it when it fits its own text to the limit.
ERROR_PREFIX = "error: "


def truncate_output(text: str, max_chars: int | None, what: str = "output") -> str:
    """`text` cut to `max_chars` characters, with a marker saying so (None: no limit).

    The model reads the marker, so it knows the text goes on (and can ask for less).
    """
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[:max_chars] + f"\n[... {what} truncated to {max_chars} characters]"


class ToolError(Exception):
    """A tool call failed for a reason the model should read (bad argument, program error)."""


class ToolInfraError(RuntimeError):
    """The tool's infrastructure failed (e.g. the sandbox): not the model's fault."""


class ToolBusy(Exception):
    """The call was not run: a resource shared with other episodes (the calculator's workers)
    stayed busy with their calls for as long as the call could wait. Neither the model's failure
    nor the infrastructure's: the model is told to call again, and the call is not scored."""


class TurnBudget:
    """The time the tool calls of one model turn may take together.

    Attributes:
        seconds: the whole budget.
        run_left: seconds the turn's calls may still run; each call runs under the smaller of its
            own limit and this (`limit`), and the time it ran is taken from it (`charge`).
        wait_left: seconds the turn's calls may still wait for a shared worker (the calculator's),
            all waits together; not the model's doing, so never taken from `run_left`.
    """

    __slots__ = ("seconds", "run_left", "wait_left")

    def __init__(self, seconds: float = math.inf, *, wait: float | None = None) -> None:
        self.seconds = self.run_left = float(seconds)
        self.wait_left = float(seconds if wait is None else wait)

    def limit(self, own: float) -> float:
        """The limit of a call whose tool allows `own` seconds: what is left of the budget at most."""
        return min(float(own), self.run_left)

    def charge(self, seconds: float) -> None:
        """Take the `seconds` a call ran from the budget."""
        self.run_left = max(0.0, self.run_left - max(0.0, seconds))

    def cut_note(self, limit: float, own: float) -> str:
        """Words to add to a timeout message when `limit` was the budget's rest, not the tool's own."""
        return f" (what was left of this turn's {self.seconds:g}s for tool calls)" if limit < own else ""


def _limit_text(seconds: float) -> str:
    return f"{seconds:.3g}s"


@dataclass
class Tool:
    """A callable tool with its OpenAI-format schema.

    Attributes:
        name: the name the model calls it by.
        description: what it does (shown to the model).
        parameters: JSON schema of the arguments (`{"type": "object", "properties": ..., "required": ...}`).
        fn: `fn(**arguments) -> str`.
        limited: for a tool that keeps to a time limit itself (the built-ins): `limited(budget,
            **arguments)` runs it under what `budget` (a `TurnBudget`) allows and charges it; None
            for a plain function, which `run` runs in a thread under the limit.
        output_limit: when set, the tool fits its own text (results, and errors with
            `ERROR_PREFIX`) to this many characters, markers aside: the env does not cut it again.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] = field(repr=False)
    limited: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    output_limit: int | None = field(default=None, repr=False, compare=False)

    def schema(self) -> dict[str, Any]:
        """The tool in OpenAI function format."""
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def check_arguments(self, arguments: Any) -> str | None:
        """None if `arguments` fit the schema, else what is wrong (for the model to read)."""
        if not isinstance(arguments, dict):
            return f"arguments must be a JSON object, got {type(arguments).__name__}"
        props = self.parameters.get("properties", {})
        missing = [name for name in self.parameters.get("required", []) if name not in arguments]
        if missing:
            return f"missing required argument(s) {missing} for tool {self.name!r}"
        unknown = [name for name in arguments if name not in props]
        if unknown:
            return f"unknown argument(s) {unknown} for tool {self.name!r}; its arguments are {list(props)}"
        for name, value in arguments.items():
            kind = props[name].get("type")
            ok = {
                "string": isinstance(value, str),
                "integer": isinstance(value, int) and not isinstance(value, bool),
                "number": isinstance(value, (int, float)) and not isinstance(value, bool),
                "boolean": isinstance(value, bool),
                "array": isinstance(value, list),
                "object": isinstance(value, dict),
            }.get(kind, True)
            if not ok:
                return f"argument {name!r} of tool {self.name!r} must be {_ARTICLES.get(kind, 'a')} {kind}, got {type(value).__name__}"
        return None

    def __call__(self, **arguments: Any) -> str:
        return str(self.fn(**arguments))

    def run(self, arguments: dict[str, Any], budget: TurnBudget | None = None, *, timeout: float | None = None) -> str:
        """The tool's text for `arguments`, within a time limit; the time it ran is charged to `budget`.

        A tool with `limited` keeps to its own limit (cut to `budget.limit`); any other runs in a
        thread of its own for at most `timeout` seconds (None: no limit of its own), cut to what
        `budget` has left: past that, `ToolError` says so, and the thread is left running (it
        cannot be killed). Exceptions the tool raises are raised here, `SystemExit` and
        `GeneratorExit` too.
        """
        budget = budget if budget is not None else TurnBudget()
        if self.limited is not None:
            return str(self.limited(budget, **arguments))
        own = math.inf if timeout is None else float(timeout)
        limit = budget.limit(own)
        started = time.monotonic()
        try:
            return call_in_thread(lambda: str(self.fn(**arguments)), limit, self.name,
                                  note=budget.cut_note(limit, own))
        finally:
            budget.charge(time.monotonic() - started)


def call_in_thread(fn: Callable[[], str], limit: float, name: str, *, note: str = "") -> str:
    """`fn()` under `call_within` (a worker thread, the caller's context variables), waited for at
    most `limit` seconds (inf: no limit). Returns its value or raises what it raised (any
    BaseException); past the limit raises `ToolError`, the call going on in the background, since
    a thread cannot be stopped from outside."""
    try:
        return call_within(limit, fn)
    except CallTimeout:
        raise ToolError(f"tool {name!r} did not finish within {_limit_text(limit)}{note}; the call was abandoned") from None


def _param_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from a Google-style "Args:" section."""
    found: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args:
            match = re.match(r"^(\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", stripped)
            if match:
                found[match.group(1)] = match.group(3)
            elif stripped.endswith(":") or not stripped:
                in_args = bool(found) and not stripped.endswith(":") and in_args
    return found


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Decorator: turn a function into a `Tool` (schema from its signature and docstring).

    Usable bare (`@tool`) or with overrides (`@tool(name="search", description="...")`).
    Every parameter needs a type hint among str, int, float, bool, list, dict.
    """

    def build(func: Callable[..., Any]) -> Tool:
        doc = inspect.getdoc(func) or ""
        summary = doc.split("\n\n", 1)[0].strip()
        docs = _param_docs(doc)
        hints = typing.get_type_hints(func)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for param in inspect.signature(func).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {func.__name__}: *args/**kwargs cannot be described in a schema; name every parameter")
            hint = hints.get(param.name)
            origin = typing.get_origin(hint) or hint
            if origin not in _JSON_TYPES:
                raise TypeError(
                    f"tool {func.__name__}: parameter {param.name!r} needs a type hint among str, int, float, bool, list, dict (got {hint!r})"
                )
            properties[param.name] = {"type": _JSON_TYPES[origin]}
            if param.name in docs:
                properties[param.name]["description"] = docs[param.name]
            if param.default is param.empty:
                required.append(param.name)
        return Tool(
            name=name or func.__name__,
            description=description or summary or func.__name__,
            parameters={"type": "object", "properties": properties, "required": required},
            fn=func,
        )

    return build(fn) if fn is not None else build


# ------------------------------------------------------------------ calculator

_CALC_FUNCS = {"sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "log", "ln", "exp", "factorial", "binomial",
               "gcd", "lcm", "floor", "ceiling", "Abs", "abs", "Rational", "simplify", "expand", "factor", "N", "round"}
_CALC_NAMES = {"pi", "E", "I", "oo", "x", "y", "z", "n"}
_CALC_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Call, ast.Name, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.UAdd)
MAX_CALC_CHARS = 500
#: The calculator's default time limit per call: sympy arithmetic takes milliseconds, and every
#: second a call may run is a second one of the process's shared workers is held.
DEFAULT_CALCULATOR_TIMEOUT = 2.0
#: Most decimal places `round(x, n)` takes (either way): more only builds enormous numbers.
MAX_ROUND_DIGITS = 10_000


def check_calculator_expression(expression: str) -> str:
    """Validate an expression for the calculator; return it in Python syntax or raise ToolError.

    Only numbers, + - * / // % ** ^, parentheses and a fixed list of maths functions and
    constants are allowed — the expression is never handed to `eval` unchecked.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("expression must be a non-empty string")
    if len(expression) > MAX_CALC_CHARS:
        raise ToolError(f"expression longer than {MAX_CALC_CHARS} characters")
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ToolError(f"cannot parse expression {expression[:80]!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _CALC_NODES):
            raise ToolError(f"{type(node).__name__} is not allowed in a calculator expression")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _CALC_FUNCS or node.keywords:
                raise ToolError(f"only these functions are allowed: {sorted(_CALC_FUNCS)}")
        elif isinstance(node, ast.Name) and node.id not in _CALC_FUNCS | _CALC_NAMES:
            raise ToolError(f"unknown name {node.id!r}; allowed constants/symbols: {sorted(_CALC_NAMES)}")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)) or isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise ToolError(f"only numbers are allowed as literals, found {node.value!r}")
    return text


def exact_round(value: Any, digits: Any = None) -> Any:
    """The calculator's `round(value[, digits])`, exact, halves rounded away from zero.

    Without digits (or with digits <= 0) the result is an Integer (`round(10**400)` is that
    integer, `round(2.5)` is 3, `round(1234, -2)` is 1200); with digits > 0 it is the decimal with
    that many places, written exactly (`round(1/3, 3)` is 0.333), and an integer stays itself.
    Irrational values are rounded from as many digits as sympy needs to decide. Python's own
    `round` would go through a float: inexact past 2**53, infinite past 1e308, and halves to even.
    """
    import sympy

    value = sympy.sympify(value)
    places = 0
    if digits is not None:
        digits = sympy.sympify(digits)
        if not digits.is_Integer:
            raise ValueError(f"round's digits must be an integer, got {digits}")
        places = int(digits)
        if abs(places) > MAX_ROUND_DIGITS:
            raise ValueError(f"round's digits must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}, got {places}")
    if not value.is_number:
        raise ValueError(f"round needs a number, got {value}")
    if value.is_real is False or value.is_finite is False:
        raise ValueError(f"round needs a finite real number, got {value}")
    if value.is_Integer and places >= 0:
        return value
    scaled = value * sympy.Integer(10) ** places
    magnitude = sympy.floor(sympy.Abs(scaled) + sympy.Rational(1, 2))
    if not magnitude.is_Integer:
        raise ValueError(f"cannot round {value}")
    whole = int(magnitude) * (-1 if scaled < 0 else 1)
    if places <= 0:
        return sympy.Integer(whole) * sympy.Integer(10) ** (-places)
    text = str(abs(whole)).rjust(places + 1, "0")
    return sympy.Float(f"{'-' if whole < 0 else ''}{text[:-places]}.{text[-places:]}", "")


def evaluate_expression(text: str) -> tuple[str, str]:
    """Worker-side: evaluate a checked expression with sympy; ("ok", result) or ("error", message)."""
    import sympy

    names = {name: getattr(sympy, name) for name in _CALC_FUNCS if hasattr(sympy, name)}
    names.update({"ln": sympy.log, "abs": sympy.Abs, "round": exact_round,
                  "pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo})
    names.update({s: sympy.Symbol(s) for s in ("x", "y", "z", "n")})
    try:
        value = sympy.sympify(text, locals=names, rational=True)
        value = sympy.simplify(value)
        if value.has(sympy.zoo) or value.has(sympy.nan):
            return "error", "undefined result (division by zero?)"
        try:
            text = str(value)
        except ValueError:  # an integer past Python's 4300 digits for str(): shown approximated
            return "ok", f"{sympy.N(value, 15)} (approximated: it has numbers too long to show in full)"
        if value.is_number and not value.is_Rational and not value.is_Float:
            return "ok", f"{text} ≈ {sympy.N(value, 15)}"
        return "ok", text
    except Exception as exc:  # a maths error is the model's (e.g. division by zero): report it
        return "error", f"{type(exc).__name__}: {exc}"


#: What the calculator's workers import when they start, outside any call's time limit: a fresh
#: worker (the first, or one replacing a worker killed at a time limit) would otherwise spend its
#: first call's time importing sympy, and the model's call would time out for it.
_CALCULATOR_PRELOAD = ("rlvr.verifiers.math_sympy", "rlvr.envs.tools")


def make_calculator(timeout: float = DEFAULT_CALCULATOR_TIMEOUT, max_output_chars: int | None = 4000) -> Tool:
    """The `calculator` tool: `expression` evaluated exactly with sympy, within `timeout` seconds
    (cut to what its turn's `TurnBudget` has left); a result longer than `max_output_chars` is cut
    (`expand((x+1)**400)` is 38 kB; None: never)."""

    def calculator(expression: str) -> str:
        """Evaluate an expression exactly with sympy, e.g. 2**10/3 or sqrt(2)*pi (round: halves away from zero).

        Args:
            expression: the expression, in Python syntax (^ also means power).
        """
        return limited(TurnBudget(), expression)

    def limited(budget: TurnBudget, expression: str) -> str:
        text = check_calculator_expression(expression)
        status, result = _evaluate(text, timeout, budget)
        if status != "ok":
            raise ToolError(result)
        return truncate_output(result, max_output_chars, "result")

    made = tool(calculator)
    made.limited = limited
    return made


#: Seconds beyond its own limit a calculator call may hold a worker (the kill, a worker forked to
#: replace it, a worker starter process restarted, a loaded host) before the pool counts as stuck.
_HOLD_GRACE = 10.0


class _CalculatorCalls:
    """The calculator calls under way in this process (waiting for a worker or running), so that a
    pool with every worker taken can be told apart: busy with these calls (load: `ToolBusy`) or
    stuck (an infrastructure failure). The calculator's pool is its own: only these calls use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limits: dict[int, float] = {}
        self._next = 0
        self._pid = os.getpid()
        self.ended = 0  # calls that have ended, ever

    def begin(self, limit: float) -> int:
        with self._lock:
            if os.getpid() != self._pid:  # a forked child: the parent's calls are not under way here
                self._limits, self._pid = {}, os.getpid()
            self._next += 1
            self._limits[self._next] = limit
            return self._next

    def end(self, token: int) -> None:
        with self._lock:
            self._limits.pop(token, None)
            self.ended += 1

    def others(self, token: int) -> tuple[int, float]:
        """(how many other calls are under way, the longest limit among them)."""
        with self._lock:
            limits = [limit for key, limit in self._limits.items() if key != token]
        return len(limits), max(limits, default=0.0)


_CALLS = _CalculatorCalls()


def _evaluate(text: str, timeout: float, budget: TurnBudget | None = None) -> tuple[str, str]:
    """The calculator's ("ok" | "error", text) for a checked expression, from a worker process.

    It runs at most `budget.limit(timeout)` seconds once it has a worker (charged to `budget`) and
    waits at most `budget.wait_left` for one. The model's own limits (time, memory, size) raise
    `ToolError`; no free worker within the wait while other calls hold them all raises `ToolBusy`;
    any other failure of the worker pool (a dead worker, workers that cannot start, a stuck pool)
    raises `ToolInfraError`.
    """
    from rlvr.verifiers.timelimit import DEFAULT_MAX_WAIT, Budget, PoolBusy, TimeLimitExceeded, WorkerCrashed, get_pool

    budget = budget if budget is not None else TurnBudget()
    limit = budget.limit(timeout)
    may_wait = max(0.0, min(budget.wait_left, DEFAULT_MAX_WAIT))  # an unbounded budget waits as long as any pool call
    call_budget = Budget(limit, max_wait=may_wait)
    token, ended_before = _CALLS.begin(limit), _CALLS.ended
    try:
        pool = get_pool(preload=_CALCULATOR_PRELOAD)
        status, result = pool.call("rlvr.envs.tools:evaluate_expression", (text,), timeout=call_budget)
    except TimeLimitExceeded:
        raise ToolError(f"evaluation took longer than {_limit_text(limit)}{budget.cut_note(limit, timeout)}") from None
    except MemoryError:
        raise ToolError("evaluation used too much memory") from None
    except PoolBusy as exc:
        waited = may_wait - call_budget.wait_left
        others, longest = _CALLS.others(token)
        if others >= pool.size and (_CALLS.ended > ended_before or waited < longest + _HOLD_GRACE):
            raise ToolBusy(f"the calculator is busy: all {pool.size} of its workers stayed taken by other calls for "
                           f"{_limit_text(waited)}; this call was not run (call it again)") from None
        raise ToolInfraError(f"the calculator's worker pool is stuck: {exc}") from None
    except WorkerCrashed as exc:
        if str(exc).startswith(("RecursionError", "OverflowError")):  # a size limit, like the memory one
            raise ToolError("the expression is too large to evaluate (nested too deeply or overflowing)") from None
        # the worker died or failed outside the evaluation (which reports maths errors itself):
        # the calculator is broken, not the model's call
        raise ToolInfraError(f"the calculator's worker failed: {exc}") from None
    except Exception as exc:  # the pool itself failed (cannot start, closed, ...): not the model's call
        raise ToolInfraError(f"the calculator's worker pool failed: {type(exc).__name__}: {exc}") from exc
    finally:
        _CALLS.end(token)
        budget.charge(limit - call_budget.left)  # the time it held a worker, not its wait
        budget.wait_left = max(0.0, budget.wait_left - (may_wait - call_budget.wait_left))
    return status, result


# ------------------------------------------------------------------ python (sandbox)


def format_exec_result(result: Any, max_chars: int | None, *, reserve: int = 0) -> str:
    """What the model sees of a program run: stdout, then stderr, then the status when not ok.

    Cut to `max_chars` characters (None: not cut) less `reserve` (room for a prefix the caller puts
    before it, such as `ERROR_PREFIX`), markers aside, so that what says why a run failed survives:
    the status line is kept whole, and of stderr its end (a traceback's last lines). Stdout is cut
    first (its end, marked), keeping at least a quarter of the room when stderr is long too, then
    the start of stderr (marked). Only stdout, and too long: its start, as `truncate_output` cuts.
    """
    stdout, stderr = result.stdout or "", result.stderr or ""
    status = f"[status: {result.status}{': ' + result.message if result.message else ''}]" if result.status != "ok" else ""
    parts = [text for text in (stdout, f"[stderr]\n{stderr}" if stderr else "", status) if text]
    whole = "\n".join(parts) if parts else "[no output]"
    if max_chars is None or len(whole) + reserve <= max_chars:
        return whole
    room = max(0, max_chars - reserve)
    if not stderr and not status:
        return truncate_output(stdout, room)
    fixed = len(status) + (len("[stderr]\n") if stderr else 0) + len(parts) - 1  # the status, the header, the newlines
    left = room - fixed
    if left < 0:  # no room even for the status line: cut the whole, from its start
        return truncate_output(whole, room)
    stderr_room = min(len(stderr), left - min(len(stdout), left // 4))
    stdout_room = left - stderr_room
    kept = []
    if stdout:
        kept.append(stdout if len(stdout) <= stdout_room else
                    stdout[:stdout_room] + f"\n[... stdout truncated to {stdout_room} characters]")
    if stderr:
        tail = stderr if len(stderr) <= stderr_room else (
            f"[... stderr truncated to its last {stderr_room} characters]\n" + (stderr[-stderr_room:] if stderr_room else ""))
        kept.append(f"[stderr]\n{tail}")
    if status:
        kept.append(status)
    return "\n".join(kept)


_SHARED: dict[str, Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_sandbox(backend: str = "auto") -> Any:
    """One sandbox per backend for the whole process, created on first use (thread-safe).

    Environments share it so that a batch of 64 envs does not start 64 sets of warm workers.
    """
    with _SHARED_LOCK:
        if backend not in _SHARED:
            from rlvr.sandbox import make_sandbox

            _SHARED[backend] = make_sandbox(backend=backend)
        return _SHARED[backend]


def sandbox_in_use(get_sandbox: Callable[[], Any], backend: str) -> str:
    """The backend an env's sandbox runs on, for its fingerprint: "auto" resolved to the backend
    it picked here (the sandbox is started now if it was not yet); the asked-for name when none
    can start (the env's steps then report that as an infrastructure failure)."""
    try:
        return str(get_sandbox().name)
    except Exception:
        return backend


def make_python(get_sandbox: Callable[[], Any], *, timeout: float = 10.0, max_output_chars: int | None = 4000) -> Tool:
    """The `python` tool: run `code` in the sandbox for at most `timeout` seconds (cut to what its
    turn's `TurnBudget` has left, charged the program's run time, not its wait for a sandbox slot);
    returns stdout/stderr (errors are ToolError), fitted to `max_output_chars` by
    `format_exec_result` (an error's text leaves room for `ERROR_PREFIX`; None: not cut)."""

    def python(code: str) -> str:
        """Run a Python program in a sandbox and return what it prints (stdout and stderr).

        Args:
            code: the program; print the values you want to see.
        """
        return limited(TurnBudget(), code)

    def limited(budget: TurnBudget, code: str) -> str:
        try:
            sandbox = get_sandbox()
        except Exception as exc:  # no sandbox could be started (e.g. no Docker engine): not the model's fault
            raise ToolInfraError(f"the sandbox could not be started: {type(exc).__name__}: {exc}") from exc
        limit = budget.limit(timeout)
        started = time.monotonic()
        try:
            result = sandbox.run(code, timeout=limit)
        except Exception as exc:  # the sandbox itself failed (e.g. its daemon is gone): not the model's call
            raise ToolInfraError(f"the sandbox raised {type(exc).__name__}: {exc}") from exc
        finally:
            elapsed = time.monotonic() - started
        if result.infrastructure_failed:
            raise ToolInfraError(f"sandbox failed: {result.message or result.stderr}")
        budget.charge(min(elapsed, max(0.0, float(result.wall_time or 0.0))))
        if result.status != "ok":
            raise ToolError(format_exec_result(result, max_output_chars, reserve=len(ERROR_PREFIX)))
        return format_exec_result(result, max_output_chars)

    made = tool(python)
    made.limited = limited
    made.output_limit = max_output_chars
    return made
