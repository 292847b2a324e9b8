"""`rlvr verifiers audit FILE.jsonl`: run the math verifier over saved (gold, prediction) rows.

Each JSONL row has `gold` and `prediction` (aliases: `answer`/`solution` and `completion`/`response`),
strings or numbers, and optionally `expected` (JSON true/false: what a person judged; null or left
out: not judged). A row with a null gold or prediction, or a string `expected` ("false" would read
as true), is refused, naming its line. The report counts verdict kinds (equal, wrong, hedged,
unparsable, timeout, error), agreement with `expected` where given, lists disagreements, and — when
the `math-verify` package is installed — where it disagrees with ours. A row whose verification
failed (its verdict's error is set, e.g. an unparsable gold) is "unverified": it counts neither as
agreeing nor as disagreeing with `expected`, is listed by line, and makes the exit status 3.
The file is UTF-8 (a byte-order mark is allowed); a file that cannot be read, or holds no rows, is
refused with one line naming it (and the line), exit status 2.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections import Counter

from rlvr.commands import non_negative_int, positive_seconds

_GOLD_KEYS = ("gold", "answer", "solution", "target")
_PRED_KEYS = ("prediction", "completion", "response", "output")


def register(subparsers) -> None:
    p = subparsers.add_parser("verifiers", help="tools to inspect verifiers",
                              epilog="Exit status: the ACTION's (rlvr verifiers audit --help); 2 without an ACTION "
                                     "(this help is printed) or after a usage error; 130 interrupted.")
    sub = p.add_subparsers(dest="verifiers_command", metavar="ACTION")
    a = sub.add_parser("audit", help="grade a JSONL of (gold, prediction[, expected]) rows and report",
                       epilog=f"Exit status: 0 every row was verified (whatever the agreement); "
                              f"{EXIT_UNVERIFIED} some rows could not be verified (their verdict's error is set, "
                              f"e.g. an unparsable gold; listed as unverified, left out of the agreement); 2 the "
                              f"file cannot be read or graded (no such file, not UTF-8, not JSON, no rows, a "
                              f"missing or null field), or a usage error; 130 interrupted; 141 stdout closed "
                              f"by its reader.")
    a.add_argument("file", help="JSONL file; each row has gold and prediction (strings or numbers) and optionally "
                                "expected (true or false)")
    a.add_argument("--timeout", type=positive_seconds, default=5.0,
                   help="seconds per sympy comparison (default 5, at most 86400)")
    a.add_argument("--no-math-verify", action="store_true", help="skip the comparison with math-verify")
    a.add_argument("--show", type=non_negative_int, default=20, help="how many disagreements to print (default 20)")
    a.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    a.set_defaults(func=audit)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


#: The exit status when some rows could not be verified (as `rlvr benchmarks check`'s).
EXIT_UNVERIFIED = 3
#: How many line numbers a list of rows shows before "... and N more".
_MAX_LINES_LISTED = 50


class _AuditFileError(ValueError):
    """The audit file cannot be graded as written; the message names the line and the field to fix."""


def _field(row: dict, keys: tuple[str, ...], what: str, lineno: int) -> str:
    """The row's ``what`` text, under the first of ``keys`` it has: a string, or a number (as its
    text). Null and other JSON values are refused, naming the line and field: ``str(None)`` would be
    graded as the answer "None", and a null prediction counted as an unparsable one."""
    for key in keys:
        if key in row:
            value = row[key]
            if isinstance(value, str):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise _AuditFileError(f"line {lineno}: {what} ({key!r}) is {json.dumps(value)}; it must be a string or "
                                  f"a number: fill it in or drop the row")
    raise _AuditFileError(f"line {lineno}: no {what} column (looked for {', '.join(keys)}); "
                          f"rows must be JSON objects with those keys")


def _expected(row: dict, lineno: int) -> bool | None:
    """The row's ``expected`` label: JSON true or false, or None when left out (or null: not judged).
    Anything else is refused, naming the line: ``bool("false")`` is True, so a string or number label
    would be read as a judgement it may not be."""
    value = row.get("expected")
    if value is None or isinstance(value, bool):
        return value
    raise _AuditFileError(f"line {lineno}: expected is {json.dumps(value)}; it must be true or false (a JSON "
                          f"boolean, not a string or number), or left out for a row nobody judged")


def _lines(path: str) -> list[str]:
    """The lines of the UTF-8 text file at ``path`` (a leading byte-order mark dropped; line ends
    as Python's text files read them: \\n, \\r\\n or \\r); :class:`_AuditFileError` naming the first
    line that is not UTF-8, ``FileNotFoundError`` or another ``OSError`` when it cannot be read."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise _AuditFileError(f"line {lineno}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file "
                              f"as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _read_rows(path: str) -> list[tuple[int, str, str, bool | None]]:
    """(line number, gold, prediction, expected) for each non-blank line of the JSONL file at ``path``;
    :class:`_AuditFileError` (or an ``OSError``) for the first line that cannot be graded, or a file
    without rows."""
    rows = []
    for lineno, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _AuditFileError(f"line {lineno}: not valid JSON ({exc}); each line must be one JSON object") from None
        except RecursionError:
            raise _AuditFileError(f"line {lineno}: JSON nested too deeply to read") from None
        if not isinstance(row, dict):
            raise _AuditFileError(f"line {lineno}: expected a JSON object")
        rows.append((lineno, _field(row, _GOLD_KEYS, "gold", lineno), _field(row, _PRED_KEYS, "prediction", lineno),
                     _expected(row, lineno)))
    if not rows:
        raise _AuditFileError("no rows: the file is empty (or blank lines only); each line must be one JSON "
                              "object with gold and prediction")
    return rows


def _line_list(graded: list) -> str:
    """The line numbers of ``graded`` ((row, verdict) pairs), the first `_MAX_LINES_LISTED` of them,
    and how many more."""
    shown = ", ".join(str(row[0]) for row, _ in graded[:_MAX_LINES_LISTED])
    more = len(graded) - _MAX_LINES_LISTED
    return shown + (f" ... and {more} more" if more > 0 else "")


def _math_verify_grader():
    try:
        from math_verify import parse, verify  # type: ignore
    except ImportError:
        return None

    def grade(gold: str, pred: str) -> bool | None:
        try:
            return bool(verify(parse(gold), parse(pred)))
        except Exception:  # noqa: BLE001 - the other grader's failures are reported as None
            return None

    return grade


def audit(args) -> int:
    from rlvr.verifiers.math import verify_batch

    try:
        rows = _read_rows(args.file)
    except FileNotFoundError:
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    except _AuditFileError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a directory, no permission, ...
        print(f"{args.file}: cannot read it: {exc.strerror or exc}", file=sys.stderr)
        return 2
    verdicts = verify_batch([(g, p) for _, g, p, _ in rows], timeout=args.timeout)
    kinds = Counter(v.details.get("kind", "?") for v in verdicts)
    n = len(rows)
    print(f"{n} rows: " + ", ".join(f"{k} {c}" for k, c in sorted(kinds.items())))
    # a row whose verification failed was not judged: it neither agrees nor disagrees with a label
    unverified = [(r, v) for r, v in zip(rows, verdicts) if v.error is not None]
    judged = [(r, v) for r, v in zip(rows, verdicts) if v.error is None]
    with_expected = [(r, v) for r, v in judged if r[3] is not None]
    disagree = [(r, v) for r, v in with_expected if r[3] != v.correct]
    if with_expected:
        agree = len(with_expected) - len(disagree)
        print(f"agreement with expected: {agree}/{len(with_expected)} ({agree / len(with_expected):.1%})")
        for (lineno, g, p, exp), v in disagree[:args.show]:
            print(f"  line {lineno}: expected {exp}, got {v.correct} ({v.reason}); gold={g[:60]!r} "
                  f"prediction={p[-80:]!r}")
        if len(disagree) > args.show:
            print(f"  ... and {len(disagree) - args.show} more disagreements (--show N for more)")
    for kind in ("unparsable", "timeout"):
        bad = [(r, v) for r, v in judged if v.details.get("kind") == kind]
        if bad:
            print(f"{kind} rows: {_line_list(bad)}")
    if unverified:
        print(f"unverified rows (verification failed, so not judged; not counted in the agreement): "
              f"{_line_list(unverified)}")
        print(f"  first: line {unverified[0][0][0]}: {unverified[0][1].error}")
    figures = {"rows": n, "kinds": dict(kinds), "disagree_expected": len(disagree),
               "with_expected": len(with_expected), "unverified": len(unverified),
               "unverified_lines": [r[0] for r, _ in unverified]}
    grade = None if args.no_math_verify else _math_verify_grader()
    if grade is None:
        print("math-verify: not installed (pip install 'rlvr[bench]' to compare)" if not args.no_math_verify
              else "math-verify: skipped")
    else:
        diffs = []
        for (lineno, g, p, _), v in judged:
            theirs = grade(g, p)
            if theirs is not None and theirs != v.correct:
                diffs.append((lineno, g, p, v, theirs))
        print(f"math-verify disagrees on {len(diffs)}/{len(judged)} verified rows")
        for lineno, g, p, v, theirs in diffs[:args.show]:
            print(f"  line {lineno}: ours {v.correct} ({v.reason}), math-verify {theirs}; gold={g[:60]!r} "
                  f"prediction={p[-80:]!r}")
        figures["math_verify_disagree"] = len(diffs)
    if args.json:
        print(json.dumps(figures))
    return EXIT_UNVERIFIED if unverified else 0
