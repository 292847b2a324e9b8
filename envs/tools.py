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

A tool returns text (shown to the model). Raising `ToolError` (or any exception, `SystemExit`,
`GeneratorExit` and other `BaseException` subclasses included; only `KeyboardInterrupt` goes on
up) makes the call a failed one: the model sees the message and the turn's process reward is 0.
The message is made in the tool's worker thread, under its time limit (an exception whose `str()`
fails is named by its type alone, one whose `str()` hangs is a call past its limit). Raising `ToolInfraError` says the tool's infrastructure failed, not
the call: the env ends the episode as invalid. The built-in tools are `python` (runs code in the
sandbox, a fresh process each call, returns stdout/stderr) and `calculator` (evaluates an
expression with sympy, in a time-limited worker process); they raise `ToolInfraError` whenever
the sandbox or the calculator's worker pool fails. Long text is cut with `truncate_output`
(ToolMath-v0 cuts every tool's text, its own tools' and yours, results and errors alike, to
`max_tool_output_chars`; the python tool cuts its own so that the status and the end of stderr
survive, `format_exec_result`; a python tool of yours made with `make_python` is made again under
ToolMath-v0's `tool_timeout` and `max_tool_output_chars`, and cuts its own the same way,
`Tool.with_limits`).

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

The built-in tools live in `rlvr.envs.calculator` and `rlvr.envs.python_tool`; the JSON Schema
subset a tool's parameters may use, and the checks of the model's arguments against it, in
`rlvr.envs.tool_schema` (`check_parameters` is importable from here too).
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import re
import time
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from rlvr.envs.deadline import CallTimeout, call_within
from rlvr.envs.tool_schema import (
    argument_problem, check_parameters, conform_arguments, param_schema, plain_schema, short_repr, with_default,
)


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


#: What OpenAI (and servers following its API) accept as a function name.
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def check_tool_name(name: Any) -> str:
    """`name` if it is a valid function name (OpenAI's `^[a-zA-Z0-9_-]{1,64}$`), else a ValueError.

    Servers refuse a `tools=` list with another name, and a model cannot reliably call one."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"tool name {name!r} is not a valid function name: use 1 to 64 letters, digits, '_' or '-' "
                         "(OpenAI's rule ^[a-zA-Z0-9_-]{1,64}$), e.g. @tool(name=\"lookup\")")
    return name


def exception_text(exc: BaseException) -> str:
    """`str(exc)`, or `<TypeName>` when that raises (an exception with a broken `__str__`).

    For your tools it is called in the tool's worker thread, under its time limit (`Tool.run`), so
    an exception whose `str()` hangs is a call past its limit. ToolMath-v0 also calls it in its own
    thread, with no limit, for an unexpected exception from a tool with `limited` (the built-ins,
    which keep to their limits themselves and run no thread of theirs): such exceptions come from
    this library's code (the sandbox, the calculator's worker pool), whose `str()` does not hang."""
    try:
        return str(exc)
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - a broken __str__, whatever it raises
        return f"<{type(exc).__name__}>"


class ToolCrash(ToolError):
    """A tool of yours raised something other than `ToolError`/`ToolBusy`/`ToolInfraError` (any
    exception, `SystemExit` included, `KeyboardInterrupt` aside), or returned an object whose
    `str()` failed: a failed call whose message names the exception."""


def _failure(name: str, exc: BaseException) -> Exception:
    """What `Tool.run` raises for `exc`, raised by tool `name`: the same kind of failure for the
    env (`ToolInfraError`, `ToolBusy`, `ToolError`) with its message already made, or a
    `ToolCrash` naming any other exception."""
    for kind in (ToolInfraError, ToolBusy, ToolError):
        if isinstance(exc, kind):
            return kind(exception_text(exc))
    return ToolCrash(crash_text(name, exc))


def crash_text(name: str, exc: BaseException) -> str:
    """What the model reads of tool `name` raising `exc` (not a ToolError): "tool 'f' raised ..."."""
    return f"tool {name!r} raised {type(exc).__name__}: {exception_text(exc)}"


@dataclass
class Tool:
    """A callable tool with its OpenAI-format schema.

    Attributes:
        name: the name the model calls it by (`^[a-zA-Z0-9_-]{1,64}$`, as OpenAI requires).
        description: what it does (shown to the model).
        parameters: JSON schema of the arguments (`{"type": "object", "properties": ..., "required": ...}`),
            within the subset `check_arguments` enforces (checked when the Tool is built, see
            `check_parameters`): `type` (a name or a list such as `["integer", "null"]`), `enum`,
            `items`, `properties`, `required`, `additionalProperties` (an object schema that lists
            `properties` refuses other keys unless it is true or a schema; one that lists none
            takes any), and annotations (`description`, `title`, `default`, `examples`).
        fn: `fn(**arguments) -> str`: a plain function (not `async def`, not a generator).
        limited: for a tool that keeps to a time limit itself (the built-ins): `limited(budget,
            **arguments)` runs it under what `budget` (a `TurnBudget`) allows and charges it; None
            for a plain function, which `run` runs in a thread under the limit.
        output_limit: when set, the tool fits its own text (results, and errors with
            `ERROR_PREFIX`) to this many characters, markers aside: the env does not cut it again.
        with_limits: for a tool whose limits the env running it sets (`make_python`'s):
            `with_limits(tool, timeout=, max_output_chars=, escape=)` returns `tool` made again
            under the env's time limit per call and output limit, escaping its text with the env's
            `escape` before it fits it; or `tool` itself when its `fn` or `limited` is no longer
            the one `with_limits` was made with (a copy with a wrapper of the user's, which a
            rebuild would drop: it keeps to its own limits). ToolMath-v0 calls it for such a tool
            given in `tools=`, so that its `tool_timeout` and `max_tool_output_chars` govern it as
            they govern the built-in python tool (`Tool.run` gives a `limited` tool no `timeout`:
            it keeps to its own).
    """

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] = field(repr=False)
    limited: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    output_limit: int | None = field(default=None, repr=False, compare=False)
    with_limits: Callable[..., "Tool"] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse a Tool the env could not offer or run: a ValueError for a name that is not a
        function name (`check_tool_name`) or parameters outside the supported schema subset
        (`check_parameters`), a TypeError for a description that is not a string or an `fn` that
        is not callable or whose call does not run it (`async def`, generators). Run when the Tool
        is built, and by ToolMath-v0 for a Tool it is given, which may have been changed since."""
        check_tool_name(self.name)
        if not isinstance(self.description, str):
            raise TypeError(f"tool {self.name!r}: description must be a string, got {type(self.description).__name__}")
        check_parameters(self.parameters, self.name)
        if not callable(self.fn):
            raise TypeError(f"tool {self.name!r}: fn must be callable, got {type(self.fn).__name__}")
        _refuse_deferred(self.fn, self.name)

    def schema(self) -> dict[str, Any]:
        """The tool in OpenAI function format: a new copy each call, as it goes into infos (a caller
        that edits one, say for a chat template, must not change the arguments this tool accepts),
        of plain JSON data (`plain_schema`: a `float` hint's "number" is a plain str here)."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": plain_schema(copy.deepcopy(self.parameters))}}

    def check_arguments(self, arguments: Any) -> str | None:
        """None if `arguments` fit the schema, else what is wrong (for the model to read); see
        `rlvr.envs.tool_schema`."""
        return argument_problem(arguments, self.parameters, self.name)

    def __call__(self, **arguments: Any) -> str:
        return str(self.fn(**arguments))

    def run(self, arguments: dict[str, Any], budget: TurnBudget | None = None, *, timeout: float | None = None) -> str:
        """The tool's text for `arguments`, within a time limit; the time it ran is charged to `budget`.

        A tool with `limited` keeps to its own limit (cut to `budget.limit`; `timeout` is not
        passed to it: an env sets such a tool's limit when it takes it, `with_limits`); any other runs in a
        thread of its own for at most `timeout` seconds (None: no limit of its own), cut to what
        `budget` has left: past that, `ToolError` says so, and the thread is left running (it
        cannot be killed). In that thread, under the limit, the function's value is made text
        and what it raised is made a failure with its message (`ToolError`, `ToolBusy` or
        `ToolInfraError` as raised; any other exception, `SystemExit` and `GeneratorExit`
        included, a `ToolCrash` naming it), so that an object or exception whose `str()` fails
        or hangs cannot fail or stall the caller. `KeyboardInterrupt` is raised as it is.

        The tool gets `arguments` as `conform_arguments` makes them: a float with no fractional
        part that the schema accepts only as an integer (the model wrote `3.0` for an `int`
        parameter, which JSON Schema counts as an integer) is passed as an int.
        """
        arguments = conform_arguments(arguments, self.parameters)
        budget = budget if budget is not None else TurnBudget()
        if self.limited is not None:
            return str(self.limited(budget, **arguments))
        own = math.inf if timeout is None else float(timeout)
        limit = budget.limit(own)
        started = time.monotonic()
        try:
            return call_in_thread(lambda: self._text(arguments), limit, self.name, note=budget.cut_note(limit, own))
        finally:
            budget.charge(time.monotonic() - started)

    def _text(self, arguments: dict[str, Any]) -> str:
        """`str(fn(**arguments))`, run in the tool's worker thread (see `run`)."""
        try:
            value = self.fn(**arguments)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure of the tool is a failed call
            raise _failure(self.name, exc) from exc
        try:
            return str(value)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            raise ToolCrash(f"tool {self.name!r} returned a {type(value).__name__} whose str() raised "
                            f"{type(exc).__name__}: {exception_text(exc)}") from exc


def call_in_thread(fn: Callable[[], str], limit: float, name: str, *, note: str = "") -> str:
    """`fn()` under `call_within` (a worker thread, the caller's context variables), waited for at
    most `limit` seconds (inf: no limit). Returns its value or raises what it raised (any
    BaseException); past the limit raises `ToolError`, the call going on in the background, since
    a thread cannot be stopped from outside."""
    try:
        return call_within(limit, fn)
    except CallTimeout:
        raise ToolError(f"tool {name!r} did not finish within {seconds_text(limit)}{note}; the call was abandoned") from None


# ------------------------------------------------------------------ @tool

_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:$")

#: The headers of a Google-style docstring's sections (lower case): the summary ends at the first.
_SECTION_HEADERS = frozenset({
    "args:", "arguments:", "parameters:", "keyword args:", "keyword arguments:", "other parameters:", "returns:",
    "return:", "yields:", "yield:", "raises:", "attributes:", "example:", "examples:", "note:", "notes:",
    "see also:", "warning:", "warnings:", "references:", "todo:"})
_ARGS_HEADERS = ("args:", "arguments:", "parameters:")


def _summary(doc: str) -> str:
    """A docstring's summary: its first paragraph, up to the first section header (`Args:`,
    `Returns:`...), which may follow it with no blank line between."""
    lines = []
    for line in doc.splitlines():
        if not line.strip() or line.strip().lower() in _SECTION_HEADERS:
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _param_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from a Google-style "Args:" section.

    An entry is `name: text` or `name (type): text`; lines indented deeper than the entry go on
    its text; the section ends at a line indented no deeper than its header (the next section,
    `Returns:`, `Raises:`, or plain text). A header on the docstring's first line has lost its
    indentation (`inspect.getdoc` dedents the lines after it), so its entries may stand at its
    own: that section ends at the next section header."""
    found: dict[str, str] = {}
    header: int | None = None  # the indentation of the Args header, while in the section
    entry: int | None = None  # the indentation of the section's entries
    current: str | None = None
    for number, line in enumerate(doc.splitlines()):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if header is None:
            if stripped.lower() in _ARGS_HEADERS:
                header = indent if number else -1
            continue
        if not stripped:
            continue
        if indent <= header or (entry is not None and indent <= entry and _SECTION.match(stripped)):
            header, entry, current = None, None, None
            if stripped.lower() in _ARGS_HEADERS:
                header = indent
            continue
        match = re.match(r"^(\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", stripped)
        if match and (entry is None or indent <= entry):
            entry = indent if entry is None else entry
            current = match.group(1)
            found[current] = match.group(3)
        elif current is not None:
            found[current] = f"{found[current]} {stripped}".strip()
    return found


def _refuse_deferred(fn: Any, name: str) -> None:
    """A TypeError for a function whose call does not run its body (`async def`, generators): the
    env would get a coroutine or a generator back, the tool never run."""
    targets = [fn]
    if not (inspect.isfunction(fn) or inspect.ismethod(fn) or isinstance(fn, functools.partial)):
        targets.append(getattr(type(fn), "__call__", None))
    for target in targets:
        if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
            raise TypeError(f"tool {name!r}: an async function cannot be a tool (its call returns a coroutine, never run); "
                            "use a plain function, and await what you need inside it (e.g. asyncio.run(...))")
        if inspect.isgeneratorfunction(target):
            raise TypeError(f"tool {name!r}: a generator function cannot be a tool (its call returns a generator, never "
                            "run); use a plain function that collects the values and returns the text")


def _unwrapped(func: Any) -> Any:
    """The callable a `functools.partial` wraps (nested partials unwrapped), else `func` itself."""
    while isinstance(func, functools.partial):
        func = func.func
    return func


def _hints_source(func: Any) -> Any:
    """What holds the type hints of `func`'s parameters: the function a `functools.partial` wraps,
    a callable object's `__call__`, else `func` itself."""
    func = _unwrapped(func)
    if inspect.isfunction(func) or inspect.ismethod(func):
        return func
    return type(func).__call__


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Decorator: turn a function into a `Tool` (schema from its signature and docstring).

    Usable bare (`@tool`) or with overrides (`@tool(name="search", description="...")`). Takes a
    function, a method, a `functools.partial` (its bound keyword arguments are hidden from the
    model) or an object with `__call__`; the last two have no name of their own, so need `name=`,
    as does a lambda. Names follow OpenAI's rule `^[a-zA-Z0-9_-]{1,64}$`.

    Every parameter needs a type hint among str, int, float, bool, list, dict (`list[int]` and
    `dict[str, float]` describe their elements, and `X | None` also takes null), and must be
    passable by keyword (no `*args`, `**kwargs` or positional-only parameters): the env calls
    `fn(**arguments)`. `async def` and generator functions are refused (their call does not run
    them): use a plain function that awaits or collects inside. A parameter whose default is None
    also takes null. The tool's description is the docstring's first paragraph, up to its first
    section header (`Args:`, `Returns:`...); the description of each parameter comes from a
    Google-style `Args:` section. A `functools.partial` is described by the function it wraps.
    A parameter's default is shown to the model as its schema's `"default"` when it is JSON and
    of the parameter's type (`limit: int = 3`, and `None` where the parameter takes null); a
    default that is not (an object, a tuple, NaN, `x: int = "auto"`) is left out
    (`rlvr.envs.tool_schema.with_default`). An `int` parameter takes `3.0` (an integer to JSON
    Schema) and the function gets `3`.

    A tool must not call back into the env that is running it (`env.step`, `env.reset`): the
    episode would change under the step that called it.
    """

    def build(func: Callable[..., Any]) -> Tool:
        if isinstance(func, str):
            raise TypeError(f"tool({func!r}): a string is not a function; the built-in tools are offered with "
                            f"ToolMath-v0's builtin_tools=(...), your own as functions: tools=[my_function]")
        if isinstance(func, type) or not callable(func):
            raise TypeError(f"tool() takes a function (or a method, a functools.partial, an object with __call__), "
                            f"got {short_repr(func)} ({type(func).__name__})")
        own = getattr(func, "__name__", None) if inspect.isfunction(func) or inspect.ismethod(func) else None
        tool_name = name if name is not None else own or type(func).__name__  # checked once the schema is built
        # before the signature is read, so that an async or generator function is told that, not asked
        # for hints it lacks; `Tool.validate` checks again, for hand-built Tools (a cheap check)
        _refuse_deferred(func, tool_name)
        # a partial's own docstring is functools.partial's: the wrapped function's describes it
        doc = inspect.getdoc(_unwrapped(func)) or ""
        summary = _summary(doc)
        docs = _param_docs(doc)
        try:
            hints = typing.get_type_hints(_hints_source(func))
            signature = inspect.signature(func)
        except (NameError, TypeError, ValueError, AttributeError) as exc:
            raise TypeError(f"tool {tool_name!r}: its signature or type hints cannot be read ({type(exc).__name__}: "
                            f"{exc}); hint every parameter with a type defined where the function is") from exc
        hidden = set(func.keywords) if isinstance(func, functools.partial) else set()
        properties: dict[str, Any] = {}
        required: list[str] = []
        for param in signature.parameters.values():
            if param.name in hidden:
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {tool_name}: *args/**kwargs cannot be described in a schema; name every parameter")
            if param.kind is param.POSITIONAL_ONLY:
                raise TypeError(f"tool {tool_name}: parameter {param.name!r} is positional-only (before '/'), but tools "
                                "are called with keyword arguments; remove the '/'")
            hint = hints.get(param.name)
            schema = param_schema(hint)
            if schema is None:
                raise TypeError(
                    f"tool {tool_name}: parameter {param.name!r} needs a type hint among str, int, float, bool, list, dict (got {hint!r})"
                )
            if param.default is None and isinstance(schema["type"], str):  # `x: int = None` takes null
                schema["type"] = [schema["type"], "null"]
            if param.name in docs:
                schema["description"] = docs[param.name]
            if param.default is param.empty:
                required.append(param.name)
            else:
                schema = with_default(schema, param.default)
            properties[param.name] = schema
        if name is None and (own is None or own == "<lambda>"):
            raise ValueError(f"tool(): {short_repr(func)} has no name a model can call; give it one: tool(fn, name=\"...\")")
        return Tool(
            name=tool_name,
            description=description or summary or tool_name,
            parameters={"type": "object", "properties": properties, "required": required},
            fn=func,
        )

    return build(fn) if fn is not None else build
