"""Source text to AST: the Lark LALR parser, a Transformer into `compiler.ast`, and
syntax errors a marketing-ops person can act on (E1xx)."""

from __future__ import annotations

import ast as pyast
import re
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from . import ast
from .diagnostics import Diagnostic, Severity
from .slips import Slip, find_slip
from .suggest import did_you_mean

DURATION_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# What Lark calls a terminal, in the words of the error message.
TOKEN_WORDS = {
    "NAME": "a name",
    "STRING": 'a string such as "text"',
    "NUMBER": "a number",
    "DURATION": "a duration such as 7d",
    "REGEX": "a pattern such as /text/i",
    "COMPARE_OP": "a comparison (==, !=, <, <=, >, >=)",
    "ADD_OP": "+ or -",
    "MUL_OP": "* or /",
    "SIGN": "points such as +10 or -5",
    "COLON": '":"',
    "LBRACE": '"{"',
    "RBRACE": '"}"',
    "LPAR": '"("',
    "RPAR": '")"',
    "LSQB": '"["',
    "RSQB": '"]"',
    "COMMA": '","',
    "EQUAL": '"="',
    "DOT": '"."',
    "PERCENT": '"%"',
    "MORETHAN": '">="',
    "__ANON_0": '">="',
    "$END": "the end of the file",
}

# Common mistakes, recognised by Lark's match_examples and explained instead of dumped.
MISTAKES: dict[str, list[str]] = {
    "Use == to compare, = only declares.": [
        'score s { when industry = "x": +1 }',
        "flag f = total = 1",
    ],
    'A rule needs ":" between its condition and its points, e.g. `when x > 1: +5`.': [
        "score s { when industry +1 }",
        'score s { when industry == "x" +1 }',
    ],
    "Points need a sign: write +10 or -10.": [
        'score s { when industry == "x": 10 }',
        "score s { each page_view: 1 }",
    ],
    "A clamp is written `clamp LOW..HIGH`, e.g. `clamp 0..100`.": [
        "score s { clamp 0 100 }",
        "score s { clamp 0-100 }",
    ],
    "Each `score` needs a name, then `{ rules }` or `= expression`.": ["score { }", "score s"],
    "`max` caps `each` rules; a `when` rule awards its points once.": [
        "score s { when x: +1 max 5 }"
    ],
}


def _span(file: str, meta: Any) -> ast.Span:
    if getattr(meta, "empty", False):
        return ast.NO_SPAN
    return ast.Span(
        file, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos
    )


class BadString(ValueError):
    """A string token the grammar accepts but that holds no valid text (reported as E105)."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(reason)
        self.token = token


_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = frozenset("\\'\"abfnrtvxuUN01234567")


def _unquote(token: str) -> str:
    """The text of a string token, with Python's escapes; a broken escape (`\\x`,
    `\\u12`), an unknown one (`\\;`: Python keeps the backslash today and will refuse it
    later), a raw carriage return or a lone surrogate is a BadString."""
    unknown = next((m.group(0) for m in _ESCAPE.finditer(token) if m[1] not in _ESCAPES), None)
    if unknown is not None:
        raise BadString(
            token, f"this string holds {unknown}, which is not an escape (a backslash is \\\\)"
        )
    try:
        text = pyast.literal_eval(token)
    except (SyntaxError, ValueError):
        raw = {"\r": "a raw carriage return", "\0": "a raw NUL character"}
        reason = next((raw[c] for c in raw if c in token), "an invalid escape sequence")
        raise BadString(token, f"this string holds {reason}") from None
    if any("\ud800" <= char <= "\udfff" for char in text):
        raise BadString(token, "this string holds a lone surrogate (\\ud800-\\udfff), not text")
    return text


def duration(text: str, span: ast.Span = ast.NO_SPAN) -> ast.Duration:
    number = text.rstrip("minshdw")
    return ast.Duration(float(number) * DURATION_SECONDS[text[len(number) :]], text, span=span)


@v_args(meta=True)
class _ToAst(Transformer):
    """One method per grammar rule or alias, each building one AST node with its span."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _s(self, meta: Any) -> ast.Span:
        return _span(self.file, meta)

    def _ident(self, token: Token) -> ast.Ident:
        return ast.Ident(str(token), span=_span(self.file, token))

    # declarations
    def start(self, meta, children):
        return tuple(children)

    def model_decl(self, meta, c):
        return ast.ModelDecl(
            self._ident(c[0]), _unquote(c[1]) if c[1] else None, span=self._s(meta)
        )

    def import_decl(self, meta, c):
        return ast.ImportDecl(
            ast.String(_unquote(c[0]), span=_span(self.file, c[0])), span=self._s(meta)
        )

    def type_ref(self, meta, c):
        return ast.TypeRef(str(c[0]), c[1] is not None, span=self._s(meta))

    def field_decl(self, meta, c):
        return ast.FieldDecl(self._ident(c[0]), c[1], c[2] is not None, span=self._s(meta))

    def lead_decl(self, meta, c):
        return ast.LeadDecl(tuple(c), span=self._s(meta))

    def event_decl(self, meta, c):
        return ast.EventDecl(self._ident(c[0]), tuple(c[1:]), span=self._s(meta))

    def const_decl(self, meta, c):
        return ast.ConstDecl(self._ident(c[0]), c[1], span=self._s(meta))

    def segment_decl(self, meta, c):
        return ast.SegmentDecl(self._ident(c[0]), c[1], span=self._s(meta))

    def score_decl(self, meta, c):
        description = _unquote(c[1]) if c[1] else None
        return ast.ScoreDecl(self._ident(c[0]), description, tuple(c[2:]), span=self._s(meta))

    def composite_decl(self, meta, c):
        description = _unquote(c[1]) if c[1] else None
        return ast.CompositeDecl(self._ident(c[0]), description, c[2], span=self._s(meta))

    def tier_band(self, meta, c):
        return ast.TierBand(self._ident(c[0]), c[1], span=self._s(meta))

    def tier_decl(self, meta, c):
        return ast.TierDecl(self._ident(c[0]), self._ident(c[1]), tuple(c[2:]), span=self._s(meta))

    def percentile_band(self, meta, c):
        return ast.PercentileBand(self._ident(c[0]), c[1], span=self._s(meta))

    def percentile_tier_decl(self, meta, c):
        return ast.PercentileTierDecl(
            self._ident(c[0]), self._ident(c[1]), tuple(c[2:]), span=self._s(meta)
        )

    def matrix_decl(self, meta, c):
        return ast.MatrixDecl(
            self._ident(c[0]), self._ident(c[1]), self._ident(c[2]), span=self._s(meta)
        )

    def flag_decl(self, meta, c):
        return ast.FlagDecl(self._ident(c[0]), c[1], span=self._s(meta))

    # tests
    def pair(self, meta, c):
        return ast.Pair(self._ident(c[0]), c[1], span=self._s(meta))

    def test_lead(self, meta, c):
        return ("lead", tuple(c))

    def test_event(self, meta, c):
        return ast.TestEvent(self._ident(c[0]), tuple(c[1:-1]), c[-1], span=self._s(meta))

    def test_events(self, meta, c):
        return ("events", tuple(c))

    def test_as_of(self, meta, c):
        return ("as_of", c[0])

    def test_expect(self, meta, c):
        return ("expect", ast.Expect(c[1], tier=c[0] is not None, span=self._s(meta)))

    def test_decl(self, meta, c):
        parts: dict[str, Any] = {"lead": (), "events": (), "as_of": None}
        expects = []
        for kind, value in c[1:]:
            if kind == "expect":
                expects.append(value)
            elif kind == "events":
                parts["events"] += value
            else:
                parts[kind] = value
        name = ast.String(_unquote(c[0]), span=_span(self.file, c[0]))
        return ast.TestDecl(name, expects=tuple(expects), span=self._s(meta), **parts)

    # rules
    def points(self, meta, c):
        return ast.Points(1 if c[0] == "+" else -1, self._value(c[1]), span=self._s(meta))

    def _value(self, value):
        return (
            ast.Name(str(value), span=_span(self.file, value))
            if isinstance(value, Token)
            else value
        )

    def reset(self, meta, c):
        return ast.Reset(span=self._s(meta))

    def label(self, meta, c):
        return ast.String(_unquote(c[0]), span=self._s(meta))

    def when_rule(self, meta, c):
        return ast.WhenRule(c[0], c[1], c[2], span=self._s(meta))

    def each_rule(self, meta, c):
        return ast.EachRule(c[0], c[1], tuple(c[2:-1]), c[-1], span=self._s(meta))

    def max_option(self, meta, c):
        return ast.MaxOption(self._value(c[0]), span=self._s(meta))

    def decay_option(self, meta, c):
        return ast.DecayOption(duration(str(c[0]), _span(self.file, c[0])), span=self._s(meta))

    def linear_decay_option(self, meta, c):
        return ast.LinearDecayOption(
            c[0], duration(str(c[1]), _span(self.file, c[1])), span=self._s(meta)
        )

    def once_per_option(self, meta, c):
        return ast.OncePerOption(duration(str(c[0]), _span(self.file, c[0])), span=self._s(meta))

    def group_rule(self, meta, c):
        name = ast.String(_unquote(c[0]), span=_span(self.file, c[0]))
        return ast.GroupRule(name, self._value(c[1]), tuple(c[2:]), span=self._s(meta))

    def clamp_rule(self, meta, c):
        return ast.ClampRule(c[0], c[1], span=self._s(meta))

    # literals
    def number(self, meta, c):
        return ast.Number(float(c[0]), str(c[0]), span=self._s(meta))

    def signed_number(self, meta, c):
        sign, token = c
        text = f"-{token}" if sign == "-" else str(token)
        return ast.Number(float(text), text, span=self._s(meta))

    def string(self, meta, c):
        return ast.String(_unquote(c[0]), span=self._s(meta))

    def duration(self, meta, c):
        return duration(str(c[0]), self._s(meta))

    def regex(self, meta, c):
        return _regex(c[0], self._s(meta))

    def true(self, meta, c):
        return ast.Bool(True, span=self._s(meta))

    def false(self, meta, c):
        return ast.Bool(False, span=self._s(meta))

    def list(self, meta, c):
        return ast.ListExpr(tuple(x for x in c if x is not None), span=self._s(meta))

    # names and calls
    def name(self, meta, c):
        return ast.Name(str(c[0]), span=self._s(meta))

    def qualified_name(self, meta, c):
        return ast.QualifiedName(str(c[0]), str(c[1]), span=self._s(meta))

    def call(self, meta, c):
        return ast.Call(str(c[0]), tuple(x for x in c[1:] if x is not None), span=self._s(meta))

    # operators
    def neg(self, meta, c):
        return ast.Neg(c[0], span=self._s(meta))

    def arith(self, meta, c):
        return ast.Arith(str(c[1]), c[0], c[2], span=self._s(meta))

    def not_(self, meta, c):
        return ast.Not(c[0], span=self._s(meta))

    def no(self, meta, c):
        return ast.No(c[0], span=self._s(meta))

    def or_expr(self, meta, c):
        return ast.BoolOp("or", tuple(c), span=self._s(meta))

    def and_expr(self, meta, c):
        return ast.BoolOp("and", tuple(c), span=self._s(meta))

    def compare(self, meta, c):
        return ast.Compare(str(c[1]), c[0], c[2], span=self._s(meta))

    def in_(self, meta, c):
        return ast.In(c[0], c[1], span=self._s(meta))

    def not_in(self, meta, c):
        return ast.In(c[0], c[1], negated=True, span=self._s(meta))

    def between(self, meta, c):
        return ast.Between(c[0], c[1], c[2], span=self._s(meta))

    def contains(self, meta, c):
        return ast.StringTest("contains", c[0], c[1], span=self._s(meta))

    def starts_with(self, meta, c):
        return ast.StringTest("starts_with", c[0], c[1], span=self._s(meta))

    def ends_with(self, meta, c):
        return ast.StringTest("ends_with", c[0], c[1], span=self._s(meta))

    def matches(self, meta, c):
        token = c[1]
        span = _span(self.file, token)
        pattern = _regex(token, span) if token.type == "REGEX" else ast.Name(str(token), span=span)
        return ast.Matches(c[0], pattern, span=self._s(meta))

    def is_missing(self, meta, c):
        return ast.IsMissing(c[0], span=self._s(meta))

    def is_present(self, meta, c):
        return ast.IsMissing(c[0], negated=True, span=self._s(meta))

    # event sets
    def activity(self, meta, c):
        return ast.Activity(span=self._s(meta))

    def visited(self, meta, c):
        return ast.Visited(_unquote(c[0]), span=self._s(meta))

    def where(self, meta, c):
        return ast.Where(c[0], c[1], span=self._s(meta))

    def within(self, meta, c):
        return ast.Within(c[0], duration(str(c[1]), _span(self.file, c[1])), span=self._s(meta))

    def between_ago(self, meta, c):
        return ast.BetweenAgo(c[0], c[1], c[2], span=self._s(meta))

    def then(self, meta, c):
        return ast.Then(c[0], c[1], span=self._s(meta))


def _regex(token: str, span: ast.Span) -> ast.Regex:
    body, _, flags = token[1:].rpartition("/")
    return ast.Regex(body.replace("\\/", "/"), flags, span=span)


def parse(source: str, path: str = "<string>") -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file; on a syntax error return no module and one E1xx diagnostic."""
    comments: list[Token] = []
    _COMMENT_SINK[0] = comments
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(error, source, path)]
    except RecursionError:
        span = ast.Span(path, 1, 1, 1, 2)
        return None, [
            Diagnostic("E104", Severity.ERROR, "the expression is nested too deeply", span)
        ]
    finally:
        _COMMENT_SINK[0] = []
    try:
        decls = _ToAst(path).transform(tree)
    except VisitError as error:
        if not isinstance(error.orig_exc, BadString):
            raise
        token = error.orig_exc.token
        span = _span(path, token) if isinstance(token, Token) else ast.Span(path, 1, 1, 1, 2)
        hint = 'escapes are \\" \\\\ \\n \\t \\r \\xHH \\uHHHH'
        return None, [Diagnostic("E105", Severity.ERROR, str(error.orig_exc), span, hint)]
    except RecursionError:
        span = ast.Span(path, 1, 1, 1, 2)
        return None, [
            Diagnostic("E104", Severity.ERROR, "the expression is nested too deeply", span)
        ]
    module_comments = tuple(ast.Comment(str(t), span=_span(path, t)) for t in comments)
    end = ast.Span(path, 1, 1, source.count("\n") + 1, 1, 0, len(source))
    return ast.Module(path, source, decls, module_comments, span=end), []


# Lark binds lexer callbacks when the parser is built; the one cached parser appends the
# comments it meets to whichever list `parse` put here.
_COMMENT_SINK: list[list[Token]] = [[]]


@cache
def _parser() -> Lark:
    grammar = resources.files("scorelang.grammar").joinpath("scorelang.lark").read_text()
    return Lark(
        grammar,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        lexer_callbacks={"COMMENT": lambda token: _COMMENT_SINK[0].append(token)},
    )


def _syntax_diagnostic(error: UnexpectedInput, source: str, path: str) -> Diagnostic:
    line, column = max(error.line, 1), max(error.column, 1)
    width = 1
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        width = max(1, len(str(error.token)))
    span = ast.Span(path, line, column, line, column + width, error.pos_in_stream or 0)
    slip = find_slip(error, source) if isinstance(error, UnexpectedToken) else None
    if slip:
        return Diagnostic("E102", Severity.ERROR, slip.message, _offset_span(path, source, slip))
    explained = _explain(error, source) if isinstance(error, UnexpectedToken) else None
    if explained:
        return Diagnostic("E102", Severity.ERROR, explained, span)
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
        return Diagnostic(
            "E101", Severity.ERROR, f"unexpected character {char!r}", span, _expected(error.allowed)
        )
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        return Diagnostic(
            "E103", Severity.ERROR, "the file ends too early", span, _expected(error.expected)
        )
    assert isinstance(error, UnexpectedToken)
    expected = _expected(error.expected)
    hint = " ".join(h for h in (_keyword_hint(error), expected) if h) or None
    return Diagnostic("E100", Severity.ERROR, f"unexpected {str(error.token)!r}", span, hint)


def _offset_span(path: str, source: str, slip: Slip) -> ast.Span:
    line = source.count("\n", 0, slip.start) + 1
    column = slip.start - source.rfind("\n", 0, slip.start)
    return ast.Span(path, line, column, line, column + slip.end - slip.start, slip.start)


def _explain(error: UnexpectedInput, source: str) -> str | None:
    try:
        return error.match_examples(_parser().parse, MISTAKES, use_accepts=True)
    except Exception:  # match_examples re-parses examples; a failure there is not the user's
        return None


# Terminal sets that read better as one phrase than as a list of tokens.
DECLARATION_STARTS = frozenset(
    {
        "CONST",
        "EVENT",
        "FLAG",
        "IMPORT",
        "LEAD",
        "MATRIX",
        "MODEL",
        "SCORE",
        "SEGMENT",
        "TEST",
        "TIER",
    }
)
VALUE_STARTS = frozenset(
    {"ACTIVITY", "DURATION", "FALSE", "LPAR", "LSQB", "NAME", "NUMBER", "STRING", "TRUE", "VISITED"}
)
PHRASES = (
    (
        DECLARATION_STARTS,
        "a declaration (model, import, lead, event, const, segment, score, tier, matrix, flag or test)",
    ),
    (VALUE_STARTS, "a value: a name, number, string, list, duration or event set"),
)


def _phrases(expected: set[str]) -> tuple[list[str], set[str]]:
    """Replaces recognisable groups of expected terminals by one phrase each."""
    phrases = []
    for group, phrase in PHRASES:
        if group <= expected:
            phrases.append(phrase)
            expected = expected - group
    return phrases, expected


def _keyword_hint(error: UnexpectedToken) -> str | None:
    """`scor s { }`: a misspelt keyword, when one of the expected keywords is close."""
    if error.token.type != "NAME":
        return None
    keywords = [k.lower() for k in error.expected if k.isalpha() and k.isupper() and k != "NAME"]
    return did_you_mean(str(error.token), keywords)


def _expected(expected: set[str] | frozenset[str] | None) -> str | None:
    if not expected:
        return None
    parser = _parser()
    phrases, expected = _phrases(set(expected))
    words = set()
    for name in expected:
        if name in TOKEN_WORDS:
            words.add(TOKEN_WORDS[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            continue
        words.add(f'"{pattern.value}"' if pattern.type == "str" else name.lower())
    listed = [*phrases, *sorted(words)]
    if len(listed) > 8:
        listed = [*listed[:8], "..."]
    return "expected " + (
        listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
    )
