"""Source text to AST: the Lark LALR parser, a Transformer into `compiler.ast`, and
syntax errors a marketing-ops person can act on (E1xx)."""

from __future__ import annotations

import ast as pyast
import dataclasses
import os
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.lark import PostLex
from lark.lexer import LexerState, LexerThread, TextSlice
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser_state import ParserState

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
        mark = c[2] and c[2].type
        return ast.FieldDecl(
            self._ident(c[0]), c[1], mark == "KEY", mark == "ACCOUNT", span=self._s(meta)
        )

    def lead_decl(self, meta, c):
        return ast.LeadDecl(tuple(c), span=self._s(meta))

    def account_decl(self, meta, c):
        return ast.AccountDecl(tuple(c), span=self._s(meta))

    def account_output(self, meta, c):
        return dataclasses.replace(c[0], entity="account", span=self._s(meta))

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

    def test_account(self, meta, c):
        return ("account", tuple(c))

    def test_lead(self, meta, c):
        return ("lead", ast.TestLead(tuple(c), span=self._s(meta)))

    def test_event(self, meta, c):
        return ast.TestEvent(self._ident(c[0]), tuple(c[1:-1]), c[-1], span=self._s(meta))

    def test_events(self, meta, c):
        return ("events", tuple(c))

    def test_as_of(self, meta, c):
        return ("as_of", c[0])

    def expect_subject(self, meta, c):
        if c[0].type == "ACCOUNT":
            return "account"
        return ast.String(_unquote(c[0]), span=_span(self.file, c[0]))

    def test_expect(self, meta, c):
        subject, tier, condition = c
        return (
            "expect",
            ast.Expect(
                condition,
                tier=tier is not None,
                account=subject == "account",
                lead=subject if isinstance(subject, ast.String) else None,
                span=self._s(meta),
            ),
        )

    def test_decl(self, meta, c):
        """A lead test keeps its last lead block and every event; an account test gives each
        lead block the events written after it (events before any lead: a lead of no
        fields, which the checker reports)."""
        parts: dict[str, Any] = {"as_of": None}
        expects, leads, events = [], [], []
        for kind, value in c[1:]:
            if kind == "expect":
                expects.append(value)
            elif kind == "lead":
                leads.append(value)
            elif kind == "events":
                events.append(value)
                if not leads:
                    leads.append(ast.TestLead((), span=ast.NO_SPAN))
                leads[-1] = dataclasses.replace(leads[-1], events=leads[-1].events + value)
            else:
                parts[kind] = value
        if parts.get("account") is not None:
            parts["leads"] = tuple(leads)
        else:
            parts["lead"] = leads[-1].record if leads else ()
            parts["events"] = tuple(e for batch in events for e in batch)
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

    def top_n(self, meta, c):
        count = ast.Number(float(c[0]), str(c[0]), span=_span(self.file, c[0]))
        return ast.TopN(count, c[1], span=self._s(meta))

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
    """Parse one file; on a syntax error return no module and the E1xx diagnostics (the
    formatter's contract: it rewrites whole files only)."""
    module, problems = parse_module(source, path)
    return (None if problems else module), problems


def parse_module(source: str, path: str = "<string>") -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file, recovering at declaration starts: a declaration that does not parse
    (or holds a bad string) is reported and left out, and parsing goes on at the next line
    that starts with a declaration keyword, so one mistake does not hide the rest of the
    file from the checker and the editor."""
    end = ast.Span(path, 1, 1, source.count("\n") + 1, 1, 0, len(source))
    try:
        trees, comments, problems = _parse_trees(source, path)
    except RecursionError:
        return ast.Module(path, source, (), (), span=end), [_too_deep(path)]
    decls = []
    for tree in trees:
        decl = _transform(tree, path, problems)
        if decl is not None:
            decls.append(decl)
    module_comments = tuple(ast.Comment(str(t), span=_span(path, t)) for t in comments)
    return ast.Module(path, source, tuple(decls), module_comments, span=end), problems


def _too_deep(path: str) -> Diagnostic:
    span = ast.Span(path, 1, 1, 1, 2)
    return Diagnostic("E104", Severity.ERROR, "the expression is nested too deeply", span)


def _transform(tree: Any, path: str, problems: list[Diagnostic]) -> ast.Decl | None:
    """One declaration's parse tree to its AST node, or None and a diagnostic."""
    try:
        return _ToAst(path).transform(tree)
    except VisitError as error:
        if not isinstance(error.orig_exc, BadString):
            raise
        token = error.orig_exc.token
        span = _span(path, token) if isinstance(token, Token) else ast.Span(path, 1, 1, 1, 2)
        hint = 'escapes are \\" \\\\ \\n \\t \\r \\xHH \\uHHHH'
        problems.append(Diagnostic("E105", Severity.ERROR, str(error.orig_exc), span, hint))
    except RecursionError:
        problems.append(_too_deep(path))
    return None


class _KeepComments(PostLex):
    """Lets comments through the lexer in every parser state, so that the parse loop (not a
    callback bound to the one cached parser) collects them per parse."""

    always_accept = ("COMMENT",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return stream


# Comments mean nothing to the language (the grammar ignores them), but the formatter needs
# them: this parser takes them as tokens, which the parse loop sets aside (_KeepComments).
IGNORED_COMMENTS = "%ignore COMMENT\n"


@cache
def _parser() -> Lark:
    grammar = resources.files("scorelang.grammar").joinpath("scorelang.lark").read_text()
    assert IGNORED_COMMENTS in grammar
    grammar = grammar.replace(IGNORED_COMMENTS, "")
    return Lark(
        grammar,
        parser="lalr",
        start=["start", "rule_list"],
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_KeepComments(),
        cache=parser_cache(),
    )


def parser_cache() -> str | bool:
    """Where Lark keeps the analysed grammar between runs: building the LALR tables takes
    ~0.5 s, longer than the rest of a small command. Lark stores the hash of the grammar,
    its options and its version in the file and rebuilds it when any differs. The folder is
    the user's own cache ($XDG_CACHE_HOME or ~/.cache), not the shared temporary one Lark
    would pick; without a usable one, nothing is cached."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folder = Path(root) / "scorelang"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / "grammar.lark-cache")


# A line that starts with a declaration keyword: where parsing resumes after an error.
_DECLARATION_LINE = re.compile(
    r"^(?:model|import|lead|account|event|const|segment|score|tier|matrix|flag|test)\b",
    re.MULTILINE,
)


def _parse_trees(source: str, path: str) -> tuple[list[Any], list[Token], list[Diagnostic]]:
    """The parse trees of the declarations that parse, the comments, and one diagnostic per
    region skipped."""
    interactive = _parser().parse_interactive(source, start="start")
    state = interactive.parser_state
    comments: list[Token] = []
    problems: list[Diagnostic] = []
    offset = 0
    while True:
        try:
            tree = _feed(interactive, source, offset, comments)
            return list(tree.children), comments, problems
        except UnexpectedInput as error:
            problems.append(_syntax_diagnostic(error, source, path))
            resume = _recover(state, source, _error_offset(error))
            offset = resume if resume > offset else len(source)  # always forward


def parse_fragment(
    source: str, path: str, begin: int, end: int, start: str
) -> tuple[tuple[Any, ...], tuple[ast.Comment, ...]] | None:
    """The declarations (`start="start"`) or score rules (`"rule_list"`) of
    `source[begin:end]`, with spans in the whole source, and its comments; None when the
    fragment does not parse cleanly (the caller then parses the whole file)."""
    interactive = _parser().parse_interactive(source, start=start)
    comments: list[Token] = []
    try:
        tree = _feed(interactive, source, begin, comments, end)
    except (UnexpectedInput, RecursionError):
        return None
    problems: list[Diagnostic] = []
    nodes = tuple(_transform(child, path, problems) for child in tree.children)
    if problems:
        return None
    return nodes, tuple(ast.Comment(str(t), span=_span(path, t)) for t in comments)


def _feed(
    interactive: InteractiveParser,
    source: str,
    offset: int,
    comments: list[Token],
    end: int | None = None,
) -> Any:
    """Lexes `source[offset:end]` into the interactive parser's state, comments aside; the
    tree at the end, or the UnexpectedInput (with its interactive parser, for `accepts`)."""
    state = interactive.parser_state
    lexer = interactive.lexer_thread.lexer
    text = TextSlice(source, offset, len(source) if end is None else end)
    state.lexer = LexerThread(lexer, LexerState(text))
    last = None
    try:
        for token in state.lexer.lex(state):
            if token.type == "COMMENT":
                comments.append(token)
                continue
            state.feed_token(token)
            last = token
        eof = Token.new_borrow_pos("$END", "", last) if last else Token("$END", "", 0, 1, 1)
        return state.feed_token(eof, True)
    except UnexpectedInput as error:
        error.interactive_parser = InteractiveParser(interactive.parser, state, state.lexer)
        raise


def _recover(state: ParserState, source: str, error_at: int) -> int:
    """Where parsing resumes after an error at `error_at`, with the parser's stacks cut back
    to whole declarations. The declaration being parsed is dropped when it is incomplete,
    or when it ran over the start of the next one (after `const a = 1 +`, the contextual
    lexer reads the next line's `const` as a name); otherwise the error lies between
    declarations and only the text up to the next declaration line is skipped."""
    states = state.parse_conf.states
    depth = _top_level_depth(state)
    starts = (_start_of(value) for value in state.value_stack[depth - 1 :])
    start = next((s for s in starts if s is not None), None)
    if start is not None:
        overrun = _DECLARATION_LINE.search(source, start + 1)
        if not _shifts_declaration(states, list(state.state_stack)) or (
            overrun is not None and overrun.start() <= error_at
        ):
            del state.state_stack[depth:]
            del state.value_stack[depth - 1 :]
            error_at = start
    resume = _DECLARATION_LINE.search(source, error_at + 1)
    return resume.start() if resume else len(source)


def _top_level_depth(state: ParserState) -> int:
    """The height of the parser's stack up to the declaration being parsed."""
    states, stack = state.parse_conf.states, state.state_stack
    depth = len(stack)
    while depth > 1 and not _is_shift(states[stack[depth - 1]].get("MODEL")):
        depth -= 1
    return depth


def _shifts_declaration(states: dict[Any, dict[str, Any]], stack: list[Any]) -> bool:
    """Whether a declaration keyword could come next: reduce on a copy of the state stack
    (without building values) until `model` is shifted or refused."""
    while True:
        action = states[stack[-1]].get("MODEL")
        if action is None:
            return False
        kind, rule = action
        if kind is Shift:
            return True
        if rule.expansion:
            del stack[-len(rule.expansion) :]
        stack.append(states[stack[-1]][rule.origin.name][1])


def _is_shift(action: tuple[Any, Any] | None) -> bool:
    return action is not None and action[0] is Shift


def _start_of(value: Any) -> int | None:
    if isinstance(value, Token):
        return value.start_pos
    meta = getattr(value, "meta", None)
    return None if meta is None or getattr(meta, "empty", True) else meta.start_pos


def _error_offset(error: UnexpectedInput) -> int:
    if isinstance(error, UnexpectedToken) and error.token.start_pos is not None:
        return error.token.start_pos
    return error.pos_in_stream or 0


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


def _parse_strict(source: str) -> Any:
    return _feed(_parser().parse_interactive(source, start="start"), source, 0, [])


def _offset_span(path: str, source: str, slip: Slip) -> ast.Span:
    line = source.count("\n", 0, slip.start) + 1
    column = slip.start - source.rfind("\n", 0, slip.start)
    return ast.Span(path, line, column, line, column + slip.end - slip.start, slip.start)


def _explain(error: UnexpectedInput, source: str) -> str | None:
    """The MISTAKES message whose example fails in the same parser state. Lark compares
    states by stack height too, and an example is a file of one declaration: the
    declarations before the failing one are left out of the comparison."""
    state = error.state
    if isinstance(state, ParserState):
        stack = state.state_stack
        own = stack[_top_level_depth(state) :]
        error.state = ParserState(state.parse_conf, state.lexer, [stack[0], *own], [])
    try:
        return error.match_examples(_parse_strict, MISTAKES, use_accepts=True)
    except Exception:  # match_examples re-parses examples; a failure there is not the user's
        return None


# Terminal sets that read better as one phrase than as a list of tokens.
DECLARATION_STARTS = frozenset(
    {
        "ACCOUNT",
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
        "a declaration (model, import, lead, account, event, const, segment, score, tier, matrix, flag or test)",
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
