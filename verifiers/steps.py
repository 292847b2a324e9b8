"""Rule-based process reward: check every arithmetic claim a worked solution states.

`verify_steps(solution_text)` splits the solution into steps (the sentences of each non-empty
line: a line is cut after `.`, `!` or `?` and spaces, before a capital, `\\` or `$`, but not within
`$…$` or `\\(…\\)`, nor after a factorial before `\\`: `3! \\cdot 2`), finds the
equalities each step states — `3 \\cdot 4 = 12`, `\\frac{6}{8} = \\frac{3}{4}`, chains `a = b = c`,
GSM8K's `<<48/2=24>>` — and checks each link of each chain with the same comparer as
`rlvr.verifiers.math.verify` (exact rationals in-process, sympy in a time-limited worker
otherwise). `RULES_VERSION` names these rules: it goes up whenever a change of them changes what
some solution scores, so that rewards from different versions are not mixed.

What a claim is:
- Only claims without variables are checked. `x = 3` or `2x + 1 = 7` are conditions on an unknown,
  not claims that can be true or false on their own; identities in variables are not checked either.
  This holds for GSM8K annotations too (`<<x=3>>` claims nothing; thousands separators are dropped
  first, as everywhere: `<<1,000+500=1500>>` is a claim), but for commas between a function's
  arguments (`\\max(3,100)` is not `\\max(3100)`).
- A side of an equation is the run of tokens next to the `=`, scanning away from it up to the
  first English word (a lone "a", "A" or "I" between words is a word), read as a whole: `I get
  3 * 4 = 13 a day` and `3 * 4 = 13 apples in 2 days` claim `3 * 4 = 13`. If that run involves a
  variable there is no claim (`Then x + 1 = 4`). If the run cannot be read as a whole (`= 12 5 6`),
  is longer than `_MAX_SIDE_WORDS` tokens, or an operation is written in words next to it ("Half of
  10 = 5", "10 \\bmod 3 = 1", "12 = 3 times 4", an operator sign the parser does not know), the side
  is not checkable: it is never cut down to its last number. Nor is a left side with a number among
  the words before it in its chain: the run is then an operand of something written in words
  ("He bought 3 tickets at $4 = $12", "10 choose 2 = 45", "The sum of 3 and 4 = 7"); a separator
  (below) or a label ends that look-back ("Day 2: 5 + 5 = 10", "In 2020, 3 + 4 = 7"). And a chain
  whose first link equates two different plain numbers after text — words before it, or a split at
  a comma or a word before it — states no claim there: it is the tail of an operation written in
  words ("Then add 5 = 17", "The sum of 3, 4, and 5 = 12", "each at $4 = $12"); on its own
  (`4 = 5`), after a sign (`7 < 8 = 9`) or in a chain (`3 + 4 = 7 = 8`) it is still checked.
- `$` delimits maths as in Markdown/pandoc (an opening `$` is followed by a non-space, a closing `$`
  follows a non-space and is not followed by a digit), so money amounts (`$20 and $30`) are money,
  and currency signs stuck to a number (`$ € £ ¥`, `\\$`) are dropped. Text inside and outside maths
  segments is checked alike. Markdown emphasis and code marks (`**`, `__`, `*…*`, backticks),
  brackets around a claim (`(3 * 4 = 13)`) and trailing `.`, `?` and `!` are not part of a claim,
  except a `!` right after a digit or a closing bracket, which is a factorial (`120 = 5!`); a star
  between an operand's end and an operand's start (`3 *4`) is multiplication, not emphasis.
- Several claims in one step are separate chains: they are split at `. `, `; `, `, ` (not inside a
  bracket pair without `=`, such as `\\gcd(12, 18)`), at the words "and" (not in "the sum of 3 and
  4"), "so", "then", "thus", "hence", "therefore", "but", "or", "which means", at `=>`, `\\implies`,
  `\\Rightarrow`, `→`, `\\quad`, `\\\\`, at inequality signs (`3 + 4 = 7 < 8 = 9` states `8 = 9`), at
  `\\equiv` / `≡` and at a label in text (`\\text{Total:} 3 + 4 = 8` states `3 + 4 = 8`).
- LaTeX layout is no part of a claim: the markers of display and alignment environments
  (`\\begin{aligned}`), a display delimiter whose pair is on another line (`3 + 4 = 8 \\]`), an
  alignment `&` before or after a relation (`3 \\cdot 4 &= 12`, `a &=& b`; any other `&` starts a
  column, another equation or notes, `& 1 + 2 &= 3`, `&& \\text{(sum)}`, and ends the chain like
  `\\quad`), LaTeX spaces (`\\;`, `\\,`, `\\:`, `\\ `, `\\!` are spaces everywhere, so `5,\\; 6` splits
  as `5, 6`, but between digit groups, `1\\,000`, thousands; `\\quad` is a space only next to
  `=`), the spacing after a row break (`\\\\[4pt]`, `\\\\*`), `\\tag{1}`, `\\label{…}`, `\\nonumber`,
  `\\checkmark`.
- A chain that starts with `=` continues the one before it, whose last side is its left side: an
  aligned row after `\\\\` (`12 + 5 \\\\ &= 18` claims `12 + 5 = 18`), or a step that starts with `=`
  (`= 18` on the next line), continuing the last row of the step before. Only a row's main chain
  (its first with an `=`) is continued, and only from a last side that is all of that chain's end
  with no word after it (not `2` in `= 4 + 1 (x = 2)` or `= x^2 + 1 at x = 2`, nor `7` in `= 7 apples
  in 2 days`, nor `40` in `= 40 dollars per day`, after which `= 40 * 5 = 200` is the next computation): what a
  `\\quad` or an `&` column puts after it is a note, which changes nothing (`&= 4 + 4 + 1 \\quad (x = 2) \\\\ &= 9`
  claims `4 + 4 + 1 = 9`); another chain or text after it in the row (at a comma, a word, a sign),
  text before it, and a step between with any text (a label "Step 2:", a rule `---`; not a line of
  maths delimiters or `\\begin{aligned}`) leave nothing to continue: then a row starting with `=`
  claims nothing (no claim beats a claim about the wrong side), as it does in a new part.
- A row or line that goes on with an expression the one before it left unfinished has no first side of
  its own: its first link claims the whole expression (`Total = 120 + 45 + 30`, then `+ 15 = 210` on the
  next line or aligned row claims `120 + 45 + 30 + 15 = 210`), or nothing where the two cannot be joined
  safely (a word or unit in them, a `- ` that may be a list bullet, a side begun too far back to be read
  whole). A product or quotient after a sum (`120 + 45 + 30 /` then `3`, or `\\times 2` after it) may be
  meant of the whole sum: it is checked by either reading (normal precedence, or the sum in brackets),
  holding if one holds (`_OrGrouped`). It goes on when the one before ends with a binary operator after an
  expression (`120 + 45 +`, or one operand right after a relation: `= 120 +`; not a label or a name,
  "Step 2 -", "Ages 18+", "Ca2+"), or when it starts with one (`+`, `-`, `\\times`, `*2`; layout such as
  `&\\quad` aside) after one whose last side is an expression with an operator between operands, no word
  or full stop after it, or a running total (`= 195`, then `+ 15 = 210`: `195 + 15 = 210`). Bold markers
  and a numbering label ("(2)", "2.") are no part of the expression, and a line going on with no link
  (`+ 30`) hands the joined expression on to the next. Nothing goes on across a blank line or from a line
  closing a display (`$$`, `\\]`, `\\end{...}`), and a line opening with a sure list bullet (`*` and a
  space, or `-`/`+`, a space and maths: `- $12 \\times 10 = 120$`) goes on only from a line ending with an
  operator. After a finished one (`3 + 4 = 7`, `Compute:`) a line or row starting with `-` is a negative
  number or a list bullet and is read as ever (`-3 + 5 = 2`, `- 3 + 4 = 7`; `7 = 3 + 4`, then `-2 = 3 - 5`),
  and so is a list item after an item of the same list. Likewise a spaced "..." standing for terms left
  out (between two operator signs, or between a number and a sign other than `-`: `1 + 2 + ... + 10 =
  55`) ends no sentence or chain: the side around it is no number, as with `…` or `\\dots`; a word or
  number after "op ..." is a restart (`25 * 4 + ... Actually 25 * 4 = 90` claims `25 * 4 = 90`). An
  inline quotient of two numbers in scientific notation (`4.5 \\times 10^6 / 1.5 \\times 10^3`) is by
  precedence `(4.5 \\times 10^6 / 1.5) \\times 10^3`, but it is mostly meant as the quotient of the two
  numbers: a claim with one holds when either reading does (`= 3 \\times 10^3` and `= 3 \\times 10^9` both
  hold) and fails when neither does (`= 7`).
- Units (as `math_units` reads a side's end, `2 \\text{ h}`, `25 \\text{ m}^2`, `2500 g`; a currency sign
  stuck to a number is its unit, `\\$36` dollars; a plain unit word ending a left side, `5 kg = 5000
  grams`, only in a conversion, and only one the normaliser reads without its unit, so `5 kg = 500 g`
  is no claim): a link between units of one dimension of different
  sizes is a conversion, checked exactly (`4 \\times 25 \\text{ cm} = 1 \\text{ m}` holds, `= 2 \\text{ m}`
  and `5 \\times 3 \\text{ kg} = 16 \\text{ g}` fail; a side that is no exact rational number makes no
  claim), but between units that are no whole multiple of one another (a mile and a km, a kg and a
  pound, a year and a week) a right side that is one number may be the value rounded or cut off at its
  last significant digit (an integer's trailing zeros are not significant), keeping a significant digit
  (`1 mile = 1.609 km`, `100 km = 62 miles`, `1 pound = 450 grams`, `1 year = 52 weeks` hold; `1 km = 1
  mile` fails); a number of one significant digit that is such a rounding or cut is a rough rate and
  makes no claim (`1 kg = 2 pounds`, `60 mph = 100 km/h`; `1 kg = 3 pounds` fails), and a link in plain words between a day or longer and another
  time unit that does not hold is no claim (a working day: `He works 8 hours = 1 day`); between units of other kinds or powers the numbers are compared, as a unit is often
  written on one factor only (`6 \\times 4 \\text{ m} = 25 \\text{ m}^2`, `\\$3 \\times 4 \\text{ lb} = \\$13`
  and `60 \\times 3 \\text{ h} = 200 \\text{ miles}` fail), but one number against one number in another
  system of the same quantity (degrees and radians, two currencies: `\\frac{\\pi}{3} \\text{ rad} =
  60^\\circ`, `\\$13 = €12`) is no claim. In a chain that names two units of one dimension, its
  continued rows included, a link between a side with a unit and one without holds when the
  unitless value is the other side's number or its quantity in another unit of that dimension the
  chain names (`2 \\text{ h} &= 2 \\times 60 \\\\ &= 120 \\text{ min}` holds; `4 \\times 3 = 13 \\text{ dollars}
  = 1300 \\text{ cents}` fails: 12 is neither 13 nor 1300). Elsewhere a unit on one side only (`3 \\cdot 4
  = 12 \\text{ cm}`) or the same on both is checked by the numbers. (The unit rules are
  `rlvr.verifiers.step_units`.)
- A side with a modulus note (`\\pmod{5}`, `\\bmod`, `\\mod`, `(\\mathrm{mod}\\ 7)`, `\\text{mod}`, "mod")
  states a congruence, not an equality: the links touching it are no equalities, the chain's other
  links are (`2^{10} = 1024 = 4 \\pmod{5}` claims `2^{10} = 1024`). A last side that ends with the
  note (`\\pmod{n}`, `\\pmod n`, `\\mod n`, `(\\mathrm{mod}\\ n)`, `(\\text{mod } n)`, `(mod n)`) is a
  congruence claim when both sides and the modulus are integers without variables, evaluated
  exactly (`3 \\cdot 27 = 1 \\pmod{5}`): it holds when n divides their difference (`81 = 2 \\pmod{5}`
  is false, `1024 = 4 \\pmod{5}` holds). A side too large to evaluate exactly that is built from
  integers with `+`, `-`, products, brackets and powers is evaluated modulo n (`7^{2023} = 9 \\pmod{10}`
  fails); a power's exponent must still be evaluated exactly (`2^{10^{10^{5}}}` makes no claim), and a
  fraction, factorial or function in such a side makes none either. The modulus must be an integer
  from 2 to 2^64 - 1 (`\\pmod{10^{9}+7}`; `\\pmod{3^{2000}-2}` makes no claim, and neither does
  `2 + 2 = 5 \\pmod{1}`: modulo 1 any two integers are congruent), and the powers of one
  solution's congruences may take 2,000,000 exponent bits in all (a congruence after that makes no
  claim), so that their work stays small. Any other side with a note (`\\bmod`, "mod", a variable) is
  no claim. `a \\equiv b \\pmod{n}` is not read (`\\equiv` splits chains). (The congruence checks are
  `rlvr.verifiers.step_congruence`.)
- An approximate link, `\\approx` / `≈` / `\\simeq` / `≃`, whose right side is one plain number without a
  unit is checked for plausibility (`_approx_claim`): it holds when the left side's exact value is
  within one unit of the number's last significant digit (an integer's trailing zeros are not
  significant: `2^{10} \\approx 1000`, `45 \\times 19 \\approx 900`, `253/3 \\approx 84.3` hold), unless
  that value can be written exactly at that digit, when it must be (`3 * 4 \\approx 13` fails); a left
  side with no rational value holds when it holds as a rounding (`\\sqrt{2} \\approx 1.41`) and is no
  claim otherwise; any other approximate link (`45 \\times 19 \\approx 50 \\times 20`, `12 \\approx 12.1`,
  a unit, a magnitude or percent word after the number: `\\approx 3 million`, `≈ 14 percent`) is no
  claim. A left side with a rounded input (a decimal that is no integer: `3.14 \\times 144 \\approx
  452.39`) may carry its rounding on: the link holds when it holds by that side or by the first side of
  its chain with no such input and a number (`\\pi \\cdot 12^2 \\approx 3.14 \\times 144 \\approx 452.39`:
  c approximates a too), fails only when it fails by both, and is no claim when there is no such side
  (`200000 \\times 0.004167 \\approx 833.33`). A link that computes nothing (`k + 0 \\approx k`,
  `(k) \\approx k`) earns no credit, and one that holds is known by its left side alone: another number
  stated for that side, approximately or exactly (`2 + 2 \\approx 4.00`, `2 + 2 = 4`), is said before.
  An `=` whose right side is hedged as a rounding reads as an approximate link: a hedge right after it,
  with only the side between (its numbers, LaTeX and unit words, then spaces or an opening bracket:
  "= 0.67 (rounded)", "= 3.3 approximately", "(approx.)", "(approx)", "roughly", "(rounding)", "to the
  nearest hundredth", "(nearest tenth)"; "nearest" only before a place or unit it rounds to, a place
  below one shown in the number's decimals, so "to the nearest shop" and "7 to the nearest cent" hedge
  nothing; "rounding error/mistake" owns up and hedges nothing; not after a comma or another
  word, "= 9.5, rounded up to 10", "= 13 and we rounded nothing"; "rounded up/down" only as a
  bracket's end, "= 10 (rounded up)") or right before it ("= about 3.3", "approximately", "approx",
  "roughly", "around"). (Unhedged, `2 / 3 = 0.67` is a rounding to too few digits, and fails.)
- A decimal cut off with "..." or "…" (`20/3 = 6.666...`, `1/6 = 0.1666…`) states the first digits
  of the other side's value: it holds when the exact value lies in [d, d + u), u one unit of its last
  digit (mirrored for a negative decimal; d + u too when all of two or more digits after the point
  are 9: `0.99...` reaches 1, `1.9...` does not reach 2), in the cut side's unit in a conversion (`1 \\text{ m} =
  3.28... \\text{ ft}`). Where that does not hold or cannot be checked in-process (no exact rational
  value, `\\sqrt{2} = 1.414...`; units of other kinds), the written digits are judged as any claim
  (a rounding, `100/7 = 14.3...` holds; `\\binom{5}{2} = 11.0...` fails): it holds when either reading
  does, so an ellipsis never hides a false claim. All such claims about one side are one claim
  (`20/3 = 6.666...`, then `6.66...`, earn credit once), and one about a side stated before to be a
  plain number exactly (`2 + 2 = 4`, then `2 + 2 = 4.0...`) is said before. Against a plain number or
  another cut decimal it computes nothing (`4 = 4.0...`, `0.99... = 1`, `6.666... = 6.67`: no credit)
  and fails only when false (`2 = 1.9...`; against a decimal or a cut decimal when no value can have
  both spellings, `6.666... = 6.8`), and so against a side that computes nothing with its digits
  (`4 + 0 = 4.0...`, `(4) = 4.0...`). Its ellipsis ends no sentence or chain. A cut decimal inside a
  longer side (`6.5... * 2`, `(13.0...)`, `0.333... + 0.333...`) is read as written, without its ellipsis.
- A division with a remainder, `a / b = q` (`÷`, `\\div`) followed by "remainder r", "R r", "with a
  remainder of r", "with r left (over)", or up to three words and "and r left" (`7 / 2 = 3 full boxes
  and 1 left`), between plain integers, claims a = q*b + r with 0 <= r < b (`17 / 5 = 3 remainder 2`
  holds, `remainder 3` and `remainder 2.5` fail), not `a / b = q`; punctuation after it changes
  nothing. With q = 0 or b = 1 (`5 / 7 = 0 remainder 5`) it computes nothing: no credit, a failure
  when false. It claims nothing when an operator comes before `a`, and "r left" after an exact
  division (`12 / 4 = 3 bags and 2 left`) is no remainder: the equation is read as written. "remainder
  0" states `a / b = q` itself (one claim with it); "remainder" with no number claims that q is the
  quotient (`17 / 5 = 3 remainder` holds, `= 4 remainder` fails); after any other side it is a word
  (`3 * 4 = 13 remainder` fails).
- A chain the text rejects or asks about makes no claim: it is not scored, neither credit nor
  failure, so a false claim so marked does not fail its step (a step with other claims that hold
  scores 1.0) and a true one earns nothing. Marked are: a chain followed in its sentence by "is/was
  wrong" (incorrect, false, a mistake, an error, not right...; not "error-free") within three words
  of its last `=`, or by "that/this/it is (or 's, was) wrong..." within six ("3 + 4 = 8 earlier, but
  that's a mistake"), the rejection ending its clause (a period, `;`, `,`, `:`, `!`, `)` or the line's
  end: not "is wrong? No", "is false modesty aside") with no "which"/"as" or ✓ between; or by ✗; one
  preceded by "not true that", "false that", "not the case that", but not after "not", "never" or
  "n't" ("it is not false that"), and not when also rejected after it (a double negation); and one
  followed by `?` within six words whose clause opens with an asking word (is, does, can, ...: "Is
  3 + 4 = 8?", "Wait, does 7 * 8 = 56?") and whose answer after the `?` (in that sentence or the
  next) opens with a no-word, maybe after one interjection ("No, ...", "Well, no", "Not quite",
  "Wrong"); any other answer, or none, leaves the question asserted ("Yes.", "That's right.", a bare
  question: affirmations have too many wordings to list, and "?" alone must not hide a claim). A tag ("3 + 4 = 8, right?"), a question after it
  ("Since 3 + 4 = 8, how many are left?") or a bare `3 * 4 = 13?` leaves a claim. Only that chain:
  such words elsewhere change nothing (the marks are `rlvr.verifiers.step_marks`). `==` and a
  full-width `＝` are `=`; `~` is a LaTeX space.
- In a step `p%` is exactly p/100 on both sides (`20% = 20` is false, `50% = 0.5` holds), however
  the percent is spelled (`\\%`, `％`, `20 \\text{ percent}`: as `normalize` reads them): the
  leniency of final answers (`50\\%` = `50`) does not apply. `7 % 3` (a `%` followed by a number,
  Python's remainder) is not checkable. A side longer than `MAX_ANSWER_CHARS` is not read, nor one
  holding a clock time (`10:30 + 1 = 11:30`: `H:MM` would be read as a ratio).
- Labels and list markers at the start of a step ("Step 1:", "**Step 2.**", "### Step 3:", "Case 2:",
  "Day 2:", "Year 2020:", "Ex. 3:", "3.", "-") are not maths (`Step 1: 2^{10} = 1024` is not
  `1 : 2^{10}`); nor is a bare four-digit number (a year, an index) and a colon with a space after it,
  when the rest of the step holds a computation of its own, an operator before its `=`, and no other
  ratio (`2023: 3 \times 4 = 12`; rules 9). A shorter number and a colon is a ratio (`12: 4 \times 3 = 9`,
  `12: 4 = 3`), so `2: 2 + 2 = 4` reads as `2 : 2 + 2 = 4` and fails (a known limitation: write
  "Step 2:"); a colon with no space after it is a ratio (`2:3 = 4:6`), and so is one in a step with
  another ratio (`3: 1 = 6: 2`).

Scoring:
- A step scores 1.0 when all its claims hold, 0.0 when any fails, None when it has nothing
  checkable. `Verdict.steps` lists these per step; `score` is the mean over checked steps (1.0 when
  nothing was checkable), `correct` is True when no claim failed.
- Credit is for work shown, so two kinds of claims that hold earn none (their step scores None
  when it has no other claim): a claim that computes nothing — both sides write the same numbers
  but for 0s and 1s (`1 = 1`, `4 = 4.0`, `(1) = 1`, `5 = 5 \\cdot 1`, `3 = 3 + 0`, `2+2 = 2 + 2`) —
  and a claim stated before, however it is spelled (`2 + 2 = 4` on twenty lines, or `4 = 2 + 2`,
  `(2+2) = 4.0` after it, is judged once, where it first appears: sides compare as parse trees
  with exact numbers; a decimal of 3 or more significant digits keeps its written places, since
  `1/3 = 0.333` holds as a rounding and `1/3 = 0.3330` does not, but once a claim has held
  exactly, its decimals respelled with trailing zeros are the same claim: `1/4 = 0.250` after
  `1/4 = 0.25`). Otherwise a solution
  could pad a wrong answer with `1 = 1` lines, or dilute one false step with copies of a true one.
  Such a claim that is false (`4 = 5`) still fails its step. Padding with true arithmetic that is
  new but beside the point (`2 + 3 = 5`, `2 + 4 = 6`, …) still earns credit: rules cannot tell
  relevant work from irrelevant, so keep the process reward's weight small beside the outcome's.
- A claim that is not shown to hold fails its step: one that is false, one that cannot be confirmed
  in time (`10^{10^{10}} = 3`: credit is for claims shown to hold, so a false claim made too costly
  to check earns nothing), and one whose own text cannot be read or evaluated (`\\det(2) = 3`,
  `\\max(2, 3, 1+i) = 3`), a side that is infinite or undefined included (`1/0 = 2/0`,
  `\\log 0 = 2 \\log 0`: no value, so nothing holds of it): model text is always judged, never an
  infrastructure failure. `timeout` is the budget of the whole solution's sympy checks, not of each
  claim, so no solution costs more.
  It counts only the time a sympy worker runs this solution's checks: waiting for a free worker
  (other solutions checked at the same time) never fails a claim.
- Only the steps of the first `MAX_STEPS` (200) lines, and at most `MAX_SENTENCES` (800) steps,
  are checked, and at most `_MAX_CLAIMS` (400) distinct claims in one step; a solution given in
  parts (an episode's turns) gets that window in each part, its claims judged once across them. A
  later step that states an equality (it contains `=`) scores 0.0 without being read, and so does
  a step with more claims than that: neither is shown to hold, so padding a solution with filler
  lines or claims hides nothing. Later steps without `=` score None.
- A check that itself fails (a crashed math worker, no free worker for `timelimit.DEFAULT_MAX_WAIT`
  seconds) is no judgement of the solution: the result is `Verdict.failed(...)` (`error` set), and
  the solution must not be scored at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

from rlvr.verifiers.math import DEFAULT_TIMEOUT, _plan_normalized, _run_within
from rlvr.verifiers.math_compare import decimal_places, exact_value, has_symbols
from rlvr.verifiers.math_normalize import _MATH_NAMES, normalize
from rlvr.verifiers.math_parse import ParseError, parse
from rlvr.verifiers.math_units import Unit, said_unit
from rlvr.verifiers.step_marks import _HEDGE_HINT_RE, _NEAREST_LOOSE, _NEAREST_PLACE, _SPLIT_RE, _unclaimed, _unit_word
from rlvr.verifiers.step_congruence import MOD_NOTE_RE, check_congruence, congruence, solution_work
from rlvr.verifiers.step_numbers import (PLAIN_NUMBER_RE as _PLAIN_NUMBER_RE, check_cut, check_overlap, check_remainder,
                                         cut_decimal, cut_span, exact_number, rounding_span, strict_percent)
from rlvr.verifiers.step_units import (calendar_words, check_conversion, conversion, in_other_unit, is_conversion, other_units,
                                       side_unit, temperature_links, unit_claim)
from rlvr.verifiers.timelimit import Budget
from rlvr.verifiers.verdict import Verdict

__all__ = ["RULES_VERSION", "MAX_STEPS", "MAX_SENTENCES", "split_steps", "find_claims", "verify_steps"]

#: Version of the rules above. Bump it whenever a change to this module changes what some solution
#: scores (which claims are found, how they are read, how steps are scored), so that rewards, logs and
#: env fingerprints from different rules are never mixed.
RULES_VERSION = 9  # 3: a repeated claim (however spelled) counts once, a claim computing nothing not at all;
# 4: `n = m` between two different plain numbers after text is no claim (an operation in words);
# 5: an infinite or undefined side (`1/0`) fails its claim, a clock time (`10:30`) makes no claim, a
# decimal's written places are part of a repeated claim (`0.333` vs `0.3330`), every line is split
# into sentences (not within maths, nor after a factorial), the first 200 lines are read (at most
# 800 sentences); 6: claims in alignment environments (`&=`, rows after `\\`), with spacing commands
# around `=` or a `\tag`/`\checkmark` after them are read, a line or row starting with `=` continues the
# chain before it (only a row's main chain, from a side that is all of its end, no word after it; not over a label or
# text), LaTeX spaces are spaces everywhere, an `&` not at a relation starts a column, a link between
# units of one dimension is a conversion (checked exactly; a unitless side in a chain naming two
# such units holds in either), one number in another system of its quantity (degrees and radians,
# two currencies) is no claim, other units compare by their numbers, `a = b \pmod{n}` between
# integers is checked as a congruence (n < 2^64), by remainders when a power is too large to build (another
# side with a modulus note is no claim), `\equiv` splits chains, and an exactly true claim respelled
# with trailing zeros (`1/4 = 0.250`) is the same claim; 7: a decimal cut off with "..." or "…"
# (`20/3 = 6.666...`) holds when the value begins with its digits or they are a rounding of it (one
# claim per other side, no credit against a plain number), a division with a remainder
# (`17 / 5 = 3 remainder 2`) is checked as a = q*b + r (no credit for q = 0 or b = 1), a modulus below
# 2 makes no claim, a chain the text rejects ("3 + 4 = 8 is wrong." ending its clause, "not true that",
# not negated; a question that opens with an asking word and is answered no: "Is 3 + 4 = 8? No.") is no claim,
# a link hedged as a rounding ("= 0.67 (rounded)", "= about 3.3") and an `\approx` link to a plain number
# are checked as plausible (within one unit of its last significant digit), a plain unit word on a left
# side is read in a conversion (`5 kg = 5000 grams`), a conversion between units of no whole rate may be
# rounded or cut off (`1 mile = 1.609 km`), a calendar link in plain words that fails is no claim, and
# an ellipsis inside a longer side is dropped; then (third review) an approximate link after rounded
# inputs may hold by its chain's first exact side, one with a magnitude or percent word is no claim, one
# computing nothing earns nothing and one that holds is keyed by its left side (said before when
# restated), only a question answered no withdraws its chain (any other answer asserts it), and a rounded conversion of one significant digit is no
# claim (trailing zeros of an integer are not significant) (unreleased: still 7); 8: a row or line going on
# with an expression the one before left unfinished (`120 + 45 + 30`, then `+ 15 = 210`) and a side with a
# spaced "..." between terms (`1 + 2 + ... + 10 = 55`) make no claim of that first link, rounding hedges
# "approx" (no dot), "rounding" (not "rounding error"), "(to the) nearest <place or unit>" are read, and a
# claim with an inline quotient of two numbers in scientific notation (`4.5 \times 10^6 / 1.5 \times 10^3`)
# holds by either reading, strict or the quotient of the two (unreleased: still 8; nothing goes on across a
# blank line, from a closed display, into a sure bullet, or from an operator ending a label: "Step 2 -";
# second review: a line opening with Markdown emphasis, `**Step 1:**`, goes on from nothing, a continued
# line or row's first link is claimed as the whole expression when it can be joined safely (`120 + 45 + 30
# + 15 = 211` fails), "nearest" before a prose word and "rounding wrong/off by" hedge nothing, and the
# grouped scientific reading starts only at a free-standing number; third review: "rounded off to two
# decimal places" hedges again (only "off by" and "is/was off" own up), a row or line opening with a sign
# stuck to a number after a finished equation (`7 = 3 + 4`, then `-2 = 3 - 5`) is a new claim, a last side
# begun before the window read is not joined, a product or quotient ending a line after a sum (`120 + 45 +
# 30 /`) is no claim, a numbering label "(2)" is no factor of the joined side and `*2` opening a line goes on
# as a product, a running total (`= 195`, then `+ 15 = 210`) and a line going on with no link (`+ 30`)
# are joined, and bold markers are no part of a side; fourth review: an ambiguous continuation is checked
# by every plausible reading and fails only when none holds: a product or quotient after a sum outside
# brackets (`120 + 45 + 30 /`, then `3 = 65`) by precedence or of the whole sum, a sign stuck to a number
# after an unfinished sum (`12 + 8`, then `-3 + 5 = 2`) or a `+ ` line after a running total in a list of
# them joined or alone; row breaks are no part of a joined sum, a row or line going on with no link
# carries the joined sum to the next (`+ 15 = 210`, `= 200`), a running total with a unit (`= \$12`, then
# `+ \$3 = \$15`) is no claim, and a spaced `**` between operands is a power)
# 9: a question answered "No doubt." / "Not surprisingly" is asserted (a no-word opening the answer, "not"
# included, denies unless it opens an affirming phrase), a rejection after a chain is none when a negation,
# a question word or another subject saying so governs it ("I don't think that's wrong", "Bob thinks that's
# wrong"; not "oops, didn't carry, that's wrong"), nor "is wrong" after a negation or another subject
# ("= 13 means Bob is wrong"; not "= 8 red apples is wrong"), an em dash before a word ends a
# chain, a link between two temperature scales (`0°C = 32°F`) is no claim, nor the crossing link of a
# conversion formula, and a bare four-digit "2023: " before a computation (`2023: 3 \times 4 = 12`; not
# `12: 4 \times 3 = 9`) opening a step is a label

#: Lines read per solution; steps on later lines that state an equality fail unread (see the module
#: docstring).
MAX_STEPS = 200
#: Steps (sentences) read per solution at most, whatever its lines: bounds the work on few long lines.
MAX_SENTENCES = 4 * MAX_STEPS
_MAX_CLAIMS = 400
#: Tokens read on each side of an '=': a claim's side is a few words next to it; a longer run is not
#: read (reading every run in full would cost time quadratic in the length of a line).
_MAX_SIDE_WORDS = 40

#: Where a sentence ends within a line: after ".", "!" or "?" and spaces, before a capital, "\\" or "$".
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\$])")
_CALC_RE = re.compile(r"<<([^<>=]+)=([^<>]+)>>")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
#: The arguments of a function call (`\\max(3,100)`, `\\gcd(12, 180)`, `f(1,000)`): a comma there
#: separates arguments, never thousands.
_CALL_ARGS_RE = re.compile(r"(?:\\[A-Za-z]+|\b[A-Za-z]+)\s*\(([^()]*)\)")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s+")
_LABEL_RE = re.compile(
    r"^\s*(?:[*_]{1,2})?(?:[A-Za-z]+\.?\s*\d+[a-z]?\s*(?:[*_]{1,2})?\s*:(?=\s|[*_]|$)"
    r"|(?:step|stage|part)\s*\d+[a-z]?\s*(?:[*_]{1,2})?\s*[:.)-]|\d{1,3}[.)](?=\s)|[-*•](?=\s)"
    r"|\(?[a-z]\)(?=\s)|#\d+[:.)]?(?=\s)"
    r"|\d{4}:(?:[*_]{1,2})?(?=[ \t][^=\n]*=)(?![^\n]*\d[ \t]*:[ \t]*\d)"  # `2023: 3 × 4 = 12`; not `3: 1 = 6: 2`
    r"(?=[ \t][-+]?[^=\n]*?[\w)}\]][ \t]*(?:[-+*×·÷/^]|\\(?:times|cdot|div)(?![A-Za-z]))))"  # not `12: 4 = 3`
    r"\s*(?:[*_]{1,2}(?=\s))?", re.IGNORECASE)
# markdown emphasis and code: backticks, and "**", "__" or "*" opening a word (after a space) or closing
# one (before a space or punctuation); "2 ** 3", "2**3" and "3 * 4" are maths, and so is a star between
# an operand's end and an operand's start ("3 *4", "(2) **3"), see `_is_product`
_EMPHASIS_RE = re.compile(r"`+|(?<!\S)(?:\*\*|__|\*)(?=[^\s*_])|(?<=[^\s*_])(?:\*\*|__|\*)(?=[\s.,;:!?)\]]|$)")
_OPERAND_END = frozenset("0123456789)]}")
_OPERAND_START = frozenset("0123456789([{\\abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CURRENCY_RE = re.compile(r"\\?[$€£¥](?=\s?-?\.?\d)|(?<=\d)\s?[€£¥]")
_LINK_RE = re.compile(r"(=|\\approx(?![A-Za-z])|≈|\\simeq(?![A-Za-z])|≃|≅|\\cong(?![A-Za-z]))")
_OPEN, _CLOSE = "([{", ")]}"
#: LaTeX that lays equations out or labels them and states nothing: the markers of display and
#: alignment environments, `\\tag{1}`, `\\label{eq}`, `\\nonumber`, `\\checkmark`, and `&`, an aligned
#: row's alignment point (`3 \\cdot 4 &= 12`; an `&` that starts a column is a split, `_columns`).
_LAYOUT_RE = re.compile(
    r"\\(?:begin|end)\s*\{(?:align|aligned|alignat|alignedat|flalign|eqnarray|gather|gathered|split|multline"
    r"|equation|displaymath|math)\*?\}(?:\s*\{\d+\})?"
    r"|\\(?:tag\*?|label)\s*\{[^{}]*\}|\\(?:checkmark|nonumber|notag)(?![A-Za-z])|(?<!\\)&")
#: A row break with what may follow it, `*` and a length (`\\\\[4pt]`, `\\\\*[1ex]`: not a `\\[` display
#: opener), and LaTeX's small spaces (`\\;` `\\,` `\\:` `\\>` `\\ ` `\\!`, the named ones). Matched in one pass
#: from the left, so the backslash of a row break never starts a space (`\\\\;` is a break, then `;`).
_LENGTH = r"[-+]?\s*+(?:\d+(?:\.\d*)?|\.\d+)\s*+(?:pt|pc|in|bp|cm|mm|dd|cc|sp|em|ex|mu|px)"
_SPACE_RE = re.compile(rf"\\\\\*?(?:\s*+\[\s*+{_LENGTH}\s*+\])?|\\[,;:> !]"
                       r"|\\(?:thinspace|medspace|thickspace|enspace|enskip)(?![A-Za-z])")
#: Three digits after a space between digit groups (`10\\,000`): a thousands separator, as `normalize` reads it.
_DIGIT_GROUP_RE = re.compile(r"\d{3}(?!\d)")
#: A relation after an `&` (spaces aside): the `&` is that relation's alignment point (`12 &= 3 \\cdot 4`).
_RELATION_AFTER_RE = re.compile(
    r"\s*+(?:[=<>≤≥≠≈≡≃≅]|\\(?:approx|simeq|cong|equiv|leq?|geq?|lt|gt|neq?|ll|gg|leqslant|geqslant|sim|propto)"
    r"(?![A-Za-z]))")
_AMPERSAND_RE = re.compile(r"(?<!\\)&")
#: A run of spaces and wide spaces (`\\quad`, `\\qquad`): next to an `=` such a run is only space
#: (`3 \\cdot 4 \\quad=\\quad 12`), where `_SPLIT_RE` would cut at its `\\quad`. Runs are matched whole,
#: left to right: linear in a line.
_GAP_RE = re.compile(r"(?:\s|(?<!\\)\\q?quad(?![A-Za-z]))+")
#: A step that starts with `=` (maths delimiters aside) continues the chain of the step before it.
_CONTINUES_RE = re.compile(r"\s*+(?:\$\$?|\\[\[(])?\s*+=(?!>)")
#: A step that passes the chain before it on: it starts with `=` or is nothing but maths delimiters,
#: row breaks and layout (`$$`, `\\]`, `\\begin{aligned}`), once layout is off; any other text (a label
#: "Step 2:", a rule `---`) ends that chain.
_PASSES_RE = re.compile(r"(?:\s|\$|\\[\[\]()]|\\\\)*+(?:=|$)")
#: A maths delimiter `\\[` `\\]` `\\(` `\\)` left in a piece (`_math_pieces` cuts at pairs): its pair is on
#: another line, and it is no part of the claim beside it (`3 + 4 = 8 \\]` on a display's last line).
_LONE_DELIMITER_RE = re.compile(r"\\[\[\]()]")
_CONTENT_RE = re.compile(r"[^\W_]")
#: A clock time ("10:30"): the parser would read it as the ratio 10/30, which no claim means.
_CLOCK_RE = re.compile(r"(?<![\d.:])\d{1,2}:\d\d(?!\d)")
_WORD_RE = re.compile(r"[A-Za-z]{2,}(?:['’-][A-Za-z]+)*")
_ARTICLES = {"a", "A", "I"}
# words that are part of a number ("10 percent", "5 thousand"), not prose around it
_NUMBER_WORDS = {"percent", "hundred", "thousand", "million", "billion", "trillion", "dozen"}
# a word right before a side's run that makes the run an operand of an operation written in words
_OPS_BEFORE = {"and", "twice", "thrice", "half", "double", "triple", "times", "by", "plus", "minus", "over",
               "than", "mod", "modulo", "\\bmod", "\\mod", "from", "squared", "cubed"}
_OF_OK = {"value", "result", "answer", "total", "cost", "price", "outcome", "output", "calculation"}
_TO_OK = {"equal", "equals", "up", "comes", "amounts", "simplifies", "reduces", "leads"}
#: "to the nearest ..." after a right side: a rounding remark (`step_marks`), not an operation in words.
_TO_NEAREST_RE = re.compile(rf"\(?to\s+(?:the\s+)?nearest\s+(?:{_NEAREST_PLACE}|{_NEAREST_LOOSE})", re.IGNORECASE)
_OPS_AFTER = {"times", "plus", "minus", "divided", "over", "squared", "cubed", "mod", "modulo",
              "\\bmod", "\\mod", "of", "factorial", "to", "raised", "choose"}


def _lines(text: str) -> list[tuple[int, str]]:
    """All steps of a solution (no cap), each with the number of its line (from 0): the sentences
    of each of its lines, in order, so that a line more or less above them ("Solution:") does not
    change how a paragraph is scored."""
    return [(number, s.strip()) for number, line in enumerate(text.splitlines())
            for s in _sentences(line) if s.strip()]


def _sentences(line: str) -> list[str]:
    """`line` cut into sentences (`_SENTENCE_END_RE`), except within maths (`$…$`, `\\(…\\)`)
    and after a factorial (`3! \\cdot 2 = 12`, where `!` ends no sentence)."""
    cuts = []
    for match in _SENTENCE_END_RE.finditer(line):
        mark = match.start() - 1  # the `.`, `!` or `?`
        if line[mark] == "!" and mark and (line[mark - 1].isdigit() or line[mark - 1] in ")}") \
                and line[match.end()] == "\\":
            continue
        if line[match.end()] == "\\" and _ellipsis_kept(line, match.start() - 3):
            continue  # `6.666... \\text{ m}`, `6.666... \\approx 6.67`: a decimal cut off, not a sentence's end
        if line[mark] == "." and _ellipsis_in_expression(line, mark - 2):
            continue  # `1 + 2 + ... \\cdot`: the terms left out of an expression, not a sentence's end
        cuts.append(match)
    if not cuts:
        return [line]
    spans = iter(_maths_spans(line))  # (in order, as the cuts are: one pass over both)
    span = next(spans, None)
    pieces, start = [], 0
    for match in cuts:
        while span is not None and span[1] <= match.start():
            span = next(spans, None)
        if span is None or match.start() <= span[0]:  # not within maths
            pieces.append(line[start:match.start()])
            start = match.end()
    return pieces + [line[start:]]


_MATHS_DELIMITER_RE = re.compile(r"\\[()]|(?<!\\)\$\$?")


def _maths_spans(line: str) -> list[tuple[int, int]]:
    """Where `line`'s maths is, in order: from a `$` (or `$$`) to the next one, or `\\(` to `\\)`."""
    spans, opened = [], None
    for match in _MATHS_DELIMITER_RE.finditer(line):
        token = match.group()
        if opened is None:
            if token != "\\)":
                opened = (match.start(), "\\)" if token == "\\(" else token)
        elif token == opened[1]:
            spans.append((opened[0], match.end()))
            opened = None
    return spans


def _read(steps: list[tuple[int, str]]) -> list[bool]:
    """For each step, whether it is read: it is on one of the first `MAX_STEPS` lines and among the
    first `MAX_SENTENCES` steps."""
    return [number < MAX_STEPS and index < MAX_SENTENCES for index, (number, _) in enumerate(steps)]


def _parts(solution: str | Sequence[str]) -> list[str]:
    """`verify_steps`'s solution as its list of parts: a text is one part, a list or tuple of texts
    is its parts; anything else (not model text) is no part."""
    if isinstance(solution, str):
        return [solution]
    if isinstance(solution, (list, tuple)) and all(isinstance(part, str) for part in solution):
        return list(solution)
    return []


def _parts_steps(parts: list[str]) -> list[tuple[str, bool, bool, int]]:
    """Every step of every part, in order, each with whether it is read (`_read`, within its own
    part: the lines and sentences are counted from the start of each part), whether it is its
    part's first (where no chain of an earlier part goes on), and the number of its line."""
    out: list[tuple[str, bool, bool, int]] = []
    for part in parts:
        steps = _lines(part)
        out += [(step, read, i == 0, number) for i, ((number, step), read) in enumerate(zip(steps, _read(steps)))]
    return out


def split_steps(text: str) -> list[str]:
    """Steps of a solution that are read: the sentences of its first `MAX_STEPS` lines, at most
    `MAX_SENTENCES` of them."""
    steps = _lines(text)
    return [step for (_, step), read in zip(steps, _read(steps)) if read]


#: A quotient of two numbers in scientific notation written inline (`4.5 \\times 10^6 / 1.5 \\times 10^3`):
#: by strict precedence it is 4.5 * 10^6 / 1.5 * 10^3, but it is mostly meant as the quotient of the two
#: numbers. A claim with one is judged both ways (`_sci_grouped`): it holds when either reading does.
#: Only free-standing numbers are grouped: not one that is a power's base or exponent, a subscript or
#: part of a name or a command's argument (`2^2 \\times 10^3`, `x2`, `\\frac{2 \\times ...`), nor a second
#: one raised to a power or with a factorial after it; so a grouped reading computes the same powers as
#: the strict one, and costs no more (`_EXPONENT_BEFORE_RE` looks past spaces and an opening brace).
_SCI = r"(?<![\d.^_{\\A-Za-z])\d++(?:\.\d++)?+\s*+(?:\\times|\\cdot|×|·|\*)\s*+10\s*+\^\s*+(?:\{\s*+[-+−]?\s*+\d++\s*+\}|[-+−]?\d++)"
_SCI_QUOTIENT_RE = re.compile(rf"({_SCI})\s*(/|÷|\\div(?![A-Za-z]))\s*({_SCI})(?!\s*[\^_!]|\.\d)")
_EXPONENT_BEFORE_RE = re.compile(r"[\^_]\s*(?:\{\s*)?(?:[-+−(]\s*)*$")


def _sci_grouped(side: str) -> str | None:
    """`side` with each inline quotient of two numbers in scientific notation bracketed as the quotient of
    the two numbers (`(4.5 \\times 10^6) / (1.5 \\times 10^3)`): the other reading of it than strict
    precedence's. None when it has no such quotient."""
    if "10" not in side:
        return None
    grouped = _SCI_QUOTIENT_RE.sub(lambda m: m.group() if _EXPONENT_BEFORE_RE.search(side[max(0, m.start() - 12):m.start()])
                                   else f"({m.group(1)}) {m.group(2)} ({m.group(3)})", side)
    return grouped if grouped != side else None


def _reading(s: str) -> str | None:
    """"number" when `s` is a checkable numeric expression, "symbolic" when it is one with variables;
    None for anything else, a clock time among it included (`3:00 + 2 = 5:00` is no ratio)."""
    s = s.strip()
    if not s or _CLOCK_RE.search(s):
        return None
    strict = strict_percent(s)
    if strict is None:
        return None
    try:
        tree = parse(strict)
        if tree[0] in ("list", "rel", "set", "seq", "union"):
            return None
        symbolic = has_symbols(tree)
    except (ParseError, RecursionError):  # "1 1 1 ... 1" nests one product per number
        return None
    if symbolic:
        return "symbolic"
    return "number" if re.search(r"\d", s) else None


def _parses(s: str) -> bool:
    return _reading(s) == "number"


def _bare(token: str) -> str:
    return token.strip("\"'“”‘’()[],.:;!?")


def _is_word(token: str) -> bool:
    """An English word next to an equation ("The total is 3 + 4"), as opposed to a variable."""
    bare = _bare(token)
    if bare.lower() in _NUMBER_WORDS:
        return False
    return bool(_WORD_RE.fullmatch(bare)) and (bare.lower() not in _MATH_NAMES or bare.lower() in ("and", "or"))


def _is_word_at(words: list[str], i: int, outward: int) -> bool:
    """`words[i]` is a word; a lone "a"/"A"/"I" is one when the next token away from the '=' (at
    `i + outward`) is an English word and the one towards it is no operator ("13 a day")."""
    if _is_word(words[i]):
        return True
    if words[i] not in _ARTICLES:
        return False
    out, inward = i + outward, i - outward
    if not 0 <= out < len(words) or not _is_word(words[out]):
        return False
    return not (0 <= inward < len(words) and words[inward][:1] in "+-*/^=×÷·\\")


def _partners(s: str) -> list[int]:
    """For each character of `s`, the index of the bracket that pairs with it; -1 for a bracket left
    open or closed without being opened, and for any other character. One pass: the bracket helpers
    below all read this, so each costs time linear in `s`. Any closer closes the innermost open
    bracket, whatever their kinds (`\\left( ... \\right]` is a pair)."""
    partner = [-1] * len(s)
    stack: list[int] = []
    for i, ch in enumerate(s):
        if ch in _OPEN:
            stack.append(i)
        elif ch in _CLOSE and stack:
            j = stack.pop()
            partner[i], partner[j] = j, i
    return partner


def _open_tail(s: str) -> str:
    """`s` after its last bracket left open or closed without being opened: the left side of
    `(3 * 4 = 13)` or of `\\text{ and } 5 + 5 = 11`."""
    partner = _partners(s)
    cut = next((i for i in range(len(s) - 1, -1, -1) if partner[i] < 0 and (s[i] in _OPEN or s[i] in _CLOSE)), -1)
    return s[cut + 1:]


def _closed_head(s: str) -> str:
    """`s` up to its first bracket closed without being opened: the right side of `(3 * 4 = 13)`."""
    partner = _partners(s)
    cut = next((i for i, ch in enumerate(s) if ch in _CLOSE and partner[i] < 0), len(s))
    return s[:cut]


def _unwrapped(s: str) -> str:
    """`s` without the bracket pairs, `(...)` or `[...]`, around the whole of it: "(3 * 4 = 13)"."""
    partner = _partners(s)
    i, j = 0, len(s) - 1
    while i < j and s[i] in "([" and partner[i] == j and s[j] == ")]"[s[i] == "["]:
        i, j = i + 1, j - 1
        while i <= j and s[i].isspace():
            i += 1
        while j > i and s[j].isspace():
            j -= 1
    return s[i:j + 1]


def _protected(chain: str) -> list[bool]:
    """For each character: inside a bracket pair without '=' (`\\gcd(12, 18)`), where a comma is no
    separator."""
    partner = _partners(chain)
    diff = [0] * (len(chain) + 1)
    eqs = [0]
    for ch in chain:
        eqs.append(eqs[-1] + (ch == "="))
    for i, j in enumerate(partner):
        if i < j and eqs[i] == eqs[j]:  # an opener whose pair holds no '='
            diff[i] += 1
            diff[j] -= 1
    out, depth = [], 0
    for d in diff[:-1]:
        depth += d
        out.append(depth > 0)
    return out


def _is_product(s: str, start: int, end: int) -> bool:
    """`s[start:end]`, a run of stars, is multiplication (or Python's power): it stands between an
    operand's end and an operand's start, spaces aside ("3 *4", "(2 + 1) *x"), so it is no emphasis.
    Scans only the spaces next to it: linear in all over a line."""
    if not s[start:end].startswith("*"):
        return False
    i, j = start - 1, end
    while i >= 0 and s[i].isspace():
        i -= 1
    while j < len(s) and s[j].isspace():
        j += 1
    return i >= 0 and j < len(s) and s[i] in _OPERAND_END and s[j] in _OPERAND_START


def _droppable(token: str) -> bool:
    """Punctuation, a check mark, a LaTeX spacing command or an abbreviation next to a claim ("i.e.",
    "e.g", "✓", `\\;` before a `\\checkmark`), never a number, operator or variable."""
    return bool(re.fullmatch(r"[:;,.!?\"'“”‘’✓✔]+|(?:[A-Za-z]\.)+[A-Za-z]\.?|\\(?:[;,:!]|q?quad)", token))


def _run_piece(run: list[str], outer: int) -> tuple[str | None, str]:
    """The reading (see `_reading`) of a side's run of tokens read as a whole, and its text. When
    the whole does not read, punctuation or abbreviations at its outer end (`outer` 0: the start of
    a left side, -1: the end of a right side) are dropped, never a number: "i.e. 3 + 4 = 7"."""
    def text(tokens: list[str]) -> str:
        piece = " ".join(tokens).strip(" ,;:")
        if outer == 0:
            return piece
        end = len(piece.rstrip(".?"))  # "3 * 4 = 13?"
        return piece[:end + _ellipsis_kept(piece, end)]  # (but `6.666...`: a decimal cut off)

    piece = text(run)
    reading = _reading(piece)
    if reading is None:
        k = 0
        while k < len(run) - 1 and _droppable(run[k if outer == 0 else len(run) - 1 - k]):
            k += 1
        if k:
            piece = text(run[k:] if outer == 0 else run[:len(run) - k])
            reading = _reading(piece)
    return reading, piece


def _left_side(part: str, unit_word: bool = False) -> str | None:
    """The left side of the first '=' of a chain: the run of tokens before it up to an English word,
    read as a whole; None when it is no number or an operation written in words takes it as an
    operand (see the module docstring). With `unit_word`, a last word that names a unit is part of the
    run (`5 kg = 5000 grams`; `_chain_claims` keeps such a side only in a conversion)."""
    tail = _open_tail(part)
    tail_words = tail.split()
    words = tail_words[-(_MAX_SIDE_WORDS + 1):]
    j = len(words)
    if unit_word:
        if not (j > 1 and _is_word(words[-1]) and _unit_word(words[-1])):
            return None
        j -= 1
    while j > 0 and not _is_word_at(words, j - 1, -1):
        j -= 1
    run = words[j:]
    if len(run) > _MAX_SIDE_WORDS:
        return None  # a run longer than a side is read: never cut down
    reading, piece = _run_piece(run, 0)
    if reading != "number":
        return None  # a variable ("x + 1 = 4"), or a run that cannot be read as a whole
    if j > 0:
        before = _bare(words[j - 1]).lower()
        prev = _bare(words[j - 2]).lower() if j > 1 else ""
        if before in _OPS_BEFORE or (before == "of" and prev not in _OF_OK) or (before == "to" and prev not in _TO_OK):
            return None  # "Half of 10 = 5", "Twice 4 = 8": the operation is in words
    # the words before the run in the same chain, the text before a bracket left open included: a
    # number there makes the run an operand of an operation written in words, whatever its words
    before = (part[:len(part) - len(tail)].split() + tail_words[:len(tail_words) - len(run)])[-_MAX_SIDE_WORDS:]
    if any(re.search(r"\d", w) for w in before):
        return None  # "3 tickets at 4 = 12", "10 choose 2 = 45", "7 less 3 = 4"
    return piece


def _right_side(part: str) -> tuple[str | None, bool]:
    """The right side of the last '=' of a chain: the run of tokens after it up to the first English
    word, read as a whole (`3 * 4 = 13 apples in 2 days` states `13`; `= 12 5 6` is never `12`);
    None when it is no number ("= 2x + 1") or an operation in words follows it ("12 = 3 times 4").
    With it, whether the side is all of `part`, no word after it: only such a side ends a chain that
    a row starting with `=` may continue (not `2` in `= 4 + 1 (x = 2)`, nor `13` above, nor `40` in
    `= 40 dollars per day`, after which `= 40 * 5` starts the next computation)."""
    head = _closed_head(part)
    words = head.split()[:_MAX_SIDE_WORDS + 1]
    k = 0
    while k < len(words) and not _is_word_at(words, k, +1):
        k += 1
    if k > _MAX_SIDE_WORDS:
        return None, False  # a run longer than a side is read: never cut down
    reading, piece = _run_piece(words[:k], -1)
    if reading != "number":
        return None, False  # a variable ("= 2x + 1"), or a run that cannot be read as a whole
    if k < len(words) and _bare(words[k]).lower() in _OPS_AFTER and not _TO_NEAREST_RE.match(" ".join(words[k:k + 6])):
        return None, False  # "12 = 3 times 4": the operation is in words (not "= 0.67 to the nearest hundredth")
    # only a side with nothing after it is carried on: after `= 40 dollars per day` a row `= 40 * 5`
    # is the next computation, not a claim that 40 dollars a day is 200 (words end the chain)
    return _with_unit(piece, words, k), len(head) == len(part) and k == len(words)


def _with_unit(piece: str, words: list[str], k: int) -> str:
    """The text of a right side: its run `piece` (`words[:k]`), with the words after it when they
    end the side and the maths normaliser reads them as the run's unit (`= 7 apples`, `= 20 square
    meters`), so that the claim reads as written; the value checked is the run's either way."""
    if not k < len(words) <= _MAX_SIDE_WORDS or not all(_is_word_at(words, i, +1) for i in range(k, len(words))):
        return piece
    whole = " ".join(words).strip(" ,;:").rstrip(".?")
    try:
        return whole if normalize(whole) == normalize(piece) else piece
    except Exception:  # noqa: BLE001 - the run alone is the side; its text only reads better with a unit
        return piece


_OPENERS = {"$$": r"\$\$", "\\(": r"\\\(", "\\[": r"\\\[", "$": r"(?<!\\)\$(?=[^\s$])"}
_CLOSERS = {"$$": re.compile(r"\$\$"), "\\(": re.compile(r"\\\)"), "\\[": re.compile(r"\\\]"),
            "$": re.compile(r"(?<=[^\s\\])\$(?!\d)")}
_ANY_OPENER_RE = re.compile("|".join(_OPENERS.values()))


def _math_pieces(step: str) -> list[str]:
    """`step` cut at its maths delimiters: the maths segments and the text between them, in order.

    `$` follows Markdown/pandoc: an opening `$` is followed by a non-space, a closing one follows a
    non-space and is not followed by a digit, so "$20 and $30" is money, not maths."""
    pieces: list[str] = []
    kinds = list(_OPENERS)
    openers = _ANY_OPENER_RE  # narrowed when an opener of some kind is never closed
    start = search = 0
    while kinds:
        m = openers.search(step, search)
        if m is None:
            break
        c = _CLOSERS[m.group()].search(step, m.end())
        if c is None:  # nothing closes it, nor any later opener of its kind: one linear pass in all
            kinds.remove(m.group())
            openers = re.compile("|".join(_OPENERS[k] for k in kinds)) if kinds else openers
            search = m.start() + 1
            continue
        pieces += [step[start:m.start()], step[m.end():c.start()]]
        start = search = c.end()
    pieces.append(step[start:])
    return pieces


def _without_end_punctuation(s: str) -> str:
    """`s` without its trailing ".", "?" and "!", except a "!" right after a digit or a closing
    bracket, which is a factorial (`120 = 5!`, `6 = (2 + 1)!`): "3 * 4 = 13?!" states `3 * 4 = 13`."""
    end = len(s)
    while end and s[end - 1] in ".?!":
        end -= 1
    end += _ellipsis_kept(s, end)
    bangs = len(s[end:]) - len(s[end:].lstrip("!"))
    if bangs and end and s[end - 1] in _OPERAND_END:
        end += bangs
    return s[:end]


_DECIMAL_END_RE = re.compile(r"(?<![\d.])\d*\.\d+$")


def _ellipsis_kept(s: str, end: int) -> int:
    """3 when the dots stripped from `s` at `end` start with "..." right after a decimal: a decimal cut
    off (`6.666...`, see `step_numbers.cut_decimal`), whose ellipsis is part of the number, not the
    end of a sentence; else 0."""
    return 3 if s.startswith("...", end) and _DECIMAL_END_RE.search(s, max(0, end - 60), end) else 0


#: A binary operator sign (`-` and `+` may also be a number's sign; `*` a Markdown bullet or emphasis).
_BINARY_OP = r"(?:[-+−*/×·÷]|\\(?:cdot|times|div|pm|mp)(?![A-Za-z]))"
#: An operator sign before an ellipsis, or one after it (not `-`, which may be a number's sign).
_OP_BEFORE_DOTS_RE = re.compile(rf"{_BINARY_OP}\s*$")
_OP_AFTER_DOTS_RE = re.compile(r"\s*(?:[+*/×·÷]|\\(?:cdot|times|div|pm|mp)(?![A-Za-z]))")


def _ellipsis_in_expression(s: str, start: int) -> bool:
    """Whether `s[start:]` starts with "..." standing for terms left out of an expression: between two
    operator signs (`1 + 2 + ... + 10`), or after a number and before a sign other than `-` (`1 + 2 + 3 ...
    + 10`), spaces aside. Such an ellipsis ends no sentence or chain: the side around it reads as no number,
    where a cut there left the claim `+ 10 = 55`. A word or a number after "op ..." is a restart, and the
    ellipsis ends the sentence as ever (`25 * 4 + ... Actually 25 * 4 = 90`, `5 + 6 + ... 5 + 6 = 12`)."""
    if start < 0 or not s.startswith("...", start) or s.startswith(".", start + 3):
        return False
    before = s[max(0, start - 20):start]
    if _OP_BEFORE_DOTS_RE.search(before):  # (`-` may follow here: `1 - 2 + ... - 100`)
        return _OP_AFTER_DOTS_RE.match(s, start + 3) is not None or s[start + 3:start + 5].lstrip()[:1] in ("-", "−")
    return before.rstrip()[-1:].isdigit() and _OP_AFTER_DOTS_RE.match(s, start + 3) is not None


#: Layout at the end of a row or line (spaces, a row break, maths delimiters, `&`, `\\quad`), and at its
#: start: none of it is part of an expression broken there.
_TRAILING_LAYOUT_RE = re.compile(r"(?:\s|\\\\|\$|\\[\])]|&|\\q?quad(?![A-Za-z]))+$")
_LEADING_LAYOUT_RE = re.compile(r"(?:\s|\\\\|\$|\\[\[(]|&|\\q?quad(?![A-Za-z]))*+")
#: A row or line that ends with a binary operator after an operand (`120 + 45 +`): the expression goes on
#: in the next one. (Not `*`: a Markdown emphasis ends with one; not after a word, `well-`, nor `---`.)
_ENDS_WITH_OP_RE = re.compile(r"(?:[\d)\]}!]|(?<![A-Za-z\\])[A-Za-z])\s*(?:[-+−/×·÷]|\\(?:cdot|times|div|pm|mp))$")
#: A row or line that starts with a binary operator sign (`+ 15 = 210`, `- 15`, `\\times 2`).
_STARTS_WITH_OP_RE = re.compile(_BINARY_OP)
#: Markdown emphasis opening a line (`**Step 1:**`, `**3 * 4 = 12**`, `*Apples:*`): `**`, or `*` right before
#: a letter; no multiplication sign (`*2 = 24` after `3 * 4` is `3 * 4 * 2 = 24`).
_EMPHASIS_START_RE = re.compile(r"\*(?:\*|(?=[A-Za-z]))")
#: A `*` opening a line right before a number or bracket: a product going on (`_all_claims` keeps it).
_STAR_PRODUCT_START_RE = re.compile(r"\s*\*(?=\s*[\d(])")
#: Bold markers around a line's words (`**Total = 120 + 45 + 30**`): no part of its expression. Not `**`
#: between two operands, spaced or not (`2**3`, `2 ** 3`: a power; `_unbolded`).
_BOLD_RE = re.compile(r"(?<!\S)(?:\*\*|__)|(?:\*\*|__)(?!\S)")
_POWER_BEFORE_RE = re.compile(r"[\d)\]}A-Za-z]\s*$")
_POWER_AFTER_RE = re.compile(r"\s*[-+−]?[\d(\[{.\\A-Za-z]")


def _unbolded(s: str) -> str:
    """`s` with its bold markers (`_BOLD_RE`) as spaces, a `**` between two operands (`2 ** 3`) kept."""
    def bold(m: re.Match) -> str:
        if m.group() == "**" and _POWER_BEFORE_RE.search(s, max(0, m.start() - 40), m.start()) \
                and _POWER_AFTER_RE.match(s, m.end()):
            return m.group()
        return " "
    return _BOLD_RE.sub(bold, s)
#: A numbering label opening a line (`(2) `, `2) `, `2. `): no factor of the expression after it.
_NUMBER_LABEL_RE = re.compile(r"^\s*(?:\(\d{1,3}\)|\d{1,3}[.)])\s+")
#: A sign stuck to a number (`-12`, `+2`): the start of a negative number more than an operator.
_STUCK_SIGN_RE = re.compile(r"[-+−](?=\.?\d)")
#: A relation between sides, to split a row into its sides (`_finished`).
_RELATION_RE = re.compile(r"[=<>≤≥≈]|\\(?:approx|leq?|geq?)(?![A-Za-z])")
#: How much of the text before a row or line `_goes_on` reads: a last side begun before that is not seen
#: whole, and nothing is joined to it.
_GOES_ON_WINDOW = 600
#: The number alone before the first `=` of a row going on with `- ` (`&- 15 = 180`, `_goes_on`).
_LONE_TERM_RE = re.compile(r"\s*(?:\d+(?:\.\d*)?|\.\d+)\s*=")
#: A side that may be joined with the fragment going on from it (`_joined`): numbers, brackets, powers,
#: operator signs and `\\frac`; no word, unit, currency or thousands comma.
_JOINABLE_RE = re.compile(r"(?:[\d\s.+\-−*/×·÷()\[\]{}^]|\\(?:times|cdot|div|d?frac|left|right)(?![A-Za-z]))+")
#: An additive sign or `\\pm` after an operand: a product or quotient going on after a sum with one
#: outside all brackets (`120 + 45 + 30`, then `\\times 2`) could be meant of the whole sum (`_top_additive`).
_ADDITIVE_RE = re.compile(r"(?<=[\d)\]}!A-Za-z])\s*(?:[-+−]|\\(?:pm|mp)(?![A-Za-z]))")
_OPEN_CLOSE = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def _top_additive(s: str) -> bool:
    """Whether the expression `s` is a sum at its top level: an additive sign after an operand outside
    all brackets (`120 + 45 + 30`, `3 \\times 4 + 2`; not `(120 + 45 + 30)`, nor `3 \\times -2`)."""
    depth, marks = 0, []
    for ch in s:
        depth += _OPEN_CLOSE.get(ch, 0)
        marks.append(depth)
    return any(marks[m.end() - 1] == 0 for m in _ADDITIVE_RE.finditer(s))


class _OrAlone(str):
    """An expression a fragment goes on from (`_goes_on`) where the fragment may as well be read alone
    (`12 + 8`, then `-3 + 5 = 2`; a running total `= 210`, then `+ 5 = 215` in a list of `+ ` lines): the
    first side holds by either reading (`_chain_claims`)."""


class _OrGrouped(str):
    """An expression a fragment goes on from (`_goes_on`) that ends in a sum before a product or quotient
    (`120 + 45 + 30 /`, then `3 = 65`): the first side holds read by precedence or with the sum in
    brackets (`(120 + 45 + 30) / 3`, `_chain_claims`)."""


#: One number with a currency sign (group 1), a `%` (group 2) or a few words after it (group 3: `\\$12`,
#: `12 dollars`, `5 \\text{ kg}`): a running total with a unit when the words name a known unit
#: (`_unit_total`).
_UNIT_NUMBER_RE = re.compile(r"\s*(\\?[$€£¥]\s?)?-?(?:\d+(?:\.\d*)?|\.\d+)\s?(?:([€£¥%]|\\%)"
                             r"|((?:\s*(?:\\(?:text|mathrm|textrm|mbox)\s*\{[^{}]*\}|[A-Za-z]+(?:/[A-Za-z]+)?)){1,3}))?\s*")


def _unit_total(side: str) -> bool:
    """Whether the last side `side` is one number with a currency sign, a `%` or a known unit after it
    (`\\$12`, `12 dollars`, `40 km`; not `5 so`, `12 apples`: words that name no unit): a running total
    that a fragment going on from it cannot be joined to safely (`_goes_on`)."""
    m = _UNIT_NUMBER_RE.fullmatch(side)
    if m is None or not (m.group(1) or m.group(2) or m.group(3)):
        return False
    return not m.group(3) or said_unit(side.strip()) is not None


#: Between the readings of a first side that holds by either (`_chain_claims`, `_either_claim`).
_OR = " \x01 "
#: An operator sign opening a fragment that binds tighter than `+` and `-`.
_TIGHT_OP_RE = re.compile(r"\s*(?:[*/×·÷]|\\(?:cdot|times|div)(?![A-Za-z]))")
#: An operator between two operands: an expression that is more than one number (`120 + 45 + 30`).
_INFIX_RE = re.compile(rf"[\d)\]}}!A-Za-z]\s*{_BINARY_OP}\s*[\d(\[{{\\.A-Za-z]")
#: Where the last side of a row or line begins: after its last relation or colon.
_LAST_RELATION_RE = re.compile(r".*(?:[=<>≤≥≈:]|\\(?:approx|leq?|geq?)(?![A-Za-z]))", re.DOTALL)
#: A list bullet opening a line (`- 3 + 4 = 7`): the same bullet on the line before makes it a list item.
_BULLET_RE = re.compile(r"\s*([-+*•])\s")
#: A line that opens with a sure list bullet: `*` and a space, or `-`/`+`, a space and then maths (`- $12
#: \times 10 = 120$`: the sign is outside the maths, so no operator of it).
_LINE_BULLET_RE = re.compile(r"\s*(?:\*|[-+](?=\s+(?:\$|\\[(\[])))\s")
#: The end of a line that closes a display (`$$`, `\]`, `\end{aligned}`): what it showed is finished.
_CLOSED_DISPLAY_RE = re.compile(r"(?:\$\$|\\\]|\\end\s*\{[A-Za-z]+\*?\})\s*$")
_TRAILING_OP_RE = re.compile(rf"\s*{_BINARY_OP}$")


def _step_before(listed: tuple[str, bool, bool, int], line: int) -> str:
    """The step before (`_parts_steps`' `listed` entry), as the text a line may go on from (`_goes_on`),
    or "" when nothing goes on from it: when it was not read, when a blank line stands between (a new
    paragraph: `120 + 45 + 30`, a blank line, then `+ 15 = 211` is a claim) or when it closes a display
    (`$$12 \times 15 = 12 \times 10 + 12 \times 5$$`, then a list `- $12 \times 10 = 120$`)."""
    step, read, _, number = listed
    if not read or line - number > 1 or _CLOSED_DISPLAY_RE.search(step[-60:]):
        return ""
    return step


def _goes_on(before: str, text: str, line: bool = False) -> str | None:
    """Whether `text`, a row or a line, goes on with an expression that the row or line `before` it
    left unfinished, so that its first side is the tail of that expression, no number (`+ 15 = 210` after
    `Total = 120 + 45 + 30` is `120 + 45 + 30 + 15 = 210`): None when it does not, else the expression
    to join the fragment to (`_joined`), or "" when there is none that is safe to join. It goes on when
    `before` ends with a binary operator (`120 + 45 +`), or when `text` starts with one (layout aside: `&\\quad + 15`)
    and the last side of `before` is an expression with an operator between operands, not one number, no
    word nor full stop after it. So a line or row that starts with a negative number after a finished one
    (`3 + 4 = 7`, then `-3 + 5 = 2`) is a claim, and so is a list item after one of the same list (`- 3 +
    4 = 7` after `- 2 + 2 = 4 + 0`): continuations are told by what they continue. A sign stuck to a number
    (`-2 = 3 - 5`, a relation after it) opens a new claim after a finished equation, one with a plain number
    for a side of its last relation (`7 = 3 + 4`, `12 = 4 \\times 3`, `_finished`); a spaced one (`&- 15`)
    still goes on. A last side that is one number after `=` is a running total (`= 195`, then `+ 15 = 210`
    is `195 + 15 = 210`), but on a line a `-` after it is a list bullet as ever (`5 - 2 = 3`, then `- 3 + 4 =
    8`), and in a row only `- 15` alone goes on with it. The operator ending
    `before` counts only after an expression (`120 + 45 +`, or one operand right after a relation: `= 120
    +`), not after a label or a name ("Step 2 -", "Part (a) -", "Ages 18+", "Ca2+"). With `line` (`text`
    is a line), a line opening with a sure bullet (`_LINE_BULLET_RE`: `* 3 + 4 = 7`, `- $3 + 4 = 7$`) goes
    on only from a line ending with such an operator, a line opening with Markdown emphasis
    (`**Step 1:**`, `*Apples:*`) goes on from none, and a `-` goes on from no line closed by bold
    (`**Total = 12 + 3**`). The expression returned is the whole last side of `before` (no word before it
    in that side: `Total = 120 + 45 + 30`, or a line that is only `120 + 45 + 30`, a numbering label
    "(2)", "2." off), with the operator ending it; bold markers are no part of it. A product or quotient
    going on from a sum (`120 + 45 + 30 /`, then `3`; or `120 + 45 + 30`, then `\\times 2`) may be meant of
    the whole sum: the expression comes back as `_OrGrouped`, checked by either reading. Reads at most the last `_GOES_ON_WINDOW` characters of
    `before`: a last side begun before them is not joined."""
    window = _LAYOUT_RE.sub(" ", before[-_GOES_ON_WINDOW:])
    closed = re.search(r"(?:\*\*|__)\s*$", window) is not None  # (a line closed by bold)
    tail = _TRAILING_LAYOUT_RE.sub("", _unbolded(window))
    if not tail:
        return None
    relation = _LAST_RELATION_RE.match(tail)
    words = tail[relation.end() if relation else 0:].split()
    k = len(words)
    while k > 0 and not _is_word_at(words, k - 1, -1):
        k -= 1
    run = " ".join(words[k:])
    if relation is None:
        run = _NUMBER_LABEL_RE.sub("", run, count=1)  # `(2) 120 + 45 + 30`: the label is no factor
    seen = relation is not None or len(before) <= _GOES_ON_WINDOW  # (where the last side starts is read)
    head = run if k == 0 and seen else ""  # (a word before the run: the side is more than the run)
    if _ENDS_WITH_OP_RE.search(tail):
        body = _TRAILING_OP_RE.sub("", run)
        if _INFIX_RE.search(body) is not None or (
                bool(body) and k == 0 and relation is not None and relation.group()[-1] != ":"):
            if head and _TIGHT_OP_RE.fullmatch(run[len(body):]) and _top_additive(body):
                return _OrGrouped(head)  # `120 + 45 + 30 /`, then `3`: the quotient may be meant of the whole sum
            return head
        return None
    if line and _LINE_BULLET_RE.match(text):
        return None  # a list item
    start = _LEADING_LAYOUT_RE.match(text).end()
    op = _STARTS_WITH_OP_RE.match(text, start)
    if op is None or (line and _EMPHASIS_START_RE.match(text, start)):
        return None
    minus = op.group() in ("-", "−")
    if line and minus and closed:
        return None  # `**Total = 12 + 3**`, then `- 3 + 4 = 8`: a list item
    total = relation is not None and relation.group()[-1] == "=" and not (
        minus and (line or not _LONE_TERM_RE.match(text, op.end())))  # (what a running total needs but its side)
    bullet, bullet_before = _BULLET_RE.match(text), _BULLET_RE.match(before)
    listed = line and bullet and bullet_before and bullet.group(1) == bullet_before.group(1)
    running = total and bool(head) and _PLAIN_NUMBER_RE.fullmatch(head) is not None
    if listed and not running:
        return None  # one list's items
    stuck = _STUCK_SIGN_RE.match(text, start) is not None
    if stuck and not running and _RELATION_RE.search(text, start) and _finished(tail):
        return None  # `7 = 3 + 4`, then `-2 = 3 - 5`: a new claim
    if bool(run) and run[-1] in "0123456789)]}!" and _INFIX_RE.search(run) is not None:
        if head and _TIGHT_OP_RE.match(text, start) and _top_additive(head):
            return _OrGrouped(head)  # `120 + 45 + 30`, then `/ 3`: meant of the whole sum, or of 30
        return _OrAlone(head) if stuck and head else head  # `12 + 8`, then `-3 + 5 = 2`: a new claim, or not
    if running:
        # a running total: `= 195`, then `+ 15 = 210`; in a list of `+ ` lines, or a sign stuck to a number, it
        # may as well be a new claim (`+ 3 + 4 = 7`, then `+ 5 + 6 = 11`)
        return _OrAlone(head) if listed or stuck else head
    if total and relation is not None and _unit_total(tail[relation.end():]):
        # `Cost = \\$12`, then `+ \\$3 = \\$15`: a running total with a unit, not safely joined. Read alone the
        # fragment would claim `3 = 15`: its first side, one term, makes no claim. A first side with an
        # operation of its own (`+ 3 + 4 = 8`) is read alone, as a claim.
        first = _RELATION_RE.search(text, op.end())
        if first is not None and _INFIX_RE.search(text, op.end(), first.start()) is None:
            return ""
    return None


def _bare_row(text: str) -> str:
    """A row or line with the layout around it off (`&+ 30 \\\\` is `+ 30`): a fragment to join (`_first_side`)."""
    text = _LAYOUT_RE.sub(" ", _SPACE_RE.sub(" ", text)) if "\\" in text or "&" in text else text
    return _TRAILING_LAYOUT_RE.sub("", _LEADING_LAYOUT_RE.sub("", text, count=1))


def _run_on(before: str, text: str) -> str:
    """The text a row or line goes on from after `text` went on from `before` with no link of its own
    (`Total = 120 + 45 \\\\`, then `&+ 30 \\\\`): the two joined, the layout between them off (`Total = 120
    + 45 + 30`), so that the next one (`&+ 15 = 210`, `&= 200`) is read against the whole expression."""
    return f"{_without_trailing_layout(before)} {_bare_row(text)}"


def _without_trailing_layout(s: str) -> str:
    """`s` with its trailing layout (`_TRAILING_LAYOUT_RE`) off, reading only as much of its end as it
    takes: `_run_on` grows one joined text over many lines, and a sub over the whole of it at each line
    made 199 long `+ 1 + 1 ...` lines (2M characters) take 14 s (now 1-2 s). A run of layout that
    starts more than 6 characters (the longest layout token, `\\qquad`) into the end read is where it
    starts in the whole text too."""
    k = 64
    while k < len(s):
        stripped = _TRAILING_LAYOUT_RE.sub("", s[-k:])
        if len(stripped) > 6:
            return s[:-k] + stripped
        k *= 2
    return _TRAILING_LAYOUT_RE.sub("", s)


def _finished(tail: str) -> bool:
    """Whether the row or line `tail` ends with a finished equation: a side of its last relation is one
    plain number (`7 = 3 + 4`, `S = 1 + 2 = 3`), a label before it aside (`Row 2: 7 = 3 + 4`)."""
    sides = _RELATION_RE.split(tail)
    return len(sides) > 1 and any(
        _PLAIN_NUMBER_RE.fullmatch(side.rpartition(":")[2].strip(" $*_")) is not None for side in sides[-2:])


def _joined(head: str, part: str) -> str | None:
    """The first side of a chain going on from the expression `head` (`_goes_on`), `part` being the text
    before its first link (`+ 15` after `120 + 45 + 30`; `20` after `50 -`): the two joined (`120 + 45 +
    30 + 15`), when each is plain arithmetic (`_JOINABLE_RE`: no word, unit or currency) and the whole
    reads as a number; else None (no claim: the side is not certain)."""
    head = _without_thousands(_LEADING_LAYOUT_RE.sub("", head, count=1))
    if not head or not _JOINABLE_RE.fullmatch(head) or not _JOINABLE_RE.fullmatch(part) or not re.search(r"\d", part):
        return None
    if not _TRAILING_OP_RE.search(head) and not _STARTS_WITH_OP_RE.match(part.lstrip()):
        return None  # no operator between them (`(3 + 4)` and `15`; `- 15`, its `- ` cut off as a list bullet)
    joined = f"{head} {part.strip()}"
    return joined if _parses(joined) else None


def _first_side(fragment: str, part: str) -> str | None:
    """The first side of a chain going on from `fragment` (`_goes_on`), `part` being the text before its
    first link: the two joined (`_joined`), or, where another reading is as plausible (`_OrAlone`,
    `_OrGrouped`), both readings between `_OR` (the claim holds by either: `_either_claim`); None (no
    claim) when a reading cannot be formed safely."""
    if not fragment:
        return None
    joined = _joined(fragment, part)
    if joined is None or not isinstance(fragment, (_OrAlone, _OrGrouped)):
        return joined
    if isinstance(fragment, _OrAlone):
        other = _left_side(part)
    else:
        op = _TRAILING_OP_RE.search(fragment)
        body, sign = (fragment[:op.start()], op.group()) if op else (fragment, "")
        other = _joined(f"({body.strip()}){sign}", part)
    if other is None:
        return None
    return joined if other == joined else f"{joined}{_OR}{other}"


def _chains(piece: str) -> list[tuple[str, bool, bool, bool]]:
    """The chains of one piece of a step (see the module docstring for the separators), once
    trailing punctuation (`_without_end_punctuation`) and brackets around the whole piece are off;
    each with whether it follows text (a split at a comma, a word or a label `\\text{Total:}`, not at
    a sign), whether it starts a row (a split at a line break `\\\\`) and whether it follows a note
    separator (`\\quad`, an `&` column). Chains without an '=' are listed too, a label as one: text
    between two rows breaks a continued chain (`_all_claims`)."""
    s = _unwrapped(_without_end_punctuation(piece.strip()))
    protected = _protected(s) if "," in s or ";" in s else None
    chains, start, preceded, row, note = [], 0, False, False, False
    for m in _SPLIT_RE.finditer(s):
        if m.group("punct") and protected is not None and protected[m.start()]:
            continue
        if m.group("punct") == "." and (_ellipsis_kept(s, m.start() - 2) or _ellipsis_in_expression(s, m.start() - 2)):
            continue  # the end of `6.666... dollars` (a decimal cut off) or of `1 + 2 + ... + 10`: no sentence's end
        if m.group("and") and re.search(r"\b(?:of|between)\s+\S+\s*$", s[max(0, m.start() - 60):m.start()],
                                        re.IGNORECASE):
            continue  # "the sum of 3 and 4": one noun phrase
        chains.append((s[start:m.start()], preceded, row, note))
        if m.group("label"):
            chains.append((m.group(), False, False, False))
        start = m.end()
        # text before the next chain: a split at a comma, "and", "so"...; not at a sign (`<`, `=>`)
        preceded = m.group("punct") is not None or m.group("label") is not None or m.group()[:1].isalpha()
        row = m.group("row") is not None
        note = m.group("note") is not None
    chains.append((s[start:], preceded, row, note))
    return chains


#: A claim as it is found (`_all_claims`): its left and right sides, the unit each names (`step_units.side_unit`) and
#: the units its chain names (shared by a chain and every row continuing it, so it grows as they are
#: read; None for a claim outside any chain: a GSM8K annotation, a congruence). See `step_units.other_units`.
Claim = tuple[str, str, "Unit | None", "Unit | None", "dict[Unit, None] | None"]
#: What a row starting with `=` continues (`_chain_claims`): the last side, its unit and its chain's units.
Carry = tuple[str, "Unit | None", "dict[Unit, None]"]


def _chain_claims(chain: str, follows_text: bool = False, carried: Carry | None = None,
                  fragment: str | None = None) -> tuple[list[Claim], Carry | None]:
    """The exact links of one chain `a = b ≈ c = d`, each side read as a number or skipped, and the
    side a row continuing the chain starts from: its last side, when that is read and is all of the
    chain's end (`_right_side`), else None (no claim is better than a claim about the wrong side).

    `carried`: the last side of the chain this one continues (`_all_claims`), the left side of a
    chain that starts with `=` (`= 18` after `3 \\cdot 4 + 5 = 12 + 5` claims `12 + 5 = 18`).
    A side with a modulus note (`1 \\pmod{5}`, `MOD_NOTE_RE`) states a congruence: the links touching
    it are no equalities, the chain's other links are (`2^{10} = 1024 = 4 \\pmod{5}` claims
    `2^{10} = 1024`); a last side that ends with the note, whose link's sides and modulus are integers
    (`step_congruence.congruence`), is claimed with its note (`1024 = 4 \\pmod{5}`), to be checked as a congruence.
    Units (`step_units.side_unit`): a link between two units of one dimension with different sizes (`100 \\text{ cm}
    = 1 \\text{ m}`) is a conversion, checked exactly (`step_units.conversion`), or no claim when a side is no
    exact number; between units of other kinds or powers the numbers are compared, as the unit is
    often written on one factor only (`\\$3 \\times 4 \\text{ lb} = \\$12`, `6 \\times 4 \\text{ m} = 24
    \\text{ m}^2`), but for one number against one number in another system of one quantity (degrees
    and radians, two currencies), which makes no claim (`step_units.unit_claim`). (A side
    naming a unit before its end, `50 \\text{ cm} \\times 2 \\text{ m}`, reads as no number.) In a chain naming two units of
    one dimension, its continued rows included, a link between a side with a unit and one without
    holds in either unit (`2 \\text{ h} &= 2 \\times 60 \\\\ &= 120 \\text{ min}`; `step_units.other_units`).
    A first link between two different plain numbers after text (`follows_text`: the chain was
    split from text before it at a comma or a word, see `_chains`; or words come before its first
    side) is no claim: it is the tail of an operation written in words (`Then add 5 = 17`, `The sum
    of 3, 4, and 5 = 12`, `each at $4 = $12`), never a computation stated in symbols. With `fragment`,
    the first side is the tail of an expression begun in the row or line before (`_goes_on`: `+ 15 = 210`
    after `120 + 45 + 30`), `fragment` being that expression: the first side is the two joined (`120 +
    45 + 30 + 15`, `_joined`), or none (no claim of the first link) when they cannot be joined safely."""
    bits = _LINK_RE.split(chain)
    parts, links = bits[0::2], bits[1::2]
    if len(parts) < 2:
        return [], None
    money = [_CURRENCY_RE.search(part) for part in parts]  # (a currency sign is the side's unit, `step_units.side_unit`)
    parts = [_inner_uncut(_CURRENCY_RE.sub("", part)) for part in parts]  # (`6.5... * 2` as written)
    continued = carried is not None and not parts[0].strip()
    parts[1:] = [_HEDGE_WORD_RE.sub("", part, count=1) if link != "=" else part for part, link in zip(parts[1:], links)]
    sides: list[str | None] = []
    whole = False
    for i, part in enumerate(parts):
        if i == 0:
            side = carried[0] if continued else _left_side(part)
        elif i == len(parts) - 1:
            side, whole = _right_side(part)
        else:
            side = part.strip() if _parses(part) else None
        if side is not None and MOD_NOTE_RE.search(side if i == 0 else part):
            side = None  # a congruence (the note after a last side may follow words: check its part)
        sides.append(side)
    if fragment is not None and not continued:
        sides[0] = _first_side(fragment, parts[0])  # `+ 15 = 210` after `120 + 45 + 30`
    elif sides[0] is None and not continued and len(parts) > 1 and sides[1] is not None:
        with_unit = _left_side(parts[0], unit_word=True)  # `5 kg = 5000 grams`: a conversion in plain words
        if with_unit is not None and is_conversion(side_unit(with_unit, None), side_unit(sides[1], money[1])):
            sides[0] = with_unit
    words_before = follows_text or len(parts[0].split()) > 1  # (a plain number is one token)
    if _plain_numbers_differ(sides[0], sides[1]) and links[0] == "=" and words_before:
        sides[0] = None  # the tail of an operation in words
    units = [None if side is None else side_unit(_uncut(side), money[i]) for i, side in enumerate(sides)]
    group: dict[Unit, None] = carried[2] if continued else {}
    if continued:
        units[0] = carried[1]
    group.update(dict.fromkeys(unit for unit in units if unit is not None))
    # (`0°C = 32°F`: two temperature scales, no claim; a last side's scale may be in words after it,
    # `= 77 degrees Fahrenheit`, that its side dropped)
    crossing = temperature_links(sides, parts)
    claims: list[Claim] = [
        (a, b, ua, ub, group) for i, (a, b, ua, ub, link) in enumerate(zip(sides, sides[1:], units, units[1:], links))
        if link == "=" and a is not None and b is not None and i not in crossing and unit_claim(a, ua, b, ub)]
    for i, (a, b, ua, ub, link) in enumerate(zip(sides, sides[1:], units, units[1:], links)):
        if (link in _APPROX_LINKS and a is not None and b is not None and ua is None and ub is None and i not in crossing
                and (m := _APPROX_SIDE_RE.fullmatch(b)) is not None and not _MAGNITUDE_RE.search(b)):
            # `253/3 \\approx 84.3`: checked as plausible (`_approx_claim`); after rounded inputs
            # (`\\pi r^2 \\approx 3.14 \\times 144 \\approx 452.39`) also against the chain's first exact side
            first = None if not _ROUNDED_INPUT_RE.search(a) else next(
                (s for s in sides[:i] if s is not None and re.search(r"\d", s) and not _ROUNDED_INPUT_RE.search(s)), None)
            right = APPROX_MARK + m.group(1) + (_EARLIER + first if first is not None else "")
            claims.append((a, right, None, None, None))
    end = parts[-1].strip()
    before = sides[-2]
    if (before is not None and links[-1] == "=" and MOD_NOTE_RE.search(end) and congruence(before, end)
            and not (len(parts) == 2 and words_before and _PLAIN_NUMBER_RE.fullmatch(before.strip()))):
        claims.append((before, end, None, None, None))  # `81 = 2 \\pmod{5}`: a congruence, checked as one
    if len(parts) > 2 and any(_is_word(w) for w in parts[-2].split()):
        whole = False  # `f(x) = x^2 + 1 at x = 2`: the last link is a note in words, not the chain's end
    return claims, (sides[-1], units[-1], group) if whole and sides[-1] is not None else None


#: The approximate links (`\\approx`, `≈`, `\\simeq`, `≃`; a hedged `=` reads as `≈`, `_unclaimed`), the
#: mark on the right side of such a claim (`_approx_claim`), and a hedge word opening the side after one.
_APPROX_LINKS = frozenset({"\\approx", "≈", "\\simeq", "≃"})
APPROX_MARK = "≈ "
#: The stated side of an approximate link that is checked: one plain number, maybe with words after it (`13 pens`).
_APPROX_SIDE_RE = re.compile(r"\s*(-?(?:\d+(?:\.\d*)?|\.\d+))(?:\s+[A-Za-z]+){0,3}\s*")
#: A magnitude or percent word after an approximate number (`\\approx 3 million`, `\\approx 14 percent`):
#: the number is not the value, so the link makes no claim.
_MAGNITUDE = (r"(?:hundred|thousand|million|billion|trillion|dozen|lakh|crore|grand|k|bn|mn|percent|per\s*cent|pct)"
              r"(?:e?s)?(?![A-Za-z])|\\?%")
_MAGNITUDE_RE = re.compile(rf"(?<![A-Za-z])(?:{_MAGNITUDE})", re.IGNORECASE)
#: An approximate link whose number a magnitude word follows, inside or after the maths (`\\approx 3$ million`).
_MAGNITUDE_AFTER_RE = re.compile(rf"(?:≈|≃|\\approx|\\simeq)(?=\s*(?:about|approximately|roughly|around)?\s*"
                                 rf"-?[\d.,]+\s*(?:\$|\\\)|\\\])?\s*(?:{_MAGNITUDE}))", re.IGNORECASE)
#: A decimal literal that is no integer (`3.14`, `1.4802`): in the left side of an approximate link, a
#: rounded input, whose rounding the right side may carry on (`_approx_claim`).
_ROUNDED_INPUT_RE = re.compile(r"(?<![\d.])\d*\.\d*[1-9]")
#: Between an approximate link's number and the earlier side of its chain it may also be checked against.
_EARLIER = " \x00 "
_HEDGE_WORD_RE = re.compile(r"^\s*(?:about|approximately|approx\.?|roughly|around)(?![A-Za-z])", re.IGNORECASE)


def _uncut(side: str) -> str:
    """`side` without the ellipsis of a decimal cut off (`16.666... dollars` as `16.666 dollars`): how its
    unit is read, and how its digits are judged when the cut cannot be checked (`_cut_reading`)."""
    if cut_decimal(side) is None:
        return side
    return re.sub(r"(?<=\d)(?:\.{3}|…)", "", side, count=1)


def _inner_uncut(side: str) -> str:
    """`side` with the ellipsis of each decimal cut off in it dropped, unless the side is one such decimal
    (`step_numbers.cut_decimal`): in a longer side (`6.5... * 2`, `(13.0...)`, `0.333... + 0.333...`) the
    digits are judged as written, so an ellipsis hides no false claim."""
    if "." not in side and "…" not in side or cut_decimal(side) is not None:
        return side
    return re.sub(r"(?<=\d)(?:\.{3}|…)", "", side)


def _plain_numbers_differ(left: str | None, right: str | None) -> bool:
    """Whether `left` and `right` are both a plain decimal number (`12`, `-4.5`), and different."""
    if left is None or right is None:
        return False
    a, b = left.strip(), right.strip()
    return bool(_PLAIN_NUMBER_RE.fullmatch(a) and _PLAIN_NUMBER_RE.fullmatch(b)) and Fraction(a) != Fraction(b)


def find_claims(step: str) -> list[tuple[str, str]]:
    """The (left, right) equalities stated in one step, consecutive links of chains included (at
    most `_MAX_CLAIMS`; `verify_steps` fails a step that states more). A link of a chain that later
    rows, in other steps, turn into a conversion (`step_units.other_units`) is checked by `verify_steps` as such."""
    with solution_work():
        claims = _all_claims(step)[0]
    return list(dict.fromkeys((c[0], c[1]) for c in claims if not c[1].startswith(APPROX_MARK)))[:_MAX_CLAIMS]


def _without_thousands(text: str) -> str:
    """`text` without thousands separators (`1,000` is 1000), except in a function's arguments:
    `\\max(3,100)` is not `\\max(3100)` (which made `\\max(3,100) = 3100` a true claim)."""
    if "," not in text:
        return text
    calls = [m.span(1) for m in _CALL_ARGS_RE.finditer(text)] if "(" in text else []
    if not calls:
        return _THOUSANDS_RE.sub("", text)
    return _THOUSANDS_RE.sub(lambda m: "," if any(a <= m.start() < b for a, b in calls) else "", text)


def _all_claims(step: str, carried: Carry | None = None, following: str = "",
                previous: str = "") -> tuple[list[Claim], Carry | None]:
    """Every distinct (left, right) equality stated in one step, in order, and the side a step
    starting with `=` after it continues from (None when there is none, or it is not certain).

    A chain that starts with `=` continues the one before it, its left side being that chain's last
    side: in an aligned row after a line break (`12 + 5 \\\\ &= 18`), or at the start of the step,
    continuing the previous step's last row (`carried`: what this function returned for it). A
    row's main chain is its first with an `=`; only that chain is continued. What a note separator
    (`\\quad`, an `&` column) puts after it in the row is a note, which changes nothing
    (`&= 4 + 4 + 1 \\quad (x = 2) \\\\ &= 9` claims `4 + 4 + 1 = 9`); other text or another chain
    after it (a comma, a word, a sign) leaves the row with no side to continue, and so does text
    before it. A step that is nothing but maths delimiters and layout (`$$`, `\\begin{aligned}`)
    passes `carried` on; any other step without an `=` at its start (a label "Step 2:", `---`)
    ends it. Links the text rejects, asks about or hedges are read as not stated (`_unclaimed`), and a
    division with a remainder is one claim of its own (`_remainders`), before the chains are read.

    A row or step that goes on with an expression the one before it left unfinished (`_goes_on`:
    `120 + 45 + 30 \\\\ + 15 = 210`; `previous` is the step before in the same part, or "" where nothing
    goes on from it: `_step_before`) has that expression and its own start as its first side (`_joined`:
    `120 + 45 + 30 + 15 = 210` is claimed), or none when they cannot be joined safely (no claim)."""
    claims: list[Claim] = []
    for m in _CALC_RE.finditer(step):  # GSM8K annotations are screened like any other claim
        left, right = (_without_thousands(g).strip() for g in m.groups())
        if _parses(left) and _parses(right):
            claims.append((left, right, None, None, None))
    step = _CALC_RE.sub("", step)
    if "\\" in step:
        step = _SPACE_RE.sub(lambda m: _space(step, m), step)
    if "&" in step:
        step = _AMPERSAND_RE.sub(lambda m: _column(step, m), step)
    goes_on = _goes_on(previous, step[:200], line=True) if previous else None  # (before a bullet `- ` is cut off as a label)
    step = _LAYOUT_RE.sub(" ", step)
    last = carried if _PASSES_RE.match(step) else None  # the side a chain starting with `=` continues
    step = _LABEL_RE.sub("", _HEADING_RE.sub("", step, count=1), count=1)
    if goes_on and (star := _STAR_PRODUCT_START_RE.match(step)):
        step = f"{step[:star.end() - 1]}\\times {step[star.end():]}"  # `*2 = 24` after `3 * 4`: a product, no emphasis
    step = _without_thousands(step)
    step = re.sub(r"={2,}", "=", step.replace("~", " ").replace("＝", "="))
    if "\\" in step:
        step = _GAP_RE.sub(lambda m: _gap(step, m), step)
    step = _EMPHASIS_RE.sub(lambda m: m.group() if _is_product(step, m.start(), m.end()) else " ", step)
    if _HEDGE_HINT_RE.search(step):
        step = _unclaimed(step, following)
    if "≈" in step or "≃" in step or "\\" in step:  # `\\approx 3$ million`: the number is not the value, no claim
        step = _MAGNITUDE_AFTER_RE.sub("≠", step)
    if _REMAINDER_HINT_RE.search(step):
        found_rem, step = _remainders(step)
        claims.extend(found_rem)
    continues = _CONTINUES_RE.match(step) is not None
    main = note = False  # whether the row's main chain has come; whether a note has started after it
    before, row_start = None, True  # the last row's text (None: the step's first row), whether no text came in this row
    for piece in _math_pieces(step):
        if not _has_link(piece):
            if not note and _CONTENT_RE.search(piece):
                last = None  # text between: nothing after it continues the chain before it
            if piece.strip():
                row_start = False
            continue
        if "\\" in piece:  # a display's delimiter whose pair is on another line (`3 + 4 = 8 \\]`) is space
            piece = _LONE_DELIMITER_RE.sub(" ", piece)
        for chain, after_text, after_row, after_note in _chains(piece):
            if after_row:
                main = note = False  # a new row
                row_start = True
            elif after_note and main:
                note = True  # the rest of the row is a note to its main chain
            fragment = None
            if row_start and chain.strip():  # the row's first text: it may go on from the row (or step) before
                fragment = goes_on if before is None else _goes_on(before, chain)
                row_start = False
            if fragment is not None and not _has_link(chain):
                # a row going on with no link (`120 + 45 \\\\ + 30`): the next row goes on from the two joined,
                # and a row starting with `=` from the joined expression (`\\\\ = 200`)
                before = _run_on(previous if before is None else before, chain)
                side = _first_side(fragment, _bare_row(chain))
                last = None if side is None or note else (side, None, {})
                continue
            if chain.strip():
                before = chain
            if not _has_link(chain):
                if not note and _CONTENT_RE.search(chain):
                    last = None
                continue
            continued = chain.lstrip().startswith("=") and not main and (after_row or continues)
            found, end = _chain_claims(chain, follows_text=after_text, carried=last if continued else None,
                                       fragment=fragment)
            continues = False  # (only the step's first chain continues the step before)
            claims.extend(found)
            if not main:
                last, main = end, True
            elif not note:
                last = None  # a second chain in the row: which one goes on is not certain
    distinct: dict[tuple, Claim] = {}
    for claim in claims:
        distinct.setdefault(claim[:4], claim)
    return list(distinct.values()), last


def _has_link(text: str) -> bool:
    """Whether `text` has an exact or an approximate link (`=`, `\\approx`, `≈`, `\\simeq`, `≃`)."""
    return "=" in text or "≈" in text or "≃" in text or "\\approx" in text or "\\simeq" in text


def _space(step: str, m: re.Match) -> str:
    """A match of `_SPACE_RE` as it is read: a row break as a plain `\\\\`, `\\!` as nothing (`1,\\!000`), a
    space between digit groups as it is (`10\\,000`, thousands for `normalize`), any other as a space."""
    token = m.group()
    if token.startswith("\\\\"):
        return " \\\\ "
    if token == "\\!":
        return ""
    if step[m.start() - 1:m.start()].isdigit() and _DIGIT_GROUP_RE.match(step, m.end()):
        return token
    return " "


def _column(step: str, m: re.Match) -> str:
    """An `&` as it is read: kept (layout, `_LAYOUT_RE` drops it) before a relation (`12 &= 3 \\cdot 4`)
    or right after one (`a &=& b`); otherwise it starts a column, `\\quad`: another equation or a note
    (`2 + 2 &= 4 & 1 + 2 &= 3`, `&& \\text{(sum)}`), which ends the chain before it."""
    if _RELATION_AFTER_RE.match(step, m.end()):
        return "&"
    j = m.start() - 1
    while j >= 0 and step[j].isspace():
        j -= 1
    return "&" if j >= 0 and step[j] in "=<>≤≥≠≈≡" else " \\quad "


def _gap(step: str, m: re.Match) -> str:
    """A run of spaces and wide spaces (`_GAP_RE`) as plain space when an `=` is next to it."""
    run = m.group()
    if "\\" in run and (step[m.end():m.end() + 1] == "=" or step[m.start() - 1:m.start()] == "="):
        return " "
    return run


# -- divisions with a remainder (the marks of claims the text rejects or hedges: `step_marks`) ----

#: A gap between the words of a remainder's tail: spaces, and the `\\text{...}` around words.
_G = r"(?:\s|\\(?:text|mathrm|textrm|mbox)\s*+\{|\})*+"
_REMAINDER_HINT_RE = re.compile(r"remainder|\bleft\b|leftover|\bR\b|\brem\b", re.IGNORECASE)
#: `a / b = q` with a remainder after it: `17 / 5 = 3 remainder 2`, `17 ÷ 5 = 3 with a remainder of 2`,
#: `17 \\div 5 = 3 \\text{ R } 2`, `20 / 3 = 6 with 2 left over`, `7 / 2 = 3 full boxes and 1 left`.
_REMAINDER_RE = re.compile(
    rf"(?<![\w.])(\d{{1,30}})\s*+(?:/|÷|\\div(?![A-Za-z]))\s*+(\d{{1,30}})\s*+=\s*+(\d{{1,30}})(?!\d|\.\d)"
    rf"(?:{_G},?{_G}(?:with{_G}(?:a{_G})?)?(?:(?i:remainders?)|(?i:rem)\.?|R)(?![A-Za-z]){_G}(?:of{_G})?(?:is{_G})?"
    rf"(\d{{1,30}}(?:\.\d{{1,30}})?)(?!\d|\.\d)"  # (a `.` after r ends a sentence; `2.5` is read, and fails)
    rf"|(?:{_G}[A-Za-z]+(?![A-Za-z])){{0,3}}{_G},?{_G}(?:with|and){_G}(\d{{1,30}}){_G}"
    rf"(?:left(?:{_G}over)?|leftover|remaining)(?![A-Za-z])"
    rf"|{_G}(?:(?i:remainders?)|(?i:rem)\.?)(?![A-Za-z])(?!{_G}(?:of{_G})?(?:is{_G})?\d)()(?=\s*(?:[.,;!?]|$)))")
#: How a division with a remainder is claimed (`_remainders`), and known again (`_special_claim`).
_REMAINDER_CLAIM_RE = re.compile(r"(\d+) ÷ (\d+) = (\d+) remainder (-?\d+(?:\.\d+)?)")
#: Text right before a division that makes it an operand of something else (`2 + 17 / 5 = 3 R 2`).
_OPERAND_BEFORE_RE = re.compile(r"(?:[-+*/^×÷·=]|\\(?:cdot|times|div))\s*$")


def _remainders(step: str) -> tuple[list[Claim], str]:
    """The divisions with a remainder a step states (`_REMAINDER_RE`), and the step without them. One is
    claimed as `a ÷ b = q remainder r` (checked as a = q*b + r with 0 <= r < b), not as the equality
    `a / b = q`, which it does not state; none is claimed when the division is an operand of something
    before it, nor when "r left" follows an exact division (`12 / 4 = 3 bags and 2 left` may count
    something else)."""
    claims: list[Claim] = []
    pieces, at = [], 0
    for m in _REMAINDER_RE.finditer(step):
        a, b, q = (int(g) for g in m.groups()[:3])
        r = m.group(4) or m.group(5) or m.group(6)
        if _OPERAND_BEFORE_RE.search(step, max(0, m.start() - 10), m.start()):
            continue
        if m.group(5) is not None and q * b == a:
            continue  # (its equation stays in the step, read as any other: `20 / 4 = 5 cookies each and 3 left`)
        if not r:  # `17 / 5 = 3 remainder`: the quotient's remainder is what is left, a - q*b
            r = str(a - q * b)
        elif r == "0":  # `20 / 4 = 5 remainder 0` states `20 / 4 = 5`: one claim with it, read as written
            pieces += [step[at:m.start()], f"{a} / {b} = {q} ; "]
            at = m.end()
            continue
        claims.append((f"{a} ÷ {b}", f"{q} remainder {r}", None, None, None))
        pieces += [step[at:m.start()], " ; "]
        at = m.end()
    return claims, "".join(pieces) + step[at:]


# -- checking ------------------------------------------------------------------------------------

def compare_claim(left: str, right: str, _claim: str = "claim") -> tuple[bool, str, str]:  # pragma: no cover - in a worker
    """Worker entry point (`_CLAIM_TARGET`): the math comparer on one claim's normalised sides
    (`_claim` is the tag a claim's job carries, see `math._plan_normalized`; always a claim here).

    The claim's left side plays the math verifier's gold, whose exceptions the verifier reports as
    failures of verification; here that side is model text, so an exception its evaluation raises
    (`\\det(2) = 3`) is an outcome: a claim that cannot be evaluated. Size limits (memory,
    recursion, overflow) still raise, for the verifier to report as too costly to check, and a
    broken import raises before anything is judged: the pool reports it as an infrastructure failure."""
    from rlvr.verifiers.math_sympy import compare_normalized

    try:
        undefined = next((side for side in (left, right) if not _finite(side)), None)
        if undefined is not None:  # `1/0 = 2/0`: sympy calls two complex infinities identical
            return False, "unparsable", f"cannot be evaluated: {undefined[:100]} is not a finite number"
        return compare_normalized(left, right, "claim")  # `10 = \\binom{5}{2}` is work shown
    except (MemoryError, RecursionError, OverflowError):
        raise
    except Exception as exc:  # noqa: BLE001 - anything the claim's own text makes sympy raise
        return False, "unparsable", f"cannot be evaluated: {type(exc).__name__}: {exc}"[:300]


_CLAIM_TARGET = f"{__name__}:compare_claim"


def _finite(side: str) -> bool:  # pragma: no cover - in a worker
    """Whether every value of a claim's normalised side is a finite number once built in sympy: a
    side that is infinite or undefined (`1/0`, `\\log 0`, `0^{-1}`: sympy's `zoo`, `oo`, `nan`)
    states no value, so no claim about it holds (sympy finds `1/0` and `2/0` identical)."""
    import sympy

    from rlvr.verifiers.math_compare import prepare, value_nodes
    from rlvr.verifiers.math_sympy import to_sympy

    return not any(to_sympy(value).has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan)
                   for value in value_nodes(prepare(parse(side))))


def _side_trees(side: str) -> tuple[object, object]:
    """One side as it is compared: its parse tree with every number as its exact value (so `(2+2)`,
    `{2+2}` and `2 + (2)` are one tree, and `4.0` is `4`), its normalised text, spaces removed, when
    it does not parse; and the same with each decimal's trailing zeros dropped (`0.250` as `0.25`),
    which is how the side of a claim that holds exactly is known (see `_exact_numbers`)."""
    strict = strict_percent(side)
    text = re.sub(r"\s+", "", side if strict is None else strict)
    try:
        tree = parse(text)
    except Exception:  # noqa: BLE001 - unreadable text is compared as text
        return text, text
    exact = _exact_numbers(tree)
    return exact, (_exact_numbers(tree, drop_zeros=True) if "." in text else exact)  # (no decimal: the same)


def _exact_numbers(node: object, drop_zeros: bool = False) -> object:
    """`node` with every number as its exact value, and as written to so many decimal places when
    that can change a verdict: a decimal of 3 or more significant digits may be a rounding, which
    holds to its own places only (`1/3 = 0.333` holds, `1/3 = 0.3330` does not), so the two are
    two claims; `4.0` and `4` are one number. With `drop_zeros` each decimal is read without its
    trailing zeros first (`0.2500` as `0.25`): the tree of a side whose claim holds exactly, where
    more zeros change nothing (`1/4 = 0.25` and `1/4 = 0.250` are one claim)."""
    if isinstance(node, tuple) and node and node[0] == "num":
        try:
            value = exact_value(node)
        except Exception:  # noqa: BLE001 - a huge exponent: kept as written
            return node
        written = decimal_places(_without_trailing_zeros(node) if drop_zeros else node)
        return ("num", value) if written is None or written[1] < 3 else ("num", value, written[0])
    if isinstance(node, tuple):
        return tuple(_exact_numbers(child, drop_zeros) for child in node)
    return node


def _without_trailing_zeros(node: tuple) -> tuple:
    """A number literal without the zeros that end its decimal part (`0.2500` as `0.25`, `2.0e3` as
    `2e3`)."""
    mantissa, e, exponent = str(node[1]).lower().partition("e")
    whole, point, decimals = mantissa.partition(".")
    if not point:
        return node
    decimals = decimals.rstrip("0")
    return ("num", whole + ("." + decimals if decimals else "") + e + exponent)


def _claim_key(a: object, b: object) -> tuple[str, str]:
    """What identifies a claim across steps, from its two sides' trees (`_side_tree`), in either
    order: `2 + 2 = 4`, `4 = 2+2`, `(2+2) = 4.0` and `2+2 = \\boxed{4}` are one claim."""
    ka, kb = repr(a), repr(b)
    return (ka, kb) if ka <= kb else (kb, ka)


def _numbers(tree: object) -> list:
    """The values of the numbers written in a tree, but 0 and 1, sorted (by their text)."""
    if not isinstance(tree, tuple) or not tree:
        return []
    if tree[0] == "num":
        return [] if tree[1] in (0, 1) else [repr(tree[1])]
    return sorted(n for child in tree[1:] for n in _numbers(child))


def _is_number(tree: object) -> bool:
    """Whether a side's tree (`_side_trees`) is one number (`4`, `0.25`)."""
    return isinstance(tree, tuple) and bool(tree) and tree[0] == "num"


def _computes_nothing(a: object, b: object) -> bool:
    """True for a claim, given its two sides' trees (`_side_tree`), that holds without any work:
    both sides write the same numbers, but for 0s and 1s (`1 = 1`, `4 = 4.0`, `(1) = 1`,
    `5 = 5 \\cdot 1`, `3 = 3 + 0`, `11 = -(-11)`, `2 \\cdot 3 = 3 \\cdot 2`), or the same text. Such
    a claim earns no credit when it holds; one that is false (`4 = 5`) still fails its step."""
    if a == b:
        return True
    return isinstance(a, tuple) and isinstance(b, tuple) and _numbers(a) == _numbers(b)


#: The reasons the comparer gives for a claim that holds exactly (not as a rounding, nor numerically):
#: respelling such a claim's decimals with more trailing zeros cannot change its verdict. (A reason
#: not listed only means such respellings are judged again, never that a false claim goes unjudged.)
_EXACT_REASONS = frozenset({"equal as integers", "equal as rationals", "identical expressions",
                            "difference simplifies to 0"})


def _sci_reading(left: str, right: str, budget: Budget) -> Verdict | None:
    """The verdict of a claim with an inline quotient of scientific numbers (`_SCI_QUOTIENT_RE`) read as
    the quotient of the two numbers, when that reading holds (the strict one failed): `4.5 \\times 10^6 /
    1.5 \\times 10^3 = 3000` holds as `= 3 \\times 10^9` does; `= 7` holds neither way, and fails."""
    grouped_left, grouped_right = _sci_grouped(left), _sci_grouped(right)
    if grouped_left is None and grouped_right is None:
        return None
    v = _check_claim(grouped_left or left, grouped_right or right, budget)
    return v if v.correct else None


def _check_claim(left: str, right: str, budget: Budget) -> Verdict:
    """The verdict on one claim: a judgement (`error` None) unless the check itself failed."""
    l_text, r_text = strict_percent(left), strict_percent(right)
    if l_text is None or r_text is None:
        return Verdict.wrong("cannot be read", details={"kind": "unparsable"})
    try:
        plan = _plan_normalized(l_text, r_text, final=False)  # `10 = \\binom{5}{2}` is a claim, not a final answer
    except Exception as exc:  # noqa: BLE001 - planning runs in-process on the claim's text alone
        return Verdict.wrong(f"cannot be read ({type(exc).__name__})", details={"kind": "unparsable"})
    if plan.verdict is not None and plan.verdict.error is not None:
        # planning runs no worker: what it cannot do comes from the claim's text (an unreadable left side)
        return Verdict.wrong(f"cannot be read ({plan.verdict.error[:200]})", details={"kind": "unparsable"})
    return _run_within(plan, budget, target=_CLAIM_TARGET)


def _either_claim(left: str, right: str, budget: Budget) -> tuple[tuple, Verdict, bool]:
    """The key, verdict and idleness of a claim whose left side has two readings between `_OR`
    (`_first_side`): it holds when either reading does (judged by the first that holds), and fails when
    neither does (judged by the first reading); a check that could not be done gives its verdict."""
    readings = left.split(_OR)
    verdicts = []
    for reading in readings:
        v = _check_claim(reading, right, budget)
        if not v.correct and v.error is None and v.details.get("kind") != "timeout":
            v = _sci_reading(reading, right, budget) or v
        if v.error is not None:
            return ("either", left, right), v, False
        if v.correct:  # keyed as the reading that holds, so that it is a repeat of that claim said before
            a, b = _side_trees(reading)[0], _side_trees(right)[0]
            return _claim_key(a, b), v, _computes_nothing(a, b)
        verdicts.append(v)
    return ("either", left, right), verdicts[0], False


def _approx_claim(left: str, right: str, budget: Budget) -> tuple[tuple, Verdict, bool] | None:
    """The key, verdict and idleness of an approximate link whose right side is a plain number
    (`_chain_claims`: `253/3 \\approx 84.3`, `3 * 4 = 13 roughly`), None when it makes no claim. `right`
    is the number, maybe with the first side of its chain after `_EARLIER`. A left side with a rounded
    input (a decimal that is no integer: `3.14 \\times 144 \\approx 452.39`) may carry that rounding on:
    the link holds when it holds by that side or by the chain's first side with no such input
    (`\\pi \\cdot 12^2`: `a \\approx b \\approx c` says c approximates a too), fails only when it fails
    by both, and makes no claim when there is no such side. Judged by one side in `_approx_side`. A
    link that holds is known by that side alone (any number stated for it, approximately or exactly,
    is said before: `verify_steps`). It claims nothing when the left side is a plain or cut decimal
    number (`6.666 \\approx 6.67`)."""
    stated, _, first = right.partition(_EARLIER)
    stated = stated.strip()
    if _PLAIN_NUMBER_RE.fullmatch(left.strip()) or cut_decimal(left) is not None:
        return None  # `12 \\approx 12.1`, `6.666... \\approx 6.67`: a number restated, no claim
    own = _approx_side(left, stated, budget)
    grouped = _sci_grouped(left) if own is None or not own[1].correct else None
    if grouped is not None:  # `4.5 \\times 10^6 / 1.6 \\times 10^3 \\approx 2800`: either reading (`_sci_reading`)
        other = _approx_side(grouped, stated, budget)
        own = other if other is not None and other[1].correct else own
    if not _ROUNDED_INPUT_RE.search(left) or own is not None and own[1].correct:
        return own
    if not first or _PLAIN_NUMBER_RE.fullmatch(first.strip()) or cut_decimal(first) is not None:
        return None  # rounded inputs and nothing exact to check against: no claim
    return _approx_side(first, stated, budget)


def _approx_side(left: str, stated: str, budget: Budget) -> tuple[tuple, Verdict, bool] | None:
    """`_approx_claim` against one side. With an exact rational value it holds when the number is that
    value up to one unit u of its last significant digit (the trailing zeros of an integer are not
    significant: `2^{10} \\approx 1000` has u = 1000, `45 \\times 19 \\approx 900` u = 100), where the
    value has no expansion at that digit (one that has must be written exactly: `3 * 4 \\approx 13` and
    `12 + 1 = 14 roughly` fail); else it fails. A side with no rational value (`\\pi \\approx 3.14`,
    `\\sqrt{2} \\approx 1.41`) holds when the claim holds as a rounding (`_check_claim`), and is no claim
    (None) otherwise: plausibility cannot be decided in-process. It is idle (no credit) when it computes
    nothing (`k + 0 \\approx k`, `(k) \\approx k`: `_computes_nothing`)."""
    tree = _side_trees(left)[0]
    idle = _computes_nothing(tree, _side_trees(stated)[0])
    key = ("approx", repr(tree))  # (a claim that holds: known by its side alone)
    value = exact_number(left)
    if value is None:
        v = _check_claim(left, stated, budget)
        return (key, v, idle) if v.correct else None
    digits = stated.lstrip("-")
    int_part, _, places = digits.partition(".")
    unit = Fraction(1, 10 ** len(places)) if places else Fraction(10) ** (len(int_part) - len(int_part.rstrip("0") or "0"))
    if digits.strip("0.") == "":
        unit = Fraction(1, 10 ** len(places)) if places else Fraction(1)  # `0`, `0.0`: no significant digit
    if (value / unit).denominator != 1 and abs(value - Fraction(stated)) <= unit:
        return key, Verdict.right("plausible: within one unit of its last significant digit"), idle
    if value == Fraction(stated):
        return key, Verdict.right("equal"), idle
    return (*key, stated), Verdict.wrong(f"not near {stated}: the value is {value}", details={"kind": "wrong"}), idle


def _remainder_claim(left: str, right: str) -> tuple[tuple, Verdict, bool] | None:
    """The key, verdict and idleness of a division with a remainder (`_remainders`), claimed as `a ÷ b` =
    `q remainder r`; None for any other claim. It computes nothing (idle: no credit when it holds, a
    failure when not) when q is 0 (`5 / 7 = 0 remainder 5`) or b is 1 (`17 / 1 = 17 remainder 0`)."""
    rem = _REMAINDER_CLAIM_RE.fullmatch(f"{left} = {right}")
    if rem is None:
        return None
    a, b, q, r = (Fraction(g) for g in rem.groups())
    return ("rem", a, b, q, r), check_remainder(a, b, q, r), q == 0 or b == 1


#: A side that is one number, maybe with unit words or a `\text{...}` unit after it (`4`, `4 \text{ kg}`).
_ONE_NUMBER_RE = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:\s*(?:\\text\s*\{[^{}]*\}|[A-Za-z]+))*\s*")


def _cut_reading(left: str, right: str, unit_a: Unit | None,
                 unit_b: Unit | None) -> tuple[tuple | None, Verdict | None, bool] | None:
    """How a link with a decimal cut off with "..." or "…" (`step_numbers.cut_decimal`) is judged: None
    when neither side is one; else `(key, verdict, idle)`. Such a decimal states the first digits of
    the other side's value: `check_cut` with its exact rational value (converted into the cut side's
    unit in a conversion). `key` names the claim by that other side alone, so every respelling
    (`6.666...`, `6.66...`, `6.6...`) is one claim. It is idle (no credit, a failure when false)
    against one number (`4 = 4.0...`, `2 = 1.99...`: it computes nothing), and against a plain decimal
    or another cut decimal (`6.666... = 6.67`), where it fails only when no value can have both
    spellings. `verdict` is None where the cut does not hold or cannot be checked in-process
    (`100/7 = 14.3...`, `\\sqrt{2} = 1.5...`, two units of other kinds): the written digits are then
    judged as before rules 7, as a number (`_uncut`), so the claim holds when either reading does and
    a false claim is never dodged by an ellipsis."""
    cut_left, cut_right = cut_decimal(left), cut_decimal(right)
    if cut_left is None and cut_right is None:
        return None
    if cut_left is not None and cut_right is not None:
        return None, check_overlap(cut_span(*cut_left), cut_span(*cut_right), "begins with both"), True
    other, cut, unit_other, unit_cut = (right, cut_left, unit_b, unit_a) if cut_right is None \
        else (left, cut_right, unit_a, unit_b)
    converts = is_conversion(unit_other, unit_cut)
    other_tree = _side_trees(other)[0]
    key = ("cut", repr(other_tree), repr(unit_cut) if converts else None)
    value = exact_number(other)
    if value is None:
        return key, None, False
    if converts:
        value = value * unit_other.scale / unit_cut.scale
    elif unit_other is not None and unit_cut is not None and unit_other != unit_cut:
        return key, None, False
    elif _ONE_NUMBER_RE.fullmatch(other):
        span = rounding_span(other.strip())
        if span is not None and "." in other:
            return None, check_overlap(span, cut_span(*cut), "rounds to one and begins with the other"), True
        return None, check_cut(value, *cut), True
    v = check_cut(value, *cut)
    cut_side = _uncut(right if cut_right is not None else left)
    idle = _computes_nothing(other_tree, _side_trees(cut_side)[0])  # `4 + 0 = 4.0...`, `(4) = 4.0...`
    return key, (v if v.correct else None), idle


def verify_steps(solution_text: str | Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """Check the arithmetic claims of each step; see the module docstring for the scoring.

    `solution_text`: the solution, or its parts (a list or tuple of texts: the turns of an episode,
    its answer last). Each part is read within its own window (the first `MAX_STEPS` lines and
    `MAX_SENTENCES` steps of it; `_parts_steps`), so that what one turn writes never pushes another's
    claims out of reading, and the parts are scored as one solution: a claim stated in an earlier
    part is judged once, and steps are numbered across the parts. The work is bounded by the
    number of parts times one window: the caller bounds the parts (an env by its `max_turns`).
    `timeout`: seconds for all the sympy checks of this solution together (worker time only).
    A check that could not be done at all gives `Verdict.failed` (the solution is not scored).
    """
    with solution_work():  # the solution's congruence work: cached and bounded
        return _verify_steps(solution_text, timeout)


def _verify_steps(solution_text: str | Sequence[str], timeout: float) -> Verdict:
    """`verify_steps`, within its solution's congruence work (`step_congruence.solution_work`)."""
    parts = _parts(solution_text)
    if not any(part.strip() for part in parts):
        return Verdict.wrong("no steps to check", steps=[], details={"kind": "unparsable"})
    scores: list[float | None] = []
    first_bad = None
    n_checked = n_claims = n_repeated = n_idle = 0
    judged: set[tuple[str, str]] = set()
    exact: set[tuple[str, str]] = set()  # claims that held exactly, keyed without trailing zeros
    valued: set[str] = set()  # sides (their trees) a claim that held exactly equated with one number
    budget = Budget(timeout)
    carried: Carry | None = None  # the side the last step's chain ended on (`_all_claims`)
    run_on = ""  # the text the next step goes on from, when the last went on with no link (`Total = 120 + 45`, `+ 30`)
    found: list[tuple[str, bool, list[Claim]]] = []
    listed = list(_parts_steps(parts))
    for at, (step, read, first, line) in enumerate(listed):  # all first: a later row can make a chain a conversion
        if first or not read:
            carried = None
        claims: list[Claim] = []
        if read:  # (the next step may answer a question this one ends with: "Is 3 * 4 = 13?" "Yes.")
            following = listed[at + 1][0][:60] if at + 1 < len(listed) and step.rstrip().endswith("?") else ""
            previous = _step_before(listed[at - 1], line) if at and not first else ""
            previous = run_on if previous and run_on else previous
            claims, carried = _all_claims(step, carried, following, previous)
            # a line going on with no link of its own (`+ 30`): the next goes on from the two joined, and a
            # line starting with `=` (`= 200`) from the joined expression
            head = _goes_on(previous, step[:200], line=True) if previous and not _has_link(step) else None
            run_on = _run_on(previous, step) if head is not None else ""
            if head is not None:
                side = _first_side(head, _bare_row(step))
                carried = None if side is None else (side, None, {})
        else:
            run_on = ""
        found.append((step, read, claims))
    for idx, (step, read, found_claims) in enumerate(found):
        if not read:  # not read: an equality there is not shown to hold
            if "=" in step:
                scores.append(0.0)
                n_checked += 1
                if first_bad is None:
                    first_bad = (f"step {idx + 1}: states an equality after the first {MAX_STEPS} lines (or "
                                 f"{MAX_SENTENCES} sentences) of its text, which are all that is checked")
            else:
                scores.append(None)
            continue
        stated = list(dict.fromkeys((*claim[:4], tuple(other_units(*claim[2:]))) for claim in found_claims))
        if len(stated) > _MAX_CLAIMS:  # not all read: the step is not shown to hold
            scores.append(0.0)
            n_checked += 1
            if first_bad is None:
                first_bad = f"step {idx + 1}: states {len(stated)} claims, more than the {_MAX_CLAIMS} checked in one step"
            continue
        results = []
        for left, right, unit_a, unit_b, others in stated:
            link = "="
            if right.startswith(APPROX_MARK):  # `253/3 \\approx 84.3`, `= 13 roughly`: plausible or not
                special = _approx_claim(left, right[len(APPROX_MARK):], budget)
                if special is None:
                    continue
                right, link = right[len(APPROX_MARK):].partition(_EARLIER)[0], "≈"
            elif _OR in left:  # `12 + 8` then `-3 + 5 = 2`: it holds by either reading of its first side
                special = _either_claim(left, right, budget)
                if special[1].error is not None:
                    return Verdict.failed(f"step {idx + 1}: {left.partition(_OR)[0]} = {right} could not be checked: "
                                          f"{special[1].error}", details={"kind": "error", "checked_steps": n_checked,
                                                                         "claims": n_claims})
                left = " (or ".join(left.split(_OR)) + ")"
            else:
                special = _remainder_claim(left, right)
            left, right = _inner_uncut(left), _inner_uncut(right)  # `6.5... * 2`: judged as written
            cut = _cut_reading(left, right, unit_a, unit_b) if special is None else None
            cut_key = None
            if cut is not None:
                cut_key, v, idle = cut
                if v is None:  # judged as written, without the ellipsis (`_cut_reading`)
                    left, right = _uncut(left), _uncut(right)
                else:
                    special = cut_key, v, idle
            if special is not None:  # `17 ÷ 5 = 3 remainder 2`, `20/3 = 6.666...`: checked exactly in-process
                key, v, idle = special
                if v.correct and (idle or key in judged or key[0] in ("cut", "approx") and key[1] in valued
                                  or ("approx", key[1]) in judged or ("cut", key[1], None) in judged):
                    if idle:  # `4 = 4.0...`, `5 / 7 = 0 remainder 5`: true, but no work shown
                        n_idle += 1
                    else:  # said before, or the value of that side was stated exactly before
                        n_repeated += 1
                    continue
                if key is not None and v.correct:
                    judged.add(key)
                results.append(v.correct)
                n_claims += 1
                if not v.correct and first_bad is None:
                    first_bad = f"step {idx + 1}: {left} {link} {right} is false ({v.reason})"
                continue
            mod_claim = congruence(left, right) if MOD_NOTE_RE.search(right) else None
            converted = conversion(left, unit_a, right, unit_b) if is_conversion(unit_a, unit_b) else None
            if converted is not None:  # `100 \\text{ cm} = 1 \\text{ m}`: known by its sides and units
                trees = _side_trees(left)[0], _side_trees(right)[0]
                key = exact_key = ("unit", repr(sorted([repr((trees[0], unit_a)), repr((trees[1], unit_b))])))
            elif mod_claim is not None:  # `81 = 1 \\pmod{5}`: known by its integers and modulus
                a, b, modulus, key_a, key_b = mod_claim
                trees = key_a, key_b
                key = exact_key = ("mod", repr((*sorted((repr(key_a), repr(key_b))), modulus)))
            else:
                (a, a_exact), (b, b_exact) = _side_trees(left), _side_trees(right)  # (each side parsed once)
                trees = a, b
                key, exact_key = _claim_key(a, b), _claim_key(a_exact, b_exact)
                if others:  # it may hold in another unit of its chain: not the same claim as its numbers
                    key = exact_key = ("units", repr((key, unit_a, unit_b, others)))
            if key in judged or exact_key in exact:  # said before: judged once, where first stated
                n_repeated += 1
                continue
            if converted is not None:
                v = check_conversion(*converted, right, unit_a, unit_b)
                if not v.correct and (calendar_words(left, unit_a, right, unit_b) or v.details.get("kind") == "unclaimed"):
                    continue  # `He works 8 hours = 1 day`: a day of work (`step_units.calendar_words`); `1 kg = 2
                    # pounds`: a rough rate (`step_units.check_conversion`); no claim
                judged.add(key)
            else:
                judged.add(key)
                v = _check_claim(left, right, budget) if mod_claim is None else check_congruence(*mod_claim[:3])
                if mod_claim is None and not v.correct and v.error is None and v.details.get("kind") != "timeout":
                    v = _sci_reading(left, right, budget) or v  # (not after a strict reading past the budget)
                if others and not v.correct and v.error is None and (
                        in_other_unit(right, left, unit_a, others) if unit_a else in_other_unit(left, right, unit_b, others)):
                    v = Verdict.right("the same quantity in another unit of its chain")
            if cut_key is not None and v.correct:  # a cut decimal read as written (`100/7 = 14.3...`)
                if cut_key in judged or cut_key[1] in valued:
                    n_repeated += 1
                    continue
                judged.add(cut_key)
            if v.correct and v.reason in _EXACT_REASONS:
                exact.add(exact_key)
                sides = [repr(t) for t, other in (trees, trees[::-1]) if _is_number(other)]
                valued.update(sides)
                if cut_key is None and any(("cut", side, None) in judged or ("approx", side) in judged for side in sides):
                    n_repeated += 1  # `2 + 2 = 4` after `2 + 2 = 4.0...` or `2 + 2 \\approx 4`: that side's value was stated
                    continue
            if v.error is not None:  # the check itself failed: no score, rather than a wrong one
                return Verdict.failed(f"step {idx + 1}: {left} = {right} could not be checked: {v.error}",
                                      details={"kind": "error", "checked_steps": n_checked, "claims": n_claims})
            if v.correct and _computes_nothing(*trees):  # `1 = 1`: true, but no work shown
                n_idle += 1
                continue
            results.append(v.correct)
            n_claims += 1
            if not v.correct and first_bad is None:
                kind = v.details.get("kind")
                what = {"timeout": "could not be checked in time", "unparsable": "could not be checked"}.get(kind, "is false")
                first_bad = f"step {idx + 1}: {left} = {right} {what} ({v.reason})"
        if not results:
            scores.append(None)
        else:
            n_checked += 1
            scores.append(1.0 if all(results) else 0.0)
    counts = {"checked_steps": n_checked, "claims": n_claims, "repeated_claims": n_repeated,
              "idle_claims": n_idle}
    if first_bad:
        checked = [s for s in scores if s is not None]
        return Verdict.wrong(first_bad, score=sum(checked) / len(checked), steps=scores,
                             details={"kind": "wrong", **counts})
    if n_claims:
        return Verdict.right(f"all {n_claims} claims in {n_checked} steps hold", steps=scores,
                             details={"kind": "equal", **counts})
    # nothing checkable: no claim was shown to fail
    return Verdict(score=1.0, correct=True, reason="nothing checkable", steps=scores,
                   details={"kind": "unchecked", **counts})
