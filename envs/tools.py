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

The built-in tools live in `rlvr.envs.calculator` and `rlvr.envs.python_tool`.
"""

from __future__ import annotations

import inspect
import math
import re
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


def seconds_text(seconds: float) -> str:
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
        raise ToolError(f"tool {name!r} did not finish within {seconds_text(limit)}{note}; the call was abandoned") from None


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
