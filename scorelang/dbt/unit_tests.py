"""A model's `test` blocks as dbt unit tests (dbt 1.8+ `unit_tests:`), where dbt can say the
same thing.

A test block is one lead, its events and an instant; dbt's unit test gives the scores model
that lead and those events as `source()` rows, sets the instant through the project's
`scorelang_as_of` var (the models read it by the `scorelang_as_of()` macro) and compares the
output row's columns for equality. So an expectation is a unit test's expected cell when it
is `output == value`, a bare flag or `not flag`; any other (`total >= 70`, `is missing`,
`and`) is not a cell value, and an output that ranks the batch (a percentile tier, and the
matrices and flags reading one) differs between one lead in SQL and one lead in a test. A
test block with any such expectation is left out with a note saying which and why: a unit
test that checks less than the block would pass where `scorelang test` fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..compiler import ir
from ..config import SourceMapping

AS_OF_VAR = "scorelang_as_of"
# A unit test's name becomes a relation name: Postgres keeps 63 characters.
MAX_NAME = 56


@dataclass(frozen=True)
class Skipped:
    """A test block dbt cannot express, and why."""

    test: str
    reason: str

    def __str__(self) -> str:
        return f"test {self.test!r} is not a dbt unit test: {self.reason}"


def unit_tests(
    model: ir.Model,
    view: str,
    mapping: SourceMapping,
    source: str,
    accounts: str | None = None,
) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """The unit tests of `model`'s test blocks for the dbt model `view`, and those left out.
    `accounts`: the accounts table the view reads (a lead test's lead has no account)."""
    tests, skipped = [], []
    names: set[str] = set()
    for case in model.tests:
        if case.account is not None:
            reason = "an account test (an account and several leads) is not a dbt unit test yet"
            skipped.append(Skipped(case.name, reason))
            continue
        expected, reason = expected_row(model, case)
        if expected is None:
            skipped.append(Skipped(case.name, reason))
            continue
        name = unique(f"{model.name}_{slug(case.name)}"[:MAX_NAME].rstrip("_"), names)
        lead = dict(case.lead)
        key = lead.get(model.key)
        tests.append(
            {
                "name": name,
                "description": case.name,
                "model": view,
                "overrides": {"vars": {AS_OF_VAR: cell(case.as_of)}},
                "given": [
                    {
                        "input": f"source({source!r}, {mapping.leads_table!r})",
                        "rows": [{mapping.column(f): cell(v) for f, v in case.lead}],
                    },
                    {
                        "input": f"source({source!r}, {mapping.events_table!r})",
                        "rows": [event_row(event, key, mapping) for event in case.events] or [],
                    },
                    *(
                        [{"input": f"source({source!r}, {accounts!r})", "rows": []}]
                        if accounts
                        else []
                    ),
                ],
                "expect": {"rows": [{model.key: cell(key), **expected}]},
            }
        )
    return tests, skipped


def expected_row(model: ir.Model, case: ir.TestCase) -> tuple[dict[str, Any] | None, str]:
    """The output cells the test block expects, or None and why dbt cannot check them."""
    ranked = ranking_outputs(model)
    if dict(case.lead).get(model.key) is None:
        return None, f"its lead has no {model.key} (the key joins the lead to its events)"
    row: dict[str, Any] = {}
    for expectation in case.expectations:
        cell_value = expected_cell(expectation.condition)
        if cell_value is None:
            return None, (
                f"`expect {expectation.text}` is not an output's value (a dbt unit test "
                "compares cells for equality)"
            )
        name, value = cell_value
        if name in ranked:
            return None, (
                f"`expect {expectation.text}` reads the percentile tier ranking of the whole "
                "batch, which a test's single lead does not have"
            )
        if row.get(name, value) != value:
            return None, f"it expects two values of {name}"
        row[name] = value
    return row, ""


def expected_cell(condition: ir.Expr) -> tuple[str, Any] | None:
    """(output, value) for `output == literal`, a bare flag or `not flag`."""
    match condition:
        case ir.Compare(
            op="==",
            left=ir.ScoreRef() | ir.TierRef() | ir.MatrixRef() as ref,
            right=ir.Literal(value=value),
        ):
            return ref.name, value
        case ir.Compare(
            op="==",
            left=ir.Literal(value=value),
            right=ir.ScoreRef() | ir.TierRef() | ir.MatrixRef() as ref,
        ):
            return ref.name, value
        case ir.FlagRef(name=name):
            return name, True
        case ir.Not(operand=ir.FlagRef(name=name)):
            return name, False
    return None


def ranking_outputs(model: ir.Model) -> set[str]:
    """Outputs that depend on the batch's ranking: percentile tiers, matrices of one, flags
    reading one."""
    bands = {t.name for t in model.percentile_tiers}
    matrices = {m.name for m in model.matrices if {m.rows, m.columns} & bands}
    flags = {f.name for f in model.flags if f.needs_bands}
    return bands | matrices | flags


def event_row(event: ir.TestEvent, key: Any, mapping: SourceMapping) -> dict[str, Any]:
    row = {
        mapping.event_lead: cell(key),
        mapping.event_type: event.type,
        mapping.event_time: cell(event.at),
    }
    return row | {mapping.column(name): cell(value) for name, value in event.properties}


def cell(value: Any) -> Any:
    """A fixture value: an instant as UTC text with its offset (read as the same instant by
    a TIMESTAMP WITH TIME ZONE column, as UTC wall time by Postgres's TIMESTAMP)."""
    if isinstance(value, datetime):
        instant = value if value.tzinfo else value.replace(tzinfo=UTC)
        return instant.astimezone(UTC).isoformat(sep=" ")
    return value


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "test"


def unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate
