"""The canonical formatter: one layout for every `.score` file, printed from the AST.

Why from the AST and not by re-spacing tokens: one printer means one layout, whatever the
input looked like, and re-parsing the output gives the same AST (spans aside), so the
formatted model always means the same thing. Comments are not in the AST; they are placed
back by source line: a comment after code stays at the end of that code's line, a comment
on its own line goes above the next thing that follows it.

The layout: two-space indents, one declaration per line, blocks (`lead`, `score`, `group`,
`tier`, `test`) broken one item per line, an `event` on one line when it fits and holds no
comment, single blank lines kept where the author put them, and a blank line between
declarations of different kinds or spanning several lines. Expressions get the fewest
parentheses that keep their meaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from . import ast
from .diagnostics import Diagnostic
from .parse import parse

WIDTH = 100
N = TypeVar("N", bound=ast.Node)
INDENT = "  "


def format_source(source: str, path: str = "<string>") -> tuple[str | None, list[Diagnostic]]:
    """The canonical text of a source file, or None and the syntax errors."""
    module, diagnostics = parse(source, path)
    if module is None:
        return None, diagnostics
    return format_module(module), diagnostics


def format_module(module: ast.Module) -> str:
    units = _Layout(module).units()
    return _Printer(module, units).text()


# ---- expressions ---------------------------------------------------------------------------

# Binding strength of each node, from the grammar (scorelang.lark): higher binds tighter.
_OR, _AND, _NOT, _COMPARE, _WINDOW, _WHERE, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 11)

_COMPARE_NODES = (ast.Compare, ast.In, ast.Between, ast.StringTest, ast.Matches, ast.IsMissing)
_STRING_TEST_WORDS = {
    "contains": "contains",
    "starts_with": "starts with",
    "ends_with": "ends with",
}


def _level(expr: ast.Expr) -> int:
    if isinstance(expr, ast.BoolOp):
        return _OR if expr.op == "or" else _AND
    if isinstance(expr, ast.Not | ast.No):
        return _NOT
    if isinstance(expr, (*_COMPARE_NODES, ast.Then)):
        return _COMPARE
    if isinstance(expr, ast.Within | ast.BetweenAgo):
        return _WINDOW
    if isinstance(expr, ast.Where):
        return _WHERE
    if isinstance(expr, ast.Arith):
        return _SUM if expr.op in "+-" else _PRODUCT
    if isinstance(expr, ast.Neg):
        return _UNARY
    return _ATOM


def format_expr(expr: ast.Expr, minimum: int = 0) -> str:
    """An expression in canonical form, parenthesised if it binds looser than `minimum`."""
    text = _expr(expr)
    return f"({text})" if _level(expr) < minimum else text


def string_literal(value: str) -> str:
    """A string token that parses back to `value` (the parser unquotes Python-style)."""
    return json.dumps(value, ensure_ascii=False)


def _expr(e: ast.Expr) -> str:
    match e:
        case ast.String(value=value):
            return string_literal(value)
        case ast.Number(text=text) | ast.Duration(text=text):
            return text
        case ast.Bool(value=value):
            return "true" if value else "false"
        case ast.Regex():
            return _regex(e)
        case ast.ListExpr(items=items):
            return "[" + ", ".join(format_expr(i) for i in items) + "]"
        case ast.Name(name=name):
            return name
        case ast.QualifiedName(qualifier=qualifier, name=name):
            return f"{qualifier}.{name}"
        case ast.Call(function=function, args=args):
            return f"{function}(" + ", ".join(format_expr(a) for a in args) + ")"
        case ast.Activity():
            return "activity"
        case ast.Visited(path=path):
            return f"visited {string_literal(path)}"
        case ast.TopN(count=count, operand=operand):
            return f"top {count.text} {format_expr(operand, _ATOM)}"
        case ast.Neg(operand=operand):
            return "-" + format_expr(operand, _UNARY)
        case ast.Arith(op=op, left=left, right=right):
            level = _level(e)
            return f"{format_expr(left, level)} {op} {format_expr(right, level + 1)}"
        case ast.Not(operand=operand):
            return "not " + format_expr(operand, _NOT)
        case ast.No(operand=operand):
            return "no " + format_expr(operand, _NOT)
        case ast.BoolOp(op=op, operands=operands):
            return f" {op} ".join(format_expr(o, _level(e) + 1) for o in operands)
        case ast.Then(first=first, second=second):
            return f"{format_expr(first, _WINDOW)} then {format_expr(second, _WINDOW)}"
        case ast.Within(source=source, duration=duration):
            return f"{format_expr(source, _WHERE)} within {duration.text}"
        case ast.BetweenAgo(source=source, low=low, high=high):
            parts = (format_expr(x, _SUM) for x in (source, low, high))
            return "{} between {} and {} ago".format(*parts)
        case ast.Where(source=source, condition=condition):
            return f"{format_expr(source, _SUM)} where {_prop_condition(condition)}"
        case _:
            return _comparison(e, lambda x: format_expr(x, _SUM))


def _comparison(e: ast.Expr, operand) -> str:
    """A comparison-level node; `operand` prints its operands for the context (lead or event)."""
    match e:
        case ast.Compare(op=op, left=left, right=right):
            return f"{operand(left)} {op} {operand(right)}"
        case ast.In(value=value, options=options, negated=negated):
            return f"{operand(value)} {'not in' if negated else 'in'} {operand(options)}"
        case ast.Between(value=value, low=low, high=high):
            return f"{operand(value)} between {operand(low)} and {operand(high)}"
        case ast.StringTest(op=op, value=value, operand=right):
            return f"{operand(value)} {_STRING_TEST_WORDS[op]} {operand(right)}"
        case ast.Matches(value=value, pattern=pattern):
            return f"{operand(value)} matches {_expr(pattern)}"
        case ast.IsMissing(operand=value, negated=negated):
            return f"{operand(value)} is {'present' if negated else 'missing'}"
    raise TypeError(f"cannot format {type(e).__name__}")


def _regex(regex: ast.Regex) -> str:
    return "/" + regex.pattern.replace("/", "\\/") + "/" + regex.flags


# After `where` the grammar allows one comparison over a narrower operand syntax (names,
# calls, literals, arithmetic); anything else is parenthesised.
_PROP_ATOMS = (
    ast.Name,
    ast.Call,
    ast.String,
    ast.Number,
    ast.Duration,
    ast.Bool,
    ast.Regex,
    ast.ListExpr,
)


def _prop_condition(e: ast.Expr) -> str:
    if isinstance(e, ast.Not):
        return "not " + _prop_condition(e.operand)
    if isinstance(e, _COMPARE_NODES):
        return _comparison(e, _prop_operand)
    return _prop_operand(e)


def _prop_operand(e: ast.Expr, minimum: int = _SUM) -> str:
    if isinstance(e, ast.Arith):
        level = _level(e)
        text = f"{_prop_operand(e.left, level)} {e.op} {_prop_operand(e.right, level + 1)}"
        return f"({text})" if level < minimum else text
    if isinstance(e, _PROP_ATOMS):
        return _expr(e)
    return f"({_expr(e)})"


# ---- declarations to lines -------------------------------------------------------------------


@dataclass
class _Unit:
    """One output line and the source lines it came from (0: no source line of its own)."""

    depth: int
    text: str
    first: int
    last: int
    blank: bool = False  # a blank line before it (and before its leading comments)
    closing: bool = False  # a closing brace: comments above it belong inside the block
    leading: list[str] = field(default_factory=list)
    trailing: str | None = None
    column: int | None = None  # where padding goes to align this line with its neighbours


def _lines(node: ast.Node) -> tuple[int, int]:
    return node.span.line, node.span.end_line


class _Layout:
    """Turns declarations into units; blank lines follow the source where the layout allows."""

    def __init__(self, module: ast.Module):
        self.module = module
        self.source_lines = module.source.splitlines()
        self.comment_lines = [c.span.line for c in module.comments]
        self.out: list[_Unit] = []

    def units(self) -> list[_Unit]:
        previous: ast.Decl | None = None
        previous_lines = 0
        for decl in self.module.decls:
            start = len(self.out)
            self._decl(decl)
            lines = len(self.out) - start
            if previous is not None:
                grouped = lines == previous_lines == 1 and type(previous) is type(decl)
                self.out[start].blank = not grouped or self._gap(previous, decl)
            previous, previous_lines = decl, lines
        return self.out

    def _gap(self, before: ast.Node, after: ast.Node) -> bool:
        """Whether the author left a blank line between two nodes."""
        lines = self.source_lines[before.span.end_line : after.span.line - 1]
        return any(not line.strip() for line in lines)

    def _has_comment_inside(self, node: ast.Node) -> bool:
        line, end = _lines(node)
        return any(line <= c < end for c in self.comment_lines)

    def _emit(self, depth: int, text: str, node: ast.Node | None = None) -> None:
        first, last = _lines(node) if node is not None else (0, 0)
        self.out.append(_Unit(depth, text, first, last))

    def _open(self, depth: int, text: str, node: ast.Node) -> None:
        """The first line of a block, standing for the node's first source line."""
        line = node.span.line
        self.out.append(_Unit(depth, text, line, line))

    def _close(self, depth: int, node: ast.Node | None, text: str = "}") -> None:
        line = node.span.end_line if node is not None else 0
        self.out.append(_Unit(depth, text, line, line, closing=True))

    def _children(self, depth: int, children: Sequence[N], emit: Callable[[int, N], None]) -> None:
        previous = None
        for child in children:
            start = len(self.out)
            emit(depth, child)
            if previous is not None and len(self.out) > start:
                self.out[start].blank = self._gap(previous, child)
            previous = child

    def _block(
        self,
        depth: int,
        header: str,
        node: ast.Node,
        children: Sequence[N],
        emit: Callable[[int, N], None],
    ) -> None:
        self._open(depth, header + " {", node)
        self._children(depth + 1, children, emit)
        self._close(depth, node)

    def _inline_or_block(
        self,
        depth: int,
        header: str,
        node: ast.Node,
        items: Sequence[N],
        show: Callable[[N], str],
        tail: str = "",
        align: bool = False,
    ) -> None:
        """`header { a, b }tail` on one line when it fits and no comment sits inside; `align`
        lines up the braces of consecutive one-line declarations."""
        texts = [show(item) for item in items]
        inline = header + (" { " + ", ".join(texts) + " }" if texts else " {}") + tail
        if len(INDENT * depth + inline) <= WIDTH and not self._has_comment_inside(node):
            self._emit(depth, inline, node)
            self.out[-1].column = len(header) if align else None
            return
        self._open(depth, header + " {", node)
        self._children(depth + 1, items, lambda d, item: self._emit(d, show(item), item))
        self._close(depth, node, "}" + tail)

    def _decl(self, decl: ast.Decl) -> None:
        if getattr(decl, "entity", "lead") == "account":
            start = len(self.out)
            self._output(decl)
            self.out[start].text = "account " + self.out[start].text
        else:
            self._output(decl)

    def _output(self, decl: ast.Decl) -> None:
        match decl:
            case ast.ModelDecl(name=name, description=description):
                self._emit(0, f"model {name.text}" + _description(description), decl)
            case ast.ImportDecl(path=path):
                self._emit(0, f"import {string_literal(path.value)}", decl)
            case ast.LeadDecl(fields=fields) | ast.AccountDecl(fields=fields):
                keyword = "lead" if isinstance(decl, ast.LeadDecl) else "account"
                self._block(0, keyword, decl, fields, lambda d, f: self._emit(d, _field(f), f))
            case ast.EventDecl(name=name, properties=properties):
                self._inline_or_block(0, f"event {name.text}", decl, properties, _field, align=True)
            case ast.ConstDecl(name=name, value=ast.ListExpr(items=items)) if items:
                inline = f"const {name.text} = {format_expr(decl.value)}"
                if len(inline) <= WIDTH and not self._has_comment_inside(decl):
                    self._emit(0, inline, decl)
                else:
                    self._open(0, f"const {name.text} = [", decl)
                    last = items[-1]
                    self._children(
                        1,
                        items,
                        lambda d, i: self._emit(d, format_expr(i) + ("" if i is last else ","), i),
                    )
                    self._close(0, decl, "]")
            case ast.ConstDecl(name=name, value=value):
                self._emit(0, f"const {name.text} = {format_expr(value)}", decl)
            case ast.SegmentDecl(name=name, condition=condition):
                self._emit(0, f"segment {name.text} = {format_expr(condition)}", decl)
            case ast.ScoreDecl(name=name, description=description, rules=rules):
                self._block(
                    0, f"score {name.text}" + _description(description), decl, rules, self._rule
                )
            case ast.CompositeDecl(name=name, description=description, expr=expr):
                self._emit(
                    0, f"score {name.text}{_description(description)} = {format_expr(expr)}", decl
                )
            case ast.TierDecl(name=name, source=source, bands=bands):
                self._block(0, f"tier {name.text} from {source.text}", decl, bands, self._band)
            case ast.PercentileTierDecl(name=name, source=source, bands=bands):
                header = f"tier {name.text} from {source.text} by percentile"
                self._block(0, header, decl, bands, self._band)
            case ast.MatrixDecl(name=name, rows=rows, columns=columns):
                self._emit(0, f"matrix {name.text} from {rows.text}, {columns.text}", decl)
            case ast.FlagDecl(name=name, condition=condition):
                self._emit(0, f"flag {name.text} = {format_expr(condition)}", decl)
            case ast.TestDecl():
                self._test(decl)

    def _rule(self, depth: int, rule: ast.Rule) -> None:
        match rule:
            case ast.WhenRule() | ast.EachRule():
                self._emit(depth, rule_text(rule) + _label(rule.label), rule)
            case ast.GroupRule(name=name, max=cap, rules=rules):
                header = f"group {string_literal(name.value)} max {_value(cap)}"
                self._block(depth, header, rule, rules, self._rule)
            case ast.ClampRule(low=low, high=high):
                self._emit(depth, f"clamp {low.text}..{high.text}", rule)

    def _band(self, depth: int, band: ast.TierBand | ast.PercentileBand) -> None:
        if isinstance(band, ast.TierBand):
            bound = f" >= {band.bound.text}" if band.bound is not None else ""
        else:
            bound = f" top {band.top_percent.text}%" if band.top_percent is not None else ""
        self._emit(depth, band.label.text + bound, band)
        self.out[-1].column = len(band.label.text) if bound else None

    def _test(self, test: ast.TestDecl) -> None:
        self._open(0, f"test {string_literal(test.name.value)} {{", test)
        if test.account is not None:
            self._record("account", test.account)
            for lead in test.leads:
                self._record("lead", lead.record)
                self._events(lead.events)
        else:
            self._record("lead", test.lead)
            self._events(test.events)
        if test.as_of is not None:
            self._emit(1, f"as_of {format_expr(test.as_of)}", test.as_of)
        for expect in test.expects:
            self._emit(1, _expect_keyword(expect) + format_expr(expect.condition), expect)
        self._close(0, test)

    def _record(self, keyword: str, pairs: tuple[ast.Pair, ...]) -> None:
        if pairs:
            self._inline_or_block(1, keyword, _covering(pairs), pairs, _pair)
        elif keyword == "account":
            self._emit(1, "account {}")

    def _events(self, events: tuple[ast.TestEvent, ...]) -> None:
        if events:
            self._emit(1, "events {")
            self._children(2, events, self._test_event)
            self._close(1, None)

    def _test_event(self, depth: int, event: ast.TestEvent) -> None:
        tail = f" at {format_expr(event.at)}"
        self._inline_or_block(depth, event.type.text, event, event.properties, _pair, tail)


def rule_text(rule: ast.WhenRule | ast.EachRule) -> str:
    """A rule's canonical text without its label: the same however the source was laid out,
    so it can serve as the rule's default label."""
    if isinstance(rule, ast.WhenRule):
        points = "reset" if isinstance(rule.award, ast.Reset) else _points(rule.award)
        return f"when {format_expr(rule.condition)}: {points}"
    options = "".join(" " + _option(o) for o in rule.options)
    return f"each {format_expr(rule.events)}: {_points(rule.points)}{options}"


def _expect_keyword(expect: ast.Expect) -> str:
    subject = "account " if expect.account else ""
    if expect.lead is not None:
        subject = f"lead {string_literal(expect.lead.value)} "
    return f"expect {subject}{'tier ' if expect.tier else ''}"


def _covering(nodes: tuple[ast.Node, ...]) -> ast.Node:
    """A stand-in node spanning several nodes (a test's lead pairs have no node of their own)."""
    first, last = nodes[0].span, nodes[-1].span
    span = ast.Span(
        first.file, first.line, first.column, last.end_line, last.end_column, first.start, last.end
    )
    return ast.Node(span=span)


def _pair(pair: ast.Pair) -> str:
    return f"{pair.key.text}: {format_expr(pair.value)}"


def _description(description: str | None) -> str:
    return f" {string_literal(description)}" if description is not None else ""


def _label(label: ast.String | None) -> str:
    return f" {string_literal(label.value)}" if label is not None else ""


def _field(f: ast.FieldDecl) -> str:
    mark = " key" if f.key else " account" if f.link else ""
    return f"{f.name.text}: {f.type.name}{'?' if f.type.optional else ''}{mark}"


def _value(value: ast.Number | ast.Name) -> str:
    return value.text if isinstance(value, ast.Number) else value.name


def _points(points: ast.Points) -> str:
    return ("+" if points.sign > 0 else "-") + _value(points.value)


def _option(option: ast.EachOption) -> str:
    match option:
        case ast.MaxOption(value=value):
            return f"max {_value(value)}"
        case ast.DecayOption(half_life=half_life):
            return f"decay {half_life.text}"
        case ast.LinearDecayOption(percent=percent, period=period):
            return f"decay linear {percent.text}% per {period.text}"
        case ast.OncePerOption(period=period):
            return f"once per {period.text}"
    raise TypeError(f"cannot format {type(option).__name__}")


# ---- comments back in, then text -------------------------------------------------------------


class _Printer:
    """Places each comment on a unit by source line, then prints the units."""

    def __init__(self, module: ast.Module, units: list[_Unit]):
        self.units = units
        self.source_lines = module.source.splitlines()
        self.tail: list[str] = []
        for comment in module.comments:
            self._place(comment)

    def _place(self, comment: ast.Comment) -> None:
        line = comment.span.line
        text = comment.text.rstrip()
        before = self.source_lines[line - 1][: comment.span.column - 1]
        containing = [u for u in self.units if u.first and u.first <= line <= u.last]
        if containing:
            unit = min(reversed(containing), key=lambda u: u.last - u.first)  # innermost, latest
            if before.strip() and line == unit.last and unit.trailing is None:
                unit.trailing = text
            else:
                unit.leading.append(text)
            return
        following = [u for u in self.units if u.first > line]
        if following:
            min(following, key=lambda u: u.first).leading.append(text)
        else:
            self.tail.append(text)

    def text(self) -> str:
        out: list[str] = []
        for section in self._sections():
            lines = self._aligned(section)
            for unit, line in zip(section, lines, strict=True):
                if unit.blank and out:
                    out.append("")
                comment_indent = INDENT * (unit.depth + (1 if unit.closing else 0))
                out.extend(comment_indent + c for c in unit.leading)
                out.append(line)
        if self.tail:
            if out:
                out.append("")
            out.extend(self.tail)
        return "\n".join(out) + "\n" if out else ""

    def _sections(self) -> list[list[_Unit]]:
        """Runs of consecutive lines at one depth with no blank line: the alignment scope."""
        sections: list[list[_Unit]] = []
        for unit in self.units:
            if sections and not unit.blank and sections[-1][-1].depth == unit.depth:
                sections[-1].append(unit)
            else:
                sections.append([unit])
        return sections

    @staticmethod
    def _aligned(section: list[_Unit]) -> list[str]:
        """Lines with aligned columns (tier bounds, event braces), then aligned trailing comments."""
        width = max((u.column for u in section if u.column is not None), default=0)
        texts = [
            u.text
            if u.column is None
            else u.text[: u.column] + " " * (width - u.column) + u.text[u.column :]
            for u in section
        ]
        lines = [INDENT * u.depth + t for u, t in zip(section, texts, strict=True)]
        code = max(
            (len(line) for u, line in zip(section, lines, strict=True) if u.trailing), default=0
        )
        return [
            f"{line.ljust(code)}  {u.trailing}" if u.trailing else line
            for u, line in zip(section, lines, strict=True)
        ]
