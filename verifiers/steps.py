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
  is longer than `step_sides._MAX_SIDE_WORDS` tokens, or an operation is written in words next to it ("Half of
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
  `\\checkmark`, the rules between rows (`\\hline`, `\\cline{…}`, `\\hdashline`, `\\toprule`, `\\midrule`,
  `\\bottomrule`). The edges of a grid environment (`\\begin{array}{l}` with its column spec, `\\end{array}`,
  the matrices `pmatrix`, `bmatrix`, `vmatrix`, ..., and `cases`) are row breaks: each row is read, its
  first and last included, and a matrix's entries never run into an `=` beside it
  (`\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix} = -2` claims nothing).
- A Markdown table row's cells are read one by one, as `&` columns (`| 2 | 12 + 5 = 18 |` claims
  `12 + 5 = 18`), and so are claims on either side of a `|` spaced on both sides (`3 * 4 = 12 | 5 * 6 =
  30`), a cell that starts with a relation joining the cell before it (`| A | 3 × 4 = 13 | < 15 |`
  reads `3 × 4 = 13 < 15`); bars written tight (`|3 - 5| = 2`), LaTeX's (`\\left|`, `\\|`) and, outside
  a table row, any bar of a step where a split would leave a part starting or ending with a relation or
  a binary operator (`| -3 | = 3`, `| 3 - 5 | + 1 = 3`, `2 \\cdot | 3 - 8 |`) or holding an unpaired bar
  (`| 3 - 5 |^2 = 4`) are absolute values and norms, read as written.
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
  holding if one holds (`step_goes_on._OrGrouped`). It goes on when the one before ends with a binary operator after an
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
  unit is checked for plausibility (`_approx_claim`): it holds when the number is the left side's exact
  value rounded to the nearest unit of its last significant digit, or, where that digit is a decimal
  one (the number shows decimals), the value cut toward zero there (an integer's trailing zeros are not
  significant: `2^{10} \\approx 1000`, `45 \\times 19 \\approx 900`, `253/3 \\approx 84.3`, `17/3 \\approx 5.6`
  hold; `3 * 4 \\approx 20`, `1001 \\approx 2000`, `37/3 \\approx 13`, `17/3 \\approx 5`, `2/3 \\approx 0`
  fail); a bracket naming the direction ("(rounded up)", "(rounded down)") holds only the ceiling or
  floor at the units place or the number's last decimal, or at the step its words name (`37 / 3 = 13
  (rounded up)` and `1349 / 2 = 600 (rounded down to the nearest hundred)` hold, `= 14 (rounded up)` and
  `1349 / 2 = 600 (rounded down)` fail; "(2 d.p.)" and "(3 s.f.)" name a step too), and "nearest" with
  a step ("(nearest 0.05)", "to the nearest 5", "nearest tenth", "nearest ten") rounds to the nearest
  multiple of that step, which the number must be (`2 / 3 = 0.65 (nearest 0.05)` holds), unless
  that value can be written exactly at that digit, when it must be (`3 * 4 \\approx 13` fails); a left
  side with no rational value holds when it holds as a rounding (`\\sqrt{2} \\approx 1.41`) and is no
  claim otherwise; any other approximate link (`45 \\times 19 \\approx 50 \\times 20`, `12 \\approx 12.1`,
  a unit, a magnitude or percent word after the number: `\\approx 3 million`, `≈ 14 percent`) is no
  claim; a unit is none when both sides have it (`\\$100 / 3 = \\$33.34 (rounded up to the nearest cent)`) or,
  with a rounding named in words, when an exact link would compare the numbers (no conversion). A left side with a rounded input (a decimal that is no integer: `3.14 \\times 144 \\approx
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
  bracket's end, "= 10 (rounded up)", "(round up)", or before a place, "(rounded up to the nearest cent)",
  "(rounded up to the next whole number)", maybe after a noun, "= 9 buses (rounded up)"; a precision
  bracket, "(2 d.p.)", "(3 s.f.)") or right before it ("= about 3.3", "approximately", "approx",
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

Where the rules are: `step_split` cuts a solution into steps, `step_sides` reads how far a side runs
from its `=`, `step_goes_on` joins a row or line to the expression the one before left unfinished,
`step_claims` finds each step's chains and the claims they state; the units, congruences, exact
numbers and marks of claims are `step_units`, `step_congruence`, `step_numbers` and `step_marks`.
This module checks the claims found and scores the steps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

from rlvr.verifiers.math import DEFAULT_TIMEOUT, _plan_normalized, _run_within
from rlvr.verifiers.math_compare import decimal_places, exact_value
from rlvr.verifiers.math_parse import parse
from rlvr.verifiers.math_units import Unit
from rlvr.verifiers.step_claims import (APPROX_MARK, Carry, Claim, _MAX_CLAIMS, _REMAINDER_CLAIM_RE, _ROUNDED_INPUT_RE,
                                        _all_claims, _has_link, _inner_uncut, _uncut, approx_parts, find_claims)
from rlvr.verifiers.step_congruence import MOD_NOTE_RE, check_congruence, congruence, solution_work
from rlvr.verifiers.step_goes_on import _OR, _bare_row, _first_side, _goes_on, _run_on, _step_before
from rlvr.verifiers.step_numbers import (PLAIN_NUMBER_RE as _PLAIN_NUMBER_RE, check_cut, check_overlap, check_remainder,
                                         cut_decimal, cut_span, exact_number, rounding_span, strict_percent)
from rlvr.verifiers.step_split import MAX_SENTENCES, MAX_STEPS, _parts, _parts_steps, split_steps
from rlvr.verifiers.step_units import (calendar_words, check_conversion, conversion, in_other_unit, is_conversion,
                                       other_units)
from rlvr.verifiers.timelimit import Budget
from rlvr.verifiers.verdict import Verdict

__all__ = ["RULES_VERSION", "MAX_STEPS", "MAX_SENTENCES", "split_steps", "find_claims", "verify_steps"]

#: Version of the rules above. Bump it whenever a change to this module changes what some solution
#: scores (which claims are found, how they are read, how steps are scored), so that rewards, logs and
#: env fingerprints from different rules are never mixed.
RULES_VERSION = 12  # 3: a repeated claim (however spelled) counts once, a claim computing nothing not at all;
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
# 10: the rows of `array`, matrix and `cases` environments are read as rows (their first and last included),
# Markdown table cells (`| 2 | 12 + 5 = 18 |`; a cell opening with a relation joins the one before) and claims
# beside a spaced `|` are read on their own (never where a part would start or end with an operator: `| 3 - 5 |
# + 1 = 3` is an absolute value), `\hline`-like rules between rows are layout, and an approximate number holds
# only as a rounding to nearest, a truncation below the units place (`17/3 \approx 5` fails), the ceiling or
# floor a "(rounded up/down)" names (at the units place or the number's last decimal: `1349 / 2 = 600 (rounded
# down)` fails, `= 600 (rounded down to the nearest hundred)` holds), or a rounding to the step a "nearest 0.05",
# "(2 d.p.)" or "(3 s.f.)" names; a direction-and-place bracket (`= 33.34 (rounded up to the nearest cent)`) and a
# precision bracket are rounding hedges; a table cell ending with a relation joins the cell after it (`| 5 | 5 × 6 =
# | 30 |`), and outside a table row a spaced `|` splits only parts that each hold a relation (`5 | 3 = 7` is no claim)
# or are a label or remark (`Day 1 | 3 × 4 = 13`, `3 × 4 = 13 | 2 apples`; an operand ends with a number before
# a relation: `x + 5 | 3 = 7`); a label opening a cell or bar column is no ratio (`| Step 1: 3 × 4 = 12 |`); an
# approximate link with one unit on both sides (`\$100 / 3 = \$33.34 (rounded up to the nearest cent)`), or other
# comparable units and a named rounding, is checked on its numbers; "(round up)", "(rounded up to the next whole
# number)" and a noun before a direction bracket (`= 9 buses (rounded up)`) are rounding hedges
# 11 (audit 40): a table cell `label = expression` with no value of its own, a lone number or amount after it
# (`| Total = $36 + $16 | $53 |`), is read as `expression = number` (fails); not before text or a formula, a
# result with a unit word, or with a number in a later column (review: `| Total = 500 + 750 | 1.25 kg |`
# failed; a long sum in such a cell took time doubling per term); a label after a list item's marker
# (`- **Step 1**: 3 × 4 = 12`) is a label, not a ratio's `1 :` (a true step failed)
# and emphasis in a table cell is read as outside a table (`| 36 + 16 = **53** |`, `| 36 + 16 = | *53* |` fail;
# stars before a cell's bar, a row break `\\` or an `&` column were a product with it); `_53_` is emphasis too
# 12 (review 41): with a later number column a label cell's result is the first cell equal to its value
# (`| Price = $80 × 0.75 | 25% | $60 |` holds), and a row with none fails against the next cell (a running total:
# `| Cost = 3 × $12 | $38 | $38 |`), unless the next cell is one of the formula's operands in value (`30%`
# for `0.3`) before a later number column (`| Cost = $30 × 12 | 12 | $360 |`); an integer next cell that is the
# floor or ceiling of a non-integer value is left (`| Buses = 130 / 40 | 4 buses |`); a result with a word is compared
# when the word is a count noun the label names, `-s`/`-es`/`-ies` plurals alike (`| Total apples = 3 × 12 |
# 35 apples |` fails, `| Eggs = 12 × 3 | 3 cartons |` is left); a label after `+ `, `> `, `a. `, `A) ` markers, and
# `Step 1 –` / `Step 1 --`, is a label (not in `Step 5 – 2 = 3`, a subtraction); `Word N: M = R` is the ratio
# `N : M = R` where R is a ratio `a : b` or the word a ratio word, that holds and `M = R` does not
# (`- Ratio 3 : 4 = 6 : 8` holds; `Day 2: 12 = 12` keeps its label, `Day 2: 4 = 0.5` and `Total 12: 4 = 3` fail);
# runs of spaces in labels and label cells and long rows are read in linear time


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
    stated, how, first = approx_parts(right)
    if _PLAIN_NUMBER_RE.fullmatch(left.strip()) or cut_decimal(left) is not None:
        return None  # `12 \\approx 12.1`, `6.666... \\approx 6.67`: a number restated, no claim
    own = _approx_side(left, stated, budget, how)
    grouped = _sci_grouped(left) if own is None or not own[1].correct else None
    if grouped is not None:  # `4.5 \\times 10^6 / 1.6 \\times 10^3 \\approx 2800`: either reading (`_sci_reading`)
        other = _approx_side(grouped, stated, budget, how)
        own = other if other is not None and other[1].correct else own
    if not _ROUNDED_INPUT_RE.search(left) or own is not None and own[1].correct:
        return own
    if not first or _PLAIN_NUMBER_RE.fullmatch(first.strip()) or cut_decimal(first) is not None:
        return None  # rounded inputs and nothing exact to check against: no claim
    return _approx_side(first, stated, budget, how)


def _approx_side(left: str, stated: str, budget: Budget, how: str | None = None) -> tuple[tuple, Verdict, bool] | None:
    """`_approx_claim` against one side. With an exact rational value it holds when the number is that
    value rounded (`_rounds_to`) to a multiple of one unit u of its last significant digit (the trailing
    zeros of an integer are not significant: `2^{10} \\approx 1000` has u = 1000, `45 \\times 19 \\approx
    900` u = 100), or of the step its words name (`how`: "(nearest 0.05)", "to the nearest 5"; the number
    must be a multiple of it), where the value has no expansion at that digit (one that has must be
    written exactly: `3 * 4 \\approx 13` and `12 + 1 = 14 roughly` fail); else it fails. A side with no
    rational value (`\\pi \\approx 3.14`, `\\sqrt{2} \\approx 1.41`) holds when the claim holds as a
    rounding (`_check_claim`), and is no claim (None) otherwise: plausibility cannot be decided
    in-process. It is idle (no credit) when it computes nothing (`k + 0 \\approx k`, `(k) \\approx k`:
    `_computes_nothing`)."""
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
    direction, step = _rounding_how(how)
    if direction is not None and step is None:  # "(rounded up)": at the units place, or the number's last decimal
        unit = Fraction(1, 10 ** len(places))
    if step is not None:  # "(nearest 0.05)", "(2 d.p.)", "(3 s.f.)": rounded to a multiple of that step
        unit = _significant_unit(value, int(step[2:])) if step.startswith("sf") else Fraction(step)
        if (Fraction(stated) / unit).denominator != 1:
            named = f"{step[2:]} significant figures" if step.startswith("sf") else step
            return (*key, stated), Verdict.wrong(f"{stated} is not rounded to {named}", details={"kind": "wrong"}), idle
    cut = bool(places) and how is None  # (truncation: only below the units place, and with no rounding named)
    if (value / unit).denominator != 1 and _rounds_to(value, Fraction(stated), unit, direction, cut):
        return key, Verdict.right("plausible: a rounding at its last significant digit"), idle
    if value == Fraction(stated):
        return key, Verdict.right("equal"), idle
    return (*key, stated), Verdict.wrong(f"not near {stated}: the value is {value}", details={"kind": "wrong"}), idle


def _rounding_how(how: str | None) -> tuple[str | None, str | None]:
    """The direction ("up", "down" or None) and the step (a number, "sf" and a count of significant
    figures, or None) of how a side's words say it was rounded (`step_marks.rounding_named`)."""
    direction = step = None
    for part in (how or "").split():
        if part in ("up", "down"):
            direction = part
        else:
            step = part
    return direction, step


def _significant_unit(value: Fraction, figures: int) -> Fraction:
    """The unit of the last of `figures` significant figures of `value` (`100/3` to 3: 0.1); 1 for 0."""
    if value == 0 or figures < 1:
        return Fraction(1)
    size = abs(value)
    exponent = len(str(size.numerator)) - len(str(size.denominator))  # 10^exponent is within 10 of |value|
    while Fraction(10) ** exponent > size:
        exponent -= 1
    while Fraction(10) ** (exponent + 1) <= size:
        exponent += 1
    return Fraction(10) ** (exponent - figures + 1)


def _rounds_to(value: Fraction, stated: Fraction, unit: Fraction, direction: str | None, cut: bool) -> bool:
    """Whether `stated` is `value` rounded to a multiple of `unit`. With a `direction` ("up", "down": "= 13
    (rounded up)") only that way: the ceiling or the floor (for a negative value also away from, or
    toward, zero: "rounded up" is said of magnitudes too). Else to the nearest (either neighbour at a
    tie, half up or half to even), or, with `cut` (the number shows decimals: a truncation below the
    units place), toward zero: the digits of the value as far as written (`12.38 \\approx 12.3`,
    `17/3 \\approx 5.6`). Nothing else is (`3 * 4 \\approx 20`, `1001 \\approx 2000`, `17/3 \\approx 5`,
    `2/3 \\approx 0`, `199/100 \\approx 1`)."""
    low, high = math.floor(value / unit) * unit, math.ceil(value / unit) * unit
    if direction is not None:
        toward_zero, away = (high, low) if value < 0 else (low, high)
        return stated in ((high, away) if direction == "up" else (low, toward_zero))
    if abs(value - stated) * 2 <= unit:
        return True
    return cut and stated == (low if value > 0 else high)


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
                right, link = approx_parts(right[len(APPROX_MARK):])[0], "≈"
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
