"""Parse a (normalised) math answer — LaTeX or plain text — into a small tree of tuples.

Why our own parser instead of sympy's `parse_latex`: it needs no ANTLR runtime, it is an order of
magnitude faster, it never evaluates anything (so it is safe to run in the caller's process, where
no time limit can stop sympy), and it knows the conventions of final answers (mixed numbers,
percentages, `\\pm`, intervals, bare comma lists) that a general LaTeX parser does not.

The tree (all nodes are tuples whose first item names the kind):

    ("num", literal)            a number as written: "12", "0.50", "1.5e3"
    ("sym", name)               a variable: "x", "x_1", "alpha"
    ("sym", name, Arguments)    a function applied, a variable of its own: "f(x + 1)" (see `_Parser.applied`)
    ("const", name)             "pi", "E" (Euler), "I" (imaginary unit), "oo" (infinity)
    ("add", a, b) ("sub", a, b) ("mul", a, b) ("div", a, b) ("pow", a, b)
    ("neg", a) ("pct", a) ("fact", a) ("abs", a) ("root", a, n) ("binom", n, k)
    ("mixed", whole, num, den)  2\\frac{1}{2} = 5/2
    ("func", name, a) / ("log", a, base)
    ("pm", a, b)                a ± b (a is None for a leading ±)
    ("rel", (ops...), (exprs...))  a = b, a < b <= c, x != 3
    ("seq", open, close, (items...))  (1, 2), [0, 1), (1, 2, 3)
    ("set", (items...))         \\{1, 2\\}
    ("list", (items...))        a bare "1, 2" or "1 or 2" (unordered, see math_compare)
    ("union", (items...))       A \\cup B
    ("matrix", ((row...), ...))
    ("choice", letter)          handled before parsing (see math_normalize)

Two numbers with only space between them (`5 6`, `2 \\quad 3`) are not a product: `ParseError`
(digit groups such as `10 000` were joined by normalisation). `0.2\\overline{3}` is the exact
repeating decimal 7/30, and `-2\\frac{1}{2}` the mixed number -5/2 (`\\dfrac`, `\\tfrac`, `\\cfrac` too: they
are `\\frac` in another size). `\\emptyset` and `\\varnothing` are the empty set `("set", ())`.

Limits keep the parser linear and bounded on hostile input: at most `MAX_TOKENS` tokens and
`MAX_DEPTH` levels of nesting; beyond them `ParseError` is raised (the answer is "unparsable").
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["ParseError", "parse", "tokenize", "MAX_DEPTH", "MAX_TOKENS"]

MAX_TOKENS = 600
MAX_DEPTH = 60


class ParseError(ValueError):
    """The text is not a math answer this parser understands."""


_FUNCS = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "arccot", "arcsec", "arccsc",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp", "ln", "log", "lg", "det", "gcd", "lcm", "max", "min", "floor", "ceil",
}
#: The inverse of each trigonometric or hyperbolic function: `\\sin^{-1} x` is arcsin x, not 1/sin x.
_INVERSE = {
    "sin": "arcsin", "cos": "arccos", "tan": "arctan", "cot": "arccot", "sec": "arcsec", "csc": "arccsc",
    "sinh": "arcsinh", "cosh": "arccosh", "tanh": "arctanh",
}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
    "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
}
_REL = {"=", "<", ">", "<=", ">=", "!="}
_CMD_OPS = {
    "cdot": "*", "times": "*", "ast": "*", "div": "/", "le": "<=", "leq": "<=", "leqslant": "<=",
    "ge": ">=", "geq": ">=", "geqslant": ">=", "lt": "<", "gt": ">", "ne": "!=", "neq": "!=",
    "pm": "±", "mp": "∓", "cup": "cup", "infty": "oo", "infin": "oo", "pi": "pi", "wedge": "and",
    "lor": "or", "vee": "or", "land": "and", "approx": "=", "equiv": "=", "colon": ":",
    "lbrace": "\\{", "rbrace": "\\}", "langle": "(", "rangle": ")", "lbrack": "[", "rbrack": "]",
    "lvert": "|", "rvert": "|", "vert": "|", "mid": "|", "lfloor": "lfloor", "rfloor": "rfloor",
    "lceil": "lceil", "rceil": "rceil", "in": "in",
}
_UNICODE = {"≤": "<=", "≥": ">=", "≠": "!=", "±": "±", "∓": "∓", "×": "*", "·": "*", "÷": "/",
            "−": "-", "–": "-", "－": "-", "‐": "-", "‑": "-", "﹣": "-", "π": "pi", "∞": "oo", "∪": "cup", "⋅": "*", "≈": "=", "≡": "="}

_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+(?![\w.]))?|\.\d+(?:[eE][-+]?\d+(?![\w.]))?)
    | \\(?P<cmd>[A-Za-z]+|[{}|,;:!\ %])
    | (?P<word>[A-Za-z]+)
    | (?P<op><=|>=|!=|==|\*\*|[-+*/^_=<>!(),;\[\]{}|&%'.:?]|\\\\)
    | (?P<uni>[≤≥≠±∓×·÷−–－‐‑﹣π∞√∪⋅≈≡])
    )""",
    re.VERBOSE,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split text into (kind, value) tokens; kinds: num, sym, word, cmd, op, begin, end."""
    return _tokenize(text)[0]


def _is_script(tokens: list[tuple[str, str]]) -> bool:
    """True when the last token (a number) is a bare exponent or subscript (`2^2` in `2^2 3^2`): a
    number after it and a space starts the next factor, it is not two numbers side by side."""
    return len(tokens) >= 2 and tokens[-2] in (("op", "^"), ("op", "_"))


def _tokenize(text: str) -> tuple[list[tuple[str, str]], frozenset[int], frozenset[int]]:
    """The tokens of `text`; the indices of the numbers that follow another number with only
    space between them (`5 6`): the parser refuses to read those as a product (see `_Parser.factor`;
    a number after an exponent or subscript is not one of them: `2^2 3^2` is 36, see `_is_script`);
    and the indices of every token that follows a space (`_Parser.digits_across_braces`)."""
    tokens: list[tuple[str, str]] = []
    spaced: set[int] = set()
    gapped: set[int] = set()
    gap = False  # a LaTeX space (`\\,`) was skipped since the last token
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ParseError(f"unexpected character {text[pos]!r}")
        gap = gap or text[pos].isspace()
        pos = m.end()
        if gap:
            gapped.add(len(tokens))
        if m.group("num") is not None:
            if gap and tokens and tokens[-1][0] == "num" and not _is_script(tokens):
                spaced.add(len(tokens))
            tokens.append(("num", m.group("num")))
        elif m.group("cmd") is not None:
            cmd = m.group("cmd")
            if cmd in ("begin", "end"):
                em = re.match(r"\s*\{([A-Za-z*]+)\}", text[pos:])
                if not em:
                    raise ParseError(f"\\{cmd} without an environment name")
                pos += em.end()
                tokens.append((cmd, em.group(1).rstrip("*")))
            elif cmd in "{}":
                tokens.append(("op", "\\" + cmd))
            elif cmd == "|":
                tokens.append(("op", "|"))
            elif cmd in (",", ";", ":", "!", " ", "%"):
                if cmd == "%":
                    tokens.append(("op", "%"))
                else:
                    gap = gap or cmd != "!"  # spacing (`\\!` is a negative one)
                continue
            elif cmd in _CMD_OPS:
                tokens.append(("op", _CMD_OPS[cmd]))
            elif cmd in _GREEK:
                tokens.append(("sym", cmd))
            else:
                tokens.append(("cmd", cmd))
        elif m.group("word") is not None:
            word = m.group("word")
            low = word.lower()
            if low in ("or", "and"):
                tokens.append(("op", low))
            elif low in ("pi", "oo", "inf", "infty", "infinity"):
                tokens.append(("op", "pi" if low == "pi" else "oo"))
            elif low in _FUNCS or low == "sqrt":
                tokens.append(("cmd", low))
            elif word in _GREEK:
                tokens.append(("sym", word))
            else:  # "xy" is x*y: single-letter variables, as in written maths
                tokens.extend(("sym", ch) for ch in word)
        elif m.group("op") is not None:
            op = m.group("op")
            tokens.append(("op", {"**": "^", "==": "="}.get(op, op)))
        elif m.group("uni") == "√":
            tokens.append(("cmd", "sqrt"))
        else:
            tokens.append(("op", _UNICODE[m.group("uni")]))
        gap = False
        if len(tokens) > MAX_TOKENS:
            raise ParseError(f"answer too long (more than {MAX_TOKENS} tokens)")
    return tokens, frozenset(spaced), frozenset(gapped)


#: The fraction commands: all the same fraction (`\\dfrac`, `\\tfrac`, `\\cfrac` only change its size).
_FRACS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_ATOM_START_OPS = {"(", "[", "\\{", "pi", "oo", "{", "lfloor", "lceil"}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], spaced: frozenset[int] = frozenset(),
                 gapped: frozenset[int] = frozenset(), bars: tuple[bool, ...] = (),
                 slack: tuple[int, ...] = ()) -> None:
        self.t = tokens
        self.bars = bars  # how to read the first bars that may open or close (see `bar_opens`)
        self.bar_choices = 0  # such bars met so far
        self.open_bars = 0  # absolute values opened and not yet closed
        self.slack = slack or _bar_slack(tokens)  # what the bars after each token can close (see `_bar_slack`)
        self.guessed: list[int] = []  # the bars `bar_opens` opened whose absolute value is not closed yet
        self.spaced = spaced  # numbers after a number and a space (see `_tokenize`)
        self.gapped = gapped  # tokens after a space (see `_tokenize`)
        self.in_script = 0  # > 0 while a bare exponent is read (`x^2{3}`: no digits join there)
        self.i = 0
        self.depth = 0
        self.bare_closes: set[int] = set()  # indices of the `}` ending a bare {group} (see `digits_across_braces`)
        self.applies_f: bool | None = None  # whether the text applies f (see `is_function`), once needed

    # -- helpers ------------------------------------------------------------------------
    def peek(self, k: int = 0) -> tuple[str, str] | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def at(self, value: str, kind: str = "op") -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == kind and tok[1] == value

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of answer")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.take()
        if tok != ("op", value):
            raise ParseError(f"expected {value!r}, found {tok[1]!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(f"nested more than {MAX_DEPTH} levels deep")

    # -- grammar ------------------------------------------------------------------------
    def parse_top(self) -> tuple:
        node = self.parse_list(closers=())
        if self.peek() is not None:
            raise ParseError(f"unexpected {self.peek()[1]!r}")
        return node

    def parse_list(self, closers: tuple[str, ...]) -> tuple:
        script, self.in_script = self.in_script, 0  # (a bracket in a bare exponent is read whole: `2^(1{2})`)
        try:
            return self._parse_list(closers)
        finally:
            self.in_script = script

    def _parse_list(self, closers: tuple[str, ...]) -> tuple:
        items = [self.parse_union()]
        seps = set()
        while True:
            tok = self.peek()
            if tok is None or (tok[0] == "op" and tok[1] in closers):
                break
            if tok[0] == "op" and tok[1] in (",", ";", "or", "and"):
                self.take()
                seps.add(tok[1])
                nxt = self.peek()
                if tok[1] == "," and nxt is not None and nxt[0] == "op" and nxt[1] in ("or", "and"):
                    self.take()  # `1, 2, and 3`: the comma and the word are one separator; "or" keeps
                    seps.add(nxt[1])  # its meaning (`5, or 6` offers alternatives, as `5 or 6` does)
                items.append(self.parse_union())
                continue
            break
        if len(items) == 1:
            return items[0]
        return ("list", tuple(items), tuple(sorted(seps)))

    def parse_union(self) -> tuple:
        items = [self.parse_rel()]
        while self.at("cup"):
            self.take()
            items.append(self.parse_rel())
        return items[0] if len(items) == 1 else ("union", tuple(items))

    def parse_rel(self) -> tuple:
        if self.peek() and self.peek()[0] == "sym" and self.peek(1) == ("op", "in"):
            self.i += 2  # "x \in [1, 2]" is the set [1, 2]
        exprs = [self.parse_sum()]
        ops = []
        while self.peek() and self.peek()[0] == "op" and self.peek()[1] in _REL:
            ops.append(self.take()[1])
            exprs.append(self.parse_sum())
        return exprs[0] if not ops else ("rel", tuple(ops), tuple(exprs))

    def parse_sum(self) -> tuple:
        self.enter()
        tok = self.peek()
        if tok in (("op", "±"), ("op", "∓")):
            self.take()
            left = ("pm", None, self.parse_term())
        else:
            left = self.parse_term()
        while True:
            tok = self.peek()
            if tok == ("op", "+"):
                self.take()
                left = ("add", left, self.parse_term())
            elif tok == ("op", "-"):
                self.take()
                left = ("sub", left, self.parse_term())
            elif tok in (("op", "±"), ("op", "∓")):
                self.take()
                left = ("pm", left, self.parse_term())
            else:
                break
        self.depth -= 1
        return left

    def starts_atom(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        kind, val = tok
        if kind in ("num", "sym", "begin"):
            return True
        if kind == "cmd":
            return True
        return kind == "op" and val in _ATOM_START_OPS

    def parse_term(self) -> tuple:
        left = self.parse_unary()
        while True:
            tok = self.peek()
            if tok in (("op", "*"), ("op", "/"), ("op", ":")):
                self.take()
                right = self.parse_unary()
                left = ("mul" if tok[1] == "*" else "div", left, right)
            elif self.starts_atom() or self.at("|") and self.bar_opens():
                mixed = self.mixed_number(left)
                if mixed is not None:
                    left = mixed
                    continue
                left = ("mul", left, self.factor())
            else:
                break
        return left

    def bar_opens(self) -> bool:
        """Whether the `|` next, right after an operand, opens an absolute value multiplied by that
        operand (`2|x-3|`, `x|x|`, `2|-x|`, `2||x|-1|`, the second pair of `|x-50||x+50|`) rather
        than closing one. Outside every absolute value it opens, unless a `+` or nothing that starts
        an operand follows it. Inside one, a bar followed by a sign or a bar closes (`|x| - y|y|`,
        `|a||b|`: nobody writes |x·|-y|·y|), and one followed by an operand may do either (`|a|b|c|`
        is |a|·b·|c| or |a·|b|·c|): this parser's reading is given by `self.bars` (closing once they
        run out), and `_read_bars` tries every reading, refusing a text that two of them read. A
        reading that leaves the later bars too few to close is no choice (see `_bar_slack`): in
        `|x_0|y_0 + |x_1|y_1` the bar before y_0 closes, as opening it leaves too few."""
        opens = self._bar_opens()
        if opens:  # (an error before its absolute value closes names this bar, see `_Reading`)
            self.guessed.append(self.i)
        return opens

    def _bar_opens(self) -> bool:
        after = self.peek(1)
        self.i += 1
        starts = self.starts_atom()  # what follows the bar
        self.i -= 1
        if not self.open_bars:
            return starts or after in (("op", "-"), ("op", "|"))
        if not starts:
            return False
        free = self.slack[self.i]
        if free < self.open_bars + 1:  # opening leaves too few bars to close all: it closes
            return False
        if free < self.open_bars - 1:  # closing does: it opens
            return True
        k = self.bar_choices
        self.bar_choices += 1
        return self.bars[k] if k < len(self.bars) else False

    def factor(self) -> tuple:
        """The next factor of an implicit product (`2x`, `2\\sqrt{3}`, `2(3)`). A number right after
        another number and a space is not one: `5 6` or `2 \\quad 3` is two numbers, never 30 or 6
        (digit groups such as `10 000` were joined by normalisation before parsing)."""
        if self.i in self.spaced:
            raise ParseError("two numbers separated only by a space")
        return self.parse_unary()

    def digits_across_braces(self, node: tuple) -> tuple:
        """`node` (an atom just read) joined with the digits that follow it across bare braces, as
        LaTeX shows them: `1{2}` and `{1}2` show 12, `1\\textcolor{red}{2}` (colour dropped) too, and
        so after an operator (`2\\cdot1{2}` is 24) and before a postfix (`1{2}\\%` is 12%); `node`
        itself where no bare {group} stands between digits. Why: read as a product, `1{2}` would be
        2, an answer the model never showed (rules 14).
        Refused, as no reading is sure: digits beside a braced expression (`1{2+3}`, `{1+2}3`), a
        join that makes no number (`1.5{2.5}`, `1e5{2}`), and digits a space parts (`1 {2}`,
        `1\\quad{2}`: two numbers, as `5 6` is). Not inside a bare exponent (`x^2{3}` is 3x^2, as
        before: TeX's exponent is the 2 alone)."""
        while not self.in_script:
            prev = self.t[self.i - 1] if self.i else None
            before_bare = self.i - 1 in self.bare_closes
            ends_in_digit = prev is not None and (prev[0] == "num" or (before_bare and self.t[self.i - 2][0] == "num"))
            nxt, after = self.peek(), self.peek(1)
            opens_number = nxt == ("op", "{") and after is not None and after[0] == "num"
            if not ends_in_digit or not (opens_number or (before_bare and nxt is not None and nxt[0] == "num")):
                return node
            if self.i in self.gapped:
                raise ParseError("two numbers separated only by a space")
            if node[0] != "num" or (opens_number and self.peek(2) != ("op", "}")):
                raise ParseError("digits beside a braced expression (`1{2+3}`, `{1+2}3`)")
            digits = after[1] if opens_number else nxt[1]
            literal = node[1] + digits
            if "e" in literal.lower() or literal.count(".") > 1:
                raise ParseError(f"{node[1]!r} and {digits!r} shown side by side make no number")
            self.i += 3 if opens_number else 1
            if opens_number:
                self.bare_closes.add(self.i - 1)
            node = ("num", literal)
        return node

    def mixed_number(self, left: tuple) -> tuple | None:
        """`left` (a whole number, or its negation) and the `\\frac{n}{d}` of digits that follows as one
        mixed number (`2\\frac{1}{2}` = 5/2, `-2\\frac{1}{2}` = -5/2; a percent sign after it is the
        whole number's: `33\\frac{1}{3}\\%` = 1/3), else None (nothing taken).
        `\\dfrac`, `\\tfrac` and `\\cfrac` are `\\frac` here too (`2\\dfrac{1}{2}` is 5/2, never 2 * 1/2)."""
        whole = left[1] if left[0] == "neg" else left
        tok = self.peek()
        if not (whole[0] == "num" and whole[1].isdigit() and tok is not None and tok[0] == "cmd"
                and tok[1] in _FRACS):
            return None
        save = self.i
        frac = self.parse_unary()
        percent = frac[0] == "pct"  # `33\\frac{1}{3}\\%` is (33 1/3)%, never 33 times 1/3 %
        if percent:
            frac = frac[1]
        if frac[0] == "div" and frac[1][0] == "num" and frac[2][0] == "num" \
                and frac[1][1].isdigit() and frac[2][1].isdigit():
            mixed = ("mixed", whole, frac[1], frac[2])
            if percent:
                mixed = ("pct", mixed)
            return ("neg", mixed) if left[0] == "neg" else mixed
        self.i = save
        return None

    def parse_unary(self) -> tuple:
        tok = self.peek()
        if tok == ("op", "-"):
            self.take()
            return ("neg", self.parse_unary())
        if tok == ("op", "+"):
            self.take()
            return self.parse_unary()
        return self.parse_power()

    def parse_power(self) -> tuple:
        base = self.parse_postfix()
        if self.at("^"):
            self.take()
            self.enter()
            if self.at("{"):
                exp = self.parse_group()
            else:
                self.in_script += 1
                try:
                    exp = self.parse_unary()
                finally:
                    self.in_script -= 1
            self.depth -= 1
            base = ("pow", base, exp)
            while self.at("!") or self.at("%") or self.at("'"):
                base = self.postfix(base)
        return base

    def postfix(self, node: tuple) -> tuple:
        tok = self.take()[1]
        if tok == "!":
            return ("fact", node)
        if tok == "%":
            return ("pct", node)
        if node[0] == "sym":
            return ("sym", node[1] + "'")
        after = [tok[0] for tok in (self.peek(), self.peek(1)) if tok is not None]
        if after[:1] == ["num"] or self.at("'") and after[1:] == ["num"]:
            # a prime between numbers is no product: a thousands mark (`2'500`), feet and inches
            # (`5'6''`), minutes after degrees; none is read
            raise ParseError("a prime between numbers")
        return node

    def parse_postfix(self) -> tuple:
        node = self.digits_across_braces(self.parse_atom())
        if node[0] == "num" and "." in node[1] and (self.at("overline", "cmd") or self.at("bar", "cmd")):
            node = self.repeating_decimal(node[1])  # `0.\\overline{3}`, `0.\\bar{3}`: never 0 times a conjugate
        while self.at("!") or self.at("%") or self.at("_") or self.at("'") or self.at("(") and self.is_function(node):
            if self.at("("):  # `f(2x)`, `f'(2)`: a function applied, see `is_function`
                node = self.applied(node[1])
            elif self.at("_"):
                self.take()
                if node[0] == "num" and self.t[self.i:self.i + 5] == _TEN_LABEL:  # `60_{ten}`: base ten
                    self.i += 5
                    continue
                sub = self.take() if not self.at("{") else None
                if sub is None:
                    g = self.parse_group()
                    label = _flat_label(g)
                else:
                    label = sub[1]
                if node[0] == "num" and node[1].isdigit() and label == "10":
                    pass  # a numeral marked as base ten (`60_{10}`) is the number
                elif node[0] == "num" and node[1].isdigit() and label.isalnum():
                    # a numeral in another base (`4210_{5}`, an answer MATH's number theory asks
                    # for): an atom of its own, equal only to the same digits in the same base
                    node = ("sym", f"{node[1]}_{label}")
                elif node[0] != "sym":
                    raise ParseError("subscript on something that is not a variable")
                else:
                    node = ("sym", f"{node[1]}_{label}")
            else:
                node = self.postfix(node)
        return node

    def is_function(self, node: tuple) -> bool:
        """Whether `node` is a function's name that a bracket after it applies: f, and g when this
        text applies f too (see `_applies_f`), with primes or a subscript (`f'(2)`, `g_1(x)`).
        Why: read as a product, `f(2x)` was `2f(x)` and `f(x+y)` was `f(x)+f(y)`, so wrong answers
        scored."""
        if node[0] != "sym":
            return False
        letter = node[1].rstrip("'").partition("_")[0].rstrip("'")
        if self.applies_f is None:
            self.applies_f = _applies_f(self.t)
        return letter == "f" or letter == "g" and self.applies_f

    def applied(self, name: str) -> tuple:
        """The function `name` applied to the bracket that is next (`f(x + 1)`, `g(2, 3)`): a variable
        of its own, `("sym", text, Arguments)`, named by the function and its arguments up to order
        (see `_canonical`); `math_sympy` names it by the arguments' values (`f(1+2)` is `f(3)`)."""
        self.take()
        arg = self.parse_bracket("(")
        args = arg[3] if arg[0] == "seq" and arg[1:3] == ("(", ")") else (arg,)
        return ("sym", f"{name}({', '.join(map(_canonical, args))})", Arguments(name, tuple(args)))

    def repeating_decimal(self, literal: str) -> tuple:
        """`0.2\\overline{3}` (the `\\overline` is next) as its exact value, a fraction of whole numbers:
        `literal` plus the repeating digits R shifted past its decimals F, R / (10^|F| (10^|R| - 1)).
        Why: read as written, the bar is dropped and `0.\\overline{3}` is 0."""
        self.take()
        rep = self.read_arg()
        decimals = literal.partition(".")[2]
        if "e" in literal.lower() or rep[0] != "num" or not rep[1].isdigit() or len(literal) + len(rep[1]) > 200:
            raise ParseError("\\overline on something that is not a repeating decimal")
        value = Fraction(literal) + Fraction(int(rep[1]), 10 ** len(decimals) * (10 ** len(rep[1]) - 1))
        return ("div", ("num", str(value.numerator)), ("num", str(value.denominator)))

    def parse_group(self) -> tuple:
        self.expect("{")
        self.enter()
        node = self.parse_list(closers=("}",))
        self.expect("}")
        self.depth -= 1
        return node

    def read_arg(self) -> tuple:
        """One argument of \\frac/\\sqrt: a {group}, or a single digit/letter (\\frac12)."""
        tok = self.peek()
        if tok == ("op", "{"):
            return self.parse_group()
        if tok is not None and tok[0] == "num" and tok[1].isdigit() and len(tok[1]) > 1:
            self.t[self.i] = ("num", tok[1][1:])
            return ("num", tok[1][0])
        if tok is not None and tok[0] == "num" and tok[1].isdigit():
            # one digit is the whole argument: a `%` or `!` after `\\frac12` is the fraction's
            return self.parse_atom()
        return self.parse_postfix()

    def parse_atom(self) -> tuple:
        tok = self.take()
        kind, val = tok
        if kind == "num":
            return ("num", val)
        if kind == "sym":
            if val in ("e",):
                return ("const", "E")
            if val == "i":
                return ("const", "I")
            return ("sym", val)
        if kind == "begin":
            return self.parse_env(val)
        if kind == "cmd":
            return self.parse_cmd(val)
        if kind == "op":
            if val == "pi":
                return ("const", "pi")
            if val == "oo":
                return ("const", "oo")
            if val == "{":
                self.i -= 1
                node = self.parse_group()
                self.bare_closes.add(self.i - 1)
                return node
            if val in ("(", "["):
                return self.parse_bracket(val)
            if val == "\\{":
                self.enter()
                if self.at("\\}"):
                    self.take()
                    self.depth -= 1
                    return ("set", ())
                node = self.parse_list(closers=("\\}",))
                self.expect("\\}")
                self.depth -= 1
                return ("set", node[1] if node[0] == "list" else (node,))
            if val == "|":
                self.enter()
                self.open_bars += 1
                guessed = bool(self.guessed) and self.guessed[-1] == self.i - 1
                inner = self.parse_sum()
                self.expect("|")
                if guessed:
                    self.guessed.pop()
                self.open_bars -= 1
                self.depth -= 1
                return ("abs", inner)
            if val in ("lfloor", "lceil"):
                self.enter()
                inner = self.parse_sum()
                self.expect("rfloor" if val == "lfloor" else "rceil")
                self.depth -= 1
                return ("func", "floor" if val == "lfloor" else "ceiling", inner)
        raise ParseError(f"unexpected {val!r}")

    def parse_bracket(self, opener: str) -> tuple:
        self.enter()
        node = self.parse_list(closers=(")", "]"))
        close = self.take()
        if close not in (("op", ")"), ("op", "]")):
            raise ParseError(f"expected a closing bracket, found {close[1]!r}")
        self.depth -= 1
        if node[0] == "list":
            return ("seq", opener, close[1], node[1])
        if opener == "(" and close[1] == ")" or node[0] == "matrix":
            return node
        raise ParseError("a one-element bracket that is not a group")

    def parse_env(self, env: str) -> tuple:
        if env not in ("pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix", "smallmatrix", "array",
                       "cases", "aligned", "align", "gathered"):
            raise ParseError(f"unsupported environment {env!r}")
        if env == "array" and self.at("{"):
            self.parse_group_raw()
        rows: list[list[tuple]] = [[]]
        self.enter()
        while True:
            tok = self.peek()
            if tok is None:
                raise ParseError(f"\\begin{{{env}}} without \\end")
            if tok == ("end", env):
                self.take()
                break
            if tok == ("op", "&"):
                self.take()
                continue
            if tok == ("op", "\\\\"):
                self.take()
                rows.append([])
                continue
            rows[-1].append(self.parse_rel())
        self.depth -= 1
        rows = [r for r in rows if r]
        if env in ("cases", "aligned", "align", "gathered"):
            return ("list", tuple(c for r in rows for c in r), (",",))
        if not rows or len({len(r) for r in rows}) != 1:
            raise ParseError("matrix rows of different lengths")
        matrix = ("matrix", tuple(tuple(r) for r in rows))
        return ("func", "det", matrix) if env == "vmatrix" else matrix

    def parse_group_raw(self) -> None:
        self.expect("{")
        level = 1
        while level:
            tok = self.take()
            if tok == ("op", "{"):
                level += 1
            elif tok == ("op", "}"):
                level -= 1

    def function_power(self) -> tuple:
        """The power after a function name (the `^` is taken): an argument as for \\frac, or a bare
        `-1` (`\\tan^-1 x`), which would otherwise be read as a minus with nothing before it."""
        if self.at("-") and self.peek(1) == ("num", "1"):
            self.take()
            self.take()
            return ("neg", ("num", "1"))
        return self.read_arg()

    def parse_cmd(self, name: str) -> tuple:
        self.enter()
        try:
            if name in _FRACS:
                num = self.read_arg()
                return ("div", num, self.read_arg())
            if name == "sqrt":
                index = None
                if self.at("["):
                    self.take()
                    index = self.parse_sum()
                    self.expect("]")
                if self.at("("):
                    return ("root", self.parse_atom(), index or ("num", "2"))
                return ("root", self.read_arg(), index or ("num", "2"))
            if name in ("binom", "dbinom", "tbinom", "choose"):
                n = self.read_arg()
                return ("binom", n, self.read_arg())
            if name in ("emptyset", "varnothing"):
                return ("set", ())
            if name in ("boxed", "fbox", "framebox", "mathbf", "mathrm", "text", "textbf", "mathit", "bm", "boldsymbol",
                        "operatorname", "mathbb", "hat", "vec", "mathsf", "displaystyle", "textsf",
                        "texttt", "ensuremath"):
                return self.read_arg()
            if name in ("overline", "bar"):
                return _overlined(self.read_arg())
            if name in _FUNCS:
                power = None
                if self.at("^"):  # \sin^2 x
                    self.take()
                    power = self.function_power()
                    if power == ("neg", ("num", "1")) and name in _INVERSE:
                        name, power = _INVERSE[name], None
                base = None
                if name in ("log", "lg") and self.at("_"):
                    self.take()
                    base = self.read_arg()
                if self.at("("):
                    arg = self.parse_atom()
                else:  # \sin 2x is sin(2x): the argument runs over a product of numbers and letters
                    arg = self.parse_power()
                    while self.peek() is not None and self.peek()[0] in ("num", "sym"):
                        if self.i in self.spaced:
                            raise ParseError("two numbers separated only by a space")
                        arg = ("mul", arg, self.parse_power())
                if isinstance(arg, tuple) and arg[0] == "seq" and name in ("gcd", "lcm", "max", "min"):
                    node = ("func", name, arg[3])
                elif name in ("log", "lg", "ln"):
                    node = ("log", arg, base if base is not None else
                            (("const", "E") if name == "ln" else ("num", "10") if name == "lg" else None))
                else:
                    node = ("func", name, arg)
                return ("pow", node, power) if power is not None else node
            raise ParseError(f"unknown command \\{name}")
        finally:
            self.depth -= 1


# Letters that name a function when a bracket follows them (`f(2x)` is f applied to 2x, never
# f times 2x): f always, g only in a text that applies f too (`f(g(x))`, `f(x) + g(x)`). Alone, g
# is a factor as often as a function (gravity: `g(M+m)`, `mg(h_1-h_2)`, `\\frac12 g(t^2)`). The
# decision is made per text, so the same text decides the same on either side (`g(x)` equals
# `g(x)`); gold and answer part only when one of them applies f and the other does not, which can
# make a wrong verdict, never a right one. Any other letter before a bracket is a factor (`x(x+1)`,
# `a(b+c)`, `P(x)`, and `h(a+b)`, a trapezoid's height times its bases' sum).


def _applies_f(tokens: list[tuple[str, str]]) -> bool:
    """Whether `tokens` hold f, with primes or a subscript (`f'`, `f_1`, `f_{12}`), right before `(`."""
    for i, tok in enumerate(tokens):
        if tok != ("sym", "f"):
            continue
        j = i + 1
        while j < len(tokens) and tokens[j] == ("op", "'"):
            j += 1
        if j < len(tokens) and tokens[j] == ("op", "_"):
            j += 1
            if j < len(tokens) and tokens[j] == ("op", "{"):
                while j < len(tokens) and tokens[j] != ("op", "}"):
                    j += 1
            j += 1
            while j < len(tokens) and tokens[j] == ("op", "'"):
                j += 1
        if j < len(tokens) and tokens[j] == ("op", "("):
            return True
    return False


class Arguments:
    """What a function applied (`f(x + 1)`, see `_Parser.applied`) was applied to: the third item of
    its "sym" node. An object, not a tuple, so walks of the tree see the applied function as one
    variable (its arguments' variables are none of the answer's); `math_sympy` reads the arguments
    to name that variable by their values. Equal when name and argument trees are."""

    __slots__ = ("function", "args")

    def __init__(self, function: str, args: tuple) -> None:
        self.function = function
        self.args = args

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Arguments) and (self.function, self.args) == (other.function, other.args)

    def __hash__(self) -> int:
        return hash((self.function, self.args))

    def __repr__(self) -> str:
        return f"Arguments({self.function!r}, {self.args!r})"

    def __reduce__(self) -> tuple:
        return Arguments, (self.function, self.args)


def _canonical(node: tuple, nested: bool = False) -> str:
    """A text naming the value of `node` up to the order of sums and products and the writing of
    numbers (`1 + x` and `x + 1`, `2.0` and `2`), for an opaque value built on it: `f(x + 1)` and
    `\\overline{z}` are variables of their own (no value or rule of their function is known), named
    by this text, so `f(1 + x)` is `f(x + 1)` but `f(2x)` is not `2f(x)`. `nested`: a sum or product
    is bracketed (it is part of another node)."""
    kind = node[0]
    if kind == "num":
        return node[1] if "e" in node[1].lower() else str(Fraction(node[1]))
    if kind in ("sym", "const"):
        return node[1]
    if kind in ("add", "sub", "mul"):
        text = (" + ".join(sorted(_signed_terms(node))) if kind != "mul"
                else "*".join(sorted(_canonical(f, True) for f in _flattened(node, "mul"))))
        return f"({text})" if nested else text
    if kind in _INFIX:
        text = _INFIX[kind].join(_canonical(c, True) for c in node[1:])
        return f"({text})" if nested else text
    if kind == "neg":
        return "-" + _canonical(node[1], True)
    if kind == "seq":
        return node[1] + ", ".join(_canonical(x) for x in node[3]) + node[2]
    parts = [_canonical(c, True) if _is_node(c) else ", ".join(_canonical(x) for x in c) if isinstance(c, tuple)
             else str(c) for c in node[1:]]
    return f"{kind}({'; '.join(parts)})"


#: The operators `_canonical` writes between two operands.
_INFIX = {"div": "/", "pow": "^"}


def _is_node(x: object) -> bool:
    return isinstance(x, tuple) and bool(x) and isinstance(x[0], str)


def _flattened(node: tuple, kind: str) -> list[tuple]:
    """The operands of a chain of `kind` nodes (`a*b*c`), without recursion (chains may be long)."""
    out, stack = [], [node]
    while stack:
        x = stack.pop()
        if x[0] == kind:
            stack.extend((x[2], x[1]))
        else:
            out.append(x)
    return out


def _signed_terms(node: tuple) -> list[str]:
    """The canonical texts of a sum's terms, a subtracted one marked with `-`."""
    out, stack = [], [(node, "")]
    while stack:
        x, sign = stack.pop()
        if x[0] in ("add", "sub"):
            stack.extend(((x[2], sign if x[0] == "add" else "" if sign else "-"), (x[1], sign)))
        else:
            out.append(sign + _canonical(x, True))
    return out


#: What a conjugate's argument may hold to be conjugated in place (`\\overline{2-3i}` is 2+3i):
#: numbers, pi, e, i and arithmetic whose conjugate is the same arithmetic of the conjugates (no
#: root or logarithm: their branch cut breaks that rule, `\\sqrt{-4}` is 2i, not its conjugate).
_CONJUGABLE = frozenset({"num", "const", "neg", "add", "sub", "mul", "div"})


#: A point's name: a capital letter with primes or a subscript (`A`, `A'`, `A_1`, `P_{12}`).
_POINT_RE = re.compile(r"[A-Z]'*(?:_[A-Za-z0-9]+)?'*")


def _overlined(arg: tuple) -> tuple:
    """`\\overline{arg}` or `\\bar{arg}` (a repeating decimal's bar is read before, see
    `repeating_decimal`): a segment's name as its points' names (`\\overline{AB} = 5` is `AB = 5`,
    `\\overline{A_1B_1}` is `A_1B_1`, `\\overline{A'B'}` is `A'B'`, `\\overline{A}` is `A`); a
    number's conjugate, i replaced by -i (`\\overline{2-3i}` is 2+3i, `\\overline{5}` is 5); else the
    conjugate (or mean) of something unknown, a variable of its own (`\\overline{z}` is never z).
    Why: the bar was dropped, so `\\overline{2-3i}` equalled 2-3i and `\\overline{z}` z."""
    if all(f[0] == "sym" and _POINT_RE.fullmatch(f[1]) for f in _flattened(arg, "mul")):
        return arg
    if _conjugable(arg):
        return _conjugated(arg)
    return ("sym", f"\\overline{{{_canonical(arg)}}}")


def _conjugable(node: tuple) -> bool:
    stack = [node]
    while stack:
        x = stack.pop()
        if x[0] == "pow" and x[2][0] == "num" and x[2][1].isdigit():
            stack.append(x[1])  # an integer power of a conjugable number is conjugable
            continue
        if x[0] not in _CONJUGABLE or x == ("const", "oo"):
            return False
        stack.extend(c for c in x[1:] if _is_node(c))
    return True


def _conjugated(node: tuple) -> tuple:
    """`node` (see `_conjugable`) with every i replaced by -i."""
    if node == ("const", "I"):
        return ("neg", node)
    return tuple(_conjugated(c) if _is_node(c) else c for c in node)


#: The tokens of the subscript `{ten}`, a numeral's base written as a word (`60_{ten}` is 60).
_TEN_LABEL = [("op", "{"), ("sym", "t"), ("sym", "e"), ("sym", "n"), ("op", "}")]


def _flat_label(node: tuple) -> str:
    if node[0] in ("num", "sym"):
        return node[1]
    if node[0] == "mul":
        return _flat_label(node[1]) + _flat_label(node[2])
    raise ParseError("subscript too complex")


def parse(text: str) -> tuple:
    """Parse normalised answer text into a tree (see the module docstring). Raises ParseError.

    A label this parser cannot read on the left of the answer's one `=` (`\\angle ABC = 90`,
    `E[X] = \\frac{7}{2}`, `[ABC] = 18`, `\\Pr( red ) = \\frac14`) is read as its letters, as `E(X) = …`
    and `AB = 5` are: `ABC = 18`, whose value is 18 (see `_relabelled`)."""
    try:
        return _parse(text)
    except ParseError:
        relabelled = _relabelled(text)
        if relabelled is None:
            raise
        return _parse(relabelled)


def _parse(text: str) -> tuple:
    tokens, spaced, gapped = _tokenize(text)
    if not tokens:
        raise ParseError("empty answer")
    try:
        return _read_bars(tokens, spaced, gapped)
    except RecursionError:
        raise ParseError("nested too deeply") from None


#: At most this many bars of one reading may each open or close (see `_read_bars`); past them the
#: answer is unparsable. So at most 2**MAX_TWO_WAY_BARS readings are tried, each one parse, and
#: only for a text whose readings all parse alike or fail; a text without such bars takes one.
MAX_TWO_WAY_BARS = 6
MAX_BAR_READINGS = 2 ** MAX_TWO_WAY_BARS

#: The operators after which a `|` can only open an absolute value: no operand ends there.
_OPENS_AFTER = frozenset({"+", "-", "*", "/", ":", "^", "_", "(", "[", "{", "\\{", "=", "<", ">", "<=", ">=",
                          "!=", ",", ";", "±", "∓", "cup", "and", "or", "in", "lfloor", "lceil", "&", "\\\\"})


def _bar_slack(tokens: list[tuple[str, str]]) -> tuple[int, ...]:
    """For each token index, how many more absolute values the bars after it can close than they
    must open: the bars after an operand (each may close one) less those after an operator or a
    bracket (each opens one). Why: a parse ends with every absolute value closed, so a bar that
    leaves more open than that cannot be read so (`_Parser.bar_opens`), which keeps the readings
    of `|x_0|y_0 + |x_1|y_1 + ...` to one instead of doubling with each term. An environment can
    skip bars unread (`\\begin{array}{|c|}`): there no bound is known."""
    n = len(tokens)
    if any(kind == "begin" for kind, _ in tokens):
        return (n,) * n
    slack = [0] * n
    free = 0
    for j in range(n - 1, -1, -1):
        slack[j] = free
        if tokens[j] == ("op", "|"):
            before = tokens[j - 1] if j else None
            forced = before is None or before[0] == "op" and before[1] in _OPENS_AFTER
            free += -1 if forced else 1
    return tuple(slack)


class _Reading:
    """What one parse of `_read_bars` gave: its tree (None when it failed) and error, and how many
    bars in it may open or close."""

    def __init__(self, tokens: list[tuple[str, str]], spaced: frozenset[int], gapped: frozenset[int],
                 bars: tuple[bool, ...], slack: tuple[int, ...]) -> None:
        parser = _Parser(list(tokens), spaced, gapped, bars, slack)
        self.tree: tuple | None = None
        self.error: ParseError | None = None
        try:
            self.tree = parser.parse_top()
        except ParseError as e:
            self.error = e
            if parser.guessed:  # `3 | 12`, `\\{x | x > 0\\}`: say which bar, not what came after it
                self.error = ParseError("a '|' after an operand closes no absolute value (divides? such that?)")
        self.choices = parser.bar_choices


def _read_bars(tokens: list[tuple[str, str]], spaced: frozenset[int], gapped: frozenset[int]) -> tuple:
    """The one tree of `tokens` over every reading of the bars that may open or close an absolute
    value (see `_Parser.bar_opens`). Why: a bar after an operand opens one (`2|x-3|` is 2 times
    |x-3|), but inside another it may also close that one, and the text shows no difference
    (`\\left`/`\\right` are dropped by normalisation); a guess could grade a wrong answer right, so
    a text two readings parse (`|a|b|c|`, `|a|-b|c|`) is unparsable. Usually one reading parses:
    in `|x-50||x+50|` the second bar opening leaves too few to close. Readings are tried
    depth-first, each a fresh parse with one more bar read the other way, until two trees differ;
    one that meets more than MAX_TWO_WAY_BARS such bars ends the search ("too many bars"), after
    one more parse that reads its first such bar the other way, to name a second reading if that
    gives one. The first reading's error is the text's when none parses."""
    slack = _bar_slack(tokens)
    pending: list[tuple[bool, ...]] = [()]
    found: list[tuple] = []
    first: _Reading | None = None
    capped = False
    for _ in range(MAX_BAR_READINGS):  # (the cap on two-way bars keeps within this)
        if not pending or len(found) > 1:
            break
        bars = pending.pop()
        reading = _Reading(tokens, spaced, gapped, bars, slack)
        first = first or reading
        if reading.tree is not None and reading.tree not in found:
            found.append(reading.tree)
        if reading.choices > MAX_TWO_WAY_BARS:
            if not bars and reading.tree is not None:
                other = _Reading(tokens, spaced, gapped, (True,), slack).tree
                if other is not None and other != reading.tree:
                    found.append(other)
            capped = True
            break
        # the bars met beyond `bars` were read as closing: queue each read as opening instead
        pending.extend(bars + (False,) * (k - len(bars)) + (True,) for k in range(len(bars), reading.choices))
    if len(found) > 1:
        raise ParseError("bars that may each open or close an absolute value: more than one reading")
    if capped or pending:
        raise ParseError("too many bars to read")
    if not found:
        raise first.error
    return found[0]


#: A label left of an `=`: letters, spaces, brackets, bars, primes, and the commands that name an
#: angle, an area, a probability or an expectation, or set a letter in another font; no digit, no
#: operator, no comma (group 1), then the `=` and what follows it (group 2).
_LABEL_RE = re.compile(
    r"\s*((?:[A-Za-z\s()\[\]{}|']|\\(?:angle|measuredangle|triangle|Pr|mathbb|mathrm|mathbf|mathcal|mathit|"
    r"operatorname|overline|widehat|overarc|arc|hat|bar|vec|text|left|right|lbrack|rbrack)(?![A-Za-z]))+)=(?!=)(.*)\Z",
    re.DOTALL)
_RELATION_RE = re.compile(r"[=<>≤≥≠≈]|\\(?:le|ge|leq|geq|ne|neq|lt|gt|approx|equiv|sim)(?![A-Za-z])")
_COMMAND_NAME_RE = re.compile(r"\\[A-Za-z]+")


def _relabelled(text: str) -> str | None:
    """`text` with the label left of its one `=` replaced by the label's letters (`[ABC] = 18` is
    `ABC = 18`), or None when it has no such label: it holds a digit, an operator or a comma, or
    names no letter, or the right side holds another relation. Why: `\\angle ABC`, `E[X]` and `[ABC]`
    name what the value is, as `E(X)` does, but a one-letter bracket and `\\angle` are no maths this
    parser reads, so the answer was unparsable; read as letters, the label is a relation's side
    and the value is the answer's (`x = 5` stays an assignment: its left side parses)."""
    if len(text) > 2000:
        return None
    m = _LABEL_RE.match(text)
    if m is None or _RELATION_RE.search(m.group(2)) or not m.group(2).strip():
        return None
    letters = "".join(re.findall(r"[A-Za-z]", _COMMAND_NAME_RE.sub(" ", m.group(1))))
    return f"{letters} = {m.group(2)}" if letters else None
