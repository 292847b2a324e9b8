"""Clean an extracted answer string before parsing: delimiters, spacing, text, units, separators.

Conventions applied here (documented again in docs/verifiers.md):
- Math delimiters `$…$`, `\\(…\\)`, `\\[…\\]` (also inside the answer: `\\(18\\) dollars`),
  `\\displaystyle`, `\\left`/`\\right`, spacing commands are dropped (`\\hspace{…}`, `\\kern1em` and
  `\\rule{…}{…}` are wide spaces); `\\dfrac`/`\\tfrac`/`\\cfrac` are `\\frac` (so `2\\dfrac{1}{2}` is
  the mixed number 5/2). Markup that does not change the value goes: `\\phantom{…}` (invisible:
  dropped with its argument), `\\color{red}`, `\\textcolor{red}{x}` and `\\colorbox{red}{x}` (x is
  kept), `\\smash{x}` and `\\underline{x}` are x, `\\framebox[…]{x}` is `\\fbox{x}`.
- `\\text{…}`, `\\mathrm{…}`, `\\textbf{…}`, `\\mbox{…}` keep their content; unit words after a number
  ("5 cm", "12 \\text{ dollars}", "3 square feet", "60 miles per hour", "5cm") are dropped, as is a
  leading currency sign. Units written as text are dropped too (`20 \\text{ km/h}`, `5 \\text{ m}`).
  When the gold is a plain number (`number_gold`), so is unit-like text after the number
  (`12 \\text{ sandwiches}`, see `_is_unit_like`: never text with a digit, a number word, an operation, a
  negation, a retraction or a second answer, so `12 \\text{ or 13}`, `5 \\text{ squared}` and
  `12 \\text{ is wrong}` keep their meaning) and a bare one-letter unit (`10 m`, `5 g`, `300 K`);
  otherwise a bare one-letter unit is not (`2x + 3 m` may be 3m). With such a gold, plain lower-case
  words after a whole answer that is a plain number are dropped when unit-like and no maths
  (`12 cupcakes`, `10% discount`; not `12 x`, `12 xyz`, `12 pi`: see `_plain_word_tail`), and so are
  units as a fraction of texts (`60 \\frac{\\text{km}}{\\text{h}}`), a known unit to a negative power
  (`\\text{h}^{-1}`), a unit after a slash (`50/\\text{hour}`) and an ordinal's suffix (`4^{th}`, `2nd`).
- Percent: `\\%`, `\\text{\\%}`, the words "percent" and "per cent", full-width `％` and Arabic `٪` are
  all the percent sign (`0.5 \\text{ percent}` is 0.5%, not 0.5; see `math_compare`).
- Magnitude words after a number multiply it: `5 \\text{ thousand}` is 5000, `2 \\text{ dozen}` 24,
  `3 million` 3000000 (up to decillion; lakh/lac and crore too), `5\\text{k}` 5000 (a bare `5k` stays
  5 times k). Right after the amount of an answer that starts with a currency sign, K, M, B, bn, mn
  are too (`\\$12\\text{K}` is 12000), and a glued k, m, b when the gold is a plain number (`\\$12m`;
  see `_money_magnitude`); lakh/lac is 100000 in Indian English, so `12 lac` is 1200000.
- Sets: `\\mathbb{R}`, `ℝ` and the words "all real numbers" (the whole answer) are `(-\\infty, \\infty)`;
  `\\emptyset`, `\\varnothing`, `∅` and the words "the empty set" and "no solution(s)" (the whole
  answer; not "none": too ambiguous, it may answer any question) are `\\{\\}`.
- Degrees are dropped: `30^\\circ` equals `30` (no conversion to radians), except on the number a
  trigonometric function is applied to (`\\sin 30^\\circ` is sin(π/6)).
- Thousands separators: `1{,}000`, `1\\text{,}000`, `1,\\!000` and LaTeX spaces between digit groups (`10\\,000`)
  always (`12{,}5` is the decimal comma 12.5, `(3\\text{,}4)` a pair and `1,000{,}000` 1000000, never
  1,000.000: see `_comma_chain`), and
  `1,000` / `12,345,678` when the whole answer is one number so grouped (so `(1,000)` stays a pair and `1, 000` stays a list); one plain space between
  groups of three (`10 000`). Wide spaces (`\\quad`) never join digits.
- `\\\\` row breaks are kept even when a space follows (`\\ ` is a space, `\\\\ ` is not); a row break's
  spacing is dropped (`\\\\[6pt]` is `\\\\`).
- `2 1/2` (a whole number, a space, a fraction) is the mixed number 5/2; `-2 1/2` is -5/2.
- Unicode maths is LaTeX: `√2`, `½`, `x²` (see `_unicode_math`).
- Word answers (`\\text{Yes}`, `Monday`) are compared as case-folded text, never as products of
  letters (see `word_answer`).
- A trailing full stop is dropped, as are markdown bold/italic marks (`**18**`).
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from fractions import Fraction

__all__ = ["normalize", "choice_letter", "choice_letters", "strip_markdown", "word_answer", "MAX_ANSWER_CHARS", "DOUBT_WORDS", "CHOICE_DOUBT",
           "without_case_phrases", "doubt_after_box"]

MAX_ANSWER_CHARS = 1500

_DELIMS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
_DROP_RE = re.compile(
    r"\\(?:displaystyle|textstyle|scriptstyle|left(?=[^a-zA-Z])|right(?=[^a-zA-Z])|big[lr]?|Big[lr]?|"
    r"bigg[lr]?|Bigg[lr]?|limits|nolimits|mathrm(?=\{(?:d)\})|"
    # invisible: struts, an empty box, no-ops and the negative spaces (rules 12)
    r"(?:strut|mathstrut|null|relax|nonumber|neg(?:thin|med|thick)space)(?![A-Za-z])|"
    # old font and size switches, which show what follows as it is (`{\bf 5}`, `\large 5`)
    r"(?:bf|rm|it|sf|tt|sl|sc|bfseries|mdseries|itshape|upshape|normalfont|large|Large|LARGE|huge|Huge|small|"
    r"tiny|normalsize|footnotesize|scriptsize)(?![A-Za-z]))"
)
#: `\underline{x}` and `\smash{x}` (or of one token, `\underline 5`) show x as it is: replaced by x
#: without its braces (`1\underline{2}` is 12, not `1{2}`, a product); one with braces inside stays,
#: unknown (rules 13).
_SHOWN_AS_IS_RE = re.compile(r"\\(?:underline|smash(?:\s*\[[tb]\])?)(?:\s*\{([^{}]*)\}|\s+(?=\w))")
_LEFT_DOT_RE = re.compile(r"\\(?:left|right)\.")
#: LaTeX's named spaces, read as the thin space `\\,` is, with the spaces after the name that
#: LaTeX skips (`2\\thinspace 000` is 2000; rules 12).
_NAMED_SPACE_RE = re.compile(r"\\(?:thinspace|medspace|thickspace|enspace|enskip|space)(?![A-Za-z])\s*")
#: TeX's spaces of a given length (`\\kern1em`, `\\hskip 2pt`, `\\mkern-3mu`, braced as KaTeX allows),
#: and a rule (`\\rule{0pt}{2ex}`, a strut, or a bar that is no value): wide spaces, which never join
#: digit groups, as `\\hspace{…}` is (rules 13).
_LENGTH = r"[-+]?\s*(?:\d+(?:\.\d*)?|\.\d+)\s*(?:pt|pc|in|bp|cm|mm|dd|cc|sp|em|ex|mu|px)(?![A-Za-z])"
_SKIP_RE = re.compile(
    rf"\\(?:kern|mkern|hskip|mskip)(?![A-Za-z])\s*(?:\{{\s*{_LENGTH}\s*\}}|{_LENGTH})"
    r"|\\rule(?![A-Za-z])\s*(?:\[[^\]{}]*\]\s*)?\{[^{}]*\}\s*\{[^{}]*\}"
)
#: Wide spaces are two spaces, never one: so `2 \quad 300` is two numbers, not the thousands 2300
#: (one plain space between digit groups is a thousands separator, see `_PLAIN_GROUPS_RE`).
_WIDE_SPACE_RE = re.compile(r"\\(?:qquad|quad|hfill)(?![A-Za-z])")
#: LaTeX spaces `\,` `\;` `\:` `\ ` and `~`. A row break `\\` is kept whole, even when a space
#: follows it (`1 \\ 2` is two matrix rows): pairs of backslashes are skipped over (group 1, put back),
#: so a lone backslash after them is the only one that can start a space.
_SPACING_RE = re.compile(r"(?<!\\)((?:\\\\)*)\\[,;:> ]|~")
#: One plain space between digit groups (`10 000`, `1 000 000`): thousands, when the first group has
#: 1-3 digits and is a whole number (not after a decimal point, a letter or `^`) and every later group
#: has exactly three. Any other number-space-number is unparsable (see `math_parse`), not a product.
_PLAIN_GROUPS_RE = re.compile(r"(?<![\w.^])\d{1,3}(?: \d{3})+(?!\d)")
# LaTeX spacing between digit groups is a thousands separator: `10\,000`, `10\;000`, `1\ 000`.
_DIGIT_GROUP_SPACE_RE = re.compile(r"(?<=\d)(?:\\[,;:> ]|~)(?=\d{3}(?!\d))")
#: Commands whose braced argument is text (`\\text{cm}`, `\\mathrm{m}`): `TEXT_GROUP_RE`, `_TEXT_OPEN`.
_TEXT_COMMANDS = "text|textbf|textit|textrm|textnormal|textup|texttt|textsf|mbox|hbox|mathrm|mathbf|mathit|mathsf|mathtt|emph"
TEXT_GROUP_RE = re.compile(rf"\\(?:{_TEXT_COMMANDS})\s*\{{([^{{}}]*)\}}")
_DEGREE_RE = re.compile(r"(?:\^\s*\{?\s*\\circ\s*\}?|°|\\circ\b|\\degree\b|\^\s*\{\s*\\text\{\s*o\s*\}\s*\})"
                        r"(?:\s*(?:\\(?:text|mathrm)\s*\{\s*[CF]\s*\}|[CF](?![A-Za-z])))?|℃|℉")  # a temperature too
#: A residue's modulus after the answer (`3 \\pmod{7}`, `3 \\pmod 7`, `3 \\ (\\mathrm{mod}\\ 7)`): the answer is
#: the residue. A bare `\\bmod` / `\\mod` is the operation (`10 \\bmod 3` is 1), not a modulus note. (A match starts only where a whitespace run starts: linear on long runs.)
_MODULUS_TAIL_RE = re.compile(
    r"(?<!\s)\s*(?:\\pmod\s*(?:\{[^{}]{1,40}\}|\w+)|\(\s*\\b?mod\s*(?:\{[^{}]{1,40}\}|\w+)\s*\)"
    r"|\(\s*\\(?:text|mathrm|operatorname)\s*\{\s*mod\s*\}(?:\\[ ,;:]|~|\s)*\w+\s*\))\s*$")
_UNIT_WORDS = (
    "cm|mm|km|m|meters?|metres?|centimeters?|kilometers?|miles?|mph|feet|foot|ft|inch(?:es)?|in|yards?|"
    "sq|square|cubic|units?|dollars?|cents?|euros?|yen|usd|eur|gbp|jpy|pounds?|lbs?|kg|g|grams?|kilograms?|ounces?|oz|"
    "liters?|litres?|l|ml|gallons?|hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s|days?|weeks?|months?|"
    "years?|degrees?|deg|radians?|rad|points?|people|persons?|students?|apples?|items?|times|per|"
    "ways|marbles|books|pages|boxes|cookies|candies|balls|cars|pieces|steps|games|tickets|eggs|bags|"
    "customers|children|kids|friends|pens|pencils|cups|slices|trees|flowers|birds|dogs|cats|animals|"
    "sheep|cows|chickens|toys|stickers|cards|packs|bottles|boys|girls|men|women|workers|problems|"
    "questions|hats|shirts|each|total|only|exactly|approximately|about"
)
#: Units of one letter (m, g, l, h, s) are stripped only when written as text (`5 \\text{ m}`): a bare
#: letter after a number may be a variable (`2x + 3 m` is not `2x + 3`).
_ONE_LETTER_UNITS = "m|g|l|h|s"
_WORD_UNITS = "|".join(u for u in _UNIT_WORDS.split("|") if u not in _ONE_LETTER_UNITS.split("|"))
#: One unit (with a power 2 or 3), then more, separated by spaces or a `/` (`km/h`, `sq. ft`).
_ONE_UNIT = r"(?:{units})(?![A-Za-z])(?:\s*\^\s*\{{?[23]\}}?|\{{?[23]\}}?)?\.?"
_UNIT_TAIL = rf"(?:(?<=[\d}}}}).%])|(?<=\\pi))\s+{_ONE_UNIT}(?:(?:\s*/\s*|\s+){_ONE_UNIT})*\s*$"
_UNIT_TAIL_RE = re.compile(_UNIT_TAIL.format(units=_WORD_UNITS), re.IGNORECASE)
#: The same with one-letter units too (`10 m`, `5 g`, `10 m^2`, litres `2 L`, and kelvin `300 K`),
#: case-sensitive: a lower-case k is a thousand, an upper-case M a million: used when the gold is a
#: plain number, where a letter after the answer's number cannot be a variable the gold has.
_ANY_UNIT_TAIL_RE = re.compile(_UNIT_TAIL.format(units=_WORD_UNITS + f"|(?-i:{_ONE_LETTER_UNITS}|L|K)"),
                               re.IGNORECASE)

# -- words that make text after a number more than a unit (see `_is_unit_like`) -------------------
#: Words of doubt or qualification on an answer (audit 39: one set where three lists disagreed): a
#: bound or estimate (`12 (upper bound)`, `12 (estimate)`), a hedge (`12 (tentative)`, `12 (doubtful)`,
#: `12 (in theory)`, `12 (at best)`, `C (guess)`). Text holding one after an answer takes no plain
#: answer: not a unit here (`_RETRACTIONS`), no remark dropped after "the answer is"
#: (`math_extract._QUALIFIERS`) nor a count in a bracket (`math_restatement._DOUBT_WORDS`). After a
#: choice letter only the explicit doubt of `CHOICE_DOUBT` counts (review of audit 39). Approximation words ("approx", "about") are
#: `math_extract`'s alone: a box's `12 \\text{ approx}` is still 12.
DOUBT_WORDS = frozenset(
    "bound bounds estimate estimated estimation estimating tentative tentatively likely unlikely hopefully "
    "presumably doubtful doubt questionable uncertain unsure theory theoretically guess guessing guessed "
    "unverified unconfirmed unchecked best worst probably possibly maybe perhaps lol".split())
#: "best case", "worst case" (and "best-case scenario"): the condition a question sets ("In the worst
#: case, how many draws…?"), restated after its answer (`12 (worst case)`), no doubt on it (review
#: of audit 39: as before rules 33). Dropped before `DOUBT_WORDS` are looked for (`without_case_phrases`);
#: "at best", "the best estimate" still qualify.
_CASE_PHRASE_RE = re.compile(r"\b(?:best|worst)(?:[ \t-]+|\\[ ,;]|~)(?=(?:case|cases|scenario|scenarios)\b)", re.IGNORECASE)


def without_case_phrases(text: str) -> str:
    """`text` with "best"/"worst" dropped before "case" or "scenario" (see `_CASE_PHRASE_RE`)."""
    return _CASE_PHRASE_RE.sub("", text)


#: Explicit doubt after a choice letter (review of audit 39): `DOUBT_WORDS` less the words an
#: option's text or a neutral remark holds ("best", "estimate", "theory", "likely", "possibly":
#: `C, the best estimate`, `(C) Possibly`), plus "I think/suppose/believe/guess".
CHOICE_DOUBT = (r"not\s+(?:sure|certain|confident)|unsure|uncertain|guess|guessing|guessed|maybe|perhaps|probably"
                r"|tentative|tentatively|doubtful|i\s+(?:think|suppose|believe|guess)")
#: Negations, retractions, hedges and alternatives: text holding one takes the answer back or offers
#: another (`12 \\text{ is wrong}`, `12 \\text{ nope}`, `12 \\text{ rather thirteen}`); a remark after
#: "the answer is 12" holding one is not dropped either (see `math_extract`).
_RETRACTIONS = frozenset(
    "not no nope nah never none nothing neither nor wrong wrongly incorrect incorrectly false untrue invalid "
    "mistake mistaken mistakenly mistakes error erroneous rather instead alternatively alternative alternate "
    "actually wait hmm hmmm except but or xor either unless otherwise else maybe perhaps possibly probably "
    "unsure uncertain guess guessing sorry oops correction scratch ignore disregard retract retracted "
    "kidding joking jk".split()) | DOUBT_WORDS
#: Words that join a second value or a condition (`12 \\text{ to 24}`, `12 \\text{ if counted twice}`).
_CONNECTIVES = _RETRACTIONS | frozenset(
    "and to between if than plus minus versus vs except instead also depending range from respectively "
    "both".split())
#: Number words, magnitudes and fractions: they change the value (`5 \\text{ thousand}`, `3 \\text{ halves}`).
_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety tens hundred hundreds "
    "thousand thousands million millions billion billions trillion trillions dozen dozens k bn mn mln lakh "
    "lakhs crore crores half halves third thirds quarter quarters fourth fourths fifth fifths sixth sixths "
    "seventh sevenths eighth eighths ninth ninths tenth tenths eleventh elevenths twelfth twelfths "
    "hundredth hundredths thousandth thousandths millionth millionths twice thrice double triple "
    "quadruple grand gross score scores kilo mil mill bps ppm ppb permille doubled halved tripled quadrupled "
    "quadrillion quintillion zillion zillions googol myriad mega giga tera micro nano pico milli centi deci hecto "
    "bil tril thou hundo percentile percentiles basis lac lacs mio mrd bln sextillion septillion octillion "
    "nonillion decillion mille permil".split())
#: Number words long enough to be recognised inside another word (`orthirteen`, `xorthirteen`).
_NUMBER_STEMS = (
    "three", "seven", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "thousand", "illion", "dozen")  # (`illion`: million, septillion, zillion, plurals)
#: Operations, comparisons and constants: they change the value (`5 \\text{ squared}`, `5 \\text{ less}`).
_VALUE_WORDS = frozenset(
    "squared cubed negative minus plus over under divided by multiplied less more fewer greater larger "
    "smaller bigger higher lower least most minimum maximum max reciprocal inverse sqrt factorial mod modulo "
    "log ln exp pi e i negated negate negation opposite below above short off extra ago late behind ahead ish "
    "roughly approximately debt debts owed owe owing deficit loss lost earlier later before after past back "
    "away apart too root".split())
#: Words that say how the number is written (`0.3 recurring`, `10 (binary)`, `10 in octal`), but only
#: where they end the phrase (or its bracket) or only a word naming the written form follows
#: (`_READING_MARKERS`: `10 in binary notation`, `0.3 repeating decimal`): such text is never dropped
#: as a unit. `_number_reading` then reads a recurring decimal as its value (`0.3 recurring` is 1/3)
#: and a numeral in a base as the subscript numeral (`10 in octal` is `10_{8}`, as the parser reads
#: it: equal to `10_8`, not to 8 nor 10); one it cannot read (`6 (repeated)`) is unparsable.
#: Before another noun they are part of a noun phrase that counts things (`8 binary strings`, `12 base
#: cases`, `4 hex nuts`, `6 repeating digits`), a unit-like phrase as any other (see `_reads_number`).
_BASE_NAMES = {"binary": 2, "ternary": 3, "octal": 8, "duodecimal": 12, "hex": 16, "hexadecimal": 16}
#: Words saying a decimal recurs, and the words naming the written form that may follow a base's or a
#: recurring decimal's words (`_BASE_READING_RE`, `_RECURRING_WORDS_RE` are built from these).
_RECURRING_WORDS = ("recurring", "repeating", "repeated", "recurrent", "periodic")
_BASE_FORM_WORDS = ("notation", "form", "representation", "system", "numeral", "number")
_RECURRING_FORM_WORDS = ("decimal", "expansion", "notation", "form")
_READING_WORDS = frozenset(_BASE_NAMES) | frozenset(_RECURRING_WORDS) | {"base", "radix"}
_READING_MARKERS = frozenset(_BASE_FORM_WORDS + _RECURRING_FORM_WORDS) | {"base", "radix"}
#: Verbs: a unit is a noun phrase, so a verb makes the text a sentence about the answer, a claim the
#: grader cannot read (`12 \\text{ is the answer}`, `12 \\text{ is bogus}`).
_VERBS = frozenset(
    "is are was were be been being isnt arent wasnt werent equals equal gives means becomes yields "
    "should would could might may must can cannot will shall does do did".split())
_CLAIM_WORDS = _CONNECTIVES | _NUMBER_WORDS | _VALUE_WORDS | _VERBS
#: Short words that, glued to a claim word, still say it (`orthirteen`, `ornot`, `andfive`).
_GLUE_PREFIXES = ("xor", "nor", "not", "and", "but", "or", "no", "to", "vs", "plus", "minus", "than", "else")
#: Beginnings of retractions and of a sign change, for their other forms (`wrongly`, `alternatives`,
#: `negatives`).
_RETRACTION_STEMS = ("wrong", "incorrect", "mistak", "alternat", "otherwis", "retract", "erroneous")
_VALUE_STEMS = _RETRACTION_STEMS + ("negativ",)
#: The shape of unit text: an ASCII letter or `(` first, then letters, spaces and `.`, `'`, `-`, `/`,
#: `(`, `)` only (`km/h`, `o'clock`, `light-years`, `(sandwiches)`); no digit, comma, semicolon,
#: operator or other script, whose words cannot be vetted. At most `_MAX_UNIT_WORDS` words.
_UNIT_SHAPE_RE = re.compile(r"[A-Za-z(][A-Za-z .'/()-]*")
_MAX_UNIT_WORDS = 5
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
#: Text after a number, the answer's last thing (`5 \\text{ cm}`, `12\\ \\mathrm{m}^2`, `20 \\text{ km/h}`,
#: `12 \\text{ sandwiches}`); group 1 is the text. Dropped when it names units (`_is_unit_text`), or
#: when it is unit-like and the gold is a plain number (`normalize(..., number_gold=True)`).
_TEXT_CMD = r"\\(?:text|textrm|textnormal|textit|textbf|mbox|mathrm|mathit|mathsf|hbox)\s*"
_TEXT_TAIL_RE = re.compile(rf"(?:(?<=[\d}}).%])|(?<=\\pi))\s*{_TEXT_CMD}\{{([^{{}}]*)\}}(?:\s*\^\s*\{{?[23]\}}?)?\.?\s*$")
#: A unit written as two texts around a slash (`\\text{ km}/\\text{h}`): group 1 is the first up to its brace.
_TEXT_OVER_TEXT_RE = re.compile(rf"({_TEXT_CMD}\{{[^{{}}]*)\}}\s*/\s*{_TEXT_CMD}\{{")
#: Inline or display maths delimiters inside the answer (`\\(18\\) dollars`, `\\(50\\)%`), where `$` is a
#: space: a lone backslash before the bracket (pairs of backslashes are row breaks: `\\\\(2)` stays).
_INNER_DELIM_RE = re.compile(r"(?<!\\)((?:\\\\)*)\\[()\[\]]")
#: A row break with its spacing (`\\\\[6pt]`, `\\\\[-1ex]`): the row break only.
_ROW_SKIP_RE = re.compile(rf"(?<!\\)((?:\\\\)+)\s*\[\s*{_LENGTH}\s*\]")
#: A comma set without LaTeX's space after it: `{,}`, or written as text (`\\text{,}`, `\\mathrm{,}`).
#: Between digits it is a thousands separator or a decimal comma (see `_comma_chain`); anywhere else
#: it is a plain comma (`(a{,}b)` is a pair, never the product ab).
_COMMA_SEP = rf"(?:\\(?:{_TEXT_COMMANDS})\s*\{{\s*,\s*\}}|(?<!\\)\{{\s*,\s*\}})"
#: A run of digit groups joined by such commas or plain ones (group 1; `_comma_chain` leaves a run of
#: plain commas only as it is), or one such comma elsewhere. A run starts only where a digit run
#: starts that no digit and comma precede (`1,000{,}000` is one run, not `000{,}000` after `1,`), so
#: the scan is linear.
_COMMA_RE = re.compile(rf"((?<!\d)(?<!\d,)\d+(?:(?:{_COMMA_SEP}|,)\d+)+)|{_COMMA_SEP}")
_DIGITS_RE = re.compile(r"\d+")
#: When the gold is a plain number, units in other LaTeX forms: a fraction of texts
#: (`\\frac{\\text{km}}{\\text{h}}`, `\\frac{\\text{m}}{\\text{s}^2}`; group 1 and 2 the texts, group 3 a
#: power 2 or 3 of the lower one), rewritten as one text (`\\text{km/h}`) ...
_TEXT_FRAC_RE = re.compile(
    rf"\\frac\s*\{{\s*{_TEXT_CMD}\{{([^{{}}]*)\}}\s*\}}"
    rf"\s*\{{\s*{_TEXT_CMD}\{{([^{{}}]*)\}}\s*(?:\^\s*\{{?\s*([23])\s*\}}?)?\s*\}}")
#: ... a text unit after a number and a slash (`50/\\text{hour}`: so much per hour; group 1), and a
#: text unit raised to a negative power (`\\text{h}^{-1}`) at the end.
_SLASH_TEXT_TAIL_RE = re.compile(rf"(?<=[\d.])\s*/\s*{_TEXT_CMD}\{{([^{{}}]*)\}}\s*$")
_INVERSE_TEXT_TAIL_RE = re.compile(
    rf"(?<=[\d}}])\s*{_TEXT_CMD}\{{([^{{}}]*)\}}\s*\^\s*(?:\{{\s*-\s*[1-3]\s*\}}|-\s*[1-3])\s*$")
#: An ordinal's suffix after a whole number, raised or glued, the whole answer once text is unwrapped
#: (`4^{\\text{th}}` is `4^{ th }`, `4^{th}`, `\\text{2nd}` is `2nd`): group 1 the number, then the suffix.
_ORDINAL_RE = re.compile(r"(\d+)\s*(?:\^\s*(?:\{\s*(st|nd|rd|th)\s*\}|(st|nd|rd|th))|(st|nd|rd|th))")
#: A plain number with plain lower-case words after it (`12 cupcakes`, `10% discount`, `3/4 of the
#: pizza`), the whole answer: group 1 the number, group 2 the words (see `_plain_word_tail`).
_PLAIN_WORD_TAIL_RE = re.compile(
    r"([-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|\\frac\{\d+\}\{\d+\}|(?:\d+\s+)?\d+/\d+)"
    r"(?:\s*\\cdot\s*\d+)?%?)\s+([a-z]+(?:(?:\s+|-|')[a-z]+)*)")
#: Short words that may join the words of such a tail (`12 cups of flour`, `1/2 of the cake`), never
#: last (nor `a` first); any other word has three letters or more.
_TAIL_LINK_WORDS = frozenset("of in on at a an".split())
#: Words a plain tail may not hold, beyond `_is_unit_like`'s denylist: they bound, hedge, withdraw
#: or operate on the number rather than name what it counts (`12 onwards`, `12 tops`, `12 unknown`,
#: `12 with remainder`); and endings of adverbs, adjectives and participles (`hypothetically`,
#: `upwards`, `exceeding`, `assumed`, `unsolvable`, `ambiguous`). A noun after a number is plural or
#: a mass noun, so few are lost: `12 servings` and `12 vegetables` still read as 12.
_TAIL_NOT_NOUNS = frozenset(
    "tops beyond undefined impossible unknown estimate approx decrease increase down drop remainder "
    "plus minus max min maximum minimum more less fewer extra left over under above below off ago "
    "later earlier before after apart away back ahead behind short shy lower higher greater smaller "
    "larger bigger times twice thrice squared cubed dozen hundred thousand million billion trillion "
    "score grand with without and but not nor yet than then unless except excluding including each "
    "only just total sum difference product quotient".split())
_TAIL_NOT_NOUN_ENDINGS = ("ly", "ward", "wards", "ing", "ed", "able", "ible", "ous", "ive")
#: Nouns of five letters or more with such an ending (shorter words are not judged by it: `red`).
_TAIL_NOUNS_WITH_THOSE_ENDINGS = frozenset(
    "family supply assembly butterfly dragonfly jelly belly string building painting ceiling evening "
    "morning wedding pudding frosting icing stuffing filling topping serving helping offering drawing "
    "olive".split())
_VOWELS = frozenset("aeiou")
_UNIT_PART_RE = re.compile(rf"(?:(?:{_UNIT_WORDS})(?:\^\{{?[23]\}}?)?|\^\{{?[23]\}}?)", re.IGNORECASE)
_UNIT_SEP_RE = re.compile(r"[\s/*]+")
#: A unit of several letters glued to a number, the whole answer: `5cm`, `12km^2`.
_GLUED_UNIT_RE = re.compile(
    r"^([-+]?(?:\d+(?:\.\d*)?|\.\d+))(?:cm|mm|km|kg|mg|ml|ft|in|mph|kph|hrs?|mins?|secs?|lbs?|oz)"
    r"(?:\^?\{?[23]\}?)?$")
#: Unicode maths (only looked at when the answer is not plain ASCII): vulgar fractions (`2½` is the
#: mixed number 5/2), superscript powers (`x²`, `10⁻³`) and roots (`√2`, `2√3`, `√(x+1)`, `∛8`;
#: `√23` is the root of 23, a whole number, unlike LaTeX's `\\sqrt23`).
_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
           "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅐": (1, 7), "⅛": (1, 8), "⅜": (3, 8),
           "⅝": (5, 8), "⅞": (7, 8), "⅑": (1, 9), "⅒": (1, 10)}
_VULGAR_RE = re.compile("[" + "".join(_VULGAR) + "]")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RE = re.compile("[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_ROOT_NUMBER_RE = re.compile(r"([√∛∜])\s*(\d+(?:\.\d+)?)")
_ROOT_CMD = {"√": "\\sqrt ", "∛": "\\sqrt[3] ", "∜": "\\sqrt[4] "}


#: Unicode signs with a LaTeX meaning: full-width, Arabic and small percent signs, the empty set, ℝ.
_UNICODE_SIGNS = {"％": "%", "٪": "%", "﹪": "%", "∅": "\\varnothing ", "ℝ": "\\mathbb{R}"}
_UNICODE_SIGNS_RE = re.compile("[" + "".join(_UNICODE_SIGNS) + "]")


#: Characters that show nothing (zero-width space, non-joiner, joiner, word joiner, byte-order mark):
#: dropped, so `1\u200b3` is the 13 it shows.
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def _unicode_math(s: str) -> str:
    """`s` without zero-width characters (see `_ZERO_WIDTH_RE`), with Unicode fractions, superscript
    powers and roots written in LaTeX (see `_VULGAR`), and percent signs, `∅` and `ℝ` as LaTeX (see
    `_UNICODE_SIGNS`)."""
    s = _ZERO_WIDTH_RE.sub("", s)
    s = _UNICODE_SIGNS_RE.sub(lambda m: _UNICODE_SIGNS[m.group()], s)
    s = _VULGAR_RE.sub(lambda m: "\\frac{%d}{%d}" % _VULGAR[m.group()], s)
    s = _SUPERSCRIPT_RE.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPTS) + "}", s)
    s = _ROOT_NUMBER_RE.sub(lambda m: _ROOT_CMD[m.group(1)].rstrip() + "{" + m.group(2) + "}", s)
    return s.replace("√", _ROOT_CMD["√"]).replace("∛", _ROOT_CMD["∛"]).replace("∜", _ROOT_CMD["∜"])


#: A degree mark on the number a trigonometric function is applied to is a conversion to radians
#: (`\\sin 30^\\circ` is sin(π/6)); everywhere else degree marks are dropped (`30^\\circ` is 30).
_TRIG_DEGREES_RE = re.compile(
    r"(\\(?:sin|cos|tan|cot|sec|csc)(?:\s*\^\s*(?:\{[^{}]*\}|\d))?\s*(?:\(\s*)?)"
    r"(-?\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree\b)")
#: The currency signs and codes read before an answer's number, with the unit word each names
#: (`math_units.answer_unit`; None: money with no known unit word). The one list every currency
#: regex here and in `math_units` is built from; a code ending in "." may be written without it.
#: The dollar sign is spelt out in each regex (`\\$`, `$`, `US$`, `\\textdollar`), as each reads it
#: its own way.
CURRENCY_WORDS = {"$": "dollars", "USD": "dollars", "€": "euros", "EUR": "euros", "£": "pounds", "GBP": "pounds",
                  "¥": "yen", "JPY": "yen", "Rs.": None}
#: The signs and codes but the dollar sign as a regex alternation (a code never followed by a letter).
CURRENCY_ALT = "|".join(
    re.escape(k.rstrip(".")) + ("\\.?" if k.endswith(".") else "") + ("(?![A-Za-z])" if k[0].isalpha() else "")
    for k in CURRENCY_WORDS if k != "$")
#: The signs but the dollar sign, and `\\$`, as an alternation (a sign written as text: `\\text{€}5`).
CURRENCY_SIGN_ALT = "|".join([r"\\\$"] + [re.escape(k) for k in CURRENCY_WORDS if k != "$" and not k[0].isalpha()])
#: A currency sign or code before the answer's number, dropped (`\\$5`, `€5`, `USD 5`, `EUR 5`: 5, never the
#: product of the letters E, U, R and 5); `math_units.answer_unit` reads it as the answer's unit.
_CURRENCY_RE = re.compile(rf"^(-?)\s*(?:\\\$|\$|{CURRENCY_ALT})\s*(?=[\d.])")
#: A leading currency spelt another way, read before the dollar signs are: `US\\$5`, `US$5` (US dollars)
#: and `\\textdollar 5` (the text-mode dollar sign) as `USD 5`, and a sign written as text (`\\text{\\$}5`)
#: as the sign (`\\$5`). Group 1 a minus, group 2 the sign in the text.
_MONEY_SPELLING_RE = re.compile(
    r"^(-?\s*)(?:US\s*\\?\$|\\textdollar(?![A-Za-z])\s*(?:\{\s*\})?|\\(?:text|textrm|mathrm)\s*\{\s*(" + CURRENCY_SIGN_ALT + r")\s*\})"
    r"(?=\s*-?\s*[\d.])")
_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:\\?%)?$")
_MIXED_RE = re.compile(r"^(-?)(\d+)\s+(\d+)\s*/\s*(\d+)$")
# A choice answer: an optional "(", the letter, an optional ")", then the end, punctuation, or the
# option's own text ("(C) 12"). Never followed directly by another letter ("Carrots" names no choice).
#: After a choice letter: an operation or relation, which makes the letter a variable (`c = 12`, `a^2`);
#: not `/`, which separates hedged choices (`A/B`).
_VARIABLE_AFTER_RE = re.compile(r"\s*(?:[=^_+*<>≠≤≥]|\\(?:cdot|times|le|ge|leq|geq|ne|neq|lt|gt)(?![A-Za-z]))")
#: After an upper-case letter: a relation, `^` or `_` (the same, less `+`, `*`, `\\cdot`, `\\times`,
#: which mark up a choice: `B*`, `C+`), which makes it a variable (`C = 12`, `A^2`).
_RELATION_AFTER_RE = re.compile(r"\s*(?:[=^_<>≠≤≥]|\\(?:le|ge|leq|geq|ne|neq|lt|gt)(?![A-Za-z]))")
#: After a lower-case letter: a lower-case word, which makes it the article ("a negative number"),
#: but for the words that list choices ("a or b").
_PROSE_AFTER_RE = re.compile(r"\s+(?!(?:or|and|nor)\b)[a-z]{2,}")
_CHOICE_HEAD_RE = re.compile(r"^\s*(?:(?i:option|choice)\s*:?\s*)?\(?\s*([A-Ea-e])\s*\)?(?![A-Za-z])")  # also "Option B"
#: A judgement right after a choice letter that rules the option out (`(B) is wrong`, `B eliminated`,
#: `(B) is not correct`), rather than the option's own text (`(B) No solution`, `(E) none of these`).
_RULED_OUT = (r"(?:wrong|incorrect|untrue|eliminated|excluded|rejected|ruled\s+out|(?:a\s+)?distractor|fails(?!\s+to\b)|failed"
              r"|not\s+(?:it|correct|right|the\s+answer))\b|[\u2717\u2718\u274c]")
#: Judgements that are also an option's own text when options read "A. True  B. False" or "A. Yes
#: B. No" (`B. False`, `(A) No`, `D: Not possible`, `B (False)`): they rule the option out only after
#: "is" (`C is false`), or after a bare letter with nothing but spaces between (`C false`, `C no`).
#: After a label mark (`B.`, `B:`, `B)`, `(B)`, "Option B") or in brackets they are the option's text.
_VERDICT = r"(?:false|invalid|impossible|no|nope|not\s+(?:true|valid|possible))"
_RULED_OUT_RE = re.compile(rf"[\s.:)\-]*(?:(?:is|was|seems|looks)\s+)?{_RULED_OUT}"
                           rf"|[\s.:)\-]*(?:is|was|seems|looks)\s+{_VERDICT}\b", re.IGNORECASE)
_BARE_VERDICT_RE = re.compile(rf"\s*{_VERDICT}[\s.!]*$", re.IGNORECASE)
#: `_RULED_OUT` (or "nope") as a bracketed remark anywhere after the letter (`B (wrong)`, `(B) 12
#: (eliminated)`); "(no)" only after other text (`(B) 12 (no)`), as right after the letter it is the
#: option's text (`B (No)`).
_RULED_OUT_REMARK_RE = re.compile(rf"\(\s*(?:nope|{_RULED_OUT})\s*\)", re.IGNORECASE)
_NO_REMARK_RE = re.compile(r"\(\s*no\s*\)", re.IGNORECASE)
# Another choice letter standing alone later in the answer ("A or B", "(A), (B)", "A/B").
_OTHER_UPPER_RE = re.compile(r"(?<![A-Za-z\\])([A-E])(?![A-Za-z])")
_OTHER_ANY_RE = re.compile(r"(?<![A-Za-z\\])([A-Ea-e])(?![A-Za-z])")
# An answer that is nothing but letters and separators ("a or b", "A, B, C"): lower case counts too.
_ONLY_LETTERS_RE = re.compile(r"^(?:[\s(),;/&.:+-]|\b(?:or|and)\b|(?<![A-Za-z])[A-Ea-e](?![A-Za-z]))*$")


# Markdown emphasis around text: "**Answer:** 42", "The answer is **18**.", "*7*". The opening mark may
# not follow a letter, digit or closing bracket and the closing one may not precede one, so the
# Python power `x**2 + y**2` and products `2*3*4` are left alone.
_BOLD_RE = re.compile(r"(?<![\w)\]}*])\*\*(?=[^\s*])([^\n]*?[^\s*])\*\*(?![\w(*])")  # (the rule `_strip_bold` applies)
_DOUBLE_STAR_RE = re.compile(r"(?=\*\*)")
_BOLD_BEFORE_RE = re.compile(r"[\w)\]}*]")
_BOLD_AFTER_RE = re.compile(r"[\w(*]")
_ITALIC_RE = re.compile(r"(?<![\w)\]}*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w(*])")


@functools.lru_cache(maxsize=64)  # (64 texts of a batch; few enough that long outputs hold little memory)
def strip_markdown(text: str) -> str:
    """`text` without markdown bold/italic marks (`**18**` is 18, not a power). (Cached: the
    extraction rules ask it of the same model output more than once.)"""
    if "*" not in text:
        return text
    return _ITALIC_RE.sub(r"\1", _strip_bold(text))


def _strip_bold(text: str) -> str:
    """`_BOLD_RE.sub(r"\\1", text)`, in linear time: the expression's lazy scan from each `**` to
    the end of its line made a line of openers without a closer (` **a` repeated, a degenerate
    output) quadratic: 13 s for 64 KB. Each opener's match is the first closing mark after it on
    its line, found by bisection among the closing marks."""
    if "**" not in text:
        return text
    n = len(text)
    marks = [m.start() for m in _DOUBLE_STAR_RE.finditer(text)]  # overlapping: `***` holds two

    def opens(k: int) -> bool:  # (?<![\w)\]}*])\*\*(?=[^\s*])
        before = text[k - 1] if k else ""
        after = text[k + 2] if k + 2 < n else ""
        return not _BOLD_BEFORE_RE.match(before) and bool(after) and not after.isspace() and after != "*"

    def closes(k: int) -> bool:  # [^\s*]\*\*(?![\w(*])
        before = text[k - 1] if k else ""
        after = text[k + 2] if k + 2 < n else ""
        return bool(before) and not before.isspace() and before != "*" and not _BOLD_AFTER_RE.match(after)

    closers = [k for k in marks if closes(k)]
    newlines = [m.start() for m in re.finditer("\n", text)]
    out, pos = [], 0
    for i in marks:
        if i < pos or not opens(i):
            continue
        c = bisect_left(closers, i + 3)  # the content is one character at least
        if c == len(closers):
            break  # no closer after this opener, nor after any later one
        line_end = bisect_left(newlines, i + 2)
        if line_end < len(newlines) and newlines[line_end] < closers[c]:
            continue  # the first closer is on a later line
        out += [text[pos:i], text[i + 2:closers[c]]]
        pos = closers[c] + 2
    out.append(text[pos:])
    return "".join(out)


# Names that are maths, not words: a letters-only answer made of these (and single letters) is algebra.
_MATH_NAMES = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "arccot", "arcsec", "arccsc",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp", "ln", "log", "lg", "det", "gcd", "lcm", "max", "min", "floor", "ceil", "sqrt", "pi", "oo", "inf",
    "infty", "infinity", "or", "and", "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta",
    "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega",
}
_WORDS_RE = re.compile(r"[A-Za-z][A-Za-z' -]*")


def word_answer(text: str) -> str | None:
    """The case-folded text of a word answer ("Yes", "Monday", "no solution"), else None.

    A word answer is letters, spaces, apostrophes and hyphens only, with at least one run of two or
    more letters that is not a function, constant or Greek name (so `x`, `x y`, `\\sin x`, `\\pi r`
    stay algebra). Why: read as maths, `east` is e*a*s*t and equals `seat`, and `no` equals `on`.
    The price: a bare product of variables written without a space or operator (`ab`) is a word.
    Expects normalised text (`\\text{…}` already unwrapped).
    """
    s = text.strip().rstrip(".!").strip()
    if not s or len(s) > 200 or not _WORDS_RE.fullmatch(s):
        return None
    if not any(run.lower() not in _MATH_NAMES for run in re.findall(r"[A-Za-z]{2,}", s)):
        return None
    return " ".join(s.casefold().split())


def _inner_delim(m: re.Match) -> str:
    """A `\\(`, `\\)`, `\\[` or `\\]` inside the answer as a space, the row breaks before it kept."""
    return m.group(1) + " "


def _strip_delims(s: str) -> str:
    changed = True
    while changed:
        changed = False
        s = s.strip()
        for a, b in _DELIMS:
            if len(s) >= len(a) + len(b) and s.startswith(a) and s.endswith(b):
                s = s[len(a):len(s) - len(b)]
                changed = True
                break
    return s


#: `\\dfrac`, `\\tfrac`, `\\cfrac` (with its optional `[l]`) are `\\frac`: `2\\dfrac{1}{2}` is a mixed number.
_FRAC_VARIANT_RE = re.compile(r"\\(?:[dt]frac|cfrac(?:\s*\[[lrc]\])?)(?![A-Za-z])")
#: `\\framebox[width][pos]{x}` is the box `\\fbox{x}`.
_FRAMEBOX_RE = re.compile(r"\\framebox\s*(?:\[[^\]]*\]\s*)*")
#: `\\hspace{1cm}`, `\\vspace*{…}`: a wide space (two spaces: it never joins digit groups).
_HSPACE_RE = re.compile(r"\\[hv]space\s*\*?\s*\{[^{}]*\}")
#: Markup dropped with its first (braced) argument: `\\phantom{x}` (invisible), and the colour of
#: `\\color{red} x`, `\\textcolor{red}{x}`, `\\colorbox{red}{x}` (x, after it, is kept).
_MARKUP_RE = re.compile(r"\\(?:[hv]?phantom|color|textcolor|colorbox)\s*(?:\[[^\]{}]*\]\s*)?\{")
#: The real numbers as a set (not `\\mathbb{R}^2`, `\\mathbb{R}_{>0}`): the interval (-∞, ∞).
_REALS_CMD_RE = re.compile(r"(?:\\(?:mathbb|Bbb)\s*(?:\{\s*R\s*\}|R)|\\R)(?![A-Za-z])(?!\s*[\^_])")
_REALS = "(-\\infty, \\infty)"
#: The empty set: `\\{\\}`.
_EMPTY_SET_CMD_RE = re.compile(r"\\(?:emptyset|varnothing)(?![A-Za-z])")
_EMPTY_SET = "\\{\\}"
#: The whole answer in words: "all real numbers" (`\\text{All real numbers}`), "the empty set" or "no
#: solution(s)" (an equation's solution set is empty: so `\\text{no solution}` = `\\emptyset`).
_REALS_WORDS_RE = re.compile(
    r"(?:x\s*(?:\\in|in)\s*)?(?:the\s+set\s+of\s+)?(?:(?:all|any|every)\s+)?real\s+numbers?|all\s+reals",
    re.IGNORECASE)
_EMPTY_SET_WORDS_RE = re.compile(r"(?:the\s+)?(?:empty|null)\s+set|no\s+solutions?", re.IGNORECASE)
#: The opening of a text group, whose content is words (see `_percent`).
_TEXT_OPEN = rf"\\(?:{_TEXT_COMMANDS})\s*\{{"
_PERCENT_WORD_RE = re.compile(r"(?<![A-Za-z])per\s*cent(?![A-Za-z])", re.IGNORECASE)
_TEXT_PERCENT_RE = re.compile(rf"({_TEXT_OPEN})\s*%")
_EMPTY_TEXT_RE = re.compile(rf"{_TEXT_OPEN}\s*\}}")
#: Space between a number and its percent sign (`50 %`, left by `50 \\text{ percent}`): `50%`, so that a
#: gold written so is a plain number (`math._NUMBER_GOLD_RE`).
_SPACE_PERCENT_RE = re.compile(r"(?<=[\d.])\s+%")
#: Magnitude words after a number (`5 thousand`, `5 \\text{ million dollars}`, `2 dozen`), and a `k`
#: written as text (`5\\text{k}`; a bare `5k` may be 5 times a variable k). Plurals are not
#: converted (`5 \\text{ hundreds}` may count a place value), nor dropped as units; but for the Indian
#: lakh (lac) and crore, which count no place (`12 \\text{ lakhs}` is 1200000).
_MAGNITUDES = {"hundred": 10 ** 2, "thousand": 10 ** 3, "million": 10 ** 6, "billion": 10 ** 9,
               "trillion": 10 ** 12, "quadrillion": 10 ** 15, "quintillion": 10 ** 18, "sextillion": 10 ** 21,
               "septillion": 10 ** 24, "octillion": 10 ** 27, "nonillion": 10 ** 30, "decillion": 10 ** 33,
               "dozen": 12, "lakhs": 10 ** 5, "lakh": 10 ** 5, "lacs": 10 ** 5, "lac": 10 ** 5,
               "crores": 10 ** 7, "crore": 10 ** 7}
_MAGNITUDE_RE = re.compile(
    rf"(?<=\d)\s*((?:{_TEXT_OPEN})?)\s*((?:(?:{'|'.join(_MAGNITUDES)})(?![A-Za-z])\s*)+)", re.IGNORECASE)
#: What every magnitude word holds (a cheap test before the regex: most answers have none).
_MAGNITUDE_HINTS = ("hundred", "thousand", "illion", "dozen", "lakh", "lac", "crore")
_KILO_RE = re.compile(rf"(?<=\d)\s*({_TEXT_OPEN})\s*k(?![A-Za-z])")
#: A larger product of magnitude words is left as words (then the answer is no number at all).
_MAX_MAGNITUDE = 10 ** 33
#: An answer that starts with a currency sign before its number (`\\$12`, a lone `$12` with no other
#: `$`, `£12`, `USD 12`): an amount of money, where a letter after the number is a magnitude.
_CURRENCY_LEAD_RE = re.compile(rf"-?\s*(?:\\\$|\$(?![^$]*\$)|{CURRENCY_ALT})\s*[\d.]")
#: The amount right after the leading currency sign, once `normalize` has dropped a dollar sign
#: (`12`, `- 12`, `£12`, `USD 1,500`, `Rs. 2.5`): group 1 the sign and currency, group 2 the number.
_MONEY_AMOUNT_RE = re.compile(
    rf"(\s*-?\s*(?:{CURRENCY_ALT})?\s*)(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)")
#: A magnitude of money right after that amount (see `_money_magnitude`): an upper-case K, M or B, or
#: bn, mn, mln, bln, mio in any case, glued, spaced or as text (`12M`, `12 M`, `12\\text{ K}`,
#: `1.2\\text{bn}`, `5 mln`); group 1 or 2 is it.
_MONEY_WORD = "(?i:bln|bn|mln|mio|mn)"
_MONEY_SUFFIX_RE = re.compile(
    rf"\s*(?:{_TEXT_OPEN}\s*({_MONEY_WORD}|[KMB])\s*\}}|({_MONEY_WORD}|[KMB])(?![A-Za-z]))")
#: A lower-case k, m or b after that amount, glued (`12k`, `12m`, `12\\text{m}`), or a spaced k (`12 k`):
#: group 1, 2 or 3. Read as a magnitude only when the gold is a plain number (then no variable) and
#: the letter ends the answer (see `_money_magnitude`).
_MONEY_LETTER_RE = re.compile(rf"{_TEXT_OPEN}([kmb])\}}|([kmb])(?![A-Za-z])|\s+(k)(?![A-Za-z])")
_MONEY_SUFFIXES = {"k": 10 ** 3, "m": 10 ** 6, "b": 10 ** 9, "bn": 10 ** 9, "bln": 10 ** 9, "mn": 10 ** 6,
                   "mln": 10 ** 6, "mio": 10 ** 6}
#: What may follow an upper-case or worded money magnitude: words only, bare or as text
#: (`\\$12M dollars`, `\\$5M \\text{ per year}`): no digit, operator or bracket, no second amount.
_MONEY_TAIL_RE = re.compile(rf"(?:\s*(?:{_TEXT_OPEN}[A-Za-z ./]*\}}|[A-Za-z./]+(?![A-Za-z./])))*\s*")


def _markup(s: str) -> str:
    """`s` with markup that does not change the value rewritten or dropped: `\\dfrac` as `\\frac`,
    `\\framebox` as `\\fbox`, `\\hspace{…}` as a wide space, `\\phantom{…}` and colours dropped (see
    `_MARKUP_RE`), and the sets `\\mathbb{R}` and `\\emptyset` in the forms the parser reads."""
    if "frac" in s:
        s = _FRAC_VARIANT_RE.sub(r"\\frac", s)
    if "framebox" in s:
        s = _FRAMEBOX_RE.sub(r"\\fbox", s)
    if "space" in s:
        s = _HSPACE_RE.sub("  ", s)
    if "phantom" in s or "color" in s:
        s = _drop_markup(s)
    if "R" in s:
        s = _REALS_CMD_RE.sub(lambda m: _REALS, s)
    if "emptyset" in s or "varnothing" in s:
        s = _EMPTY_SET_CMD_RE.sub(lambda m: _EMPTY_SET, s)
    if "\\over" in s:
        s = _over(s)
    return s


#: TeX's `\\over` (not `\\overline` and the like).
_OVER_RE = re.compile(r"\\over(?![A-Za-z])")
#: At most this many `\\over` are rewritten in one answer (each costs a pass over it); more are left
#: as they are, and the parser refuses them.
_MAX_OVERS = 8


def _over(s: str) -> str:
    """`s` with TeX's `{a \\over b}` written as `\\frac{a}{b}`: the numerator is what comes before
    `\\over` in its brace group, the denominator what follows, braces inside allowed
    (`{\\sqrt{3} \\over 2}`), and the group stays a group (`\\sqrt{a \\over b}` is `\\sqrt{\\frac{a}{b}}`);
    outside any group the whole answer is the fraction (`3 \\over 4`)."""
    for _ in range(_MAX_OVERS):
        m = _OVER_RE.search(s)
        if m is None:
            break
        start = _enclosing_brace(s, m.start())
        if start is None:
            return f"\\frac{{{s[:m.start()].strip()}}}{{{s[m.end():].strip()}}}"
        span = brace_content(s, start)
        if span is None:
            break
        a, b = span
        s = f"{s[:a]}\\frac{{{s[a:m.start()].strip()}}}{{{s[m.end():b].strip()}}}{s[b:]}"  # the group stays: `\\sqrt{a \\over b}`
    return s


def _enclosing_brace(s: str, pos: int) -> int | None:
    """The index of the unescaped `{` that opens the group `s[pos]` is in, or None at the top level."""
    depth = 0
    for j in range(pos - 1, -1, -1):
        c = s[j]
        if c in "{}" and (j == 0 or s[j - 1] != "\\"):
            if c == "}":
                depth += 1
            elif depth:
                depth -= 1
            else:
                return j
    return None


def _drop_markup(s: str) -> str:
    """`s` without each `_MARKUP_RE` command and its braced argument (nested braces allowed). One pass
    from left to right; a command whose argument is never closed is left as it is (and the parser
    then refuses the answer)."""
    out, pos = [], 0
    while True:
        m = _MARKUP_RE.search(s, pos)
        if m is None:
            break
        span = brace_content(s, m.end() - 1)
        if span is None:
            break
        out.append(s[pos:m.start()])
        pos = span[1] + 1
    out.append(s[pos:])
    return "".join(out)


def brace_content(text: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the content of the {...} group opening at text[start] (escaped braces `\\{`
    do not count), or None when it is never closed."""
    depth = 0
    for j in range(start, len(text)):
        c = text[j]
        if c in "{}" and (j == 0 or text[j - 1] != "\\"):
            depth += 1 if c == "{" else -1
            if depth == 0:
                return start + 1, j
    return None


def _percent(s: str) -> str:
    """`s` with every way of writing the percent sign as `%` right after its number: `\\%`, the words
    "percent" and "per cent", and a sign or word at the start of a text group (`25 \\text{\\%}`,
    `25 \\text{ percent}`, moved before the group, so it is never dropped as a unit: 0.5 percent is not
    0.5). Full-width and Arabic signs were made `%` by `_unicode_math`."""
    s = s.replace("\\%", "%")
    if "cent" in s.lower():
        s = _PERCENT_WORD_RE.sub("%", s)
    if "%" in s and "\\" in s:
        s = _EMPTY_TEXT_RE.sub(" ", _TEXT_PERCENT_RE.sub(r"%\1", s))
    return _SPACE_PERCENT_RE.sub("%", s) if "%" in s else s


def _magnitudes(s: str, money: bool = False, number_gold: bool = False) -> str:
    """`s` with magnitude words after a number as a product (`5 \\text{ thousand}` is `5 \\cdot 1000`,
    `2 dozen eggs` is `2 \\cdot 12 eggs`, `5\\text{k}` is `5 \\cdot 1000`): they change the value, so they
    are never dropped as units. When `money` (the answer starts with a currency sign), a K, M or B
    after the amount is one too (`\\$12\\text{K}` is 12000, not 12 kelvin; see `_money_magnitude`)."""
    changed = 0
    if money:
        s, changed = _money_magnitude(s, number_gold)
    low = s.lower()
    if any(hint in low for hint in _MAGNITUDE_HINTS):
        s, words = _MAGNITUDE_RE.subn(_magnitude, s)
        changed += words
    if "k" in s and "\\" in s:
        s, kilo = _KILO_RE.subn(r" \\cdot 1000 \1", s)
        changed += kilo
    return _EMPTY_TEXT_RE.sub(" ", s) if changed and "\\" in s else s


def _money_magnitude(s: str, number_gold: bool) -> tuple[str, int]:
    """`s`, an answer that started with a currency sign, with a magnitude right after its amount as a
    product (`12M` is `12 \\cdot 1000000`), and 1; else `s` and 0. Only the amount right after the
    sign is read so (`\\$5 + 5m` is not `5 + 5 \\cdot 1000000`), and only when words at most follow:
    - K, M, B (upper case: a lower-case m is as likely a metre or a minute) and bn, mn, mln, bln,
      mio, glued, spaced or as text (`\\$12M`, `\\$12 M`, `\\$12\\text{ K}`, `\\$1.2\\text{bn}`);
    - a lower-case k, m or b glued to the amount (`\\$12k`, `\\$12m`, `\\$12\\text{m}`; a k spaced too,
      `\\$12\\,k`) only when the gold is a plain number and the letter ends the answer: with an
      algebraic gold `\\$12b` is 12 times b (the cost of b items), and `\\$12 m` stays 12 metres."""
    amount = _MONEY_AMOUNT_RE.match(s)
    if amount is None:
        return s, 0
    suffix = _MONEY_SUFFIX_RE.match(s, amount.end())
    if suffix is not None:
        rest_ok = _MONEY_TAIL_RE.fullmatch(s, suffix.end()) is not None
    elif number_gold:
        suffix = _MONEY_LETTER_RE.match(s, amount.end())
        rest_ok = suffix is not None and s[suffix.end():].strip() in ("", ".")
    else:
        rest_ok = False
    if not rest_ok:
        return s, 0
    word = next(g for g in suffix.groups() if g)
    number = amount.group(2).replace(",", "")
    return f"{amount.group(1)}{number} \\cdot {_MONEY_SUFFIXES[word.lower()]} {s[suffix.end():]}", 1


def _magnitude(m: re.Match) -> str:
    """One run of magnitude words (group 2) as ` \\cdot factor`, the text group it opened kept."""
    factor = 1
    for word in m.group(2).split():
        factor *= _MAGNITUDES[word.lower()]
    if factor > _MAX_MAGNITUDE:
        return m.group()
    return f" \\cdot {factor} {m.group(1)}"


def _set_words(s: str) -> str:
    """The whole answer "all real numbers" as `(-\\infty, \\infty)`, "the empty set" or "no solution(s)"
    as `\\{\\}`."""
    if _REALS_WORDS_RE.fullmatch(s):
        return _REALS
    if _EMPTY_SET_WORDS_RE.fullmatch(s):
        return _EMPTY_SET
    return s


def _latex_spacing(s: str) -> str:
    """`s` without sizing commands (`\\left`, `\\big`), with LaTeX spaces as spaces (wide ones as
    two), thin spaces between digit groups removed (`10\\,000`) and `\\\\` row breaks kept."""
    s = _LEFT_DOT_RE.sub("", s)
    s = _SHOWN_AS_IS_RE.sub(lambda m: m.group(1) or "", s)
    s = _DROP_RE.sub("", s)
    s = _NAMED_SPACE_RE.sub(r"\\,", s)
    s = _SKIP_RE.sub("  ", s)
    s = _WIDE_SPACE_RE.sub("  ", s)
    s = s.replace("\\!", "")  # a negative thin space, as in `1,\!000`
    s = _DIGIT_GROUP_SPACE_RE.sub("", s)
    return _SPACING_RE.sub(_spacing, s)


def _spacing(m: re.Match) -> str:
    """A LaTeX space as a plain space, the `\\\\` row breaks before it kept (see `_SPACING_RE`)."""
    return (m.group(1) or "") + " "


def _comma_chain(m: re.Match) -> str:
    """Digit groups joined by `{,}` or `\\text{,}` (see `_COMMA_RE`) as the number they write, or a
    lone such comma elsewhere as a plain comma.

    - every group after the first has three digits, the first no leading zero: thousands
      (`1{,}000`, `12{,}345{,}678`); Indian grouping, twos then a last three (`1{,}00{,}000`), too;
    - a run with plain commas too (`1,000{,}000`) is thousands when its first group has 1-3 digits and
      every later one three (1000000), else left unparsable: a group after a plain comma is never the
      whole part of a decimal comma (`1,000{,}000` is not 1,000.000, i.e. 1000);
    - a run right after a decimal point (`1.5{,}3`, `3.141{,}592`) is left unparsable: US-style
      grouped decimals or a European thousands point, the reader cannot tell;
    - a comma with spaces inside its braces (`12\\text{, }5`) otherwise separates items (`12, 5`),
      and so does every comma of digits that alone fill brackets (`(3\\text{,}4)` is the pair (3, 4));
    - one comma with 1-2 or 4+ digits after it, or after a whole part 0: a decimal comma (`12{,}5`
      is 12.5, `3{,}14` 3.14, `0{,}125` 0.125, as European-style LaTeX writes them);
    - anything else (`1{,}000{,}5`, `1.2{,}5`) stays written with `{,}`, which the parser refuses:
      the answer is wrong, never silently another number.
    Why: dropping every such comma read `12{,}5` as 125 and `12\\text{,}5` as `12\\text5`, 12 times 5."""
    if m.group(1) is None:
        return ","
    text = m.group(1)
    seps = _DIGITS_RE.split(text)[1:-1]
    if all(sep == "," for sep in seps):
        return text  # plain commas only: the plain rules read them (see `_THOUSANDS_RE`)
    groups = _DIGITS_RE.findall(text)
    head, tails = groups[0], groups[1:]
    plain = "," in seps
    if m.start() > 0 and m.string[m.start() - 1] == ".":
        return "{,}".join(groups)
    if not head.startswith("0") and all(len(g) == 3 for g in tails) and (not plain or len(head) <= 3):
        return "".join(groups)
    if plain:
        return "{,}".join(groups)
    if (not head.startswith("0") and len(tails) >= 2 and len(head) <= 2 and len(tails[-1]) == 3
            and all(len(g) == 2 for g in tails[:-1])):
        return "".join(groups)  # Indian grouping
    # (a few characters either side: the scan stays linear)
    before = m.string[max(0, m.start() - 16):m.start()].rstrip()
    after = m.string[m.end():m.end() + 16].lstrip()
    if (any(not sep.endswith("{,}") for sep in seps)
            or before.endswith(("(", "[", "\\{")) and after.startswith((")", "]", "\\}"))):
        return ", ".join(groups)
    if len(tails) == 1 and not before.endswith(".") and not _DECIMAL_AFTER_RE.match(m.string, m.end()):
        return f"{head}.{tails[0]}"
    return "{,}".join(groups)


#: A decimal point and digit right after a digit run (`12{,}5.3`): no decimal comma before it.
_DECIMAL_AFTER_RE = re.compile(r"\.\d")


def _join_groups(m: re.Match) -> str:
    """Digit groups `10 000` as one number."""
    return m.group().replace(" ", "")


def _unwrap_text(s: str) -> str:
    """`s` with `\\text{…}` and similar replaced by their content (nested ones too, three deep)."""
    for _ in range(3):
        new = TEXT_GROUP_RE.sub(_text_content, s)
        if new == s:
            break
        s = new
    return s


def _text_content(m: re.Match) -> str:
    return f" {m.group(1)} "


def _strip_text_units(s: str, number_gold: bool) -> str:
    """`s` without a unit written as text at its end (`20 \\text{ km/h}`), or, when the gold is a
    plain number, without unit-like text at its end (`12 \\text{ sandwiches}`, see `_is_unit_like`;
    `12 \\text{ or 13}` keeps its hedge). Runs before `\\text{}` is unwrapped."""
    if s.rstrip(" .")[-1:] not in ("}", "2", "3"):
        return s
    if "/" in s:  # `\\text{ km}/\\text{h}` is `\\text{ km/h}`
        s = _TEXT_OVER_TEXT_RE.sub(r"\1/", s)
    if number_gold:
        s = _number_gold_text_units(s)
    m = _TEXT_TAIL_RE.search(s)
    if m is None or not (_is_unit_text(m.group(1)) or number_gold and _is_unit_like(m.group(1))):
        return s
    return s[:m.start()]


def _number_gold_text_units(s: str) -> str:
    """For a plain-number gold, `s` with units in text written in other LaTeX forms made plain (see
    `_TEXT_FRAC_RE`): a fraction of known units is one text (`\\frac{\\text{km}}{\\text{h}}` is
    `\\text{km/h}`), a known unit to a negative power (`\\text{h}^{-1}`) and a known unit or unit-like
    words after a slash (`50/\\text{hour}`, `3/\\text{person}`) are dropped at the end. Text that is
    not units keeps its form."""
    if "frac" in s:
        s = _TEXT_FRAC_RE.sub(_text_fraction, s)
    for _ in range(3):  # `\\text{km}\\,\\text{h}^{-1}`; `\\text{m}\\,\\text{s}^{-2}`
        m = _INVERSE_TEXT_TAIL_RE.search(s)
        if m is None or not _is_unit_text(m.group(1)):
            break
        s = s[:m.start()]
    m = _SLASH_TEXT_TAIL_RE.search(s)
    if m is not None and (_is_unit_text(m.group(1)) or _is_unit_like(m.group(1))
                          and all(len(w) > 1 for w in _WORD_RE.findall(m.group(1)))):
        s = s[:m.start()]  # (`12/\\text{x}` may divide by x: a letter after a slash only as a known unit)
    return s


def _text_fraction(m: re.Match) -> str:
    """A fraction of two known units as one text (`\\text{m/s^2}`), anything else as it was."""
    upper, lower, power = m.group(1).strip(), m.group(2).strip(), m.group(3)
    if not (_is_unit_text(upper) and _is_unit_text(lower)) or "/" in upper + lower:
        return m.group()
    return f"\\text{{ {upper}/{lower}{'^' + power if power else ''}}}"


def _plain_word_tail(s: str) -> str:
    """For a plain-number gold, a plain number followed by plain lower-case words as the number
    (`12 cupcakes`, `10% discount`, `3/4 of the pizza`), when the words are unit-like
    (`_is_unit_like`) and none could be maths: each has three letters or more and a vowel (a, e, i,
    o, u) and is no function or constant name (`sin`, `pi`, `max`), but for the link words of
    `_TAIL_LINK_WORDS` before others. So `12 x`, `12 k`, `12 xyz`, `12 more` and `12 or thirteen`
    are kept (a product, a claim), and anything before the number (`2x + 3 apples`) keeps the whole
    answer as it is. The price: a product of three letters with a vowel (`12 abc`) reads as a noun."""
    m = _PLAIN_WORD_TAIL_RE.fullmatch(s)
    if m is None:
        return s
    words = _WORD_RE.findall(m.group(2))
    for i, word in enumerate(words):
        if word in _TAIL_LINK_WORDS and i < len(words) - 1 and (i or word != "a"):
            continue  # (a first `a` may be a variable: `12 a day`)
        if (len(word) < 3 or not _VOWELS.intersection(word) or word.replace("'", "") in _MATH_NAMES
                or word in _TAIL_NOT_NOUNS or (len(word) >= 5 and word.endswith(_TAIL_NOT_NOUN_ENDINGS)
                                               and word not in _TAIL_NOUNS_WITH_THOSE_ENDINGS)):
            return s
    return m.group(1) if _is_unit_like(m.group(2)) else s


def _ordinal(s: str) -> str:
    """For a plain-number gold, a whole number with its ordinal suffix (`4^{th}`, `2nd`, `21st`) as
    the number; only the suffix English gives it (`2^{th}` is kept, as the maths it writes)."""
    m = _ORDINAL_RE.fullmatch(s)
    if m is None:
        return s
    number = m.group(1)
    suffix = m.group(2) or m.group(3) or m.group(4)
    last, tens = int(number) % 10, int(number) % 100
    wanted = "th" if 11 <= tens <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(last, "th")
    return number if suffix == wanted else s


def _is_unit_like(text: str) -> bool:
    """True when text after a number only describes it (`sandwiches`, `of the cake`, `per day`,
    `km/h`, `students in the class`), so that a plain-number gold may drop it.

    The rule is an allowlist of shapes combined with a denylist of words, so that text which changes
    the value or the claim is never dropped:
    - shape (`_UNIT_SHAPE_RE`): an ASCII letter or `(` first, then only letters, spaces and
      `. ' - / ( )`; at most `_MAX_UNIT_WORDS` words, of which at most two have one letter (`kg m/s`
      has two; a word spelt out letter by letter, `w r o n g`, has more). So no digit (`or 13`), no
      operator (`/ thirteen`), no comma or semicolon (`, but if counting twice`), no other script
      (whose words cannot be vetted);
    - words (`_claims`): none is a number word, magnitude, multiple or fraction (`thousand`, `dozen`,
      `k`, an upper-case `M`, `grand`, `score`, `ppm`, `tenfold`, `halves`), an operation, comparison
      or offset (`squared`, `less`, `negative`, `over`, `below`, `short`, `ago`, `ish`), a negation,
      retraction, hedge or connective (`not`, `wrong`, `nope`, `rather`, `or`, `xor`, `to`), or a verb
      (`is`, `should`), glued or not (`orthirteen`). `times` counts only as the last word (`12 times`);
      a word saying how the number is written (`recurring`, `binary`, `base`) only where it ends the
      phrase or a bracket, or names of the written form alone follow it (`_reads_number`).
    Text that fails is kept, and the answer reads as the product it spells or is unparsable: never
    right by accident. The price: an unusual unit phrase (`12 \\text{ élèves}`) is not dropped.
    """
    s = text.strip()
    if not s:
        return True
    if len(s) > 80 or not _UNIT_SHAPE_RE.fullmatch(s):
        return False
    words = _WORD_RE.findall(without_case_phrases(s))
    if len(words) > _MAX_UNIT_WORDS or sum(len(w) == 1 for w in words) > 2:
        return False
    last = len(words) - 1
    return not any(_claims(w) or (w.lower() == "times" and i != last) for i, w in enumerate(words)) \
        and not _reads_number(s)


#: The words of a phrase and its closing brackets, for `_reads_number`.
_WORD_OR_CLOSE_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\)")


def _reads_number(text: str) -> bool:
    """True when the phrase `text` after a number says how the number is written (see
    `_READING_WORDS`): such a word ends the phrase or a bracket in it, or only words naming the written
    form (`_READING_MARKERS`) follow it there (`recurring`, `(binary)`, `in octal`, `in binary notation`),
    not when another noun follows (`binary strings`, `base cases`)."""
    tokens = [t.lower() for t in _WORD_OR_CLOSE_RE.findall(text)]
    for i, token in enumerate(tokens):
        if token in _READING_WORDS:
            rest = tokens[i + 1:]
            rest = rest[:rest.index(")")] if ")" in rest else rest
            if all(t in _READING_MARKERS for t in rest):
                return True
    return False


def _claims(word: str) -> bool:
    """True when `word` changes the value or the claim of the number before it (see `_is_unit_like`).
    Case-blind, but for `K`: kelvin (`300 \\text{ K}`), while a lower-case `k` is a thousand."""
    if word == "K":
        return False
    if word in ("M", "B", "G", "T"):  # `5 \\text{ M}`: five million (a metre is a lower-case m), billion, giga, tera
        return True
    w = word.lower()
    if w.endswith("n't") or w.endswith("fold"):  # `tenfold`, `3 \\text{ fold}`
        return True
    w = w.replace("'", "")
    if w in _CLAIM_WORDS or w.startswith(_VALUE_STEMS):
        return True
    if len(w) >= 5 and any(stem in w for stem in _NUMBER_STEMS):
        return True
    return _glued(w)


def _glued(w: str) -> bool:
    """True when the lower-case word `w` is a short connective glued to a claim word (`orthirteen`,
    `ornot`, `andfive`): the rest must be a whole claim word of two letters or more (`toe` is a toe)."""
    return any(w.startswith(p) and len(w) >= len(p) + 2 and w[len(p):] in _CLAIM_WORDS for p in _GLUE_PREFIXES)


def changes_value(word: str) -> bool:
    """True when `word`, in a remark after an answer (`20 (tenfold)`, `20; in thousands`), changes
    the answer's value: a number word, magnitude, multiple, fraction, operation, comparison or offset,
    as `_claims` reads them, but not a verb or connective (a remark may be a sentence)."""
    if len(word) == 1:  # a pronoun "I" or article "a" in a sentence; only k, M, B, G, T are magnitudes
        return word in ("k", "M", "B", "G", "T")
    w = word.lower().replace("'", "")
    return w not in _VERBS and w not in _CONNECTIVES and (_claims(word) or w in _READING_WORDS)


def retracts(text: str) -> bool:
    """True when `text` (a remark after an answer: `(wrong)`, `; not really`, `(just kidding)`) takes
    the answer back or hedges it: it holds a negation, retraction or alternative (`_RETRACTIONS`),
    glued or not. Such a remark is part of the answer, never dropped as a comment."""
    for word in _WORD_RE.findall(without_case_phrases(text)):
        w = word.lower()
        if w.endswith("n't"):
            return True
        w = w.replace("'", "")
        if w in _RETRACTIONS or w.startswith(_RETRACTION_STEMS) or _glued(w):
            return True
    return False


def _is_unit_text(text: str) -> bool:
    """True when `text` names units only: known unit words, one-letter ones too (written as text, a
    letter is a unit, not a variable), joined by spaces, `/`, `*` or `\\cdot`, with powers 2 and 3."""
    parts = [p for p in _UNIT_SEP_RE.split(text.replace("\\cdot", " ").replace("~", " ")) if p]
    # an upper-case M is a million (`5 \\text{ M}`), not a metre
    return bool(parts) and all(_UNIT_PART_RE.fullmatch(p) and p != "M" for p in parts)


def _degrees(s: str) -> str:
    """`s` with degree marks in trigonometric arguments converted to radians and all others dropped."""
    if "circ" not in s and "°" not in s and "degree" not in s and "text" not in s and "℃" not in s and "℉" not in s:
        return s
    s = _TRIG_DEGREES_RE.sub(lambda m: f"{m.group(1)}(\\frac{{{m.group(2)}\\pi}}{{180}})", s)
    # a digit right after a dropped mark starts another number (`2^\\circ 3'`, degrees and minutes): a
    # space keeps the two apart (unparsable), never glued into one (23)
    return _DEGREE_RE.sub(lambda m: " " if s[m.end():m.end() + 1].isdigit() else "", s)


#: A leading `=` or approximation sign before a value (`\\approx 3.14`, `≈ 3.14`, `= 12`): the
#: result of a computation the answer left out, so the value is the answer (never `<`, `>`: those
#: state a range).
_LEADING_RELATION_RE = re.compile(r"^(?:=|≈|\\(?:approx|simeq|sim|thickapprox)(?![A-Za-z]))\s*(?=\S)")
_LEADING_RELATION_STARTS = ("=", "≈", "\\")


#: Ellipses after a decimal; two dots too, as "the answer is 0.1666..." reaches here (its sentence's
#: full stop taken as the third).
_ELLIPSES = ("..", "\\ldots", "\\dots", "\\cdots", "\u2026")
_ELLIPSIS_DECIMAL_RE = re.compile(r"(-?\d*)\.(\d+)\s*(?:\.{2,3}|\\ldots|\\dots|\\cdots|\u2026)")


#: A decimal said to recur whose digits after the point are one digit (`0.3 recurring`), or end with one
#: digit written twice or more (`0.1666 repeating`): that digit repeats. (Which block of `0.12 recurring`
#: repeats is not certain: it stays, and is unparsable.)
#: Group 1 the whole part and point, group 2 the digits (`_recurring` finds the digit that repeats,
#: in linear time: a lazy scan for the repeated digit was quadratic in the digits).
_RECURRING_RE = re.compile(r"(-?\d*\.)(\d+)\s+(?:recurring|repeating)")


#: A whole answer that is a number and words after it (group `num`, group `text`), for `_number_reading`.
_NUMBER_AND_WORDS_RE = re.compile(r"(?P<num>-?(?:\d+(?:\.\d*)?|\.\d+))\s+(?P<text>[A-Za-z(][A-Za-z0-9 ()-]*?)[\s.]*")
#: Words saying a whole number is written in a base (`in binary`, `(base 8)`, `in base-8 notation`,
#: `hex`): group `base` its digits, or group `word` its name (see `_BASE_NAMES`).
_BASE_READING_RE = re.compile(
    r"\(?\s*(?:in\s+)?(?:(?:base|radix)[\s-]*(?P<base>\d{1,2})|(?P<word>"
    + "|".join(sorted(_BASE_NAMES, key=len, reverse=True)) + r"))"
    r"(?:\s+(?:" + "|".join(_BASE_FORM_WORDS) + r"))*\s*\)?", re.IGNORECASE)
#: Words saying a decimal recurs (`(repeating)`, `recurring decimal`).
_RECURRING_WORDS_RE = re.compile(
    r"\(?\s*(?:" + "|".join(_RECURRING_WORDS) + r")(?:\s+(?:" + "|".join(_RECURRING_FORM_WORDS) + r"))?\s*\)?",
    re.IGNORECASE)
#: What `_number_reading` writes for a number with reading words it cannot read: a command the
#: parser does not know, so the answer is unparsable rather than the product of the words' letters.
_UNREAD_NUMERAL = "\\unreadnumeral"


def _number_reading(s: str) -> str:
    """`s` (a number and words after it that say how it is written: `_reads_number`) as what the parser
    reads: a whole number in a base 2 to 36 whose digits that base has (`101 in binary`, `10 (octal)`,
    `7 in base 8`, `10 hex`) as the subscript numeral `101_{2}`, which the parser compares only with the
    same digits in the same base (so `101 in binary` is right for `101_2`, wrong for 5 and for 101, as
    `101_2` is); a decimal said to recur, with a block that can be told (`0.3 (repeating)`), as the
    repeating decimal (`_recurring`). Anything else with such words (`6 (repeated)`, `0.12 (recurring)`,
    `9 in binary`) is made unparsable (but `0.12 recurring`, `_recurring`'s own form, stays as written).
    Any `s` that is not a number and such words is returned as it is."""
    m = _NUMBER_AND_WORDS_RE.fullmatch(s)
    if m is None or not _reads_number(m.group("text")):
        return s
    num, text = m.group("num"), m.group("text").strip()
    if text.lower() in ("recurring", "repeating"):
        return s  # `_recurring`'s own form, already tried: `0.12 repeating` stays as written
    if text.count("(") == text.count(")"):
        base = _BASE_READING_RE.fullmatch(text)
        if base is not None:
            radix = int(base.group("base")) if base.group("base") else _BASE_NAMES[base.group("word").lower()]
            digits = num.lstrip("-")
            if 2 <= radix <= 36 and digits.isdigit() and all(int(d) < radix for d in digits):
                return f"{num}_{{{radix}}}"
        elif _RECURRING_WORDS_RE.fullmatch(text):
            value = _recurring(f"{num} recurring")
            if value != f"{num} recurring":
                return value
    return f"{num} {_UNREAD_NUMERAL}"


def _recurring(s: str) -> str:
    """`s` as a repeating decimal when it is one said to recur (see `_RECURRING_RE`), else `s`."""
    m = _RECURRING_RE.fullmatch(s)
    if m is None:
        return s
    head, digits = m.groups()
    before = digits.rstrip(digits[-1])
    if len(digits) - len(before) < 2 and before:  # one last digit, not written twice: no block known
        return s
    return f"{head}{before}\\overline{{{digits[-1]}}}"


#: A repeating decimal in British notation, dots over the first and last digit of the block after the
#: point (`0.\\dot{1}`, `0.1\\dot{6}`, `0.\\dot{1}4285\\dot{7}`): groups the whole part and point, the digits
#: before the block, the block's first digit, and its middle and last digits if it has two dots.
_DOT_DIGIT = r"\\dot\s*(?:\{{\s*(?P<{0}>\d)\s*\}}|(?P<{0}_>\d))"
_DOT_REPEAT_RE = re.compile(rf"(?<![\d.])(?P<head>-?\d*\.)(?P<before>\d*){_DOT_DIGIT.format('first')}"
                            rf"(?:(?P<middle>\d*){_DOT_DIGIT.format('last')})?(?![\d\\])")


def _dot_repeat(m: re.Match) -> str:
    """`0.1\\dot{6}` as `0.1\\overline{6}` (see `_DOT_REPEAT_RE`)."""
    first, last = m.group("first") or m.group("first_"), m.group("last") or m.group("last_")
    block = first + (m.group("middle") + last if last else "")
    return f"{m.group('head')}{m.group('before')}\\overline{{{block}}}"


#: A repeating decimal with its block in brackets, the whole answer: `0.(3)`, `0.1(6)`, `1.(142857)`:
#: the block right after the point, or after a whole part of 0 (`2.5(3)` may be 2.5 times 3).
_PAREN_REPEAT_RE = re.compile(r"(-?\d*)\.()\((\d{1,6})\)|(-?0?)\.(\d+)\((\d{1,6})\)")


def _paren_repeat(s: str) -> str:
    """`0.1(6)` as `0.1\\overline{6}` (see `_PAREN_REPEAT_RE`), else `s`."""
    m = _PAREN_REPEAT_RE.fullmatch(s)
    if m is None:
        return s
    return _overlined(*(m.groups()[:3] if m.group(3) is not None else m.groups()[3:]))


def _overlined(whole: str, digits: str, block: str) -> str:
    """The decimal `whole.digits` followed by `block` repeating, as the parser reads it (`0.1\\overline{6}`)."""
    whole = whole + "0" if whole in ("", "-") else whole  # `-.333...`
    return f"{whole}.{digits}\\overline{{{block}}}"


#: A set written by a condition on one variable, the whole answer: `\\{x \\mid x > 3\\}`,
#: `\\{x : x > 3\\}`, `\\{x | x > 3\\}`, `\\{x \\in \\mathbb{R} \\mid x > 3\\}` (the reals already
#: rewritten as `_REALS`). Group 1 is the variable, group 2 the condition.
_SET_BUILDER_RE = re.compile(
    r"\\\{\s*([A-Za-z])\s*(?:\\in\s*\(-\\infty, \\infty\)\s*)?(?:\\mid|\\vert|\||:)\s*([^{}]{1,200}?)\s*\\\}")


#: An equals sign (not part of `<=`, `>=`, `!=`).
_EQUALS_RE = re.compile(r"(?<![<>!])=")
#: A relation between the members of a condition.
_RELATION = r"(?:[=<>]|\\(?:le|ge|leq|geq|lt|gt|ne|neq|leqslant|geqslant)(?![A-Za-z]))"


def _set_builder(s: str) -> str:
    """A set-builder answer as its condition (`\\{x \\mid x > 3\\}` is `x > 3`, which compares with
    `(3, \\infty)` as an inequality does), when the condition is about its variable. An equation
    must be solved for it (`x = 3`): one on an expression of it (`\\{x : x^2 = 9\\}`, the set
    {-3, 3}) is not read, since read as a chain it would be 9. A set-builder set not read is
    written with `\\mid`, which the parser refuses: `\\{x : x^2 = 9\\}` would parse as the ratio
    x : x^2 (unparsable, never wrongly right); any other `s` is returned as it is."""
    m = _SET_BUILDER_RE.fullmatch(s)
    if m is None:
        return s
    var, condition = m.group(1), m.group(2).strip()
    about_var = re.search(rf"(?<![A-Za-z\\]){var}(?![A-Za-z])", condition)
    if not about_var or (_EQUALS_RE.search(condition)
                         and not re.search(rf"(?:^|{_RELATION})\s*{var}\s*(?:$|{_RELATION})", condition)):
        return f"\\{{{var} \\mid {condition}\\}}"  # as a set-builder set, which the parser refuses (`:` is a ratio)
    return condition


#: The reals without a finite set of numbers, the whole answer: `\\mathbb{R} \\setminus \\{2\\}`,
#: `\\mathbb{R} \\backslash \\{-1, 1\\}`, `\\mathbb{R} - \\{2\\}` (the reals already rewritten as `_REALS`).
_REALS_WITHOUT_RE = re.compile(r"\(-\\infty, \\infty\)\s*(?:\\(?:setminus|smallsetminus|backslash)|-)\s*\\\{([^{}]{1,200})\\\}")
_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)")


def _reals_without(s: str) -> str:
    """`\\mathbb{R} \\setminus \\{a, b\\}` as the union of the open intervals between the numbers it
    leaves out (`(-\\infty, a) \\cup (a, b) \\cup (b, \\infty)`), which compares with an answer
    written that way, or with `x \\neq a`; `s` unchanged unless every left-out element is a plain number."""
    m = _REALS_WITHOUT_RE.fullmatch(s)
    if m is None:
        return s
    items = [item.strip() for item in m.group(1).split(",")]
    if len(items) > 16 or not all(_PLAIN_NUMBER_RE.fullmatch(item) for item in items):
        return s
    by_value = {Fraction(item): item for item in items}  # `1` and `1.0` leave out one point
    points = ["-\\infty", *(by_value[value] for value in sorted(by_value)), "\\infty"]
    return " \\cup ".join(f"({lo}, {hi})" for lo, hi in zip(points, points[1:]))


def _repeating_decimal(s: str) -> str:
    """A decimal ending in an ellipsis as the repeating decimal it writes: the shortest block of up
    to six digits that the digits end with three times or more repeats (`0.333\\ldots` is
    `0.\\overline{3}`, `0.1666…` is `0.1\\overline{6}`, `0.121212...` is `0.\\overline{12}`), read
    exactly; read as written, `0.1666` would not round to 1/6. Two copies are not enough: a
    truncated irrational often ends in a doubled digit or block (`1.2599...` for the cube root of
    2, `2.718281828...`). Without such a block the ellipsis is dropped (`0.707...` is 0.707)."""
    m = _ELLIPSIS_DECIMAL_RE.fullmatch(s)
    if m is None:
        return s
    whole, digits = m.groups()
    for period in range(1, 7):
        block = digits[-period:]
        if len(digits) >= 3 * period and digits.endswith(block * 3):
            head = digits
            while head.endswith(block):
                head = head[:-period]
            return _overlined(whole, head, block)
    return f"{whole + '0' if whole in ('', '-') else whole}.{digits}"


def normalize(text: str, *, number_gold: bool = False) -> str:
    """Return the cleaned answer string (see module docstring). Never raises on any text.

    `number_gold`: the gold answer is a plain number, so unit-like text after the answer's number is
    dropped (`12 \\text{ sandwiches}` is 12, `10 m` is 10, `12 \\text{ or 13}` is not 12); otherwise
    only known units of several letters, or units written as text, are.

    Memoised for the last 64 texts: in one env step the verifier normalises a box's answer and the
    format reward (`shaping.last_box`) asks the same of the same box; `math.clear_cache` clears it.
    """
    return _normalize(text, bool(number_gold))


@functools.lru_cache(maxsize=64)  # (64 texts of a batch; few enough that long outputs hold little memory)
def _normalize(text: str, number_gold: bool) -> str:
    """`normalize`, memoised."""
    s = strip_markdown(text.strip()[:MAX_ANSWER_CHARS * 2])
    s = _strip_delims(s)
    if s.startswith(("US", "\\text", "\\mathrm", "-")):
        s = _MONEY_SPELLING_RE.sub(lambda m: m.group(1) + (m.group(2) or "USD "), s)
    money = bool(_CURRENCY_LEAD_RE.match(s))  # (before a leading `$` is dropped)
    if "\\\\" in s and "[" in s:
        s = _ROW_SKIP_RE.sub(r"\1", s)  # `\\\\[6pt]` is a row break
    if "\\(" in s or "\\)" in s or "\\[" in s or "\\]" in s:
        s = _INNER_DELIM_RE.sub(_inner_delim, s)  # `\\(18\\) dollars` as `$18$ dollars` is
    s = s.replace("\\$", "$") if s.startswith("\\$") else s
    s = s.replace("$", " ") if "$" in s.strip("$") else s.strip("$")
    if not s.isascii():
        s = _unicode_math(s)
    if "\\dot" in s:  # `0.\\dot{1}`, British for `0.\\overline{1}`
        s = _DOT_REPEAT_RE.sub(_dot_repeat, s)
    if "\\" in s:
        s = _markup(s)
    if "\\" in s or "~" in s:
        s = _latex_spacing(s)
    if " " in s:
        s = _PLAIN_GROUPS_RE.sub(_join_groups, s)
    if "{" in s and "," in s:
        s = _COMMA_RE.sub(_comma_chain, s)  # `1{,}000`, `12\\text{,}000`, `12{,}5`
    if "mod" in s:
        s = _MODULUS_TAIL_RE.sub("", s)
    s = _percent(s)
    s = _magnitudes(s, money, number_gold)
    if "\\" in s:
        s = _strip_text_units(s, number_gold)
    s = _degrees(s)
    if "\\" in s:
        s = _unwrap_text(s)
    s = s.strip()
    if s.endswith(("recurring", "repeating")):
        s = _recurring(s)
    if (s[:1].isdigit() or s[:1] in ("-", ".")) and len(s) <= 80 and " " in s:
        s = _number_reading(s)  # `10 in octal`, `0.3 (repeating)`, `6 (repeated)`
    if s[:1] in _LEADING_RELATION_STARTS:
        s = _LEADING_RELATION_RE.sub("", s)
    s = _CURRENCY_RE.sub(r"\1", s)
    if s.endswith(_ELLIPSES):
        s = _repeating_decimal(s)
    elif s.endswith(")") and "." in s:
        s = _paren_repeat(s)
    while s.endswith(".") or s.endswith(",") or s.endswith(";"):
        s = s[:-1].rstrip()
    if len(s) < 60 and any(word in s.lower() for word in ("set", "real", "solution")):
        s = _set_words(s)
    if s.startswith("\\{"):
        s = _set_builder(s)
    elif s.startswith(_REALS) and "\\{" in s:
        s = _reals_without(s)
    if " " in s:
        s = (_ANY_UNIT_TAIL_RE if number_gold else _UNIT_TAIL_RE).sub("", s).strip()
    if number_gold and (s[-1:].isalpha() or s.endswith("}")):
        s = _ordinal(_plain_word_tail(s))
    glued = _GLUED_UNIT_RE.match(s)
    if glued:
        s = glued.group(1)
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    m = _MIXED_RE.match(s)
    if m:
        s = f"{m.group(1)}{m.group(2)}\\frac{{{m.group(3)}}}{{{m.group(4)}}}"
    return s.strip()


def choice_letters(text: str) -> list[str]:
    """The distinct multiple-choice letters an answer names, in order (upper case).

    `[]` when it names none ("12", "Carrots"); one letter for "B", "(B)", "\\text{(B)}", "B) 12",
    "(C) 12 apples", "Option B", "choice (B)"; several for hedges such as "A or B", "(A), (B), (C), (D)", "A B C D", "A, B",
    "ABCD". After the letter only punctuation or the option's own text may follow, and that text
    must not name another choice letter (a lone capital A-E, or any lone letter in a bare list), nor
    rule the option out (`(B) is wrong`, `B (eliminated)`, `C is false`, `C no`: no letter; `(B) No
    solution`, `B. False`, `B (No)` are an option's text: see `_VERDICT`).
    An unbracketed letter followed by an operation or relation may be a variable, and "a" followed by
    a word the article: see `_names_no_choice`.
    """
    s = normalize(text) if "\\" in text or "$" in text else text
    s = s.strip().strip("$").strip()
    if re.fullmatch(r"[A-E]{2,5}", s):  # "ABCD": every letter at once
        return list(dict.fromkeys(s))
    m = _CHOICE_HEAD_RE.match(s)
    if not m or _names_no_choice(m, s):
        return []
    no = _NO_REMARK_RE.search(s, m.end())
    if _RULED_OUT_RE.match(s, m.end()) or _RULED_OUT_REMARK_RE.search(s, m.end()) \
            or (no is not None and s[m.end():no.start()].strip()) \
            or (m.group().strip() == m.group(1) and _BARE_VERDICT_RE.match(s, m.end())):
        return []  # `(B) is wrong`, `B (eliminated)`, `C false`: the option is ruled out, not chosen
    if _doubted_choice(s, m):
        return []  # `C?`, `C, maybe`, `C (not sure)`, `C (guess)`: no choice the model stands by
    letters = [m.group(1).upper()]
    # a row break \\ separates choices as a comma does (`A\\B\\C`), while a letter after a lone
    # backslash is a command's (`\Delta`); pairs are taken from the left: `\\\B` is a break, then `\B`
    rest = s[m.end():].replace("\\\\", " ")
    other = _OTHER_ANY_RE if _ONLY_LETTERS_RE.match(s) else _OTHER_UPPER_RE
    for o in other.finditer(rest):
        letters.append(o.group(1).upper())
    return list(dict.fromkeys(letters))


#: Openers a doubt may follow in its remark: "but", "just a", "I'm", "an educated".
_DOUBT_OPENERS = r"(?:(?:but|though|although|just|only|a|an|my|educated|wild|i'm|i\u2019m|i[ \t]+am|it's|it[ \t]+is)[ \t]+){0,4}"
#: A remark that is only a doubt (review 2 of audit 39): openers, a `CHOICE_DOUBT` phrase, at most
#: "so"/"not"/"though" after it, then punctuation. A remark that goes on ("perhaps surprisingly",
#: "I think option C matches 3 × 4 = 12", "maybe surprising, but …") explains the choice: no doubt.
_PURE_DOUBT = (_DOUBT_OPENERS + r"(?:" + CHOICE_DOUBT + r")\b(?:[ \t]+(?:so|not|though|anyway))?[ \t]*")
#: The end of a remark after a comma that is only a doubt: the end of a sentence, line or text.
_DOUBT_END = r"(?=[.!?\u2026]*[ \t]*(?:\n|\Z)|[.!?\u2026]+[ \t])"
#: A doubt right after a choice letter (audit 39 and its review): a "?" (`C?`, `(C)?`), or a remark
#: that is only an explicit doubt (`_PURE_DOUBT`) after a comma or semicolon (`C, maybe`, `C, I
#: suppose`) or in brackets (`C (not sure)`, `C (guess)`, `C (I'm guessing)`). Not `C, the best
#: estimate`, `C (best case)`, `C, perhaps surprisingly`: no doubt on the choice.
_DOUBTED_CHOICE_RE = re.compile(
    r"[\s.:)]{0,4}\?|\s*[,;][ \t]*" + _PURE_DOUBT + _DOUBT_END
    + r"|[^()\n]{0,80}\([ \t]*" + _PURE_DOUBT + r"[.!?\u2026]*[ \t]*\)",
    re.IGNORECASE)
#: Explicit doubt as the only words after a bare letter (`C maybe`, `C probably`). Never after a
#: bracketed or dotted label: `(C) Possibly`, `(C) Unlikely`, `C. Maybe` are an option's own text.
_BARE_DOUBT_RE = re.compile(r"\s+(?:" + CHOICE_DOUBT + r")[\s.!]*$", re.IGNORECASE)


#: Explicit doubt right after a box holding a choice letter (review of audit 39: `\\boxed{C} (I'm
#: guessing)`, `\\boxed{C}, I suppose`, `$\\boxed{C}$?`), past `$` or the end of `\\(…\\)`/`\\[…\\]`:
#: a "?", or a remark that is only a doubt (`_PURE_DOUBT`: a `CHOICE_DOUBT` phrase after a few
#: openers, "but", "just a", "I'm") after a comma or semicolon or in brackets. Group "remark" is the
#: remark. A remark that goes on explains the choice ("\\boxed{C}, since option C is what I think",
#: "\\boxed{C} (I think option C matches 3 × 4 = 12)", review 2 of audit 39): bounded, linear.
_DOUBT_AFTER_BOX_RE = re.compile(
    r"(?:[ \t$]|\\[)\]]){0,8}(?P<remark>\?|[,;][ \t]*" + _PURE_DOUBT + _DOUBT_END
    + r"|\([ \t]*" + _PURE_DOUBT + r"[.!?\u2026]*[ \t]*\))", re.IGNORECASE)
#: A box's content that is a choice letter alone: `C`, `(C)`, `\\text{(C)}` normalised.
_BOXED_LETTER_RE = re.compile(r"[ \t]*(?:\\text(?:bf)?\{[ \t]*)?\(?[ \t]*[A-E][ \t]*\)?[ \t]*\}?[ \t]*")


def doubt_after_box(text: str, end: int, content: str) -> re.Match | None:
    """The doubt right after a box whose content `content` is a choice letter alone and whose
    closing brace is just before `end` (`_DOUBT_AFTER_BOX_RE`), or None. A doubted letter in a box
    is no choice, as `The answer is C (not sure).` is none."""
    if not _BOXED_LETTER_RE.fullmatch(content):
        return None
    return _DOUBT_AFTER_BOX_RE.match(text, end)


def _doubted_choice(s: str, head: re.Match) -> bool:
    """Whether the choice letter `head` found at the start of `s` is followed by a doubt
    (`_DOUBTED_CHOICE_RE`, or `_BARE_DOUBT_RE` after a bare letter): `C?` or `C (not sure)` names no
    choice, as `12?` or `12 (tentative)` names no plain 12."""
    if _DOUBTED_CHOICE_RE.match(s, head.end()) is not None:
        return True
    return ")" not in head.group() and _BARE_DOUBT_RE.match(s, head.end()) is not None


def _names_no_choice(head: re.Match, s: str) -> bool:
    """Whether the letter `choice_letters` found at the start of `s` is no choice: an unbracketed
    letter followed by a relation, `^` or `_` (`c = 12`, `a^2`), or a lower-case one followed by an
    operation too (`b + 1`), is a variable; the article "a" followed by a word is prose ("a negative
    number"). A bracketed letter is a choice whatever follows it (`(C) $\\ge 2$`, `(B) +3`), and so
    is an upper-case one marked up (`B*`, `C+`)."""
    if ")" in head.group() or "(" in head.group():
        return False
    letter, rest = head.group(1), head.end()
    if letter.islower():
        return bool(_VARIABLE_AFTER_RE.match(s, rest)) or (letter == "a" and bool(_PROSE_AFTER_RE.match(s, rest)))
    return bool(_RELATION_AFTER_RE.match(s, rest))


def choice_letter(text: str) -> str | None:
    """The one multiple-choice letter an answer names, else None (none, or several: see `choice_letters`)."""
    letters = choice_letters(text)
    return letters[0] if len(letters) == 1 else None
