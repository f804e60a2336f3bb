"""The roll-ups of a plan (compiler/plan.py) in SQL: lead rows grouped by their account.

`ranked` gives each lead, per `avg(top N leads.X)`, its rank among its account's leads that
count (`where` holds, X present) by X descending: ROW_NUMBER over a partition by (account,
counts), so the leads that do not count neither get a rank nor push one. `rollup` groups the
lead rows that have an account key by that key (and instant), one aggregate per roll-up,
each over the leads whose `where` holds (FILTER, or CASE inside the aggregate); NULL values
are skipped as every SQL aggregate does, which is the IR's "missing values ignored". The
same step combines the account aggregates computed per lead (sums; the latest or earliest
time). The account rows then fill in those of an account without leads (`filled`): 0 for
sum and the counts, missing for max, avg and times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from ...compiler import ir, plan
from .aggregates import AggregateCte
from .expressions import ExpressionCompiler, number, when_true
from .names import Names, column, ident

if TYPE_CHECKING:
    from .builder import _Builder

_EMPTY_IS_ZERO = ("sum", "count", "count_distinct")


class RollupRenderer:
    """Renders the `Ranked` and `RollUp` steps; `columns` names each roll-up's column (the
    same name in the roll-up step and in the account rows that fill it in)."""

    def __init__(self, builder: _Builder, names: Names):
        self.builder, self.dialect = builder, builder.dialect
        self.columns: dict[ir.Rollup, str] = {}
        self.ranks: dict[ir.Rollup, str] = {}
        self.names = names
        self.key = names.fresh("rollup_account")
        self.cte = ""  # the last roll-up step's CTE

    def _link(self, table: str) -> exp.Expression:
        link = self.builder.model.account_link
        assert link is not None
        return column(self.builder.fields[link], table)

    def _partition(self, table: str, *more: exp.Expression) -> list[exp.Expression]:
        """The account (and instant) of a lead row, then `more`."""
        keys = [self._link(table)]
        if self.builder.instants is not None:
            keys.append(column(self.builder.instants.column, table))
        return [*keys, *more]

    def _counts(self, node: ir.Rollup, compiler: ExpressionCompiler) -> exp.Expression | None:
        """Whether a lead counts for the roll-up (None: every lead does)."""
        return None if node.where is None else when_true(compiler.condition(node.where))

    def ranked(self, step: plan.Ranked, source: str) -> exp.Select:
        """The lead rows with, per top-N roll-up, the rank of a lead that counts."""
        compiler = self.builder.compiler(source)
        select = exp.select(exp.Column(this=exp.Star(), table=ident(source))).from_(ident(source))
        for node in step.rollups:
            assert node.value is not None
            value = compiler.number(node.value)
            present = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
            where = self._counts(node, compiler)
            counts = present if where is None else exp.and_(where, present)
            rank = exp.Window(
                this=exp.RowNumber(),
                partition_by=self._partition(source, exp.Paren(this=counts.copy())),
                order=exp.Order(expressions=[exp.Ordered(this=value, desc=True)]),
                over="OVER",
            )
            self.ranks[node] = self.names.fresh("rank")
            select = select.select(
                exp.alias_(exp.case().when(counts, rank), ident(self.ranks[node]))
            )
        return select

    def rollup(self, step: plan.RollUp, source: str, name: str) -> tuple[exp.Select, AggregateCte]:
        """One row per account (and instant) with leads: each roll-up's raw value."""
        compiler = self.builder.compiler(source)
        keys = self._partition(source)
        outputs = [exp.alias_(keys[0], ident(self.key)), *keys[1:]]
        select = (
            exp.select(*outputs)
            .from_(ident(source))
            .where(exp.Not(this=exp.Is(this=self._link(source), expression=exp.Null())))
            .group_by(*(k.copy() for k in keys))
        )
        for node in step.rollups:
            self.columns[node] = self.names.fresh("rollup", node.func)
            value = self._aggregate(node, compiler, source)
            select = select.select(exp.alias_(value, ident(self.columns[node])))
        for aggregate in step.aggregates:
            name_of = self.builder.aggregates[aggregate.id]  # the same name in both entities' rows
            value = _combined(aggregate, column(name_of, source))
            select = select.select(exp.alias_(value, ident(name_of)))
        self.cte = name
        return select, AggregateCte(name, self.key, {}, {})

    def _aggregate(
        self, node: ir.Rollup, compiler: ExpressionCompiler, source: str
    ) -> exp.Expression:
        where = self._counts(node, compiler)
        if node.top is not None:  # only leads that count have a rank
            where = exp.LTE(this=column(self.ranks[node], source), expression=number(node.top))
        if node.func == "count":
            return exp.Count(this=exp.Star()) if where is None else self.dialect.count_if(where)
        assert node.value is not None
        match node.func:
            case "count_distinct":
                value = compiler.value(node.value)
                make = lambda v: exp.Count(this=exp.Distinct(expressions=[v]))  # noqa: E731
            case "sum":
                value = compiler.number(node.value)
                make = lambda v: exp.Sum(this=v)  # noqa: E731
            case "avg":
                value = compiler.number(node.value)
                make = lambda v: exp.Avg(this=v)  # noqa: E731
            case "max":
                value = compiler.value(node.value)
                if node.value.type is ir.Type.STRING:
                    value = self.dialect.ordered_string(value)
                make = lambda v: exp.Max(this=v)  # noqa: E731
            case _:
                raise ValueError(f"unknown roll-up {node.func}")
        return make(value) if where is None else self.dialect.only_when(make, value, where)

    def filled(self, node: ir.Rollup | ir.AggregateNode, raw: exp.Expression) -> exp.Expression:
        """A roll-up's value for every account: without leads that count, 0 for sum and the
        counts, missing for max and avg (SUM of no rows is NULL in SQL); an account
        aggregate combined from its leads': 0 without leads, missing for times."""
        if isinstance(node, ir.Last | ir.First):
            return raw
        if not isinstance(node, ir.Rollup) or node.func in _EMPTY_IS_ZERO:
            return exp.Coalesce(this=raw, expressions=[exp.Literal.number(0)])
        return raw


def _combined(aggregate: ir.AggregateNode, per_lead: exp.Expression) -> exp.Expression:
    """An account aggregate from its leads' values (plan_analysis.summed_per_lead): the latest
    or earliest time (epoch microseconds, missing for a lead without such events), else the
    sum (a count stays an integer)."""
    match aggregate:
        case ir.Last():
            return exp.Max(this=per_lead)
        case ir.First():
            return exp.Min(this=per_lead)
        case ir.Count():
            return exp.cast(exp.Sum(this=per_lead), "BIGINT")
    return exp.Sum(this=per_lead)
