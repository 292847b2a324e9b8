"""Regression tests for an audit of the code verifier's harness report (audit 25).

The harness reports every unit's result on one stdout line, the verifier's own channel. That line
used to grow with the solution's exception texts (up to ~500 characters a failing unit, each
non-ASCII one escaped to 6 bytes) and with the number of units, so it overflowed the sandbox's
output cap and a right or mostly right answer scored 0, blamed for "killing the harness". Now the
error text in the report is bounded (`code_harness.bounded_results`) and the run's output cap is
raised to hold a report of that many units (`code_harness.report_bytes`).
"""

from __future__ import annotations

import json

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.verifiers.code import check_function
from rlvr.verifiers import code_harness

#: An output cap far below what the reports of these tests take without the fix.
SMALL_CAP = 2000


@pytest.fixture(params=["subprocess", "bwrap"])
def small_box(request):
    """A sandbox whose output cap is SMALL_CAP bytes (bwrap skips where absent)."""
    return get_sandbox(request.param, **{**TEST_LIMITS, "max_output_bytes": SMALL_CAP})


def identity_tests(n):
    return [f"assert f({i}) == {i}" for i in range(n)]


def failing_every(k, message):
    """A solution right on every input but the multiples of `k`, where it raises ValueError(message)."""
    return f"def f(x):\n    if x % {k} == 0:\n        raise ValueError({message!r})\n    return x\n"


def test_a_right_answer_to_many_tests_is_not_cut_off_by_the_output_cap(small_box):
    verdict = check_function("def f(x):\n    return x\n", identity_tests(150), sandbox=small_box)
    assert verdict.correct and verdict.score == 1.0, verdict.reason


def test_a_mostly_right_answer_with_long_non_ascii_errors_keeps_its_score(small_box):
    verdict = check_function(failing_every(10, "中" * 600), identity_tests(20), sandbox=small_box)
    assert verdict.score == pytest.approx(0.9), verdict.reason
    assert verdict.details["kind"] == "failed"
    assert "ValueError: 中中中" in verdict.reason  # the first failure keeps its text


def test_error_text_past_the_reports_room_is_replaced_by_a_short_note(small_box):
    verdict = check_function(failing_every(2, "中" * 600), identity_tests(100), sandbox=small_box)
    assert verdict.score == pytest.approx(0.5), verdict.reason
    errors = [r["error"] for r in verdict.details["results"] if not r["ok"]]
    assert errors[0].startswith("ValueError: 中中中")
    assert errors[-1] == code_harness.ERROR_OMITTED


def test_an_error_holding_a_lone_surrogate_is_reported(small_box):
    verdict = check_function(failing_every(2, "\ud800 bad"), identity_tests(4), sandbox=small_box)
    assert verdict.score == pytest.approx(0.5), verdict.reason
    assert "bad" in verdict.reason


def test_the_solutions_prints_cannot_push_the_report_out(small_box):
    solution = "def f(x):\n    print('x' * 100_000)\n    return x\n"
    verdict = check_function(solution, identity_tests(30), sandbox=small_box)
    assert verdict.correct, verdict.reason


def test_the_report_line_never_exceeds_report_bytes():
    # the worst case: every unit fails with the longest error of the costliest characters in JSON
    # (control characters, 6 bytes each), an unsupported argument too
    n = 1000
    worst = {"ok": False, "error": "\x01" * 5000, "unsupported": "\x01" * 5000}
    outcome = {"kind": "results", "results": code_harness.bounded_results([worst] * n), "starts": 4}
    line = f"{'0' * 32} {json.dumps(outcome, ensure_ascii=False, separators=(',', ':'))}\n"
    assert len(line.encode("utf-8")) <= code_harness.report_bytes(n)
    assert outcome["results"][-1] == {"ok": False, "error": code_harness.ERROR_OMITTED,
                                      "unsupported": code_harness.ERROR_OMITTED}
