"""Math answer verification: is the model's final answer equivalent to the gold answer?

    >>> from rlvr.verifiers.math import verify
    >>> verify("\\\\frac{1}{2}", "... so the answer is $\\\\boxed{0.5}$").reason
    'equal as rationals'

Pipeline for one pair (gold, prediction):
1. Extract the final answer from each side (`extract_answer`; a short bare answer is used as is).
   Several `\\boxed{}` with different contents are "hedged" unless every one of them is right. When
   a closed `<answer>` tag holds an answer, only answers inside such tags count (several tags with
   different answers are hedged too); a mention of `<answer>` in prose or an unclosed tag is no tag.
2. Normalise (`math_normalize`) and parse (`math_parse`) both into trees. This runs in the caller's
   process: it is linear-time with hard size caps, so it needs no time limit.
3. Compare with exact rational arithmetic (`math_compare.exact_eq`). Integers, decimals, fractions,
   mixed numbers, percentages and scientific notation are decided here, in microseconds. An answer
   that still holds an operation to carry out (`\\binom{20}{5}` for 15504, see
   `math_compare.unevaluated`) is wrong: copying the question's expression is no answer. That is
   decided first, on the trees alone, whatever the answer's value (`15!` for 3, `1000000!`).
4. Only when that cannot decide (symbols, roots, π, functions, equations) the comparison is re-run
   with sympy (`math_sympy`) in a worker process under a hard time limit (`timelimit`): on timeout
   the worker is killed and the verdict says "timed out after 5s". A job that runs past its time
   or size limit is followed by a check of the gold alone (`_gold_fault`), which tells whose fault
   it was.
5. Verdicts are memoised by (normalised gold, normalised answer), so the many identical final
   answers of a GRPO group cost one comparison. Every caller asking for the same pair gets the same
   Verdict object, so its `details` are read-only (a dict that refuses changes; `dict(details)` is
   a copy you may change): one caller cannot change what the others, or the cache, hold.

Every Verdict carries `details["kind"]`, one of:
    "equal"       right answer;
    "wrong"       a different answer;
    "hedged"      several different final answers where one was asked (never rewarded);
    "unparsable"  no final answer found, or not a math expression we can read;
    "timeout"     the sympy stage ran past its time (memory, recursion, float range) limit on this
                  answer while the gold alone takes at most half of it: scored 0 as a wrong answer (`Verdict.wrong`,
                  `error` None; not memoised). Deliberately not an error: with a gold that evaluates
                  in time, only a pathological answer runs that long, and an error would make the
                  trainer retry the sample and then stop the run whenever a model emits one;
    "error"       verification itself failed (unparsable gold, a crashed worker, no free worker within
                  `timelimit.DEFAULT_MAX_WAIT`, any exception the sympy stage raised, or a gold that
                  alone takes more than half of the time limit or runs past a size limit, so that
                  answers compared with it cannot be judged: see `_gold_fault`): `Verdict.error` is set, the verdict is not memoised, and
                  the pair must not be trained on as a zero reward.
The sympy stage's `timeout` is counted only while a worker runs the job: waiting for a free worker
(other callers' load) never makes a right answer time out.
Model output never raises: any text gets a Verdict. A bad *gold* answer (unparsable, or a worked
solution without a marked final answer) raises `GoldAnswerError` in `validate_gold` (call
it when loading a dataset); an unparsable one, a sentence or worked solution, one with no value
(`1/0`, `\\log 0`), or one that is neither text nor a number (None, NaN), gives a kind "error"
Verdict at reward time (`_gold_problem`: `validate_gold` and `verify` refuse the same golds).

Conventions in brief (details in `math_compare`, `math_normalize` and docs/verifiers.md):
`1,000` = `1{,}000` = `10 000`/10 = 1000 but `12{,}5` = 12.5; `5 6` is unparsable, not 30; `50\\%` = `50` = `0.5` but
`0.5\\%` != `0.5`; a decimal with >= 3 significant digits equals an
exact value it correctly rounds (`0.333` = `1/3`, `3.14` = `\\pi`; `0.33` != `1/3`), and one of 15-17 digits a
rational value it is as a Python float (`0.6666666666666666` = `2/3`); `0.\\overline{3}` = 1/3; a gold clock time
`10:30` equals only a clock time (not `\\frac13`);
`2\\frac12` = `2\\dfrac12` = 5/2, `-2\\frac12` = -5/2; `30^\\circ` = 30 but `\\sin 30^\\circ` = 1/2; unit
words, units in `\\text{}` and currency are dropped (unit-like trailing text when the gold is a number;
never number words, operations or retractions); `5 thousand` = 5000; `0.5 percent` = `0.5\\%`; `x = 3` = `3`;
equations equal when proportional; `x > 3` = `(3, \\infty)`; `(1,2]` != `(1,2)`; bare lists, sets and "or" lists are
unordered, tuples ordered, and an interval (`[1, 2)`) never equals a bare list; named values count by name
(`y = 1, x = 2` is the tuple (2, 1)); `\\pm a` is {a, -a}, and a `\\pm` anywhere makes the set of the
answer's values (`\\frac{3 \\pm \\sqrt5}{2}`, `(\\pm 2, 0)`); word answers (`\\text{Yes}`) compare as
case-folded text, but `\\text{no solution}` is the empty set (`\\emptyset`); several different values
where one is asked is "hedged" (wrong); `e` and `i` are Euler's number and the imaginary unit; A-E golds are choices.
"""

from __future__ import annotations

import asyncio
import decimal
import functools
import numbers
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from fractions import Fraction
from typing import Any, Callable, Iterable, Sequence

from rlvr.verifiers.math_compare import (NeedSympy, compare, exact_eq, exact_value, not_evaluated, prepare,
                                        require_evaluated, value_nodes)
from rlvr.verifiers.math_extract import (_said_answer, after_reasoning, all_boxed, extract_answer, extract_here,
                                        final_boxes, looks_like_bare_answer, restatement_parts, spelled_answer,
                                        stated_answers, tagged_answers)
from rlvr.verifiers.math_normalize import (MAX_ANSWER_CHARS, _normalize, choice_letter, choice_letters, normalize,
                                           strip_markdown, word_answer)
from rlvr.verifiers.math_parse import ParseError, parse
from rlvr.verifiers.math_units import Unit, answer_unit, units_differ
from rlvr.verifiers.timelimit import (MAX_SECONDS, Budget, TimeLimitExceeded, WorkerCrashed, WorkerMemoryError, WorkerPool,
                                      get_pool)
from rlvr.verifiers.verdict import Verdict

__all__ = [
    "DEFAULT_TIMEOUT", "RULES_VERSION", "GoldAnswerError", "averify", "clear_cache", "extract_answer", "validate_gold",
    "validate_golds", "verify", "verify_batch",
]

DEFAULT_TIMEOUT = 5.0
#: Version of the scoring rules (extraction, normalisation, parsing, comparison), recorded in the
#: fingerprint of every env that scores with this verifier, so that a resumed evaluation never mixes
#: verdicts of two rule sets. Bump it whenever a change can turn any verdict (1: no "rules" key).
RULES_VERSION = 34  # 34 (audit 40): after a retraction of the final answer, a word saying it holds counts only said of the answer, ending its clause with no "but" reopening it ("The number of bags is unchanged, but …", "It is correct to multiply, but …", "Bag 12 holds 3 apples" keep it taken back), a check mark or "OK." only at the end of the recheck; a recheck ending on an answer that is no plain number, by the cheap comparison, comes back to it (`\\frac{1}{2}`, `(2, 3)`, `3:30`, `x = 5`, a choice letter, `12 \\text{ apples}`); "Yes it is." confirms (a tag question, "That's not right, is it?", doubts: it takes the answer back unless confirmed); "the answer is unchanged/unaffected/exact/positive, as expected" is a remark, no second answer; interjections before a judgement are read in linear time; review: a confirmation or a stands-word naming no number ("Yes it is.", "Good.", "OK.", "That's correct.", "The answer is unchanged.") holds only after working that comes back to the answer or states no value ("the total is 15. Is it? Yes it is.", "3 × 5 = 15. Good." keep it taken back), and any holder is reopened by later working stating another value ("12 is fine. Plus the teacher: 13.", "12 ✓. Then add 3 more apples: 15 total.") but not by checks of the answer ticked true ("12 / 4 = 3 ✓", "2 - 3 = -1 ✓" after `(2, 3)`) nor counts in prose ("12 ✓ — the 3 bags have 4 apples each."); a complement after a stands-word ("12 is correct for 3 bags of 4 apples.") and a "but" with no other value after it ("…, but it was sloppy.") are no condition; marks and stops end a recheck in either order ("= \\frac{1}{2} ✓."); second review: once the recheck's working reaches the answer, a check after a label ("Check:", "Double-check:", "**Verification:**", "Sanity check:", "Plug in:", "Dividing back:") or a ticked statement is neutral whatever its shape ("60 × 2.5 = 150. Check: 150 / 60 = 2.5 hours. ✓", "sum = 5. Check: 4 - 10 + 6 = 0 ✓"), but a check of another value that comes to the answer ("12 + 3 = 15. Check: 15 − 3 = 12 ✓") holds nothing; after a holder only a value stated after new working ("but", "plus", "now", "actually", "wait", "let me redo"), a new `=` chain to another value, a conclusion ("So 15.") or a colon reopens, not an explanation of the inputs or an unticked check dividing the answer ("That's 4 apples in each of the 3 bags.", "note 12 / 3 = 4 per bag"); past-tense narration ("Earlier I got 12 because …"), a conditional stands-word ("12 is correct only if …"), a confirmation whose number does not end its clause ("Yes, 12 was wrong.") and a value judged or refused ("15 apples, not 12", "3 more than 12", "12 is too low") keep the answer taken back, as does more added after a step giving it ("= 12, plus the 3 she had makes fifteen."). 33 (audit 39): a gold clock time (`H:MM`, minutes below 60) against an answer that is no clock time is a different answer (`10:30` is not `\\frac13`, `1:3` or `10.5`; it was the quotient 10/30; an answer `1:20` for a gold `\\frac{1}{20}` is still the ratio; review: a gold `H:MM` without a.m./p.m. against the ratio or fraction of its own two numbers is a ratio gold, `\\frac{5}{12}` for `5:12`, `\\frac{1}{35}` for odds `1:35`, `\\frac{10}{30}` for `10:30`, not `\\frac{3}{0}` for `3:00`); a sentence or worked-solution gold, refused by `validate_gold`, is an error in `verify` and `verify_batch` too (was graded as the model's wrong answer); a gold with no value (`0^{-1}`, `\\log 0`, `\\ln 0`, `\\log_1 5`, `\\tan\\frac{\\pi}{2}`, `\\cot 0`, `\\frac{1}{\\sin\\pi}`; not `\\infty`) is a gold error as `1/0` is; a decimal of 15 to 17 significant digits within 2 units in the last place of the double nearest an exact gold is a Python float printed in full and right (`0.6666666666666666` for `\\frac23`, `3.3333333333333335` for `\\frac{10}{3}`; `0.67` and `0.66666666666666` keep their verdicts); from the concurrent fix of the extraction (`math_retraction`, `math_extract`, `math_normalize`, `math_restatement`): a retraction with no new value after the final answer is no answer (review: a judgement takes the answer back only when it ends its clause, so "It is wrong to count the bags as apples.", "It is incorrect to say 15.", "This is incorrect only if …" judge a method; a recount in words back to the answer, "… a dozen.", "… is twelve. Good.", stands; "That answer is wrong.", "That can't be right.", "I think I made an error" and, before a redo, "12 seems wrong", "I don't think that's right" take it back); doubt/qualifier words one list (review: after a choice letter only explicit doubt counts, `C, the best estimate`, `(C) Possibly`, `C (best case)` are the choice, and `\\boxed{C} (I'm guessing)`, `\\boxed{C}, I suppose` are none; "best/worst case" is the question's condition, `12 (worst case)` is 12 as before); a value restated on the last line in more markups is a hedge; a few-shot "Question:/Answer:" run-on ends the turn; review 2: a judgement takes the answer back only in the sentence right after the answer's (past interjections) or naming it ("12 is wrong", "That answer is wrong"), so "Some students add the bags. That is incorrect." keeps it, and a judgement asked ("this is incorrect?") none; a redo whose last step gives the answer ("4 + 4 + 4 = 12 apples in the 3 bags.") comes back to it; a stands-word counts only as a predicate about the answer ("12 is still right", "the answer stands", "it doesn't change the result"; not "The correct total is 3 × 5 =", "the same method"); reconsider, rethink, recount, re-examine, check again, go back, start over, "on second thought", "not quite right", "doesn't make sense", "that's off", "I don't believe/I'm not sure that's right", "I think that's wrong" (the last five before a redo) are read; after a choice letter only a remark that is nothing but doubt voids it (`\\boxed{C}, I think.`, `C (not sure)`; not `\\boxed{C}, perhaps surprisingly.`, `\\boxed{C} (I think option C matches …)`); a LaTeX colon (`\\colon`, `{:}`, `\\mathbin{:}`) is a clock time's or ratio's colon (`10\\colon 30` for `10:30`). 32 (audit 38, and its review): a gold logarithm of a variable allows irrational logarithms of numbers (the change of base: `\\frac{\\ln x}{\\ln 2}` for `\\log_2 x`), not rational ones (`\\log_{10} 100`); a sampled value above 1e100 in size is no value (a pole rounded to a huge number); a bar right after an operand opens an absolute value times it (`2|x-3|` = `|2x-6|`, `x|x|`, `|x-50||x+50|`; was unparsable), bars read two ways (`|a|b|c|`) are unparsable; not evaluated also inside `f(…)` (`f(\\log_2 4)` for `f(2)`); `f(…)` (with primes or a subscript), and `g(…)` in a text that applies f too (`f(g(x))`; alone, g is a factor: `g(M+m)`, `mg(h_1-h_2)`), are a function applied, a value of its own named by the function and its arguments' values (`f(2x)` is not `2f(x)`, `f(x+y)` not `f(x)+f(y)`; `f(1+2)` is `f(3)`, `f(2(x+1))` is `f(2x+2)`; any other letter before a bracket is a factor: `x(x+1)`, `P(x)`, `h(a+b)`); `\\overline{…}` and `\\bar{…}` after a decimal point are a repeating decimal (`0.\\bar{3}` is 1/3), elsewhere conjugate a number (`\\overline{2-3i}` is 2+3i, `\\overline{5}` is 5), stay the names of points (`\\overline{AB} = 5`, `\\overline{A_1B_1}`, `\\overline{A'B'}`, `\\overline{A}`), and are a value of their own otherwise (`\\overline{z}` is not z; `\\bar{z}` was unparsable); a gold taken as written (not from a box or after `####`) holding a number and a lower-case word that states it, or such a word capitalised opening it ("The area is 12", "There are 12 apples.", "Multiplying, we get 12.", "Thus 12"; not `SO(3)`, `IS_1`, `so(3)`) is refused by `validate_gold` as a sentence; a bare answer that is a plain number of more than 200 digits (with `-`, `+` or `−`) is read (was "no final answer found"). Shared with a concurrent fix of `math_sympy`/`math_compare` (sampling past far breakpoints, list multiplicity, odd roots of negatives). 31 (audit 37): after the final answer, "it/the answer/that might/may/could be X" whose clause holds only openers ("It might be 6.", "But it might be 6.", "I'm not confident; it could be 6."), "Otherwise/Else, the answer would be X" (not after a sentence stating the condition it reverses: "We must exclude the teacher. Otherwise, the answer would be 6."), "X also works/works too" after an interjection or "Note that" ("Actually, 3 also works."; not when a constraint sets it aside, "But x > 0."), a contrasting "However/But/Actually, <recount> gives X." whose subject counts the answer again ("a more careful count", "recounting"; not "Then multiplying gives 12.", "But three times that gives 21.", "However, in cents this comes to 1000.") and a lone "X?" ("Hmm, 6?"; not when the next line answers no: "Hmm, 6?\nNo.") are second answers; "It might be 0.33." after 1/3 (a rounding) and "That might be 1 of the reasons." (prose) are none; a text without boxes, tags or `####` whose last "Final Answer"/"Answer:" label or heading and last "the answer is" sentence state different values is a hedge ("The answer is 6.\\n\\nFinal Answer: 5"), unless a retraction stands between them; an answer statement offering two values in the sentence right before the final box ("So the answer is 5 or maybe 6. \\boxed{5}", "It is either 3 or 5. \\boxed{3}") is a hedge; a number prediction (`verify("5", 5)`) is graded as its text, as a number gold is (a bool or NaN stays unparsable; a number too large to write as text, `10**5000`, is an unparsable prediction, and as a gold an error). 30: "X is also correct/possible/valid" after the final answer reads a value written as maths setting x or n (`$x = 13$`, `\\(x = 13\\)`, a `\\(…\\)` value ending at its own `\\)`), and names no second answer for another variable (`k = 2`) unless the text sets that variable to the answer's value (`$m = \\boxed{12}$. But m = 13 is also possible.` is a hedge, as is "m = 13 also works." there), for a part's number (at most two digits or a letter) right after a part's word unless a word naming another answer stands before it (other, another, different, second, worst, that, this, any, either, ...: "The result of step 2", "Our method 2", "The base case 1" name parts; "The other method 13", "In the worst case 13", "In that case 13" stay hedges, as do "The other solution 13", "Either way 13": not a part's word; a variable's setting is never a part's number: "From the first equation x = 13", "Using the formula x = 13" stay hedges), or for a variable's setting after a case of the working, only a working-case adjective right before "case" (base, edge, trivial, boundary, inductive, degenerate, initial: "The base case $n = 1$", "In the edge case $x = 0$") or a bare "Case"/"The case" opening a line or sentence ("Case $n = 1$", "The case $n = 1$"); any other word before "case" offers the value: "In such a case", "In the latter/first case", "In some cases", "In case", "In the case", "Both cases", "The other case", "In the worst case", "In that case" x = 13 (or 13; a plain case number also after of/from/for/to/by/with/under/see/using: "The result of case 2") stay hedges) or a verb of substitution or checking (setting, plugging in, substituting, putting, checking, testing, verifying: "Setting $x = 0$ is also valid."; "Choosing x = 13", "Taking n = 13", "Letting n = 13", "Trying x = 13", "Using $x = 1$" offer a value and stay hedges; a plain value after such words, "Plugging in 13", or after "Strictly speaking", stays a hedge); a variable set inside `\\(…\\)` or `\\[…\\]` has its value end before the closing delimiter (`So \\(m = 12\\).` … `\\(m = 13\\) is also correct.` is a hedge). 29: a value refused after a stated answer (", not 12", "rather than 12", "instead of 12", "(not 12)"; a plain value, or a choice letter after a choice letter) is dropped wherever an answer is stated in words, as a retraction's ", not 20" already was: "\\boxed{12}\\n\\nThe answer is 13, not 12." is a hedge and a lone "The answer is 13, not 12." is 13; after the final answer, "Either 12 or 13.", "12 or 13, depending on …" (a clause saying the choice is open), "Possible answers: 12, 13." (only "answers"), "13 also works." / "13 works too." / "x = 13 would also work." (the value opening its sentence), a "Final answer (revised):" heading (not a remark about rounding) and "The answer should be 13." opening a sentence are one more final answer; a bracket that breaks a stated answer's plain number down in words and whose numbers add up to it, multiply to it or restate it (`13 (12 students and 1 teacher)`) is dropped as a remark, while one with a condition, alternative, negation, rounding, number word or operation is kept; values: a currency sign or code before a bare number is its unit (`\\$5` is wrong for `5 \\text{ cents}`, `5 \\text{ euros}` or `5 \\text{ yen}`, right for `5`, `5 dollars`, `\\$5 \\text{ per hour}`; `£` reads as "pounds"); a prime between numbers (`2'500`, `5'6''`, `2^\\circ 3'`) is unparsable, never a product; without decimals, a difference that sampling passes is computed to 50 digits at two sample points and counts when clearly not 0 (`x + 10^{-14}\\sin x` is not `x`); per mille, and recurring/repeating, binary/octal/hex, base or radix ending the phrase after a number or followed only by a form word (notation, system...), are never dropped as units (`0.3 \\text{ recurring}` and `0.\\dot{3}` are 1/3; `8 binary strings` is 8); a currency code (USD, EUR, GBP, JPY, US\\$) before a number reads as its sign, after it as its unit, and `\\textdollar 5` is `\\$5`; a whole number with words naming its base (`101 \\text{ in binary}`, `7 in base 8`, `10 (hex)`) reads as the subscript numeral `101_{2}`, equal only to the same digits in that base (wrong for 5 and for 101); such words that cannot be read that way (`6 (repeated)`, `9 in binary`, `0.12 (recurring)`) make the answer unparsable; `60_{10}` and `60_{ten}` are 60; `{\\bf 5}`, `\\large 5`, `\\textsf{5}`, `\\ensuremath{5}` are 5; a union of intervals with exact ends is merged (`[-2,5]\\cup[5,7]` is `[-2,7]`). 28: a final review's honest false negatives: only a bare answer label ("Final answer:", "Solution:") makes the value under it a second answer, not "The other solution:" or "Number of real solutions:"; a check leading into the next line's value ("Check: substituting gives\\n$$19$$") and an amount stated before a last "Therefore, 15." give none; "13 otherwise." with its period is a hedge as without. 27: a third review's false negatives of rules 21/24/26 are undone: "it would be X" after a clause naming another amount (a percentage, tax, fee, shipping...) or after a past-tense "if we counted/included/excluded" is no second answer; a value alone, or "a or b", under a line ending in ":" that names no answer, or after a rule line, is none ("Final answer:\\n13" still is); a last "So 3." whose line stated 3 as a count is none; a value after a box with "when" is none; German "Also 3." is none; an unquoted `</s>` inside a word with another later on its line, or between spaces before a lowercase word, ends no turn. 26: the second review's false negatives of rules 21/24 are undone: a negative value restated on its own line (`**-3**`) is that value; a condition label before a last-line value is a second answer only when it counts the answer's quantity again (inclusive, counting, otherwise), with no number or "=" in it, and not on a list item (a formula's case "When n = 1: 3", a scenario, a conversion, "With tax: 12.96" are none); a rounding of the box under a condition is none, as `(about 13)`; an operation in words before a bracket or comma is a remark; a turn token inside a reasoning block, an indented code line, a `~~~` fence or a multi-backtick span ends no turn, nor a strike-through's `</s>` however far its `<s>`; a plain "User:" line ends the turn only in a run-on (an answer before it, an "Assistant:" line with text after it), never inside a code block. 25: rules 23's sampling inside a shifted real domain is undone (a review: a sample point on a domain edge made true identities wrong, factorials timed out, a variable without an edge was sampled only at positive points); the allowance of a decimal of more than 20 digits is relative to the values (a gold far below 1 was checked to 1e-38 only). 24: the review's false negatives of rules 21 are undone: "the answer would be / becomes X" after the final answer is a second answer only alone or after a clause counting the question's quantity again, never a conversion or a what-if; a magnitude word after a box multiplies it only when it ends the phrase (not `hundred-dollar bills`, not after "in thousands"); an operation in words only when nothing follows its number; with/without/including/excluding and breakdowns give no second answer; a plain-text "User:" line ends the turn only before an "Assistant:" line and outside `<think>`, a quoted marker ends none, R1's and Gemma's markers do; a check's result, "I think 3 rows…", a wrapped "3 or 4" and an unmarked lone number are no second answer; "It could be 21 too.", "Or maybe it's 21.", "21 if counting the teacher." and "Alternatively, if we count the teacher: 21." are. 23: identities whose shared real domain starts far from 0 are compared inside it, with their difference checked exactly there (`\\sqrt{x-3}\\sqrt{x+3}` = `\\sqrt{x^2-9}`, `\\sqrt{x-100} + e^{-x}` still differs); an answer decimal of more than 20 digits without variables must hold the gold within one unit of its last place (a wrong 42nd digit of pi is wrong). 22: rules 20's sampling inside a shifted real domain and its digit-by-digit decimals are undone (they failed Python-float coefficients such as `e^{0.6931471805599453x}` for `2^x`, and passed `\\sqrt{x-100} + e^{-x}` for `\\sqrt{x-100}`); the absolute value of a label is a label (`|z| = 5` is 5), Euler's number alone is a value. 21: nothing past the end of the chat turn is read; a conditional or worded second answer after the final answer (`(if we count the teacher, 21)`, `(21 otherwise)`, `, 21 with the teacher`, "Maybe 21.", "I think it's 21.", "The answer could also be 21.", "…the answer would be 21.", "Final: 21", a different value alone on the last line or "So 21.", "20 or 21") is a hedge; a magnitude word or `\\,000` after a box multiplies it and an operation in words after it (`squared`, `times 2`) changes it; "about 3" reads as `\\approx 3`, and "the answer is 72 left/remaining" as 72. 20: an answer equation reads as its last member that is not a label (`3 = x` is 3); a gold equation with an unknown outside a label (`x^2 + y^2 = 1`) is met by no value; identities whose shared real domain starts far from 0 (`\\sqrt{x-3}\\sqrt{x+3}` = `\\sqrt{x^2-9}`, `\\ln((x-40)^2)` = `2\\ln(x-40)`) are sampled inside that domain; a decimal is compared to every digit it writes, within one unit of its last place (`3.14159…19999` ≠ `\\pi`, `1.0000000000001x` ≠ `x`). 19: a remark after a `####` answer is dropped as after "the answer is" (`#### 12 (twelve)`, `#### 12 (apples)`, `#### 12; I am sure` read 12; a remark naming another value or taking it back stays: `#### 12 (thirteen)`, `#### 12 (wrong)`; so does, there and after "the answer is", one that qualifies it: `12 (approx)`, `12 (upper bound)`, `12 (tentative)`, `12; I think`, `12 (hex)`). 18: a retraction in words after the final answer ("Wait, no, it's 20.", "My mistake, it's 20.", "Oops! 20.") names one more final answer, as a correction does (`math_retraction`); so does a correction after the last `####` line, and a second answer in words ("Wait, it's 13.", "Alternatively, 13.", "Result: 13", any-case "ANSWER:"), "or 13" after `####` or "the answer is", a bracket after a plain-number box naming another value (`\\boxed{12} (13)`), an "about" value that is no rounding of the answer; an `<answer>` tag's content is checked for hedges as a whole output is; filler words ("still 18") are dropped; a retraction or second answer the grader cannot read, or that is the answer in another form (`20 ✓`, `20€`, `20 (4 × 5)`), and a list marker after an apology are no second answer; a retraction to a number and what it counts ("Wait, no, it's 21 apples.") after a number answer is read; `{,}`/`\\text{,}` between digits is never dropped into another number (`12{,}5` is 12.5, `(3\\text{,}4)` a pair), the rarer magnitude words (septillion, lac, crore) multiply and `\\$12\\text{K}` is 12000 (only the amount right after the sign; a lower-case m/b/k glued, for a plain-number gold), and `1,000{,}000` is 1000000, never 1,000.000. 17: an `<answer>` tag holding a number and what it counts (`12 cupcakes`) is read. 16: false negatives of real models' answer styles: a noun after a number gold's value (`12 cupcakes`), `\\(...\\)` inside an answer, units as fractions/negative powers/after a slash and ordinals, `1\\text{,}000`, `\\\\[6pt]` in matrices, a "Final Answer:" sentence read for its value, arithmetic restating a said answer in brackets (`12 (3 × 4)`), ", and" lists, labels before `=` (`[ABC] = 18`); an unparsable gold is an error whatever the answer unless the answer is written as it is. 15: 15: maths continuing a box after its closing brace is part of its answer (`$\\boxed{12}\\pi$`
#                   is 12π, `\\boxed{3}/4`, `$\\boxed{3} + 1$`); "or" after a box past display-maths ends, line
#                   breaks, emphasis, Unicode spaces, "或者", fillers and `x =` is a hedge; corrections in other
#                   words ("actually, it's 4", "it should be 4", "the final result is 4", "the correct option is
#                   C") and answers stated after the last <answer> tag are hedges; inequalities joined by "and"/
#                   `\\land`/`\\wedge` (and a comma pair bounding one variable from both sides) are their
#                   intersection, unclear conjunctions unparsable; a choice judged false is no choice; a provably
#                   non-zero difference is never equal (`x + 10^{-30}`); infinity inside a power or product
#                   (`\\infty^0`) is unparsable; `\\boldsymbol` is `\\mathbf`; zero-width characters are dropped
#                   14: digits on both sides of bare braces are one number, as LaTeX shows them
#                   (`1{2}` and `1\\textcolor{red}{2}` are 12, were the product 2; `2\\cdot1{2}` is 24);
#                   `1{2+3}`, `{1+2}3` and `1\\quad{2}` are unparsable
#                   13: an answer holding an operation to carry out (`15!`, `\\binom{}{}`, `\\gcd`, `\\log`)
#                   that the gold has not is "not evaluated" whatever its value, decided before any value
#                   is computed (`1000000!` for 3 was a sympy timeout, `15!` "different values");
#                   `\\>` and `\\space` are spaces, `\\kern` `\\mkern` `\\hskip` `\\mskip` with their length
#                   and `\\rule{}{}` wide spaces, `\\mathstrut` dropped, `\\smash{x}` and `\\underline{x}` are x
#                   (a box holding only them is empty)
#                   12: `\\thinspace` `\\medspace` `\\thickspace` `\\enspace` `\\enskip` are spaces; `\\strut`,
#                   `\\null`, `\\relax`, `\\nonumber` and the negative spaces are dropped (a box holding only
#                   them is empty)
#                   11: `\\sin^{-1}` is arcsin; hedges after a box after dashes or LaTeX spaces, "maybe 4",
#                   choice letters and whole number-word phrases, in brackets only between plain numbers or
#                   letters; golds boxing answers the verifier tells apart, placeholders (`nan`, `N/A`) and
#                   divisions by zero are gold errors; `d.dd \\times 10^{k}` rounds as `d.dde{k}` (left of the
#                   point only for irrational golds); whole answers in number words; `####` lines that
#                   disagree; a `####` line is read after a "the answer is" that makes a remark or ends in `:`
#                   10: values joined by "or" are never a tuple or interval; a fractional power that simplifies
#                   (`27^{1/3}`) is not evaluated; a box inside a box is part of the outer one
#                   9: maths right after a box (`\\boxed{12}^2`, `\\times 10^{k}`, `,000`) is part of the answer
#                   8: answers stated after the last box, labels and spacing before a dash, nested `\\over`, `x \\neq a`,
#                   `\\setminus`, decimal golds exact, units after pi, ruled-out choices, set-builder equations
#                   7: units that differ, compound units, `\\over`, `0.(3)`, set-builder sets
#                   6: a sign before a box, tiny values, unknowns beside a value, <think> blocks, clock times
#                   5: the 2026-11 audit: hedged choices and remarks, value words, unevaluated answers, ineqs, percents
#: An extracted answer longer than this, as written, is not read (`normalize` reads this much).
_MAX_RAW_ANSWER_CHARS = 2 * MAX_ANSWER_CHARS
#: Distinct final answers (boxes, tags) of one output that are compared; more are a hedge.
_MAX_BOXES_COMPARED = 8
#: Below this many seconds left of an answer's budget, no sympy job is started (it counts as timed out).
_MIN_JOB_SECONDS = 0.05
_WORKER_TARGET = "rlvr.verifiers.math_sympy:compare_normalized"
#: The worker function that puts a gold alone through what a comparison does to it (`_gold_fault`).
_GOLD_TARGET = "rlvr.verifiers.math_sympy:check_gold"
#: How many gold checks `_gold_fault` remembers.
_GOLD_CHECKS_SIZE = 4096
_PRELOAD = ("rlvr.verifiers.math_sympy",)
_CHOICE_GOLD_RE = re.compile(r"^\s*(?:\\text\{\s*)?\(?\s*[A-E]\s*\)?(?:\s*\})?\s*$")
_CACHE_SIZE = 200_000
#: A gold that is a plain number (`12`, `-0.5`, `\\frac{3}{4}`, `3/4`, `50%`): text after the
#: prediction's number (`12 \\text{ sandwiches}`) is then a unit or a remark, and is dropped.
_NUMBER_GOLD_RE = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+|\\frac\{\d+\}\{\d+\}|\d+/\d+)%?$")


class GoldAnswerError(ValueError):
    """A gold answer in a dataset cannot be read as a math answer."""


class _ReadOnlyDict(dict):
    """The `details` of this module's Verdicts: one memoised Verdict is handed to every caller that
    asks for the same pair, so its details refuse changes. Copies are plain dicts, private to
    whoever made them: `dict(details)`, `copy.copy`, `copy.deepcopy`, pickling, and
    `Verdict.to_dict()` (which calls the class, as `dataclasses.asdict` does). Make one with `of`."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> dict:  # type: ignore[misc]  # calling the class copies
        return dict(*args, **kwargs)

    @classmethod
    def of(cls, **items: Any) -> "_ReadOnlyDict":
        made = dict.__new__(cls)
        dict.update(made, items)
        return made

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a math Verdict's details are shared (memoised) and read-only; "
                        "change a copy: dict(verdict.details)")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple:
        return dict, (dict(self),)


#: The details of each verdict kind, made once (read-only, so sharing them is safe and costs nothing).
_KINDS = {kind: _ReadOnlyDict.of(kind=kind) for kind in ("equal", "wrong", "hedged", "unparsable", "timeout", "error")}


def _details(kind: str) -> _ReadOnlyDict:
    """Read-only `{"kind": kind}`."""
    return _KINDS.get(kind) or _ReadOnlyDict.of(kind=kind)


class _Cache:
    """A thread-safe bounded LRU of verdicts keyed by normalised (gold, answer)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple, Verdict] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0

    def get(self, key: tuple) -> Verdict | None:
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
                self.hits += 1
            return v

    def put(self, key: tuple, verdict: Verdict) -> None:
        with self.lock:
            self.data[key] = verdict
            if len(self.data) > self.size:
                self.data.popitem(last=False)


_cache = _Cache(_CACHE_SIZE)


class _GoldChecks:
    """What `_gold_fault` found about each gold, by (normalised gold, seconds allowed): None for a
    gold that evaluates in time, the failed Verdict for one that does not. A thread-safe bounded
    LRU of futures: callers asking about one gold at once (verify_batch's threads) wait for one
    check instead of each running one to its time limit. A check that could not be done (the pool
    failed, not the gold) is not remembered."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple, Future] = OrderedDict()
        self.lock = threading.Lock()

    def check(self, key: tuple, run: Callable[[], tuple[Verdict | None, bool]]) -> Verdict | None:
        """The result for `key`: remembered, awaited from the caller checking it now, or got from
        `run()`, which returns (result, whether to remember it)."""
        with self.lock:
            future = self.data.get(key)
            mine = future is None
            if mine:
                future = self.data[key] = Future()
                if len(self.data) > self.size:
                    self.data.popitem(last=False)
            else:
                self.data.move_to_end(key)
        if not mine:
            return future.result()
        try:
            result, remember = run()
        except BaseException as exc:
            self._forget(key, future)
            future.set_exception(exc)
            raise
        if not remember:
            self._forget(key, future)
        future.set_result(result)
        return result

    def _forget(self, key: tuple, future: Future) -> None:
        with self.lock:
            if self.data.get(key) is future:
                del self.data[key]

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_gold_checks = _GoldChecks(_GOLD_CHECKS_SIZE)


def clear_cache() -> None:
    """Forget memoised verdicts, normalised golds and gold checks, and the extraction's memos of
    the last texts read (used by benchmarks to measure cold throughput)."""
    with _cache.lock:
        _cache.data.clear()
        _cache.hits = 0
    _gold_norm.cache_clear()
    _gold_problem.cache_clear()
    _gold_checks.clear()
    _gold_tree.cache_clear()
    _gold_unreadable.cache_clear()
    strip_markdown.cache_clear()
    _said_answer.cache_clear()
    _normalize.cache_clear()


def _pool() -> WorkerPool:
    return get_pool(preload=_PRELOAD)


# -- answers ---------------------------------------------------------------------------------

def _answer_of(text: str, fallback: str | None) -> tuple[str | None, bool]:
    """The answer string inside `text` (already past its reasoning block, see `after_reasoning`) and
    whether it was said ("the answer is …", `#### n`): else the text itself when it is a bare
    answer (False), or None."""
    got = extract_here(text)
    if got is not None:
        return got, True
    if looks_like_bare_answer(normalize(text)):
        return text, False
    return (extract_here(text, fallback=fallback) if fallback else None), True


def _committed_answers(text: str) -> list[str] | None:
    """Every final answer `text` commits to, for hedge detection: those of its trusted `<answer>`
    tags when it has any (boxes outside them are reasoning, see `tagged_answers`), else all its
    boxes and an answer stated after the last one (`final_boxes`: "\\boxed{20}. Actually, the
    answer is 21." takes 20 back), else its `####` lines and "the answer is" when these are several
    (`stated_answers`); None otherwise (the other extraction rules then apply)."""
    tagged = tagged_answers(text)
    if tagged:
        return [a for tag in tagged for a in tag]
    boxed, said_later = final_boxes(text)
    if not boxed:
        return stated_answers(text)  # `#### 5` and `#### 6`: two answers too
    return [b.strip() for b in boxed] + ([said_later] if said_later is not None else [])


#: Gold answers that are a missing value, not an answer (compared after normalisation, ignoring
#: case). Not "None": that may be a genuine answer ("which of these is prime? None").
_PLACEHOLDER_GOLDS = frozenset({"nan", "null", "tbd", "n/a"})


@functools.lru_cache(maxsize=4096)
def _gold_problem(gold: str) -> str | None:
    """Why `gold` cannot be graded although it may parse, or None: its boxes hold several different
    answers (only the last would be graded, so the complete answer scores as a hedge), it is a
    placeholder for a missing value (`nan`, `N/A`: every answer would be wrong), a worked solution
    or a sentence (`_sentence_problem`), or it has no value (`_no_value`: `1/0`, `0^{-1}`, `\\log 0`;
    no answer equals it). Memoised as `_gold_norm` is: `validate_gold`, `verify` and
    `verify_batch` all refuse a gold for what this says (rules 33: a sentence gold, refused by
    `validate_gold` since rules 32, was graded as the model's wrong answer)."""
    boxed, _ = final_boxes(gold)
    if len(boxed) > 1 and _boxes_differ(boxed):
        return (f"gold answer {gold[:200]!r} boxes several different answers ({len(boxed)} boxes), and only "
                "one is graded: put the whole answer in one box (`\\boxed{-2, 3}`), or drop this row")
    text = _gold_text(gold)
    norm = normalize(text)
    if norm.strip().lower() in _PLACEHOLDER_GOLDS:
        return f"gold answer {gold[:200]!r} looks like a missing value, not an answer: fill it in or drop this row"
    if not _CHOICE_GOLD_RE.match(norm):
        problem = _sentence_problem(gold, text)
        if problem is not None:
            return problem
    try:
        tree = parse(norm)
    except (ParseError, RecursionError):
        return None  # (`validate_gold` names a gold that cannot be parsed)
    if ":" in norm:  # (`3:00` is a time, not 3 over 0)
        return None
    if _divides_by_zero(tree):
        return f"gold answer {gold[:200]!r} divides by zero, so no answer can equal it: fix or drop this row"
    if _no_value(tree):
        return (f"gold answer {gold[:200]!r} has no value (it is infinite or undefined: 0 to a negative "
                "power, a logarithm of 0, a division by a function that is 0, or a function at its pole), so no "
                "answer can equal it: fix or drop this row")
    return None


def _sentence_problem(gold: str, text: str) -> str | None:
    """Why the gold `gold`, whose answer as read is `text`, is a worked solution (`_sentences`) or a
    sentence stating its value (`_prose_word`; not for an answer marked by a box or `####`), or None."""
    sentences = _sentences(text)
    if sentences:
        return (f"gold answer {gold[:200]!r} reads as a worked solution ({sentences} sentences), not a final "
                "answer: give the final answer alone (a worked solution needs it in \\boxed{}, or after '####'), "
                "or drop this row")
    word = None if _marked_answer(gold) else _prose_word(text)
    if word is not None:
        return (f"gold answer {gold[:200]!r} reads as a sentence ({word!r}), not a final answer: no answer "
                "would equal it; give the final answer alone (in a solution, in \\boxed{} or after '####'), "
                "or drop this row")
    return None


def _boxes_differ(boxed: list[str]) -> bool:
    """Whether a gold's boxes hold answers the verifier tells apart: the last box (the one graded)
    does not accept another. Boxes writing one answer two ways (`\\dfrac{1}{2}` and `\\frac12`,
    `x=\\boxed{3}` and `\\boxed{x=3}`, `(A)` and `A`) are one answer, not a gold error."""
    last = boxed[-1]
    others = dict.fromkeys(b for b in boxed[:-1] if normalize(b) != normalize(last))
    return any(not verify(last, other).correct for other in others)


def _divides_by_zero(node: object) -> bool:
    """True when the parse tree holds a division whose denominator is exactly 0 (`1/0`, `\\frac{0}{0}`,
    `(1, 1/0)`)."""
    if not isinstance(node, tuple):
        return False
    if node and node[0] == "div":
        try:
            if exact_value(node[2]) == 0:
                return True
        except Exception:  # noqa: BLE001 - NeedSympy or anything else: not a known 0
            pass
    return any(_divides_by_zero(part) for part in node)


#: Trigonometric functions by where they are 0 and where they have a pole, as the multiples k of π
#: where that happens: "whole" (k an integer) or "half" (k an odd multiple of 1/2).
_TRIG_ZEROS = {"sin": "whole", "tan": "whole", "cos": "half", "cot": "half"}
_TRIG_POLES = {"tan": "half", "sec": "half", "cot": "whole", "csc": "whole"}


def _no_value(tree: object) -> bool:
    """True when the parse tree holds a constant part that has no value, so that no answer can equal
    it (sympy makes it complex infinity or NaN, and grades every answer "different values"):
    `0^{-1}` (0 to a negative power), `\\log 0`, `\\ln 0`, `\\log_1 5` (a logarithm of 0, or to
    the base 0 or 1), `\\tan\\frac{\\pi}{2}`, `\\cot 0`, `\\sec 90^\\circ` (a tangent,
    cotangent, secant or cosecant at a pole), and a division by a function that is 0 there
    (`\\frac{1}{\\sin\\pi}`, `\\frac{1}{\\ln 1}`; a division by a number that is 0 is
    `_divides_by_zero`'s). Read from the tree, never by sympy (which runs only in a worker under a
    time limit); `\\infty` and `-\\infty` are answers, and are never flagged (rules 33)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, tuple) or not node:
            continue
        if node[0] == "pow" and _is_exact(node[1], lambda v: v == 0) and _is_exact(node[2], lambda v: v < 0):
            return True
        if node[0] == "log" and (_is_exact(node[1], lambda v: v == 0)
                                 or node[2] is not None and _is_exact(node[2], lambda v: v in (0, 1))):
            return True
        if node[0] == "func" and isinstance(node[1], str) and _at_multiple(node[2], _TRIG_POLES.get(node[1])):
            return True
        if node[0] == "div" and _function_zero(node[2]):
            return True
        stack.extend(node)
    return False


def _is_exact(node: object, test: Callable[[Fraction], bool]) -> bool:
    """Whether `node` has an exact rational value (`exact_value`) that passes `test`."""
    try:
        return isinstance(node, tuple) and test(exact_value(node))
    except Exception:  # noqa: BLE001 - NeedSympy, ZeroDivisionError...: no known value
        return False


def _function_zero(node: object) -> bool:
    """Whether `node` is a function that is exactly 0 where it is taken: `\\ln 1`, `\\log_b 1`,
    `\\sin\\pi`, `\\tan 0`, `\\cos\\frac{\\pi}{2}`, `\\cot\\frac{\\pi}{2}`."""
    if not isinstance(node, tuple) or not node:
        return False
    if node[0] == "log":
        return _is_exact(node[1], lambda v: v == 1)
    return node[0] == "func" and isinstance(node[1], str) and _at_multiple(node[2], _TRIG_ZEROS.get(node[1]))


def _at_multiple(arg: object, where: str | None) -> bool:
    """Whether the argument `arg` is k·π with k whole (`where` "whole") or an odd multiple of 1/2 ("half")."""
    k = _pi_multiple(arg) if where is not None else None
    if k is None:
        return False
    return k.denominator == 1 if where == "whole" else k.denominator == 2


def _pi_multiple(node: object) -> Fraction | None:
    """k when the tree `node` is exactly k·π, k rational (`\\pi`, `\\frac{3\\pi}{2}`, `-\\frac{\\pi}{2}`,
    `\\frac{90\\pi}{180}` from `90^\\circ`, `0`), else None (`1`, `\\pi x`, `\\pi + 1`)."""
    if not isinstance(node, tuple) or not node:
        return None
    if node == ("const", "pi"):
        return Fraction(1)
    kind = node[0]
    if kind == "neg":
        k = _pi_multiple(node[1])
        return None if k is None else -k
    if kind in ("add", "sub"):
        a, b = _pi_multiple(node[1]), _pi_multiple(node[2])
        return None if a is None or b is None else a + b if kind == "add" else a - b
    if kind in ("mul", "div"):
        k = _pi_multiple(node[1])
        other = node[2]
        if k is None and kind == "mul":
            k, other = _pi_multiple(node[2]), node[1]
        if k is None:
            return None
        try:
            v = exact_value(other)
        except Exception:  # noqa: BLE001 - not a rational: no multiple of pi
            return None
        return k * v if kind == "mul" else (k / v if v else None)
    return Fraction(0) if _is_exact(node, lambda v: v == 0) else None


def _gold_text(gold: str) -> str:
    got = extract_answer(gold)
    return got if got is not None else gold


@functools.lru_cache(maxsize=4096)
def _gold_norm(gold: str) -> tuple[str, bool]:
    """The normalised gold answer, and whether it is a plain number (see `_NUMBER_GOLD_RE`).
    Memoised: a batch grades many completions against each gold."""
    g_norm = normalize(_gold_text(gold))
    return g_norm, _NUMBER_GOLD_RE.match(g_norm) is not None


def is_number_gold(value: Any) -> bool:
    """True for a real number a gold answer may be given as: int, float, NumPy's integers and
    floats (`rng.integers` returns `np.int64`), `Fraction`, `Decimal`; never a bool (NumPy's bool is
    no `numbers.Real` either) nor NaN. Graded as its text."""
    if not isinstance(value, (numbers.Real, decimal.Decimal)) or isinstance(value, bool):
        return False
    if isinstance(value, decimal.Decimal):
        return not value.is_nan()  # (a signalling NaN raises on `!=`: review of audit 37)
    try:
        return not (value != value)  # NaN is no answer
    except ArithmeticError:  # a Real whose comparison signals: no answer either
        return False


def _number_text(value: Any) -> str | None:
    """The text of the number `value` (see `is_number_gold`), or None when it has none: Python
    refuses to write an int of more than 4300 digits (`10**5000`, or a `Fraction` with such a
    numerator) and raises ValueError (review of audit 37: `verify` must never raise)."""
    try:
        return str(value)
    except (ValueError, ArithmeticError):
        return None


#: What `_sentences` ignores: text groups (`\\text{Mr. Smith}`: words there are meant) and maths
#: between dollars (`$x = 3. Then$` is no sentence end).
_TEXT_GROUP_RE = re.compile(r"\\(?:text\w*|mbox|hbox|math\w*|operatorname\*?|emph)\s*\{[^{}]*\}")
_DOLLAR_MATH_RE = re.compile(r"\$[^$]*\$")
#: The end of a sentence and the start of the next: ". T", "! W", "? I" (not "3.5", "e.g. x").
_SENTENCE_END_RE = re.compile(r"[.!?](?=\s+[A-Z][a-z])")
#: A gold answer with this many sentence ends is a worked solution (see `_sentences`).
_SOLUTION_SENTENCE_ENDS = 2


def _sentences(text: str) -> int:
    """How many sentences `text` holds when it reads as a worked solution (at least three: two
    sentence ends, each a ".", "!" or "?" followed by a capitalised word), else 0.

    What this catches: a MATH solution whose answer is not marked with `\\boxed{}` ("Let x = 3.
    Then y = 4. The area is 12."), taken whole as the gold. Deliberately narrow: an answer of words
    (`Alice, Bob and Carol`, `Yes, it is possible`, `St. Louis`) has at most one such break, and the
    verifier grades it as it is.
    """
    bare = _DOLLAR_MATH_RE.sub(" ", _TEXT_GROUP_RE.sub(" ", text))
    ends = len(_SENTENCE_END_RE.findall(bare))
    return ends + 1 if ends >= _SOLUTION_SENTENCE_ENDS else 0


#: Words that make a gold's text a sentence stating its value ("The area is 12", "There are 12",
#: "Multiplying, we get 12", "So x equals 4", "Thus 12"), not an answer: a verb of being or of
#: getting, or a connective that concludes working. Matched as whole words outside `\\text{}` and
#: `$…$` (see `_prose_word`), in lower case or with a capital opening the text ("So 12"), and
#: followed by a space, a punctuation mark or the end: "is" glued to a digit (`3is`), capitals
#: (`SO(3)`, `IS_1`, `GETS_2`) and a word before `_` or `(` (`so(3)`, `is_prime(5)`) are maths.
#: Answers of words that hold none of them stay golds ("She has 5 apples left", "4 small red cubes").
_PROSE_WORDS_RE = re.compile(
    r"(?<![A-Za-z0-9\\_])(is|are|was|were|equals|get|gets|got|gives|yields|becomes|we|so|thus|hence|therefore|"
    r"since|because)(?=[\s.,;:!?]|\Z)", re.IGNORECASE)


def _prose_word(text: str) -> str | None:
    """The word that makes `text` (a gold's answer taken as written, not one from a box or after
    `####`: see `_marked_answer`) a sentence stating a number, or None: `text` holds a digit and one
    of `_PROSE_WORDS_RE`'s words outside text groups and `$…$` maths. Why: such a gold ("The area
    is 12" from a one-sentence MATH solution) parses as a product of one-letter variables times 12,
    which no answer ever equals, and `_sentences` lets one or two sentences pass (a short answer of
    words may be one)."""
    if not re.search(r"\d", text):
        return None
    bare = _DOLLAR_MATH_RE.sub(" ", _TEXT_GROUP_RE.sub(" ", text)).strip()
    for m in _PROSE_WORDS_RE.finditer(bare):
        word = m.group(1)
        if word.islower() or m.start() == 0 and word[1:].islower():
            return word
    return None


def _marked_answer(gold: str) -> bool:
    """Whether `gold`'s answer is read from a box or after `####`: marked as the answer by its
    writer, so never a sentence to refuse (`\\boxed{SO(3)}`, `#### SO(3)`)."""
    return "####" in gold or bool(all_boxed(gold))


def validate_gold(gold: Any) -> str:
    """Check that a gold answer can be graded; return its normalised form.

    A number (int, float, NumPy number, `Fraction`, `Decimal`) is graded as its text. A worked
    solution whose final answer is not marked (`\\boxed{}`, `####`) is refused (see `_sentences`):
    taken whole as the gold, no model's final answer would match it.

    Raises:
        GoldAnswerError: naming the gold answer, when it is not text or a number, is a worked
            solution, or cannot be parsed.
    """
    if not isinstance(gold, str) and not is_number_gold(gold):
        raise GoldAnswerError(f"gold answer {gold!r} is a {type(gold).__name__}; expected text or a number")
    if not isinstance(gold, str):
        text = _number_text(gold)
        if text is None:
            raise GoldAnswerError(f"gold answer is a number too large to write as text ({type(gold).__name__})")
        gold = text
    problem = _gold_problem(str(gold))  # (also a worked solution or a sentence: `_sentence_problem`)
    if problem is not None:
        raise GoldAnswerError(problem)
    norm = normalize(_gold_text(str(gold)))
    if _CHOICE_GOLD_RE.match(norm):
        return norm
    try:
        prepare(parse(norm))  # as graded: `prepare` refuses what it cannot read either (too many \\pm)
    except (ParseError, RecursionError) as exc:
        raise GoldAnswerError(
            f"gold answer {str(gold)[:200]!r} cannot be parsed as a math answer ({exc}); "
            "fix or drop this row, or grade it with a different verifier") from None
    return norm


def validate_golds(golds: Iterable[Any], *, where: str = "dataset") -> list[str]:
    """`validate_gold` over a dataset column; the error names the row index."""
    out = []
    for i, g in enumerate(golds):
        try:
            out.append(validate_gold(g))
        except GoldAnswerError as exc:
            raise GoldAnswerError(f"{where}, row {i}: {exc}") from None
    return out


# -- verification ----------------------------------------------------------------------------

def _from_outcome(out: tuple) -> Verdict:
    equal, kind, reason = out
    if equal:
        return Verdict.right(reason, details=_KINDS["equal"])
    return Verdict.wrong(reason, details=_details(kind))


class _Plan:
    """What the cheap in-process stage decided: a verdict, or a job for a sympy worker."""

    __slots__ = ("verdict", "job", "key")

    def __init__(self, verdict: Verdict | None = None, job: tuple[str, str] | None = None,
                 key: tuple | None = None) -> None:
        self.verdict, self.job, self.key = verdict, job, key


def _plan_normalized(g_norm: str, p_norm: str, *, final: bool = True) -> _Plan:
    """The cheap stages for one normalised pair. `final`: the prediction is a final answer, which
    must be evaluated (`unevaluated`); `verify_steps` compares a claim's sides with it False."""
    if final and g_norm.endswith(("C", "c")):
        p_norm = _constant_as_gold(g_norm, p_norm)
    key = (g_norm, p_norm) if final else (g_norm, p_norm, "claim")
    hit = _cache.get(key)
    if hit is not None:
        return _Plan(verdict=hit)
    colon = _colon_answers(g_norm, p_norm) if final and (":" in g_norm or ":" in p_norm) else None
    if colon is not None:
        _cache.put(key, colon)
        return _Plan(verdict=colon)
    if _CHOICE_GOLD_RE.match(g_norm):
        letters = choice_letters(p_norm)
        letter = letters[0] if len(letters) == 1 else None
        g_letter = choice_letter(g_norm)
        if not letters:
            v = Verdict.wrong("unparsable prediction: no choice letter", details=_details("unparsable"))
        elif len(letters) > 1:
            v = Verdict.wrong(f"hedged: several choices ({', '.join(letters)})", details=_details("hedged"))
        elif letter == g_letter:
            v = Verdict.right(f"same choice ({letter})", details=_details("equal"))
        else:
            v = Verdict.wrong(f"different choice: {letter} vs {g_letter}", details=_details("wrong"))
        _cache.put(key, v)
        return _Plan(verdict=v)
    if g_norm == p_norm:
        v = Verdict.right("identical after normalisation", details=_details("equal"))
        _cache.put(key, v)
        return _Plan(verdict=v)
    g_word, p_word = word_answer(g_norm), word_answer(p_norm)
    if g_word is not None:  # words compare as text, never as products of letters
        if g_word == p_word:
            v = Verdict.right("same words (ignoring case)", details=_details("equal"))
        else:
            v = Verdict.wrong(f"different answers: {p_norm[:60]!r} vs {g_norm[:60]!r}", details=_details("wrong"))
        _cache.put(key, v)
        return _Plan(verdict=v)
    if p_word is not None:
        v = Verdict.wrong(f"unparsable prediction: words ({p_norm[:60]!r}) where a math answer was expected",
                          details=_details("unparsable"))
        _cache.put(key, v)
        return _Plan(verdict=v)
    g_tree, problem = _gold_tree(g_norm) if final else _parsed(g_norm)
    if problem is not None:
        return _Plan(verdict=Verdict.failed(problem, details=_details("error")))
    try:
        p_tree = prepare(parse(p_norm))
    except Exception as exc:  # noqa: BLE001 - a ParseError, or any other way the prediction cannot be read
        problem = exc if isinstance(exc, ParseError) else f"cannot be read ({type(exc).__name__})"
        v = Verdict.wrong(f"unparsable prediction: {problem}", details=_details("unparsable"))
        _cache.put(key, v)
        return _Plan(verdict=v)
    try:
        out = not_evaluated(g_tree, p_tree) if final else None  # structural: no value is computed
        if out is None:
            out = compare(g_tree, p_tree, exact_eq)
            if final:
                out = require_evaluated(out, g_tree, p_tree)
    except NeedSympy:
        return _Plan(job=key, key=key)
    except RecursionError:
        return _Plan(verdict=Verdict.wrong("unparsable prediction: nested too deeply", details=_details("unparsable")))
    except Exception:  # noqa: BLE001 - the exact stage cannot decide: sympy's worker tells whose fault it is
        return _Plan(job=key, key=key)
    v = _from_outcome(out)
    _cache.put(key, v)
    return _Plan(verdict=v)


def _parsed(g_norm: str) -> tuple[tuple | None, str | None]:
    """(the prepared parse tree of a normalised gold, None), or (None, why it cannot be parsed)."""
    try:
        return prepare(parse(g_norm)), None
    except (ParseError, RecursionError) as exc:
        return None, f"unparsable gold answer {g_norm[:200]!r}: {exc}"


#: `_parsed` for final answers' golds, memoised as `_gold_norm` is: a batch grades many answers
#: against each gold, and `_plan` checks the gold before reading the answer (`_gold_unreadable`),
#: so the comparison reuses that parse. (Trees are tuples: sharing them is safe.)
_gold_tree = functools.lru_cache(maxsize=4096)(_parsed)


@functools.lru_cache(maxsize=4096)
def _gold_unreadable(g_norm: str) -> str | None:
    """Why a normalised gold that `_plan_normalized` would parse cannot be, or None. `_plan` makes
    an unparsable gold an error whatever the answer (it was "wrong" when the answer was unparsable
    too, an error otherwise), unless the answer is written as the gold is. Golds judged without a
    parse are not checked: choice letters, words (`word_answer`), and answers with a colon (clock
    times and ratios, see `_colon_answers`)."""
    if ":" in g_norm or _CHOICE_GOLD_RE.match(g_norm) or word_answer(g_norm) is not None:
        return None
    return _gold_tree(g_norm)[1]


#: An added constant at the end of an answer (`x^2 + C`), and a letter c or C not inside a word or command.
_END_CONSTANT_RE = re.compile(r"[+-]\s*([Cc])\s*$")
#: What makes a gold ending in `+ C` an antiderivative rather than, say, an angle `\\pi - C` or a sum
#: `A + B + C`: a variable of integration (x, t, u, ...), and no other capital letter.
_ANTIDERIVATIVE_RE = re.compile(r"(?<![A-Za-z\\])[tuvwxyz](?![A-Za-z])")
_OTHER_CAPITAL_RE = re.compile(r"(?<![A-Za-z\\])[A-Z]")
_LONE_C_RE = re.compile(r"(?<![A-Za-z\\])[Cc]")  # (`cx` counts: c times x)


def _constant_as_gold(g_norm: str, p_norm: str) -> str:
    """`p_norm` with its added constant in the gold's case: `x^2 + c` for a gold `x^2 + C` (the
    constant of integration; as letters, c and C are two symbols). Only when each side ends with
    its constant and has no other lone c or C."""
    g, p = _END_CONSTANT_RE.search(g_norm), _END_CONSTANT_RE.search(p_norm)
    if (g is None or p is None or g.group(1) == p.group(1)
            or len(_LONE_C_RE.findall(g_norm)) != 1 or len(_LONE_C_RE.findall(p_norm)) != 1
            or not _ANTIDERIVATIVE_RE.search(g_norm) or _OTHER_CAPITAL_RE.search(g_norm[:g.start()])):
        return p_norm
    return p_norm[:p.start(1)] + g.group(1) + p_norm[p.end(1):]


#: A clock time (`3:00`, `10:30`) and a ratio of three or more parts (`2:3:4`), as whole answers.
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})\s*(?:([ap])\.?\s*m\.?)?", re.IGNORECASE)  # fullmatch, stripped
_LONG_RATIO_RE = re.compile(r"\d+(?:\.\d+)?(?: ?: ?\d+(?:\.\d+)?){2,}")  # fullmatch, spaces squeezed
#: The names of a ratio's parts before its values (`x:y:z = 1:2:3`, `a : b : c = 1:2:3`).
_RATIO_NAMES_RE = re.compile(r"[A-Za-z](?: ?: ?[A-Za-z])+ ?= ?")


#: A ratio or fraction of two whole numbers as a whole answer: `5:12`, `5 : 12`, `\\frac{5}{12}`
#: (`\\dfrac`, `\\tfrac` are normalised to it), `\\frac5{12}`, `5/12`, in brackets or not.
_TWO_NUMBERS_RE = re.compile(r"\(?(?:(?P<a>\d+) ?[:/] ?(?P<b>\d+)|\\frac(?:\{(?P<c>\d+)\}|(?P<e>\d))(?:\{(?P<d>\d+)\}|(?P<f>\d)))\)?")


def _same_two_numbers(g_clock: re.Match, p_norm: str) -> bool:
    """Whether the answer `p_norm` writes a gold `H:MM` without a.m./p.m. (`g_clock`) as the ratio
    or fraction of its own two numbers (`5:12` or `\\frac{5}{12}` for a gold `5:12`; review of rules
    33): a ratio or odds gold written `a:bb`, not a time. A fraction with other numbers, even of the
    same value (`\\frac13` or `1:3` for `10:30`), or a decimal (`10.5`) stays a different answer."""
    m = _TWO_NUMBERS_RE.fullmatch(p_norm)
    if m is None or g_clock[3] or int(g_clock[2]) == 0:
        return False  # (`3:00` is a time: no ratio has a 0 after its colon)
    a, b = m["a"] or m["c"] or m["e"], m["b"] or m["d"] or m["f"]
    return (int(a), int(b)) == (int(g_clock[1]), int(g_clock[2]))


#: Colons written as LaTeX (`10\\colon 30`, `10{:}30`, `10\\mathbin{:}30`, `10\\!:\\!30`) with their
#: spacing: read as the plain `:` they print (review 2 of rules 33; `\\colon` was a clock time's
#: "different answer" against a gold `10:30`).
_LATEX_COLON_RE = re.compile(r"[ \t]*(?:\\colon(?![A-Za-z])|\{:\}|\\mathbin\{:\}|(?:\\[!,;: ])*:(?:\\[!,;: ])*)[ \t]*")


def _plain_colons(text: str) -> str:
    """`text` with its LaTeX colons (`_LATEX_COLON_RE`) written `:`, spacing squeezed."""
    if ":" not in text and "colon" not in text:
        return text
    return _LATEX_COLON_RE.sub(":", text)


def _colon_answers(g_norm: str, p_norm: str) -> Verdict | None:
    """The verdict on answers written with colons that are not one division, or None.

    The parser reads `a:b` as the ratio a/b, right for `2:3` = `\\frac{2}{3}`, but a clock time is
    no ratio: `3:00` would be 3/0, so every whole hour equalled every other, and `10:30` equalled
    `5:15`. Nor is a ratio of three parts a quotient: `2:3:4` is not (2/3)/4. So:

    - `H:MM` (with an optional a.m. / p.m.) on both sides are clock times, equal when they name the
      same time, the half of the day counting where both give it (an unreduced
      ratio such as `2:40` for `1:20` is then wrong too);
    - a whole-hour time against anything else is a different answer (`3:00` is not 3);
    - a gold clock time (`H:MM`, minutes below 60) against an answer that is no clock time is a
      different answer too (rules 33: `10:30` is not `\\frac13`, `1:3`, `0.\\overline{3}` nor `10.5`;
      it was the quotient 10/30), unless the gold has no a.m./p.m. and the answer is the ratio or
      fraction of the gold's own two numbers (`\\frac{5}{12}` or `5 : 12` for a gold `5:12`, odds
      `1:35` as `\\frac{1}{35}`, and so `\\frac{10}{30}` for `10:30`; review of rules 33, see
      `_same_two_numbers`): then the gold is a ratio, read as the division it is. Only the gold
      decides otherwise: an answer `1:20` for a gold `\\frac{1}{20}` is still the ratio (a
      question whose answer is a value is not asked for a time);
    - ratios of three or more parts are equal when proportional (`2:4:6` for `1:2:3`), and equal
      nothing else;
    - otherwise None: a two-part ratio is the division it was."""
    g_norm, p_norm = " ".join(g_norm.split()), " ".join(p_norm.split())
    if g_norm == p_norm:
        return None  # identical: the usual path says so
    g_clock, p_clock = _CLOCK_RE.fullmatch(_plain_colons(g_norm)), _CLOCK_RE.fullmatch(_plain_colons(p_norm))
    if g_clock and p_clock:
        g_half, p_half = (g_clock[3] or "").lower(), (p_clock[3] or "").lower()  # a.m. / p.m., when both say
        same = ((int(g_clock[1]), int(g_clock[2])) == (int(p_clock[1]), int(p_clock[2]))
                and (g_half == p_half or not g_half or not p_half))
        return (Verdict.right("the same clock time", details=_details("equal")) if same else
                Verdict.wrong(f"different clock times: {p_norm} vs {g_norm}", details=_details("wrong")))
    if g_clock and int(g_clock[2]) < 60 and not _same_two_numbers(g_clock, p_norm):
        return Verdict.wrong("different answers: a clock time against a value", details=_details("wrong"))
    if p_clock and p_clock[2] == "00":
        return Verdict.wrong("different answers: a clock time against a value", details=_details("wrong"))
    g_norm, p_norm = _RATIO_NAMES_RE.sub("", _plain_colons(g_norm), count=1), _RATIO_NAMES_RE.sub("", _plain_colons(p_norm), count=1)
    g_ratio, p_ratio = _LONG_RATIO_RE.fullmatch(g_norm), _LONG_RATIO_RE.fullmatch(p_norm)
    if not (g_ratio or p_ratio):
        return None
    if not (g_ratio and p_ratio):
        return Verdict.wrong("different answers: a ratio of three or more parts against another kind of answer",
                             details=_details("wrong"))
    g_parts = [Fraction(part) for part in g_norm.split(":")]  # (Fraction reads " 2 " as 2)
    p_parts = [Fraction(part) for part in p_norm.split(":")]
    # proportional: each part against a part that is not 0 (so zeros fall in the same places)
    k = next((i for i, part in enumerate(g_parts) if part), None)
    if (len(g_parts) == len(p_parts) and k is not None and p_parts[k]
            and all(g * p_parts[k] == p * g_parts[k] for g, p in zip(g_parts, p_parts))):
        return Verdict.right("proportional ratios", details=_details("equal"))
    return Verdict.wrong(f"different ratios: {p_norm} vs {g_norm}", details=_details("wrong"))


def _plan(gold: Any, prediction: Any, fallback: str | None) -> _Plan | list[_Plan]:
    """Stage 1-3 for one pair. A list means several boxed answers, each to be checked."""
    if not isinstance(gold, str):
        if not is_number_gold(gold):  # None, NaN, a bool: no answer (its text, "None", is none either)
            return _Plan(verdict=Verdict.failed(
                f"gold answer {gold!r} is a {type(gold).__name__}, not an answer; expected text or a number "
                "(check the dataset's answer column with validate_golds)", details=_details("error")))
        text = _number_text(gold)
        if text is None:
            return _Plan(verdict=Verdict.failed(
                f"gold answer is a number too large to write as text ({type(gold).__name__}); expected text or a number "
                "(check the dataset's answer column with validate_golds)", details=_details("error")))
        gold = text
    problem = _gold_problem(gold)
    if problem is not None:
        return _Plan(verdict=Verdict.failed(problem, details=_details("error")))
    g_norm, number_gold = _gold_norm(gold)
    plan = _plan_answers(gold, g_norm, number_gold, prediction, fallback)
    problem = _gold_unreadable(g_norm)
    if problem is None:
        return plan
    # A gold the parser cannot read is an error whatever the answer (also when the answer has none),
    # except an answer written as the gold is, after normalisation: that needs no parse
    if isinstance(plan, _Plan) and plan.verdict is not None and plan.verdict.correct:
        return plan
    return _Plan(verdict=Verdict.failed(problem, details=_details("error")))


def _plan_answers(gold: str, g_norm: str, number_gold: bool, prediction: Any, fallback: str | None
                  ) -> _Plan | list[_Plan]:
    """`_plan` once the gold is known to be an answer: the prediction's answers against it."""
    if not isinstance(prediction, str):
        if not is_number_gold(prediction):  # None, NaN, a bool, bytes, a list: no answer (a bool is never "True")
            return _Plan(verdict=Verdict.wrong(
                f"unparsable prediction: not text or a number ({type(prediction).__name__})",
                details=_details("unparsable")))
        text = _number_text(prediction)  # `verify("5", 5)`: graded as its text, as a number gold is (audit 37)
        if text is None:
            return _Plan(verdict=Verdict.wrong(
                f"unparsable prediction: a number too large to write as text ({type(prediction).__name__})",
                details=_details("unparsable")))
        prediction = text
    if len(prediction) > 200_000:
        prediction = prediction[-200_000:]
    written = prediction
    prediction = after_reasoning(prediction)  # boxes tried inside `<think>` are no answers when one follows
    if not prediction and written.strip():  # the final answer taken back, nothing after it (rules 33)
        return _Plan(verdict=Verdict.wrong("unparsable prediction: answer retracted (no final answer after it)",
                                           details=_details("unparsable")))
    answers = _committed_answers(prediction)
    if answers is None:
        ans, said = _answer_of(prediction, fallback)
        if ans is None:
            return _Plan(verdict=Verdict.wrong("unparsable prediction: no final answer found",
                                               details=_details("unparsable")))
        answers = restatement_parts(ans, said=said)  # `$\\frac{3}{4}$ (0.75)`: both must be right
    if len(answers) > 1:  # a box around a box says what the inner one says: `\\boxed{\\boxed{7}}` is 7
        answers = [a for a in answers if "\\boxed" not in a] or answers
    if any(len(a) > _MAX_RAW_ANSWER_CHARS for a in answers):  # read whole or not at all: a cut answer
        # could hide what follows a run of padding (`20` + 3000 spaces + `\text{ or } 21`)
        return _Plan(verdict=Verdict.wrong(
            f"unparsable prediction: answer longer than {_MAX_RAW_ANSWER_CHARS} characters as written",
            details=_details("unparsable")))
    clash = _unit_clash(gold, answers)
    if clash is not None:
        return _Plan(verdict=clash)
    norms = [normalize(a, number_gold=number_gold) for a in answers]
    if word_answer(g_norm) is None:  # "The answer is five.": 5 (a word gold compares words with words)
        norms = [spelled_answer(n) or n for n in norms]
    norms = list(dict.fromkeys(norms))
    norms = [n for n in norms if n] or [""]
    for n in norms:
        if len(n) > MAX_ANSWER_CHARS:
            return _Plan(verdict=Verdict.wrong(
                f"unparsable prediction: answer longer than {MAX_ANSWER_CHARS} characters",
                details=_details("unparsable")))
    if norms == [""]:
        return _Plan(verdict=Verdict.wrong("unparsable prediction: empty answer", details=_details("unparsable")))
    if len(norms) == 1:
        return _plan_normalized(g_norm, norms[0])
    if len(norms) > _MAX_BOXES_COMPARED:  # more spellings than are compared: not one answer
        return _Plan(verdict=Verdict.wrong(
            f"hedged: {len(norms)} differently written final answers (at most {_MAX_BOXES_COMPARED} are compared)",
            details=_details("hedged")))
    # several boxes may together be the values of a collection (`x = \\boxed{2}` and `x = \\boxed{-2}`
    # for `\\pm 2`): when each box holds one value and the gold several, that is the only reading
    # (one value never equals a collection); else it is tried first, where it is cheap
    together = _plan_normalized(g_norm, ", ".join(norms))
    if _several_values(g_norm) and not any(map(_several_values, norms)):
        return together
    if together.verdict is not None and together.verdict.correct:
        return together
    return [_plan_normalized(g_norm, n) for n in norms]


@functools.lru_cache(maxsize=4096)
def _gold_unit(gold: str) -> tuple[str, Unit] | None:
    """The known unit the gold answer ends with (`10\\text{ cm}`), if any; memoised as `_gold_norm` is."""
    return answer_unit(_gold_text(gold))


def _unit_clash(gold: str, answers: list[str]) -> Verdict | None:
    """Wrong when the gold and an answer both name a known unit and the units differ (`10 m` for
    `10\\text{ cm}`, `5 \\text{ cents}` for `\\$5`): normalising drops units, so the numbers alone would agree.
    An answer without a unit, or with words that are not all known units, is not judged here
    (`rlvr.verifiers.math_units`)."""
    g = _gold_unit(gold)
    if g is None:
        return None
    for answer in answers:
        said = answer_unit(answer)
        if said is not None and units_differ(g, said):
            return Verdict.wrong(f"different units: {said[0]!r} where the gold is in {g[0]!r}", details=_details("wrong"))
    return None


def _several_values(norm: str) -> bool:
    """Whether a normalised answer may hold several values (a comma, `\\pm`, `\\mp`, a set)."""
    return "," in norm or "\\pm" in norm or "\\mp" in norm or "\\{" in norm


def _timed_out(seconds: float) -> Verdict:
    return Verdict.wrong(f"timed out after {seconds:.3g}s", details=_details("timeout"))


def _run_within(plan: _Plan, budget: Budget, pool: WorkerPool | None = None, *,
                target: str = _WORKER_TARGET) -> Verdict:
    """`plan`'s verdict, its sympy job (if any) run in what is left of a shared `budget`: the boxed
    answers of one output, or the claims of one solution, cost one budget (of worker time: waiting
    for a free worker is not counted, see `timelimit.Budget`). `pool`: default the shared one;
    `target`: the worker function that compares the pair (see `_run_job`)."""
    if plan.verdict is not None:
        return plan.verdict
    if budget.left < _MIN_JOB_SECONDS:
        return _timed_out(budget.seconds)
    return _run_job(plan, budget, pool if pool is not None else _pool(), target)


def _run_job(plan: _Plan, timeout: float | Budget, pool: WorkerPool, target: str = _WORKER_TARGET) -> Verdict:
    """The verdict of `plan`'s sympy job, run in `pool` within `timeout` (seconds or a `Budget`).

    `target` ("module:function", called with the normalised pair in a worker) is the math comparer
    by default; another one (the steps check's, which judges text the comparer would blame on the
    gold) returns outcomes of the same shape. Only the math comparer's verdicts are memoised: the
    memo answers `verify` by (gold, answer), and another comparer may judge a pair differently.

    A job past its time or size limit is the answer's fault (kind "timeout") unless the gold alone
    is too slow (`_gold_fault`). The job always runs, also for a gold found slow before: an answer
    that is judged in time gets its verdict (a check can misjudge a gold on a loaded machine).
    Only with the math comparer: the steps check's "gold" is the claim's left side, model text
    like its right side, so whatever either side costs is the model's."""
    g_norm = plan.job[0]
    seconds = timeout.seconds if isinstance(timeout, Budget) else timeout
    has_gold = target == _WORKER_TARGET
    try:
        out = pool.call(target, plan.job, timeout=timeout)
    except TimeLimitExceeded:
        over_limit = _timed_out(seconds)
    except WorkerMemoryError:
        over_limit = Verdict.wrong("too large to evaluate (worker memory limit)", details=_details("timeout"))
    except WorkerCrashed as exc:
        if not str(exc).startswith(("RecursionError", "OverflowError")):
            # The worker reports an unreadable prediction as an outcome (kind "unparsable"); anything it
            # raises comes from the gold, sympy or our own code, so it is not the answer's fault: the
            # verdict is an error (never a zero reward) and it is not memoised as a judgement.
            return Verdict.failed(f"math worker failed: {str(exc)[:300]}", details=_details("error"))
        # sympy ran out of stack or float range on a huge value: like the memory limit, a size limit
        over_limit = Verdict.wrong("too large to evaluate (recursion or overflow)", details=_details("timeout"))
    else:
        v = _from_outcome(out)
        if has_gold:
            _cache.put(plan.key, v)
        return v
    blamed_on_gold = _gold_fault(g_norm, seconds, pool) if has_gold else None
    return blamed_on_gold if blamed_on_gold is not None else over_limit


def _gold_fault(g_norm: str, seconds: float, pool: WorkerPool) -> Verdict | None:
    """After a job past its time or size limit: a failed Verdict naming the gold when the gold alone
    takes more than half of `seconds`, runs past a size limit, or raises, in what every comparison
    does to it (see `math_sympy.check_gold`), else None (the answer is at fault). Half: a
    comparison does the gold's work and the answer's, so a gold that alone takes most of the limit
    leaves no time to judge any answer in another form than its own.

    A gold of exact rationals only (`_gold_is_exact`: most golds) is cheap for sympy too and is
    not checked. Any other runs in a worker under its own limit (never charged to the answer's
    budget) once per (gold, seconds): its result is remembered (see `_GoldChecks`), so a gold is
    checked once, and a later answer past the limit is blamed on a slow gold without another
    check (answers judged in time keep their verdicts: `_run_job` always runs the job). When the
    check itself cannot be done (the pool fails), the verdict is a failure too: whose fault the
    limit was is then unknown, and an infrastructure failure is never a wrong answer."""
    if _gold_is_exact(g_norm):
        return None
    return _gold_checks.check((g_norm, seconds), functools.partial(_check_gold, g_norm, seconds, pool))


def _gold_is_exact(g_norm: str) -> bool:
    """Whether every value of the gold is a rational that the exact stage computes (`exact_value`,
    bounded in size): such a gold costs sympy next to nothing, so it never made a job slow."""
    try:
        return all(exact_value(value) is not None for value in value_nodes(prepare(parse(g_norm))))
    except Exception:  # noqa: BLE001 - NeedSympy, or anything else: not known to be exact
        return False


def _check_gold(g_norm: str, seconds: float, pool: WorkerPool) -> tuple[Verdict | None, bool]:
    """`_gold_fault`'s check, run now: (its result, whether to remember it)."""
    gold = f"gold answer {g_norm[:200]!r}"
    try:
        problem = pool.call(_GOLD_TARGET, (g_norm,), timeout=seconds / 2)
    except TimeLimitExceeded:
        problem = f"takes more than half of the {seconds:.3g}s time limit on its own"
    except WorkerMemoryError:
        problem = "exceeds the worker memory limit on its own"
    except WorkerCrashed as exc:  # the pool or a worker failed, not the gold: not remembered
        return Verdict.failed(f"the sympy stage ran past its limit, and checking the {gold} alone failed: "
                              f"{str(exc)[:300]}", details=_details("error")), False
    if problem is None:
        return None, True
    reason = (f"{gold} cannot be evaluated within the verifier's limits ({problem}), so comparisons "
              "with it run past them too: fix or drop this row")
    return Verdict.failed(reason, details=_details("error")), True


def _combine(verdicts: list[Verdict]) -> Verdict:
    """Several boxed answers: right only if all are right; otherwise hedged (or wrong/failed)."""
    for v in verdicts:
        if v.error is not None or v.details.get("kind") == "timeout":
            return v
    if all(v.correct for v in verdicts):
        return Verdict.right(verdicts[-1].reason + " (every final answer given)", details=_details("equal"))
    if any(v.correct for v in verdicts):
        return Verdict.wrong(f"hedged: several different final answers ({len(verdicts)} given)",
                             details=_details("hedged"))
    return Verdict.wrong(f"hedged: several different final answers ({len(verdicts)} given), none right",
                         details=_details("hedged"))


def _check_timeout(timeout: Any) -> None:
    """A ValueError unless `timeout` is a positive number of seconds of at most a day
    (`timelimit.MAX_SECONDS`), checked before any answer is read: a bad one would raise only for
    the answers that reach the sympy stage, so that some answers got a verdict and others did not."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not 0 < timeout <= MAX_SECONDS:
        raise ValueError(f"timeout must be a positive number of seconds, at most {MAX_SECONDS:g} (a day), got {timeout!r}")


def verify(gold: Any, prediction: Any, *, timeout: float = DEFAULT_TIMEOUT,
           fallback: str | None = None) -> Verdict:
    """Grade `prediction` (a bare answer or a whole model output) against `gold`.

    Args:
        gold: the reference answer (bare, LaTeX, or a worked solution with a final answer).
        prediction: the model's output; any text gets a Verdict, never an exception. A number (int,
            float, Fraction, Decimal) is graded as its text, as a number gold is; another type (None,
            a bool, NaN, bytes) is an unparsable prediction naming its type.
        timeout: seconds allowed for the sympy stage (the fast stage is bounded by construction).
        fallback: None (strict) or "last_number" — see `extract_answer`.
    """
    _check_timeout(timeout)  # (else only answers that reach the sympy stage would raise)
    plan = _plan(gold, prediction, fallback)
    plans = plan if isinstance(plan, list) else [plan]
    budget = Budget(timeout)  # one budget for all the boxed answers of this output
    verdicts = [_run_within(p, budget) for p in plans]
    return verdicts[0] if len(verdicts) == 1 else _combine(verdicts)


async def averify(gold: Any, prediction: Any, *, timeout: float = DEFAULT_TIMEOUT,
                  fallback: str | None = None) -> Verdict:
    """`verify` for asyncio code: the blocking wait runs in the default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(verify, gold, prediction, timeout=timeout,
                                                              fallback=fallback))


def verify_batch(pairs: Sequence[tuple[Any, Any]], *, timeout: float = DEFAULT_TIMEOUT,
                 fallback: str | None = None, workers: int | None = None) -> list[Verdict]:
    """Grade many (gold, prediction) pairs, using every core for the sympy stage.

    The cheap stage runs here; distinct sympy jobs are spread over a pool of `workers` processes
    (default: all CPUs). As in `verify`, each output has one `timeout`: a single answer's job runs
    under it, and the several boxed answers of one output share it (run one after another, see
    `_run_boxes`). Repeated pairs are decided once. Results are in the order of `pairs`.
    """
    _check_timeout(timeout)
    pool = _pool() if workers is None else get_pool(workers, preload=_PRELOAD)
    plans = [_plan(g, p, fallback) for g, p in pairs]
    singles: dict[tuple, _Plan] = {}  # one answer's job, by (gold, answer)
    boxes: dict[tuple, list[_Plan]] = {}  # the jobs of one output with several boxed answers
    for plan in plans:
        if isinstance(plan, list):
            todo = [p for p in plan if p.verdict is None]
            if todo:
                boxes.setdefault(tuple(p.job for p in todo), todo)
        elif plan.verdict is None:
            singles.setdefault(plan.job, plan)
    results: dict[tuple, Verdict] = {}
    box_results: dict[tuple, dict[tuple, Verdict]] = {}
    if singles or boxes:
        ex = ThreadPoolExecutor(max_workers=min(pool.size, len(singles) + len(boxes)))
        stop, threads = threading.Event(), set()  # (the executor's threads: those that hold our workers)
        single_futures: dict[tuple, Future] = {}
        box_futures: dict[tuple, Future] = {}
        try:
            # singles first: the executor starts tasks in order, so by the time a task of boxes runs,
            # every single has a thread, and waiting for one there (`known`) cannot deadlock
            for key, p in singles.items():
                single_futures[key] = ex.submit(_batch_task, stop, threads, _run_job, p, timeout, pool)
            for key, todo in boxes.items():
                box_futures[key] = ex.submit(_batch_task, stop, threads, _run_boxes, todo, timeout, pool,
                                             single_futures, stop)
            results = {key: f.result() for key, f in single_futures.items()}
            box_results = {key: f.result() for key, f in box_futures.items()}
        except BaseException:
            _stop_batch(ex, stop, threads, pool, [*single_futures.values(), *box_futures.values()])
            raise
        ex.shutdown()
    out = []
    for plan in plans:
        if not isinstance(plan, list):
            out.append(plan.verdict if plan.verdict is not None else results[plan.job])
            continue
        todo = [p for p in plan if p.verdict is None]
        decided = box_results[tuple(p.job for p in todo)] if todo else {}
        parts = [p.verdict if p.verdict is not None else decided[p.job] for p in plan]
        out.append(parts[0] if len(parts) == 1 else _combine(parts))
    return out


class _BatchStopped(Exception):
    """A task of an interrupted `verify_batch` that was not run (nobody reads its result)."""


def _batch_task(stop: threading.Event, threads: set, run: Callable[..., Any], *args: Any) -> Any:
    """`run(*args)` in a thread of `verify_batch`'s executor, noting the thread (see `_stop_batch`);
    not run once the batch is stopped."""
    threads.add(threading.get_ident())
    if stop.is_set():
        raise _BatchStopped
    return run(*args)


#: Seconds `_stop_batch` waits at most for the batch's threads to see that their jobs were killed.
_STOP_GRACE = 2.0


def _stop_batch(ex: ThreadPoolExecutor, stop: threading.Event, threads: set, pool: WorkerPool,
                futures: list[Future]) -> None:
    """Stop an interrupted `verify_batch` now (Ctrl-C while it waits for its jobs).

    Leaving the executor as a `with` block does would wait for every queued job, each up to its
    time limit: minutes of silence after Ctrl-C. Instead queued tasks are cancelled, running ones
    are told not to start another job (`stop`), and the workers running this batch's jobs are
    killed, so their calls return at once (as failed verdicts nobody reads). Workers the pool runs
    for other callers are left alone. Bounded by `_STOP_GRACE`: a task that just got a new worker
    has it killed on the next round."""
    stop.set()
    ex.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + _STOP_GRACE
    while True:
        pool.kill_jobs_of(threads)
        pending = [f for f in futures if not f.done()]
        if not pending or time.monotonic() > deadline:
            return
        wait_futures(pending, timeout=0.05)


def _run_boxes(todo: list[_Plan], timeout: float, pool: WorkerPool,
               known: dict[tuple, Future], stop: threading.Event | None = None) -> dict[tuple, Verdict]:
    """The verdicts of the sympy jobs of one output's boxed answers, run one after another in one
    `timeout` (as `verify` runs them); a job that is also some single answer's is that one's verdict.
    Once `stop` is set (the batch was interrupted) no other job is started."""
    budget = Budget(timeout)
    out: dict[tuple, Verdict] = {}
    for p in todo:
        if stop is not None and stop.is_set():
            raise _BatchStopped
        if p.job not in out:
            out[p.job] = known[p.job].result() if p.job in known else _run_within(p, budget, pool)
    return out
