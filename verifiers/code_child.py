"""The untrusted side of `check_function`: the process that loads the solution and serves its calls.

The harness (`code_harness`) starts this with `python3 -I -S -c <this source> <request fd> <reply fd>
<import path>` after fork + exec, so the process inherits no memory of the harness. Everything here
is within the solution's reach, and nothing here is trusted: the harness reads only plain data from
it, in JSON, and checks every message.

It is kept small and imports almost nothing (no json, no re), because a fresh interpreter per
verdict is the price of isolation and its start-up is most of a verdict's cost.
Protocol: requests are 4-byte big-endian length + marshal of a dict (trusted data, from the
harness): {"op": "load", "source", "typing_names"} or {"op": "call", "id", "name", "args", "kwargs"},
with values in the tagged form of `code_harness.encode` (binary: a "$floats" body is the doubles'
bytes, not base64 text). Replies are 4-byte length + UTF-8 JSON:
{"op": "loaded"} | {"op": "load_error", "error"} | {"op": "reply", "id", one of "value" | "raised" |
"unsupported" | "too_large" | "changed_unsent", "took", optionally "changed"} and no other key, each
once, in this compact form (no whitespace outside strings: the harness refuses anything else as
malformed), where "took" is the seconds spent in the solution's own
code (the call, and a returned iterator's items), the rest being the transfer's (see
`code_harness.Harness._credit_transfer`, which trusts it only as far as its own measured share of
the transfer explains), and
"too_large" is the size in bytes of a return value's message past MAX_MESSAGE (null: encoding it ran
out of memory), "changed_unsent" is [position or keyword, size] for an argument changed in place
whose state cannot go back (size: the reply's in bytes past the room, null when encoding ran out of
memory), where "raised" is [the nearest builtin exception class's name, the message, the
args (tagged plain data, or null), the exception class's own name] (`_raised`), and "changed" is
[[position or keyword, tagged state], ...] for each list, dict, set, bytearray, deque or array
argument that the call changed in place (`_changed`): the harness writes it into the tests' object;
a state of {"$same":"value"} (exactly) stands for the return value, when the argument is the very
object the call returned.
"""

import builtins
import marshal
import posix
import sys

from _json import encode_basestring_ascii as _quote

try:  # the C encoder of `json`, for flat lists (ints, strings, bools, None): about twice as fast
    from _json import make_encoder as _make_encoder
    _flat_encoder = _make_encoder(None, None, _quote, None, ":", ",", False, False, False)
except (ImportError, TypeError):  # not this interpreter's signature: item by item in Python
    _flat_encoder = None
from time import perf_counter as _clock

MAX_MESSAGE = 16 << 20
MAX_DEPTH = 300
MAX_ITEMS = 1_000_000
WIDE_INT_BITS = 12_000
#: The most JSON text an exception's args may take to travel as they are (else its message stands
#: for them).
MAX_EXCEPTION_ARGS = 64 << 10
_INF = float("inf")
_KEYS, _VALUES, _ITEMS = type({}.keys()), type({}.values()), type({}.items())
#: Items that need no tag: a list of only these is decoded as it is, without a look at each item.
_SCALARS = frozenset({type(None), bool, int, float, str})
#: Room kept in a reply beside the changed arguments' states (its head, "took", the brackets).
CHANGED_ROOM = 64 << 10
#: Seconds the solution's own code ran while a return value was encoded (a returned generator).
_spent = [0.0]


class _TooLarge(ValueError):
    """A reply larger than MAX_MESSAGE; `size` is its size in bytes."""

    def __init__(self, size):
        super().__init__(f"a message of {size} bytes (more than {MAX_MESSAGE})")
        self.size = size


# -- values: tagged plain data ------------------------------------------------------------------
# KEEP IN STEP with the codec in code_harness.py (encode/decode and the limits MAX_DEPTH, MAX_ITEMS,
# WIDE_INT_BITS, MAX_MESSAGE). The two copies are on purpose: this file must stand alone (it runs as
# `python -c <source>` in the sandbox and cannot import rlvr), so it cannot share the harness's code.
# A tag or limit changed on one side must change on the other;
# tests/test_verifiers_code.py::test_child_and_harness_codecs_agree checks that they still agree.
def _untag(data):
    """A trusted argument back from its tagged form."""
    kind = type(data)
    if kind is list:
        if set(map(type, data)) <= _SCALARS:  # (a fresh list: `_mutable_copies` takes a second one)
            return list(data)
        return [_untag(item) for item in data]
    if kind is not dict:
        return data
    ((tag, body),) = data.items()
    if tag == "$int":
        return int(body, 16)
    if tag == "$float":
        return float(body)
    if tag == "$bytes":
        return __import__("binascii").a2b_base64(body)
    if tag == "$bytearray":
        return bytearray(__import__("binascii").a2b_base64(body))
    if tag == "$decimal":
        return __import__("decimal").Decimal(body)
    if tag == "$floats":  # the doubles as bytes in a (marshal) request, as base64 text in JSON
        raw = body if type(body) is bytes else __import__("binascii").a2b_base64(body)
        return __import__("array").array("d", raw).tolist()
    items = [_untag(item) for item in body]
    if tag == "$tuple":
        return tuple(items)
    if tag == "$set":
        return set(items)
    if tag == "$frozenset":
        return frozenset(items)
    if tag == "$dict":
        return {key: value for key, value in items}
    if tag == "$keys":
        return dict.fromkeys(items).keys()
    if tag == "$values":
        return dict(enumerate(items)).values()
    if tag == "$items":
        return {key: value for key, value in items}.items()
    if tag == "$array":
        return __import__("array").array(items[0], items[1])
    if tag == "$complex":
        return complex(items[0], items[1])
    if tag == "$range":
        return range(*items)
    if tag == "$fraction":
        return __import__("fractions").Fraction(items[0], items[1])
    if tag == "$deque":
        return __import__("collections").deque(items)
    if tag == "$iter":
        return iter(items)
    raise ValueError(f"unknown tag {tag!r}")


def _json(value, out, depth=0):
    """Append the JSON text of `value`'s tagged plain-data form to `out`; TypeError if not plain."""
    if depth > MAX_DEPTH:
        raise ValueError("data nested too deeply")
    kind = type(value)
    if value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is str:
        out.append(_quote(value))
    elif kind is int:
        if value.bit_length() <= WIDE_INT_BITS:
            out.append(int.__repr__(value))
        else:
            out.append('{"$int":"%s"}' % hex(value))
    elif kind is float:
        if value != value or value == _INF or value == -_INF:
            out.append('{"$float":"%s"}' % float.__repr__(value))
        else:
            out.append(float.__repr__(value))
    elif kind is list:
        if depth >= MAX_DEPTH or not _flat_json(value, out):
            _sequence(value, out, depth, "[", "]")
    elif kind is tuple:
        _sequence(value, out, depth, '{"$tuple":[', "]}")
    elif kind is dict:
        out.append('{"$dict":[')
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append("[")
            _json(key, out, depth + 1)
            out.append(",")
            _json(item, out, depth + 1)
            out.append("]")
        out.append("]}")
    elif kind is set or kind is frozenset:
        _sequence(value, out, depth, '{"$%s":[' % kind.__name__, "]}")
    elif kind is bytes or kind is bytearray:
        text = __import__("binascii").b2a_base64(bytes(value), newline=False).decode("ascii")
        out.append('{"$%s":"%s"}' % (kind.__name__, text))
    elif kind is complex:
        _sequence((value.real, value.imag), out, depth, '{"$complex":[', "]}")
    elif kind is range:
        _sequence((value.start, value.stop, value.step), out, depth, '{"$range":[', "]}")
    elif kind is _TagRef:
        if type(value.body) is list:  # item by item, as `code_harness.encode` writes these bodies: a
            # body is never a "$floats" form (a deque or iterator of floats), which decode refuses there
            _sequence(value.body, out, depth, '{"%s":[' % value.tag, "]}")
        else:
            out.append('{"%s":' % value.tag)
            _json(value.body, out, depth + 1)
            out.append("}")
    else:
        _json(_plain(value), out, depth)


_FLAT = frozenset({int, str, bool, type(None)})
_LITERALS = {True: "true", False: "false", None: "null"}


def _flat_json(items, out):
    """Append the JSON of a list of only floats (as "$floats": base64 of the machine's doubles), or
    only narrow ints, strings, bools and None, written at C speed, and say True; False for others.
    (The reply's encoding is the child's share of a call's transfer, which the harness credits only
    as a multiple of its own decoding: it must not be much slower than that.)"""
    types = set(map(type, items))
    if types == {float}:  # as binary doubles: float text is slow to write and to read
        data = __import__("array").array("d", items).tobytes()
        out.append('{"$floats":"%s"}' % __import__("binascii").b2a_base64(data, newline=False).decode("ascii"))
        return True
    if not types <= _FLAT:
        return False
    if int in types:
        ints = items if len(types) == 1 else [item for item in items if type(item) is int]
        if max(map(int.bit_length, ints)) > WIDE_INT_BITS:
            return False
    if _flat_encoder is not None:
        out.extend(_flat_encoder(items, 0))
    elif types <= {bool, type(None)}:
        out.append("[" + ",".join(map(_LITERALS.__getitem__, items)) + "]")
    else:
        out.append("[")
        _sequence(items, out, 0, "", "")
        out.append("]")
    return True


def _sequence(items, out, depth, opening, closing):
    out.append(opening)
    first = True
    for item in items:
        if not first:
            out.append(",")
        first = False
        _json(item, out, depth + 1)
    out.append(closing)


class _TagRef:
    """A value already in tagged form (Fraction, Decimal, deque, dict view, array, iterator, Counter,
    OrderedDict, defaultdict, namedtuple) for `_json` to write."""

    __slots__ = ("tag", "body")

    def __init__(self, tag, body):
        self.tag, self.body = tag, body


def _plain(value):
    """What a non-plain value stands for: subclasses of plain types, and a few stdlib values."""
    kind = type(value)
    where = (getattr(kind, "__module__", ""), kind.__name__)
    if where == ("fractions", "Fraction"):
        return _TagRef("$fraction", [value.numerator, value.denominator])
    if where == ("decimal", "Decimal"):
        return _TagRef("$decimal", str(value))
    if where == ("collections", "deque"):
        return _TagRef("$deque", list(value))
    for base, convert in ((bool, bool), (int, int.__int__), (float, float.__float__), (str, str.__str__)):
        if isinstance(value, base):
            return convert(value)
    collections = sys.modules.get("collections")  # loaded if the solution made one of its containers
    if collections is not None and isinstance(value, dict):
        pairs = [[key, item] for key, item in dict.items(value)]
        if isinstance(value, collections.Counter):
            return _TagRef("$counter", pairs)
        if isinstance(value, collections.OrderedDict):
            return _TagRef("$odict", pairs)
        if isinstance(value, collections.defaultdict):
            factory = value.default_factory
            name = None if factory is None else getattr(factory, "__name__", "")
            if factory is None or getattr(builtins, name, None) is factory:  # the harness takes builtins only
                return _TagRef("$defaultdict", [name, pairs])
    if isinstance(value, tuple):  # a namedtuple keeps its type's name and fields
        fields = getattr(kind, "_fields", None)
        if (type(fields) is tuple and len(fields) == tuple.__len__(value)
                and all(type(field) is str for field in fields)):
            return _TagRef("$namedtuple", [str(kind.__name__), list(fields), list(tuple.__iter__(value))])
        return tuple(tuple.__iter__(value))
    if isinstance(value, list):
        return list(list.__iter__(value))
    if isinstance(value, dict):  # a dict subclass of no kind above
        return dict(dict.items(value))
    if isinstance(value, (set, frozenset)):
        return set(value)
    if isinstance(value, (_KEYS, _VALUES)):  # odict views too
        return _TagRef("$keys" if isinstance(value, _KEYS) else "$values", list(value))
    if isinstance(value, _ITEMS):
        return _TagRef("$items", [[key, item] for key, item in value])
    arrays = sys.modules.get("array")  # loaded if the solution made an array; not imported otherwise
    if arrays is not None and isinstance(value, arrays.array):
        return _TagRef("$array", [value.typecode, value.tolist()])
    if where[0] == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(kind, "__next__") and hasattr(kind, "__iter__"):
        items = []
        started = _clock()
        try:
            for item in value:  # the solution's own code (a generator's body) runs here
                if len(items) >= MAX_ITEMS:
                    raise ValueError(f"an iterator of more than {MAX_ITEMS} items")
                items.append(item)
        finally:
            _spent[0] += _clock() - started
        return _TagRef("$iter", items)
    raise TypeError(f"a {kind.__name__} object")


def to_json(value):
    """The JSON text of a return value, or TypeError/ValueError when it is not plain data."""
    out = []
    _json(value, out)
    return "".join(out)


# -- framing ------------------------------------------------------------------------------------
def _read_exact(fd, size):
    chunks = []
    while size:
        chunk = posix.read(fd, min(size, 1 << 20))
        if not chunk:
            posix._exit(0)  # the harness is gone
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _send(fd, text):
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_MESSAGE:
        raise _TooLarge(len(data))
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[posix.write(fd, view):]


def _describe(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        text = ""
    name = type(exc).__name__
    if isinstance(exc, SyntaxError):
        text = f"{exc.msg} (line {exc.lineno})"
    return (f"{name}: {text}" if text else name)[:500]


def _nearest_builtin(kind):
    """The name of the first class in `kind`'s MRO that is builtins' own class of that name (a
    json.JSONDecodeError is a ValueError, a solution's `class Bad(KeyError)` a KeyError)."""
    for cls in kind.__mro__:
        if getattr(builtins, cls.__name__, None) is cls:
            return cls.__name__
    return "BaseException"


def _raised(exc):
    """The JSON of the "raised" field: [nearest builtin class name, message, args as tagged plain
    data or null, the exception's own class name]. The harness rebuilds the builtin class from
    these plain data alone; args that are not plain data, or are too large, travel as null."""
    try:
        text = str(exc)[:500]
    except BaseException:  # noqa: BLE001
        text = ""
    try:
        args = to_json(tuple(exc.args))
        if len(args) > MAX_EXCEPTION_ARGS:
            args = "null"
    except BaseException:  # noqa: BLE001 - not plain data: the message stands for them
        args = "null"
    try:
        builtin, own = _nearest_builtin(type(exc)), str(type(exc).__name__)
    except BaseException:  # noqa: BLE001 - a class that hides its name or MRO
        builtin = own = "BaseException"
    return "[" + ",".join((_quote(builtin), _quote(text), args, _quote(own[:200]))) + "]"


#: The types of argument whose state after a call goes back to the tests when the call changed it.
_MUTABLE = ("list", "dict", "set", "bytearray", "deque", "array")


def _mutable_copies(message, args, kwargs):
    """{position or keyword: a second copy of that argument as it came in}, for each argument of a
    mutable type (`_MUTABLE`): what `_changed` compares it with after the call."""
    copies = {}
    for key, value in [*enumerate(args), *kwargs.items()]:
        if type(value).__name__ in _MUTABLE:
            copies[key] = _untag(message["args"][key] if type(key) is int else message["kwargs"][key])
    return copies


class _Unsent(Exception):
    """An argument the call changed in place whose state cannot go back to the tests: `key` is its
    position or keyword, `why` the JSON of the reason (the reply's size in bytes, or null when
    encoding ran out of memory). Never left out silently: the tests would see the argument as it
    was, and a right answer would fail as wrong."""

    def __init__(self, key, why):
        super().__init__(why)
        self.key, self.why = key, why

    def json(self):
        key = int.__repr__(self.key) if type(self.key) is int else _quote(self.key)
        return "[" + key + "," + self.why + "]"


#: The state sent for a changed argument that is the very object the call returned: the harness
#: writes the return value back into it, so the state does not travel twice (`xs.sort(); return xs`).
SAME_AS_VALUE = '{"$same":"value"}'


def _changed(before, args, kwargs, used, result=None, body=None):
    """The ("changed", JSON) part of a reply: [[position or keyword, state], ...] for each mutable
    argument that the call changed in place, so the harness can update the tests' object; none when
    nothing changed. An argument that is the returned object itself (`result`, encoded as `body`)
    gets SAME_AS_VALUE for its state. `_Unsent` when the states would not fit in a message beside
    `used` bytes (the return value's), or encoding them ran out of memory: the answer's failure,
    as a return value that cannot go back is, unless the argument as the tests sent it could not
    come back either (the harness decides). An argument that no longer is plain data (the solution
    put an object of its own in it) is left out, as the return value's check would not see it: the
    tests see that argument as it was (code rules 8)."""
    parts = []
    size = used
    for key, copy in before.items():
        value = args[key] if type(key) is int else kwargs[key]
        try:
            if type(value) is type(copy) and value == copy:
                continue
        except BaseException:  # noqa: BLE001 - an object of the solution's that cannot compare: see below
            pass
        try:
            state = body if body is not None and value is result else to_json(value)
        except MemoryError:
            raise _Unsent(key, "null") from None
        except BaseException:  # noqa: BLE001 - not plain data any more: left as it was
            continue
        try:
            if type(value) is type(copy) and state == to_json(copy):
                continue  # equal but for a NaN (`nan != nan`): unchanged, and the tests keep their objects
        except BaseException:  # noqa: BLE001 - (the copy is plain data: only memory can fail here)
            pass
        if body is not None and value is result:
            state = SAME_AS_VALUE
        text = "[" + (int.__repr__(key) if type(key) is int else _quote(key)) + "," + state + "]"
        size += len(text) + 1
        if size > MAX_MESSAGE - CHANGED_ROOM:
            raise _Unsent(key, int.__repr__(size))
        parts.append(text)
    return [("changed", "[" + ",".join(parts) + "]")] if parts else []


def _seconds(value):
    """A duration as JSON text."""
    return float.__repr__(float(value)) if value == value and 0 <= value < _INF else "null"


def _reply(fd, parts):
    _send(fd, "{" + ",".join(_quote(k) + ":" + v for k, v in parts) + "}")


def solution_module():
    """A fresh module `solution`, registered in sys.modules, for the solution's code to run in.

    The solution runs as an imported module would: `dataclasses`, `typing.get_type_hints` and pickle
    look its classes up by their `__module__` in sys.modules, and fail without it."""
    module = type(sys)("solution")
    module.__builtins__ = builtins
    sys.modules["solution"] = module
    return module


def add_typing_names(namespace):
    """Put `typing`'s public names (`from typing import *`) in the solution's namespace before its
    code runs, as LeetCode's environment has them for call-based answers (`List[int]` in its
    starter code is never imported). The code's text is not changed, so the line numbers its errors
    report are its own, and a name the code defines itself replaces typing's."""
    typing = __import__("typing")
    for name in typing.__all__:
        namespace[name] = getattr(typing, name)


def _exit(code=None):
    """`exit()` and `quit()`, which `site` adds in a plain `python3` but this process (run with -S)
    lacks: without them a solution's `exit()` raised NameError, which a test's `except Exception`
    catches, where in one process it raises SystemExit, which it does not."""
    raise SystemExit(code)


def serve(request_fd, reply_fd):
    for name in ("exit", "quit"):
        if not hasattr(builtins, name):
            setattr(builtins, name, _exit)
    namespace = solution_module().__dict__
    while True:
        size = int.from_bytes(_read_exact(request_fd, 4), "big")
        message = marshal.loads(_read_exact(request_fd, size))
        op = message["op"]
        if op == "load":
            try:
                if message.get("typing_names"):
                    add_typing_names(namespace)
                # dont_inherit: compiled as `python3` compiles a file, with no __future__ flags of ours
                exec(compile(message["source"], "<solution>", "exec", dont_inherit=True), namespace)
                _reply(reply_fd, [("op", '"loaded"')])
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: a solution may not leave
                _reply(reply_fd, [("op", '"load_error"'), ("error", _quote(_describe(exc)))])
            continue
        head = [("op", '"reply"'), ("id", int.__repr__(message["id"]))]
        name = message["name"]
        function = namespace.get(name) if name else None
        if not callable(function):
            what = f"no function {name!r}" if name else "no function to test (pass entry_point)"
            raised = "[" + _quote("NameError") + "," + _quote(f"the solution defines {what}") + "]"
            _reply(reply_fd, head + [("raised", raised)])
            continue
        before = None  # stays None when decoding the arguments fails: no call, nothing changed
        started = None
        try:
            args = [_untag(arg) for arg in message["args"]]
            kwargs = {key: _untag(value) for key, value in message["kwargs"].items()}
            before = _mutable_copies(message, args, kwargs)
            started = _clock()
            result = function(*args, **kwargs)
            took = _clock() - started
        except BaseException as exc:  # noqa: BLE001
            took = 0.0 if started is None else _clock() - started
            try:
                changed = [] if before is None else _changed(before, args, kwargs, 0)
            except _Unsent as unsent:
                _reply(reply_fd, head + [("changed_unsent", unsent.json()), ("took", _seconds(took))])
                continue
            _reply(reply_fd, head + [("raised", _raised(exc)), ("took", _seconds(took))] + changed)
            continue
        try:
            _spent[0] = 0.0
            body = to_json(result)
            took += _spent[0]
            changed = _changed(before, args, kwargs, len(body), result, body)
            _reply(reply_fd, head + [("value", body), ("took", _seconds(took))] + changed)
        except _Unsent as unsent:
            body = result = None
            _reply(reply_fd, head + [("changed_unsent", unsent.json()), ("took", _seconds(took))])
        except (_TooLarge, MemoryError) as exc:  # a valid value, but more than a message may carry
            size = int.__repr__(exc.size) if type(exc) is _TooLarge else "null"
            body = result = None
            _reply(reply_fd, head + [("too_large", size), ("took", _seconds(took + _spent[0]))])
        except BaseException as exc:  # noqa: BLE001
            what = exc.args[0] if isinstance(exc, TypeError) and exc.args and isinstance(exc.args[0], str) else _describe(exc)
            _reply(reply_fd, head + [("unsupported", _quote(what[:200]))])


if __name__ == "__main__":
    sys.path[:] = [path for path in sys.argv[3].split("\n") if path] if len(sys.argv) > 3 else sys.path
    serve(int(sys.argv[1]), int(sys.argv[2]))
