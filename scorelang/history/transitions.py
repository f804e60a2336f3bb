"""Transitions from history rows in Python: the same rows as the SQL transitions query
(targets/sql/history.py `select_transitions`), computed independently of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import groupby, pairwise
from typing import Any

from ..compiler import ir
from ..compiler.plan import INSTANT
from ..targets.sql.history import (
    AT,
    FROM,
    OUTPUT,
    REASONS,
    REASONS_SHOWN,
    TO,
    moving_outputs,
    point_rules,
)


def transitions(
    model: ir.Model, history: Iterable[Mapping[str, Any]], entity: str = ir.LEAD
) -> list[dict[str, Any]]:
    """Every change of a tier, matrix or flag between a lead's (or, with `entity`, an
    account's) consecutive instants, in key, instant and output order: key, output, from,
    to, at (the first instant with the new value) and the reasons (the rules whose points
    moved most between the two instants)."""
    outputs = moving_outputs(model, entity)
    if not outputs:
        raise ValueError(f"model {model.name} has no tier, matrix or flag: nothing can move")
    flags = {f.name for f in model.flags}
    rules = point_rules(model, entity)
    name_of_key = model.entity(entity).key
    ordered = sorted(history, key=lambda row: (row[name_of_key], row[INSTANT]))
    moves: list[dict[str, Any]] = []
    for key, rows in groupby(ordered, key=lambda row: row[name_of_key]):
        lead = list(rows)
        for before, now in pairwise(lead):
            changed = [
                (name, as_text(before[name], name in flags), as_text(now[name], name in flags))
                for name in outputs
            ]
            changed = [c for c in changed if c[1] != c[2]]
            if not changed:
                continue
            why = reasons(rules, before, now)
            moves += [
                {name_of_key: key, OUTPUT: name, FROM: old, TO: new, AT: now[INSTANT], REASONS: why}
                for name, old, new in changed
            ]
    return moves


def as_text(value: Any, flag: bool) -> str | None:
    """A flag as 'true' / 'false' (as the SQL reads it); a label as it is."""
    if value is None or not flag:
        return value
    return "true" if value else "false"


def reasons(rules: list[ir.PointsRule], before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    """`Requested a demo +30, Viewed pricing +15`: the rules whose points moved most (in
    whole cents; ties in model order), at most REASONS_SHOWN."""
    moved = [
        (rule.label, cents(now[rule.id]) - cents(before[rule.id]), n)
        for n, rule in enumerate(rules)
    ]
    top = sorted((m for m in moved if m[1]), key=lambda m: (-abs(m[1]), m[2]))[:REASONS_SHOWN]
    return ", ".join(f"{label} {signed_cents(change)}" for label, change, _ in top)


def cents(points: float) -> int:
    return round(points * 100)


def signed_cents(change: int) -> str:
    """Whole cents as points are written: +30, -10, +0.95, +2.5."""
    whole, part = divmod(abs(change), 100)
    fraction = "" if part == 0 else f".{part // 10}" if part % 10 == 0 else f".{part:02d}"
    return f"{'+' if change > 0 else '-'}{whole}{fraction}"
