"""Roll-ups: an account's values over its leads (`count(leads where mql)`, `sum(leads.fit)`,
`max`, `avg`, `avg(top 3 leads.engagement)`, `count_distinct(leads.department where C)`).

A call whose argument is `leads` or `leads.x` (after an optional `top N` and `where C`), and
any `avg(...)`, is a roll-up: `compiler.functions.call` hands it here. The value and the
condition are lead expressions (`ROLLUP` scope), evaluated for each of the account's leads;
`ir.Rollup` states what is aggregated and how missing values and empty sets count.
"""

from __future__ import annotations

from . import ast, ir
from .accountnames import leads_outside
from .checked import OUTPUT_KINDS, ROLLUP, Checked, ExprChecker, Handler, Scope, Value
from .suggest import did_you_mean

NUMERIC = ("sum", "max", "avg")
SHAPES = "count(leads [where C]), sum|max|avg(leads.x [where C]), avg(top N leads.x [where C]), count_distinct(leads.x [where C])"


def _parts(node: ast.Expr) -> tuple[ast.Expr, ast.TopN | None, ast.Expr | None]:
    """`top N leads.x where C` as (leads.x, top N, C)."""
    where = None
    if isinstance(node, ast.Where):
        node, where = node.source, node.condition
    top = None
    if isinstance(node, ast.TopN):
        top, node = node, node.operand
    return node, top, where


def _is_leads(node: ast.Expr) -> bool:
    if isinstance(node, ast.BoolOp):  # `count(leads where a and b)`: the where ends at `and`
        node = node.operands[0]
    base = _parts(node)[0]
    return (isinstance(base, ast.Name) and base.name == "leads") or (
        isinstance(base, ast.QualifiedName) and base.qualifier == "leads"
    )


def is_rollup(node: ast.Call) -> bool:
    return node.function in ir.ROLLUPS and (
        node.function == "avg" or any(map(_is_leads, node.args))
    )


def rollup(checker: ExprChecker, node: ast.Call, scope: Scope) -> Checked:
    name = node.function
    if scope.entity != ir.ACCOUNT or scope.props is not None or scope.expect:
        leads_outside(checker, node, scope)
        return None
    if len(node.args) != 1:
        checker.error("E308", f"a roll-up takes one argument, got {len(node.args)}", node, SHAPES)
        return None
    base, top, where_node = _parts(node.args[0])
    is_count = isinstance(base, ast.Name) and base.name == "leads"
    if not (is_count or (isinstance(base, ast.QualifiedName) and base.qualifier == "leads")) or (
        is_count != (name == "count")
    ):
        _shape(checker, node)
        return None
    count = _top(checker, top, name)
    where = None if where_node is None else checker.condition(where_node, ROLLUP)
    value = None if is_count else _value(checker, base, name)
    if (
        (top is not None and count is None)
        or (where_node is not None and where is None)
        or (not is_count and value is None)
    ):
        return None
    rollup = ir.Rollup(name, value and value.expr, where, count)
    return Value(rollup, rollup.type)


def _shape(checker: ExprChecker, node: ast.Call) -> None:
    several = isinstance(node.args[0], ast.BoolOp)
    checker.error(
        "E432",
        f"{node.function}() over leads is written {_written(node.function)}",
        node,
        "parenthesise a condition of several parts: count(leads where (a and b))"
        if several
        else SHAPES,
    )


def _written(function: str) -> str:
    if function == "count":
        return "count(leads [where C])"
    if function == "avg":
        return "avg([top N] leads.x [where C])"
    return f"{function}(leads.x [where C])"


def _top(checker: ExprChecker, top: ast.TopN | None, function: str) -> int | None:
    if top is None:
        return None
    number = top.count
    if function != "avg":
        checker.error("E434", "`top N` only averages the N largest: avg(top N leads.x)", top)
        return None
    if number.value < 1 or any(c in number.text for c in ".eE"):
        checker.error(
            "E434", f"top {number.text}: N is a whole number of leads, at least 1", number
        )
        return None
    return int(number.value)


def _value(checker: ExprChecker, base: ast.QualifiedName, function: str) -> Value | None:
    symbol = checker.symbols.names.get(base.name)
    if symbol is None or (symbol.kind != "field" and symbol.kind not in OUTPUT_KINDS):
        candidates = [
            s.name
            for s in checker.symbols.names.values()
            if s.kind == "field" or (s.kind in OUTPUT_KINDS and s.entity == ir.LEAD)
        ]
        checker.error(
            "E200",
            f"leads have no field or output `{base.name}`",
            base,
            did_you_mean(base.name, candidates),
        )
        return None
    span = base.span
    name = ast.Name(base.name, span=span)
    value = checker.value(name, ROLLUP)
    if value is not None and function in NUMERIC and not value.type.numeric:
        checker.error(
            "E431",
            f"{function}() needs numbers; `{base.name}` is {value.type.value}",
            base,
            "count the leads instead: count(leads where ...), or count_distinct(leads.x)",
        )
        return None
    return value


def top_outside(checker: ExprChecker, node: ast.TopN, scope: Scope) -> Checked:
    checker.error("E434", "`top N` only averages the N largest: avg(top N leads.x)", node)
    return None


HANDLERS: dict[type[ast.Expr], Handler] = {
    ast.TopN: top_outside,
}
