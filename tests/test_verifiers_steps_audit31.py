"""Audit 31 of the process reward (`verifiers/steps.py`, rules 6) and the format rewards
(`verifiers/shaping.py`):

1. Claims laid out in LaTeX alignment environments (`&=`, rows after `\\\\`), with spacing commands
   around `=` (`\\;=\\;`), or followed by `\\tag{1}` / `\\checkmark` are read; a line or aligned row
   that starts with `=` continues the chain before it (its left side is that chain's last side).
   Before, all of these went unchecked, so a false chain scored 1.0 "nothing checkable".
2. A side with a modulus note (`81 = 1 \\pmod{5}`) states a congruence: its links are no claims, and
   the step's other links still count (`2^{10} = 1024 = 4 \\pmod{5}` holds by `2^{10} = 1024`).
3. An exactly true claim respelled with trailing zeros (`1/4 = 0.250`) is the same claim, judged once;
   a rounding (`1/3 = 0.333`) is still another claim than `1/3 = 0.3330`.
4. Fillers, blanks and lone combining marks (U+3164, U+2800, U+115F, U+034F, ...) are no content for
   the format rewards.
"""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.shaping import answer_tag_reward, boxed_reward, think_format_reward
from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps


def _steps(text):
    return verify_steps(text, timeout=10)


# -- 1. alignment, spacing, continued chains -----------------------------------------------------

def test_an_aligned_false_chain_fails_like_the_same_chain_inline():
    inline = _steps("$3 \\cdot 4 + 5 = 12 + 5 = 18$")
    aligned = _steps("\\begin{aligned} 3 \\cdot 4 + 5 &= 12 + 5 \\\\ &= 18 \\end{aligned}")
    assert inline.steps == aligned.steps == [0.0]
    assert "12 + 5 = 18" in aligned.reason


def test_an_aligned_true_chain_earns_credit_for_each_row():
    v = _steps("\\begin{aligned} 3 \\cdot 4 &= 12 \\\\ 12 + 5 &= 17 \\end{aligned}")
    assert v.steps == [1.0] and v.details["claims"] == 2


@pytest.mark.parametrize("note", ["& \\text{(product)}", "&& \\text{by the table}", "& \\quad \\text{(i)}"])
def test_a_column_of_notes_after_an_aligned_row_ends_its_chain(note):
    v = _steps(f"\\begin{{aligned}} 3 \\cdot 4 &= 12 {note} \\\\ 12 + 5 &= 18 {note} \\end{{aligned}}")
    assert v.steps == [0.0] and "12 + 5 = 18" in v.reason


def test_rows_of_an_align_environment_on_their_own_lines_continue_the_chain():
    v = _steps("\\begin{align*}\n3 \\cdot 4 + 5 &= 12 + 5 \\\\\n&= 18\n\\end{align*}")
    assert v.steps == [None, 1.0, 0.0, None]
    assert "12 + 5 = 18" in v.reason


@pytest.mark.parametrize("text", ["3 \\cdot 4 + 5 = 12 + 5\n= 18", "$$3 \\cdot 4 + 5 = 12 + 5$$\n$$= 18$$",
                                  "\\[3 \\cdot 4 + 5 = 12 + 5\\]\n\\[\n= 18\n\\]"])
def test_a_line_starting_with_equals_continues_the_previous_lines_chain(text):
    v = _steps(text)
    assert [s for s in v.steps if s is not None] == [1.0, 0.0]
    assert "12 + 5 = 18" in v.reason


def test_a_continued_chain_does_not_reach_over_text_nor_into_another_part():
    assert _steps("3 + 4 = 7\nHence the total.\n= 8").steps == [1.0, None, None]
    assert _steps(["3 + 4 = 7", "= 8"]).steps == [1.0, None]


@pytest.mark.parametrize("text", ["$3 \\cdot 4 \\;=\\; 13$", "3 \\cdot 4 \\,=\\, 13", "3 \\cdot 4 \\quad=\\quad 13",
                                  "3 \\cdot 4 = 13 \\tag{1}", "3 \\cdot 4 = 13 \\checkmark",
                                  "3 \\cdot 4 = 13 \\; \\checkmark", "3 \\cdot 4 = 13 \\label{eq:a}"])
def test_spacing_around_equals_and_a_tag_or_check_mark_hide_no_claim(text):
    assert find_claims(text) == [("3 \\cdot 4", "13")]
    assert _steps(text).steps == [0.0]


def test_a_line_break_before_a_continued_row_is_still_a_line_break():
    assert _steps("3 + 4 = 7 \\\\ = 8").steps == [0.0]  # the row continues: 7 = 8
    assert find_claims("3 + 4 = 7 \\\\ 2 + 2 = 4") == [("3 + 4", "7"), ("2 + 2", "4")]


def test_many_ampersands_are_read_in_linear_time():
    start = time.perf_counter()
    v = _steps("&" * 100_000 + "3 + 4 = 8")
    assert time.perf_counter() - start < 5
    assert v.steps == [0.0]


# -- 2. modulus notes ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["81 = 1 \\pmod{5}", "100 = 2 \\ (\\mathrm{mod}\\ 7)", "100 = 2 \\ (\\text{mod } 7)",
                                  "100 = 2 \\mod 7", "100 = 2 \\bmod{7}"])
def test_a_true_congruence_written_with_equals_is_no_false_claim(text):
    v = _steps(text)
    assert v.correct and v.steps == [None]


@pytest.mark.parametrize("text", ["2^{10} = 1024 = 4 \\pmod{5}", "3^4 = 81 = 1 \\pmod 5", "2^{10} = 1024 \\equiv 4 \\pmod{5}"])
def test_a_modulus_note_leaves_the_steps_other_true_links(text):
    v = _steps(text)
    assert v.correct and v.steps == [1.0] and v.details["claims"] == 1


def test_a_false_link_beside_a_modulus_note_still_fails():
    assert _steps("2^{10} = 1000 = 0 \\pmod{5}").steps == [0.0]


# -- 3. trailing zeros ---------------------------------------------------------------------------

def test_an_exact_claim_respelled_with_trailing_zeros_is_judged_once():
    padded = _steps("1/4 = 0.25\n1/4 = 0.250\n1/4 = 0.2500\n1/4 = 0.25000\n1/4 = 0.250000\n2 + 2 = 5")
    assert padded.score == pytest.approx(0.5)
    assert padded.steps == [1.0, None, None, None, None, 0.0]
    assert padded.details["repeated_claims"] == 4
    assert _steps("1/4 = 0.250\n0.25 = 1/4").steps == [1.0, None]
    assert _steps("1/8 = 0.125\n1/8 = 0.1250\n\\frac{1}{8} = 0.12500").steps == [1.0, None, None]


def test_trailing_zeros_still_count_for_a_claim_that_holds_by_rounding():
    v = _steps("1/3 = 0.333\n1/3 = 0.3330")
    assert v.steps == [1.0, 0.0] and v.details["repeated_claims"] == 0


def test_rules_version_is_bumped():
    assert RULES_VERSION >= 6


# -- 4. invisible content ------------------------------------------------------------------------

_BLANKS = ["\u3164", "\u2800", "\u115f", "\u1160", "\uffa0", "\u034f", "\u17b4", "\u180b", "\ufe0f",
           "\U000e0100", "\u0301", "\x01", "\u3164\u2800\u200b "]


@pytest.mark.parametrize("blank", _BLANKS)
def test_fillers_and_lone_marks_are_no_content_for_the_format_rewards(blank):
    assert think_format_reward(f"<think>{blank}</think>{blank}") == 0.0
    assert think_format_reward(f"<think>reasoning</think>{blank}") == 0.0
    assert boxed_reward(f"\\boxed{{{blank}}}") == 0.0
    assert answer_tag_reward(f"<answer>{blank}</answer>") == 0.0


def test_visible_text_with_marks_is_still_content():
    assert think_format_reward("<think>e\u0301</think>ok") == 1.0
    assert think_format_reward("<think>中</think>\u3164x") == 1.0
    assert boxed_reward("\\boxed{ab}") == 1.0
    assert answer_tag_reward("<answer>\u2800 5</answer>") == 1.0
