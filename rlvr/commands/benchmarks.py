"""`rlvr benchmarks list` and `rlvr benchmarks check`: what can be evaluated, and a self-test.

`list` shows every benchmark (built in and registered with `register_benchmark`) with its size,
source and environment. `check NAME --data PATH` scores the benchmark's own reference solutions,
which must all be right: a quick test that the data, the mapping and the verifier agree.
"""

from __future__ import annotations

import sys

from rlvr.commands.eval import _sandbox, _sandbox_option_problem, _SandboxChoiceError, add_sandbox_options

#: What `rlvr benchmarks check` names when the dataset's own tests could not run (a module the
#: sandbox's Python lacks): the options that give the tests another Python, as `rlvr eval`'s do.
SANDBOX_WAY_OUT = ("rerun them where the tests' Python has what they import: --sandbox bwrap|subprocess "
                   "--sandbox-python PATH (readable by every user; for bwrap outside /tmp and /work) or --sandbox "
                   "docker --sandbox-image IMAGE (docs/benchmarks.md, \"HumanEval+ and MBPP+\")")


def register(subparsers) -> None:
    p = subparsers.add_parser("benchmarks", help="list the benchmarks `rlvr eval` knows; check one against its references",
                              description="List benchmarks, or check that a benchmark's reference solutions all score right.",
                              epilog="Exit status: the ACTION's (rlvr benchmarks list --help, rlvr benchmarks check "
                                     "--help); without an ACTION, as list's: 0 listed; 2 a usage error; 130 "
                                     "interrupted; 141 stdout closed by its reader.")
    sub = p.add_subparsers(dest="benchmarks_command", metavar="ACTION")
    lst = sub.add_parser("list", help="name, size, source and environment of every benchmark",
                         epilog="Exit status: 0 listed; 2 a usage error (an unknown option); 130 interrupted; 141 "
                                "stdout closed by its reader.")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)
    chk = sub.add_parser("check", help="score the benchmark's own reference solutions (all must be right)",
                         epilog="Exit status: 0 every reference solution is right; 1 some are wrong; 2 the "
                                "benchmark cannot be loaded (unknown name, bad data or option); 3 some could not "
                                "be verified (a sandbox outage, the dataset's own tests failing; 3 wins over 1); 130 "
                                "interrupted; 141 stdout closed by its reader.")
    chk.add_argument("name", help="benchmark name")
    chk.add_argument("--data", default=None, help="local copy of the benchmark (file or folder); default: the hub")
    chk.add_argument("--limit", type=int, default=None, help="only the first N problems")
    chk.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_sandbox_options(chk, "the reference solutions")
    chk.set_defaults(func=run_check)
    p.set_defaults(func=run_list)


def run_list(args) -> int:
    import json

    from rlvr.benchmarks.registry import all_benchmarks

    rows = [{"name": b.name, "size": b.size, "size_note": b.size_note, "size_label": b.size_label, "source": b.source, "env": b.env_id, "kind": b.kind,
             "description": b.description} for b in all_benchmarks().values()]
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2))
        return 0
    width = max([4] + [len(r["size_label"]) for r in rows])
    print(f"{'name':<12} {'size':<{width}}  {'env':<14} {'source':<52} description")
    for r in rows:
        print(f"{r['name']:<12} {r['size_label']:<{width}}  {r['env']:<14} {r['source']:<52} {r['description']}")
    print("\nLoad a local copy with `rlvr eval --benchmark NAME --data PATH`; add your own with "
          "rlvr.benchmarks.register_benchmark(name, env_id, size=...).")
    return 0


def _score_references(loaded, progress: bool) -> list:
    """The verdicts of ``loaded``'s reference solutions, one per task, scored in chunks under a
    progress bar on stderr (`scored_chunks`: a code benchmark runs every test in the sandbox, which
    takes minutes)."""
    from rlvr.benchmarks.evaluate import scored_chunks

    chunks = scored_chunks(loaded, loaded.tasks, loaded.references(), f"{loaded.benchmark.name} check", progress=progress)
    return [verdict for _, verdicts in chunks for verdict in verdicts]


def _fail(message: str) -> int:
    print(f"rlvr benchmarks check: {message}", file=sys.stderr)
    return 2


def _sandbox_problem(args) -> str | None:
    """What is wrong with the sandbox options, or None: checked (as `rlvr eval` does) before a
    backend is started, so a --sandbox the benchmark's env would not use is refused, not ignored."""
    from rlvr.benchmarks.registry import unused_sandbox

    problem = _sandbox_option_problem(args)
    if problem or args.sandbox == "auto":
        return problem
    try:
        return unused_sandbox(args.name)
    except KeyError:  # an unknown benchmark: load_benchmark names it
        return None


def run_check(args) -> int:
    """Score the references in the sandbox chosen (--sandbox ...; none: the env's own), closed after."""
    problem = _sandbox_problem(args)
    if problem:
        return _fail(problem)
    try:
        sandbox = _sandbox(args.sandbox, args.sandbox_python, args.sandbox_image, command="rlvr benchmarks check")
    except _SandboxChoiceError as exc:
        return _fail(str(exc))
    try:
        return _check(args, sandbox)
    finally:
        if sandbox is not None:
            sandbox.close()


def _check(args, sandbox) -> int:
    from rlvr.benchmarks.registry import load_benchmark
    from rlvr.envs.tasks import DatasetError

    try:
        loaded = load_benchmark(args.name, data=args.data, limit=args.limit, sandbox=sandbox, sandbox_required=True)
        verdicts = _score_references(loaded, progress=not args.no_progress)
    except (DatasetError, KeyError, ValueError) as exc:
        return _fail(exc.args[0] if exc.args else str(exc))
    for warning in loaded.warnings:  # rows the mapping skipped on purpose, counted per reason
        print(f"warning: {warning}", file=sys.stderr)
    errors = [(i, v) for i, v in enumerate(verdicts) if v.error]
    wrong = [(i, v) for i, v in enumerate(verdicts) if not v.correct and not v.error]
    right = sum(v.correct for v in verdicts)
    print(f"{args.name}: {right}/{len(verdicts)} reference solutions right, {len(wrong)} wrong, {len(errors)} unverified")
    for i, v in wrong[:10]:  # named as load errors name a row: task id and data row (skipped rows counted)
        print(f"  {loaded.task_label(i)}: {v.reason}")
    if errors:
        # the dataset's own tests failing (a module the sandbox's Python lacks) is no outage: a
        # rerun in the same sandbox fails the same way
        from rlvr.benchmarks.evaluate import TESTS_FAILED

        tests_side = [(i, v) for i, v in errors if (v.details or {}).get("kind") in TESTS_FAILED]
        outages = [(i, v) for i, v in errors if (v.details or {}).get("kind") not in TESTS_FAILED]
        if tests_side:
            i, v = tests_side[0]
            print(f"  unverified ({len(tests_side)}, the dataset's own tests failed, not the sandbox; a rerun "
                  f"in the same sandbox fails again): first {loaded.task_label(i)}: {v.error}\n  {SANDBOX_WAY_OUT}",
                  file=sys.stderr)
        if outages:
            i, v = outages[0]
            print(f"  unverified ({len(outages)}, infrastructure): first {loaded.task_label(i)}: {v.error}",
                  file=sys.stderr)
        return 3
    return 0 if not wrong else 1
