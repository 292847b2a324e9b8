"""`rlvr verify GOLD PREDICTION`: grade one answer and print the verdict with its reason."""

from __future__ import annotations

import json

from rlvr.commands import positive_seconds

#: Said after a usage error: an answer starting with '-' (`-\frac{1}{2}`, `-x`) reads as an option.
_DASH_HINT = ("an answer that starts with '-' goes after '--', which ends the options: "
              "rlvr verify [OPTIONS] -- '-\\frac{1}{2}' '\\boxed{-0.5}'")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="grade one math answer against a gold answer",
        description="Grade PREDICTION (a bare answer or a whole model output) against GOLD with the math "
                    "verifier and print why.",
        epilog=f"Exit status: 0 judged (right or wrong); 2 verification failed (the verdict's error is set, "
               f"e.g. an unparsable gold answer) or a usage error; 130 interrupted; 141 stdout closed by its "
               f"reader. Note: {_DASH_HINT} (a negative number such as -5 needs no '--').")
    p.add_argument("gold", help="the reference answer, e.g. '\\frac{1}{2}'")
    p.add_argument("prediction", help="the answer or model output to grade")
    p.add_argument("--timeout", type=positive_seconds, default=5.0,
                   help="seconds for the sympy stage (default 5, at most 86400)")
    p.add_argument("--fallback", choices=["none", "last_number"], default="none",
                   help="answer extraction fallback when no boxed/'answer is' is found")
    p.add_argument("--json", action="store_true", help="print the whole verdict as JSON")
    p.set_defaults(func=run)
    usage_error = p.error

    def error(message: str):
        """argparse's usage error; when an answer is missing (maybe read as an option), how to pass
        one that starts with '-'."""
        if "required: " in message:
            message = f"{message}\n({_DASH_HINT})"
        usage_error(message)

    p.error = error  # type: ignore[method-assign]


def run(args) -> int:
    from rlvr.verifiers.math import verify

    v = verify(args.gold, args.prediction, timeout=args.timeout,
               fallback=None if args.fallback == "none" else args.fallback)
    if args.json:
        print(json.dumps(v.to_dict()))
    else:
        status = "error" if v.error else ("correct" if v.correct else "wrong")
        print(f"{status} ({v.details.get('kind')}): {v.reason}")
    return 2 if v.error else 0
