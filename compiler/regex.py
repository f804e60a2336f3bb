"""The portable regular-expression subset: what RE2, Python `re` and every SQL target agree on.

`matches` must mean the same in every backend, so a pattern is checked against a small
grammar instead of trusting one engine: literals, `.`, `^`, `$`, classes, alternation,
groups `( )` and `(?: )`, quantifiers `* + ? {m} {m,} {m,n}` (each possibly lazy), the
escapes `\\d \\D \\w \\W \\s \\S \\b \\B \\n \\r \\t` and escaped punctuation. Anything else is
named back to the user (backreferences, lookaround, named groups, ...).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

import re2

FLAGS = frozenset("i")
CLASS_ESCAPES = frozenset("dDwWsS")
ASSERT_ESCAPES = frozenset("bB")
CONTROL_ESCAPES = frozenset("nrt")
MAX_REPEAT = 1000

# Constructs outside the subset, by what follows the `(?` or the `\`.
GROUP_CONSTRUCTS = (
    ("?=", "lookahead (?=...)"),
    ("?!", "negative lookahead (?!...)"),
    ("?<=", "lookbehind (?<=...)"),
    ("?<!", "negative lookbehind (?<!...)"),
    ("?>", "atomic group (?>...)"),
    ("?P<", "named group (?P<name>...)"),
    ("?P=", "named backreference (?P=name)"),
    ("?<", "named group (?<name>...)"),
    ("?'", "named group (?'name'...)"),
    ("?#", "comment group (?#...)"),
)
ESCAPE_CONSTRUCTS = {
    "A": r"\A (start of text; use ^)",
    "Z": r"\Z (end of text; use $)",
    "z": r"\z (end of text; use $)",
    "G": r"\G",
    "p": r"\p{...} (Unicode classes)",
    "P": r"\P{...} (Unicode classes)",
    "k": r"\k<name> (named backreference)",
    "x": r"\x (hex escape)",
    "u": r"\u (Unicode escape)",
    "U": r"\U (Unicode escape)",
    "N": r"\N (named character)",
    "Q": r"\Q...\E (quoting)",
    "E": r"\E (quoting)",
    "C": r"\C (single byte)",
    "X": r"\X (grapheme)",
    "R": r"\R (line break)",
    "h": r"\h",
    "H": r"\H",
    "v": r"\v",
    "V": r"\V",
    "K": r"\K",
    "0": r"\0 (octal escape)",
    "a": r"\a",
    "e": r"\e",
    "f": r"\f",
    "c": r"\c (control character)",
    "o": r"\o (octal escape)",
}


@dataclass(frozen=True)
class RegexProblem:
    """Why a pattern is rejected; `offset` is the 0-based position in the pattern."""

    code: str  # E311 outside the portable subset, E312 invalid syntax
    message: str
    offset: int


class _Invalid(Exception):
    def __init__(self, problem: RegexProblem):
        self.problem = problem


def check_pattern(pattern: str) -> RegexProblem | None:
    """None if `pattern` is in the portable subset and compiles in both RE2 and Python."""
    try:
        _Parser(pattern).parse()
    except _Invalid as invalid:
        return invalid.problem
    for compile_ in (re.compile, re2.compile):
        try:
            compile_(pattern)
        except Exception as error:  # both engines raise their own error types
            return RegexProblem("E312", f"invalid pattern: {error}", 0)
    return None


class _Parser:
    """A recursive-descent reader of the subset; raises _Invalid at the first problem."""

    def __init__(self, pattern: str):
        self.text = pattern
        self.pos = 0

    def _fail(self, code: str, message: str, offset: int | None = None) -> None:
        raise _Invalid(RegexProblem(code, message, self.pos if offset is None else offset))

    def _peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def parse(self) -> None:
        self._alternation()
        if self.pos < len(self.text):
            self._fail("E312", "unbalanced `)` in the pattern")

    def _alternation(self) -> None:
        self._sequence()
        while self._peek() == "|":
            self.pos += 1
            self._sequence()

    def _sequence(self) -> None:
        while self.pos < len(self.text) and self._peek() not in "|)":
            repeatable = self._atom()
            self._quantifiers(repeatable)

    def _atom(self) -> bool:
        """Reads one atom; True if a quantifier may follow it."""
        char = self._peek()
        start = self.pos
        if char == "(":
            self._group()
            return True
        if char == "[":
            self._class()
            return True
        if char == "\\":
            return self._escape(in_class=False)
        if char in "*+?":
            self._fail("E312", f"`{char}` has nothing to repeat", start)
        if char == "{" and self._repeat_bounds() is not None:
            self._fail("E312", "`{` has nothing to repeat", start)
        if char in "{}":
            self._fail(
                "E311", f"a literal `{char}` must be escaped as `\\{char}` to be portable", start
            )
        self.pos += 1
        return char not in "^$"

    def _group(self) -> None:
        start = self.pos
        self.pos += 1
        if self._peek() == "?":
            for prefix, construct in GROUP_CONSTRUCTS:
                if self.text.startswith(prefix, self.pos):
                    self._fail("E311", f"{construct} is not supported", start)
            if self._peek(2) != "?:":
                self._fail(
                    "E311", "inline flags such as (?i) are not supported; use the /i flag", start
                )
            self.pos += 2
        self._alternation()
        if self._peek() != ")":
            self._fail("E312", "missing `)` to close the group", start)
        self.pos += 1

    def _class(self) -> None:
        start = self.pos
        self.pos += 1
        if self._peek() == "^":
            self.pos += 1
        first = True
        while self.pos < len(self.text) and (self._peek() != "]" or first):
            if self._peek(2) == "[:":
                self._fail("E311", "POSIX classes such as [:alpha:] are not supported", self.pos)
            if self._peek() == "\\":
                self._escape(in_class=True)
            else:
                self.pos += 1
            first = False
        if self.pos >= len(self.text):
            self._fail("E312", "missing `]` to close the character class", start)
        self.pos += 1

    def _escape(self, in_class: bool) -> bool:
        start = self.pos
        if self.pos + 1 >= len(self.text):
            self._fail("E312", "the pattern ends with a lone backslash", start)
        char = self.text[self.pos + 1]
        self.pos += 2
        if char.isdigit() and char != "0":
            self._fail("E311", f"backreference \\{char} is not supported", start)
        if char in ESCAPE_CONSTRUCTS:
            self._fail("E311", f"{ESCAPE_CONSTRUCTS[char]} is not supported", start)
        if char in ASSERT_ESCAPES:
            if in_class:
                self._fail("E311", f"\\{char} inside [...] is not supported", start)
            return False
        if char in CLASS_ESCAPES or char in CONTROL_ESCAPES or not char.isalnum():
            return True
        self._fail("E311", f"unknown escape \\{char}", start)
        return False

    def _repeat_bounds(self) -> tuple[int, int | None] | None:
        match = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.text, self.pos)
        if match is None:
            return None
        low = int(match.group(1))
        high = low if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
        return low, high

    def _quantifiers(self, repeatable: bool) -> None:
        count = 0
        while self.pos < len(self.text):
            start = self.pos
            char = self._peek()
            if char in "*+?":
                self.pos += 1
            elif char == "{" and (bounds := self._repeat_bounds()) is not None:
                low, high = bounds
                if high is not None and low > high:
                    self._fail("E312", f"repeat bounds {{{low},{high}}} are reversed", start)
                if max(low, high or 0) > MAX_REPEAT:
                    self._fail("E311", f"repeat counts above {MAX_REPEAT} are not supported", start)
                self.pos = self.text.index("}", self.pos) + 1
            else:
                return
            if not repeatable:
                self._fail("E312", "a quantifier needs something to repeat", start)
            if count:
                self._fail("E312", "nested quantifiers are not allowed; use a group", start)
            count += 1
            if self._peek() == "?":
                self.pos += 1
            elif self._peek() == "+":
                self._fail("E311", "possessive quantifiers such as `a++` are not supported", start)


# ---- tokens: the unit targets rewrite patterns in ------------------------------------------

_QUANTIFIER = re.compile(r"[*+?]|\{\d+(,\d*)?\}")


@dataclass(frozen=True)
class Token:
    kind: str  # escape | class | group | lazy | char
    text: str


def tokens(pattern: str) -> Iterator[Token]:
    """The pattern as escapes, whole `[...]` classes, `(?:` openers, lazy marks and characters."""
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "\\":
            yield Token("escape", pattern[pos : pos + 2])
            pos += 2
        elif char == "[":
            end = _class_end(pattern, pos)
            yield Token("class", pattern[pos:end])
            pos = end
        elif pattern.startswith("(?:", pos):
            yield Token("group", "(?:")
            pos += 3
        elif (match := _QUANTIFIER.match(pattern, pos)) is not None:
            yield Token("char", match.group())
            pos = match.end()
            if pattern.startswith("?", pos):
                yield Token("lazy", "?")
                pos += 1
        else:
            yield Token("char", char)
            pos += 1


def _class_end(pattern: str, start: int) -> int:
    pos = start + 1
    if pattern.startswith("^", pos):
        pos += 1
    first = True
    while pos < len(pattern) and (pattern[pos] != "]" or first):
        pos += 2 if pattern[pos] == "\\" else 1
        first = False
    return pos + 1


def class_items(text: str) -> tuple[bool, list[str]]:
    """A `[...]` token's negation and items (single characters or two-character escapes)."""
    body = text[1:-1]
    negated = body.startswith("^")
    body = body[1:] if negated else body
    items, pos = [], 0
    while pos < len(body):
        size = 2 if body[pos] == "\\" else 1
        items.append(body[pos : pos + size])
        pos += size
    return negated, items


# ---- the /i flag -------------------------------------------------------------------------


def ascii_case_insensitive(pattern: str) -> str:
    """`pattern` matching A-Z and a-z in either case, and nothing else differently.

    `/i` means exactly that in every backend: RE2 also folds `ſ`, the Kelvin sign and every
    non-ASCII letter, and Postgres's `~*` folds whatever the database's locale says, so the
    flag is spelt out as classes (`a` becomes `[aA]`) and engines run it case-sensitively.
    """

    def rewrite(token: Token) -> str:
        if token.kind == "char" and token.text in string.ascii_letters:
            return f"[{token.text}{token.text.swapcase()}]"
        if token.kind == "class":
            return _fold_class(token.text)
        return token.text

    return "".join(rewrite(token) for token in tokens(pattern))


def _fold_class(text: str) -> str:
    negated, items = class_items(text)
    added: list[str] = []
    pos = 0
    while pos < len(items):
        if pos + 2 < len(items) and items[pos + 1] == "-":
            low, high = items[pos][-1], items[pos + 2][-1]
            pos += 3
        else:
            low = high = items[pos] if len(items[pos]) == 1 else ""
            pos += 1
        for first, last in (("A", "Z"), ("a", "z")):
            lo, hi = max(low, first) if low else "", min(high, last) if high else ""
            if lo and lo <= hi:
                added.append(lo.swapcase() if lo == hi else f"{lo.swapcase()}-{hi.swapcase()}")
    body = "".join(items)
    if items and items[-1] == "-":  # keep a trailing literal `-` last, where it is literal
        body = body[:-1] + "".join(added) + "-"
    else:
        body += "".join(added)
    return "[" + "^" * negated + body + "]"
