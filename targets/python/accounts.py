"""Accounts in the Python evaluator: a model with an account is scored in phases, each a
one-entity model the ordinary generated evaluator scores.

Each output gets a phase (compiler.plan_analysis.phases, shared with the SQL plan): the earliest at or after the phases of what it reads whose parity is its entity's
(even: leads, odd: accounts). So phase 0 holds the lead outputs that read no account, phase
1 the account outputs (their roll-ups read phase 0), phase 2 the lead outputs that read
their account's, and so on. A phase's model is its outputs over one entity:

* a lead phase is a lead model; what it reads from earlier phases arrives as extra fields
  of each lead record: `output.X` (a lead output computed before) and `account.X` (a field
  or output of the lead's account: missing, and a flag False, when it has none);
* an account phase is a model whose "lead" is the account: its fields, its aggregates over
  the events of all its leads (each event's lead key replaced by its account's), earlier
  account outputs as `output.X`, and each roll-up as `rollup.N`, computed here from the
  leads' rows as `ir.Rollup` defines.

A tier, percentile tier or matrix reads its source variables directly in generated code, so
a phase also recomputes the (earlier) tiers and scores its matrices and tiers are built from;
every engine's value is the same whichever phase computes it.

Accounts are matched by key: a lead's `Model.account_link` value names its account; a lead
whose value is missing or names no account row has no account.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ...compiler import ir
from ...compiler.plan_analysis import phases as output_phases
from ...records import EVENT_LEAD, as_of_or_now
from ...results import ScoreResult
from .codegen import runtime_import
from .columnar import EventColumns
from .evaluator import PythonEvaluator, events_by_lead
from .expressions import Constants, ExpressionCompiler

OUTPUT, ACCOUNT, ROLLUP = "output.", "account.", "rollup."
_OUTPUT_TYPES = {
    ir.ScoreRef: ir.Type.NUMBER,
    ir.TierRef: ir.Type.STRING,
    ir.MatrixRef: ir.Type.STRING,
    ir.FlagRef: ir.Type.BOOL,
}
_KINDS = ("scores", "composites", "tiers", "percentile_tiers", "matrices", "flags")


@dataclass(frozen=True)
class AccountScores:
    """What scoring accounts and their leads gives: one result per lead (in the leads'
    order) and one per account (in the accounts' order). `ScoreResult.as_row(model)` and
    `as_row(model, ir.ACCOUNT)` give the `<model>_scores` and `<model>_account_scores` rows."""

    leads: list[ScoreResult]
    accounts: list[ScoreResult]


@dataclass(frozen=True)
class Phase:
    """One entity's outputs computed together, as a one-entity model.

    `inputs`: the extra fields of its records, by name, with the output or field each
    holds; `rollups`: the roll-ups an account phase reads (`rollup.N` is the N-th)."""

    entity: str
    model: ir.Model
    inputs: Mapping[str, str]
    rollups: tuple[ir.Rollup, ...]


def phases(model: ir.Model) -> list[Phase]:
    """The model's phases, in evaluation order (empty ones left out): the plan's
    (compiler.plan_analysis.phases), each as a one-entity model."""
    if any(ir.is_shifted(e) for e in ir.subexpressions(_outputs(model))):
        raise NotImplementedError(
            "the Python target does not yet score shifted references in a model with an account"
        )
    return [
        _Builder(model, p.entity, set(p.outputs)).phase() for p in output_phases(model) if p.outputs
    ]


def _outputs(model: ir.Model) -> tuple:
    return tuple(getattr(model, kind) for kind in _KINDS)


class _Builder:
    """One phase's model: its outputs (with the tiers and scores its tiers and matrices are
    built from), expressions reading earlier phases turned into reads of input fields."""

    def __init__(self, model: ir.Model, entity: str, names: set[str]) -> None:
        self.model, self.entity = model, entity
        self.members = self._closure(names)
        self.inputs: dict[str, str] = {}
        self.types: dict[str, ir.Type] = {}
        self.rollups: dict[ir.Rollup, str] = {}

    def _closure(self, names: set[str]) -> set[str]:
        members = set(names)
        structural = {
            **{m.name: (m.rows, m.columns) for m in self.model.matrices},
            **{t.name: (t.source,) for t in (*self.model.tiers, *self.model.percentile_tiers)},
        }
        pending = list(members)
        while pending:
            for source in structural.get(pending.pop(), ()):
                if source not in members:
                    members.add(source)
                    pending.append(source)
        return members

    def phase(self) -> Phase:
        model, entity = self.model, self.entity
        kept = {
            kind: tuple(o for o in getattr(model, kind) if o.name in self.members)
            for kind in _KINDS
        }
        scores = tuple(self._score(s) for s in kept["scores"])
        composites = tuple(replace(c, expr=self._expr(c.expr)) for c in kept["composites"])
        bands = {t.name for t in kept["percentile_tiers"]}
        flags = tuple(
            replace(
                f,
                condition=self._expr(f.condition),
                needs_bands=tuple(b for b in f.needs_bands if b in bands),
            )
            for f in kept["flags"]
        )
        outputs = (*scores, *composites, *flags)
        used = {e.id for e in ir.subexpressions(outputs) if isinstance(e, ir.AggregateRef)}
        own = model.entity(entity)
        extra = tuple(ir.FieldType(n, self.types[n], True) for n in self.inputs)
        as_lead = ir.Model(
            name=model.name,
            description=model.description,
            key=own.key,
            lead_fields=(*own.fields, *extra),
            event_types=model.event_types,
            aggregates=tuple(replace(a, entity=ir.LEAD) for a in model.aggregates if a.id in used),
            scores=tuple(replace(s, entity=ir.LEAD) for s in scores),
            composites=tuple(replace(c, entity=ir.LEAD) for c in composites),
            tiers=tuple(replace(t, entity=ir.LEAD) for t in kept["tiers"]),
            percentile_tiers=tuple(replace(t, entity=ir.LEAD) for t in kept["percentile_tiers"]),
            matrices=tuple(replace(m, entity=ir.LEAD) for m in kept["matrices"]),
            flags=tuple(replace(f, entity=ir.LEAD) for f in flags),
        )
        return Phase(entity, as_lead, dict(self.inputs), tuple(self.rollups))

    def _score(self, score: ir.Score) -> ir.Score:
        def rule(r: ir.PointsRule | ir.ResetRule) -> ir.PointsRule | ir.ResetRule:
            return (
                r if isinstance(r, ir.EachRule) else replace(r, condition=self._expr(r.condition))
            )

        items = tuple(
            replace(i, rules=tuple(rule(r) for r in i.rules))
            if isinstance(i, ir.Group)
            else rule(i)
            for i in score.items
        )
        return replace(score, items=items, resets=tuple(rule(r) for r in score.resets))

    def _expr(self, expr: ir.Expr) -> ir.Expr:
        """Roll-ups first (their insides stay lead expressions), then the leaves."""
        return ir.transform(ir.transform(expr, self._rollup), self._leaf)

    def _rollup(self, node: ir.Expr) -> ir.Expr:
        if not isinstance(node, ir.Rollup):
            return node
        name = self.rollups.setdefault(node, f"{ROLLUP}{len(self.rollups)}")
        return self._input(name, name, node.type)

    def _leaf(self, node: ir.Expr) -> ir.Expr:
        if isinstance(node, ir.AccountField):
            if self.entity == ir.ACCOUNT:
                return ir.LeadField(node.name, node.type)
            return self._input(f"{ACCOUNT}{node.name}", node.name, node.type)
        if isinstance(node, tuple(_OUTPUT_TYPES)) and node.name not in self.members:
            own = self.model.entity_of_output(node.name) == self.entity
            prefix = OUTPUT if own else ACCOUNT
            return self._input(f"{prefix}{node.name}", node.name, _OUTPUT_TYPES[type(node)])
        return node

    def _input(self, field: str, source: str, type_: ir.Type) -> ir.LeadField:
        self.inputs[field], self.types[field] = source, type_
        return ir.LeadField(field, type_)


class AccountEvaluator:
    """Scores a model with an account: accounts over their leads, leads reading their
    account's outputs, each phase by the generated evaluator of its one-entity model."""

    def __init__(self, model: ir.Model) -> None:
        if model.account is None:
            raise ValueError(f"model {model.name} declares no account")
        self.model = model
        self.phases = phases(model)
        self.evaluators = [PythonEvaluator(p.model) for p in self.phases]
        self.rollups = _RollupFunctions(model, [r for p in self.phases for r in p.rollups])
        self.source = "\n\n".join([*(e.source for e in self.evaluators), self.rollups.source])

    def score(
        self,
        accounts: Iterable[Mapping[str, Any]],
        leads: Iterable[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] | EventColumns = (),
        as_of: datetime | str | None = None,
        batch: bool = True,
    ) -> AccountScores:
        """Score every account over its leads and every lead (`batch` False: each lead alone,
        so percentile tiers of leads are None, as `PythonEvaluator.score` gives them)."""
        when = as_of_or_now(as_of)
        model = self.model
        accounts, leads = list(accounts), list(leads)
        account_key, lead_key, link = model.account.key, model.key, model.account_link
        index = {}
        for n, account in enumerate(accounts):
            index.setdefault(account.get(account_key), n)
        owner = [index.get(lead.get(link)) if link else None for lead in leads]
        members: list[list[int]] = [[] for _ in accounts]
        for n, account_n in enumerate(owner):
            if account_n is not None:
                members[account_n].append(n)
        lead_values: list[dict[str, Any]] = [dict(lead) for lead in leads]
        account_values: list[dict[str, Any]] = [dict(account) for account in accounts]
        lead_results: list[list[ScoreResult]] = [[] for _ in leads]
        account_results: list[list[ScoreResult]] = [[] for _ in accounts]
        account_events = None
        for phase, evaluator in zip(self.phases, self.evaluators, strict=True):
            if phase.entity == ir.LEAD:
                records = [
                    {**lead, **self._inputs(phase, values, owner_n, account_values)}
                    for lead, values, owner_n in zip(leads, lead_values, owner, strict=True)
                ]
                if batch:
                    results = evaluator.score_many(records, events, when)
                else:
                    by_lead = _by_lead(events)
                    results = [
                        evaluator.score(r, by_lead.get(r.get(lead_key), ()), when) for r in records
                    ]
                targets, values = lead_results, lead_values
            else:
                if account_events is None:
                    account_events = _account_events(
                        events, leads, owner, accounts, lead_key, account_key
                    )
                records = [
                    {
                        **account,
                        **self._inputs(phase, values, None, account_values),
                        **self.rollups.values(phase, [lead_values[n] for n in own], when),
                    }
                    for account, values, own in zip(accounts, account_values, members, strict=True)
                ]
                results = evaluator.score_many(records, account_events, when)
                targets, values = account_results, account_values
            for target, row, result in zip(targets, values, results, strict=True):
                target.append(result)
                row.update(_outputs_of(result))
        return AccountScores(
            [
                _merged(model, ir.LEAD, lead.get(lead_key), parts, when)
                for lead, parts in zip(leads, lead_results, strict=True)
            ],
            [
                _merged(model, ir.ACCOUNT, account.get(account_key), parts, when)
                for account, parts in zip(accounts, account_results, strict=True)
            ],
        )

    def contributions(
        self, rollup: ir.Rollup, rows: Sequence[Mapping[str, Any]], as_of: datetime
    ) -> list[tuple[bool, Any]]:
        """Per row of one account's leads (its fields and outputs by name): whether the lead
        counts in `rollup` (its `where` holds) and its value (None when missing or not
        counted; True for `count`), for explanations."""
        value, where = self.rollups.functions[rollup]
        counted = [bool(where(row, as_of)) for row in rows]
        return [(c, value(row, as_of) if c else None) for c, row in zip(counted, rows, strict=True)]

    @staticmethod
    def _inputs(
        phase: Phase,
        own: Mapping[str, Any],
        account_n: int | None,
        accounts: Sequence[Mapping[str, Any]],
    ) -> dict[str, Any]:
        """The input fields of one record: its own earlier outputs, its account's fields and
        outputs (no account: all missing, so an account flag reads as False)."""
        values: dict[str, Any] = {}
        account = accounts[account_n] if account_n is not None else None
        for field, source in phase.inputs.items():
            if field.startswith(OUTPUT):
                values[field] = own.get(source)
            elif field.startswith(ACCOUNT):
                values[field] = account.get(source) if account is not None else None
        return values


def _outputs_of(result: ScoreResult) -> dict[str, Any]:
    return {**result.scores, **result.tiers, **result.matrices, **result.flags}


def _merged(
    model: ir.Model, entity: str, key: Any, parts: list[ScoreResult], as_of: datetime
) -> ScoreResult:
    """One entity's result from its phases' results, in the model's order of outputs."""
    outputs = model.outputs_of(entity)
    scores = {k: v for p in parts for k, v in p.scores.items()}
    tiers = {k: v for p in parts for k, v in p.tiers.items()}
    matrices = {k: v for p in parts for k, v in p.matrices.items()}
    flags = {k: v for p in parts for k, v in p.flags.items()}
    rules = {r.id: r for p in parts for r in p.rules}
    details = {k: v for p in parts for k, v in p.details.items()}
    return ScoreResult(
        key=key,
        as_of=as_of,
        scores={n: scores[n] for n in outputs.score_names},
        tiers={t.name: tiers[t.name] for t in (*outputs.tiers, *outputs.percentile_tiers)},
        matrices={m.name: matrices[m.name] for m in outputs.matrices},
        flags={f.name: flags[f.name] for f in outputs.flags},
        rules=tuple(rules[r.id] for s in outputs.scores for r in s.rules),
        details={s.name: details[s.name] for s in outputs.scores},
    )


def _by_lead(events: Iterable[Mapping[str, Any]] | EventColumns) -> dict[Any, list]:
    return events_by_lead(_records(events))


def _records(events: Iterable[Mapping[str, Any]] | EventColumns) -> Iterable[Mapping[str, Any]]:
    return events.records() if isinstance(events, EventColumns) else events


def _account_events(
    events: Iterable[Mapping[str, Any]] | EventColumns,
    leads: list[Mapping[str, Any]],
    owner: list[int | None],
    accounts: list[Mapping[str, Any]],
    lead_key: str,
    account_key: str,
) -> list[dict[str, Any]]:
    """The events of leads that have an account, each as an event of that account."""
    account_of = {
        lead.get(lead_key): accounts[n].get(account_key)
        for lead, n in zip(leads, owner, strict=True)
        if n is not None
    }
    return [
        {**event, EVENT_LEAD: account_of[event.get(EVENT_LEAD)]}
        for event in _records(events)
        if event.get(EVENT_LEAD) in account_of
    ]


class _RollupFunctions:
    """Each roll-up's value and condition as generated Python functions of one lead's row
    (its fields and outputs by name), and the aggregation `ir.Rollup` documents."""

    def __init__(self, model: ir.Model, rollups: list[ir.Rollup]) -> None:
        self.rollups = rollups
        constants = Constants()
        compiler = ExpressionCompiler(self._resolve, constants)
        self.timestamps = {f.name for f in model.lead_fields if f.type is ir.Type.TIMESTAMP}
        lines: list[str] = []
        for n, rollup in enumerate(rollups):
            value = "True" if rollup.value is None else compiler.value(rollup.value)
            where = "True" if rollup.where is None else compiler.condition(rollup.where)
            lines += [
                f"def value_{n}(row, as_of):",
                f"    return {value}",
                "",
                f"def where_{n}(row, as_of):",
                f"    return {where}",
                "",
            ]
        body = "\n".join([*constants.lines(), "", *lines])
        self.source = (
            f'"""Roll-ups of model `{model.name}`."""\n\n{runtime_import(body)}\n\n{body}\n'
        )
        filename = f"<scorelang roll-ups {model.name}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        namespace: dict[str, Any] = {}
        exec(compile(self.source, filename, "exec"), namespace)
        self.functions = {
            rollup: (namespace[f"value_{n}"], namespace[f"where_{n}"])
            for n, rollup in enumerate(rollups)
        }

    def _resolve(self, expr: ir.Expr) -> str:
        if isinstance(expr, ir.LeadField) and expr.type is ir.Type.TIMESTAMP:
            return f"optional_utc(row.get({expr.name!r}))"
        if isinstance(expr, ir.LeadField | ir.ScoreRef | ir.TierRef | ir.MatrixRef | ir.FlagRef):
            return f"row.get({expr.name!r})"
        raise ValueError(f"a roll-up cannot read {type(expr).__name__}")

    def values(
        self, phase: Phase, rows: list[Mapping[str, Any]], as_of: datetime
    ) -> dict[str, Any]:
        """The phase's roll-ups over one account's lead rows."""
        return {
            f"{ROLLUP}{n}": rollup_value(rollup, *self.functions[rollup], rows, as_of)
            for n, rollup in enumerate(phase.rollups)
        }


def rollup_value(
    rollup: ir.Rollup,
    value: Callable[[Mapping[str, Any], datetime], Any],
    where: Callable[[Mapping[str, Any], datetime], bool],
    rows: Iterable[Mapping[str, Any]],
    as_of: datetime,
) -> Any:
    """`rollup` over the rows of one account's leads (`ir.Rollup`'s semantics)."""
    counted = [row for row in rows if where(row, as_of)]
    if rollup.func == "count":
        return len(counted)
    present = [v for v in (value(row, as_of) for row in counted) if v is not None]
    if rollup.func == "count_distinct":
        return len(set(present))
    if rollup.func == "sum":
        return sum(present, 0 if rollup.type is ir.Type.INT else 0.0)
    if not present:
        return None
    if rollup.func == "max":
        return max(present)
    chosen = sorted(present, reverse=True)[: rollup.top] if rollup.top else present
    return sum(chosen) / len(chosen)
