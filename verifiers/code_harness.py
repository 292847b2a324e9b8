"""The trusted side of `check_function`: the program that runs a problem's tests in the sandbox.

A reward for code is only worth something if the solution cannot produce the evidence of passing
by itself. This harness is built so that it cannot, by construction rather than by vigilance:

* Two processes. The harness runs the TEST code and never executes a line of the solution. The
  solution runs in a child interpreter started with fork + exec, so its memory holds nothing of the
  harness's (the tests, the expected values, the nonce); the child serves calls of the solution's
  functions over a pair of pipes. `candidate` in the tests is a proxy that sends the call.
* Plain data only. Arguments and return values cross the pipes as tagged JSON that the harness
  decodes into builtin values (None, bool, int, float, complex, str, bytes, bytearray, list, tuple,
  set, frozenset, dict, dict views (keys, values, items: views of a dict built here), range,
  Fraction, Decimal, deque, array.array, and an iterator over a list). No pickle and no object of
  the solution's making ever reaches the tests, so no `__eq__` can lie. A list, dict, set,
  bytearray, deque or array argument that a call changed in place comes back the same way, and
  its new state is written into the tests' object (`_update_in_place`), as in one process.
* One result channel. Results are read only from the harness's stdout, as a line that starts with
  a nonce the host sent on stdin. The child gets /dev/null for stdin, stdout and stderr and keeps
  no other descriptor than its two pipes; the harness is non-dumpable, so the child can neither
  ptrace it nor open /proc/<harness>/fd, /mem or /environ. The test code's own prints go to
  /dev/null, so returned strings cannot reach the result channel either. The report's size is
  bounded by the number of units, not by what the solution says (`bounded_results`), and the host
  gives the run an output cap that holds it.
* Nothing to read. The tests arrive on stdin, which the child never holds, and are never written
  to disk. The harness imports only from directories the solution cannot write.
* Failing closed. Killing, stopping or starving the harness only ever yields *no* result, which
  the host scores 0. A call that hangs, dies, or answers with garbage fails its test with an
  exception tests cannot catch (a BaseException); a fresh child serves the next test, a few times
  at most. Exceptions the solution raises reach the tests as builtin exception types only: the
  nearest builtin class in their MRO, remade from the name and plain-data args (or the task's own
  subclass of it of the same name, defined by the tests or the prompt, never the solution). A test
  that finishes without calling the solution fails: the host plans every unit around a use of the
  solution, so one that never calls it skipped its checks.

It runs under the sandbox's interpreter: standard library only, nothing of rlvr. The host
(`rlvr.verifiers.code`) sends this file as the program and one JSON object on stdin:
    {"nonce", "solution", "child_source", "setup", "units": [{"source", "label"}],
     "bindings": {name in the tests: solution function}, "modules": [...], "timeout", "call_timeout",
     "typing_names": whether the solution's module gets the `typing` names first (call-based tasks),
     "prompt" (optional): the dataset's code the solution's program opens with, loaded alone when
     the solution fails to load (`prompt_problem`: a prompt that fails alone is a setup error)}
and reads back one line: "<nonce> <json>" with {"kind": "results", "results": [...]} (or
"setup_error" / "harness_error" when verification itself could not be done). The child runs
`child_source` (`code_child.py`): requests go to it as marshal (trusted data), replies come back as
JSON (untrusted data, parsed by `decode` into plain values only).
"""

from __future__ import annotations

import array
import base64
import builtins
import collections
import decimal
import fractions
import itertools
import json
import marshal
import math
import os
import select
import signal
import struct
import sys
import time
import traceback

PR_SET_DUMPABLE = 4
#: Largest message either side accepts (a return value of more is a failed call, not a crash).
MAX_MESSAGE = 16 << 20
#: Deepest nesting of plain data that crosses the pipes.
MAX_DEPTH = 300
#: Room kept in a reply beside the changed arguments' states (as code_child's CHANGED_ROOM).
CHANGED_ROOM = 64 << 10
#: Most items taken from a returned iterator or generator.
MAX_ITEMS = 1_000_000
#: Ints wider than this many bits travel as hex text (JSON readers cap decimal digits).
WIDE_INT_BITS = 12_000
#: Fresh solution processes the harness may start after the first one died or hung.
MAX_RESTARTS = 3
#: The solution process's program compiled by the host (magic number + marshal), in the work dir.
CHILD_CODE_FILE = "rlvr_child.bin"
#: Standard modules the tests may use by name without importing them (MBPP tests lean on the
#: solution's `import math`); the harness imports them itself, before any solution code runs.
MODULES = (
    "array", "bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions",
    "functools", "hashlib", "heapq", "itertools", "json", "math", "operator", "random", "re",
    "statistics", "string", "sys", "typing",
)
#: Seconds past the time limit that the tests' own code may take the run (`Harness.run_units`):
#: the limit counts only the solution's time, and the host's sandbox gives the harness 3s beyond
#: it (code.HARNESS_GRACE) for start-up and reporting; what is left then ends the last unit.
TESTS_OVERTIME = 1.5
#: How much of a call's time may be passing its values to and from the solution rather than the
#: solution's own (`Harness._credit_transfer`): at most TRANSFER_SECONDS_PER_CALL plus
#: TRANSFER_FACTOR times this side's own measured work on the call (encoding and sending the
#: request, reading, parsing, decoding and writing back the reply). The child's share of the same
#: work (decoding the request, encoding the reply) cannot be measured here, since the solution runs
#: in that process and may tamper with what it reports; the factor stands for it. Measured on a
#: loaded 2-core AMD EPYC, the child's encoding of a reply takes 0.3 to 2.3 times this side's
#: decoding of it (a million small ints cost the child most; floats, tuples and dicts are the cheaper
#: side for the child), and its decoding of a request 0.1 to 2.6 times this side's encoding (a dict's
#: pairs cost the child most); so a round trip costs 1.3 to 3.3 times this side's share, and a
#: factor of 3 credits the transfer of most right answers in full (the rest counts as the answer's,
#: as all of it did before code rules 13). A reply
#: padded to buy credit gains at most twice this side's time on the padding (which the child may
#: make once and send again), and the run's end (`TESTS_OVERTIME`) bounds all credit anyway.
TRANSFER_SECONDS_PER_CALL = 0.001
TRANSFER_FACTOR = 3.0
#: Items that need no tag: a list of only these travels as it is, without a look at each item.
_SCALARS = frozenset({type(None), bool, int, float, str})
class RunEnded(BaseException):
    """Raised in a unit still running at the run's end (`Harness._arm_run_end`): outside
    `Exception`, so that a test's `except Exception` does not swallow it."""


#: Exceptions from the solution that must not be re-raised in the tests as themselves: they steer
#: control flow (a StopIteration ends a `for x in map(candidate, ...)` loop early, silently).
UNSAFE_EXCEPTIONS = frozenset({"StopIteration", "StopAsyncIteration", "GeneratorExit"})
_LEN = struct.Struct(">I")
#: The dict view types, which travel as the keys, values or items of a dict and come back as views.
DICT_KEYS, DICT_VALUES, DICT_ITEMS = type({}.keys()), type({}.values()), type({}.items())
#: Why a test that never called the solution fails (see `Harness.run_units`).
NO_CALL = ("the test never called the solution, so it checked nothing (the dataset's tests may be "
           "skipping their checks)")
#: The report is the verifier's own channel, so its size is bounded whatever the solution says
#: (`bounded_results`): each unit's error is cut to UNIT_ERROR_CHARS, and once the errors already
#: reported take REPORT_ERROR_BYTES, a failing unit carries ERROR_OMITTED instead. The host raises
#: the run's output cap to `report_bytes(units)`, so a report of many units is never cut off.
UNIT_ERROR_CHARS = 1000
REPORT_ERROR_BYTES = 64 << 10
ERROR_OMITTED = "error not reported: the report's room for error text was used up by earlier tests"
#: The most a unit's entry takes beyond the error text counted in REPORT_ERROR_BYTES (its comma too).
UNIT_REPORT_BYTES = len(json.dumps({"ok": False, "error": ERROR_OMITTED, "unsupported": ERROR_OMITTED},
                                   separators=(",", ":"))) + 1
#: The rest of the report line: nonce, kind, starts, or a harness_error's traceback (2000 characters).
REPORT_BASE_BYTES = 16 << 10
#: What the solution's process runs first (python -I -S -c): it reads its program from the request
#: pipe, as a marshalled code object compiled on the host or as source, and runs it.
CHILD_BOOTSTRAP = """
import marshal, posix, sys
def _read(fd, size):
    data = b""
    while len(data) < size:
        chunk = posix.read(fd, size - len(data))
        if not chunk:
            posix._exit(0)
        data += chunk
    return data
_fd = int(sys.argv[1])
_kind, _body = marshal.loads(_read(_fd, int.from_bytes(_read(_fd, 4), "big")))
_code = marshal.loads(_body) if _kind == "code" else compile(_body, "<rlvr child>", "exec")
del _read, _fd, _kind, _body
exec(_code, {"__name__": "__main__", "__builtins__": __builtins__})
"""


# -- plain-data codec ---------------------------------------------------------------------------
# KEEP IN STEP with the copy in code_child.py (`_untag`, `to_json` and the same limits). The copy is on
# purpose: the child runs as `python -c <source>` in the sandbox and must stand alone, so it cannot
# import this module. A tag or limit changed here must change there;
# tests/test_verifiers_code.py::test_child_and_harness_codecs_agree checks that they still agree.
class NotPlainData(TypeError):
    """What `encode` raises for an object that is no plain data (a function, a test-side object):
    only this, and not what the code of an iterator being encoded raises, says that."""


class DataLimit(ValueError):
    """What `encode` raises for plain data beyond the codec's limits (nested deeper than MAX_DEPTH,
    an iterator of more than MAX_ITEMS items): only this, and not what the code of an iterator
    being encoded raises, says that."""


class UnsendableArgument(TypeError):
    """Raised by `Harness.call` when the tests pass the solution an argument that no answer could
    receive: no plain data (`NotPlainData`; `what` names the object, "a function object"), plain
    data beyond the codec's limits (`DataLimit`; `limit` says which), a call larger than a
    message may be (`too_large`, its size in bytes). A unit that ends with it before it called the
    solution, and made the argument from nothing an earlier call returned, is the task's fault
    (`Harness.run_unit`). `problem` says so for the report."""

    def __init__(self, what, too_large=None, limit=None):
        if limit is not None:
            super().__init__(f"cannot pass {what} to the solution: {limit}")
            self.problem = f"the tests pass {what} to the solution, which no answer can receive: {limit}"
        elif too_large is None:
            super().__init__(f"cannot pass {what} to the solution: only plain data crosses into it")
            self.problem = f"the tests pass {what} to the solution, which only plain data can reach"
        else:
            super().__init__(f"cannot pass {what} to the solution: the call takes {too_large} bytes, "
                             f"more than the {MAX_MESSAGE} a message to it may")
            self.problem = (f"the tests pass {what} to the solution in a call of {too_large} bytes, more "
                            f"than the {MAX_MESSAGE} a message to it may take")
        self.what = what


def encode(value, depth=0, binary=False):
    """`value` as JSON-ready plain data; NotPlainData (a TypeError) for anything that is not plain data.
    `binary` (the marshal request to the child): a list of floats as its doubles' bytes, 8 a float,
    where JSON takes base64 text (10.7 bytes a float)."""
    if depth > MAX_DEPTH:
        raise DataLimit(f"data nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if value.bit_length() <= WIDE_INT_BITS else {"$int": hex(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    depth += 1
    if kind is list:
        if depth <= MAX_DEPTH and value and set(map(type, value)) == {float}:
            doubles = array.array("d", value).tobytes()
            return {"$floats": doubles if binary else base64.b64encode(doubles).decode("ascii")}
        if depth <= MAX_DEPTH and _flat(value):
            return list(value)
        return [encode(item, depth, binary) for item in value]
    if kind is tuple:
        return {"$tuple": [encode(item, depth, binary) for item in value]}
    if kind is dict:
        return {"$dict": [[encode(k, depth, binary), encode(v, depth, binary)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {"$" + kind.__name__: [encode(item, depth, binary) for item in value]}
    if kind is bytes or kind is bytearray:
        return {"$" + kind.__name__: base64.b64encode(value).decode("ascii")}
    if kind is complex:
        return {"$complex": [encode(value.real, depth, binary), encode(value.imag, depth, binary)]}
    if kind is range:
        return {"$range": [value.start, value.stop, value.step]}
    if kind is fractions.Fraction:
        return {"$fraction": [encode(value.numerator, depth, binary), encode(value.denominator, depth, binary)]}
    if kind is decimal.Decimal:
        return {"$decimal": str(value)}
    if kind is collections.deque:
        return {"$deque": [encode(item, depth, binary) for item in value]}
    return _encode_lenient(value, depth, binary)


def _flat(items):
    """Whether the list `items` holds only narrow ints, or only strings, None and bools: items that
    `encode` leaves as they are (checked at C speed, not item by item)."""
    types = set(map(type, items))
    if types == {int}:
        return max(map(int.bit_length, items)) <= WIDE_INT_BITS
    return types <= {str, type(None), bool}


def _encode_lenient(value, depth, binary):
    """Subclasses of plain types and iterators, as the plain value they stand for."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return encode(int.__int__(value), depth, binary)
    if isinstance(value, float):
        return encode(float.__float__(value), depth, binary)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple):  # namedtuples among them
        return encode(tuple(tuple.__iter__(value)), depth, binary)
    if isinstance(value, list):
        return encode(list(list.__iter__(value)), depth, binary)
    if isinstance(value, dict):  # OrderedDict, defaultdict, Counter
        return encode(dict(dict.items(value)), depth, binary)
    if isinstance(value, (set, frozenset)):
        return encode(set(value), depth, binary)
    if isinstance(value, (DICT_KEYS, DICT_VALUES)):  # odict views too
        return {"$keys" if isinstance(value, DICT_KEYS) else "$values": [encode(item, depth, binary) for item in value]}
    if isinstance(value, DICT_ITEMS):
        return {"$items": [[encode(k, depth, binary), encode(v, depth, binary)] for k, v in value]}
    if isinstance(value, array.array):
        return {"$array": [value.typecode, encode(value.tolist(), depth, binary)]}
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return encode(value.tolist(), depth, binary)
    if hasattr(type(value), "__next__") and hasattr(type(value), "__iter__"):
        items = []
        for item in value:
            if len(items) >= MAX_ITEMS:
                raise DataLimit(f"an iterator of more than {MAX_ITEMS} items")
            items.append(encode(item, depth, binary))
        return {"$iter": items}
    raise NotPlainData(f"a {type(value).__name__} object")


def decode(data, depth=0):
    """Plain data back from JSON. Accepts any JSON; anything malformed raises ValueError. A JSON
    object may come as a dict or, as `parse_reply` reads one, as a tuple of its (key, value) pairs."""
    if depth > MAX_DEPTH:
        raise ValueError("data nested too deeply")
    kind = type(data)
    if data is None or kind is bool or kind is int or kind is float or kind is str:
        return data
    depth += 1
    if kind is list:
        if depth <= MAX_DEPTH and set(map(type, data)) <= _SCALARS:
            return data  # (fresh from json.loads)
        return [decode(item, depth) for item in data]
    if (kind is not dict and kind is not tuple) or len(data) != 1:
        raise ValueError("malformed value")
    ((tag, body),) = data.items() if kind is dict else data
    if tag in ("$int", "$float", "$decimal", "$bytes", "$bytearray"):
        if type(body) is not str:
            raise ValueError(f"malformed {tag}")
        if tag == "$int":
            return int(body, 16)
        if tag == "$float":
            if body not in ("nan", "inf", "-inf"):
                raise ValueError("malformed $float")
            return float(body)
        if tag == "$decimal":
            return decimal.Decimal(body)
        raw = base64.b64decode(body.encode("ascii"), validate=True)
        return raw if tag == "$bytes" else bytearray(raw)
    if tag == "$floats":  # a list of floats, as the machine's doubles (base64)
        if type(body) is not str:
            raise ValueError("malformed $floats")
        raw = base64.b64decode(body.encode("ascii"), validate=True)
        if len(raw) % 8:
            raise ValueError("malformed $floats")
        return array.array("d", raw).tolist()
    if type(body) is not list:
        raise ValueError(f"malformed {tag}")
    items = [decode(item, depth) for item in body]
    if tag == "$tuple":
        return tuple(items)
    if tag == "$set":
        return set(items)
    if tag == "$frozenset":
        return frozenset(items)
    if tag == "$deque":
        return collections.deque(items)
    if tag == "$iter":
        return iter(items)
    if tag in ("$dict", "$items"):
        if not all(type(pair) is list and len(pair) == 2 for pair in items):
            raise ValueError(f"malformed {tag}")
        built = {key: value for key, value in items}
        return built if tag == "$dict" else built.items()
    if tag == "$keys":
        return dict.fromkeys(items).keys()
    if tag == "$values":
        return dict(enumerate(items)).values()
    if tag == "$array":
        return _decode_array(items)
    if tag in ("$counter", "$odict", "$defaultdict", "$namedtuple"):
        return _decode_container(tag, items)
    if len(items) != {"$complex": 2, "$fraction": 2, "$range": 3}.get(tag, -1):
        raise ValueError(f"unknown or malformed tag {tag!r}")
    if tag == "$complex":
        if not all(type(part) in (int, float) for part in items):
            raise ValueError("malformed $complex")
        return complex(items[0], items[1])
    if not all(type(part) is int for part in items):
        raise ValueError(f"malformed {tag}")
    if tag == "$fraction":
        return fractions.Fraction(items[0], items[1])
    return range(*items)


#: The default factories a defaultdict may come back with: builtin classes, named (never code of the
#: solution's). One with another factory comes back as a plain dict.
DEFAULT_FACTORIES = {cls.__name__: cls for cls in (int, float, complex, str, bytes, bool, list, tuple, dict,
                                                   set, frozenset)}
#: The most fields a returned namedtuple's type may have, and how many such types are kept for reuse.
MAX_FIELDS = 1000
NAMEDTUPLE_TYPES = 256
_namedtuple_types = {}


def _decode_container(tag, items):
    """The collections value of a "$counter", "$odict", "$defaultdict" or "$namedtuple" body, rebuilt
    here from plain data by the standard library's own classes, so that a returned Counter still
    answers a missing key with 0 and an OrderedDict compares its order, as in one process. A
    namedtuple comes back as an instance of a namedtuple type made here with the same name and
    fields (`collections.namedtuple` takes identifiers only), so `.x` and `._fields` work."""
    if tag == "$namedtuple":
        if len(items) != 3 or type(items[0]) is not str or type(items[1]) is not list or type(items[2]) is not list:
            raise ValueError("malformed $namedtuple")
        typename, fields, values = items
        if len(fields) != len(values):
            raise ValueError("malformed $namedtuple")
        if (len(fields) > MAX_FIELDS or len(typename) > 200
                or not all(type(field) is str and len(field) <= 200 for field in fields)):
            return tuple(values)  # (a type not rebuilt here comes back as the plain tuple it is)
        key = (typename, tuple(fields))
        cls = _namedtuple_types.get(key)
        if cls is None:
            try:
                cls = collections.namedtuple(typename, fields, module="solution")
            except (ValueError, TypeError):  # fields `namedtuple(..., rename=True)` made (`_2`), a keyword:
                return tuple(values)  # the plain tuple, as before rules 11, never the answer's fault
            if len(_namedtuple_types) < NAMEDTUPLE_TYPES:
                _namedtuple_types[key] = cls
        return cls._make(values)
    if tag == "$defaultdict":
        if len(items) != 2 or not (items[0] is None or items[0] in DEFAULT_FACTORIES):
            raise ValueError("malformed $defaultdict")
        factory, items = (None if items[0] is None else DEFAULT_FACTORIES[items[0]]), items[1]
    if not (type(items) is list and all(type(pair) is list and len(pair) == 2 for pair in items)):
        raise ValueError(f"malformed {tag}")
    pairs = {key: value for key, value in items}
    if tag == "$counter":
        return collections.Counter(pairs)
    if tag == "$odict":
        return collections.OrderedDict(pairs)
    return collections.defaultdict(factory, pairs)


def _decode_array(items):
    """array.array from [typecode, [items]]; ValueError when malformed (a bad code, out of range)."""
    if len(items) != 2 or type(items[0]) is not str or items[0] not in array.typecodes or type(items[1]) is not list:
        raise ValueError("malformed $array")
    try:
        return array.array(items[0], items[1])
    except (TypeError, OverflowError, ValueError) as exc:
        raise ValueError(f"malformed $array ({exc})") from None


# -- framing ------------------------------------------------------------------------------------
class ChannelTimeout(Exception):
    """The other side did not answer in time."""


class ChannelClosed(Exception):
    """The other side closed its end (it died, or dropped the pipe)."""


def request_frame(message):
    """The framed bytes of a request to the child: marshal, because it is trusted data going out.
    ValueError when it is larger than MAX_MESSAGE (the child would refuse it)."""
    data = marshal.dumps(message)
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"a message of {len(data)} bytes (more than {MAX_MESSAGE})")
    return _LEN.pack(len(data)) + data


def send_message(fd, message, deadline=None):
    """Frame and send a request to the child (see `request_frame`)."""
    send_frame(fd, request_frame(message), deadline)


def send_frame(fd, frame, deadline=None):
    """Send a framed request; ChannelTimeout or ChannelClosed when the child does not take it."""
    view = memoryview(frame)
    while view:
        if deadline is not None:
            _wait(fd, deadline, write=True)
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise ChannelClosed("the other side closed its pipe") from None
        view = view[written:]


#: Bytes the child's compact JSON never holds: whitespace outside strings (which escape these).
_LOOSE = (b"\n", b"\r", b"\t")


def parse_reply(data):
    """A reply of the child's as a dict whose values keep each JSON object as a tuple of its (key,
    value) pairs (what `decode` takes), so that a key given twice, at the top or in a tagged
    value, is seen: ValueError for that, for whitespace other than spaces (the child writes compact
    JSON: all of it is padding), and for anything that is no JSON object. Padding is refused because
    the transfer credit grows with this side's time on a reply (`Harness._credit_transfer`)."""
    if any(byte in data for byte in _LOOSE):
        raise ValueError("whitespace outside the child's compact JSON")
    pairs = json.loads(data, object_pairs_hook=tuple)
    if type(pairs) is not tuple:
        raise ValueError("a reply that is no JSON object")
    reply = dict(pairs)
    if len(reply) != len(pairs) or any(type(v) is tuple and len(dict(v)) != len(v) for v in reply.values()):
        raise ValueError("a key given twice")
    return reply


def recv_message(fd, deadline=None):
    """A framed reply from the child, parsed as JSON: untrusted data coming in, never unmarshalled."""
    return json.loads(recv_frame(fd, deadline))


def recv_frame(fd, deadline=None):
    """The bytes of a framed reply from the child (ValueError when it is larger than MAX_MESSAGE)."""
    size = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))[0]
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes (more than {MAX_MESSAGE})")
    return _read_exact(fd, size, deadline)


def _wait(fd, deadline, write=False):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ChannelTimeout()
    ready = select.select([], [fd], [], remaining)[1] if write else select.select([fd], [], [], remaining)[0]
    if not ready:
        raise ChannelTimeout()


def _read_exact(fd, size, deadline):
    buffer = bytearray()
    while len(buffer) < size:
        if deadline is not None:
            _wait(fd, deadline)
        try:
            chunk = os.read(fd, min(size - len(buffer), 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise ChannelClosed("the other side closed its pipe")
        buffer += chunk
    return bytes(buffer)


# -- small helpers ------------------------------------------------------------------------------
def _prctl(option, value):
    try:
        import ctypes  # only the harness needs it; the child is spared the import

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def safe_repr(value, limit=200):
    """repr(value) cut to `limit` characters, made from no more of `value` than that can show (see
    `_shown`): the label of a call with a list of 100000 items costs no more than one of 10."""
    try:
        text = repr(_shown(value, [limit + 1]))
    except BaseException:  # noqa: BLE001 - e.g. an int too wide to print
        text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(value, budget):
    """`value` cut to what the first budget[0] characters of its repr can show: every item takes at
    least one character, so lists, tuples, deques, dicts, sets and strings keep that many items in
    all (`budget` is shared down the nesting and spent as items are kept). Other values stay whole."""
    budget[0] -= 1
    kind = type(value)
    if kind is str or kind is bytes or kind is bytearray:
        return value[: max(budget[0], 0) + 1]
    if kind is set or kind is frozenset:
        return value if len(value) <= budget[0] else kind(itertools.islice(value, max(budget[0], 0)))
    if kind in (dict, collections.Counter, collections.OrderedDict, collections.defaultdict):
        kept = {key: _shown(item, budget) for key, item in itertools.islice(value.items(), max(budget[0], 0))}
        if kind is dict or len(kept) < len(value):
            return kept  # (cut: shown as a dict)
        return collections.defaultdict(value.default_factory, kept) if kind is collections.defaultdict else kind(kept)
    if kind in _namedtuple_types.values():
        kept = _shown(tuple(value), budget)
        return kind._make(kept) if len(kept) == len(value) and ... not in kept[-1:] else kept
    if kind is list or kind is tuple or kind is collections.deque:
        kept = []
        for item in value:
            if budget[0] <= 0:
                kept.append(...)  # shows as "Ellipsis", past the cut
                break
            kept.append(_shown(item, budget))
        return kind(kept)
    return value


def describe(exc):
    """'TypeError: message' for an exception, on one line and short."""
    try:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    except BaseException:  # noqa: BLE001
        text = type(exc).__name__
    text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= 500 else text[:497] + "..."


def _lock_down_fds(keep):
    """stdin/stdout/stderr to /dev/null; every descriptor but `keep` closed."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if null != fd:
            os.dup2(null, fd)
    start = 3
    for fd in sorted(set(keep)):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, 1 << 16)
    for fd in keep:
        os.set_inheritable(fd, True)


# -- the report ---------------------------------------------------------------------------------
def report_bytes(units):
    """The most bytes the report line of `units` test units can take (see `bounded_results`)."""
    return REPORT_BASE_BYTES + REPORT_ERROR_BYTES + units * UNIT_REPORT_BYTES


def _json_bytes(text):
    """Bytes `text` takes in the report: as a JSON string, UTF-8 (a lone surrogate as "?")."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "replace"))


def bounded_results(results):
    """`results` with their error texts cut to fit the report's bounds (see UNIT_ERROR_CHARS).

    Texts are kept in unit order, so the first failure, which the host names, keeps its error.
    """
    room = REPORT_ERROR_BYTES
    bounded = []
    for result in results:
        result = dict(result)
        for key in ("error", "unsupported"):
            text = result.get(key)
            if type(text) is not str:
                continue
            if len(text) > UNIT_ERROR_CHARS:
                text = text[: UNIT_ERROR_CHARS - 3] + "..."
            size = _json_bytes(text)
            if size <= room:
                room -= size
                result[key] = text
            else:
                result[key] = ERROR_OMITTED
        bounded.append(result)
    return bounded


# -- the trusted side ---------------------------------------------------------------------------
class SolutionFault(BaseException):
    """A call of the solution failed as a process (died, hung, garbled); tests cannot catch it."""


class SolutionError(Exception):
    """The solution raised an Exception that is not re-raised as itself (StopIteration, or one that
    cannot be rebuilt from its message)."""


class SolutionExit(BaseException):
    """The solution raised an exception outside Exception that is not re-raised as itself
    (GeneratorExit, or one that cannot be rebuilt). Like SystemExit in one process, the tests'
    `except Exception` cannot catch it: a test that expects an error fails."""


class SolutionFunction:
    """Stands for one function of the solution in the tests: calling it calls the child."""

    def __init__(self, harness, name):
        self._harness = harness
        self.__name__ = name or "candidate"

    def __call__(self, *args, **kwargs):
        return self._harness.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<solution function {self.__name__}>"


#: The keys of a call's reply (see code_child), and those of which it has exactly one (its outcome).
REPLY_KEYS = frozenset({"op", "id", "value", "raised", "unsupported", "too_large", "changed_unsent", "took",
                        "changed"})
REPLY_OUTCOMES = ("value", "raised", "unsupported", "too_large", "changed_unsent")


def _well_formed(reply, call_id):
    """Whether `reply` (parsed JSON from the child) has the shape of the reply to call `call_id`: no
    key the protocol does not know, exactly one outcome, and "changed" beside a value or a raise
    only. Anything else is malformed, the answer's failure: a reply padded with keys nothing reads
    would otherwise buy transfer time it never needed (`Harness._credit_transfer`)."""
    return (type(reply) is dict and reply.get("op") == "reply" and type(reply.get("id")) is int
            and reply["id"] == call_id and reply.keys() <= REPLY_KEYS
            and sum(key in reply for key in REPLY_OUTCOMES) == 1
            and ("changed" not in reply or "value" in reply or "raised" in reply))


#: A changed argument's state (as `parse_reply` gives it) that stands for the call's return value
#: (code_child's SAME_AS_VALUE), and the absence of one.
SAME_AS_VALUE = (("$same", "value"),)
_NO_VALUE = object()


def _sent_form(key, message):
    """The encoded form in which a call's request (`message`) sent argument `key` (a position or a
    keyword), or None when it sent no such argument."""
    if type(key) is int and 0 <= key < len(message["args"]):
        return message["args"][key]
    if type(key) is str and key in message["kwargs"]:
        return message["kwargs"][key]
    return None


#: The tags of encoded values that the child decodes into a list, dict, set, bytearray, deque or
#: array: the arguments whose state a call may change in place (code_child's `_MUTABLE`).
CHANGEABLE_TAGS = frozenset({"$floats", "$dict", "$set", "$bytearray", "$deque", "$array"})


def _changeable_form(form):
    """Whether an encoded argument is one the child may change in place and send back."""
    return type(form) is list or (type(form) is dict and len(form) == 1 and next(iter(form)) in CHANGEABLE_TAGS)


def _reply_size(form):
    """The bytes an encoded argument (`form`, as a request sent it) takes as a reply carries it
    (JSON, where a float list is base64: 10.7 bytes a float against the request's 8), its entry's
    brackets and key included."""
    return len(json.dumps(form, separators=(",", ":"), default=_base64_stand_in)) + 16


def _base64_stand_in(value):
    """Text as long as the base64 of a float list's raw doubles (bytes in a request), which a reply
    carries instead: what json.dumps sizes them by, without encoding them."""
    if type(value) is bytes:
        return "A" * (4 * ((len(value) + 2) // 3))
    raise TypeError(f"not JSON: {type(value).__name__}")


def _solution_exception(name, message, args=None, own_name=None, *, task_names=None):
    """The exception the tests see when the solution raised an exception whose nearest builtin
    class is `name`, with `message` (its str) and `args` (tagged plain data, or None).

    Only builtin classes (less UNSAFE_EXCEPTIONS) are made, from plain data alone: `args` when they
    decode to a tuple the class takes, else the message. One outside Exception (SystemExit from
    `sys.exit()`, KeyboardInterrupt, BaseException) stays outside it, as in one process: a test's
    `except Exception` must not catch it, or a wrong answer that exits on bad input would pass a
    test that expects an error. When none can be made, SolutionError stands for an Exception and
    SolutionExit for anything else (GeneratorExit, which would steer a generator's close, or a name
    that is no builtin exception class: a tampered reply). A class of the solution's
    own (`own_name`, a json.JSONDecodeError, a `class Bad(KeyError)`) arrives as that builtin base,
    with a note naming it, so `except ValueError` and `e.args` work as they would in one process;
    unless the task defines a class of that name itself (`task_names`: the tests' namespace, which
    holds the tests' and the prompt's definitions, never the solution's): a subclass of that base,
    as HumanEval's `class NegativeError(ValueError)`, is then made, so the tests' `except
    NegativeError` catches it (the solution could raise the task's class anyway).
    """
    name = name if type(name) is str and name.isidentifier() else "an exception"
    text = message[:500] if type(message) is str else ""
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, BaseException) and name not in UNSAFE_EXCEPTIONS:
        own = type(own_name) is str and own_name != name
        task_class = _task_exception_class(own_name, cls, task_names) if own else None
        exc = _builtin_exception(task_class, _exception_args(args), text) if task_class is not None else None
        if not isinstance(exc, cls):  # none, or the task's class made something else
            exc = _builtin_exception(cls, _exception_args(args), text)
        if exc is not None:
            if own and type(exc) is cls and hasattr(exc, "add_note"):  # (Python 3.11+)
                exc.add_note(f"(raised by the solution as {own_name[:200]})")
            return exc
    what = f"the solution raised {name}" + (f": {text}" if text else "")
    return SolutionError(what) if isinstance(cls, type) and issubclass(cls, Exception) else SolutionExit(what)


def _task_exception_class(own_name, base, task_names):
    """The task's own exception class named `own_name` (in `task_names`, the tests' namespace) when
    it is a strict subclass of the builtin `base`, and an Exception only when `base` is one (a
    solution's exception outside Exception must not arrive as one the tests' `except Exception`
    catches), else None."""
    if task_names is None or not own_name.isidentifier():
        return None
    found = task_names.get(own_name)
    if (isinstance(found, type) and issubclass(found, base) and found is not base
            and (issubclass(base, Exception) or not issubclass(found, Exception))):
        return found
    return None


def _exception_args(data):
    """The args a solution's exception carried, decoded from plain data; None when there are none
    to trust (not sent, or malformed)."""
    if data is None:
        return None
    try:
        args = decode(data)
    except (ValueError, TypeError, RecursionError, MemoryError):
        return None
    return args if type(args) is tuple else None


def _builtin_exception(cls, args, text):
    """`cls(*args)`, else `cls(text)`; None when the class takes neither (UnicodeDecodeError wants
    five arguments of set types)."""
    for attempt in ((args,) if args is not None else ()) + ((text,),):
        try:
            return cls(*attempt)
        except Exception:  # noqa: BLE001
            continue
    return None


def _update_in_place(original, state):
    """Make the tests' mutable `original` hold `state` (decoded plain data of the same kind), keeping
    the object itself, as `lst[:] = state` does; ValueError when `state` is of another kind. An
    original of no such kind (a numpy array, which went as a list) is left as it is."""
    kinds = (list, bytearray, array.array, collections.deque, dict, set)
    kind = next((kind for kind in kinds if isinstance(original, kind)), None)
    if kind is None:
        return
    if type(state) is not kind:
        raise ValueError(f"a {type(state).__name__} for a {type(original).__name__} argument")
    if kind in (list, bytearray, array.array):
        original[:] = state
    else:
        original.clear()
        (original.extend if kind is collections.deque else original.update)(state)


class Child:
    """One solution process: started with fork + exec, so that it inherits no memory of ours."""

    def __init__(self, program, import_path, directory):
        """Start `program` (("code", marshalled code object) or ("source", text)) in a fresh python
        whose working directory is `directory`."""
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                _lock_down_fds((request_r, reply_w))
                os.setpgid(0, 0)
                os.chdir(directory)
                for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                argv = [sys.executable, "-I", "-S", "-c", CHILD_BOOTSTRAP, str(request_r), str(reply_w), import_path]
                os.execv(sys.executable, argv)
            finally:
                os._exit(127)
        self.pid = pid
        os.close(request_r)
        os.close(reply_w)
        os.set_blocking(self.request_w, False)
        self.send(program, time.monotonic() + 5.0)  # fits the pipe's buffer: does not wait on the child

    def send(self, message, deadline):
        send_message(self.request_w, message, deadline)

    def send_frame(self, frame, deadline):
        send_frame(self.request_w, frame, deadline)

    def recv(self, deadline):
        return recv_message(self.reply_r, deadline)

    def recv_frame(self, deadline):
        return recv_frame(self.reply_r, deadline)

    def ended(self):
        """How the process ended, after its pipe closed (it is killed if it lingers)."""
        status = None
        for _ in range(20):
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return "ended"
            if done:
                break
            time.sleep(0.005)
        else:
            self.kill()
            return "closed its channel"
        self.pid = None
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with code {code}"

    def kill(self):
        if self.pid is not None:
            for target in (-self.pid, self.pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None
        for fd in (self.request_w, self.reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.request_w = self.reply_r = -1


class Harness:
    """Runs the test units in order against a solution served by a `Child`."""

    def __init__(self, payload, child_program=None):
        self.program = child_program if child_program is not None else ("source", payload["child_source"])
        self.import_path = "\n".join(sys.path)
        self.solution_directory = _scratch_directory()
        self.solution = payload["solution"]
        self.timeout = float(payload["timeout"])
        self.call_timeout = payload.get("call_timeout")
        self.typing_names = payload.get("typing_names") is True
        self.prompt = payload.get("prompt") if type(payload.get("prompt")) is str else ""
        self.prompt_error = None  # why the task's prompt alone does not load ("": it loads), once asked
        # The time limit counts only time spent on the solution (loading it and its calls): a
        # dataset whose tests compute expected values with slow code of their own must not starve a
        # right answer. `deadline` is when the solution's time runs out, moved on by the time the
        # tests' own code takes (`_solution_clock`); `run_end` bounds the whole run, so that the
        # harness reports before the sandbox's own time limit kills it.
        started = time.monotonic()
        self.deadline = started + self.timeout
        self.run_end = started + self.timeout + TESTS_OVERTIME
        self.tests_since = started  # the clock stands while the tests' own code runs (None: it runs)
        self.solution_depth = 0
        self.child = None
        self.load_sent = False  # whether the current process was sent the solution
        self.loaded = False
        self.starts = 0
        self.fatal = None  # set once the solution cannot serve calls any more
        self.fault = None  # set when a call failed as a process during the current unit
        self.unsendable = None  # why the current unit cannot be checked, when it ended with UnsendableArgument
        self.unsent_problem = None  # (call number, why) when a call's changed argument was too large as sent
        self.interrupt = None  # the KeyboardInterrupt the solution last raised, as the tests see it
        self._alarm = (None, None)  # (our SIGALRM handler, the one before it) while a unit runs (`_arm_run_end`)
        self.stopped = None  # why the units left are not run: an uncaught KeyboardInterrupt stopped the run
        self.calls = 0
        self.first = None  # a FirstCall, from the run's first call of the solution
        self.last_call = None
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}  # as a script runs
        for name in payload.get("modules", ()):
            if name in MODULES and name in sys.modules:
                self.namespace[name] = sys.modules[name]
        for name, target in payload.get("bindings", {}).items():
            self.namespace[name] = SolutionFunction(self, target)

    # -- the solution process ---------------------------------------------------------------
    def _spawn_child(self):
        """Start a solution process, without the solution: it gets only the trusted child program,
        and runs nothing of the answer's until `_send_load`."""
        if self.starts > MAX_RESTARTS:
            self.fatal = f"the solution process failed {self.starts} times; no more restarts"
            return
        self.starts += 1
        self.loaded = False
        self.load_sent = False
        if self.starts == 1:
            self.child = Child(self.program, self.import_path, self.solution_directory)  # failing to start the first one is our fault
        else:
            try:
                self.child = Child(self.program, self.import_path, self.solution_directory)
            except OSError as exc:  # e.g. the last one left a fork bomb behind
                self.fatal = f"could not restart the solution process ({describe(exc)})"

    def _send_load(self):
        """Send the solution's source to the started process, which runs it on receipt."""
        self.load_sent = True
        try:
            self.child.send({"op": "load", "source": self.solution, "typing_names": self.typing_names}, min(self.deadline, self.run_end))
        except (ChannelClosed, ChannelTimeout):
            pass  # found out when the reply is awaited

    def _ready(self):
        """Have a process with the solution loaded (starting and loading one as needed), or set
        `self.fatal` to why there is none."""
        if self.fatal is None and self.child is None:
            self._spawn_child()
        if self.fatal is None and not self.load_sent:
            self._send_load()
        if self.fatal is None and not self.loaded:
            self._await_load()

    def _await_load(self):
        try:
            reply = self.child.recv(min(self.deadline, self.run_end))
        except ChannelTimeout:
            self._drop_child()
            self.fatal = f"loading the solution did not finish within the time limit ({self.timeout:g}s)"
            return
        except ChannelClosed:
            how = self.child.ended()
            self._drop_child()
            self.fatal = f"the solution process {how} while loading the solution"
            return
        except (ValueError, RecursionError, MemoryError) as exc:  # what the solution wrote on its pipe
            self._drop_child()
            self.fatal = f"the solution process sent a malformed message while loading ({describe(exc)})"
            return
        if type(reply) is dict and reply.get("op") == "loaded":
            self.loaded = True
            return
        error = reply.get("error") if type(reply) is dict else None
        self._drop_child()
        self.fatal = f"the solution failed to load: {safe_repr(error, 500) if type(error) is not str else error[:500]}"
        if type(reply) is dict and reply.get("op") == "load_error" and self.prompt_error is None:
            prepare = self._child_function("add_typing_names") if self.typing_names else None
            self.prompt_error = prompt_problem(self.prompt, prepare) or ""

    def _child_function(self, name):
        """The function `name` of the solution process's own program (`code_child`), run here as a
        module of another name than `__main__` (it then serves nothing): so that the prompt's
        module is prepared by the very code that prepares the solution's (`prompt_problem`)."""
        kind, body = self.program
        code = marshal.loads(body) if kind == "code" else compile(body, "<rlvr child>", "exec", dont_inherit=True)
        namespace = {"__name__": "rlvr_child", "__builtins__": builtins}
        exec(code, namespace)
        return namespace[name]


    def _solution_clock(self, running):
        """Start (`running`) or stop the solution's clock: while it stands, the tests' own code runs
        and `deadline` moves on with the time it takes. Nested uses (a call made while a call's
        result is written back into a test's object) count as one."""
        now = time.monotonic()
        if running:
            if self.solution_depth == 0 and self.tests_since is not None:
                self.deadline += now - self.tests_since
                self.tests_since = None
            self.solution_depth += 1
        else:
            self.solution_depth -= 1
            if self.solution_depth == 0:
                self.tests_since = now

    def _solution_time_left(self):
        """Seconds the solution has left of the time limit."""
        return self.deadline - (self.tests_since if self.tests_since is not None else time.monotonic())

    def _drop_child(self):
        if self.child is not None:
            self.child.kill()
            self.child = None

    def _fail(self, message):
        self.fault = message
        raise SolutionFault(message)

    # -- one call -----------------------------------------------------------------------------
    def call(self, name, args, kwargs):
        text = f"{name}({', '.join([safe_repr(a, 80) for a in args] + [f'{k}={safe_repr(v, 80)}' for k, v in kwargs.items()])})"
        if len(text) > 200:
            text = text[:197] + "..."
        self.last_call = (text, None)
        encoding = time.perf_counter()
        try:
            message = {"op": "call", "id": self.calls + 1, "name": name,
                       "args": [encode(arg, binary=True) for arg in args],
                       "kwargs": {str(key): encode(value, binary=True) for key, value in kwargs.items()}}
        except NotPlainData as exc:  # an object of the tests' making: no answer could receive it
            raise UnsendableArgument(str(exc)) from None
        except DataLimit as exc:  # plain data too deep or long for any answer to receive
            raise UnsendableArgument(f"the arguments of {text}", limit=str(exc)) from None
        except (TypeError, ValueError, RecursionError) as exc:  # raised by the code of an iterator being
            # encoded (a generator of the tests', which may call the solution): a failed test
            raise TypeError(f"cannot pass {exc} to the solution: only plain data crosses into it") from None
        try:
            frame = request_frame(message)  # its size is checked here, so sending raises no ValueError
        except ValueError:
            raise UnsendableArgument(f"the arguments of {text}", too_large=len(marshal.dumps(message))) from None
        encoded = time.perf_counter() - encoding
        if self.calls == 0:  # what the tests made before any answer existed (`_independent_of_answers`)
            self.first = FirstCall(self.namespace)
        self.calls += 1
        self._solution_clock(True)
        try:
            return self._call(frame, message, text, args, kwargs, encoded)
        finally:
            self._solution_clock(False)

    def _call(self, frame, message, text, args, kwargs, encoded=0.0):
        """Send one call to the solution and return its result (or raise), on the solution's clock.
        `encoded`: the seconds this side took to encode the request (part of its share of the
        transfer, see `_credit_transfer`)."""
        self._ready()
        if self.fatal is not None:
            self._fail(self.fatal)
        deadline = min(self.deadline, self.run_end)
        if self.call_timeout is not None:
            deadline = min(deadline, time.monotonic() + float(self.call_timeout))
        sent = time.monotonic()
        try:
            cpu = time.thread_time()  # CPU time where this side waits on the child: its pace is not ours
            self.child.send_frame(frame, deadline)
            own = encoded + time.thread_time() - cpu  # this side's own work on the call, in seconds
            while True:
                cpu = time.thread_time()
                data = self.child.recv_frame(deadline)
                reading = time.thread_time() - cpu
                received = time.monotonic()
                reply = parse_reply(data)
                parsed = time.monotonic()
                if type(reply.get("id")) is int and reply["id"] < message["id"]:
                    continue  # a late answer to a call that already failed
                break
        except ChannelTimeout:
            self._drop_child()
            if deadline == self.run_end and self.run_end < self.deadline:
                self._fail(f"{text} did not return before the run's end ({self._run_used_up()})")
            limit = self.call_timeout if self.call_timeout is not None else self.timeout
            self._fail(f"{text} did not return within the time limit ({float(limit):g}s)")
        except ChannelClosed:
            how = self.child.ended()
            self._drop_child()
            self._fail(f"the solution process {how} during {text}")
        except (ValueError, RecursionError, MemoryError) as exc:
            self._drop_child()
            self._fail(f"the solution process sent a malformed reply to {text} ({describe(exc)})")
        well_formed = _well_formed(reply, message["id"])
        took = reply.get("took") if well_formed else None
        own += reading + parsed - received
        try:
            return self._result(reply, well_formed, message, text, args, kwargs)
        finally:
            self._credit_transfer(took, sent, received, own + time.monotonic() - parsed)

    def _credit_transfer(self, took, sent, received, own):
        """Give the solution back the time of a call that was not its own: of the round trip from
        `sent` until now (the reply `received`, parsed, decoded and written back), what the child
        says was not spent in the solution's code (`took`, see code_child), but never more than
        TRANSFER_SECONDS_PER_CALL + TRANSFER_FACTOR * `own`, this side's own measured work on the
        call (encoding the request; the CPU time of sending it and reading the reply, where the
        child sets the pace; parsing, decoding and writing back the reply). The child runs the
        solution, which may tamper with what it reports and with what it sends: a claim that is
        missing, malformed or beyond the wait for the reply credits nothing (as does a malformed
        reply: `took` is None then), and any claim credits at most what this side's own work
        explains, so bytes that cost this side nothing (padding) buy nothing, and costly ones buy
        at most TRANSFER_FACTOR - 1 times what they cost this side's wall time."""
        if type(took) in (int, float) and 0 <= took <= received - sent:
            allowance = TRANSFER_SECONDS_PER_CALL + TRANSFER_FACTOR * own
            self.deadline += max(0.0, min(time.monotonic() - sent - took, allowance))

    def _result(self, reply, well_formed, message, text, args, kwargs):
        if not well_formed:
            self._drop_child()
            self._fail(f"the solution process sent a malformed reply to {text}")
        if "value" in reply:
            try:
                value = decode(reply["value"])
            except (ValueError, TypeError, RecursionError, MemoryError) as exc:
                self._drop_child()
                self._fail(f"the solution process sent a malformed value for {text} ({describe(exc)})")
            if "changed" in reply:
                self._write_back(reply["changed"], message, args, kwargs, text, value)
            self.last_call = (text, safe_repr(value))
            return value
        if "changed" in reply:
            self._write_back(reply["changed"], message, args, kwargs, text)
        if "raised" in reply and type(reply["raised"]) is list and 2 <= len(reply["raised"]) <= 4:
            exc = _solution_exception(*reply["raised"], task_names=self.namespace)
            if isinstance(exc, KeyboardInterrupt):
                self.interrupt = exc  # if no test catches it, it stops the run (`run_unit`)
            raise exc
        if "too_large" in reply:
            size = reply["too_large"]
            how = (f"{size} bytes" if type(size) is int and size > MAX_MESSAGE
                   else "encoding it ran out of the sandbox's memory")
            self._fail(f"{text} returned a value too large to transfer ({how}; the cap on a return "
                       f"value's message is {MAX_MESSAGE >> 20} MiB)")
        if "changed_unsent" in reply:
            self._changed_unsent(reply["changed_unsent"], message, text)
        if "unsupported" in reply:
            what = reply["unsupported"]
            what = what[:200] if type(what) is str else "an unsupported object"
            self._fail(f"{text} returned {what}, which cannot leave the sandbox: only plain data "
                       "(numbers, strings, bytes, None, and lists, tuples, sets, dicts, dict views, "
                       "arrays of them) is checked")
        self._drop_child()
        self._fail(f"the solution process sent a malformed reply to {text}")

    def _changed_unsent(self, unsent, message, text):
        """Fail the call whose reply says an argument it changed in place cannot come back
        (`unsent`: [position or keyword, size], see code_child's `_Unsent`): the answer's failure, as
        a return value that cannot is; unless the argument as the tests sent it would not fit in a
        reply either (sized only here, where it failed: most calls never pay for it), which no
        answer changing it in place could send back: then `unsent_problem` holds the dataset's
        fault for `run_unit` to weigh, with the number of the call."""
        form = _sent_form(unsent[0], message) if type(unsent) is list and len(unsent) == 2 else None
        if form is None or not _changeable_form(form):
            self._drop_child()
            self._fail(f"the solution process sent a malformed reply to {text}")
        key, why = unsent
        which = f"argument {key + 1}" if type(key) is int else f"argument {key}="
        room = MAX_MESSAGE - CHANGED_ROOM
        try:
            size = _reply_size(form)
        except MemoryError:
            size = 0
        if size > room:
            self.unsent_problem = (self.calls, (
                f"the tests pass the solution a list, dict, set or array ({which} of {text}) that takes {size} bytes as a "
                f"reply carries it, more than the {room} a reply has for changed arguments: no answer "
                "could change it in place and send it back"))
        how = (f"{why} bytes" if type(why) is int and why > MAX_MESSAGE - CHANGED_ROOM
               else "encoding it ran out of the sandbox's memory")
        self._fail(f"{text} changed its {which} in place into more than can be transferred back "
                   f"({how} with its return value and other changed arguments; the cap on a reply's "
                   f"message is {MAX_MESSAGE >> 20} MiB)")

    def _write_back(self, changed, message, args, kwargs, text, value=_NO_VALUE):
        """Put the state of the arguments the call changed in place (`changed`: [[position or
        keyword, tagged state], ...], see code_child's `_changed`) into the tests' own objects, as
        if the solution had run in this process. Only the tests' lists, dicts, sets, bytearrays,
        deques and arrays are written, each with plain data of its own kind, once; anything else
        the child sends (a state for an argument the child holds no mutable copy of, which nothing
        would read) is a malformed reply. A state of exactly {"$same": "value"} (SAME_AS_VALUE)
        stands for the call's decoded return `value` (the argument was the returned object); it is
        malformed where the call returned nothing."""
        try:
            if type(changed) is not list:
                raise ValueError("malformed changed arguments")
            seen = set()
            for entry in changed:
                if type(entry) is not list or len(entry) != 2:
                    raise ValueError("malformed changed argument")
                key, data = entry
                form = _sent_form(key, message)
                if form is None or key in seen or not _changeable_form(form):
                    raise ValueError(f"no argument {safe_repr(key, 50)} to change")
                seen.add(key)
                original = args[key] if type(key) is int else kwargs[key]
                if data == SAME_AS_VALUE:
                    if value is _NO_VALUE:
                        raise ValueError("a changed argument that is the return value of a call that returned none")
                    _update_in_place(original, value)
                else:
                    _update_in_place(original, decode(data))
        except (ValueError, TypeError, RecursionError, MemoryError) as exc:
            self._drop_child()
            self._fail(f"the solution process sent malformed changed arguments for {text} ({describe(exc)})")

    # -- the tests ------------------------------------------------------------------------------
    def run_setup(self, source):
        """Run the tests' module-level setup; returns (whose, error text) when it failed, whose being
        "tests" or, when the setup had called the solution by then, "solution".

        It runs before the solution is loaded: the solution's process is already starting
        (`harness_main`), but it is sent the solution's source only when the setup first calls
        the solution (`call`) or, failing that, after the setup (`run_units`). So until the setup
        calls the solution no solution code has run anywhere: a failure then (an import of a
        module the sandbox lacks) cannot be the answer's doing, and is reported as a setup error.
        Once it has called the solution, a failure is scored as the answer's."""
        if not source.strip():
            return None
        calls_before = self.calls
        try:
            exec(compile(source, "<test setup>", "exec", dont_inherit=True), self.namespace)
        except BaseException as exc:  # noqa: BLE001
            return ("solution" if self.calls > calls_before else "tests", describe(exc))
        return None

    def _run_used_up(self):
        """Why the run's end came while the solution had time left: the tests' own code took it."""
        return (f"the run may take {self.timeout + TESTS_OVERTIME:g}s, and the tests' own code took all but "
                f"{self.timeout - self._solution_time_left():.1f}s of it (passing values to and from the "
                f"solution counts as theirs)")

    def run_units(self, units):
        """Run the units in order; one is started only while the solution has time left and the run
        has not reached its end (`run_end`). Time the tests' own code takes is not the solution's."""
        self._solution_clock(True)
        try:
            self._ready()
        finally:
            self._solution_clock(False)
        if self.fatal is not None:  # a solution that does not load passes nothing, whatever the tests
            return [{"ok": False, "error": self.fatal} for _ in units]
        results = []
        for unit in units:
            if self.stopped is not None:
                results.append({"ok": False, "error": self.stopped})
                continue
            if self._solution_time_left() <= 0:
                results.append({"ok": False, "error": f"not run: the time limit ({self.timeout:g}s) was used up"})
                continue
            if time.monotonic() >= self.run_end:
                results.append({"ok": False, "error": f"not run: {self._run_used_up()}"})
                continue
            try:
                error = self.run_unit(unit)
            except RunEnded:  # (one that fired as the unit's own clauses ran: the run's end all the same)
                self._disarm_run_end()
                self.stopped = f"not run: {self._run_used_up()}"
                error = f"not finished: {self._run_used_up()}"
            if self.unsendable is not None:  # it failed on an argument no solution can receive
                results.append({"ok": False, "error": error, "unsupported": self.unsendable})
            else:
                results.append({"ok": error is None, "error": error})
        return results

    def run_unit(self, unit):
        """Run one unit; returns why it failed, or None when it passed.

        It passes only if it finishes, no call of the solution failed as a process, and it called
        the solution at least once: the host plans every unit around a use of the solution, so a
        unit that never calls it (a skipped check, an empty loop) has checked nothing.

        A unit ended by an argument the solution cannot receive (`UnsendableArgument`) is the
        task's fault only when the answer cannot have made it: the unit had not called the solution
        yet, and either no call was made in the whole run (setup included) or the unit read nothing
        of the tests' namespace that an earlier call could have shaped (`_independent_of_answers`).
        Values returned earlier stay in the namespace: `a = candidate(3)` in one unit and
        `candidate(a)` in the next send back what the answer chose, so a list too large to pass
        back is that answer's failed test.

        A unit ended by one of its own top-level import statements (`import numpy as np`, with no
        numpy in the sandbox) before it called the solution cannot be checked: the task's fault,
        reported as "unsupported" (`Verdict.failed`), not a failed test. The answer cannot
        bring that about: it runs in another process and never in this one, so it cannot touch
        this interpreter's modules, and this one imports only from directories nobody in the
        sandbox can write (`_import_paths_cleaned`), so what imports here does not depend on it.
        An import statement that runs unconditionally at the unit's top level, before its first
        call, is reached whatever the answer returned in earlier units (the statements before it
        only get there without raising). Everything else stays the answer's failure: an
        ImportError the solution raised when called (the call is counted first, so `self.calls`
        has moved), one raised after the unit's first call, or one from inside a helper or a
        conditional, whose reaching an answer could steer.
        """
        self.fault = None
        self.unsendable = None
        self.unsent_problem = None
        self.last_call = None
        calls_before = self.calls
        # what the unit finds in the tests' namespace: after a call of the solution (in the setup or
        # an earlier unit) it may hold what the answer sent (see `_independent_of_answers`)
        start = dict(self.namespace) if calls_before else None
        code = None
        armed = self._arm_run_end()
        try:
            try:
                code = compile(unit["source"], f"<{unit.get('label', 'test')}>", "exec", dont_inherit=True)
                exec(code, self.namespace)
            finally:  # off before anything else runs: the clauses below are the harness's own work
                if armed:
                    self._disarm_run_end()
        except RunEnded:  # the tests' own code ran into the run's end: report in time, the rest not run
            self._disarm_run_end()
            self.stopped = f"not run: {self._run_used_up()}"
            return f"not finished: {self._run_used_up()}"
        except SolutionFault as exc:
            self._weigh_unsent(calls_before, unit, start)
            return str(exc)
        except BaseException as exc:  # noqa: BLE001 - the test failed, whatever it raised
            if exc is self.interrupt:  # as unittest and pytest do, it stops the run: the rest fail
                self.stopped = (f"not run: the solution raised KeyboardInterrupt in an earlier test "
                                f"({unit.get('label', 'test')}), which no test caught: it stops the run")
            # the unit ended on an argument no answer could receive, before any call of the unit
            # returned, and made from nothing an earlier call returned (so no answer could steer
            # the test to it): no call was made in the whole run yet, or the unit read nothing of
            # the namespace an earlier call could have shaped
            if (type(exc) is UnsendableArgument and self.calls == calls_before
                    and (calls_before == 0
                         or _independent_of_answers(unit["source"], start, self.first, self.namespace))):
                self.unsendable = exc.problem
            elif (isinstance(exc, ImportError) and self.calls == calls_before
                  and _raised_by_import(exc, code, unit["source"])):
                self.unsendable = (f"the tests' own import failed before the test called the solution "
                                   f"({describe(exc)}): the sandbox's Python must have what the tests import")
            error = describe(exc)
            if isinstance(exc, AssertionError) and self.last_call and self.last_call[1] is not None:
                error += f" ({self.last_call[0]} returned {self.last_call[1]})"
            return error
        if self.fault is not None:
            self._weigh_unsent(calls_before, unit, start)
            return self.fault  # the test swallowed a failed call: still a failure
        if self.calls == calls_before:
            return NO_CALL
        return None

    def _weigh_unsent(self, calls_before, unit, start):
        """Make the unit's failure the task's (`unsendable`) when it failed because a changed argument
        could not come back that could not have come back even unchanged (`unsent_problem`, see
        `_changed_unsent`), under the condition an argument no answer can receive is (`run_unit`):
        it was the unit's first call, and the tests built it from nothing an earlier call returned."""
        if (self.unsent_problem is not None and self.unsent_problem[0] == calls_before + 1
                and (calls_before == 0 or _independent_of_answers(unit["source"], start, self.first, self.namespace))):
            self.unsendable = self.unsent_problem[1]

    def _arm_run_end(self):
        """Raise `RunEnded` in the running unit when the run's end (`run_end`) comes, and again every
        0.2 s while the unit still runs (a test's bare `except:` may swallow one): the tests' own code
        (a slow reference helper) must not run on until the sandbox kills the harness, which would
        lose the report and every test's result with it. A SIGALRM before the run's end is not our
        timer's: it goes to the handler the tests installed (their own `signal.alarm`), and without
        one it kills the harness, as it always did (the child may send one). A test that sets its
        own alarm replaces our timer (one timer per process): its unit then runs as before, bounded
        by the sandbox only. False where no timer can be set (not the main thread): the run's end is
        then checked between units only."""
        previous = signal.getsignal(signal.SIGALRM)

        def on_alarm(signum, frame):
            if time.monotonic() >= self.run_end - 0.05:
                raise RunEnded()
            if callable(previous):
                return previous(signum, frame)
            if previous == signal.SIG_IGN:
                return None
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGALRM)
            return None

        try:
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, max(0.001, self.run_end - time.monotonic()), 0.2)
        except (ValueError, OSError):
            return False
        self._alarm = (on_alarm, previous)
        return True

    def _disarm_run_end(self):
        """Stop the timer and give SIGALRM back to the handler it had (unless a test has set another)."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        ours, previous = self._alarm
        if signal.getsignal(signal.SIGALRM) is ours:
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)

    def close(self):
        self._drop_child()


#: Builtins that read the tests' namespace or state outside the unit (files), which an earlier call
#: of the solution may have shaped: a unit that uses one is not known to be independent of the answer.
STATEFUL_BUILTINS = frozenset({"globals", "locals", "vars", "eval", "exec", "compile", "open", "input",
                               "__import__", "getattr", "dir", "id", "breakpoint", "help"})
#: Modules that lead back to the tests' namespace or to what earlier tests left in this process
#: (frames, the garbage collector's objects, the builtins, sys.modules and sys.argv, code run by
#: name): a unit that reaches one is not known to be independent of the answer.
STATE_MODULES = frozenset({
    "__main__", "_pickle", "_thread", "asyncio", "bdb", "builtins", "code", "copyreg", "ctypes",
    "faulthandler", "gc", "importlib", "inspect", "pdb", "pickle", "pkgutil", "runpy", "site", "sys",
    "threading", "traceback", "tracemalloc",
})
#: Attributes that lead from a frame, traceback, generator or coroutine to a namespace, and
#: attribute readers by name (like `getattr`).
STATE_ATTRIBUTES = frozenset({
    "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame", "tb_next", "gi_frame", "cr_frame",
    "ag_frame", "gi_yieldfrom", "cr_await", "ag_await", "get_stack", "attrgetter", "methodcaller",
})
#: The builtins as they were before any test ran (a test may set `builtins.x` to what a call returned).
ORIGINAL_BUILTINS = dict(vars(builtins))
#: Bytecode operations that read a global (or, in a class body or at module level, a name).
_GLOBAL_READS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"})
_ATTRIBUTE_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR", "STORE_ATTR", "DELETE_ATTR",
                            "IMPORT_FROM"})
_NAME_WRITES = frozenset({"STORE_NAME", "STORE_GLOBAL", "DELETE_NAME", "DELETE_GLOBAL"})
_ATOMS = (type(None), bool, int, float, complex, str, bytes, range, type(Ellipsis), type(NotImplemented))
_MISSING = object()


class FirstCall:
    """What the tests had bound when the run first called the solution (`Harness.call`): the tests'
    namespace, every loaded module's attributes, and the state of the tests' functions and classes
    then bound (code, defaults, closure, function attributes; class attributes). A value still bound as then, and of a
    kind that cannot change in place, was made before any answer existed."""

    def __init__(self, namespace):
        self.live = namespace
        self.names = dict(namespace)
        self.modules = {id(module): (module, dict(vars(module)))
                        for module in list(sys.modules.values()) if type(module) is type(sys)}
        self.states = {}
        budget = [10_000]
        for value in self.names.values():
            self._keep(value, budget, 0)

    def _keep(self, value, budget, depth):
        if depth > 20 or budget[0] <= 0 or id(value) in self.states:
            return
        budget[0] -= 1
        if type(value) in (tuple, frozenset):
            for item in value:
                self._keep(item, budget, depth + 1)
            return
        state = _state(value, self.live)
        if state is not None:
            self.states[id(value)] = (value, state)
            for item in state:
                self._keep(item, budget, depth + 1)

    def unchanged(self, value):
        """Whether `value` (a function or class of the tests') had the state it has now then."""
        kept = self.states.get(id(value))
        now = _state(value, self.live)
        return (kept is not None and kept[0] is value and now is not None and len(now) == len(kept[1])
                and all(a is b for a, b in zip(now, kept[1])))


def _state(value, namespace):
    """What an earlier test could have changed of a function or class of the tests' (defined in
    their namespace): its code, defaults, closure and attributes (`helper.data = candidate(3)`); a
    class's attributes and bases. None for others."""
    if type(value) is type(_state) and value.__globals__ is namespace:
        cells = []
        for cell in value.__closure__ or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:  # an empty cell
                cells.append(None)
        kwdefaults, attributes = value.__kwdefaults__ or {}, vars(value)
        return (value.__code__, value.__defaults__, *kwdefaults.keys(), *kwdefaults.values(), *cells,
                *attributes.keys(), *attributes.values())
    if isinstance(value, type) and not _library_class(value):
        attributes = vars(value)
        return (*value.__bases__, *attributes.keys(), *attributes.values())
    return None


def _state_module(module):
    name = getattr(module, "__name__", None)
    return type(name) is not str or name in STATE_MODULES or name.partition(".")[0] in STATE_MODULES


def _module_of(namespace):
    """The loaded module whose namespace `namespace` is, or None."""
    module = sys.modules.get(namespace.get("__name__")) if type(namespace) is dict else None
    return module if module is not None and vars(module) is namespace else None


def _library_class(cls):
    """Whether `cls` is a builtin class or one a loaded module defines (not one of the tests')."""
    if not cls.__flags__ & (1 << 9):  # not a heap type: a builtin or extension class, of no state
        return True
    module = sys.modules.get(cls.__module__)
    return module is not None and vars(module).get(cls.__name__) is cls


class _Reads:
    """Decides `_independent_of_answers` for one unit (see there)."""

    def __init__(self, start, first, namespace, own, bound):
        self.start, self.first, self.namespace = start, first, namespace
        self.own, self.bound = own, bound  # the unit's own top-level names; every name it binds
        self.modules = {}  # modules the unit or its helpers reach, by id
        self.objects = {}  # library functions and classes they reach, by id (`object_attributes`)
        self.attributes = set()
        self.checking = set()  # functions whose check is under way (recursion)

    def code(self, code, unit):
        """Whether what `code` reads (globals, attributes, imports, format fields) is the tests'
        own; names the unit binds first count as its own only for the unit's code (`unit`)."""
        import dis

        names = set()
        codes = [code]
        while codes:
            current = codes.pop()
            for instruction in dis.get_instructions(current):
                op, arg = instruction.opname, instruction.argval
                if op == "IMPORT_STAR":
                    return False
                if instruction.opcode not in dis.hasname or op in _NAME_WRITES:
                    continue
                if op == "IMPORT_NAME":
                    if not self.imported(arg):
                        return False
                elif op in _ATTRIBUTE_OPS or op in _GLOBAL_READS:
                    (self.attributes if op in _ATTRIBUTE_OPS else names).add(arg)
                else:  # an operation on a name this Python has and we do not know: both ways
                    names.add(arg)
                    self.attributes.add(arg)
            for const in current.co_consts:
                if type(const) is type(code):
                    codes.append(const)
                elif type(const) is str and "{" in const and _field_reaches_state(const):
                    return False
        if any(type(a) is not str or a.startswith("_") or a in STATE_ATTRIBUTES for a in self.attributes):
            return False
        return all(self.name(name, unit) for name in names)

    def imported(self, name):
        if type(name) is not str or name.partition(".")[0] in STATE_MODULES:
            return False
        parts = name.split(".")
        for end in range(1, len(parts) + 1):  # `import a.b` binds a and loads a.b
            module = sys.modules.get(".".join(parts[:end]))
            if module is None:
                return False  # (a relative import, or one that failed)
            self.modules[id(module)] = module
        return True

    def name(self, name, unit):
        """Whether the global `name` the unit or one of the tests' functions reads is the tests' own."""
        if name in STATEFUL_BUILTINS:  # (even when the unit binds the name: maybe after reading it)
            return False
        if name in self.start:
            if unit and name in self.own:
                return True
            value = self.start[name]
            if type(value) is SolutionFunction:
                return True
            if type(value) is type(sys):
                self.modules[id(value)] = value
                return not _state_module(value)
            before = self.first.names.get(name, _MISSING) if self.first is not None else _MISSING
            return before is value and self.fixed(value, 0)
        if name in self.bound:
            return True
        return vars(builtins).get(name, _MISSING) is ORIGINAL_BUILTINS.get(name, ())

    def fixed(self, value, depth):
        """Whether `value`, bound since before the run's first call, still is what the tests made
        then: a value that cannot change, or a function or class of the tests' whose state is as
        then and that reads only what is the tests' own."""
        kind = type(value)
        if kind in _ATOMS or kind is SolutionFunction:
            return True
        if depth > 20:
            return False
        if kind in (tuple, frozenset):
            return len(value) <= 10_000 and all(self.fixed(item, depth + 1) for item in value)
        if kind is type(sys):
            self.modules[id(value)] = value
            return not _state_module(value)
        if kind is type(len):  # a builtin function: of a module, not a method of some object
            owner = value.__self__
            return owner is None or (type(owner) is type(sys) and not _state_module(owner))
        if kind in (staticmethod, classmethod):
            return self.fixed(value.__func__, depth + 1)
        if kind is property:
            return all(self.fixed(f, depth + 1) for f in (value.fget, value.fset, value.fdel))
        if kind in (type(type.__dict__["__dict__"]), type(_ReadsSlots.__dict__["slot"])):
            return True  # the __dict__ / __weakref__ / slot descriptors of a class
        if kind is type(_state):
            if value.__globals__ is not self.namespace:
                self.objects[id(value)] = value
                module = _module_of(value.__globals__)
                return module is not None and not _state_module(module)
            return self.tests_function(value, depth)
        if isinstance(value, type):
            if _library_class(value):
                self.objects[id(value)] = value
                return not value.__flags__ & (1 << 9) or not _state_module(sys.modules[value.__module__])
            return (self.first is not None and self.first.unchanged(value) and self.fixed(type(value), depth + 1)
                    and all(self.fixed(item, depth + 1) for item in _state(value, self.namespace)))
        return False

    def tests_function(self, function, depth):
        if id(function) in self.checking:
            return True  # a recursive helper: checked where the check began
        self.checking.add(id(function))
        state = _state(function, self.namespace)
        return (self.first is not None and self.first.unchanged(function)
                and all(self.fixed(item, depth + 1) for item in state[1:])
                and self.code(function.__code__, unit=False))

    def module_attributes(self):
        """Whether every attribute the unit (or a helper) may read of a module it reaches is a
        function, class or module of that module's, or a constant it had at the run's first call."""
        checked = set()
        pending = list(self.modules.values())
        while pending:
            module = pending.pop()
            if id(module) in checked:
                continue
            checked.add(id(module))
            if _state_module(module):
                return False
            before = self.first.modules.get(id(module)) if self.first is not None else None
            attributes = vars(module)
            for attribute in self.attributes:
                value = attributes.get(attribute, _MISSING)
                if value is _MISSING:
                    continue
                if type(value) is type(sys):
                    pending.append(value)
                elif self.fixed(value, 0) and (_is_code(value) or (
                        before is not None and before[0] is module
                        and before[1].get(attribute, _MISSING) is value)):
                    continue
                else:
                    return False
        return True


    def object_attributes(self):
        """Whether no attribute the unit (or a helper) may read of a library function or class it
        reaches is one an earlier test could have set from what a call returned (`json.dumps.data =
        candidate(3)`, `json.JSONDecoder.data = ...`): a library function's own attributes never
        count, and a library class's (or its metaclass's; builtin classes take none) only when they
        are code that `fixed` accepts. By name, whatever object the unit reads it of: in doubt."""
        attributes, modules = frozenset(self.attributes), set(self.modules)
        checked = set()
        while len(checked) < len(self.objects):  # (`fixed` adds the functions of a class's it meets)
            value = next(v for k, v in self.objects.items() if k not in checked)
            checked.add(id(value))
            if not isinstance(value, type):
                if any(a in vars(value) for a in attributes):
                    return False
                continue
            for cls in (*value.__mro__, *type(value).__mro__):
                for attribute in attributes if cls.__flags__ & (1 << 9) else ():
                    found = vars(cls).get(attribute, _MISSING)
                    if found is not _MISSING and not (
                            (_is_code(found) or type(found) in (staticmethod, classmethod, property))
                            and type(found) is not type(sys) and self.fixed(found, 0)):
                        return False
        # what `fixed` read on the way (a helper's code) was checked by no rule above: in doubt
        return self.attributes == attributes and set(self.modules) == modules


class _ReadsSlots:
    """Only for the type of a slot descriptor (`_Reads.fixed`)."""

    __slots__ = ("slot",)


def _is_code(value):
    """Whether a module attribute's value is code (a function, builtin or class), not data that an
    earlier test could have set from what a call returned."""
    return type(value) in (type(_state), type(len)) or isinstance(value, type)


def _field_reaches_state(text):
    """Whether a str.format template reads an underscore or state attribute ('{0.gi_frame...}')."""
    import re

    return any(re.search(r"\.\s*(_|" + "|".join(STATE_ATTRIBUTES) + ")", field)
               for field in re.findall(r"\{([^{}]*)\}", text))


def _top_level_own(tree):
    """Names the unit binds at its top level, unconditionally, before any of its code mentions them
    (`s = 'a' * n`, `import m`, `def g(...)`): whatever an earlier test left under such a name, the
    unit reads only its own value."""
    import ast

    own, seen = set(), set()
    for statement in tree.body:
        targets = set()
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            names = [statement.target] if isinstance(statement, ast.AnnAssign) else statement.targets
            while any(isinstance(n, (ast.Tuple, ast.List, ast.Starred)) for n in names):
                names = [m for n in names for m in (
                    n.elts if isinstance(n, (ast.Tuple, ast.List)) else [n.value] if isinstance(n, ast.Starred) else [n])]
            if all(isinstance(n, ast.Name) for n in names):
                targets = {n.id for n in names}
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            targets = {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = {statement.name}
        mentioned = {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and targets:
            mentioned = {node.id for node in ast.walk(statement.value) if isinstance(node, ast.Name)}
        own |= targets - seen - mentioned
        seen |= targets | {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}
    return own


def _independent_of_answers(source, start, first=None, namespace=None):
    """Whether the unit `source`, started on the tests' namespace `start` (a copy of `namespace`, the
    live one), can only have computed what it sends from what the tests made themselves, never from
    what an earlier call of the solution returned or changed. `first` (`FirstCall`) is what was
    bound when the run first called the solution (None: nothing counts as bound before it).

    The unit's code is compiled, so scopes are Python's own: a lambda's or comprehension's
    parameter is no read of the namespace. Every global name it (or a function of the tests' it
    reads) reads must be: a solution proxy (`candidate`); a module not in STATE_MODULES; a name the
    unit binds itself (first, at its top level, for one an earlier test bound too); a builtin as it
    was before any test ran and not in STATEFUL_BUILTINS; or a value bound before the first call
    and still the same object, of a kind nobody can change in place (ints, strings, tuples of
    them), or a function or class of the tests' whose code, defaults, closure and attributes are as
    then and read only such names in turn. A list bound before the first call is not: it may have
    been passed to the solution and changed in place. Attributes read of a module must be its
    functions, classes or submodules, or constants it held at the first call; none may be one a
    library function it reaches has of its own, or a library class has that is not code
    (`_Reads.object_attributes`); no underscore or
    STATE_ATTRIBUTES attribute is read, not even in a format template. The namespace keeps what the
    setup and earlier units bound (`a = candidate(3)`), so a unit reading such a name may send what
    the answer chose: a wrong answer returning a list too large to pass back would have its failure
    taken for the dataset's. False when in doubt (the test then fails)."""
    import ast

    namespace = start if namespace is None else namespace
    if start.get("__builtins__", builtins) is not builtins:
        return False
    try:
        tree = ast.parse(source)
        code = compile(tree, "<unit>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return False
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    bound |= {node.name for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    bound |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    bound |= {node.name for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler) and node.name}
    bound |= {getattr(node, "name", None) or getattr(node, "rest", None) for node in ast.walk(tree)
              if type(node).__name__ in ("MatchAs", "MatchStar", "MatchMapping")}
    reads = _Reads(start, first, namespace, _top_level_own(tree), bound)
    try:
        return reads.code(code, unit=True) and reads.module_attributes() and reads.object_attributes()
    except RecursionError:
        return False


def _raised_by_import(exc, code, source):
    """Whether `exc` came out of a top-level `import` / `from ... import` statement of a unit: the
    statement at the line where the unit's own frame (running `code`, compiled from `source`)
    stopped."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is None or code is None:
        return False
    import ast  # only here, on this rare path: from the standard library's read-only directory

    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno <= tb.tb_lineno <= node.end_lineno
               for node in body)


def _import_paths_cleaned():
    """Drop import paths the solution could write (the work dir, /tmp): we import only trusted code."""
    keep = []
    for path in sys.path:
        if path and os.path.isabs(path) and os.path.exists(path) and not os.access(path, os.W_OK):
            keep.append(path)
    sys.path[:] = keep
    sys.path_importer_cache.clear()


def compiled_program(path):
    """("code", bytes) from a host-compiled file `path` when it suits this interpreter, else None."""
    from _frozen_importlib_external import MAGIC_NUMBER

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if data[: len(MAGIC_NUMBER)] != MAGIC_NUMBER:
        return None
    return ("code", data[len(MAGIC_NUMBER):])


def _scratch_directory():
    """A new, empty directory for the solution to run in (and write scratch files to, as a stdin/
    stdout program may in its working directory): in the sandbox's TMPDIR, which the sandbox wipes
    after each run. Not the work directory, which holds the harness's own files, and not the
    harness's own working directory, which stays "/": the harness must read no file the solution
    wrote (a traceback reads `rlvr_harness.py` by its relative name; a test may open a relative
    path). "/" (read-only in the isolated backends) if none can be made."""
    path = os.path.join(os.environ.get("TMPDIR") or "/tmp", f"rlvr-solution-{os.getpid()}")
    try:
        os.mkdir(path, 0o700)
    except OSError:
        return "/"
    return path


def prompt_problem(prompt, prepare=None):
    """Why the task's prompt (the dataset's code the solution's program begins with) fails to load
    on its own, or None when it loads (or there is none, or it does not compile: then the program's
    own reading stands). Asked only once the solution has failed to load: it runs here, in the
    harness, which never runs answer code, so a failure is the dataset's or the sandbox's (an
    import of a module the sandbox lacks), never the answer's. Its side effects cannot change a
    verdict: a solution that does not load fails every test, or the run is a setup error. It runs
    as the solution's module does, as a module `solution` registered in sys.modules, prepared as
    the solution's is (`prepare`, given the module's namespace: the `typing` names of a call-based
    task).

    What is the harness's own is never the prompt's failure, and goes on: `RunEnded` (the run's end
    came meanwhile) and whatever a SIGALRM handler raised (the tests' own alarm: their unit sees it,
    as in one process; `_handler_errors_kept`)."""
    if not prompt.strip():
        return None
    try:
        code = compile(prompt, "<prompt>", "exec", dont_inherit=True)
    except BaseException:  # noqa: BLE001 - not loadable alone: nothing to tell
        return None
    module = type(sys)("solution")
    module.__builtins__ = builtins
    if prepare is not None:
        prepare(module.__dict__)
    saved = sys.modules.get("solution")
    sys.modules["solution"] = module
    from_handlers = []
    restore = _handler_errors_kept(from_handlers)
    try:
        exec(code, module.__dict__)
    except RunEnded:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: the prompt may not leave either
        if any(exc is raised for raised in from_handlers):
            raise
        return describe(exc)
    finally:
        restore()
        from_handlers.clear()
        if saved is None:
            sys.modules.pop("solution", None)
        else:
            sys.modules["solution"] = saved
    return None


def _handler_errors_kept(raised):
    """Have the SIGALRM handler in place (the run-end timer's, `Harness._arm_run_end`, or the tests'
    own) put each exception it raises in the list `raised`, until the function returned is called:
    an exception met while the prompt runs is then told apart from the prompt's own."""
    handler = signal.getsignal(signal.SIGALRM)
    if not callable(handler):
        return lambda: None

    def kept(signum, frame):
        try:
            return handler(signum, frame)
        except BaseException as exc:
            raised.append(exc)
            raise

    try:
        signal.signal(signal.SIGALRM, kept)
    except (ValueError, OSError):  # (not the main thread)
        return lambda: None

    def restore():
        if signal.getsignal(signal.SIGALRM) is kept:
            signal.signal(signal.SIGALRM, handler)
    return restore


def harness_main():
    _prctl(PR_SET_DUMPABLE, 0)  # the child may not ptrace us or read our /proc files
    child_program = compiled_program(CHILD_CODE_FILE)  # read before any solution code exists
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
                signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)  # a signal from the child kills us: no result, score 0
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a closed pipe is an error we handle
    chunks = []
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    payload = json.loads(b"".join(chunks))
    for name in payload.get("modules", ()):
        if name in MODULES:
            try:
                __import__(name)
            except ImportError:
                pass
    _import_paths_cleaned()
    null = os.open(os.devnull, os.O_RDWR)
    result_fd = os.dup(1)
    os.dup2(null, 0)
    os.dup2(null, 1)  # prints of the tests (which may show returned values) go nowhere
    os.close(null)
    os.chdir("/")  # read-only in the isolated backends: the solution's scratch files are elsewhere
    nonce = payload.pop("nonce")
    harness = None
    try:
        harness = Harness(payload, child_program)
        # The solution's process is started now, so that its interpreter starts up while the setup
        # runs, but it is sent the solution only once the setup has ended or first calls it: until
        # then no code of the answer's runs anywhere, and a failure of the setup (an import of a
        # module the sandbox lacks) is the tests' own (see `run_setup`).
        harness._spawn_child()
        problem = harness.run_setup(payload.get("setup", ""))
        if problem is not None and problem[0] == "tests":
            outcome = {"kind": "setup_error", "error": problem[1]}
        elif problem is not None:
            error = f"the test setup failed calling the solution: {problem[1]}"
            outcome = {"kind": "results", "results": [{"ok": False, "error": error}] * len(payload["units"])}
        else:
            outcome = {"kind": "results", "results": harness.run_units(payload["units"])}
        if harness.prompt_error:  # the solution did not load, and the task's prompt alone does not either
            outcome = {"kind": "setup_error", "error": f"the task's prompt failed to load: {harness.prompt_error}"}
        if outcome["kind"] == "results":
            outcome["results"] = bounded_results(outcome["results"])
        outcome["starts"] = harness.starts
    except BaseException:  # noqa: BLE001 - a fault of ours: say so, never a score
        outcome = {"kind": "harness_error", "error": traceback.format_exc()[-2000:]}
    finally:
        if harness is not None:
            harness.close()
    line = f"{nonce} {json.dumps(outcome, ensure_ascii=False, separators=(',', ':'))}\n".encode("utf-8", "replace")
    while line:
        line = line[os.write(result_fd, line):]
    os._exit(0)


if __name__ == "__main__":
    harness_main()
