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

A tool returns text (shown to the model). Raising `ToolError` (or any exception) makes the call a
failed one: the model sees the message and the turn's process reward is 0. Raising
`ToolInfraError` says the tool's infrastructure failed, not the call: the env ends the episode as
invalid. The built-in tools are `python` (runs code in the sandbox, returns stdout/stderr) and
`calculator` (evaluates an expression with sympy, in a time-limited worker process); they raise
`ToolInfraError` whenever the sandbox or the calculator's worker pool fails. Long text is cut with
`truncate_output` (ToolMath-v0 cuts every tool's text, its own tools' and yours, results and errors
alike, to `max_tool_output_chars`).
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


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


@dataclass
class Tool:
    """A callable tool with its OpenAI-format schema.

    Attributes:
        name: the name the model calls it by.
        description: what it does (shown to the model).
        parameters: JSON schema of the arguments (`{"type": "object", "properties": ..., "required": ...}`).
        fn: `fn(**arguments) -> str`.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] = field(repr=False)

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
                return f"argument {name!r} of tool {self.name!r} must be a {kind}, got {type(value).__name__}"
        return None

    def __call__(self, **arguments: Any) -> str:
        return str(self.fn(**arguments))


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


def evaluate_expression(text: str) -> tuple[str, str]:
    """Worker-side: evaluate a checked expression with sympy; ("ok", result) or ("error", message)."""
    import sympy

    names = {name: getattr(sympy, name) for name in _CALC_FUNCS if hasattr(sympy, name)}
    names.update({"ln": sympy.log, "abs": sympy.Abs, "round": lambda v, d=0: sympy.Float(round(float(v), int(d))),
                  "pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo})
    names.update({s: sympy.Symbol(s) for s in ("x", "y", "z", "n")})
    try:
        value = sympy.sympify(text, locals=names, rational=True)
        value = sympy.simplify(value)
        if value.has(sympy.zoo) or value.has(sympy.nan):
            return "error", "undefined result (division by zero?)"
        if value.is_number and not value.is_Integer and not value.is_Rational:
            approx = sympy.N(value, 15)
            return "ok", f"{value} ≈ {approx}"
        return "ok", str(value)
    except Exception as exc:  # a maths error is the model's (e.g. division by zero): report it
        return "error", f"{type(exc).__name__}: {exc}"


#: What the calculator's workers import when they start, outside any call's time limit: a fresh
#: worker (the first, or one replacing a worker killed at a time limit) would otherwise spend its
#: first call's time importing sympy, and the model's call would time out for it.
_CALCULATOR_PRELOAD = ("rlvr.verifiers.math_sympy", "rlvr.envs.tools")


def make_calculator(timeout: float = 5.0, max_output_chars: int | None = 4000) -> Tool:
    """The `calculator` tool: `expression` evaluated exactly with sympy, within `timeout` seconds;
    a result longer than `max_output_chars` is cut (`expand((x+1)**400)` is 38 kB; None: never)."""

    def calculator(expression: str) -> str:
        """Evaluate a mathematical expression exactly with sympy (e.g. "2**10 / 3", "sqrt(2)*pi").

        Args:
            expression: the expression, in Python syntax (^ also means power).
        """
        text = check_calculator_expression(expression)
        status, result = _evaluate(text, timeout)
        if status != "ok":
            raise ToolError(result)
        return truncate_output(result, max_output_chars, "result")

    return tool(calculator)


def _evaluate(text: str, timeout: float) -> tuple[str, str]:
    """The calculator's ("ok" | "error", text) for a checked expression, from a worker process.

    The model's own limits (time, memory, size) raise `ToolError`; any other failure of the worker
    pool (a dead worker, no worker free, a pool that cannot start) raises `ToolInfraError`.
    """
    from rlvr.verifiers.timelimit import TimeLimitExceeded, WorkerCrashed, get_pool

    try:
        status, result = get_pool(preload=_CALCULATOR_PRELOAD).call(
            "rlvr.envs.tools:evaluate_expression", (text,), timeout=timeout)
    except TimeLimitExceeded:
        raise ToolError(f"evaluation took longer than {timeout:g}s") from None
    except MemoryError:
        raise ToolError("evaluation used too much memory") from None
    except WorkerCrashed as exc:
        if str(exc).startswith(("RecursionError", "OverflowError")):  # a size limit, like the memory one
            raise ToolError("the expression is too large to evaluate (nested too deeply or overflowing)") from None
        # the worker died or failed outside the evaluation (which reports maths errors itself):
        # the calculator is broken, not the model's call
        raise ToolInfraError(f"the calculator's worker failed: {exc}") from None
    except Exception as exc:  # the pool itself failed (cannot start, closed, ...): not the model's call
        raise ToolInfraError(f"the calculator's worker pool failed: {type(exc).__name__}: {exc}") from exc
    return status, result


# ------------------------------------------------------------------ python (sandbox)


def format_exec_result(result: Any, max_chars: int | None) -> str:
    """What the model sees of a program run: stdout, then stderr, status when not ok; cut to
    `max_chars` (None: not cut)."""
    parts = []
    if result.stdout:
        parts.append(result.stdout)
    if result.stderr:
        parts.append(f"[stderr]\n{result.stderr}")
    if result.status != "ok":
        parts.append(f"[status: {result.status}{': ' + result.message if result.message else ''}]")
    return truncate_output("\n".join(parts) if parts else "[no output]", max_chars)


_SHARED: dict[str, Any] = {}
_SHARED_LOCK = __import__("threading").Lock()


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
    """The `python` tool: run `code` in the sandbox; returns stdout/stderr (errors are ToolError),
    cut to `max_output_chars` (None: not cut)."""

    def python(code: str) -> str:
        """Run a Python program in a sandbox and return what it prints (stdout and stderr).

        Args:
            code: the program; print the values you want to see.
        """
        try:
            sandbox = get_sandbox()
        except Exception as exc:  # no sandbox could be started (e.g. no Docker engine): not the model's fault
            raise ToolInfraError(f"the sandbox could not be started: {type(exc).__name__}: {exc}") from exc
        try:
            result = sandbox.run(code, timeout=timeout)
        except Exception as exc:  # the sandbox itself failed (e.g. its daemon is gone): not the model's call
            raise ToolInfraError(f"the sandbox raised {type(exc).__name__}: {exc}") from exc
        if result.infrastructure_failed:
            raise ToolInfraError(f"sandbox failed: {result.message or result.stderr}")
        text = format_exec_result(result, max_output_chars)
        if result.status != "ok":
            raise ToolError(text)
        return text

    return tool(python)
