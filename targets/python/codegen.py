"""IR model -> the Python source of its evaluator.

The generated module's functions:

* `evaluate(lead, events, as_of, shifted)`: ONE pass over the lead's events updates every
  aggregate (dispatching on the event type, so each event only touches the aggregates of its
  type), then the rules, group caps, reset, clamp and rounding of each score, then composites.
  It returns `(scores, details, rules, inputs)`: score values in `model.score_names` order,
  `(rules_total, after_groups, reset)` per rule-based score, `(raw_points, points, fired)`
  per rule in `model.output_columns` order, and the inputs of `derive`.
* `finish(lead, aggregates, as_of, shifted)`: the same after the event loop, from aggregate
  values computed elsewhere (the columnar batch of `columnar.py`), with `WHERE`, the event filters'
  conditions as functions of property values.
* `finish_batch(leads, aggregates, as_of, shifted)`: `finish` over a whole batch at once, in
  NumPy (vectorized.py), from the same score assembly; `finish_batch = None` with the reason
  when the model needs `finish` lead by lead.
* `derive(scores, percentiles, inputs, shifted)`: tiers, matrices and flags from the rounded
  scores, the percentile tiers' bands (None outside a batch; flags that need them are then False)
  and `inputs`, the lead fields and aggregates that flags read.

`shifted` holds the values of the model's shifted references (compiler.plan's
`shifted_references` order), which the caller computes at the earlier instants.

Ages are exact integer microseconds (`as_of - at`), so window bounds never drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...compiler import ir
from ...compiler.assembly import GROUPS, Node, ScoreAssembly, fold
from ...compiler.plan import build_plan, shifted_references
from ...records import EVENT_TIME, EVENT_TYPE
from .assembly_source import SourceAssembly
from .expressions import Constants, ExpressionCompiler, literal
from .vectorized import PLAIN, Array, NotVectorized, NumpyAssembly, VectorCompiler

_RUNTIME = "scorelang.targets.python.runtime"
_VECTOR_IMPORT = "from scorelang.targets.python import vector_runtime as vr"
_US = 1_000_000


def generate(model: ir.Model) -> str:
    """The evaluator module's source for `model`."""
    return _Writer(model).module()


def ident(name: str) -> str:
    """A Python identifier fragment for a model name."""
    return re.sub(r"\W", "_", name)


def duration_text(seconds: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def micros(seconds: float) -> int:
    return round(seconds * _US)


@dataclass
class _Lines:
    """Source lines at an indentation level."""

    lines: list[str] = field(default_factory=list)

    def add(self, indent: int, *lines: str) -> None:
        for line in lines:
            if line.startswith("#"):  # comments quote rule labels: keep them on one line
                line = " ".join(line.split())
            self.lines.append("    " * indent + line if line else "")


@dataclass(frozen=True)
class _Update:
    """What one event does to one aggregate, guarded by its filter."""

    guard: tuple[str, ...]
    statements: tuple[str, ...]


class _Writer:
    """Writes one model's evaluator module; names in the generated code: `lead_<field>`,
    `p_<property>` (inside the branch of an event type), `agg_<n>`, `points_<n>`/`fired_<n>`
    per rule, `s_<score>`, `tier_<name>`, `matrix_<name>`, `flag_<name>`."""

    def __init__(self, model: ir.Model) -> None:
        self.model = model
        self.constants = Constants()
        self.plan = build_plan(model)
        # Values at an earlier instant, computed by the caller (evaluator.py): `shifted[i]`.
        self.shifted = {ref: i for i, ref in enumerate(shifted_references(model))}
        self.names = {a.id: f"agg_{i}" for i, a in enumerate(model.aggregates)}
        # A dict, not a list's index(): one lookup per rule, not a scan of every rule.
        rules = (rule.id for score in model.scores for rule in score.rules)
        self.rule_indices = {id: n for n, id in enumerate(rules)}
        self.nullable_scores: set[str] = set()
        # finish_batch's arrays of number and bool leaves: variable -> the line making it.
        self.natives: dict[str, str] = {}
        self.branch: ir.EventType | None = None  # the event type whose properties are in scope
        # One variable per lead field, distinct even where names differ only in characters an
        # identifier cannot hold (the account evaluator's inputs, `account.heat`).
        self.lead_vars: dict[str, str] = {}
        for lead_field in model.lead_fields:
            var = f"lead_{ident(lead_field.name)}"
            while var in self.lead_vars.values():
                var += "_"
            self.lead_vars[lead_field.name] = var

    # ---- leaves ----------------------------------------------------------------------

    def resolve(self, expr: ir.Expr) -> str:
        if ir.is_shifted(expr):
            return f"shifted[{self.shifted[expr]}]"
        match expr:
            case ir.LeadField(name=name):
                return self.lead_vars[name]
            case ir.EventProp(name=name):
                declared = self.branch is None or any(
                    p.name == name for p in self.branch.properties
                )
                return f"p_{ident(name)}" if declared else "None"
            case ir.AggregateRef(id=id):
                return self.names[id]
            case ir.ScoreRef(name=name):
                return f"s_{ident(name)}"
            case ir.TierRef(name=name):
                return f"tier_{ident(name)}"
            case ir.MatrixRef(name=name):
                return f"matrix_{ident(name)}"
            case ir.FlagRef(name=name):
                return f"flag_{ident(name)}"
        raise ValueError(f"the Python target cannot read {type(expr).__name__}")

    # ---- module ----------------------------------------------------------------------

    def module(self) -> str:
        compiler = ExpressionCompiler(self.resolve, self.constants)
        # In this order: `evaluate` finds the composites that may be missing.
        sections = [
            self.evaluate(compiler),
            self.finish(compiler),
            self.finish_batch(compiler),
            self.derive(compiler),
            self.filters(compiler),
        ]
        if any(isinstance(r, ir.AggregateRef) for r in self.shifted):
            sections.append(self.aggregate_values(compiler))
        parts = sections[0]
        for section in sections[1:]:
            parts = [*parts, "", "", *section]
        body = "\n".join([*self.constants.lines(), "", "", *parts])
        title = (
            f'"""Evaluator of model `{self.model.name}`, generated by scorelang; do not edit."""'
        )
        imports = [runtime_import(body)]
        if "def finish_batch" in body:
            imports = ["import numpy as np", "", *imports, _VECTOR_IMPORT]
        return "\n".join([title, "", *imports, "", body]) + "\n"

    # ---- evaluate: aggregates -----------------------------------------------------------

    def evaluate(self, compiler: ExpressionCompiler) -> list[str]:
        out = _Lines()
        out.add(0, "def evaluate(lead, events, as_of, shifted=()):")
        out.add(
            1, '"""Scores one lead: one pass over its events, then the rules of every score."""'
        )
        self._lead_reads(out)
        self._aggregates(out, compiler)
        self._scores(out, compiler)
        return out.lines

    def finish(self, compiler: ExpressionCompiler) -> list[str]:
        """`finish(lead, aggregates, as_of)`: `evaluate` after its event loop, for aggregates
        computed elsewhere (the columnar batch, in `model.aggregates` order)."""
        out = _Lines()
        out.add(0, "def finish(lead, aggregates, as_of, shifted=()):")
        out.add(1, '"""The rules of every score, from aggregates already computed."""')
        self._lead_reads(out)
        if self.model.aggregates:
            names = (self.names[a.id] for a in self.model.aggregates)
            out.add(1, f"{_tuple(names)} = aggregates")
        self._scores(out, compiler)
        return out.lines

    def finish_batch(self, compiler: ExpressionCompiler) -> list[str]:
        """`finish_batch(leads, aggregates, as_of, shifted)`: `finish` over a batch at once
        (NumPy, vectorized.py), from each aggregate's values per lead (`aggregates`, in
        `model.aggregates` order) and each lead's `shifted` tuple; `finish`'s results, each
        value as an array over the leads (a list with None for a composite that may be
        missing; the flags' inputs as lists).
        `finish_batch = None` (with the reason) for a model the arrays cannot score
        exactly: the batch then runs `finish` lead by lead."""
        vector = VectorCompiler(self.vector_resolve, compiler, self.resolve)
        code = NumpyAssembly(self.rule_index, vector)
        body = _Lines()
        try:
            for score in self.model.scores:
                self._score(body, code, score)
            for composite in self.model.composites:
                self._composite(body, code, composite)
        except NotVectorized as reason:
            return [f"finish_batch = None  # lead by lead: {reason}"]
        out = _Lines()
        out.add(0, "def finish_batch(leads, aggregates, as_of, shifted):")
        out.add(1, '"""`finish` of every lead at once: per output, its values over the leads."""')
        out.add(1, "n = len(leads)")
        out.add(1, "_zeros, _no, _yes = np.zeros(n), np.zeros(n, np.bool_), np.ones(n, np.bool_)")
        for name, type_ in self._lead_fields():
            read = f"lead.get({name!r})"
            read = _timestamp(read) if type_ is ir.Type.TIMESTAMP else read
            out.add(1, f"{self.lead_vars[name]} = [{read} for lead in leads]")
        if self.model.aggregates:
            names = (self.names[a.id] for a in self.model.aggregates)
            out.add(1, f"{_tuple(names)} = aggregates")
        out.add(1, *self.natives.values())
        out.lines.extend(body.lines)
        scores = (
            f"vr.with_missing(s_{ident(n)}, s_{ident(n)}_m)"
            if n in self.nullable_scores
            else f"s_{ident(n)}"
            for n in self.model.score_names
        )
        inputs = ("[as_of] * n" if i == "as_of" else f"vr.listed({i})" for i in self._flag_inputs())
        self._return(out, scores, "_zeros", inputs)
        return [*out.lines, *(line for f in vector.functions for line in ["", "", *f.splitlines()])]

    def vector_resolve(self, expr: ir.Expr) -> Array | None:
        """The array of a number or bool leaf in `finish_batch` (made from its list once)."""
        if ir.is_shifted(expr):
            if expr.type not in PLAIN:
                return None
            var, values = (
                f"shifted_{self.shifted[expr]}",
                f"[s[{self.shifted[expr]}] for s in shifted]",
            )
            if expr.may_be_missing:
                self.natives[var] = f"{var}_v, {var}_m = vr.numbers({values})"
                return Array(f"{var}_v", f"{var}_m")
            self.natives[var] = f"{var}_v = vr.present({values})"
            return Array(f"{var}_v")
        match expr:
            case ir.LeadField(name=name, type=type_) if type_ in PLAIN:
                var = self.lead_vars[name]
                self.natives[var] = f"{var}_v, {var}_m = vr.numbers({var})"
                return Array(f"{var}_v", f"{var}_m")
            case ir.AggregateRef(id=id, type=type_) if type_ in PLAIN:
                var = self.names[id]
                self.natives[var] = f"{var}_v = vr.present({var})"
                return Array(f"{var}_v")
            case ir.ScoreRef(name=name):
                var = f"s_{ident(name)}"
                return Array(var, f"{var}_m" if name in self.nullable_scores else None)
        return None

    def aggregate_values(self, compiler: ExpressionCompiler) -> list[str]:
        """`aggregate_values(lead, events, as_of)`: `evaluate`'s event loop alone, for what a
        shifted aggregate reference reads (the caller passes the earlier instant). Written
        only for a model with one."""
        out = _Lines()
        out.add(0, "def aggregate_values(lead, events, as_of):")
        out.add(1, '"""Every aggregate of one lead at `as_of`, in model.aggregates order."""')
        self._lead_reads(out)
        self._aggregates(out, compiler)
        out.add(1, f"return {_tuple(self.names[a.id] for a in self.model.aggregates)}")
        return out.lines

    def _lead_reads(self, out: _Lines) -> None:
        for name, type_ in self._lead_fields():
            read = f"lead.get({name!r})"
            out.add(
                1,
                f"{self.lead_vars[name]} = {_timestamp(read) if type_ is ir.Type.TIMESTAMP else read}",
            )

    def _scores(self, out: _Lines, compiler: ExpressionCompiler) -> None:
        code = _PythonAssembly(self.rule_index, compiler)
        for score in self.model.scores:
            self._score(out, code, score)
        for composite in self.model.composites:
            self._composite(out, code, composite)
        scores = (f"s_{ident(n)}" for n in self.model.score_names)
        self._return(out, scores, "0.0", self._flag_inputs())

    def _return(self, out: _Lines, scores: Iterable[str], zero: str, inputs: Iterable[str]) -> None:
        """The tuple `evaluate`, `finish` and `finish_batch` return: the scores, each score's
        (total, after groups, reset), each rule's (raw, points, fired) with `zero` for a
        reset rule's points, and the flags' inputs."""
        rules = [rule for score in self.model.scores for rule in score.rules]
        out.add(1, "return (")
        out.add(2, _tuple(scores) + ",")
        details = (
            f"(total_{s}, capped_{s}, reset_{s})"
            for s in (ident(s.name) for s in self.model.scores)
        )
        out.add(2, _tuple(details) + ",")
        out.add(2, _tuple(self._rule_result(i, rule, zero) for i, rule in enumerate(rules)) + ",")
        out.add(2, _tuple(inputs) + ",")
        out.add(1, ")")

    def filters(self, compiler: ExpressionCompiler) -> list[str]:
        """One function per (aggregate, filter, event type) with a `where`, taking `as_of` and
        the properties it reads, and `WHERE`, the table of them the columnar batch evaluates
        over distinct property values; `WHERE = None` when some `where` reads a lead field
        (then every event needs its lead: the batch scores lead by lead)."""
        out = _Lines()
        table: list[str] = []
        for n, aggregate in enumerate(self.model.aggregates):
            for side, event_filter in enumerate(ir.event_filters(aggregate)):
                if event_filter.where is None:
                    continue
                if any(isinstance(e, ir.LeadField) for e in ir.subexpressions(event_filter.where)):
                    return ["WHERE = None"]
                for t, event_type in enumerate(self.model.event_types):
                    if event_type.name not in event_filter.types:
                        continue
                    self.branch = event_type
                    declared = {p.name: p.type for p in event_type.properties}
                    reads = ir.subexpressions(event_filter.where)
                    props = list(
                        dict.fromkeys(
                            e.name
                            for e in reads
                            if isinstance(e, ir.EventProp) and e.name in declared
                        )
                    )
                    function = f"where_{n}_{side}_{t}"  # type names may share an ident
                    arguments = "".join(f", p_{ident(p)}" for p in props)
                    out.add(0, f"def {function}(as_of{arguments}):")
                    for p in props:
                        if declared[p] is ir.Type.TIMESTAMP:
                            out.add(1, f"p_{ident(p)} = {_timestamp(f'p_{ident(p)}')}")
                    out.add(1, f"return {compiler.condition(event_filter.where)}", "", "")
                    self.branch = None
                    table.append(
                        f"({n}, {side}, {event_type.name!r}): ({function}, {tuple(props)!r}),"
                    )
        out.add(0, "WHERE = {")
        out.add(1, *table)
        out.add(0, "}")
        return out.lines

    def _flag_inputs(self) -> list[str]:
        """Names of the lead fields and aggregates that flags read, passed on to `derive`."""
        flags = list(ir.subexpressions(self.model.flags))
        leaves = (e for e in flags if isinstance(e, ir.LeadField | ir.AggregateRef))
        names = list(dict.fromkeys(self.resolve(e) for e in leaves))
        # `days_since` in a flag reads the instant: derive has no `as_of` of its own.
        uses_as_of = any(isinstance(e, ir.Func) and e.name == "days_since" for e in flags)
        return [*names, "as_of"] if uses_as_of else names

    def _lead_fields(self) -> list[tuple[str, ir.Type]]:
        used = {
            e.name
            for e in ir.subexpressions(
                (self.model.aggregates, self.model.scores, self.model.composites, self.model.flags)
            )
            if isinstance(e, ir.LeadField)
        }
        return [(f.name, f.type) for f in self.model.lead_fields if f.name in used]

    def _aggregates(self, out: _Lines, compiler: ExpressionCompiler) -> None:
        if not self.model.aggregates:
            return
        out.add(1, "", "# ---- aggregates: one pass over the events ----")
        for aggregate in self.model.aggregates:
            name = self.names[aggregate.id]
            out.add(1, f"# {name}: {self._describe(aggregate, compiler)}")
            out.add(1, *_initial(name, aggregate))
        branches = [(t, self._updates(t, compiler)) for t in self.model.event_types]
        branches = [(t, (reads, updates)) for t, (reads, updates) in branches if updates]
        out.add(1, "for ev in events:")
        out.add(2, "try:")
        out.add(
            3, f"kind = ev[{EVENT_TYPE!r}]", f"age = (as_of - ev[{EVENT_TIME!r}]) // MICROSECOND"
        )
        out.add(2, "except (KeyError, TypeError):  # time not an aware datetime, or no type/time")
        out.add(3, "kind, age = event_kind_age(ev, as_of)")
        out.add(2, "if age < 0:")
        out.add(3, "continue  # after as_of: does not exist yet")
        for i, (event_type, (reads, updates)) in enumerate(branches):
            out.add(2, f"{'if' if i == 0 else 'elif'} kind == {event_type.name!r}:")
            out.add(3, *reads)
            for guard, statements in updates.items():
                if guard:
                    out.add(3, f"if {' and '.join(guard)}:")
                    out.add(4, *statements)
                else:
                    out.add(3, *statements)
        for aggregate in self.model.aggregates:
            out.add(1, *_final(self.names[aggregate.id], aggregate))

    def _updates(
        self, event_type: ir.EventType, compiler: ExpressionCompiler
    ) -> tuple[list[str], dict]:
        """Property reads and guarded updates for events of one type; updates with the same
        guard share one `if`."""
        self.branch = event_type
        grouped: dict[tuple[str, ...], list[str]] = {}
        for aggregate in self.model.aggregates:
            for update in self._aggregate_updates(aggregate, event_type, compiler):
                grouped.setdefault(update.guard, []).extend(update.statements)
        self.branch = None
        props = set(ir.properties_read(self.model.aggregates, event_type.name))
        reads = []
        for prop in event_type.properties:
            if prop.name in props:
                read = f"ev.get({prop.name!r})"
                reads.append(
                    f"p_{ident(prop.name)} = {_timestamp(read) if prop.type is ir.Type.TIMESTAMP else read}"
                )
        return reads, grouped

    def _aggregate_updates(
        self, aggregate: ir.AggregateNode, event_type: ir.EventType, compiler: ExpressionCompiler
    ) -> list[_Update]:
        name = self.names[aggregate.id]
        if isinstance(aggregate, ir.Sequence):
            sides = ((aggregate.first, f"{name}_first"), (aggregate.second, f"{name}_second"))
            return [
                _Update(self._guard(f, compiler), (f"{ages}.append(age)",))
                for f, ages in sides
                if event_type.name in f.types
            ]
        if event_type.name not in aggregate.filter.types:
            return []
        statements = self._statements(name, aggregate)
        return [_Update(self._guard(aggregate.filter, compiler), statements)] if statements else []

    def _statements(self, name: str, aggregate: ir.AggregateNode) -> tuple[str, ...]:
        match aggregate:
            case ir.Count():
                return (f"{name} += 1",)
            case ir.CountDistinct(prop=prop) | ir.Sum(prop=prop):
                value = self.resolve(ir.EventProp(prop, ir.Type.STRING))
                if value == "None":  # this event type has no such property: always missing
                    return ()
                update = (
                    f"{name}_set.add({value})"
                    if isinstance(aggregate, ir.CountDistinct)
                    else f"{name} += {value}"
                )
                return (f"if {value} is not None:", f"    {update}")
            case ir.Last():
                return (f"if age < {name}_age:", f"    {name}_age = age")
            case ir.First():
                return (f"if age > {name}_age:", f"    {name}_age = age")
            case ir.DecayedSum(half_life=half_life):
                return (f"{name} += 0.5 ** (age / {micros(half_life):_})",)
            case ir.LinearDecaySum(percent=percent, period=period):
                weight = f"1.0 - {literal(percent / 100)} * (age // {micros(period):_})"
                return (f"weight = {weight}", "if weight > 0.0:", f"    {name} += weight")
            case ir.PeriodCount(period=period):
                return (f"{name}_set.add(age // {micros(period):_})",)
        raise ValueError(f"the Python target has no aggregate {type(aggregate).__name__}")

    def _guard(self, event_filter: ir.EventFilter, compiler: ExpressionCompiler) -> tuple[str, ...]:
        guard = []
        if event_filter.window is not None:
            guard.extend(_window_tests(event_filter.window))
        if event_filter.where is not None:
            guard.append(compiler.condition(event_filter.where))
        return tuple(guard)

    def _describe(self, aggregate: ir.AggregateNode, compiler: ExpressionCompiler) -> str:
        def describe(f: ir.EventFilter) -> str:
            parts = [" | ".join(f.types)]
            if f.where is not None:
                parts.append(f"where {compiler.condition(f.where)}")
            if f.window is not None:
                parts.append(
                    f"age in [{duration_text(f.window.min_age)}, {duration_text(f.window.max_age)})"
                )
            return ", ".join(parts)

        kind = type(aggregate).__name__
        if isinstance(aggregate, ir.Sequence):
            gap = duration_text(aggregate.gap)
            return f"{kind} ({describe(aggregate.first)}) then ({describe(aggregate.second)}) within {gap}"
        extra = {
            ir.CountDistinct: lambda a: f" of {a.prop}",
            ir.Sum: lambda a: f" of {a.prop}",
            ir.DecayedSum: lambda a: f", half-life {duration_text(a.half_life)}",
            ir.LinearDecaySum: lambda a: f", -{a.percent:g}% per {duration_text(a.period)}",
            ir.PeriodCount: lambda a: f", once per {duration_text(a.period)}",
        }.get(type(aggregate), lambda a: "")(aggregate)
        return f"{kind}{extra} ({describe(aggregate.filter)})"

    # ---- evaluate: rules and scores -------------------------------------------------------

    def _score(self, out: _Lines, code: _PythonAssembly | NumpyAssembly, score: ir.Score) -> None:
        """The score's rules, then its stages (compiler/assembly.py), one variable each, in
        the code of `code` (values of one lead, or arrays over a batch)."""
        s = ident(score.name)
        title = f": {score.description}" if score.description else ""
        out.add(1, "", f"# ---- score {score.name}{title} ----")
        assembly = self.plan.assembly(score.name)
        rules = dict(assembly.rules)
        for item in score.items:
            if isinstance(item, ir.Group):
                for rule in item.rules:
                    self._points_rule(out, code, assembly, rule, rules[rule])
                members = " + ".join(code.points(r) for r in item.rules)
                out.add(1, f"# group {item.label!r} max {item.cap:g}: {members}")
            else:
                self._points_rule(out, code, assembly, item, rules[item])
        fired = []
        for reset in score.resets:
            condition = code.condition(reset.condition)
            out.add(1, f"# [{reset.id}] {reset.label}: reset", *code.take())
            out.add(1, f"{code.fired(reset)} = {condition}")
            fired.append(code.fired(reset))
        points = [code.points(rule) for rule, _ in assembly.rules]
        out.add(1, f"total_{s} = {code.sum(points)}")
        code.stages = {GROUPS: f"capped_{s}"}
        for name, node in assembly.stages:
            if name == GROUPS:
                grouped = fold(assembly, code, node)
                out.add(
                    1, f"capped_{s} = {grouped if grouped != code.sum(points) else f'total_{s}'}"
                )
                out.add(1, f"reset_{s} = {code.any(fired)}")
            else:
                out.add(1, f"value = {fold(assembly, code, node)}")
                code.stages[name] = "value"
        out.add(1, f"s_{s} = {code.stages[assembly.stages[-1][0]]}")

    def _points_rule(
        self,
        out: _Lines,
        code: _PythonAssembly | NumpyAssembly,
        assembly: ScoreAssembly,
        rule: ir.PointsRule,
        node: Node,
    ) -> None:
        """Emits one rule: whether it fired, its points before and after its own max."""
        out.add(1, f"# [{rule.id}] {rule.label}")
        fired = code.fired(rule)
        if isinstance(rule, ir.WhenRule):
            condition = code.condition(rule.condition)
            out.add(1, *code.take(), f"{fired} = {condition}")
        else:
            quantity = code.quantity(rule.quantity)
            points = literal(float(rule.points))
            out.add(1, *code.take())
            out.add(1, f"{fired} = {quantity} != 0", f"{code.raw(rule)} = {points} * {quantity}")
        out.add(1, f"{code.points(rule)} = {fold(assembly, code, node)}")

    def rule_index(self, rule: ir.PointsRule | ir.ResetRule) -> int:
        """The rule's position among every score's rules (`points_<n>`, `fired_<n>`)."""
        return self.rule_indices[rule.id]

    def _rule_result(self, n: int, rule: ir.PointsRule | ir.ResetRule, zero: str) -> str:
        if isinstance(rule, ir.ResetRule):
            return f"({zero}, {zero}, fired_{n})"
        raw = f"raw_{n}" if isinstance(rule, ir.EachRule) else f"points_{n}"
        return f"({raw}, points_{n}, fired_{n})"

    def _composite(
        self, out: _Lines, code: _PythonAssembly | NumpyAssembly, composite: ir.Composite
    ) -> None:
        out.add(1, "", f"# ---- composite score {composite.name} ----")
        if composite.expr.may_be_missing:
            self.nullable_scores.add(composite.name)
        out.add(1, *code.composite(f"s_{ident(composite.name)}", composite.expr))

    # ---- derive: tiers, matrices, flags ------------------------------------------------

    def derive(self, compiler: ExpressionCompiler) -> list[str]:
        model = self.model
        out = _Lines()
        out.add(0, "def derive(scores, percentiles, inputs, shifted=()):")
        out.add(
            1,
            '"""Tiers, matrices and flags from rounded scores; `percentiles` holds the percentile',
        )
        out.add(1, 'tiers\' bands, None outside a batch (flags that need them are then False)."""')
        if model.score_names:
            out.add(1, f"{_tuple(f's_{ident(n)}' for n in model.score_names)} = scores")
        if self._flag_inputs():
            out.add(1, f"{_tuple(self._flag_inputs())} = inputs")
        if model.percentile_tiers:
            out.add(
                1,
                f"{_tuple(f'tier_{ident(t.name)}' for t in model.percentile_tiers)} = percentiles",
            )
        for tier in model.tiers:
            out.add(1, f"tier_{ident(tier.name)} = {self._tier(tier)}")
        for matrix in model.matrices:
            rows = self.constants.define(
                "ROWS", _labels(matrix.row_labels, lambda i: chr(ord("A") + i))
            )
            columns = self.constants.define(
                "COLUMNS", _labels(matrix.column_labels, lambda i: str(i + 1))
            )
            m = ident(matrix.name)
            out.add(1, f"# matrix {matrix.name}: {matrix.rows} x {matrix.columns}")
            out.add(
                1,
                f"row, column = {rows}.get(tier_{ident(matrix.rows)}), {columns}.get(tier_{ident(matrix.columns)})",
            )
            out.add(1, f"matrix_{m} = None if row is None or column is None else row + column")
        for flag in model.flags:
            guard = "".join(f"tier_{ident(p)} is not None and " for p in flag.needs_bands)
            out.add(1, f"flag_{ident(flag.name)} = {guard}{compiler.condition(flag.condition)}")
        out.add(1, "return (")
        out.add(
            2,
            _tuple(f"tier_{ident(t.name)}" for t in (*model.tiers, *model.percentile_tiers)) + ",",
        )
        out.add(2, _tuple(f"matrix_{ident(m.name)}" for m in model.matrices) + ",")
        out.add(2, _tuple(f"flag_{ident(f.name)}" for f in model.flags) + ",")
        out.add(1, ")")
        return out.lines

    def _tier(self, tier: ir.Tier) -> str:
        source = f"s_{ident(tier.source)}"
        code = "None"
        for label, bound in reversed(tier.bands):
            code = (
                repr(label)
                if bound is None
                else f"{label!r} if {source} >= {literal(float(bound))} else {code}"
            )
        return (
            f"None if {source} is None else {code}" if tier.source in self.nullable_scores else code
        )


class _PythonAssembly(SourceAssembly[ExpressionCompiler]):
    """A score's assembly as Python source: each node an expression over the variables the
    writer assigns (`raw_<n>`, `points_<n>`, `fired_<n>`, the previous stage's)."""

    def when_points(self, rule: ir.WhenRule) -> str:
        return f"{literal(float(rule.points))} if {self.fired(rule)} else 0.0"

    def sum(self, terms: list[str]) -> str:
        return " + ".join(terms) or "0.0"

    def rule_cap(self, value: str, bound: float, upper: bool) -> str:
        return f"{value} if {value} {'<' if upper else '>'} {literal(bound)} else {literal(bound)}"

    def group_cap(self, value: str, cap: float) -> str:
        return f"min({value}, {literal(cap)})"

    def reset_if(self, value: str, fired: list[str]) -> str:
        return f"0.0 if {' or '.join(fired)} else {value}"

    def clamp(self, value: str, low: float, high: float) -> str:
        lo, hi = literal(low), literal(high)
        return f"{lo} if {value} < {lo} else {hi} if {value} > {hi} else {value}"

    def round(self, value: str) -> str:
        return f"round_score({value})"

    # ---- statements of the writer --------------------------------------------------------

    def quantity(self, expr: ir.Expr) -> str:
        return self.compiler.value(expr)

    def take(self) -> list[str]:
        """Statements the last code read: none, the code is one expression."""
        return []

    def any(self, fired: list[str]) -> str:
        return " or ".join(fired) or "False"

    def composite(self, name: str, expr: ir.Expr) -> list[str]:
        value = f"value = {self.compiler.value(expr)}"
        if expr.may_be_missing:
            return [value, f"{name} = None if value is None else round_score(value)"]
        return [value, f"{name} = round_score(value)"]


def runtime_import(body: str | None = None) -> str:
    """The import of the runtime helpers `body` uses (all of them without a body)."""
    from . import runtime

    names = [
        n for n in sorted(runtime.__all__) if body is None or re.search(rf"(?<!\.)\b{n}\b", body)
    ]
    return f"from {_RUNTIME} import {', '.join(names)}" if names else ""


def _timestamp(read: str) -> str:
    return f"optional_utc({read})"


def _tuple(items: Iterable[str]) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _labels(labels: tuple[str, ...], mark) -> str:
    return "{" + ", ".join(f"{label!r}: {mark(i)!r}" for i, label in enumerate(labels)) + "}"


def _window_tests(window: ir.Window) -> list[str]:
    """`min_age <= age < max_age` in microseconds; `age >= 0` already holds."""
    tests = [f"{micros(window.min_age):_} <= age"] if window.min_age > 0 else []
    return tests + ([f"age < {micros(window.max_age):_}"] if window.max_age != float("inf") else [])


def _initial(name: str, aggregate: ir.AggregateNode) -> tuple[str, ...]:
    match aggregate:
        case ir.CountDistinct() | ir.PeriodCount():
            return (f"{name}_set = set()",)
        case ir.Last():
            return (f"{name}_age = NO_AGE  # smallest age = latest time",)
        case ir.First():
            return (f"{name}_age = -1  # largest age = earliest time",)
        case ir.Sequence():
            return (f"{name}_first, {name}_second = [], []  # ages of the matching events",)
        case ir.Count():
            return (f"{name} = 0",)
    return (f"{name} = 0.0",)


def _final(name: str, aggregate: ir.AggregateNode) -> tuple[str, ...]:
    match aggregate:
        case ir.CountDistinct() | ir.PeriodCount():
            return (f"{name} = len({name}_set)",)
        case ir.Last():
            return (f"{name} = None if {name}_age == NO_AGE else as_of - {name}_age * MICROSECOND",)
        case ir.First():
            return (f"{name} = None if {name}_age < 0 else as_of - {name}_age * MICROSECOND",)
        case ir.Sequence(gap=gap):
            return (f"{name} = sequence({name}_first, {name}_second, {micros(gap):_})",)
    return ()
