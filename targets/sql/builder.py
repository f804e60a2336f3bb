"""The single-scan SQL plan of a model, as one sqlglot SELECT with CTEs (ARCHITECTURE.md).

    scan -> agg                         one pass over events, one GROUP BY lead (aggregates.py)
    [sequence_scan -> sequenced -> sequence_agg]    the same for sequences, over their types only
    base        leads LEFT JOIN the aggs; aggregates of leads without events filled in (0, FALSE)
    points      one column per rule: its points after its own max (reset rules: fired)
    totals      per score: rules summed, group caps, reset
    [clamped]   per score with a clamp: the total clamped
    scored      per score: rounding (ir.round_score's steps)
    derived_N   composites, tiers, percentile tiers, matrices, flags, by dependency level

Each CTE selects the previous one's columns plus its own, so every later expression reads
names, never repeats a subexpression (where an engine would inline a step and recompute its
columns per use, the dialect fences it). The final SELECT lists exactly model.output_columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlglot import exp

from ...compiler import ir
from ...compiler.sources import DEFAULT_SOURCES, ConfigError, SourceMapping
from .aggregates import EventPlanner
from .dialects import Dialect, get_dialect
from .errors import UnsupportedConstruct
from .expressions import ExpressionCompiler, Scope, number, round_half_away, when_true
from .names import Names, as_written, column, ident
from .relations import source_table


@dataclass(frozen=True)
class View:
    name: str
    query: exp.Expression


def select_scores(
    model: ir.Model,
    dialect: str,
    *,
    as_of: datetime | None = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
) -> exp.Select:
    """One SELECT (with CTEs) giving one row per lead and exactly model.output_columns."""
    target = target_of(dialect, mapping)
    return as_written(_Builder(model, target, as_of, mapping).build(), target)


def views_schema(dialect: str, mapping: SourceMapping, schema: str | None) -> str | None:
    """Where the views go: `schema` when given; in BigQuery, else the source dataset (a view
    named without a dataset cannot be created there either)."""
    if schema is None and dialect == "bigquery":
        return mapping.schema
    return schema


def target_of(dialect: str, mapping: SourceMapping) -> Dialect:
    """The dialect, spelling names as the source mapping asks (Snowflake: exact case or not)."""
    return get_dialect(dialect, exact_case=mapping.snowflake_exact_case)


def build_views(
    model: ir.Model,
    dialect: str,
    *,
    as_of: datetime | None = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
) -> list[View]:
    """The views to create, in order; the last is `<model>_scores`."""
    if dialect == "bigquery" and not mapping.schema:
        # "A reference inside of a view must be qualified with a dataset": never a view
        # that BigQuery refuses to create.
        raise ConfigError(
            "BigQuery views must name their source tables with a dataset (a view ignores the "
            'default dataset): set schema = "DATASET" (or "PROJECT.DATASET") under [sources] '
            "in scorelang.toml, or pass --source-schema DATASET"
        )
    target = target_of(dialect, mapping)
    name = f"{model.name}_scores"
    Names(target, outputs=(name,))  # the view's own name must fit the target too
    return [View(name, as_written(_Builder(model, target, as_of, mapping).build(), target))]


Derived = ir.Composite | ir.Tier | ir.PercentileTier | ir.Matrix | ir.Flag


def _derived_outputs(model: ir.Model) -> list[tuple[str, Derived, set[str]]]:
    """Everything after the rule-based scores, with the outputs each reads."""
    outputs: list[tuple[str, Derived, set[str]]] = []
    for composite in model.composites:
        outputs.append((composite.name, composite, _refs(composite.expr)))
    for tier in (*model.tiers, *model.percentile_tiers):
        outputs.append((tier.name, tier, {tier.source}))
    for matrix in model.matrices:
        outputs.append((matrix.name, matrix, {matrix.rows, matrix.columns}))
    for flag in model.flags:
        outputs.append((flag.name, flag, _refs(flag.condition)))
    return outputs


def _integral(rule: ir.PointsRule | ir.ResetRule) -> bool:
    """The rule's points are always an integer (in double, exactly)."""
    match rule:
        case ir.ResetRule():
            return True
        case ir.WhenRule(points=points):
            return float(points).is_integer()
        case ir.EachRule(points=points, cap=cap, quantity=quantity):
            return (
                quantity.type is ir.Type.INT
                and float(points).is_integer()
                and (cap is None or float(cap).is_integer())
            )
    return False


def _in_cents(rule: ir.PointsRule) -> bool:
    """The rule's points are always a value ir.round_score leaves as it is."""
    if isinstance(rule, ir.WhenRule):
        return abs(rule.points) < 1e15 and ir.round_score(rule.points) == rule.points
    return _integral(rule)


def _refs(node: ir.Expr) -> set[str]:
    return {
        n.name
        for n in ir.subexpressions(node)
        if isinstance(n, ir.ScoreRef | ir.TierRef | ir.MatrixRef | ir.FlagRef)
    }


class _Builder:
    def __init__(
        self, model: ir.Model, dialect: Dialect, as_of: datetime | None, mapping: SourceMapping
    ):
        self.model, self.dialect, self.as_of, self.mapping = model, dialect, as_of, mapping
        self.names = Names(dialect, outputs=model.output_columns)
        self.cte_names = Names(dialect, reserved=(mapping.leads_table, mapping.events_table))
        self.fields = {model.key: model.key} | {
            name: self.names.fresh("lead", name)
            for name in self._fields_used()
            if name != model.key
        }
        self.aggregates = {a.id: self.names.fresh("agg", a.id) for a in model.aggregates}
        self.ctes: list[tuple[str, exp.Select]] = []
        self.stages: set[str] = set()  # per-lead CTEs whose columns later ones read again

    @property
    def pinned(self) -> datetime | None:
        """as_of as naive UTC, if the query is for one instant."""
        if self.as_of is None or self.as_of.tzinfo is None:
            return self.as_of
        return self.as_of.astimezone(UTC).replace(tzinfo=None)

    def as_of_us(self) -> exp.Expression:
        if self.pinned is None:
            return self.dialect.once(self.dialect.epoch_us(exp.CurrentTimestamp()))
        return self.dialect.epoch_us(self.dialect.pinned_instant(self.pinned))

    def _fields_used(self) -> list[str]:
        roots: list[ir.Expr] = [c.expr for c in self.model.composites] + [
            f.condition for f in self.model.flags
        ]
        for score in self.model.scores:
            roots += [r.condition for r in score.rules if isinstance(r, ir.WhenRule | ir.ResetRule)]
        used = {
            n.name for root in roots for n in ir.subexpressions(root) if isinstance(n, ir.LeadField)
        }
        return [f.name for f in self.model.lead_fields if f.name in used]

    def compiler(self, table: str) -> ExpressionCompiler:
        scope = Scope(
            lead_field=lambda name: column(self.fields[name], table),
            aggregate=lambda id: column(self.aggregates[id], table),
            output=lambda name: column(name, table),
        )
        return ExpressionCompiler(self.dialect, scope, self.as_of_us)

    def stage(self, name: str, columns: Iterable[tuple[str, exp.Expression]]) -> str:
        """A CTE selecting the previous one's columns and these."""
        previous = self.ctes[-1][0]
        cte = self.cte_names.fresh(name)
        select = exp.select(exp.Column(this=exp.Star(), table=ident(previous))).from_(
            ident(previous)
        )
        for alias, value in columns:
            select = select.select(exp.alias_(value, ident(alias)))
        self.ctes.append((cte, select))
        self.stages.add(cte)
        return cte

    # ---- the plan -------------------------------------------------------------------------

    def build(self) -> exp.Select:
        self._base()
        self._points()
        self._scores()
        self._derived()
        final = self.ctes[-1][0]
        # A rule's points already in cents (integer points, counts) are output as they are.
        points = {
            r.id
            for score in self.model.scores
            for r in score.rules
            if not isinstance(r, ir.ResetRule) and not _in_cents(r)
        }
        outputs = (
            exp.alias_(round_half_away(self.dialect, column(name, final), 2), ident(name))
            if name in points
            else column(name, final)
            for name in self.model.output_columns
        )
        select = exp.select(*outputs).from_(ident(final))
        for name, query in self.ctes:
            if name in self.stages:
                query = self.dialect.fence(query)
            select = select.with_(ident(name), as_=query)
        return select

    def _base(self) -> None:
        m, alias = self.mapping, "l"
        select = exp.select(
            *(exp.alias_(column(m.column(f), alias), ident(c)) for f, c in self.fields.items())
        ).from_(source_table(m, m.leads_table, alias))
        if self.model.aggregates:
            events = EventPlanner(
                self.model, self.dialect, m, self.as_of_us, self.cte_names, self.pinned
            ).plan()
            self.ctes.extend(events.ctes)
            raws: dict[str, exp.Expression] = {}
            for result in events.results:
                on = exp.EQ(
                    this=column(m.column(self.model.key), alias),
                    expression=column(result.lead_column, result.name),
                )
                select = select.join(exp.Table(this=ident(result.name)), on=on, join_type="LEFT")
                raws |= result.values()
            for aggregate in self.model.aggregates:
                filled = self._filled(aggregate, raws[aggregate.id])
                select = select.select(exp.alias_(filled, ident(self.aggregates[aggregate.id])))
        self.ctes.append((self.cte_names.fresh("base"), select))

    def _filled(self, aggregate: ir.AggregateNode, raw: exp.Expression) -> exp.Expression:
        """An aggregate's value for every lead: 0 / FALSE without events, epoch µs for times."""
        if isinstance(aggregate, ir.Last | ir.First):
            return exp.Sub(this=self.as_of_us(), expression=raw)  # raw is the age in µs
        empty = (
            exp.Boolean(this=False) if isinstance(aggregate, ir.Sequence) else exp.Literal.number(0)
        )
        return exp.Coalesce(this=raw, expressions=[empty])

    def _points(self) -> None:
        compiler = self.compiler(self.ctes[-1][0])
        columns = []
        for score in self.model.scores:
            for rule in score.rules:
                try:
                    columns.append((rule.id, self._rule(rule, compiler)))
                except UnsupportedConstruct as refusal:
                    raise refusal.at(rule.span) from None
        self.stage("points", columns)

    def _rule(
        self, rule: ir.PointsRule | ir.ResetRule, compiler: ExpressionCompiler
    ) -> exp.Expression:
        double = self.dialect.cast_double
        if isinstance(rule, ir.ResetRule):
            return compiler.condition(rule.condition)
        if isinstance(rule, ir.WhenRule):
            fired = when_true(compiler.condition(rule.condition))
            return double(exp.case().when(fired, number(rule.points)).else_(exp.Literal.number(0)))
        raw = exp.Mul(this=double(number(rule.points)), expression=compiler.number(rule.quantity))
        if rule.cap is None:
            return raw
        cap = double(number(rule.cap if rule.points >= 0 else -rule.cap))
        inside = (exp.LT if rule.points >= 0 else exp.GT)(this=raw, expression=cap)
        return exp.case().when(inside, raw.copy()).else_(cap.copy())

    def _scores(self) -> None:
        table = self.ctes[-1][0]
        raw = {score.name: self.names.fresh("unclamped", score.name) for score in self.model.scores}
        table = self.stage(
            "totals", ((raw[s.name], self._total(s, table)) for s in self.model.scores)
        )
        # Clamped in a step of its own: the rounding reads its value several times.
        clamps = [s for s in self.model.scores if s.clamp is not None]
        clamped = {s.name: self.names.fresh("clamped", s.name) for s in clamps}
        if clamps:
            table = self.stage(
                "clamped",
                (
                    (clamped[s.name], self._clamp(s.clamp, column(raw[s.name], table)))
                    for s in clamps
                ),
            )
        totals = raw | clamped
        self.stage(
            "scored",
            ((s.name, self._final(s, column(totals[s.name], table))) for s in self.model.scores),
        )

    def _total(self, score: ir.Score, table: str) -> exp.Expression:
        """Rule points summed left to right (as Python adds them), group caps, then reset."""
        terms = []
        for item in score.items:
            if isinstance(item, ir.Group):
                members = self._sum(column(r.id, table) for r in item.rules)
                cap = self.dialect.cast_double(number(item.cap))
                terms.append(
                    exp.case()
                    .when(exp.LT(this=cap, expression=members), cap.copy())
                    .else_(members.copy())
                )
            else:
                terms.append(column(item.id, table))
        total = self._sum(terms)
        if not score.resets:
            return total
        fired = exp.or_(*(column(r.id, table) for r in score.resets))
        return exp.case().when(fired, self.dialect.cast_double(exp.Literal.number(0))).else_(total)

    def _clamp(self, bounds: tuple[float, float], value: exp.Column) -> exp.Expression:
        low, high = (self.dialect.cast_double(number(b)) for b in bounds)
        return (
            exp.case()
            .when(exp.LT(this=value, expression=low), low.copy())
            .when(exp.GT(this=value.copy(), expression=high), high.copy())
            .else_(value.copy())
        )

    def _final(self, score: ir.Score, value: exp.Column) -> exp.Expression:
        """The (clamped) total in cents."""
        integral = (
            all(_integral(r) for r in score.rules)
            and all(float(g.cap).is_integer() for g in score.items if isinstance(g, ir.Group))
            and all(float(b).is_integer() for b in score.clamp or ())
        )
        # A sum of integers in double is exact: rounding to cents would not change it.
        return value if integral else round_half_away(self.dialect, value, 2)

    def _sum(self, terms: Iterable[exp.Expression]) -> exp.Expression:
        """a + b + c, left to right like Python's addition; 0 for no terms."""
        items = list(terms) or [self.dialect.cast_double(exp.Literal.number(0))]
        total = items[0]
        for term in items[1:]:
            total = exp.Add(this=total, expression=term)
        return total

    # ---- composites, tiers, matrices, flags -----------------------------------------------

    def _derived(self) -> None:
        outputs = _derived_outputs(self.model)
        level: dict[str, int] = {}
        for name, _, deps in outputs:
            level[name] = 1 + max((level[d] for d in deps if d in level), default=0)
        for depth in range(1, max(level.values(), default=0) + 1):
            compiler = self.compiler(self.ctes[-1][0])
            columns = [
                (name, self._output(node, compiler))
                for name, node, _ in outputs
                if level[name] == depth
            ]
            self.stage(f"derived_{depth}", columns)

    def _output(self, node: Derived, compiler: ExpressionCompiler) -> exp.Expression:
        match node:
            case ir.Composite(expr=expr):
                return round_half_away(self.dialect, compiler.number(expr), 2)
            case ir.Tier(source=source, bands=bands):
                score = compiler.value(ir.ScoreRef(source))
                return self._bands(
                    score,
                    bands,
                    lambda bound: exp.GTE(
                        this=score.copy(), expression=self.dialect.cast_double(number(bound))
                    ),
                )
            case ir.PercentileTier(source=source, bands=bands):
                return self._percentile(compiler.value(ir.ScoreRef(source)), bands)
            case ir.Matrix():
                return self._matrix(node, compiler)
            case ir.Flag(condition=condition, needs_bands=needs):
                known = [
                    exp.Not(this=exp.Is(this=compiler.value(ir.TierRef(p)), expression=exp.Null()))
                    for p in needs
                ]
                return (
                    exp.and_(*known, compiler.condition(condition))
                    if known
                    else compiler.condition(condition)
                )
        raise ValueError(f"unknown output {node!r}")

    def _bands(self, score: exp.Expression, bands, reaches) -> exp.Expression:
        """First band whose bound the score reaches; NULL for a missing score."""
        case = exp.case().when(exp.Is(this=score.copy(), expression=exp.Null()), exp.Null())
        for label, bound in bands:
            if bound is None:
                return case.else_(exp.Literal.string(label))
            case = case.when(reaches(bound), exp.Literal.string(label))
        return case

    def _percentile(self, score: exp.Expression, bands) -> exp.Expression:
        """ir.PercentileTier: g leads strictly greater, N leads with a score: g * 100 < X * N."""
        order = exp.Order(
            expressions=[exp.Ordered(this=score.copy(), desc=True, nulls_first=False)]
        )
        rank = exp.Window(this=exp.Rank(), order=order, over="OVER")
        greater = exp.Sub(this=rank, expression=exp.Literal.number(1))
        scored = exp.Window(this=exp.Count(this=score.copy()), over="OVER")

        def reaches(top: float) -> exp.Expression:
            share = exp.Mul(this=self.dialect.cast_double(number(top)), expression=scored.copy())
            return exp.LT(
                this=exp.Mul(
                    this=exp.Paren(this=greater.copy()), expression=exp.Literal.number(100)
                ),
                expression=share,
            )

        return self._bands(score, bands, reaches)

    def _matrix(self, matrix: ir.Matrix, compiler: ExpressionCompiler) -> exp.Expression:
        rows = compiler.value(ir.TierRef(matrix.rows))
        columns = compiler.value(ir.TierRef(matrix.columns))
        case = exp.case()
        for i, row in enumerate(matrix.row_labels):
            for j, col in enumerate(matrix.column_labels):
                cell = exp.and_(
                    exp.EQ(this=rows.copy(), expression=exp.Literal.string(row)),
                    exp.EQ(this=columns.copy(), expression=exp.Literal.string(col)),
                )
                case = case.when(cell, exp.Literal.string(f"{chr(ord('A') + i)}{j + 1}"))
        return case
