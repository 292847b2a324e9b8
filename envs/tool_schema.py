"""The JSON Schema subset a tool's parameters may use: checking a schema is in it, checking the
model's arguments against it, and the schemas `@tool` makes from Python type hints.

The supported subset:

- `type`: one of string, integer, number, boolean, array, object, null, or a non-empty list of
  distinct ones (`["integer", "null"]`); as in JSON Schema, an integer is any number whose
  fractional part is zero (`3.0` is one, and the tool gets it as the int 3: `conform_arguments`;
  `3.5`, NaN and the infinities are not), and true and false are booleans, not integers; an
  integer given to a parameter `@tool` made from a `float` hint reaches the tool as a float (`4`
  as `4.0`, and 2**53 + 1 as the nearest float, as `float()` makes it), and one too large for a
  float is refused; a "number" in a schema written by hand takes integers as they are (OpenAI-style
  schemas say "number" for integers too: `math.comb` must get ints, `3**40` stay exact);
- `enum`: a non-empty list of the allowed values (compared as JSON: true is not 1, 1 is 1.0);
- `items`: one schema, for every element of an array;
- `properties`, `required`, `additionalProperties` (true, false or a schema): an object schema
  that lists `properties` refuses other keys unless `additionalProperties` is true or a schema
  (stricter than JSON Schema, whose default is open: an argument the tool does not take is the
  model's mistake); one that lists none takes any;
- the annotations `description`, `title`, `default`, `examples`: shown to the model, never checked
  (`@tool` writes a parameter's default as `default` when it fits the parameter: `with_default`).

Why a subset: the env checks every call's arguments itself (`argument_problem`) before it runs the
tool, and tells the model what is wrong. A keyword it does not enforce (`minimum`, `pattern`,
`oneOf`, ...) would be shown to the model as a rule yet let any value through, and one it would
misread would turn every call into an error, so `check_parameters` refuses a schema outside the
subset when the tool is built (check such constraints in the tool and raise `ToolError`). Schemas
may nest at most `_MAX_SCHEMA_DEPTH` levels deep.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
_ARTICLES = {"integer": "an", "array": "an", "object": "an"}
_SCHEMA_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
#: Keywords that only describe (shown to the model, never checked).
_ANNOTATIONS = frozenset({"description", "title", "default", "examples"})
#: Keywords `argument_problem` enforces.
_CHECKED = frozenset({"type", "enum", "items", "properties", "required", "additionalProperties"})
_SUPPORTED = ("the supported JSON Schema subset is: type (one of, or a list of, " + ", ".join(_SCHEMA_TYPES)
              + "), enum, items (one schema), properties, required, additionalProperties (true, false or a schema), "
              "and the annotations description, title, default, examples")
#: Deepest nesting of schemas inside one another that a tool's parameters may have.
_MAX_SCHEMA_DEPTH = 32


# ------------------------------------------------------------------ is the schema in the subset


def check_parameters(parameters: Any, name: str) -> None:
    """Refuse, with a ValueError naming tool `name` and the part, a `parameters` schema outside the
    subset `argument_problem` enforces (`_SUPPORTED`): a schema it would misread must fail when
    the tool is built, not turn every call of the model into an error."""
    if not isinstance(parameters, dict):
        raise ValueError(f"tool {name!r}: parameters must be a JSON schema (a dict), got {type(parameters).__name__}")
    if parameters.get("type", "object") != "object":
        raise ValueError(f"tool {name!r}: parameters must have \"type\": \"object\" (the arguments are a JSON object), "
                         f"got {parameters.get('type')!r}")
    _check_schema(parameters, name, "parameters", 0)


def _check_schema(schema: Any, name: str, where: str, depth: int) -> None:
    """Refuse `schema` (the part of tool `name`'s parameters at `where`, nested `depth` deep), and
    the schemas inside it, when outside the subset: a ValueError naming the part and the subset."""
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
    # known type names first: only then are they strings, which a set can hold
    if kinds is not None and (not isinstance(names, list) or not names or any(kind not in _SCHEMA_TYPES for kind in names)
                              or len(set(names)) < len(names)):
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


# ------------------------------------------------------------------ do the arguments fit it


def argument_problem(arguments: Any, parameters: dict[str, Any], name: str) -> str | None:
    """None if `arguments` fit tool `name`'s `parameters` schema, else what is wrong (for the
    model to read)."""
    if not isinstance(arguments, dict):
        return f"arguments must be a JSON object, got {type(arguments).__name__}"
    return _value_problem(arguments, parameters, None, name)


def _value_problem(value: Any, schema: dict[str, Any], where: str | None, name: str) -> str | None:
    """What is wrong with `value` (the part of tool `name`'s arguments at `where`; None for the
    arguments themselves, worded as arguments rather than keys) for `schema`, or None."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is_kind(value, kind) for kind in kinds):
            return f"{where or 'the arguments'} of tool {name!r} must be {_kinds_text(kinds)}, got {type(value).__name__}"
        if _float_hinted(kinds) and _plain_int(value) and _as_float(value) is None:
            return (f"{where or 'the arguments'} of tool {name!r} must be a number a float can hold (at most about "
                    f"1.8e308 in size), got an integer of about {_digits(value)} digits")
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        return f"{where or 'the arguments'} of tool {name!r} must be one of {short_repr(schema['enum'])}, got {short_repr(value)}"
    if isinstance(value, list) and "items" in schema:
        for k, item in enumerate(value):
            problem = _value_problem(item, schema["items"], f"{where}[{k}]", name)
            if problem:
                return problem
    if isinstance(value, dict) and {"properties", "required", "additionalProperties"} & set(schema):
        return _object_problem(value, schema, where, name)
    return None


def _object_problem(value: dict[str, Any], schema: dict[str, Any], where: str | None, name: str) -> str | None:
    """`_value_problem` of an object for an object schema: required keys, unknown keys (`_closed`),
    then each value."""
    props, extra = schema.get("properties", {}), schema.get("additionalProperties")
    missing = [key for key in schema.get("required", []) if key not in value]
    if missing:
        return (f"missing required argument(s) {missing} for tool {name!r}" if where is None
                else f"{where} of tool {name!r} is missing the key(s) {missing}")
    if _closed(schema):
        unknown = [key for key in value if key not in props]
        if unknown:
            return (f"unknown argument(s) {unknown} for tool {name!r}; its arguments are {list(props)}" if where is None
                    else f"{where} of tool {name!r} has unknown key(s) {short_repr(unknown)}; its keys are {list(props)}")
    for key, item in value.items():
        sub = props.get(key, extra if isinstance(extra, dict) else {})
        problem = _value_problem(item, sub, f"argument {key!r}" if where is None else f"{where}[{key!r}]", name)
        if problem:
            return problem
    return None


def _is_kind(value: Any, kind: str) -> bool:
    """Whether `value` (parsed JSON) is of JSON Schema type `kind`. An integer is, as JSON Schema
    says, any number whose fractional part is zero: `3` and `3.0`, not `3.5`, NaN or an infinity
    (`conform_arguments` makes such a float an int before the tool gets it); a bool is not one."""
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or _integral_float(value)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}[kind])


def conform_arguments(arguments: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """`arguments` as the tool gets them: each float that `parameters` accepts only as an integer
    (`3.0` where the type is "integer" and not "number") made an int, and each int given to a
    parameter `@tool` made from a `float` hint (`_float_hinted`) made a float (`4` as `4.0`; one
    float cannot hold exactly, 2**53 + 1, as the nearest float), in arrays and objects too, so that
    a tool hinted `int` gets an int and one hinted `float` a float (an int too large for a float,
    which `argument_problem` refuses, is left as it is). An int for a "number" in a schema written
    by hand is left as it is: such schemas say "number" for integers too. The rest is left as it
    is, and so is every container with nothing to change (the same object); one with something to
    change is a new one, so the caller's arguments (the recorded call) are never modified. Meant
    for arguments that passed `argument_problem`; it walks the schema as that does."""
    return _conform(arguments, parameters)


def _conform(value: Any, schema: dict[str, Any]) -> Any:
    """`conform_arguments` of the part `value` of the arguments, for its schema `schema`."""
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    if _integral_float(value) and "integer" in kinds and "number" not in kinds:
        return int(value)
    if _plain_int(value) and _float_hinted(kinds):  # (one too large for a float: `_value_problem` refuses it)
        as_float = _as_float(value)
        return value if as_float is None else as_float
    if isinstance(value, list) and "items" in schema:
        items = [_conform(item, schema["items"]) for item in value]
        return items if any(new is not old for new, old in zip(items, value)) else value
    if isinstance(value, dict) and {"properties", "required", "additionalProperties"} & set(schema):
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        conformed = {key: _conform(item, props.get(key, extra if isinstance(extra, dict) else {}))
                     for key, item in value.items()}
        return conformed if any(conformed[key] is not item for key, item in value.items()) else value
    return value


class _FloatNumber(str):
    """The type name "number" as `param_schema` writes it for a `float` hint: equal to "number",
    and JSON and chat templates show it as that, but it tells `conform_arguments` that the
    function asked for a float. No key of its own is added to the schema the model reads, and it
    survives the copies the schema goes through (`{**schema}`, a `["number", "null"]` list,
    `copy.deepcopy`, pickling). `plain_schema` makes it a plain "number" again for what is shown
    and hashed."""

    __slots__ = ()


_FLOAT_NUMBER = _FloatNumber("number")


def _float_hinted(kinds: list[str]) -> bool:
    """Whether a schema of types `kinds` is a parameter hinted `float` (`_FloatNumber`, without
    "integer"), so that the tool gets an int the model wrote (`4`) as a float (`4.0`): a float's
    methods (`x.hex()`, `x.is_integer()`) must not fail on it. A hand-written "number" is not one:
    OpenAI-style schemas use it for integers too, and a tool such as `math.comb` needs the int."""
    return any(isinstance(kind, _FloatNumber) for kind in kinds) and "integer" not in kinds


def plain_schema(value: Any) -> Any:
    """`value` (a schema, or a tool's OpenAI-format schema) with each `_FloatNumber` made a plain
    "number" (new containers where something changed), for what is shown and fingerprinted: the
    same JSON, and the same digest as a schema written by hand."""
    if isinstance(value, _FloatNumber):
        return "number"
    if isinstance(value, dict):
        new = {key: plain_schema(item) for key, item in value.items()}
        return new if any(new[key] is not item for key, item in value.items()) else value
    if isinstance(value, list):
        items = [plain_schema(item) for item in value]
        return items if any(new is not old for new, old in zip(items, value)) else value
    return value


def _plain_int(value: Any) -> bool:
    """Whether `value` is an int and not a bool (true and false are not numbers in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _digits(value: int) -> int:
    """About how many decimal digits `value` has (from its bits: `str()` of a very long int raises)."""
    return int(value.bit_length() * 0.30103) + 1


def _as_float(value: int) -> float | None:
    """`value` as a float, or None when it is too large for one (beyond about 1.8e308)."""
    try:
        return float(value)
    except OverflowError:
        return None


def _integral_float(value: Any) -> bool:
    """Whether `value` is a float with no fractional part (finite: `float.is_integer` is False for
    NaN and the infinities)."""
    return isinstance(value, float) and value.is_integer()


def _kinds_text(kinds: list[str]) -> str:
    """`kinds` in words for a message: "an integer or null"."""
    words = [f"{_ARTICLES.get(kind, 'a')} {kind}" if kind != "null" else "null" for kind in kinds]
    return " or ".join(words)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, 1 is 1.0."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def short_repr(value: Any) -> str:
    """`repr(value)`, cut to 80 characters so that a message stays readable."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ------------------------------------------------------------------ schemas from type hints


def param_schema(hint: Any) -> dict[str, Any] | None:
    """The JSON schema of a parameter hinted `hint`, or None when it has none: str, int, float,
    bool, list, dict, `list[X]` (with `items`), `dict[str, X]` (with `additionalProperties`), and
    any of those `| None` (`Optional`: a `["...", "null"]` type). A `float` hint's "number" is
    `_FloatNumber`: the tool gets an int the model wrote as a float (`conform_arguments`)."""
    origin = typing.get_origin(hint) or hint
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        others = [arg for arg in args if arg is not type(None)]
        inner = param_schema(others[0]) if len(others) == 1 and len(args) == 2 else None
        return None if inner is None else {**inner, "type": [inner["type"], "null"]}
    if origin not in _JSON_TYPES:
        return None
    schema: dict[str, Any] = {"type": _FLOAT_NUMBER if origin is float else _JSON_TYPES[origin]}
    if origin is list and len(args) == 1:
        items = param_schema(args[0])
        if items is not None:
            schema["items"] = items
    if origin is dict and len(args) == 2 and args[0] is str:
        values = param_schema(args[1])
        if values is not None:
            schema["additionalProperties"] = values
    return schema


#: A default longer than this as JSON is left out of the schema (the model sees it in every prompt).
MAX_DEFAULT_CHARS = 200


def with_default(schema: dict[str, Any], default: Any) -> dict[str, Any]:
    """`schema` with `"default"`: `default`, a parameter's default value, when it is JSON (it
    round-trips through `json` unchanged: no NaN, tuple or non-string key) and a value `schema`
    accepts, and at most `MAX_DEFAULT_CHARS` long as JSON; else `schema` as it is. The model then
    knows what leaving the argument out means.

    `None` is written (as null) when the schema takes null, as it does for `x: int = None` and
    `x: int | None = None`: leaving such an argument out is passing null. A default the schema
    refuses (`x: int = "auto"`) is left out rather than shown: JSON Schema says a default should be
    valid, and the model would copy it into calls that then fail."""
    try:
        text = json.dumps(default, allow_nan=False)
        written = json.loads(text)
    except (TypeError, ValueError, RecursionError):  # not JSON: an object, NaN, a cycle, too deep
        return schema
    if len(text) > MAX_DEFAULT_CHARS:  # shown in every prompt that lists the tool: a table would fill the context
        return schema
    if written != default or _value_problem(default, schema, "the default", "") is not None:
        return schema
    return {**schema, "default": written}
