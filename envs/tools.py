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

import functools
import inspect
import math
import re
import time
import types
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

    Called where a hang is bounded: in a tool's worker thread, under its time limit."""
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
    text = exception_text(exc)
    for kind in (ToolInfraError, ToolBusy, ToolError):
        if isinstance(exc, kind):
            return kind(text)
    return ToolCrash(f"tool {name!r} raised {type(exc).__name__}: {text}")


# ------------------------------------------------------------------ parameter schemas

_SCHEMA_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
#: Keywords that only describe (shown to the model, never checked).
_ANNOTATIONS = frozenset({"description", "title", "default", "examples"})
#: Keywords `Tool.check_arguments` enforces.
_CHECKED = frozenset({"type", "enum", "items", "properties", "required", "additionalProperties"})
_SUPPORTED = ("the supported JSON Schema subset is: type (one of, or a list of, " + ", ".join(_SCHEMA_TYPES)
              + "), enum, items (one schema), properties, required, additionalProperties (true, false or a schema), "
              "and the annotations description, title, default, examples")
#: Deepest nesting of schemas inside one another that a tool's parameters may have.
_MAX_SCHEMA_DEPTH = 32


def check_parameters(parameters: Any, name: str) -> None:
    """Refuse, with a ValueError naming tool `name` and the part, a `parameters` schema outside the
    subset `Tool.check_arguments` enforces (`_SUPPORTED`): a schema it would misread must fail
    when the tool is built, not turn every call of the model into an error."""
    if not isinstance(parameters, dict):
        raise ValueError(f"tool {name!r}: parameters must be a JSON schema (a dict), got {type(parameters).__name__}")
    if parameters.get("type", "object") != "object":
        raise ValueError(f"tool {name!r}: parameters must have \"type\": \"object\" (the arguments are a JSON object), "
                         f"got {parameters.get('type')!r}")
    _check_schema(parameters, name, "parameters", 0)


def _check_schema(schema: Any, name: str, where: str, depth: int) -> None:
    def bad(what: str) -> ValueError:
        return ValueError(f"tool {name!r}: {where} {what}; {_SUPPORTED}")

    if not isinstance(schema, dict):
        raise bad(f"must be a schema (a dict), got {type(schema).__name__}")
    if depth > _MAX_SCHEMA_DEPTH:
        raise bad(f"is nested more than {_MAX_SCHEMA_DEPTH} levels deep")
    unknown = [key for key in schema if key not in _CHECKED and key not in _ANNOTATIONS]
    if unknown:
        raise bad(f"uses unsupported keyword(s) {unknown} (check such constraints in the tool and raise ToolError)")
    kinds = schema.get("type")
    names = [kinds] if isinstance(kinds, str) else kinds
    if kinds is not None and (not isinstance(names, list) or not names or len(set(map(str, names))) < len(names)
                              or any(kind not in _SCHEMA_TYPES for kind in names)):
        raise bad(f"has \"type\": {kinds!r}, which is not a type name or a non-empty list of distinct ones")
    if "enum" in schema and (not isinstance(schema["enum"], list) or not schema["enum"]):
        raise bad(f"has \"enum\": {schema['enum']!r}, which is not a non-empty list")
    if "items" in schema:
        _check_schema(schema["items"], name, f"{where}.items", depth + 1)
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise bad(f"has \"properties\" that are a {type(properties).__name__}, not an object of name: schema")
    for key, sub in properties.items():
        if not isinstance(key, str):
            raise bad(f"has a property named {key!r}, not a string")
        _check_schema(sub, name, f"{where}.properties.{key}", depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _check_schema(extra, name, f"{where}.additionalProperties", depth + 1)
    elif extra is not None and not isinstance(extra, bool):
        raise bad(f"has \"additionalProperties\": {extra!r}, not true, false or a schema")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(key, str) for key in required):
        raise bad(f"has \"required\": {required!r}, not a list of names")
    if _closed(schema):
        missing = [key for key in required if key not in properties]
        if missing:
            raise bad(f"requires {missing}, which are not among its properties {list(properties)}: no call could pass")


def _closed(schema: dict[str, Any]) -> bool:
    """Whether an object schema refuses keys beyond its `properties`: when it lists properties
    and `additionalProperties` does not allow more (stricter than JSON Schema, whose default is
    open: a call with an argument the tool does not take is the model's mistake), or when
    `additionalProperties` is false."""
    extra = schema.get("additionalProperties")
    return extra is False or ("properties" in schema and extra is None)


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}[kind])


def _kinds_text(kinds: list[str]) -> str:
    words = [f"{_ARTICLES.get(kind, 'a')} {kind}" if kind != "null" else "null" for kind in kinds]
    return " or ".join(words)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, 1 is 1.0."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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
    """

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] = field(repr=False)
    limited: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    output_limit: int | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_tool_name(self.name)
        if not isinstance(self.description, str):
            raise TypeError(f"tool {self.name!r}: description must be a string, got {type(self.description).__name__}")
        check_parameters(self.parameters, self.name)
        if not callable(self.fn):
            raise TypeError(f"tool {self.name!r}: fn must be callable, got {type(self.fn).__name__}")
        _refuse_deferred(self.fn, self.name)

    def schema(self) -> dict[str, Any]:
        """The tool in OpenAI function format."""
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def check_arguments(self, arguments: Any) -> str | None:
        """None if `arguments` fit the schema, else what is wrong (for the model to read)."""
        if not isinstance(arguments, dict):
            return f"arguments must be a JSON object, got {type(arguments).__name__}"
        schema = self.parameters
        props = schema.get("properties", {})
        missing = [name for name in schema.get("required", []) if name not in arguments]
        if missing:
            return f"missing required argument(s) {missing} for tool {self.name!r}"
        extra = schema.get("additionalProperties")
        if _closed(schema):
            unknown = [name for name in arguments if name not in props]
            if unknown:
                return f"unknown argument(s) {unknown} for tool {self.name!r}; its arguments are {list(props)}"
        for name, value in arguments.items():
            sub = props.get(name, extra if isinstance(extra, dict) else {})
            problem = self._problem(value, sub, f"argument {name!r}")
            if problem:
                return problem
        return None

    def _problem(self, value: Any, schema: dict[str, Any], where: str) -> str | None:
        """What is wrong with `value` (the part of the arguments at `where`) for `schema`, or None."""
        kinds = schema.get("type")
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else kinds
            if not any(_is_kind(value, kind) for kind in kinds):
                return f"{where} of tool {self.name!r} must be {_kinds_text(kinds)}, got {type(value).__name__}"
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            return f"{where} of tool {self.name!r} must be one of {_short(schema['enum'])}, got {_short(value)}"
        if isinstance(value, list) and "items" in schema:
            for k, item in enumerate(value):
                problem = self._problem(item, schema["items"], f"{where}[{k}]")
                if problem:
                    return problem
        if isinstance(value, dict) and {"properties", "required", "additionalProperties"} & set(schema):
            props, extra = schema.get("properties", {}), schema.get("additionalProperties")
            missing = [key for key in schema.get("required", []) if key not in value]
            if missing:
                return f"{where} of tool {self.name!r} is missing the key(s) {missing}"
            if _closed(schema):
                unknown = [key for key in value if key not in props]
                if unknown:
                    return f"{where} of tool {self.name!r} has unknown key(s) {_short(unknown)}; its keys are {list(props)}"
            for key, item in value.items():
                problem = self._problem(item, props.get(key, extra if isinstance(extra, dict) else {}), f"{where}[{key!r}]")
                if problem:
                    return problem
        return None

    def __call__(self, **arguments: Any) -> str:
        return str(self.fn(**arguments))

    def run(self, arguments: dict[str, Any], budget: TurnBudget | None = None, *, timeout: float | None = None) -> str:
        """The tool's text for `arguments`, within a time limit; the time it ran is charged to `budget`.

        A tool with `limited` keeps to its own limit (cut to `budget.limit`); any other runs in a
        thread of its own for at most `timeout` seconds (None: no limit of its own), cut to what
        `budget` has left: past that, `ToolError` says so, and the thread is left running (it
        cannot be killed). In that thread, under the limit, the function's value is made text
        and what it raised is made a failure with its message (`ToolError`, `ToolBusy` or
        `ToolInfraError` as raised; any other exception, `SystemExit` and `GeneratorExit`
        included, a `ToolCrash` naming it), so that an object or exception whose `str()` fails
        or hangs cannot fail or stall the caller. `KeyboardInterrupt` is raised as it is.
        """
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


def _param_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from a Google-style "Args:" section.

    An entry is `name: text` or `name (type): text`; lines indented deeper than the entry go on
    its text; the section ends at a line indented no deeper than its header (the next section,
    `Returns:`, `Raises:`, or plain text)."""
    found: dict[str, str] = {}
    header: int | None = None  # the indentation of the Args header, while in the section
    entry: int | None = None  # the indentation of the section's entries
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if header is None:
            if stripped.lower() in ("args:", "arguments:", "parameters:"):
                header = indent
            continue
        if not stripped:
            continue
        if indent <= header or (entry is not None and indent <= entry and _SECTION.match(stripped)):
            header, entry, current = None, None, None
            if stripped.lower() in ("args:", "arguments:", "parameters:"):
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


def _param_schema(hint: Any) -> dict[str, Any] | None:
    """The JSON schema of a parameter hinted `hint`, or None when it has none: str, int, float,
    bool, list, dict, `list[X]` (with `items`), `dict[str, X]` (with `additionalProperties`), and
    any of those `| None` (`Optional`: a `["...", "null"]` type)."""
    origin = typing.get_origin(hint) or hint
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        others = [arg for arg in args if arg is not type(None)]
        inner = _param_schema(others[0]) if len(others) == 1 and len(args) == 2 else None
        return None if inner is None else {**inner, "type": [inner["type"], "null"]}
    if origin not in _JSON_TYPES:
        return None
    schema: dict[str, Any] = {"type": _JSON_TYPES[origin]}
    if origin is list and len(args) == 1:
        items = _param_schema(args[0])
        if items is not None:
            schema["items"] = items
    if origin is dict and len(args) == 2 and args[0] is str:
        values = _param_schema(args[1])
        if values is not None:
            schema["additionalProperties"] = values
    return schema


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


def _hints_source(func: Any) -> Any:
    """What holds the type hints of `func`'s parameters: the function a `functools.partial` wraps,
    a callable object's `__call__`, else `func` itself."""
    while isinstance(func, functools.partial):
        func = func.func
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
    also takes null. The description of each parameter comes from a Google-style `Args:` section.

    A tool must not call back into the env that is running it (`env.step`, `env.reset`): the
    episode would change under the step that called it.
    """

    def build(func: Callable[..., Any]) -> Tool:
        if isinstance(func, str):
            raise TypeError(f"tool({func!r}): a string is not a function; the built-in tools are offered with "
                            f"ToolMath-v0's builtin_tools=(...), your own as functions: tools=[my_function]")
        if isinstance(func, type) or not callable(func):
            raise TypeError(f"tool() takes a function (or a method, a functools.partial, an object with __call__), "
                            f"got {_short(func)} ({type(func).__name__})")
        own = getattr(func, "__name__", None) if inspect.isfunction(func) or inspect.ismethod(func) else None
        tool_name = name if name is not None else own or type(func).__name__  # checked once the schema is built
        _refuse_deferred(func, tool_name)
        doc = inspect.getdoc(func) or ""
        summary = doc.split("\n\n", 1)[0].strip()
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
            schema = _param_schema(hint)
            if schema is None:
                raise TypeError(
                    f"tool {tool_name}: parameter {param.name!r} needs a type hint among str, int, float, bool, list, dict (got {hint!r})"
                )
            if param.default is None and isinstance(schema["type"], str):  # `x: int = None` takes null
                schema["type"] = [schema["type"], "null"]
            properties[param.name] = schema
            if param.name in docs:
                properties[param.name]["description"] = docs[param.name]
            if param.default is param.empty:
                required.append(param.name)
        if name is None and (own is None or own == "<lambda>"):
            raise ValueError(f"tool(): {_short(func)} has no name a model can call; give it one: tool(fn, name=\"...\")")
        return Tool(
            name=tool_name,
            description=description or summary or tool_name,
            parameters={"type": "object", "properties": properties, "required": required},
            fn=func,
        )

    return build(fn) if fn is not None else build
