"""`boxed_reward`'s quick answers (a text without "box", a plain box with a digit) give exactly
what its rule gives: 1.0 when `last_box` finds a box that holds something, else 0.0.

The quick paths exist because a format reward is scored on every env step (see
`benchmarks/perf/env_bench.py`); they must never change a reward."""

from __future__ import annotations

import itertools

import pytest

from rlvr.verifiers.shaping import _holds_something, boxed_reward, last_box

BOXES = ["\\boxed{7}", "\\boxed{}", "\\boxed{\\phantom{0}}", "\\fbox{12}", "\\framebox{x}", "\\framebox[2cm]{3}",
         "\\boxed 5", "\\boxed{\\text{}}", "\\boxed{²}", "\\boxed{\u0663}", "\\boxed{x^2}", "\\boxed{\\frac{1}{2}}",
         "\\boxed{{}}", "\\boxed{", "\\Boxed{4}", "box{4}", ""]
AROUND = ["", "The answer is ", "<think>\\boxed{1}</think>\nSo ", "#### 6\n", "Answer: "]
AFTER = ["", ".", "<|im_end|><|im_start|>user\nNext?<|im_start|>assistant\\boxed{9}", " or 5", "</think>"]


@pytest.mark.parametrize("before,box,after", list(itertools.product(AROUND, BOXES, AFTER)))
def test_boxed_reward_is_its_rule(before: str, box: str, after: str) -> None:
    text = before + box + after
    assert boxed_reward(text) == (1.0 if last_box(text) is not None else 0.0), text


def test_a_text_without_any_box_scores_zero_and_one_with_a_box_command_is_read() -> None:
    assert boxed_reward("#### 42") == 0.0
    assert boxed_reward("The answer is 42, no box here.") == 0.0
    assert boxed_reward("so \\fbox{42}") == 1.0  # no "\\boxed" in it, still a box
    assert boxed_reward("so \\framebox{42}") == 1.0


@pytest.mark.parametrize("content,shows", [("42", True), ("²", True), ("\u0663", True), ("x", True), ("", False),
                                           (" ", False), ("\\phantom{0}", False), ("{}", False)])
def test_a_box_content_shows_a_digit_of_any_script(content: str, shows: bool) -> None:
    """`str.isdigit` counts superscripts and other scripts' digits: the quick test for a digit must too."""
    assert _holds_something(content) is shows


# LaTeX boxes: a digit among commands that show what they hold (`_SHOWING_COMMANDS`) is answered
# without normalising; the quick answer must be the normaliser's on every such content.
_PIECES = ["0", "1", "7", "x", " ", "{", "}", "[", "]", "^", "_", "-", "+", ".", ",", "(", ")", "\\,", "\\ ", "\\\\",
           "\\!", "%", "'", "=", "/", "|", "\\{", "\\}"]


def _latex_contents(seed: int, count: int) -> list[str]:
    """`count` random box contents of symbols and showing commands (bare and with a brace), each with a
    digit somewhere (what the quick answer looks for)."""
    import random

    from rlvr.verifiers.shaping import _SHOWING_COMMANDS

    names = sorted(_SHOWING_COMMANDS)
    pieces = _PIECES + [f"\\{name}" for name in names] + [f"\\{name}{{" for name in names]
    rng = random.Random(seed)
    contents = []
    for _ in range(count):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        parts.insert(rng.randint(0, len(parts)), rng.choice("0179"))
        contents.append("".join(parts))
    return contents


@pytest.mark.parametrize("seed", range(4))
def test_the_quick_answer_for_latex_boxes_is_the_normalisers(seed: int) -> None:
    from rlvr.verifiers.shaping import _shows_once_normalised

    for content in _latex_contents(seed, 1500):
        assert _holds_something(content) is _shows_once_normalised(content), content


@pytest.mark.parametrize("content", ["\\frac{3}{4}", "2\\sqrt{3}", "\\left(1, 2\\right)", "9\\pi", "\\dfrac{\\sqrt{2}}{2}",
                                     "x = \\frac{9}{2}", "30^\\circ", "\\text{(A) } 4"])
def test_usual_latex_answers_are_seen_without_normalising(content: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import rlvr.verifiers.shaping as shaping

    monkeypatch.setattr(shaping, "_shows_once_normalised", lambda content: pytest.fail(f"normalised {content!r}"))
    assert _holds_something(content) is True


@pytest.mark.parametrize("content", ["\\phantom{0}", "\\hspace{1cm}", "\\frac{\\phantom{1}}{\\phantom{2}}", "\\vphantom{7}",
                                     "\\hspace{2pt}\\vspace{3pt}", "$\\phantom{3}$", "\\hphantom{12}\\,"])
def test_a_command_that_may_hide_a_digit_sends_the_box_to_the_normaliser(content: str) -> None:
    assert _holds_something(content) is False
