"""Audit 37 of the steps process reward and the format rewards.

1. A "yes" answer opening with a no-word ("No doubt.") does not withdraw the asked claim.
2. A negated or misdirected "is wrong" after a claim ("I don't think that's wrong", "means Bob is
   wrong") does not withdraw it; an em dash before a word ends a chain.
3. A box, tag or answer past the end of the chat turn earns no format credit.
4. A link between two temperature scales (`0°C = 32°F`) is no claim; one scale is checked.
5. A bare "2023: " opening a step is a label, not a ratio.
6. `answer_tag_reward` reads tags in any case, as the envs' answer rule does.
"""

from __future__ import annotations

import time

import pytest

from rlvr.envs.answers import tagged_answers
from rlvr.verifiers.shaping import answer_tag_reward, boxed_reward, tag_blocks, think_format_reward
from rlvr.verifiers.steps import RULES_VERSION, verify_steps


def _steps(text: str) -> list:
    return verify_steps(text, timeout=10).steps


def test_rules_version_names_the_change():
    assert RULES_VERSION >= 9


# -- 1. a yes-answer opening with a no-word ----------------------------------------------------------

@pytest.mark.parametrize("text", ["Is 3 * 4 = 13? No doubt.", "Is 3 * 4 = 13? No question.",
                                  "Is 3 * 4 = 13? Not surprisingly, yes.", "Is 3 * 4 = 13? Never doubt it.",
                                  "Is 3 * 4 = 13? No doubt about it."])
def test_a_yes_answer_opening_with_a_no_word_asserts_the_question(text):
    assert _steps(text)[0] == 0.0, text


@pytest.mark.parametrize("text", ["Is 3 + 4 = 8? No.", "Is 3 + 4 = 8? No, it is 7.", "Is 3 + 4 = 8? No. It is 7.",
                                  "Is 3 + 4 = 8? Nope!", "Does 7 * 8 = 57? Not quite.", "Is 3 + 4 = 8? Not at all.",
                                  "Is 3 + 4 = 8? Not true.", "Is 3 + 4 = 8? **No.**", "Is 3 + 4 = 8?\nNo",
                                  "Is 3 + 4 = 8? Well, no.", "Is 3 + 4 = 8? Wrong: it is 7."])
def test_a_denial_still_withdraws_the_question(text):
    v = verify_steps(text, timeout=10)
    assert set(v.steps) == {None} and v.details["claims"] == 0, (text, v.steps)


@pytest.mark.parametrize("text", ["Is 3 * 4 = 13? No it's 12.", "Is 3 * 4 = 13? No the answer is 12.",
                                  "Is 3 * 4 = 13? Well no it is 12.", "Is 3 * 4 = 13? Nope that is off."])
def test_a_bare_no_going_on_to_the_correction_withdraws_the_question(text):
    assert _steps(text)[0] is None, text


def test_a_bare_no_going_on_to_a_correct_step_keeps_the_step():
    assert _steps("Is 3 * 4 = 13? No 3 * 4 = 12.") == [None, 1.0]


# -- 2. a negated or misdirected rejection -----------------------------------------------------------

@pytest.mark.parametrize("text", [
    "3 * 4 = 13, I don't think that's wrong.", "3 * 4 = 13, none of it is wrong.", "3 * 4 = 13 nothing is wrong.",
    "3 * 4 = 13, nobody would say it is wrong.", "3 * 4 = 13 — who says it's wrong?", "3 * 4 = 13 — neither is wrong.",
    "3 * 4 = 13 means Bob is wrong.", "3 * 4 = 13, Bob thinks that's wrong.", "3 * 4 = 13 is not wrong.",
    "3 * 4 = 13 — so he has 13 pens."])
def test_a_rejection_not_of_the_claim_leaves_it_asserted(text):
    assert _steps(text) == [0.0], text


@pytest.mark.parametrize("text, steps", [
    ("3 * 4 = 13, that's wrong.", [None]), ("3 * 4 = 13 is wrong; 3 * 4 = 12.", [1.0]),
    ("3 * 4 = 13 — that's wrong.", [None]), ("3 * 4 = 13, oh wait, I think that's wrong.", [None]),
    ("I wrote 3 + 4 = 8 earlier, but that's a mistake: 3 + 4 = 7.", [1.0]), ("$3 + 4 = 8$ is incorrect.", [None]),
    ("3 + 4 = 8 dollars is wrong.", [None]), ("Note: 3 + 4 = 8 ✗", [None])])
def test_genuine_retractions_still_withdraw_the_claim(text, steps):
    assert _steps(text) == steps, text


def test_an_em_dash_between_numbers_is_not_a_new_chain():
    assert _steps("5 — 3 = 2") == [None]  # (no split: "3 = 2" is not claimed)


# -- 3. format credit only within the chat turn -------------------------------------------------------

RUN_ON = "I am not sure.<|im_end|>\n<|im_start|>user\nWhat is 3+4?<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize("text", [RUN_ON + "\\boxed{7}", "No idea<|endoftext|>\\boxed{7}"])
def test_a_box_past_the_end_of_the_turn_earns_no_format_credit(text):
    assert boxed_reward(text) == 0.0


def test_a_box_within_the_turn_still_counts():
    assert boxed_reward("So \\boxed{7}<|im_end|>\n<|im_start|>user\nthanks") == 1.0
    assert boxed_reward("<|im_start|>assistant\n\\boxed{7}") == 1.0


def test_tags_and_think_answers_past_the_end_of_the_turn_earn_nothing():
    assert answer_tag_reward(RUN_ON + "<answer>7</answer>") == 0.0
    assert answer_tag_reward("<answer>7</answer><|im_end|>") == 1.0
    assert think_format_reward("<think>hmm</think><|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n7") == 0.0
    assert think_format_reward("<think>hmm</think>7<|im_end|>") == 1.0


# -- 4. temperatures ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["0°C = 32°F", "100°C = 212°F", "20°C = 68°F", "0^\\circ C = 32^\\circ F",
                                  "20 ℃ = 68 ℉", "0^{\\circ}\\text{C} = 32^{\\circ}\\text{F}"])
def test_a_link_between_two_temperature_scales_is_no_claim(text):
    v = verify_steps(text, timeout=10)
    assert v.steps == [None] and v.details["claims"] == 0, (text, v.reason)


@pytest.mark.parametrize("text, steps", [("10°C + 5°C = 15°C", [1.0]), ("10°C + 5°C = 16°C", [0.0]),
                                         ("20°C = 21°C", [0.0]), ("3 * 4 = 13°C", [0.0]),
                                         ("60^\\circ = 3 * 20^\\circ", [1.0])])
def test_one_scale_is_checked_by_the_numbers(text, steps):
    assert _steps(text) == steps, text


# -- 5. a bare number label -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [("2023: 3 × 4 = 12", [1.0]), ("2: 2 + 2 = 4", [0.0]), ("2: 2 + 2 = 5", [0.0]),
                                         ("**2023:** 3 × 4 = 12", [1.0]), ("2:3 = 4:6", [1.0]), ("3: 1 = 6: 2", [1.0]),
                                         ("3: 1 = 7: 2", [0.0])])
def test_a_bare_number_and_colon_opening_a_step_is_a_label(text, steps):
    assert _steps(text) == steps, text


# -- 6. answer tags in any case ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["<ANSWER>7</ANSWER>", "<Answer>7</answer>", "<answer> tags. <ANSWER>7</Answer>"])
def test_answer_tags_in_any_case_agree_with_the_envs_rule(text):
    assert tagged_answers(text) == ["7"]
    assert answer_tag_reward(text) == 1.0


def test_tag_blocks_stays_case_sensitive_by_default():
    assert list(tag_blocks("<ANSWER>7</ANSWER>", "<answer>", "</answer>")) == []
    assert [inner for *_, inner in tag_blocks("<ANSWER>7</ANSWER>", "<answer>", "</answer>", ignore_case=True)] == ["7"]


# -- review of rules 9: genuine corrections are not penalised, only the hack phrasings are blocked -----------

@pytest.mark.parametrize("text", [
    "Is 3 + 4 = 8? No way.", "Is 3 + 4 = 8? No way!", "Is 3 + 4 = 8? No sorry, it's 7.", "Is 3 + 4 = 8? No actually it is 7.",
    "Is 3 + 4 = 8? No there are 7.", "Is 3 + 4 = 8? No its 7.", "Is 3 + 4 = 8? No you get 7.",
    "Is 3 + 4 = 8? Nope because it's 7.", "Is 3 + 4 = 8? No sir.", "Is 3 + 4 = 8? Not 8 but 7.", "Is 3 + 4 = 8?\nNo way.",
    "Is 3 + 4 = 8? 'No', it's 7."])
def test_a_no_opening_any_answer_withdraws_the_question(text):
    v = verify_steps(text, timeout=10)
    assert set(v.steps) == {None} and v.details["claims"] == 0, (text, v.steps)


@pytest.mark.parametrize("text", ["Is 3 + 4 = 8? No because 3 + 4 = 7.", "Is 3 + 4 = 8? No since 3 + 4 = 7."])
def test_a_no_with_its_reason_withdraws_the_question_and_checks_the_reason(text):
    assert _steps(text) == [None, 1.0], text


@pytest.mark.parametrize("text", [
    "Is 3 * 4 = 13? No doubts here.", "Is 3 * 4 = 13? No questions asked.", "Is 3 * 4 = 13? No wonder.",
    "Is 3 * 4 = 13? No surprise there.", "Is 3 * 4 = 13? Not unexpectedly, yes.", "Is 3 * 4 = 13? No kidding.",
    "Is 3 * 4 = 13? Not wrong.", "Is 3 * 4 = 13? Not incorrect.", "Is 3 * 4 = 13? Not false.", "Is 3 * 4 = 13? No mistake.",
    "Is 3 * 4 = 13? No error there.", "Is 3 * 4 = 13? Not bad.", "Is 3 * 4 = 13? Not only that, it is prime.",
    "Is 3 * 4 = 13? No-brainer.", "Is 3 * 4 = 13? False alarm, it is.", "Is 3 * 4 = 13? Well, no doubt."])
def test_an_affirming_phrase_opening_with_a_no_word_asserts_the_question(text):
    assert _steps(text)[0] == 0.0, text


@pytest.mark.parametrize("text", [
    "3 + 4 = 8, um, that's wrong.", "3 + 4 = 8, uh, that's wrong.", "3 + 4 = 8, wait a second, that's wrong.",
    "3 + 4 = 8, wait a moment, that's wrong.", "3 + 4 = 8, oh, my mistake, that's wrong.",
    "3 + 4 = 8, hmm, I believe that's wrong.", "3 + 4 = 8, wait, I made an error, that's wrong.",
    "3 + 4 = 8, hmm, let me check... that's wrong.", "3 + 4 = 8... um, that's wrong.", "3 + 4 = 8, oh no, that's wrong.",
    "3 + 4 = 8, no doubt that's wrong.", "3 + 4 = 8, let me think, that's wrong."])
def test_that_is_wrong_after_words_of_a_retraction_withdraws_the_claim(text):
    assert _steps(text) == [None], text


@pytest.mark.parametrize("text", [
    "3 * 4 = 13, no one thinks that's wrong.", "3 * 4 = 13, no way that's wrong.", "3 * 4 = 13, I doubt that's wrong.",
    "3 * 4 = 13, they said that's wrong.", "3 * 4 = 13, the teacher said that's wrong.",
    "3 * 4 = 13, someone would say that's wrong.", "3 * 4 = 13, my friend says that's wrong."])
def test_that_is_wrong_negated_or_said_by_another_leaves_the_claim_asserted(text):
    assert _steps(text) == [0.0], text


@pytest.mark.parametrize("text", [
    "3 + 4 = 8 above is wrong.", "3 + 4 = 8 here is wrong.", "3 + 4 = 8 earlier is wrong.", "3 + 4 = 8 there is a mistake.",
    "3 + 4 = 8 (step 2) is wrong.", "3 + 4 = 8 apples is wrong.", "3 + 4 = 8 cookies is wrong.", "3 + 4 = 8 apples was wrong."])
def test_is_wrong_after_a_place_a_reference_or_a_noun_of_the_number_withdraws_the_claim(text):
    assert _steps(text) == [None], text


@pytest.mark.parametrize("text", ["3 * 4 = 13 Bob is wrong.", "3 * 4 = 13 means he is wrong.", "3 * 4 = 13 none is wrong."])
def test_is_wrong_with_another_subject_leaves_the_claim_asserted(text):
    assert _steps(text) == [0.0], text


@pytest.mark.parametrize("text, steps", [("12: 4 = 3", [1.0]), ("6: 2 = 3", [1.0]), ("10: 5 = 2", [1.0]), ("3: 2 = 1.5", [1.0]),
                                         ("3: 2 = 2", [0.0]), ("12: 4 = 5", [0.0]), ("1: 3 + 4 = 7", [0.0]),
                                         ("2: 1 = 4 + 2", [0.0])])
def test_a_number_colon_number_before_an_equals_is_a_ratio_not_a_label(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text, steps, claims", [
    ("20°C = 9/5 × 20 + 32 = 70°F", [0.0], 1), ("20°C = 9/5 × 20 + 32 = 68°F", [1.0], 1), ("2 × 3 = 7°C = 45°F", [0.0], 1),
    ("2 × 3 = 6 = 7°C = 45°F", [0.0], 2), ("212°F = (212 - 32) \\times 5/9 = 100°C", [1.0], 1),
    ("212°F = (212 - 32) \\times 5/9 = 101°C", [0.0], 1), ("20°C + 5°C = 25 = 77°F", [1.0], 1)])
def test_a_side_on_no_scale_is_checked_except_the_crossing_link_of_a_conversion(text, steps, claims):
    v = verify_steps(text, timeout=10)
    assert (v.steps, v.details["claims"]) == (steps, claims), text


# -- second review of rules 9: corrections the pre-session rules withdrew are withdrawn again -----------------

@pytest.mark.parametrize("text", [
    "Is 3 + 4 = 8? Not the case, it's 7.", "Is 3 + 4 = 8? Not possible, it's 7.", "Is 3 + 4 = 8? Not likely.",
    "Is 3 + 4 = 8? Not in this case.", "Is 3 + 4 = 8? Not according to my count, it's 7.", "Is 3 + 4 = 8? Hmm, not so fast.",
    "Is 3 + 4 = 8? Not equal; it is 7.", "Is 3 + 4 = 8? No way, it's 7.", "Is 3 + 4 = 8? No way. It's wrong."])
def test_not_and_any_word_withdraws_the_question(text):
    v = verify_steps(text, timeout=10)
    assert set(v.steps) == {None} and v.details["claims"] == 0, (text, v.steps)


@pytest.mark.parametrize("text", ["Is 12 × 3 = 38? Not by my count: 12 × 3 = 36.",
                                  "Does 15 + 27 = 43? Not when I add again, 15 + 27 = 42."])
def test_not_with_its_correction_withdraws_the_question_and_checks_the_correction(text):
    assert _steps(text) == [None, 1.0], text


@pytest.mark.parametrize("text", [
    "Is 3 * 4 = 13? Not a single doubt.", "Is 3 * 4 = 13? Not to mention it is prime.", "Is 3 * 4 = 13? Not in doubt.",
    "Is 3 * 4 = 13? No joke, it is.", "Is 3 * 4 = 13? No worries, it is.", "Is 3 * 4 = 13? No exaggeration.",
    "Is 3 * 4 = 13? No way it's wrong.", "Is 3 * 4 = 13? No way that could be wrong.", "Is 3 * 4 = 13? No chance it's wrong."])
def test_more_affirming_phrases_assert_the_question(text):
    assert _steps(text)[0] == 0.0, text


@pytest.mark.parametrize("text, steps", [
    ("Janet has 48 + 37 = 75 eggs, oops, didn't carry, that's wrong. 48 + 37 = 85 eggs.", [1.0]),
    ("So the cost is 4 × 2.5 = 9 dollars, hmm, not quite, that's wrong. 4 × 2.5 = 10 dollars.", [1.0]),
    ("He sold 3 × 12 = 38 cookies, no way, that's wrong; 3 × 12 = 36.", [1.0]),
    ("She walks 3 × 4 = 13 km, what was I thinking, that's wrong. 3 × 4 = 12 km.", [1.0]),
    ("3 + 4 = 8, I never carry right, that's wrong.", [None]), ("3 + 4 = 8, you might think so, but that's wrong.", [None]),
    ("3 + 4 = 8, I didn't carry so that's wrong.", [None])])
def test_a_negation_inside_the_correction_does_not_negate_that_is_wrong(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text", [
    "3 * 4 = 13, I would never say that's wrong.", "3 * 4 = 13, no one can say that's wrong.",
    "3 * 4 = 13, only a fool thinks that's wrong.", "3 * 4 = 13 — whoever says that's wrong is mistaken."])
def test_a_negation_or_another_subject_right_before_that_is_wrong_still_asserts(text):
    assert _steps(text) == [0.0], text


@pytest.mark.parametrize("text", ["The 3 × 12 = 38 I wrote is wrong, it is 36.", "Each box holds 48 / 6 = 9 per box is wrong, it's 8.",
                                  "3 + 4 = 8 red apples is wrong."])
def test_is_wrong_after_a_side_and_words_naming_it_withdraws_the_claim(text):
    assert _steps(text) == [None], text


@pytest.mark.parametrize("text", ["3 * 4 = 13 he says is wrong.", "3 * 4 = 13 isn't wrong.", "3 * 4 = 13 Bob says is wrong.",
                                  "3 * 4 = 13 nobody thinks is wrong.", "3 * 4 = 13 makes it wrong.",
                                  "3 * 4 = 13 means nothing is wrong."])
def test_is_wrong_after_a_negation_or_another_subject_still_asserts(text):
    assert _steps(text) == [0.0], text


@pytest.mark.parametrize("text, steps", [("12: 4 × 3 = 9", [1.0]), ("24: 4 + 2 = 8", [1.0]), ("3: 2 \\times 2 = 3", [1.0]),
                                         ("12: 4 × 3 = 10", [0.0]), ("2023: 3 × 4 = 13", [0.0]), ("Step 2: 2 + 2 = 4", [1.0])])
def test_only_a_four_digit_number_and_colon_is_a_bare_label(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text, steps, claims", [
    ("3 × 4°C = 13°F", [0.0], 1), ("3 × 4°C = 12°F", [1.0], 1), ("2 × 10°C = 20°C", [1.0], 1), ("-40°C = -40°F", [None], 0)])
def test_a_side_holding_an_operation_is_on_no_scale(text, steps, claims):
    v = verify_steps(text, timeout=10)
    assert (v.steps, v.details["claims"]) == (steps, claims), text


@pytest.mark.parametrize("text, steps, claims", [
    ("25°C = 25 × 9/5 + 32 = 77 degrees Fahrenheit", [1.0], 1), ("25°C = 25 × 9/5 + 32 = 78 degrees Fahrenheit", [0.0], 1),
    ("68°F = (68 − 32) × 5/9 = 20 degrees Celsius", [1.0], 1), ("68°F = (68 − 32) × 5/9 = 21 degrees Celsius", [0.0], 1),
    ("20°C = 20 + 273 = 293 K", [None], 0), ("$20^\\circ C = 20 + 273.15 = 293.15 \\text{ K}$", [None], 0)])
def test_a_conversion_to_a_scale_in_words_or_kelvin_is_checked_on_that_scale(text, steps, claims):
    v = verify_steps(text, timeout=10)
    assert (v.steps, v.details["claims"]) == (steps, claims), text


def _seconds(fn, arg) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


def test_no_answers_temperature_scales_and_labels_read_in_linear_time():
    from rlvr.verifiers.step_marks import _denied
    from rlvr.verifiers.step_units import temperature_scale
    n = 20000
    assert _seconds(_denied, " " * n + "wait" + "," * n + "x") < 0.5
    assert _seconds(temperature_scale, "°" + " " * n + "x") < 0.5
    assert _seconds(_steps, "2023:" + " " * n + "x =") < 2.0
    assert _seconds(_denied, "No way" + " x" * n + " wrong") < 0.5
    assert _seconds(_steps, "3 + 4 = 8" + " oops," * n + " that's wrong.") < 2.0
